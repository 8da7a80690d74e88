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
