"""Payment methods of every type: validated, saved, attached, updated, detached.

Validation and what is kept of each type is :mod:`portal_app.billing.payment_method_types`'s:
only the public sub-object Stripe shows (brand, last4, bank code, fingerprint...) is
stored, never a full card or account number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from portal_app.accounts.models import Account
from portal_app.billing import payment_method_types, processor
from portal_app.billing.ledger_events import append_if_changed
from portal_app.billing.models import Customer, Mandate, PaymentMethod, Subscription
from portal_app.billing.objects import render_customer
from portal_app.billing.payment_method_types import MethodDetails
from portal_app.billing.payment_objects import render_mandate, render_payment_method
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing

# What ``payment_methods.update`` may change of a card (Stripe's updatable fields).
UPDATABLE_CARD_FIELDS = ("exp_month", "exp_year")


def fingerprint_key(account_id: str, uow: UnitOfWork) -> str:
    """The account's secret key of fingerprints (and of other derived secrets)."""
    # Fingerprints are keyed per account: the same card is recognisable within one
    # merchant's customers only.
    account = uow.get(Account, account_id, account_id=account_id, label="account")
    return account.fingerprint_key


def card_of_test_token(token: str, *, key: str, now: datetime) -> MethodDetails | None:
    """The card one of Stripe's ``pm_card_*`` (or ``tok_*``) test ids stands for; None for
    any other id."""
    if processor.number_of_test_token(token) is None:
        return None
    return payment_method_types.card_from_test_token(token, fingerprint_key=key, now=now)


def validate(type: str, params: Mapping[str, Any], *, key: str, now: datetime
             ) -> MethodDetails:
    """Validate one type's parameters (the dict under the type's key).

    Raises InvalidRequest naming ``<type>[<field>]`` (or ``<type>``: none given).
    """
    if type in payment_method_types.REQUIRED_PARAMS and not params:
        raise InvalidRequest(f"Missing required param: {type}.", param=type,
                             code="parameter_missing")
    return payment_method_types.validate_payment_method(type, params, fingerprint_key=key,
                                                        now=now)


def store(method: MethodDetails, *, account_id: str, now: datetime,
          billing_details: Mapping[str, Any] | None = None,
          metadata: Mapping[str, str] | None = None,
          allow_redisplay: str | None = None) -> PaymentMethod:
    """A new (unattached) payment method row for ``method``."""
    d = method.details
    return PaymentMethod(
        account_id=account_id, type=method.type, brand=d.get("brand"), last4=d.get("last4"),
        exp_month=d.get("exp_month"), exp_year=d.get("exp_year"), funding=d.get("funding"),
        country=d.get("country"), fingerprint=method.fingerprint,
        billing_details=dict(billing_details or {}), details=dict(d),
        charge_decline_code=method.charge_decline_code,
        check_decline_code=method.attach_decline_code,
        requires_authentication=method.requires_authentication,
        allow_redisplay=allow_redisplay or "unspecified",
        metadata_=dict(metadata or {}), created=now)


def create_payment_method(*, account_id: str, uow: UnitOfWork, type: str = "card",
                          card: Mapping[str, Any] | None = None,
                          method_params: Mapping[str, Any] | None = None,
                          billing_details: Mapping[str, Any] | None = None,
                          metadata: Mapping[str, str] | None = None,
                          allow_redisplay: str | None = None) -> PaymentMethod:
    """A payment method of ``type`` from its parameters (``card``, or ``method_params``
    for the other types), unattached.

    Raises InvalidRequest, CardError.
    """
    params = card if type == "card" and card is not None else method_params
    with uow:
        now = uow.clock()
        method = validate(type, params or {}, key=fingerprint_key(account_id, uow), now=now)
        pm = store(method, account_id=account_id, now=now, billing_details=billing_details,
                   metadata=metadata, allow_redisplay=allow_redisplay)
        uow.add(pm)
        uow.flush()
        uow.commit()
        return pm


def attach_payment_method(payment_method: str, *, customer_id: str, account_id: str,
                          uow: UnitOfWork, customer_scoped: bool = False,
                          authorized: bool = False) -> PaymentMethod:
    """Attach a payment method (or one of Stripe's ``pm_card_*`` test ids) to a customer.

    The processor checks the card first, as Stripe does: a card that declines
    every charge is refused here. ``customer_scoped`` (the portal) answers a
    method of another customer as missing rather than as already attached. A wallet
    (redirect type) is attached only once its owner ``authorized`` it: through a setup
    intent, as on Stripe. Raises ResourceMissing, InvalidRequest, CardDeclined.
    """
    with uow:
        customer = uow.get(Customer, customer_id, account_id=account_id, param="customer",
                           label="customer")
        now = uow.clock()
        method = card_of_test_token(payment_method, key=fingerprint_key(account_id, uow),
                                   now=now)
        if method is not None:
            pm = store(method, account_id=account_id, now=now)
            uow.add(pm)
            uow.flush()
        else:
            pm = uow.get(PaymentMethod, payment_method, account_id=account_id,
                         param="payment_method", label="PaymentMethod")
        if pm.customer_id is not None:
            if pm.customer_id == customer.id:
                return pm
            if customer_scoped:
                raise ResourceMissing(f"No such PaymentMethod: '{payment_method}'",
                                      param="payment_method")
            raise InvalidRequest(
                "The payment method you provided has already been attached to a customer.",
                param="payment_method",
            )
        if pm.type in payment_method_types.REDIRECT_TYPES and not authorized:
            raise InvalidRequest(f"A {pm.type} PaymentMethod must be attached through a "
                                 "SetupIntent, which its owner authorizes.",
                                 param="payment_method")
        if pm.check_decline_code:
            raise processor.decline(pm.check_decline_code)
        pm.customer_id = customer.id
        uow.add(pm)
        uow.flush()
        uow.events.append("payment_method.attached", render_payment_method(pm),
                          account_id=account_id)
        uow.commit()
        return pm


def update_payment_method(payment_method_id: str, *, account_id: str, uow: UnitOfWork,
                          billing_details: Mapping[str, Any] | None = None,
                          metadata: Mapping[str, str] | None = None,
                          card: Mapping[str, Any] | None = None,
                          allow_redisplay: str | None = None,
                          customer_id: str | None = None) -> PaymentMethod:
    """Change a payment method's billing details, metadata, card expiry or redisplay.

    ``billing_details`` is merged field by field; ``metadata`` keys with an empty value
    are removed. Appends ``payment_method.updated`` with ``previous_attributes``.
    Raises ResourceMissing, InvalidRequest (an expiry in the past).
    """
    with uow:
        pm = retrieve_payment_method(payment_method_id, account_id=account_id, uow=uow,
                                     customer_id=customer_id)
        before = render_payment_method(pm)
        if card:
            if pm.type != "card":
                raise InvalidRequest(f"You cannot update card details of a `{pm.type}` "
                                     "payment method.", param="card")
            unknown = sorted(set(card) - set(UPDATABLE_CARD_FIELDS))
            if unknown:
                raise InvalidRequest(f"Received unknown parameter: card[{unknown[0]}]",
                                     param=f"card[{unknown[0]}]")
            pm.exp_month, pm.exp_year = processor.card_expiry(
                card.get("exp_month", pm.exp_month), card.get("exp_year", pm.exp_year),
                now=uow.clock(), error=InvalidRequest,
                params=("card[exp_month]", "card[exp_year]"))
            if pm.details:
                pm.details = {**pm.details, "exp_month": pm.exp_month,
                              "exp_year": pm.exp_year}
        if billing_details is not None:
            pm.billing_details = {**pm.billing_details, **billing_details}
        if metadata is not None:
            merged = {**pm.metadata_, **metadata}
            pm.metadata_ = {k: v for k, v in merged.items() if v != ""}
        if allow_redisplay is not None:
            pm.allow_redisplay = allow_redisplay
        uow.add(pm)
        uow.flush()
        append_if_changed("payment_method.updated", before, render_payment_method(pm),
                          uow=uow, account_id=account_id)
        uow.commit()
        return pm


def detach_payment_method(payment_method_id: str, *, account_id: str, uow: UnitOfWork,
                          customer_id: str | None = None) -> PaymentMethod:
    """Detach a payment method from its customer; it can never be attached again.

    As on Stripe, a customer whose default it was has no default afterwards, and its
    mandates become inactive (``mandate.updated``). ``customer_id`` (the portal): only a
    method of that customer. Raises ResourceMissing, InvalidRequest (attached to nobody).
    """
    with uow:
        pm = retrieve_payment_method(payment_method_id, account_id=account_id, uow=uow,
                                     customer_id=customer_id)
        if pm.customer_id is None:
            raise InvalidRequest("The payment method you provided is not attached to a "
                                 "customer so detachment is impossible.",
                                 param="payment_method")
        customer = uow.session.get(Customer, pm.customer_id)
        if customer is not None and customer.default_payment_method == pm.id:
            before = render_customer(customer)
            customer.default_payment_method = None
            uow.add(customer)
            uow.flush()
            append_if_changed("customer.updated", before, render_customer(customer),
                              uow=uow, account_id=account_id)
        for sub in uow.session.exec(select(Subscription).where(
                Subscription.default_payment_method == pm.id)).all():
            sub.default_payment_method = None
            uow.add(sub)
        for mandate in uow.session.exec(select(Mandate).where(
                Mandate.payment_method_id == pm.id, Mandate.status != "inactive")).all():
            previous = {"status": mandate.status}
            mandate.status = "inactive"
            uow.add(mandate)
            uow.events.append("mandate.updated", render_mandate(mandate, method_type=pm.type),
                              account_id=account_id, previous_attributes=previous,
                              customer_id=mandate.customer_id)
        previous_customer = pm.customer_id
        pm.customer_id = None
        uow.add(pm)
        uow.flush()
        uow.events.append("payment_method.detached", render_payment_method(pm),
                          account_id=account_id,
                          previous_attributes={"customer": previous_customer},
                          customer_id=previous_customer)
        uow.commit()
        return pm


def retrieve_payment_method(payment_method_id: str, *, account_id: str, uow: UnitOfWork,
                            customer_id: str | None = None) -> PaymentMethod:
    """One payment method; with ``customer_id``, only one attached to that customer.

    Raises ResourceMissing.
    """
    with uow:
        return uow.get(PaymentMethod, payment_method_id, account_id=account_id,
                       param="payment_method", label="PaymentMethod", customer_id=customer_id)


def list_payment_methods(customer_id: str, *, account_id: str, uow: UnitOfWork,
                         type: str | None = None) -> list[PaymentMethod]:
    """A customer's payment methods (of one ``type``), newest first. Raises ResourceMissing."""
    with uow:
        uow.get(Customer, customer_id, account_id=account_id, param="customer",
                label="customer")
        query = select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)
        if type is not None:
            query = query.where(PaymentMethod.type == type)
        return list(uow.session.exec(
            query.order_by(col(PaymentMethod.created).desc(), col(PaymentMethod.id).desc())
        ).all())


def attached_payment_method(payment_method_id: str, *, customer_id: str, account_id: str,
                            uow: UnitOfWork, param: str) -> PaymentMethod:
    """A payment method of the account attached to ``customer_id`` (to make it a default).

    Raises ResourceMissing, InvalidRequest (attached to nobody or to another customer).
    """
    pm = uow.get(PaymentMethod, payment_method_id, account_id=account_id, param=param,
                 label="PaymentMethod")
    if pm.customer_id != customer_id:
        raise InvalidRequest(f"The payment method `{pm.id}` is not attached to customer "
                             f"`{customer_id}`.", param=param)
    return pm


def payment_method_for(sub: Subscription, uow: UnitOfWork) -> PaymentMethod | None:
    """What pays the subscription's invoices: its own default, else its customer's."""
    pm_id = sub.default_payment_method
    if pm_id is None:
        customer = uow.session.get(Customer, sub.customer_id)
        pm_id = customer.default_payment_method if customer else None
    return uow.session.get(PaymentMethod, pm_id) if pm_id else None
