"""Payment method types: what each accepts, how it is checked, and how Stripe shows it.

Every type Portico accepts is here with the nested parameters Stripe's API takes for
it (``sepa_debit[iban]``, ``us_bank_account[routing_number]``...), its validation and
the public sub-object of the ``payment_method`` it becomes (``card``, ``sepa_debit``...,
complete in the pinned API version). Check digits are checked by python-stdnum: card
numbers by Luhn (through :mod:`portal_app.billing.processor`), IBANs by ISO 7064
mod 97-10 plus the national check digits stdnum knows (BE, ES, NO, ME), ABA routing
numbers by their 3-7-1 weights, New Zealand accounts by the bank's own algorithm.
Where a number has no check digit (an Australian BSB, a UK sort code, a Canadian
transit and institution number) its format is checked exactly instead.

Nothing here stores anything: :func:`validate_payment_method` turns the parameters
into a :class:`MethodDetails` that keeps last4, a keyed fingerprint and what Stripe's
test mode says the method will do (decline on attach, fail every charge, require
3-D Secure). Redirect (wallet) types carry no details until the customer authorizes
them on the test authorization page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import iban as stdnum_iban
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.nz import bankaccount as nz_bankaccount
from stdnum.us import rtn

from portal_app.billing import processor
from portal_app.errors import CardError, InvalidRequest
from portal_app.stripe_shapes import complete

PAYMENT_METHOD_TYPES: tuple[str, ...] = (
    "card", "us_bank_account", "sepa_debit", "au_becs_debit", "bacs_debit", "acss_debit",
    "nz_bank_account", "link", "paypal", "cashapp", "amazon_pay", "revolut_pay", "kakao_pay",
    "naver_pay", "samsung_pay", "kr_card",
)
# Wallets and redirect types: the customer authorizes them on a (test) page of the
# provider before they can be charged.
REDIRECT_TYPES: frozenset[str] = frozenset({
    "link", "paypal", "cashapp", "amazon_pay", "revolut_pay", "kakao_pay", "naver_pay",
    "samsung_pay", "kr_card",
})
# Bank debits: the customer accepts a mandate before the account may be debited.
MANDATE_TYPES: frozenset[str] = frozenset({
    "sepa_debit", "au_becs_debit", "bacs_debit", "acss_debit", "us_bank_account",
    "nz_bank_account",
})
# The nested keys Stripe's ``payment_methods.create`` accepts per type (the SDK's
# ``PaymentMethodCreateParams<Type>``).
TYPE_PARAMS: dict[str, tuple[str, ...]] = {
    "card": ("number", "exp_month", "exp_year", "cvc", "token", "networks"),
    "us_bank_account": ("account_holder_type", "account_number", "account_type",
                        "routing_number", "financial_connections_account"),
    "sepa_debit": ("iban",),
    "au_becs_debit": ("bsb_number", "account_number"),
    "bacs_debit": ("sort_code", "account_number"),
    "acss_debit": ("institution_number", "transit_number", "account_number"),
    "nz_bank_account": ("account_holder_name", "bank_code", "branch_code", "account_number",
                        "suffix", "reference"),
    "naver_pay": ("funding",),
    **{kind: () for kind in ("link", "paypal", "cashapp", "amazon_pay", "revolut_pay",
                             "kakao_pay", "samsung_pay", "kr_card")},
}
# The keys a form for the type must fill (a card may come as ``token`` instead).
REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {
    "card": ("number", "exp_month", "exp_year"),
    "us_bank_account": ("routing_number", "account_number"),
    "sepa_debit": ("iban",),
    "au_becs_debit": ("bsb_number", "account_number"),
    "bacs_debit": ("sort_code", "account_number"),
    "acss_debit": ("institution_number", "transit_number", "account_number"),
    "nz_bank_account": ("bank_code", "branch_code", "account_number", "suffix"),
}
# The SDK class of each type's sub-object: its fields are the ones the object carries.
SUB_OBJECTS: dict[str, type] = {
    "card": stripe.PaymentMethod.Card,
    "us_bank_account": stripe.PaymentMethod.UsBankAccount,
    "sepa_debit": stripe.PaymentMethod.SepaDebit,
    "au_becs_debit": stripe.PaymentMethod.AuBecsDebit,
    "bacs_debit": stripe.PaymentMethod.BacsDebit,
    "acss_debit": stripe.PaymentMethod.AcssDebit,
    "nz_bank_account": stripe.PaymentMethod.NzBankAccount,
    "link": stripe.PaymentMethod.Link,
    "paypal": stripe.PaymentMethod.Paypal,
    "cashapp": stripe.PaymentMethod.Cashapp,
    "amazon_pay": stripe.PaymentMethod.AmazonPay,
    "revolut_pay": stripe.PaymentMethod.RevolutPay,
    "kakao_pay": stripe.PaymentMethod.KakaoPay,
    "naver_pay": stripe.PaymentMethod.NaverPay,
    "samsung_pay": stripe.PaymentMethod.SamsungPay,
    "kr_card": stripe.PaymentMethod.KrCard,
}
# ``card.display_brand`` spells some brands differently from ``card.brand``.
DISPLAY_BRANDS = {"amex": "american_express", "diners": "diners_club", "unionpay": "union_pay",
                  "eftpos_au": "eftpos_australia", "unknown": "other"}
PREFERRED_NETWORKS = ("cartes_bancaires", "mastercard", "visa")
TEST_BANK_NAME = "STRIPE TEST BANK"

# --- Stripe's documented test accounts (docs.stripe.com/testing), by what charges do ----
# ACH: routing number 110000000 (Stripe's test bank) with these account numbers.
US_TEST_ROUTING_NUMBER = "110000000"
US_TEST_ACCOUNTS: dict[str, str | None] = {
    "000123456789": None, "000111111113": "account_closed", "000111111116": "no_account",
    "000222222227": "insufficient_funds", "000333333335": "debit_not_authorized",
}
# Stripe's test PaymentMethod ids for ACH accounts -> the test account number.
US_TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_usBankAccount_success": "000123456789",
    "pm_usBankAccount_accountClosed": "000111111113",
    "pm_usBankAccount_noAccount": "000111111116",
    "pm_usBankAccount_insufficientFunds": "000222222227",
    "pm_usBankAccount_debitNotAuthorized": "000333333335",
}
# SEPA: each country's failing test IBANs (the succeeding ones need no entry).
SEPA_TEST_IBANS: dict[str, str | None] = {
    "AT611904300234573201": None, "AT321904300235473204": None,
    "AT861904300235473202": "generic_decline", "AT051904300235473205": "generic_decline",
    "AT981904300000343434": "charge_exceeds_source_limit",
    "AT601904300000121212": "charge_exceeds_weekly_limit",
    "AT981904300002222227": "insufficient_funds",
    "BE62510007547061": None, "BE68539007547034": "generic_decline",
    "BE51510007547065": "generic_decline", "BE90510002222227": "insufficient_funds",
    "DE89370400440532013000": None, "DE08370400440532013003": None,
    "DE62370400440532013001": "generic_decline", "DE78370400440532013004": "generic_decline",
    "DE65370400440000343434": "charge_exceeds_source_limit",
    "DE27370400440000121212": "charge_exceeds_weekly_limit",
    "DE65370400440002222227": "insufficient_funds",
    "FR1420041010050500013M02606": None,
    "FR8420041010050500013M02607": "generic_decline",
    "FR7920041010050500013M02600": "generic_decline",
    "FR9720041010050000002222227": "insufficient_funds",
    "IE29AIBK93115212345678": None, "IE02AIBK93115212345679": "generic_decline",
    "IE10AIBK93115202222227": "insufficient_funds",
    "NL39RABO0300065264": None, "NL91ABNA0417164300": "generic_decline",
    "NL28RABO0300065268": "generic_decline",
    "FI2112345600000785": None, "FI9112345600000786": "generic_decline",
    "FI6712345602222227": "insufficient_funds",
}
# Stripe's SEPA test PaymentMethod ids (its SEPA testing tables) -> the test IBAN.
SEPA_TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_success_at": "AT611904300234573201", "pm_successDelayed_at": "AT321904300235473204",
    "pm_failed_at": "AT861904300235473202", "pm_failedDelayed_at": "AT051904300235473205",
    "pm_exceedsWeeklyVolumeLimit_at": "AT981904300000343434",
    "pm_exceedsWeeklyTransactionLimit_at": "AT601904300000121212",
    "pm_insufficientFunds_at": "AT981904300002222227",
    "pm_success_de": "DE89370400440532013000", "pm_successDelayed_de": "DE08370400440532013003",
    "pm_failed_de": "DE62370400440532013001", "pm_failedDelayed_de": "DE78370400440532013004",
    "pm_exceedsWeeklyVolumeLimit_de": "DE65370400440000343434",
    "pm_exceedsWeeklyTransactionLimit_de": "DE27370400440000121212",
    "pm_insufficientFunds_de": "DE65370400440002222227",
}
# BECS: BSB 000000 (Stripe's test bank) with these account numbers.
AU_TEST_BSB = "000000"
AU_TEST_ACCOUNTS: dict[str, str | None] = {
    "000123456": None, "900123456": None, "111111113": "account_closed",
    "111111116": "no_account", "222222227": "refer_to_customer",
    "922222227": "refer_to_customer", "343434343": "charge_exceeds_source_limit",
    "121212121": "charge_exceeds_weekly_limit",
}
# Bacs: sort code 10-88-00 (Stripe's test bank) with these account numbers.
GB_TEST_SORT_CODE = "108800"
GB_TEST_ACCOUNTS: dict[str, str | None] = {
    "00012345": None, "90012345": None, "22222227": "insufficient_funds",
    "92222227": "insufficient_funds", "33333335": "debit_not_authorized",
    "93333335": "debit_not_authorized",
}
# ACSS: institution 000, transit 11000 (Stripe's test bank) with these account numbers.
CA_TEST_BANK = ("000", "11000")
CA_TEST_ACCOUNTS: dict[str, str | None] = {
    "000123456789": None, "900123456789": None, "000222222227": "insufficient_funds",
    "900222222227": "insufficient_funds",
}


@dataclass(frozen=True)
class MethodDetails:
    """A validated payment method of one type: what may be kept and how it will behave."""

    type: str
    details: dict[str, Any]  # the complete public sub-object (``card``, ``sepa_debit``...)
    fingerprint: str | None  # keyed per account (processor.fingerprint)
    attach_decline_code: str | None = None  # refused when attached
    charge_decline_code: str | None = None  # attaches, then every charge fails
    requires_authentication: bool = False  # each charge goes through the test 3-D Secure page
    # ...but off-session charges don't once a SetupIntent authenticated the card.
    setup_covers_off_session: bool = False


Validator = Callable[[Mapping[str, Any], str, datetime], MethodDetails]


def validate_payment_method(type: str, params: Mapping[str, Any] | None, *,
                            fingerprint_key: str, now: datetime) -> MethodDetails:
    """Validate one type's parameters (the nested dict under the type's key).

    A wrong check digit, a malformed or missing number is an InvalidRequest (400) naming
    the exact parameter (``sepa_debit[iban]``, ``card[number]``...) with Stripe's code
    (``invalid_bank_account_iban``, ``routing_number_invalid``, ``account_number_invalid``,
    ``incorrect_number``, ``invalid_number``, ``invalid_expiry_month``,
    ``invalid_expiry_year``, ``invalid_cvc``, ``parameter_missing``, ``parameter_unknown``).

    Raises InvalidRequest.
    """
    if type not in PAYMENT_METHOD_TYPES:
        raise InvalidRequest(f"Invalid type: must be one of {', '.join(PAYMENT_METHOD_TYPES)}.",
                             param="type")
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise InvalidRequest(f"Invalid {type}: must be an object.", param=type)
    for key in params:
        if key not in TYPE_PARAMS[type]:
            raise InvalidRequest(f"Received unknown parameter: {type}[{key}]",
                                 param=f"{type}[{key}]", code="parameter_unknown")
    validator = _VALIDATORS.get(type)
    if validator is None:
        return _redirect_of(type, params)
    return validator(params, fingerprint_key, now)


def card_from_test_token(token: str, *, fingerprint_key: str, now: datetime) -> MethodDetails:
    """The card behind one of Stripe's test ids (``pm_card_visa``, ``tok_visa``...).

    Raises InvalidRequest (``resource_missing`` on ``payment_method``).
    """
    card = processor.tokenize_test_payment_method(token, fingerprint_key=fingerprint_key,
                                                  now=now)
    return _card_method(card, preferred=None, cvc_checked=False)


def is_test_payment_method(token: str) -> bool:
    """Whether ``token`` is one of Stripe's test PaymentMethod ids (or a ``tok_*`` card).

    >>> is_test_payment_method("pm_card_visa"), is_test_payment_method("pm_usBankAccount_success")
    (True, True)
    >>> is_test_payment_method("pm_1Qx")
    False
    """
    return (token in US_TEST_PAYMENT_METHODS or token in SEPA_TEST_PAYMENT_METHODS
            or processor.number_of_test_token(token) is not None)


def method_from_test_token(token: str, *, fingerprint_key: str, now: datetime
                           ) -> MethodDetails:
    """The method behind any of Stripe's test ids: cards, ACH and SEPA accounts.

    Raises InvalidRequest (``resource_missing`` on ``payment_method``).
    """
    if token in SEPA_TEST_PAYMENT_METHODS:
        return validate_payment_method("sepa_debit", {"iban": SEPA_TEST_PAYMENT_METHODS[token]},
                                       fingerprint_key=fingerprint_key, now=now)
    account = US_TEST_PAYMENT_METHODS.get(token)
    if account is None:
        return card_from_test_token(token, fingerprint_key=fingerprint_key, now=now)
    return validate_payment_method(
        "us_bank_account", {"routing_number": US_TEST_ROUTING_NUMBER, "account_number": account,
                            "account_holder_type": "individual"},
        fingerprint_key=fingerprint_key, now=now)


def format_for_display(type: str, field: str, raw: str) -> str:
    """``raw`` as the customer types it, grouped the way the number is printed.

    Pure and forgiving: it never raises, drops what cannot belong to the field, and
    formats a partial entry as far as it goes (for formatting as you type).

    >>> format_for_display("card", "number", "4242424242424242")
    '4242 4242 4242 4242'
    >>> format_for_display("card", "number", "3782 822463 10005")
    '3782 822463 10005'
    >>> format_for_display("card", "expiry", "1228")
    '12 / 28'
    >>> format_for_display("sepa_debit", "iban", "de89370400440532013000")
    'DE89 3704 0044 0532 0130 00'
    >>> format_for_display("bacs_debit", "sort_code", "108800")
    '10-88-00'
    >>> format_for_display("au_becs_debit", "bsb_number", "0000")
    '000-0'
    """
    if type == "sepa_debit" and field == "iban":
        return stdnum_iban.format("".join(ch for ch in raw if ch.isascii() and ch.isalnum())[:34])
    digits = "".join(ch for ch in raw if processor.is_digits(ch))
    if type == "card":
        if field == "number":
            return _group_card_number(digits)
        if field == "expiry":
            digits = digits[:4]
            return digits if len(digits) <= 2 else f"{digits[:2]} / {digits[2:]}"
        if field == "cvc":
            return digits[:4]
        if field in ("exp_month", "exp_year"):
            return digits[:2] if field == "exp_month" else digits[:4]
    groups = _DIGIT_GROUPS.get((type, field))
    if groups is None:
        return raw.strip()
    sizes, separator = groups
    return _group(digits[:sum(sizes)], sizes, separator)


# --- cards -------------------------------------------------------------------------------


def _card(params: Mapping[str, Any], fingerprint_key: str, now: datetime) -> MethodDetails:
    preferred = _preferred_network(params.get("networks"))
    token = params.get("token")
    if token:
        if params.get("number"):
            raise InvalidRequest("You cannot provide both card[token] and card[number].",
                                 param="card[token]", code="parameters_exclusive")
        try:
            card = processor.tokenize_test_payment_method(
                str(token), fingerprint_key=fingerprint_key, now=now)
        except InvalidRequest as missing:
            raise InvalidRequest(f"No such token: '{token}'", param="card[token]",
                                 code="resource_missing") from missing
        return _card_method(card, preferred=preferred, cvc_checked=False)
    for name in REQUIRED_PARAMS["card"]:
        if params.get(name) in (None, ""):
            raise _missing("card", name)
    cvc = params.get("cvc")
    try:
        card = processor.tokenize_card(
            number=str(params["number"]), exp_month=params.get("exp_month"),
            exp_year=params.get("exp_year"), cvc=None if cvc in (None, "") else str(cvc),
            fingerprint_key=fingerprint_key, now=now, strict_cvc=True)
    except CardError as refused:
        # A malformed card is a malformed request (400), named by its nested parameter.
        raise InvalidRequest(refused.message, param=f"card[{refused.param}]",
                             code=refused.code) from refused
    return _card_method(card, preferred=preferred, cvc_checked=cvc not in (None, ""))


def _preferred_network(networks: object) -> str | None:
    if networks in (None, ""):
        return None
    if not isinstance(networks, Mapping) or set(networks) - {"preferred"}:
        raise InvalidRequest("Invalid card[networks]: only `preferred` may be given.",
                             param="card[networks]", code="parameter_unknown")
    preferred = networks.get("preferred")
    if preferred in (None, ""):
        return None
    if preferred not in PREFERRED_NETWORKS:
        raise InvalidRequest("Invalid card[networks][preferred]: must be one of "
                             f"{', '.join(PREFERRED_NETWORKS)}.",
                             param="card[networks][preferred]")
    return str(preferred)


def _card_method(card: processor.CardDetails, *, preferred: str | None,
                 cvc_checked: bool) -> MethodDetails:
    if preferred is not None and preferred not in card.networks:
        preferred = "invalid_preference"  # what Stripe stores for a network the card lacks
    display = preferred if preferred in card.networks else DISPLAY_BRANDS.get(card.brand,
                                                                              card.brand)
    card_class = stripe.PaymentMethod.Card
    details = complete(card_class, {
        "brand": card.brand,
        "checks": complete(card_class.Checks, {"cvc_check": "pass" if cvc_checked else None}),
        "country": card.country,
        "display_brand": display,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "fingerprint": card.fingerprint,
        "funding": card.funding,
        "last4": card.last4,
        "networks": complete(card_class.Networks, {"available": list(card.networks),
                                                   "preferred": preferred}),
        "regulated_status": "unregulated",
        "three_d_secure_usage": complete(card_class.ThreeDSecureUsage, {"supported": True}),
    })
    return MethodDetails(type="card", details=details, fingerprint=card.fingerprint,
                         attach_decline_code=card.attach_decline_code,
                         charge_decline_code=card.charge_decline_code,
                         requires_authentication=card.requires_authentication,
                         setup_covers_off_session=card.setup_covers_off_session)


def _group_card_number(digits: str) -> str:
    brand = processor.card_brand(digits.ljust(6, "0")) if digits else "unknown"
    if brand == "amex":
        return _group(digits[:15], (4, 6, 5), " ")
    if brand == "diners" and len(digits) <= 14:
        return _group(digits, (4, 6, 4), " ")
    return _group(digits[:19], (4, 4, 4, 4, 3), " ")


# --- bank debits ---------------------------------------------------------------------------


def _us_bank_account(params: Mapping[str, Any], fingerprint_key: str, now: datetime
                     ) -> MethodDetails:
    holder_type = _choice(params, "us_bank_account", "account_holder_type",
                          ("individual", "company"), default=None)
    account_type = _choice(params, "us_bank_account", "account_type", ("checking", "savings"),
                           default="checking")
    if params.get("financial_connections_account") and not params.get("account_number"):
        # Portico has no Financial Connections: an account id from it cannot exist here.
        raise InvalidRequest("No such financial connections account: "
                             f"'{params['financial_connections_account']}'",
                             param="us_bank_account[financial_connections_account]",
                             code="resource_missing")
    routing = _digits_of(params, "us_bank_account", "routing_number")
    try:
        rtn.validate(routing)
    except ValidationError:
        raise InvalidRequest("The routing number you provided is invalid.",
                             param="us_bank_account[routing_number]",
                             code="routing_number_invalid") from None
    account = _account_number(params, "us_bank_account", 4, 17)
    test_bank = routing == US_TEST_ROUTING_NUMBER
    fingerprint = processor.fingerprint(fingerprint_key, f"us_bank_account:{routing}:{account}")
    usba = stripe.PaymentMethod.UsBankAccount
    details = complete(usba, {
        "account_holder_type": holder_type,
        "account_type": account_type,
        "bank_name": TEST_BANK_NAME if test_bank else None,
        "fingerprint": fingerprint,
        "last4": account[-4:],
        "networks": complete(usba.Networks, {"preferred": "ach", "supported": ["ach"]}),
        "routing_number": routing,
    })
    failure = US_TEST_ACCOUNTS.get(account) if test_bank else None
    return MethodDetails(type="us_bank_account", details=details, fingerprint=fingerprint,
                         charge_decline_code=failure)


def _sepa_debit(params: Mapping[str, Any], fingerprint_key: str, now: datetime
                ) -> MethodDetails:
    raw = params.get("iban")
    if raw in (None, ""):
        raise _missing("sepa_debit", "iban")
    number = stdnum_iban.compact(str(raw))
    try:
        stdnum_iban.validate(number, check_country=False)
        if number not in SEPA_TEST_IBANS:  # a few of Stripe's fail the national check
            stdnum_iban.validate(number, check_country=True)
    except ValidationError as error:
        raise InvalidRequest(_IBAN_PROBLEMS.get(type(error), _IBAN_PROBLEMS[InvalidFormat]),
                             param="sepa_debit[iban]", code="invalid_bank_account_iban") from None
    bank_code, branch_code, sepa = _iban_parts(number)
    if not sepa:
        raise InvalidRequest("The IBAN you provided is not in a country that accepts SEPA "
                             "Direct Debit.", param="sepa_debit[iban]",
                             code="invalid_bank_account_iban")
    fingerprint = processor.fingerprint(fingerprint_key, f"sepa_debit:{number}")
    sepa_class = stripe.PaymentMethod.SepaDebit
    details = complete(sepa_class, {
        "bank_code": bank_code,
        "branch_code": branch_code,
        "country": number[:2],
        "fingerprint": fingerprint,
        "generated_from": complete(sepa_class.GeneratedFrom, {}),
        "last4": number[-4:],
    })
    return MethodDetails(type="sepa_debit", details=details, fingerprint=fingerprint,
                         charge_decline_code=SEPA_TEST_IBANS.get(number))


_IBAN_PROBLEMS: dict[type[ValidationError], str] = {
    InvalidChecksum: "The IBAN you provided is incorrect: its check digits do not match.",
    InvalidLength: "The IBAN you provided has the wrong length for its country.",
    InvalidFormat: "The IBAN you provided is invalid.",
    InvalidComponent: "The IBAN you provided does not start with a known country code.",
}


def _iban_parts(number: str) -> tuple[str, str, bool]:
    """Bank code, branch code and whether the country is in SEPA (schwifty's registry)."""
    try:
        parsed = IBAN(number, allow_invalid=True)
        return parsed.bank_code, parsed.branch_code, parsed.in_sepa_zone
    except SchwiftyException:
        return "", "", False


def _au_becs_debit(params: Mapping[str, Any], fingerprint_key: str, now: datetime
                   ) -> MethodDetails:
    # A BSB has no check digit (stdnum has no module for it): six digits, the first two
    # naming the bank, the third the state, the last three the branch.
    bsb = _digits_of(params, "au_becs_debit", "bsb_number")
    if len(bsb) != 6:
        raise InvalidRequest("The BSB number you provided is invalid: it has six digits.",
                             param="au_becs_debit[bsb_number]", code="routing_number_invalid")
    account = _account_number(params, "au_becs_debit", 5, 9)
    fingerprint = processor.fingerprint(fingerprint_key, f"au_becs_debit:{bsb}:{account}")
    details = complete(stripe.PaymentMethod.AuBecsDebit, {
        "bsb_number": bsb, "fingerprint": fingerprint, "last4": account[-4:]})
    failure = AU_TEST_ACCOUNTS.get(account) if bsb == AU_TEST_BSB else None
    return MethodDetails(type="au_becs_debit", details=details, fingerprint=fingerprint,
                         charge_decline_code=failure)


def _bacs_debit(params: Mapping[str, Any], fingerprint_key: str, now: datetime
                ) -> MethodDetails:
    # UK sort codes and account numbers: stdnum has no module for them (the banks'
    # modulus-checking tables are not a public standard), so the format is checked.
    sort_code = _digits_of(params, "bacs_debit", "sort_code")
    if len(sort_code) != 6:
        raise InvalidRequest("The sort code you provided is invalid: it has six digits.",
                             param="bacs_debit[sort_code]", code="routing_number_invalid")
    account = _account_number(params, "bacs_debit", 8, 8)
    fingerprint = processor.fingerprint(fingerprint_key, f"bacs_debit:{sort_code}:{account}")
    details = complete(stripe.PaymentMethod.BacsDebit, {
        "fingerprint": fingerprint, "last4": account[-4:],
        "sort_code": _group(sort_code, (2, 2, 2), "-")})
    failure = GB_TEST_ACCOUNTS.get(account) if sort_code == GB_TEST_SORT_CODE else None
    return MethodDetails(type="bacs_debit", details=details, fingerprint=fingerprint,
                         charge_decline_code=failure)


def _acss_debit(params: Mapping[str, Any], fingerprint_key: str, now: datetime
                ) -> MethodDetails:
    # Canadian institution (3 digits) and transit (5 digits) numbers carry no check digit
    # and stdnum has no module for them: the format is checked.
    institution = _digits_of(params, "acss_debit", "institution_number")
    if len(institution) != 3:
        raise InvalidRequest("The institution number you provided is invalid: it has three "
                             "digits.", param="acss_debit[institution_number]",
                             code="routing_number_invalid")
    transit = _digits_of(params, "acss_debit", "transit_number")
    if len(transit) != 5:
        raise InvalidRequest("The transit number you provided is invalid: it has five digits.",
                             param="acss_debit[transit_number]", code="routing_number_invalid")
    account = _account_number(params, "acss_debit", 7, 12)
    test_bank = (institution, transit) == CA_TEST_BANK
    fingerprint = processor.fingerprint(
        fingerprint_key, f"acss_debit:{institution}:{transit}:{account}")
    details = complete(stripe.PaymentMethod.AcssDebit, {
        "bank_name": TEST_BANK_NAME if test_bank else None, "fingerprint": fingerprint,
        "institution_number": institution, "last4": account[-4:], "transit_number": transit})
    failure = CA_TEST_ACCOUNTS.get(account) if test_bank else None
    return MethodDetails(type="acss_debit", details=details, fingerprint=fingerprint,
                         charge_decline_code=failure)


def _nz_bank_account(params: Mapping[str, Any], fingerprint_key: str, now: datetime
                     ) -> MethodDetails:
    bank = _digits_of(params, "nz_bank_account", "bank_code")
    branch = _digits_of(params, "nz_bank_account", "branch_code")
    account = _digits_of(params, "nz_bank_account", "account_number")
    suffix = _digits_of(params, "nz_bank_account", "suffix")
    for name, value, sizes in (("bank_code", bank, (2,)), ("branch_code", branch, (4,)),
                               ("account_number", account, (7, 8)), ("suffix", suffix, (2, 3))):
        if len(value) not in sizes:
            raise InvalidRequest(f"The {name.replace('_', ' ')} you provided is invalid.",
                                 param=f"nz_bank_account[{name}]",
                                 code="account_number_invalid" if name == "account_number"
                                 else "routing_number_invalid")
    number = f"{bank}{branch}{account[-7:].zfill(7)}{suffix.zfill(3)}"
    # The bank and branch are looked up first (stdnum's register of New Zealand
    # branches): the check digits weigh the branch too, so a wrong branch would
    # otherwise be reported as a wrong account number.
    known = nz_bankaccount.info(number)
    for name, part in (("bank_code", "bank"), ("branch_code", "branch")):
        if part not in known:
            raise InvalidRequest(f"The {name.replace('_', ' ')} you provided names no New "
                                 f"Zealand {part}.", param=f"nz_bank_account[{name}]",
                                 code="routing_number_invalid")
    try:
        nz_bankaccount.validate(number)
    except ValidationError:
        raise InvalidRequest("The account number you provided is incorrect: its check digits "
                             "do not match.", param="nz_bank_account[account_number]",
                             code="account_number_invalid") from None
    fingerprint = processor.fingerprint(fingerprint_key, f"nz_bank_account:{number}")
    holder = params.get("account_holder_name")
    details = complete(stripe.PaymentMethod.NzBankAccount, {
        "account_holder_name": str(holder) if holder else None,
        "bank_code": bank, "bank_name": known["bank"],
        "branch_code": branch, "last4": account[-4:], "suffix": suffix})
    return MethodDetails(type="nz_bank_account", details=details, fingerprint=fingerprint)


# --- wallets and redirect types ------------------------------------------------------------


def _redirect_of(type: str, params: Mapping[str, Any]) -> MethodDetails:
    # What Stripe shows before the customer authorizes: the wallet fills the rest.
    values: dict[str, Any] = {}
    if type == "naver_pay":
        values["funding"] = _choice(params, "naver_pay", "funding", ("card", "points"),
                                    default="card")
    return MethodDetails(type=type, details=complete(SUB_OBJECTS[type], values),
                         fingerprint=None)


_VALIDATORS: dict[str, Validator] = {
    "card": _card,
    "us_bank_account": _us_bank_account,
    "sepa_debit": _sepa_debit,
    "au_becs_debit": _au_becs_debit,
    "bacs_debit": _bacs_debit,
    "acss_debit": _acss_debit,
    "nz_bank_account": _nz_bank_account,
}


# --- reading parameters ------------------------------------------------------------------


def _missing(type: str, name: str) -> InvalidRequest:
    return InvalidRequest(f"Missing required param: {type}[{name}].", param=f"{type}[{name}]",
                          code="parameter_missing")


def _digits_of(params: Mapping[str, Any], type: str, name: str) -> str:
    """A required number, separators (spaces, hyphens) removed; only digits may remain."""
    value = params.get(name)
    if value in (None, ""):
        raise _missing(type, name)
    text = "".join(str(value).replace("-", " ").split())
    if not processor.is_digits(text):
        account = name == "account_number"
        raise InvalidRequest(f"The {name.replace('_', ' ')} you provided is invalid: "
                             "it has digits only.", param=f"{type}[{name}]",
                             code="account_number_invalid" if account
                             else "routing_number_invalid")
    return text


def _account_number(params: Mapping[str, Any], type: str, shortest: int, longest: int) -> str:
    account = _digits_of(params, type, "account_number")
    if not shortest <= len(account) <= longest:
        size = f"{shortest}" if shortest == longest else f"{shortest} to {longest}"
        raise InvalidRequest(f"The account number you provided is invalid: it has {size} "
                             "digits.", param=f"{type}[account_number]",
                             code="account_number_invalid")
    return account


def _choice(params: Mapping[str, Any], type: str, name: str, allowed: tuple[str, ...], *,
            default: str | None) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        return default
    if value not in allowed:
        raise InvalidRequest(f"Invalid {type}[{name}]: must be one of {', '.join(allowed)}.",
                             param=f"{type}[{name}]")
    return str(value)


# --- display -------------------------------------------------------------------------------

_DIGIT_GROUPS: dict[tuple[str, str], tuple[tuple[int, ...], str]] = {
    ("bacs_debit", "sort_code"): ((2, 2, 2), "-"),
    ("bacs_debit", "account_number"): ((8,), ""),
    ("au_becs_debit", "bsb_number"): ((3, 3), "-"),
    ("au_becs_debit", "account_number"): ((9,), ""),
    ("us_bank_account", "routing_number"): ((9,), ""),
    ("us_bank_account", "account_number"): ((17,), ""),
    ("acss_debit", "institution_number"): ((3,), ""),
    ("acss_debit", "transit_number"): ((5,), ""),
    ("acss_debit", "account_number"): ((12,), ""),
    ("nz_bank_account", "bank_code"): ((2,), ""),
    ("nz_bank_account", "branch_code"): ((4,), ""),
    ("nz_bank_account", "account_number"): ((8,), ""),
    ("nz_bank_account", "suffix"): ((3,), ""),
}


def _group(digits: str, sizes: tuple[int, ...], separator: str) -> str:
    parts, start = [], 0
    for size in sizes:
        if start >= len(digits):
            break
        parts.append(digits[start:start + size])
        start += size
    return separator.join(parts)
