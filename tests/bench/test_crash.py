"""``bench/crash.py`` for 3 cycles: the kill -9 machinery runs end to end, and its checks
see breakage.

Runs in the PostgreSQL pass of ``make test`` (``DATABASE_URL`` on PostgreSQL), on a
database of its own on that server (``crash_pytest``, dropped and made afresh), never on
the suite's; skipped in the SQLite pass. About a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from crash_invariants import check_all  # noqa: E402

pytestmark = pytest.mark.crash

DATABASE = "crash_pytest"


def _postgres() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("runs in the PostgreSQL pass (DATABASE_URL=postgresql+psycopg://...)")
    return url


def test_three_kill_9_cycles_keep_every_invariant_and_the_checks_catch_breakage() -> None:
    server = _postgres()
    run = subprocess.Popen(
        [sys.executable, str(BENCH / "crash.py"), "--cycles", "3", "--customers", "12",
         "--clients", "2", "--database", DATABASE, "--postgres", server, "--seed", "7",
         "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        out, err = run.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        run.terminate()  # SIGTERM: the script stops its server and workers
        out, err = run.communicate(timeout=60)
        pytest.fail(f"bench/crash.py took over 15 minutes:\n{out[-4000:]}{err[-4000:]}")
    assert run.returncode == 0, out[-4000:] + err[-4000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["kills"] == {"server": 3, "renewals": 3, "flows": 3}
    assert summary["violations"] == 0
    assert summary["requests"]["2xx"] > 0
    assert summary["activity"]["renewals"] > 0 and summary["activity"]["flows"] > 0

    # Break each invariant by hand, behind the ledger's back: every check notices.
    engine = create_engine(make_url(server).set(database=DATABASE))
    account = summary["account"]
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "UPDATE subscription SET status = 'unpaid' WHERE id = "
                "(SELECT id FROM subscription WHERE account_id = :a LIMIT 1)"), {"a": account})
            conn.execute(text(
                "UPDATE invoice_line SET amount = amount + 1 WHERE id = (SELECT l.id FROM "
                "invoice_line l JOIN invoice i ON i.id = l.invoice_id "
                "WHERE i.account_id = :a LIMIT 1)"), {"a": account})
            conn.execute(text(
                "INSERT INTO charge (id, account_id, invoice_id, customer_id, payment_method_id,"
                " amount, currency, status, created) SELECT 'ch_again' || id, account_id, "
                "invoice_id, customer_id, payment_method_id, amount, currency, status, created "
                "FROM charge WHERE account_id = :a AND status = 'succeeded' LIMIT 1"),
                {"a": account})
            conn.execute(text(
                "UPDATE cancellation_flow SET status = 'offer_accepted', accepted_at = created "
                "WHERE id = (SELECT id FROM cancellation_flow WHERE account_id = :a "
                "AND status IN ('started', 'offer_presented', 'offer_declined') LIMIT 1)"),
                {"a": account})
            conn.execute(text("UPDATE coupon SET times_redeemed = times_redeemed + 7 "
                              "WHERE account_id = :a"), {"a": account})
            conn.execute(text(
                "INSERT INTO event (id, account_id, type, created, object_id, customer_id, "
                "data_object, request_id, idempotency_key) SELECT 'evt_again' || id, "
                "account_id, type, created, object_id, customer_id, data_object, 'req_again', "
                "idempotency_key FROM event WHERE account_id = :a "
                "AND idempotency_key IS NOT NULL LIMIT 1"), {"a": account})
        found = check_all(engine, account)
    finally:
        engine.dispose()
    assert all(found[name] for name in ("events", "invoice_totals", "charges", "counters",
                                         "idempotency")), found
    # The flow moved by hand is accepted without its event (or no flow was left open).
    assert found["flows"] or summary["activity"]["flows"] == (
        summary["activity"]["flows_accepted"] + summary["activity"]["flows_completed"])
