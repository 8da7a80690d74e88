"""The offer dialog: its form in, the offer services' keywords out, and back again.

The dialog has controlled inputs (kind, coupon mode and duration, the pause's
unit, the target price and timing, the ticked reasons and products: an
:class:`OfferDraft`) and typed ones that arrive with the submitted form (name,
headline, numbers). :func:`offer_fields` turns both into the keywords of
``retention.offers.create_offer`` / ``update_offer``; :func:`draft_of` turns a
rendered offer back into a draft and the typed inputs' initial values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal_app.console.forms import (
    FieldProblem,
    blank,
    decimal_number,
    major_amount,
    money_amount,
    text,
    whole_number,
)
from portal_app.console.strings import ct
from portal_app.console.wording import number

COUPON_MODES = ("percent", "amount")
COUPON_DURATIONS = ("once", "repeating", "forever")
DEFAULT_CURRENCY = "usd"


@dataclass
class OfferDraft:
    """The offer dialog's controlled inputs."""

    kind: str = "coupon"
    coupon_mode: str = "percent"  # percent | amount
    coupon_duration: str = "repeating"  # once | repeating | forever
    coupon_locked: bool = False  # a stored coupon's terms never change
    pause_interval: str = "month"
    target_price: str = ""
    timing: str = "period_end"
    reasons: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)


NEW_OFFER_DEFAULTS = {"currency": DEFAULT_CURRENCY}  # typed inputs' initial values


def _coupon_terms(form: Mapping[str, Any], draft: OfferDraft) -> dict[str, Any]:
    months = whole_number(form, "months") if draft.coupon_duration == "repeating" else None
    terms: dict[str, Any] = {"duration": draft.coupon_duration, "duration_in_months": months}
    if draft.coupon_mode == "percent":
        percent = decimal_number(form, "percent")
        terms["percent_off"] = float(percent) if percent is not None else None
    else:
        currency = text(form, "currency").lower()
        terms["currency"] = currency or None
        terms["amount_off"] = money_amount(form, "amount", currency or DEFAULT_CURRENCY)
    if terms.get("percent_off") is None and terms.get("amount_off") is None:
        raise FieldProblem(draft.coupon_mode, ct("This field is required."))
    if draft.coupon_duration == "repeating" and months is None:
        raise FieldProblem("months", ct("This field is required."))
    return terms


def _kind_fields(form: Mapping[str, Any], draft: OfferDraft) -> dict[str, Any]:
    """The kind-specific keywords of the offer services."""
    kind = draft.kind
    if kind == "coupon":
        return {} if draft.coupon_locked else {"new_coupon": _coupon_terms(form, draft)}
    if kind == "pause":
        return {"pause_interval": draft.pause_interval,
                "pause_interval_count": whole_number(form, "pause_count")}
    if kind == "price_change":
        return {"price": draft.target_price or None, "price_change_timing": draft.timing}
    if kind == "trial_extension":
        return {"extension_days": whole_number(form, "days")}
    return {"contact_url": text(form, "contact_url") or None,
            "contact_email": text(form, "contact_email") or None}


def offer_fields(form: Mapping[str, Any], draft: OfferDraft) -> dict[str, Any]:
    """The offer services' keywords (all but ``type``) from the dialog.

    Raises FieldProblem for a value that is no value (letters in a number, a
    coupon without its discount or its number of months); everything else is
    the services' to check.
    """
    return {
        "name": text(form, "name"),
        "headline": text(form, "headline") or None,
        **_kind_fields(form, draft),
        "reasons": list(draft.reasons),
        "products": list(draft.products),
        "minimum_subscription_age_days": whole_number(form, "min_age") or 0,
        "cooldown_days": whole_number(form, "cooldown"),
        "max_redemptions_per_customer": whole_number(form, "max_redemptions"),
    }


def draft_of(rendered: Mapping[str, Any]) -> tuple[OfferDraft, dict[str, str]]:
    """A rendered offer as the dialog's draft and its typed inputs' initial values."""
    rules = rendered["eligibility"]
    draft = OfferDraft(kind=rendered["type"], reasons=list(rules["reasons"]),
                       products=list(rules["products"]))
    typed = {"name": rendered["name"], "headline": rendered["headline"] or "",
             "min_age": str(rules["minimum_subscription_age_days"] or ""),
             "cooldown": blank(rules["cooldown_days"]),
             "max_redemptions": blank(rules["max_redemptions_per_customer"])}
    if coupon := rendered["coupon"]:
        draft.coupon_locked = True
        draft.coupon_mode = "percent" if coupon["percent_off"] is not None else "amount"
        draft.coupon_duration = coupon["duration"] or "once"
        typed["percent"] = ("" if coupon["percent_off"] is None
                            else number(coupon["percent_off"]))
        if coupon["amount_off"] is not None and coupon["currency"]:
            typed["amount"] = major_amount(coupon["amount_off"], coupon["currency"])
        typed["currency"] = coupon["currency"] or DEFAULT_CURRENCY
        typed["months"] = blank(coupon["duration_in_months"])
    if pause := rendered["pause"]:
        draft.pause_interval = pause["interval"]
        typed["pause_count"] = blank(pause["interval_count"])
    if change := rendered["price_change"]:
        draft.target_price = change["price"] or ""
        draft.timing = change["timing"] or "period_end"
    if trial := rendered["trial_extension"]:
        typed["days"] = blank(trial["days"])
    if contact := rendered["contact"]:
        typed["contact_url"] = contact["url"] or ""
        typed["contact_email"] = contact["email"] or ""
    return draft, typed
