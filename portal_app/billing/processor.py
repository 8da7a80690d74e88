"""The test payment processor: Stripe's public test cards, validated, never stored.

It answers what Stripe's test mode answers for its documented test payment
methods and card numbers, checks card numbers by Luhn and expiry dates against
the clock, and keeps only brand, last4, expiry and a fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from portal_app.errors import CardDeclined, CardError, InvalidRequest

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
}
# Decline codes that Stripe reports with their own error code instead of card_declined.
_OWN_CODE = {"expired_card", "incorrect_cvc", "processing_error"}


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


# Stripe's documented test numbers: number -> (country, funding, attach decline, charge decline)
_TEST_NUMBERS: dict[str, tuple[str, str, str | None, str | None]] = {
    "4242424242424242": ("US", "credit", None, None),
    "4000056655665556": ("US", "debit", None, None),
    "5555555555554444": ("US", "credit", None, None),
    "2223003122003222": ("US", "credit", None, None),
    "5200828282828210": ("US", "debit", None, None),
    "378282246310005": ("US", "credit", None, None),
    "371449635398431": ("US", "credit", None, None),
    "6011111111111117": ("US", "credit", None, None),
    "3056930009020004": ("US", "credit", None, None),
    "3566002020360505": ("JP", "credit", None, None),
    "6200000000000005": ("CN", "credit", None, None),
    "4000000760000002": ("BR", "credit", None, None),
    "4000001240000000": ("CA", "credit", None, None),
    "4000002500003155": ("FR", "credit", None, None),
    "4000002760003184": ("DE", "credit", None, None),
    "4000000000000002": ("US", "credit", "generic_decline", "generic_decline"),
    "4000000000009995": ("US", "credit", "insufficient_funds", "insufficient_funds"),
    "4000000000009987": ("US", "credit", "lost_card", "lost_card"),
    "4000000000009979": ("US", "credit", "stolen_card", "stolen_card"),
    "4000000000000069": ("US", "credit", "expired_card", "expired_card"),
    "4000000000000127": ("US", "credit", "incorrect_cvc", "incorrect_cvc"),
    "4000000000000119": ("US", "credit", "processing_error", "processing_error"),
    "4000000000000341": ("US", "credit", None, "generic_decline"),
}

# Stripe's test PaymentMethod ids -> the test number they stand for.
TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_diners": "3056930009020004",
    "pm_card_jcb": "3566002020360505",
    "pm_card_unionpay": "6200000000000005",
    "pm_card_br": "4000000760000002",
    "pm_card_ca": "4000001240000000",
    "pm_card_fr": "4000002500003155",
    "pm_card_de": "4000002760003184",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeCustomerFail": "4000000000000341",
}


def luhn_valid(number: str) -> bool:
    """True when ``number``'s check digit is right (ISO/IEC 7812)."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    """The card network, from the number's leading digits (Stripe's brand names)."""
    if number.startswith("4"):
        return "visa"
    two, four = int(number[:2]), int(number[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "mastercard"
    if two in (34, 37):
        return "amex"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3]) <= 649:
        return "discover"
    if 3528 <= four <= 3589:
        return "jcb"
    if two in (36, 38, 39) or 300 <= int(number[:3]) <= 305:
        return "diners"
    if two == 62:
        return "unionpay"
    return "unknown"


def tokenize_card(
    *,
    number: str,
    exp_month: int | str | None,
    exp_year: int | str | None,
    cvc: str | None,
    fingerprint_key: str,
    now: datetime,
) -> CardDetails:
    """Validate a raw card and keep what may be kept. Raises CardError."""
    number = "".join(number.split())
    if not luhn_valid(number):
        raise CardError("Your card number is incorrect.", code="incorrect_number", param="number")
    month, year = _expiry(exp_month, exp_year, now=now)
    if cvc is not None and (not cvc.isdigit() or len(cvc) not in (3, 4)):
        raise CardError("Your card's security code is invalid.", code="invalid_cvc", param="cvc")
    country, funding, attach_decline, charge_decline = _TEST_NUMBERS.get(
        number, ("US", "credit", None, None)
    )
    return CardDetails(
        brand=card_brand(number),
        last4=number[-4:],
        exp_month=month,
        exp_year=year,
        funding=funding,
        country=country,
        fingerprint=fingerprint(fingerprint_key, number),
        attach_decline_code=attach_decline,
        charge_decline_code=charge_decline,
    )


def tokenize_test_payment_method(token: str, *, fingerprint_key: str, now: datetime
                                 ) -> CardDetails:
    """The card behind one of Stripe's ``pm_card_*`` test ids. Raises InvalidRequest."""
    number = TEST_PAYMENT_METHODS.get(token)
    if number is None:
        raise InvalidRequest(f"No such PaymentMethod: '{token}'", code="resource_missing",
                             param="payment_method")
    return tokenize_card(number=number, exp_month=12, exp_year=now.year + 3, cvc="123",
                         fingerprint_key=fingerprint_key, now=now)


def _expiry(exp_month: int | str | None, exp_year: int | str | None, *, now: datetime
            ) -> tuple[int, int]:
    try:
        month = int(exp_month)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CardError("Your card's expiration month is invalid.",
                        code="invalid_expiry_month", param="exp_month") from None
    try:
        year = int(exp_year)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CardError("Your card's expiration year is invalid.",
                        code="invalid_expiry_year", param="exp_year") from None
    if not 1 <= month <= 12:
        raise CardError("Your card's expiration month is invalid.",
                        code="invalid_expiry_month", param="exp_month")
    if year < 100:
        year += 2000
    if year < now.year or year > now.year + 50:
        raise CardError("Your card's expiration year is invalid.",
                        code="invalid_expiry_year", param="exp_year")
    if (year, month) < (now.year, now.month):
        raise CardError("Your card's expiration month is invalid.",
                        code="invalid_expiry_month", param="exp_month")
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
