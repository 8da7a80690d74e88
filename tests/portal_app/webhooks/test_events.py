"""The events API's service: the 30-day window, Stripe's filters, pruning that spares events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from portal_app.clock import FrozenClock
from portal_app.errors import ResourceMissing
from portal_app.events.models import Event
from portal_app.webhooks import events
from portal_app.webhooks.events import CreatedRange, prune_events
from portal_app.webhooks.models import (
    DELIVERY_FAILED,
    DELIVERY_SUCCEEDED,
    WebhookAttempt,
    WebhookDelivery,
)
from tests.conftest import START
from tests.portal_app.webhooks.helpers import MakeUow, append_event, deliveries_of, new_endpoint


def ids(page: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["id"] for e in page["data"]]


def set_status(make_uow: MakeUow, delivery_id: str, status: str) -> None:
    uow = make_uow()
    with uow:
        row = uow.session.get(WebhookDelivery, delivery_id)
        assert row is not None
        row.status = status
        uow.add(row)
        uow.commit()


def test_events_older_than_30_days_are_neither_listed_nor_retrieved_but_kept(
        make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    old = append_event(make_uow, account_id, "customer.created")
    clock.set(START + timedelta(days=20))
    recent = append_event(make_uow, account_id, "customer.updated")
    clock.set(START + timedelta(days=30, seconds=1))
    now = clock()
    page = events.list_events(account_id, uow=make_uow(), now=now)
    assert ids(page) == [recent.id] and page["url"] == "/v1/events"
    assert events.retrieve_event(recent.id, account_id=account_id, uow=make_uow(),
                                 now=now)["type"] == "customer.updated"
    with pytest.raises(ResourceMissing):
        events.retrieve_event(old.id, account_id=account_id, uow=make_uow(), now=now)
    with pytest.raises(ResourceMissing):
        events.list_events(account_id, uow=make_uow(), now=now, starting_after=old.id)
    uow = make_uow()
    with uow:  # still in the event store: the churn dashboard reads it
        assert uow.session.exec(select(Event).where(Event.id == old.id)).first() is not None


def test_type_types_created_and_cursor_filters(make_uow: MakeUow, account_id: str,
                                               clock: FrozenClock) -> None:
    made = []
    for i, kind in enumerate(["customer.created", "invoice.paid", "customer.updated",
                              "invoice.created"]):
        clock.set(START + timedelta(minutes=i))
        made.append(append_event(make_uow, account_id, kind))
    now = clock()

    def listed(**filters: Any) -> list[str]:
        return ids(events.list_events(account_id, uow=make_uow(), now=now, **filters))

    assert listed() == [e.id for e in reversed(made)]
    assert listed(types=["invoice.paid"]) == [made[1].id]
    assert listed(types=["customer.*"]) == [made[2].id, made[0].id]
    assert listed(types=["invoice.paid", "customer.created"]) == [made[1].id, made[0].id]
    assert listed(types=["customer_*"]) == []  # "_" is no wildcard
    assert listed(created=CreatedRange(gte=START + timedelta(minutes=1),
                                       lt=START + timedelta(minutes=3))) == [made[2].id,
                                                                             made[1].id]
    assert listed(created=CreatedRange(gt=START + timedelta(minutes=2))) == [made[3].id]
    first = events.list_events(account_id, uow=make_uow(), now=now, limit=2)
    assert ids(first) == [made[3].id, made[2].id] and first["has_more"] is True
    rest = events.list_events(account_id, uow=make_uow(), now=now, limit=2,
                              starting_after=made[2].id)
    assert ids(rest) == [made[1].id, made[0].id] and rest["has_more"] is False
    back = events.list_events(account_id, uow=make_uow(), now=now, limit=1,
                              ending_before=made[1].id)
    assert ids(back) == [made[2].id] and back["has_more"] is True


def test_events_sharing_a_timestamp_page_in_append_order(make_uow: MakeUow,
                                                         account_id: str) -> None:
    made = [append_event(make_uow, account_id, "customer.updated") for _ in range(5)]
    now = START
    seen: list[str] = []
    cursor = None
    while True:
        page = events.list_events(account_id, uow=make_uow(), now=now, limit=2,
                                  starting_after=cursor)
        seen += ids(page)
        if not page["has_more"]:
            break
        cursor = seen[-1]
    assert seen == [e.id for e in reversed(made)]


def test_delivery_success_and_pending_webhooks(make_uow: MakeUow, account_id: str) -> None:
    new_endpoint(make_uow, account_id)
    new_endpoint(make_uow, account_id)
    delivered = append_event(make_uow, account_id, "customer.created", "cus_1")
    failing = append_event(make_uow, account_id, "customer.updated", "cus_2")
    pending = append_event(make_uow, account_id, "customer.updated", "cus_3")
    for d in deliveries_of(make_uow, account_id):
        if d.event_id == delivered.id:
            set_status(make_uow, d.id, DELIVERY_SUCCEEDED)
    one, other = [d for d in deliveries_of(make_uow, account_id) if d.event_id == failing.id]
    set_status(make_uow, one.id, DELIVERY_SUCCEEDED)
    set_status(make_uow, other.id, DELIVERY_FAILED)  # one of two endpoints never got it
    ok = events.list_events(account_id, uow=make_uow(), now=START, delivery_success=True)
    bad = events.list_events(account_id, uow=make_uow(), now=START, delivery_success=False)
    assert ids(ok) == [delivered.id]
    assert ids(bad) == [pending.id, failing.id]
    by_id = {e["id"]: e for e in events.list_events(account_id, uow=make_uow(),
                                                    now=START)["data"]}
    assert [by_id[e.id]["pending_webhooks"] for e in (delivered, failing, pending)] == [0, 0, 2]
    assert by_id[pending.id]["object"] == "event" and by_id[pending.id]["livemode"] is False


def test_prune_deletes_only_deliveries_and_attempts_past_30_days(
        make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    new_endpoint(make_uow, account_id)
    old = append_event(make_uow, account_id)
    clock.set(START + timedelta(days=29))
    recent = append_event(make_uow, account_id)
    uow = make_uow()
    with uow:
        for d in uow.session.exec(select(WebhookDelivery).where(
                WebhookDelivery.account_id == account_id)).all():
            uow.add(WebhookAttempt(delivery_id=d.id, account_id=account_id,
                                   started_at=d.created, latency_ms=5, error="timeout"))
        uow.commit()
    clock.set(START + timedelta(days=30, minutes=1))
    assert prune_events(make_uow(), clock()) >= 2  # ours: one delivery, one attempt (all accounts)
    assert [d.event_id for d in deliveries_of(make_uow, account_id)] == [recent.id]
    uow = make_uow()
    with uow:
        assert len(uow.session.exec(select(WebhookAttempt).where(
            WebhookAttempt.account_id == account_id)).all()) == 1
        assert {e.id for e in uow.session.exec(select(Event).where(
            Event.account_id == account_id)).all()} == {old.id, recent.id}
