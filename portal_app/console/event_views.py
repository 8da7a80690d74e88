"""What the event log shows: one row per stored event, its type as a colored badge."""

from __future__ import annotations

from dataclasses import dataclass

from portal_app import i18n
from portal_app.console.strings import CONSOLE_LOCALE
from portal_app.events.store import EventSummary


@dataclass
class EventRow:
    """One line of the event log as the page shows it."""

    id: str
    type: str
    tone: str  # a Radix color for the type's badge
    created: str
    object_id: str
    customer: str


# Badge colors by the object an event is about; failures and deletions stand out.
_TONES = {
    "customer": "blue",
    "customer.subscription": "violet",
    "invoice": "amber",
    "payment_method": "teal",
    "charge": "cyan",
    "product": "gray",
    "price": "gray",
    "coupon": "pink",
    "billing_portal": "indigo",
}


def event_tone(event_type: str) -> str:
    """The badge color for an event type."""
    if event_type.endswith((".failed", ".deleted", ".payment_failed")):
        return "red"
    parts = event_type.split(".")
    for length in range(len(parts) - 1, 0, -1):
        tone = _TONES.get(".".join(parts[:length]))
        if tone:
            return tone
    return "gray"


def event_row(event: EventSummary) -> EventRow:
    """A stored event's summary as a row of the log."""
    return EventRow(id=event.id, type=event.type, tone=event_tone(event.type),
                    created=i18n.format_datetime(event.created, CONSOLE_LOCALE),
                    object_id=event.object_id, customer=event.customer_id or "")
