"""The outbox: the deliveries an event owes, written in the event's own transaction.

``EventLog.append`` (:mod:`portal_app.db`) hands every event it appends to
:func:`owe_deliveries`; when the session next flushes the event rows (at the latest on
commit), the same flush inserts one pending ``webhook_delivery`` per enabled endpoint
of the account whose ``enabled_events`` hold ``*`` or the event's type, due at the
event's time. The rows commit with the event or not at all: a rolled-back change sends
nothing, a committed event is never lost (the worker finds it by ``next_attempt_at``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, TextClause, insert, text
from sqlalchemy import event as sa_event
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Dialect
from sqlmodel import Session

from portal_app.events.models import Event
from portal_app.ids import random_id
from portal_app.webhooks.models import (
    DELIVERY_PENDING,
    ENDPOINT_ENABLED,
    WebhookDelivery,
    WebhookEndpoint,
)

ALL_EVENTS = "*"
OWED = "portico.webhooks.owed"  # Session.info key: events whose deliveries are not written yet
_ENDPOINT: Any = WebhookEndpoint.__table__.c  # type: ignore[attr-defined]
_DELIVERY: Table = WebhookDelivery.__table__  # type: ignore[attr-defined]


def matches(enabled_events: Collection[str], event_type: str) -> bool:
    """Whether an endpoint listening to ``enabled_events`` wants ``event_type``."""
    return ALL_EVENTS in enabled_events or event_type in enabled_events


def owe_deliveries(session: Session, event: Event) -> None:
    """Have the flush that writes ``event`` (added to ``session``) write its deliveries too."""
    session.info.setdefault(OWED, []).append(event)


@sa_event.listens_for(Session, "before_flush")
def _write_owed(session: Session, _context: Any, _instances: Any) -> None:
    owed: list[Event] = session.info.pop(OWED, [])
    # An event gone from the session (a rolled-back savepoint) owes nothing.
    if events := [event for event in owed if event in session.new]:
        enqueue_deliveries(session, events)


def enqueue_deliveries(session: Session, events: Sequence[Event]) -> list[str]:
    """Insert the pending deliveries ``events`` owe to their accounts' endpoints; their ids.

    Core statements on the session's connection (in its transaction), not ORM rows: every
    committed event pays for this. One query for the endpoints of all the events'
    accounts and one INSERT for all the rows, so a transaction appending many events
    (a batch job, the benchmark's producer) pays per transaction, not per event.
    """
    connection = session.connection()
    accounts = {event.account_id for event in events}
    endpoints: dict[str, list[tuple[str, Collection[str]]]] = {}
    for account_id, endpoint_id, enabled_events in connection.execute(
            sa_select(_ENDPOINT.account_id, _ENDPOINT.id, _ENDPOINT.enabled_events).where(
                _ENDPOINT.account_id.in_(accounts), _ENDPOINT.status == ENDPOINT_ENABLED)):
        endpoints.setdefault(account_id, []).append((endpoint_id, enabled_events))
    rows: list[dict[str, Any]] = [
        {"id": random_id("whd"), "account_id": event.account_id, "endpoint_id": endpoint_id,
         "event_id": event.id, "event_type": event.type, "status": DELIVERY_PENDING,
         "attempt_count": 0, "next_attempt_at": event.created, "created": event.created}
        for event in events for endpoint_id, enabled_events in
        sorted(endpoints.get(event.account_id, ())) if matches(enabled_events, event.type)]
    insert_rows(connection, _DELIVERY, rows)
    return [row["id"] for row in rows]


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of the same keys) in one statement.

    PostgreSQL: ``INSERT … SELECT * FROM unnest(<one array per column>)``: one fixed
    statement whatever the number of rows (an executemany there runs one statement per
    row; a multi-row ``VALUES`` is a new statement text for every size, parsed anew).
    SQLite: executemany, which its driver runs in C.
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = tuple(rows[0])
    statement, processors = _unnest_insert(table, names, connection.dialect)
    connection.execute(statement, {
        f"c{i}": [row[name] for row in rows] if process is None
        else [process(row[name]) for row in rows]
        for i, (name, process) in enumerate(zip(names, processors, strict=True))})


@lru_cache(maxsize=64)
def _unnest_insert(table: Table, names: tuple[str, ...], dialect: Dialect
                   ) -> tuple[TextClause, list[Callable[[Any], Any] | None]]:
    types = [table.c[name].type for name in names]
    arrays = ", ".join(f"CAST(:c{i} AS {kind.compile(dialect=dialect)}[])"
                       for i, kind in enumerate(types))
    statement = text(f"INSERT INTO {table.name} ({', '.join(names)}) "
                     f"SELECT * FROM unnest({arrays})")
    return statement, [kind.bind_processor(dialect) for kind in types]
