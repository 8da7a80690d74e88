"""Contract: the catalog: products, prices and coupons, created, retrieved and listed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe

from portal_app.billing.provider import BillingProvider
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import stripe_fields


def test_products_and_prices(provider: BillingProvider, clock: FrozenClock) -> None:
    basic = provider.create_product(name="Basic", description="For one", metadata={"tier": "1"})
    clock.set(clock() + timedelta(seconds=1))
    pro = provider.create_product(name="Pro")
    monthly = provider.create_price(product=pro["id"], currency="eur", unit_amount=1500,
                                    interval="month", nickname="Monthly")
    clock.set(clock() + timedelta(seconds=1))
    yearly = provider.create_price(product=pro["id"], currency="eur", unit_amount=15000,
                                   interval="year")
    once = provider.create_price(product=basic["id"], currency="usd", unit_amount=500)

    assert set(pro) == set(stripe_fields(stripe.Product))
    retrieved = provider.retrieve_product(basic["id"])
    assert (retrieved["id"], retrieved["name"], retrieved["description"],
            retrieved["metadata"]) == (basic["id"], "Basic", "For one", {"tier": "1"})
    assert [p["id"] for p in provider.list_products()] == [pro["id"], basic["id"]]

    assert set(monthly) == set(stripe_fields(stripe.Price))
    assert provider.retrieve_price(monthly["id"]) == monthly
    assert (monthly["product"], monthly["unit_amount"], monthly["nickname"]) == (
        pro["id"], 1500, "Monthly")
    assert (monthly["recurring"]["interval"], monthly["recurring"]["interval_count"]) == (
        "month", 1)
    assert (once["type"], once["recurring"]) == ("one_time", None)
    assert [p["id"] for p in provider.list_prices(product=pro["id"])] == [yearly["id"],
                                                                         monthly["id"]]
    assert {p["id"] for p in provider.list_prices()} == {monthly["id"], yearly["id"],
                                                         once["id"]}
    assert provider.list_prices(product="prod_missing") == []


def test_lists_filter_on_active(provider: BillingProvider) -> None:
    product = provider.create_product(name="Pro")
    price = provider.create_price(product=product["id"], currency="eur", unit_amount=900,
                                  interval="month")
    assert [p["id"] for p in provider.list_products(active=True)] == [product["id"]]
    assert provider.list_products(active=False) == []
    assert [p["id"] for p in provider.list_prices(active=True)] == [price["id"]]
    assert provider.list_prices(active=False) == []


def test_coupons(provider: BillingProvider) -> None:
    percent = provider.create_coupon(percent_off=25, duration="repeating", duration_in_months=3,
                                     name="Stay with us")
    fixed = provider.create_coupon(id="WELCOME5", amount_off=500, currency="EUR")
    assert set(percent) == set(stripe_fields(stripe.Coupon))
    assert provider.retrieve_coupon(percent["id"]) == percent
    assert (percent["percent_off"], percent["duration"], percent["duration_in_months"],
            percent["valid"]) == (25, "repeating", 3, True)
    assert provider.retrieve_coupon("WELCOME5") == fixed
    assert (fixed["amount_off"], fixed["currency"], fixed["duration"]) == (500, "eur", "once")
    with pytest.raises(InvalidRequest):
        provider.create_coupon(percent_off=10, amount_off=100, currency="eur")


def test_missing_catalog_objects(provider: BillingProvider) -> None:
    for retrieve, object_id in ((provider.retrieve_product, "prod_missing"),
                                (provider.retrieve_price, "price_missing"),
                                (provider.retrieve_coupon, "missing")):
        with pytest.raises(ResourceMissing):
            retrieve(object_id)


def test_another_accounts_catalog_is_missing(provider: BillingProvider,
                                            other_provider: BillingProvider) -> None:
    product = provider.create_product(name="Pro")
    price = provider.create_price(product=product["id"], currency="eur", unit_amount=900,
                                  interval="month")
    coupon = provider.create_coupon(percent_off=10)
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_product(product["id"])
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_price(price["id"])
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_coupon(coupon["id"])
    promotion = provider.create_promotion_code(coupon=coupon["id"], code="TENOFF")
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_promotion_code(promotion["id"])
    assert other_provider.list_products() == [] and other_provider.list_prices() == []
    with pytest.raises(ResourceMissing):
        other_provider.create_price(product=product["id"], currency="eur", unit_amount=1,
                                    interval="month")
