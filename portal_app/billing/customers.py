"""Customers: who pays, their billing details, their default payment method."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from portal_app.billing.ledger_events import append_if_changed
from portal_app.billing.metadata import merge_metadata
from portal_app.billing.models import Customer
from portal_app.billing.objects import render_customer
from portal_app.billing.payment_methods import attach_payment_method, attached_payment_method
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing


def create_customer(
    *,
    account_id: str,
    uow: UnitOfWork,
    email: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    description: str | None = None,
    address: dict[str, Any] | None = None,
    shipping: dict[str, Any] | None = None,
    preferred_locales: Sequence[str] = (),
    metadata: Mapping[str, str] | None = None,
    payment_method: str | None = None,
    default_payment_method: str | None = None,
) -> Customer:
    """Create a customer, optionally attaching a payment method as its default.

    Raises InvalidRequest, ResourceMissing, CardError.
    """
    if email is not None and email and "@" not in email:
        raise InvalidRequest(f"Invalid email address: {email}", param="email",
                             code="email_invalid")
    with uow:
        customer = Customer(
            account_id=account_id,
            email=email or None,
            name=name,
            phone=phone,
            description=description,
            address=address,
            shipping=shipping,
            preferred_locales=list(preferred_locales),
            metadata_=dict(metadata or {}),
            invoice_prefix=secrets.token_hex(4).upper(),
            created=uow.clock(),
        )
        uow.add(customer)
        uow.flush()
        uow.events.append("customer.created", render_customer(customer), account_id=account_id)
        if payment_method:
            pm = attach_payment_method(payment_method, customer_id=customer.id,
                                       account_id=account_id, uow=uow)
            default_payment_method = default_payment_method or pm.id
        if default_payment_method:
            update_customer(customer.id, account_id=account_id, uow=uow,
                            default_payment_method=default_payment_method)
        uow.commit()
        return customer


# The details a customer may edit about themselves (the portal's billing details page).
CUSTOMER_DETAIL_FIELDS = ("email", "name", "phone", "address", "shipping", "preferred_locales")
_CUSTOMER_FIELDS = (*CUSTOMER_DETAIL_FIELDS, "description")


def retrieve_customer(customer_id: str, *, account_id: str, uow: UnitOfWork) -> Customer:
    """One customer of the account. Raises ResourceMissing."""
    with uow:
        return uow.get(Customer, customer_id, account_id=account_id, label="customer")


def lock_customer(customer_id: str, *, uow: UnitOfWork) -> Customer:
    """Load the customer holding its row lock until the transaction ends (PostgreSQL).

    Billing reads and writes the customer's balance and invoice sequence while only
    the subscription it bills is locked: two subscriptions of one customer billed at
    once would both read the same values, and the later write would undo the earlier
    (two invoices with one number, a credit lost). ``FOR NO KEY UPDATE`` is the lock
    an UPDATE takes anyway, so rows inserted meanwhile that point at the customer
    (``FOR KEY SHARE``) do not wait for it. SQLite serializes writers already.
    Changes not yet flushed are flushed first, so the reload loses none.
    Raises ResourceMissing.
    """
    uow.flush()
    customer = uow.session.get(Customer, customer_id, with_for_update={"key_share": True},
                               populate_existing=True)
    if customer is None:
        raise ResourceMissing(f"No such customer: '{customer_id}'", param="customer")
    return customer


def update_customer(customer_id: str, *, account_id: str, uow: UnitOfWork,
                    metadata: Mapping[str, str] | None = None,
                    default_payment_method: str | None = None,
                    **fields: Any) -> Customer:
    """Change a customer's details; ``metadata`` merges (empty value removes a key).

    Raises ResourceMissing, InvalidRequest.
    """
    unknown = set(fields) - set(_CUSTOMER_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidRequest(f"Received unknown parameter: {name}", param=name)
    if fields.get("email") and "@" not in fields["email"]:
        raise InvalidRequest(f"Invalid email address: {fields['email']}", param="email",
                             code="email_invalid")
    with uow:
        customer = uow.get(Customer, customer_id, account_id=account_id, label="customer")
        before = render_customer(customer)
        for key, value in fields.items():
            setattr(customer, key, value if value != "" else None)
        if metadata is not None:
            customer.metadata_ = merge_metadata(customer.metadata_, metadata)
        if default_payment_method is not None:
            if default_payment_method:
                attached_payment_method(default_payment_method, customer_id=customer.id,
                                        account_id=account_id, uow=uow,
                                        param="invoice_settings[default_payment_method]")
            customer.default_payment_method = default_payment_method or None
        uow.add(customer)
        uow.flush()
        append_if_changed("customer.updated", before, render_customer(customer), uow=uow,
                          account_id=account_id)
        uow.commit()
        return customer
