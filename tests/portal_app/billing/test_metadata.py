"""Stripe's metadata updates: keys merge, an empty value removes its key."""

from __future__ import annotations

from portal_app.billing.metadata import merge_metadata


def test_keys_merge_and_an_empty_value_removes_its_key() -> None:
    current = {"plan": "pro", "team": "a", "seats": "3"}
    merged = merge_metadata(current, {"team": "", "seats": "5", "region": "eu"})
    assert merged == {"plan": "pro", "seats": "5", "region": "eu"}
    assert current == {"plan": "pro", "team": "a", "seats": "3"}  # not changed in place


def test_values_are_kept_as_text_and_removing_a_missing_key_is_harmless() -> None:
    assert merge_metadata({}, {"n": 3, "gone": ""}) == {"n": "3"}  # type: ignore[dict-item]
