"""Usage-based billing as Stripe's current API models it: billing meters and meter events.

A :class:`~portal_app.billing.models.Meter` names an event (``event_name``) and how
its events aggregate over a period (``sum``, ``count`` or ``last``); the merchant
reports usage as meter events, each for one customer, with a whole-number value
and a timestamp. A metered price points at a meter (``recurring.meter``) and is
billed in arrears: each invoice bills the usage since the item was last billed,
up to the start of the period it opens (see :func:`billable_usage`), so an event
at a period boundary belongs to the period that starts there.

Meter events are deduplicated by ``identifier``: a resent event is stored once,
and the resend answers with the event first stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from portal_app.billing.ledger_events import append_if_changed
from portal_app.billing.models import (
    METER_FORMULAS,
    Customer,
    InvoiceLine,
    Meter,
    MeterEvent,
    MeterStatus,
    Price,
    Subscription,
    SubscriptionItem,
)
from portal_app.billing.objects import render_meter
from portal_app.clock import as_utc
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.ids import random_id
from portal_app.limits import MAX_USAGE_VALUE

# How far from "now" an event's timestamp may be, as Stripe allows.
PAST_LIMIT = timedelta(days=35)
FUTURE_LIMIT = timedelta(minutes=5)
MAX_NAME = 100
GROUPING_WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


# --- meters ------------------------------------------------------------------------------


def create_meter(*, account_id: str, uow: UnitOfWork, display_name: str, event_name: str,
                 formula: str, customer_payload_key: str = "stripe_customer_id",
                 value_payload_key: str = "value", event_time_window: str | None = None
                 ) -> Meter:
    """Create an active meter. One active meter per ``event_name``. Raises InvalidRequest."""
    if not display_name or not display_name.strip():
        raise InvalidRequest("Missing required param: display_name.", param="display_name",
                             code="parameter_missing")
    _check_name(event_name, "event_name")
    if formula not in METER_FORMULAS:
        raise InvalidRequest("Invalid default_aggregation[formula]: must be one of count, "
                             "last, or sum", param="default_aggregation[formula]")
    _check_name(customer_payload_key, "customer_mapping[event_payload_key]")
    _check_name(value_payload_key, "value_settings[event_payload_key]")
    if event_time_window not in (None, *GROUPING_WINDOWS):
        raise InvalidRequest("Invalid event_time_window: must be one of day or hour",
                             param="event_time_window")
    with uow:
        _refuse_active_duplicate(event_name, account_id=account_id, uow=uow)
        now = uow.clock()
        meter = Meter(account_id=account_id, display_name=display_name.strip(),
                      event_name=event_name, formula=formula,
                      customer_payload_key=customer_payload_key,
                      value_payload_key=value_payload_key,
                      event_time_window=event_time_window, created=now, updated=now)
        uow.add(meter)
        uow.flush()
        uow.events.append("billing.meter.created", render_meter(meter), account_id=account_id)
        uow.commit()
        return meter


def _check_name(value: str, param: str) -> None:
    if not value:
        raise InvalidRequest(f"Missing required param: {param}.", param=param,
                             code="parameter_missing")
    if len(value) > MAX_NAME:
        raise InvalidRequest(f"{param} must be at most {MAX_NAME} characters.", param=param)


def _refuse_active_duplicate(event_name: str, *, account_id: str, uow: UnitOfWork,
                             other_than: str | None = None) -> None:
    query = select(Meter.id).where(Meter.account_id == account_id,
                                   Meter.event_name == event_name,
                                   Meter.status == MeterStatus.active)
    if other_than is not None:
        query = query.where(Meter.id != other_than)
    if uow.session.exec(query).first() is not None:
        raise InvalidRequest(f"An active meter with event_name `{event_name}` already exists.",
                             param="event_name", code="resource_already_exists")


def retrieve_meter(meter_id: str, *, account_id: str, uow: UnitOfWork) -> Meter:
    """One meter of the account. Raises ResourceMissing."""
    with uow:
        return uow.get(Meter, meter_id, account_id=account_id, label="billing.meter")


def update_meter(meter_id: str, *, account_id: str, uow: UnitOfWork,
                 display_name: str | None = None) -> Meter:
    """Rename a meter (its only changeable field). Raises ResourceMissing, InvalidRequest."""
    if display_name is not None and not display_name.strip():
        raise InvalidRequest("The display_name cannot be empty.", param="display_name")
    with uow:
        meter = uow.get(Meter, meter_id, account_id=account_id, label="billing.meter")
        before = render_meter(meter)
        if display_name is not None:
            meter.display_name = display_name.strip()
        return _save(meter, before, "billing.meter.updated", uow=uow)


def deactivate_meter(meter_id: str, *, account_id: str, uow: UnitOfWork) -> Meter:
    """Stop accepting events for the meter; usage already reported still bills.

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        meter = uow.get(Meter, meter_id, account_id=account_id, label="billing.meter")
        if meter.status == MeterStatus.inactive:
            raise InvalidRequest("This meter is already inactive.", code="meter_inactive")
        before = render_meter(meter)
        meter.status = MeterStatus.inactive
        meter.deactivated_at = uow.clock()
        return _save(meter, before, "billing.meter.deactivated", uow=uow)


def reactivate_meter(meter_id: str, *, account_id: str, uow: UnitOfWork) -> Meter:
    """Accept events for the meter again. Raises ResourceMissing, InvalidRequest."""
    with uow:
        meter = uow.get(Meter, meter_id, account_id=account_id, label="billing.meter")
        if meter.status == MeterStatus.active:
            raise InvalidRequest("This meter is already active.", code="meter_active")
        _refuse_active_duplicate(meter.event_name, account_id=account_id, uow=uow,
                                 other_than=meter.id)
        before = render_meter(meter)
        meter.status = MeterStatus.active
        meter.deactivated_at = None
        return _save(meter, before, "billing.meter.reactivated", uow=uow)


def _save(meter: Meter, before: dict[str, Any], event: str, *, uow: UnitOfWork) -> Meter:
    meter.updated = uow.clock()
    uow.add(meter)
    uow.flush()
    append_if_changed(event, before, render_meter(meter), uow=uow, account_id=meter.account_id,
                      ignore=("updated",))
    uow.commit()
    return meter


# --- meter events ------------------------------------------------------------------------


def create_meter_event(*, account_id: str, uow: UnitOfWork, event_name: str,
                       payload: Mapping[str, str], timestamp: datetime | None = None,
                       identifier: str | None = None) -> MeterEvent:
    """Record usage for the customer named in ``payload``.

    The active meter with ``event_name`` decides the payload keys of the customer
    and of the value. An ``identifier`` already recorded returns the event first
    stored (a retry counts once); the same identifier with other content is
    refused. Raises InvalidRequest, ResourceMissing.
    """
    _check_name(event_name, "event_name")
    if identifier is not None:
        _check_name(identifier, "identifier")
    with uow:
        meter = uow.session.exec(
            select(Meter).where(Meter.account_id == account_id, Meter.event_name == event_name,
                                Meter.status == MeterStatus.active)
        ).first()
        if meter is None:
            raise InvalidRequest(f"No active meter was found matching event_name "
                                 f"`{event_name}`.", param="event_name",
                                 code="meter_event_no_meter")
        customer_key = meter.customer_payload_key
        customer_id = payload.get(customer_key)
        if not customer_id:
            raise InvalidRequest(f"Missing required param: payload[{customer_key}].",
                                 param=f"payload[{customer_key}]", code="parameter_missing")
        uow.get(Customer, customer_id, account_id=account_id, param=f"payload[{customer_key}]",
                label="customer")
        value = _event_value(meter, payload)
        now = uow.clock()
        when = timestamp if timestamp is not None else now
        if not now - PAST_LIMIT <= when <= now + FUTURE_LIMIT:
            raise InvalidRequest("The timestamp must be within the past 35 calendar days or "
                                 "up to 5 minutes in the future.", param="timestamp",
                                 code="timestamp_out_of_range")
        if identifier is not None:
            stored = _stored(identifier, account_id=account_id, uow=uow)
            if stored is not None:
                return _replay(stored, event_name, payload, timestamp)
        event = MeterEvent(account_id=account_id, meter_id=meter.id, customer_id=customer_id,
                           event_name=event_name,
                           identifier=identifier or random_id("mtrevt", length=24),
                           value=value, payload={k: str(v) for k, v in payload.items()},
                           timestamp=when, created=now)
        savepoint = uow.session.begin_nested()
        try:
            uow.add(event)
            uow.flush()
            savepoint.commit()
        except IntegrityError:
            # The same identifier was committed by a concurrent request in between.
            savepoint.rollback()
            stored = _stored(event.identifier, account_id=account_id, uow=uow)
            if stored is None:
                raise
            return _replay(stored, event_name, payload, timestamp)
        uow.commit()
        return event


def _event_value(meter: Meter, payload: Mapping[str, str]) -> int:
    key = meter.value_payload_key
    raw = payload.get(key)
    if raw in (None, ""):
        if meter.formula == "count":
            return 1  # a count meter counts events; their values do not matter
        raise InvalidRequest(f"Missing required param: payload[{key}].",
                             param=f"payload[{key}]", code="parameter_missing")
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidRequest(f"payload[{key}] must be a whole number of units, 0 or more.",
                             param=f"payload[{key}]")
    if value > MAX_USAGE_VALUE:
        raise InvalidRequest(f"payload[{key}] must be at most {MAX_USAGE_VALUE:,} units.",
                             param=f"payload[{key}]")
    return value


def _stored(identifier: str, *, account_id: str, uow: UnitOfWork) -> MeterEvent | None:
    return uow.session.exec(select(MeterEvent).where(
        MeterEvent.account_id == account_id, MeterEvent.identifier == identifier)).first()


def _replay(stored: MeterEvent, event_name: str, payload: Mapping[str, str],
            timestamp: datetime | None) -> MeterEvent:
    same = (stored.event_name == event_name
            and stored.payload == {k: str(v) for k, v in payload.items()}
            and (timestamp is None or stored.timestamp == timestamp))
    if not same:
        raise InvalidRequest(f"A meter event with identifier `{stored.identifier}` already "
                             "exists with different content.", param="identifier",
                             code="resource_already_exists")
    return stored


# --- aggregation -------------------------------------------------------------------------


def aggregate(meter: Meter, *, customer_id: str, start: datetime, end: datetime,
              uow: UnitOfWork) -> int:
    """The meter's value for one customer over ``[start, end)`` (0 without events)."""
    if end <= start:
        return 0
    where = (MeterEvent.meter_id == meter.id, MeterEvent.customer_id == customer_id,
             MeterEvent.timestamp >= start, MeterEvent.timestamp < end)
    with uow:
        if meter.formula == "count":
            return int(uow.session.exec(select(func.count()).select_from(MeterEvent)
                                        .where(*where)).one())
        if meter.formula == "last":
            last = uow.session.exec(
                select(MeterEvent.value).where(*where)
                .order_by(col(MeterEvent.timestamp).desc(), col(MeterEvent.created).desc(),
                          col(MeterEvent.id).desc())).first()
            return int(last or 0)
        total = uow.session.exec(select(func.sum(MeterEvent.value)).where(*where)).one()
        return int(total or 0)


@dataclass(frozen=True)
class EventSummary:
    """A meter's aggregated value for one customer over ``[start, end)``."""

    id: str
    meter_id: str
    customer_id: str
    start: datetime
    end: datetime
    value: int


def list_event_summaries(meter_id: str, *, account_id: str, uow: UnitOfWork, customer: str,
                         start: datetime, end: datetime, grouping: str | None = None
                         ) -> list[EventSummary]:
    """The meter's usage for ``customer`` over ``[start, end)``, newest window first.

    Without ``grouping`` one summary covers the whole range; with ``hour`` or
    ``day`` there is one per window that has events. Times must fall on minute
    boundaries (on hour or UTC-day boundaries for that grouping).
    Raises ResourceMissing, InvalidRequest.
    """
    if grouping is not None and grouping not in GROUPING_WINDOWS:
        raise InvalidRequest("Invalid value_grouping_window: must be one of day or hour",
                             param="value_grouping_window")
    step = GROUPING_WINDOWS.get(grouping or "", timedelta(minutes=1))
    for name, when in (("start_time", start), ("end_time", end)):
        if not _aligned(when, step):
            unit = {"hour": "hour", "day": "UTC day"}.get(grouping or "", "minute")
            raise InvalidRequest(f"{name} must be aligned with {unit} boundaries.",
                                 param=name)
    if end <= start:
        raise InvalidRequest("end_time must be after start_time.", param="end_time")
    with uow:
        meter = uow.get(Meter, meter_id, account_id=account_id, label="billing.meter")
        uow.get(Customer, customer, account_id=account_id, param="customer", label="customer")
        if grouping is None:
            windows = [(start, end)]
        else:
            found = uow.session.exec(
                select(MeterEvent.timestamp).where(
                    MeterEvent.meter_id == meter.id, MeterEvent.customer_id == customer,
                    MeterEvent.timestamp >= start, MeterEvent.timestamp < end)).all()
            starts = sorted({start + step * ((when - start) // step) for when in found})
            windows = [(s, min(s + step, end)) for s in starts]
        summaries = [EventSummary(id=_summary_id(meter.id, customer, s, e), meter_id=meter.id,
                                  customer_id=customer, start=s, end=e,
                                  value=aggregate(meter, customer_id=customer, start=s, end=e,
                                                  uow=uow))
                     for s, e in windows]
    return sorted(summaries, key=lambda summary: summary.start, reverse=True)


def _aligned(when: datetime, step: timedelta) -> bool:
    return int(when.timestamp()) % int(step.total_seconds()) == 0


def _summary_id(meter_id: str, customer: str, start: datetime, end: datetime) -> str:
    """Stable per window, so that list cursors name the same summary on every call."""
    key = f"{meter_id}|{customer}|{int(start.timestamp())}|{int(end.timestamp())}"
    return "mtrusg_" + hashlib.sha256(key.encode()).hexdigest()[:24]


# --- billing a metered item --------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """What a metered item used over ``[start, end)`` and what that costs."""

    quantity: int
    amount: int  # quantity × the price's unit_amount, in minor units
    start: datetime
    end: datetime


def billable_usage(sub: Subscription, item: SubscriptionItem, price: Price, *,
                   until: datetime, uow: UnitOfWork) -> Usage:
    """The item's usage not billed yet, up to ``until`` (exclusive).

    It starts where the item's last usage line ended (or when the item was
    added), and never before a trial ends: usage during a trial is free.
    A metered price without a meter has no usage to bill.
    """
    return _usage(sub, item, price, until=until, free_trial=True, uow=uow)


def current_usage(sub: Subscription, item: SubscriptionItem, price: Price, *,
                  uow: UnitOfWork) -> Usage:
    """The item's usage so far in the current period, and what the next invoice bills for it.

    During a trial the usage is counted but costs nothing. A price without a
    meter shows no usage.
    """
    end = sub.current_period_end
    if sub.trial_end is not None and sub.trial_end >= end:
        counted = _usage(sub, item, price, until=end, free_trial=False, uow=uow)
        return Usage(quantity=counted.quantity, amount=0, start=counted.start, end=end)
    return _usage(sub, item, price, until=end, free_trial=True, uow=uow)


def _usage(sub: Subscription, item: SubscriptionItem, price: Price, *, until: datetime,
           free_trial: bool, uow: UnitOfWork) -> Usage:
    with uow:
        billed_until = uow.session.exec(
            select(func.max(InvoiceLine.period_end))
            .join(Price, col(Price.id) == InvoiceLine.price_id)
            .where(InvoiceLine.subscription_item_id == item.id,
                   col(InvoiceLine.proration).is_(False), Price.usage_type == "metered")
        ).one()
        start = max(item.created, as_utc(billed_until) if billed_until else item.created)
        if free_trial and sub.trial_end is not None:
            start = max(start, min(sub.trial_end, until))
        start = min(start, until)
        meter = uow.session.get(Meter, price.meter_id) if price.meter_id else None
        quantity = (aggregate(meter, customer_id=sub.customer_id, start=start, end=until,
                              uow=uow) if meter is not None else 0)
    return Usage(quantity=quantity, amount=quantity * price.unit_amount, start=start,
                 end=until)
