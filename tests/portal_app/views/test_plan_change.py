"""The change-plan page's view models: the plan chooser (configured prices, the interval
toggle, usage-based and multi-item subscriptions).
"""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from portal_app.billing.models import (
    SubscriptionItem,
)
from portal_app.billing.provider import ItemSpec
from portal_app.billing.subscriptions import create_subscription
from portal_app.errors import InvalidRequest
from portal_app.portal import refusals
from portal_app.portal.plan_changes import ChangeRequest
from portal_app.views import plan_change, subscriptions
from tests.portal_app.portal.helpers import Shop, UowFactory, features, item_of, price, session_for
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)


def test_plan_chooser_offers_configured_prices_with_a_toggle(shop: Shop,
                                                             make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)

    chooser = plan_change.plan_chooser(session, shop.sub.id, locale="en", uow=make_uow())

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
    sub = create_subscription(account_id=shop.account_id, uow=make_uow(),
                                      customer=shop.customer,
                                      items=[ItemSpec(calls.id, 0)])
    session = session_for(shop, make_uow, subscription_update={"products": [
        *features(shop)["subscription_update"]["products"],
        {"product": calls.product_id, "prices": [calls.id, calls_plus.id],
         "adjustable_quantity": {"enabled": True}}]})

    chooser = plan_change.plan_chooser(session, sub.id, locale="en", uow=make_uow())

    assert {o.price_id for o in chooser.options} == {calls.id, calls_plus.id}
    assert not chooser.quantity_enabled
    assert chooser.metered_note.startswith("Usage-based")
    card = next(c for c in subscriptions.subscription_cards(session, locale="en", uow=make_uow())
                if c.id == sub.id)
    assert [(i.product_name, i.detail) for i in card.item_lines] == [
        ("API calls", "€0.05 per unit · billed on usage")]
    item = item_of(shop, make_uow, sub.id)
    with pytest.raises(InvalidRequest) as refused:
        plan_change.preview_update(session, ChangeRequest(sub.id, item.id, shop.growth_month.id, 1),
                                   locale="en", uow=make_uow())
    # A fixed price for a usage-based item: refused, and the customer is told why.
    assert refused.value.code == "metered_price_change"
    assert refusals.error_message(refused.value, locale="en") == (
        "Usage-based and fixed prices can't be exchanged for each other: choose a price of "
        "the same kind.")


def test_multi_item_subscription_changes_item_by_item(shop: Shop, make_uow: UowFactory) -> None:
    sub = create_subscription(
        account_id=shop.account_id, uow=make_uow(), customer=shop.customer,
        items=[ItemSpec(shop.starter_month.id, 1),
               ItemSpec(shop.growth_month.id, 3)])
    session = session_for(shop, make_uow)
    with make_uow() as uow:
        items = list(uow.session.exec(select(SubscriptionItem).where(
            SubscriptionItem.subscription_id == sub.id).order_by(col(SubscriptionItem.position))))

    chooser = plan_change.plan_chooser(session, sub.id, locale="en", uow=make_uow(),
                                       item_id=items[1].id)

    assert [i.product_name for i in chooser.items] == ["Starter", "Growth"]
    assert chooser.item_id == items[1].id and chooser.quantity == 3
    # Same interval as the other item, and not the price the other item already has.
    assert [o.price_id for o in chooser.options] == [shop.growth_month.id]
    card = next(c for c in subscriptions.subscription_cards(session, locale="en", uow=make_uow())
                if c.id == sub.id)
    assert [i.detail for i in card.item_lines] == ["€10.00 per month", "3 × €30.00 per month"]
