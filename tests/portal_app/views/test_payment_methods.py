"""The payment methods page's view models: each method as its owner knows it, the forms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from portal_app.billing import payment_method_types as method_types
from portal_app.billing.provider import payment_method_types
from portal_app.errors import CardDeclined, InvalidRequest
from portal_app.portal.payment_method_actions import Wallet
from portal_app.views import payment_methods as views

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def pm(kind: str, details: dict[str, Any], *, id: str = "pm_1", created: int = 1,
       email: str | None = None) -> dict[str, Any]:
    return {"id": id, "object": "payment_method", "type": kind, kind: details,
            "created": created, "billing_details": {"email": email, "name": None}}


def card(last4: str = "4242", *, brand: str = "visa", month: int = 12, year: int = 2028,
         id: str = "pm_1") -> dict[str, Any]:
    return pm("card", {"brand": brand, "last4": last4, "exp_month": month, "exp_year": year},
              id=id)


def test_a_card_reads_brand_last4_and_expiry() -> None:
    view = views.method_view(card(), default_id="pm_1", locale="en", now=NOW)
    assert (view.title, view.detail, view.badge) == ("Visa •••• 4242", "Expires 12/28", "")
    assert view.is_default and view.icon == "credit_card"


@pytest.mark.parametrize(("month", "year", "badge", "color"), [
    (10, 2026, "Expired", "red"),  # last valid month is past
    (11, 2026, "Expires soon", "amber"),  # valid to the end of this month
    (1, 2027, "Expires soon", "amber"),  # two months away
    (2, 2027, "", "gray"),  # three months away
])
def test_expired_and_expiring_soon(month: int, year: int, badge: str, color: str) -> None:
    view = views.method_view(card(month=month, year=year), default_id=None, locale="en",
                             now=NOW)
    assert (view.badge, view.badge_color) == (badge, color)
    assert not view.is_default


def test_an_expired_card_says_so_in_german() -> None:
    view = views.method_view(card(month=1, year=2025), default_id=None, locale="de", now=NOW)
    assert view.badge != "Expired" and view.badge  # translated
    assert "01/25" in view.detail


def test_banks_show_their_code_and_last4() -> None:
    sepa = views.method_view(pm("sepa_debit", {"bank_code": "37040044", "last4": "3000",
                                               "country": "DE"}),
                             default_id=None, locale="en", now=NOW)
    assert sepa.title == "SEPA Direct Debit •••• 3000"
    assert sepa.detail == "Bank code 37040044" and sepa.icon == "landmark"
    ach = views.method_view(pm("us_bank_account", {"bank_name": "STRIPE TEST BANK",
                                                   "last4": "6789",
                                                   "routing_number": "110000000"}),
                            default_id=None, locale="en", now=NOW)
    assert ach.title == "STRIPE TEST BANK •••• 6789"
    assert ach.detail == "Routing number 110000000"


def test_a_wallet_shows_its_name_and_email() -> None:
    paypal = views.method_view(pm("paypal", {"payer_email": "ada@paypal.test"}),
                               default_id=None, locale="en", now=NOW)
    assert (paypal.title, paypal.detail, paypal.icon) == ("PayPal", "ada@paypal.test",
                                                          "wallet")
    amazon = views.method_view(pm("amazon_pay", {}, email="ada@example.test"),
                               default_id=None, locale="en", now=NOW)
    assert (amazon.title, amazon.detail) == ("Amazon Pay", "ada@example.test")


def test_the_page_lists_methods_and_the_allowed_types_only() -> None:
    wallet = Wallet(methods=(card(id="pm_new"), card("1881", id="pm_old")),
                    default_id="pm_old", allowed_types=("sepa_debit", "card"))
    page = views.methods_page(wallet, business_name="Acme", customer_email="a@b.test",
                              locale="en", now=NOW)
    assert [m.id for m in page.methods] == ["pm_new", "pm_old"]
    assert [m.is_default for m in page.methods] == [False, True]
    assert [c.type for c in page.choices] == ["sepa_debit", "card"]
    assert page.enabled
    assert not views.methods_page(Wallet(methods=(), default_id=None), business_name="",
                                  customer_email="", locale="en", now=NOW).enabled


def test_the_card_form_has_labelled_autocompleting_fields() -> None:
    form = views.type_form("card", business="Acme", locale="en")
    assert [(f.key, f.autocomplete, f.input_mode) for f in form.fields] == [
        ("number", "cc-number", "numeric"), ("expiry", "cc-exp", "numeric"),
        ("cvc", "cc-csc", "numeric"), ("name", "cc-name", "text")]
    assert form.fields[0].label == "Card number" and form.mandate == ""
    assert not form.redirect


def test_a_debit_shows_its_mandate_with_the_business_as_creditor() -> None:
    form = views.type_form("sepa_debit", business="Acme Cloud", locale="en")
    assert "authorise Acme Cloud" in form.mandate and "8 weeks" in form.mandate
    assert [f.key for f in form.fields] == ["name", "iban"]
    french = views.type_form("sepa_debit", business="Acme Cloud", locale="fr")
    assert "Acme Cloud" in french.mandate and french.mandate != form.mandate
    for kind in ("au_becs_debit", "bacs_debit", "acss_debit", "us_bank_account",
                 "nz_bank_account"):
        assert "Acme Cloud" in views.type_form(kind, business="Acme Cloud", locale="en").mandate


def test_a_redirect_type_has_no_fields() -> None:
    form = views.type_form("paypal", business="Acme", locale="en")
    assert form.redirect and form.fields == [] and form.mandate == ""
    assert form.submit_label == "Continue with PayPal" and "PayPal" in form.note


@pytest.mark.parametrize(("kind", "key", "typed", "shown"), [
    ("card", "number", "4242424242424242", "4242 4242 4242 4242"),
    ("card", "number", "3782 822463 10005", "3782 822463 10005"),  # Amex 4-6-5
    ("card", "expiry", "1228", "12 / 28"),
    ("card", "expiry", "4", "04"),
    ("card", "expiry", "12/", "12 / "),
    ("card", "cvc", "12a3", "123"),
    ("sepa_debit", "iban", "de89370400440532013000", "DE89 3704 0044 0532 0130 00"),
    ("bacs_debit", "sort_code", "108800", "10-88-00"),
    ("au_becs_debit", "bsb_number", "000000", "000-000"),
    ("us_bank_account", "routing_number", "11-0000-000", "110000000"),
    ("card", "unknown", "x", ""),
])
def test_fields_are_formatted_as_typed(kind: str, key: str, typed: str, shown: str) -> None:
    assert views.format_field(kind, key, typed) == shown


def test_the_form_becomes_payment_method_data() -> None:
    data = views.payment_method_data(
        "card", {"number": "4242 4242 4242 4242", "expiry": "12 / 28", "cvc": "123",
                 "name": " Ada Lovelace "}, email="ada@example.test")
    assert data == {"type": "card",
                    "card": {"number": "4242424242424242", "exp_month": 12,
                             "exp_year": 2028, "cvc": "123"},
                    "billing_details": {"email": "ada@example.test", "name": "Ada Lovelace"}}
    bacs = views.payment_method_data("bacs_debit", {"name": "Ada", "sort_code": "10-88-00",
                                                    "account_number": "00012345"}, email="")
    assert bacs["bacs_debit"] == {"sort_code": "108800", "account_number": "00012345"}
    assert views.payment_method_data("paypal", {}, email="") == {"type": "paypal",
                                                                 "paypal": {}}


def test_an_unreadable_expiry_names_its_parameter() -> None:
    with pytest.raises(InvalidRequest) as raised:
        views.payment_method_data("card", {"number": "4242", "expiry": "1"}, email="")
    assert raised.value.param == "card[exp_month]"
    assert views.field_error("card", raised.value, locale="en") == (
        "expiry", "Your card's expiry date is invalid.")


@pytest.mark.parametrize(("kind", "param", "field"), [
    ("sepa_debit", "sepa_debit[iban]", "iban"),
    ("sepa_debit", "payment_method_data[sepa_debit][iban]", "iban"),
    ("card", "card[number]", "number"),
    ("card", "card[exp_year]", "expiry"),
    ("card", "number", "number"),  # a card error's bare param
    ("card", "cvc", "cvc"),
    ("us_bank_account", "us_bank_account[routing_number]", "routing_number"),
    ("sepa_debit", "billing_details[name]", "name"),
    ("card", "customer", None),
    ("card", None, None),
])
def test_errors_find_their_field(kind: str, param: str | None, field: str | None) -> None:
    assert views.field_of(kind, param) == field


def test_a_decline_is_not_a_field_error_and_gives_its_reason() -> None:
    declined = CardDeclined("Your card was declined.", decline_code="insufficient_funds")
    assert views.field_error("card", declined, locale="en") is None
    assert views.form_error(declined, locale="en") == \
        "Your card was declined: insufficient funds"
    assert views.form_error(CardDeclined("x", decline_code="generic_decline"),
                            locale="en") == "Your card was declined."


def test_the_mandate_acceptance_carries_the_browser() -> None:
    assert views.mandate_acceptance(user_agent="Chromium", ip_address="10.0.0.1") == {
        "type": "online", "online": {"user_agent": "Chromium", "ip_address": "10.0.0.1"}}
    assert views.mandate_acceptance(user_agent="Chromium", ip_address=None) == {
        "type": "online", "online": {"user_agent": "Chromium"}}


def test_the_forms_cover_every_type_the_billing_door_knows() -> None:
    types = payment_method_types()
    assert set(views.FORMS) == set(types.all) == set(views.TYPE_NAMES)
    assert {kind for kind, specs in views.FORMS.items() if not specs} == types.redirect
    assert set(views.MANDATES) == types.mandate
    for kind, specs in views.FORMS.items():
        for spec in specs:
            for param in spec.params:
                head, _, key = param.partition("[")
                assert head == "billing_details" or (
                    head == kind and key.rstrip("]") in method_types.TYPE_PARAMS[kind]), param
