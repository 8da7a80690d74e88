"""Subscription schedules: the portal's change at the period end, and the schedules API.

The portal schedules a change with :func:`portal_app.billing.changes.apply_change`
(``schedule_at_period_end``); here it reads that pending change and cancels it.
The API creates a schedule from a subscription, replaces its phases, releases or
cancels it. How phases take effect is :mod:`portal_app.billing.schedule_phases`.
Each schedule records who made it (``created_by``): the customer may drop only the
portal's, never a merchant's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from portal_app.billing.cancellations import cancel_subscription
from portal_app.billing.catalog import recurring_price
from portal_app.billing.ledger_events import emit_subscription_updated
from portal_app.billing.metadata import merge_metadata
from portal_app.billing.models import (
    Interval,
    Price,
    Product,
    ScheduleStatus,
    Subscription,
    SubscriptionSchedule,
    SubscriptionStatus,
)
from portal_app.billing.objects import render_subscription, render_subscription_schedule
from portal_app.billing.schedule_phases import (
    BY_MERCHANT,
    BY_PORTAL,
    OPEN_SCHEDULE,
    end_schedules,
    open_schedule,
    phase_items,
)
from portal_app.billing.subscription_items import subscription_items
from portal_app.billing.subscriptions import load_subscription
from portal_app.clock import from_unix, to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.periods import shift


@dataclass(frozen=True)
class ScheduledItem:
    """One item of a scheduled change's next phase."""

    price_id: str
    quantity: int
    product_name: str


@dataclass(frozen=True)
class ScheduledChange:
    """A change waiting for the period end (a subscription schedule's next phase)."""

    effective_at: datetime
    items: tuple[ScheduledItem, ...]
    schedule_id: str


# --- the portal's change at the period end ------------------------------------------------


def cancel_scheduled_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                            customer_id: str | None = None) -> Subscription:
    """Release the customer's pending change (the change will not happen).

    Only a schedule the portal made is the customer's to drop; a merchant's stays.
    Raises ResourceMissing, InvalidRequest (``no_change``; ``not_allowed``: the
    merchant's schedule).
    """
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id)
        schedule = open_schedule(sub, uow)
        if schedule is None:
            raise InvalidRequest("This subscription has no scheduled change.",
                                 code="no_change")
        if schedule.created_by != BY_PORTAL:
            raise InvalidRequest("The merchant scheduled this change; it cannot be canceled "
                                 "here.", code="not_allowed")
        before = render_subscription(sub, uow.session)
        end_schedules(sub, uow=uow, event="subscription_schedule.released",
                      created_by=BY_PORTAL)
        emit_subscription_updated(sub, before, uow=uow)
        uow.commit()
        return sub


def pending_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                   customer_id: str | None = None) -> ScheduledChange | None:
    """The customer's change scheduled for the period end (a schedule the portal made), if
    any. Raises ResourceMissing."""
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id, lock=False)
        schedule = open_schedule(sub, uow)
        if schedule is None or schedule.created_by != BY_PORTAL:
            return None
        upcoming = [p for i, p in enumerate(schedule.phases) if i > schedule.current_phase]
        if not upcoming:
            return None
        phase = upcoming[0]
        items = []
        for spec in phase["items"]:
            price = uow.session.get(Price, spec["price"])
            product = uow.session.get(Product, price.product_id) if price else None
            items.append(ScheduledItem(price_id=spec["price"], quantity=spec.get("quantity") or 1,
                                       product_name=product.name if product else ""))
        return ScheduledChange(effective_at=from_unix(phase["start_date"]), items=tuple(items),
                               schedule_id=schedule.id)


# --- the schedules API -------------------------------------------------------------------


def create_subscription_schedule(*, account_id: str, uow: UnitOfWork, from_subscription: str
                                 ) -> SubscriptionSchedule:
    """A schedule managing ``from_subscription``, its one phase the current period.

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        sub = load_subscription(from_subscription, account_id=account_id, uow=uow,
                                customer_id=None)
        if sub.status == SubscriptionStatus.canceled:
            raise InvalidRequest("This subscription is canceled.", code="subscription_canceled",
                                 param="from_subscription")
        if open_schedule(sub, uow) is not None:
            raise InvalidRequest("The subscription is already managed by a schedule.",
                                 code="pending_scheduled_change", param="from_subscription")
        schedule = SubscriptionSchedule(
            account_id=account_id, customer_id=sub.customer_id, subscription_id=sub.id,
            status=ScheduleStatus.active, current_phase=0, created_by=BY_MERCHANT,
            phases=[{"start_date": to_unix(sub.current_period_start),
                     "end_date": to_unix(sub.current_period_end),
                     "items": phase_items([(item, price, item.quantity)
                                           for item, price, _ in subscription_items(sub, uow)]),
                     "proration_behavior": "create_prorations"}],
            created=uow.clock())
        uow.add(schedule)
        uow.flush()
        uow.events.append("subscription_schedule.created",
                          render_subscription_schedule(schedule, uow.session),
                          account_id=account_id, customer_id=sub.customer_id)
        uow.commit()
        return schedule


def retrieve_subscription_schedule(schedule_id: str, *, account_id: str, uow: UnitOfWork
                                   ) -> SubscriptionSchedule:
    """One schedule. Raises ResourceMissing."""
    with uow:
        return uow.get(SubscriptionSchedule, schedule_id, account_id=account_id,
                       label="subscription schedule")


def list_subscription_schedules(*, account_id: str, uow: UnitOfWork,
                                customer_id: str | None = None) -> list[SubscriptionSchedule]:
    """The account's schedules, newest first."""
    with uow:
        query = select(SubscriptionSchedule).where(SubscriptionSchedule.account_id == account_id)
        if customer_id is not None:
            query = query.where(SubscriptionSchedule.customer_id == customer_id)
        return list(uow.session.exec(query.order_by(
            col(SubscriptionSchedule.created).desc(), col(SubscriptionSchedule.id).desc())).all())


def update_subscription_schedule(schedule_id: str, *, account_id: str, uow: UnitOfWork,
                                 phases: Sequence[Mapping[str, Any]] | None = None,
                                 end_behavior: str | None = None,
                                 metadata: Mapping[str, str] | None = None
                                 ) -> SubscriptionSchedule:
    """Replace the phases (the current one must stay first). Raises InvalidRequest."""
    with uow:
        schedule = uow.get(SubscriptionSchedule, schedule_id, account_id=account_id,
                           label="subscription schedule")
        if schedule.status not in OPEN_SCHEDULE:
            raise InvalidRequest(f"You cannot update a {schedule.status} schedule.",
                                 code="schedule_not_open")
        if end_behavior is not None:
            if end_behavior not in ("release", "cancel"):
                raise InvalidRequest("Invalid end_behavior", param="end_behavior")
            schedule.end_behavior = end_behavior
        if phases is not None:
            sub = uow.session.get(Subscription, schedule.subscription_id)
            assert sub is not None
            schedule.phases = _validated_phases(phases, sub=sub, account_id=account_id,
                                                uow=uow)
            schedule.current_phase = 0
        if metadata is not None:
            schedule.metadata_ = merge_metadata(schedule.metadata_, metadata)
        uow.add(schedule)
        uow.flush()
        uow.events.append("subscription_schedule.updated",
                          render_subscription_schedule(schedule, uow.session),
                          account_id=account_id, customer_id=schedule.customer_id)
        uow.commit()
        return schedule


def _validated_phases(phases: Sequence[Mapping[str, Any]], *, sub: Subscription,
                      account_id: str, uow: UnitOfWork) -> list[dict[str, Any]]:
    if not phases:
        raise InvalidRequest("Missing required param: phases.", param="phases",
                             code="parameter_missing")
    out: list[dict[str, Any]] = []
    start = to_unix(sub.current_period_start)
    assert start is not None
    interval: tuple[Interval, int] | None = None
    for index, phase in enumerate(phases):
        items = phase.get("items") or []
        if not items:
            raise InvalidRequest("Missing required param: items.",
                                 param=f"phases[{index}][items]", code="parameter_missing")
        specs = []
        for j, item in enumerate(items):
            param = f"phases[{index}][items][{j}][price]"
            price, _ = recurring_price(str(item.get("price") or ""), account_id=account_id,
                                       uow=uow, param=param)
            if price.currency != sub.currency:
                raise InvalidRequest("Every price must be in the subscription's currency.",
                                     param=param, code="currency_mismatch")
            specs.append({"price": price.id, "quantity": int(item.get("quantity") or 1),
                          "_item": None})
            assert price.interval is not None  # recurring_price admits no other
            interval = (price.interval, price.interval_count)
        phase_start = int(phase.get("start_date") or start) if index == 0 else start
        end = phase.get("end_date")
        if end in (None, "") and phase.get("iterations") and interval is not None:
            end = to_unix(shift(from_unix(phase_start), interval[0],
                                interval[1] * int(phase["iterations"])))
        if end in (None, ""):
            if index != len(phases) - 1:
                raise InvalidRequest("Every phase but the last needs an end_date.",
                                     param=f"phases[{index}][end_date]")
            end = to_unix(shift(from_unix(phase_start), interval[0], interval[1])) \
                if interval else None
        if end is not None and int(end) <= phase_start:
            raise InvalidRequest("A phase must end after it starts.",
                                 param=f"phases[{index}][end_date]")
        out.append({"start_date": phase_start, "end_date": int(end) if end else None,
                    "items": specs,
                    "proration_behavior": str(phase.get("proration_behavior")
                                              or "create_prorations")})
        start = int(end) if end else start
    return out


def release_subscription_schedule(schedule_id: str, *, account_id: str, uow: UnitOfWork
                                  ) -> SubscriptionSchedule:
    """Detach the schedule; the subscription goes on as it is. Raises InvalidRequest."""
    with uow:
        schedule = uow.get(SubscriptionSchedule, schedule_id, account_id=account_id,
                           label="subscription schedule")
        if schedule.status not in OPEN_SCHEDULE or schedule.subscription_id is None:
            raise InvalidRequest(f"You cannot release a {schedule.status} schedule.",
                                 code="schedule_not_open")
        sub = load_subscription(schedule.subscription_id, account_id=account_id, uow=uow,
                                customer_id=None)
        before = render_subscription(sub, uow.session)
        end_schedules(sub, uow=uow, event="subscription_schedule.released")
        emit_subscription_updated(sub, before, uow=uow)
        uow.commit()
        return schedule


def cancel_subscription_schedule(schedule_id: str, *, account_id: str, uow: UnitOfWork
                                 ) -> SubscriptionSchedule:
    """Cancel the schedule and, as Stripe does, its subscription now.

    Raises InvalidRequest.
    """
    with uow:
        schedule = uow.get(SubscriptionSchedule, schedule_id, account_id=account_id,
                           label="subscription schedule")
        if schedule.status not in OPEN_SCHEDULE or schedule.subscription_id is None:
            raise InvalidRequest(f"You cannot cancel a {schedule.status} schedule.",
                                 code="schedule_not_open")
        cancel_subscription(schedule.subscription_id, account_id=account_id, uow=uow)
        uow.commit()
        return schedule
