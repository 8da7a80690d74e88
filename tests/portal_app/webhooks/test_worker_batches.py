"""The worker's batched writes: one claim statement, one outcome statement, one attempt INSERT.

Runs on SQLite and, in the PostgreSQL pass, on PostgreSQL (where the outcomes go through
``UPDATE … FROM unnest(…)`` and the attempts through ``INSERT … SELECT unnest(…)``).
"""

from __future__ import annotations

from datetime import timedelta

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
from portal_app.webhooks.sender import ERROR_TIMEOUT, Outcome
from portal_app.webhooks.worker import Claim, Result, claim_due, record_results
from tests.conftest import START
from tests.portal_app.webhooks.helpers import MakeUow, append_event, deliveries_of, new_endpoint

M = timedelta(minutes=1)
LEASE = timedelta(minutes=2)


def claim_all(make_uow: MakeUow, account_id: str) -> list[Claim]:
    return claim_due(make_uow(), limit=100, lease=LEASE, send_window=60.0,
                     accounts=[account_id])


def attempts_by_delivery(make_uow: MakeUow, account_id: str) -> dict[str, list[WebhookAttempt]]:
    out: dict[str, list[WebhookAttempt]] = {}
    with make_uow() as uow:
        for attempt in uow.session.exec(select(WebhookAttempt).where(
                WebhookAttempt.account_id == account_id).order_by(
                col(WebhookAttempt.started_at))).all():
            out.setdefault(attempt.delivery_id, []).append(attempt)
    return out


def test_a_claim_leases_due_deliveries_once_and_carries_pending_webhooks(
        make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    new_endpoint(make_uow, account_id, ["*"])
    new_endpoint(make_uow, account_id, ["*"])
    event = append_event(make_uow, account_id)
    claims = claim_all(make_uow, account_id)
    assert len(claims) == 2 and {c.event_id for c in claims} == {event.id}
    # Both deliveries still pending: the payload says so (Stripe's pending_webhooks).
    assert all('"pending_webhooks": 2' in c.payload for c in claims)
    assert all(d.lease_until == START + LEASE for d in deliveries_of(make_uow, account_id))
    assert claim_all(make_uow, account_id) == []  # leased: not claimed again
    clock.set(START + LEASE + timedelta(seconds=1))  # the claimer died: the lease runs out
    assert {c.delivery_id for c in claim_all(make_uow, account_id)} == {
        c.delivery_id for c in claims}


def test_a_mixed_batch_records_one_attempt_per_send_and_each_outcome(
        make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    endpoint = new_endpoint(make_uow, account_id, ["*"])
    events = [append_event(make_uow, account_id, object_id=f"cus_{i}") for i in range(5)]
    claims = {c.event_id: c for c in claim_all(make_uow, account_id)}
    ok, five_hundred, timed_out, last_try, unsent = (claims[e.id] for e in events)
    # The 11th attempt of a delivery, 65 h after its event: its retries are over.
    last_try = Claim(**{**last_try.__dict__, "attempt_count": 10})
    sent_at, last_sent_at = START + timedelta(seconds=1), START + timedelta(hours=65)
    clock.set(START + timedelta(seconds=2))
    stats = record_results(make_uow(), [
        Result(ok, Outcome(http_status=200, error=None, latency_ms=12,
                           response_excerpt='{"ok":true}'), sent_at),
        Result(five_hundred, Outcome(http_status=500, error=None, latency_ms=30,
                                     response_excerpt="oops"), sent_at),
        Result(timed_out, Outcome(http_status=None, error=ERROR_TIMEOUT, latency_ms=10_000),
               sent_at),
        Result(last_try, Outcome(http_status=503, error=None, latency_ms=5), last_sent_at),
        Result(unsent, None),  # its lease ran short before the POST: handed back
    ], schedule=STRIPE_LIKE)
    assert (stats.succeeded, stats.retried, stats.failed, stats.released) == (1, 2, 1, 1)
    rows = {d.event_id: d for d in deliveries_of(make_uow, account_id)}
    got = {event.id: (rows[event.id].status, rows[event.id].attempt_count,
                      rows[event.id].next_attempt_at, rows[event.id].delivered_at,
                      rows[event.id].last_http_status, rows[event.id].last_error,
                      rows[event.id].lease_until) for event in events}
    assert got == {
        events[0].id: (DELIVERY_SUCCEEDED, 1, None, START + timedelta(seconds=2), 200, None,
                       None),
        events[1].id: (DELIVERY_PENDING, 1, sent_at + M, None, 500, None, None),
        events[2].id: (DELIVERY_PENDING, 1, sent_at + M, None, None, ERROR_TIMEOUT, None),
        events[3].id: (DELIVERY_FAILED, 11, None, None, 503, None, None),
        events[4].id: (DELIVERY_PENDING, 0, START, None, None, None, None),
    }
    attempts = attempts_by_delivery(make_uow, account_id)
    assert unsent.delivery_id not in attempts
    assert {delivery_id: [(a.http_status, a.error, a.latency_ms, a.response_excerpt,
                           a.started_at) for a in made]
            for delivery_id, made in attempts.items()} == {
        ok.delivery_id: [(200, None, 12, '{"ok":true}', sent_at)],
        five_hundred.delivery_id: [(500, None, 30, "oops", sent_at)],
        timed_out.delivery_id: [(None, ERROR_TIMEOUT, 10_000, None, sent_at)],
        last_try.delivery_id: [(503, None, 5, None, last_sent_at)],
    }
    with make_uow() as uow:
        row = uow.session.get(WebhookEndpoint, endpoint.id)
        # The endpoint's latest outcome failed; its failures began with this batch's 500.
        assert row is not None and row.failing_since == sent_at
    # The handed-back claim is due again at once; the retries when their time comes.
    assert [c.delivery_id for c in claim_all(make_uow, account_id)] == [unsent.delivery_id]
    clock.set(sent_at + M)
    assert {c.delivery_id for c in claim_all(make_uow, account_id)} == {
        five_hundred.delivery_id, timed_out.delivery_id}


def test_an_outcome_recorded_after_its_endpoint_was_disabled_keeps_the_failure(
        make_uow: MakeUow, account_id: str) -> None:
    endpoint = new_endpoint(make_uow, account_id, ["*"])
    failing, succeeding = (append_event(make_uow, account_id, object_id=f"cus_{i}")
                           for i in range(2))
    claims = {c.event_id: c for c in claim_all(make_uow, account_id)}
    with make_uow() as uow:  # disabled (with its pending deliveries) while the POSTs run
        for delivery in uow.session.exec(select(WebhookDelivery).where(
                WebhookDelivery.endpoint_id == endpoint.id)).all():
            delivery.status, delivery.last_error = DELIVERY_FAILED, "endpoint disabled"
            uow.add(delivery)
        row = uow.session.get(WebhookEndpoint, endpoint.id)
        assert row is not None
        row.status = ENDPOINT_DISABLED
        uow.add(row)
        uow.commit()
    record_results(make_uow(), [
        Result(claims[failing.id], Outcome(http_status=500, error=None, latency_ms=1), START),
        Result(claims[succeeding.id], Outcome(http_status=200, error=None, latency_ms=1),
               START)])
    rows = {d.event_id: d for d in deliveries_of(make_uow, account_id)}
    assert (rows[failing.id].status, rows[failing.id].last_error,
            rows[failing.id].attempt_count, rows[failing.id].next_attempt_at) == (
        DELIVERY_FAILED, "endpoint disabled", 1, None)
    # The event did arrive: a 2xx is recorded as delivered whatever happened meanwhile.
    assert (rows[succeeding.id].status, rows[succeeding.id].delivered_at) == (
        DELIVERY_SUCCEEDED, START)
    assert sum(len(a) for a in attempts_by_delivery(make_uow, account_id).values()) == 2
