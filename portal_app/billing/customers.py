"""Customers: who pays, their billing details, their default payment method."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from portal_app.billing.metadata import merge_metadata
from portal_app.billing.models import Customer, TestClock
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
    test_clock: str | None = None,
) -> Customer:
    """Create a customer, optionally attaching a payment method as its default.

    With ``test_clock`` the customer lives on that clock (created at its frozen time;
    see :mod:`portal_app.billing.test_clocks`). Raises InvalidRequest, ResourceMissing,
    CardError.
    """
    if email is not None and email and "@" not in email:
        raise InvalidRequest(f"Invalid email address: {email}", param="email",
                             code="email_invalid")
    with uow:
        clock = (uow.get(TestClock, test_clock, account_id=account_id, param="test_clock",
                         label="test_clock") if test_clock else None)
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
            test_clock=clock.id if clock else None,
            created=clock.frozen_time if clock else uow.clock(),
        )
        uow.add(customer)
        uow.flush()
        uow.events.append("customer.created", render_customer(customer), account_id=account_id)
        if payment_method:
            pm = attach_payment_method(payment_method, customer_id=customer.id,
                                       account_id=account_id, uow=uow)
            # As on Stripe, invoice_settings[default_payment_method] may repeat the
            # payment_method given (a pm_card_* test id): it names the method just attached.
            if default_payment_method in (None, payment_method):
                default_payment_method = pm.id
        if default_payment_method:
            update_customer(customer.id, account_id=account_id, uow=uow,
                            default_payment_method=default_payment_method)
        uow.commit()
        return customer


# The details a customer may edit about themselves (the portal's billing details page).
CUSTOMER_DETAIL_FIELDS = ("email", "name", "phone", "address", "shipping", "preferred_locales")
_CUSTOMER_FIELDS = (*CUSTOMER_DETAIL_FIELDS, "description", "tax_exempt")
# Stripe's ``tax_exempt`` values (a merchant's setting, not the customer's).
TAX_EXEMPT_VALUES = ("none", "exempt", "reverse")


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

    Emits ``customer.updated`` with what changed (:func:`changed_attributes`), nothing
    when nothing did.
    Raises ResourceMissing, InvalidRequest.
    """
    unknown = set(fields) - set(_CUSTOMER_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidRequest(f"Received unknown parameter: {name}", param=name)
    if fields.get("email") and "@" not in fields["email"]:
        raise InvalidRequest(f"Invalid email address: {fields['email']}", param="email",
                             code="email_invalid")
    if "tax_exempt" in fields and fields["tax_exempt"] not in TAX_EXEMPT_VALUES:
        raise InvalidRequest("Invalid tax_exempt: must be one of "
                             + ", ".join(TAX_EXEMPT_VALUES), param="tax_exempt")
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
        after = render_customer(customer)
        previous = changed_attributes(before, after)
        if previous:
            uow.events.append("customer.updated", after, account_id=account_id,
                              previous_attributes=previous)
        uow.commit()
        return customer


def changed_attributes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Stripe's ``previous_attributes`` of an update: the old value of what changed.

    Within hashes (``address``, ``shipping``, ``metadata``, ``invoice_settings``) only the
    keys that changed, a key that did not exist before as ``None``; a hash that was
    null, or is now, as a whole.

    >>> changed_attributes({"name": "A", "address": {"city": "Bonn", "line1": "X"}},
    ...                    {"name": "A", "address": {"city": "Köln", "line1": "X"}})
    {'address': {'city': 'Bonn'}}
    """
    previous: dict[str, Any] = {}
    for key in after:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            previous[key] = changed_attributes(old, new) | {
                gone: old[gone] for gone in old if gone not in new}
        else:
            previous[key] = old
    return previous
