"""The offer dialog: its form in, the offer services' keywords out, and a stored offer back."""

from __future__ import annotations

from typing import Any

import pytest

from portal_app.console.forms import FieldProblem
from portal_app.console.offer_forms import OfferDraft, draft_of, offer_fields
from tests.portal_app.console.test_offer_views import coupon, rendered

TYPED = {"name": " Half off ", "headline": "", "min_age": "", "cooldown": "90",
         "max_redemptions": ""}


def test_percent_coupon_for_some_months() -> None:
    draft = OfferDraft(reasons=["too_expensive"], products=["prod_cloud"])
    fields = offer_fields({**TYPED, "percent": "50", "months": "3"}, draft)
    assert fields == {
        "name": "Half off", "headline": None,
        "new_coupon": {"duration": "repeating", "duration_in_months": 3, "percent_off": 50.0},
        "reasons": ["too_expensive"], "products": ["prod_cloud"],
        "minimum_subscription_age_days": 0, "cooldown_days": 90,
        "max_redemptions_per_customer": None}


@pytest.mark.parametrize(("amount", "currency", "terms"), [
    ("10.50", "EUR", {"currency": "eur", "amount_off": 1050}),
    ("1500", "jpy", {"currency": "jpy", "amount_off": 1500}),  # zero-decimal
    ("9.99", "", {"currency": None, "amount_off": 999}),  # dollars until a currency is typed
])
def test_amount_coupon_in_minor_units(amount: str, currency: str, terms: dict[str, Any]) -> None:
    draft = OfferDraft(coupon_mode="amount", coupon_duration="once")
    fields = offer_fields({**TYPED, "amount": amount, "currency": currency}, draft)
    assert fields["new_coupon"] == {"duration": "once", "duration_in_months": None, **terms}


@pytest.mark.parametrize(("draft", "form", "field", "message"), [
    (OfferDraft(), {"percent": "", "months": "3"}, "percent", "This field is required."),
    (OfferDraft(coupon_mode="amount"), {"amount": "", "months": "3"}, "amount",
     "This field is required."),
    (OfferDraft(), {"percent": "20", "months": ""}, "months", "This field is required."),
    (OfferDraft(), {"percent": "lots", "months": "3"}, "percent", "Enter a number."),
    (OfferDraft(coupon_mode="amount", coupon_duration="forever"),
     {"amount": "10.5", "currency": "jpy"}, "amount", "Use at most 0 decimals."),
    (OfferDraft(kind="pause"), {"pause_count": "two"}, "pause_count", "Enter a whole number."),
    (OfferDraft(kind="trial_extension"), {"days": "7", "min_age": "x"}, "min_age",
     "Enter a whole number."),
])
def test_values_that_are_no_values(draft: OfferDraft, form: dict[str, str], field: str,
                                   message: str) -> None:
    with pytest.raises(FieldProblem) as refused:
        offer_fields({**TYPED, **form}, draft)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_a_locked_coupon_sends_no_terms() -> None:
    fields = offer_fields({**TYPED, "percent": "10"}, OfferDraft(coupon_locked=True))
    assert "new_coupon" not in fields and fields["name"] == "Half off"


@pytest.mark.parametrize(("draft", "form", "kind_fields"), [
    (OfferDraft(kind="pause", pause_interval="week"), {"pause_count": "2"},
     {"pause_interval": "week", "pause_interval_count": 2}),
    (OfferDraft(kind="price_change", target_price="price_basic", timing="now"), {},
     {"price": "price_basic", "price_change_timing": "now"}),
    (OfferDraft(kind="price_change"), {}, {"price": None, "price_change_timing": "period_end"}),
    (OfferDraft(kind="trial_extension"), {"days": "14"}, {"extension_days": 14}),
    (OfferDraft(kind="contact"), {"contact_url": " https://acme.test ", "contact_email": ""},
     {"contact_url": "https://acme.test", "contact_email": None}),
])
def test_each_kinds_keywords(draft: OfferDraft, form: dict[str, str],
                             kind_fields: dict[str, Any]) -> None:
    fields = offer_fields({**TYPED, **form}, draft)
    assert {k: fields[k] for k in kind_fields} == kind_fields
    assert "new_coupon" not in fields


def test_a_coupon_offer_back_in_the_dialog() -> None:
    offer = coupon(amount_off=1050, currency="eur", duration="repeating", duration_in_months=3)
    offer["eligibility"].update(reasons=["unused"], minimum_subscription_age_days=30,
                                max_redemptions_per_customer=2)
    draft, typed = draft_of(offer)
    assert draft == OfferDraft(kind="coupon", coupon_mode="amount",
                               coupon_duration="repeating", coupon_locked=True,
                               reasons=["unused"])
    assert typed == {"name": "Stay", "headline": "", "min_age": "30", "cooldown": "",
                     "max_redemptions": "2", "percent": "", "amount": "10.50",
                     "currency": "eur", "months": "3"}
    yen = draft_of(coupon(amount_off=500, currency="jpy"))[1]
    assert (yen["amount"], yen["currency"], yen["months"]) == ("500", "jpy", "")
    assert draft_of(coupon(percent_off=50.0))[1]["percent"] == "50"


@pytest.mark.parametrize(("offer", "draft_parts", "typed_parts"), [
    (rendered("pause", pause={"interval": "week", "interval_count": 2}),
     {"pause_interval": "week"}, {"pause_count": "2"}),
    (rendered("price_change", price_change={"price": "price_basic", "timing": "now"}),
     {"target_price": "price_basic", "timing": "now"}, {}),
    (rendered("trial_extension", trial_extension={"days": 7}), {}, {"days": "7"}),
    (rendered("contact", contact={"url": None, "email": "help@acme.test"}), {},
     {"contact_url": "", "contact_email": "help@acme.test"}),
])
def test_other_kinds_back_in_the_dialog(offer: dict[str, Any], draft_parts: dict[str, Any],
                                        typed_parts: dict[str, str]) -> None:
    draft, typed = draft_of(offer)
    assert draft == OfferDraft(kind=offer["type"], **draft_parts)
    assert typed == {"name": "Stay", "headline": "", "min_age": "", "cooldown": "",
                     "max_redemptions": "", **typed_parts}
