"""The churn dashboard in Chromium against the built app: tiles, charts, a filter, a CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from analytics.dashboard import add_months
from portal_app.accounts import services as accounts
from portal_app.clock import utc_now
from portal_app.events.synthetic_history import import_synthetic_history
from portal_app.portal import configurations

pytestmark = pytest.mark.browser

PASSWORD = "dashboard-pass-123"
SHOTS = Path("/tmp/shots")


@pytest.fixture
def merchant(account_id: str, make_uow) -> str:
    """A console user whose account has two years of history ending now (the server's clock)."""
    email = f"growth-{account_id.lower()}@acme.test"
    accounts.create_console_user(account_id=account_id, email=email, password=PASSWORD,
                                 uow=make_uow())
    configurations.create_configuration({"features": {}}, account_id=account_id,
                                        uow=make_uow())
    import_synthetic_history(account_id, uow_factory=make_uow, now=utc_now(), n_events=6_000,
                             seed=5)
    return email


def _sign_in(page, email: str) -> None:
    page.goto("/console/dashboard")
    page.wait_for_url(re.compile(r"/console/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/dashboard/?$"))


def test_dashboard_tiles_charts_filter_and_csv(page, merchant: str) -> None:
    _sign_in(page, merchant)

    mrr = page.get_by_test_id("kpi-mrr").get_by_test_id("kpi-value")
    mrr.wait_for()
    assert re.fullmatch(r"\$[\d,]+\.\d\d", mrr.inner_text())
    assert re.fullmatch(r"[\d,]+", page.get_by_test_id("kpi-customers")
                        .get_by_test_id("kpi-value").inner_text())
    assert page.get_by_test_id("kpi-logo_churn").get_by_test_id("kpi-value").inner_text() \
        .endswith("%")
    assert page.locator("[data-kpi]").count() == 5

    # Plotly draws SVG: its tick labels and bar texts are text nodes
    year = str(utc_now().year)
    chart = page.get_by_test_id("mrr-chart").locator("svg.main-svg").first
    chart.wait_for()
    page.wait_for_function(
        "y => document.querySelector('[data-testid=mrr-chart]').textContent.includes(y)",
        arg=year)
    waterfall = page.get_by_test_id("waterfall-chart").locator("svg.main-svg").first
    assert "$" in waterfall.text_content()
    assert "Too expensive" in page.get_by_test_id("reasons-chart").text_content()
    assert page.get_by_test_id("experiment-row").count() == 3

    usd = mrr.inner_text()
    page.get_by_test_id("currency-filter").click()
    page.get_by_role("option", name="EUR").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=kpi-mrr] [data-testid=kpi-value]')"
        ".textContent.startsWith('€')")
    assert mrr.inner_text() != usd

    with page.expect_download() as info:
        page.get_by_test_id("download-offers").click()
    download = info.value
    assert download.suggested_filename == "offers-eur.csv"
    lines = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert lines[0][:6] == ["offer", "offer_type", "currency", "shown", "accepted", "save_rate"]
    assert len(lines) >= 2 and all(line[2] == "eur" for line in lines[1:])

    # a custom range: an impossible one is explained and changes nothing, a real one applies
    page.get_by_test_id("range-filter").click()
    page.get_by_role("option", name="Custom range").click()
    start = page.get_by_test_id("range-from")
    start.wait_for()
    now = utc_now()
    assert start.input_value() == add_months(now, -11).date().isoformat()
    assert page.get_by_test_id("range-to").input_value() == now.date().isoformat()
    eur = mrr.inner_text()
    start.fill("2025-06-10")
    page.get_by_test_id("range-to").fill("2025-03-15")
    page.get_by_test_id("apply-range").click()
    error = page.get_by_test_id("range-error")
    error.wait_for()
    assert "after the end date" in error.inner_text()
    assert mrr.inner_text() == eur

    first = add_months(now, -5)  # three whole months, ending two months before this one
    last = add_months(now, -2) - timedelta(days=1)
    start.fill(first.date().isoformat())
    page.get_by_test_id("range-to").fill(last.date().isoformat())
    page.get_by_test_id("apply-range").click()
    ended = last.strftime("End of %b %Y")
    page.wait_for_function(
        "e => document.querySelector('[data-testid=kpi-mrr]').textContent.includes(e)",
        arg=ended)
    assert error.count() == 0
    with page.expect_download() as info:
        page.get_by_test_id("download-mrr").first.click()
    download = info.value
    assert download.suggested_filename == (
        f"mrr-eur-{first.date().isoformat()}_{last.date().isoformat()}.csv")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text())))[1:]
    assert [row[0][:7] for row in rows] == [add_months(now, m).strftime("%Y-%m")
                                         for m in (-5, -4, -3)]


@pytest.mark.parametrize("width", [390, 1280])
def test_screenshots(page, merchant: str, width: int) -> None:
    """Not an assertion of looks: pictures of the page for a person to judge."""
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page, merchant)
    page.get_by_test_id("kpi-mrr").wait_for()
    page.get_by_test_id("cohort-chart").locator("svg.main-svg").first.wait_for()
    page.wait_for_timeout(800)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"issue6-dashboard-{width}.png"), full_page=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    for part, top in enumerate(range(0, height, 1400)):  # readable pieces of a long page
        page.screenshot(path=str(SHOTS / f"issue6-dashboard-{width}-part{part}.png"),
                        full_page=True, clip={"x": 0, "y": top, "width": width,
                                              "height": min(1400, height - top)})

    # the filter row with a custom range: refused (with its message), then applied
    page.get_by_test_id("range-filter").click()
    page.get_by_role("option", name="Custom range").click()
    page.get_by_test_id("range-to").fill("2025-01-01")
    page.get_by_test_id("apply-range").click()
    page.get_by_test_id("range-error").wait_for()
    filters = page.get_by_test_id("dashboard-filters")
    filters.screenshot(path=str(SHOTS / f"issue6-dashboard-range-error-{width}.png"))
    page.get_by_test_id("range-from").fill("2025-09-01")
    page.get_by_test_id("range-to").fill("2025-12-31")
    page.get_by_test_id("apply-range").click()
    page.get_by_test_id("range-error").wait_for(state="detached")
    page.wait_for_timeout(800)
    filters.screenshot(path=str(SHOTS / f"issue6-dashboard-range-{width}.png"))
