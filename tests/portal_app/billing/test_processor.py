"""The test processor: Stripe's test cards, Luhn, expiry, cvc, and what is kept of a card."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from portal_app.billing import processor
from portal_app.errors import CardDeclined, CardError, InvalidRequest

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)


def tokenize(number: str, *, exp_month: Any = 12, exp_year: Any = 2030,
             cvc: str | None = "123", strict_cvc: bool = False) -> processor.CardDetails:
    return processor.tokenize_card(number=number, exp_month=exp_month, exp_year=exp_year,
                                   cvc=cvc, fingerprint_key="k" * 64, now=NOW,
                                   strict_cvc=strict_cvc)


def luhn_check_digit(body: str) -> str:
    for digit in "0123456789":
        if processor.luhn_valid(body + digit):
            return digit
    raise AssertionError("some check digit always fits")


@pytest.mark.parametrize("number", list(processor.TEST_CARD_NUMBERS))
def test_every_stripe_test_number_passes_luhn(number: str) -> None:
    assert processor.luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "4000000000000001", "1234567890123",
                                    "42424242424242424242", "4242-4242-4242-4242", "", "abc"])
def test_invalid_numbers_fail_luhn(number: str) -> None:
    assert not processor.luhn_valid(number)


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_exactly_one_check_digit_completes_a_number(body: str) -> None:
    fitting = [d for d in "0123456789" if processor.luhn_valid(body + d)]
    assert len(fitting) == 1


@given(st.text(alphabet="0123456789", min_size=12, max_size=19), st.integers(0, 18))
def test_changing_one_digit_breaks_luhn(number: str, position: int) -> None:
    position %= len(number)
    if not processor.luhn_valid(number):
        return
    changed = str((int(number[position]) + 1) % 10)
    assert not processor.luhn_valid(number[:position] + changed + number[position + 1:])


@pytest.mark.parametrize(("number", "brand"), [
    ("4242424242424242", "visa"),
    ("4000056655665556", "visa"),
    ("5555555555554444", "mastercard"),
    ("2223003122003222", "mastercard"),
    ("5200828282828210", "mastercard"),
    ("378282246310005", "amex"),
    ("371449635398431", "amex"),
    ("6011111111111117", "discover"),
    ("3056930009020004", "diners"),
    ("36227206271667", "diners"),
    ("3566002020360505", "jcb"),
    ("6200000000000005", "unionpay"),
])
def test_brand_of_stripe_test_numbers(number: str, brand: str) -> None:
    assert processor.card_brand(number) == brand
    assert tokenize(number, cvc="1234" if brand == "amex" else "123").brand == brand


def test_a_card_keeps_only_brand_last4_expiry_and_a_fingerprint() -> None:
    card = tokenize("4242 4242 4242 4242", exp_month="3", exp_year="28")
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 3, 2028)
    assert "4242424242424242" not in repr(card)
    assert card.attach_decline_code is None and card.charge_decline_code is None


def test_fingerprint_is_stable_per_key_and_differs_between_keys() -> None:
    one = processor.fingerprint("key-a", "4242424242424242")
    assert one == processor.fingerprint("key-a", "4242424242424242")
    assert one != processor.fingerprint("key-b", "4242424242424242")
    assert one != processor.fingerprint("key-a", "5555555555554444")


def test_fingerprint_cannot_be_recomputed_without_the_account_key() -> None:
    import hashlib

    keyed = processor.fingerprint("secret-key", "4242424242424242")
    for guess in ("4242424242424242", "acct_a:4242424242424242"):
        assert hashlib.sha256(guess.encode()).hexdigest()[:16] != keyed


def test_wrong_number_is_incorrect_number() -> None:
    with pytest.raises(CardError) as raised:
        tokenize("4242424242424241")
    assert (raised.value.code, raised.value.param) == ("incorrect_number", "number")
    assert raised.value.type == "card_error" and raised.value.http_status == 402


@pytest.mark.parametrize(("month", "year", "code"), [
    (13, 2030, "invalid_expiry_month"),
    (0, 2030, "invalid_expiry_month"),
    ("xx", 2030, "invalid_expiry_month"),
    (None, 2030, "invalid_expiry_month"),
    (12, 2025, "invalid_expiry_year"),
    (12, "soon", "invalid_expiry_year"),
    (12, None, "invalid_expiry_year"),
    (12, 2099, "invalid_expiry_year"),
    (12, 25, "invalid_expiry_year"),
    (12, -1, "invalid_expiry_year"),
    (12, 0, "invalid_expiry_year"),
    (12, 100, "invalid_expiry_year"),
    (12, 999, "invalid_expiry_year"),
])
def test_invalid_expiry(month: object, year: object, code: str) -> None:
    with pytest.raises(CardError) as raised:
        tokenize("4242424242424242", exp_month=month, exp_year=year)
    assert raised.value.code == code
    assert raised.value.param == ("exp_month" if code.endswith("month") else "exp_year")


def test_a_card_expiring_last_month_is_refused_and_this_month_accepted() -> None:
    with pytest.raises(CardError) as raised:
        tokenize("4242424242424242", exp_month=12, exp_year=2025)
    assert raised.value.code == "invalid_expiry_year"
    assert tokenize("4242424242424242", exp_month=1, exp_year=2026).exp_month == 1
    assert tokenize("4242424242424242", exp_month=1, exp_year=26).exp_year == 2026


def test_expired_this_year_is_an_invalid_month() -> None:
    now = datetime(2026, 6, 15, tzinfo=UTC)
    with pytest.raises(CardError) as raised:
        processor.tokenize_card(number="4242424242424242", exp_month=5, exp_year=2026,
                                cvc="123", fingerprint_key="k" * 64, now=now)
    assert raised.value.code == "invalid_expiry_month"


@pytest.mark.parametrize("cvc", ["12", "12345", "abc", "", "12a"])
def test_invalid_cvc(cvc: str) -> None:
    with pytest.raises(CardError) as raised:
        tokenize("4242424242424242", cvc=cvc)
    assert (raised.value.code, raised.value.param) == ("invalid_cvc", "cvc")


@pytest.mark.parametrize("token", list(processor.TEST_PAYMENT_METHODS))
def test_every_test_payment_method_maps_to_a_valid_card(token: str) -> None:
    card = processor.tokenize_test_payment_method(token, fingerprint_key="k" * 64, now=NOW)
    number = processor.TEST_PAYMENT_METHODS[token]
    assert card.last4 == number[-4:]
    assert card.brand == processor.card_brand(number) != "unknown"
    assert (card.exp_year, card.exp_month) > (NOW.year, NOW.month)
    declines = any(word in token for word in ("Declined", "Fail", "RequiredProcessingError"))
    assert (card.attach_decline_code or card.charge_decline_code) is not None if declines else (
        card.attach_decline_code is None and card.charge_decline_code is None)


@pytest.mark.parametrize(("token", "brand"), [
    ("pm_card_visa", "visa"), ("pm_card_mastercard", "mastercard"), ("pm_card_amex", "amex"),
    ("pm_card_discover", "discover"), ("pm_card_jcb", "jcb"), ("pm_card_unionpay", "unionpay"),
    ("pm_card_diners", "diners"),
])
def test_test_payment_method_brands(token: str, brand: str) -> None:
    card = processor.tokenize_test_payment_method(token, fingerprint_key="k" * 64, now=NOW)
    assert card.brand == brand


def test_unknown_test_token_is_missing() -> None:
    with pytest.raises(InvalidRequest) as raised:
        processor.tokenize_test_payment_method("pm_card_nope", fingerprint_key="k" * 64, now=NOW)
    assert (raised.value.code, raised.value.param) == ("resource_missing", "payment_method")


def test_decline_cards() -> None:
    declined = tokenize("4000000000000002")
    assert declined.attach_decline_code == "generic_decline"
    fails_later = tokenize("4000000000000341")
    assert fails_later.attach_decline_code is None
    assert fails_later.charge_decline_code == "generic_decline"


@pytest.mark.parametrize(("decline_code", "code"), [
    ("generic_decline", "card_declined"), ("insufficient_funds", "card_declined"),
    ("expired_card", "expired_card"), ("incorrect_cvc", "incorrect_cvc"),
    ("processing_error", "processing_error"),
])
def test_decline_error(decline_code: str, code: str) -> None:
    error = processor.decline(decline_code)
    assert isinstance(error, CardDeclined)
    assert (error.code, error.decline_code, error.type) == (code, decline_code, "card_error")
    assert error.http_status == 402 and error.message


# --- brands, lengths, CVC per brand, co-badging, 3-D Secure, test tokens ---------------------


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_luhn_is_stdnums(body: str) -> None:
    number = body + luhn.calc_check_digit(body)
    assert processor.luhn_valid(number)
    assert luhn.is_valid(number)


@pytest.mark.parametrize(("number", "code"), [
    ("4242 4242 4242 424", "invalid_number"),   # too short for any card
    ("4242x42424242424", "invalid_number"),
    ("378282246310005" + "0", "incorrect_number"),
])
def test_what_is_not_a_card_number(number: str, code: str) -> None:
    with pytest.raises(CardError) as raised:
        tokenize(number)
    assert (raised.value.code, raised.value.param) == (code, "number")


def test_a_number_too_long_for_its_brand_is_invalid() -> None:
    body = "3782822463100050"  # 17 digits with the check digit: amex has 15
    with pytest.raises(CardError) as raised:
        tokenize(body + luhn.calc_check_digit(body), cvc="1234")
    assert raised.value.code == "invalid_number"


@pytest.mark.parametrize(("number", "cvc", "strict_ok", "lenient_ok"), [
    ("378282246310005", "1234", True, True), ("378282246310005", "123", False, True),
    ("4242424242424242", "123", True, True), ("4242424242424242", "1234", False, True),
])
def test_strict_cvc_length_follows_the_brand(number: str, cvc: str, strict_ok: bool,
                                             lenient_ok: bool) -> None:
    for strict, ok in ((True, strict_ok), (False, lenient_ok)):
        if ok:
            assert tokenize(number, cvc=cvc, strict_cvc=strict).last4 == number[-4:]
        else:
            with pytest.raises(CardError):
                tokenize(number, cvc=cvc, strict_cvc=strict)
    assert processor.cvc_length(processor.card_brand(number)) == (4 if number[0] == "3" else 3)


@pytest.mark.parametrize(("number", "brand", "local"), [
    ("4000002500001001", "visa", "cartes_bancaires"),
    ("5555552500001001", "mastercard", "cartes_bancaires"),
    ("4000050360000001", "visa", "eftpos_au"), ("5555050360000080", "mastercard", "eftpos_au")])
def test_co_badged_cards_keep_their_brand(number: str, brand: str, local: str) -> None:
    card = tokenize(number)
    assert card.brand == brand
    assert card.networks == tuple(sorted((local, brand)))
    assert tokenize("4242424242424242").networks == ("visa",)


@pytest.mark.parametrize(("number", "authenticate"), [
    ("4000002500003155", True), ("4000002760003184", True), ("4000000000003220", True),
    ("4000000000003063", True), ("4000000000003055", False), ("4242424242424242", False)])
def test_3d_secure_test_numbers(number: str, authenticate: bool) -> None:
    assert tokenize(number).requires_authentication is authenticate


@pytest.mark.parametrize(("token", "covered"), [
    ("pm_card_authenticationRequiredOnSetup", True),
    ("pm_card_authenticationRequiredSetupForOffSession", True),
    ("pm_card_authenticationRequired", False), ("pm_card_threeDSecure2Required", False)])
def test_which_3d_secure_cards_a_setup_covers_off_session(token: str, covered: bool) -> None:
    card = processor.tokenize_test_payment_method(token, fingerprint_key="k", now=NOW)
    assert card.requires_authentication
    assert card.setup_covers_off_session is covered


def test_3d_secure_lookup_error_declines_without_a_challenge() -> None:
    card = processor.tokenize_test_payment_method("pm_card_threeDSecureRequiredProcessingError",
                                                  fingerprint_key="k", now=NOW)
    assert not card.requires_authentication
    assert card.attach_decline_code is None and card.charge_decline_code == "generic_decline"


def test_3d_secure_card_declined_after_authentication() -> None:
    card = tokenize("4000008260003178")
    assert card.requires_authentication and card.attach_decline_code is None
    assert card.charge_decline_code == "insufficient_funds"


def test_test_ids_and_their_token_twins() -> None:
    assert processor.number_of_test_token("tok_visa") == "4242424242424242"
    assert processor.number_of_test_token("pm_card_threeDSecure2Required") == "4000000000003220"
    assert processor.number_of_test_token("pm_card_fr") == "4000002500000003"
    assert processor.number_of_test_token("tok_nope") is None
    card = processor.tokenize_test_payment_method("tok_mastercard", fingerprint_key="k", now=NOW)
    assert card.brand == "mastercard"


@pytest.mark.parametrize("number", [n for n, t in processor.TEST_CARD_NUMBERS.items()
                                    if t.requires_authentication])
def test_every_authentication_number_has_a_test_id(number: str) -> None:
    names = [name for name, n in processor.TEST_PAYMENT_METHODS.items() if n == number]
    assert names and all("uthentication" in n or "threeDSecure" in n for n in names)


@pytest.mark.parametrize("code", ["account_closed", "no_account", "debit_not_authorized",
                                  "refer_to_customer", "charge_exceeds_weekly_limit"])
def test_bank_failure_codes_have_their_own_message(code: str) -> None:
    error = processor.decline(code)
    assert error.decline_code == code and error.message == processor.DECLINE_MESSAGES[code]


def test_authentication_required_is_its_own_error_code() -> None:
    assert processor.decline("authentication_required").code == "authentication_required"
