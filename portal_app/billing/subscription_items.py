"""A subscription's items, each with its price and product, in the order they were given."""

from __future__ import annotations

from sqlmodel import col, select

from portal_app.billing.models import Price, Product, Subscription, SubscriptionItem
from portal_app.db import UnitOfWork


def subscription_items(sub: Subscription, uow: UnitOfWork
                       ) -> list[tuple[SubscriptionItem, Price, Product]]:
    """``(item, price, product)`` of every item of ``sub``, in the order they were given."""
    return [(item, price, product) for item, price, product in uow.session.exec(
        select(SubscriptionItem, Price, Product)
        .join(Price, col(Price.id) == SubscriptionItem.price_id)
        .join(Product, col(Product.id) == Price.product_id)
        .where(SubscriptionItem.subscription_id == sub.id)
        .order_by(col(SubscriptionItem.position), col(SubscriptionItem.id))
    ).all()]
