"""Stripe's nested form encoding, decoded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe._encode import _api_encode

from portal_app.api.forms import (
    decode,
    one_of,
    optional_str,
    parse_body,
    required,
    to_address,
    to_amount,
    to_bool,
    to_id,
    to_int,
    to_metadata,
    to_quantity,
    to_shipping,
    to_str,
    to_timestamp,
)
from portal_app.errors import InvalidRequest


def test_nested_maps_lists_and_appends() -> None:
    params = parse_body(
        "items[0][price]=price_a&items[0][quantity]=2&items[1][price]=price_b"
        "&metadata[0]=zero&metadata[k]=v&expand[]=latest_invoice&expand[]=customer"
        "&features[subscription_cancel][cancellation_reason][options][0]=too_expensive"
        "&features[subscription_cancel][cancellation_reason][options][1]=other"
        "&email=a%40b.c&empty="
    )
    assert params == {
        "items": [{"price": "price_a", "quantity": "2"}, {"price": "price_b"}],
        "metadata": {"0": "zero", "k": "v"},  # the merchant's keys, never a list
        "expand": ["latest_invoice", "customer"],
        "features": {"subscription_cancel": {"cancellation_reason": {
            "options": ["too_expensive", "other"]}}},
        "email": "a@b.c",
        "empty": "",
    }


def test_rails_style_arrays_of_hashes() -> None:
    assert decode([("items[][price]", "a"), ("items[][quantity]", "1"),
                   ("items[][price]", "b")]) == {
        "items": [{"price": "a", "quantity": "1"}, {"price": "b"}]}


def test_sparse_indexes_stay_a_map() -> None:
    assert decode([("items[1][price]", "a")]) == {"items": {"1": {"price": "a"}}}


@pytest.mark.parametrize("key", ["[a]", "a[b", "a]b[", "a[b]c"])
def test_malformed_names_are_refused(key: str) -> None:
    with pytest.raises(InvalidRequest):
        decode([(key, "1")])


def test_conversions_carry_the_param() -> None:
    assert to_int("42", "limit") == 42
    assert to_bool("true", "x") is True and to_bool("false", "x") is False
    with pytest.raises(InvalidRequest) as bad_int:
        to_int("4.2", "items[0][quantity]")
    assert bad_int.value.param == "items[0][quantity]"
    assert bad_int.value.message == "Invalid integer: 4.2"
    with pytest.raises(InvalidRequest) as negative:
        to_int("-1", "unit_amount", minimum=0)
    assert "non-negative" in negative.value.message
    with pytest.raises(InvalidRequest) as bad_bool:
        to_bool("yes", "active")
    assert bad_bool.value.param == "active"
    with pytest.raises(InvalidRequest) as not_string:
        to_str({"a": "b"}, "email")
    assert not_string.value.param == "email"
    with pytest.raises(InvalidRequest) as meta:
        to_metadata({"k": {"deep": "x"}})
    assert meta.value.param == "metadata[k]"


_scalar = st.text(alphabet="abcxyz019 @&=[]", min_size=0, max_size=6)
_key = st.text(alphabet="abcdefgh_", min_size=1, max_size=5)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=3),
                            st.dictionaries(_key, inner, min_size=1, max_size=3)),
    max_leaves=8,
)


@given(st.dictionaries(_key.filter(lambda k: k != "metadata"), _value, max_size=4))
def test_decodes_what_the_sdk_encodes(params: dict) -> None:
    """Whatever the SDK encodes decodes to the same structure (non-empty collections)."""
    from urllib.parse import urlencode

    body = urlencode(list(_api_encode(params)))
    assert parse_body(body) == params


def test_required_params_name_their_parent() -> None:
    assert required({"customer": "cus_1"}, "customer") == "cus_1"
    for params in ({}, {"customer": ""}):
        with pytest.raises(InvalidRequest) as missing:
            required(params, "customer")
        assert (missing.value.param, missing.value.code) == ("customer", "parameter_missing")
    with pytest.raises(InvalidRequest) as nested:
        required({}, "price", parent="items[0]")
    assert nested.value.param == "items[0][price]"


def test_optional_str_keeps_an_empty_value_which_clears_a_field() -> None:
    assert optional_str({}, "description") is None
    assert optional_str({"description": ""}, "description") == ""
    with pytest.raises(InvalidRequest) as wrong:
        optional_str({"name": {"a": "b"}}, "name", parent="shipping")
    assert wrong.value.param == "shipping[name]"


def test_addresses_and_shipping_take_stripe_s_fields() -> None:
    assert to_address("", "address") is None
    assert to_address({"city": "Paris"}, "address") == {
        "city": "Paris", "country": None, "line1": None, "line2": None, "postal_code": None,
        "state": None}
    with pytest.raises(InvalidRequest) as unknown:
        to_address({"town": "Paris"}, "address")
    assert unknown.value.param == "address[town]"
    shipping = to_shipping({"name": "Ada", "address": {"line1": "1 Main St"}}, "shipping")
    assert shipping is not None
    assert (shipping["name"], shipping["address"]["line1"], shipping["phone"]) == (
        "Ada", "1 Main St", None)
    with pytest.raises(InvalidRequest) as missing:
        to_shipping({"address": {"line1": "1 Main St"}}, "shipping")
    assert missing.value.param == "shipping[name]"


def test_numbered_top_level_names_stay_parameters() -> None:
    """Found by the fuzz: ``0=`` decoded as a list, and the pipeline failed with a 500."""
    assert decode([("0", "x"), ("1", "y")]) == {"0": "x", "1": "y"}
    assert parse_body("0=") == {"0": ""}


def test_integers_are_ascii_digits_within_64_bits() -> None:
    assert to_int(" 42 ", "n") == 42 and to_int("-7", "n") == -7
    assert to_int(str(2**63 - 1), "n") == 2**63 - 1
    for bad in ("1_000", "٣", str(2**63), "1e3", "9" * 5000):
        with pytest.raises(InvalidRequest) as refused:
            to_int(bad, "n")
        assert (refused.value.param, refused.value.code) == ("n", "parameter_invalid_integer")
    with pytest.raises(InvalidRequest, match="less than or equal to 9"):
        to_int("10", "n", maximum=9)


def test_amounts_quantities_timestamps_and_ids_have_stripes_bounds() -> None:
    assert to_amount("99999999", "a", currency="usd") == 99_999_999
    assert to_amount("999999999999", "a", currency="IDR") == 999_999_999_999
    with pytest.raises(InvalidRequest) as over:
        to_amount("100000000", "a", currency="eur")
    assert over.value.code == "amount_too_large"
    assert over.value.message == "Amount must be no more than €999,999.99"
    assert to_quantity("1000000", "q") == 1_000_000
    with pytest.raises(InvalidRequest):
        to_quantity("1000001", "q")
    assert to_timestamp("0", "t").year == 1970
    with pytest.raises(InvalidRequest):
        to_timestamp("253402300800", "t")  # past 9999-12-31
    assert to_id("cus_123", "c") == "cus_123"
    for bad in ("a b", "x" * 256, "tab\there"):
        with pytest.raises(InvalidRequest):
            to_id(bad, "c")


def test_strings_metadata_and_choices() -> None:
    assert to_str("x" * 5000, "s") == "x" * 5000
    with pytest.raises(InvalidRequest, match="at most 5000 characters"):
        to_str("x" * 5001, "s")
    with pytest.raises(InvalidRequest, match="up to 50 keys"):
        to_metadata({f"k{i}": "v" for i in range(51)})
    with pytest.raises(InvalidRequest) as refused:
        one_of("bored", ("too_expensive", "unused", "other"), "feedback")
    assert refused.value.message == ("Invalid feedback: must be one of too_expensive, "
                                     "unused, or other")
    with pytest.raises(InvalidRequest, match="null character"):
        parse_body("name=a%00b")
