"""A subscription as retention reads it: the Stripe-shaped object the billing contract returns.

Offers, experiments and cancel flows decide on a subscription's items, prices,
period and discount. They read them from the :data:`~portal_app.billing.provider.
StripeObject` that ``billing_provider(...).retrieve_subscription`` answers (Stripe
keeps the current period on the items, and an interval on a price's ``recurring``),
never from ledger rows, so the same rules hold on any billing provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from portal_app.billing.provider import StripeObject
from portal_app.clock import from_unix
from portal_app.money import round_half_up
from portal_app.stripe_shapes import is_licensed, recurring, subscription_items


def period_amount(subscription: StripeObject) -> int:
    """The subscription's fixed amount per billing period, before discounts."""
    return sum(item["price"]["unit_amount"] * item["quantity"]
               for item in subscription_items(subscription) if is_licensed(item["price"]))


def monthly_amount(unit_amount: int, quantity: int, interval: str | None,
                   interval_count: int) -> Decimal:
    """``unit_amount × quantity`` per month (exact; round where it is shown)."""
    if interval is None:
        return Decimal(0)
    per = {"month": Decimal(1) / interval_count,
           "year": Decimal(1) / (12 * interval_count),
           "week": Decimal(52) / 12 / interval_count,
           "day": Decimal(365) / 12 / interval_count}[interval]
    return Decimal(unit_amount) * quantity * per


def subscription_mrr(subscription: StripeObject, *, discounts: Sequence[StripeObject],
                     now: datetime) -> int:
    """Monthly recurring revenue of the subscription at ``now``, in minor units.

    Licensed items normalized to a month, less the newest discount (of ``discounts``,
    newest first, as ``list_subscription_discounts`` answers) while it runs; 0 unless
    the subscription is active or past due (trials are not revenue yet).
    """
    if subscription["status"] not in ("active", "past_due"):
        return 0
    total = sum((monthly_amount(item["price"]["unit_amount"], item["quantity"],
                                recurring(item["price"]).get("interval"),
                                recurring(item["price"]).get("interval_count") or 1)
                 for item in subscription_items(subscription) if is_licensed(item["price"])),
                Decimal(0))
    if discounts:
        discount = discounts[0]
        coupon = discount["source"]["coupon"]
        end = discount["end"]
        # A ``once`` coupon is spent once its discount has an end.
        if (end is None or from_unix(end) > now) and (coupon["duration"] != "once"
                                                      or end is None):
            if coupon["percent_off"] is not None:
                total -= total * Decimal(str(coupon["percent_off"])) / 100
            else:
                total -= min(total, Decimal(coupon["amount_off"] or 0))
    return round_half_up(total)
