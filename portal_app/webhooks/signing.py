"""Webhook signing secrets: made, sealed at rest, and used to sign payloads as Stripe does.

Every endpoint has a ``whsec_`` secret. The database never holds it in plaintext:
it is sealed with AES-256-GCM under the server key (random 96-bit nonce, the
endpoint id as associated data, so a sealed secret moved to another endpoint
does not open). The server key is, in order:

- ``PORTICO_SECRET_KEY``: any string of at least 32 characters, stretched with
  HKDF-SHA256 (set it in production; keep it out of the database's backups);
- otherwise a random 256-bit key generated on first use into the key file
  (``PORTICO_SECRET_KEY_FILE``, default ``.portico-secret-key`` at the project
  root, mode 0600). Losing the key file orphans the sealed secrets: roll each
  endpoint's secret to get a new one.

A payload is signed as Stripe signs it: ``Stripe-Signature: t=<unix>,v1=<hex
HMAC-SHA256(secret, "<t>.<payload>")>``, which ``stripe.Webhook.construct_event``
verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal_app.settings import ROOT

SECRET_PREFIX = "whsec_"
NONCE_BYTES = 12
MIN_KEY_LENGTH = 32
DEFAULT_KEY_FILE = ROOT / ".portico-secret-key"
_HKDF_INFO = b"portico webhook secrets v1"


class SealedSecretError(Exception):
    """A sealed secret does not open under this server key (another key, or tampered)."""


def new_secret() -> str:
    """A fresh ``whsec_`` signing secret (256 bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@lru_cache
def derive_server_key(env_key: str | None, key_file: str) -> bytes:
    if env_key:
        if len(env_key) < MIN_KEY_LENGTH:
            raise ValueError(f"PORTICO_SECRET_KEY must be at least {MIN_KEY_LENGTH} characters")
        material = env_key.encode()
    else:
        material = _read_or_create_key_file(Path(key_file))
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(material)


def _read_or_create_key_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return base64.b64decode(path.read_bytes().strip())
    with os.fdopen(fd, "wb") as out:  # we created it: no other process writes it
        out.write(base64.b64encode(os.urandom(32)) + b"\n")
    return base64.b64decode(path.read_bytes().strip())


def server_key() -> bytes:
    """The AES-256 key that seals webhook secrets (see the module docstring)."""
    return derive_server_key(os.environ.get("PORTICO_SECRET_KEY") or None,
                    os.environ.get("PORTICO_SECRET_KEY_FILE") or str(DEFAULT_KEY_FILE))


def seal_secret(secret: str, *, endpoint_id: str) -> bytes:
    """``secret`` encrypted for storage on ``endpoint_id`` (nonce + ciphertext)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(server_key()).encrypt(nonce, secret.encode(), endpoint_id.encode())


def open_secret(sealed: bytes, *, endpoint_id: str) -> str:
    """The secret :func:`seal_secret` sealed for ``endpoint_id``. Raises SealedSecretError."""
    try:
        plain = AESGCM(server_key()).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                             endpoint_id.encode())
    except InvalidTag:
        raise SealedSecretError(f"the signing secret of {endpoint_id} does not open") from None
    return plain.decode()


def signature(payload: str, secret: str, *, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<payload>"`` under ``secret`` (Stripe's v1)."""
    message = f"{timestamp}.{payload}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(payload: str, secret: str, *, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` sent at ``timestamp``."""
    return f"t={timestamp},v1={signature(payload, secret, timestamp=timestamp)}"
