"""Retention fixtures: a paying customer on a monthly plan, a cheaper plan, a portal
configuration with cancel reasons, and a portal session of that customer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from portal_app.billing import services as billing
from portal_app.billing.models import Price, Subscription
from portal_app.db import UnitOfWork
from portal_app.portal import configurations, sessions
from portal_app.portal.models import PortalConfiguration, PortalSession

MakeUow = Callable[[], UnitOfWork]

CANCEL_FEATURES: dict[str, Any] = {
    "subscription_cancel": {
        "enabled": True, "mode": "at_period_end",
        "cancellation_reason": {"enabled": True,
                                "options": ["too_expensive", "unused", "missing_features"]},
    },
}


@dataclass
class Shop:
    """One merchant's catalog, portal configuration, and one paying customer."""

    account_id: str
    make_uow: MakeUow
    pro: Price  # 49.00 USD / month
    basic: Price  # 19.00 USD / month, same product family
    config: PortalConfiguration

    def customer(self, email: str = "ada@example.com") -> str:
        return billing.create_customer(account_id=self.account_id, uow=self.make_uow(),
                                       email=email, payment_method="pm_card_visa").id

    def subscribe(self, customer_id: str, price: Price | None = None, **kw: Any
                  ) -> Subscription:
        return billing.create_subscription(
            account_id=self.account_id, uow=self.make_uow(), customer=customer_id,
            items=[billing.ItemSpec(price=(price or self.pro).id)], **kw)

    def session(self, customer_id: str, *, config: PortalConfiguration | None = None,
                flow_data: dict[str, Any] | None = None) -> PortalSession:
        return sessions.create_session(
            account_id=self.account_id, uow=self.make_uow(), customer=customer_id,
            configuration=(config or self.config).id, flow_data=flow_data).session


@pytest.fixture
def shop(account_id: str, make_uow: MakeUow) -> Shop:
    product = billing.create_product(account_id=account_id, uow=make_uow(), name="Cloud")
    pro = billing.create_price(account_id=account_id, uow=make_uow(), product=product.id,
                               currency="usd", unit_amount=4900, interval="month",
                               nickname="Pro")
    basic = billing.create_price(account_id=account_id, uow=make_uow(), product=product.id,
                                 currency="usd", unit_amount=1900, interval="month",
                                 nickname="Basic")
    config = configurations.create_configuration({"features": CANCEL_FEATURES},
                                                 account_id=account_id, uow=make_uow())
    return Shop(account_id=account_id, make_uow=make_uow, pro=pro, basic=basic, config=config)
