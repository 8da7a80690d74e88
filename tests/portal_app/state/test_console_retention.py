"""Console retention States: offers, the policy, experiments and their lifecycle — every
handler re-checks the identity, shows the services' validation errors, and acts on
the signed-in account only (crafted ids of another account are refused)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portal_app.accounts import services as accounts
from portal_app.billing.catalog import create_price, create_product
from portal_app.billing.customers import create_customer
from portal_app.billing.provider import ItemSpec
from portal_app.billing.subscriptions import create_subscription
from portal_app.console.offer_views import NONE
from portal_app.db import UnitOfWork
from portal_app.portal import configurations, sessions
from portal_app.retention import experiments, flows, offers, policies
from portal_app.retention.experiments import VariantSpec
from portal_app.state import console as console_state
from portal_app.state.console_experiments import ExperimentsState, ExperimentState
from portal_app.state.console_offers import OffersState
from portal_app.web.console_sign_in import COOKIE
from tests.portal_app.state.test_console_state import redirects_to_login, run, sign_in, state_of

MakeUow = Callable[[], UnitOfWork]
CANCEL = {"subscription_cancel": {
    "enabled": True, "mode": "immediately",
    "cancellation_reason": {"enabled": True, "options": ["too_expensive", "unused"]}}}


@pytest.fixture(autouse=True)
def _test_database(monkeypatch: pytest.MonkeyPatch, make_uow: MakeUow) -> None:
    monkeypatch.setattr(console_state, "unit_of_work", make_uow)


@pytest.fixture
def cookie(account_id: str, make_uow: MakeUow) -> str:
    return f"{COOKIE}={sign_in(account_id, make_uow, f'g-{account_id.lower()}@acme.test')}"


@pytest.fixture
def config_id(account_id: str, make_uow: MakeUow) -> str:
    return configurations.create_configuration({"features": CANCEL}, account_id=account_id,
                                               uow=make_uow()).id


@pytest.fixture
def other(make_uow: MakeUow) -> dict[str, str]:
    """Another merchant with an offer, a configuration and a draft experiment."""
    account = accounts.create_account(business_name="Other", email="o@x.test",
                                      uow=make_uow()).id
    config = configurations.create_configuration({"features": CANCEL}, account_id=account,
                                                 uow=make_uow()).id
    offer = offers.create_offer(account_id=account, uow=make_uow(), type="trial_extension",
                                name="Their week", extension_days=7).id
    exp = experiments.create_experiment(
        account_id=account, uow=make_uow(), name="Theirs", configuration=config,
        variants=[VariantSpec(name="A"), VariantSpec(name="B", offers={"default": offer})])
    return {"account": account, "config": config, "offer": offer, "experiment": exp.id}


def offers_state(cookie: str = "") -> OffersState:
    return state_of(OffersState, cookie=cookie, path="/console/offers")


def coupon_form(**overrides: str) -> dict[str, str]:
    return {"name": "Half off", "headline": "Stay and save", "percent": "50", "months": "3",
            "min_age": "", "cooldown": "", "max_redemptions": "", **overrides}


# --- offers -------------------------------------------------------------------------------


def test_offers_need_a_signed_in_user() -> None:
    state = offers_state()
    assert redirects_to_login(run(OffersState.load, state))
    assert redirects_to_login(run(OffersState.save, state, coupon_form()))
    assert state.offers == []


def test_empty_then_create_a_coupon_offer(account_id: str, make_uow: MakeUow,
                                          cookie: str) -> None:
    state = offers_state(cookie)
    run(OffersState.load, state)
    assert state.status == "ready" and not state.has_offers

    run(OffersState.open_new, state)
    run(OffersState.toggle_reason, state, "too_expensive", True)
    run(OffersState.toggle_reason, state, "unused", True)
    run(OffersState.toggle_reason, state, "unused", False)
    results = run(OffersState.save, state, coupon_form(cooldown="90", max_redemptions="1"))

    assert state.form_error == "" and not state.dialog_open and results
    [row] = state.offers
    assert (row.name, row.kind, row.kind_label) == ("Half off", "coupon", "Coupon")
    assert row.summary == "50% off for 3 months"
    assert row.reasons == "Too expensive" and row.active and row.status_label == "Active"
    assert row.eligibility == ["Not within 90 days of accepting an offer",
                               "At most 1 per customer"]
    [stored] = offers.list_offers(account_id=account_id, uow=make_uow())
    assert stored.reasons == ["too_expensive"] and stored.cooldown_days == 90
    assert [c.label for c in state.offer_choices] == ["No offer",
                                                      "Half off — 50% off for 3 months"]


@pytest.mark.parametrize(("kind", "form", "field", "message"), [
    ("trial_extension", {"name": "Week", "days": ""}, "days", "This field is required."),
    ("trial_extension", {"name": "", "days": "7"}, "name", "This field is required."),
    ("trial_extension", {"name": "Week", "days": "0"}, "days", "Invalid positive integer: 0"),
    ("pause", {"name": "Pause", "pause_count": "two"}, "pause_count", "Enter a whole number."),
    ("contact", {"name": "Talk", "contact_url": "ftp://x"}, "contact_url", None),
    ("contact", {"name": "Talk", "contact_url": "", "contact_email": ""}, "contact_url",
     "This field is required."),
    ("coupon", {"name": "C", "percent": "150", "months": "3"}, "percent",
     "The percentage must be between 0 and 100."),
    ("coupon", {"name": "C", "percent": "20", "months": ""}, "months",
     "This field is required."),
    ("price_change", {"name": "Cheaper"}, "target_price", "This field is required."),
    ("trial_extension", {"name": "W", "days": "7", "min_age": "x"}, "min_age",
     "Enter a whole number."),
])
def test_validation_errors_show_beside_their_field(account_id: str, make_uow: MakeUow,
                                                   cookie: str, kind: str,
                                                   form: dict[str, str], field: str,
                                                   message: str | None) -> None:
    state = offers_state(cookie)
    run(OffersState.load, state)
    run(OffersState.open_new, state)
    run(OffersState.set_kind, state, kind)

    run(OffersState.save, state, form)

    assert state.error_field == field
    assert state.form_error == (message or state.form_error) and state.form_error
    assert state.dialog_open
    assert offers.list_offers(account_id=account_id, uow=make_uow()) == []


def test_amount_coupon_in_major_units(account_id: str, make_uow: MakeUow, cookie: str) -> None:
    state = offers_state(cookie)
    run(OffersState.load, state)
    run(OffersState.open_new, state)
    run(OffersState.set_coupon_mode, state, "amount")
    run(OffersState.set_coupon_duration, state, "once")
    run(OffersState.save, state, {"name": "Ten off", "amount": "10.50", "currency": "EUR"})
    assert state.form_error == ""
    assert state.offers[0].summary == "€10.50 off the next invoice"


def test_edit_price_change_and_deactivate(account_id: str, make_uow: MakeUow,
                                          cookie: str) -> None:
    product = create_product(account_id=account_id, uow=make_uow(), name="Cloud")
    pro = create_price(account_id=account_id, uow=make_uow(), product=product.id,
                               currency="usd", unit_amount=4900, interval="month",
                               nickname="Pro")
    basic = create_price(account_id=account_id, uow=make_uow(), product=product.id,
                                 currency="usd", unit_amount=1900, interval="month",
                                 nickname="Basic")
    state = offers_state(cookie)
    run(OffersState.load, state)
    assert [c.value for c in state.price_choices] == [basic.id, pro.id]
    run(OffersState.open_new, state)
    run(OffersState.set_kind, state, "price_change")
    run(OffersState.set_target_price, state, basic.id)
    run(OffersState.toggle_product, state, product.id, True)
    run(OffersState.save, state, {"name": "Go Basic", "min_age": "30"})
    [row] = state.offers
    assert row.summary == "Switch to Cloud · Basic · $19.00/month, at period end"
    assert row.eligibility == ["Products: Cloud", "Subscribed ≥ 30 days"]

    run(OffersState.open_edit, state, row.id)
    assert state.editing and state.kind == "price_change" and state.target_price == basic.id
    assert state.defaults["min_age"] == "30" and state.draft_products == [product.id]
    run(OffersState.set_kind, state, "coupon")  # an existing offer keeps its kind
    assert state.kind == "price_change"
    run(OffersState.set_timing, state, "now")
    run(OffersState.save, state, {"name": "Go Basic now", "min_age": "30"})
    assert state.offers[0].summary.endswith(", now") and state.offers[0].name == "Go Basic now"

    run(OffersState.set_active, state, row.id, False)
    assert not state.offers[0].active and state.offers[0].status_label == "Inactive"
    assert [c.value for c in state.offer_choices] == [NONE]  # inactive: not offered
    assert offers.retrieve_offer(row.id, account_id=account_id, uow=make_uow()).active is False


def test_coupon_terms_are_locked_when_editing(cookie: str) -> None:
    state = offers_state(cookie)
    run(OffersState.load, state)
    run(OffersState.open_new, state)
    run(OffersState.save, state, coupon_form())
    run(OffersState.open_edit, state, state.offers[0].id)
    assert state.coupon_locked and state.defaults["percent"] == "50"
    assert state.defaults["months"] == "3"
    run(OffersState.save, state, coupon_form(name="Half off (renamed)", percent="10"))
    assert state.form_error == ""
    assert state.offers[0].name == "Half off (renamed)"
    assert state.offers[0].summary == "50% off for 3 months"


def test_another_accounts_offer_cannot_be_opened_or_changed(
        make_uow: MakeUow, cookie: str, other: dict[str, str]) -> None:
    state = offers_state(cookie)
    run(OffersState.load, state)

    assert run(OffersState.open_edit, state, other["offer"])  # a toast, nothing more
    assert not state.dialog_open and state.editing_id == ""
    run(OffersState.set_active, state, other["offer"], False)
    theirs = offers.retrieve_offer(other["offer"], account_id=other["account"],
                                   uow=make_uow())
    assert theirs.active is True and theirs.name == "Their week"
    assert state.offers == []


def test_policy_per_reason(account_id: str, make_uow: MakeUow, cookie: str, config_id: str,
                           other: dict[str, str]) -> None:
    mine = offers.create_offer(account_id=account_id, uow=make_uow(), type="trial_extension",
                               name="Free week", extension_days=7).id
    state = offers_state(cookie)
    run(OffersState.load, state)
    assert state.policy_configuration == config_id
    assert [r.reason for r in state.policy_rows][:2] == ["default", "too_expensive"]
    assert {r.offer_id for r in state.policy_rows} == {NONE}

    run(OffersState.set_policy_offer, state, "too_expensive", mine)
    run(OffersState.set_comment_required, state, True)
    run(OffersState.save_policy, state)
    policy = policies.retrieve_policy(config_id, account_id=account_id, uow=make_uow())
    assert policy is not None and policy.offers == {"too_expensive": mine}
    assert policy.comment_required
    assert next(r for r in state.policy_rows if r.reason == "too_expensive").offer_id == mine

    # Another merchant's offer, or configuration, crafted into the handlers: refused.
    run(OffersState.set_policy_offer, state, "unused", other["offer"])
    run(OffersState.save_policy, state)
    policy = policies.retrieve_policy(config_id, account_id=account_id, uow=make_uow())
    assert policy is not None and policy.offers == {"too_expensive": mine}
    state.policy_configuration = other["config"]
    run(OffersState.save_policy, state)
    assert policies.retrieve_policy(other["config"], account_id=other["account"],
                                    uow=make_uow()) is None


# --- experiments --------------------------------------------------------------------------


def experiment_form(state: ExperimentsState, **overrides: str) -> dict[str, Any]:
    control, offer = state.variants
    return {"name": "Half off vs nothing", "holdout": "10", "tenure_min": "", "tenure_max": "",
            f"vname_{control.key}": "Control", f"vweight_{control.key}": "1",
            f"vname_{offer.key}": "Half off", f"vweight_{offer.key}": "1", **overrides}


def test_create_start_ship_and_stop_an_experiment(account_id: str, make_uow: MakeUow,
                                                  cookie: str, config_id: str) -> None:
    offer_id = offers.create_offer(account_id=account_id, uow=make_uow(),
                                   type="trial_extension", name="Free week",
                                   extension_days=7).id
    state = state_of(ExperimentsState, cookie=cookie, path="/console/experiments")
    run(ExperimentsState.load, state)
    assert state.status == "ready" and not state.has_experiments and state.has_offers

    run(ExperimentsState.open_new, state)
    assert state.configuration == config_id and len(state.variants) == 2
    assert state.variants[0].control and state.variants[1].offers["default"] == offer_id
    run(ExperimentsState.toggle_reason, state, "too_expensive", True)
    results = run(ExperimentsState.save, state, experiment_form(state))
    assert state.form_error == "" and not state.dialog_open
    [exp] = experiments.list_experiments(account_id=account_id, uow=make_uow())
    assert f"/console/experiments/view?id={exp.id}" in str(results)
    assert exp.reasons == ["too_expensive"] and exp.holdout_percent == 10.0

    detail = state_of(ExperimentState, cookie=cookie,
                      path=f"/console/experiments/view?id={exp.id}")
    run(ExperimentState.load, detail)
    assert detail.status == "ready" and detail.is_draft and detail.status_label == "Draft"
    assert [v.name for v in detail.variants] == ["Control", "Half off"]
    assert detail.variants[0].is_control and detail.variants[0].weight == "50%"
    assert detail.variants[1].offers == "Any reason: Free week"
    assert detail.targeting == ["Too expensive"] and detail.holdout == "10%"

    run(ExperimentState.ask, detail, "start")
    assert detail.confirm_open and detail.confirm_title == "Start this experiment?"
    run(ExperimentState.confirm, detail)
    assert detail.is_running and detail.status_label == "Running"

    run(ExperimentState.ask, detail, "ship", detail.variants[1].id)
    assert "“Half off”" in detail.confirm_text
    run(ExperimentState.confirm, detail)
    assert detail.exp_status == "shipped" and detail.variants[1].shipped
    policy = policies.retrieve_policy(config_id, account_id=account_id, uow=make_uow())
    assert policy is not None and policy.offers == {"default": offer_id}

    # Stopping a stopped experiment: the service's refusal, shown; nothing changes.
    run(ExperimentState.ask, detail, "stop")
    assert run(ExperimentState.confirm, detail)
    assert detail.exp_status == "shipped"


def test_start_then_stop_with_a_readout(account_id: str, make_uow: MakeUow, cookie: str,
                                        config_id: str) -> None:
    offer_id = offers.create_offer(account_id=account_id, uow=make_uow(),
                                   type="trial_extension", name="Free week",
                                   extension_days=7).id
    exp = experiments.create_experiment(
        account_id=account_id, uow=make_uow(), name="Week", configuration=config_id,
        variants=[VariantSpec(name="Control"),
                  VariantSpec(name="Week", offers={"default": offer_id})])
    detail = state_of(ExperimentState, cookie=cookie,
                      path=f"/console/experiments/view?id={exp.id}")
    run(ExperimentState.load, detail)
    run(ExperimentState.ask, detail, "start")
    run(ExperimentState.confirm, detail)
    assert not detail.has_exposures and detail.exposures == "0"

    product = create_product(account_id=account_id, uow=make_uow(), name="Cloud")
    price = create_price(account_id=account_id, uow=make_uow(), product=product.id,
                                 currency="usd", unit_amount=4900, interval="month")
    for i in range(6):
        customer = create_customer(account_id=account_id, uow=make_uow(),
                                           email=f"c{i}@x.test",
                                           payment_method="pm_card_visa").id
        sub = create_subscription(account_id=account_id, uow=make_uow(),
                                          customer=customer,
                                          items=[ItemSpec(price=price.id)])
        session = sessions.create_session(account_id=account_id, uow=make_uow(),
                                          customer=customer, configuration=config_id).session
        flow = flows.start_flow(session, sub.id, uow=make_uow()).flow
        shown = flows.submit_reason(session, flow.id, "unused", None, uow=make_uow())
        if shown is not None:
            flows.accept_offer(session, flow.id, shown.id, uow=make_uow())
        else:
            flows.confirm_cancel(session, flow.id, uow=make_uow())

    run(ExperimentState.refresh, detail)
    assert detail.has_exposures and detail.exposures == "6"
    control, week = detail.variants
    assert int(control.exposures) + int(week.exposures) == 6
    assert control.saves == "0" and week.saves == week.exposures
    assert control.verdict.startswith("Control") and control.diff == ""
    if int(week.exposures):
        assert week.rate == "100.0%" and week.has_rate and week.interval.endswith("100.0%")
    # Customer ids are random, so the split is too: a difference needs both arms exposed.
    if int(week.exposures) and int(control.exposures):
        assert week.diff.startswith("+") and week.verdict.startswith("Too early to call")
        assert week.dot_left == "100.00%" and float(week.bar_width.rstrip("%")) > 0
    assert detail.srm_warning == ""

    run(ExperimentState.ask, detail, "stop")
    run(ExperimentState.confirm, detail)
    assert detail.exp_status == "stopped" and detail.exposures == "6"


def test_experiment_validation_errors(account_id: str, make_uow: MakeUow, cookie: str,
                                      config_id: str) -> None:
    offers.create_offer(account_id=account_id, uow=make_uow(), type="trial_extension",
                        name="Free week", extension_days=7)
    state = state_of(ExperimentsState, cookie=cookie, path="/console/experiments")
    run(ExperimentsState.load, state)
    run(ExperimentsState.open_new, state)
    control, offer = state.variants

    run(ExperimentsState.save, state, experiment_form(state, name=""))
    assert (state.error_field, state.form_error) == ("name", "This field is required.")

    run(ExperimentsState.save, state, experiment_form(state, **{f"vweight_{offer.key}": "0"}))
    assert state.error_field == f"vweight_{offer.key}"
    assert state.form_error == "Invalid positive integer: 0"
    run(ExperimentsState.save, state, experiment_form(state, **{f"vname_{offer.key}": "Control"}))
    assert state.error_field == f"vname_{offer.key}" and "Two variants" in state.form_error

    run(ExperimentsState.save, state, experiment_form(state, holdout="100"))
    assert state.error_field == "holdout"
    assert state.form_error == "The holdout must be at least 0 and below 100."
    run(ExperimentsState.save, state, experiment_form(state, tenure_min="30", tenure_max="10"))
    assert state.error_field == "tenure_min"
    assert state.form_error == ("The minimum subscription age is above the maximum "
                                "subscription age.")
    assert state.dialog_open
    assert experiments.list_experiments(account_id=account_id, uow=make_uow()) == []

    run(ExperimentsState.add_variant, state)
    assert len(state.variants) == 3 and state.variants[2].control
    run(ExperimentsState.remove_variant, state, state.variants[2].key)
    assert len(state.variants) == 2


def test_another_accounts_experiment_is_refused(make_uow: MakeUow, cookie: str,
                                                config_id: str, other: dict[str, str]) -> None:
    detail = state_of(ExperimentState, cookie=cookie,
                      path=f"/console/experiments/view?id={other['experiment']}")
    run(ExperimentState.load, detail)
    assert detail.status == "missing" and detail.variants == []

    # Crafted: the handler's experiment id and a variant id of another account.
    theirs = experiments.retrieve_experiment(other["experiment"], account_id=other["account"],
                                             uow=make_uow())
    detail.experiment_id = theirs.id
    for action in ("start", "stop"):
        detail.confirm_action = action
        assert run(ExperimentState.confirm, detail)
    assert experiments.retrieve_experiment(theirs.id, account_id=other["account"],
                                           uow=make_uow()).status == "draft"

    lists = state_of(ExperimentsState, cookie=cookie, path="/console/experiments")
    run(ExperimentsState.load, lists)
    assert lists.experiments == []
    run(ExperimentsState.open_edit, lists, theirs.id)
    assert not lists.dialog_open and lists.editing_id == ""
    run(ExperimentsState.open_new, lists)
    lists.configuration = other["config"]  # crafted: their configuration
    run(ExperimentsState.save, lists, experiment_form(lists))
    assert lists.error_field == "configuration"
    assert [e.id for e in experiments.list_experiments(account_id=other["account"],
                                                       uow=make_uow())] == [theirs.id]


def test_a_running_experiment_is_not_edited(account_id: str, make_uow: MakeUow, cookie: str,
                                            config_id: str) -> None:
    exp = experiments.create_experiment(
        account_id=account_id, uow=make_uow(), name="Running", configuration=config_id,
        variants=[VariantSpec(name="A"), VariantSpec(name="B")])
    experiments.start_experiment(exp.id, account_id=account_id, uow=make_uow())
    lists = state_of(ExperimentsState, cookie=cookie, path="/console/experiments")
    run(ExperimentsState.load, lists)
    assert lists.experiments[0].status == "running" and lists.experiments[0].tone == "green"
    results = run(ExperimentsState.open_edit, lists, exp.id)
    assert not lists.dialog_open and "/console/experiments/view" in str(results)
