"""Retention fixtures: a paying customer on a monthly plan, a cheaper plan, a portal
configuration with cancel reasons, and a portal session of that customer.

Billing is set up and read only through the billing contract (``billing_provider``), as
retention itself reaches it: prices, subscriptions and invoices are Stripe-shaped dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from portal_app.billing.provider import BillingProvider, ItemSpec, StripeObject
from portal_app.billing.providers import billing_provider
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
    pro: StripeObject  # price: 49.00 USD / month
    basic: StripeObject  # price: 19.00 USD / month, same product
    config: PortalConfiguration

    @property
    def billing(self) -> BillingProvider:
        """The account's billing provider (each call its own unit of work)."""
        return billing_provider(self.account_id, uow=self.make_uow())

    def customer(self, email: str = "ada@example.com") -> str:
        return self.billing.create_customer(email=email, payment_method="pm_card_visa")["id"]

    def subscribe(self, customer_id: str, price: StripeObject | None = None, **kw: Any
                  ) -> StripeObject:
        return self.billing.create_subscription(
            customer=customer_id, items=[ItemSpec(price=(price or self.pro)["id"])], **kw)

    def subscription(self, subscription_id: str) -> StripeObject:
        """The subscription as the billing contract shows it to retention."""
        return self.billing.retrieve_subscription(subscription_id, customer_id=None)

    def invoices(self, sub: StripeObject) -> list[StripeObject]:
        """The subscription's invoices, oldest first."""
        return [invoice for invoice in reversed(self.billing.list_invoices(sub["customer"]))
                if (invoice["parent"] or {}).get("subscription_details", {})
                .get("subscription") == sub["id"]]

    def advance(self, to: datetime) -> None:
        """Move the test clock to ``to``, renewing (or ending) what falls due on the way."""
        self.billing.advance_clock(to)

    def session(self, customer_id: str, *, config: PortalConfiguration | None = None,
                flow_data: dict[str, Any] | None = None) -> PortalSession:
        return sessions.create_session(
            account_id=self.account_id, uow=self.make_uow(), customer=customer_id,
            configuration=(config or self.config).id, flow_data=flow_data).session


@pytest.fixture
def shop(account_id: str, make_uow: MakeUow) -> Shop:
    billing = billing_provider(account_id, uow=make_uow())
    product = billing.create_product(name="Cloud")
    pro = billing.create_price(product=product["id"], currency="usd", unit_amount=4900,
                               interval="month", nickname="Pro")
    basic = billing.create_price(product=product["id"], currency="usd", unit_amount=1900,
                                 interval="month", nickname="Basic")
    config = configurations.create_configuration({"features": CANCEL_FEATURES},
                                                 account_id=account_id, uow=make_uow())
    return Shop(account_id=account_id, make_uow=make_uow, pro=pro, basic=basic, config=config)
