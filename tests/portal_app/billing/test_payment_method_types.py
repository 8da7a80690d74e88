"""Payment method types: parameters, validation by check digit, Stripe's sub-objects.

Valid numbers are generated with python-stdnum (its check-digit functions), then one
digit is changed: every such corruption must be refused, naming the exact parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe.params._payment_method_create_params as create_params
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import rtn

from portal_app.billing import payment_method_types as pmt
from portal_app.billing import processor
from portal_app.errors import InvalidRequest
from portal_app.stripe_shapes import stripe_fields

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)
KEY = "k" * 64

VALID: dict[str, dict[str, Any]] = {
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
    "us_bank_account": {"routing_number": "110000000", "account_number": "000123456789",
                        "account_holder_type": "individual"},
    "sepa_debit": {"iban": "DE89 3704 0044 0532 0130 00"},
    "au_becs_debit": {"bsb_number": "000-000", "account_number": "000123456"},
    "bacs_debit": {"sort_code": "10-88-00", "account_number": "00012345"},
    "acss_debit": {"institution_number": "000", "transit_number": "11000",
                   "account_number": "000123456789"},
    "nz_bank_account": {"bank_code": "01", "branch_code": "0242", "account_number": "0100194",
                        "suffix": "00", "account_holder_name": "Jenny Rosen"},
    "naver_pay": {"funding": "points"},
}


def validate(type: str, params: Mapping[str, Any] | None) -> pmt.MethodDetails:
    return pmt.validate_payment_method(type, params, fingerprint_key=KEY, now=NOW)


def refusal(type: str, params: Mapping[str, Any] | None) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        validate(type, params)
    assert raised.value.http_status == 400
    return raised.value


def corrupt(number: str, position: int, shift: int) -> str:
    """``number`` with the digit at ``position`` (among its digits) changed by ``shift``."""
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    at = digits[position % len(digits)]
    changed = str((int(number[at]) + shift) % 10)
    return number[:at] + changed + number[at + 1:]


shifts = st.integers(1, 9)


# --- the interface ---------------------------------------------------------------------


def test_sixteen_types_each_with_its_parameters_and_sub_object() -> None:
    assert len(pmt.PAYMENT_METHOD_TYPES) == len(set(pmt.PAYMENT_METHOD_TYPES)) == 16
    assert set(pmt.TYPE_PARAMS) == set(pmt.SUB_OBJECTS) == set(pmt.PAYMENT_METHOD_TYPES)
    assert pmt.REDIRECT_TYPES | pmt.MANDATE_TYPES | {"card"} == set(pmt.PAYMENT_METHOD_TYPES)
    assert not pmt.REDIRECT_TYPES & pmt.MANDATE_TYPES


@pytest.mark.parametrize("type", pmt.PAYMENT_METHOD_TYPES)
def test_accepted_parameters_are_exactly_those_of_stripes_sdk(type: str) -> None:
    name = "PaymentMethodCreateParams" + "".join(p.title() for p in type.split("_"))
    sdk = getattr(create_params, name)
    assert set(pmt.TYPE_PARAMS[type]) == set(sdk.__annotations__)
    assert set(pmt.REQUIRED_PARAMS.get(type, ())) <= set(pmt.TYPE_PARAMS[type])


@pytest.mark.parametrize("type", pmt.PAYMENT_METHOD_TYPES)
def test_every_type_validates_into_its_complete_stripe_sub_object(type: str) -> None:
    method = validate(type, VALID.get(type, {}))
    assert method.type == type
    assert set(method.details) == set(stripe_fields(pmt.SUB_OBJECTS[type]))
    if type in pmt.REDIRECT_TYPES:
        assert method.fingerprint is None
        assert method.charge_decline_code is None and method.attach_decline_code is None
    else:
        assert method.fingerprint and len(method.fingerprint) == 16


@pytest.mark.parametrize("type", [t for t in pmt.PAYMENT_METHOD_TYPES if t in VALID])
def test_no_full_number_is_kept(type: str) -> None:
    method = validate(type, VALID[type])
    kept = repr(method)
    for name in ("number", "iban", "account_number"):
        if name in VALID[type]:
            full = "".join(ch for ch in str(VALID[type][name]) if ch.isalnum())
            assert full not in kept.replace(" ", "")
            assert method.details["last4"] == full[-4:]


@pytest.mark.parametrize("type", [t for t in VALID if t not in pmt.REDIRECT_TYPES])
def test_fingerprint_is_per_account_and_per_method(type: str) -> None:
    one = validate(type, VALID[type]).fingerprint
    assert one == validate(type, VALID[type]).fingerprint
    other = pmt.validate_payment_method(type, VALID[type], fingerprint_key="x" * 64, now=NOW)
    assert other.fingerprint != one


def test_unknown_type_and_unknown_parameter_are_named() -> None:
    assert refusal("bitcoin", {}).param == "type"
    unknown = refusal("sepa_debit", {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"})
    assert (unknown.param, unknown.code) == ("sepa_debit[bic]", "parameter_unknown")
    assert refusal("card", "4242").param == "card"  # type: ignore[arg-type]


@pytest.mark.parametrize(("type", "name"), [
    (type, name) for type, names in pmt.REQUIRED_PARAMS.items() for name in names])
def test_a_missing_required_parameter_is_named(type: str, name: str) -> None:
    params = {key: value for key, value in VALID[type].items() if key != name}
    error = refusal(type, params)
    assert (error.param, error.code) == (f"{type}[{name}]", "parameter_missing")


# --- cards: Luhn by stdnum, brand, expiry, CVC, Stripe's test cards ------------------------

BRAND_PREFIXES = [("visa", "4", 16), ("visa", "4", 13), ("visa", "4", 19),
                  ("mastercard", "51", 16), ("mastercard", "2221", 16),
                  ("mastercard", "2720", 16), ("amex", "34", 15), ("amex", "37", 15),
                  ("discover", "6011", 16), ("discover", "65", 16), ("discover", "644", 19),
                  ("jcb", "3528", 16), ("jcb", "3589", 19), ("diners", "36", 14),
                  ("diners", "300", 16), ("unionpay", "62", 16), ("unionpay", "62", 19)]


@st.composite
def card_numbers(draw: st.DrawFn) -> tuple[str, str]:
    brand, prefix, length = draw(st.sampled_from(BRAND_PREFIXES))
    body = prefix + draw(st.text("0123456789", min_size=length - len(prefix) - 1,
                                 max_size=length - len(prefix) - 1))
    return brand, body + luhn.calc_check_digit(body)


def card(number: str, cvc: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"number": number, "exp_month": 12, "exp_year": 2030, **extra,
            **({"cvc": cvc} if cvc else {})}


@given(card_numbers())
def test_generated_card_numbers_are_accepted_with_their_brand(generated: tuple[str, str]
                                                              ) -> None:
    brand, number = generated
    cvc = "1234" if brand == "amex" else "123"
    method = validate("card", card(number, cvc))
    assert method.details["brand"] == brand
    assert method.details["last4"] == number[-4:]
    assert method.details["networks"]["available"] == [brand]


@given(card_numbers(), st.integers(0, 18), shifts)
def test_every_single_digit_corruption_of_a_card_number_is_refused(
        generated: tuple[str, str], position: int, shift: int) -> None:
    _, number = generated
    error = refusal("card", card(corrupt(number, position, shift)))
    assert (error.param, error.code) == ("card[number]", "incorrect_number")


@pytest.mark.parametrize("number", ["4242", "4242abcd42424242", "42424242424242424242"])
def test_what_is_not_a_card_number_is_invalid_number(number: str) -> None:
    error = refusal("card", card(number))
    assert (error.param, error.code) == ("card[number]", "invalid_number")


def test_a_luhn_valid_number_of_the_wrong_length_for_its_brand_is_invalid() -> None:
    body = "37828224631000"  # amex has 15 digits; this one has 16 with its check digit
    error = refusal("card", card(body + "0" + luhn.calc_check_digit(body + "0"), "1234"))
    assert (error.param, error.code) == ("card[number]", "invalid_number")


@pytest.mark.parametrize(("number", "cvc", "ok"), [
    ("378282246310005", "1234", True), ("378282246310005", "123", False),
    ("4242424242424242", "123", True), ("4242424242424242", "1234", False),
    ("5555555555554444", "12", False), ("6011111111111117", "12a", False),
])
def test_cvc_length_follows_the_brand(number: str, cvc: str, ok: bool) -> None:
    if ok:
        assert validate("card", card(number, cvc)).details["checks"]["cvc_check"] == "pass"
    else:
        error = refusal("card", card(number, cvc))
        assert (error.param, error.code) == ("card[cvc]", "invalid_cvc")


@pytest.mark.parametrize(("month", "year", "param", "code"), [
    (13, 2030, "card[exp_month]", "invalid_expiry_month"),
    (12, 2025, "card[exp_year]", "invalid_expiry_year"),
    (12, 2099, "card[exp_year]", "invalid_expiry_year"),
    (None, 2030, "card[exp_month]", "parameter_missing"),
    (12, "", "card[exp_year]", "parameter_missing"),
])
def test_expiry_errors_name_the_field(month: object, year: object, param: str,
                                      code: str) -> None:
    error = refusal("card", {"number": "4242424242424242", "exp_month": month,
                             "exp_year": year})
    assert (error.param, error.code) == (param, code)


@pytest.mark.parametrize(("number", "brand"), [("4000002500001001", "visa"),
                                               ("5555552500001001", "mastercard")])
def test_cartes_bancaires_is_a_co_badged_network(number: str, brand: str) -> None:
    plain = validate("card", card(number)).details
    assert plain["brand"] == brand and plain["display_brand"] == brand
    assert plain["networks"] == {"available": sorted(["cartes_bancaires", brand]),
                                 "preferred": None}
    chosen = validate("card", card(number, networks={"preferred": "cartes_bancaires"}))
    assert chosen.details["display_brand"] == "cartes_bancaires"
    assert chosen.details["networks"]["preferred"] == "cartes_bancaires"
    assert chosen.details["brand"] == brand


def test_a_preferred_network_the_card_lacks_is_stored_as_invalid_preference() -> None:
    details = validate("card", card("4242424242424242",
                                    networks={"preferred": "cartes_bancaires"})).details
    assert details["networks"]["preferred"] == "invalid_preference"
    assert details["display_brand"] == "visa"
    assert refusal("card", card("4242424242424242", networks={"preferred": "amex"})
                   ).param == "card[networks][preferred]"


@pytest.mark.parametrize(("brand", "display"), [
    ("pm_card_amex", "american_express"), ("pm_card_diners", "diners_club"),
    ("pm_card_unionpay", "union_pay"), ("pm_card_jcb", "jcb")])
def test_display_brand_uses_stripes_display_names(brand: str, display: str) -> None:
    assert validate("card", {"token": brand}).details["display_brand"] == display


@pytest.mark.parametrize("token", [
    "pm_card_threeDSecure2Required", "pm_card_authenticationRequired",
    "pm_card_authenticationRequiredOnSetup", "pm_card_threeDSecureRequired"])
def test_3d_secure_test_cards_require_authentication(token: str) -> None:
    method = pmt.card_from_test_token(token, fingerprint_key=KEY, now=NOW)
    assert method.requires_authentication
    assert method.setup_covers_off_session is token.endswith("OnSetup")
    assert method.attach_decline_code is None and method.charge_decline_code is None


@pytest.mark.parametrize("number", ["4000002500003155", "4000002760003184", "4000000000003220"])
def test_3d_secure_test_numbers_require_authentication(number: str) -> None:
    assert validate("card", card(number)).requires_authentication
    assert not validate("card", card("4242424242424242")).requires_authentication


def test_a_card_that_attaches_but_fails_every_charge() -> None:
    method = validate("card", card("4000000000000341"))
    assert method.attach_decline_code is None
    assert method.charge_decline_code == "generic_decline"
    failing = pmt.card_from_test_token("pm_card_chargeCustomerFail", fingerprint_key=KEY,
                                       now=NOW)
    assert (failing.attach_decline_code, failing.charge_decline_code) == (None,
                                                                          "generic_decline")


def test_a_declined_card_is_declined_on_attach() -> None:
    method = validate("card", {"token": "tok_chargeDeclinedInsufficientFunds"})
    assert method.attach_decline_code == "insufficient_funds"


@pytest.mark.parametrize("token", list(processor.TEST_PAYMENT_METHODS))
def test_every_test_token_is_a_complete_card(token: str) -> None:
    method = pmt.card_from_test_token(token, fingerprint_key=KEY, now=NOW)
    assert set(method.details) == set(stripe_fields(pmt.SUB_OBJECTS["card"]))
    assert method.details["last4"] == processor.TEST_PAYMENT_METHODS[token][-4:]


def test_unknown_token_is_missing_on_its_parameter() -> None:
    error = refusal("card", {"token": "tok_nope"})
    assert (error.param, error.code) == ("card[token]", "resource_missing")
    with pytest.raises(InvalidRequest) as raised:
        pmt.card_from_test_token("pm_card_nope", fingerprint_key=KEY, now=NOW)
    assert raised.value.param == "payment_method"
    both = refusal("card", {"token": "tok_visa", "number": "4242424242424242"})
    assert both.code == "parameters_exclusive"


# --- IBANs: mod 97-10 by stdnum, SEPA zone, bank and branch codes --------------------------

# Valid IBANs of SEPA countries whose national check digits stdnum does not compute
# (so that changing the account digits and recomputing the IBAN check digits keeps
# them valid).
SEPA_TEMPLATES = [
    "AT611904300234573201", "DE89370400440532013000", "FR1420041010050500013M02606",
    "IE29AIBK93115212345678", "NL39RABO0300065264", "FI2112345600000785",
    "LT121000011101001000", "LU280019400644750000", "EE382200221020145685",
    "HR7624020064583467589", "IT60X0542811101000000123456", "PT50000201231234567890154",
    "GB33BUKB20201555555555", "CH9300762011623852957", "PL61109010140000071219812874",
    "SE4550000000058398257466", "DK5000400440116243", "CZ6508000000192000145399",
    "SK3112000000198742637541", "SI56263300012039086", "GR1601101250000000012300695",
    "CY17002001280000001200527600", "MT84MALT011000012345MTLCAST001S",
    "LV80BANK0000435195001", "BG80BNBG96611020345678", "RO49AAAA1B31007593840000",
    "HU42117730161111101800000000", "IS140159260076545510730339", "LI21088100002324013AA",
    "MC5811222000010123456789030", "SM86U0322509800000000270100",
]
NON_SEPA_TEMPLATES = ["BR1800360305000010009795493C1", "SA0380000000608010167519",
                      "TR330006100519786457841326", "AE070331234567890123456",
                      "KW81CBKU0000000000001234560101"]


def regenerate(template: str, digits: str) -> str:
    """``template`` with its last digits replaced, check digits recomputed by stdnum."""
    positions = [i for i, ch in enumerate(template) if ch.isdigit() and i >= 4]
    number = list(template)
    for position, digit in zip(positions[-len(digits):], digits, strict=False):
        number[position] = digit
    body = "".join(number)
    return body[:2] + stdnum_iban.calc_check_digits(body) + body[4:]


@st.composite
def ibans(draw: st.DrawFn, templates: list[str]) -> str:
    template = draw(st.sampled_from(templates))
    return regenerate(template, draw(st.text("0123456789", min_size=1, max_size=6)))


@given(ibans(SEPA_TEMPLATES))
def test_generated_sepa_ibans_are_accepted(number: str) -> None:
    assert stdnum_iban.is_valid(number)
    method = validate("sepa_debit", {"iban": stdnum_iban.format(number)})
    assert method.details["country"] == number[:2]
    assert method.details["last4"] == number[-4:]
    assert method.details["bank_code"] and method.details["bank_code"] in number[4:]


@given(ibans(SEPA_TEMPLATES + NON_SEPA_TEMPLATES), st.integers(0, 40), shifts)
def test_every_single_digit_corruption_of_an_iban_is_refused(number: str, position: int,
                                                             shift: int) -> None:
    error = refusal("sepa_debit", {"iban": corrupt(number, position, shift)})
    assert (error.param, error.code) == ("sepa_debit[iban]", "invalid_bank_account_iban")


@given(ibans(NON_SEPA_TEMPLATES))
def test_valid_ibans_outside_sepa_are_refused(number: str) -> None:
    error = refusal("sepa_debit", {"iban": number})
    assert (error.param, error.code) == ("sepa_debit[iban]", "invalid_bank_account_iban")
    assert "SEPA" in error.message


@pytest.mark.parametrize(("iban", "bank", "branch"), [
    ("DE89370400440532013000", "37040044", ""), ("FR1420041010050500013M02606", "20041", "01005"),
    ("ES9121000418450200051332", "2100", "0418"), ("GB33BUKB20201555555555", "BUKB", "202015"),
    ("IT60X0542811101000000123456", "05428", "11101")])
def test_bank_and_branch_codes(iban: str, bank: str, branch: str) -> None:
    details = validate("sepa_debit", {"iban": iban}).details
    assert (details["bank_code"], details["branch_code"]) == (bank, branch)
    assert details["generated_from"] == {"charge": None, "setup_attempt": None}


def test_national_check_digits_are_checked_where_stdnum_knows_them() -> None:
    # Spain's two national check digits are wrong here, the IBAN's own are recomputed.
    body = "ES0021000418460200051332"
    number = body[:2] + stdnum_iban.calc_check_digits(body) + body[4:]
    assert stdnum_iban.is_valid(number, check_country=False)
    assert refusal("sepa_debit", {"iban": number}).param == "sepa_debit[iban]"


@pytest.mark.parametrize(("iban", "failure"), list(pmt.SEPA_TEST_IBANS.items()))
def test_stripes_test_ibans_behave_as_documented(iban: str, failure: str | None) -> None:
    method = validate("sepa_debit", {"iban": iban})
    assert method.charge_decline_code == failure
    assert method.attach_decline_code is None


@pytest.mark.parametrize("iban", ["", "DE89", "XX89370400440532013000", "DE89-3704-0044-0532-0130-0"])
def test_malformed_ibans(iban: str) -> None:
    error = refusal("sepa_debit", {"iban": iban})
    assert error.param == "sepa_debit[iban]"
    assert error.code in ("invalid_bank_account_iban", "parameter_missing")


# --- ABA routing numbers (stdnum.us.rtn) and US accounts ----------------------------------

routing_bodies = st.text("0123456789", min_size=8, max_size=8)


@given(routing_bodies)
def test_generated_routing_numbers_are_accepted(body: str) -> None:
    routing = body + rtn.calc_check_digit(body)
    details = validate("us_bank_account", {"routing_number": routing,
                                           "account_number": "000123456789"}).details
    assert details["routing_number"] == routing
    assert details["bank_name"] == (pmt.TEST_BANK_NAME if routing == "110000000" else None)


@given(routing_bodies, st.integers(0, 8), shifts)
def test_every_single_digit_corruption_of_a_routing_number_is_refused(
        body: str, position: int, shift: int) -> None:
    routing = corrupt(body + rtn.calc_check_digit(body), position, shift)
    error = refusal("us_bank_account", {"routing_number": routing,
                                        "account_number": "000123456789"})
    assert (error.param, error.code) == ("us_bank_account[routing_number]",
                                         "routing_number_invalid")


@pytest.mark.parametrize(("account", "failure"), list(pmt.US_TEST_ACCOUNTS.items()))
def test_stripes_test_bank_accounts(account: str, failure: str | None) -> None:
    method = validate("us_bank_account", {"routing_number": "110000000",
                                          "account_number": account})
    assert method.charge_decline_code == failure
    other_bank = validate("us_bank_account", {"routing_number": "021000021",
                                              "account_number": account})
    assert other_bank.charge_decline_code is None


@pytest.mark.parametrize(("token", "account"), list(pmt.US_TEST_PAYMENT_METHODS.items()))
def test_stripes_test_bank_account_ids(token: str, account: str) -> None:
    assert pmt.is_test_payment_method(token)
    method = pmt.method_from_test_token(token, fingerprint_key=KEY, now=NOW)
    assert method.type == "us_bank_account" and method.details["last4"] == account[-4:]
    assert method.charge_decline_code == pmt.US_TEST_ACCOUNTS[account]


@pytest.mark.parametrize(("token", "iban"), list(pmt.SEPA_TEST_PAYMENT_METHODS.items()))
def test_stripes_sepa_test_ids(token: str, iban: str) -> None:
    assert pmt.is_test_payment_method(token)
    method = pmt.method_from_test_token(token, fingerprint_key=KEY, now=NOW)
    assert method.type == "sepa_debit" and method.details["last4"] == iban[-4:]
    assert method.charge_decline_code == pmt.SEPA_TEST_IBANS.get(iban)
    assert (method.charge_decline_code is None) is ("success" in token)


def test_test_ids_of_cards_through_the_same_door() -> None:
    assert pmt.method_from_test_token("tok_amex", fingerprint_key=KEY, now=NOW
                                      ).details["brand"] == "amex"
    assert not pmt.is_test_payment_method("pm_1QxAbc")
    with pytest.raises(InvalidRequest):
        pmt.method_from_test_token("pm_1QxAbc", fingerprint_key=KEY, now=NOW)


@pytest.mark.parametrize(("params", "param", "code"), [
    ({"account_number": "123"}, "us_bank_account[account_number]", "account_number_invalid"),
    ({"account_number": "1" * 18}, "us_bank_account[account_number]", "account_number_invalid"),
    ({"account_number": "12ab5678"}, "us_bank_account[account_number]", "account_number_invalid"),
    ({"account_type": "brokerage"}, "us_bank_account[account_type]", None),
    ({"account_holder_type": "robot"}, "us_bank_account[account_holder_type]", None),
    ({"account_number": "", "financial_connections_account": "fca_1"},
     "us_bank_account[financial_connections_account]", "resource_missing"),
])
def test_us_bank_account_errors(params: dict[str, str], param: str, code: str | None) -> None:
    error = refusal("us_bank_account", {**VALID["us_bank_account"], **params})
    assert (error.param, error.code) == (param, code)


def test_us_bank_account_defaults_to_checking_over_ach() -> None:
    details = validate("us_bank_account", VALID["us_bank_account"]).details
    assert details["account_type"] == "checking"
    assert details["networks"] == {"preferred": "ach", "supported": ["ach"]}


# --- BECS, Bacs, ACSS (format: no check digit exists), NZ (stdnum) -------------------------


@pytest.mark.parametrize(("type", "params", "param", "code"), [
    ("au_becs_debit", {"bsb_number": "00000"}, "au_becs_debit[bsb_number]",
     "routing_number_invalid"),
    ("au_becs_debit", {"bsb_number": "000 00a"}, "au_becs_debit[bsb_number]",
     "routing_number_invalid"),
    ("au_becs_debit", {"account_number": "1234"}, "au_becs_debit[account_number]",
     "account_number_invalid"),
    ("au_becs_debit", {"account_number": "1234567890"}, "au_becs_debit[account_number]",
     "account_number_invalid"),
    ("bacs_debit", {"sort_code": "10-88-0"}, "bacs_debit[sort_code]", "routing_number_invalid"),
    ("bacs_debit", {"account_number": "1234567"}, "bacs_debit[account_number]",
     "account_number_invalid"),
    ("acss_debit", {"institution_number": "00"}, "acss_debit[institution_number]",
     "routing_number_invalid"),
    ("acss_debit", {"transit_number": "1100"}, "acss_debit[transit_number]",
     "routing_number_invalid"),
    ("acss_debit", {"account_number": "123456"}, "acss_debit[account_number]",
     "account_number_invalid"),
    ("nz_bank_account", {"account_number": "0100195"}, "nz_bank_account[account_number]",
     "account_number_invalid"),
    ("nz_bank_account", {"branch_code": "9999"}, "nz_bank_account[branch_code]",
     "routing_number_invalid"),
    ("nz_bank_account", {"bank_code": "1"}, "nz_bank_account[bank_code]",
     "routing_number_invalid"),
    ("nz_bank_account", {"bank_code": "99"}, "nz_bank_account[bank_code]",
     "routing_number_invalid"),
    ("nz_bank_account", {"suffix": "1"}, "nz_bank_account[suffix]", "routing_number_invalid"),
])
def test_bank_debit_errors_name_the_field(type: str, params: dict[str, str], param: str,
                                          code: str) -> None:
    error = refusal(type, {**VALID[type], **params})
    assert (error.param, error.code) == (param, code)


@pytest.mark.parametrize(("account", "failure"), list(pmt.AU_TEST_ACCOUNTS.items()))
def test_stripes_becs_test_accounts(account: str, failure: str | None) -> None:
    method = validate("au_becs_debit", {"bsb_number": "000000", "account_number": account})
    assert method.charge_decline_code == failure
    assert method.details["bsb_number"] == "000000"


@pytest.mark.parametrize(("account", "failure"), list(pmt.GB_TEST_ACCOUNTS.items()))
def test_stripes_bacs_test_accounts(account: str, failure: str | None) -> None:
    method = validate("bacs_debit", {"sort_code": "108800", "account_number": account})
    assert method.charge_decline_code == failure
    assert method.details["sort_code"] == "10-88-00"


@pytest.mark.parametrize(("account", "failure"), list(pmt.CA_TEST_ACCOUNTS.items()))
def test_stripes_acss_test_accounts(account: str, failure: str | None) -> None:
    method = validate("acss_debit", {"institution_number": "000", "transit_number": "11000",
                                     "account_number": account})
    assert method.charge_decline_code == failure
    assert method.details["bank_name"] == pmt.TEST_BANK_NAME


def test_nz_bank_account_names_its_bank() -> None:
    details = validate("nz_bank_account", VALID["nz_bank_account"]).details
    assert details["bank_name"] == "ANZ Bank New Zealand"
    assert (details["bank_code"], details["branch_code"], details["suffix"],
            details["last4"], details["account_holder_name"]) == (
        "01", "0242", "00", "0194", "Jenny Rosen")


# --- redirect types ------------------------------------------------------------------------


@pytest.mark.parametrize("type", sorted(pmt.REDIRECT_TYPES))
def test_redirect_types_carry_no_wallet_details_before_authorization(type: str) -> None:
    details = validate(type, None).details
    assert all(value is None for key, value in details.items() if key != "funding")


def test_naver_pay_funding() -> None:
    assert validate("naver_pay", {}).details["funding"] == "card"
    assert validate("naver_pay", {"funding": "points"}).details["funding"] == "points"
    assert refusal("naver_pay", {"funding": "cash"}).param == "naver_pay[funding]"


# --- formatting as you type ----------------------------------------------------------------


@pytest.mark.parametrize(("type", "field", "raw", "shown"), [
    ("card", "number", "4242424242424242", "4242 4242 4242 4242"),
    ("card", "number", "42424", "4242 4"),
    ("card", "number", "4242-4242-4242-4242-999", "4242 4242 4242 4242 999"),
    ("card", "number", "378282246310005999", "3782 822463 10005"),
    ("card", "number", "37828", "3782 8"),
    ("card", "number", "36227206271667", "3622 720627 1667"),
    ("card", "number", "", ""),
    ("card", "expiry", "12/2", "12 / 2"),
    ("card", "expiry", "1", "1"),
    ("card", "cvc", "12345", "1234"),
    ("sepa_debit", "iban", "de89370400440532013000", "DE89 3704 0044 0532 0130 00"),
    ("sepa_debit", "iban", "DE89 3704-00", "DE89 3704 00"),
    ("bacs_debit", "sort_code", "1088001", "10-88-00"),
    ("bacs_debit", "sort_code", "108", "10-8"),
    ("au_becs_debit", "bsb_number", "062000", "062-000"),
    ("au_becs_debit", "bsb_number", "06", "06"),
    ("us_bank_account", "routing_number", "11000-00001", "110000000"),
    ("nz_bank_account", "suffix", "0001", "000"),
    ("link", "email", " a@b.c ", "a@b.c"),
])
def test_format_for_display(type: str, field: str, raw: str, shown: str) -> None:
    assert pmt.format_for_display(type, field, raw) == shown


@given(st.sampled_from([("card", "number"), ("sepa_debit", "iban"), ("bacs_debit", "sort_code"),
                        ("au_becs_debit", "bsb_number"), ("card", "expiry")]),
       st.text(max_size=40))
def test_formatting_is_idempotent_and_keeps_what_was_typed(field: tuple[str, str],
                                                           raw: str) -> None:
    once = pmt.format_for_display(*field, raw)
    assert pmt.format_for_display(*field, once) == once
    kept = "".join(ch for ch in once if ch.isalnum())
    typed = "".join(ch for ch in raw if ch.isascii()
                    and (ch.isalnum() if field[1] == "iban" else ch.isdigit()))
    assert typed.upper().startswith(kept.upper())
