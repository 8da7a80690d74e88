"""Two workers on PostgreSQL never send one attempt twice (``FOR UPDATE SKIP LOCKED``).

Runs in the PostgreSQL pass (``DATABASE_URL=postgresql+psycopg://...``, the suite's own
database); skipped on SQLite, which has one writer and no row locks to race on.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.webhooks.models import DELIVERY_SUCCEEDED, WebhookAttempt, WebhookDelivery
from portal_app.webhooks.signing import new_secret
from portal_app.webhooks.worker import Worker, running
from tests.portal_app.webhooks.helpers import MakeUow
from tests.portal_app.webhooks.receiver import Receiver, Reply, add_endpoint

pytestmark = pytest.mark.postgres

EVENTS = 300


def test_two_workers_claiming_at_once_deliver_each_event_once(
        database: Engine, make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    if database.dialect.name != "postgresql":
        pytest.skip("the claim race needs PostgreSQL's row locks (SQLite has one writer)")
    secrets = [new_secret(), new_secret()]
    receivers = [Receiver(s, default=Reply(delay=0.002)).start() for s in secrets]
    try:
        for receiver, secret in zip(receivers, secrets, strict=True):
            add_endpoint(make_uow(), account_id, receiver.url, secret=secret)
        uow = make_uow()
        with uow:
            events = [uow.events.append("customer.updated",
                                        {"id": f"cus_{i}", "object": "customer"},
                                        account_id=account_id) for i in range(EVENTS)]
            uow.commit()
        # Small batches, so that the two workers' claims interleave many times.
        workers = [Worker(engine=database, clock=clock, accounts=[account_id], batch_size=10,
                          max_in_flight=20, poll_interval=0.05, lease=timedelta(seconds=30))
                   for _ in range(2)]
        all_done = threading.Event()

        def delivered() -> int:
            with UnitOfWork(database) as check:
                return int(check.session.exec(select(func.count()).select_from(
                    WebhookDelivery).where(WebhookDelivery.account_id == account_id,
                                           WebhookDelivery.status == DELIVERY_SUCCEEDED)).one())

        with running(workers[0]), running(workers[1]):
            for _ in range(1200):
                if delivered() == 2 * EVENTS:
                    all_done.set()
                    break
                all_done.wait(0.05)
    finally:
        for receiver in receivers:
            receiver.stop()
    assert all_done.is_set(), f"only {delivered()} of {2 * EVENTS} delivered"
    expected = {e.id: 1 for e in events}
    for receiver in receivers:
        assert receiver.event_counts() == expected  # each event exactly once per endpoint
        assert len(receiver.received) == EVENTS
    assert all(w.stats.claimed > 0 for w in workers)  # both took part
    assert sum(w.stats.claimed for w in workers) == 2 * EVENTS
    with make_uow() as check:
        per_delivery = check.session.exec(
            select(WebhookAttempt.delivery_id, func.count())
            .where(WebhookAttempt.account_id == account_id)
            .group_by(col(WebhookAttempt.delivery_id))).all()
    assert len(per_delivery) == 2 * EVENTS and {n for _, n in per_delivery} == {1}
