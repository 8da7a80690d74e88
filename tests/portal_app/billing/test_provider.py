"""The local billing provider: Stripe-shaped answers, one customer at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import stripe

from portal_app.billing.provider import BillingProvider
from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.billing.services import ItemSpec
from portal_app.clock import FrozenClock
from portal_app.errors import CardDeclined, InvalidRequest, ResourceMissing
from portal_app.objects import stripe_fields
from tests.portal_app.billing.helpers import MakeUow, count_rows


@pytest.fixture
def provider(account_id: str, clock: FrozenClock, make_uow: MakeUow) -> BillingProvider:
    return LocalBillingProvider(account_id=account_id, clock=clock, uow_factory=make_uow)


@pytest.fixture
def setup(provider: BillingProvider) -> dict[str, str]:
    """A product with a monthly price and two customers, one subscribed."""
    product = provider.create_product(name="Pro")
    price = provider.create_price(product=product["id"], currency="eur", unit_amount=1500,
                                  interval="month")
    ada = provider.create_customer(email="ada@example.com", payment_method="pm_card_visa")
    bob = provider.create_customer(email="bob@example.com", payment_method="pm_card_amex")
    sub = provider.create_subscription(customer=ada["id"], items=[ItemSpec(price["id"])])
    return {"price": price["id"], "ada": ada["id"], "bob": bob["id"], "sub": sub["id"]}


def test_answers_are_complete_stripe_objects(provider: BillingProvider,
                                             setup: dict[str, str]) -> None:
    customer = provider.retrieve_customer(setup["ada"])
    assert set(customer) == set(stripe_fields(stripe.Customer))
    assert customer["object"] == "customer"
    [sub] = provider.list_subscriptions(setup["ada"])
    assert set(sub) == set(stripe_fields(stripe.Subscription))
    assert (sub["id"], sub["status"], sub["currency"]) == (setup["sub"], "active", "eur")
    assert sub["items"]["data"][0]["price"]["unit_amount"] == 1500
    assert provider.retrieve_subscription(setup["sub"], customer_id=setup["ada"]) == sub
    [invoice] = provider.list_invoices(setup["ada"])
    assert set(invoice) == set(stripe_fields(stripe.Invoice))
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 1500)
    assert invoice["parent"]["subscription_details"]["subscription"] == sub["id"]
    [pm] = provider.list_payment_methods(setup["ada"])
    assert pm["card"]["brand"] == "visa" and pm["id"] == (
        customer["invoice_settings"]["default_payment_method"])


def test_objects_of_another_customer_are_missing(provider: BillingProvider,
                                                 setup: dict[str, str]) -> None:
    bob, sub = setup["bob"], setup["sub"]
    ada_pm = provider.list_payment_methods(setup["ada"])[0]["id"]
    with pytest.raises(ResourceMissing):
        provider.retrieve_subscription(sub, customer_id=bob)
    with pytest.raises(ResourceMissing):
        provider.cancel_subscription(sub, customer_id=bob)
    with pytest.raises(ResourceMissing):
        provider.set_default_payment_method(ada_pm, customer_id=bob)
    with pytest.raises(ResourceMissing):
        provider.attach_payment_method(ada_pm, customer_id=bob)
    assert provider.list_subscriptions(bob) == [] and provider.list_invoices(bob) == []
    assert provider.retrieve_subscription(sub, customer_id=setup["ada"])["status"] == "active"


def test_objects_of_another_account_are_missing(
        provider: BillingProvider, setup: dict[str, str], clock: FrozenClock,
        make_uow: MakeUow) -> None:
    from portal_app.accounts import services as accounts

    other_id = accounts.create_account(business_name="Other", email="o@x.test",
                                       uow=make_uow()).id
    other = LocalBillingProvider(account_id=other_id, clock=clock, uow_factory=make_uow)
    with pytest.raises(ResourceMissing):
        other.retrieve_customer(setup["ada"])
    with pytest.raises(ResourceMissing):
        other.list_subscriptions(setup["ada"])
    with pytest.raises(ResourceMissing):
        other.retrieve_subscription(setup["sub"], customer_id=setup["ada"])


def test_cancel_and_renew_through_the_provider(
        provider: BillingProvider, setup: dict[str, str]) -> None:
    ada = setup["ada"]
    pending = provider.cancel_subscription(setup["sub"], customer_id=ada, at_period_end=True,
                                           feedback="unused")
    assert (pending["status"], pending["cancel_at_period_end"]) == ("active", True)
    assert provider.advance_clock(datetime(2026, 3, 1, tzinfo=UTC)) == 1
    assert provider.list_subscriptions(ada) == []
    [ended] = provider.list_subscriptions(ada, status="canceled")
    assert ended["cancellation_details"]["feedback"] == "unused"
    assert ended["ended_at"] == int(datetime(2026, 2, 28, 12, tzinfo=UTC).timestamp())


def test_payment_methods_through_the_provider(provider: BillingProvider,
                                              setup: dict[str, str], account_id: str,
                                              make_uow: MakeUow, clock: FrozenClock) -> None:
    ada = setup["ada"]
    clock.set(clock() + timedelta(minutes=1))
    mastercard = provider.attach_payment_method("pm_card_mastercard", customer_id=ada)
    assert mastercard["customer"] == ada and mastercard["card"]["last4"] == "4444"
    customer = provider.set_default_payment_method(mastercard["id"], customer_id=ada)
    assert customer["invoice_settings"]["default_payment_method"] == mastercard["id"]
    before = count_rows(make_uow, account_id)
    with pytest.raises(CardDeclined) as raised:
        provider.attach_payment_method("pm_card_chargeDeclined", customer_id=ada)
    assert raised.value.decline_code == "generic_decline"
    assert count_rows(make_uow, account_id) == before
    assert [pm["id"] for pm in provider.list_payment_methods(ada)][0] == mastercard["id"]


def test_customer_details_only(provider: BillingProvider, setup: dict[str, str]) -> None:
    ada = setup["ada"]
    updated = provider.update_customer(ada, name="Ada L.", address={"city": "London",
                                                                     "country": "GB"})
    assert (updated["name"], updated["address"]["city"]) == ("Ada L.", "London")
    for field in ("default_payment_method", "metadata", "balance", "description"):
        with pytest.raises(InvalidRequest) as raised:
            provider.update_customer(ada, **{field: "x"})
        assert raised.value.param == field


def test_only_a_test_clock_advances(account_id: str, make_uow: MakeUow) -> None:
    live = LocalBillingProvider(account_id=account_id,
                                clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
                                uow_factory=make_uow)
    with pytest.raises(InvalidRequest):
        live.advance_clock(datetime(2027, 1, 1, tzinfo=UTC))


def test_decline_through_the_provider_leaves_nothing(
        provider: BillingProvider, setup: dict[str, str], account_id: str,
        make_uow: MakeUow) -> None:
    failing = provider.create_customer(email="c@x.test",
                                       payment_method="pm_card_chargeCustomerFail")
    before = count_rows(make_uow, account_id)
    with pytest.raises(CardDeclined):
        provider.create_subscription(customer=failing["id"], items=[ItemSpec(setup["price"])])
    assert count_rows(make_uow, account_id) == before
    trial = provider.create_subscription(customer=failing["id"], items=[ItemSpec(setup["price"])],
                                         trial_period_days=7)
    assert trial["status"] == "trialing"
