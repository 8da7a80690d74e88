"""Prorations: what the unused or remaining time of an item is worth, as pending invoice items.

Proration follows Stripe: for a changed item, one credit line for the unused
time on the old price and one debit line for the remaining time on the new one,
time-proportional to the second from the proration date to the period end over
the whole current period. Each line is rounded on its own, half away from zero
(:func:`portal_app.money.prorate`), and an active percent-off coupon discounts
each line (:func:`portal_app.billing.discounts.line_discount`). The lines wait
as pending invoice items (Stripe's ``ii_``) for the next invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select

from portal_app.billing.discounts import active_coupon, line_discount
from portal_app.billing.models import (
    Coupon,
    InvoiceItem,
    Price,
    Product,
    Subscription,
    SubscriptionStatus,
)
from portal_app.billing.objects import render_invoice_item
from portal_app.billing.subscription_items import subscription_items
from portal_app.db import UnitOfWork
from portal_app.money import prorate


def proration_item(sub: Subscription, *, price: Price, product: Product, quantity: int,
                   item_id: str | None, at: datetime, credit: bool, coupon: Coupon | None,
                   now: datetime) -> InvoiceItem:
    """The pending item for ``quantity`` × ``price`` from ``at`` to the period end.

    ``credit``: the unused time (a negative amount), else the remaining time.
    """
    remaining = _seconds(at, sub.current_period_end)
    total = _seconds(sub.current_period_start, sub.current_period_end)
    amount = prorate(price.unit_amount * quantity, remaining=remaining, total=total)
    verb = "Unused" if credit else "Remaining"
    if credit:
        amount = -amount
    return InvoiceItem(
        account_id=sub.account_id, customer_id=sub.customer_id, subscription_id=sub.id,
        subscription_item_id=item_id, price_id=price.id,
        description=f"{verb} time on {_label(product, quantity)} after {_when(at)}",
        quantity=quantity, amount=amount, discount_amount=line_discount(amount, coupon),
        currency=sub.currency, proration=True, period_start=at,
        period_end=sub.current_period_end, created=now)


def add_pending_items(items: Sequence[InvoiceItem], uow: UnitOfWork) -> None:
    """Store ``items`` in the order given, each with its ``invoiceitem.created`` event."""
    for item in items:
        # Creation order within the subscription: the items' times are often equal.
        item.position = uow.session.exec(
            select(func.count()).select_from(InvoiceItem)
            .where(InvoiceItem.subscription_id == item.subscription_id)).one()
        uow.add(item)
        uow.flush()
    uow.flush()
    for item in items:
        uow.events.append("invoiceitem.created", render_invoice_item(item),
                          account_id=item.account_id)


def credit_unused_time(sub: Subscription, *, uow: UnitOfWork, at: datetime) -> None:
    """Pending credit items for the unused time of every item (an immediate cancel).

    Metered items (billed in arrears) and a trial (nothing paid) credit nothing.
    """
    now = uow.clock()
    coupon = active_coupon(sub, uow, now)
    credits = [
        proration_item(sub, price=price, product=product, quantity=item.quantity,
                       item_id=item.id, at=at, credit=True, coupon=coupon, now=now)
        for item, price, product in subscription_items(sub, uow)
        if price.usage_type != "metered" and sub.status != SubscriptionStatus.trialing
    ]
    add_pending_items(credits, uow)


def _seconds(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


def _when(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def _label(product: Product, quantity: int) -> str:
    return product.name if quantity == 1 else f"{quantity} × {product.name}"
