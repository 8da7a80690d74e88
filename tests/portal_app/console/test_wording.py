"""The console's words: labels, counts and rates, and service refusals in the form's words."""

from __future__ import annotations

import pytest

from portal_app.console.wording import (
    REASON_KEYS,
    count,
    error_message,
    experiment_status_label,
    field_of,
    kind_label,
    number,
    percent,
    reason_label,
)
from portal_app.errors import InvalidRequest, ResourceMissing


def test_every_reason_has_words() -> None:
    assert REASON_KEYS[0] == "default" and len(REASON_KEYS) == 9
    labels = [reason_label(r) for r in REASON_KEYS]
    assert labels[:3] == ["Any reason", "Too expensive", "Missing features"]
    assert all(label and "_" not in label for label in labels)
    assert reason_label("made_up") == "made_up"


def test_kinds_and_statuses_in_words() -> None:
    assert [kind_label(k) for k in ("coupon", "pause", "price_change", "trial_extension",
                                    "contact")] == \
        ["Coupon", "Pause", "Cheaper plan", "Free days", "Talk to us"]
    assert [experiment_status_label(s) for s in ("draft", "running", "stopped", "shipped")] == \
        ["Draft", "Running", "Stopped", "Shipped"]


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (1234, "1,234"), (None, "—")])
def test_count(value: int | None, shown: str) -> None:
    assert count(value) == shown


@pytest.mark.parametrize(("value", "digits", "shown"), [
    (0.5, 1, "50.0%"), (1.0, 1, "100.0%"), (0.0625, 1, "6.2%"), (0.123, 0, "12%"),
    (None, 1, "—"), (float("nan"), 1, "—"),
])
def test_percent(value: float | None, digits: int, shown: str) -> None:
    assert percent(value, digits) == shown


def test_number_is_as_short_as_it_goes() -> None:
    assert (number(50.0), number(12.5), number(10)) == ("50", "12.5", "10")


@pytest.mark.parametrize(("param", "field"), [
    ("name", "name"), ("headline", "headline"),
    ("coupon[coupon]", "percent"), ("percent_off", "percent"),
    ("coupon[percent_off]", "percent"), ("amount_off", "amount"),
    ("coupon[amount_off]", "amount"), ("currency", "currency"), ("duration", "duration"),
    ("duration_in_months", "months"), ("pause[interval]", "pause_count"),
    ("pause[interval_count]", "pause_count"), ("price_change[price]", "target_price"),
    ("price_change[timing]", "timing"), ("trial_extension[days]", "days"),
    ("contact[url]", "contact_url"), ("contact[email]", "contact_email"),
    ("eligibility[minimum_subscription_age_days]", "min_age"),
    ("eligibility[cooldown_days]", "cooldown"),
    ("eligibility[max_redemptions_per_customer]", "max_redemptions"),
    ("eligibility[reasons][0]", "reasons"), ("eligibility[products][1]", "products"),
    ("eligibility[prices][0]", "products"), ("reasons[2]", "reasons"),
    ("configuration", "configuration"), ("holdout_percent", "holdout"),
    ("segments[tenure_min_days]", "tenure_min"), ("segments[tenure_max_days]", "tenure_max"),
    ("segments[products][0]", "segment_products"), ("segments[prices][0]", "segment_products"),
    ("variants", "variants"),
    ("variants[1][weight]", ""),  # the experiment form points these at the variant itself
    ("something_else", ""), (None, ""),
])
def test_field_of_each_param(param: str | None, field: str) -> None:
    assert field_of(InvalidRequest("x", param=param)) == field


def test_a_missing_value_is_required() -> None:
    missing = InvalidRequest("Missing required param: name.", code="parameter_missing",
                             param="name")
    assert error_message(missing) == "This field is required."


@pytest.mark.parametrize(("message", "worded"), [
    ("percent_off must be between 0 and 100.", "The percentage must be between 0 and 100."),
    ("coupon[percent_off] must be between 0 and 100.",
     "The percentage must be between 0 and 100."),
    ("amount_off must be positive.", "The amount must be positive."),
    ("coupon[amount_off] must be positive.", "The amount must be positive."),
    ("duration_in_months is required for repeating coupons.",
     "The number of months is required for repeating coupons."),
    ("holdout_percent must be at least 0 and below 100.",
     "The holdout must be at least 0 and below 100."),
    ("segments[tenure_min_days] is above segments[tenure_max_days].",
     "The minimum subscription age is above the maximum subscription age."),
    ("trial_extension[days] must be positive.", "The number of free days must be positive."),
    ("pause[interval_count] is too long.", "The pause is too long."),
    ("Invalid positive integer: 0", "Invalid positive integer: 0"),
])
def test_error_message_in_the_forms_words(message: str, worded: str) -> None:
    assert error_message(InvalidRequest(message)) == worded


def test_a_missing_object_keeps_the_services_message() -> None:
    assert error_message(ResourceMissing("No such offer: 'offer_1'", param="id")) == \
        "No such offer: 'offer_1'"
