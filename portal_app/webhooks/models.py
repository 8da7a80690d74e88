"""Webhook endpoints, the delivery outbox and every delivery attempt (issue 12).

One ``webhook_delivery`` row per (event, endpoint), inserted with the event in the
same transaction (see ``EventLog.append`` in :mod:`portal_app.db`): a rolled-back
change sends nothing, a committed event is never lost. A worker claims a pending
delivery whose ``next_attempt_at`` has come by setting ``lease_until``; a worker
killed mid-send lets its lease expire and another retakes the delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, LargeBinary
from sqlmodel import Field, SQLModel

from portal_app.dbtypes import json_field, time_field
from portal_app.ids import new_id

ENDPOINT_ENABLED = "enabled"
ENDPOINT_DISABLED = "disabled"

DELIVERY_PENDING = "pending"
DELIVERY_SUCCEEDED = "succeeded"
DELIVERY_FAILED = "failed"  # retries exhausted, or the endpoint was disabled

RESPONSE_EXCERPT_LIMIT = 1024  # bytes of the endpoint's response body kept per attempt


class WebhookEndpoint(SQLModel, table=True):
    """A merchant's URL that receives signed ``evt_`` payloads."""

    __tablename__ = "webhook_endpoint"

    id: str = Field(primary_key=True, default_factory=new_id("we"))
    account_id: str = Field(foreign_key="account.id", index=True)
    url: str
    enabled_events: list[str] = json_field(default=list)  # ["*"] for every type
    description: str | None = None
    metadata_: dict[str, Any] = json_field()
    api_version: str | None = None
    status: str = Field(default=ENDPOINT_ENABLED, max_length=16)
    # The ``whsec_`` signing secret, AES-GCM sealed under the server key
    # (see portal_app/webhooks/signing.py); never stored in plaintext.
    secret_sealed: bytes = Field(sa_type=LargeBinary)
    livemode: bool = False  # created with an sk_live_ key
    created: datetime = time_field()
    disabled_reason: str | None = None  # "failing" when disabled after 3 days of failures
    failing_since: datetime | None = time_field(nullable=True)


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one endpoint: pending until it succeeds or fails for good."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # The workers' claim: pending rows in due order, one range scan.
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        # ``pending_webhooks`` of the events a claim sends (and every lookup by event).
        Index("ix_webhook_delivery_event_status", "event_id", "status"),
    )

    id: str = Field(primary_key=True, default_factory=new_id("whd"))
    account_id: str = Field(foreign_key="account.id", index=True)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.id", index=True)
    event_id: str  # the public ``evt_`` id
    event_type: str
    status: str = Field(default=DELIVERY_PENDING, max_length=16)
    attempt_count: int = 0
    next_attempt_at: datetime | None = time_field(nullable=True)
    lease_until: datetime | None = time_field(nullable=True)
    created: datetime = time_field(index=True)  # the event's time
    delivered_at: datetime | None = time_field(nullable=True)
    last_http_status: int | None = None
    last_error: str | None = None


class WebhookAttempt(SQLModel, table=True):
    """One HTTP POST of a delivery: when, how long, and what came back."""

    __tablename__ = "webhook_attempt"

    id: str = Field(primary_key=True, default_factory=new_id("wha"))
    delivery_id: str = Field(foreign_key="webhook_delivery.id", index=True)
    account_id: str = Field(foreign_key="account.id", index=True)
    started_at: datetime = time_field(index=True)
    latency_ms: int = 0
    http_status: int | None = None
    error: str | None = None  # "timeout", "connection refused", ...
    response_excerpt: str | None = None  # at most RESPONSE_EXCERPT_LIMIT bytes
