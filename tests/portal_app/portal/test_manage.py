"""The portal's configuration-governed subscription rules, on a real SQLite ledger.

Every test builds a merchant catalog (Starter and Growth, monthly and yearly),
a portal configuration and a customer on Starter monthly, then acts through
:mod:`portal_app.portal.manage` as the portal does, with the frozen clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from portal_app.billing import meters
from portal_app.billing import services as billing
from portal_app.billing.models import (
    Invoice,
    Price,
    PromotionCode,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from portal_app.clock import FrozenClock, from_unix, to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import CardDeclined, InvalidRequest, ResourceMissing
from portal_app.events.models import Event
from portal_app.portal import configurations, manage, sessions
from portal_app.portal.manage import ChangeRequest
from portal_app.portal.models import PortalSession
from tests.conftest import START

UowFactory = Callable[[], UnitOfWork]


@dataclass
class Shop:
    """A merchant's catalog and one subscribed customer."""

    account_id: str
    customer: str
    card: str
    starter_month: Price
    starter_year: Price
    growth_month: Price
    growth_year: Price
    other_product_month: Price  # on the account, but not in the configuration
    sub: Subscription


def price(account_id: str, make_uow: UowFactory, *, product: str | None, amount: int,
          interval: str = "month", name: str | None = None, usage_type: str = "licensed"
          ) -> Price:
    return billing.create_price(account_id=account_id, uow=make_uow(), currency="eur",
                                unit_amount=amount, interval=interval, product=product,
                                product_name=name, usage_type=usage_type)


@pytest.fixture
def shop(account_id: str, make_uow: UowFactory) -> Shop:
    starter_month = price(account_id, make_uow, product=None, amount=1000, name="Starter")
    starter_year = price(account_id, make_uow, product=starter_month.product_id, amount=10000,
                         interval="year")
    growth_month = price(account_id, make_uow, product=None, amount=3000, name="Growth")
    growth_year = price(account_id, make_uow, product=growth_month.product_id, amount=30000,
                        interval="year")
    other = price(account_id, make_uow, product=None, amount=500, name="Hidden")
    customer = billing.create_customer(account_id=account_id, uow=make_uow(),
                                       email="ada@example.test").id
    card = billing.attach_payment_method("pm_card_visa", customer_id=customer,
                                         account_id=account_id, uow=make_uow()).id
    billing.update_customer(customer, account_id=account_id, uow=make_uow(),
                            default_payment_method=card)
    sub = billing.create_subscription(account_id=account_id, uow=make_uow(), customer=customer,
                                      items=[billing.ItemSpec(starter_month.id, 2)])
    return Shop(account_id, customer, card, starter_month, starter_year, growth_month,
                growth_year, other, sub)


def features(shop: Shop, **overrides: Any) -> dict[str, Any]:
    """Everything on: price, quantity (1..10) and promotion codes; cancel; pause."""
    update = {
        "enabled": True,
        "default_allowed_updates": ["price", "quantity", "promotion_code"],
        "proration_behavior": "create_prorations",
        "products": [
            {"product": shop.starter_month.product_id,
             "prices": [shop.starter_month.id, shop.starter_year.id],
             "adjustable_quantity": {"enabled": True, "minimum": 1, "maximum": 10}},
            {"product": shop.growth_month.product_id,
             "prices": [shop.growth_month.id, shop.growth_year.id],
             "adjustable_quantity": {"enabled": True, "minimum": 1, "maximum": 10}},
        ],
    }
    update.update(overrides.pop("subscription_update", {}))
    out: dict[str, Any] = {
        "subscription_update": update,
        "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
        "subscription_pause": {"enabled": True},
    }
    for key, value in overrides.items():
        out[key] = {**out.get(key, {}), **value}
    return out


def session_for(shop: Shop, make_uow: UowFactory, *, customer: str | None = None,
                flow_data: dict[str, Any] | None = None, **feature_overrides: Any
                ) -> PortalSession:
    config = configurations.create_configuration(
        {"features": features(shop, **feature_overrides)}, account_id=shop.account_id,
        uow=make_uow())
    return sessions.create_session(account_id=shop.account_id, uow=make_uow(),
                                   customer=customer or shop.customer,
                                   configuration=config.id, locale="en",
                                   flow_data=flow_data).session


def item_of(shop: Shop, make_uow: UowFactory, sub_id: str | None = None) -> SubscriptionItem:
    with make_uow() as uow:
        return uow.session.exec(select(SubscriptionItem).where(
            SubscriptionItem.subscription_id == (sub_id or shop.sub.id))).one()


def subscription(make_uow: UowFactory, sub_id: str) -> Subscription:
    with make_uow() as uow:
        return uow.session.get(Subscription, sub_id)


def request(shop: Shop, make_uow: UowFactory, *, price: Price | None = None,
            quantity: int | None = None, promotion_code: str = "") -> ChangeRequest:
    item = item_of(shop, make_uow)
    return ChangeRequest(subscription_id=shop.sub.id, item_id=item.id,
                         price_id=(price.id if price else item.price_id),
                         quantity=item.quantity if quantity is None else quantity,
                         promotion_code=promotion_code)


# --- actions ------------------------------------------------------------------------------


def test_everything_on_allows_update_cancel_and_pause(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)

    actions = manage.subscription_actions(session, shop.sub.id, uow=make_uow())

    assert actions == manage.Actions(can_update=True, can_cancel=True, can_pause=True)


def test_disabled_features_offer_nothing(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_update={"enabled": False},
                          subscription_cancel={"enabled": False},
                          subscription_pause={"enabled": False})

    assert manage.subscription_actions(session, shop.sub.id, uow=make_uow()) == manage.Actions()
    [card] = manage.subscription_cards(session, locale="en", uow=make_uow())
    assert not card.has_actions and card.blocked_reason == ""


def test_quantity_only_needs_an_adjustable_product(shop: Shop, make_uow: UowFactory) -> None:
    only_growth = [{"product": shop.growth_month.product_id, "prices": [shop.growth_month.id],
                    "adjustable_quantity": {"enabled": True}}]
    session = session_for(shop, make_uow, subscription_update={
        "default_allowed_updates": ["quantity"], "products": only_growth})

    assert not manage.subscription_actions(session, shop.sub.id, uow=make_uow()).can_update


def test_another_customers_subscription_is_missing(shop: Shop, make_uow: UowFactory) -> None:
    stranger = billing.create_customer(account_id=shop.account_id, uow=make_uow()).id
    session = session_for(shop, make_uow, customer=stranger)
    before = item_of(shop, make_uow)

    with pytest.raises(ResourceMissing):
        manage.subscription_actions(session, shop.sub.id, uow=make_uow())
    for act in (lambda: manage.cancel(session, shop.sub.id, uow=make_uow()),
                lambda: manage.pause(session, shop.sub.id, "indefinite", uow=make_uow()),
                lambda: manage.reactivate(session, shop.sub.id, uow=make_uow()),
                lambda: manage.preview_update(session, request(shop, make_uow, quantity=3),
                                              locale="en", uow=make_uow())):
        with pytest.raises(ResourceMissing):
            act()
    assert manage.subscription_cards(session, locale="en", uow=make_uow()) == []
    after = item_of(shop, make_uow)
    assert (after.price_id, after.quantity) == (before.price_id, before.quantity)
    assert subscription(make_uow, shop.sub.id).status == SubscriptionStatus.active


def test_past_due_allows_only_cancel(shop: Shop, make_uow: UowFactory,
                                     clock: FrozenClock) -> None:
    failing = billing.attach_payment_method("pm_card_chargeCustomerFail",
                                            customer_id=shop.customer,
                                            account_id=shop.account_id, uow=make_uow()).id
    billing.update_customer(shop.customer, account_id=shop.account_id, uow=make_uow(),
                            default_payment_method=failing)
    billing.advance_clock(clock, START + timedelta(days=29), account_id=shop.account_id,
                          uow_factory=make_uow)
    assert subscription(make_uow, shop.sub.id).status == SubscriptionStatus.past_due
    session = session_for(shop, make_uow)

    actions = manage.subscription_actions(session, shop.sub.id, uow=make_uow())

    assert actions == manage.Actions(can_cancel=True, update_reason="subscription_past_due")
    [card] = manage.subscription_cards(session, locale="en", uow=make_uow())
    assert card.notice_kind == "past_due"
    assert card.blocked_reason.startswith("Your last payment failed.")
    with pytest.raises(InvalidRequest) as refused:
        manage.plan_chooser(session, shop.sub.id, locale="en", uow=make_uow())
    assert refused.value.code == "subscription_past_due"


# --- plan options -------------------------------------------------------------------------


def test_plan_chooser_offers_configured_prices_with_a_toggle(shop: Shop,
                                                             make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)

    chooser = manage.plan_chooser(session, shop.sub.id, locale="en", uow=make_uow())

    assert [(o.product_name, o.amount, o.interval, o.current) for o in chooser.options] == [
        ("Starter", "€10.00", "per month", True), ("Starter", "€100.00", "per year", False),
        ("Growth", "€30.00", "per month", False), ("Growth", "€300.00", "per year", False)]
    assert shop.other_product_month.id not in {o.price_id for o in chooser.options}
    assert [(c.key, c.label) for c in chooser.intervals] == [("month", "Monthly"),
                                                             ("year", "Yearly")]
    assert (chooser.interval_key, chooser.quantity) == ("month", 2)
    assert (chooser.quantity_enabled, chooser.quantity_min, chooser.quantity_max) == (
        True, 1, 10)
    assert chooser.price_enabled and chooser.promotion_code_enabled


def test_metered_items_show_usage_and_offer_only_metered_prices(
        shop: Shop, make_uow: UowFactory) -> None:
    calls = price(shop.account_id, make_uow, product=None, amount=5, name="API calls",
                  usage_type="metered")
    calls_plus = price(shop.account_id, make_uow, product=calls.product_id, amount=4,
                       usage_type="metered")
    sub = billing.create_subscription(account_id=shop.account_id, uow=make_uow(),
                                      customer=shop.customer,
                                      items=[billing.ItemSpec(calls.id, 0)])
    session = session_for(shop, make_uow, subscription_update={"products": [
        *features(shop)["subscription_update"]["products"],
        {"product": calls.product_id, "prices": [calls.id, calls_plus.id],
         "adjustable_quantity": {"enabled": True}}]})

    chooser = manage.plan_chooser(session, sub.id, locale="en", uow=make_uow())

    assert {o.price_id for o in chooser.options} == {calls.id, calls_plus.id}
    assert not chooser.quantity_enabled
    assert chooser.metered_note.startswith("Usage-based")
    card = next(c for c in manage.subscription_cards(session, locale="en", uow=make_uow())
                if c.id == sub.id)
    assert [(i.product_name, i.detail) for i in card.item_lines] == [
        ("API calls", "€0.05 per unit · billed on usage")]
    item = item_of(shop, make_uow, sub.id)
    with pytest.raises(InvalidRequest) as refused:
        manage.preview_update(session, ChangeRequest(sub.id, item.id, shop.growth_month.id, 1),
                              locale="en", uow=make_uow())
    # A fixed price for a usage-based item: refused, and the customer is told why.
    assert refused.value.code == "metered_price_change"
    assert manage.error_message(refused.value, locale="en") == (
        "Usage-based and fixed prices can't be exchanged for each other: choose a price of "
        "the same kind.")


def test_multi_item_subscription_changes_item_by_item(shop: Shop, make_uow: UowFactory) -> None:
    sub = billing.create_subscription(
        account_id=shop.account_id, uow=make_uow(), customer=shop.customer,
        items=[billing.ItemSpec(shop.starter_month.id, 1),
               billing.ItemSpec(shop.growth_month.id, 3)])
    session = session_for(shop, make_uow)
    with make_uow() as uow:
        items = list(uow.session.exec(select(SubscriptionItem).where(
            SubscriptionItem.subscription_id == sub.id).order_by(col(SubscriptionItem.position))))

    chooser = manage.plan_chooser(session, sub.id, locale="en", uow=make_uow(),
                                  item_id=items[1].id)

    assert [i.product_name for i in chooser.items] == ["Starter", "Growth"]
    assert chooser.item_id == items[1].id and chooser.quantity == 3
    # Same interval as the other item, and not the price the other item already has.
    assert [o.price_id for o in chooser.options] == [shop.growth_month.id]
    card = next(c for c in manage.subscription_cards(session, locale="en", uow=make_uow())
                if c.id == sub.id)
    assert [i.detail for i in card.item_lines] == ["€10.00 per month", "3 × €30.00 per month"]


# --- preview and confirm ------------------------------------------------------------------


def test_upgrade_preview_matches_what_is_applied(shop: Shop, make_uow: UowFactory,
                                                 clock: FrozenClock) -> None:
    clock.set(START + timedelta(days=14))
    session = session_for(shop, make_uow, subscription_update={
        "proration_behavior": "always_invoice"})
    change = request(shop, make_uow, price=shop.growth_month)

    preview = manage.preview_update(session, change, locale="en", uow=make_uow())

    assert not preview.scheduled and preview.new_plan == "2 × Growth"
    assert [(line.description, line.credit) for line in preview.lines] == [
        ("Unused time on 2 × Starter", True), ("Remaining time on 2 × Growth", False)]
    assert preview.next_invoice_date == "Feb 28, 2026"
    manage.confirm_update(session, change, version=preview.version, uow=make_uow())
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
    first = manage.preview_update(session, request(shop, make_uow, quantity=3), locale="en",
                                  uow=make_uow())
    second = manage.preview_update(session, request(shop, make_uow, quantity=4), locale="en",
                                   uow=make_uow())
    manage.confirm_update(session, request(shop, make_uow, quantity=3), version=first.version,
                          uow=make_uow())

    with pytest.raises(InvalidRequest) as refused:
        manage.confirm_update(session, ChangeRequest(shop.sub.id, item_of(shop, make_uow).id,
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

    preview = manage.preview_update(
        session, request(shop, make_uow, price=getattr(shop, target), quantity=quantity),
        locale="en", uow=make_uow())

    assert preview.scheduled is scheduled


def test_schedule_at_period_end_rules(shop: Shop) -> None:
    decreasing = [{"type": "decreasing_item_amount"}]
    shortening = [{"type": "shortening_interval"}]
    month, year = shop.starter_month, shop.starter_year
    assert manage.schedule_at_period_end(decreasing, [(month, 2, month, 1)])
    assert not manage.schedule_at_period_end(decreasing, [(month, 1, month, 2)])
    # 100 a year is less than 10 a month: a yearly switch decreases the amount per time.
    assert manage.schedule_at_period_end(decreasing, [(month, 1, year, 1)])
    assert manage.schedule_at_period_end(shortening, [(year, 1, month, 1)])
    assert not manage.schedule_at_period_end(shortening, [(month, 1, year, 1)])
    assert not manage.schedule_at_period_end([], [(year, 1, month, 1)])


def test_scheduled_downgrade_shows_and_can_be_canceled(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_update={
        "schedule_at_period_end": {"conditions": [{"type": "decreasing_item_amount"}]}})
    change = request(shop, make_uow, quantity=1)
    preview = manage.preview_update(session, change, locale="en", uow=make_uow())
    assert preview.scheduled_line == "Changes to 1 × Starter on Feb 28, 2026"

    manage.confirm_update(session, change, version=preview.version, uow=make_uow())

    assert item_of(shop, make_uow).quantity == 2  # not before the period end
    [card] = manage.subscription_cards(session, locale="en", uow=make_uow())
    assert card.notice == "Changes to 1 × Starter on Feb 28, 2026"
    assert card.can_cancel_scheduled_change and not card.can_update
    assert card.blocked_reason == ""  # the notice and its button say it
    with pytest.raises(InvalidRequest) as refused:
        manage.preview_update(session, request(shop, make_uow, quantity=3), locale="en",
                              uow=make_uow())
    assert refused.value.code == "pending_scheduled_change"

    manage.cancel_scheduled_change(session, shop.sub.id, uow=make_uow())

    [card] = manage.subscription_cards(session, locale="en", uow=make_uow())
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
        manage.preview_update(session, request(shop, make_uow, **change), locale="en",
                              uow=make_uow())

    assert refused.value.code == code
    assert manage.error_message(refused.value, locale="en") != manage.SOMETHING_WRONG


def test_disallowed_updates_are_refused(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_update={
        "default_allowed_updates": ["price"]})

    for change in ({"quantity": 3}, {"promotion_code": "SPRING"}):
        with pytest.raises(InvalidRequest) as refused:
            manage.preview_update(session, request(shop, make_uow, **change), locale="en",
                                  uow=make_uow())
        assert refused.value.code == "not_allowed"
    assert manage.plan_chooser(session, shop.sub.id, locale="en",
                               uow=make_uow()).quantity_enabled is False


def promotion_code(shop: Shop, make_uow: UowFactory, code: str, **fields: Any) -> str:
    coupon = billing.create_coupon(account_id=shop.account_id, uow=make_uow(), percent_off=20,
                                   duration="forever")
    with make_uow() as uow:
        row = PromotionCode(account_id=shop.account_id, code=code, coupon_id=coupon.id,
                            created=uow.clock(), **fields)
        uow.add(row)
        uow.commit()
        return row.id


def test_promotion_codes(shop: Shop, make_uow: UowFactory, clock: FrozenClock) -> None:
    promotion_code(shop, make_uow, "SPRING")
    promotion_code(shop, make_uow, "OLD", expires_at=START - timedelta(days=1))
    session = session_for(shop, make_uow)

    preview = manage.preview_update(
        session, request(shop, make_uow, price=shop.growth_month, promotion_code="SPRING"),
        locale="en", uow=make_uow())
    assert preview.has_discount and preview.discount.startswith("-€")

    for code, expected in (("NOPE", "promotion_code_invalid"), ("OLD", "coupon_expired")):
        with pytest.raises(InvalidRequest) as refused:
            manage.preview_update(session, request(shop, make_uow, promotion_code=code),
                                  locale="en", uow=make_uow())
        assert refused.value.code == expected
        assert manage.error_message(refused.value, locale="en") == manage.REFUSALS[expected]


# --- cancel, reactivate -------------------------------------------------------------------


def test_cancel_at_period_end_and_reactivate(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)
    view = manage.cancel_view(session, shop.sub.id, locale="en", uow=make_uow())
    assert not view.immediately
    assert view.ends_line == "Your subscription ends on Feb 28, 2026."

    manage.cancel(session, shop.sub.id, uow=make_uow())

    sub = subscription(make_uow, shop.sub.id)
    assert sub.cancel_at_period_end and sub.status == SubscriptionStatus.active
    [card] = manage.subscription_cards(session, locale="en", uow=make_uow())
    assert card.date_line == "Cancels on Feb 28, 2026"
    assert card.can_reactivate and not card.can_cancel and not card.can_update
    assert card.status_label == "Canceling"

    manage.reactivate(session, shop.sub.id, uow=make_uow())

    assert not subscription(make_uow, shop.sub.id).cancel_at_period_end
    [card] = manage.subscription_cards(session, locale="en", uow=make_uow())
    assert card.date_line == "Renews on Feb 28, 2026" and card.can_cancel


def test_immediate_cancel_with_proration(shop: Shop, make_uow: UowFactory,
                                         clock: FrozenClock) -> None:
    clock.set(START + timedelta(days=14))
    session = session_for(shop, make_uow, subscription_cancel={
        "mode": "immediately", "proration_behavior": "create_prorations"})
    view = manage.cancel_view(session, shop.sub.id, locale="en", uow=make_uow())
    assert view.immediately and view.ends_line == "Your subscription ends today."
    assert "credit" in view.detail

    manage.cancel(session, shop.sub.id, uow=make_uow())

    assert subscription(make_uow, shop.sub.id).status == SubscriptionStatus.canceled
    assert manage.subscription_cards(session, locale="en", uow=make_uow()) == []
    with make_uow() as uow:
        deleted = uow.session.exec(select(Event).where(
            Event.object_id == shop.sub.id, Event.type == "customer.subscription.deleted")).one()
    assert deleted.origin == manage.origin(session)


def test_cancel_disabled_is_refused(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_cancel={"enabled": False})

    with pytest.raises(InvalidRequest):
        manage.cancel(session, shop.sub.id, uow=make_uow())
    assert subscription(make_uow, shop.sub.id).canceled_at is None


# --- pause, resume ------------------------------------------------------------------------


def test_pause_for_a_configured_interval_and_resume(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, subscription_pause={"duration": {
        "type": "interval_options",
        "interval_options": [{"interval": "month", "interval_count": 1},
                             {"interval": "week", "interval_count": 2}]}})
    view = manage.pause_view(session, shop.sub.id, locale="en", uow=make_uow())
    assert [(o.key, o.label, o.resumes_line) for o in view.options] == [
        ("1-month", "1 month", "Payments resume on Feb 28, 2026"),
        ("2-week", "2 weeks", "Payments resume on Feb 14, 2026")]
    with pytest.raises(InvalidRequest):
        manage.pause(session, shop.sub.id, "indefinite", uow=make_uow())

    manage.pause(session, shop.sub.id, "2-week", uow=make_uow())

    sub = subscription(make_uow, shop.sub.id)
    assert from_unix(sub.pause_collection["resumes_at"]) == START + timedelta(weeks=2)
    [card] = manage.subscription_cards(session, locale="en", uow=make_uow())
    assert card.date_line == "Paused · resumes on Feb 14, 2026"
    assert card.can_resume and not card.can_pause and not card.can_update
    assert card.status_label == "Paused"

    manage.resume(session, shop.sub.id, uow=make_uow())

    assert not subscription(make_uow, shop.sub.id).pause_collection
    [card] = manage.subscription_cards(session, locale="en", uow=make_uow())
    assert card.can_pause and not card.can_resume


def test_indefinite_pause(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)
    [option] = manage.pause_view(session, shop.sub.id, locale="en", uow=make_uow()).options
    assert option.key == "indefinite"

    manage.pause(session, shop.sub.id, "indefinite", uow=make_uow())

    [card] = manage.subscription_cards(session, locale="en", uow=make_uow())
    assert card.date_line == "Paused until you resume it"


# --- deep links ---------------------------------------------------------------------------


def test_flow_paths_and_completion(shop: Shop, make_uow: UowFactory) -> None:
    plain = session_for(shop, make_uow)
    assert manage.flow_path(plain) == "/portal"
    assert manage.completion(plain, ["subscription_cancel"], shop.sub.id).type == \
        "portal_homepage"

    cancel = session_for(shop, make_uow, flow_data={
        "type": "subscription_cancel", "subscription_cancel": {"subscription": shop.sub.id},
        "after_completion": {"type": "redirect",
                             "redirect": {"return_url": "https://acme.test/bye"}}})
    assert manage.flow_path(cancel) == f"/portal/subscriptions/{shop.sub.id}/cancel"
    assert manage.completion(cancel, ["subscription_cancel"], shop.sub.id) == \
        manage.Completion("redirect", url="https://acme.test/bye")
    assert manage.completion(cancel, ["subscription_pause"], shop.sub.id).type == \
        "portal_homepage"

    hosted = session_for(shop, make_uow, flow_data={
        "type": "subscription_pause", "subscription_pause": {"subscription": shop.sub.id},
        "after_completion": {"type": "hosted_confirmation",
                             "hosted_confirmation": {"custom_message": "See you soon"}}})
    assert manage.flow_path(hosted) == f"/portal/subscriptions/{shop.sub.id}/pause"
    assert manage.completion(hosted, ["subscription_pause"], shop.sub.id) == \
        manage.Completion("hosted_confirmation", message="See you soon")


def test_update_confirm_flow_previews_the_merchants_change(shop: Shop,
                                                           make_uow: UowFactory) -> None:
    item = item_of(shop, make_uow)
    session = session_for(shop, make_uow, flow_data={
        "type": "subscription_update_confirm",
        "subscription_update_confirm": {
            "subscription": shop.sub.id,
            "items": [{"id": item.id, "price": shop.growth_month.id, "quantity": 2}]}})
    assert manage.flow_path(session) == f"/portal/subscriptions/{shop.sub.id}/confirm"

    preview = manage.preview_flow_confirm(session, shop.sub.id, locale="en", uow=make_uow())
    assert preview.new_plan == "2 × Growth" and not preview.scheduled
    manage.confirm_flow(session, shop.sub.id, version=preview.version, uow=make_uow())

    assert item_of(shop, make_uow).price_id == shop.growth_month.id
    other = session_for(shop, make_uow)
    with pytest.raises(InvalidRequest):
        manage.preview_flow_confirm(other, shop.sub.id, locale="en", uow=make_uow())


def test_card_errors_read_as_the_card_error() -> None:
    assert manage.error_message(CardDeclined("x", decline_code="insufficient_funds"),
                                locale="en") == "Your card has insufficient funds."
    assert manage.error_message(InvalidRequest("x", code="whatever"), locale="en") == \
        "Something went wrong. Please try again."


def test_always_invoice_decline_changes_nothing(shop: Shop, make_uow: UowFactory,
                                                clock: FrozenClock) -> None:
    failing = billing.attach_payment_method("pm_card_chargeCustomerFail",
                                            customer_id=shop.customer,
                                            account_id=shop.account_id, uow=make_uow()).id
    billing.update_customer(shop.customer, account_id=shop.account_id, uow=make_uow(),
                            default_payment_method=failing)
    clock.set(START + timedelta(days=3))
    session = session_for(shop, make_uow, subscription_update={
        "proration_behavior": "always_invoice"})
    change = request(shop, make_uow, price=shop.growth_month)
    preview = manage.preview_update(session, change, locale="en", uow=make_uow())

    with pytest.raises(CardDeclined) as declined:
        manage.confirm_update(session, change, version=preview.version, uow=make_uow())

    assert manage.error_message(declined.value, locale="en") == "Your card was declined."
    assert item_of(shop, make_uow).price_id == shop.starter_month.id


# --- usage-based items ---------------------------------------------------------------------


def metered_addon(shop: Shop, make_uow: UowFactory, *, unit_label: str | None = "API calls"
                  ) -> Price:
    """5 cents per API call, billed by a sum meter on ``api_call`` events."""
    meter = meters.create_meter(account_id=shop.account_id, uow=make_uow(),
                                display_name="API calls", event_name="api_call", formula="sum")
    product = billing.create_product(account_id=shop.account_id, uow=make_uow(),
                                     name="API access", unit_label=unit_label)
    return billing.create_price(account_id=shop.account_id, uow=make_uow(), currency="eur",
                                unit_amount=5, product=product.id, interval="month",
                                usage_type="metered", meter=meter.id)


def report_usage(shop: Shop, make_uow: UowFactory, value: int, *,
                 customer: str | None = None) -> None:
    meters.create_meter_event(account_id=shop.account_id, uow=make_uow(),
                              event_name="api_call",
                              payload={"stripe_customer_id": customer or shop.customer,
                                       "value": str(value)})


def usage_line(session: PortalSession, sub_id: str, make_uow: UowFactory, locale: str = "en"
               ) -> manage.ItemLine:
    card = next(c for c in manage.subscription_cards(session, locale=locale, uow=make_uow())
                if c.id == sub_id)
    return next(line for line in card.item_lines if line.product_name == "API access")


def test_a_metered_item_shows_its_usage_and_amount_so_far(
        shop: Shop, make_uow: UowFactory, clock: FrozenClock) -> None:
    calls = metered_addon(shop, make_uow)
    sub = billing.create_subscription(account_id=shop.account_id, uow=make_uow(),
                                      customer=shop.customer,
                                      items=[billing.ItemSpec(shop.starter_month.id),
                                             billing.ItemSpec(calls.id)])
    other = billing.create_customer(account_id=shop.account_id, uow=make_uow(),
                                    email="bob@example.test").id
    clock.set(START + timedelta(days=2))
    report_usage(shop, make_uow, 1000)
    report_usage(shop, make_uow, 234)
    report_usage(shop, make_uow, 5000, customer=other)  # someone else's usage
    session = session_for(shop, make_uow)

    line = usage_line(session, sub.id, make_uow)
    assert line.detail == "€0.05 per unit · billed on usage"
    assert line.usage == "1,234 API calls this period · €61.70 so far"
    card = next(c for c in manage.subscription_cards(session, locale="en", uow=make_uow())
                if c.id == sub.id)
    assert (card.amount, card.interval) == ("€10.00", "per month")  # usage comes on top
    german = usage_line(session, sub.id, make_uow, locale="de")
    assert german.usage == "1.234 API calls in diesem Zeitraum · bisher 61,70\xa0€"
    assert german.detail == "0,05\xa0€ pro Einheit · nach Nutzung abgerechnet"

    # The renewal bills it; the new period starts from nothing.
    billing.advance_clock(clock, from_unix(to_unix(sub.current_period_end)) + timedelta(hours=1),
                          account_id=shop.account_id, uow_factory=make_uow)
    assert usage_line(session, sub.id, make_uow).usage == (
        "0 API calls this period · €0.00 so far")
    with make_uow() as uow:
        latest = uow.session.exec(select(Invoice).where(Invoice.subscription_id == sub.id)
                                  .order_by(col(Invoice.created).desc())).first()
        assert latest is not None and latest.total == 1000 + 6170


def test_usage_without_a_unit_label_and_during_a_trial(
        shop: Shop, make_uow: UowFactory, clock: FrozenClock) -> None:
    calls = metered_addon(shop, make_uow, unit_label=None)
    sub = billing.create_subscription(account_id=shop.account_id, uow=make_uow(),
                                      customer=shop.customer,
                                      items=[billing.ItemSpec(calls.id)], trial_period_days=14)
    report_usage(shop, make_uow, 42)
    session = session_for(shop, make_uow)
    assert usage_line(session, sub.id, make_uow).usage == (
        "Usage this period: 42 · free during the trial")
    clock.set(START + timedelta(days=14, hours=1))
    billing.advance_clock(clock, clock(), account_id=shop.account_id, uow_factory=make_uow)
    report_usage(shop, make_uow, 8)
    assert usage_line(session, sub.id, make_uow).usage == "Usage this period: 8 · €0.40 so far"
