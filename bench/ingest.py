"""Inbound Stripe webhooks: events/s ingested, p50/p99, against a bare verifying endpoint.

    .venv/bin/python bench/ingest.py [--events 20000] [--concurrency 64] [--workers 1]
                                     [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/
                                      portico_ingest_bench | --no-postgres] [--json]

On loopback, in one run, each served by Granian as ``make run`` serves the HTTP side
(``--interface asgi --factory``, ``--workers`` processes):

1. **baseline**: a bare Starlette app (:func:`baseline_app`) whose one route verifies the
   ``Stripe-Signature`` with the SDK (``stripe.WebhookSignature.verify_header``) and
   answers 200 — no database: the most this machine ingests over HTTP;
2. **Portico on SQLite**: ``portal_app.web.app:build_http_app`` (the app ``make run``
   and ``bench/api.py`` serve) on a fresh temporary SQLite file migrated with Alembic,
   one Stripe-backed account with a signing secret;
3. **Portico on PostgreSQL**: the same on ``--postgres`` (its database is dropped and
   created afresh — never ``test``, which the suite empties).

The client (this process, aiohttp, ``--concurrency`` keep-alive connections, each posting
one event after the other) sends ``--events`` signed events: subscription snapshots of
about 1.4 KB (Stripe's shape, trimmed), for ``--events``/10 subscriptions, 2 % of them delivered
twice (the duplicate counts once) and 5 % delivered late (out of order). It prints
events/s, p50/p99 latency, each Portico run's ratio to the baseline, the server's CPU time
per event (steadier than wall time on a shared machine; for PostgreSQL the database
server's own CPU is not in it), and checks that every
distinct event is stored exactly once (exit 1 otherwise). The client shares the machine's
cores with the servers: compare the ratio across machines, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
import httpx
import stripe
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal_app.webhooks.signing import signature_header  # noqa: E402

READY_TIMEOUT = 60.0
BASELINE_PATH = "/webhooks/stripe/{account}"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/portico_ingest_bench"


@dataclass
class Run:
    """One server's figures."""

    name: str
    events: int  # requests sent (duplicates included)
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_us: float  # the server's CPU time per event (its database server's not included)
    stored: int | None = None  # distinct events in the store after the run
    expected: int | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds


# --- the baseline server ---------------------------------------------------------------------


def baseline_app() -> Starlette:
    """A bare endpoint that verifies the signature (secret: ``BENCH_WEBHOOK_SECRET``) only."""
    secret = os.environ["BENCH_WEBHOOK_SECRET"]

    async def receive(request: Request) -> Response:
        try:
            stripe.WebhookSignature.verify_header(
                await request.body(), request.headers.get("stripe-signature"), secret, tolerance=300
            )
        except stripe.SignatureVerificationError:
            return Response(
                b'{"error": "bad signature"}', status_code=400, media_type="application/json"
            )
        return Response(b'{"received": true}', media_type="application/json")

    return Starlette(routes=[Route(BASELINE_PATH, receive, methods=["POST"])])


# --- the events ------------------------------------------------------------------------------


def subscription(number: int, *, quantity: int, created: int) -> dict[str, object]:
    """A subscription object of Stripe's shape and size (the event about 1.4 KB of JSON)."""
    sub_id = f"sub_bench{number:08d}"
    price = {
        "id": f"price_bench{number % 7}",
        "object": "price",
        "active": True,
        "currency": "usd",
        "unit_amount": 1500 + 500 * (number % 7),
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "product": f"prod_bench{number % 7}",
        "type": "recurring",
        "livemode": False,
        "billing_scheme": "per_unit",
        "metadata": {},
        "nickname": None,
    }
    return {
        "id": sub_id,
        "object": "subscription",
        "status": "active",
        "currency": "usd",
        "customer": f"cus_bench{number:08d}",
        "created": created - 86_400 * 40,
        "current_period_start": created - 86_400,
        "current_period_end": created + 86_400 * 29,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "collection_method": "charge_automatically",
        "livemode": False,
        "metadata": {},
        "default_payment_method": f"pm_bench{number:08d}",
        "discount": None,
        "discounts": [],
        "start_date": created - 86_400 * 40,
        "trial_end": None,
        "items": {
            "object": "list",
            "has_more": False,
            "url": "/v1/subscription_items",
            "data": [
                {
                    "id": f"si_bench{number:08d}",
                    "object": "subscription_item",
                    "price": price,
                    "quantity": quantity,
                    "metadata": {},
                    "created": created - 86_400 * 40,
                    "subscription": sub_id,
                }
            ],
        },
    }


def make_events(count: int, *, account: str, seed: int = 0) -> tuple[list[str], int]:
    """``count`` event payloads (JSON text) in delivery order, and how many are distinct."""
    rng = random.Random(seed)
    objects = max(1, count // 10)
    start = int(time.time()) - 3_600
    events: list[str] = []
    while len(events) < count:
        index = len(events)
        number = rng.randrange(objects)
        created = start + index // 4  # several events a second: ties happen
        events.append(
            json.dumps(
                {
                    "id": f"evt_bench{secrets.token_hex(8)}",
                    "object": "event",
                    "api_version": "2025-03-31.basil",
                    "created": created,
                    "livemode": False,
                    "type": "customer.subscription.updated",
                    "account": account,
                    "pending_webhooks": 1,
                    "request": {"id": None, "idempotency_key": None},
                    "data": {
                        "object": subscription(number, quantity=1 + index % 5, created=created),
                        "previous_attributes": {"quantity": index % 5},
                    },
                }
            )
        )
    for index in rng.sample(range(count), count // 50):  # redeliveries, 2 %
        events[index] = events[max(0, index - rng.randrange(1, 50))]
    distinct = len(set(events))
    for _ in range(count // 20):  # late deliveries, 5 %: move an event later in the order
        index = rng.randrange(count)
        events.insert(min(count - 1, index + rng.randrange(1, 200)), events.pop(index))
    return events, distinct


# --- serving ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def granian(target: str, *, workers: int, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """``target`` (an app factory) served by Granian on a free loopback port: (URL, pid)."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-ws",
            "--log-level",
            "warning",
            target,
        ],
        cwd=ROOT,
        env={**os.environ, **env, "PORTICO_WEBHOOKS_WORKER": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{target} exited:\n{proc.stderr.read() if proc.stderr else ''}")
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{target} did not answer within {READY_TIMEOUT} s") from None
                time.sleep(0.1)
        yield base, proc.pid
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[str]) -> None:
    """End ``proc``: SIGTERM, then SIGKILL if it has not exited within 10 s."""
    proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
        return
    proc.kill()
    proc.wait()


def prepare_database(url: str, *, secret: str) -> str:
    """Migrate ``url`` afresh and make one Stripe-backed account; return its id."""
    from portal_app.accounts import services as accounts
    from portal_app.accounts.stripe_link import connect_stripe
    from portal_app.db import UnitOfWork, get_engine
    from portal_app.migrate import upgrade

    if url.startswith("postgresql"):
        name = make_url(url).database
        if not name or name == "test":
            raise SystemExit("use a database of the bench's own (never `test`)")
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    upgrade(url)
    engine = get_engine(url)
    account = accounts.create_account(
        business_name="Ingest Bench", email="bench@example.com", uow=UnitOfWork(engine)
    )
    # The API base is a closed port: a refetch (ties) fails fast and leaves the snapshot stale.
    connect_stripe(
        account.id,
        secret_key="sk_test_" + secrets.token_hex(16),
        webhook_secret=secret,
        api_base="http://127.0.0.1:9",
        uow=UnitOfWork(engine),
    )
    return account.id


def stored_events(url: str, account: str) -> int:
    from portal_app.events.models import Event

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(Event.__table__)
                    .where(Event.__table__.c.account_id == account)
                ).scalar_one()
            )
    finally:
        engine.dispose()


# --- the client ------------------------------------------------------------------------------


async def post_all(
    base: str, account: str, payloads: list[str], *, secret: str, concurrency: int
) -> tuple[float, list[float], int]:
    """Post every payload, ``concurrency`` at a time; (seconds, latencies, non-2xx count)."""
    url = base + BASELINE_PATH.format(account=account)
    now = int(time.time())
    signed = [(p.encode(), signature_header(p, secret, timestamp=now)) for p in payloads]
    latencies: list[float] = []
    errors = 0
    position = 0
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_connection() -> None:
            nonlocal position, errors
            while position < len(signed):
                body, header = signed[position]
                position += 1
                began = time.perf_counter()
                async with session.post(
                    url,
                    data=body,
                    headers={"Stripe-Signature": header, "Content-Type": "application/json"},
                ) as r:
                    await r.read()
                    errors += r.status >= 300
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    return seconds, latencies, errors


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its live descendants (Linux)."""
    total, pending = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # exited meanwhile
    return total


def measure(
    name: str,
    served: tuple[str, int],
    account: str,
    payloads: list[str],
    *,
    secret: str,
    concurrency: int,
) -> Run:
    base, pid = served
    warm = payloads[: min(200, len(payloads))]
    asyncio.run(post_all(base, account, warm, secret=secret, concurrency=concurrency))
    cpu_before = cpu_seconds(pid)
    seconds, latencies, errors = asyncio.run(
        post_all(base, account, payloads, secret=secret, concurrency=concurrency)
    )
    cpu = cpu_seconds(pid) - cpu_before
    cuts = (
        statistics.quantiles(latencies, n=100, method="inclusive")
        if len(latencies) > 1
        else [latencies[0]] * 99
    )
    return Run(
        name=name,
        events=len(payloads),
        seconds=seconds,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        errors=errors,
        server_cpu_us=cpu / len(payloads) * 1e6,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    secret = "whsec_" + secrets.token_urlsafe(24)
    server_env = {
        "BENCH_WEBHOOK_SECRET": secret,
        "PORTICO_SECRET_KEY": os.environ.get("PORTICO_SECRET_KEY") or secrets.token_urlsafe(32),
    }
    os.environ.update(server_env)  # this process seals the account's secrets with that key
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="portico-ingest-") as tmp:
        databases = [("sqlite", f"sqlite:///{tmp}/ingest.db")]
        if not args.no_postgres:
            databases.append(("postgresql", args.postgres))
        payloads, distinct = make_events(args.events, account="acct_bench")
        with granian("bench.ingest:baseline_app", workers=args.workers, env=server_env) as base:
            runs.append(
                measure(
                    "baseline (verify only)",
                    base,
                    "acct_bench",
                    payloads,
                    secret=secret,
                    concurrency=args.concurrency,
                )
            )
        for kind, url in databases:
            account = prepare_database(url, secret=secret)
            with granian(
                "portal_app.web.app:build_http_app",
                workers=args.workers,
                env={**server_env, "DATABASE_URL": url},
            ) as base:
                run = measure(
                    f"portico on {kind}",
                    base,
                    account,
                    payloads,
                    secret=secret,
                    concurrency=args.concurrency,
                )
            run.stored, run.expected = stored_events(url, account), distinct
            runs.append(run)
    baseline = runs[0].rate
    print(
        f"{args.events} events ({distinct} distinct), {args.concurrency} connections, "
        f"{args.workers} Granian worker(s), {os.cpu_count()} cores"
    )
    print(
        f"{'server':<24}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}"
        f"{'errors':>8}{'stored':>9}{'CPU us/ev':>11}{'ev/CPU-s':>10}"
    )
    for run in runs:
        stored = "" if run.stored is None else str(run.stored)
        print(
            f"{run.name:<24}{run.rate:>10.0f}{run.p50_ms:>9.1f}{run.p99_ms:>9.1f}"
            f"{run.rate / baseline:>8.2f}{run.errors:>8}{stored:>9}"
            f"{run.server_cpu_us:>11.0f}{1e6 / max(run.server_cpu_us, 1e-9):>10.0f}"
        )
    print(
        "CPU us/ev: the server process's CPU time per event (PostgreSQL's own not included); "
        "ev/CPU-s: events per second of that CPU, what one free core would sustain."
    )
    wrong = [r for r in runs if r.errors or (r.stored is not None and r.stored != r.expected)]
    if args.json:
        print(
            json.dumps(
                {
                    "runs": [
                        {**asdict(r), "events_per_s": r.rate, "ratio": r.rate / baseline}
                        for r in runs
                    ],
                    "distinct": distinct,
                }
            )
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
