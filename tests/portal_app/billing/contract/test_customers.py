"""Contract: customers: retrieve, update their own details, create; one account's alone."""

from __future__ import annotations

import pytest
import stripe

from portal_app.billing.provider import BillingProvider
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import stripe_fields


def test_a_customer_is_a_complete_stripe_object(provider: BillingProvider,
                                                shop: dict[str, str]) -> None:
    customer = provider.retrieve_customer(shop["ada"])
    assert set(customer) == set(stripe_fields(stripe.Customer))
    assert (customer["object"], customer["id"], customer["email"]) == (
        "customer", shop["ada"], "ada@example.com")


def test_create_customer_with_a_default_payment_method(provider: BillingProvider) -> None:
    customer = provider.create_customer(email="c@x.test", name="Cy", preferred_locales=["fr"],
                                        metadata={"crm": "42"}, payment_method="pm_card_visa")
    assert (customer["name"], customer["preferred_locales"], customer["metadata"]) == (
        "Cy", ["fr"], {"crm": "42"})
    [pm] = provider.list_payment_methods(customer["id"])
    assert customer["invoice_settings"]["default_payment_method"] == pm["id"]
    assert provider.retrieve_customer(customer["id"]) == customer


def test_customer_details_only(provider: BillingProvider, shop: dict[str, str]) -> None:
    ada = shop["ada"]
    updated = provider.update_customer(ada, name="Ada L.", address={"city": "London",
                                                                     "country": "GB"})
    assert (updated["name"], updated["address"]["city"]) == ("Ada L.", "London")
    for field in ("default_payment_method", "metadata", "balance", "description"):
        with pytest.raises(InvalidRequest) as raised:
            provider.update_customer(ada, **{field: "x"})
        assert raised.value.param == field


def test_a_missing_customer_is_missing(provider: BillingProvider) -> None:
    with pytest.raises(ResourceMissing):
        provider.retrieve_customer("cus_missing")
    with pytest.raises(ResourceMissing):
        provider.update_customer("cus_missing", name="x")


def test_objects_of_another_account_are_missing(provider: BillingProvider,
                                                other_provider: BillingProvider,
                                                shop: dict[str, str]) -> None:
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_customer(shop["ada"])
    with pytest.raises(ResourceMissing):
        other_provider.update_customer(shop["ada"], name="Eve")
    with pytest.raises(ResourceMissing):
        other_provider.list_subscriptions(shop["ada"])
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_subscription(shop["sub"], customer_id=shop["ada"])
    assert provider.retrieve_customer(shop["ada"])["name"] is None
