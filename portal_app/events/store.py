"""Reading the event store: the merchant console's event log queries.

Every query is scoped to one account: an event id or filter value that arrives
from a browser never reaches another merchant's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select

from portal_app.db import UnitOfWork
from portal_app.errors import ResourceMissing
from portal_app.events.models import Event
from portal_app.objects import render_event

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class EventSummary:
    """One row of the event log: what changed, when, and for which customer."""

    seq: int
    id: str
    type: str
    created: datetime
    object_id: str
    customer_id: str | None


@dataclass(frozen=True)
class EventPage:
    """A page of events, newest first; ``next_before_seq`` continues after its last row."""

    events: list[EventSummary]
    has_more: bool

    @property
    def next_before_seq(self) -> int | None:
        """The cursor of the following (older) page, or None on the last page."""
        return self.events[-1].seq if self.has_more and self.events else None


def list_events(
    account_id: str,
    *,
    uow: UnitOfWork,
    type: str | None = None,
    customer: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    before_seq: int | None = None,
) -> EventPage:
    """The account's events newest first (by ``seq``), optionally of one type or customer.

    ``before_seq`` is the keyset cursor: only events older than it are returned.
    ``limit`` is clamped to 1..100.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(Event).where(Event.account_id == account_id)
    if type:
        query = query.where(Event.type == type)
    if customer:
        query = query.where(Event.customer_id == customer.strip())
    if before_seq is not None:
        query = query.where(col(Event.seq) < before_seq)
    query = query.order_by(col(Event.seq).desc()).limit(limit + 1)
    with uow:
        rows = list(uow.session.exec(query))
        events = [_summary(row) for row in rows[:limit]]
    return EventPage(events=events, has_more=len(rows) > limit)


def distinct_types(account_id: str, *, uow: UnitOfWork) -> list[str]:
    """The event types this account has, alphabetically."""
    query = (
        select(Event.type).where(Event.account_id == account_id).distinct().order_by(Event.type)
    )
    with uow:
        return list(uow.session.exec(query))


def count_events(account_id: str, *, uow: UnitOfWork) -> int:
    """How many events the account has."""
    query = select(func.count()).select_from(Event).where(Event.account_id == account_id)
    with uow:
        return int(uow.session.exec(query).one())


def retrieve_event(event_id: str, *, account_id: str, uow: UnitOfWork) -> dict[str, Any]:
    """One event of the account as Stripe's ``event`` object. Raises ResourceMissing."""
    with uow:
        row = uow.session.exec(select(Event).where(Event.id == event_id)).first()
        if row is None or row.account_id != account_id:
            raise ResourceMissing(f"No such event: '{event_id}'", param="id")
        return render_event(row)


def _summary(row: Event) -> EventSummary:
    assert row.seq is not None  # a stored row always has its sequence number
    return EventSummary(seq=row.seq, id=row.id, type=row.type, created=row.created,
                        object_id=row.object_id, customer_id=row.customer_id)
