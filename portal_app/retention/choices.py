"""What the console's offer and experiment forms let a merchant pick, within one account:
its portal configurations and its recurring prices (with their products' names)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.portal.models import PortalConfiguration
from portal_app.stripe_shapes import is_licensed


@dataclass(frozen=True)
class ConfigurationChoice:
    """A portal configuration as a picker lists it."""

    id: str
    name: str | None
    is_default: bool
    active: bool


@dataclass(frozen=True)
class PriceChoice:
    """A recurring price and its product, as a picker lists it (amount in minor units)."""

    id: str
    product_id: str
    product_name: str
    nickname: str | None
    unit_amount: int
    currency: str
    interval: str
    interval_count: int
    active: bool


def list_configuration_choices(*, account_id: str, uow: UnitOfWork) -> list[ConfigurationChoice]:
    """The account's portal configurations: the default first, then oldest first."""
    with uow:
        rows = uow.session.exec(
            select(PortalConfiguration).where(PortalConfiguration.account_id == account_id)
            .order_by(col(PortalConfiguration.is_default).desc(),
                      col(PortalConfiguration.created), col(PortalConfiguration.id))).all()
        return [ConfigurationChoice(id=c.id, name=c.name, is_default=c.is_default,
                                    active=c.active) for c in rows]


def list_price_choices(*, account_id: str, uow: UnitOfWork) -> list[PriceChoice]:
    """The account's recurring licensed prices (active or not), by product name then amount."""
    with uow:
        billing = billing_provider(account_id, uow=uow)
        names = {product["id"]: product["name"] for product in billing.list_products()}
        choices = [
            PriceChoice(id=price["id"], product_id=price["product"],
                        product_name=names[price["product"]], nickname=price["nickname"],
                        unit_amount=price["unit_amount"], currency=price["currency"],
                        interval=price["recurring"]["interval"],
                        interval_count=price["recurring"]["interval_count"],
                        active=price["active"])
            for price in billing.list_prices()
            if is_licensed(price)]
        return sorted(choices, key=lambda c: (c.product_name, c.unit_amount, c.id))
