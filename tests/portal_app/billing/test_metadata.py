"""Stripe's metadata updates: keys merge, an empty value removes its key."""

from __future__ import annotations

import pytest

from portal_app.billing.metadata import merge_metadata
from portal_app.errors import InvalidRequest


def test_keys_merge_and_an_empty_value_removes_its_key() -> None:
    current = {"plan": "pro", "team": "a", "seats": "3"}
    merged = merge_metadata(current, {"team": "", "seats": "5", "region": "eu"})
    assert merged == {"plan": "pro", "seats": "5", "region": "eu"}
    assert current == {"plan": "pro", "team": "a", "seats": "3"}  # not changed in place


def test_values_are_kept_as_text_and_removing_a_missing_key_is_harmless() -> None:
    assert merge_metadata({}, {"n": 3, "gone": ""}) == {"n": "3"}  # type: ignore[dict-item]


def test_updates_cannot_grow_metadata_past_50_keys() -> None:
    """Issue 10 (limits): 50 keys per request, and 50 on the object however many requests."""
    full = {f"k{i}": "v" for i in range(50)}
    assert merge_metadata(full, {"k0": "", "new": "v"})["new"] == "v"  # one out, one in
    with pytest.raises(InvalidRequest, match="up to 50 keys, but you passed in 51 keys"):
        merge_metadata(full, {"one_more": "v"})
