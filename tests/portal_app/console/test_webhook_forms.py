"""The webhook endpoint form: URL, events picker, description, and the log's since date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_app.console.forms import FieldProblem
from portal_app.console.webhook_forms import (
    ALL_EVENTS,
    EVENT_GROUPS,
    EVENT_TYPES,
    EndpointDraft,
    deliveries_since,
    enabled_events,
    endpoint_fields,
    toggle_event,
)

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)


def test_a_valid_form_gives_the_services_keywords() -> None:
    fields = endpoint_fields(
        {"url": "  https://hooks.acme.test/stripe?x=1 ", "description": " Billing sync "},
        EndpointDraft(events=["invoice.paid", "customer.created"]))
    assert fields == {"url": "https://hooks.acme.test/stripe?x=1",
                      # in the picker's order, whatever order they were ticked in
                      "enabled_events": ["customer.created", "invoice.paid"],
                      "description": "Billing sync", "livemode": False}


@pytest.mark.parametrize("url", ["", "   "])
def test_the_url_is_required(url: str) -> None:
    with pytest.raises(FieldProblem) as problem:
        endpoint_fields({"url": url}, EndpointDraft(events=["*"]))
    assert problem.value.field == "url" and problem.value.message


def test_the_services_check_the_url_itself() -> None:
    # Test mode may call a local receiver; live mode's refusal is the services' rule.
    fields = endpoint_fields({"url": "http://127.0.0.1:8123/hook"},
                             EndpointDraft(["*"], livemode=True))
    assert fields["url"] == "http://127.0.0.1:8123/hook" and fields["description"] is None
    assert fields["livemode"] is True


def test_events_all_none_or_unknown() -> None:
    assert enabled_events(["invoice.paid", ALL_EVENTS]) == ["*"]
    with pytest.raises(FieldProblem) as none:
        enabled_events([])
    assert none.value.field == "events"
    with pytest.raises(FieldProblem) as unknown:
        enabled_events(["invoice.paid", "invoice.exploded"])
    assert unknown.value.field == "events" and "invoice.exploded" in unknown.value.message


def test_ticking_all_events_and_single_types_exclude_each_other() -> None:
    events = toggle_event([], "invoice.paid", True)
    events = toggle_event(events, "customer.created", True)
    assert events == ["invoice.paid", "customer.created"]
    assert toggle_event(events, ALL_EVENTS, True) == ["*"]
    assert toggle_event(["*"], "invoice.paid", True) == ["invoice.paid"]
    assert toggle_event(["*"], ALL_EVENTS, False) == []
    assert toggle_event(events, "invoice.paid", False) == ["customer.created"]
    # A type the picker does not offer is ignored (it came from a crafted event).
    assert toggle_event(events, "evil.type", True) == events


def test_the_picker_lists_each_type_once_and_the_types_portico_emits() -> None:
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES))
    assert all(types for _, types in EVENT_GROUPS)
    for emitted in ("customer.subscription.deleted", "invoice.payment_failed",
                    "portico.cancellation_flow.completed", "customer.tax_id.created"):
        assert emitted in EVENT_TYPES


def test_deliveries_since() -> None:
    assert deliveries_since("", now=NOW) is None
    assert deliveries_since(" 2026-01-30 ", now=NOW) == datetime(2026, 1, 30, tzinfo=UTC)
    assert deliveries_since("2026-01-31", now=NOW) == datetime(2026, 1, 31, tzinfo=UTC)
    for bad in ("yesterday", "2026-02-01", "2026-13-01"):
        with pytest.raises(FieldProblem) as problem:
            deliveries_since(bad, now=NOW)
        assert problem.value.field == "since"
