"""Payment methods: test cards tokenized by the processor, attached to customers.

Only brand, last4, expiry and a fingerprint are kept (:mod:`portal_app.billing.processor`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from portal_app.accounts.models import Account
from portal_app.billing import processor
from portal_app.billing.models import Customer, PaymentMethod, Subscription
from portal_app.billing.objects import render_payment_method
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing


def create_payment_method(*, account_id: str, uow: UnitOfWork, type: str = "card",
                          card: Mapping[str, Any] | None = None,
                          billing_details: Mapping[str, Any] | None = None,
                          metadata: Mapping[str, str] | None = None) -> PaymentMethod:
    """Tokenize a card (raw test number or ``card[token]=pm_card_*``) into a payment method.

    Raises InvalidRequest, CardError.
    """
    if type != "card":
        raise InvalidRequest(f"The payment method type `{type}` is not supported here.",
                             param="type")
    if not card:
        raise InvalidRequest("Missing required param: card.", param="card",
                             code="parameter_missing")
    with uow:
        now = uow.clock()
        if card.get("token"):
            details = processor.tokenize_test_payment_method(
                str(card["token"]), fingerprint_key=_fingerprint_key(account_id, uow), now=now)
        else:
            if not card.get("number"):
                raise InvalidRequest("Missing required param: card[number].",
                                     param="card[number]", code="parameter_missing")
            details = processor.tokenize_card(
                number=str(card["number"]), exp_month=card.get("exp_month"),
                exp_year=card.get("exp_year"),
                cvc=str(card["cvc"]) if card.get("cvc") is not None else None,
                fingerprint_key=_fingerprint_key(account_id, uow), now=now,
            )
        pm = _store_card(details, account_id=account_id, now=now,
                         billing_details=billing_details, metadata=metadata)
        uow.add(pm)
        uow.flush()
        uow.commit()
        return pm


def _fingerprint_key(account_id: str, uow: UnitOfWork) -> str:
    # Fingerprints are keyed per account: the same card is recognisable within one
    # merchant's customers only.
    account = uow.get(Account, account_id, account_id=account_id, label="account")
    return account.fingerprint_key


def _store_card(details: processor.CardDetails, *, account_id: str, now: datetime,
                billing_details: Mapping[str, Any] | None = None,
                metadata: Mapping[str, str] | None = None) -> PaymentMethod:
    pm = PaymentMethod(account_id=account_id, type="card", brand=details.brand,
                       last4=details.last4, exp_month=details.exp_month,
                       exp_year=details.exp_year, funding=details.funding,
                       country=details.country, fingerprint=details.fingerprint,
                       billing_details=dict(billing_details or {}),
                       charge_decline_code=details.charge_decline_code,
                       check_decline_code=details.attach_decline_code,
                       metadata_=dict(metadata or {}), created=now)
    return pm


def attach_payment_method(payment_method: str, *, customer_id: str, account_id: str,
                          uow: UnitOfWork, customer_scoped: bool = False) -> PaymentMethod:
    """Attach a payment method (or one of Stripe's ``pm_card_*`` test ids) to a customer.

    The processor checks the card first, as Stripe does: a card that declines
    every charge is refused here. ``customer_scoped`` (the portal) answers a
    method of another customer as missing rather than as already attached.
    Raises ResourceMissing, InvalidRequest, CardDeclined.
    """
    with uow:
        customer = uow.get(Customer, customer_id, account_id=account_id, param="customer",
                           label="customer")
        now = uow.clock()
        if payment_method in processor.TEST_PAYMENT_METHODS:
            details = processor.tokenize_test_payment_method(
                payment_method, fingerprint_key=_fingerprint_key(account_id, uow), now=now)
            pm = _store_card(details, account_id=account_id, now=now)
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
        if pm.check_decline_code:
            raise processor.decline(pm.check_decline_code)
        pm.customer_id = customer.id
        uow.add(pm)
        uow.flush()
        uow.events.append("payment_method.attached", render_payment_method(pm),
                          account_id=account_id)
        uow.commit()
        return pm


def retrieve_payment_method(payment_method_id: str, *, account_id: str, uow: UnitOfWork,
                            customer_id: str | None = None) -> PaymentMethod:
    """One payment method; with ``customer_id``, only one attached to that customer.

    Raises ResourceMissing.
    """
    with uow:
        pm = uow.get(PaymentMethod, payment_method_id, account_id=account_id,
                     param="payment_method", label="PaymentMethod")
        if customer_id is not None and pm.customer_id != customer_id:
            raise ResourceMissing(f"No such PaymentMethod: '{payment_method_id}'",
                                  param="payment_method")
        return pm


def list_payment_methods(customer_id: str, *, account_id: str, uow: UnitOfWork
                         ) -> list[PaymentMethod]:
    """A customer's payment methods, newest first. Raises ResourceMissing."""
    with uow:
        uow.get(Customer, customer_id, account_id=account_id, param="customer",
                label="customer")
        return list(uow.session.exec(
            select(PaymentMethod)
            .where(PaymentMethod.customer_id == customer_id)
            .order_by(col(PaymentMethod.created).desc(), col(PaymentMethod.id).desc())
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
