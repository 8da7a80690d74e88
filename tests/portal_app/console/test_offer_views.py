"""What the offers page shows: terms in words, eligibility lines, rows, the policy per reason."""

from __future__ import annotations

from typing import Any

import pytest

from portal_app.console.forms import Choice
from portal_app.console.offer_views import (
    NONE,
    configuration_label,
    eligibility_lines,
    offer_choices,
    offer_row,
    offer_summary,
    policy_rows,
    price_label,
)
from portal_app.retention.choices import ConfigurationChoice, PriceChoice

BASIC = PriceChoice(id="price_basic", product_id="prod_cloud", product_name="Cloud",
                    nickname="Basic", unit_amount=1900, currency="usd", interval="month",
                    interval_count=1, active=True)
YEN = PriceChoice(id="price_yen", product_id="prod_cloud", product_name="Cloud", nickname=None,
                  unit_amount=1500, currency="jpy", interval="month", interval_count=3,
                  active=True)
PRICES = {p.id: p for p in (BASIC, YEN)}
PRODUCTS = {"prod_cloud": "Cloud"}


def rendered(kind: str, **parts: Any) -> dict[str, Any]:
    """An offer as ``retention.offers.render_offer`` shows it."""
    eligibility = {"cooldown_days": None, "max_redemptions_per_customer": None,
                   "minimum_subscription_age_days": 0, "prices": [], "products": [],
                   "reasons": [], **parts.pop("eligibility", {})}
    offer = {"id": "offer_1", "name": "Stay", "headline": None, "active": True,
             "type": kind, "coupon": None, "pause": None, "price_change": None,
             "trial_extension": None, "contact": None, "eligibility": eligibility}
    return {**offer, **parts}


def coupon(**terms: Any) -> dict[str, Any]:
    return rendered("coupon", coupon={"coupon": "co_1", "percent_off": None, "amount_off": None,
                                      "currency": None, "duration": "once",
                                      "duration_in_months": None, **terms})


def test_price_label() -> None:
    assert price_label(BASIC) == "Cloud · Basic · $19.00/month"
    assert price_label(YEN) == "Cloud · ¥1,500/3 months"


@pytest.mark.parametrize(("offer", "summary"), [
    (coupon(percent_off=50.0, duration="repeating", duration_in_months=3),
     "50% off for 3 months"),
    (coupon(percent_off=12.5, duration="repeating", duration_in_months=1),
     "12.5% off for 1 month"),
    (coupon(amount_off=1050, currency="eur", duration="once"), "€10.50 off the next invoice"),
    (coupon(amount_off=500, currency="jpy", duration="forever"), "¥500 off forever"),
    (coupon(), "Coupon"),  # a deleted coupon: its terms are gone
    (rendered("pause", pause={"interval": "month", "interval_count": 2}),
     "Pause for 2 months"),
    (rendered("pause", pause={"interval": "period", "interval_count": 1}),
     "Pause for 1 billing period"),
    (rendered("pause", pause={"interval": "week", "interval_count": 3}), "Pause for 3 weeks"),
    (rendered("price_change", price_change={"price": "price_basic", "timing": "period_end"}),
     "Switch to Cloud · Basic · $19.00/month, at period end"),
    (rendered("price_change", price_change={"price": "price_gone", "timing": "now"}),
     "Switch to price_gone, now"),
    (rendered("trial_extension", trial_extension={"days": 7}), "7 free days"),
    (rendered("trial_extension", trial_extension={"days": 1}), "1 free day"),
    (rendered("contact", contact={"url": "https://acme.test/help", "email": None}),
     "Talk to us: https://acme.test/help"),
    (rendered("contact", contact={"url": None, "email": "help@acme.test"}),
     "Talk to us: help@acme.test"),
])
def test_offer_summary(offer: dict[str, Any], summary: str) -> None:
    assert offer_summary(offer, PRICES) == summary


def test_eligibility_lines() -> None:
    offer = rendered("trial_extension", trial_extension={"days": 7}, eligibility={
        "products": ["prod_cloud", "prod_gone"], "prices": ["price_basic"],
        "minimum_subscription_age_days": 30, "cooldown_days": 90,
        "max_redemptions_per_customer": 1})
    assert eligibility_lines(offer, PRODUCTS, PRICES) == [
        "Products: Cloud, prod_gone", "Prices: Cloud · Basic · $19.00/month",
        "Subscribed ≥ 30 days", "Not within 90 days of accepting an offer",
        "At most 1 per customer"]
    assert eligibility_lines(rendered("pause"), PRODUCTS, PRICES) == ["Every subscriber"]


def test_offer_row() -> None:
    offer = rendered("trial_extension", trial_extension={"days": 7}, headline="A week on us",
                     active=False, eligibility={"reasons": ["too_expensive", "unused"]})
    row = offer_row(offer, PRODUCTS, PRICES)
    assert (row.kind, row.kind_label, row.summary) == ("trial_extension", "Free days",
                                                      "7 free days")
    assert (row.reasons, row.status_label, row.headline) == ("Too expensive, Unused",
                                                            "Inactive", "A week on us")
    assert offer_row(rendered("pause", pause={"interval": "day", "interval_count": 5}),
                     PRODUCTS, PRICES).reasons == "Any reason"


def test_offer_choices_start_with_no_offer() -> None:
    offer = rendered("trial_extension", trial_extension={"days": 7})
    assert offer_choices([offer], PRICES) == [Choice(NONE, "No offer"),
                                              Choice("offer_1", "Stay — 7 free days")]


def test_configuration_label() -> None:
    assert configuration_label(ConfigurationChoice(id="bpc_1", name=None, is_default=True,
                                                   active=True)) == "bpc_1 (default)"
    assert configuration_label(ConfigurationChoice(id="bpc_2", name="EU", is_default=False,
                                                   active=True)) == "EU"


def test_policy_rows_keep_an_inactive_offer_visible() -> None:
    active = offer_row(rendered("pause", pause={"interval": "month", "interval_count": 1}),
                       PRODUCTS, PRICES)
    inactive = offer_row(rendered("trial_extension", id="offer_2", name="Week", active=False,
                                  trial_extension={"days": 7}), PRODUCTS, PRICES)
    choices = [Choice(NONE, "No offer"), Choice("offer_1", "Stay — Pause for 1 month")]
    rows, shown = policy_rows({"default": "offer_1", "unused": "offer_2",
                               "other": "offer_deleted"}, choices, [active, inactive])
    by_reason = {row.reason: row.offer_id for row in rows}
    assert [row.reason for row in rows][:2] == ["default", "too_expensive"]
    assert by_reason["default"] == "offer_1" and by_reason["unused"] == "offer_2"
    assert by_reason["other"] == NONE and by_reason["too_expensive"] == NONE
    assert shown[-1] == Choice("offer_2", "Week (inactive)") and len(shown) == 3
    assert choices == [Choice(NONE, "No offer"), Choice("offer_1", "Stay — Pause for 1 month")]
