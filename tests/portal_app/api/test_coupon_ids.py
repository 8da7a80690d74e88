"""Coupon ids are each account's own: two merchants may both have ``SUMMER``, unaware of each other."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
import stripe
from sqlmodel import col, select

from portal_app.accounts import services as accounts
from portal_app.db import UnitOfWork
from portal_app.events.models import Event


@pytest.fixture
def other(api_url: str, make_uow: Callable[[], UnitOfWork]) -> stripe.StripeClient:
    """The SDK of another merchant on the same Portico."""
    account = accounts.create_account(business_name="Other Shop", email="o@example.com",
                                      uow=make_uow())
    return stripe.StripeClient(accounts.create_api_key(account_id=account.id, uow=make_uow()),
                               base_addresses={"api": api_url}, max_network_retries=0)


def subscribe_with(client: stripe.StripeClient, coupon: str) -> stripe.Subscription:
    customer = client.v1.customers.create({"email": "buyer@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    client.v1.customers.update(customer.id,
                               {"invoice_settings": {"default_payment_method": pm.id}})
    product = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": product.id, "currency": "usd",
                                     "unit_amount": 10000, "recurring": {"interval": "month"}})
    return client.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": price.id}],
        "discounts": [{"coupon": coupon}], "expand": ["latest_invoice"]})


def test_another_account_may_choose_the_same_coupon_id(
        client: stripe.StripeClient, other: stripe.StripeClient,
        make_uow: Callable[[], UnitOfWork]) -> None:
    name = f"SUMMER-{secrets.token_hex(3).upper()}"
    mine = client.v1.coupons.create({"id": name, "percent_off": 10, "duration": "forever"})

    theirs = other.v1.coupons.create({"id": name, "percent_off": 25, "duration": "forever"})

    assert (mine.id, theirs.id) == (name, name)  # the ids stay as given
    assert client.v1.coupons.retrieve(name).percent_off == 10
    assert other.v1.coupons.retrieve(name).percent_off == 25
    assert [c.id for c in other.v1.coupons.list().data] == [name]
    with pytest.raises(stripe.InvalidRequestError) as again:  # an account's own id is taken
        other.v1.coupons.create({"id": name, "percent_off": 5, "duration": "once"})
    assert again.value.code == "resource_already_exists"

    # Everything that names the coupon finds the account's own.
    mine_sub, their_sub = subscribe_with(client, name), subscribe_with(other, name)
    assert mine_sub.latest_invoice.amount_paid == 9000
    assert their_sub.latest_invoice.amount_paid == 7500
    assert mine_sub.discounts[0] != their_sub.discounts[0]
    promo = other.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": name},
                                             "code": f"P{secrets.token_hex(3).upper()}"})
    assert promo.promotion.coupon.id == name and promo.promotion.coupon.percent_off == 25
    assert other.v1.promotion_codes.retrieve(promo.id).promotion.coupon.percent_off == 25
    with make_uow() as uow:
        snapshot = uow.session.get(Event, _last_event_seq(uow, their_sub.id)).data_object
    assert snapshot["discounts"][0]["source"]["coupon"]["percent_off"] == 25


def _last_event_seq(uow: UnitOfWork, object_id: str) -> int:
    seq = uow.session.exec(select(Event.seq).where(Event.object_id == object_id)
                           .order_by(col(Event.seq).desc())).first()
    assert seq is not None
    return seq


def test_the_id_of_another_accounts_coupon_tells_nothing(
        client: stripe.StripeClient, other: stripe.StripeClient) -> None:
    name = f"VIP-{secrets.token_hex(3).upper()}"
    client.v1.coupons.create({"id": name, "amount_off": 500, "currency": "usd",
                              "duration": "once"})

    with pytest.raises(stripe.InvalidRequestError) as missing:
        other.v1.coupons.retrieve(name)
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as not_theirs:
        other.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": name}})
    assert not_theirs.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as not_theirs_either:
        subscribe_with(other, name)
    assert not_theirs_either.value.code == "resource_missing"
