"""The clock: crossing a subscription's period end, and moving a test clock past many.

At a period end a subscription ends (cancel at period end, or unpaid after a
whole period of retries), ends its trial, or renews: its schedule's next phase
applies, the next period starts and is billed. A pause whose ``resumes_at`` has
come is lifted first. :func:`advance_clock` runs every renewal due up to a
moment, each at its own time, as Stripe's test clocks do.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from portal_app.billing import dunning
from portal_app.billing.cancellations import end_subscription
from portal_app.billing.invoicing import (
    bill_period,
    emit_invoice_events,
    invoice_pending_items,
)
from portal_app.billing.ledger_events import append_subscription_event
from portal_app.billing.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    Subscription,
    SubscriptionStatus,
)
from portal_app.billing.objects import render_subscription
from portal_app.billing.pauses import lift_pause
from portal_app.billing.schedule_phases import apply_due_phase, end_schedules
from portal_app.billing.subscription_items import subscription_items
from portal_app.billing.subscriptions import LIVE_STATUSES, lock_subscription
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import InvalidRequest
from portal_app.periods import next_period_end


def due_subscriptions(*, account_id: str | None, until: datetime, uow: UnitOfWork,
                      test_clock: str | None = None) -> list[tuple[datetime, str]]:
    """``(when, subscription id)`` of every renewal, trial end, cancellation or pause end
    up to ``until``, of the customers on ``test_clock`` (None: on no test clock)."""
    with uow:
        on_clock = (col(Customer.test_clock).is_(None) if test_clock is None
                    else Customer.test_clock == test_clock)
        query = select(Subscription.current_period_end, Subscription.id).join(
            Customer, col(Customer.id) == col(Subscription.customer_id)).where(
            col(Subscription.status).in_([s.value for s in LIVE_STATUSES]),
            Subscription.current_period_end <= until, on_clock,
        )
        resumes = select(Subscription.pause_resumes_at, Subscription.id).join(
            Customer, col(Customer.id) == col(Subscription.customer_id)).where(
            col(Subscription.pause_resumes_at).is_not(None),
            col(Subscription.pause_resumes_at) <= until, on_clock,
        )
        if account_id is not None:
            query = query.where(Subscription.account_id == account_id)
            resumes = resumes.where(Subscription.account_id == account_id)
        due = [*uow.session.exec(query).all(), *uow.session.exec(resumes).all()]
        return sorted((when, sub_id) for when, sub_id in due if when is not None)


def bill_next_period(sub: Subscription, *, uow: UnitOfWork, at: datetime) -> Invoice:
    """Start the period that begins at ``at`` (its scheduled phase applied) and bill it.

    The clock renews with it; a change preview simulates the renewal after the change with it.
    """
    apply_due_phase(sub, uow=uow, at=at)
    _, price, _ = subscription_items(sub, uow)[0]
    assert price.interval is not None  # a subscription's prices are recurring
    sub.current_period_start = at
    sub.current_period_end = next_period_end(sub.billing_cycle_anchor, price.interval,
                                             price.interval_count, at)
    return bill_period(sub, billing_reason="subscription_cycle", uow=uow)


def renew_subscription(subscription_id: str, *, uow: UnitOfWork) -> Subscription:
    """Cross the subscription's period end: cancel, end the trial, or bill the next period.

    A pause whose ``resumes_at`` has come is lifted first; a scheduled change
    (a subscription schedule's next phase) is applied before the new period is billed.
    Raises ResourceMissing.
    """
    with uow:
        # Locked (on PostgreSQL) so that two workers never bill the same period twice.
        sub = lock_subscription(subscription_id, uow=uow)
        now = uow.clock()
        account_id = sub.account_id
        if sub.pause_resumes_at is not None and sub.pause_resumes_at <= now:
            lift_pause(sub, uow=uow)
        if sub.status not in LIVE_STATUSES or sub.current_period_end > now:
            uow.commit()
            return sub
        before = render_subscription(sub, uow.session)
        boundary = sub.current_period_end
        if sub.cancel_at_period_end or (sub.cancel_at is not None and sub.cancel_at <= boundary):
            # The end's events name the request that scheduled it (the clock has none).
            previous = uow.origin
            if sub.cancellation_origin:
                uow.origin = dict(sub.cancellation_origin)
            try:
                end_schedules(sub, uow=uow, event="subscription_schedule.canceled")
                # The final invoice: the usage reported up to the end, billed in arrears.
                invoice = invoice_pending_items(sub, uow=uow, pending=False,
                                                usage_until=boundary,
                                                billing_reason="subscription_cancel")
                end_subscription(sub, at=boundary, reason="cancellation_requested", uow=uow,
                                 before=before)
                if invoice is not None:
                    emit_invoice_events(invoice, uow=uow, account_id=account_id)
            finally:
                uow.origin = previous
            uow.commit()
            return sub
        if (sub.status == SubscriptionStatus.past_due
                and dunning.retry_at_period_end(sub, uow=uow)):
            # Still unpaid after a whole period of retries: the account's outcome when
            # all retries fail (Stripe's default: cancel the subscription).
            dunning.apply_final_outcome(sub, before=before, at=boundary, uow=uow)
            if sub.status != SubscriptionStatus.past_due:
                uow.commit()
                return sub
        invoice = bill_next_period(sub, uow=uow, at=boundary)
        if (invoice.status != InvoiceStatus.open or invoice.amount_remaining == 0
                or sub.collection_method == "send_invoice"):
            sub.status = SubscriptionStatus.active
        else:
            sub.status = SubscriptionStatus.past_due
            dunning.schedule_retry(invoice, sub, uow=uow)
        uow.add(sub)
        uow.flush()
        emit_invoice_events(invoice, uow=uow, account_id=account_id)
        append_subscription_event("customer.subscription.updated", sub, uow=uow, before=before)
        uow.commit()
        return sub


def advance_clock(clock: FrozenClock, to: datetime, *, account_id: str | None,
                  uow_factory: UnitOfWorkFactory, test_clock: str | None = None) -> int:
    """Move a :class:`FrozenClock` to ``to``, crossing every period end and retry on the way.

    Each renewal (or scheduled payment retry) runs in its own transaction at the
    moment it falls due, so its invoices and events carry that time. Only the
    customers on ``test_clock`` move (None: those on no test clock). Returns how
    many renewals ran. Raises InvalidRequest (backwards).
    """
    if to < clock():
        raise InvalidRequest("A test clock only moves forward.", param="frozen_time")
    count = 0
    while True:
        due = due_subscriptions(account_id=account_id, until=to, uow=uow_factory(),
                                test_clock=test_clock)
        retries = dunning.due_retries(account_id=account_id, until=to, uow=uow_factory(),
                                      test_clock=test_clock)
        if not due and not retries:
            break
        if retries and (not due or retries[0][0] < due[0][0]):
            when, invoice_id = retries[0]
            clock.set(max(when, clock()))
            dunning.retry_invoice(invoice_id, uow=uow_factory())
            continue
        when, subscription_id = due[0]
        if when > clock():
            clock.set(when)
        renew_subscription(subscription_id, uow=uow_factory())
        count += 1
    clock.set(to)
    return count
