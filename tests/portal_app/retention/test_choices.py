"""The console's pickers: the account's configurations and recurring prices, in order."""

from __future__ import annotations

from portal_app.portal import configurations
from portal_app.retention import choices
from tests.portal_app.retention.conftest import Shop


def test_recurring_prices_by_product_name_then_amount(shop: Shop) -> None:
    billing = shop.billing
    archive = billing.create_product(name="Archive")["id"]
    yearly = billing.create_price(product=archive, currency="eur", unit_amount=9000,
                                  interval="year", interval_count=1, nickname="Yearly")
    billing.create_price(product=archive, currency="eur", unit_amount=500)  # one-time: no
    listed = choices.list_price_choices(account_id=shop.account_id, uow=shop.make_uow())
    assert [(c.product_name, c.id) for c in listed] == [
        ("Archive", yearly["id"]), ("Cloud", shop.basic["id"]), ("Cloud", shop.pro["id"])]
    assert listed[0] == choices.PriceChoice(
        id=yearly["id"], product_id=archive, product_name="Archive", nickname="Yearly",
        unit_amount=9000, currency="eur", interval="year", interval_count=1, active=True)


def test_configurations_default_first(shop: Shop) -> None:
    second = configurations.create_configuration({"features": {}}, account_id=shop.account_id,
                                                 uow=shop.make_uow())
    listed = choices.list_configuration_choices(account_id=shop.account_id,
                                                uow=shop.make_uow())
    assert [(c.id, c.is_default) for c in listed] == [(shop.config.id, True),
                                                      (second.id, False)]
