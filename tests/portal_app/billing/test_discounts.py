"""Discounts over renewals: durations, currencies, redemptions, exact spreading over lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from portal_app.billing import changes, coupons, renewals
from portal_app.billing.models import (
    Coupon,
    Customer,
    Discount,
    InvoiceStatus,
    Price,
)
from portal_app.billing.provider import ItemChange
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest, ResourceMissing
from tests.portal_app.billing.helpers import (
    MakeUow,
    charges_of,
    invoices_of,
    items_of,
    lines_of,
    new_price,
    raises_param,
    read,
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
    assert read(make_uow, lambda uow: uow.get(Coupon, made.id, account_id=account_id)
                ).times_redeemed == 1


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


# --- promotion codes: restrictions.minimum_amount ----------------------------------------


def minimum_code(account_id: str, make_uow: MakeUow, code: str, minimum: int,
                 currency: str = "usd") -> str:
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=50,
                                   duration="forever")
    coupons.create_promotion_code(account_id=account_id, uow=make_uow(), coupon=coupon.id,
                                  code=code, minimum_amount=minimum,
                                  minimum_amount_currency=currency)
    return code


def test_a_promotion_codes_minimum_amount_counts_the_plan_before_discount(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price,
        business: Price) -> None:
    """BIG50 needs $50.00 a month before its discount: not on one Pro ($20.00), yes on
    three (the amount after the change the code comes with)."""
    minimum_code(account_id, make_uow, "BIG50", 5000)
    minimum_code(account_id, make_uow, "EURO", 100, currency="eur")
    pro = subscribe(account_id, make_uow, customer, monthly)
    item = items_of(make_uow, pro.id)[0]
    for code in ("BIG50", "EURO"):  # too small; a minimum in another currency
        with raises_param(InvalidRequest, "promotion_code", "promotion_code_invalid"):
            changes.apply_change(pro.id, account_id=account_id, uow=make_uow(), items=[],
                                 promotion_code=code)
        with raises_param(InvalidRequest, "promotion_code", "promotion_code_invalid"):
            changes.preview_change(pro.id, account_id=account_id, uow=make_uow(), items=[],
                                   promotion_code=code)
    changes.apply_change(pro.id, account_id=account_id, uow=make_uow(),
                         items=[ItemChange(id=item.id, quantity=3)], promotion_code="BIG50")
    assert discounts_of(make_uow, pro.id)


def test_a_new_subscription_must_reach_the_minimum_on_its_first_invoice(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price,
        business: Price) -> None:
    minimum_code(account_id, make_uow, "BIG50", 5000)
    with raises_param(InvalidRequest, "promotion_code", "promotion_code_invalid"):
        subscribe(account_id, make_uow, customer, monthly, promotion_code="BIG50")
    with raises_param(InvalidRequest, "promotion_code", "promotion_code_invalid"):
        # a trial's first invoice is nothing
        subscribe(account_id, make_uow, customer, business, promotion_code="BIG50",
                  trial_period_days=7)

    sub = subscribe(account_id, make_uow, customer, business, promotion_code="BIG50")

    assert invoices_of(make_uow, sub.id)[0].amount_due == 2500


def discounts_of(make_uow: MakeUow, subscription_id: str) -> list[Discount]:
    with make_uow() as uow:
        return list(uow.session.exec(select(Discount).where(
            Discount.subscription_id == subscription_id)).all())
