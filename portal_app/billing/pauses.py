"""Pausing collection (Stripe's ``pause_collection``) and resuming it.

While paused, renewals go on but their invoices are voided, kept as drafts or
marked uncollectible as the pause's ``behavior`` says, and never charged
(:mod:`portal_app.billing.invoicing`). At ``resumes_at`` the clock lifts the pause.
"""

from __future__ import annotations

from datetime import datetime

from portal_app.billing.ledger_events import (
    append_subscription_event,
    emit_subscription_updated,
)
from portal_app.billing.models import Subscription, SubscriptionStatus
from portal_app.billing.objects import render_subscription
from portal_app.billing.subscriptions import load_subscription
from portal_app.clock import as_utc, to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest

PAUSE_BEHAVIORS = ("void", "keep_as_draft", "mark_uncollectible")


def pause_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                       behavior: str = "void", resumes_at: datetime | None = None,
                       customer_id: str | None = None) -> Subscription:
    """Pause collection (Stripe's ``pause_collection``) until ``resumes_at`` or resumed.

    Renewals go on while paused; their invoices are voided, kept as drafts or
    marked uncollectible as ``behavior`` says, and never charged. At
    ``resumes_at`` the clock lifts the pause. Raises ResourceMissing, InvalidRequest.
    """
    if behavior not in PAUSE_BEHAVIORS:
        raise InvalidRequest("Invalid pause_collection[behavior]: must be one of void, "
                             "keep_as_draft, or mark_uncollectible",
                             param="pause_collection[behavior]")
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id)
        if sub.status in (SubscriptionStatus.canceled, SubscriptionStatus.incomplete_expired):
            raise InvalidRequest("This subscription is canceled.", code="subscription_canceled")
        if sub.status == SubscriptionStatus.past_due:
            raise InvalidRequest("This subscription has an unpaid invoice: pay it first.",
                                 code="subscription_past_due")
        now = uow.clock()
        if resumes_at is not None:
            resumes_at = as_utc(resumes_at)
            if resumes_at <= now:
                raise InvalidRequest("pause_collection[resumes_at] must be in the future.",
                                     param="pause_collection[resumes_at]")
        before = render_subscription(sub, uow.session)
        sub.pause_collection = {"behavior": behavior, "resumes_at": to_unix(resumes_at)}
        sub.pause_resumes_at = resumes_at
        emit_subscription_updated(sub, before, uow=uow)
        if not before["pause_collection"]:
            append_subscription_event("customer.subscription.paused", sub, uow=uow)
        uow.commit()
        return sub


def lift_pause(sub: Subscription, *, uow: UnitOfWork) -> None:
    """Clear ``pause_collection`` (resume collection) with its events."""
    before = render_subscription(sub, uow.session)
    sub.pause_collection = None
    sub.pause_resumes_at = None
    emit_subscription_updated(sub, before, uow=uow)
    append_subscription_event("customer.subscription.resumed", sub, uow=uow)


def resume_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                        customer_id: str | None = None) -> Subscription:
    """Lift a pause now. Raises ResourceMissing, InvalidRequest."""
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id)
        if sub.status == SubscriptionStatus.canceled:
            raise InvalidRequest("This subscription is canceled.", code="subscription_canceled")
        if not sub.pause_collection:
            raise InvalidRequest("This subscription is not paused.",
                                 code="subscription_not_paused")
        lift_pause(sub, uow=uow)
        uow.commit()
        return sub
