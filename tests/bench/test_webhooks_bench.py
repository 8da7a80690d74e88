"""``bench/webhooks.py`` at a tiny size: the whole machine runs, and its counts are right.

The smoke run (a few hundred events, one worker, SQLite, an outage and 500s; both phases:
a prefilled outbox drained, then events written while delivered) must deliver every owed
(event, endpoint) pair with verified signatures; in the PostgreSQL pass of
``make test`` the same with two workers on a database of its own (``webhooks_pytest``,
dropped and made afresh; never the suite's). The bookkeeping that decides "lost",
"duplicates" and "misdirected" is checked on a hand-made log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from webhooks import Endpoint, Written, analyze, owed  # noqa: E402


def postgres() -> list[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("runs in the PostgreSQL pass (DATABASE_URL=postgresql+psycopg://...)")
    return ["--database", make_url(url).set(database="webhooks_pytest").render_as_string(
        hide_password=False)]


@pytest.mark.parametrize(("database", "workers"), [("sqlite", "1"), ("postgresql", "2")])
def test_a_tiny_run_delivers_every_owed_event_through_500s_and_an_outage(
        database: str, workers: str) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "webhooks.py"), "--events", "400", "--endpoints", "4",
         *(postgres() if database == "postgresql" else []),
         "--workers", workers, "--batch", "50", "--fail-rate", "0.1", "--outage", "0.5",
         "--outage-after", "0", "--sample", "1", "--baseline", "200", "--timeout", "90",
         "--json"],
        capture_output=True, text=True, timeout=300, env={**os.environ})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    prefilled, live = json.loads(run.stdout.strip().splitlines()[-1])
    assert (prefilled["mode"], live["mode"]) == ("prefill", "live")
    assert prefilled["baseline_per_s"] == live["baseline_per_s"] > 0  # one baseline, two phases
    for report in (prefilled, live):
        check(report, database)


def check(report: dict[str, Any], database: str) -> None:
    assert report["events"] == 400 and report["database"] == database
    # Account 1 (endpoints 0-2): every event, plus invoices, plus subscription changes
    # (2 of 8 types each); account 2 (endpoint 3): customer events (2 of 8): about 350.
    assert 250 < report["expected"] < 450
    assert report["delivered"] == report["expected"]
    assert report["lost"] == report["misdirected"] == report["bad_signatures"] == 0
    assert report["outbox_failed"] == 0
    # 10 % were answered 500 (and endpoint 0 refused for a while): they were retried.
    assert report["refused_or_failed"] > 0
    assert report["attempts"] > report["delivered"]
    assert report["deliveries_per_s"] > 0 and report["baseline_per_s"] > 0
    assert report["worker_cpu_us"] > 0
    assert 0 < report["p50_ms"] <= report["p99_ms"]


def endpoint(index: int, account: str, listens: list[str]) -> Endpoint:
    return Endpoint(index, account, f"we_{index}", "whsec_x", 9000 + index, listens)


def test_lost_duplicates_and_misdirected_are_counted_from_the_listen_rules() -> None:
    endpoints = [endpoint(0, "acct_a", ["*"]), endpoint(1, "acct_a", ["invoice.paid"]),
                 endpoint(2, "acct_b", ["customer.created"])]
    written = Written(ids=["evt_1", "evt_2", "evt_3"], accounts=["acct_a", "acct_a", "acct_b"],
                      types=["invoice.paid", "customer.created", "invoice.paid"],
                      created=[100.0, 100.5, 101.0], seconds=1.0)
    assert owed(written, endpoints) == {(0, 0), (1, 0), (0, 1)}
    log = [
        (0, "evt_1", 100.2, 500),  # failed, then retried
        (0, "evt_1", 100.4, 200),
        (0, "evt_1", 100.6, 200),  # a duplicate
        (1, "evt_1", 100.3, 200),
        (2, "evt_3", 101.1, 200),  # endpoint 2 does not listen to invoice.paid
        # (0, "evt_2") never arrives: lost
    ]
    report = analyze(written, endpoints, log, bad_signatures=0, outbox_failed=0, start=None,
                     worker_cpu=0.002, workers=1, database_kind="sqlite", baseline=100.0)
    assert (report.expected, report.delivered, report.lost) == (3, 2, 1)
    assert (report.duplicates, report.misdirected, report.attempts) == (1, 1, 4)
    assert report.refused_or_failed == 1
    assert report.seconds == 0.4  # first event at 100.0, last first-2xx at 100.4
    assert report.deliveries_per_s == 5.0 and report.ratio == 0.05
    assert report.p50_ms == 350.0  # latencies 400 and 300 ms
    assert report.worker_cpu_us == 500.0  # 2 ms over 4 attempts
