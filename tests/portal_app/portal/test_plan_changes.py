"""The rules of a plan or quantity change: what is allowed, what waits for the period end,
and that a confirmed preview is what is applied (a stale one is refused), on a real SQLite
ledger through the billing provider (the shop of :mod:`tests.portal_app.portal.helpers`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from portal_app.billing.customers import update_customer
from portal_app.billing.models import (
    Invoice,
)
from portal_app.billing.payment_methods import attach_payment_method
from portal_app.clock import FrozenClock
from portal_app.errors import CardDeclined, InvalidRequest
from portal_app.events.models import Event
from portal_app.portal import (
    deep_links,
    plan_changes,
    refusals,
    subscription_actions,
)
from portal_app.portal.plan_changes import ChangeRequest
from portal_app.views import plan_change, subscriptions
from tests.conftest import START
from tests.portal_app.portal.helpers import (
    Shop,
    UowFactory,
    item_of,
    promotion_code,
    request,
    session_for,
    stripe_price,
)
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)


def test_upgrade_preview_matches_what_is_applied(shop: Shop, make_uow: UowFactory,
                                                 clock: FrozenClock) -> None:
    clock.set(START + timedelta(days=14))
    session = session_for(shop, make_uow, subscription_update={
        "proration_behavior": "always_invoice"})
    change = request(shop, make_uow, price=shop.growth_month)

    preview = plan_change.preview_update(session, change, locale="en", uow=make_uow())

    assert not preview.scheduled and preview.new_plan == "2 × Growth"
    assert [(line.description, line.credit) for line in preview.lines] == [
        ("Unused time on 2 × Starter", True), ("Remaining time on 2 × Growth", False)]
    assert preview.next_invoice_date == "Feb 28, 2026"
    plan_changes.confirm_update(session, change, version=preview.version, uow=make_uow())
    item = item_of(shop, make_uow)
    assert (item.price_id, item.quantity) == (shop.growth_month.id, 2)
    with make_uow() as uow:
        invoice = uow.session.exec(select(Invoice).where(
            Invoice.subscription_id == shop.sub.id).order_by(col(Invoice.created).desc())
        ).first()
    assert invoice is not None
    assert preview.amount_due_now == f"€{invoice.amount_due / 100:.2f}"
    with make_uow() as uow:
        events = list(uow.session.exec(select(Event).where(
            Event.object_id == shop.sub.id, Event.type == "customer.subscription.updated")))
    assert events and events[-1].origin == {"portal_session": session.id,
                                            "configuration": session.configuration_id}


def test_a_stale_preview_is_refused(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)
    first = plan_change.preview_update(session, request(shop, make_uow, quantity=3), locale="en",
                                       uow=make_uow())
    second = plan_change.preview_update(session, request(shop, make_uow, quantity=4), locale="en",
                                        uow=make_uow())
    plan_changes.confirm_update(session, request(shop, make_uow, quantity=3),
                                version=first.version, uow=make_uow())

    with pytest.raises(InvalidRequest) as refused:
        plan_changes.confirm_update(session, ChangeRequest(shop.sub.id, item_of(shop, make_uow).id,
                                                           shop.starter_month.id, 4),
                                    version=second.version, uow=make_uow())

    assert refused.value.code == "subscription_changed"
    assert item_of(shop, make_uow).quantity == 3


@pytest.mark.parametrize(("conditions", "target", "quantity", "scheduled"), [
    ([], "starter_year", 2, False),
    ([{"type": "decreasing_item_amount"}], "starter_month", 1, True),
    ([{"type": "decreasing_item_amount"}], "growth_month", 2, False),
    ([{"type": "shortening_interval"}], "starter_month", 1, False),
    ([{"type": "shortening_interval"}], "growth_year", 2, False),
])
def test_configured_conditions_decide_scheduling(shop: Shop, make_uow: UowFactory,
                                                 conditions: list[dict[str, str]], target: str,
                                                 quantity: int, scheduled: bool) -> None:
    session = session_for(shop, make_uow, subscription_update={
        "schedule_at_period_end": {"conditions": conditions}})

    preview = plan_change.preview_update(
        session, request(shop, make_uow, price=getattr(shop, target), quantity=quantity),
        locale="en", uow=make_uow())

    assert preview.scheduled is scheduled


def test_schedule_at_period_end_rules(shop: Shop, make_uow: UowFactory) -> None:
    decreasing = [{"type": "decreasing_item_amount"}]
    shortening = [{"type": "shortening_interval"}]
    month = stripe_price(shop, make_uow, shop.starter_month)
    year = stripe_price(shop, make_uow, shop.starter_year)
    assert plan_changes.schedule_at_period_end(decreasing, [(month, 2, month, 1)])
    assert not plan_changes.schedule_at_period_end(decreasing, [(month, 1, month, 2)])
    # 100 a year is less than 10 a month: a yearly switch decreases the amount per time.
    assert plan_changes.schedule_at_period_end(decreasing, [(month, 1, year, 1)])
    assert plan_changes.schedule_at_period_end(shortening, [(year, 1, month, 1)])
    assert not plan_changes.schedule_at_period_end(shortening, [(month, 1, year, 1)])
    assert not plan_changes.schedule_at_period_end([], [(year, 1, month, 1)])


def test_scheduled_downgrade_shows_and_can_be_canceled(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_update={
        "schedule_at_period_end": {"conditions": [{"type": "decreasing_item_amount"}]}})
    change = request(shop, make_uow, quantity=1)
    preview = plan_change.preview_update(session, change, locale="en", uow=make_uow())
    assert preview.scheduled_line == "Changes to 1 × Starter on Feb 28, 2026"

    plan_changes.confirm_update(session, change, version=preview.version, uow=make_uow())

    assert item_of(shop, make_uow).quantity == 2  # not before the period end
    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.notice == "Changes to 1 × Starter on Feb 28, 2026"
    assert card.can_cancel_scheduled_change and not card.can_update
    assert card.blocked_reason == ""  # the notice and its button say it
    with pytest.raises(InvalidRequest) as refused:
        plan_change.preview_update(session, request(shop, make_uow, quantity=3), locale="en",
                                   uow=make_uow())
    assert refused.value.code == "pending_scheduled_change"

    subscription_actions.cancel_scheduled_change(session, shop.sub.id, uow=make_uow())

    [card] = subscriptions.subscription_cards(session, locale="en", uow=make_uow())
    assert card.notice == "" and card.can_update


@pytest.mark.parametrize(("change", "code"), [
    ({"quantity": 11}, "quantity_out_of_range"),
    ({"quantity": 2}, "no_change"),
    ({"price": "other_product_month"}, "not_allowed"),
])
def test_refused_requests(shop: Shop, make_uow: UowFactory, change: dict[str, Any],
                          code: str) -> None:
    session = session_for(shop, make_uow)
    if "price" in change:
        change = {"price": getattr(shop, change["price"])}

    with pytest.raises(InvalidRequest) as refused:
        plan_change.preview_update(session, request(shop, make_uow, **change), locale="en",
                                   uow=make_uow())

    assert refused.value.code == code
    assert refusals.error_message(refused.value, locale="en") != refusals.SOMETHING_WRONG


def test_an_item_of_another_subscription_is_not_found(shop: Shop, make_uow: UowFactory
                                                      ) -> None:
    """A crafted item id never falls back to another item of the subscription."""
    session = session_for(shop, make_uow)
    for item_id in ("si_missing", item_of(shop, make_uow).id.replace("si_", "si_x")):
        with pytest.raises(InvalidRequest) as refused:
            plan_change.plan_chooser(session, shop.sub.id, locale="en", uow=make_uow(),
                                     item_id=item_id)
        assert refused.value.code == "resource_missing"
    chooser = plan_change.plan_chooser(session, shop.sub.id, locale="en", uow=make_uow(),
                                       item_id=item_of(shop, make_uow).id)
    assert chooser.item_id == item_of(shop, make_uow).id


def test_disallowed_updates_are_refused(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_update={
        "default_allowed_updates": ["price"]})

    for change in ({"quantity": 3}, {"promotion_code": "SPRING"}):
        with pytest.raises(InvalidRequest) as refused:
            plan_change.preview_update(session, request(shop, make_uow, **change), locale="en",
                                       uow=make_uow())
        assert refused.value.code == "not_allowed"
    assert plan_change.plan_chooser(session, shop.sub.id, locale="en",
                                    uow=make_uow()).quantity_enabled is False


def test_promotion_codes(shop: Shop, make_uow: UowFactory, clock: FrozenClock) -> None:
    promotion_code(shop, make_uow, "SPRING")
    promotion_code(shop, make_uow, "OLD", expires_at=START - timedelta(days=1))
    session = session_for(shop, make_uow)

    preview = plan_change.preview_update(
        session, request(shop, make_uow, price=shop.growth_month, promotion_code="SPRING"),
        locale="en", uow=make_uow())
    assert preview.has_discount and preview.discount.startswith("-€")

    for code, expected in (("NOPE", "promotion_code_invalid"), ("OLD", "coupon_expired")):
        with pytest.raises(InvalidRequest) as refused:
            plan_change.preview_update(session, request(shop, make_uow, promotion_code=code),
                                       locale="en", uow=make_uow())
        assert refused.value.code == expected
        assert refusals.error_message(refused.value, locale="en") == refusals.REFUSALS[expected]


def test_a_codes_minimum_amount_counts_the_plan_after_the_change(shop: Shop,
                                                                 make_uow: UowFactory) -> None:
    """BIG needs €50.00 a month before discount: 2 × Starter (€20.00) doesn't reach it, a
    change to 2 × Growth (€60.00) does; the customer reads why in their words."""
    promotion_code(shop, make_uow, "BIG", minimum_amount=5000, minimum_amount_currency="eur")
    session = session_for(shop, make_uow)

    with pytest.raises(InvalidRequest) as refused:
        plan_change.preview_update(session, request(shop, make_uow, promotion_code="BIG"),
                                   locale="en", uow=make_uow())
    assert refused.value.code == "promotion_code_invalid"
    assert refusals.error_message(refused.value, locale="en") == \
        "This promotion code isn't valid."
    change = request(shop, make_uow, price=shop.growth_month, promotion_code="BIG")
    preview = plan_change.preview_update(session, change, locale="en", uow=make_uow())
    assert preview.has_discount
    plan_changes.confirm_update(session, change, version=preview.version, uow=make_uow())
    assert item_of(shop, make_uow).price_id == shop.growth_month.id


def test_update_confirm_flow_previews_the_merchants_change(shop: Shop,
                                                           make_uow: UowFactory) -> None:
    item = item_of(shop, make_uow)
    session = session_for(shop, make_uow, flow_data={
        "type": "subscription_update_confirm",
        "subscription_update_confirm": {
            "subscription": shop.sub.id,
            "items": [{"id": item.id, "price": shop.growth_month.id, "quantity": 2}]}})
    assert deep_links.flow_path(session) == f"/portal/subscriptions/{shop.sub.id}/confirm"

    preview = plan_change.preview_flow_confirm(session, shop.sub.id, locale="en", uow=make_uow())
    assert preview.new_plan == "2 × Growth" and not preview.scheduled
    plan_changes.confirm_flow(session, shop.sub.id, version=preview.version, uow=make_uow())

    assert item_of(shop, make_uow).price_id == shop.growth_month.id
    other = session_for(shop, make_uow)
    with pytest.raises(InvalidRequest):
        plan_change.preview_flow_confirm(other, shop.sub.id, locale="en", uow=make_uow())


def test_always_invoice_decline_changes_nothing(shop: Shop, make_uow: UowFactory,
                                                clock: FrozenClock) -> None:
    failing = attach_payment_method("pm_card_chargeCustomerFail",
                                            customer_id=shop.customer,
                                            account_id=shop.account_id, uow=make_uow()).id
    update_customer(shop.customer, account_id=shop.account_id, uow=make_uow(),
                            default_payment_method=failing)
    clock.set(START + timedelta(days=3))
    session = session_for(shop, make_uow, subscription_update={
        "proration_behavior": "always_invoice"})
    change = request(shop, make_uow, price=shop.growth_month)
    preview = plan_change.preview_update(session, change, locale="en", uow=make_uow())

    with pytest.raises(CardDeclined) as declined:
        plan_changes.confirm_update(session, change, version=preview.version, uow=make_uow())

    assert refusals.error_message(declined.value, locale="en") == "Your card was declined."
    assert item_of(shop, make_uow).price_id == shop.starter_month.id
