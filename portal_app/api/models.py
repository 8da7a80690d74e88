"""Stored responses for ``Idempotency-Key`` replays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal_app.dbtypes import time_field
from portal_app.ids import new_id


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: str = Field(primary_key=True, default_factory=new_id("idem"))
    account_id: str = Field(foreign_key="account.id", index=True)
    key: str
    fingerprint: str  # method, path and body digest of the first request
    status_code: int
    body: str
    created: datetime = time_field()
