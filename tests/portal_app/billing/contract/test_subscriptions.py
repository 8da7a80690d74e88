"""Contract: subscriptions: create (charged or trialing), list, retrieve, cancel, renew."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from portal_app.billing.provider import BillingProvider, ItemSpec
from portal_app.errors import CardDeclined, ResourceMissing
from portal_app.stripe_shapes import stripe_fields


def test_a_subscription_is_a_complete_stripe_object(provider: BillingProvider,
                                                    shop: dict[str, str]) -> None:
    [sub] = provider.list_subscriptions(shop["ada"])
    assert set(sub) == set(stripe_fields(stripe.Subscription))
    assert (sub["id"], sub["status"], sub["currency"]) == (shop["sub"], "active", "eur")
    assert sub["items"]["data"][0]["price"]["unit_amount"] == 1500
    assert provider.retrieve_subscription(shop["sub"], customer_id=shop["ada"]) == sub


def test_subscriptions_of_another_customer_are_missing(provider: BillingProvider,
                                                       shop: dict[str, str]) -> None:
    bob, sub = shop["bob"], shop["sub"]
    with pytest.raises(ResourceMissing):
        provider.retrieve_subscription(sub, customer_id=bob)
    with pytest.raises(ResourceMissing):
        provider.cancel_subscription(sub, customer_id=bob)
    assert provider.list_subscriptions(bob) == []
    assert provider.retrieve_subscription(sub, customer_id=shop["ada"])["status"] == "active"


def test_the_merchant_retrieves_any_subscription_of_the_account(
        provider: BillingProvider, other_provider: BillingProvider,
        shop: dict[str, str]) -> None:
    assert provider.retrieve_subscription(shop["sub"], customer_id=None)["customer"] == (
        shop["ada"])
    with pytest.raises(ResourceMissing):
        provider.retrieve_subscription("sub_missing", customer_id=None)
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_subscription(shop["sub"], customer_id=None)


def test_cancel_and_renew_through_the_provider(provider: BillingProvider,
                                               shop: dict[str, str]) -> None:
    ada = shop["ada"]
    pending = provider.cancel_subscription(shop["sub"], customer_id=ada, at_period_end=True,
                                           feedback="unused")
    assert (pending["status"], pending["cancel_at_period_end"]) == ("active", True)
    assert provider.advance_clock(datetime(2026, 3, 1, tzinfo=UTC)) == 1
    assert provider.list_subscriptions(ada) == []
    [ended] = provider.list_subscriptions(ada, status="canceled")
    assert ended["cancellation_details"]["feedback"] == "unused"
    assert ended["ended_at"] == int(datetime(2026, 2, 28, 12, tzinfo=UTC).timestamp())


def test_a_declined_first_charge_leaves_no_subscription(provider: BillingProvider,
                                                        shop: dict[str, str]) -> None:
    failing = provider.create_customer(email="c@x.test",
                                       payment_method="pm_card_chargeCustomerFail")
    with pytest.raises(CardDeclined):
        provider.create_subscription(customer=failing["id"], items=[ItemSpec(shop["price"])])
    assert provider.list_subscriptions(failing["id"], status="all") == []
    assert provider.list_invoices(failing["id"]) == []
    trial = provider.create_subscription(customer=failing["id"], items=[ItemSpec(shop["price"])],
                                         trial_period_days=7)
    assert trial["status"] == "trialing"
