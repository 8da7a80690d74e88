"""Random, Stripe-prefixed object ids."""

from __future__ import annotations

import secrets
from collections.abc import Callable

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def random_id(prefix: str, *, length: int = 24) -> str:
    """``prefix_`` followed by ``length`` random base62 characters (never sequential)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str) -> Callable[[], str]:
    """A default factory for a model's ``id`` field."""
    return lambda: random_id(prefix)
