"""Schemathesis against Portico's API: 10,000+ generated requests, zero 5xx expected.

    .venv/bin/python bench/fuzz.py [--cases 10000] [--jobs 2] [--seed 0]

Loads the OpenAPI document the app serves (``GET /v1/openapi.json``) and sends every
operation its share of ``--cases`` generated requests — half valid per the
document, half violating it — to the ASGI app in-process (no network), each on a
fresh temporary SQLite database migrated with Alembic and a merchant "world"
seeded per operation (see ``portal_app.testing.fuzz``). ``--jobs`` processes split
the operations. Prints the cases sent, the statuses, the 5xx count, how many 4xx
came in Stripe's error envelope, and every failure; exits 1 if any.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from portal_app.testing.fuzz import FuzzReport


def _run_share(job: int, jobs: int, per_operation: int, seed: int) -> FuzzReport:
    """Fuzz every ``jobs``-th operation (from ``job``) on a database of its own."""
    logging.disable(logging.CRITICAL)  # the API logs each 5xx; the report lists them
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='portico-fuzz-')}/db"
    # Imported after DATABASE_URL is set: the settings read it once.
    from portal_app.clock import FrozenClock
    from portal_app.db import get_engine
    from portal_app.migrate import upgrade
    from portal_app.testing.fuzz import fuzz, operation_labels

    upgrade()
    labels = operation_labels()
    mine = set(labels[job::jobs])
    clock = FrozenClock(datetime(2026, 1, 31, 12, tzinfo=UTC))

    def progress(label: str, report: FuzzReport) -> None:
        print(f"  [{job}] {label}: {report.cases} cases so far, {report.server_errors} 5xx",
              flush=True)

    return fuzz(engine=get_engine(), clock=clock, cases_per_operation=per_operation,
                seed=seed, only=mine.__contains__, progress=progress)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="total cases (at least)")
    parser.add_argument("--jobs", type=int, default=2, help="processes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    logging.disable(logging.CRITICAL)  # the API logs each 5xx; the report lists them
    from portal_app.testing.fuzz import merge, operation_labels

    count = len(operation_labels())
    per_operation = -(-args.cases // count)  # ceil: at least --cases in all
    print(f"Fuzzing {count} operations, {per_operation} cases each, {args.jobs} process(es)")
    # Spawned, not forked: each process reads its own DATABASE_URL from scratch.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=spawn) as pool:
        shares = list(pool.map(_run_share, range(args.jobs), [args.jobs] * args.jobs,
                               [per_operation] * args.jobs, [args.seed] * args.jobs))
    report: FuzzReport = merge(shares)
    print()
    for failure in report.failures:
        print(f"FAIL {failure.operation}: {failure.rule} ({failure.status})")
        print(f"  request:  {failure.request}")
        print(f"  response: {failure.response}")
    print(f"cases: {report.cases}")
    print(f"operations: {report.operations}")
    print(f"statuses: {dict(sorted(report.statuses.items()))}")
    print(f"5xx: {report.server_errors}")
    print(f"4xx: {report.client_errors}, in Stripe's error envelope: {report.enveloped_4xx}")
    print(f"failures: {len(report.failures)}")
    print(f"time: {report.seconds:.0f} s (summed over processes)")
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
