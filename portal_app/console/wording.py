"""How the console words things: reasons, kinds and statuses, counts and rates, and the
services' refusals rewritten for the form that caused them.

The retention services speak Stripe's language: an :class:`InvalidRequest` names
the request parameter it is about (``coupon[percent_off]``, ``variants[1][weight]``)
and its message uses those names. A merchant typed into a form, so
:func:`field_of` says which input to mark and :func:`error_message` says the
same thing in the form's words.
"""

from __future__ import annotations

import math

from babel.numbers import format_decimal, format_percent

from portal_app.console.strings import CONSOLE_LOCALE, ct
from portal_app.errors import InvalidRequest
from portal_app.portal.configurations import CANCELLATION_REASONS
from portal_app.retention.models import DEFAULT_REASON

# The catch-all first, then Stripe's eight, in Stripe's order (forms and read-outs list
# reasons in this order).
REASON_KEYS = (DEFAULT_REASON, *CANCELLATION_REASONS)


def reason_label(reason: str) -> str:
    """A cancellation reason (or ``default``: any reason) in words; unknown ones as they are."""
    return {
        "default": ct("Any reason"),
        "too_expensive": ct("Too expensive"),
        "missing_features": ct("Missing features"),
        "switched_service": ct("Switched service"),
        "unused": ct("Unused"),
        "customer_service": ct("Customer service"),
        "too_complex": ct("Too complex"),
        "low_quality": ct("Low quality"),
        "other": ct("Other"),
    }.get(reason, reason)


def kind_label(kind: str) -> str:
    """An offer kind in words ("Cheaper plan" for ``price_change``)."""
    return {
        "coupon": ct("Coupon"),
        "pause": ct("Pause"),
        "price_change": ct("Cheaper plan"),
        "trial_extension": ct("Free days"),
        "contact": ct("Talk to us"),
    }.get(kind, kind)


def experiment_status_label(status: str) -> str:
    """An experiment's status (draft, running, stopped, shipped) in words."""
    return {
        "draft": ct("Draft"),
        "running": ct("Running"),
        "stopped": ct("Stopped"),
        "shipped": ct("Shipped"),
    }.get(status, status)


def count(value: int | float | None) -> str:
    """A count with the console locale's digit grouping ("1,234"); "—" when unknown."""
    return "—" if value is None else format_decimal(value, locale=CONSOLE_LOCALE)


def percent(value: float | None, digits: int = 1) -> str:
    """A rate (0.5) as a percentage ("50.0%"); "—" when unknown or not a number."""
    if value is None or math.isnan(value):
        return "—"
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return format_percent(value, pattern, locale=CONSOLE_LOCALE)


def number(value: float) -> str:
    """A number as short as it goes: 50.0 is "50", 12.5 is "12.5"."""
    return f"{value:g}"


# --- the services' refusals, in the form's words ----------------------------------------

_FIELD_OF_PARAM = {  # the service's ``param`` -> the form field that shows the message
    "name": "name", "headline": "headline",
    "coupon[coupon]": "percent", "percent_off": "percent", "coupon[percent_off]": "percent",
    "amount_off": "amount", "coupon[amount_off]": "amount", "currency": "currency",
    "duration": "duration", "duration_in_months": "months",
    "pause[interval]": "pause_count", "pause[interval_count]": "pause_count",
    "price_change[price]": "target_price", "price_change[timing]": "timing",
    "trial_extension[days]": "days", "contact[url]": "contact_url",
    "contact[email]": "contact_email",
    "eligibility[minimum_subscription_age_days]": "min_age",
    "eligibility[cooldown_days]": "cooldown",
    "eligibility[max_redemptions_per_customer]": "max_redemptions",
    "configuration": "configuration", "holdout_percent": "holdout",
    "segments[tenure_min_days]": "tenure_min", "segments[tenure_max_days]": "tenure_max",
    "variants": "variants",
}
_FIELD_OF_PREFIX = (("eligibility[reasons]", "reasons"), ("eligibility[products]", "products"),
                    ("eligibility[prices]", "products"), ("reasons[", "reasons"),
                    ("segments[products]", "segment_products"),
                    ("segments[prices]", "segment_products"))


def field_of(error: InvalidRequest) -> str:
    """The form field a service error is about ("" when it is about the whole form)."""
    param = error.param or ""
    if param in _FIELD_OF_PARAM:
        return _FIELD_OF_PARAM[param]
    for prefix, name in _FIELD_OF_PREFIX:
        if param.startswith(prefix):
            return name
    return ""


def _param_words() -> tuple[tuple[str, str], ...]:
    # Longest names first: "coupon[percent_off]" before the "percent_off" inside it.
    return (
        ("segments[tenure_min_days]", ct("the minimum subscription age")),
        ("segments[tenure_max_days]", ct("the maximum subscription age")),
        ("trial_extension[days]", ct("the number of free days")),
        ("pause[interval_count]", ct("the pause")),
        ("coupon[percent_off]", ct("the percentage")), ("percent_off", ct("the percentage")),
        ("coupon[amount_off]", ct("the amount")), ("amount_off", ct("the amount")),
        ("duration_in_months", ct("the number of months")),
        ("holdout_percent", ct("the holdout")),
    )


def error_message(error: InvalidRequest) -> str:
    """A service error as the form shows it: a missing value as "required", otherwise the
    service's message with its parameter names in the form's words."""
    if error.code == "parameter_missing":
        return ct("This field is required.")
    message = error.message
    for param, words in _param_words():
        message = message.replace(param, words)
    return message[:1].upper() + message[1:]
