"""The delivery worker over a frozen clock, against real loopback receivers.

Each test's worker is limited to the test's account (the database is shared by the suite).
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from portal_app.clock import FrozenClock
from portal_app.webhooks.models import (
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SUCCEEDED,
    ENDPOINT_DISABLED,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal_app.webhooks.schedule import STRIPE_LIKE
from portal_app.webhooks.sender import ERROR_REFUSED, ERROR_TIMEOUT
from portal_app.webhooks.signing import new_secret
from portal_app.webhooks.worker import (
    DISABLED_REASON_FAILING,
    Stats,
    Worker,
    claim_due,
    running,
)
from tests import fresh_loop
from tests.conftest import START
from tests.portal_app.webhooks.helpers import MakeUow, append_event, deliveries_of
from tests.portal_app.webhooks.receiver import Receiver, Reply, add_endpoint

M = timedelta(minutes=1)


def drain(worker: Worker) -> Stats:
    return fresh_loop.run(worker.drain())


@pytest.fixture
def worker(database: Engine, clock: FrozenClock, account_id: str) -> Worker:
    return Worker(engine=database, clock=clock, accounts=[account_id], timeout=0.5,
                  lease=timedelta(seconds=30))


def attempts_of(make_uow: MakeUow, delivery_id: str) -> list[WebhookAttempt]:
    with make_uow() as uow:
        return list(uow.session.exec(select(WebhookAttempt).where(
            WebhookAttempt.delivery_id == delivery_id).order_by(
            col(WebhookAttempt.started_at), col(WebhookAttempt.id))).all())


def endpoint_row(make_uow: MakeUow, endpoint_id: str) -> WebhookEndpoint:
    with make_uow() as uow:
        row = uow.session.get(WebhookEndpoint, endpoint_id)
        assert row is not None
        return row


def test_each_event_reaches_each_subscribed_endpoint_once_verified(
        worker: Worker, make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    every_secret, invoice_secret = new_secret(), new_secret()
    with Receiver(every_secret) as every, Receiver(invoice_secret) as invoices:
        every_id, _ = add_endpoint(make_uow(), account_id, every.url, secret=every_secret)
        add_endpoint(make_uow(), account_id, invoices.url, secret=invoice_secret,
                     events=["invoice.paid"])
        created = append_event(make_uow, account_id, "customer.created", "cus_1")
        paid = append_event(make_uow, account_id, "invoice.paid", "in_1")
        stats = drain(worker)
    assert (stats.claimed, stats.succeeded, stats.retried, stats.failed) == (3, 3, 0, 0)
    assert every.event_counts() == {created.id: 1, paid.id: 1}
    assert invoices.event_counts() == {paid.id: 1}
    seen: dict[str, Any] = next(r.event for r in every.received
                                if r.event and r.event["id"] == created.id)
    assert seen["object"] == "event" and seen["type"] == "customer.created"
    assert seen["data"]["object"] == {"id": "cus_1", "object": "customer"}
    assert seen["pending_webhooks"] >= 1 and seen["created"] == int(START.timestamp())
    deliveries = deliveries_of(make_uow, account_id)
    assert {(d.status, d.attempt_count, d.last_http_status) for d in deliveries} == {
        (DELIVERY_SUCCEEDED, 1, 200)}
    assert all(d.delivered_at == clock() and d.lease_until is None for d in deliveries)
    mine = next(d for d in deliveries if d.endpoint_id == every_id and d.event_id == created.id)
    [attempt] = attempts_of(make_uow, mine.id)
    assert (attempt.http_status, attempt.error, attempt.started_at) == (200, None, START)
    assert attempt.response_excerpt == '{"received": true}' and attempt.latency_ms >= 0
    assert drain(worker).claimed == 0  # nothing is sent twice


def test_retries_follow_the_schedule_through_500_timeout_and_refusal_to_success(
        worker: Worker, make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    secret = new_secret()
    receiver = Receiver(secret, replies=[Reply(status=500, body=b"oops"), Reply(delay=2.0)])
    receiver.start()
    try:
        endpoint_id, _ = add_endpoint(make_uow(), account_id, receiver.url, secret=secret)
        event = append_event(make_uow, account_id)
        [delivery] = deliveries_of(make_uow, account_id)

        assert drain(worker).retried == 1  # 500
        [after] = deliveries_of(make_uow, account_id)
        assert (after.status, after.attempt_count, after.next_attempt_at) == (
            DELIVERY_PENDING, 1, START + M)
        assert endpoint_row(make_uow, endpoint_id).failing_since == START

        clock.set(START + M - timedelta(seconds=1))
        assert drain(worker).claimed == 0  # not due yet
        clock.set(START + M)
        assert drain(worker).retried == 1  # the receiver answers after the timeout
        [after] = deliveries_of(make_uow, account_id)
        assert (after.attempt_count, after.next_attempt_at) == (2, START + 6 * M)

        receiver.stop()  # the port now refuses connections
        clock.set(START + 6 * M)
        assert drain(worker).retried == 1
        [after] = deliveries_of(make_uow, account_id)
        assert (after.attempt_count, after.next_attempt_at) == (3, START + 36 * M)

        receiver.start()
        clock.set(START + 36 * M)
        assert drain(worker).succeeded == 1
    finally:
        receiver.stop()
    [after] = deliveries_of(make_uow, account_id)
    assert (after.status, after.attempt_count, after.delivered_at, after.last_http_status,
            after.last_error, after.next_attempt_at) == (
        DELIVERY_SUCCEEDED, 4, START + 36 * M, 200, None, None)
    attempts = attempts_of(make_uow, delivery.id)
    assert [(a.started_at - START, a.http_status, a.error) for a in attempts] == [
        (timedelta(0), 500, None), (M, None, ERROR_TIMEOUT), (6 * M, None, ERROR_REFUSED),
        (36 * M, 200, None)]
    assert attempts[0].response_excerpt == "oops"
    assert 400 <= attempts[1].latency_ms < 2000
    assert endpoint_row(make_uow, endpoint_id).failing_since is None  # one 2xx clears it
    # Three POSTs arrived (the refused one never did), each one verified.
    assert receiver.event_counts() == {event.id: 3}
    assert len(receiver.received) == 3


def test_a_live_mode_endpoint_resolving_to_loopback_is_refused_at_send_time(
        worker: Worker, make_uow: MakeUow, account_id: str) -> None:
    secret = new_secret()
    with Receiver(secret) as receiver:
        add_endpoint(make_uow(), account_id, receiver.url.replace("http:", "https:"),
                     secret=secret, livemode=True)
        append_event(make_uow, account_id)
        assert drain(worker).retried == 1
    assert receiver.received == []
    [delivery] = deliveries_of(make_uow, account_id)
    [attempt] = attempts_of(make_uow, delivery.id)
    assert attempt.http_status is None and attempt.error is not None
    assert attempt.error.startswith("destination refused: Invalid URL: URL must be publicly")
    assert delivery.status == DELIVERY_PENDING and delivery.next_attempt_at == START + M


def test_retries_end_after_3_days_and_an_endpoint_failing_for_3_days_is_disabled(
        worker: Worker, make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    secret = new_secret()
    with Receiver(secret, default=Reply(status=503)) as receiver:
        endpoint_id, _ = add_endpoint(make_uow(), account_id, receiver.url, secret=secret)
        first = append_event(make_uow, account_id)
        times = STRIPE_LIKE.attempt_times(START)
        for at in times:
            clock.set(at)
            drain(worker)
        assert receiver.event_counts() == {first.id: len(times)} and len(times) == 11
        [gone] = deliveries_of(make_uow, account_id)
        assert (gone.status, gone.attempt_count, gone.next_attempt_at) == (
            DELIVERY_FAILED, 11, None)
        assert endpoint_row(make_uow, endpoint_id).status == "enabled"  # 65 h < 3 days

        clock.set(START + timedelta(days=3))
        second = append_event(make_uow, account_id, object_id="cus_2")
        third = append_event(make_uow, account_id, object_id="cus_3")
        stats = drain(worker)
    assert stats.endpoints_disabled == 1
    endpoint = endpoint_row(make_uow, endpoint_id)
    assert (endpoint.status, endpoint.disabled_reason, endpoint.failing_since) == (
        ENDPOINT_DISABLED, DISABLED_REASON_FAILING, START)
    later = {d.event_id: d for d in deliveries_of(make_uow, account_id)}
    for event in (second, third):
        assert later[event.id].status == DELIVERY_FAILED
        assert later[event.id].attempt_count == 1
        assert "endpoint disabled" in (later[event.id].last_error or "")
    append_event(make_uow, account_id, object_id="cus_4")
    assert len(deliveries_of(make_uow, account_id)) == 3  # a disabled endpoint gets none


def test_a_delivery_leased_by_a_worker_that_died_is_sent_once_its_lease_expires(
        worker: Worker, make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    secret = new_secret()
    with Receiver(secret) as receiver:
        add_endpoint(make_uow(), account_id, receiver.url, secret=secret)
        event = append_event(make_uow, account_id)
        # Another worker claims it, then is killed before sending or recording anything.
        [claim] = claim_due(make_uow(), limit=10, lease=2 * M, send_window=60.0,
                            accounts=[account_id])
        assert claim.event_id == event.id
        assert drain(worker).claimed == 0  # leased: nobody else takes it
        clock.set(START + 2 * M + timedelta(seconds=1))
        assert drain(worker).succeeded == 1
    assert receiver.event_counts() == {event.id: 1}


def test_a_pending_delivery_of_a_disabled_endpoint_fails_unsent(
        worker: Worker, make_uow: MakeUow, account_id: str) -> None:
    secret = new_secret()
    with Receiver(secret) as receiver:
        endpoint_id, _ = add_endpoint(make_uow(), account_id, receiver.url, secret=secret)
        append_event(make_uow, account_id)
        with make_uow() as uow:
            endpoint = uow.session.get(WebhookEndpoint, endpoint_id)
            assert endpoint is not None
            endpoint.status = ENDPOINT_DISABLED
            uow.add(endpoint)
            uow.commit()
        assert drain(worker).claimed == 0
    assert receiver.received == []
    [delivery] = deliveries_of(make_uow, account_id)
    assert (delivery.status, delivery.attempt_count, delivery.last_error) == (
        DELIVERY_FAILED, 0, "endpoint disabled")


def test_a_lease_must_outlast_the_send_timeout() -> None:
    with pytest.raises(ValueError, match="must outlast"):
        Worker(timeout=10.0, lease=timedelta(seconds=10))


def test_attempts_are_stored_for_the_delivery_table_only(make_uow: MakeUow) -> None:
    # The attempt log keeps no copy of the secret or the payload, only the answer.
    assert {c.name for c in WebhookAttempt.__table__.columns} == {  # type: ignore[attr-defined]
        "id", "delivery_id", "account_id", "started_at", "latency_ms", "http_status", "error",
        "response_excerpt"}
    assert WebhookDelivery.__tablename__ == "webhook_delivery"


def test_the_background_runner_delivers_as_events_commit_and_records_before_it_stops(
        database: Engine, make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    secret = new_secret()
    with Receiver(secret) as receiver:
        add_endpoint(make_uow(), account_id, receiver.url, secret=secret)
        background = Worker(engine=database, clock=clock, accounts=[account_id],
                            poll_interval=0.02)
        with running(background):
            event = append_event(make_uow, account_id)  # committed while the worker runs
            deadline = time.monotonic() + 10
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.02)
    assert receiver.event_counts() == {event.id: 1}
    [delivery] = deliveries_of(make_uow, account_id)
    assert (delivery.status, delivery.attempt_count) == (DELIVERY_SUCCEEDED, 1)


def test_a_database_error_does_not_stop_the_worker(tmp_path: Path) -> None:
    broken = create_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")  # every query fails
    background = Worker(engine=broken, poll_interval=0.01)
    with running(background) as runner:
        deadline = time.monotonic() + 5
        while background.database_errors < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runner.alive
    assert background.database_errors >= 2 and not runner.alive


def test_a_claim_whose_lease_runs_short_while_queued_is_released_unsent_and_retaken(
        database: Engine, make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    secret = new_secret()
    with Receiver(secret, default=Reply(delay=0.4)) as receiver:
        add_endpoint(make_uow(), account_id, receiver.url, secret=secret)
        events = [append_event(make_uow, account_id, object_id=f"cus_{i}") for i in range(3)]
        # One POST at a time to the endpoint, and a send window of 0.5 s: the third claim
        # waits past it, so it is handed back rather than sent late.
        slow = Worker(engine=database, clock=clock, accounts=[account_id], per_endpoint=1,
                      timeout=0.5, lease=timedelta(seconds=2))
        stats = drain(slow)
    assert stats.released >= 1 and stats.succeeded == 3
    assert receiver.event_counts() == {e.id: 1 for e in events}
    for delivery in deliveries_of(make_uow, account_id):
        assert (delivery.status, delivery.attempt_count) == (DELIVERY_SUCCEEDED, 1)
        assert len(attempts_of(make_uow, delivery.id)) == 1
