"""Setup intents: saving a payment method for later payments, authorized if it must be.

A setup intent goes ``requires_payment_method`` → ``requires_confirmation`` (a method
given) → on confirmation either ``succeeded`` (the method attached to the customer, a
mandate recorded for bank debits), ``requires_action`` (a redirect type or a 3-D Secure
card: ``next_action.redirect_to_url`` leads to Portico's test authorization page), or
back to ``requires_payment_method`` with ``last_setup_error`` (a declined card, a failed
authorization). ``canceled`` ends it. Each step appends its ``setup_intent.*`` event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from portal_app.billing import (
    authorizations,
    mandates,
    payment_method_types,
    payment_methods,
    processor,
)
from portal_app.billing.models import Customer, PaymentMethod, PendingAuthorization, SetupIntent
from portal_app.billing.payment_objects import render_payment_method, render_setup_intent
from portal_app.db import UnitOfWork
from portal_app.errors import BillingError, CardDeclined, CardError, InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import CARD_BRAND_NAMES

KIND = "setup_intent"  # the test authorization page's kind for setup intents
REQUIRES_PAYMENT_METHOD = "requires_payment_method"
REQUIRES_CONFIRMATION = "requires_confirmation"
REQUIRES_ACTION = "requires_action"
SUCCEEDED = "succeeded"
CANCELED = "canceled"
CANCELLATION_REASONS = ("abandoned", "duplicate", "requested_by_customer")
AUTHENTICATION_FAILED = {
    "type": "invalid_request_error", "code": "setup_intent_authentication_failure",
    "message": "The latest attempt to set up the payment method has failed because "
               "authentication failed.",
}


def client_secret(si: SetupIntent, *, uow: UnitOfWork) -> str:
    """The setup intent's ``client_secret``: derived from its id with the account's key."""
    key = payment_methods.fingerprint_key(si.account_id, uow)
    mac = hmac.new(key.encode(), f"setup_intent:{si.id}".encode(), hashlib.sha256).digest()
    return f"{si.id}_secret_{base64.urlsafe_b64encode(mac).decode()[:24]}"


def render(si: SetupIntent, uow: UnitOfWork) -> dict[str, Any]:
    """Stripe's ``setup_intent`` object of ``si``."""
    return render_setup_intent(si, client_secret=client_secret(si, uow=uow))


def _event(type: str, si: SetupIntent, uow: UnitOfWork) -> None:
    uow.events.append(f"setup_intent.{type}", render(si, uow), account_id=si.account_id)


def create_setup_intent(*, account_id: str, uow: UnitOfWork, customer_id: str | None = None,
                        payment_method_types: Sequence[str] | None = None,
                        payment_method: str | None = None,
                        payment_method_data: Mapping[str, Any] | None = None,
                        confirm: bool = False, return_url: str | None = None,
                        mandate_acceptance: Mapping[str, Any] | None = None,
                        usage: str = "off_session", description: str | None = None,
                        metadata: Mapping[str, str] | None = None) -> SetupIntent:
    """A new setup intent, confirmed at once with ``confirm``.

    Raises ResourceMissing (customer, payment method), InvalidRequest. A declined method
    is not an error here: the setup intent records it (see :func:`failure`).
    """
    with uow:
        if customer_id is not None:
            uow.get(Customer, customer_id, account_id=account_id, param="customer",
                    label="customer")
        types = list(payment_method_types or [])
        if not types:
            types = [str(payment_method_data.get("type") or "card")] if payment_method_data \
                else ["card"]
        si = SetupIntent(account_id=account_id, customer_id=customer_id,
                         payment_method_types=types, usage=usage, description=description,
                         return_url=return_url, metadata_=dict(metadata or {}),
                         created=uow.clock())
        if payment_method is not None or payment_method_data is not None:
            si.payment_method_id = _payment_method(si, payment_method, payment_method_data,
                                                   uow=uow).id
            si.status = REQUIRES_CONFIRMATION
        uow.add(si)
        uow.flush()
        _event("created", si, uow)
        if confirm:
            confirm_setup_intent(si.id, account_id=account_id, uow=uow,
                                 mandate_acceptance=mandate_acceptance)
        uow.commit()
        return si


def _payment_method(si: SetupIntent, payment_method: str | None,
                    data: Mapping[str, Any] | None, *, uow: UnitOfWork) -> PaymentMethod:
    """The method to set up: new from ``data``, a ``pm_card_*`` test id, or a saved one."""
    if data is not None:
        type = str(data.get("type") or "")
        if not type:
            raise InvalidRequest("Missing required param: payment_method_data[type].",
                                 param="type", code="parameter_missing")
        params = data.get(type) or {}
        return payment_methods.create_payment_method(
            account_id=si.account_id, uow=uow, type=type,
            card=params if type == "card" else None,
            method_params=params if type != "card" else None,
            billing_details=data.get("billing_details"), metadata=data.get("metadata"),
            allow_redisplay=data.get("allow_redisplay"))
    assert payment_method is not None
    method = payment_methods.card_of_test_token(
        payment_method, key=payment_methods.fingerprint_key(si.account_id, uow),
        now=uow.clock())
    if method is not None:
        pm = payment_methods.store(method, account_id=si.account_id, now=uow.clock())
        uow.add(pm)
        uow.flush()
        return pm
    pm = uow.get(PaymentMethod, payment_method, account_id=si.account_id,
                 param="payment_method", label="PaymentMethod")
    if pm.customer_id is not None and pm.customer_id != si.customer_id:
        raise ResourceMissing(f"No such PaymentMethod: '{payment_method}'",
                              param="payment_method")
    return pm


def confirm_setup_intent(setup_intent_id: str, *, account_id: str, uow: UnitOfWork,
                         payment_method: str | None = None,
                         payment_method_data: Mapping[str, Any] | None = None,
                         return_url: str | None = None,
                         mandate_acceptance: Mapping[str, Any] | None = None,
                         customer_id: str | None = None) -> SetupIntent:
    """Confirm: succeed, require an authorization, or record a decline.

    Raises ResourceMissing, InvalidRequest (``setup_intent_unexpected_state``, a method
    type the intent does not allow, a missing ``mandate_data`` or ``return_url``).
    """
    with uow:
        si = retrieve_setup_intent(setup_intent_id, account_id=account_id, uow=uow,
                                   customer_id=customer_id)
        if si.status not in (REQUIRES_PAYMENT_METHOD, REQUIRES_CONFIRMATION):
            raise InvalidRequest(
                f"You cannot confirm this SetupIntent because it has a status of "
                f"{si.status}.", code="setup_intent_unexpected_state")
        if payment_method is not None or payment_method_data is not None:
            pm = _payment_method(si, payment_method, payment_method_data, uow=uow)
        elif si.payment_method_id is not None:
            pm = uow.get(PaymentMethod, si.payment_method_id, account_id=account_id,
                         label="PaymentMethod")
        else:
            raise InvalidRequest("You cannot confirm this SetupIntent because it's missing "
                                 "a payment method.", param="payment_method",
                                 code="setup_intent_unexpected_state")
        if pm.type not in si.payment_method_types:
            raise InvalidRequest(
                f"The PaymentMethod provided ({pm.type}) is not allowed for this "
                f"SetupIntent. Allowed types: {', '.join(si.payment_method_types)}.",
                param="payment_method")
        if return_url is not None:
            si.return_url = return_url
        if pm.type in mandates.MANDATE_TYPES:
            if not mandate_acceptance:
                raise InvalidRequest("Missing required param: "
                                     "mandate_data[customer_acceptance].",
                                     param="mandate_data[customer_acceptance]",
                                     code="parameter_missing")
            si.mandate_acceptance = mandates.parse_acceptance(
                mandate_acceptance, param="mandate_data[customer_acceptance]",
                accepted_at=mandates.acceptance_now(uow))
        if pm.type in payment_method_types.REDIRECT_TYPES and not si.return_url:
            raise InvalidRequest(f"A return_url is required to confirm a SetupIntent with "
                                 f"a {pm.type} payment method.", param="return_url",
                                 code="parameter_missing")
        si.payment_method_id = pm.id
        si.last_setup_error = None
        if pm.check_decline_code:
            _fail(si, _decline_error(pm), uow=uow)
        elif pm.type in payment_method_types.REDIRECT_TYPES or pm.requires_authentication:
            auth = authorizations.start_authorization(
                kind=KIND, object_id=si.id, account_id=account_id, return_url=si.return_url,
                uow=uow)
            si.status = REQUIRES_ACTION
            si.next_action = {"type": "redirect_to_url", "redirect_to_url": {
                "url": authorizations.authorization_url(auth, uow=uow),
                "return_url": si.return_url}}
            uow.add(si)
            uow.flush()
            _event("requires_action", si, uow)
        else:
            _succeed(si, pm, uow=uow)
        uow.commit()
        return si


def _decline_error(pm: PaymentMethod) -> dict[str, Any]:
    error = processor.decline(pm.check_decline_code or "generic_decline")
    return {"type": error.type, "code": error.code, "decline_code": error.decline_code,
            "message": error.message, "payment_method": render_payment_method(pm),
            "payment_method_type": pm.type}


def _fail(si: SetupIntent, error: dict[str, Any], *, uow: UnitOfWork) -> None:
    # As on Stripe, the intent waits for another method; the failed one is in the error.
    si.status = REQUIRES_PAYMENT_METHOD
    si.payment_method_id = None
    si.next_action = None
    si.last_setup_error = error
    uow.add(si)
    uow.flush()
    _event("setup_failed", si, uow)


def _succeed(si: SetupIntent, pm: PaymentMethod, *, uow: UnitOfWork) -> None:
    if si.customer_id is not None and pm.customer_id is None:
        payment_methods.attach_payment_method(pm.id, customer_id=si.customer_id,
                                              account_id=si.account_id, uow=uow,
                                              authorized=True)
    if si.mandate_acceptance and pm.type in mandates.MANDATE_TYPES:
        mandate = mandates.create_mandate(pm, acceptance=si.mandate_acceptance,
                                          account_id=si.account_id, uow=uow)
        si.mandate_id = mandate.id
    si.status = SUCCEEDED
    si.next_action = None
    uow.add(si)
    uow.flush()
    _event("succeeded", si, uow)


def failure(si: SetupIntent) -> BillingError | None:
    """The error of the latest confirmation, if it failed (what the API answers with)."""
    if si.status != REQUIRES_PAYMENT_METHOD or not si.last_setup_error:
        return None
    error = si.last_setup_error
    if error.get("type") == "card_error":
        if error.get("decline_code"):
            return CardDeclined(str(error["message"]), code=error.get("code"),
                                decline_code=error.get("decline_code"))
        return CardError(str(error["message"]), code=error.get("code"))
    return InvalidRequest(str(error["message"]), code=error.get("code"))


def retrieve_setup_intent(setup_intent_id: str, *, account_id: str, uow: UnitOfWork,
                          customer_id: str | None = None) -> SetupIntent:
    """One setup intent; with ``customer_id``, only one of that customer's.

    Raises ResourceMissing.
    """
    with uow:
        return uow.get(SetupIntent, setup_intent_id, account_id=account_id,
                       param="intent", label="setup_intent", customer_id=customer_id)


def update_setup_intent(setup_intent_id: str, *, account_id: str, uow: UnitOfWork,
                        metadata: Mapping[str, str] | None = None,
                        description: str | None = None) -> SetupIntent:
    """Change a setup intent's description or metadata. Raises ResourceMissing."""
    with uow:
        si = retrieve_setup_intent(setup_intent_id, account_id=account_id, uow=uow)
        if metadata is not None:
            merged = {**si.metadata_, **metadata}
            si.metadata_ = {k: v for k, v in merged.items() if v != ""}
        if description is not None:
            si.description = description or None
        uow.add(si)
        uow.flush()
        uow.commit()
        return si


def cancel_setup_intent(setup_intent_id: str, *, account_id: str, uow: UnitOfWork,
                        cancellation_reason: str | None = None) -> SetupIntent:
    """Cancel a setup intent that has not succeeded.

    Raises ResourceMissing, InvalidRequest (``setup_intent_unexpected_state``, an unknown
    ``cancellation_reason``).
    """
    with uow:
        si = retrieve_setup_intent(setup_intent_id, account_id=account_id, uow=uow)
        if si.status in (SUCCEEDED, CANCELED):
            raise InvalidRequest(f"You cannot cancel this SetupIntent because it has a "
                                 f"status of {si.status}.",
                                 code="setup_intent_unexpected_state")
        if cancellation_reason is not None and cancellation_reason not in CANCELLATION_REASONS:
            raise InvalidRequest(f"Invalid cancellation_reason: must be one of "
                                 f"{', '.join(CANCELLATION_REASONS)}.",
                                 param="cancellation_reason")
        si.status = CANCELED
        si.cancellation_reason = cancellation_reason
        si.next_action = None
        uow.add(si)
        uow.flush()
        _event("canceled", si, uow)
        uow.commit()
        return si


# --- the test authorization page's kind ---------------------------------------------------


def _describe(auth: PendingAuthorization, uow: UnitOfWork) -> authorizations.Description:
    si = uow.get(SetupIntent, auth.object_id, account_id=auth.account_id)
    pm = (uow.session.get(PaymentMethod, si.payment_method_id)
          if si.payment_method_id else None)
    return authorizations.Description(summary=_method_name(pm))


# How the test page names a wallet (its own brand name, never translated).
WALLET_NAMES = {"link": "Link", "paypal": "PayPal", "cashapp": "Cash App Pay",
                "amazon_pay": "Amazon Pay", "revolut_pay": "Revolut Pay",
                "kakao_pay": "Kakao Pay", "naver_pay": "Naver Pay",
                "samsung_pay": "Samsung Pay", "kr_card": "Korean card"}


def _method_name(pm: PaymentMethod | None) -> str:
    if pm is None:
        return ""
    if pm.last4:
        brand = CARD_BRAND_NAMES.get(pm.brand or "", pm.brand) if pm.type == "card" else \
            str(pm.details.get("bank_name") or pm.type.replace("_", " ").upper())
        return f"{brand} •••• {pm.last4}"
    email = pm.billing_details.get("email")
    name = WALLET_NAMES.get(pm.type, pm.type)
    return f"{name} ({email})" if email else name


def _complete(auth: PendingAuthorization, succeeded: bool, uow: UnitOfWork) -> dict[str, str]:
    si = uow.get(SetupIntent, auth.object_id, account_id=auth.account_id)
    if si.status == REQUIRES_ACTION:
        pm = uow.get(PaymentMethod, si.payment_method_id, account_id=si.account_id)
        if succeeded:
            _fill_wallet(pm)
            _succeed(si, pm, uow=uow)
        else:
            _fail(si, {**AUTHENTICATION_FAILED, "payment_method": render_payment_method(pm),
                       "payment_method_type": pm.type}, uow=uow)
    query = {"setup_intent": si.id, "setup_intent_client_secret": client_secret(si, uow=uow)}
    if si.status != SUCCEEDED:
        query["redirect_status"] = "failed"  # failed now, or canceled meanwhile
    return query


def _fill_wallet(pm: PaymentMethod) -> None:
    # What a wallet tells the merchant once the customer has authorized it.
    email = pm.billing_details.get("email")
    if pm.type in ("paypal", "link") and email:
        field = "payer_email" if pm.type == "paypal" else "email"
        pm.details = {**pm.details, field: email}


authorizations.register_kind(KIND, authorizations.AuthorizationKind(
    describe=_describe, complete=_complete))
