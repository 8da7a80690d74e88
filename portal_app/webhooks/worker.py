"""The delivery worker: claims due deliveries, sends them, records every attempt.

A worker repeats three steps, each in its own short transaction:

1. **claim** up to ``batch_size`` pending deliveries that are due (``next_attempt_at <= now``)
   and not leased by a live worker (``lease_until`` empty or past), by setting
   ``lease_until = now + lease``. On PostgreSQL the rows are read ``FOR UPDATE SKIP LOCKED``,
   so workers claiming at the same moment take disjoint rows; SQLite has one writer at a
   time (``BEGIN IMMEDIATE``), which serializes claims the same way.
2. **send** the claimed deliveries concurrently (asyncio, at most ``per_endpoint`` at once
   to one endpoint), each signed afresh. A claim is sent only while its lease has at
   least the send timeout left, so a lease never expires during its POST: two workers
   never send one attempt at the same time.
3. **record** each attempt (time, status, latency, response excerpt) and its outcome: a
   2xx makes the delivery ``succeeded``; otherwise the next attempt is scheduled
   (:mod:`portal_app.webhooks.schedule`), or the delivery is ``failed`` once the retries
   are over. An endpoint failing every attempt for 3 days is disabled (reason
   ``"failing"``) and its pending deliveries fail with it.

A worker killed between 1 and 3 (``kill -9``) records nothing: its leases run out and
another worker sends those deliveries again — at least once, as Stripe promises; receivers
deduplicate by event id.

The served app runs one worker in a background thread (:func:`background_worker`, unless
``PORTICO_WEBHOOKS_WORKER=0``); ``portico webhooks-worker`` runs more as separate processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, case, func, or_, text, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from portal_app.clock import Clock, utc_now
from portal_app.db import UnitOfWork
from portal_app.dbtypes import UTCDateTime
from portal_app.errors import BillingError
from portal_app.events.models import Event
from portal_app.ids import new_id
from portal_app.settings import get_settings
from portal_app.webhooks.addresses import check_destination
from portal_app.webhooks.events import prune_events, render_event
from portal_app.webhooks.models import (
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SUCCEEDED,
    ENDPOINT_DISABLED,
    ENDPOINT_ENABLED,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal_app.webhooks.outbox import insert_rows
from portal_app.webhooks.schedule import STRIPE_LIKE, RetrySchedule
from portal_app.webhooks.sender import DEFAULT_TIMEOUT, Outcome, Sender
from portal_app.webhooks.signing import SealedSecretError, open_secret, signature_header

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_LEASE = timedelta(minutes=2)
DISABLED_REASON_FAILING = "failing"
PRUNE_EVERY = timedelta(minutes=10)
DESTINATION_TTL = 30.0  # seconds a checked address is reused for one URL (then resolved again)

# Batched writes go through the tables (Core executemany), not the ORM's unit of work.
DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[attr-defined]
ATTEMPTS: Table = WebhookAttempt.__table__  # type: ignore[attr-defined]
ENDPOINTS: Table = WebhookEndpoint.__table__  # type: ignore[attr-defined]
EVENTS: Table = Event.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claim:
    """A leased delivery, ready to send: its endpoint's URL and secret, the payload."""

    delivery_id: str
    account_id: str
    endpoint_id: str
    event_id: str
    url: str
    livemode: bool
    secret: str
    payload: str
    created: datetime  # the event's time: retries stop 3 days after it
    attempt_count: int  # attempts made before this one
    send_by: float  # time.monotonic() past which this worker must not start the POST


@dataclass(frozen=True)
class Result:
    """What became of one claim: an attempt (``outcome``), or released unsent (``None``)."""

    claim: Claim
    outcome: Outcome | None
    started_at: datetime | None = None


@dataclass
class Stats:
    """What a worker did so far."""

    claimed: int = 0
    succeeded: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    endpoints_disabled: int = 0

    def add(self, other: Stats) -> None:
        for name in ("claimed", "succeeded", "retried", "failed", "released",
                     "endpoints_disabled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


# ---------------------------------------------------------------- the transactions


def claim_due(uow: UnitOfWork, *, limit: int, lease: timedelta, send_window: float,
              accounts: Collection[str] | None = None) -> list[Claim]:
    """Lease up to ``limit`` due deliveries and load what sending them takes.

    Deliveries whose endpoint is disabled (or whose secret no longer opens) fail here
    instead of being sent.
    """
    with uow:
        now = uow.clock()
        due_now = [DELIVERIES.c.status == DELIVERY_PENDING, DELIVERIES.c.next_attempt_at <= now,
                   or_(DELIVERIES.c.lease_until.is_(None), DELIVERIES.c.lease_until < now)]
        if accounts is not None:
            due_now.append(DELIVERIES.c.account_id.in_(list(accounts)))
        conn = uow.session.connection()
        if conn.dialect.name == "sqlite":
            # SQLite's write lock is the whole database's: an idle worker polling for work
            # looks first, and takes the lock only when there is something to claim.
            if conn.execute(core_select(DELIVERIES.c.id).where(*due_now).limit(1)).first() \
                    is None:
                return []
            uow.lock_for_writing()
        due = (core_select(DELIVERIES.c.id).where(*due_now)
               .order_by(DELIVERIES.c.next_attempt_at).limit(limit))
        if conn.dialect.name == "postgresql":
            # Workers claiming at once skip each other's rows instead of waiting for them.
            due = due.with_for_update(skip_locked=True)
        # Core rows, not ORM objects, and one statement that picks and leases them: a
        # claim takes a few hundred rows many times a second.
        rows = conn.execute(
            update(DELIVERIES).where(DELIVERIES.c.id.in_(due.scalar_subquery()))
            .values(lease_until=now + lease)
            .returning(DELIVERIES.c.id, DELIVERIES.c.account_id, DELIVERIES.c.endpoint_id,
                       DELIVERIES.c.event_id, DELIVERIES.c.created,
                       DELIVERIES.c.attempt_count)).all()
        if not rows:
            return []
        endpoints = {e.id: e for e in conn.execute(
            core_select(ENDPOINTS.c.id, ENDPOINTS.c.url, ENDPOINTS.c.status,
                        ENDPOINTS.c.livemode, ENDPOINTS.c.secret_sealed)
            .where(ENDPOINTS.c.id.in_({r.endpoint_id for r in rows}))).all()}
        # An event row read as a Core row has the attributes render_event reads; each
        # comes with its pending deliveries (Stripe's ``pending_webhooks``), this one's
        # included.
        of_event = DELIVERIES.alias("of_event")
        pending = core_select(func.count()).where(
            of_event.c.event_id == EVENTS.c.id,
            of_event.c.status == DELIVERY_PENDING).scalar_subquery()
        events: dict[str, Any] = {e.id: e for e in conn.execute(
            core_select(EVENTS, pending.label("pending_webhooks"))
            .where(EVENTS.c.id.in_({r.event_id for r in rows}))).all()}
        payloads: dict[str, str] = {}
        secrets: dict[str, str | None] = {}
        claims: list[Claim] = []
        dead: list[dict[str, str]] = []
        send_by = time.monotonic() + send_window
        for row in rows:
            endpoint = endpoints[row.endpoint_id]
            event = events.get(row.event_id)
            if endpoint.id not in secrets:
                secrets[endpoint.id] = _open(endpoint.secret_sealed, endpoint.id)
            secret = secrets[endpoint.id]
            if endpoint.status != ENDPOINT_ENABLED or event is None or secret is None:
                dead.append({"d_id": row.id, "d_error": (
                    "endpoint disabled" if endpoint.status != ENDPOINT_ENABLED
                    else "event not found" if event is None
                    else "signing secret does not open")})
                continue
            if event.id not in payloads:
                payloads[event.id] = json.dumps(
                    render_event(event, pending_webhooks=event.pending_webhooks))
            claims.append(Claim(
                delivery_id=row.id, account_id=row.account_id, endpoint_id=endpoint.id,
                event_id=event.id, url=endpoint.url, livemode=endpoint.livemode, secret=secret,
                payload=payloads[event.id], created=row.created, attempt_count=row.attempt_count,
                send_by=send_by))
        if dead:
            conn.execute(update(DELIVERIES).where(DELIVERIES.c.id == bindparam("d_id"))
                         .values(status=DELIVERY_FAILED, next_attempt_at=None,
                                 lease_until=None, last_error=bindparam("d_error")), dead)
        uow.commit()
        return claims


def _open(sealed: bytes, endpoint_id: str) -> str | None:
    try:
        return open_secret(sealed, endpoint_id=endpoint_id)
    except SealedSecretError:
        return None


def record_results(uow: UnitOfWork, results: list[Result], *,
                   schedule: RetrySchedule = STRIPE_LIKE) -> Stats:
    """Write each attempt and its outcome; update the endpoints' failing state."""
    stats = Stats()
    attempts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    released: list[str] = []
    # endpoint id -> (started_at of its last outcome, succeeded?, first failure since success)
    health: dict[str, tuple[datetime, bool, datetime | None]] = {}
    with uow:
        uow.lock_for_writing()
        now = uow.clock()
        for result in results:
            claim, outcome, started = result.claim, result.outcome, result.started_at
            if outcome is None or started is None:
                released.append(claim.delivery_id)
                stats.released += 1
                continue
            attempts.append({
                "id": new_id("wha")(), "delivery_id": claim.delivery_id,
                "account_id": claim.account_id, "started_at": started,
                "latency_ms": outcome.latency_ms, "http_status": outcome.http_status,
                "error": outcome.error, "response_excerpt": outcome.response_excerpt})
            attempts_made = claim.attempt_count + 1
            delivered: datetime | None = None
            if outcome.succeeded:
                status, next_at, delivered = DELIVERY_SUCCEEDED, None, now
                stats.succeeded += 1
            else:
                next_at = schedule.next_attempt_at(created=claim.created,
                                                   attempts=attempts_made, failed_at=started)
                status = DELIVERY_PENDING if next_at else DELIVERY_FAILED
                if next_at:
                    stats.retried += 1
                else:
                    stats.failed += 1
            updates.append({
                "d_id": claim.delivery_id, "d_status": status, "d_count": attempts_made,
                "d_next": next_at, "d_delivered": delivered,
                "d_http": outcome.http_status, "d_error": outcome.error})
            last = health.get(claim.endpoint_id)
            if last is None or started >= last[0]:
                first_failure = None if outcome.succeeded else (
                    last[2] if last is not None and last[2] is not None else started)
                health[claim.endpoint_id] = (started, outcome.succeeded, first_failure)
        conn = uow.session.connection()
        insert_rows(conn, ATTEMPTS, attempts)
        if updates:
            _write_outcomes(conn, updates)
        if released:
            conn.execute(update(DELIVERIES).where(DELIVERIES.c.id.in_(released))
                         .values(lease_until=None))
        stats.endpoints_disabled = _update_health(uow, health, now=now, schedule=schedule)
        uow.commit()
    return stats


# A delivery failed meanwhile (its endpoint disabled) keeps its status and error unless
# this attempt succeeded; the attempt is counted either way.
_TAKES_OUTCOME = f"(d.status = '{DELIVERY_PENDING}' OR v.delivered_at IS NOT NULL)"
# PostgreSQL: every outcome of a batch in one statement, its columns passed as arrays (one
# fixed statement, prepared once; an executemany there is one statement per row).
_OUTCOMES_POSTGRESQL = text(f"""
UPDATE webhook_delivery AS d SET
    status = CASE WHEN {_TAKES_OUTCOME} THEN v.status ELSE d.status END,
    next_attempt_at = CASE WHEN {_TAKES_OUTCOME} THEN v.next_attempt_at END,
    delivered_at = COALESCE(v.delivered_at, d.delivered_at),
    attempt_count = v.attempt_count,
    last_http_status = v.http_status,
    last_error = CASE WHEN {_TAKES_OUTCOME} THEN v.error ELSE d.last_error END,
    lease_until = NULL
FROM unnest(CAST(:d_id AS text[]), CAST(:d_status AS text[]), CAST(:d_count AS int[]),
            CAST(:d_next AS timestamptz[]), CAST(:d_delivered AS timestamptz[]),
            CAST(:d_http AS int[]), CAST(:d_error AS text[]))
    AS v(id, status, attempt_count, next_attempt_at, delivered_at, http_status, error)
WHERE d.id = v.id""")


def _write_outcomes(conn: Connection, updates: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(_OUTCOMES_POSTGRESQL, {key: [u[key] for u in updates] for key in updates[0]})
        return
    # SQLite: the same as an executemany, which its driver runs in C.
    delivered_at = bindparam("d_delivered", type_=UTCDateTime())
    takes_outcome = or_(DELIVERIES.c.status == DELIVERY_PENDING, delivered_at.is_not(None))
    conn.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.id == bindparam("d_id"))
        .values(status=case((takes_outcome, bindparam("d_status")), else_=DELIVERIES.c.status),
                next_attempt_at=case((takes_outcome, bindparam(
                    "d_next", type_=UTCDateTime())), else_=None),
                delivered_at=func.coalesce(delivered_at, DELIVERIES.c.delivered_at),
                attempt_count=bindparam("d_count"), last_http_status=bindparam("d_http"),
                last_error=case((takes_outcome, bindparam("d_error")),
                                else_=DELIVERIES.c.last_error),
                lease_until=None),
        updates)


def _update_health(uow: UnitOfWork, health: dict[str, tuple[datetime, bool, datetime | None]],
                   *, now: datetime, schedule: RetrySchedule) -> int:
    conn = uow.session.connection()
    healthy = [e for e, (_, ok, _) in health.items() if ok]
    if healthy:
        conn.execute(update(ENDPOINTS)
                     .where(ENDPOINTS.c.id.in_(healthy), ENDPOINTS.c.failing_since.is_not(None))
                     .values(failing_since=None))
    failing = {e: since for e, (_, ok, since) in health.items() if not ok}
    if not failing:
        return 0
    conn.execute(update(ENDPOINTS)
                 .where(ENDPOINTS.c.id == bindparam("e_id"), ENDPOINTS.c.failing_since.is_(None))
                 .values(failing_since=bindparam("e_since")),
                 [{"e_id": e, "e_since": since} for e, since in failing.items()])
    disabled = 0
    for endpoint in uow.session.exec(select(WebhookEndpoint).where(
            col(WebhookEndpoint.id).in_(list(failing)),
            WebhookEndpoint.status == ENDPOINT_ENABLED)).all():
        if schedule.gives_up_on(failing_since=endpoint.failing_since, now=now):
            disable_failing_endpoint(uow, endpoint)
            disabled += 1
    return disabled


def disable_failing_endpoint(uow: UnitOfWork, endpoint: WebhookEndpoint) -> None:
    """Disable ``endpoint`` for failing every attempt; its pending deliveries fail with it."""
    endpoint.status = ENDPOINT_DISABLED
    endpoint.disabled_reason = DISABLED_REASON_FAILING
    uow.add(endpoint)
    uow.flush()
    uow.session.connection().execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.endpoint_id == endpoint.id, DELIVERIES.c.status == DELIVERY_PENDING)
        .values(status=DELIVERY_FAILED, next_attempt_at=None, lease_until=None,
                last_error="endpoint disabled: every attempt failed for 3 days"))


# ---------------------------------------------------------------- the loop


@dataclass
class Worker:
    """Claims, sends and records deliveries until stopped (see the module docstring).

    ``clock`` decides what is due and stamps attempts (tests freeze it); signatures carry
    the wall time of ``wall_clock``, since receivers check them against theirs.
    ``accounts`` limits the worker to some merchants' deliveries (tests; dedicated workers).
    """

    engine: Engine | None = None
    clock: Clock = utc_now
    wall_clock: Clock = utc_now
    schedule: RetrySchedule = STRIPE_LIKE
    timeout: float = DEFAULT_TIMEOUT
    lease: timedelta = DEFAULT_LEASE
    batch_size: int = 200
    max_in_flight: int = 512
    per_endpoint: int = 32
    poll_interval: float = 0.25
    accounts: Collection[str] | None = None
    sender_factory: Callable[[], Sender] | None = None
    stats: Stats = field(default_factory=Stats)
    _destinations: dict[tuple[str, bool], tuple[float, str | BillingError]] = field(
        default_factory=dict, repr=False)
    _slots: dict[str, asyncio.Semaphore] = field(default_factory=dict, repr=False)
    _queued: dict[str, int] = field(default_factory=dict, repr=False)
    _pruned_at: datetime | None = field(default=None, repr=False)
    database_errors: int = field(default=0, repr=False)  # in a row, until one succeeds

    def __post_init__(self) -> None:
        if self.lease.total_seconds() <= self.timeout + 1.0:
            raise ValueError(f"the lease ({self.lease}) must outlast the send timeout "
                             f"({self.timeout} s) by more than a second")

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, clock=self.clock)

    async def drain(self) -> Stats:
        """Send everything due now (retries included once their time has come), then return."""
        before = Stats()
        before.add(self.stats)
        await self.run(asyncio.Event(), until_idle=True)
        done = Stats()
        done.add(self.stats)
        for name in ("claimed", "succeeded", "retried", "failed", "released",
                     "endpoints_disabled"):
            setattr(done, name, getattr(done, name) - getattr(before, name))
        return done

    async def run(self, stop: asyncio.Event, *, until_idle: bool = False) -> None:
        """Deliver until ``stop`` is set (or, ``until_idle``, until nothing is due).

        Finished sends are recorded in the background, one batch at a time, while the
        worker claims and sends the next ones: the database round trips of recording and
        claiming overlap instead of following each other.
        """
        sender = self.sender_factory() if self.sender_factory else Sender(timeout=self.timeout)
        in_flight: set[asyncio.Task[Result]] = set()
        done: list[Result] = []
        recording: asyncio.Task[None] | None = None

        def finished(task: asyncio.Task[Result]) -> None:
            in_flight.discard(task)
            if not task.cancelled():
                done.append(task.result())

        def record_done() -> asyncio.Task[None] | None:
            """Start recording what finished, unless a batch is being recorded."""
            if recording is not None and not recording.done():
                return recording
            if recording is not None:
                recording.result()  # a recording's unexpected error stops the worker
            if not done:
                return None
            batch = done[:]
            done.clear()
            return asyncio.create_task(self._record(batch))

        try:
            while not stop.is_set():
                recording = record_done()
                await self._maybe_prune()
                room = self.max_in_flight - len(in_flight)
                want = min(room, self.batch_size)
                claims: list[Claim] = []
                if room >= min(self.batch_size, self.max_in_flight) // 2:
                    claims = await self._database(self._claim, want) or []
                for claim in claims:
                    task = asyncio.create_task(self._deliver(sender, claim))
                    in_flight.add(task)
                    task.add_done_callback(finished)
                busy: set[asyncio.Task[Any]] = set(in_flight)
                if recording is not None:
                    busy.add(recording)
                if claims and len(claims) == want:
                    await asyncio.sleep(0)  # more may be due: claim again after a turn
                elif busy:
                    await asyncio.wait(busy, timeout=self.poll_interval,
                                       return_when=asyncio.FIRST_COMPLETED)
                    await asyncio.sleep(0.005)  # let a few more finish: fewer transactions
                elif not done:
                    if until_idle:
                        if recording is not None:
                            recording.result()  # raises what the last recording raised
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self.poll_interval)
            if in_flight:  # stopping: finish what was started, then record it
                await asyncio.wait(in_flight)
        finally:
            try:
                for task in in_flight:
                    task.cancel()
                if recording is not None:
                    await recording
                if done:
                    await self._record(done[:])
            finally:
                await sender.close()

    def _claim(self, limit: int) -> list[Claim]:
        # Never start a POST whose timeout could outlast the lease (plus a margin).
        send_window = self.lease.total_seconds() - self.timeout - 1.0
        claims = claim_due(self.uow(), limit=limit, lease=self.lease,
                           send_window=send_window, accounts=self.accounts)
        self.stats.claimed += len(claims)
        return claims

    async def _record(self, batch: list[Result]) -> None:
        stats = await self._database(record_results, self.uow(), batch, schedule=self.schedule)
        if stats is not None:
            stats.claimed = 0
            self.stats.add(stats)

    async def _maybe_prune(self) -> None:
        # Deliveries past the events API's 30 days (portal_app.webhooks.events): a worker
        # limited to some accounts leaves that to the others.
        now = self.clock()
        if self.accounts is None and (self._pruned_at is None
                                      or now - self._pruned_at >= PRUNE_EVERY):
            self._pruned_at = now
            await self._database(prune_events, self.uow(), now)

    async def _database(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``work`` in a thread; ``None`` after a database error, which the worker outlives.

        Unrecorded results are lost with it, not the deliveries: their leases expire and
        they are sent again.
        """
        try:
            result = await asyncio.to_thread(work, *args, **kwargs)
        except DBAPIError as error:
            self.database_errors += 1
            pause = min(10.0, 0.1 * 2 ** self.database_errors)
            logger.warning("webhook worker: database error (retrying in %.1f s): %s", pause,
                           error)
            await asyncio.sleep(pause)
            return None
        self.database_errors = 0
        return result

    async def _deliver(self, sender: Sender, claim: Claim) -> Result:
        endpoint = claim.endpoint_id
        slot = self._slots.setdefault(endpoint, asyncio.Semaphore(self.per_endpoint))
        self._queued[endpoint] = self._queued.get(endpoint, 0) + 1
        try:
            async with slot:
                return await self._post(sender, claim)
        finally:
            self._queued[endpoint] -= 1
            if not self._queued[endpoint]:  # forget idle endpoints: the worker runs for months
                del self._queued[endpoint], self._slots[endpoint]

    async def _post(self, sender: Sender, claim: Claim) -> Result:
        """One POST of ``claim``, signed now, unless its lease is running out."""
        if time.monotonic() > claim.send_by:
            return Result(claim, None)  # the lease is too short now: leave it to a retake
        started = self.clock()
        destination = await self._destination(claim.url, claim.livemode)
        if isinstance(destination, BillingError):
            outcome = Outcome(http_status=None, latency_ms=0,
                              error=f"destination refused: {destination.message}"[:500])
            return Result(claim, outcome, started)
        timestamp = int(self.wall_clock().timestamp())
        outcome = await sender.post(
            claim.url, address=destination, payload=claim.payload.encode(),
            signature=signature_header(claim.payload, claim.secret, timestamp=timestamp))
        return Result(claim, outcome, started)

    async def _destination(self, url: str, livemode: bool) -> str | BillingError:
        # Resolved and checked once per URL every DESTINATION_TTL seconds; the POST then
        # connects to exactly the checked address.
        key = (url, livemode)
        cached = self._destinations.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            found: str | BillingError = await asyncio.to_thread(check_destination, url,
                                                                livemode=livemode)
        except BillingError as refusal:
            found = refusal
        now = time.monotonic()
        if len(self._destinations) > 4096:
            self._destinations = {k: v for k, v in self._destinations.items() if v[0] > now}
        self._destinations[key] = (now + DESTINATION_TTL, found)
        return found


# ---------------------------------------------------------------- running it


class BackgroundWorker:
    """A :class:`Worker` on its own thread and event loop (the served app's runner)."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name="portico-webhooks",
                                        daemon=True)

    @property
    def alive(self) -> bool:
        """Whether the worker's thread is running."""
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()
        self._started.wait(timeout=10)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to finish its in-flight deliveries and stop; wait for it."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=timeout)

    def _main(self) -> None:
        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self._started.set()
            await self.worker.run(self._stop)

        asyncio.run(main())


def run_in_process(worker: Worker, *, once: bool = False) -> Stats:
    """Run ``worker`` here until SIGINT or SIGTERM (or, ``once``, until nothing is due).

    A signal lets the in-flight deliveries finish and be recorded; ``kill -9`` does not,
    and their leases expire instead.
    """
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await worker.run(stop, until_idle=once)

    asyncio.run(main())
    return worker.stats


def worker_enabled() -> bool:
    """Whether the served app runs a delivery worker (``PORTICO_WEBHOOKS_WORKER``, default on)."""
    return get_settings().webhooks_worker


@contextlib.asynccontextmanager
async def background_worker() -> AsyncIterator[None]:
    """Lifespan task of the served app: a delivery worker for as long as it serves."""
    if not worker_enabled():
        yield
        return
    runner = BackgroundWorker(Worker())
    runner.start()
    try:
        yield
    finally:
        await asyncio.to_thread(runner.stop)


@contextlib.contextmanager
def running(worker: Worker) -> Iterator[BackgroundWorker]:
    """``worker`` running in the background for the block (tests, scripts)."""
    runner = BackgroundWorker(worker)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()
