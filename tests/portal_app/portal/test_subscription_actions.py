"""What a customer may do with a subscription (the configuration and its state decide), and
doing it: cancel, reactivate, pause, resume, on a real SQLite ledger through the billing
provider, with the frozen clock (the shop of :mod:`tests.portal_app.portal.helpers`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from portal_app.billing.customers import create_customer, update_customer
from portal_app.billing.models import (
    ScheduleStatus,
    SubscriptionStatus,
)
from portal_app.billing.payment_methods import attach_payment_method
from portal_app.billing.providers import billing_provider
from portal_app.billing.renewals import advance_clock
from portal_app.clock import FrozenClock, from_unix
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.events.models import Event
from portal_app.portal import plan_changes, subscription_actions
from portal_app.views import plan_change, subscriptions
from tests.conftest import START
from tests.portal_app.portal.helpers import (
    Shop,
    UowFactory,
    item_of,
    merchant_schedule,
    price,
    request,
    schedule_status,
    session_for,
    subscription,
)
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)

PERIOD_END = START.replace(month=2, day=28)


def test_everything_on_allows_update_cancel_and_pause(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)

    actions = subscription_actions.subscription_actions(session, shop.sub.id, uow=make_uow())

    assert actions == subscription_actions.Actions(can_update=True, can_cancel=True, can_pause=True)


def test_disabled_features_offer_nothing(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_update={"enabled": False},
                          subscription_cancel={"enabled": False},
                          subscription_pause={"enabled": False})

    assert subscription_actions.subscription_actions(session, shop.sub.id, uow=make_uow()) == \
        subscription_actions.Actions()
    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert not card.has_actions and card.blocked_reason == ""


def test_quantity_only_needs_an_adjustable_product(shop: Shop, make_uow: UowFactory) -> None:
    only_growth = [{"product": shop.growth_month.product_id, "prices": [shop.growth_month.id],
                    "adjustable_quantity": {"enabled": True}}]
    session = session_for(shop, make_uow, subscription_update={
        "default_allowed_updates": ["quantity"], "products": only_growth})

    assert not subscription_actions.subscription_actions(session, shop.sub.id,
                                                         uow=make_uow()).can_update


def test_another_customers_subscription_is_missing(shop: Shop, make_uow: UowFactory) -> None:
    stranger = create_customer(account_id=shop.account_id, uow=make_uow()).id
    session = session_for(shop, make_uow, customer=stranger)
    before = item_of(shop, make_uow)

    with pytest.raises(ResourceMissing):
        subscription_actions.subscription_actions(session, shop.sub.id, uow=make_uow())
    for act in (lambda: subscription_actions.cancel(session, shop.sub.id, uow=make_uow()),
                lambda: subscription_actions.pause(session, shop.sub.id, "indefinite",
                                                   uow=make_uow()),
                lambda: subscription_actions.reactivate(session, shop.sub.id, uow=make_uow()),
                lambda: plan_change.preview_update(session, request(shop, make_uow, quantity=3),
                                                   locale="en", uow=make_uow())):
        with pytest.raises(ResourceMissing):
            act()
    assert subscriptions.subscription_cards(session, locale="en", uow=make_uow()) == []
    after = item_of(shop, make_uow)
    assert (after.price_id, after.quantity) == (before.price_id, before.quantity)
    assert subscription(make_uow, shop.sub.id).status == SubscriptionStatus.active


def test_past_due_allows_only_cancel(shop: Shop, make_uow: UowFactory,
                                     clock: FrozenClock) -> None:
    failing = attach_payment_method("pm_card_chargeCustomerFail",
                                            customer_id=shop.customer,
                                            account_id=shop.account_id, uow=make_uow()).id
    update_customer(shop.customer, account_id=shop.account_id, uow=make_uow(),
                            default_payment_method=failing)
    advance_clock(clock, START + timedelta(days=29), account_id=shop.account_id,
                          uow_factory=make_uow)
    assert subscription(make_uow, shop.sub.id).status == SubscriptionStatus.past_due
    session = session_for(shop, make_uow)

    actions = subscription_actions.subscription_actions(session, shop.sub.id, uow=make_uow())

    assert actions == subscription_actions.Actions(can_cancel=True,
                                                   update_reason="subscription_past_due")
    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.notice_kind == "past_due"
    assert card.blocked_reason.startswith("Your last payment failed.")
    with pytest.raises(InvalidRequest) as refused:
        plan_change.plan_chooser(session, shop.sub.id, locale="en", uow=make_uow())
    assert refused.value.code == "subscription_past_due"


def test_cancel_at_period_end_and_reactivate(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)
    view = subscriptions.cancel_view(session, shop.sub.id, locale="en", uow=make_uow())
    assert not view.immediately
    assert view.ends_line == "Your subscription ends on Feb 28, 2026."

    subscription_actions.cancel(session, shop.sub.id, uow=make_uow())

    sub = subscription(make_uow, shop.sub.id)
    assert sub.cancel_at_period_end and sub.status == SubscriptionStatus.active
    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.date_line == "Cancels on Feb 28, 2026"
    assert card.can_reactivate and not card.can_cancel and not card.can_update
    assert card.status_label == "Canceling"

    subscription_actions.reactivate(session, shop.sub.id, uow=make_uow())

    assert not subscription(make_uow, shop.sub.id).cancel_at_period_end
    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.date_line == "Renews on Feb 28, 2026" and card.can_cancel


def test_a_merchants_schedule_is_not_the_customers_to_undo(
        shop: Shop, make_uow: UowFactory, clock: FrozenClock) -> None:
    """An introductory price ends at the period end, as the merchant scheduled: neither
    "Cancel scheduled change" nor cancel-then-"Don't cancel" keeps the customer on it."""
    full = price(shop.account_id, make_uow, product=shop.starter_month.product_id,
                 amount=2000)
    schedule_id = merchant_schedule(shop, make_uow, full)
    session = session_for(shop, make_uow)

    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.notice == "" and not card.can_cancel_scheduled_change
    assert card.can_cancel and not card.can_update and not card.can_pause
    with pytest.raises(InvalidRequest) as refused:
        subscription_actions.cancel_scheduled_change(session, shop.sub.id, uow=make_uow())
    assert refused.value.code == "no_change"
    # Nor through the billing contract, past the portal's check.
    with make_uow() as uow, pytest.raises(InvalidRequest) as refused:
        billing_provider(shop.account_id, uow=uow).release_subscription_schedule(
            schedule_id, customer_id=shop.customer)
    assert refused.value.code == "not_allowed"

    subscription_actions.cancel(session, shop.sub.id, uow=make_uow())
    subscription_actions.reactivate(session, shop.sub.id, uow=make_uow())

    assert schedule_status(make_uow, schedule_id) == ScheduleStatus.active
    advance_clock(clock, PERIOD_END + timedelta(hours=1), account_id=shop.account_id,
                  uow_factory=make_uow)
    assert item_of(shop, make_uow).price_id == full.id


def test_a_cancel_at_period_end_drops_the_customers_own_change(
        shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_update={
        "schedule_at_period_end": {"conditions": [{"type": "decreasing_item_amount"}]}})
    change = request(shop, make_uow, quantity=1)
    preview = plan_change.preview_update(session, change, locale="en", uow=make_uow())
    plan_changes.confirm_update(session, change, version=preview.version, uow=make_uow())
    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.can_cancel_scheduled_change

    subscription_actions.cancel(session, shop.sub.id, uow=make_uow())

    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.notice == "" and not card.can_cancel_scheduled_change
    assert card.can_reactivate


def test_immediate_cancel_with_proration(shop: Shop, make_uow: UowFactory,
                                         clock: FrozenClock) -> None:
    clock.set(START + timedelta(days=14))
    session = session_for(shop, make_uow, subscription_cancel={
        "mode": "immediately", "proration_behavior": "create_prorations"})
    view = subscriptions.cancel_view(session, shop.sub.id, locale="en", uow=make_uow())
    assert view.immediately and view.ends_line == "Your subscription ends today."
    assert "credit" in view.detail

    subscription_actions.cancel(session, shop.sub.id, uow=make_uow())

    assert subscription(make_uow, shop.sub.id).status == SubscriptionStatus.canceled
    assert subscriptions.subscription_cards(session, locale="en", uow=make_uow()) == []
    with make_uow() as uow:
        deleted = uow.session.exec(select(Event).where(
            Event.object_id == shop.sub.id, Event.type == "customer.subscription.deleted")).one()
    assert deleted.origin == subscription_actions.origin(session)


def test_cancel_disabled_is_refused(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_cancel={"enabled": False})

    with pytest.raises(InvalidRequest):
        subscription_actions.cancel(session, shop.sub.id, uow=make_uow())
    assert subscription(make_uow, shop.sub.id).canceled_at is None


def test_pause_for_a_configured_interval_and_resume(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_pause={"duration": {
        "type": "interval_options",
        "interval_options": [{"interval": "month", "interval_count": 1},
                             {"interval": "week", "interval_count": 2}]}})
    view = subscriptions.pause_view(session, shop.sub.id, locale="en", uow=make_uow())
    assert [(o.key, o.label, o.resumes_line) for o in view.options] == [
        ("1-month", "1 month", "Payments resume on Feb 28, 2026"),
        ("2-week", "2 weeks", "Payments resume on Feb 14, 2026")]
    with pytest.raises(InvalidRequest):
        subscription_actions.pause(session, shop.sub.id, "indefinite", uow=make_uow())

    subscription_actions.pause(session, shop.sub.id, "2-week", uow=make_uow())

    sub = subscription(make_uow, shop.sub.id)
    assert from_unix(sub.pause_collection["resumes_at"]) == START + timedelta(weeks=2)
    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.date_line == "Paused · resumes on Feb 14, 2026"
    assert card.can_resume and not card.can_pause and not card.can_update
    assert card.status_label == "Paused"

    subscription_actions.resume(session, shop.sub.id, uow=make_uow())

    assert not subscription(make_uow, shop.sub.id).pause_collection
    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.can_pause and not card.can_resume


def test_indefinite_pause(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)
    [option] = subscriptions.pause_view(session, shop.sub.id, locale="en", uow=make_uow()).options
    assert option.key == "indefinite"

    subscription_actions.pause(session, shop.sub.id, "indefinite", uow=make_uow())

    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.date_line == "Paused until you resume it"
