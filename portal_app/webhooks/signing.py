"""Webhook signing secrets: made, sealed at rest, and used to sign payloads as Stripe does.

Every endpoint has a ``whsec_`` secret. The database never holds it in plaintext: it is
sealed under the server key (:mod:`portal_app.sealing`) with the endpoint id as context,
so a sealed secret moved to another endpoint does not open. Losing the server key
orphans the sealed secrets: roll each endpoint's secret to get a new one.

A payload is signed as Stripe signs it: ``Stripe-Signature: t=<unix>,v1=<hex
HMAC-SHA256(secret, "<t>.<payload>")>``, which ``stripe.Webhook.construct_event``
verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from portal_app.sealing import SealedSecretError, seal, unseal

__all__ = ["SECRET_PREFIX", "SealedSecretError", "new_secret", "open_secret", "seal_secret",
           "signature", "signature_header"]

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh ``whsec_`` signing secret (256 bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def seal_secret(secret: str, *, endpoint_id: str) -> bytes:
    """``secret`` encrypted for storage on ``endpoint_id`` (nonce + ciphertext)."""
    return seal(secret, context=endpoint_id)


def open_secret(sealed: bytes, *, endpoint_id: str) -> str:
    """The secret :func:`seal_secret` sealed for ``endpoint_id``. Raises SealedSecretError."""
    return unseal(sealed, context=endpoint_id)


def signature(payload: str, secret: str, *, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<payload>"`` under ``secret`` (Stripe's v1)."""
    message = f"{timestamp}.{payload}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(payload: str, secret: str, *, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` sent at ``timestamp``."""
    return f"t={timestamp},v1={signature(payload, secret, timestamp=timestamp)}"
