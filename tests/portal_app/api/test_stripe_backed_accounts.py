"""A Stripe-backed account through Portico's API: sessions name Stripe customers, the
ledger's endpoints refuse it, Portico's own endpoints serve it — beside a local account.

"Stripe" is a second Portico (tests/stripe_world.py); Portico's API is served over real
HTTP and driven with the ``stripe`` SDK, as a merchant's backend drives it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import httpx
import pytest
import stripe
from sqlalchemy.engine import Engine

from portal_app.accounts import services as accounts
from portal_app.api.portico_routes import build_api
from portal_app.api.routes import LEDGER
from portal_app.billing.providers import billing_provider
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.events.models import Event
from portal_app.portal.sessions import open_session
from tests.portal_app.api.conftest import ApiServer


@pytest.fixture(scope="session")
def both_apis(database: Engine) -> Iterator[ApiServer]:
    """Stripe's API and Portico's own (offers, experiments) on one server."""
    server = ApiServer(database, build=build_api)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def url(both_apis: ApiServer, clock: FrozenClock) -> Iterator[str]:
    both_apis.clock.current = clock
    yield both_apis.url
    both_apis.clock.current = None


@pytest.fixture
def stripe_backed_key(stripe_backed_account_id: str, make_uow: Callable[[], UnitOfWork]) -> str:
    return accounts.create_api_key(account_id=stripe_backed_account_id, uow=make_uow())


@pytest.fixture
def merchant(url: str, stripe_backed_key: str) -> stripe.StripeClient:
    """The merchant's backend: the SDK on Portico with the Stripe-backed account's key."""
    return stripe.StripeClient(stripe_backed_key, base_addresses={"api": url},
                               max_network_retries=0)


@pytest.fixture
def local_merchant(url: str, api_key: str) -> stripe.StripeClient:
    """Another merchant of the same installation, billing on Portico's ledger."""
    return stripe.StripeClient(api_key, base_addresses={"api": url}, max_network_retries=0)


def _token(session_url: str) -> str:
    match = re.fullmatch(r".*/p/([A-Za-z0-9_-]{43})", session_url)
    assert match, session_url
    return match.group(1)


def test_a_session_names_a_stripe_customer_and_opens_the_portal_on_it(
        merchant: stripe.StripeClient, stripe_side_client: stripe.StripeClient,
        stripe_backed_account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    ada = stripe_side_client.v1.customers.create({"email": "ada@example.com", "name": "Ada"})
    session = merchant.v1.billing_portal.sessions.create(
        {"customer": ada.id, "return_url": "https://shop.example/account"})
    assert session.customer == ada.id
    opened = open_session(_token(session.url), browser_secret=None, uow=make_uow())
    assert opened.session.account_id == stripe_backed_account_id
    assert opened.session.customer_id == ada.id
    # The portal reads that customer from Stripe.
    billing = billing_provider(stripe_backed_account_id, uow=make_uow())
    assert billing.retrieve_customer(opened.session.customer_id)["email"] == "ada@example.com"


def test_a_customer_stripe_does_not_have_is_missing_on_customer(
        merchant: stripe.StripeClient, local_merchant: stripe.StripeClient) -> None:
    # Not in Stripe, and a customer of the ledger (another account's world) is not either.
    local = local_merchant.v1.customers.create({"email": "local@example.com"})
    for missing in ("cus_nowhere", local.id):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            merchant.v1.billing_portal.sessions.create({"customer": missing})
        assert refused.value.http_status == 404
        assert refused.value.code == "resource_missing"
        assert refused.value.param == "customer"
    # The same answer the ledger gives for a customer it does not have.
    with pytest.raises(stripe.InvalidRequestError) as local_refusal:
        local_merchant.v1.billing_portal.sessions.create({"customer": "cus_nowhere"})
    assert (local_refusal.value.http_status, local_refusal.value.param) == (404, "customer")


def test_the_ledger_endpoints_refuse_a_stripe_backed_account_and_change_nothing(
        url: str, stripe_backed_key: str, stripe_backed_account_id: str,
        make_uow: Callable[[], UnitOfWork]) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {stripe_backed_key}"},
                      timeout=10) as http:
        for endpoint in LEDGER.endpoints:
            path = re.sub(r"\{[^}]+\}", "x_1", endpoint.path)
            response = http.request(endpoint.method, path)
            assert response.status_code == 400, (endpoint.method, path, response.text)
            error = response.json()["error"]
            assert error["type"] == "invalid_request_error"
            assert error["code"] == "account_bills_through_stripe"
            assert error["message"].startswith("This account bills through Stripe: call "
                                               f"Stripe for {endpoint.resource}")
    with make_uow() as uow:
        assert uow.session.query(Event).filter_by(account_id=stripe_backed_account_id).count() == 0


def test_the_sdk_sees_a_clear_stripe_error_for_customers(merchant: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        merchant.v1.customers.create({"email": "ada@example.com"})
    assert refused.value.http_status == 400
    assert "call Stripe for customers" in str(refused.value.user_message)
    with pytest.raises(stripe.InvalidRequestError, match="call Stripe for subscriptions"):
        merchant.v1.subscriptions.list()


def test_portico_endpoints_keep_serving_a_stripe_backed_account(
        merchant: stripe.StripeClient, stripe_side_client: stripe.StripeClient) -> None:
    coupon = stripe_side_client.v1.coupons.create({"percent_off": 20, "duration": "once"})
    config = merchant.v1.billing_portal.configurations.create(
        {"features": {"invoice_history": {"enabled": True}}})
    assert [c.id for c in merchant.v1.billing_portal.configurations.list().data] == [config.id]
    offer = json.loads(merchant.raw_request(
        "post", "/v1/portico/offers", type="coupon", name="Stay: 20% off",
        coupon={"coupon": coupon.id}).body)
    assert offer["coupon"]["coupon"] == coupon.id
    experiment = json.loads(merchant.raw_request(
        "post", "/v1/portico/experiments", name="Coupon or not", configuration=config.id,
        variants=[{"name": "control"}, {"name": "coupon", "offers": {"default": offer["id"]}}],
    ).body)
    assert experiment["status"] == "draft"
    assert merchant.v1.webhook_endpoints.list().data == []
    assert [e.type for e in merchant.v1.events.list().data] == [
        "portico.experiment.created", "portico.offer.created",
        "billing_portal.configuration.created"]


def test_one_installation_serves_both_kinds_side_by_side(
        merchant: stripe.StripeClient, local_merchant: stripe.StripeClient,
        stripe_side_client: stripe.StripeClient) -> None:
    in_stripe = stripe_side_client.v1.customers.create({"email": "stripe@example.com"})
    on_ledger = local_merchant.v1.customers.create({"email": "ledger@example.com"})
    assert [c.id for c in local_merchant.v1.customers.list().data] == [on_ledger.id]
    ours = merchant.v1.billing_portal.sessions.create({"customer": in_stripe.id})
    theirs = local_merchant.v1.billing_portal.sessions.create({"customer": on_ledger.id})
    assert (ours.customer, theirs.customer) == (in_stripe.id, on_ledger.id)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        local_merchant.v1.billing_portal.sessions.create({"customer": in_stripe.id})
    assert refused.value.http_status == 404
