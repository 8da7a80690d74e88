"""``kill -9`` of a ``portico webhooks-worker`` process mid-batch loses no delivery.

A real worker process delivers to a slow loopback receiver on a database of its own (a
fresh SQLite file: the worker takes every due delivery it finds, so it must not see the
suite's); it is killed while POSTs are in flight and unrecorded. A second worker retakes
the orphaned deliveries once their leases expire: every event arrives at least once
(verified), and every delivery ends ``succeeded``. About 15 seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from portal_app.accounts import services as accounts
from portal_app.clock import utc_now
from portal_app.db import UnitOfWork, get_engine
from portal_app.migrate import upgrade
from portal_app.settings import ROOT
from portal_app.webhooks.models import DELIVERY_PENDING, DELIVERY_SUCCEEDED, WebhookDelivery
from portal_app.webhooks.signing import new_secret
from tests.portal_app.webhooks.receiver import Receiver, Reply, add_endpoint

EVENTS = 400
LEASE_SECONDS = 7


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'webhooks-crash.db'}"
    upgrade(url)
    engine = get_engine(url)
    yield url, engine
    engine.dispose()


def start_worker(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "portal_app.cli", "--database-url", url, "webhooks-worker",
         "--lease-seconds", str(LEASE_SECONDS), "--timeout", "5", "--batch-size", "40",
         "--max-in-flight", "40"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DATABASE_URL": url})


def count(engine: Engine, *conditions: Any) -> int:
    with UnitOfWork(engine) as uow:
        return int(uow.session.exec(
            select(func.count()).select_from(WebhookDelivery).where(*conditions)).one())


def wait_for(predicate: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_kill_9_mid_batch_loses_nothing(own_database: tuple[str, Engine]) -> None:
    url, engine = own_database
    account_id = accounts.create_account(business_name="Crash Co", email="ops@crash.test",
                                         uow=UnitOfWork(engine)).id
    secret = new_secret()
    with Receiver(secret, default=Reply(delay=0.01)) as receiver:
        add_endpoint(UnitOfWork(engine), account_id, receiver.url, secret=secret)
        uow = UnitOfWork(engine)
        with uow:
            events = [uow.events.append("customer.updated",
                                        {"id": f"cus_{i}", "object": "customer"},
                                        account_id=account_id) for i in range(EVENTS)]
            uow.commit()
        event_ids = {e.id for e in events}

        first = start_worker(url)
        try:
            wait_for(lambda: len(receiver.received) >= EVENTS // 4, seconds=60,
                     what="the first worker to deliver a quarter of the events")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        killed_at = utc_now()
        assert first.returncode == -signal.SIGKILL
        # Killed mid-batch: claims it held (some POSTed, none recorded) are still leased.
        orphaned = count(engine, WebhookDelivery.status == DELIVERY_PENDING,
                         col(WebhookDelivery.lease_until) > killed_at)
        assert orphaned > 0
        assert count(engine, WebhookDelivery.status == DELIVERY_SUCCEEDED) < EVENTS

        second = start_worker(url)
        try:
            wait_for(lambda: count(engine, WebhookDelivery.status == DELIVERY_SUCCEEDED)
                     == EVENTS, seconds=90, what="the second worker to deliver the rest")
        finally:
            second.send_signal(signal.SIGTERM)  # finishes in-flight POSTs, then stops
            out, err = second.communicate(timeout=30)
        assert second.returncode == 0, err[-2000:]
        assert "Stopped:" in out

    delivered = receiver.event_counts()
    assert set(delivered) == event_ids  # every event at least once, each one verified
    assert all(r.event is not None for r in receiver.received)
    duplicates = sum(delivered.values()) - EVENTS
    # At most what the killed worker held unrecorded was sent twice.
    assert 0 <= duplicates <= orphaned
