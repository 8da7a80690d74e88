"""Coupons and promotion codes: validation, uniqueness, expiry and deactivation."""

from __future__ import annotations

from typing import Any

import pytest

from portal_app.billing import coupons
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest
from tests.portal_app.billing.helpers import HALF, MakeUow, raises_param

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
