"""The catalog: products and their prices (what a subscription can be made of).

Coupons and promotion codes are :mod:`portal_app.billing.coupons`.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal_app.billing.ledger_events import append_if_changed
from portal_app.billing.metadata import merge_metadata
from portal_app.billing.models import Interval, Meter, MeterStatus, Price, Product
from portal_app.billing.objects import render_price, render_product
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest


def create_product(*, account_id: str, uow: UnitOfWork, name: str,
                   description: str | None = None, active: bool = True,
                   unit_label: str | None = None,
                   metadata: Mapping[str, str] | None = None) -> Product:
    """Create a product. Raises InvalidRequest."""
    if not name or not name.strip():
        raise InvalidRequest("Missing required param: name.", param="name",
                             code="parameter_missing")
    with uow:
        now = uow.clock()
        product = Product(account_id=account_id, name=name.strip(), description=description,
                          active=active, unit_label=unit_label or None,
                          metadata_=dict(metadata or {}), created=now, updated=now)
        uow.add(product)
        uow.flush()
        uow.events.append("product.created", render_product(product), account_id=account_id)
        uow.commit()
        return product


def update_product(product_id: str, *, account_id: str, uow: UnitOfWork,
                   name: str | None = None, description: str | None = None,
                   active: bool | None = None, default_price: str | None = None,
                   unit_label: str | None = None,
                   metadata: Mapping[str, str] | None = None) -> Product:
    """Change a product; ``None`` leaves a field, ``""`` clears the description or unit label.

    Raises ResourceMissing, InvalidRequest.
    """
    if name is not None and not name.strip():
        raise InvalidRequest("The product name cannot be empty.", param="name")
    with uow:
        product = uow.get(Product, product_id, account_id=account_id, label="product")
        before = render_product(product)
        if name is not None:
            product.name = name.strip()
        if description is not None:
            product.description = description or None
        if active is not None:
            product.active = active
        if unit_label is not None:
            product.unit_label = unit_label or None
        if default_price is not None:
            if default_price:
                price = uow.get(Price, default_price, account_id=account_id,
                                param="default_price", label="price")
                if price.product_id != product.id:
                    raise InvalidRequest(
                        f"The price `{price.id}` does not belong to product `{product.id}`.",
                        param="default_price")
            product.default_price = default_price or None
        if metadata is not None:
            product.metadata_ = merge_metadata(product.metadata_, metadata)
        product.updated = uow.clock()
        uow.add(product)
        uow.flush()
        append_if_changed("product.updated", before, render_product(product), uow=uow,
                          account_id=account_id, ignore=("updated",))
        uow.commit()
        return product


def create_price(*, account_id: str, uow: UnitOfWork, currency: str, unit_amount: int,
                 product: str | None = None, product_name: str | None = None,
                 interval: str | None = None, interval_count: int = 1,
                 usage_type: str = "licensed", meter: str | None = None,
                 nickname: str | None = None,
                 lookup_key: str | None = None, active: bool = True,
                 metadata: Mapping[str, str] | None = None) -> Price:
    """Create a price for ``product`` (or a new product named ``product_name``).

    A metered price bills the usage its ``meter`` (an active one) aggregates; only
    metered prices take a meter.

    Raises InvalidRequest, ResourceMissing.
    """
    currency = (currency or "").lower()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidRequest(f"Invalid currency: {currency}", param="currency")
    if unit_amount < 0:
        raise InvalidRequest("Invalid non-negative integer", param="unit_amount")
    if interval is not None and interval not in Interval.__members__:
        raise InvalidRequest(
            "Invalid recurring[interval]: must be one of day, week, month, or year",
            param="recurring[interval]",
        )
    if interval_count < 1 or (interval and _too_long(Interval(interval), interval_count)):
        raise InvalidRequest("The maximum billing interval is 3 years.",
                             param="recurring[interval_count]")
    if usage_type not in ("licensed", "metered"):
        raise InvalidRequest("Invalid recurring[usage_type]", param="recurring[usage_type]")
    if meter and usage_type != "metered":
        raise InvalidRequest("recurring[meter] can only be set when recurring[usage_type] is "
                             "metered.", param="recurring[meter]")
    with uow:
        if meter:
            found = uow.get(Meter, meter, account_id=account_id, param="recurring[meter]",
                            label="billing.meter")
            if found.status != MeterStatus.active:
                raise InvalidRequest(f"The meter `{meter}` is inactive: a price cannot use "
                                     "it.", param="recurring[meter]", code="meter_inactive")
        if product is None:
            if not product_name:
                raise InvalidRequest("Missing required param: product.", param="product",
                                     code="parameter_missing")
            product = create_product(account_id=account_id, uow=uow, name=product_name).id
        parent = uow.get(Product, product, account_id=account_id, param="product",
                         label="product")
        price = Price(account_id=account_id, product_id=parent.id, currency=currency,
                      unit_amount=unit_amount, interval=Interval(interval) if interval else None,
                      interval_count=interval_count, usage_type=usage_type,
                      meter_id=meter or None, nickname=nickname,
                      lookup_key=lookup_key, active=active, metadata_=dict(metadata or {}),
                      created=uow.clock())
        uow.add(price)
        if parent.default_price is None:
            parent.default_price = price.id
            uow.add(parent)
        uow.flush()
        uow.events.append("price.created", render_price(price), account_id=account_id)
        uow.commit()
        return price


def _too_long(interval: Interval, count: int) -> bool:
    limits = {Interval.day: 1095, Interval.week: 156, Interval.month: 36, Interval.year: 3}
    return count > limits[interval]


def recurring_price(price_id: str, *, account_id: str, uow: UnitOfWork, param: str
                    ) -> tuple[Price, Product]:
    """An active recurring price of the account (what a subscription item needs), its product.

    Raises ResourceMissing, InvalidRequest.
    """
    price = uow.get(Price, price_id, account_id=account_id, param=param, label="price")
    if price.interval is None:
        raise InvalidRequest(f"The price `{price.id}` is not recurring; subscriptions need a "
                             "recurring price.", param=param)
    if not price.active:
        raise InvalidRequest(f"The price `{price.id}` is not active.", param=param)
    product = uow.session.get(Product, price.product_id)
    assert product is not None
    return price, product
