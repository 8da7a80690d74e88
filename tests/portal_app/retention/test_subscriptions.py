"""Reading the billing contract's subscription: items, period end, amounts, MRR net of discount.

Built by hand in Stripe's shape, so these rules are checked without any ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from portal_app.clock import to_unix
from portal_app.retention.subscriptions import (
    monthly_amount,
    period_amount,
    subscription_mrr,
)
from portal_app.stripe_shapes import current_period_end, is_licensed, subscription_items

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)
PERIOD_END = datetime(2026, 2, 28, 12, tzinfo=UTC)


def price(unit_amount: int, interval: str | None = "month", *, count: int = 1,
          usage_type: str = "licensed") -> dict[str, Any]:
    recurring = ({"interval": interval, "interval_count": count, "usage_type": usage_type}
                 if interval else None)
    return {"id": f"price_{unit_amount}", "object": "price", "product": "prod_1",
            "unit_amount": unit_amount, "currency": "usd", "recurring": recurring}


def subscription(*items: tuple[dict[str, Any], int], status: str = "active") -> dict[str, Any]:
    return {"id": "sub_1", "object": "subscription", "status": status, "currency": "usd",
            "items": {"object": "list", "data": [
                {"id": f"si_{i}", "price": p, "quantity": q,
                 "current_period_start": to_unix(NOW), "current_period_end": to_unix(PERIOD_END)}
                for i, (p, q) in enumerate(items)]}}


def discount(*, percent_off: float | None = None, amount_off: int | None = None,
             duration: str = "forever", end: datetime | None = None) -> dict[str, Any]:
    return {"id": "di_1", "object": "discount", "start": to_unix(NOW), "end": to_unix(end),
            "source": {"type": "coupon", "coupon": {
                "id": "co_1", "percent_off": percent_off, "amount_off": amount_off,
                "duration": duration}}}


def test_items_and_period_end() -> None:
    sub = subscription((price(4900), 1), (price(100, usage_type="metered"), 1))
    assert [item["id"] for item in subscription_items(sub)] == ["si_0", "si_1"]
    assert current_period_end(sub) == PERIOD_END
    assert [is_licensed(item["price"]) for item in subscription_items(sub)] == [True, False]
    assert not is_licensed(price(500, None))


def test_period_amount_counts_licensed_items_only() -> None:
    sub = subscription((price(1000), 2), (price(300), 1), (price(7, usage_type="metered"), 50))
    assert period_amount(sub) == 2300


def test_monthly_amount_per_interval() -> None:
    assert monthly_amount(1200, 1, "year", 1) == Decimal(100)
    assert monthly_amount(3000, 2, "month", 3) == Decimal(2000)
    assert monthly_amount(600, 1, "week", 1) == Decimal(2600)
    assert monthly_amount(100, 1, None, 1) == Decimal(0)


def test_mrr_is_zero_unless_active_or_past_due() -> None:
    for status, expected in (("active", 4900), ("past_due", 4900), ("trialing", 0),
                             ("canceled", 0)):
        sub = subscription((price(4900), 1), status=status)
        assert subscription_mrr(sub, discounts=[], now=NOW) == expected


def test_mrr_normalizes_intervals_and_rounds_half_up() -> None:
    sub = subscription((price(6, "day"), 1), (price(12000, "year"), 1),
                       (price(9, usage_type="metered"), 1))
    assert subscription_mrr(sub, discounts=[], now=NOW) == 183 + 1000  # 182.5 rounds up


def test_mrr_less_the_newest_running_discount() -> None:
    sub = subscription((price(4900), 1))
    assert subscription_mrr(sub, discounts=[discount(percent_off=50)], now=NOW) == 2450
    assert subscription_mrr(sub, discounts=[discount(amount_off=900)], now=NOW) == 4000
    assert subscription_mrr(sub, discounts=[discount(amount_off=9000)], now=NOW) == 0
    ended = discount(percent_off=50, duration="repeating", end=NOW)
    assert subscription_mrr(sub, discounts=[ended], now=NOW) == 4900
    running = discount(percent_off=50, duration="repeating", end=NOW + timedelta(days=1))
    assert subscription_mrr(sub, discounts=[running], now=NOW) == 2450
    # Only the newest discount counts: an older one ended when it was replaced.
    assert subscription_mrr(sub, discounts=[running, discount(amount_off=900)], now=NOW) == 2450
    # A ``once`` coupon counts until it is spent (its discount then has an end).
    assert subscription_mrr(sub, discounts=[discount(percent_off=10, duration="once")],
                            now=NOW) == 4410
    spent = discount(percent_off=10, duration="once", end=NOW + timedelta(days=1))
    assert subscription_mrr(sub, discounts=[spent], now=NOW) == 4900
