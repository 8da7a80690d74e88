"""Ledger fixtures: a customer paying by Stripe's test Visa, a monthly and a bigger price."""

from __future__ import annotations

import pytest

from portal_app.billing import catalog, customers
from portal_app.billing.models import Customer, Price
from tests.portal_app.billing.helpers import MakeUow


@pytest.fixture
def customer(account_id: str, make_uow: MakeUow) -> Customer:
    """A customer whose default payment method is Stripe's succeeding Visa."""
    return customers.create_customer(account_id=account_id, uow=make_uow(),
                                     email="ada@example.com", name="Ada",
                                     payment_method="pm_card_visa")


@pytest.fixture
def monthly(account_id: str, make_uow: MakeUow) -> Price:
    """20.00 USD a month."""
    return catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                unit_amount=2000, product_name="Pro", interval="month")


@pytest.fixture
def business(account_id: str, make_uow: MakeUow) -> Price:
    """50.00 USD a month, a bigger plan of the same product line."""
    return catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                unit_amount=5000, product_name="Business", interval="month")
