"""The cancel flow's State: handlers called as the browser would, ids crafted by hand.

A real SQLite (or PostgreSQL) ledger and the frozen clock; the customer has
2 × Starter (€10.00) monthly, so €20.00 a month.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import col, select

from portal_app.billing.provider import BillingProvider, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.events.models import Event
from portal_app.portal import configurations, sessions
from portal_app.retention import offers, policies
from portal_app.retention.models import CancellationFlow
from portal_app.state.portal_cancel import CancelState
from portal_app.state.portal_manage import ManageState
from portal_app.web.portal_links import COOKIE_NAME
from tests.portal_app.portal.helpers import Shop, features
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)
from tests.portal_app.state.handlers import handler_state

UowFactory = Callable[[], UnitOfWork]
REASONS = {"enabled": True, "options": ["too_expensive", "unused", "other"]}


pytestmark = pytest.mark.usefixtures("portal_database")


@dataclass
class Browser:
    """A browser that opened a portal link: its cookie and the session's configuration."""

    cookie: str
    configuration: str


def open_link(shop: Shop, make_uow: UowFactory, *, customer: str | None = None,
              flow_data: dict[str, Any] | None = None, offer: str | None = None,
              comment_required: bool = False, reasons: dict[str, Any] | None = REASONS,
              **cancel: Any) -> Browser:
    """A new configuration (with ``offer`` for every reason), a session, its cookie."""
    cancel_feature: dict[str, Any] = {"cancellation_reason": reasons or {"enabled": False},
                                      **cancel}
    config = configurations.create_configuration(
        {"features": features(shop, subscription_cancel=cancel_feature)},
        account_id=shop.account_id, uow=make_uow())
    if offer or comment_required:
        policies.set_policy(config.id, account_id=shop.account_id, uow=make_uow(),
                            offers={"default": offer} if offer else {},
                            comment_required=comment_required)
    url = sessions.create_session(account_id=shop.account_id, uow=make_uow(),
                                  customer=customer or shop.customer, configuration=config.id,
                                  locale="en", flow_data=flow_data).url
    secret = sessions.open_session(url.rsplit("/", 1)[1], browser_secret=None,
                                   uow=make_uow()).browser_secret
    return Browser(f"{COOKIE_NAME}={secret}", config.id)


def state_of(cls: type, browser: Browser, subscription: str = "") -> Any:
    return handler_state(cls, browser.cookie,
                         query={"subscription": subscription} if subscription else None)


def run(handler: Any, state: Any, *args: Any) -> Any:
    """Run an event handler as Reflex does (generators to the end); its last update."""
    result = handler.fn(state, *args)
    if isinstance(result, Iterable) and not isinstance(result, (str, dict)):
        last = None
        for update in result:
            last = update if update is not None else last
        return last
    return result


def coupon_offer(shop: Shop, make_uow: UowFactory) -> str:
    return offers.create_offer(account_id=shop.account_id, uow=make_uow(), type="coupon",
                               name="Half off", new_coupon={
                                   "percent_off": 50, "duration": "repeating",
                                   "duration_in_months": 3}).id


def billing_of(shop: Shop, make_uow: UowFactory) -> BillingProvider:
    return billing_provider(shop.account_id, uow=make_uow())


def sub_of(shop: Shop, make_uow: UowFactory) -> StripeObject:
    """The customer's subscription as the billing contract shows it."""
    return billing_of(shop, make_uow).retrieve_subscription(shop.sub.id,
                                                            customer_id=shop.customer)


def flow_types(shop: Shop, make_uow: UowFactory) -> list[str]:
    with make_uow() as uow:
        return [e.type.rsplit(".", 1)[1] for e in uow.session.exec(
            select(Event).where(Event.account_id == shop.account_id,
                                col(Event.type).startswith("portico.cancellation_flow."))
            .order_by(col(Event.seq))).all()]


def discounts(shop: Shop, make_uow: UowFactory) -> list[StripeObject]:
    return billing_of(shop, make_uow).list_subscription_discounts(shop.sub.id,
                                                                  customer_id=shop.customer)


def test_reason_then_coupon_offer_accepted(shop: Shop, make_uow: UowFactory) -> None:
    browser = open_link(shop, make_uow, offer=coupon_offer(shop, make_uow))
    state = state_of(CancelState, browser, shop.sub.id)

    run(CancelState.load, state)
    assert state.step == "reason"
    assert [(r.key, r.label) for r in state.reasons] == [
        ("too_expensive", "It's too expensive"), ("unused", "I don't use the service enough"),
        ("other", "Other reason")]
    run(CancelState.choose_reason, state, "too_expensive")
    run(CancelState.set_comment, state, "  A bit much  ")
    run(CancelState.submit_reason, state, state.action_nonce)

    assert state.step == "offer", state.error
    assert state.offer.title == "50% off for 3 months"
    assert state.offer.detail == ("Pay €10.00 instead of €20.00 per month: you save €10.00 "
                                  "each time.")
    assert state.offer.accept_label == "Apply the discount"
    run(CancelState.accept_offer, state, state.action_nonce)

    assert state.step == "saved", state.error
    assert state.outcome_title == "Thanks for staying!"
    assert state.outcome_message == ("50% off for 3 months is applied to your subscription: "
                                     "you'll pay €10.00 instead of €20.00 per month.")
    [discount] = discounts(shop, make_uow)
    assert discount["end"] is not None
    overview = state_of(ManageState, browser)
    run(ManageState.load, overview)
    assert overview.cards[0].discount_line == "50% off until Apr 30, 2026"
    assert not sub_of(shop, make_uow)["cancel_at_period_end"]
    assert flow_types(shop, make_uow) == ["started", "offer_presented", "offer_accepted"]


def test_accepting_twice_applies_once(shop: Shop, make_uow: UowFactory) -> None:
    state = state_of(CancelState, open_link(shop, make_uow, offer=coupon_offer(shop, make_uow)),
                     shop.sub.id)
    run(CancelState.load, state)
    run(CancelState.choose_reason, state, "unused")
    run(CancelState.submit_reason, state, state.action_nonce)
    run(CancelState.accept_offer, state, state.action_nonce)
    state.step = "offer"  # a second click that arrived late, or a crafted event

    run(CancelState.accept_offer, state, state.action_nonce)

    assert state.error == ""
    assert len(discounts(shop, make_uow)) == 1
    assert flow_types(shop, make_uow).count("offer_accepted") == 1


def test_only_the_presented_offer_can_be_accepted(shop: Shop, make_uow: UowFactory) -> None:
    shown = offers.create_offer(account_id=shop.account_id, uow=make_uow(),
                                type="trial_extension", name="Two weeks", extension_days=14).id
    other = coupon_offer(shop, make_uow)
    state = state_of(CancelState, open_link(shop, make_uow, offer=shown), shop.sub.id)
    run(CancelState.load, state)
    # Nothing presented yet: a crafted acceptance does nothing.
    state.step, state.offer.id = "offer", shown
    run(CancelState.accept_offer, state, state.action_nonce)
    assert state.error == "This offer isn't available any more."

    state.step = "reason"
    run(CancelState.choose_reason, state, "unused")
    run(CancelState.submit_reason, state, state.action_nonce)
    assert state.offer.id == shown and state.offer.title == "Take 14 days free"
    state.offer.id = other  # the browser swaps in another offer of the same merchant
    run(CancelState.accept_offer, state, state.action_nonce)

    assert state.step == "offer"
    assert state.error == "This offer isn't available any more."
    assert discounts(shop, make_uow) == []
    assert sub_of(shop, make_uow)["status"] == "active"
    assert "offer_accepted" not in flow_types(shop, make_uow)


def test_another_customers_flow_is_out_of_reach(shop: Shop, make_uow: UowFactory) -> None:
    offer = coupon_offer(shop, make_uow)
    victim = state_of(CancelState, open_link(shop, make_uow, offer=offer), shop.sub.id)
    run(CancelState.load, victim)
    run(CancelState.choose_reason, victim, "unused")
    run(CancelState.submit_reason, victim, victim.action_nonce)
    assert victim.step == "offer"

    mallory = billing_of(shop, make_uow).create_customer()["id"]
    attacker = state_of(CancelState, open_link(shop, make_uow, customer=mallory, offer=offer),
                        shop.sub.id)
    run(CancelState.load, attacker)
    assert attacker.step == "unavailable"
    assert attacker.error == "We couldn't find that subscription."
    attacker._flow_id, attacker.offer.id = victim._flow_id, offer  # crafted ids
    for handler in (CancelState.submit_reason, CancelState.accept_offer,
                    CancelState.decline_offer, CancelState.confirm):
        attacker.step, attacker.reason, attacker.error = "offer", "unused", ""
        run(handler, attacker, attacker.action_nonce)
        assert attacker.error, handler

    with make_uow() as uow:
        flow = uow.session.get(CancellationFlow, victim._flow_id)
        assert flow is not None and flow.status == "offer_presented"
    assert discounts(shop, make_uow) == []
    assert not sub_of(shop, make_uow)["cancel_at_period_end"]


def test_reason_and_comment_required(shop: Shop, make_uow: UowFactory) -> None:
    state = state_of(CancelState, open_link(shop, make_uow, comment_required=True),
                     shop.sub.id)
    run(CancelState.load, state)
    assert state.comment_required

    # The button is disabled: a crafted event.
    run(CancelState.submit_reason, state, state.action_nonce)
    assert (state.step, state.error) == ("reason", "Please choose a reason to continue.")
    run(CancelState.choose_reason, state, "switched_service")  # not one of the options
    run(CancelState.submit_reason, state, state.action_nonce)
    assert state.error == "Please choose one of the reasons shown."
    run(CancelState.choose_reason, state, "other")
    run(CancelState.set_comment, state, "   ")
    run(CancelState.submit_reason, state, state.action_nonce)
    assert state.error == "Please tell us a little more to continue."

    run(CancelState.set_comment, state, "Moving to a spreadsheet")
    run(CancelState.submit_reason, state, state.action_nonce)
    assert (state.step, state.error) == ("confirm", "")
    run(CancelState.confirm, state, state.action_nonce)

    assert state.step == "done"
    assert state.outcome_title == "Your cancellation is confirmed"
    assert state.outcome_message.startswith("Your subscription ends on Feb 28, 2026.")
    sub = sub_of(shop, make_uow)
    assert sub["cancel_at_period_end"]
    assert sub["cancellation_details"].items() >= {
        "feedback": "other", "comment": "Moving to a spreadsheet",
        "reason": "cancellation_requested"}.items()
    assert flow_types(shop, make_uow) == ["started", "completed"]


def test_declined_offer_then_immediate_cancel(shop: Shop, make_uow: UowFactory) -> None:
    pause = offers.create_offer(account_id=shop.account_id, uow=make_uow(), type="pause",
                                name="Break", pause_interval="month", pause_interval_count=2).id
    state = state_of(CancelState, open_link(shop, make_uow, offer=pause, mode="immediately"),
                     shop.sub.id)
    run(CancelState.load, state)
    run(CancelState.choose_reason, state, "unused")
    run(CancelState.submit_reason, state, state.action_nonce)
    assert state.offer.title == "Pause for 2 months"
    assert state.offer.detail.endswith("it resumes on Mar 31, 2026.")

    run(CancelState.decline_offer, state, state.action_nonce)
    assert state.step == "confirm"
    run(CancelState.back, state)
    assert state.step == "reason"
    # Decided once: no offer the second time.
    run(CancelState.submit_reason, state, state.action_nonce)
    assert state.step == "confirm"
    run(CancelState.confirm, state, state.action_nonce)

    assert (state.step, state.outcome_title) == ("done", "Your subscription is canceled")
    assert sub_of(shop, make_uow)["status"] == "canceled"
    assert flow_types(shop, make_uow) == ["started", "offer_presented", "offer_declined",
                                          "completed"]


def test_reload_resumes_the_offer(shop: Shop, make_uow: UowFactory) -> None:
    browser = open_link(shop, make_uow, offer=coupon_offer(shop, make_uow))
    state = state_of(CancelState, browser, shop.sub.id)
    run(CancelState.load, state)
    run(CancelState.choose_reason, state, "unused")
    run(CancelState.submit_reason, state, state.action_nonce)

    again = state_of(CancelState, browser, shop.sub.id)
    run(CancelState.load, again)

    assert again.step == "offer" and again.offer.title == "50% off for 3 months"
    assert flow_types(shop, make_uow) == ["started", "offer_presented"]


def test_no_reason_step_and_the_sessions_retention_coupon(shop: Shop,
                                                          make_uow: UowFactory) -> None:
    coupon = billing_of(shop, make_uow).create_coupon(amount_off=500, currency="eur",
                                                      duration="once")
    browser = open_link(shop, make_uow, reasons=None, flow_data={
        "type": "subscription_cancel",
        "subscription_cancel": {"subscription": shop.sub.id, "retention": {
            "type": "coupon_offer", "coupon_offer": {"coupon": coupon["id"]}}},
        "after_completion": {"type": "redirect",
                             "redirect": {"return_url": "https://acme.test/thanks"}}})
    state = state_of(CancelState, browser, shop.sub.id)
    run(CancelState.load, state)
    assert state.step == "choose"

    run(CancelState.proceed, state, state.action_nonce)
    assert state.step == "offer"
    assert state.offer.title == "€5.00 off your next invoice"
    assert state.offer.detail == "Your next invoice: €15.00 instead of €20.00. You save €5.00."
    result = run(CancelState.accept_offer, state, state.action_nonce)

    assert "https://acme.test/thanks" in str(result)
    assert len(discounts(shop, make_uow)) == 1


def test_a_lapsed_session_does_nothing(shop: Shop, make_uow: UowFactory) -> None:
    state = state_of(CancelState, Browser(f"{COOKIE_NAME}=forged", ""), shop.sub.id)
    state._flow_id, state.step = "cflow_forged", "confirm"

    run(CancelState.confirm, state, state.action_nonce)

    assert state.view == "expired"
    assert not sub_of(shop, make_uow)["cancel_at_period_end"]
