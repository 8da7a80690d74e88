"""How a payment method reads to its owner: ``Visa •••• 4242`` / ``Expires 12/28``, a bank
debit by its bank and last four digits, a wallet by its name and email.

One home for that text, so the overview's default method, the payment methods page and the
pay page name a method the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal_app import i18n
from portal_app.billing.provider import (
    StripeObject,
    format_payment_method_field,
    payment_method_types,
)
from portal_app.i18n import _
from portal_app.stripe_shapes import CARD_BRAND_NAMES

# A card "expires soon" when its last valid month is at most this many months away.
EXPIRES_SOON_MONTHS = 2

# Names of the types as a customer knows them (brand names stay as they are).
TYPE_NAMES: dict[str, str] = {
    "card": _("Card"),
    "us_bank_account": _("US bank account"),
    "sepa_debit": _("SEPA Direct Debit"),
    "au_becs_debit": _("BECS Direct Debit"),
    "bacs_debit": _("Bacs Direct Debit"),
    "acss_debit": _("Pre-authorized debit"),
    "nz_bank_account": _("NZ bank account"),
    "link": "Link",
    "paypal": "PayPal",
    "cashapp": "Cash App Pay",
    "amazon_pay": "Amazon Pay",
    "revolut_pay": "Revolut Pay",
    "kakao_pay": "Kakao Pay",
    "naver_pay": "Naver Pay",
    "samsung_pay": "Samsung Pay",
    "kr_card": _("Korean card"),
}
BANK_TYPES = payment_method_types().mandate  # the debits: shown by bank and last4
CARD_TYPES = frozenset({"card", "kr_card"})


def type_icon(kind: str) -> str:
    """The icon (lucide's name) of a type: a card, a bank, a wallet."""
    return "credit_card" if kind in CARD_TYPES else "landmark" if kind in BANK_TYPES \
        else "wallet"


@dataclass
class MethodView:
    """One of the customer's payment methods as the page lists it."""

    id: str
    type: str
    icon: str
    title: str  # "Visa •••• 4242", "SEPA Direct Debit •••• 3000", "PayPal"
    detail: str  # "Expires 12/28", "Bank code 37040044", "ada@example.test"
    is_default: bool
    badge: str  # "" | "Expired" | "Expires soon"
    badge_color: str  # red | amber | gray


def months_left(exp_month: int, exp_year: int, now: datetime) -> int:
    """Months from ``now``'s to a card's last valid month (0: it expires this month;
    negative: it has expired)."""
    return exp_year * 12 + exp_month - (now.year * 12 + now.month)


def _card_view(details: Mapping[str, Any], *, locale: str, now: datetime
               ) -> tuple[str, str, str, str]:
    brand_code = str(details.get("display_brand") or details.get("brand") or "")
    brand = CARD_BRAND_NAMES.get(brand_code, brand_code.replace("_", " ").title() or
                            i18n.gettext(locale, TYPE_NAMES["card"]))
    title = f"{brand} •••• {details.get('last4') or ''}"
    month, year = details.get("exp_month"), details.get("exp_year")
    if not (month and year):
        return title, "", "", "gray"
    shown = {"month": f"{int(month):02d}", "year": f"{int(year) % 100:02d}"}
    left = months_left(int(month), int(year), now)
    if left < 0:
        return (title, i18n.gettext(locale, _("Expired {month}/{year}"), **shown),
                i18n.gettext(locale, _("Expired")), "red")
    detail = i18n.gettext(locale, _("Expires {month}/{year}"), **shown)
    if left <= EXPIRES_SOON_MONTHS:
        return title, detail, i18n.gettext(locale, _("Expires soon")), "amber"
    return title, detail, "", "gray"


def _bank_detail(kind: str, details: Mapping[str, Any], *, locale: str) -> str:
    if kind == "sepa_debit" and details.get("bank_code"):
        return i18n.gettext(locale, _("Bank code {code}"), code=details["bank_code"])
    if kind == "au_becs_debit" and details.get("bsb_number"):
        return i18n.gettext(locale, _("BSB {code}"), code=format_payment_method_field(
            kind, "bsb_number", str(details["bsb_number"])))
    if kind == "bacs_debit" and details.get("sort_code"):
        return i18n.gettext(locale, _("Sort code {code}"), code=format_payment_method_field(
            kind, "sort_code", str(details["sort_code"])))
    if kind == "us_bank_account" and details.get("routing_number"):
        return i18n.gettext(locale, _("Routing number {code}"), code=details["routing_number"])
    if kind == "acss_debit" and details.get("transit_number"):
        return i18n.gettext(locale, _("Transit {transit} · Institution {institution}"),
                            transit=details["transit_number"],
                            institution=details.get("institution_number") or "")
    if kind == "nz_bank_account" and details.get("bank_code"):
        return i18n.gettext(locale, _("Bank {bank} · Branch {branch}"),
                            bank=details["bank_code"], branch=details.get("branch_code") or "")
    return ""


def method_view(pm: StripeObject, *, default_id: str | None, locale: str, now: datetime
                ) -> MethodView:
    """A Stripe ``payment_method`` as the page lists it."""
    kind = str(pm["type"])
    details: Mapping[str, Any] = pm.get(kind) or {}
    type_name = i18n.gettext(locale, TYPE_NAMES.get(kind, kind.replace("_", " ").title()))
    badge, color = "", "gray"
    if kind in CARD_TYPES:
        title, detail, badge, color = _card_view(details, locale=locale, now=now)
    elif kind in BANK_TYPES:
        bank = details.get("bank_name") or type_name
        title = f"{bank} •••• {details.get('last4') or ''}"
        detail = _bank_detail(kind, details, locale=locale)
    else:
        title = type_name
        detail = str(details.get("email") or details.get("payer_email")
                     or details.get("cashtag")
                     or (pm.get("billing_details") or {}).get("email") or "")
    return MethodView(id=str(pm["id"]), type=kind, icon=type_icon(kind), title=title,
                      detail=detail, is_default=pm["id"] == default_id, badge=badge,
                      badge_color=color)
