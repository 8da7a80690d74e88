"""Promotion codes (Stripe's ``promo_``): customer-facing codes that redeem a coupon."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from portal_app.billing.models import Coupon, Customer, PromotionCode
from portal_app.clock import as_utc
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.objects import render_promotion_code


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
        if _find_code(code, account_id=account_id, uow=uow) is not None:
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


def _find_code(code: str, *, account_id: str, uow: UnitOfWork) -> PromotionCode | None:
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
    coupon = uow.session.get(Coupon, promo.coupon_id)
    assert coupon is not None
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


def retrieve_promotion_code_by_code(code: str, *, account_id: str, uow: UnitOfWork
                                    ) -> PromotionCode:
    """The active, redeemable promotion code with this ``code`` (any case).

    Raises InvalidRequest (``promotion_code_invalid``, ``coupon_expired``).
    """
    with uow:
        promo = _find_code(code.strip(), account_id=account_id, uow=uow) if code else None
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
    """Activate or deactivate a code, or change its metadata. Raises ResourceMissing."""
    from portal_app.billing.services import _merge_metadata, diff

    with uow:
        promo = uow.get(PromotionCode, promotion_code_id, account_id=account_id,
                        label="promotion code")
        coupon = uow.session.get(Coupon, promo.coupon_id)
        assert coupon is not None
        before = render_promotion_code(promo, coupon)
        if active is not None:
            if active and not promo.active and _find_code(promo.code, account_id=account_id,
                                                          uow=uow) is not None:
                raise InvalidRequest("An active promotion code with this code already exists.",
                                     param="active", code="resource_already_exists")
            promo.active = active
        if metadata is not None:
            promo.metadata_ = _merge_metadata(promo.metadata_, metadata)
        uow.add(promo)
        uow.flush()
        after = render_promotion_code(promo, coupon)
        previous = diff(before, after)
        if previous:
            uow.events.append("promotion_code.updated", after, account_id=account_id,
                              previous_attributes=previous, customer_id=promo.customer_id)
        uow.commit()
        return promo
