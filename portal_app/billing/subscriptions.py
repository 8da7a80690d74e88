"""Subscriptions: start one, read them, change what is not billed, lock one to change it.

What happens to a subscription later has its own room: plan and quantity
changes with prorations (:mod:`~portal_app.billing.changes`), cancellation
(:mod:`~portal_app.billing.cancellations`), pauses (:mod:`~portal_app.billing.pauses`),
period ends and the test clock (:mod:`~portal_app.billing.renewals`), schedules
(:mod:`~portal_app.billing.schedules`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from portal_app.billing.catalog import recurring_price
from portal_app.billing.coupons import record_redemption
from portal_app.billing.discounts import apply_coupon, recurring_amount, redeem_promotion_code
from portal_app.billing.invoicing import bill_period, emit_invoice_events, refuse_unpaid
from portal_app.billing.ledger_events import (
    append_subscription_event,
    emit_subscription_updated,
)
from portal_app.billing.metadata import merge_metadata
from portal_app.billing.models import (
    Customer,
    InvoiceItem,
    Price,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from portal_app.billing.objects import render_subscription
from portal_app.billing.payment_methods import attached_payment_method
from portal_app.billing.provider import ItemSpec
from portal_app.clock import as_utc
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.periods import shift

# The statuses in which a subscription still runs: it renews, bills and can be changed.
LIVE_STATUSES = (SubscriptionStatus.trialing, SubscriptionStatus.active,
                 SubscriptionStatus.past_due)


def create_subscription(
    *,
    account_id: str,
    uow: UnitOfWork,
    customer: str,
    items: Sequence[ItemSpec],
    default_payment_method: str | None = None,
    trial_period_days: int | None = None,
    trial_end: datetime | None = None,
    collection_method: str = "charge_automatically",
    days_until_due: int | None = None,
    coupon: str | None = None,
    promotion_code: str | None = None,
    cancel_at_period_end: bool = False,
    description: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Subscription:
    """Start a subscription: charge its first invoice now, or start a trial.

    A declined first charge raises CardDeclined and leaves no subscription,
    invoice or event behind (Stripe's ``payment_behavior=error_if_incomplete``).
    A ``promotion_code`` (or ``coupon``: one of them) discounts it; the code's minimum
    amount counts the first invoice before discount, nothing during a trial, as Stripe's
    does. Raises InvalidRequest, ResourceMissing, CardDeclined.
    """
    if coupon and promotion_code:
        raise InvalidRequest("Only one discount per subscription is supported.",
                             param="promotion_code")
    if not items:
        raise InvalidRequest("Missing required param: items.", param="items",
                             code="parameter_missing")
    if collection_method not in ("charge_automatically", "send_invoice"):
        raise InvalidRequest("Invalid collection_method", param="collection_method")
    if collection_method == "send_invoice" and days_until_due is None:
        days_until_due = 30
    with uow:
        now = uow.clock()
        cust = uow.get(Customer, customer, account_id=account_id, param="customer",
                       label="customer")
        prices: list[tuple[Price, int]] = []
        for index, spec in enumerate(items):
            price, _ = recurring_price(spec.price, account_id=account_id, uow=uow,
                                       param=f"items[{index}][price]")
            if spec.quantity < 0 or (spec.quantity == 0 and price.usage_type == "licensed"):
                raise InvalidRequest("Invalid positive integer",
                                     param=f"items[{index}][quantity]")
            prices.append((price, spec.quantity))
        first = prices[0][0]
        for index, (price, _) in enumerate(prices[1:], start=1):
            if price.currency != first.currency:
                raise InvalidRequest("All prices on a subscription must share one currency.",
                                     param=f"items[{index}][price]")
            if (price.interval, price.interval_count) != (first.interval, first.interval_count):
                raise InvalidRequest(
                    "All prices on a subscription must share one billing interval.",
                    param=f"items[{index}][price]")
        if len({p.id for p, _ in prices}) != len(prices):
            raise InvalidRequest("A price may appear only once on a subscription.",
                                 param="items")
        if default_payment_method:
            attached_payment_method(default_payment_method, customer_id=cust.id,
                                    account_id=account_id, uow=uow,
                                    param="default_payment_method")
        if trial_period_days is not None:
            if trial_period_days < 0 or trial_period_days > 730:
                raise InvalidRequest("trial_period_days must be between 0 and 730.",
                                     param="trial_period_days")
            trial_end = now + timedelta(days=trial_period_days) if trial_period_days else None
        if trial_end is not None and trial_end <= now:
            raise InvalidRequest("Invalid timestamp: must be an integer Unix timestamp in the "
                                 "future.", param="trial_end")
        assert first.interval is not None  # every price was checked to be recurring
        trialing = trial_end is not None
        period_end = trial_end or shift(now, first.interval, first.interval_count)
        sub = Subscription(
            account_id=account_id, customer_id=cust.id,
            status=SubscriptionStatus.trialing if trialing else SubscriptionStatus.incomplete,
            currency=first.currency, collection_method=collection_method,
            days_until_due=days_until_due if collection_method == "send_invoice" else None,
            default_payment_method=default_payment_method, description=description,
            billing_cycle_anchor=period_end if trialing else now,
            current_period_start=now, current_period_end=period_end, start_date=now,
            trial_start=now if trialing else None, trial_end=trial_end,
            cancel_at_period_end=cancel_at_period_end,
            cancel_at=period_end if cancel_at_period_end else None,
            cancellation_origin=request_origin(uow) if cancel_at_period_end else None,
            metadata_=dict(metadata or {}), created=now,
        )
        uow.add(sub)
        uow.flush()
        for position, (price, quantity) in enumerate(prices):
            uow.add(SubscriptionItem(subscription_id=sub.id, price_id=price.id,
                                     quantity=quantity, position=position, created=now))
        uow.flush()
        promo = None
        if promotion_code:
            promo = redeem_promotion_code(
                promotion_code, sub=sub, account_id=account_id, uow=uow,
                amount=0 if trialing else recurring_amount(prices))
            coupon = promo.coupon_id
        if coupon:
            apply_coupon(coupon, sub=sub, account_id=account_id, uow=uow)
        if promo is not None:
            record_redemption(promo, uow=uow, param="promotion_code")
        if cust.currency is None:
            cust.currency = first.currency
            uow.add(cust)
        invoice = bill_period(sub, billing_reason="subscription_create", uow=uow,
                              trial=trialing)
        # The first charge failed: nothing of this subscription may remain.
        refuse_unpaid(invoice)
        if not trialing:
            sub.status = SubscriptionStatus.active
        append_subscription_event("customer.subscription.created", sub, uow=uow)
        emit_invoice_events(invoice, uow=uow, account_id=account_id)
        uow.commit()
        return sub


def retrieve_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                          customer_id: str | None = None) -> Subscription:
    """One subscription; with ``customer_id``, only one of that customer's.

    Raises ResourceMissing.
    """
    with uow:
        return uow.get(Subscription, subscription_id, account_id=account_id,
                       label="subscription", customer_id=customer_id)


def list_subscriptions(*, account_id: str, uow: UnitOfWork, customer_id: str | None = None,
                       status: str | None = None) -> list[Subscription]:
    """The account's (or one customer's) subscriptions, newest first.

    ``status`` filters as Stripe's does: a status, ``all``, or none for every
    subscription that has not been canceled. Raises ResourceMissing, InvalidRequest.
    """
    if status not in (None, "all", "ended", *SubscriptionStatus.__members__):
        raise InvalidRequest(f"Invalid status: {status}", param="status")
    with uow:
        query = select(Subscription).where(Subscription.account_id == account_id)
        if customer_id is not None:
            uow.get(Customer, customer_id, account_id=account_id, param="customer",
                    label="customer")
            query = query.where(Subscription.customer_id == customer_id)
        if status is None:
            query = query.where(Subscription.status != SubscriptionStatus.canceled)
        elif status == "ended":
            query = query.where(col(Subscription.status).in_(
                [SubscriptionStatus.canceled, SubscriptionStatus.incomplete_expired]))
        elif status != "all":
            query = query.where(Subscription.status == SubscriptionStatus(status))
        return list(uow.session.exec(
            query.order_by(col(Subscription.created).desc(), col(Subscription.id).desc())
        ).all())


def update_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                        default_payment_method: str | None = None,
                        description: str | None = None,
                        metadata: Mapping[str, str] | None = None) -> Subscription:
    """Change what is not billed: payment method, description, metadata.

    A new default payment method is allowed on a past_due subscription (and
    retried on its open invoices at the next renewal). Raises ResourceMissing,
    InvalidRequest.
    """
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=None)
        before = render_subscription(sub, uow.session)
        if default_payment_method is not None:
            if default_payment_method:
                attached_payment_method(default_payment_method, customer_id=sub.customer_id,
                                        account_id=account_id, uow=uow,
                                        param="default_payment_method")
            sub.default_payment_method = default_payment_method or None
        if description is not None:
            sub.description = description or None
        if metadata is not None:
            sub.metadata_ = merge_metadata(sub.metadata_, metadata)
        emit_subscription_updated(sub, before, uow=uow)
        uow.commit()
        return sub


def extend_trial(subscription_id: str, *, trial_end: datetime, account_id: str,
                 uow: UnitOfWork, customer_id: str | None = None) -> Subscription:
    """Free time: the subscription is trialing until ``trial_end``, past its current period.

    What Stripe does for ``trial_end`` set on a live subscription with
    ``proration_behavior=none``: the customer keeps the period they paid for,
    the next invoice comes at ``trial_end`` and the billing cycle restarts there.
    Raises ResourceMissing, InvalidRequest (``subscription_past_due``,
    ``subscription_canceled``, ``subscription_paused``, a ``trial_end`` too early).
    """
    with uow:
        # Locked and read afresh: a pause committed since the caller read it refuses this.
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id)
        if sub.status not in (SubscriptionStatus.active, SubscriptionStatus.trialing) or (
                sub.cancel_at_period_end):
            code = ("subscription_past_due" if sub.status == SubscriptionStatus.past_due
                    else "subscription_canceled")
            raise InvalidRequest("Only a live subscription can get a free period.", code=code)
        if sub.pause_collection:
            raise InvalidRequest("A paused subscription cannot get a free period.",
                                 code="subscription_paused")
        end = as_utc(trial_end)
        if end <= sub.current_period_end:
            raise InvalidRequest("trial_end must be after the end of the current period.",
                                 param="trial_end")
        before = render_subscription(sub, uow.session)
        if sub.status == SubscriptionStatus.active:
            # The paid period ends now; the rest of it and the days given are the trial.
            sub.trial_start = sub.current_period_start = uow.clock()
            sub.status = SubscriptionStatus.trialing
        sub.trial_end = sub.current_period_end = sub.billing_cycle_anchor = end
        append_subscription_event("customer.subscription.updated", sub, uow=uow,
                                  before=before)
        uow.commit()
        return sub

def request_origin(uow: UnitOfWork) -> dict[str, Any] | None:
    """The unit of work's origin, as a subscription keeps it for its scheduled end."""
    return dict(uow.origin) if uow.origin else None


# --- locking and versions ----------------------------------------------------------------


def lock_subscription(subscription_id: str, *, uow: UnitOfWork) -> Subscription:
    """Load the subscription holding its row lock until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite has no row locks: the
    transaction takes the database write lock first (``BEGIN IMMEDIATE``), so
    two writers serialize before either reads. Raises ResourceMissing.
    """
    uow.lock_for_writing()
    sub = uow.session.get(Subscription, subscription_id, with_for_update=True,
                          populate_existing=True)
    if sub is None:
        raise ResourceMissing(f"No such subscription: '{subscription_id}'")
    return sub


def load_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                      customer_id: str | None, lock: bool = True) -> Subscription:
    """The account's subscription (with ``customer_id``, only that customer's), locked.

    ``lock=False`` reads it without the row lock. Raises ResourceMissing.
    """
    if lock:
        try:
            sub = lock_subscription(subscription_id, uow=uow)
        except ResourceMissing:
            sub = None
    else:
        sub = uow.session.get(Subscription, subscription_id)
    if sub is None or sub.account_id != account_id or (
            customer_id is not None and sub.customer_id != customer_id):
        raise ResourceMissing(f"No such subscription: '{subscription_id}'", param="id")
    return sub


def subscription_version(sub: Subscription, uow: UnitOfWork) -> str:
    """An opaque token that changes whenever anything billable about ``sub`` changes."""
    pending = uow.session.exec(
        select(InvoiceItem.id).where(InvoiceItem.subscription_id == sub.id,
                                     col(InvoiceItem.invoice_id).is_(None))
        .order_by(col(InvoiceItem.id))
    ).all()
    state = {"subscription": render_subscription(sub, uow.session), "pending": list(pending)}
    digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:24]
