"""Stripe's metadata updates: keys merge into what is there, an empty value removes its key."""

from __future__ import annotations

from collections.abc import Mapping

from portal_app.limits import check_metadata


def merge_metadata(current: Mapping[str, str], update: Mapping[str, str]) -> dict[str, str]:
    """``current`` updated by ``update`` as Stripe does (``""`` or None removes a key).

    The result stays within Stripe's limits (50 keys in all, however many updates
    added them). Raises InvalidRequest.
    """
    merged = dict(current)
    for key, value in update.items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    check_metadata(merged)
    return merged
