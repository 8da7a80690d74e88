"""Crash safety: ``kill -9`` Portico at random moments under load; the invariants hold.

    .venv/bin/python bench/crash.py [--cycles 50] [--clients 4] [--customers 60]
                                    [--renewals 4] [--database crash] [--postgres URL]
                                    [--seed N] [--time-limit 1200] [--json]

On PostgreSQL only (its own database, ``crash`` by default, dropped and created
afresh; never ``test``, which the test suite empties), on loopback only:

1. migrates with Alembic and seeds a merchant: a catalog of four monthly prices,
   customers with cards (some declining every charge: their renewals go past due),
   subscriptions started a month ago (backdated, so that their renewals fall due
   while the load runs; ``--renewals`` more of them, and a few trials, fall due in
   every cycle), portal configurations that cancel at period end or now (with
   ``always_invoice`` or ``create_prorations``), and retention offers of every billing
   kind (coupon, pause, cheaper price, free days) in each configuration's policy;
2. serves the HTTP API as ``make run`` does (Granian serving
   ``portal_app.web.app:build_http_app`` on a free loopback port) and starts two
   workers, this script with ``--worker``: ``renewals`` runs every renewal, trial end
   and period-end cancellation as it falls due on the wall clock (the clock that
   the CLI's ``advance-clock`` moves for the demo), ``flows`` walks the portal's cancel
   flow (reason, offer, accept / decline / confirm) through the retention services;
3. drives the API from ``--clients`` threads: plan changes with ``always_invoice``
   and ``create_prorations``, quantity changes, immediate cancels (``prorate``, with
   and without ``invoice_now``), cancels at period end and their undoing, new
   subscriptions — each POST with an ``Idempotency-Key``, retried with the same key
   after a dropped connection as Stripe's SDKs do;
4. ``--cycles`` times: after a random 0.3–2.5 s of load, ``kill -9`` the server's
   process group (each worker too, at its own random moment in the cycle), restart
   it, and check the invariants of ``bench/crash_invariants.py`` in SQL on one
   snapshot: no change without its event, invoice totals equal their lines, no
   charge twice, no cancel flow half-applied, redemption counters right, no
   ``Idempotency-Key`` applied twice.

Prints a line per cycle and the totals; exits 1 if any invariant was violated
(every violation is printed). About 5 minutes for 50 cycles on two idle cores: a
restart (importing the app) takes most of a cycle.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
from dateutil.relativedelta import relativedelta
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crash_invariants import activity, check_all, summarize  # noqa: E402

from portal_app.accounts import services as accounts  # noqa: E402
from portal_app.billing import catalog, customers, payment_methods, renewals  # noqa: E402
from portal_app.billing import subscriptions as billing_subscriptions  # noqa: E402
from portal_app.billing.provider import ItemSpec  # noqa: E402
from portal_app.clock import FrozenClock, utc_now  # noqa: E402
from portal_app.db import UnitOfWork, get_engine  # noqa: E402
from portal_app.errors import BillingError  # noqa: E402
from portal_app.migrate import upgrade  # noqa: E402
from portal_app.portal import configurations, sessions  # noqa: E402
from portal_app.portal.configurations import CANCELLATION_REASONS  # noqa: E402
from portal_app.retention import flows, offers, policies  # noqa: E402

READY_TIMEOUT = 30.0
RETRY_FOR = 30.0  # a client retries a dropped request this long (the server restarts)
PRICES = {"lite": 600, "basic": 1200, "plus": 2500, "pro": 4900}  # USD cents a month
FAILING_CARD = "pm_card_chargeCustomerFail"  # attaches, then declines every charge


# --- the database ------------------------------------------------------------------------


def create_database(postgres: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``postgres``; its SQLAlchemy URL."""
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to use the database {name!r}: give --database another name")
    url = make_url(postgres)
    if url.host not in ("127.0.0.1", "localhost", "::1", None):
        raise SystemExit(f"PostgreSQL must be on loopback, not {url.host}")
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False)


@dataclass
class Fixture:
    """What the seed made: the account, its key, prices, customers and subscriptions."""

    account_id: str
    key: str
    prices: dict[str, str]
    configurations: list[str]
    customers: list[str]
    declining: set[str]  # customers whose card declines every charge
    subscriptions: list[str]


def seed(engine: Engine, *, customers_n: int, rng: random.Random) -> Fixture:
    """The merchant, its catalog, offers and portal, and customers with cards.

    Their subscriptions come from :func:`subscribe_backdated`, a few per cycle.
    """
    def uow() -> UnitOfWork:
        return UnitOfWork(engine)

    account_id = accounts.create_account(business_name="Crash Co", email="crash@example.com",
                                         uow=uow()).id
    key = accounts.create_api_key(account_id=account_id, uow=uow())
    product = catalog.create_product(account_id=account_id, uow=uow(), name="Crash plan").id
    prices = {name: catalog.create_price(account_id=account_id, uow=uow(), product=product,
                                         currency="usd", unit_amount=amount,
                                         interval="month", nickname=name).id
              for name, amount in PRICES.items()}
    offer_ids = {
        "coupon": offers.create_offer(
            account_id=account_id, uow=uow(), type="coupon", name="25% off for 3 months",
            new_coupon={"percent_off": 25, "duration": "repeating", "duration_in_months": 3}),
        "pause": offers.create_offer(account_id=account_id, uow=uow(), type="pause",
                                     name="Skip a month", pause_interval="period",
                                     pause_interval_count=1),
        "price": offers.create_offer(account_id=account_id, uow=uow(), type="price_change",
                                     name="Lite instead", price=prices["lite"],
                                     price_change_timing="now"),
        "days": offers.create_offer(account_id=account_id, uow=uow(), type="trial_extension",
                                    name="Two weeks free", extension_days=14),
    }
    policy = {"too_expensive": offer_ids["coupon"].id, "unused": offer_ids["pause"].id,
              "missing_features": offer_ids["price"].id, "default": offer_ids["days"].id}
    configs = []
    for mode, behavior in (("at_period_end", "none"), ("immediately", "always_invoice"),
                           ("immediately", "create_prorations")):
        config = configurations.create_configuration({
            "business_profile": {"headline": "Crash Co"},
            "default_return_url": "https://crash.example/account",
            "features": {"subscription_cancel": {
                "enabled": True, "mode": mode, "proration_behavior": behavior,
                "cancellation_reason": {"enabled": True,
                                        "options": list(CANCELLATION_REASONS)}}},
        }, account_id=account_id, uow=uow())
        policies.set_policy(config.id, account_id=account_id, uow=uow(), offers=policy)
        configs.append(config.id)
    customer_ids, declining = [], set()
    for i in range(customers_n):
        customer = customers.create_customer(account_id=account_id, uow=uow(),
                                             email=f"customer{i}@crash.example",
                                             name=f"Customer {i}", payment_method="pm_card_visa")
        customer_ids.append(customer.id)
        if rng.random() < 0.1:  # the card declines from now on: renewals go past due
            card = payment_methods.attach_payment_method(
                FAILING_CARD, customer_id=customer.id, account_id=account_id, uow=uow())
            customers.update_customer(customer.id, account_id=account_id, uow=uow(),
                                      default_payment_method=card.id)
            declining.add(customer.id)
    return Fixture(account_id, key, prices, configs, customer_ids, declining, [])


def subscribe_backdated(engine: Engine, fixture: Fixture, *, due_in: float,
                        rng: random.Random) -> str:
    """A subscription whose period (or trial) ends ``due_in`` seconds from now.

    Started a month ago (as if the merchant backfilled a sign-up, billed then), so
    that the renewal worker renews it while the load runs.
    """
    due = utc_now() + timedelta(seconds=due_in)
    customer = rng.choice(fixture.customers)
    items = [ItemSpec(price=fixture.prices[rng.choice(["basic", "plus", "pro"])],
                      quantity=rng.randint(1, 3))]
    if customer in fixture.declining or rng.random() < 0.1:
        # A trial that ends then (charged then: with a declining card, it goes past due).
        sub = billing_subscriptions.create_subscription(
            account_id=fixture.account_id, uow=UnitOfWork(engine), customer=customer,
            items=items, trial_end=due)
    else:
        sub = billing_subscriptions.create_subscription(
            account_id=fixture.account_id,
            uow=UnitOfWork(engine, clock=FrozenClock(due - relativedelta(months=1))),
            customer=customer, items=items)
    fixture.subscriptions.append(sub.id)
    return sub.id


# --- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL when this script dies, so no server outlives a run."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Process:
    """A child in its own process group, so that ``kill -9`` takes its children too."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent)

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown code runs."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self.kills += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


def wait_ready(base: str, server: Process) -> float:
    """Seconds until the API answers (a 401 without a key is an answer)."""
    began = time.monotonic()
    while time.monotonic() - began < READY_TIMEOUT:
        if not server.alive():
            raise SystemExit(f"the server exited: see {server.log}")
        try:
            httpx.get(f"{base}/v1/customers", timeout=1)
            return time.monotonic() - began
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit(f"the server did not answer at {base} within {READY_TIMEOUT} s")


# --- the API load ------------------------------------------------------------------------


@dataclass
class Load:
    """The client threads' shared state and counts."""

    base: str
    key: str
    fixture: Fixture
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter[str] = field(default_factory=Counter)
    live: list[str] = field(default_factory=list)

    def count(self, name: str) -> None:
        with self.lock:
            self.counts[name] += 1


def request(load: Load, client: httpx.Client, method: str, path: str,
            data: dict[str, str] | None = None) -> httpx.Response | None:
    """One API call; a dropped connection is retried with the same Idempotency-Key."""
    headers = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
    began = time.monotonic()
    # Stripe's SDKs send a DELETE's parameters in the query string (no body).
    body, query = (None, data) if method == "DELETE" else (data, None)
    while not load.stop.is_set():
        try:
            response = client.request(method, path, data=body, params=query, headers=headers)
        except httpx.TransportError:
            load.count("dropped")
            if time.monotonic() - began > RETRY_FOR:
                return None
            time.sleep(0.1)
            continue
        load.count("requests")
        status = response.status_code
        load.count("2xx" if status < 300 else "402" if status == 402
                   else "4xx" if status < 500 else "5xx")
        if response.headers.get("Idempotent-Replayed") == "true":
            load.count("replayed")
        return response
    return None


def client_loop(load: Load, seed: int) -> None:
    """Random operations on random subscriptions until told to stop."""
    rng = random.Random(seed)
    prices = load.fixture.prices
    with httpx.Client(base_url=load.base, timeout=30,
                      headers={"Authorization": f"Bearer {load.key}"}) as client:
        while not load.stop.is_set():
            op = rng.choices(["price", "price_now", "quantity", "cancel_now", "cancel_later",
                              "reactivate", "create"], weights=[22, 22, 12, 6, 14, 10, 14])[0]
            if op == "create":
                response = request(load, client, "POST", "/v1/subscriptions", {
                    "customer": rng.choice(load.fixture.customers),
                    "items[0][price]": prices[rng.choice(["basic", "plus", "pro"])]})
                if response is not None and response.status_code == 200:
                    with load.lock:
                        load.live.append(response.json()["id"])
                continue
            with load.lock:
                if not load.live:
                    continue
                sub_id = rng.choice(load.live)
            response = request(load, client, "GET", f"/v1/subscriptions/{sub_id}")
            if response is None or response.status_code != 200:
                continue
            sub = response.json()
            if sub["status"] == "canceled":
                with load.lock:
                    if sub_id in load.live:
                        load.live.remove(sub_id)
                continue
            item = sub["items"]["data"][0]
            path = f"/v1/subscriptions/{sub_id}"
            if op in ("price", "price_now"):
                others = [p for p in prices.values() if p != item["price"]["id"]]
                request(load, client, "POST", path, {
                    "items[0][id]": item["id"], "items[0][price]": rng.choice(others),
                    "proration_behavior": ("always_invoice" if op == "price_now"
                                           else "create_prorations")})
            elif op == "quantity":
                request(load, client, "POST", path, {
                    "items[0][id]": item["id"], "items[0][quantity]": str(rng.randint(1, 5)),
                    "proration_behavior": rng.choice(["always_invoice", "create_prorations"])})
            elif op == "cancel_now":
                request(load, client, "DELETE", path, {
                    "prorate": "true", "invoice_now": rng.choice(["true", "false"])})
            elif op == "cancel_later":
                request(load, client, "POST", path, {"cancel_at_period_end": "true"})
            elif sub["cancel_at_period_end"]:
                request(load, client, "POST", path, {"cancel_at_period_end": "false"})


# --- workers (this script with --worker) -------------------------------------------------


def renewal_worker(engine: Engine, account_id: str) -> None:
    """Run every renewal, trial end and period-end cancellation as it falls due."""
    while True:
        due = renewals.due_subscriptions(account_id=account_id, until=utc_now(),
                                         uow=UnitOfWork(engine))
        for _, subscription_id in due:
            try:
                renewals.renew_subscription(subscription_id, uow=UnitOfWork(engine))
            except BillingError as error:
                print(f"renewal of {subscription_id}: {error}", flush=True)
        time.sleep(0.05)


def flow_worker(engine: Engine, account_id: str, seed: int) -> None:
    """Customers walk the cancel flow: reason, then accept the offer, decline it, or cancel."""
    rng = random.Random(seed)
    with engine.connect() as conn:
        configs = [row[0] for row in conn.execute(text(
            "SELECT id FROM portal_configuration WHERE account_id = :a ORDER BY created"),
            {"a": account_id})]
    while True:
        with engine.connect() as conn:
            live = conn.execute(text("""
                SELECT id, customer_id FROM subscription WHERE account_id = :a
                AND status IN ('active', 'trialing', 'past_due') AND NOT cancel_at_period_end
                ORDER BY random() LIMIT 1"""), {"a": account_id}).first()
        if live is None:
            time.sleep(0.2)
            continue
        try:
            created = sessions.create_session(account_id=account_id, uow=UnitOfWork(engine),
                                              customer=live.customer_id,
                                              configuration=rng.choice(configs))
            session = created.session
            start = flows.start_flow(session, live.id, uow=UnitOfWork(engine))
            time.sleep(rng.uniform(0, 0.05))
            offer = flows.submit_reason(session, start.flow.id, rng.choice(CANCELLATION_REASONS),
                                        rng.choice([None, "Crash test comment"]),
                                        uow=UnitOfWork(engine))
            time.sleep(rng.uniform(0, 0.05))
            if offer is not None and rng.random() < 0.4:
                flows.accept_offer(session, start.flow.id, offer.id, uow=UnitOfWork(engine))
            else:
                if offer is not None and rng.random() < 0.5:
                    flows.decline_offer(session, start.flow.id, uow=UnitOfWork(engine))
                flows.confirm_cancel(session, start.flow.id, uow=UnitOfWork(engine))
        except BillingError as error:
            print(f"flow on {live.id}: {error.code or ''} {error}", flush=True)


def run_worker(args: argparse.Namespace) -> None:
    engine = get_engine(os.environ["DATABASE_URL"])
    if args.worker == "renewals":
        renewal_worker(engine, args.account)
    else:
        threads = [threading.Thread(target=flow_worker, args=(engine, args.account, seed),
                                    daemon=True) for seed in (args.seed, args.seed + 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


# --- the run -----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=50, help="kill -9 and restarts (50)")
    parser.add_argument("--clients", type=int, default=4, help="API client threads (4)")
    parser.add_argument("--customers", type=int, default=60, help="customers seeded (60)")
    parser.add_argument("--renewals", type=int, default=4,
                        help="subscriptions made due in each cycle (4)")
    parser.add_argument("--database", default="crash", help="database to (re)create (crash)")
    parser.add_argument("--postgres", default=os.environ.get(
        "CRASH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="the PostgreSQL server (its database part is ignored)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--time-limit", type=float, default=1200.0,
                        help="start no cycle after this many seconds (1200)")
    parser.add_argument("--json", action="store_true", help="also print the totals as JSON")
    parser.add_argument("--worker", choices=["renewals", "flows"], help=argparse.SUPPRESS)
    parser.add_argument("--account", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args)
        return 0
    # A terminated run still stops its server and workers (the ``finally`` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seed_value = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed_value)
    url = create_database(args.postgres, args.database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ.update(DATABASE_URL=url, PORTICO_PUBLIC_URL=base)
    engine = get_engine(url)
    began = time.monotonic()
    upgrade(url)
    # Renewals fall due over about the time the cycles take.
    fixture = seed(engine, customers_n=args.customers, rng=rng)
    for _ in range(args.customers * 3 // 2):
        subscribe_backdated(engine, fixture, due_in=rng.uniform(5.0, 600.0), rng=rng)
    print(f"Seeded {len(fixture.customers)} customers, {len(fixture.subscriptions)} "
          f"subscriptions on {make_url(url).render_as_string()} in "
          f"{time.monotonic() - began:.1f} s (seed {seed_value})", flush=True)

    logs = Path(tempfile.mkdtemp(prefix="portico-crash-"))
    env = {**os.environ}
    bin_dir = Path(sys.executable).parent
    server = Process("server", [
        str(bin_dir / "granian"), "--interface", "asgi", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--no-ws", "--log-level", "warning",
        "portal_app.web.app:build_http_app"], env, logs / "server.log")
    script = [sys.executable, str(Path(__file__).resolve()), "--account", fixture.account_id,
              "--seed", str(seed_value)]
    workers = [Process(name, [*script, "--worker", name], env, logs / f"{name}.log")
               for name in ("renewals", "flows")]
    load = Load(base=base, key=fixture.key, fixture=fixture, live=list(fixture.subscriptions))
    server.start()
    wait_ready(base, server)
    for worker in workers:
        worker.start()
    clients = [threading.Thread(target=client_loop, args=(load, seed_value + 10 + i))
               for i in range(args.clients)]
    for thread in clients:
        thread.start()

    totals: Counter[str] = Counter()
    violations_total = cycles_done = 0
    before_counts, before_db = Counter(load.counts), activity(engine, fixture.account_id)
    print(f"{'cycle':>7} {'load s':>6} {'requests':>8} {'2xx':>5} {'4xx':>4} {'402':>4} "
          f"{'5xx':>4} {'dropped':>7} {'renewals':>8} {'flows':>5} {'accepted':>8} "
          f"{'restart s':>9} {'violations':>10}")
    try:
        for cycle in range(1, args.cycles + 1):
            if time.monotonic() - began > args.time_limit:
                print(f"Time limit of {args.time_limit:.0f} s reached: stopping after "
                      f"{cycle - 1} cycles.")
                break
            cycles_done = cycle
            duration = rng.uniform(0.3, 2.5)
            # Renewals that fall due in this cycle, or while the server restarts.
            fresh = [subscribe_backdated(engine, fixture, due_in=rng.uniform(0.1, duration + 1),
                                         rng=rng) for _ in range(args.renewals)]
            with load.lock:
                load.live.extend(fresh)
            # Each worker dies at its own moment in the cycle; the server at its end.
            moments = sorted(((rng.uniform(0.0, duration), w) for w in workers),
                             key=lambda pair: pair[0])
            cycle_start = time.monotonic()
            for moment, worker in moments:
                time.sleep(max(0.0, cycle_start + moment - time.monotonic()))
                worker.kill()
                worker.start()
            time.sleep(max(0.0, cycle_start + duration - time.monotonic()))
            server.kill()
            server.start()
            restart = wait_ready(base, server)
            violations = check_all(engine, fixture.account_id)
            found = sum(len(v) for v in violations.values())
            violations_total += found
            for line in summarize(violations):
                print(f"  cycle {cycle}: {line}", flush=True)
            now_counts, now_db = Counter(load.counts), activity(engine, fixture.account_id)
            delta = now_counts - before_counts
            db = {k: now_db[k] - before_db[k] for k in now_db}
            before_counts, before_db = now_counts, now_db
            print(f"{cycle:>3}/{args.cycles:<3} {duration:>6.2f} {delta['requests']:>8} "
                  f"{delta['2xx']:>5} {delta['4xx']:>4} {delta['402']:>4} {delta['5xx']:>4} "
                  f"{delta['dropped']:>7} {db['renewals']:>8} {db['flows']:>5} "
                  f"{db['flows_accepted']:>8} {restart:>9.2f} {found:>10}", flush=True)
    finally:
        load.stop.set()
        for thread in clients:
            thread.join()
        for process in (*workers, server):
            process.stop()
    final = check_all(engine, fixture.account_id)
    final_found = sum(len(v) for v in final.values())
    for line in summarize(final):
        print(f"  final: {line}")
    totals.update(load.counts)
    db = activity(engine, fixture.account_id)
    summary = {
        "cycles": cycles_done, "seed": seed_value, "database": args.database,
        "account": fixture.account_id,
        "seconds": round(time.monotonic() - began, 1),
        "kills": {"server": server.kills, **{w.name: w.kills for w in workers}},
        "requests": {k: totals[k] for k in ("requests", "2xx", "4xx", "402", "5xx",
                                             "dropped", "replayed")},
        "activity": db,
        "violations": violations_total + final_found,
        "violations_final": {name: len(v) for name, v in final.items()},
    }
    print(f"\nTotal after {cycles_done} cycles in {summary['seconds']} s: "
          f"kills server {server.kills}, "
          + ", ".join(f"{w.name} worker {w.kills}" for w in workers))
    print(f"  requests {totals['requests']} (2xx {totals['2xx']}, 4xx {totals['4xx']}, "
          f"402 {totals['402']}, 5xx {totals['5xx']}), dropped by a kill and retried "
          f"{totals['dropped']}, replayed {totals['replayed']}")
    print(f"  subscriptions {db['subscriptions']} ({db['canceled']} canceled), invoices "
          f"{db['invoices']} ({db['renewals']} renewals), charges {db['charges']}, cancel "
          f"flows {db['flows']} ({db['flows_accepted']} accepted, {db['flows_completed']} "
          f"completed), events {db['events']}")
    print(f"  invariant violations: {summary['violations']} (logs in {logs})")
    if args.json:
        print(json.dumps(summary))
    return 1 if summary["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
