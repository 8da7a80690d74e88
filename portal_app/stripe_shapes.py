"""Stripe's object shapes: building them complete, and reading facts from them.

Building: the field list of each object is read from the pinned ``stripe`` SDK's
resource classes, so a rendered object carries every field Stripe's has in that API
version, ``None`` where it does not apply — merchant code never meets a missing key.

Reading: the portal, retention and console receive subscriptions and prices as
Stripe's JSON (``portal_app.billing.provider``); the small readers below say once how
a fact is read from them (Stripe keeps a subscription's period on its items, a price's
terms under ``recurring``), so no feature spells the path again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

import stripe

from portal_app.clock import from_unix

StripeMapping = Mapping[str, Any]

API_VERSION = stripe.api_version

# Stripe's ``cancellation_details.feedback`` values, the only ones it accepts (in the
# order the portal offers them as cancellation reasons).
# Card networks by Stripe's ``brand``/``display_brand`` codes, as their owners write them.
CARD_BRAND_NAMES = {
    "visa": "Visa", "mastercard": "Mastercard", "amex": "American Express",
    "discover": "Discover", "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay",
    "cartes_bancaires": "Cartes Bancaires", "eftpos_au": "eftpos", "interac": "Interac",
}
CANCELLATION_FEEDBACK = ("too_expensive", "missing_features", "switched_service", "unused",
                         "customer_service", "too_complex", "low_quality", "other")


@cache
def stripe_fields(cls: type) -> tuple[str, ...]:
    """The public fields the SDK declares for ``cls`` (a resource or a nested object)."""
    fields: dict[str, None] = {}
    for klass in reversed(cls.__mro__):
        for name in getattr(klass, "__annotations__", {}):
            if not name.startswith("_") and name != "OBJECT_NAME":
                fields[name] = None
    return tuple(fields)


def complete(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every other field of ``cls`` present as ``None``."""
    out: dict[str, Any] = dict.fromkeys(stripe_fields(cls))
    if "object" in out and getattr(cls, "OBJECT_NAME", None):
        out["object"] = cls.OBJECT_NAME  # type: ignore[attr-defined]
    out.update(values)
    if "livemode" in out and out["livemode"] is None:
        out["livemode"] = False
    return out


def list_object(data: list[dict[str, Any]], *, url: str, has_more: bool = False) -> dict[str, Any]:
    """Stripe's list envelope."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


# --- reading -----------------------------------------------------------------------------


def subscription_items(subscription: StripeMapping) -> list[dict[str, Any]]:
    """The subscription's items (each with its full ``price``), in their order."""
    return list(subscription["items"]["data"])


def current_period(subscription: StripeMapping) -> tuple[int | None, int | None]:
    """The current period as unix (start, end), which Stripe keeps on the items."""
    items = subscription["items"]["data"]
    if not items:
        return None, None
    return items[0]["current_period_start"], items[0]["current_period_end"]


def current_period_end(subscription: StripeMapping) -> datetime:
    """When the subscription's current billing period ends.

    Raises ValueError for a subscription without items (Stripe has none such).
    """
    _, end = current_period(subscription)
    if end is None:
        raise ValueError(f"subscription {subscription['id']} has no items")
    return from_unix(end)


def recurring(price: StripeMapping) -> dict[str, Any]:
    """The price's ``recurring`` terms (interval, interval_count, usage_type); ``{}`` if none."""
    return dict(price.get("recurring") or {})


def price_interval(price: StripeMapping) -> tuple[str, int] | None:
    """A recurring price's ``(interval, interval_count)``; None for a one-time price."""
    terms = recurring(price)
    if not terms:
        return None
    return str(terms["interval"]), int(terms.get("interval_count") or 1)


def is_metered(price: StripeMapping) -> bool:
    """Whether the price bills usage (``recurring.usage_type == "metered"``)."""
    return recurring(price).get("usage_type") == "metered"


def is_licensed(price: StripeMapping) -> bool:
    """Whether the price bills a fixed quantity per period (not metered usage)."""
    return recurring(price).get("usage_type") == "licensed"
