"""An offer's coupon and price belong to the account's billing: checked through its
provider (no reference into the ledger), on the ledger and on Stripe alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe

from portal_app.accounts import services as accounts
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.retention.offers import create_offer, update_offer


def _catalog(account_id: str, uow: UnitOfWork) -> dict[str, str]:
    """A coupon and a recurring price of the account's billing (ledger or Stripe)."""
    billing = billing_provider(account_id, uow=uow)
    product = billing.create_product(name="Lite")
    return {
        "coupon": billing.create_coupon(percent_off=25, duration="once")["id"],
        "price": billing.create_price(product=product["id"], currency="eur", unit_amount=900,
                                      interval="month")["id"],
        "one_time": billing.create_price(product=product["id"], currency="eur",
                                         unit_amount=900)["id"],
    }


@pytest.fixture(params=["ledger", "stripe"])
def account(request: pytest.FixtureRequest, account_id: str) -> str:
    """An account billing on the ledger, or one billing through Stripe."""
    if request.param == "ledger":
        return account_id
    stripe_backed: str = request.getfixturevalue("stripe_backed_account_id")
    return stripe_backed


@pytest.fixture
def elsewhere(make_uow: Callable[[], UnitOfWork]) -> dict[str, str]:
    """Another merchant's coupon and prices (on its ledger)."""
    other = accounts.create_account(business_name="Other", email="o@example.com",
                                    uow=make_uow()).id
    return _catalog(other, make_uow())


def _offer(account_id: str, uow: UnitOfWork, **fields: Any) -> Any:
    kind = "coupon" if "coupon" in fields else "price_change"
    return create_offer(account_id=account_id, uow=uow, type=kind, name="Stay", **fields)


def test_a_coupon_of_the_accounts_billing_makes_an_offer(
        account: str, make_uow: Callable[[], UnitOfWork]) -> None:
    ids = _catalog(account, make_uow())
    offer = _offer(account, make_uow(), coupon=ids["coupon"])
    assert offer.coupon_id == ids["coupon"]


def test_a_coupon_the_accounts_billing_lacks_is_missing(
        account: str, make_uow: Callable[[], UnitOfWork], elsewhere: dict[str, str]) -> None:
    for coupon in ("SUMMER_NOWHERE", elsewhere["coupon"]):
        with pytest.raises(ResourceMissing) as refused:
            _offer(account, make_uow(), coupon=coupon)
        assert refused.value.param == "coupon[coupon]"
    offer = _offer(account, make_uow(), coupon=_catalog(account, make_uow())["coupon"])
    with pytest.raises(ResourceMissing) as refused:
        update_offer(offer.id, account_id=account, uow=make_uow(), coupon=elsewhere["coupon"])
    assert refused.value.param == "coupon[coupon]"


def test_a_price_change_offer_needs_a_recurring_price_of_the_accounts_billing(
        account: str, make_uow: Callable[[], UnitOfWork], elsewhere: dict[str, str]) -> None:
    ids = _catalog(account, make_uow())
    offer = _offer(account, make_uow(), price=ids["price"])
    assert offer.price_id == ids["price"]
    with pytest.raises(InvalidRequest) as refused:
        _offer(account, make_uow(), price=ids["one_time"])
    assert refused.value.param == "price_change[price]"
    for price in ("price_nowhere", elsewhere["price"]):
        with pytest.raises(ResourceMissing) as missing:
            update_offer(offer.id, account_id=account, uow=make_uow(), price=price)
        assert missing.value.param == "price_change[price]"


def test_a_stripe_backed_offer_uses_stripes_coupon_not_a_ledger_one(
        stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
        make_uow: Callable[[], UnitOfWork]) -> None:
    in_stripe = stripe_side_client.v1.coupons.create({"id": "WINBACK", "percent_off": 30,
                                                      "duration": "once"})
    offer = _offer(stripe_backed_account_id, make_uow(), coupon=in_stripe.id)
    assert offer.coupon_id == "WINBACK"
