"""Cancelling a subscription: now or at the period end, and undoing a cancel at period end.

The end itself — now, or when the clock crosses the period end
(:mod:`portal_app.billing.renewals`) — is :func:`end_subscription`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal_app.billing.invoicing import (
    credit_pending_to_balance,
    emit_invoice_events,
    invoice_pending_items,
)
from portal_app.billing.ledger_events import (
    append_subscription_event,
    emit_subscription_updated,
)
from portal_app.billing.models import Subscription, SubscriptionStatus
from portal_app.billing.objects import render_subscription
from portal_app.billing.prorations import credit_unused_time
from portal_app.billing.schedule_phases import BY_PORTAL, end_schedules
from portal_app.billing.subscriptions import load_subscription, request_origin
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.stripe_shapes import CANCELLATION_FEEDBACK


def cancel_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                        at_period_end: bool = False, feedback: str | None = None,
                        comment: str | None = None, customer_id: str | None = None,
                        prorate: bool = False, invoice_now: bool = False) -> Subscription:
    """Cancel now, or at the end of the current period.

    An immediate cancel with ``prorate`` credits the unused time of every item
    (rounded half up per item, as proration lines are). Without ``invoice_now``
    the credit goes straight to the customer's balance, which pays their next
    invoices; with ``invoice_now`` a final invoice bills the metered usage not
    billed yet (up to now) with the credit lines and any pending invoice items,
    and whatever it leaves negative becomes that balance credit. Without
    ``invoice_now`` that usage is never billed, as with Stripe. A cancel at
    period end bills the last period's usage in a final invoice when the period
    ends (:func:`portal_app.billing.renewals.renew_subscription`); a declined
    final charge leaves that invoice open and the subscription canceled. An
    immediate cancel cancels the subscription's schedules with it. A cancel at period
    end releases only the customer's own pending change (a schedule the portal made):
    a merchant's schedule (say, an introductory price's end) stays, ends with the
    subscription, and is still in place if the cancel is undone
    (:func:`reactivate_subscription`).
    The events of an end at period end carry the origin of the unit of work that
    scheduled it (``UnitOfWork.origin``, kept on the subscription until reactivated).
    ``customer_id`` restricts the change to that customer's subscription (the
    portal passes its session's customer). ``feedback`` is one of Stripe's
    ``CANCELLATION_FEEDBACK`` values. Raises ResourceMissing, InvalidRequest.
    """
    check_feedback(feedback)
    with uow:
        # Locked, and "no such subscription" alike for an unknown id and another
        # account's (or customer's): nothing tells them apart.
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id)
        if sub.status == SubscriptionStatus.canceled:
            raise InvalidRequest("This subscription is already canceled.",
                                 code="subscription_canceled")
        before = render_subscription(sub, uow.session)
        now = uow.clock()
        sub.cancellation_details = {"comment": comment, "feedback": feedback,
                                    "reason": "cancellation_requested"}
        sub.canceled_at = now
        if at_period_end:
            sub.cancel_at_period_end = True
            sub.cancel_at = sub.current_period_end
            sub.cancellation_origin = request_origin(uow)
            uow.add(sub)
            uow.flush()
            end_schedules(sub, uow=uow, event="subscription_schedule.released",
                          created_by=BY_PORTAL)
            append_subscription_event("customer.subscription.updated", sub, uow=uow,
                                      before=before)
        else:
            end_schedules(sub, uow=uow, event="subscription_schedule.canceled")
            if prorate:
                credit_unused_time(sub, uow=uow, at=now)
            invoice = None
            if invoice_now:
                invoice = invoice_pending_items(sub, uow=uow, usage_until=now,
                                                billing_reason="subscription_cancel")
            else:
                credit_pending_to_balance(sub, uow=uow)
            end_subscription(sub, at=now, reason="cancellation_requested", uow=uow,
                             before=before)
            if invoice is not None:
                emit_invoice_events(invoice, uow=uow, account_id=account_id)
        uow.commit()
        return sub


def end_subscription(sub: Subscription, *, at: datetime, reason: str, uow: UnitOfWork,
                     before: dict[str, Any]) -> None:
    """End the subscription at ``at`` (``customer.subscription.deleted``).

    ``reason`` is kept unless a cancellation already gave one.
    """
    sub.status = SubscriptionStatus.canceled
    sub.ended_at = at
    sub.canceled_at = sub.canceled_at or at
    details = dict(sub.cancellation_details)
    details["reason"] = details.get("reason") or reason
    sub.cancellation_details = details
    append_subscription_event("customer.subscription.deleted", sub, uow=uow, before=before)


def reactivate_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                            customer_id: str | None = None) -> Subscription:
    """Undo a cancellation at period end. Raises ResourceMissing, InvalidRequest."""
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id)
        if sub.status == SubscriptionStatus.canceled:
            raise InvalidRequest("This subscription is canceled and cannot be reactivated.",
                                 code="subscription_canceled")
        if not sub.cancel_at_period_end and sub.cancel_at is None:
            raise InvalidRequest("This subscription is not set to cancel.", code="no_change")
        before = render_subscription(sub, uow.session)
        sub.cancel_at_period_end = False
        sub.cancel_at = None
        sub.canceled_at = None
        sub.cancellation_details = {"comment": None, "feedback": None, "reason": None}
        sub.cancellation_origin = None
        emit_subscription_updated(sub, before, uow=uow)
        uow.commit()
        return sub


def record_cancellation_details(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                                feedback: str | None, comment: str | None) -> Subscription:
    """Keep why the customer leaves, for an end something else makes (Stripe's
    ``cancellation_details`` alone on update: a schedule set to cancel, say).

    Raises ResourceMissing, InvalidRequest.
    """
    check_feedback(feedback)
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=None)
        before = render_subscription(sub, uow.session)
        sub.cancellation_details = {**sub.cancellation_details, "feedback": feedback,
                                    "comment": comment}
        emit_subscription_updated(sub, before, uow=uow)
        uow.commit()
        return sub


def check_feedback(feedback: str | None) -> None:
    """InvalidRequest unless ``feedback`` is None or one of Stripe's values."""
    if feedback is not None and feedback not in CANCELLATION_FEEDBACK:
        raise InvalidRequest(
            "Invalid cancellation_details[feedback]: must be one of "
            f"{', '.join(CANCELLATION_FEEDBACK)}", param="cancellation_details[feedback]")
