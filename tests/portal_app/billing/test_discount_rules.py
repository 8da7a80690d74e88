"""Discounts at their edges: which coupons and promotion codes may be redeemed, and what
replacing a subscription's discount ends (and leaves alone)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from portal_app.billing import cancellations, changes, coupons, customers
from portal_app.billing.models import Coupon, Customer, Discount, Price
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest
from tests.conftest import START
from tests.portal_app.billing.helpers import (
    MakeUow,
    new_customer,
    new_price,
    pending_of,
    raises_param,
    read,
    subscribe,
)


def discounts_by_coupon(make_uow: MakeUow, subscription_id: str) -> dict[str, datetime | None]:
    """Each discount's coupon and end (None: open)."""
    return read(make_uow, lambda uow: {d.coupon_id: d.end for d in uow.session.exec(
        select(Discount).where(Discount.subscription_id == subscription_id)
        .order_by(col(Discount.created)))})


def set_coupon(make_uow: MakeUow, account_id: str, coupon_id: str, **fields: object) -> None:
    """Set fields the local ledger never sets itself (Stripe's coupons have them)."""
    with make_uow() as uow:
        row = uow.session.exec(select(Coupon).where(Coupon.account_id == account_id,
                                                    Coupon.id == coupon_id)).one()
        for name, value in fields.items():
            setattr(row, name, value)
        uow.add(row)
        uow.commit()


def test_a_replacement_ends_this_subscriptions_open_discounts_only(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    once = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10)
    three = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=20,
                                  duration="repeating", duration_in_months=3)
    forever = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=30,
                                    duration="forever")
    last = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=40,
                                 duration="forever")
    sub = subscribe(account_id, make_uow, customer, monthly, coupon=once.id)  # ends at once
    other = subscribe(account_id, make_uow, new_customer(account_id, make_uow, "pm_card_visa"),
                      monthly, coupon=forever.id)

    clock.set(START + timedelta(days=1))
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(), items=[],
                         coupon=three.id)
    clock.set(START + timedelta(days=2))
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(), items=[],
                         coupon=last.id)

    assert discounts_by_coupon(make_uow, sub.id) == {
        once.id: START,  # already over: left as it was
        three.id: START + timedelta(days=2),  # would have run 3 months: ended now
        last.id: None,
    }
    assert discounts_by_coupon(make_uow, other.id) == {forever.id: None}


def test_a_coupon_can_be_redeemed_until_its_redeem_by_and_never_once_invalid(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10)
    redeem_by = START + timedelta(days=1)
    set_coupon(make_uow, account_id, coupon.id, redeem_by=redeem_by)
    clock.set(redeem_by)  # "can no longer be redeemed after" it: this instant still can
    subscribe(account_id, make_uow, customer, monthly, coupon=coupon.id)
    clock.set(redeem_by + timedelta(seconds=1))
    with raises_param(InvalidRequest, "coupon", "coupon_expired"):
        subscribe(account_id, make_uow, customer, monthly, coupon=coupon.id)

    deleted = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10)
    set_coupon(make_uow, account_id, deleted.id, valid=False)
    with raises_param(InvalidRequest, "coupon", "coupon_expired"):
        subscribe(account_id, make_uow, customer, monthly, coupon=deleted.id)


def test_an_amount_off_coupon_leaves_proration_credits_undiscounted(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer) -> None:
    # Amount-off coupons discount a renewal's regular lines only (an amount cannot be split
    # over credits and debits): the unused 18 of 28 days of 19.99 are credited in full.
    price = new_price(account_id, make_uow, amount=1999)
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), amount_off=500,
                                   currency="usd", duration="forever")
    sub = subscribe(account_id, make_uow, customer, price, coupon=coupon.id)
    clock.set(START + timedelta(days=10))
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                      prorate=True)
    assert read(make_uow, lambda uow: uow.session.get(Customer, customer.id).balance) == -1285


def test_a_promotion_code_for_one_customer_or_first_purchases(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10,
                                   duration="forever")
    stranger = new_customer(account_id, make_uow, "pm_card_visa")
    theirs = coupons.create_promotion_code(account_id=account_id, uow=make_uow(),
                                           coupon=coupon.id, code="ADA", customer=customer.id)
    with raises_param(InvalidRequest, "promotion_code", "promotion_code_invalid"):
        subscribe(account_id, make_uow, stranger, monthly, promotion_code=theirs.code)
    subscribe(account_id, make_uow, customer, monthly, promotion_code=theirs.code)

    first = coupons.create_promotion_code(account_id=account_id, uow=make_uow(),
                                          coupon=coupon.id, code="FIRST",
                                          first_time_transaction=True)
    # Ada has paid an invoice; a new customer whose only invoice was a free trial has not
    with raises_param(InvalidRequest, "promotion_code", "promotion_code_invalid"):
        subscribe(account_id, make_uow, customer, monthly, promotion_code=first.code)
    trial = subscribe(account_id, make_uow, stranger, monthly, trial_period_days=7)
    changes.apply_change(trial.id, account_id=account_id, uow=make_uow(), items=[],
                         promotion_code=first.code)
    assert pending_of(make_uow, trial.id) == []
    # any paid amount is a purchase, a single cent included
    cent = new_price(account_id, make_uow, amount=1, name="Cent")
    frugal = customers.create_customer(account_id=account_id, uow=make_uow(),
                                       payment_method="pm_card_visa")
    subscribe(account_id, make_uow, frugal, cent)
    with raises_param(InvalidRequest, "promotion_code", "promotion_code_invalid"):
        subscribe(account_id, make_uow, frugal, monthly, promotion_code=first.code)
