"""Import Stripe event objects (JSON lines, as exported from a Stripe account) into the store.

A merchant moving to Portico brings their history this way, so the retention
dashboard covers the months before Portico too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select

from portal_app.accounts.models import Account
from portal_app.db import UnitOfWork, UnitOfWorkFactory, customer_of
from portal_app.errors import InvalidRequest
from portal_app.events.models import Event

DEFAULT_BATCH_SIZE = 1_000


@dataclass(frozen=True)
class ImportResult:
    """How many events were stored, and how many were already there (same ``evt_`` id)."""

    inserted: int
    skipped: int


def import_events(
    lines: Iterable[str],
    *,
    account_id: str,
    uow_factory: UnitOfWorkFactory,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportResult:
    """Store each Stripe event of ``lines`` (one JSON object per line) for ``account_id``.

    Events whose id is already stored (or repeated in the file) are skipped, so an
    import can be run again after a failure or with an overlapping export. Each
    batch of ``batch_size`` lines commits on its own.

    Raises ResourceMissing (no such account) and InvalidRequest (a line that is not
    a Stripe event object: its number is in the message; earlier batches stay).
    """
    with uow_factory() as uow:
        uow.get(Account, account_id, account_id=account_id, param="account")
    inserted = skipped = 0
    seen: set[str] = set()
    batch: list[Event] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        event = _event_row(line, number=number, account_id=account_id)
        if event.id in seen:
            skipped += 1
            continue
        seen.add(event.id)
        batch.append(event)
        if len(batch) >= batch_size:
            added = _store(batch, uow=uow_factory())
            inserted, skipped, batch = inserted + added, skipped + len(batch) - added, []
    if batch:
        added = _store(batch, uow=uow_factory())
        inserted, skipped = inserted + added, skipped + len(batch) - added
    return ImportResult(inserted=inserted, skipped=skipped)


def _store(batch: list[Event], *, uow: UnitOfWork) -> int:
    with uow:
        ids = [event.id for event in batch]
        existing = set(uow.session.exec(select(Event.id).where(col(Event.id).in_(ids))))
        new = [event for event in batch if event.id not in existing]
        uow.session.add_all(new)
        uow.commit()
        return len(new)


def _event_row(line: str, *, number: int, account_id: str) -> Event:
    try:
        event = json.loads(line)
    except ValueError as error:
        raise InvalidRequest(f"Line {number} is not a Stripe event object ({error!r}).") from None
    try:
        return Event(**event_values(event, account_id=account_id))
    except InvalidRequest as error:
        raise InvalidRequest(f"Line {number} {error.message}") from None


def event_values(event: Any, *, account_id: str) -> dict[str, Any]:
    """The event store's row (column values) for one Stripe event object of ``account_id``.

    One builder for every way Stripe's events come in: exports (:func:`import_events`),
    webhooks and the backfill, so the analytics read them all alike.
    Raises InvalidRequest ("is not a Stripe event object (...)").
    """
    try:
        obj = event["data"]["object"]
        if not (isinstance(event["id"], str) and event["id"].startswith("evt_")
                and isinstance(event["type"], str) and isinstance(obj, dict)):
            raise TypeError
        created = datetime.fromtimestamp(int(event["created"]), tz=UTC)
        object_id = str(obj["id"])
    except (ValueError, KeyError, TypeError, OverflowError) as error:
        raise InvalidRequest(f"is not a Stripe event object ({error!r}).") from None
    request: Any = event.get("request") or {}
    # Portico's own exports carry the flow that caused an event (``origin``).
    origin = event.get("origin")
    return {
        "id": event["id"],
        "account_id": account_id,
        "type": event["type"],
        "created": created,
        "object_id": object_id,
        "customer_id": customer_of(obj),
        "data_object": obj,
        "previous_attributes": event["data"].get("previous_attributes"),
        "request_id": request.get("id") if isinstance(request, dict) else request,
        "idempotency_key": request.get("idempotency_key") if isinstance(request, dict) else None,
        "origin": origin if isinstance(origin, dict) else None,
    }
