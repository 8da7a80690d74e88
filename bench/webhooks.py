"""Outbound webhooks under load: deliveries/s, event-to-delivery latency, nothing lost.

    .venv/bin/python bench/webhooks.py [--events 100000] [--endpoints 10] [--workers 2]
                                       [--database PATH|postgresql+psycopg://.../NAME]
                                       [--batch 200] [--rate 0] [--speed 600]
                                       [--fail-rate 0.05] [--outage 3]
                                       [--mode both|prefill|live] [--json]

On loopback only, in one run:

1. migrates a fresh database (a temporary SQLite file by default; ``--database`` a
   SQLite path, or a PostgreSQL URL whose database is dropped and created afresh —
   never ``test``, which the suite empties) and makes merchant accounts with
   ``--endpoints`` webhook endpoints in all (three per account), created through the
   endpoint service in test mode: some listen to ``*``, some to a few event types;
2. starts the receivers: one child process, one asyncio server per endpoint on its own
   port (keep-alive HTTP/1.1; every 20th request of each endpoint is verified with
   ``stripe.Webhook.construct_event``, a bad signature is answered 400 and counted);
3. **baseline**: a plain aiohttp client (keep-alive, 64 requests in flight) posts signed
   payloads of the same size to the same receivers, with no database: the most the
   machine delivers, so that Portico's figure reads as a ratio too;
4. **Portico**, in two phases on the same database (``--mode both``; or only one):
   *prefill* writes every event first and starts the workers after — the workers' drain
   rate alone (the latencies then include the wait in the full outbox); *live* has
   ``--workers`` worker processes (``portal_app.webhooks.worker``, the code that
   ``portico webhooks-worker`` runs) drain the outbox while this process writes
   ``--events`` events through the real path (``uow.events.append`` in units of work of
   ``--batch`` events: each commit writes its events and their outbox rows), as fast as
   it can or at ``--rate`` events/s. The receivers answer 500 to ``--fail-rate`` of the
   requests at random, and the first endpoint refuses connections for ``--outage``
   seconds from ``--outage-after`` (2) seconds in. The retry schedule is Stripe's, run
   ``--speed`` times faster (``RetrySchedule.scaled``: a minute lasts 0.1 s at 600), so
   retries happen within the run; the clock itself is the real one.

When the outbox has no pending delivery left, it prints for each phase deliveries/s (deliveries that
got a 2xx, each (event, endpoint) counted once, over the time from the first event —
in the prefill phase, from the workers' start — to the last delivery), attempts/s, the
workers' CPU time per attempt (after their start-up; steadier than wall time on a shared
machine), the p50/p99 event-to-delivery latency (the receiver's
receipt time of the first 2xx minus the event's ``created``, both on the real clock;
also for the deliveries that succeeded at their first attempt), **lost** (an event's
(event, endpoint) pair that never got a 2xx — computed from the events written and each
endpoint's ``enabled_events``, not from the outbox), **duplicates** (2xx beyond the first
for one pair: at-least-once allows them; receivers dedupe by event id), misdirected
deliveries, bad signatures, and Portico's ratio to the baseline. Exits 1 if anything was
lost or misdirected, or a signature did not verify.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets as secrets_module
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import stripe
from sqlalchemy import func
from sqlalchemy.engine import Engine, make_url
from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crash import create_database  # noqa: E402

from portal_app.accounts import services as accounts  # noqa: E402
from portal_app.db import UnitOfWork, get_engine  # noqa: E402
from portal_app.migrate import upgrade  # noqa: E402
from portal_app.webhooks import endpoints as webhook_endpoints  # noqa: E402
from portal_app.webhooks import worker as webhook_worker  # noqa: E402
from portal_app.webhooks.models import DELIVERY_PENDING, WebhookDelivery  # noqa: E402
from portal_app.webhooks.schedule import STRIPE_LIKE  # noqa: E402
from portal_app.webhooks.signing import signature_header  # noqa: E402

READY_TIMEOUT = 30.0
ENDPOINTS_PER_ACCOUNT = 3
# What each endpoint listens to, in turn (endpoint i gets LISTENS[i % len(LISTENS)]).
LISTENS: list[list[str]] = [
    ["*"],
    ["invoice.paid", "invoice.payment_failed"],
    ["customer.subscription.updated", "customer.subscription.deleted"],
    ["customer.created", "customer.updated"],
    ["*"],
]
EVENT_TYPES = ["customer.created", "customer.updated", "customer.subscription.created",
               "customer.subscription.updated", "customer.subscription.deleted",
               "invoice.paid", "invoice.payment_failed",
               "portico.cancellation_flow.completed"]


# --- receivers (a child process: this file with --serve-receivers) ----------------------

EVENT_ID = re.compile(rb'"id":\s*"(evt_[A-Za-z0-9_]+)"')
HEAD_END = b"\r\n\r\n"
OK = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n"
      b'{"received":true}')
FAILED = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
          b"Content-Length: 21\r\n\r\nsomething went wrong\n")
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 13\r\n\r\nbad signature"


class Hub:
    """The receivers' shared state: the log, the failure rate, who is down."""

    def __init__(self, *, secrets: list[str], sample: int, seed: int) -> None:
        self.secrets = secrets
        self.sample = max(1, sample)
        self.rng = random.Random(seed)
        self.fail_rate = 0.0
        self.log: list[tuple[int, str, float, int]] = []
        self.seen = [0] * len(secrets)
        self.bad_signatures = 0
        self.connections: list[set[Connection]] = [set() for _ in secrets]

    def answer(self, index: int, headers: dict[bytes, bytes], body: bytes) -> bytes:
        """The response to one POST to endpoint ``index``, recorded in the log."""
        received = time.time()
        found = EVENT_ID.search(body)
        event_id = found.group(1).decode() if found else "?"
        self.seen[index] += 1
        if self.seen[index] % self.sample == 1 or self.sample == 1:
            try:
                stripe.Webhook.construct_event(
                    body.decode(), headers.get(b"stripe-signature", b"").decode(),
                    self.secrets[index])
            except (stripe.SignatureVerificationError, ValueError):
                self.bad_signatures += 1
                self.log.append((index, event_id, received, 400))
                return BAD
        if self.fail_rate and self.rng.random() < self.fail_rate:
            self.log.append((index, event_id, received, 500))
            return FAILED
        self.log.append((index, event_id, received, 200))
        return OK


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection to endpoint ``index`` (a minimal parser)."""

    def __init__(self, hub: Hub, index: int) -> None:
        self.hub = hub
        self.index = index
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.hub.connections[self.index].add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.connections[self.index].discard(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            request = self.next_request()
            if request is None:
                return
            headers, body = request
            self.transport.write(self.hub.answer(self.index, headers, body))
            if headers.get(b"connection", b"").lower() == b"close":
                self.transport.close()

    def next_request(self) -> tuple[dict[bytes, bytes], bytes] | None:
        """Take one complete request (headers, body) off the buffer, if there is one."""
        end = self.buffer.find(HEAD_END)
        if end < 0:
            return None
        headers = {}
        for line in bytes(self.buffer[:end]).split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            body = bytearray()
            at = start
            while True:
                line_end = self.buffer.find(b"\r\n", at)
                if line_end < 0:
                    return None
                size = int(bytes(self.buffer[at:line_end]).split(b";")[0], 16)
                if len(self.buffer) < line_end + 2 + size + 2:
                    return None
                body += self.buffer[line_end + 2:line_end + 2 + size]
                at = line_end + 2 + size + 2
                if size == 0:
                    break
            del self.buffer[:at]
            return headers, bytes(body)
        length = int(headers.get(b"content-length", b"0"))
        if len(self.buffer) < start + length:
            return None
        payload = bytes(self.buffer[start:start + length])
        del self.buffer[:start + length]
        return headers, payload


async def serve_receivers(setup: dict[str, Any]) -> None:
    """Listen on every port and obey the commands on stdin until ``stop``.

    Commands: ``fail RATE`` (answer 500 to that fraction at random), ``down INDEX
    SECONDS`` (close that endpoint's listener and connections for a while), ``dump
    PATH`` (write the log as TSV — index, event id, unix receipt time, status —, forget
    it, print ``dumped COUNT BAD_SIGNATURES``), ``stop``.
    """
    loop = asyncio.get_running_loop()
    hub = Hub(secrets=setup["secrets"], sample=setup["sample"], seed=setup["seed"])
    ports: list[int] = setup["ports"]

    async def listen(index: int) -> asyncio.Server:
        return await loop.create_server(lambda: Connection(hub, index), "127.0.0.1",
                                        ports[index], reuse_address=True, backlog=1024)

    servers = [await listen(i) for i in range(len(ports))]

    async def outage(index: int, seconds: float) -> None:
        servers[index].close()
        for connection in list(hub.connections[index]):
            if connection.transport is not None:
                connection.transport.abort()
        await asyncio.sleep(seconds)
        servers[index] = await listen(index)

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print("ready", flush=True)
    outages: set[asyncio.Task[None]] = set()
    while words := (await reader.readline()).decode().split():
        match words:
            case ["fail", rate]:
                hub.fail_rate = float(rate)
            case ["down", index, seconds]:
                task = loop.create_task(outage(int(index), float(seconds)))
                outages.add(task)
                task.add_done_callback(outages.discard)
            case ["dump", path]:
                log, hub.log = hub.log, []
                with open(path, "w") as out:
                    out.writelines(f"{i}\t{e}\t{t:.6f}\t{s}\n" for i, e, t, s in log)
                print(f"dumped {len(log)} {hub.bad_signatures}", flush=True)
            case ["stop"]:
                break
    for server in servers:
        server.close()


class Receivers:
    """The receivers' child process, driven through its stdin."""

    def __init__(self, ports: list[int], secrets: list[str], *, sample: int, seed: int):
        self.ports = ports
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-receivers"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"ports": ports, "secrets": secrets,
                                          "sample": sample, "seed": seed}) + "\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("the receivers did not start")

    def command(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def dump(self) -> tuple[list[tuple[int, str, float, int]], int]:
        """Every request seen since the last dump, and the bad signatures counted so far."""
        with tempfile.NamedTemporaryFile("r", suffix=".tsv") as out:
            self.command(f"dump {out.name}")
            assert self.proc.stdout is not None
            _, count, bad = self.proc.stdout.readline().split()
            rows = [(int(i), e, float(t), int(s))
                    for i, e, t, s in (line.split("\t") for line in out)]
        assert len(rows) == int(count)
        return rows, int(bad)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.command("stop")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_ports(count: int) -> list[int]:
    """``count`` loopback ports free right now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


# --- the merchants and their endpoints ----------------------------------------------------


@dataclass
class Endpoint:
    """One webhook endpoint of the run and its receiver."""

    index: int
    account_id: str
    endpoint_id: str
    secret: str
    port: int
    enabled_events: list[str]


def database(spec: str | None, tmp: str) -> str:
    """The SQLAlchemy URL to run on: a fresh SQLite file, or a PostgreSQL database made afresh."""
    if spec is None:
        return f"sqlite:///{tmp}/webhooks.db"
    if spec.startswith("postgresql"):
        url = make_url(spec)
        if not url.database:
            raise SystemExit("--database: name the PostgreSQL database (never test)")
        return create_database(spec, url.database)
    path = Path(spec.removeprefix("sqlite:///"))
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def setup_endpoints(engine: Engine, ports: list[int]) -> list[Endpoint]:
    """Accounts with three endpoints each (the last may have fewer), through the service."""
    made: list[Endpoint] = []
    account_id = ""
    for index, port in enumerate(ports):
        if index % ENDPOINTS_PER_ACCOUNT == 0:
            account_id = accounts.create_account(
                business_name=f"Bench {index // ENDPOINTS_PER_ACCOUNT}",
                email=f"bench{index}@example.com", uow=UnitOfWork(engine)).id
        listens = LISTENS[index % len(LISTENS)]
        endpoint = webhook_endpoints.create_endpoint(
            account_id=account_id, uow=UnitOfWork(engine), livemode=False,
            url=f"http://127.0.0.1:{port}/webhooks/{index}", enabled_events=listens,
            description=f"bench receiver {index}")
        made.append(Endpoint(index, account_id, endpoint.endpoint.id, endpoint.secret, port,
                             listens))
    return made


# --- the events ---------------------------------------------------------------------------


def snapshot(event_type: str, rng: random.Random, n: int) -> dict[str, Any]:
    """A Stripe-shaped object of about a kilobyte, as the ledger hands to the event store."""
    customer = f"cus_bench{rng.randrange(1000):04d}"
    if event_type.startswith("customer.subscription"):
        return {"id": f"sub_bench{n}", "object": "subscription", "customer": customer,
                "status": "canceled" if event_type.endswith("deleted") else "active",
                "cancel_at_period_end": False, "collection_method": "charge_automatically",
                "currency": "usd", "current_period_start": 1764374400,
                "current_period_end": 1767052800, "metadata": {"plan": "growth"},
                "items": {"object": "list", "has_more": False, "data": [
                    {"id": f"si_bench{n}", "object": "subscription_item", "quantity": 2,
                     "price": {"id": "price_growth", "object": "price", "currency": "usd",
                               "unit_amount": 4900, "recurring": {"interval": "month",
                                                                  "interval_count": 1}}}]}}
    if event_type.startswith("invoice"):
        return {"id": f"in_bench{n}", "object": "invoice", "customer": customer,
                "status": "paid" if event_type.endswith("paid") else "open",
                "amount_due": 9800, "amount_paid": 9800 if event_type.endswith("paid") else 0,
                "currency": "usd", "number": f"BENCH-{n:06d}", "billing_reason":
                "subscription_cycle", "lines": {"object": "list", "has_more": False, "data": [
                    {"id": f"il_bench{n}", "object": "line_item", "amount": 9800,
                     "description": "2 × Growth (at $49.00 / month)", "quantity": 2}]}}
    if event_type.startswith("portico."):
        return {"id": f"bpcf_bench{n}", "object": "portico.cancellation_flow",
                "customer": customer, "status": "completed", "reason": "too_expensive",
                "comment": "A bit much for us this quarter.", "offer": None}
    return {"id": customer, "object": "customer", "email": f"{customer}@example.com",
            "name": f"Customer {customer[-4:]}", "currency": "usd", "balance": 0,
            "delinquent": False, "invoice_prefix": "BENCH", "metadata": {"tier": "gold"},
            "address": {"line1": "1 Bench Street", "city": "Berlin", "postal_code": "10115",
                        "country": "DE", "line2": None, "state": None}}


@dataclass
class Written:
    """The events this run wrote: id, account, type, created (unix seconds, real clock)."""

    ids: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    created: list[float] = field(default_factory=list)
    seconds: float = 0.0


def produce(engine: Engine, account_ids: list[str], *, events: int, batch: int, rate: float,
            seed: int, written: Written) -> None:
    """Write ``events`` events through ``uow.events.append``, ``batch`` per transaction."""
    rng = random.Random(seed)
    began = time.perf_counter()
    done = 0
    while done < events:
        with UnitOfWork(engine) as uow:
            for n in range(done, min(events, done + batch)):
                account_id = account_ids[n % len(account_ids)]
                event_type = rng.choice(EVENT_TYPES)
                row = uow.events.append(event_type, snapshot(event_type, rng, n),
                                        account_id=account_id)
                written.ids.append(row.id)
                written.accounts.append(account_id)
                written.types.append(event_type)
                written.created.append(row.created.timestamp())
            uow.commit()
        done = min(events, done + batch)
        if rate:  # hold the pace: event n is due at n / rate seconds
            ahead = done / rate - (time.perf_counter() - began)
            if ahead > 0:
                time.sleep(ahead)
    written.seconds = time.perf_counter() - began


def pending(engine: Engine) -> int:
    """Deliveries still pending in the outbox."""
    with UnitOfWork(engine) as uow:
        return uow.session.exec(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.status == DELIVERY_PENDING)).one()


# --- the baseline: a plain client, no database --------------------------------------------


async def post_plainly(endpoints: list[Endpoint], *, requests: int,
                       concurrency: int) -> float:
    """POST ``requests`` signed payloads round the receivers; seconds taken."""
    rng = random.Random(1)
    bodies = []
    for i in range(len(EVENT_TYPES)):
        event_type = EVENT_TYPES[i]
        body = json.dumps({"id": f"evt_baseline{i}", "object": "event",
                           "api_version": stripe.api_version, "created": int(time.time()),
                           "data": {"object": snapshot(event_type, rng, i)},
                           "livemode": False, "pending_webhooks": 1,
                           "request": {"id": None, "idempotency_key": None},
                           "type": event_type}, indent=2)
        bodies.append(body)
    queue = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def client() -> None:
            for n in queue:
                endpoint = endpoints[n % len(endpoints)]
                body = bodies[n % len(bodies)]
                header = signature_header(body, endpoint.secret, timestamp=int(time.time()))
                async with session.post(
                        f"http://127.0.0.1:{endpoint.port}/webhooks/{endpoint.index}",
                        data=body.encode(), headers={
                            "Content-Type": "application/json; charset=utf-8",
                            "Stripe-Signature": header}) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"baseline: the receiver answered {response.status}")

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return time.perf_counter() - began


# --- workers (child processes: this file with --work URL) ---------------------------------


def work(url: str, *, speed: float) -> None:
    """Run Portico's webhook worker on ``url``, the retry schedule ``speed`` times faster,
    until SIGTERM (it then finishes and records what is in flight)."""
    worker = webhook_worker.Worker(engine=get_engine(url),
                                   schedule=STRIPE_LIKE.scaled(1 / speed))
    print("ready", flush=True)
    webhook_worker.run_in_process(worker)


def start_worker(url: str, *, speed: float) -> subprocess.Popen[str]:
    """A worker process, once it is ready to claim deliveries."""
    proc = subprocess.Popen([sys.executable, __file__, "--work", url, "--speed", str(speed)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit(f"a worker did not start (exit {proc.poll()})")
    return proc


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a live process has used so far (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_workers(workers: list[subprocess.Popen[str]]) -> None:
    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in workers:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the run and its figures --------------------------------------------------------------


@dataclass
class Report:
    """What one phase of a run measured (``--json`` prints them)."""

    mode: str  # "prefill" (the drain of a full outbox) or "live" (written while delivered)
    events: int
    endpoints: int
    workers: int
    database: str
    expected: int  # (event, endpoint) pairs owed
    delivered: int  # pairs that got a 2xx
    lost: int  # pairs owed that never got one
    misdirected: int  # pairs not owed that got a request
    duplicates: int  # 2xx beyond the first for a pair
    attempts: int  # requests the receivers saw
    refused_or_failed: int  # attempts answered 500 by the receivers
    bad_signatures: int
    outbox_failed: int  # deliveries the outbox gave up on
    seconds: float  # first event created → last first-2xx
    deliveries_per_s: float
    attempts_per_s: float
    events_per_s: float  # how fast the events were written (the producer alone)
    p50_ms: float
    p99_ms: float
    first_try_p50_ms: float
    first_try_p99_ms: float
    baseline_per_s: float
    ratio: float  # deliveries_per_s / baseline_per_s
    worker_cpu_us: float  # the workers' CPU time per attempt (steadier than wall time)


def owed(written: Written, endpoints: list[Endpoint]) -> set[tuple[int, int]]:
    """(endpoint index, event index) pairs the events owe, from the listen rules alone.

    Written out here rather than read from the outbox, so that a delivery the outbox
    forgot counts as lost.
    """
    by_account: dict[str, list[Endpoint]] = {}
    for endpoint in endpoints:
        by_account.setdefault(endpoint.account_id, []).append(endpoint)
    return {(endpoint.index, n)
            for n, (account_id, event_type) in enumerate(zip(written.accounts, written.types,
                                                             strict=True))
            for endpoint in by_account.get(account_id, [])
            if "*" in endpoint.enabled_events or event_type in endpoint.enabled_events}


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def analyze(written: Written, endpoints: list[Endpoint], log: list[tuple[int, str, float, int]],
            *, bad_signatures: int, outbox_failed: int, start: float | None,
            worker_cpu: float, workers: int, database_kind: str, baseline: float,
            mode: str = "live") -> Report:
    """The report of a run from the events written and every request the receivers saw.

    Rates count from ``start`` (unix seconds), by default the first event's time.
    """
    index_of = {event_id: n for n, event_id in enumerate(written.ids)}
    expected = owed(written, endpoints)
    first_ok: dict[tuple[int, int], float] = {}
    tries: Counter[tuple[int, int]] = Counter()
    oks: Counter[tuple[int, int]] = Counter()
    misdirected: set[tuple[int, int]] = set()
    for endpoint_index, event_id, received, status in log:
        pair = (endpoint_index, index_of.get(event_id, -1))
        if pair not in expected:
            misdirected.add(pair)
            continue
        tries[pair] += 1
        if status == 200:
            oks[pair] += 1
            if pair not in first_ok:
                first_ok[pair] = received
    latencies = [(received - written.created[n]) * 1000 for (_, n), received in first_ok.items()]
    first_try = [(received - written.created[n]) * 1000 for pair, received in first_ok.items()
                 for n in [pair[1]] if tries[pair] == 1]
    if start is None:
        start = min(written.created) if written.created else 0.0
    end = max(first_ok.values(), default=start)
    seconds = max(end - start, 1e-9)
    attempts = sum(tries.values())
    rate = len(first_ok) / seconds
    return Report(
        mode=mode, events=len(written.ids), endpoints=len(endpoints), workers=workers,
        database=database_kind, expected=len(expected), delivered=len(first_ok),
        lost=len(expected) - len(first_ok), misdirected=len(misdirected),
        duplicates=sum(count - 1 for count in oks.values()), attempts=attempts,
        refused_or_failed=sum(1 for *_, status in log if status == 500),
        bad_signatures=bad_signatures, outbox_failed=outbox_failed, seconds=round(seconds, 3),
        deliveries_per_s=round(rate, 1), attempts_per_s=round(attempts / seconds, 1),
        events_per_s=round(len(written.ids) / max(written.seconds, 1e-9), 1),
        p50_ms=round(percentile(latencies, 50), 1), p99_ms=round(percentile(latencies, 99), 1),
        first_try_p50_ms=round(percentile(first_try, 50), 1),
        first_try_p99_ms=round(percentile(first_try, 99), 1),
        baseline_per_s=round(baseline, 1), ratio=round(rate / baseline, 3) if baseline else 0.0,
        worker_cpu_us=round(worker_cpu / attempts * 1e6, 1) if attempts else 0.0)


def outbox_failed_count(engine: Engine) -> int:
    with UnitOfWork(engine) as uow:
        return uow.session.exec(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.status == "failed")).one()


def run(args: argparse.Namespace) -> list[Report]:
    """Set up, measure the baseline, then Portico in each phase of ``--mode``; the reports."""
    os.environ.setdefault("PORTICO_SECRET_KEY", secrets_module.token_urlsafe(32))
    with tempfile.TemporaryDirectory(prefix="portico-webhooks-") as tmp:
        url = database(args.database, tmp)
        upgrade(url)
        engine = get_engine(url)
        endpoints = setup_endpoints(engine, free_ports(args.endpoints))
        receivers = Receivers([e.port for e in endpoints], [e.secret for e in endpoints],
                              sample=args.sample, seed=args.seed)
        try:
            requests = args.baseline or min(20_000, max(1_000, args.events // 5))
            seconds = asyncio.run(post_plainly(endpoints, requests=requests, concurrency=64))
            baseline = requests / seconds
            seen, _ = receivers.dump()
            if len(seen) != requests:
                raise SystemExit(f"baseline: the receivers saw {len(seen)} of {requests}")
            say(args, f"baseline: {baseline:,.0f} POSTs/s from a plain aiohttp client "
                      f"({requests:,} requests, no database)")
            receivers.command(f"fail {args.fail_rate}")
            return [phase(args, url, endpoints, receivers, prefill=prefill, baseline=baseline)
                    for prefill in MODES[args.mode]]
        finally:
            receivers.stop()
            engine.dispose()


MODES = {"both": (True, False), "prefill": (True,), "live": (False,)}


def phase(args: argparse.Namespace, url: str, endpoints: list[Endpoint], receivers: Receivers,
          *, prefill: bool, baseline: float) -> Report:
    """Write ``--events`` events and have the workers deliver them: before (``prefill``,
    the drain rate alone) or while they run."""
    say(args, f"-- {'drain of a prefilled outbox' if prefill else 'written while delivered'}")
    engine = get_engine(url)
    account_ids = list(dict.fromkeys(endpoint.account_id for endpoint in endpoints))
    failed_before = outbox_failed_count(engine)
    written = Written()
    producer = threading.Thread(target=produce, args=(engine, account_ids), kwargs={
        "events": args.events, "batch": args.batch, "rate": args.rate,
        "seed": args.seed + prefill, "written": written})
    outage = threading.Timer(args.outage_after, receivers.command,
                             args=(f"down 0 {args.outage}",))
    workers: list[subprocess.Popen[str]] = []
    try:
        if prefill:  # the whole outbox first: the workers' drain rate alone
            producer.run()
            wrote(args, written)
        workers = [start_worker(url, speed=args.speed) for _ in range(args.workers)]
        started = time.time()
        startup_cpu = sum(cpu_seconds(proc.pid) for proc in workers)  # imports, connect
        if args.outage:
            outage.start()
        if not prefill:
            producer.start()
            producer.join()
            wrote(args, written)
        deadline = time.monotonic() + args.timeout
        while (left := pending(engine)) and time.monotonic() < deadline:
            if any(proc.poll() is not None for proc in workers):
                raise SystemExit("a worker exited before the outbox was drained")
            time.sleep(0.25)
        if left:
            say(args, f"timed out with {left:,} deliveries pending")
        outage.cancel()
        worker_cpu = sum(cpu_seconds(proc.pid) for proc in workers) - startup_cpu
    finally:
        outage.cancel()
        stop_workers(workers)
    log, bad = receivers.dump()
    return analyze(written, endpoints, log, bad_signatures=bad,
                   outbox_failed=outbox_failed_count(engine) - failed_before,
                   start=started if prefill else None, worker_cpu=worker_cpu,
                   workers=args.workers, database_kind=make_url(url).get_backend_name(),
                   baseline=baseline, mode="prefill" if prefill else "live")


def wrote(args: argparse.Namespace, written: Written) -> None:
    say(args, f"wrote {len(written.ids):,} events in {written.seconds:.1f} s "
              f"({len(written.ids) / max(written.seconds, 1e-9):,.0f}/s, with their outbox rows)")


def say(args: argparse.Namespace, line: str) -> None:
    if not args.json:
        print(line, flush=True)


def print_report(report: Report) -> None:
    title = "drain of a prefilled outbox" if report.mode == "prefill" else \
        "written while delivered"
    print(f"""
{title}: {report.events:,} events → {report.expected:,} deliveries owed to {report.endpoints} endpoints, \
{report.workers} worker(s), {report.database}
  delivered        {report.delivered:,} in {report.seconds:.1f} s: \
{report.deliveries_per_s:,.0f} deliveries/s ({report.ratio:.2f}× the plain client's \
{report.baseline_per_s:,.0f}/s)
  attempts         {report.attempts:,} ({report.attempts_per_s:,.0f}/s; \
{report.refused_or_failed:,} answered 500)
  worker CPU       {report.worker_cpu_us:,.0f} µs per attempt (all workers, user + system)
  latency          p50 {report.p50_ms:,.0f} ms, p99 {report.p99_ms:,.0f} ms \
(event created → first 2xx received)
  first try only   p50 {report.first_try_p50_ms:,.0f} ms, p99 {report.first_try_p99_ms:,.0f} ms
  events written   {report.events_per_s:,.0f}/s (with their outbox rows)
  lost             {report.lost:,}
  duplicates       {report.duplicates:,}
  misdirected      {report.misdirected:,}
  bad signatures   {report.bad_signatures:,}
  outbox failed    {report.outbox_failed:,}""")


def main() -> None:
    if sys.argv[1:2] == ["--serve-receivers"]:
        asyncio.run(serve_receivers(json.loads(sys.stdin.readline())))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--database", help="SQLite path or PostgreSQL URL (default: temp SQLite)")
    parser.add_argument("--batch", type=int, default=200, help="events per transaction")
    parser.add_argument("--rate", type=float, default=0, help="events/s (0: as fast as it goes)")
    parser.add_argument("--speed", type=float, default=600, help="retry schedule speed-up")
    parser.add_argument("--fail-rate", type=float, default=0.05, help="share answered 500")
    parser.add_argument("--outage", type=float, default=3.0, help="first endpoint down, seconds")
    parser.add_argument("--outage-after", type=float, default=2.0,
                        help="seconds into the run when the outage begins")
    parser.add_argument("--sample", type=int, default=20, help="verify every Nth signature")
    parser.add_argument("--baseline", type=int, default=0, help="baseline requests (0: auto)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for drain")
    parser.add_argument("--mode", choices=MODES, default="both",
                        help="prefill: write every event before the workers start (the drain "
                        "rate alone); live: write them while the workers deliver; both")
    parser.add_argument("--prefill", action="store_const", dest="mode", const="prefill",
                        help="write every event before the workers start (drain rate alone)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")
    parser.add_argument("--work", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work:
        work(args.work, speed=args.speed)
        return
    if args.events < 1 or not 1 <= args.endpoints <= 100 or args.workers < 1:
        parser.error("--events ≥ 1, --endpoints 1..100, --workers ≥ 1")
    say(args, f"{args.events:,} events, {args.endpoints} endpoints, {args.workers} worker(s), "
              f"{os.cpu_count()} CPUs; retries {args.speed:g}× faster, "
              f"{args.fail_rate:.0%} answered 500, endpoint 0 down {args.outage:g} s")
    reports = run(args)
    if args.json:
        print(json.dumps([asdict(report) for report in reports]))
    else:
        for report in reports:
            print_report(report)
    if any(report.lost or report.misdirected or report.bad_signatures for report in reports):
        sys.exit(1)


if __name__ == "__main__":
    main()
