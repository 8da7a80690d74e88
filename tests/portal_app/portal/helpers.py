"""A merchant's shop for the portal's tests: a catalog (Starter and Growth, monthly and
yearly), a customer on 2 × Starter monthly, and the portal configuration and session
that act for that customer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from portal_app.billing import meters
from portal_app.billing import schedules as subscription_schedules
from portal_app.billing.catalog import create_price, create_product
from portal_app.billing.coupons import create_coupon
from portal_app.billing.customers import create_customer, update_customer
from portal_app.billing.models import (
    Price,
    PromotionCode,
    ScheduleStatus,
    Subscription,
    SubscriptionItem,
    SubscriptionSchedule,
)
from portal_app.billing.payment_methods import attach_payment_method
from portal_app.billing.provider import ItemSpec, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.billing.subscriptions import create_subscription
from portal_app.db import UnitOfWork
from portal_app.portal import configurations, sessions
from portal_app.portal.models import PortalSession
from portal_app.portal.plan_changes import ChangeRequest

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
    return create_price(account_id=account_id, uow=make_uow(), currency="eur",
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
    customer = create_customer(account_id=account_id, uow=make_uow(),
                                       email="ada@example.test").id
    card = attach_payment_method("pm_card_visa", customer_id=customer,
                                         account_id=account_id, uow=make_uow()).id
    update_customer(customer, account_id=account_id, uow=make_uow(),
                            default_payment_method=card)
    sub = create_subscription(account_id=account_id, uow=make_uow(), customer=customer,
                                      items=[ItemSpec(starter_month.id, 2)])
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


def stripe_price(shop: Shop, make_uow: UowFactory, price: Price) -> StripeObject:
    """``price`` as the billing provider answers it (a Stripe ``price``)."""
    with make_uow() as uow:
        return billing_provider(shop.account_id, uow=uow).retrieve_price(price.id)


def promotion_code(shop: Shop, make_uow: UowFactory, code: str, **fields: Any) -> str:
    coupon = create_coupon(account_id=shop.account_id, uow=make_uow(), percent_off=20,
                                   duration="forever")
    with make_uow() as uow:
        row = PromotionCode(account_id=shop.account_id, code=code, coupon_id=coupon.id,
                            created=uow.clock(), **fields)
        uow.add(row)
        uow.commit()
        return row.id


def metered_addon(shop: Shop, make_uow: UowFactory, *, unit_label: str | None = "API calls"
                  ) -> Price:
    """5 cents per API call, billed by a sum meter on ``api_call`` events."""
    meter = meters.create_meter(account_id=shop.account_id, uow=make_uow(),
                                display_name="API calls", event_name="api_call", formula="sum")
    product = create_product(account_id=shop.account_id, uow=make_uow(),
                                     name="API access", unit_label=unit_label)
    return create_price(account_id=shop.account_id, uow=make_uow(), currency="eur",
                                unit_amount=5, product=product.id, interval="month",
                                usage_type="metered", meter=meter.id)


def report_usage(shop: Shop, make_uow: UowFactory, value: int, *,
                 customer: str | None = None) -> None:
    meters.create_meter_event(account_id=shop.account_id, uow=make_uow(),
                              event_name="api_call",
                              payload={"stripe_customer_id": customer or shop.customer,
                                       "value": str(value)})


def merchant_schedule(shop: Shop, make_uow: UowFactory, then: Price) -> str:
    """A schedule the merchant made (the API): the current plan to the period end, then
    ``then`` (say, an introductory price's end); its id."""
    schedule = subscription_schedules.create_subscription_schedule(
        account_id=shop.account_id, uow=make_uow(), from_subscription=shop.sub.id)
    current = schedule.phases[0]
    subscription_schedules.update_subscription_schedule(
        schedule.id, account_id=shop.account_id, uow=make_uow(), phases=[
            {"items": current["items"], "end_date": current["end_date"]},
            {"items": [{"price": then.id, "quantity": 2}]}])
    return schedule.id


def schedule_status(make_uow: UowFactory, schedule_id: str) -> ScheduleStatus:
    with make_uow() as uow:
        schedule = uow.session.get(SubscriptionSchedule, schedule_id)
        assert schedule is not None
        return schedule.status
