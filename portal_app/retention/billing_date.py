"""A free period: move a subscription's next billing date N days later.

The ledger has no public service for this, so it lives here, honest in Stripe's
terms: the customer keeps the period they paid for and gets ``days`` more free,
as a trial that ends ``days`` after the current period would have (what Stripe
does when ``trial_end`` is set on a subscription with ``proration_behavior=none``).
The next invoice comes at the new trial end and the billing cycle restarts there.
"""

from __future__ import annotations

from datetime import timedelta

from portal_app.billing import services as billing
from portal_app.billing.models import Subscription, SubscriptionStatus
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.objects import render_subscription


def postpone_next_billing(subscription_id: str, *, days: int, account_id: str, uow: UnitOfWork,
                          customer_id: str | None = None) -> Subscription:
    """Free ``days`` more: the trial (or a new one) ends ``days`` after the current period.

    Raises ResourceMissing, InvalidRequest (``subscription_canceled``,
    ``subscription_past_due``, ``subscription_paused``).
    """
    if days < 1:
        raise InvalidRequest("days must be a positive number.", param="days")
    with uow:
        sub = billing.retrieve_subscription(subscription_id, account_id=account_id, uow=uow,
                                            customer_id=customer_id)
        if sub.status not in (SubscriptionStatus.active, SubscriptionStatus.trialing) or (
                sub.cancel_at_period_end):
            code = ("subscription_past_due" if sub.status == SubscriptionStatus.past_due
                    else "subscription_canceled")
            raise InvalidRequest("Only a live subscription can get a free period.", code=code)
        if sub.pause_collection:
            raise InvalidRequest("A paused subscription cannot get a free period.",
                                 code="subscription_paused")
        before = render_subscription(sub, uow.session)
        now = uow.clock()
        new_end = sub.current_period_end + timedelta(days=days)
        if sub.status == SubscriptionStatus.active:
            sub.trial_start = now
            sub.current_period_start = now
            sub.status = SubscriptionStatus.trialing
        sub.trial_end = new_end
        sub.current_period_end = new_end
        sub.billing_cycle_anchor = new_end
        uow.add(sub)
        uow.flush()
        after = render_subscription(sub, uow.session)
        uow.events.append("customer.subscription.updated", after, account_id=account_id,
                          previous_attributes=billing.diff(before, after))
        uow.commit()
        return sub
