"""Portal sessions: ``flow_data`` names its billing objects, checked through the contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portal_app.accounts import services as accounts
from portal_app.billing.provider import ItemSpec
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.portal import sessions
from tests.portal_app.views.test_overview import provider_of, subscribed_customer

UowFactory = Callable[[], UnitOfWork]


def create(account_id: str, customer: str, make_uow: UowFactory,
           flow_data: dict[str, Any]) -> sessions.CreatedSession:
    return sessions.create_session(account_id=account_id, uow=make_uow(), customer=customer,
                                   flow_data=flow_data)


def test_a_missing_customer_is_blamed_on_the_customer_param(account_id: str,
                                                             make_uow: UowFactory) -> None:
    with pytest.raises(ResourceMissing) as missing:
        sessions.create_session(account_id=account_id, uow=make_uow(), customer="cus_nope")
    assert (missing.value.param, missing.value.message) == ("customer",
                                                            "No such customer: 'cus_nope'")


def test_flow_objects_are_checked(account_id: str, make_uow: UowFactory) -> None:
    customer, sub = subscribed_customer(account_id, make_uow)
    billing = provider_of(account_id, make_uow)
    coupon = billing.create_coupon(percent_off=20)
    [item] = sub["items"]["data"]
    confirm = "flow_data[subscription_update_confirm]"

    ok = create(account_id, customer, make_uow, {
        "type": "subscription_update_confirm", "subscription_update_confirm": {
            "subscription": sub["id"], "items": [{"id": item["id"], "quantity": "2"}],
            "discounts": [{"coupon": coupon["id"]}]}})
    assert ok.session.flow is not None
    assert ok.session.flow["subscription_update_confirm"]["items"] == [
        {"id": item["id"], "price": None, "quantity": 2}]

    with pytest.raises(ResourceMissing) as no_sub:
        create(account_id, customer, make_uow, {
            "type": "subscription_pause", "subscription_pause": {"subscription": "sub_nope"}})
    assert no_sub.value.param == "flow_data[subscription_pause][subscription]"
    with pytest.raises(ResourceMissing) as no_coupon:
        create(account_id, customer, make_uow, {
            "type": "subscription_cancel", "subscription_cancel": {
                "subscription": sub["id"], "retention": {
                    "type": "coupon_offer", "coupon_offer": {"coupon": "nope"}}}})
    assert no_coupon.value.param == (
        "flow_data[subscription_cancel][retention][coupon_offer][coupon]")
    with pytest.raises(ResourceMissing) as no_discount:
        create(account_id, customer, make_uow, {
            "type": "subscription_update_confirm", "subscription_update_confirm": {
                "subscription": sub["id"], "items": [{"id": item["id"]}],
                "discounts": [{"coupon": "nope"}]}})
    assert no_discount.value.param == f"{confirm}[discounts][0][coupon]"
    with pytest.raises(ResourceMissing) as no_price:
        create(account_id, customer, make_uow, {
            "type": "subscription_update_confirm", "subscription_update_confirm": {
                "subscription": sub["id"], "items": [{"id": item["id"], "price": "price_nope"}]}})
    assert no_price.value.param == f"{confirm}[items][0][price]"


def test_objects_of_another_subscription_or_customer_are_refused(
        account_id: str, make_uow: UowFactory) -> None:
    customer, sub = subscribed_customer(account_id, make_uow)
    other, other_sub = subscribed_customer(account_id, make_uow)
    [other_item] = other_sub["items"]["data"]

    with pytest.raises(InvalidRequest) as foreign:
        create(account_id, customer, make_uow, {
            "type": "subscription_cancel", "subscription_cancel": {"subscription": other_sub["id"]}})
    # The merchant is told whose subscription it is: a refusal (400), not "missing".
    assert not isinstance(foreign.value, ResourceMissing)
    assert foreign.value.message == f"The subscription {other_sub['id']} does not belong to {customer}."
    with pytest.raises(InvalidRequest) as item:
        create(account_id, customer, make_uow, {
            "type": "subscription_update_confirm", "subscription_update_confirm": {
                "subscription": sub["id"], "items": [{"id": other_item["id"]}]}})
    assert (item.value.param, item.value.code) == (
        "flow_data[subscription_update_confirm][items][0][id]", "resource_missing")
    assert other != customer


def test_another_accounts_customer_is_missing(account_id: str, make_uow: UowFactory) -> None:
    other_account = accounts.create_account(business_name="Other", email="o@x.test",
                                            uow=make_uow()).id
    billing = provider_of(other_account, make_uow)
    product = billing.create_product(name="Pro")
    price = billing.create_price(product=product["id"], currency="eur", unit_amount=100,
                                 interval="month")
    stranger = billing.create_customer(payment_method="pm_card_visa")["id"]
    billing.create_subscription(customer=stranger, items=[ItemSpec(price["id"])])
    with pytest.raises(ResourceMissing):
        sessions.create_session(account_id=account_id, uow=make_uow(), customer=stranger)


def test_flow_data_is_stored_in_stripes_shape(account_id: str, make_uow: UowFactory) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    hosted = create(account_id, customer, make_uow, {
        "type": "customer_update", "after_completion": {
            "type": "hosted_confirmation", "hosted_confirmation": {"custom_message": "Bye"}}})
    assert hosted.session.flow == {
        "type": "customer_update", "customer_update": {},
        "after_completion": {"type": "hosted_confirmation", "redirect": None,
                             "hosted_confirmation": {"custom_message": "Bye"}},
        "subscription_cancel": None, "subscription_pause": None, "subscription_update": None,
        "subscription_update_confirm": None}
    redirect = create(account_id, customer, make_uow, {
        "type": "payment_method_update", "after_completion": {
            "type": "redirect", "redirect": {"return_url": "https://acme.test/done"}}})
    assert redirect.session.flow is not None
    assert redirect.session.flow["customer_update"] is None
    assert redirect.session.flow["after_completion"] == {
        "type": "redirect", "redirect": {"return_url": "https://acme.test/done"},
        "hosted_confirmation": None}
    plain = create(account_id, customer, make_uow, {"type": "payment_method_update"})
    assert plain.session.flow is not None
    assert plain.session.flow["after_completion"] == {
        "type": "portal_homepage", "redirect": None, "hosted_confirmation": None}


def test_link_and_cookie_secrets_carry_256_bits(account_id: str,
                                                make_uow: UowFactory) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    token = sessions.create_session(account_id=account_id, uow=make_uow(),
                                    customer=customer).url.rsplit("/", 1)[1]
    cookie = sessions.open_session(token, browser_secret=None, uow=make_uow()).browser_secret
    assert cookie is not None
    # URL-safe base64: 43 characters hold 258 bits, 42 only 252
    assert len(token) >= 43 and len(cookie) >= 43
