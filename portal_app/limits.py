"""Stripe's input limits, checked once: metadata, strings, amounts, quantities, timestamps.

Shared vocabulary: the wire API (``portal_app.api.forms``) refuses values past
these limits with Stripe's 400s, and the services that store the same values
(metadata merges, prices, coupons) re-check them, so that no caller — console,
seed, a future provider — can store what Stripe would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal_app.errors import InvalidRequest
from portal_app.i18n import format_money

MAX_STRING_LENGTH = 5000  # any string parameter, as in Stripe's API description
MAX_ID_LENGTH = 255  # an object id (Stripe's are ~30 characters; merchant-chosen ones more)

MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500

# "The amount value supports up to eight digits (e.g., a value of 99999999 for a USD
# charge of $999,999.99)"; Stripe lets IDR, whose minor unit is tiny, use twelve.
MAX_AMOUNT = 99_999_999
MAX_AMOUNT_BY_CURRENCY: Mapping[str, int] = {"idr": 999_999_999_999}
LARGEST_AMOUNT = max(MAX_AMOUNT, *MAX_AMOUNT_BY_CURRENCY.values())

# Seats, units: a bound that keeps quantity x the largest amount inside a 64-bit column.
MAX_QUANTITY = 1_000_000

# One meter event's usage value (a period's sum may exceed 2^31, as metered usage does).
MAX_USAGE_VALUE = 999_999_999_999

# 9999-12-31T23:59:59Z: any later timestamp is out of a datetime's range.
MAX_TIMESTAMP = 253_402_300_799


def max_amount(currency: str | None) -> int:
    """The largest amount Stripe accepts in ``currency`` (``None``: in any currency)."""
    if currency is None:
        return LARGEST_AMOUNT
    return MAX_AMOUNT_BY_CURRENCY.get(currency.lower(), MAX_AMOUNT)


def check_amount(amount: int, currency: str | None, *, param: str) -> int:
    """``amount`` (minor units), if Stripe accepts it in ``currency``.

    Raises InvalidRequest (Stripe's ``amount_too_large``, or an invalid integer when negative).
    """
    if amount < 0:
        raise InvalidRequest(f"Invalid non-negative integer: {amount}", param=param,
                             code="parameter_invalid_integer")
    limit = max_amount(currency)
    if amount > limit:
        shown = format_money(limit, currency, "en") if currency else f"{limit:,}"
        raise InvalidRequest(f"Amount must be no more than {shown}", param=param,
                             code="amount_too_large")
    return amount


def check_metadata(metadata: Mapping[str, object], *, param: str = "metadata") -> None:
    """Refuse metadata past Stripe's limits: 50 keys, 40-character keys, 500-character values.

    Raises InvalidRequest.
    """
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidRequest(
            f"Metadata can have up to {MAX_METADATA_KEYS} keys, but you passed in "
            f"{len(metadata)} keys.", param=param)
    for key, value in metadata.items():
        if len(key) > MAX_METADATA_KEY_LENGTH:
            raise InvalidRequest(
                f"Metadata keys can have up to {MAX_METADATA_KEY_LENGTH} characters, but you "
                f"passed in a key that is {len(key)} characters.", param=f"{param}[{key}]")
        if value is not None and len(str(value)) > MAX_METADATA_VALUE_LENGTH:
            raise InvalidRequest(
                f"Metadata values can have up to {MAX_METADATA_VALUE_LENGTH} characters, but "
                f"you passed in a value that is {len(str(value))} characters.",
                param=f"{param}[{key}]")
