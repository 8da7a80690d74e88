"""``expand[]``: replace an object id in a response by the object itself.

Paths are dotted (``latest_invoice``, ``data.customer``,
``invoice_settings.default_payment_method``), at most four levels deep as in
Stripe. A path that names nothing expandable is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session, SQLModel

from portal_app.billing.models import Customer, Invoice, PaymentMethod, Price, Product, Subscription
from portal_app.billing.objects import (
    render_customer,
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

# field name -> (table, renderer): the ids a response may carry.
_EXPANDABLE: dict[str, tuple[type[SQLModel], Callable[[Any, Session], dict[str, Any]]]] = {
    "configuration": (PortalConfiguration, lambda row, _s: render_configuration(row)),
    "customer": (Customer, lambda row, _s: render_customer(row)),
    "default_payment_method": (PaymentMethod, lambda row, _s: render_payment_method(row)),
    "payment_method": (PaymentMethod, lambda row, _s: render_payment_method(row)),
    "default_price": (Price, lambda row, _s: render_price(row)),
    "product": (Product, lambda row, _s: render_product(row)),
    "latest_invoice": (Invoice, render_invoice),
    "subscription": (Subscription, render_subscription),
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
    value = node.get(head)
    if isinstance(value, str) and head in _EXPANDABLE:
        model, render = _EXPANDABLE[head]
        row = uow.session.get(model, row_identity(model, value, account_id=account_id))
        if row is not None and getattr(row, "account_id", account_id) == account_id:
            value = node[head] = render(row, uow.session)
    _expand(value, rest, account_id=account_id, uow=uow)
