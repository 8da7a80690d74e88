"""How a subscription schedule's phases take effect on its subscription.

A schedule (Stripe's ``sub_sched_``) plans the subscription's items phase by
phase: the portal's "change at the period end" is a schedule whose next phase
starts there. At each period boundary the clock applies the phase that starts
(:func:`apply_due_phase`); a schedule ends — released or canceled — with its
subscription (:func:`end_schedules`). The schedules API is :mod:`portal_app.billing.schedules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from portal_app.billing.models import (
    Price,
    ScheduleStatus,
    Subscription,
    SubscriptionItem,
    SubscriptionSchedule,
)
from portal_app.billing.objects import render_subscription_schedule
from portal_app.billing.subscription_items import subscription_items
from portal_app.clock import to_unix
from portal_app.db import UnitOfWork
from portal_app.periods import shift

OPEN_SCHEDULE = (ScheduleStatus.not_started, ScheduleStatus.active)
# Who made a schedule (``SubscriptionSchedule.created_by``): the portal's are the
# customer's own pending change; anything else is the merchant's.
BY_PORTAL = "portal"
BY_MERCHANT = "merchant"

# A phase's items: (the subscription item it keeps, if any; its price; its quantity).
PhaseItems = Sequence[tuple[SubscriptionItem | None, Price, int]]


def open_schedule(sub: Subscription, uow: UnitOfWork) -> SubscriptionSchedule | None:
    """The subscription's newest schedule that has not ended, if any."""
    return uow.session.exec(
        select(SubscriptionSchedule).where(
            SubscriptionSchedule.subscription_id == sub.id,
            col(SubscriptionSchedule.status).in_([s.value for s in OPEN_SCHEDULE]))
        .order_by(col(SubscriptionSchedule.created).desc())
    ).first()


def phase_items(rows: PhaseItems) -> list[dict[str, Any]]:
    """A phase's ``items`` as a schedule stores them."""
    return [{"price": price.id, "quantity": quantity, "_item": item.id if item else None}
            for item, price, quantity in rows]


def schedule_next_phase(sub: Subscription, *, current: PhaseItems, upcoming: PhaseItems,
                        uow: UnitOfWork, now: datetime) -> SubscriptionSchedule:
    """A schedule that keeps ``current`` to the period end, then switches to ``upcoming``.

    The next phase lasts one interval of its (first) price. This is the customer's
    change through the portal (the contract's ``schedule_subscription_update``), so the
    schedule is the portal's: the customer may drop it.
    """
    first_price = upcoming[0][1]
    assert first_price.interval is not None
    next_end = shift(sub.current_period_end, first_price.interval, first_price.interval_count)
    schedule = SubscriptionSchedule(
        account_id=sub.account_id, customer_id=sub.customer_id, subscription_id=sub.id,
        status=ScheduleStatus.active, end_behavior="release", current_phase=0,
        created_by=BY_PORTAL,
        phases=[
            {"start_date": to_unix(sub.current_period_start),
             "end_date": to_unix(sub.current_period_end),
             "items": phase_items(current), "proration_behavior": "none"},
            {"start_date": to_unix(sub.current_period_end), "end_date": to_unix(next_end),
             "items": phase_items(upcoming), "proration_behavior": "none"},
        ],
        created=now)
    uow.add(schedule)
    uow.flush()
    uow.events.append("subscription_schedule.created",
                      render_subscription_schedule(schedule, uow.session),
                      account_id=sub.account_id, customer_id=sub.customer_id)
    return schedule


def apply_due_phase(sub: Subscription, *, uow: UnitOfWork, at: datetime) -> None:
    """At a period boundary, switch the subscription to its schedule's phase starting then.

    The schedule completes once its last phase has begun: the subscription
    goes on with that phase's items (``end_behavior=release``).
    """
    schedule = open_schedule(sub, uow)
    if schedule is None:
        return
    due = [i for i, phase in enumerate(schedule.phases)
           if i > schedule.current_phase and phase["start_date"] <= to_unix(at)]
    if not due:
        return
    index = due[-1]
    phase = schedule.phases[index]
    rows = {item.id: (item, price) for item, price, _ in subscription_items(sub, uow)}
    by_price = {price.id: item for item, price in rows.values()}
    keep: set[str] = set()
    old_interval = next(iter(rows.values()))[1].interval if rows else None
    position = max((item.position for item, _ in rows.values()), default=-1) + 1
    new_interval = None
    for spec in phase["items"]:
        price = uow.session.get(Price, spec["price"])
        assert price is not None
        new_interval = price.interval
        item = rows[spec["_item"]][0] if spec.get("_item") in rows else by_price.get(price.id)
        if item is None or item.id in keep:
            item = SubscriptionItem(subscription_id=sub.id, price_id=price.id,
                                    quantity=spec.get("quantity") or 1, position=position,
                                    created=uow.clock())
            position += 1
        item.price_id = price.id
        item.quantity = spec.get("quantity") or 1
        uow.add(item)
        uow.flush()
        keep.add(item.id)
    for item_id, (item, _) in rows.items():
        if item_id not in keep:
            uow.session.delete(item)
    if new_interval != old_interval:
        sub.billing_cycle_anchor = at
    uow.flush()
    schedule.current_phase = index
    if index == len(schedule.phases) - 1:
        schedule.status = ScheduleStatus.completed
        schedule.completed_at = at
        event = "subscription_schedule.completed"
    else:
        event = "subscription_schedule.updated"
    uow.add(schedule)
    uow.flush()
    uow.events.append(event, render_subscription_schedule(schedule, uow.session),
                      account_id=sub.account_id, customer_id=sub.customer_id)


def end_schedules(sub: Subscription, *, uow: UnitOfWork, event: str,
                  created_by: str | None = None) -> None:
    """Release or cancel the subscription's open schedules (``event`` says which).

    ``created_by`` ends only the schedules made by it (``BY_PORTAL``): the others stay.
    """
    now = uow.clock()
    query = select(SubscriptionSchedule).where(
        SubscriptionSchedule.subscription_id == sub.id,
        col(SubscriptionSchedule.status).in_([s.value for s in OPEN_SCHEDULE]))
    if created_by is not None:
        query = query.where(SubscriptionSchedule.created_by == created_by)
    for schedule in uow.session.exec(query).all():
        if event.endswith("released"):
            schedule.status = ScheduleStatus.released
            schedule.released_at = now
            schedule.released_subscription = sub.id
        else:
            schedule.status = ScheduleStatus.canceled
            schedule.canceled_at = now
        uow.add(schedule)
        uow.flush()
        uow.events.append(event, render_subscription_schedule(schedule, uow.session),
                          account_id=sub.account_id, customer_id=sub.customer_id)
