"""The event store: every change is an ``evt_`` row, written with the change itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer
from sqlmodel import Field, SQLModel

from portal_app.dbtypes import json_field, time_field
from portal_app.ids import new_id


class Event(SQLModel, table=True):
    # ``seq`` orders events that share a timestamp (a frozen clock makes many);
    # ``id`` is the public, random ``evt_`` id.
    # 64-bit on PostgreSQL; SQLite's rowid (INTEGER PRIMARY KEY) is 64-bit already.
    seq: int | None = Field(default=None, primary_key=True,
                            sa_type=BigInteger().with_variant(Integer(), "sqlite"))
    id: str = Field(unique=True, index=True, default_factory=new_id("evt"))
    account_id: str = Field(foreign_key="account.id", index=True)
    type: str = Field(index=True)
    created: datetime = time_field(index=True)
    object_id: str = Field(index=True)
    customer_id: str | None = Field(default=None, index=True)
    data_object: dict[str, Any] = json_field()
    previous_attributes: dict[str, Any] | None = json_field(default=None)
    request_id: str | None = None
    idempotency_key: str | None = None
    # Where a change came from, e.g. {"portal_session": "bps_...", "configuration": "bpc_..."}.
    origin: dict[str, Any] | None = json_field(default=None)


class StripeObject(SQLModel, table=True):
    """The newest known state of one object in a merchant's Stripe account.

    Written by inbound webhooks and the backfill (read it with
    :func:`portal_app.events.snapshots.retrieve_snapshot`): an event replaces it only
    when it is newer (``created``), so deliveries out of order never go back in time.
    ``stale``: the snapshot is in doubt (two events of the same second, or a thin event
    that carried no object) and is refetched from Stripe.
    """

    __tablename__ = "stripe_object"

    account_id: str = Field(foreign_key="account.id", primary_key=True)
    id: str = Field(primary_key=True)  # Stripe's object id (cus_…, sub_…, in_…)
    type: str  # Stripe's ``object`` member: customer, subscription, invoice...
    # The object as fetched from Stripe; None: it is ``data_object`` of ``event_id`` (each
    # event's object is written once, in the event store).
    data: dict[str, Any] | None = json_field(default=None)
    created: datetime = time_field()  # when the event (or the fetch) that wrote it happened
    event_id: str | None = None  # that event; None for a fetch
    stale: bool = False
    refetched: datetime | None = time_field(nullable=True)


class StripeBackfillCursor(SQLModel, table=True):
    """How far ``portico stripe-backfill`` got through one of Stripe's lists."""

    __tablename__ = "stripe_backfill_cursor"

    account_id: str = Field(foreign_key="account.id", primary_key=True)
    list_name: str = Field(primary_key=True)  # customers, subscriptions, invoices, events
    starting_after: str | None = None  # the last object stored; None: from the start
    done: bool = False
    count: int = 0  # objects stored so far by this run
    updated: datetime = time_field()
