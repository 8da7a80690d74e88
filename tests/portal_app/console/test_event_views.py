"""The event log's rows: one per stored event, the type as a colored badge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_app.console.event_views import event_row, event_tone
from portal_app.events.store import EventSummary


@pytest.mark.parametrize(("event_type", "tone"), [
    ("customer.created", "blue"), ("customer.subscription.updated", "violet"),
    ("invoice.paid", "amber"), ("invoice.payment_failed", "red"),
    ("customer.deleted", "red"), ("billing_portal.session.created", "indigo"),
    ("portico.offer.updated", "gray"), ("price.created", "gray"),
])
def test_event_tone(event_type: str, tone: str) -> None:
    assert event_tone(event_type) == tone


def test_event_row() -> None:
    summary = EventSummary(seq=1, id="evt_1", type="customer.created",
                           created=datetime(2026, 1, 31, 12, 5, tzinfo=UTC),
                           object_id="cus_1", customer_id=None)
    row = event_row(summary)
    assert (row.id, row.tone, row.object_id, row.customer) == ("evt_1", "blue", "cus_1", "")
    assert row.created == "Jan 31, 2026, 12:05:00\u202fPM"
