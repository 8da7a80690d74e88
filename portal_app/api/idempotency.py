"""``Idempotency-Key``: the same key and parameters replay the first response.

A response is stored in the same transaction as the change it reports, so a
stored response always describes a committed change. Keys are unique per
account (a database constraint): of two concurrent requests with one key, the
second fails to commit, rolls back everything it did, and replays the first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import select

from portal_app.api.models import IdempotencyRecord
from portal_app.db import UnitOfWork
from portal_app.errors import IdempotencyConflict, InvalidRequest

KEY_TTL = timedelta(hours=24)  # Stripe prunes keys after 24 hours
MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    """What makes two requests "the same": method, path and decoded parameters."""
    canonical = json.dumps([method.upper(), path, params], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> None:
    """Refuse keys Stripe refuses. Raises InvalidRequest."""
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"Idempotency keys can be at most {MAX_KEY_LENGTH} characters long.",
            param="Idempotency-Key")


@dataclass(frozen=True)
class StoredResponse:
    """The first response given for a key."""

    status_code: int
    body: str


def find_response(key: str, fp: str, *, account_id: str, uow: UnitOfWork
                  ) -> StoredResponse | None:
    """The stored response for ``key``, if it is still live.

    Raises IdempotencyConflict when the key was first used with other parameters.
    """
    with uow:
        record = uow.session.exec(
            select(IdempotencyRecord).where(IdempotencyRecord.account_id == account_id,
                                            IdempotencyRecord.key == key)
        ).first()
        if record is None:
            return None
        if record.created < uow.clock() - KEY_TTL:
            uow.session.delete(record)
            uow.commit()
            return None
        if record.fingerprint != fp:
            raise IdempotencyConflict(
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with. Try using a key other than "
                f"'{key}' if you meant to execute a different request.")
        # Read inside the transaction: its rollback on exit expires the row.
        return StoredResponse(status_code=record.status_code, body=record.body)


def store_response(key: str, fp: str, *, status_code: int, body: str, account_id: str,
                   uow: UnitOfWork) -> None:
    """Stage the response for ``key``; it commits with the caller's transaction."""
    uow.add(IdempotencyRecord(account_id=account_id, key=key, fingerprint=fp,
                              status_code=status_code, body=body, created=uow.clock()))
