"""Stripe's ``event`` objects for the API and for webhook payloads, and the 30-day window.

One renderer, :func:`render_event`, makes both the body of ``GET /v1/events/{id}``
and the payload every webhook delivery signs and sends.

The 30-day window, as Stripe's: ``GET /v1/events`` lists, and retrieves, only
events created in the last 30 days; older ones answer 404. It is a property of
the events API, NOT a deletion: the event store is also the churn dashboard's
history (``portal_app.events.analytics_source`` reads it back years), so event
rows are never pruned here. :func:`prune_events` (called by the webhook worker
loop) deletes only what the window makes unreachable and nothing else reads:
delivery and attempt rows of events older than 30 days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, not_, or_
from sqlmodel import col, select

from portal_app.db import UnitOfWork
from portal_app.errors import ResourceMissing
from portal_app.events.models import Event
from portal_app.objects import render_event as render_event_base
from portal_app.stripe_shapes import list_object
from portal_app.webhooks.models import (
    DELIVERY_PENDING,
    DELIVERY_SUCCEEDED,
    WebhookAttempt,
    WebhookDelivery,
)

EVENT_WINDOW = timedelta(days=30)  # Stripe lists and retrieves events of the last 30 days
URL = "/v1/events"


def render_event(event: Event, *, pending_webhooks: int = 0) -> dict[str, Any]:
    """Stripe's ``event`` object (the API's and the webhook payload's)."""
    out = render_event_base(event)
    out["pending_webhooks"] = pending_webhooks
    return out


def pending_counts(uow: UnitOfWork, event_ids: Iterable[str]) -> dict[str, int]:
    """How many deliveries of each event are still pending (Stripe's ``pending_webhooks``)."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = uow.session.exec(
        select(WebhookDelivery.event_id, func.count()).where(
            col(WebhookDelivery.event_id).in_(ids),
            WebhookDelivery.status == DELIVERY_PENDING).group_by(WebhookDelivery.event_id))
    return {event_id: int(count) for event_id, count in rows}


@dataclass(frozen=True)
class CreatedRange:
    """Stripe's ``created`` filter: an exact time, or any of gt, gte, lt, lte."""

    gt: datetime | None = None
    gte: datetime | None = None
    lt: datetime | None = None
    lte: datetime | None = None

    def conditions(self) -> list[Any]:
        created = col(Event.created)
        out = []
        if self.gt is not None:
            out.append(created > self.gt)
        if self.gte is not None:
            out.append(created >= self.gte)
        if self.lt is not None:
            out.append(created < self.lt)
        if self.lte is not None:
            out.append(created <= self.lte)
        return out


def _in_window(account_id: str, now: datetime) -> list[Any]:
    return [Event.account_id == account_id, col(Event.created) >= now - EVENT_WINDOW]


def _type_condition(pattern: str) -> Any:
    """``type`` equal to ``pattern``, where ``*`` matches anything (``customer.*``)."""
    if "*" not in pattern:
        return Event.type == pattern
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return col(Event.type).like(escaped.replace("*", "%"), escape="\\")


def _delivery_condition(success: bool) -> Any:
    """Events whose every delivery succeeded (``True``), or with one pending or failed."""
    of_event = col(WebhookDelivery.event_id) == col(Event.id)
    unsuccessful = exists().where(of_event, col(WebhookDelivery.status) != DELIVERY_SUCCEEDED)
    if success:
        return and_(exists().where(of_event), not_(unsuccessful))
    return unsuccessful


def retrieve_event(event_id: str, *, account_id: str, uow: UnitOfWork, now: datetime
                   ) -> dict[str, Any]:
    """One event of the last 30 days. Raises ResourceMissing (older ones too)."""
    with uow:
        row = uow.session.exec(select(Event).where(Event.id == event_id,
                                                   *_in_window(account_id, now))).first()
        if row is None:
            raise ResourceMissing(f"No such event: '{event_id}'", param="id")
        return render_event(row, pending_webhooks=pending_counts(uow, [row.id]).get(row.id, 0))


def list_events(
    account_id: str,
    *,
    uow: UnitOfWork,
    now: datetime,
    limit: int = 10,
    starting_after: str | None = None,
    ending_before: str | None = None,
    types: list[str] | None = None,
    created: CreatedRange | None = None,
    delivery_success: bool | None = None,
) -> dict[str, Any]:
    """One page of the account's events of the last 30 days, newest first (Stripe's list).

    ``types`` keeps events of any of these types (``*`` a wildcard). Raises
    ResourceMissing when a cursor is not an event of the window.
    """
    conditions = _in_window(account_id, now)
    if types:
        conditions.append(or_(*(_type_condition(t) for t in types)))
    if created is not None:
        conditions += created.conditions()
    if delivery_success is not None:
        conditions.append(_delivery_condition(delivery_success))
    seq = col(Event.seq)
    with uow:
        query = select(Event).where(*conditions)
        cursor_id = starting_after or ending_before
        if cursor_id:
            cursor = uow.session.exec(select(Event).where(
                Event.id == cursor_id, *_in_window(account_id, now))).first()
            if cursor is None:
                raise ResourceMissing(
                    f"No such event: '{cursor_id}'",
                    param="starting_after" if starting_after else "ending_before")
            query = query.where(seq < cursor.seq if starting_after else seq > cursor.seq)
        query = query.order_by(seq.asc() if ending_before else seq.desc())
        rows = list(uow.session.exec(query.limit(limit + 1)).all())
        has_more = len(rows) > limit
        rows = rows[:limit]
        if ending_before:
            rows.reverse()
        pending = pending_counts(uow, [row.id for row in rows])
        data = [render_event(row, pending_webhooks=pending.get(row.id, 0)) for row in rows]
    return list_object(data, url=URL, has_more=has_more)


def prune_events(uow: UnitOfWork, now: datetime) -> int:
    """Delete the delivery and attempt rows of events older than 30 days; how many.

    Event rows stay (the analytics read them; the API hides them past the window).
    """
    cutoff = now - EVENT_WINDOW
    old = select(WebhookDelivery.id).where(col(WebhookDelivery.created) < cutoff)
    with uow:
        attempts = uow.session.execute(delete(WebhookAttempt).where(
            col(WebhookAttempt.delivery_id).in_(old)))
        deliveries = uow.session.execute(delete(WebhookDelivery).where(
            col(WebhookDelivery.created) < cutoff))
        uow.commit()
    return int(attempts.rowcount or 0) + int(deliveries.rowcount or 0)  # type: ignore[attr-defined]
