"""The webhooks pages' reads (scoped to one account) and rows (worded, formatted)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from portal_app.accounts import services as accounts
from portal_app.console.webhook_views import (
    STATS_WINDOW,
    AttemptStats,
    DeliveryFilters,
    attempt_row,
    attempt_stats,
    auto_disabled,
    delivery_event_types,
    delivery_row,
    endpoint_row,
    endpoint_rows,
    list_deliveries,
    list_endpoints,
    retrieve_delivery,
)
from portal_app.db import UnitOfWork
from portal_app.errors import ResourceMissing
from portal_app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.conftest import START

UowFactory = Callable[[], UnitOfWork]


def add(make_uow: UowFactory, *rows: object) -> None:
    uow = make_uow()
    with uow:
        for row in rows:
            uow.session.add(row)
        uow.commit()


def endpoint(account_id: str, url: str = "https://hooks.acme.test/a", **kw: object
             ) -> WebhookEndpoint:
    values: dict = {"account_id": account_id, "url": url, "enabled_events": ["*"],
                    "secret_sealed": b"sealed", "created": START}
    values.update(kw)
    return WebhookEndpoint(**values)


def delivery(account_id: str, endpoint_id: str, **kw: object) -> WebhookDelivery:
    values: dict = {"account_id": account_id, "endpoint_id": endpoint_id,
                    "event_id": "evt_1", "event_type": "invoice.paid", "created": START}
    values.update(kw)
    return WebhookDelivery(**values)


def attempt(account_id: str, delivery_id: str, status: int | None, **kw: object
            ) -> WebhookAttempt:
    values: dict = {"account_id": account_id, "delivery_id": delivery_id,
                    "started_at": START, "latency_ms": 120, "http_status": status}
    values.update(kw)
    return WebhookAttempt(**values)


@pytest.fixture
def other_account(make_uow: UowFactory) -> str:
    return accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id


def test_reads_are_scoped_to_the_account(account_id: str, other_account: str,
                                         make_uow: UowFactory) -> None:
    mine, theirs = endpoint(account_id), endpoint(other_account)
    add(make_uow, mine, theirs)
    their_delivery = delivery(other_account, theirs.id)
    add(make_uow, their_delivery)

    assert [e.id for e in list_endpoints(account_id, uow=make_uow())] == [mine.id]
    with pytest.raises(ResourceMissing):
        list_deliveries(theirs.id, account_id=account_id, uow=make_uow())
    with pytest.raises(ResourceMissing):
        retrieve_delivery(their_delivery.id, account_id=account_id, uow=make_uow())
    assert delivery_event_types(theirs.id, account_id=account_id, uow=make_uow()) == []


def test_success_rate_counts_the_last_24_hours_only(account_id: str, other_account: str,
                                                    make_uow: UowFactory) -> None:
    a, b, theirs = endpoint(account_id), endpoint(account_id, "https://b.test"), \
        endpoint(other_account)
    add(make_uow, a, b, theirs)
    da, db_, dt = delivery(account_id, a.id), delivery(account_id, b.id), \
        delivery(other_account, theirs.id)
    add(make_uow, da, db_, dt)
    old = START - STATS_WINDOW - timedelta(seconds=1)
    add(make_uow,
        attempt(account_id, da.id, 500), attempt(account_id, da.id, None, error="timeout"),
        attempt(account_id, da.id, 204), attempt(account_id, da.id, 200),
        attempt(account_id, da.id, 500, started_at=old),  # outside the window
        attempt(account_id, db_.id, 302),  # a redirect is no success
        attempt(other_account, dt.id, 200))

    stats = attempt_stats(account_id, uow=make_uow(), since=START - STATS_WINDOW)

    assert stats == {a.id: AttemptStats(total=4, succeeded=2),
                     b.id: AttemptStats(total=1, succeeded=0)}
    rows = endpoint_rows(list_endpoints(account_id, uow=make_uow()), stats)
    by_id = {r.id: r for r in rows}
    assert by_id[a.id].success_rate == "50.0%"
    assert by_id[a.id].attempts == "4 attempts in 24 h"
    assert by_id[b.id].success_rate == "0.0%"
    assert by_id[b.id].attempts == "1 attempt in 24 h"


def test_an_endpoint_without_attempts_and_its_words(account_id: str) -> None:
    row = endpoint_row(endpoint(account_id, enabled_events=["invoice.paid"],
                                description="Sync"), AttemptStats())
    assert (row.success_rate, row.events, row.status_label, row.tone, row.mode, row.notice) \
        == ("—", "invoice.paid", "Enabled", "green", "Test", "")
    assert row.description == "Sync" and row.created == "Jan 31, 2026, 12:00:00\u202fPM"
    many = endpoint_row(endpoint(account_id, enabled_events=["a.b", "c.d", "e.f"],
                                 livemode=True), AttemptStats())
    assert many.events == "3 events" and many.mode == "Live"
    assert endpoint_row(endpoint(account_id), AttemptStats()).events == "All events"


def test_failing_and_disabled_endpoints_say_so(account_id: str) -> None:
    failing = endpoint_row(endpoint(account_id, failing_since=START - timedelta(days=1)),
                           AttemptStats())
    assert failing.enabled and failing.tone == "amber"
    assert "Jan 30, 2026" in failing.notice and "3 days" in failing.notice

    auto = endpoint(account_id, "https://down.test", status="disabled",
                    disabled_reason="failing")
    by_hand = endpoint(account_id, "https://off.test", status="disabled")
    auto_row, hand_row = endpoint_rows([auto, by_hand], {})
    assert not auto_row.enabled and auto_row.tone == "red"
    assert auto_row.notice.startswith("Disabled automatically")
    assert hand_row.notice == "Disabled: no events are sent to this endpoint."
    assert auto_disabled([auto, by_hand, endpoint(account_id)]) == ["https://down.test"]


def test_deliveries_filter_and_page(account_id: str, make_uow: UowFactory) -> None:
    e = endpoint(account_id)
    add(make_uow, e)
    rows = [delivery(account_id, e.id, event_id=f"evt_{i}", created=START - timedelta(hours=i),
                     event_type="invoice.paid" if i % 2 else "customer.created",
                     status="failed" if i < 3 else "succeeded")
            for i in range(6)]
    add(make_uow, *rows)

    page = list_deliveries(e.id, account_id=account_id, uow=make_uow(), limit=4)
    assert [d.event_id for d in page.deliveries] == ["evt_0", "evt_1", "evt_2", "evt_3"]
    assert page.has_more
    rest = list_deliveries(e.id, account_id=account_id, uow=make_uow(), limit=4, offset=4)
    assert [d.event_id for d in rest.deliveries] == ["evt_4", "evt_5"] and not rest.has_more

    failed = list_deliveries(e.id, account_id=account_id, uow=make_uow(),
                             filters=DeliveryFilters(status="failed"))
    assert [d.event_id for d in failed.deliveries] == ["evt_0", "evt_1", "evt_2"]
    paid_recent = list_deliveries(
        e.id, account_id=account_id, uow=make_uow(),
        filters=DeliveryFilters(event_type="invoice.paid", since=START - timedelta(hours=3)))
    assert [d.event_id for d in paid_recent.deliveries] == ["evt_1", "evt_3"]
    assert delivery_event_types(e.id, account_id=account_id, uow=make_uow()) == [
        "customer.created", "invoice.paid"]


def test_delivery_and_attempt_rows(account_id: str, make_uow: UowFactory) -> None:
    e = endpoint(account_id)
    add(make_uow, e)
    failed = delivery(account_id, e.id, status="failed", attempt_count=3,
                      last_http_status=500, event_type="invoice.payment_failed")
    pending = delivery(account_id, e.id, attempt_count=1, last_error="connection refused",
                       next_attempt_at=START + timedelta(minutes=5))
    add(make_uow, failed, pending)
    add(make_uow,
        attempt(account_id, failed.id, 500, response_excerpt="oops",
                started_at=START - timedelta(minutes=1)),
        attempt(account_id, failed.id, None, error="timeout", latency_ms=10000))

    row = delivery_row(failed)
    assert (row.status_label, row.tone, row.result, row.attempts, row.can_resend,
            row.event_tone, row.next_attempt) == (
        "Failed", "red", "HTTP 500", "3", True, "red", "")
    waiting = delivery_row(pending)
    assert (waiting.status_label, waiting.tone, waiting.result, waiting.can_resend) == (
        "Pending", "amber", "connection refused", False)
    assert waiting.next_attempt == "Jan 31, 2026, 12:05:00\u202fPM"

    got, attempts = retrieve_delivery(failed.id, account_id=account_id, uow=make_uow())
    assert got.id == failed.id
    newest, oldest = [attempt_row(a) for a in attempts]
    assert (newest.result, newest.ok, newest.latency, newest.excerpt) == (
        "timeout", False, "10,000 ms", "")
    assert (oldest.result, oldest.ok, oldest.excerpt) == ("HTTP 500", False, "oops")
    assert attempt_row(attempt(account_id, failed.id, 200)).ok
