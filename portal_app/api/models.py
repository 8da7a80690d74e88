"""Stored responses for ``Idempotency-Key`` replays, sealed (see :mod:`portal_app.api.idempotency`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal_app.dbtypes import time_field
from portal_app.ids import new_id


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("account_id", "key_digest"),)

    id: str = Field(primary_key=True, default_factory=new_id("idem"))
    account_id: str = Field(foreign_key="account.id", index=True)
    key_digest: str  # derived from the Idempotency-Key; the key itself is never stored
    # The first request's fingerprint, status and body, encrypted under a key only the
    # Idempotency-Key derives (nonce + AES-GCM ciphertext).
    sealed: bytes = Field(sa_type=LargeBinary)
    created: datetime = time_field(index=True)
