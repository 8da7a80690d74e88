"""Test clocks (Stripe's ``test_helpers/test_clocks``): a simulated time for some customers.

A customer created with ``test_clock`` lives on that clock: the wall clock never
renews its subscriptions, retries its payments or ends its pauses; advancing the
clock does, for its customers only, each at the moment it falls due
(:func:`portal_app.billing.renewals.advance_clock`), so every invoice and event
carries the clock's time. Objects created through the API for such a customer
take the request's time, not the clock's (Stripe uses the clock's): create the
clock at the present time to rehearse a cycle.

An advance goes at most two intervals of the clock's shortest subscription, as
Stripe's does. Advancing runs inside the request and is done when it answers: Stripe advances
in the background (``advancing``, then ``ready``); Portico records both events,
``test_helpers.test_clock.advancing`` and ``.ready``, and answers ``ready``.
Deleting a clock (Stripe deletes its customers and their objects) cancels its
customers' live subscriptions at once and leaves the customers, off any clock:
the ledger and the event store keep what happened.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import stripe
from sqlmodel import col, select

from portal_app.billing.cancellations import end_subscription
from portal_app.billing.models import (
    Customer,
    Price,
    Subscription,
    SubscriptionItem,
    TestClock,
    TestClockStatus,
)
from portal_app.billing.objects import render_subscription
from portal_app.billing.renewals import advance_clock
from portal_app.billing.subscriptions import LIVE_STATUSES
from portal_app.clock import FrozenClock, as_utc, to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.periods import shift
from portal_app.stripe_shapes import complete

# Stripe deletes a test clock 30 days after it is created.
LIFETIME = timedelta(days=30)


def render_test_clock(clock: TestClock, *, deleted: bool = False) -> dict[str, Any]:
    """Stripe's ``test_helpers.test_clock`` object (or its deletion receipt)."""
    if deleted:
        return {"id": clock.id, "object": "test_helpers.test_clock", "deleted": True}
    advancing = (complete(stripe.test_helpers.TestClock.StatusDetails.Advancing,
                          {"target_frozen_time": to_unix(clock.target_frozen_time)})
                 if clock.status == TestClockStatus.advancing else None)
    return complete(stripe.test_helpers.TestClock, {
        "id": clock.id,
        "created": to_unix(clock.created),
        "deletes_after": to_unix(clock.deletes_after),
        "frozen_time": to_unix(clock.frozen_time),
        "name": clock.name,
        "status": str(clock.status),
        "status_details": {"advancing": advancing} if advancing else {},
    })


def create_test_clock(*, account_id: str, frozen_time: datetime, uow: UnitOfWork,
                      name: str | None = None) -> TestClock:
    """A new clock, frozen at ``frozen_time`` (``test_helpers.test_clock.created``)."""
    with uow:
        now = uow.clock()
        clock = TestClock(account_id=account_id, name=name, frozen_time=as_utc(frozen_time),
                          status=TestClockStatus.ready, deletes_after=now + LIFETIME,
                          created=now)
        uow.add(clock)
        uow.flush()
        uow.events.append("test_helpers.test_clock.created", render_test_clock(clock),
                          account_id=account_id)
        uow.commit()
        return clock


def retrieve_test_clock(clock_id: str, *, account_id: str, uow: UnitOfWork) -> TestClock:
    """One of the account's clocks. Raises ResourceMissing."""
    with uow:
        return uow.get(TestClock, clock_id, account_id=account_id, param="test_clock",
                       label="test_clock")


def list_test_clocks(*, account_id: str, uow: UnitOfWork) -> list[TestClock]:
    """The account's clocks, newest first."""
    with uow:
        return list(uow.session.exec(
            select(TestClock).where(TestClock.account_id == account_id)
            .order_by(col(TestClock.created).desc(), col(TestClock.id).desc())
        ).all())


def advance_test_clock(clock_id: str, *, account_id: str, frozen_time: datetime,
                       uow: UnitOfWork) -> TestClock:
    """Move the clock forward to ``frozen_time``, billing what falls due for its customers.

    Renewals, scheduled payment retries and pause ends run in time order, each at
    its own moment, in this unit of work. Raises ResourceMissing, InvalidRequest
    (not after the current frozen time).
    """
    to = as_utc(frozen_time)
    with uow:
        clock = uow.get(TestClock, clock_id, account_id=account_id, param="test_clock",
                        label="test_clock")
        if to <= clock.frozen_time:
            raise InvalidRequest("The frozen time must be after the test clock's current "
                                 "frozen time.", param="frozen_time")
        limit = advance_limit(clock, uow=uow)
        if limit is not None and to > limit:
            raise InvalidRequest(
                "A test clock can advance at most two intervals of its shortest "
                f"subscription at a time (up to {to_unix(limit)}).", param="frozen_time")
        clock.status = TestClockStatus.advancing
        clock.target_frozen_time = to
        uow.add(clock)
        uow.flush()
        uow.events.append("test_helpers.test_clock.advancing", render_test_clock(clock),
                          account_id=account_id)
        simulated = FrozenClock(clock.frozen_time)
        request_clock, uow.clock = uow.clock, simulated
        try:
            # Every step joins this unit of work (it is open): one transaction.
            advance_clock(simulated, to, account_id=account_id, uow_factory=lambda: uow,
                          test_clock=clock.id)
        finally:
            uow.clock = request_clock
        clock.frozen_time = to
        clock.status = TestClockStatus.ready
        clock.target_frozen_time = None
        uow.add(clock)
        uow.flush()
        uow.events.append("test_helpers.test_clock.ready", render_test_clock(clock),
                          account_id=account_id)
        uow.commit()
        return clock


def advance_limit(clock: TestClock, *, uow: UnitOfWork) -> datetime | None:
    """How far the clock may advance in one step: as Stripe, two intervals of the shortest
    recurring price its customers' live subscriptions bill (None: no subscription)."""
    rows = uow.session.exec(
        select(Price.interval, Price.interval_count)
        .join(SubscriptionItem, col(SubscriptionItem.price_id) == col(Price.id))
        .join(Subscription, col(Subscription.id) == col(SubscriptionItem.subscription_id))
        .join(Customer, col(Customer.id) == col(Subscription.customer_id))
        .where(Customer.test_clock == clock.id,
               col(Subscription.status).in_([s.value for s in LIVE_STATUSES]),
               col(Price.interval).is_not(None))
    ).all()
    ends = [shift(clock.frozen_time, str(interval), 2 * count)
            for interval, count in rows if interval is not None]
    return min(ends) if ends else None


def delete_test_clock(clock_id: str, *, account_id: str, uow: UnitOfWork) -> TestClock:
    """Delete the clock: its customers' live subscriptions end now, the customers stay.

    Raises ResourceMissing.
    """
    with uow:
        clock = uow.get(TestClock, clock_id, account_id=account_id, param="test_clock",
                        label="test_clock")
        customers = list(uow.session.exec(
            select(Customer).where(Customer.test_clock == clock.id)).all())
        for customer in customers:
            live = uow.session.exec(select(Subscription).where(
                Subscription.customer_id == customer.id,
                col(Subscription.status).in_([s.value for s in LIVE_STATUSES]))).all()
            for sub in live:
                end_subscription(sub, at=clock.frozen_time, reason="cancellation_requested",
                                 uow=uow, before=render_subscription(sub, uow.session))
            customer.test_clock = None
            uow.add(customer)
        uow.flush()
        uow.events.append("test_helpers.test_clock.deleted", render_test_clock(clock),
                          account_id=account_id)
        uow.session.delete(clock)
        uow.commit()
        return clock


def customer_clock(test_clock: str, *, account_id: str, uow: UnitOfWork) -> TestClock:
    """The clock a new customer is created on (``customers.create(test_clock=...)``).

    Raises ResourceMissing.
    """
    return uow.get(TestClock, test_clock, account_id=account_id, param="test_clock",
                   label="test_clock")
