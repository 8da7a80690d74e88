"""What the console's offer and experiment forms let a merchant pick, within one account:
its portal configurations and its recurring prices (with their products' names)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from portal_app.billing.models import Price, Product
from portal_app.db import UnitOfWork
from portal_app.portal.models import PortalConfiguration


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
    """The account's recurring licensed prices, by product name then amount."""
    with uow:
        rows = uow.session.exec(
            select(Price, Product).join(Product, col(Product.id) == Price.product_id)
            .where(Price.account_id == account_id, col(Price.interval).is_not(None),
                   Price.usage_type == "licensed")
            .order_by(col(Product.name), col(Price.unit_amount), col(Price.id))).all()
        return [PriceChoice(id=price.id, product_id=product.id, product_name=product.name,
                            nickname=price.nickname, unit_amount=price.unit_amount,
                            currency=price.currency, interval=str(price.interval),
                            interval_count=price.interval_count, active=price.active)
                for price, product in rows]
