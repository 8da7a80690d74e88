"""Discounts over renewals: durations, currencies, redemptions, exact spreading over lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from portal_app.billing import coupons, renewals
from portal_app.billing.models import Coupon, Customer, InvoiceStatus, Price
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest, ResourceMissing
from tests.portal_app.billing.helpers import (
    MakeUow,
    charges_of,
    invoices_of,
    lines_of,
    load,
    new_price,
    raises_param,
    subscribe,
)

# --- coupons over renewals ---------------------------------------------------------------


@pytest.mark.parametrize(("coupon", "discounts"), [
    ({"percent_off": 25}, [500, 0, 0, 0, 0, 0]),
    ({"percent_off": 25, "duration": "repeating", "duration_in_months": 3},
     [500, 500, 500, 0, 0, 0]),
    ({"percent_off": 25, "duration": "forever"}, [500] * 6),
    ({"amount_off": 300, "currency": "usd"}, [300, 0, 0, 0, 0, 0]),
    ({"amount_off": 300, "currency": "usd", "duration": "repeating",
      "duration_in_months": 2}, [300, 300, 0, 0, 0, 0]),
    ({"amount_off": 5000, "currency": "usd", "duration": "forever"}, [2000] * 6),
    ({"percent_off": 100, "duration": "forever"}, [2000] * 6),
    ({"percent_off": 33.3, "duration": "forever"}, [666] * 6),
])
def test_coupons_over_renewals(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, coupon: dict[str, Any], discounts: list[int]) -> None:
    made = coupons.create_coupon(account_id=account_id, uow=make_uow(), **coupon)
    sub = subscribe(account_id, make_uow, customer, monthly, coupon=made.id)
    renewals.advance_clock(clock, datetime(2026, 7, 15, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    invoices = invoices_of(make_uow, sub.id)
    assert [i.total_discount for i in invoices] == discounts
    for invoice in invoices:
        lines = lines_of(make_uow, invoice.id)
        assert invoice.subtotal == sum(line.amount for line in lines)
        assert invoice.total_discount == sum(line.discount_amount for line in lines)
        assert invoice.total == invoice.subtotal - invoice.total_discount
        assert invoice.status == InvoiceStatus.paid
        paid = sum(c.amount for c in charges_of(make_uow, invoice.id) if c.status == "succeeded")
        assert paid == invoice.total
    assert load(make_uow, Coupon, made.id).times_redeemed == 1


def test_coupon_in_another_currency_is_refused(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    euros = coupons.create_coupon(account_id=account_id, uow=make_uow(), amount_off=100,
                                  currency="eur")
    with raises_param(InvalidRequest, "coupon"):
        subscribe(account_id, make_uow, customer, monthly, coupon=euros.id)
    with raises_param(ResourceMissing, "coupon"):
        subscribe(account_id, make_uow, customer, monthly, coupon="nope")


def test_coupon_max_redemptions(account_id: str, make_uow: MakeUow, customer: Customer,
                                monthly: Price) -> None:
    once = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10,
                                 max_redemptions=1)
    subscribe(account_id, make_uow, customer, monthly, coupon=once.id)
    with raises_param(InvalidRequest, "coupon", "coupon_expired"):
        subscribe(account_id, make_uow, customer, monthly, coupon=once.id)


@pytest.mark.parametrize("amounts", [[1, 1, 1, 1], [999, 1], [3, 0], [1, 2, 3, 5, 7]])
@pytest.mark.parametrize("percent", [62.5, 50, 33.3, 99.9, 1])
def test_discount_spreads_exactly_over_lines(
        account_id: str, make_uow: MakeUow, customer: Customer, amounts: list[int],
        percent: float) -> None:
    prices = [new_price(account_id, make_uow, amount=a, name=f"Item {i}")
              for i, a in enumerate(amounts)]
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(),
                                   percent_off=percent)
    sub = subscribe(account_id, make_uow, customer, *prices, coupon=coupon.id)
    [invoice] = invoices_of(make_uow, sub.id)
    lines = lines_of(make_uow, invoice.id)
    assert all(0 <= line.discount_amount <= line.amount for line in lines)
    assert invoice.total_discount == sum(line.discount_amount for line in lines)
    assert invoice.total == invoice.subtotal - invoice.total_discount == invoice.amount_paid
