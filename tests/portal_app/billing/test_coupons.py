"""Coupons and promotion codes: validation, uniqueness, expiry and deactivation."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from portal_app.billing import changes, coupons
from portal_app.billing.models import Coupon, Customer, Price, PromotionCode
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest
from tests.portal_app.billing.helpers import HALF, MakeUow, raises_param, subscribe

# --- coupons -----------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "param"), [
    ({}, "percent_off"),
    ({"percent_off": 10, "amount_off": 100, "currency": "usd"}, "percent_off"),
    ({"percent_off": 0}, "percent_off"),
    ({"percent_off": 100.5}, "percent_off"),
    ({"amount_off": 100}, "currency"),
    ({"amount_off": 0, "currency": "usd"}, "amount_off"),
    ({"percent_off": 10, "duration": "sometimes"}, "duration"),
    ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
    ({"percent_off": 10, "duration": "repeating", "duration_in_months": 0}, "duration_in_months"),
    ({"percent_off": 10, "duration": "once", "duration_in_months": 3}, "duration_in_months"),
])
def test_coupon_validation(account_id: str, make_uow: MakeUow, params: dict[str, Any],
                           param: str) -> None:
    with raises_param(InvalidRequest, param):
        coupons.create_coupon(account_id=account_id, uow=make_uow(), **params)


def test_coupon_ids_are_unique(account_id: str, make_uow: MakeUow) -> None:
    coupons.create_coupon(account_id=account_id, uow=make_uow(), id=f"SAVE-{account_id}",
                          percent_off=10)
    with raises_param(InvalidRequest, "id", "resource_already_exists"):
        coupons.create_coupon(account_id=account_id, uow=make_uow(), id=f"SAVE-{account_id}",
                              percent_off=20)


def test_expired_and_inactive_promotion_codes(account_id: str, make_uow: MakeUow,
                                              clock: FrozenClock) -> None:
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), amount_off=500,
                                   currency="usd")
    coupons.create_promotion_code(account_id=account_id, uow=make_uow(), coupon=coupon.id,
                                  code="SOON", expires_at=HALF)
    off = coupons.create_promotion_code(account_id=account_id, uow=make_uow(),
                                        coupon=coupon.id, code="OFF")
    coupons.update_promotion_code(off.id, account_id=account_id, uow=make_uow(), active=False)
    clock.set(HALF)
    for code, expected in (("SOON", "coupon_expired"), ("OFF", "promotion_code_invalid")):
        with pytest.raises(InvalidRequest) as info:
            coupons.retrieve_promotion_code_by_code(code, account_id=account_id,
                                                    uow=make_uow())
        assert info.value.code == expected
    with pytest.raises(InvalidRequest) as info:
        coupons.create_promotion_code(account_id=account_id, uow=make_uow(),
                                      coupon=coupon.id, code="soon")
    assert info.value.code == "resource_already_exists"


# --- redemptions, counted atomically -------------------------------------------------------


def last_redemption(account_id: str, make_uow: MakeUow, kind: str) -> tuple[str, dict[str, str]]:
    """A coupon (or a code of it) with one redemption left; the discount that redeems it."""
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10,
                                   duration="forever",
                                   max_redemptions=1 if kind == "coupon" else None)
    if kind == "coupon":
        return coupon.id, {"coupon": coupon.id}
    promo = coupons.create_promotion_code(account_id=account_id, uow=make_uow(),
                                          coupon=coupon.id, code="ONCE", max_redemptions=1)
    return promo.id, {"promotion_code": "ONCE"}


def times_redeemed(make_uow: MakeUow, account_id: str, kind: str, row_id: str) -> int:
    with make_uow() as uow:
        model = Coupon if kind == "coupon" else PromotionCode
        return uow.get(model, row_id, account_id=account_id).times_redeemed


@pytest.mark.parametrize("kind", ["promotion_code", "coupon"])
def test_a_redemption_read_before_another_committed_is_refused(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price,
        kind: str) -> None:
    """A slow request reads the last redemption; a fast one redeems it and commits; the
    slow one must be refused. Reading the count and writing it back plus one lets both
    through: what two requests at once do on PostgreSQL, replayed here step by step."""
    row_id, discount = last_redemption(account_id, make_uow, kind)
    first, second = (subscribe(account_id, make_uow, customer, monthly) for _ in range(2))
    slow = make_uow()
    with slow:
        # Held, so the slow request's session keeps what it read (one left).
        read = (slow.get(Coupon, row_id, account_id=account_id) if kind == "coupon" else
                coupons.retrieve_promotion_code_by_code("ONCE", account_id=account_id,
                                                        uow=slow))
        assert read.times_redeemed == 0
        changes.apply_change(first.id, account_id=account_id, uow=make_uow(), items=[],
                             **discount)

        with raises_param(InvalidRequest, kind, "coupon_expired"):
            changes.apply_change(second.id, account_id=account_id, uow=slow, items=[],
                                 **discount)

    assert times_redeemed(make_uow, account_id, kind, row_id) == 1


@pytest.mark.parametrize("kind", ["promotion_code", "coupon"])
def test_two_redemptions_of_the_last_one_at_once_apply_once(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price,
        kind: str) -> None:
    """Two subscriptions redeem a max-1 code at the same moment, each in its own thread
    and connection. Telling on PostgreSQL, where each locks only its own subscription;
    SQLite serializes the two writers (the test above replays the race there)."""
    row_id, discount = last_redemption(account_id, make_uow, kind)
    subs = [subscribe(account_id, make_uow, customer, monthly) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem(sub_id: str) -> None:
        uow = make_uow()
        barrier.wait()
        try:
            changes.apply_change(sub_id, account_id=account_id, uow=uow, items=[], **discount)
            outcomes.append("applied")
        except InvalidRequest as error:
            outcomes.append(str(error.code))

    threads = [threading.Thread(target=redeem, args=(sub.id,)) for sub in subs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["applied", "coupon_expired"]
    assert times_redeemed(make_uow, account_id, kind, row_id) == 1
