"""What a customer may do with their payment methods in the portal, and doing it: add one
(through a setup intent), remove one, make one the default.

The merchant's ``billing_portal.configuration`` governs it the way Stripe's does:
``features.payment_method_update.enabled`` (the whole page), and its
``payment_method_configuration`` (a ``pmc_``: only the types whose
``display_preference.value`` is ``on`` may be added; without one, every type Portico
knows). Two rules of the portal's own:

- the customer's first payment method becomes their default, so that renewals have a
  method to charge;
- the last method an automatically charged, live subscription depends on cannot be
  removed (:data:`REFUSALS` says why, naming the plans); removing the default while
  another method exists first makes the newest other method the default.

Billing is reached only through the session account's billing provider, for the
session's customer only (another customer's method or setup intent is ResourceMissing),
and every change records the portal session it came from (``uow.origin``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal_app import i18n
from portal_app.billing.provider import BillingProvider, StripeObject, payment_method_types
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import BillingError, CardDeclined, InvalidRequest, ResourceMissing
from portal_app.i18n import _
from portal_app.portal import refusals
from portal_app.portal.models import PortalSession
from portal_app.portal.subscription_actions import origin, portal_features

# Subscriptions that will still be charged: each needs a payment method to charge.
LIVE_STATUSES = ("trialing", "active", "past_due", "unpaid", "incomplete", "paused")

# The portal's refusals about payment methods, as the customer reads them.
REFUSALS: dict[str, str] = {
    "payment_method_update_disabled": _("Payment methods can't be changed here. Please "
                                        "contact us to update yours."),
    "payment_method_type_not_allowed": _("This payment method isn't available. Choose "
                                         "another one."),
    "payment_method_in_use": _("{method} is used to pay your {plans} plan. Add another "
                               "payment method before removing it."),
    "payment_method_missing": _("We couldn't find that payment method."),
    "setup_failed": _("Your payment method couldn't be set up. Please try again or use "
                      "another payment method."),
    "setup_canceled": _("The payment method setup was canceled."),
    "authentication_failed": _("The authorization failed, so your payment method wasn't "
                               "saved. Please try again or use another payment method."),
}
# Stripe's decline codes as the reason after "Your card was declined: ".
DECLINE_REASONS: dict[str, str] = {
    "insufficient_funds": _("insufficient funds"),
    "lost_card": _("the card was reported lost"),
    "stolen_card": _("the card was reported stolen"),
    "expired_card": _("the card has expired"),
    "incorrect_cvc": _("the security code is incorrect"),
    "incorrect_number": _("the card number is incorrect"),
    "processing_error": _("an error occurred while processing the card"),
    "do_not_honor": _("your bank refused the payment"),
    "card_velocity_exceeded": _("the card's limit was reached"),
    "fraudulent": _("your bank refused the payment"),
    "authentication_required": _("your bank requires authentication"),
}
DECLINED = _("Your card was declined.")
DECLINED_BECAUSE = _("Your card was declined: {reason}")


class PaymentMethodRefusal(InvalidRequest):
    """Something the portal does not allow (``code`` is a key of :data:`REFUSALS`)."""

    def __init__(self, code: str, **values: str) -> None:
        super().__init__(REFUSALS[code].format(**values) if values else REFUSALS[code],
                         code=code)
        self.values = values


def error_message(error: BillingError, *, locale: str) -> str:
    """A refusal about payment methods (or the provider's) as one sentence in ``locale``.

    A card's decline says why (``Your card was declined: insufficient funds``).
    """
    if isinstance(error, PaymentMethodRefusal):
        return i18n.gettext(locale, REFUSALS[str(error.code)], **error.values)
    if isinstance(error, ResourceMissing):  # a method or setup of nobody we know
        return i18n.gettext(locale, REFUSALS["payment_method_missing"])
    if isinstance(error, CardDeclined) or error.code == "card_declined":
        reason = DECLINE_REASONS.get(error.decline_code or "")
        if reason is None:
            return i18n.gettext(locale, DECLINED)
        return i18n.gettext(locale, DECLINED_BECAUSE, reason=i18n.gettext(locale, reason))
    return refusals.error_message(error, locale=locale)


# --- what the configuration allows ------------------------------------------------------


def allowed_types(features: Mapping[str, Any], *, billing: BillingProvider) -> tuple[str, ...]:
    """The types a customer may add: none when ``payment_method_update`` is off; those
    ``on`` in its ``payment_method_configuration``; else every type Portico knows."""
    update = features.get("payment_method_update") or {}
    if not update.get("enabled"):
        return ()
    known = payment_method_types().all
    configuration_id = update.get("payment_method_configuration")
    if not configuration_id:
        return known
    configuration = billing.retrieve_payment_method_configuration(configuration_id)
    if configuration.get("active") is False:
        return known  # Stripe falls back to the default configuration
    return tuple(kind for kind in known
                 if (((configuration.get(kind) or {}).get("display_preference") or {})
                     .get("value")) == "on")


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Wallet:
    """The session customer's payment methods with what the rules need to know."""

    methods: tuple[StripeObject, ...]  # newest first
    default_id: str | None  # the customer's default, if it is one of ``methods``
    # Methods that live, automatically charged subscriptions are charged to: pm -> plans.
    dependents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    allowed_types: tuple[str, ...] = ()
    customer_email: str = ""

    @property
    def enabled(self) -> bool:
        """Whether the customer may change anything (``payment_method_update``)."""
        return bool(self.allowed_types)

    def method(self, payment_method: str) -> StripeObject:
        """One of ``methods``; any other id (another customer's) is a refusal."""
        for pm in self.methods:
            if pm["id"] == payment_method:
                return pm
        raise PaymentMethodRefusal("payment_method_missing")

    def removal_refusal(self, payment_method: str) -> tuple[str, ...]:
        """The plans that keep ``payment_method`` from being removed (empty: removable).

        Only the last method is kept: with another one, the plans move to it.
        """
        if len(self.methods) > 1:
            return ()
        return self.dependents.get(payment_method, ())


def charged_method(sub: StripeObject, customer: StripeObject) -> str | None:
    """The payment method a subscription's invoices are charged to, if any (Stripe:
    the subscription's ``default_payment_method``, else the customer's default)."""
    if sub.get("collection_method", "charge_automatically") != "charge_automatically":
        return None
    return sub.get("default_payment_method") or \
        customer["invoice_settings"]["default_payment_method"]


def load_wallet(session: PortalSession, *, uow: UnitOfWork) -> Wallet:
    """The session customer's payment methods and rules. Raises ResourceMissing."""
    billing = billing_provider(session.account_id, uow=uow)
    customer = billing.retrieve_customer(session.customer_id)
    methods = tuple(sorted(billing.list_payment_methods(session.customer_id),
                           key=lambda pm: (pm["created"], pm["id"]), reverse=True))
    ids = {pm["id"] for pm in methods}
    default = customer["invoice_settings"]["default_payment_method"]
    dependents: dict[str, list[str]] = {}
    products: dict[str, str] = {}
    for sub in billing.list_subscriptions(session.customer_id):
        pm = charged_method(sub, customer)
        if sub["status"] not in LIVE_STATUSES or pm not in ids:
            continue
        for item in sub["items"]["data"]:
            product = item["price"]["product"]
            if product not in products:
                products[product] = billing.retrieve_product(product)["name"]
            if products[product] not in dependents.setdefault(str(pm), []):
                dependents[str(pm)].append(products[product])
    return Wallet(methods=methods, default_id=default if default in ids else None,
                  dependents={pm: tuple(names) for pm, names in dependents.items()},
                  allowed_types=allowed_types(portal_features(session, uow=uow),
                                              billing=billing),
                  customer_email=customer["email"] or "")


def wallet(session: PortalSession, *, uow: UnitOfWork) -> Wallet:
    """:func:`load_wallet` in its own transaction."""
    with uow:
        return load_wallet(session, uow=uow)


def _enabled_wallet(session: PortalSession, *, uow: UnitOfWork) -> Wallet:
    found = load_wallet(session, uow=uow)
    if not found.enabled:
        raise PaymentMethodRefusal("payment_method_update_disabled")
    return found


# --- changing ---------------------------------------------------------------------------


def _become_default_if_first(billing: BillingProvider, before: Wallet, payment_method: str,
                             *, customer_id: str) -> None:
    if before.default_id is None:
        billing.set_default_payment_method(payment_method, customer_id=customer_id)


def _declined(setup_intent: StripeObject) -> BillingError:
    """The setup intent's ``last_setup_error`` as the error the page shows."""
    error = setup_intent.get("last_setup_error") or {}
    if error.get("code") == "setup_intent_authentication_failure":
        return PaymentMethodRefusal("authentication_failed")
    if error.get("type") == "card_error" or error.get("decline_code"):
        return CardDeclined(error.get("message") or "Your card was declined.",
                            decline_code=error.get("decline_code"))
    return PaymentMethodRefusal("setup_failed")


def add_payment_method(session: PortalSession, payment_method_data: Mapping[str, Any], *,
                       return_url: str, mandate_acceptance: Mapping[str, Any] | None,
                       uow: UnitOfWork) -> StripeObject:
    """Set up a new payment method of an allowed type; returns the setup intent.

    ``succeeded``: the method is attached (and is the default if it is the first);
    ``requires_action``: the browser goes to ``next_action.redirect_to_url.url`` and
    comes back to ``return_url`` (:func:`finish_setup`). Raises InvalidRequest (a field's
    ``param``, or a :class:`PaymentMethodRefusal`), CardDeclined.
    """
    with uow:
        before = _enabled_wallet(session, uow=uow)
        if payment_method_data.get("type") not in before.allowed_types:
            raise PaymentMethodRefusal("payment_method_type_not_allowed")
        uow.origin = origin(session)
        billing = billing_provider(session.account_id, uow=uow)
        intent = billing.create_setup_intent(
            customer_id=session.customer_id, payment_method_data=payment_method_data,
            return_url=return_url, mandate_acceptance=mandate_acceptance)
        if intent["status"] == "succeeded":
            _become_default_if_first(billing, before, intent["payment_method"],
                                     customer_id=session.customer_id)
        elif intent["status"] != "requires_action":
            uow.commit()  # the failed attempt and its event are history too
            raise _declined(intent)
        uow.commit()
        return intent


def finish_setup(session: PortalSession, setup_intent: str, *, uow: UnitOfWork
                 ) -> StripeObject:
    """The outcome of a redirect or 3-D Secure setup, read from the provider (never from
    the query the browser came back with). Returns the succeeded setup intent.

    Raises ResourceMissing (another customer's), CardDeclined or
    :class:`PaymentMethodRefusal` (failed, canceled, still waiting).
    """
    with uow:
        billing = billing_provider(session.account_id, uow=uow)
        intent = billing.retrieve_setup_intent(setup_intent, customer_id=session.customer_id)
        if intent["status"] == "canceled":
            raise PaymentMethodRefusal("setup_canceled")
        if intent["status"] != "succeeded":
            raise _declined(intent)
        current = load_wallet(session, uow=uow)
        uow.origin = origin(session)
        _become_default_if_first(billing, current, intent["payment_method"],
                                 customer_id=session.customer_id)
        uow.commit()
        return intent


def remove_payment_method(session: PortalSession, payment_method: str, *, uow: UnitOfWork
                          ) -> StripeObject:
    """Detach one of the customer's methods; returns it.

    Refused (:data:`REFUSALS` ``payment_method_in_use``) for the last method a live,
    automatically charged subscription depends on. Removing the default while another
    method exists makes the newest other method the default first.
    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        current = _enabled_wallet(session, uow=uow)
        pm = current.method(payment_method)
        plans = current.removal_refusal(payment_method)
        if plans:
            raise PaymentMethodRefusal("payment_method_in_use", method=short_name(pm),
                                       plans=", ".join(plans))
        uow.origin = origin(session)
        billing = billing_provider(session.account_id, uow=uow)
        if current.default_id == payment_method:
            successor = next(m for m in current.methods if m["id"] != payment_method) \
                if len(current.methods) > 1 else None
            if successor is not None:
                billing.set_default_payment_method(successor["id"],
                                                   customer_id=session.customer_id)
        detached = billing.detach_payment_method(payment_method,
                                                 customer_id=session.customer_id)
        uow.commit()
        return detached


def make_default(session: PortalSession, payment_method: str, *, uow: UnitOfWork
                 ) -> StripeObject:
    """Make one of the customer's methods their default; returns the customer.

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        current = _enabled_wallet(session, uow=uow)
        current.method(payment_method)
        uow.origin = origin(session)
        customer = billing_provider(session.account_id, uow=uow).set_default_payment_method(
            payment_method, customer_id=session.customer_id)
        uow.commit()
        return customer


def short_name(pm: StripeObject) -> str:
    """How a refusal names a method: ``Visa •••• 4242``, ``•••• 3000``, or its email."""
    details: Mapping[str, Any] = pm.get(pm["type"]) or {}
    last4 = details.get("last4")
    brand = details.get("display_brand") or details.get("brand") or ""
    if last4:
        name = str(brand).replace("_", " ").title() if brand else ""
        return f"{name} •••• {last4}".strip()
    email = details.get("email") or details.get("payer_email") or \
        (pm.get("billing_details") or {}).get("email")
    return str(email or pm["type"].replace("_", " ").title())
