"""Events from a merchant's Stripe account, as its webhooks deliver them.

A delivery is verified (``Stripe-Signature``, Stripe's SDK, 5-minute tolerance),
then stored: the event in the event store — the row :func:`event_values` builds, as
for imported exports, so the analytics read webhooks, exports and the backfill alike —
and its object as the account's snapshot (:mod:`portal_app.events.snapshots`), both in
one transaction. A redelivery (an event id already stored) changes nothing. Inbound
events are Stripe's: they are not sent on to the merchant's Portico webhook endpoints
(they get Stripe's own), so no outbox row is written for them.

:class:`GroupCommit` writes the events of concurrent deliveries in one transaction and
answers each after that commit: one fsync for many events.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import stripe
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from portal_app.accounts.stripe_link import stripe_credentials
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import BillingError, InvalidRequest
from portal_app.events.importer import event_values
from portal_app.events.models import Event
from portal_app.events.snapshots import Offered, record_snapshots

TOLERANCE = 300  # seconds: Stripe's own default for construct_event
SECRET_TTL = 10.0  # seconds a signing secret is kept in memory (a rolled secret: this long)
MAX_BATCH = 1_000  # events per transaction
POSTGRES_WRITERS = 3  # transactions in flight at once on PostgreSQL


@dataclass(frozen=True)
class Incoming:
    """A verified event, ready to store: its event-store row and whether it was thin."""

    values: dict[str, Any]
    thin: bool = False


@dataclass(frozen=True)
class Stored:
    """What storing one event did: ``duplicate`` (already stored) or ``stale`` (refetch)."""

    event_id: str
    account_id: str
    object_id: str
    duplicate: bool
    stale: bool


def verify(
    payload: bytes, header: str | None, *, secret: str, tolerance: int = TOLERANCE
) -> dict[str, Any]:
    """The event ``payload`` holds, once its ``Stripe-Signature`` ``header`` is verified.

    Verified by the SDK (``stripe.WebhookSignature.verify_header``): an HMAC-SHA256 of
    ``"<t>.<payload>"`` under ``secret``, ``t`` within ``tolerance`` seconds.
    Raises InvalidRequest (code ``signature_verification_failed``, or ``invalid_event``
    for a signed body that is not an event).
    """
    if not header:
        raise InvalidRequest(
            "The Stripe-Signature header is missing.", code="signature_verification_failed"
        )
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as error:
        raise InvalidRequest(
            f"Webhook signature verification failed: {error.user_message}",
            code="signature_verification_failed",
        ) from None
    except UnicodeDecodeError:
        raise InvalidRequest("The payload is not UTF-8.", code="invalid_event") from None
    try:
        event = json.loads(payload)
    except ValueError:
        raise InvalidRequest("The payload is not JSON.", code="invalid_event") from None
    if not isinstance(event, dict):
        raise InvalidRequest("The payload is not a Stripe event object.", code="invalid_event")
    return event


def incoming(event: dict[str, Any], *, account_id: str) -> Incoming:
    """The event-store row of a verified event (a snapshot event or a thin one).

    A thin event (``related_object`` instead of ``data.object``) is stored with a stub
    object (id, type, url); its snapshot is fetched from Stripe afterwards.
    Raises InvalidRequest (code ``invalid_event``).
    """
    related = event.get("related_object")
    thin = "data" not in event and isinstance(related, dict) and isinstance(related.get("id"), str)
    if thin and isinstance(related, dict):
        created = event.get("created")
        if isinstance(created, str):  # thin events carry RFC 3339 text
            moment = thin_created(created)
            created = None if moment is None else int(moment.timestamp())
        stub = {"id": related.get("id"), "object": related.get("type"), "url": related.get("url")}
        event = {**event, "created": created, "data": {"object": stub}}
    try:
        return Incoming(values=event_values(event, account_id=account_id), thin=thin)
    except InvalidRequest as error:
        raise InvalidRequest(f"The payload {error.message}", code="invalid_event") from None


def store_events(batch: Sequence[Incoming], *, uow: UnitOfWork) -> list[Stored]:
    """Store ``batch`` in one transaction: new events, then their objects' snapshots.

    An event id already stored (or repeated in ``batch``) is a duplicate and changes
    nothing. Returns one :class:`Stored` per item of ``batch``, in order.
    """
    with uow:
        session = uow.session
        inserted = _insert_new(session, [item.values for item in batch])
        offered = [
            Offered(
                account_id=item.values["account_id"],
                object_id=item.values["object_id"],
                data=item.values["data_object"],
                created=item.values["created"],
                event_id=item.values["id"],
                thin=item.thin,
            )
            for item in batch
            if item.values["id"] in inserted
        ]
        doubt = record_snapshots(session, offered) if offered else set()
        uow.commit()
    results = []
    for item in batch:
        values = item.values
        event_id = values["id"]
        fresh = event_id in inserted
        inserted.discard(event_id)  # the same id later in this batch is a duplicate
        results.append(
            Stored(
                event_id=event_id,
                account_id=values["account_id"],
                object_id=values["object_id"],
                duplicate=not fresh,
                stale=fresh and (values["account_id"], values["object_id"]) in doubt,
            )
        )
    return results


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    # Sorted: concurrent transactions (PostgreSQL) take their locks in one order, no deadlock.
    unique = sorted({row["id"]: row for row in rows}.values(), key=lambda row: row["id"])
    if not unique:
        return set()
    statement = _insert_statement(session.get_bind().dialect.name)
    return set(session.connection().execute(statement, unique).scalars())


@lru_cache
def _insert_statement(dialect: str) -> Any:
    # ON CONFLICT: a concurrent writer (another process) may store the same id first.
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    event = Event.__table__.c  # type: ignore[attr-defined]
    return insert(Event).on_conflict_do_nothing(index_elements=["id"]).returning(event.id)


class SigningSecrets:
    """The webhook signing secret of each Stripe-backed account, kept briefly in memory.

    Opening a sealed secret costs a query and a decryption; at thousands of events per
    second it is read once per ``ttl`` seconds instead.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, *, ttl: float = SECRET_TTL) -> None:
        self.uow_factory = uow_factory
        self.ttl = ttl
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def cached(self, account_id: str) -> str | None:
        """The secret if it was read less than ``ttl`` seconds ago."""
        hit = self._cache.get(account_id)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def get(self, account_id: str) -> str:
        """The account's signing secret.

        Raises ResourceMissing (no such account) and InvalidRequest (the account bills
        on Portico's ledger, or has no signing secret configured).
        """
        secret = self.cached(account_id)
        if secret is not None:
            return secret
        credentials = stripe_credentials(account_id, uow=self.uow_factory())
        if credentials is None:
            raise InvalidRequest(
                "This account does not bill with Stripe: it takes no Stripe webhooks.",
                code="account_not_stripe_backed",
            )
        if not credentials.webhook_secret:
            raise InvalidRequest(
                "This account has no webhook signing secret configured.",
                code="webhook_secret_missing",
            )
        with self._lock:
            self._cache[account_id] = (time.monotonic() + self.ttl, credentials.webhook_secret)
        return credentials.webhook_secret


class GroupCommit:
    """Stores the events of concurrent requests together: one transaction per flush.

    :meth:`store` queues an event and waits; a writer thread takes everything queued,
    stores it (:func:`store_events`) and answers every waiter after the commit. While it
    writes, the next batch gathers. With one request at a time it is a plain transaction
    per event; under load a transaction carries many. ``writers`` transactions may be in
    flight at once: 1 on SQLite (one writer anyway), :data:`POSTGRES_WRITERS` on
    PostgreSQL, where a batch spends most of its time waiting on the server.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        max_batch: int = MAX_BATCH,
        writers: int | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.max_batch = max_batch
        self.writers = writers
        self._executor: ThreadPoolExecutor | None = None
        # Per event loop (a server runs one; tests may run several).
        self._queues: dict[asyncio.AbstractEventLoop, list[tuple[Incoming, asyncio.Future]]] = {}
        self._running: dict[asyncio.AbstractEventLoop, int] = {}
        self.transactions = 0  # flushes so far

    async def store(self, item: Incoming) -> Stored:
        """Store ``item`` with whatever else is queued; return once it is committed.

        Raises SQLAlchemyError when the transaction fails (nothing of it is stored).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Stored] = loop.create_future()
        self._queues.setdefault(loop, []).append((item, future))
        if self._running.get(loop, 0) < self._writers():
            self._running[loop] = self._running.get(loop, 0) + 1
            loop.create_task(self._flush(loop))
        return await future

    def _writers(self) -> int:
        if self.writers is None:
            dialect = self.uow_factory().engine.dialect.name
            self.writers = POSTGRES_WRITERS if dialect == "postgresql" else 1
        return self.writers

    def _write(self, items: list[Incoming]) -> list[Stored]:
        return store_events(items, uow=self.uow_factory())

    async def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        queue = self._queues[loop]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._writers(), thread_name_prefix="event-writer"
            )
        try:
            while queue:
                batch = queue[: self.max_batch]
                del queue[: self.max_batch]
                results: list[Stored] | None = None
                error: BaseException | None = None
                try:
                    results = await loop.run_in_executor(
                        self._executor, self._write, [item for item, _ in batch]
                    )
                    self.transactions += 1
                except (SQLAlchemyError, BillingError) as failure:
                    error = failure
                finally:
                    # Every waiter is answered, even if this flusher itself fails.
                    for index, (_, future) in enumerate(batch):
                        if future.done():
                            continue
                        if results is not None:
                            future.set_result(results[index])
                        else:
                            future.set_exception(error or RuntimeError("the event writer stopped"))
        finally:
            self._running[loop] -= 1


def thin_created(value: Any) -> datetime | None:
    """A thin event's ``created`` (RFC 3339 text) as an aware datetime, or None."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
