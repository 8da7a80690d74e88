"""``expand[]``: replace an object id in a response by the object itself.

Paths are dotted (``latest_invoice``, ``data.customer``,
``invoice_settings.default_payment_method``), at most four levels deep as in
Stripe. A path that names nothing expandable is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session, SQLModel

from portal_app.billing import payment_intents
from portal_app.billing.models import (
    Coupon,
    Customer,
    Discount,
    Invoice,
    PaymentMethod,
    Price,
    Product,
    Subscription,
)
from portal_app.billing.objects import (
    render_customer,
    render_discount,
    render_invoice,
    render_payment_method,
    render_price,
    render_product,
    render_subscription,
)
from portal_app.db import UnitOfWork, row_identity
from portal_app.errors import InvalidRequest
from portal_app.objects import render_configuration
from portal_app.portal.models import PortalConfiguration

MAX_DEPTH = 4


def _render_discount(row: Discount, session: Session) -> dict[str, Any]:
    """A discount, its ``source.coupon`` expanded (``discounts.source.coupon``)."""
    coupon = session.get(Coupon, row_identity(Coupon, row.coupon_id, account_id=row.account_id))
    assert coupon is not None  # a discount's coupon is never deleted (foreign key)
    return render_discount(row, coupon)


# field name -> (table, renderer): the ids a response may carry.
_EXPANDABLE: dict[str, tuple[type[SQLModel], Callable[[Any, Session], dict[str, Any]]]] = {
    "configuration": (PortalConfiguration, lambda row, _s: render_configuration(row)),
    "customer": (Customer, lambda row, _s: render_customer(row)),
    "discounts": (Discount, _render_discount),  # a list of ids (subscription.discounts)
    "default_payment_method": (PaymentMethod, lambda row, _s: render_payment_method(row)),
    "payment_method": (PaymentMethod, lambda row, _s: render_payment_method(row)),
    "default_price": (Price, lambda row, _s: render_price(row)),
    "product": (Product, lambda row, _s: render_product(row)),
    "latest_invoice": (Invoice, render_invoice),
    "subscription": (Subscription, render_subscription),
}


def _invoice_payments(invoice: dict[str, Any], account_id: str, uow: UnitOfWork
                      ) -> dict[str, Any]:
    row = uow.get(Invoice, invoice["id"], account_id=account_id, label="invoice")
    return payment_intents.render_invoice_payments(row)


def _payment_intent(intent_id: str, account_id: str, uow: UnitOfWork) -> dict[str, Any]:
    invoice = payment_intents.invoice_of(intent_id, account_id=account_id, uow=uow)
    return payment_intents.render_payment_intent(invoice, uow=uow)


# (object, field) -> the field Stripe sends only when expanded (``expand[]=payments``).
_INCLUDABLE: dict[tuple[str, str], Callable[[dict[str, Any], str, UnitOfWork],
                                            dict[str, Any]]] = {
    ("invoice", "payments"): _invoice_payments,
}
# field -> the object an id names that is rendered, not stored (an invoice's intent).
_DERIVED: dict[str, Callable[[str, str, UnitOfWork], dict[str, Any]]] = {
    "payment_intent": _payment_intent,
}


def expand(obj: dict[str, Any], paths: Sequence[str], *, account_id: str,
           uow: UnitOfWork) -> dict[str, Any]:
    """``obj`` with every path in ``paths`` expanded (in place). Raises InvalidRequest."""
    with uow:
        for path in paths:
            parts = path.split(".")
            if len(parts) > MAX_DEPTH:
                raise InvalidRequest(
                    f"You cannot expand more than {MAX_DEPTH} levels of a property. "
                    f"Property: {path}", param="expand")
            _expand(obj, parts, account_id=account_id, uow=uow)
    return obj


def _expand(node: Any, parts: list[str], *, account_id: str, uow: UnitOfWork) -> None:
    if not isinstance(node, dict) or not parts:
        return
    head, rest = parts[0], parts[1:]
    if head == "data" and node.get("object") == "list":
        for item in node.get("data") or []:
            _expand(item, rest, account_id=account_id, uow=uow)
        return
    include = _INCLUDABLE.get((str(node.get("object")), head))
    if include is not None and node.get(head) is None:
        node[head] = include(node, account_id, uow)
    value = node.get(head)
    if isinstance(value, str) and head in _DERIVED:
        value = node[head] = _DERIVED[head](value, account_id, uow)
    if isinstance(value, list) and head in _EXPANDABLE:
        value = node[head] = [_expanded(head, one, account_id=account_id, uow=uow)
                              for one in value]
        for one in value:
            _expand(one, rest, account_id=account_id, uow=uow)
        return
    if isinstance(value, str) and head in _EXPANDABLE:
        value = node[head] = _expanded(head, value, account_id=account_id, uow=uow)
    _expand(value, rest, account_id=account_id, uow=uow)


def _expanded(field: str, value: Any, *, account_id: str, uow: UnitOfWork) -> Any:
    """The object ``value`` names in ``field``, rendered (``value`` if it names none)."""
    if not isinstance(value, str):
        return value
    model, render = _EXPANDABLE[field]
    row = uow.session.get(model, row_identity(model, value, account_id=account_id))
    if row is not None and getattr(row, "account_id", account_id) == account_id:
        return render(row, uow.session)
    return value
