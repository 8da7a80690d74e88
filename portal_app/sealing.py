"""Secrets Portico must use later, sealed at rest under the server key.

A webhook signing secret, a merchant's Stripe secret key: the database never holds them
in plaintext. Each is sealed with AES-256-GCM under the server key (random 96-bit nonce,
a ``context`` naming its owner as associated data, so a sealed value moved to another
row does not open). The server key is, in order:

- ``PORTICO_SECRET_KEY``: any string of at least 32 characters, stretched with
  HKDF-SHA256 (set it in production; keep it out of the database's backups);
- otherwise a random 256-bit key generated on first use into the key file
  (``PORTICO_SECRET_KEY_FILE``, default ``.portico-secret-key`` at the project
  root, mode 0600). Losing the key file orphans the sealed secrets: they must be
  entered (or rolled) again.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal_app.settings import ROOT

NONCE_BYTES = 12
MIN_KEY_LENGTH = 32
DEFAULT_KEY_FILE = ROOT / ".portico-secret-key"
# Unchanged since the first sealed secret (webhook endpoints): a new label would orphan them.
_HKDF_INFO = b"portico webhook secrets v1"


class SealedSecretError(Exception):
    """A sealed secret does not open under this server key (another key, or tampered)."""


@lru_cache
def derive_server_key(env_key: str | None, key_file: str) -> bytes:
    """The AES-256 key from ``PORTICO_SECRET_KEY`` or the key file (made on first use)."""
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
    """The AES-256 key that seals secrets (see the module docstring)."""
    return derive_server_key(os.environ.get("PORTICO_SECRET_KEY") or None,
                             os.environ.get("PORTICO_SECRET_KEY_FILE") or str(DEFAULT_KEY_FILE))


def seal(secret: str, *, context: str) -> bytes:
    """``secret`` encrypted for storage with ``context`` (nonce + ciphertext)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(server_key()).encrypt(nonce, secret.encode(), context.encode())


def unseal(sealed: bytes, *, context: str) -> str:
    """The secret :func:`seal` sealed with ``context``. Raises SealedSecretError."""
    try:
        plain = AESGCM(server_key()).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                             context.encode())
    except InvalidTag:
        raise SealedSecretError(f"the secret sealed for {context} does not open") from None
    return plain.decode()
