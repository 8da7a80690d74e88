"""``Idempotency-Key``: the same key and parameters replay the first response.

A response is stored in the same transaction as the change it reports, so a
stored response always describes a committed change. Keys are unique per
account (a database constraint): of two concurrent requests with one key, the
second fails to commit, rolls back everything it did, and replays the first.

Nothing secret is stored. A response may carry one (a portal session's ``url``
holds the session's token), and Stripe replays the identical response, so it
cannot simply be left out. Instead the Idempotency-Key itself is the secret
the record is sealed with: HKDF-SHA256 over the key, salted with the account,
derives 64 bytes; the first half (hex) is the record's lookup digest, the
second an AES-256-GCM key that seals the request's fingerprint, the status and
the body (random nonce, the lookup digest as associated data). The database
holds the account, the creation time, the digest and an opaque blob: reading
it reveals neither the key, nor the request, nor the response, and only a
client that holds the key can replay. The protection is as strong as the key
is unguessable (the ``stripe`` SDK sends random UUIDs), and an endpoint whose
response carries a secret must not leave its key elsewhere: events record the
request's key as Stripe's do (``request.idempotency_key``), so the session
endpoint clears it from its unit of work (tests/portal_app/api/test_idempotency.py
searches every table for the token, the link and the key).

Records live :data:`KEY_TTL` (24 hours, as Stripe's): an older key counts as
new. Every stored response prunes a bounded batch of expired records;
``portico prune-idempotency-keys`` prunes them all.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete
from sqlmodel import col, select

from portal_app.api.models import IdempotencyRecord
from portal_app.db import UnitOfWork
from portal_app.errors import IdempotencyConflict, InvalidRequest

KEY_TTL = timedelta(hours=24)  # Stripe prunes keys after 24 hours
MAX_KEY_LENGTH = 255
PRUNE_ON_WRITE = 20  # expired records each stored response removes (bounded work per request)
NONCE_BYTES = 12
_HKDF_INFO = b"portico idempotency record v1"


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


@dataclass(frozen=True)
class SealingKey:
    """What an Idempotency-Key derives for one account: the lookup digest and the AES key."""

    digest: str
    secret: bytes

    @classmethod
    def derive(cls, key: str, *, account_id: str) -> SealingKey:
        """HKDF-SHA256 of ``key``, salted with the account: digest and key are independent."""
        material = HKDF(algorithm=SHA256(), length=64, salt=account_id.encode(),
                        info=_HKDF_INFO).derive(key.encode())
        return cls(digest=material[:32].hex(), secret=material[32:])

    def seal(self, fp: str, response: StoredResponse) -> bytes:
        """The request's fingerprint and its response, encrypted (nonce + ciphertext)."""
        plain = json.dumps({"fingerprint": fp, "status_code": response.status_code,
                            "body": response.body}).encode()
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.secret).encrypt(nonce, plain, self.digest.encode())

    def open(self, sealed: bytes) -> tuple[str, StoredResponse] | None:
        """The fingerprint and response of :meth:`seal`; None if ``sealed`` is not ours."""
        try:
            plain = AESGCM(self.secret).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                                self.digest.encode())
        except InvalidTag:
            return None
        stored = json.loads(plain)
        return stored["fingerprint"], StoredResponse(status_code=stored["status_code"],
                                                     body=stored["body"])


def find_response(key: str, fp: str, *, account_id: str, uow: UnitOfWork
                  ) -> StoredResponse | None:
    """The stored response for ``key``, if it is still live.

    Raises IdempotencyConflict when the key was first used with other parameters.
    """
    sealing = SealingKey.derive(key, account_id=account_id)
    with uow:
        record = uow.session.exec(
            select(IdempotencyRecord).where(IdempotencyRecord.account_id == account_id,
                                            IdempotencyRecord.key_digest == sealing.digest)
        ).first()
        if record is None:
            return None
        opened = sealing.open(record.sealed)
        if record.created < uow.clock() - KEY_TTL or opened is None:
            # Expired (a new request now), or unreadable: neither can be replayed.
            uow.session.delete(record)
            uow.commit()
            return None
        first_fp, response = opened
        if first_fp != fp:
            raise IdempotencyConflict(
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with. Try using a key other than "
                f"'{key}' if you meant to execute a different request.")
        return response


def store_response(key: str, fp: str, *, status_code: int, body: str, account_id: str,
                   uow: UnitOfWork) -> None:
    """Stage the response for ``key``; it commits with the caller's transaction.

    Also removes up to :data:`PRUNE_ON_WRITE` expired records (of any account).
    """
    sealing = SealingKey.derive(key, account_id=account_id)
    prune_expired(uow=uow, limit=PRUNE_ON_WRITE)
    uow.add(IdempotencyRecord(
        account_id=account_id, key_digest=sealing.digest, created=uow.clock(),
        sealed=sealing.seal(fp, StoredResponse(status_code=status_code, body=body))))


def prune_expired(*, uow: UnitOfWork, limit: int) -> int:
    """Delete up to ``limit`` records older than :data:`KEY_TTL`, oldest first; how many.

    Rows another transaction is pruning are skipped (PostgreSQL), so concurrent
    requests never wait on each other here.
    """
    with uow:
        expired = (select(IdempotencyRecord.id)
                   .where(col(IdempotencyRecord.created) < uow.clock() - KEY_TTL)
                   .order_by(col(IdempotencyRecord.created)).limit(limit)
                   .with_for_update(skip_locked=True))
        ids = list(uow.session.exec(expired).all())
        if ids:
            uow.session.execute(delete(IdempotencyRecord)
                                .where(col(IdempotencyRecord.id).in_(ids)))
        uow.commit()
        return len(ids)
