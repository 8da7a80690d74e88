"""Stripe JSON of the payment side of the ledger: payment methods, setup intents, mandates,
payment method configurations.

Complete objects of the pinned ``stripe`` SDK (:func:`portal_app.stripe_shapes.complete`),
``None`` where a field does not apply.
"""

from __future__ import annotations

from typing import Any

import stripe

from portal_app.billing.models import (
    Mandate,
    PaymentMethod,
    PaymentMethodConfiguration,
    SetupIntent,
)
from portal_app.clock import to_unix
from portal_app.stripe_shapes import complete

# The nested SDK class of each payment method type's sub-object (``PaymentMethod.SepaDebit``).
_CLASS_NAMES = {"us_bank_account": "UsBankAccount", "sepa_debit": "SepaDebit",
                "au_becs_debit": "AuBecsDebit", "bacs_debit": "BacsDebit",
                "acss_debit": "AcssDebit", "nz_bank_account": "NzBankAccount", "link": "Link",
                "paypal": "Paypal", "cashapp": "Cashapp", "amazon_pay": "AmazonPay",
                "revolut_pay": "RevolutPay", "kakao_pay": "KakaoPay", "naver_pay": "NaverPay",
                "samsung_pay": "SamsungPay", "kr_card": "KrCard", "card": "Card"}

# Every type a payment method configuration speaks of, with Stripe's default preference
# (what a new configuration offers when the merchant has said nothing).
CONFIGURABLE_TYPES: dict[str, str] = {
    "card": "on", "link": "on", "us_bank_account": "on", "sepa_debit": "on",
    "au_becs_debit": "on", "bacs_debit": "on", "acss_debit": "off", "nz_bank_account": "off",
    "paypal": "off", "cashapp": "off", "amazon_pay": "off", "revolut_pay": "off",
    "kakao_pay": "off", "naver_pay": "off", "samsung_pay": "off", "kr_card": "off",
}


def type_details(type: str, values: dict[str, Any]) -> dict[str, Any]:
    """The complete ``<type>`` sub-object of a payment method (every SDK field present)."""
    cls = getattr(stripe.PaymentMethod, _CLASS_NAMES.get(type, ""), None)
    return complete(cls, values) if cls is not None else dict(values)


def _card(pm: PaymentMethod) -> dict[str, Any]:
    if pm.details:
        return type_details("card", pm.details)
    # Cards saved before every type kept its sub-object: built from the columns.
    return type_details("card", {
        "brand": pm.brand, "country": pm.country, "display_brand": pm.brand,
        "exp_month": pm.exp_month, "exp_year": pm.exp_year, "fingerprint": pm.fingerprint,
        "funding": pm.funding, "last4": pm.last4,
        "networks": {"available": [pm.brand], "preferred": None},
        "regulated_status": "unregulated",
    })


def render_payment_method(pm: PaymentMethod) -> dict[str, Any]:
    """Stripe's ``payment_method`` object, with its type's sub-object."""
    values: dict[str, Any] = {
        "id": pm.id,
        "allow_redisplay": pm.allow_redisplay,
        "billing_details": complete(stripe.PaymentMethod.BillingDetails, {
            "address": None, "email": None, "name": None, "phone": None,
            "tax_id": None, **pm.billing_details}),
        "created": to_unix(pm.created),
        "customer": pm.customer_id,
        "metadata": dict(pm.metadata_),
        "type": pm.type,
    }
    if pm.type == "card":
        values["card"] = _card(pm)
    elif pm.type == "sepa_debit" and not pm.details:
        values["sepa_debit"] = type_details("sepa_debit", {
            "country": pm.country, "fingerprint": pm.fingerprint, "last4": pm.last4})
    else:
        values[pm.type] = type_details(pm.type, pm.details)
    return complete(stripe.PaymentMethod, values)


def render_setup_intent(si: SetupIntent, *, client_secret: str) -> dict[str, Any]:
    """Stripe's ``setup_intent`` object (``client_secret`` is derived, never stored)."""
    next_action = None
    if si.next_action:
        redirect = si.next_action.get("redirect_to_url")
        next_action = complete(stripe.SetupIntent.NextAction, {
            "type": si.next_action["type"],
            "redirect_to_url": complete(stripe.SetupIntent.NextAction.RedirectToUrl, redirect)
            if redirect else None})
    error = (complete(stripe.SetupIntent.LastSetupError, si.last_setup_error)
             if si.last_setup_error else None)
    return complete(stripe.SetupIntent, {
        "id": si.id,
        "attach_to_self": False,
        "automatic_payment_methods": None,
        "cancellation_reason": si.cancellation_reason,
        "client_secret": client_secret,
        "created": to_unix(si.created),
        "customer": si.customer_id,
        "description": si.description,
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": error,
        "latest_attempt": None,
        "mandate": si.mandate_id,
        "metadata": dict(si.metadata_),
        "next_action": next_action,
        "payment_method": si.payment_method_id,
        "payment_method_options": {},
        "payment_method_types": list(si.payment_method_types),
        "status": si.status,
        "usage": si.usage,
    })


def render_mandate(mandate: Mandate, *, method_type: str) -> dict[str, Any]:
    """Stripe's ``mandate`` object, ``payment_method_details.<type>`` filled."""
    acceptance = dict(mandate.customer_acceptance)
    online = acceptance.get("online")
    details_cls = getattr(stripe.Mandate.PaymentMethodDetails,
                          _CLASS_NAMES.get(method_type, ""), None)
    type_values = (complete(details_cls, mandate.method_details) if details_cls is not None
                   else dict(mandate.method_details))
    return complete(stripe.Mandate, {
        "id": mandate.id,
        "customer_acceptance": complete(stripe.Mandate.CustomerAcceptance, {
            "accepted_at": acceptance.get("accepted_at"),
            "type": acceptance.get("type"),
            "online": complete(stripe.Mandate.CustomerAcceptance.Online, online)
            if online is not None else None,
            "offline": {} if acceptance.get("type") == "offline" else None,
        }),
        "multi_use": {} if mandate.type == "multi_use" else None,
        "payment_method": mandate.payment_method_id,
        "payment_method_details": complete(stripe.Mandate.PaymentMethodDetails, {
            "type": method_type, method_type: type_values}),
        "single_use": None,
        "status": mandate.status,
        "type": mandate.type,
    })


def preference_of(pmc: PaymentMethodConfiguration, type: str) -> str:
    """The configuration's effective preference for ``type``: ``on`` or ``off``."""
    chosen = pmc.preferences.get(type, "none")
    return CONFIGURABLE_TYPES.get(type, "off") if chosen == "none" else chosen


def render_payment_method_configuration(pmc: PaymentMethodConfiguration) -> dict[str, Any]:
    """Stripe's ``payment_method_configuration`` object."""
    values: dict[str, Any] = {
        "id": pmc.id, "active": pmc.active, "application": None,
        "is_default": pmc.is_default, "name": pmc.name, "parent": None,
    }
    for type in CONFIGURABLE_TYPES:
        value = preference_of(pmc, type)
        values[type] = {
            "available": value == "on",
            "display_preference": {"overridable": None,
                                   "preference": pmc.preferences.get(type, "none"),
                                   "value": value},
        }
    return complete(stripe.PaymentMethodConfiguration, values)
