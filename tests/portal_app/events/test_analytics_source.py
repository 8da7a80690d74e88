"""The names the dashboard shows: products (through the billing contract), configurations."""

from __future__ import annotations

from collections.abc import Callable

from portal_app.accounts import services as accounts
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.events.analytics_source import names
from portal_app.portal import configurations

UowFactory = Callable[[], UnitOfWork]


def test_names_of_the_accounts_own_objects(account_id: str, make_uow: UowFactory) -> None:
    billing = billing_provider(account_id, uow=make_uow())
    pro = billing.create_product(name="Pro")
    basic = billing.create_product(name="Basic")
    config = configurations.create_configuration({"features": {}, "name": "Main"},
                                                 account_id=account_id, uow=make_uow())
    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    billing_provider(other, uow=make_uow()).create_product(name="Theirs")

    found = names(account_id, uow=make_uow())

    assert found.products == {pro["id"]: "Pro", basic["id"]: "Basic"}
    assert (found.configurations, found.default_configuration) == ({config.id: "Main"},
                                                                   config.id)
    assert found.offers == {}
