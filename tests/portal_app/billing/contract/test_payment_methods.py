"""Contract: a customer's payment methods: list, attach, make default; declines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal_app.billing.provider import BillingProvider
from portal_app.clock import FrozenClock
from portal_app.errors import CardDeclined, ResourceMissing


def test_payment_methods_through_the_provider(provider: BillingProvider,
                                              shop: dict[str, str], clock: FrozenClock) -> None:
    ada = shop["ada"]
    [visa] = provider.list_payment_methods(ada)
    assert visa["card"]["brand"] == "visa" and visa["id"] == (
        provider.retrieve_customer(ada)["invoice_settings"]["default_payment_method"])
    clock.set(clock() + timedelta(minutes=1))
    mastercard = provider.attach_payment_method("pm_card_mastercard", customer_id=ada)
    assert mastercard["customer"] == ada and mastercard["card"]["last4"] == "4444"
    customer = provider.set_default_payment_method(mastercard["id"], customer_id=ada)
    assert customer["invoice_settings"]["default_payment_method"] == mastercard["id"]
    with pytest.raises(CardDeclined) as raised:
        provider.attach_payment_method("pm_card_chargeDeclined", customer_id=ada)
    assert raised.value.decline_code == "generic_decline"
    # Newest first, and the declined card left nothing behind.
    assert [pm["id"] for pm in provider.list_payment_methods(ada)] == [mastercard["id"],
                                                                       visa["id"]]


def test_payment_methods_of_another_customer_are_missing(provider: BillingProvider,
                                                         shop: dict[str, str]) -> None:
    ada_pm = provider.list_payment_methods(shop["ada"])[0]["id"]
    assert provider.retrieve_payment_method(ada_pm, customer_id=shop["ada"])["id"] == ada_pm
    with pytest.raises(ResourceMissing):
        provider.retrieve_payment_method(ada_pm, customer_id=shop["bob"])
    with pytest.raises(ResourceMissing):
        provider.retrieve_payment_method("pm_missing", customer_id=shop["ada"])
    with pytest.raises(ResourceMissing):
        provider.set_default_payment_method(ada_pm, customer_id=shop["bob"])
    with pytest.raises(ResourceMissing):
        provider.attach_payment_method(ada_pm, customer_id=shop["bob"])
    assert ada_pm not in [pm["id"] for pm in provider.list_payment_methods(shop["bob"])]
