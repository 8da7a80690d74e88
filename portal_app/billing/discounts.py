"""Discounts: a coupon applied to a subscription, and what it takes off each line.

Every amount here is rounded by :mod:`portal_app.money`, half away from zero as
Stripe rounds each line: a percent-off coupon takes its percentage of a
renewal's subtotal (spread over the lines exactly) and of each proration line;
an amount-off coupon only a renewal's regular lines (an amount cannot be split
over credits and debits).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import col, select

from portal_app.billing.coupons import (
    check_promotion,
    record_redemption,
    retrieve_promotion_code_by_code,
)
from portal_app.billing.models import (
    Coupon,
    CouponDuration,
    Discount,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Price,
    PromotionCode,
    Subscription,
)
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.money import percent_of, spread
from portal_app.periods import shift


def active_discount(sub: Subscription, uow: UnitOfWork, at: datetime
                    ) -> tuple[Discount, Coupon] | None:
    """The subscription's newest discount and its coupon, unless it has ended by ``at``."""
    row = uow.session.exec(
        select(Discount, Coupon)
        .join(Coupon)  # on the reference (account_id, coupon_id): the discount's own coupon
        .where(Discount.subscription_id == sub.id)
        .order_by(col(Discount.created).desc())
    ).first()
    if row is None:
        return None
    discount, coupon = row
    if discount.end is not None and discount.end <= at:
        return None
    return discount, coupon


def active_coupon(sub: Subscription, uow: UnitOfWork, at: datetime) -> Coupon | None:
    """The coupon of the subscription's discount active at ``at``, if any."""
    active = active_discount(sub, uow, at)
    return active[1] if active else None


def apply_coupon(coupon_id: str, *, sub: Subscription, account_id: str, uow: UnitOfWork
                 ) -> Discount:
    """Redeem ``coupon_id`` on the subscription: a discount from now (for its duration).

    The redemption is counted atomically (:func:`record_redemption`): a coupon's
    ``max_redemptions`` holds under concurrency.
    Raises ResourceMissing, InvalidRequest (``coupon_expired``, another currency).
    """
    coupon = uow.get(Coupon, coupon_id, account_id=account_id, param="coupon", label="coupon")
    now = uow.clock()
    if not coupon.valid or (coupon.redeem_by and coupon.redeem_by < now) or (
        coupon.max_redemptions is not None and coupon.times_redeemed >= coupon.max_redemptions
    ):
        raise InvalidRequest(f"Coupon expired: {coupon.id}", param="coupon",
                             code="coupon_expired")
    if coupon.currency and coupon.currency != sub.currency:
        raise InvalidRequest(f"The coupon {coupon.id} is in {coupon.currency.upper()}, the "
                             f"subscription in {sub.currency.upper()}.", param="coupon")
    end = None
    if coupon.duration == CouponDuration.repeating and coupon.duration_in_months:
        end = shift(now, "month", coupon.duration_in_months)
    discount = Discount(account_id=account_id, coupon_id=coupon.id, customer_id=sub.customer_id,
                        subscription_id=sub.id, start=now, end=end, created=now)
    record_redemption(coupon, uow=uow, param="coupon")
    uow.add(discount)
    uow.flush()
    return discount


def replace_discount(sub: Subscription, coupon_id: str, *, account_id: str, uow: UnitOfWork,
                     now: datetime) -> Discount:
    """End the subscription's discounts now and apply ``coupon_id`` instead.

    Raises ResourceMissing, InvalidRequest.
    """
    for discount in uow.session.exec(
            select(Discount).where(Discount.subscription_id == sub.id)).all():
        if discount.end is None or discount.end > now:
            discount.end = now
            uow.add(discount)
    return apply_coupon(coupon_id, sub=sub, account_id=account_id, uow=uow)


def recurring_amount(items: Iterable[tuple[Price, int]]) -> int:
    """What one period of these ``(price, quantity)`` items costs before any discount.

    Usage-based prices count nothing: their amount is not known until billed.
    """
    return sum(price.unit_amount * quantity for price, quantity in items
               if price.usage_type != "metered")


def redeem_promotion_code(code: str, *, sub: Subscription, account_id: str, uow: UnitOfWork,
                          amount: int) -> PromotionCode:
    """The promotion code (a ``promo_`` id or the code itself) if this subscription may use it.

    ``amount`` is what the code would discount, before any discount, in the
    subscription's currency: it must reach the code's ``minimum_amount`` (Stripe's
    ``restrictions.minimum_amount``, in ``minimum_amount_currency``; a code with a
    minimum in another currency does not apply). The caller counts the redemption
    (:func:`record_redemption`) once the code is applied.

    Raises ResourceMissing (no such ``promo_`` id in the account, as Stripe answers an
    unknown id), InvalidRequest (``promotion_code_invalid``, ``coupon_expired``).
    """
    if code.startswith("promo_"):
        promo = uow.get(PromotionCode, code, account_id=account_id, param="promotion_code",
                        label="promotion code")
        check_promotion(promo, uow=uow, now=uow.clock())
    else:
        promo = retrieve_promotion_code_by_code(code, account_id=account_id, uow=uow)
    if promo.customer_id is not None and promo.customer_id != sub.customer_id:
        raise InvalidRequest("This promotion code is not valid.", param="promotion_code",
                             code="promotion_code_invalid")
    if promo.first_time_transaction and uow.session.exec(
            select(Invoice.id).where(Invoice.customer_id == sub.customer_id,
                                     Invoice.status == InvoiceStatus.paid,
                                     Invoice.amount_paid > 0)).first() is not None:
        raise InvalidRequest("This promotion code is only for a first purchase.",
                             param="promotion_code", code="promotion_code_invalid")
    if promo.minimum_amount is not None and (
            amount < promo.minimum_amount
            or (promo.minimum_amount_currency or sub.currency).lower() != sub.currency):
        raise InvalidRequest("This promotion code cannot be redeemed because the associated "
                             "purchase does not meet the minimum amount requirement.",
                             param="promotion_code", code="promotion_code_invalid")
    return promo


def discount_amount(coupon: Coupon, subtotal: int) -> int:
    """What ``coupon`` takes off ``subtotal`` (percentages round half up, as Stripe's do)."""
    if coupon.percent_off is not None:
        return percent_of(subtotal, coupon.percent_off)
    return min(subtotal, coupon.amount_off or 0)


def line_discount(amount: int, coupon: Coupon | None) -> int:
    """What ``coupon`` takes off one proration line of ``amount`` (credits are negative)."""
    # Percent-off coupons discount every proration line; amount-off coupons only
    # a renewal's regular lines (an amount cannot be split over credits and debits).
    if coupon is None or coupon.percent_off is None:
        return 0
    return percent_of(amount, coupon.percent_off)


def discount_lines(sub: Subscription, lines: Sequence[InvoiceLine], *, uow: UnitOfWork,
                   now: datetime) -> int:
    """Spread the subscription's active discount over ``lines``; the total taken off.

    A ``once`` coupon ends with the first invoice it discounts.
    """
    subtotal = sum(line.amount for line in lines)
    active = active_discount(sub, uow, now) if subtotal else None
    if active is None:
        return 0
    discount, coupon = active
    total = discount_amount(coupon, subtotal)
    for line, share in zip(lines, spread(total, [ln.amount for ln in lines]), strict=True):
        line.discount_amount = share
    if coupon.duration == CouponDuration.once:
        discount.end = now
        uow.add(discount)
    return total
