"""The catalog: products and prices, validated as Stripe does."""

from __future__ import annotations

import re
from typing import Any

import pytest

from portal_app.accounts import services as accounts
from portal_app.billing import catalog
from portal_app.billing.models import Price, Product
from portal_app.errors import InvalidRequest, ResourceMissing
from tests.portal_app.billing.helpers import MakeUow, count_rows, load, raises_param

# --- catalog -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   "])
def test_product_needs_a_name(account_id: str, make_uow: MakeUow, name: str) -> None:
    with raises_param(InvalidRequest, "name", "parameter_missing"):
        catalog.create_product(account_id=account_id, uow=make_uow(), name=name)


def test_first_price_becomes_the_products_default(account_id: str, make_uow: MakeUow) -> None:
    product = catalog.create_product(account_id=account_id, uow=make_uow(), name=" Pro ")
    assert product.name == "Pro" and re.fullmatch(r"prod_\w{24}", product.id)
    first = catalog.create_price(account_id=account_id, uow=make_uow(), product=product.id,
                                 currency="EUR", unit_amount=900, interval="month")
    catalog.create_price(account_id=account_id, uow=make_uow(), product=product.id,
                         currency="eur", unit_amount=9000, interval="year")
    assert first.currency == "eur"
    assert load(make_uow, Product, product.id).default_price == first.id


@pytest.mark.parametrize(("params", "param"), [
    ({"currency": "dollars"}, "currency"),
    ({"currency": "u$d"}, "currency"),
    ({"currency": ""}, "currency"),
    ({"unit_amount": -1}, "unit_amount"),
    ({"interval": "fortnight"}, "recurring[interval]"),
    ({"interval_count": 0}, "recurring[interval_count]"),
    ({"interval": "month", "interval_count": 37}, "recurring[interval_count]"),
    ({"interval": "year", "interval_count": 4}, "recurring[interval_count]"),
    ({"interval": "week", "interval_count": 157}, "recurring[interval_count]"),
    ({"usage_type": "sometimes"}, "recurring[usage_type]"),
    ({"product_name": None}, "product"),
    ({"product_name": None, "product": "prod_missing"}, "product"),
])
def test_price_validation(account_id: str, make_uow: MakeUow, params: dict[str, Any],
                          param: str) -> None:
    values: dict[str, Any] = {"currency": "usd", "unit_amount": 100, "product_name": "P",
                              "interval": "month", **params}
    with raises_param(InvalidRequest, param):
        catalog.create_price(account_id=account_id, uow=make_uow(), **values)
    assert count_rows(make_uow, account_id)["event"] == 0


def test_price_of_another_accounts_product_is_missing(
        account_id: str, make_uow: MakeUow, monthly: Price) -> None:

    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    with raises_param(ResourceMissing, "product", "resource_missing"):
        catalog.create_price(account_id=other, uow=make_uow(), currency="usd",
                             unit_amount=100, product=monthly.product_id, interval="month")
