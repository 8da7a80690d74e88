"""Ledger fixtures: a customer paying by Stripe's test Visa, a monthly price."""

from __future__ import annotations

import pytest

from portal_app.billing import services
from portal_app.billing.models import Customer, Price
from tests.portal_app.billing.helpers import MakeUow


@pytest.fixture
def customer(account_id: str, make_uow: MakeUow) -> Customer:
    """A customer whose default payment method is Stripe's succeeding Visa."""
    return services.create_customer(account_id=account_id, uow=make_uow(),
                                    email="ada@example.com", name="Ada",
                                    payment_method="pm_card_visa")


@pytest.fixture
def monthly(account_id: str, make_uow: MakeUow) -> Price:
    """20.00 USD a month."""
    return services.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                 unit_amount=2000, product_name="Pro", interval="month")
