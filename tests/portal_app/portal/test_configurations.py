"""Portal configurations: the products and prices a customer may switch to, checked
through the contract."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portal_app.accounts import services as accounts
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.portal import configurations
from tests.portal_app.views.test_overview import provider_of

UowFactory = Callable[[], UnitOfWork]
PRODUCT = "features[subscription_update][products][0]"


def with_products(products: list[dict[str, object]], *, account_id: str,
                  make_uow: UowFactory) -> None:
    configurations.create_configuration(
        {"features": {"subscription_update": {"enabled": True, "products": products}}},
        account_id=account_id, uow=make_uow())


def test_products_and_prices_are_checked(account_id: str, make_uow: UowFactory) -> None:
    billing = provider_of(account_id, make_uow)
    pro = billing.create_product(name="Pro")
    monthly = billing.create_price(product=pro["id"], currency="eur", unit_amount=900,
                                   interval="month")
    once = billing.create_price(product=pro["id"], currency="eur", unit_amount=900)
    basic = billing.create_product(name="Basic")
    basic_monthly = billing.create_price(product=basic["id"], currency="eur", unit_amount=500,
                                         interval="month")

    with_products([{"product": pro["id"], "prices": [monthly["id"]]}], account_id=account_id,
                  make_uow=make_uow)
    with pytest.raises(ResourceMissing) as product:
        with_products([{"product": "prod_nope", "prices": [monthly["id"]]}],
                      account_id=account_id, make_uow=make_uow)
    assert product.value.param == f"{PRODUCT}[product]"
    with pytest.raises(ResourceMissing) as price:
        with_products([{"product": pro["id"], "prices": ["price_nope"]}],
                      account_id=account_id, make_uow=make_uow)
    assert price.value.param == f"{PRODUCT}[prices][0]"
    with pytest.raises(InvalidRequest) as foreign:
        with_products([{"product": pro["id"], "prices": [monthly["id"], basic_monthly["id"]]}],
                      account_id=account_id, make_uow=make_uow)
    assert foreign.value.param == f"{PRODUCT}[prices][1]"
    assert "does not belong" in foreign.value.message
    with pytest.raises(InvalidRequest) as one_time:
        with_products([{"product": pro["id"], "prices": [once["id"]]}],
                      account_id=account_id, make_uow=make_uow)
    assert one_time.value.message == f"The price {once['id']} is not recurring."


def test_another_accounts_product_is_missing(account_id: str, make_uow: UowFactory) -> None:
    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    billing = provider_of(other, make_uow)
    product = billing.create_product(name="Theirs")
    price = billing.create_price(product=product["id"], currency="eur", unit_amount=1,
                                 interval="month")
    with pytest.raises(ResourceMissing):
        with_products([{"product": product["id"], "prices": [price["id"]]}],
                      account_id=account_id, make_uow=make_uow)
