"""Customers' tax IDs on the ledger: create, list, retrieve, delete, and the ``tax_id`` object.

Values are checked by :mod:`portal_app.billing.tax_id_types` (Stripe's per-type format,
and python-stdnum's check digit where it knows the number). ``verification.status`` is
``unavailable``: Portico has no network access to VIES, HMRC or the ABR, and a checksum
is not a verification.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import stripe
from sqlmodel import Session, col, or_, select

from portal_app.billing.models import Customer, TaxId
from portal_app.billing.tax_id_types import check_tax_id, tax_id_country
from portal_app.clock import to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import complete

# Stripe allows at most this many tax IDs per customer.
MAX_TAX_IDS = 25


def render_tax_id(tax_id: TaxId) -> dict[str, Any]:
    """Stripe's ``tax_id`` object of a customer's tax ID."""
    return complete(
        stripe.TaxId,
        {
            "id": tax_id.id,
            "country": tax_id.country,
            "created": to_unix(tax_id.created),
            "customer": tax_id.customer_id,
            "owner": complete(stripe.TaxId.Owner,
                              {"type": "customer", "customer": tax_id.customer_id}),
            "type": tax_id.type,
            "value": tax_id.value,
            # No network: nothing is verified against a tax authority.
            "verification": complete(stripe.TaxId.Verification,
                                     {"status": "unavailable", "verified_address": None,
                                      "verified_name": None}),
        },
    )


def render_deleted_tax_id(tax_id: TaxId) -> dict[str, Any]:
    """Stripe's answer to a deletion: ``{id, object: "tax_id", deleted: true}``."""
    return {"id": tax_id.id, "object": "tax_id", "deleted": True}


def _live(uow: UnitOfWork, customer_id: str) -> list[TaxId]:
    return list(uow.session.exec(
        select(TaxId)
        .where(TaxId.customer_id == customer_id, col(TaxId.deleted).is_(None))
        .order_by(col(TaxId.created).desc(), col(TaxId.id).desc())).all())


def create_tax_id(customer_id: str, *, type: str, value: str, account_id: str,
                  uow: UnitOfWork) -> TaxId:
    """Add a tax ID to the customer; emits ``customer.tax_id.created``.

    Raises ResourceMissing (no such customer), InvalidRequest (see :func:`check_tax_id`;
    ``tax_id_invalid`` also when the customer already has 25).
    """
    value = check_tax_id(type, value)
    with uow:
        customer = uow.get(Customer, customer_id, account_id=account_id, param="customer",
                           label="customer")
        if len(_live(uow, customer.id)) >= MAX_TAX_IDS:
            raise InvalidRequest(f"A customer can have at most {MAX_TAX_IDS} tax IDs.",
                                 code="tax_id_invalid", param="value")
        tax_id = TaxId(account_id=account_id, customer_id=customer.id, type=type, value=value,
                       country=tax_id_country(type, value), created=uow.clock())
        uow.add(tax_id)
        uow.flush()
        uow.events.append("customer.tax_id.created", render_tax_id(tax_id),
                          account_id=account_id)
        uow.commit()
        return tax_id


def list_tax_ids(customer_id: str, *, account_id: str, uow: UnitOfWork) -> list[TaxId]:
    """The customer's tax IDs, newest first. Raises ResourceMissing."""
    with uow:
        customer = uow.get(Customer, customer_id, account_id=account_id, param="customer",
                           label="customer")
        return _live(uow, customer.id)


def retrieve_tax_id(customer_id: str, tax_id: str, *, account_id: str,
                    uow: UnitOfWork) -> TaxId:
    """One of the customer's tax IDs; another customer's (or a deleted one) is missing.

    Raises ResourceMissing.
    """
    with uow:
        customer = uow.get(Customer, customer_id, account_id=account_id, param="customer",
                           label="customer")
        row = uow.session.get(TaxId, tax_id)
        if (row is None or row.account_id != account_id or row.customer_id != customer.id
                or row.deleted is not None):
            raise ResourceMissing(f"No such tax_id: '{tax_id}'", param="id")
        return row


def delete_tax_id(customer_id: str, tax_id: str, *, account_id: str, uow: UnitOfWork) -> TaxId:
    """Delete one of the customer's tax IDs; emits ``customer.tax_id.deleted``.

    Raises ResourceMissing.
    """
    with uow:
        row = retrieve_tax_id(customer_id, tax_id, account_id=account_id, uow=uow)
        row.deleted = uow.clock()
        uow.add(row)
        uow.flush()
        uow.events.append("customer.tax_id.deleted", render_tax_id(row), account_id=account_id)
        uow.commit()
        return row


def tax_ids_at(session: Session, customer_id: str, at: datetime | None) -> list[dict[str, str]]:
    """``{type, value}`` of the tax IDs the customer had at ``at``, or has now (None).

    An invoice's ``customer_tax_ids``: finalizing it fixes ``at``. Oldest first.
    """
    query = select(TaxId).where(TaxId.customer_id == customer_id)
    if at is None:
        query = query.where(col(TaxId.deleted).is_(None))
    else:
        query = query.where(col(TaxId.created) <= at,
                            or_(col(TaxId.deleted).is_(None), col(TaxId.deleted) > at))
    rows = session.exec(query.order_by(col(TaxId.created), col(TaxId.id))).all()
    return [{"type": row.type, "value": row.value} for row in rows]
