"""Stripe's metadata updates: keys merge into what is there, an empty value removes its key."""

from __future__ import annotations

from collections.abc import Mapping


def merge_metadata(current: Mapping[str, str], update: Mapping[str, str]) -> dict[str, str]:
    """``current`` updated by ``update`` as Stripe does (``""`` or None removes a key)."""
    merged = dict(current)
    for key, value in update.items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged
