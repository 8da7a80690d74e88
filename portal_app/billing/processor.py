"""The test payment processor: Stripe's public test cards, validated, never stored.

It answers what Stripe's test mode answers for its documented test payment
methods and card numbers (declines, 3-D Secure, co-badged Cartes Bancaires),
checks card numbers by Luhn (python-stdnum), their length and CVC per brand and
expiry dates against the clock, and keeps only brand, last4, expiry and a
fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from stdnum import luhn

from portal_app.errors import BillingError, CardDeclined, CardError, InvalidRequest

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "card_velocity_exceeded": "Your card was declined for making repeated attempts too frequently "
                              "or exceeding its amount limit.",
    "authentication_required": "Your card was declined. This transaction requires "
                               "authentication.",
    # Bank debits (Stripe's failure codes for ACH, SEPA, BECS, Bacs, ACSS).
    "account_closed": "The bank account has been closed.",
    "no_account": "The bank account could not be located.",
    "debit_not_authorized": "The customer has notified their bank that this payment was "
                            "unauthorized.",
    "refer_to_customer": "The debit was refused by the bank; the customer should contact "
                         "their bank.",
    "charge_exceeds_source_limit": "This payment exceeds the weekly volume limit of the "
                                   "bank account.",
    "charge_exceeds_weekly_limit": "This payment exceeds the weekly transaction limit of the "
                                   "bank account.",
}
# Decline codes that Stripe reports with their own error code instead of card_declined.
_OWN_CODE = {"expired_card", "incorrect_cvc", "processing_error", "authentication_required"}

# Stripe's brand names -> the lengths a number of that brand may have.
CARD_LENGTHS: dict[str, tuple[int, ...]] = {
    "visa": (13, 16, 19),
    "mastercard": (16,),
    "amex": (15,),
    "discover": (16, 17, 18, 19),
    "diners": (14, 15, 16, 17, 18, 19),
    "jcb": (16, 17, 18, 19),
    "unionpay": (16, 17, 18, 19),
    "unknown": tuple(range(12, 20)),
}


def cvc_length(brand: str) -> int:
    """How many digits the card's security code has: 4 on American Express, else 3."""
    return 4 if brand == "amex" else 3


@dataclass(frozen=True)
class CardDetails:
    """What the processor keeps of a card."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    funding: str
    country: str
    fingerprint: str
    attach_decline_code: str | None = None  # refused when attached (Stripe's card check)
    charge_decline_code: str | None = None  # attaches, then every charge is refused
    # The networks the card can be charged on: its brand, and for a co-badged card the
    # local scheme too (Cartes Bancaires: the brand stays visa or mastercard).
    networks: tuple[str, ...] = ()
    requires_authentication: bool = False  # 3-D Secure test cards: charges are challenged
    # ...except off-session charges once the card was set up with authentication
    # (Stripe's "authenticate unless set up" and "already set up" cards).
    setup_covers_off_session: bool = False


@dataclass(frozen=True)
class StripeTestCard:
    """How one of Stripe's documented test numbers behaves."""

    country: str = "US"
    funding: str = "credit"
    attach_decline: str | None = None
    charge_decline: str | None = None
    requires_authentication: bool = False
    setup_covers_off_session: bool = False
    cobadged: str | None = None  # the local network besides the brand (cartes_bancaires)


_DECLINED = {code: StripeTestCard(attach_decline=code, charge_decline=code) for code in (
    "generic_decline", "insufficient_funds", "lost_card", "stolen_card", "expired_card",
    "incorrect_cvc", "processing_error", "card_velocity_exceeded")}

# Stripe's documented test numbers (docs.stripe.com/testing).
TEST_CARD_NUMBERS: dict[str, StripeTestCard] = {
    "4242424242424242": StripeTestCard(),
    "4000056655665556": StripeTestCard(funding="debit"),
    "5555555555554444": StripeTestCard(),
    "2223003122003222": StripeTestCard(),
    "5200828282828210": StripeTestCard(funding="debit"),
    "5105105105105100": StripeTestCard(funding="prepaid"),
    "378282246310005": StripeTestCard(),
    "371449635398431": StripeTestCard(),
    "6011111111111117": StripeTestCard(),
    "6011000990139424": StripeTestCard(),
    "6011981111111113": StripeTestCard(funding="debit"),
    "3056930009020004": StripeTestCard(),
    "36227206271667": StripeTestCard(),
    "3566002020360505": StripeTestCard(country="JP"),
    "6200000000000005": StripeTestCard(country="CN"),
    "6200000000000047": StripeTestCard(country="CN", funding="debit"),
    "6205500000000000004": StripeTestCard(country="CN"),
    # by country
    "4000000760000002": StripeTestCard(country="BR"),
    "4000001240000000": StripeTestCard(country="CA"),
    "4000000360000006": StripeTestCard(country="AU"),
    "4000001560000002": StripeTestCard(country="CN"),
    "4000003920000003": StripeTestCard(country="JP"),
    "3530111333300000": StripeTestCard(country="JP"),
    "4000005540000008": StripeTestCard(country="NZ"),
    "4000007020000003": StripeTestCard(country="SG"),
    "4000008260000000": StripeTestCard(country="GB"),
    "4000058260000005": StripeTestCard(country="GB", funding="debit"),
    "4000002500000003": StripeTestCard(country="FR"),
    "4000002760000016": StripeTestCard(country="DE"),
    # co-badged Cartes Bancaires and eftpos (no public BIN table: known by Stripe's test
    # numbers only)
    "4000002500001001": StripeTestCard(country="FR", cobadged="cartes_bancaires"),
    "5555552500001001": StripeTestCard(country="FR", cobadged="cartes_bancaires"),
    "4000050360000001": StripeTestCard(country="AU", funding="debit", cobadged="eftpos_au"),
    "5555050360000080": StripeTestCard(country="AU", funding="debit", cobadged="eftpos_au"),
    # 3-D Secure
    "4000002500003155": StripeTestCard(country="FR", requires_authentication=True,
                                       setup_covers_off_session=True),
    "4000002760003184": StripeTestCard(country="DE", requires_authentication=True),
    "4000003800000446": StripeTestCard(requires_authentication=True,
                                       setup_covers_off_session=True),
    "4000000000003220": StripeTestCard(requires_authentication=True),
    "4000000000003063": StripeTestCard(requires_authentication=True),
    "4000000000003055": StripeTestCard(),  # supports 3-D Secure, never requires it
    "4000000000003097": StripeTestCard(),  # optional 3-D Secure that errors: charges pass
    # 3-D Secure required but its lookup fails: no challenge, every charge declined
    "4000008400001280": StripeTestCard(charge_decline="generic_decline"),
    "4000008400001629": StripeTestCard(requires_authentication=True, charge_decline="generic_decline"),
    "4000008260003178": StripeTestCard(country="GB", requires_authentication=True,
                                 charge_decline="insufficient_funds"),
    # declines
    "4000000000000002": _DECLINED["generic_decline"],
    "4000000000009995": _DECLINED["insufficient_funds"],
    "4000000000009987": _DECLINED["lost_card"],
    "4000000000009979": _DECLINED["stolen_card"],
    "4000000000000069": _DECLINED["expired_card"],
    "4000000000000127": _DECLINED["incorrect_cvc"],
    "4000000000000119": _DECLINED["processing_error"],
    "4000000000006975": _DECLINED["card_velocity_exceeded"],
    "4000000000000341": StripeTestCard(charge_decline="generic_decline"),
}

# Stripe's test PaymentMethod ids -> the test number they stand for (``tok_<name>`` is
# accepted for ``pm_card_<name>`` too, as Stripe's test tokens are).
TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_mastercard_prepaid": "5105105105105100",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_diners": "3056930009020004",
    "pm_card_jcb": "3566002020360505",
    "pm_card_unionpay": "6200000000000005",
    "pm_card_br": "4000000760000002",
    "pm_card_ca": "4000001240000000",
    "pm_card_au": "4000000360000006",
    "pm_card_cn": "4000001560000002",
    "pm_card_jp": "4000003920000003",
    "pm_card_nz": "4000005540000008",
    "pm_card_sg": "4000007020000003",
    "pm_card_gb": "4000008260000000",
    "pm_card_fr": "4000002500000003",
    "pm_card_de": "4000002760000016",
    "pm_card_visa_cartesBancaires": "4000002500001001",
    "pm_card_mastercard_cartesBancaires": "5555552500001001",
    "pm_card_visa_debit_eftposAuCoBranded": "4000050360000001",
    "pm_card_mastercard_debit_eftposAuCoBranded": "5555050360000080",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_authenticationRequiredSetupForOffSession": "4000003800000446",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_threeDSecureRequired": "4000000000003063",
    "pm_card_threeDSecureOptional": "4000000000003055",
    "pm_card_threeDSecureRequiredChargeDeclined": "4000008400001629",
    "pm_card_threeDSecureRequiredProcessingError": "4000008400001280",
    "pm_card_threeDSecureOptionalProcessingError": "4000000000003097",
    "pm_card_amex_threeDSecureNotSupported": "378282246310005",
    "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds": "4000008260003178",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_visa_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_visa_chargeDeclinedVelocityLimitExceeded": "4000000000006975",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeDeclinedVelocityLimitExceeded": "4000000000006975",
    "pm_card_chargeCustomerFail": "4000000000000341",
}


def number_of_test_token(token: str) -> str | None:
    """The number behind a ``pm_card_*`` test id or its ``tok_*`` twin; None if neither.

    >>> number_of_test_token("pm_card_visa"), number_of_test_token("tok_visa")
    ('4242424242424242', '4242424242424242')
    >>> number_of_test_token("pm_1Abc") is None
    True
    """
    if token.startswith("tok_"):
        token = "pm_card_" + token.removeprefix("tok_")
    return TEST_PAYMENT_METHODS.get(token)


def is_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits (``str.isdigit`` also takes "²" and "٣").

    >>> is_digits("0123"), is_digits("12²"), is_digits("")
    (True, False, False)
    """
    return text.isascii() and text.isdigit()


def luhn_valid(number: str) -> bool:
    """True when ``number`` (12 to 19 digits) has the right check digit (ISO/IEC 7812)."""
    return is_digits(number) and 12 <= len(number) <= 19 and luhn.is_valid(number)


def card_brand(number: str) -> str:
    """The card network, from the number's leading digits (Stripe's brand names).

    >>> card_brand("4000002500001001"), card_brand("2223003122003222"), card_brand("36227206271667")
    ('visa', 'mastercard', 'diners')
    """
    if not is_digits(number[:6]) or len(number) < 6:
        return "unknown"
    if number.startswith("4"):
        return "visa"
    two, three, four = int(number[:2]), int(number[:3]), int(number[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "mastercard"
    if two in (34, 37):
        return "amex"
    if number.startswith(("6011", "65")) or 644 <= three <= 649:
        return "discover"
    if 3528 <= four <= 3589:
        return "jcb"
    if two in (36, 38, 39) or 300 <= three <= 305 or four == 3095:
        return "diners"
    if two in (62, 81):
        return "unionpay"
    return "unknown"


def card_networks(number: str) -> tuple[str, ...]:
    """The networks a card can be charged on: its brand, plus a co-badged local scheme.

    >>> card_networks("4000002500001001"), card_networks("4242424242424242")
    (('cartes_bancaires', 'visa'), ('visa',))
    """
    brand = card_brand(number)
    test = TEST_CARD_NUMBERS.get(number)
    if test is not None and test.cobadged:
        return tuple(sorted((test.cobadged, brand)))
    return (brand,)


def tokenize_card(
    *,
    number: str,
    exp_month: int | str | None,
    exp_year: int | str | None,
    cvc: str | None,
    fingerprint_key: str,
    now: datetime,
    strict_cvc: bool = False,
) -> CardDetails:
    """Validate a raw card and keep what may be kept. Raises CardError.

    ``param`` of the error is the card field (``number``, ``exp_month``, ``exp_year``,
    ``cvc``); codes are Stripe's: ``invalid_number`` (not a card number of its brand's
    length), ``incorrect_number`` (wrong check digit), ``invalid_expiry_month``,
    ``invalid_expiry_year``, ``invalid_cvc``. With ``strict_cvc`` the security code must
    have its brand's length (4 digits on American Express, 3 on the others); without, 3
    or 4 digits pass, as older callers expect.
    """
    number = "".join(number.split())
    if not is_digits(number) or not 12 <= len(number) <= 19:
        raise CardError("Your card number is invalid.", code="invalid_number", param="number")
    brand = card_brand(number)
    if not luhn_valid(number):
        raise CardError("Your card number is incorrect.", code="incorrect_number", param="number")
    if len(number) not in CARD_LENGTHS[brand]:
        raise CardError("Your card number is invalid.", code="invalid_number", param="number")
    month, year = card_expiry(exp_month, exp_year, now=now)
    lengths = (cvc_length(brand),) if strict_cvc else (3, 4)
    if cvc is not None and (not is_digits(cvc) or len(cvc) not in lengths):
        raise CardError("Your card's security code is invalid.", code="invalid_cvc", param="cvc")
    test = TEST_CARD_NUMBERS.get(number, StripeTestCard())
    return CardDetails(
        brand=brand,
        last4=number[-4:],
        exp_month=month,
        exp_year=year,
        funding=test.funding,
        country=test.country,
        fingerprint=fingerprint(fingerprint_key, number),
        attach_decline_code=test.attach_decline,
        charge_decline_code=test.charge_decline,
        networks=card_networks(number),
        requires_authentication=test.requires_authentication,
        setup_covers_off_session=test.setup_covers_off_session,
    )


def tokenize_test_payment_method(token: str, *, fingerprint_key: str, now: datetime
                                 ) -> CardDetails:
    """The card behind one of Stripe's ``pm_card_*`` test ids (or ``tok_*`` twins).

    Raises InvalidRequest.
    """
    number = number_of_test_token(token)
    if number is None:
        raise InvalidRequest(f"No such PaymentMethod: '{token}'", code="resource_missing",
                             param="payment_method")
    return tokenize_card(number=number, exp_month=12, exp_year=now.year + 3, cvc=None,
                         fingerprint_key=fingerprint_key, now=now)


def card_expiry(exp_month: object, exp_year: object, *, now: datetime,
                error: type[BillingError] = CardError,
                params: tuple[str, str] = ("exp_month", "exp_year")) -> tuple[int, int]:
    """A card's expiry as (month, four-digit year): a real month, not past, at most 50
    years ahead; a two-digit year is this century's.

    Raises ``error`` (CardError for a new card, InvalidRequest for a saved card's update)
    with Stripe's ``invalid_expiry_month`` or ``invalid_expiry_year`` and the parameter's
    name from ``params`` (month, year).
    """
    def invalid(part: str) -> BillingError:
        return error(f"Your card's expiration {part} is invalid.",
                     code=f"invalid_expiry_{part}",
                     param=params[0] if part == "month" else params[1])

    try:
        month = int(exp_month)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise invalid("month") from None
    try:
        year = int(exp_year)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise invalid("year") from None
    if not 1 <= month <= 12:
        raise invalid("month")
    if year < 100:
        year += 2000
    if year < now.year or year > now.year + 50:
        raise invalid("year")
    if (year, month) < (now.year, now.month):
        raise invalid("month")
    return month, year


def fingerprint(key: str, number: str) -> str:
    """Same card, same account: same fingerprint.

    A keyed HMAC with the account's secret fingerprint key: card numbers have
    so little entropy that an unkeyed hash beside brand and last4 could be
    reversed by trying every candidate; without the key it cannot.
    """
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()[:16]


def decline(code: str) -> CardDeclined:
    """The error Stripe returns for a refused charge or card check."""
    error_code = code if code in _OWN_CODE else "card_declined"
    return CardDeclined(DECLINE_MESSAGES.get(code, DECLINE_MESSAGES["generic_decline"]),
                        code=error_code, decline_code=code)
