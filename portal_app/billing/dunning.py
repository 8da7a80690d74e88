"""Automatic retries of failed renewal payments (dunning), and what happens when all fail.

Stripe (Billing > Revenue recovery > Retries, https://docs.stripe.com/billing/revenue-recovery/smart-retries):
Smart Retries are on by default for new accounts, and "the recommended default is 8 tries
within 2 weeks"; a custom schedule retries a set number of days after the previous attempt.
Stripe does not retry when no payment method is available or the issuer answered a hard
decline code (lost or stolen card, ...). When every retry has failed, the account's setting
says what happens to the subscription: cancel it, mark it ``unpaid``, or leave it
``past_due``.

Portico's settings per account (:class:`portal_app.billing.models.RetryPolicy`):

- ``retry_days``: the days, counted from the first failed attempt, at which each retry runs.
  :data:`SMART_RETRIES` is Portico's fixed stand-in for Stripe's recommended default (Stripe
  picks the times by machine learning; here 7 retries spread over 14 days: 8 tries in 2
  weeks). An empty list: no retry of its own before the period ends.
- ``after_all_fail``: ``cancel`` | ``unpaid`` | ``past_due``.

An account without a row keeps Portico's historic default, :data:`DEFAULT_POLICY`: one retry
when the period ends, then cancel (the renewal does both, :mod:`portal_app.billing.renewals`).
Retries that fall on or after the period end are left to the renewal too: it retries every
open invoice of the subscription and then applies ``after_all_fail``.

The retries run when the clock crosses :attr:`Invoice.next_payment_attempt`
(:func:`due_retries`, :func:`retry_invoice`), each at its own time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from portal_app.billing.cancellations import end_subscription
from portal_app.billing.invoice_payments import settle_subscription
from portal_app.billing.invoicing import collect_payment, emit_payment_outcome, retry_open_invoices
from portal_app.billing.ledger_events import emit_subscription_updated
from portal_app.billing.models import (
    Charge,
    Customer,
    Invoice,
    InvoiceStatus,
    RetryPolicy,
    Subscription,
    SubscriptionStatus,
)
from portal_app.billing.objects import render_invoice, render_subscription
from portal_app.billing.payment_methods import payment_method_for
from portal_app.billing.schedule_phases import end_schedules
from portal_app.billing.subscriptions import lock_subscription
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest

# 8 tries within 2 weeks: the first attempt, then these days after it.
SMART_RETRIES: tuple[int, ...] = (1, 3, 5, 7, 9, 11, 14)
AFTER_ALL_FAIL = ("cancel", "unpaid", "past_due")
# Stripe's hard declines: the issuer says a retry cannot succeed.
HARD_DECLINES = frozenset({
    "incorrect_number", "lost_card", "stolen_card", "pickup_card", "restricted_card",
    "revocation_of_authorization", "revocation_of_all_authorizations",
    "payment_method_missing",
})
MAX_RETRY_DAYS = 60  # Stripe's longest Smart Retries window: 2 months


@dataclass(frozen=True)
class Policy:
    """An account's retry settings."""

    retry_days: tuple[int, ...]
    after_all_fail: str


DEFAULT_POLICY = Policy(retry_days=(), after_all_fail="cancel")


def retry_policy(account_id: str, *, uow: UnitOfWork) -> Policy:
    """The account's retry settings (:data:`DEFAULT_POLICY` until it sets its own)."""
    with uow:
        row = uow.session.get(RetryPolicy, account_id)
        if row is None:
            return DEFAULT_POLICY
        return Policy(retry_days=tuple(row.retry_days), after_all_fail=row.after_all_fail)


def set_retry_policy(account_id: str, *, retry_days: tuple[int, ...] | list[int],
                     after_all_fail: str, uow: UnitOfWork) -> Policy:
    """Choose the account's retry schedule and final outcome. Raises InvalidRequest."""
    days = tuple(int(day) for day in retry_days)
    if any(day <= 0 or day > MAX_RETRY_DAYS for day in days) or list(days) != sorted(set(days)):
        raise InvalidRequest(f"retry_days must be increasing days between 1 and "
                             f"{MAX_RETRY_DAYS}.", param="retry_days")
    if after_all_fail not in AFTER_ALL_FAIL:
        raise InvalidRequest("after_all_fail must be one of cancel, unpaid, or past_due.",
                             param="after_all_fail")
    with uow:
        row = uow.session.get(RetryPolicy, account_id) or RetryPolicy(
            account_id=account_id, updated=uow.clock())
        row.retry_days = list(days)
        row.after_all_fail = after_all_fail
        row.updated = uow.clock()
        uow.add(row)
        uow.commit()
        return Policy(retry_days=days, after_all_fail=after_all_fail)


def first_attempt(invoice: Invoice, *, uow: UnitOfWork) -> datetime:
    """When the invoice was first charged (its finalization when never)."""
    first = uow.session.exec(
        select(Charge.created).where(Charge.invoice_id == invoice.id)
        .order_by(col(Charge.created)).limit(1)
    ).first()
    return first or invoice.finalized_at or invoice.created


def schedule_retry(invoice: Invoice, sub: Subscription, *, uow: UnitOfWork) -> None:
    """Set ``next_payment_attempt`` after a failed automatic attempt (None: no more retries).

    The retry left to the renewal (at or after the period end) is shown at the period end.
    """
    policy = retry_policy(invoice.account_id, uow=uow)
    if (invoice.status != InvoiceStatus.open or invoice.last_decline_code in HARD_DECLINES
            or invoice.collection_method != "charge_automatically"):
        invoice.next_payment_attempt = None
        return
    retries_done = max(invoice.attempt_count - 1, 0)
    if retries_done < len(policy.retry_days):
        due = first_attempt(invoice, uow=uow) + timedelta(days=policy.retry_days[retries_done])
        invoice.next_payment_attempt = min(due, sub.current_period_end)
    elif not policy.retry_days and invoice.attempt_count == 1:
        invoice.next_payment_attempt = sub.current_period_end
    else:
        invoice.next_payment_attempt = None
    uow.add(invoice)


def due_retries(*, account_id: str | None, until: datetime, uow: UnitOfWork,
                test_clock: str | None = None) -> list[tuple[datetime, str]]:
    """``(when, invoice id)`` of every retry due up to ``until`` before its period's end.

    Only customers on ``test_clock`` (None: customers on no test clock).
    """
    with uow:
        query = (
            select(Invoice.next_payment_attempt, Invoice.id)
            .join(Subscription, col(Subscription.id) == col(Invoice.subscription_id))
            .join(Customer, col(Customer.id) == col(Invoice.customer_id))
            .where(Invoice.status == InvoiceStatus.open,
                   col(Invoice.next_payment_attempt).is_not(None),
                   col(Invoice.next_payment_attempt) <= until,
                   col(Invoice.next_payment_attempt) < col(Subscription.current_period_end),
                   Subscription.status == SubscriptionStatus.past_due,
                   col(Customer.test_clock).is_(None) if test_clock is None
                   else Customer.test_clock == test_clock)
        )
        if account_id is not None:
            query = query.where(Invoice.account_id == account_id)
        return sorted((when, invoice_id) for when, invoice_id in uow.session.exec(query).all()
                      if when is not None)


def retry_invoice(invoice_id: str, *, uow: UnitOfWork) -> Invoice | None:
    """Run the invoice's scheduled retry now; after the last one, apply ``after_all_fail``.

    None when there is nothing to retry any more (paid, voided, no retry due).
    """
    with uow:
        invoice = uow.session.get(Invoice, invoice_id)
        if invoice is None or invoice.subscription_id is None:
            return None
        sub = lock_subscription(invoice.subscription_id, uow=uow)
        uow.session.refresh(invoice)
        now = uow.clock()
        if (invoice.status != InvoiceStatus.open or invoice.next_payment_attempt is None
                or invoice.next_payment_attempt > now):
            uow.commit()
            return None
        before = render_subscription(sub, uow.session)
        collect_payment(invoice, payment_method_for(sub, uow), uow=uow, now=now)
        uow.add(invoice)
        uow.flush()
        emit_payment_outcome(invoice, render_invoice(invoice, uow.session), uow=uow,
                             account_id=invoice.account_id)
        if invoice.status == InvoiceStatus.paid:
            settle_subscription(sub, before=before, uow=uow)
        else:
            schedule_retry(invoice, sub, uow=uow)
            if invoice.next_payment_attempt is None:
                apply_final_outcome(sub, before=before, at=now, uow=uow)
        uow.commit()
        return invoice


def apply_final_outcome(sub: Subscription, *, before: dict[str, object], at: datetime,
                        uow: UnitOfWork) -> None:
    """Every retry failed: cancel the subscription, mark it unpaid, or leave it past due."""
    outcome = retry_policy(sub.account_id, uow=uow).after_all_fail
    if outcome == "cancel":
        end_schedules(sub, uow=uow, event="subscription_schedule.canceled")
        end_subscription(sub, at=at, reason="payment_failed", uow=uow, before=before)
    elif outcome == "unpaid":
        sub.status = SubscriptionStatus.unpaid
        emit_subscription_updated(sub, before, uow=uow)


def retry_at_period_end(sub: Subscription, *, uow: UnitOfWork) -> bool:
    """The renewal's retry of every open invoice; True when one still fails.

    A failing invoice gets no further retry of its own: the account's final outcome
    follows (the caller applies it).
    """
    still_failing = retry_open_invoices(sub, uow=uow)
    for invoice in uow.session.exec(
        select(Invoice).where(Invoice.subscription_id == sub.id,
                              Invoice.status == InvoiceStatus.open)
    ).all():
        invoice.next_payment_attempt = None
        uow.add(invoice)
    return still_failing
