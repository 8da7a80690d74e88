"""``bench/ingest.py`` at a tiny size: it serves, posts, and every distinct event is stored once.

On SQLite in every run; in the PostgreSQL pass of ``make test`` also on a database of its
own (``ingest_pytest``, dropped and made afresh; never the suite's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from ingest import make_events  # noqa: E402


def database_args(database: str) -> list[str]:
    if database == "sqlite":
        return ["--no-postgres"]
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("runs in the PostgreSQL pass (DATABASE_URL=postgresql+psycopg://...)")
    return [
        "--postgres",
        make_url(url).set(database="ingest_pytest").render_as_string(hide_password=False),
    ]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_tiny_run_stores_every_distinct_event_once_and_reports_the_ratio(database: str) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(BENCH / "ingest.py"),
            "--events",
            "300",
            "--concurrency",
            "8",
            *database_args(database),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    baseline, *portico = report["runs"]
    assert baseline["name"].startswith("baseline") and baseline["stored"] is None
    assert [r["name"] for r in portico] == (
        ["portico on sqlite"] + (["portico on postgresql"] if database == "postgresql" else [])
    )
    for result in report["runs"]:
        assert result["events"] == 300 and result["errors"] == 0
        assert result["events_per_s"] > 0 and 0 < result["p50_ms"] <= result["p99_ms"]
        assert result["server_cpu_us"] > 0
    for result in portico:
        assert result["stored"] == result["expected"] == report["distinct"]
        assert result["ratio"] > 0
    assert "events/s" in run.stdout  # the table for people


def test_the_events_hold_redeliveries_and_late_ones() -> None:
    events, distinct = make_events(1_000, account="acct_x")
    assert len(events) == 1_000 and distinct == len(set(events)) < 1_000
    created = [json.loads(e)["created"] for e in events]
    assert any(later < earlier for earlier, later in zip(created, created[1:], strict=False))
    assert 1_000 < len(events[0]) < 4_000  # a subscription event of Stripe's shape
