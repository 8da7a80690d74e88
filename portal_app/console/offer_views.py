"""What the offers page shows: offer rows, their terms in words, the policy per reason.

Pure functions from the retention services' rendered offers (Stripe-style dicts)
and the account's price and configuration choices to rows the page shows as
they are; every word comes from the console catalog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portal_app import i18n
from portal_app.console.forms import Choice
from portal_app.console.strings import CONSOLE_LOCALE, ct
from portal_app.console.wording import REASON_KEYS, kind_label, number, reason_label
from portal_app.retention.choices import ConfigurationChoice, PriceChoice

NONE = "none"  # "no offer" in a select (Radix selects refuse "")


@dataclass
class OfferRow:
    """One offer as the list shows it."""

    id: str
    name: str
    kind: str
    kind_label: str
    summary: str
    headline: str
    reasons: str
    eligibility: list[str]
    active: bool
    status_label: str


@dataclass
class PolicyRow:
    """One reason of a configuration's policy and the offer that answers it."""

    reason: str
    label: str
    offer_id: str  # NONE when no offer


def price_label(price: PriceChoice) -> str:
    """A price with its product, e.g. "Cloud · Basic · $19.00/month"."""
    amount = i18n.format_money(price.unit_amount, price.currency, CONSOLE_LOCALE)
    every = price.interval if price.interval_count == 1 else \
        f"{price.interval_count} {price.interval}s"
    parts = [price.product_name, price.nickname, f"{amount}/{every}"]
    return " · ".join(p for p in parts if p)


def _coupon_summary(coupon: Mapping[str, Any]) -> str:
    if coupon.get("percent_off") is not None:
        off = ct("{percent}% off", percent=number(coupon["percent_off"]))
    elif coupon.get("amount_off") is not None and coupon.get("currency"):
        off = ct("{amount} off", amount=i18n.format_money(coupon["amount_off"],
                                                         coupon["currency"], CONSOLE_LOCALE))
    else:
        return kind_label("coupon")
    duration = coupon.get("duration")
    if duration == "repeating":
        months = coupon.get("duration_in_months") or 0
        if months == 1:
            return ct("{off} for {months} month", off=off, months=months)
        return ct("{off} for {months} months", off=off, months=months)
    if duration == "forever":
        return ct("{off} forever", off=off)
    return ct("{off} the next invoice", off=off)


def _pause_summary(count: int, unit: str) -> str:
    # Whole sentences per unit and number, so that a language can word each its own way.
    one = {"period": ct("Pause for {count} billing period"), "day": ct("Pause for {count} day"),
           "week": ct("Pause for {count} week"), "month": ct("Pause for {count} month"),
           "year": ct("Pause for {count} year")}
    many = {"period": ct("Pause for {count} billing periods"),
            "day": ct("Pause for {count} days"), "week": ct("Pause for {count} weeks"),
            "month": ct("Pause for {count} months"), "year": ct("Pause for {count} years")}
    return (one if count == 1 else many)[unit].format(count=count)


def offer_summary(rendered: Mapping[str, Any], prices: Mapping[str, PriceChoice]) -> str:
    """An offer's terms in words, e.g. "50% off for 3 months"."""
    kind = rendered["type"]
    if kind == "coupon":
        return _coupon_summary(rendered.get("coupon") or {})
    if kind == "pause":
        pause = rendered["pause"]
        return _pause_summary(pause["interval_count"], pause["interval"])
    if kind == "price_change":
        change = rendered["price_change"]
        price = prices.get(change["price"])
        target = price_label(price) if price else change["price"]
        if change["timing"] == "now":
            return ct("Switch to {price}, now", price=target)
        return ct("Switch to {price}, at period end", price=target)
    if kind == "trial_extension":
        days = rendered["trial_extension"]["days"]
        if days == 1:
            return ct("{days} free day", days=days)
        return ct("{days} free days", days=days)
    contact = rendered.get("contact") or {}
    return ct("Talk to us: {contact}",
              contact=contact.get("url") or contact.get("email") or "").strip()


def eligibility_lines(rendered: Mapping[str, Any], products: Mapping[str, str],
                      prices: Mapping[str, PriceChoice]) -> list[str]:
    """The eligibility rules beyond reasons, one line each ("Every subscriber" when none)."""
    rules = rendered["eligibility"]
    lines = []
    if rules["products"]:
        lines.append(ct("Products: {products}",
                        products=", ".join(products.get(p, p) for p in rules["products"])))
    if rules["prices"]:
        lines.append(ct("Prices: {prices}", prices=", ".join(
            price_label(prices[p]) if p in prices else p for p in rules["prices"])))
    if rules["minimum_subscription_age_days"]:
        lines.append(ct("Subscribed ≥ {days} days", days=rules["minimum_subscription_age_days"]))
    if rules["cooldown_days"] is not None:
        lines.append(ct("Not within {days} days of accepting an offer",
                        days=rules["cooldown_days"]))
    if rules["max_redemptions_per_customer"] is not None:
        lines.append(ct("At most {count} per customer",
                        count=rules["max_redemptions_per_customer"]))
    return lines or [ct("Every subscriber")]


def offer_row(rendered: Mapping[str, Any], products: Mapping[str, str],
              prices: Mapping[str, PriceChoice]) -> OfferRow:
    """One rendered offer as a row of the list."""
    reasons = rendered["eligibility"]["reasons"]
    return OfferRow(
        id=rendered["id"], name=rendered["name"], kind=rendered["type"],
        kind_label=kind_label(rendered["type"]), summary=offer_summary(rendered, prices),
        headline=rendered["headline"] or "",
        reasons=", ".join(reason_label(x) for x in reasons) if reasons else ct("Any reason"),
        eligibility=eligibility_lines(rendered, products, prices), active=rendered["active"],
        status_label=ct("Active") if rendered["active"] else ct("Inactive"))


def offer_choices(rendered: Sequence[Mapping[str, Any]], prices: Mapping[str, PriceChoice]
                  ) -> list[Choice]:
    """The offers a select may pick: "No offer" first, then each as "name — terms"."""
    return [Choice(value=NONE, label=ct("No offer"))] + [
        Choice(value=r["id"], label=f"{r['name']} — {offer_summary(r, prices)}")
        for r in rendered]


def configuration_label(choice: ConfigurationChoice) -> str:
    """A portal configuration by its name (or id), marked when it is the default."""
    label = choice.name or choice.id
    return ct("{name} (default)", name=label) if choice.is_default else label


def policy_rows(mapping: Mapping[str, str], choices: Sequence[Choice],
                offers: Sequence[OfferRow]) -> tuple[list[PolicyRow], list[Choice]]:
    """A policy's offer per reason (NONE where it has none), and the offer choices.

    An inactive offer still in the policy stays visible, and selectable, as it is:
    it joins the choices as "name (inactive)".
    """
    choices = list(choices)
    offered = {c.value for c in choices}
    rows = [PolicyRow(reason=r, label=reason_label(r),
                      offer_id=mapping[r] if mapping.get(r) in offered else NONE)
            for r in REASON_KEYS]
    for reason, offer_id in mapping.items():
        if offer_id in offered:
            continue
        row = next((o for o in offers if o.id == offer_id), None)
        if row is None:
            continue
        choices.append(Choice(value=row.id, label=ct("{name} (inactive)", name=row.name)))
        offered.add(row.id)
        rows = [PolicyRow(p.reason, p.label, offer_id) if p.reason == reason else p
                for p in rows]
    return rows, choices
