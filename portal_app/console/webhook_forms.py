"""The webhook endpoint form: its inputs in, the endpoint services' keywords out.

The form has typed inputs (the URL, a description) that arrive with the submitted
form, and controlled ones: the ticked event types (or ``*`` for every event) and
the mode.
:func:`endpoint_fields` turns both into the keywords of the endpoint services
(Stripe's parameters: ``url``, ``enabled_events``, ``description``) and raises
:class:`FieldProblem` for a value that is no value; whether an address may be
called (live mode refuses private ones) is the services' to decide.
:func:`deliveries_since` reads the deliveries log's "since" date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from portal_app.console.forms import FieldProblem, text, toggled
from portal_app.console.strings import ct
from portal_app.webhooks.outbox import ALL_EVENTS

# Every event type Portico emits (the writers of ``uow.events``), by the object it is about.
EVENT_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("customer", ("customer.created", "customer.updated", "customer.tax_id.created",
                  "customer.tax_id.deleted")),
    ("customer.subscription", (
        "customer.subscription.created", "customer.subscription.updated",
        "customer.subscription.deleted", "customer.subscription.paused",
        "customer.subscription.resumed")),
    ("invoice", ("invoice.created", "invoice.finalized", "invoice.paid",
                 "invoice.payment_succeeded", "invoice.payment_failed", "invoice.voided",
                 "invoice.marked_uncollectible", "invoiceitem.created")),
    ("payment_method", ("payment_method.attached", "payment_method.detached",
                        "payment_method.updated", "setup_intent.created",
                        "setup_intent.requires_action", "setup_intent.setup_failed",
                        "setup_intent.succeeded", "setup_intent.canceled", "mandate.updated")),
    ("subscription_schedule", (
        "subscription_schedule.created", "subscription_schedule.updated",
        "subscription_schedule.released", "subscription_schedule.canceled",
        "subscription_schedule.completed")),
    ("catalog", ("product.created", "price.created", "coupon.created",
                 "promotion_code.created", "billing.meter.created")),
    ("billing_portal", ("billing_portal.configuration.created",
                        "billing_portal.configuration.updated")),
    ("portico", (
        "portico.cancellation_flow.started", "portico.cancellation_flow.offer_presented",
        "portico.cancellation_flow.offer_accepted", "portico.cancellation_flow.offer_declined",
        "portico.cancellation_flow.completed", "portico.offer.created",
        "portico.offer.updated", "portico.offer.deleted", "portico.experiment.created",
        "portico.experiment.updated", "portico.retention_policy.updated")),
    ("test_helpers", ("test_helpers.test_clock.created", "test_helpers.test_clock.advancing",
                      "test_helpers.test_clock.ready", "test_helpers.test_clock.deleted")),
)
EVENT_TYPES: tuple[str, ...] = tuple(t for _, types in EVENT_GROUPS for t in types)


@dataclass
class EndpointDraft:
    """The endpoint form's controlled inputs: the ticked event types (``["*"]``: all) and
    the mode (a live endpoint may only call public addresses, as if made with sk_live_)."""

    events: list[str]
    livemode: bool = False


def toggle_event(events: Sequence[str], event_type: str, checked: bool) -> list[str]:
    """The ticked types after (un)ticking ``event_type``; ``*`` and single types exclude
    each other (ticking ``*`` sends everything, ticking a type leaves ``*``)."""
    if event_type == ALL_EVENTS:
        return [ALL_EVENTS] if checked else []
    if event_type not in EVENT_TYPES:
        return list(events)
    return toggled([e for e in events if e != ALL_EVENTS], event_type, checked)


def _url(form: Mapping[str, Any]) -> str:
    url = text(form, "url")
    if not url:
        raise FieldProblem("url", ct("This field is required."))
    return url


def enabled_events(events: Sequence[str]) -> list[str]:
    """The ticked types as Stripe's ``enabled_events`` (``["*"]`` or types in list order).

    Raises FieldProblem (field ``events``) when none is ticked or one is unknown.
    """
    if ALL_EVENTS in events:
        return [ALL_EVENTS]
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise FieldProblem("events", ct("Unknown event type: {type}", type=unknown[0]))
    if not events:
        raise FieldProblem("events", ct("Choose at least one event, or all events."))
    return [t for t in EVENT_TYPES if t in events]


def endpoint_fields(form: Mapping[str, Any], draft: EndpointDraft) -> dict[str, Any]:
    """The endpoint services' keywords (``url``, ``enabled_events``, ``description``).

    Raises FieldProblem for a missing URL or no event chosen; the services check the
    URL itself (``webhooks/addresses.py``) and the description's length.

    Examples
    --------
    >>> endpoint_fields({"url": " https://a.test/hook ", "description": ""},
    ...                 EndpointDraft(events=["*"]))
    {'url': 'https://a.test/hook', 'enabled_events': ['*'], 'description': None, \
'livemode': False}
    """
    url = _url(form)
    description = text(form, "description")
    return {"url": url, "enabled_events": enabled_events(draft.events),
            "description": description or None, "livemode": draft.livemode}


# The endpoint services' parameters, by the form input each is about.
FIELD_OF_PARAM = {"url": "url", "enabled_events": "events", "description": "description"}


def form_field(param: str | None) -> str:
    """The form input a service refusal's ``param`` is about ("" for the whole form)."""
    name = (param or "").split("[", 1)[0]
    return FIELD_OF_PARAM.get(name, "")


def deliveries_since(value: str, *, now: datetime) -> datetime | None:
    """The first instant of the day ``value`` (YYYY-MM-DD), None when blank.

    Raises FieldProblem (field ``since``) when it is no date or lies after today.
    """
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise FieldProblem("since", ct("“{value}” is not a date. Use the date picker or "
                                       "YYYY-MM-DD.", value=value)) from None
    if day > now.astimezone(UTC).date():
        raise FieldProblem("since", ct("The date can't be after today."))
    return datetime.combine(day, time(), UTC)
