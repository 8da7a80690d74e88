"""The demo's showcase customers: full billing details, tax IDs, wallets of several types.

Plain data for :mod:`portal_app.seed`, which creates all of it through the ledger
(every method but a sign-up card through a setup intent, on the day it is saved): the
featured customer (whom ``portico demo-info`` opens the portal for) pays with the Visa
she signed up with, and over the year added an Amex that has since expired, a
Mastercard that expires soon, a US bank account under its ACH mandate and a PayPal
wallet authorized on the test page; a German, a British and an Australian business
carry an EU VAT number, a GB VAT number and an ABN, the German one paying by SEPA Direct
Debit under a mandate, the others keeping a Bacs or BECS debit under theirs. Card expiries are months relative to the end of the history, so
the badges read the same at every seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FEATURED_EMAIL = "ada.whitfield@example.com"
RETURN_URL = "https://northwind.example/account"
# How a debit's mandate was accepted: online, in the merchant's checkout (documentation IPs).
ONLINE_ACCEPTANCE: dict[str, Any] = {
    "type": "online",
    "online": {"ip_address": "203.0.113.24",
               "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15"},
}


@dataclass(frozen=True)
class Method:
    """One payment method a showcase customer saves through a setup intent.

    A bank debit's intent carries the mandate's acceptance; a wallet's is authorized
    on the test authorization page, as its owner would.
    """

    type: str
    params: dict[str, Any] = field(default_factory=dict)  # the dict under ``type``
    expires_in: int | None = None  # a card's expiry: months after the history's end
    after_days: int = 0  # saved this many days after sign-up (0: before the first invoice)
    billing_details: dict[str, Any] | None = None
    default: bool = False  # becomes the customer's default payment method


@dataclass(frozen=True)
class Showcase:
    """A customer whose details and wallet are chosen, not drawn (always ``active``)."""

    name: str
    email: str
    locale: str
    currency: str
    address: dict[str, Any]
    shipping: dict[str, Any] | None
    phone: str
    product: int  # index into the catalog
    signup_days: int  # days after the history's start
    card: str | None  # a ``pm_card_*`` test id attached (as default) at sign-up
    methods: tuple[Method, ...] = ()
    tax_ids: tuple[tuple[str, str], ...] = ()  # (Stripe's type, value)


def card_params(number: str, *, months: int, now: datetime) -> dict[str, Any]:
    """A card's parameters expiring ``months`` after ``now``'s month (negative: before)."""
    index = now.year * 12 + now.month - 1 + months
    return {"number": number, "exp_month": index % 12 + 1, "exp_year": index // 12,
            "cvc": "7373" if number.startswith("3") and len(number) == 15 else "123"}


def _address(line1: str, city: str, postal_code: str, country: str, *,
             line2: str | None = None, state: str | None = None) -> dict[str, Any]:
    return {"line1": line1, "line2": line2, "city": city, "state": state,
            "postal_code": postal_code, "country": country}


SHOWCASE: tuple[Showcase, ...] = (
    Showcase(
        name="Ada Whitfield", email=FEATURED_EMAIL, locale="en", currency="usd",
        address=_address("1200 NW Irving St", "Portland", "97209", "US", line2="Suite 400",
                         state="OR"),
        phone="+1 503 555 0142",
        shipping={"name": "Ada Whitfield", "phone": "+1 503 555 0142",
                  "address": _address("2150 SE Division St", "Portland", "97202", "US",
                                      state="OR")},
        product=1, signup_days=3, card="pm_card_visa",
        methods=(
            Method("card", {"number": "378282246310005"}, expires_in=-2, after_days=20),
            Method("card", {"number": "5555555555554444"}, expires_in=1, after_days=110),
            Method("us_bank_account", {"routing_number": "110000000",
                                       "account_number": "000123456789",
                                       "account_holder_type": "company"},
                   billing_details={"name": "Ada Whitfield", "email": FEATURED_EMAIL},
                   after_days=190),
            Method("paypal",
                   billing_details={"name": "Ada Whitfield", "email": "ada.w@paypal.example"},
                   after_days=300),
        ),
        tax_ids=(("us_ein", "94-1081436"),),
    ),
    Showcase(
        name="Katrin Hoffmann", email="katrin.hoffmann@hoffmann-weber.example", locale="de",
        currency="eur", phone="+49 30 901820",
        address=_address("Friedrichstraße 68", "Berlin", "10117", "DE",
                         line2="Hoffmann & Weber GmbH"),
        shipping={"name": "Hoffmann & Weber GmbH, Lager", "phone": "+49 40 428280",
                  "address": _address("Am Sandtorkai 50", "Hamburg", "20457", "DE")},
        product=2, signup_days=40, card=None,
        methods=(
            Method("sepa_debit", {"iban": "DE89370400440532013000"},
                   billing_details={"name": "Hoffmann & Weber GmbH",
                                    "email": "katrin.hoffmann@hoffmann-weber.example"},
                   default=True),
            Method("card", {"number": "3566002020360505"}, expires_in=14, after_days=90),
        ),
        tax_ids=(("eu_vat", "DE136695976"),),
    ),
    Showcase(
        name="Oliver Hughes", email="oliver@hughes-design.example", locale="en",
        currency="usd", phone="+44 20 7946 0958",
        address=_address("20 Farringdon Road", "London", "EC1M 3HE", "GB",
                         line2="Hughes Design Ltd"),
        shipping=None, product=1, signup_days=75, card="pm_card_mastercard",
        methods=(Method("card", {"number": "6011111111111117"}, expires_in=26, after_days=100),
                 Method("bacs_debit", {"sort_code": "108800", "account_number": "00012345"},
                        billing_details={"name": "Hughes Design Ltd",
                                         "email": "oliver@hughes-design.example"},
                        after_days=160)),
        tax_ids=(("gb_vat", "GB980780684"),),
    ),
    Showcase(
        name="Amelia Quinn", email="amelia@quinn-analytics.example", locale="en",
        currency="usd", phone="+61 2 5550 1234",
        address=_address("1 Martin Place", "Sydney", "2000", "AU", line2="Level 12",
                         state="NSW"),
        shipping={"name": "Quinn Analytics Pty Ltd", "phone": "+61 3 5550 4321",
                  "address": _address("120 Collins St", "Melbourne", "3000", "AU",
                                      state="VIC")},
        product=0, signup_days=130, card=None,
        methods=(Method("card", {"number": "6200000000000005"}, expires_in=9, default=True),
                 Method("card", {"number": "36227206271667"}, expires_in=20, after_days=45),
                 Method("au_becs_debit", {"bsb_number": "000000", "account_number": "000123456"},
                        billing_details={"name": "Quinn Analytics Pty Ltd",
                                         "email": "amelia@quinn-analytics.example"},
                        after_days=80)),
        tax_ids=(("au_abn", "51824753556"),),
    ),
)

__all__ = ["FEATURED_EMAIL", "ONLINE_ACCEPTANCE", "RETURN_URL", "SHOWCASE", "Method",
           "Showcase", "card_params"]
