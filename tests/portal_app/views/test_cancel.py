"""The cancel flow's view models: each offer kind's card and what accepting it says.

The retention shop: a customer on Cloud Pro (49.00 USD a month) since 2026-01-31 12:00
UTC, a cheaper Basic price (19.00 USD); the period ends on Feb 28, 2026. English.
"""

from __future__ import annotations

from typing import Any

from portal_app.errors import InvalidRequest
from portal_app.portal.models import PortalSession
from portal_app.retention import offers, policies
from portal_app.views import cancel
from tests.portal_app.retention.conftest import Shop
from tests.portal_app.retention.conftest import shop as shop  # noqa: F401  (fixture)


def offered(shop: Shop, type: str, **terms: Any
            ) -> tuple[PortalSession, cancel.CancelStart, cancel.OfferCard]:
    """A customer who opens the cancel page, answers, and is offered an offer of ``type``."""
    offer = offers.create_offer(account_id=shop.account_id, uow=shop.make_uow(), type=type,
                                name=type, **terms)
    policies.set_policy(shop.config.id, account_id=shop.account_id, uow=shop.make_uow(),
                        offers={"default": offer.id})
    customer = shop.customer()
    session = shop.session(customer)
    opened = cancel.start(session, shop.subscribe(customer)["id"], locale="en",
                          uow=shop.make_uow())
    card = cancel.submit_reason(session, opened.flow_id, "unused", "", locale="en",
                                uow=shop.make_uow())
    assert card is not None and card.id == offer.id and card.type == type
    return session, opened, card


def accept(shop: Shop, session: PortalSession, opened: cancel.CancelStart,
           card: cancel.OfferCard) -> cancel.Outcome:
    return cancel.accept_offer(session, opened.flow_id, card.id, locale="en",
                               uow=shop.make_uow())


def test_the_page_opens_with_the_survey(shop: Shop) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    opened = cancel.start(shop.session(customer), sub["id"], locale="en", uow=shop.make_uow())
    assert (opened.subscription_id, opened.status, opened.immediately) == (
        sub["id"], "started", False)
    assert opened.ends_line == "Your subscription ends on Feb 28, 2026."
    assert [(r.key, r.label) for r in opened.reasons] == [
        ("too_expensive", "It's too expensive"), ("unused", "I don't use the service enough"),
        ("missing_features", "Some features are missing")]
    assert opened.offer == cancel.NO_OFFER


def test_a_cheaper_price_at_the_period_end(shop: Shop) -> None:
    session, opened, card = offered(shop, "price_change", price=shop.basic["id"])
    assert card.title == "Switch to Cloud at $19.00 per month"
    assert card.detail == "Save $30.00 per month. The new price applies from Feb 28, 2026."
    assert card.accept_label == "Switch to Cloud"
    saved = accept(shop, session, opened, card)
    assert (saved.kind, saved.title) == ("saved", "You're switching to Cloud")
    assert saved.message == "From Feb 28, 2026 you'll pay $19.00 per month."


def test_a_cheaper_price_now(shop: Shop) -> None:
    _session, _opened, card = offered(shop, "price_change", price=shop.basic["id"],
                                      price_change_timing="now")
    assert card.detail == "Save $30.00 per month. The new price applies from today."


def test_free_days(shop: Shop) -> None:
    session, opened, card = offered(shop, "trial_extension", extension_days=14)
    assert card.title == "Take 14 days free"
    assert card.detail == "Keep everything you have, on us. Your next charge is on Mar 14, 2026."
    saved = accept(shop, session, opened, card)
    assert saved.title == "Enjoy 14 free days"
    assert saved.message == "Your subscription stays as it is. Your next charge is on Mar 14, " \
        "2026."


def test_a_pause_of_billing_periods(shop: Shop) -> None:
    session, opened, card = offered(shop, "pause", pause_interval="period",
                                    pause_interval_count=1)
    assert card.title == "Pause for 1 month"
    assert card.detail.endswith("it resumes on Mar 28, 2026.")
    saved = accept(shop, session, opened, card)
    assert saved.title == "Your subscription is paused"
    assert saved.message.startswith("You won't be charged until it resumes on Mar 28, 2026.")


def test_a_coupon_for_the_next_invoice(shop: Shop) -> None:
    session, opened, card = offered(shop, "coupon", new_coupon={
        "amount_off": 1000, "currency": "usd", "duration": "once"})
    assert card.title == "$10.00 off your next invoice"
    assert card.detail == "Your next invoice: $39.00 instead of $49.00. You save $10.00."
    saved = accept(shop, session, opened, card)
    assert saved.message == ("$10.00 off your next invoice is applied to your subscription: "
                             "you'll pay $39.00 instead of $49.00 per month.")


def test_talk_to_us(shop: Shop) -> None:
    session, opened, card = offered(shop, "contact", contact_email="help@acme.test")
    assert (card.title, card.contact_url) == ("Talk to us", "mailto:help@acme.test")
    saved = accept(shop, session, opened, card)
    assert (saved.kind, saved.contact_url) == ("saved", "mailto:help@acme.test")


def test_declined_then_canceled_at_the_period_end(shop: Shop) -> None:
    session, opened, _card = offered(shop, "contact", contact_url="https://acme.test/talk")
    cancel.decline_offer(session, opened.flow_id, uow=shop.make_uow())
    done = cancel.confirm_cancel(session, opened.flow_id, locale="en", uow=shop.make_uow())
    assert (done.kind, done.title) == ("canceled", "Your cancellation is confirmed")
    assert done.message.startswith("Your subscription ends on Feb 28, 2026.")


def test_refusals_in_words() -> None:
    assert cancel.error_message(InvalidRequest("x", code="comment_too_long"), locale="en") == \
        "Please keep your comment under 500 characters."
    assert cancel.error_message(InvalidRequest("x", code="subscription_past_due"),
                                locale="en").startswith("Your last payment failed.")
