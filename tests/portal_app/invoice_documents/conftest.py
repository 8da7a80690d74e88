"""An issued invoice with a discount, of a customer with a name and an address."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portal_app.billing.provider import BillingProvider, ItemSpec, StripeObject
from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork

ADDRESS = {"line1": "Hauptstraße 5", "line2": None, "postal_code": "10115", "city": "Berlin",
           "state": None, "country": "DE"}


@pytest.fixture
def provider(account_id: str, clock: FrozenClock,
             make_uow: Callable[[], UnitOfWork]) -> BillingProvider:
    return LocalBillingProvider(account_id=account_id, clock=clock, uow_factory=make_uow)


@pytest.fixture
def invoice(provider: BillingProvider) -> StripeObject:
    """Erika's first invoice: Pro, 2 × €15.00 with 10 % off once, paid (€27.00)."""
    issued = issue_invoice(provider)
    # Tax IDs are the customer's, snapshotted on the invoice (filled by the tax ID slice).
    return {**issued, "customer_tax_ids": [{"type": "eu_vat", "value": "DE123456789"}]}


def issue_invoice(provider: BillingProvider, *, locales: tuple[str, ...] = ()) -> StripeObject:
    """A paid invoice of a new customer (Erika, in Berlin): 2 × €15.00, 10 % off once."""
    product = provider.create_product(name="Pro")
    price = provider.create_price(product=product["id"], currency="eur", unit_amount=1500,
                                  interval="month")
    customer = provider.create_customer(email="erika@example.com", name="Erika Mustermann",
                                        payment_method="pm_card_visa",
                                        preferred_locales=locales)
    provider.update_customer(customer["id"], address=ADDRESS)
    coupon = provider.create_coupon(percent_off=10, duration="once", name="Welcome")
    provider.create_subscription(customer=customer["id"],
                                 items=[ItemSpec(price["id"], quantity=2)], coupon=coupon["id"])
    [issued] = provider.list_invoices(customer["id"])
    return issued
