"""Stripe's shapes: complete objects, and the readers the portal and retention share."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from portal_app.stripe_shapes import (
    complete,
    current_period,
    current_period_end,
    is_licensed,
    is_metered,
    price_interval,
    recurring,
    stripe_fields,
    subscription_items,
)

MONTHLY = {"id": "price_m", "recurring": {"interval": "month", "interval_count": 1,
                                          "usage_type": "licensed"}}
METERED = {"id": "price_u", "recurring": {"interval": "month", "interval_count": 3,
                                          "usage_type": "metered"}}
ONE_TIME = {"id": "price_o", "recurring": None}


def _subscription(*prices: dict) -> dict:
    items = [{"id": f"si_{n}", "price": price, "current_period_start": 1_769_860_800,
              "current_period_end": 1_772_280_000} for n, price in enumerate(prices)]
    return {"id": "sub_1", "items": {"object": "list", "data": items}}


def test_complete_fills_every_sdk_field_with_none() -> None:
    customer = complete(stripe.Customer, {"id": "cus_1"})
    assert set(customer) == set(stripe_fields(stripe.Customer))
    assert (customer["id"], customer["object"], customer["livemode"]) == ("cus_1", "customer",
                                                                          False)
    assert customer["email"] is None


def test_price_readers() -> None:
    assert (is_licensed(MONTHLY), is_metered(MONTHLY)) == (True, False)
    assert (is_licensed(METERED), is_metered(METERED)) == (False, True)
    assert (is_licensed(ONE_TIME), is_metered(ONE_TIME)) == (False, False)
    assert price_interval(MONTHLY) == ("month", 1)
    assert price_interval(METERED) == ("month", 3)
    assert price_interval(ONE_TIME) is None
    assert recurring(ONE_TIME) == {}
    assert recurring(METERED)["usage_type"] == "metered"


def test_subscription_readers() -> None:
    sub = _subscription(MONTHLY, METERED)
    assert [item["id"] for item in subscription_items(sub)] == ["si_0", "si_1"]
    assert current_period(sub) == (1_769_860_800, 1_772_280_000)
    assert current_period_end(sub) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)


def test_a_subscription_without_items_has_no_period() -> None:
    empty = _subscription()
    assert current_period(empty) == (None, None)
    with pytest.raises(ValueError, match="no items"):
        current_period_end(empty)
