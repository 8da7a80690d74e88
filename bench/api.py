"""Portico's Stripe-compatible API beside localstripe: requests/s and p50/p99 latency.

    .venv/bin/python bench/api.py [--requests 300] [--concurrency 8] [--workers 1]

Starts, on loopback ports:

- Portico's HTTP API (``portal_app.web.app:build_http_app``) served by Granian, as
  ``make run`` serves it, on a fresh temporary SQLite database migrated with Alembic;
- localstripe (PyPI), in memory only (see ``portal_app.testing.localstripe``).

Then, for each operation, sends a warm-up batch and ``--requests`` timed requests,
first one at a time, then from ``--concurrency`` threads (one keep-alive
connection each), with httpx in Stripe's wire format (form-encoded, Bearer key):

- customer create       ``POST /v1/customers``
- subscription create   ``POST /v1/subscriptions`` on a customer with a default card
                        (Portico: ``items[0][price]``; localstripe has no prices:
                        ``items[0][plan]``); the first invoice is charged on both
- portal session create ``POST /v1/billing_portal/sessions`` (Portico only:
                        localstripe has no billing_portal)

and prints a table and Portico's ratio to localstripe. The client runs in this
process, so both servers share the machine with it: compare the ratio, not the
absolute numbers, across machines.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal_app.testing.localstripe import start_process  # noqa: E402

LOCALSTRIPE_KEY = "sk_test_bench"
READY_TIMEOUT = 30.0

Request = tuple[str, dict[str, str]]  # path, form fields


@dataclass
class Server:
    """A Stripe-wire API to benchmark: its name, base URL and key."""

    name: str
    url: str
    key: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30,
                            headers={"Authorization": f"Bearer {self.key}"})


@dataclass
class Result:
    """Timings of one operation on one server in one mode."""

    operation: str
    server: str
    concurrency: int
    n: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.n / self.seconds

    def percentile(self, q: int) -> float:
        """The q-th percentile latency in milliseconds."""
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


# --- servers -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def portico(*, workers: int) -> Iterator[Server]:
    """Portico's API on Granian over a fresh migrated SQLite file, with one account's key."""
    with tempfile.TemporaryDirectory(prefix="portico-bench-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        os.environ["DATABASE_URL"] = url  # before any Portico module reads the settings
        from portal_app.accounts import services as accounts
        from portal_app.db import UnitOfWork, get_engine
        from portal_app.migrate import upgrade

        upgrade(url)
        uow = UnitOfWork(get_engine(url))
        account = accounts.create_account(business_name="Bench Co", email="bench@example.com",
                                          uow=uow)
        key = accounts.create_api_key(account_id=account.id, uow=UnitOfWork(get_engine(url)))
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": url,
               "PORTICO_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "granian"), "--interface", "asgi", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
             "--no-ws", "--log-level", "warning", "portal_app.web.app:build_http_app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, proc)
            yield Server("portico", base, key)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"Portico's server exited:\n{proc.stderr.read() if proc.stderr else ''}")
        try:
            httpx.get(f"{base}/v1/customers", timeout=1)  # 401 without a key: it is up
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"Portico's server did not answer at {base} within {READY_TIMEOUT} s")


@contextmanager
def localstripe() -> Iterator[Server]:
    """localstripe in a child process, in memory only."""
    server = start_process()
    try:
        yield Server("localstripe", server.url, LOCALSTRIPE_KEY)
    finally:
        server.stop()


# --- requests ----------------------------------------------------------------------------


def post(client: httpx.Client, path: str, data: dict[str, str]) -> dict:
    response = client.post(path, data=data)
    if response.status_code != 200:
        raise SystemExit(f"{client.base_url}{path} answered {response.status_code}: "
                         f"{response.text[:400]}")
    return response.json()


def prepare_subscriptions(server: Server, count: int) -> tuple[str, list[str]]:
    """A monthly USD price (plan on localstripe) and ``count`` customers with a default card."""
    with server.client() as client:
        product = post(client, "/v1/products", {"name": "Growth"})["id"]
        if server.name == "localstripe":
            price = post(client, "/v1/plans", {"product": product, "amount": "4900",
                                               "currency": "usd", "interval": "month"})["id"]
        else:
            price = post(client, "/v1/prices", {"product": product, "unit_amount": "4900",
                                                "currency": "usd",
                                                "recurring[interval]": "month"})["id"]
        customers = []
        for i in range(count):
            customer = post(client, "/v1/customers", {"email": f"sub{i}@example.com"})["id"]
            pm = post(client, "/v1/payment_methods/pm_card_visa/attach",
                      {"customer": customer})["id"]
            post(client, f"/v1/customers/{customer}",
                 {"invoice_settings[default_payment_method]": pm})
            customers.append(customer)
    return price, customers


def run(server: Server, requests: list[Request], *, concurrency: int,
        check: Callable[[dict], None] | None = None) -> tuple[float, list[float]]:
    """Send ``requests`` from ``concurrency`` threads; wall seconds and per-request latencies."""
    latencies: list[float] = [0.0] * len(requests)
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = server.client()
            with lock:
                clients.append(client)
        path, data = requests[index]
        began = time.perf_counter()
        body = post(client, path, data)
        latencies[index] = time.perf_counter() - began
        if check is not None:
            check(body)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(one, i) for i in range(len(requests))]:
            future.result()
    seconds = time.perf_counter() - began
    for client in clients:
        client.close()
    return seconds, latencies


def active(body: dict) -> None:
    if body.get("status") != "active":
        raise SystemExit(f"expected an active subscription, got {body.get('status')!r}")


def bench(server: Server, *, n: int, warmup: int, modes: list[int]) -> list[Result]:
    """Every operation the server has, in every mode."""
    results = []
    per_mode = n + warmup
    price, customers = prepare_subscriptions(server, per_mode * len(modes))
    targets = iter(customers)
    session_customers = customers[: per_mode]  # sessions reuse customers: they change nothing
    for concurrency in modes:
        operations: list[tuple[str, list[Request], Callable[[dict], None] | None]] = [
            ("customer create", [("/v1/customers", {"email": f"c{concurrency}-{i}@example.com",
                                                    "name": f"Customer {i}"})
                                 for i in range(per_mode)], None),
            ("subscription create", [
                ("/v1/subscriptions", {"customer": next(targets),
                                       "items[0][plan]" if server.name == "localstripe"
                                       else "items[0][price]": price})
                for _ in range(per_mode)], active),
        ]
        if server.name == "portico":
            operations.append(("portal session create", [
                ("/v1/billing_portal/sessions", {"customer": customer,
                                                 "return_url": "https://example.com/account"})
                for customer in session_customers], None))
        for name, requests, check in operations:
            run(server, requests[:warmup], concurrency=concurrency, check=check)
            seconds, latencies = run(server, requests[warmup:], concurrency=concurrency,
                                     check=check)
            results.append(Result(name, server.name, concurrency, n, seconds, latencies))
            print(f"  {server.name:<11} {name:<22} x{concurrency}: "
                  f"{n / seconds:7.1f} req/s", flush=True)
    return results


# --- report ------------------------------------------------------------------------------


def report(results: list[Result]) -> None:
    by = {(r.operation, r.server, r.concurrency): r for r in results}
    header = (f"{'operation':<22} {'server':<12} {'threads':>7} {'n':>5} {'req/s':>8} "
              f"{'p50 ms':>8} {'p99 ms':>8}")
    print()
    print(header)
    print("─" * len(header))
    for r in results:
        print(f"{r.operation:<22} {r.server:<12} {r.concurrency:>7} {r.n:>5} {r.rate:>8.1f} "
              f"{r.percentile(50):>8.2f} {r.percentile(99):>8.2f}")
    print()
    print("Portico / localstripe (req/s ratio > 1: Portico faster; latency ratio < 1: Portico faster)")
    header = f"{'operation':<22} {'threads':>7} {'req/s':>8} {'p50':>8} {'p99':>8}"
    print(header)
    print("─" * len(header))
    for (operation, server, concurrency), mine in by.items():
        theirs = by.get((operation, "localstripe", concurrency))
        if server != "portico" or theirs is None:
            continue
        print(f"{operation:<22} {concurrency:>7} {mine.rate / theirs.rate:>7.2f}x "
              f"{mine.percentile(50) / theirs.percentile(50):>7.2f}x "
              f"{mine.percentile(99) / theirs.percentile(99):>7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests first")
    parser.add_argument("--concurrency", type=int, default=8, help="threads of the second mode")
    parser.add_argument("--workers", type=int, default=1, help="Granian workers for Portico")
    args = parser.parse_args()
    if not 2 <= args.requests <= 5000 or not 0 <= args.warmup <= 1000:
        parser.error("--requests must be 2..5000 and --warmup 0..1000")
    modes = [1, args.concurrency]
    print(f"{args.requests} requests per case after {args.warmup} warm-up, "
          f"sequential and {args.concurrency} threads; Portico on Granian with "
          f"{args.workers} worker(s) and SQLite; {os.cpu_count()} CPUs")
    results = []
    with localstripe() as server:
        results += bench(server, n=args.requests, warmup=args.warmup, modes=modes)
    with portico(workers=args.workers) as server:
        results += bench(server, n=args.requests, warmup=args.warmup, modes=modes)
    report(results)


if __name__ == "__main__":
    main()
