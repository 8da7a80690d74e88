"""Storing inbound Stripe events: one transaction per batch, dedupe, ties, verification.

Over HTTP, and fed by a second Portico acting as Stripe: tests/portal_app/web/
test_stripe_webhooks.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.events.inbound import Incoming, incoming, store_events, verify
from portal_app.events.models import Event
from portal_app.events.snapshots import retrieve_snapshot
from portal_app.webhooks.signing import signature_header
from tests.portal_app.web.test_stripe_webhooks import inbound  # noqa: F401  (a fixture)


def item(event_id: str, account_id: str, *, created: int, obj: dict) -> Incoming:
    return incoming(
        {"id": event_id, "type": "customer.updated", "created": created, "data": {"object": obj}},
        account_id=account_id,
    )


def test_a_batch_stores_new_events_once_and_reports_duplicates(
    account_id: str, make_uow: Callable[[], UnitOfWork]
) -> None:
    cus = {"id": "cus_b", "object": "customer", "name": "B"}
    batch = [
        item("evt_b1", account_id, created=100, obj=cus),
        item("evt_b1", account_id, created=100, obj=cus),  # repeated in the batch
        item("evt_b2", account_id, created=101, obj={**cus, "name": "B2"}),
    ]
    results = store_events(batch, uow=make_uow())
    assert [(r.event_id, r.duplicate, r.stale) for r in results] == [
        ("evt_b1", False, False),
        ("evt_b1", True, False),
        ("evt_b2", False, False),
    ]
    again = store_events(batch[:1], uow=make_uow())
    assert again[0].duplicate
    with make_uow() as uow:
        ids = list(uow.session.exec(select(Event.id).where(Event.account_id == account_id)))
    assert sorted(ids) == ["evt_b1", "evt_b2"]
    assert retrieve_snapshot(account_id, "cus_b", uow=make_uow()) == {**cus, "name": "B2"}


def test_a_tie_in_one_batch_and_across_batches_marks_the_snapshot_stale(
    account_id: str, make_uow: Callable[[], UnitOfWork]
) -> None:
    cus = {"id": "cus_t", "object": "customer"}
    [one, two] = store_events(
        [
            item("evt_t1", account_id, created=100, obj=cus),
            item("evt_t2", account_id, created=100, obj=cus),
        ],
        uow=make_uow(),
    )
    assert (one.stale, two.stale) == (True, True)
    other = {"id": "cus_u", "object": "customer"}
    assert not store_events([item("evt_u1", account_id, created=100, obj=other)], uow=make_uow())[
        0
    ].stale
    assert store_events([item("evt_u2", account_id, created=100, obj=other)], uow=make_uow())[
        0
    ].stale
    # An older event is no doubt at all: the stored snapshot is newer.
    assert not store_events([item("evt_u0", account_id, created=99, obj=other)], uow=make_uow())[
        0
    ].stale


def test_verify_uses_the_sdk_and_the_five_minute_tolerance() -> None:
    payload = b'{"id": "evt_v", "type": "customer.created"}'
    now = int(datetime.now(UTC).timestamp())
    header = signature_header(payload.decode(), "whsec_v_0123456789", timestamp=now - 299)
    assert verify(payload, header, secret="whsec_v_0123456789")["id"] == "evt_v"
    late = signature_header(payload.decode(), "whsec_v_0123456789", timestamp=now - 310)
    with pytest.raises(InvalidRequest, match="tolerance"):
        verify(payload, late, secret="whsec_v_0123456789")
