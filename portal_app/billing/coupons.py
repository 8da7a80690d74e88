"""Coupons and the promotion codes (Stripe's ``promo_``) that let customers redeem them.

A coupon applied to a subscription is a discount: :mod:`portal_app.billing.discounts`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, or_, update
from sqlmodel import col, select

from portal_app.billing.ledger_events import append_if_changed
from portal_app.billing.metadata import merge_metadata
from portal_app.billing.models import Coupon, CouponDuration, Customer, PromotionCode
from portal_app.billing.objects import render_coupon, render_promotion_code
from portal_app.clock import as_utc
from portal_app.db import UnitOfWork, row_identity
from portal_app.errors import InvalidRequest


def create_coupon(*, account_id: str, uow: UnitOfWork, id: str | None = None,
                  percent_off: float | None = None, amount_off: int | None = None,
                  currency: str | None = None, duration: str = "once",
                  duration_in_months: int | None = None, name: str | None = None,
                  max_redemptions: int | None = None,
                  metadata: Mapping[str, str] | None = None) -> Coupon:
    """Create a coupon. Raises InvalidRequest."""
    if (percent_off is None) == (amount_off is None):
        raise InvalidRequest("Exactly one of percent_off or amount_off is required.",
                             param="percent_off")
    if percent_off is not None and not 0 < percent_off <= 100:
        raise InvalidRequest("percent_off must be between 0 and 100.", param="percent_off")
    if amount_off is not None and (amount_off <= 0 or not currency):
        raise InvalidRequest("amount_off needs a positive amount and a currency.",
                             param="currency" if not currency else "amount_off")
    if duration not in CouponDuration.__members__:
        raise InvalidRequest("Invalid duration: must be one of once, repeating, or forever",
                             param="duration")
    if (duration == "repeating") != (duration_in_months is not None) or (
            duration_in_months is not None and duration_in_months < 1):
        raise InvalidRequest("duration_in_months (a positive number of months) goes with "
                             "duration=repeating, and only then.", param="duration_in_months")
    with uow:
        if id and uow.session.get(Coupon, row_identity(Coupon, id, account_id=account_id)):
            raise InvalidRequest("Coupon already exists.", param="id",
                                 code="resource_already_exists")
        coupon = Coupon(account_id=account_id, name=name, percent_off=percent_off,
                        amount_off=amount_off, currency=currency.lower() if currency else None,
                        duration=CouponDuration(duration), duration_in_months=duration_in_months,
                        max_redemptions=max_redemptions, metadata_=dict(metadata or {}),
                        created=uow.clock())
        if id:
            coupon.id = id
        uow.add(coupon)
        uow.flush()
        uow.events.append("coupon.created", render_coupon(coupon), account_id=account_id)
        uow.commit()
        return coupon


# --- promotion codes ---------------------------------------------------------------------


def create_promotion_code(*, account_id: str, uow: UnitOfWork, coupon: str,
                          code: str | None = None, active: bool = True,
                          customer: str | None = None, max_redemptions: int | None = None,
                          expires_at: datetime | None = None,
                          first_time_transaction: bool = False,
                          minimum_amount: int | None = None,
                          minimum_amount_currency: str | None = None,
                          metadata: Mapping[str, str] | None = None) -> PromotionCode:
    """A customer-facing code for ``coupon`` (unique among active codes, any case).

    Raises InvalidRequest, ResourceMissing.
    """
    if code is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,500}", code):
        raise InvalidRequest("A promotion code may hold only letters, digits and dashes.",
                             param="code")
    if max_redemptions is not None and max_redemptions < 1:
        raise InvalidRequest("Invalid positive integer", param="max_redemptions")
    with uow:
        coupon_row = uow.get(Coupon, coupon, account_id=account_id, param="promotion[coupon]",
                             label="coupon")
        if customer is not None:
            uow.get(Customer, customer, account_id=account_id, param="customer",
                    label="customer")
        if code is None:
            code = secrets.token_hex(4).upper()
        if find_promotion_code(code, account_id=account_id, uow=uow) is not None:
            raise InvalidRequest("An active promotion code with this code already exists.",
                                 param="code", code="resource_already_exists")
        promo = PromotionCode(
            account_id=account_id, code=code, coupon_id=coupon_row.id, active=active,
            customer_id=customer, max_redemptions=max_redemptions,
            expires_at=as_utc(expires_at) if expires_at else None,
            first_time_transaction=first_time_transaction, minimum_amount=minimum_amount,
            minimum_amount_currency=minimum_amount_currency, metadata_=dict(metadata or {}),
            created=uow.clock())
        uow.add(promo)
        uow.flush()
        uow.events.append("promotion_code.created", render_promotion_code(promo, coupon_row),
                          account_id=account_id, customer_id=customer)
        uow.commit()
        return promo


def find_promotion_code(code: str, *, account_id: str, uow: UnitOfWork
                        ) -> PromotionCode | None:
    """The newest active promotion code of the account with ``code`` (any case), if any."""
    return uow.session.exec(
        select(PromotionCode).where(PromotionCode.account_id == account_id,
                                    func.lower(PromotionCode.code) == code.lower(),
                                    col(PromotionCode.active).is_(True))
        .order_by(col(PromotionCode.created).desc())
    ).first()


def check_promotion(promo: PromotionCode, *, uow: UnitOfWork, now: datetime) -> Coupon:
    """The code's coupon if the code can be redeemed now.

    Raises InvalidRequest (``promotion_code_invalid``, ``coupon_expired``).
    """
    coupon = uow.get(Coupon, promo.coupon_id, account_id=promo.account_id)
    if not promo.active:
        raise InvalidRequest("This promotion code is not valid.", param="promotion_code",
                             code="promotion_code_invalid")
    if ((promo.expires_at is not None and promo.expires_at <= now)
            or (promo.max_redemptions is not None
                and promo.times_redeemed >= promo.max_redemptions)
            or not coupon.valid or (coupon.redeem_by is not None and coupon.redeem_by <= now)
            or (coupon.max_redemptions is not None
                and coupon.times_redeemed >= coupon.max_redemptions)):
        raise InvalidRequest("This promotion code has expired.", param="promotion_code",
                             code="coupon_expired")
    return coupon


def record_redemption(row: Coupon | PromotionCode, *, uow: UnitOfWork, param: str) -> None:
    """Count one redemption of a coupon or promotion code, refused if none is left.

    One conditional UPDATE (``times_redeemed < max_redemptions``) both checks and counts:
    reading the count and writing it back plus one would let two simultaneous
    redemptions of a code with one left both pass on PostgreSQL (each reads the count
    before the other writes). The UPDATE holds the row until the transaction ends; the
    second waits, then matches nothing. Raises InvalidRequest (``coupon_expired``).
    """
    model = type(row)
    result: CursorResult[Any] = uow.session.execute(  # type: ignore[assignment]
        update(model)
        .where(col(model.account_id) == row.account_id, col(model.id) == row.id,
               or_(col(model.max_redemptions).is_(None),
                   col(model.times_redeemed) < col(model.max_redemptions)))
        .values(times_redeemed=col(model.times_redeemed) + 1)
        .execution_options(synchronize_session=False))
    if not result.rowcount:
        what = "promotion code" if isinstance(row, PromotionCode) else f"coupon {row.id}"
        raise InvalidRequest(f"This {what} has expired: it has no redemptions left.",
                             param=param, code="coupon_expired")
    uow.session.expire(row, ["times_redeemed"])


def retrieve_promotion_code_by_code(code: str, *, account_id: str, uow: UnitOfWork
                                    ) -> PromotionCode:
    """The active, redeemable promotion code with this ``code`` (any case).

    Raises InvalidRequest (``promotion_code_invalid``, ``coupon_expired``).
    """
    with uow:
        promo = find_promotion_code(code.strip(), account_id=account_id, uow=uow) if code else None
        if promo is None:
            raise InvalidRequest("This promotion code is not valid.", param="promotion_code",
                                 code="promotion_code_invalid")
        check_promotion(promo, uow=uow, now=uow.clock())
        return promo


def retrieve_promotion_code(promotion_code_id: str, *, account_id: str, uow: UnitOfWork
                            ) -> PromotionCode:
    """One promotion code. Raises ResourceMissing."""
    with uow:
        return uow.get(PromotionCode, promotion_code_id, account_id=account_id,
                       label="promotion code")


def list_promotion_codes(*, account_id: str, uow: UnitOfWork, code: str | None = None,
                         coupon: str | None = None, customer: str | None = None,
                         active: bool | None = None) -> list[PromotionCode]:
    """The account's promotion codes, newest first, filtered as Stripe's list is."""
    with uow:
        query = select(PromotionCode).where(PromotionCode.account_id == account_id)
        if code is not None:
            query = query.where(func.lower(PromotionCode.code) == code.lower())
        if coupon is not None:
            query = query.where(PromotionCode.coupon_id == coupon)
        if customer is not None:
            query = query.where(PromotionCode.customer_id == customer)
        if active is not None:
            query = query.where(col(PromotionCode.active).is_(active))
        return list(uow.session.exec(query.order_by(col(PromotionCode.created).desc(),
                                                    col(PromotionCode.id).desc())).all())


def update_promotion_code(promotion_code_id: str, *, account_id: str, uow: UnitOfWork,
                          active: bool | None = None,
                          metadata: Mapping[str, str] | None = None) -> PromotionCode:
    """Activate or deactivate a code, or change its metadata.

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        promo = uow.get(PromotionCode, promotion_code_id, account_id=account_id,
                        label="promotion code")
        coupon = uow.get(Coupon, promo.coupon_id, account_id=account_id)
        before = render_promotion_code(promo, coupon)
        if active is not None:
            if active and not promo.active and find_promotion_code(
                    promo.code, account_id=account_id, uow=uow) is not None:
                raise InvalidRequest("An active promotion code with this code already exists.",
                                     param="active", code="resource_already_exists")
            promo.active = active
        if metadata is not None:
            promo.metadata_ = merge_metadata(promo.metadata_, metadata)
        uow.add(promo)
        uow.flush()
        append_if_changed("promotion_code.updated", before, render_promotion_code(promo, coupon),
                          uow=uow, account_id=account_id, customer_id=promo.customer_id)
        uow.commit()
        return promo
