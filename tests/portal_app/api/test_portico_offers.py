"""``/v1/portico/offers`` and ``/v1/portico/retention_policies`` over real HTTP, with the
SDK's raw requests and plain httpx, on a server that also serves the Stripe API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from granian.constants import Interfaces
from granian.server.embed import Server
from sqlalchemy.engine import Engine

from portal_app.api.portico_routes import build_api
from portal_app.billing.clock import FrozenClock
from tests.portal_app.api.conftest import ApiServer


class PorticoServer(ApiServer):
    """The test API server, serving Portico's own endpoints beside Stripe's."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._server = Server(build_api(clock=self.clock, engine=engine), address="127.0.0.1",
                              port=self.port, interface=Interfaces.ASGI, log_enabled=False)


@pytest.fixture(scope="session")
def portico_server(database: Engine) -> Iterator[PorticoServer]:
    server = PorticoServer(database)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def portico_url(portico_server: PorticoServer, clock: FrozenClock) -> Iterator[str]:
    portico_server.clock.current = clock
    yield portico_server.url
    portico_server.clock.current = None


@pytest.fixture
def sdk(portico_url: str, api_key: str) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": portico_url},
                               max_network_retries=0)


@pytest.fixture
def http(portico_url: str, api_key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portico_url, headers={"Authorization": f"Bearer {api_key}"},
                      timeout=10) as client:
        yield client


def raw(sdk: stripe.StripeClient, method: str, path: str, **params: Any) -> dict[str, Any]:
    response = sdk.raw_request(method, path, **params)
    return json.loads(response.body)


def error_of(response: httpx.Response) -> dict[str, Any]:
    return response.json()["error"]


def test_offer_create_retrieve_update_list_delete(sdk: stripe.StripeClient,
                                                  http: httpx.Client) -> None:
    product = sdk.v1.products.create({"name": "Cloud"})
    created = raw(sdk, "post", "/v1/portico/offers", type="coupon", name="Half off",
                  headline="Stay for half the price",
                  coupon={"percent_off": "50", "duration": "repeating",
                          "duration_in_months": "3"},
                  eligibility={"reasons": ["too_expensive", "unused"],
                               "products": [product.id],
                               "minimum_subscription_age_days": "30",
                               "cooldown_days": "90", "max_redemptions_per_customer": "1"},
                  metadata={"team": "growth"})
    assert created["id"].startswith("offer_") and created["object"] == "portico.offer"
    assert created["type"] == "coupon" and created["active"] is True
    assert created["coupon"]["coupon"].startswith("co_")
    assert created["coupon"]["percent_off"] == 50 and created["coupon"]["duration"] == "repeating"
    assert created["coupon"]["duration_in_months"] == 3
    assert created["eligibility"] == {
        "reasons": ["too_expensive", "unused"], "products": [product.id], "prices": [],
        "minimum_subscription_age_days": 30, "cooldown_days": 90,
        "max_redemptions_per_customer": 1}
    assert created["pause"] is None and created["metadata"] == {"team": "growth"}
    # The coupon behind it is a real billing coupon.
    coupon = sdk.v1.coupons.retrieve(created["coupon"]["coupon"])
    assert coupon.percent_off == 50

    fetched = http.get(f"/v1/portico/offers/{created['id']}").json()
    assert fetched == created
    updated = http.post(f"/v1/portico/offers/{created['id']}", data={
        "name": "Half off for 3 months", "headline": "", "eligibility[cooldown_days]": "",
        "active": "false"}).json()
    assert updated["name"] == "Half off for 3 months" and updated["headline"] is None
    assert updated["eligibility"]["cooldown_days"] is None and updated["active"] is False

    pause = raw(sdk, "post", "/v1/portico/offers", type="pause", name="Pause",
                pause={"interval": "month", "interval_count": "2"})
    assert pause["pause"] == {"interval": "month", "interval_count": 2}
    page = http.get("/v1/portico/offers", params={"limit": 1}).json()
    assert page["object"] == "list" and page["url"] == "/v1/portico/offers"
    assert page["has_more"] is True and len(page["data"]) == 1
    rest = http.get("/v1/portico/offers",
                    params={"starting_after": page["data"][0]["id"]}).json()
    assert {o["id"] for o in page["data"] + rest["data"]} == {created["id"], pause["id"]}
    assert [o["id"] for o in http.get("/v1/portico/offers",
                                      params={"active": "true"}).json()["data"]] == [pause["id"]]
    assert [o["id"] for o in http.get("/v1/portico/offers",
                                      params={"type": "pause"}).json()["data"]] == [pause["id"]]

    deleted = http.delete(f"/v1/portico/offers/{pause['id']}").json()
    assert deleted == {"id": pause["id"], "object": "portico.offer", "deleted": True}
    assert http.get(f"/v1/portico/offers/{pause['id']}").status_code == 404


def test_offer_errors_name_the_param(http: httpx.Client) -> None:
    cases = [
        ({"name": "x"}, 400, "type", "parameter_missing"),
        ({"type": "bogus", "name": "x"}, 400, "type", None),
        ({"type": "pause", "name": "x", "pause[interval]": "month"}, 400,
         "pause[interval_count]", "parameter_missing"),
        ({"type": "price_change", "name": "x", "price_change[price]": "price_nope"}, 404,
         "price_change[price]", "resource_missing"),
        ({"type": "trial_extension", "name": "x", "trial_extension[days]": "0"}, 400,
         "trial_extension[days]", None),
        ({"type": "contact", "name": "x"}, 400, "contact[url]", "parameter_missing"),
        ({"type": "contact", "name": "x", "contact[url]": "ftp://x"}, 400, "contact[url]",
         "url_invalid"),
        ({"type": "contact", "name": "x", "contact[url]": "https://a.test",
          "eligibility[reasons][0]": "bored"}, 400, "eligibility[reasons][0]", None),
        ({"type": "contact", "name": "x", "contact[url]": "https://a.test",
          "pause[interval]": "month"}, 400, "pause[interval]", None),
        ({"type": "contact", "name": "x", "contact[phone]": "1"}, 400, "contact[phone]", None),
    ]
    for data, status, param, code in cases:
        response = http.post("/v1/portico/offers", data=data)
        assert response.status_code == status, (data, response.text)
        error = error_of(response)
        assert error["type"] == "invalid_request_error"
        assert error["param"] == param, (data, error)
        assert error.get("code") == code, (data, error)
    missing = http.get("/v1/portico/offers/offer_nope")
    assert missing.status_code == 404 and error_of(missing)["code"] == "resource_missing"


def test_offer_idempotency_and_other_accounts(http: httpx.Client, portico_url: str,
                                              make_uow: Any) -> None:
    from portal_app.accounts import services as accounts

    data = {"type": "trial_extension", "name": "Two weeks", "trial_extension[days]": "14"}
    first = http.post("/v1/portico/offers", data=data, headers={"Idempotency-Key": "k-1"})
    again = http.post("/v1/portico/offers", data=data, headers={"Idempotency-Key": "k-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert len(http.get("/v1/portico/offers").json()["data"]) == 1
    conflict = http.post("/v1/portico/offers", data={**data, "name": "Other"},
                         headers={"Idempotency-Key": "k-1"})
    assert conflict.status_code == 400 and error_of(conflict)["type"] == "idempotency_error"

    other = accounts.create_account(business_name="Other", email="o@example.com",
                                    uow=make_uow())
    key = accounts.create_api_key(account_id=other.id, uow=make_uow())
    stranger = httpx.get(f"{portico_url}/v1/portico/offers/{first.json()['id']}",
                         headers={"Authorization": f"Bearer {key}"})
    assert stranger.status_code == 404
    assert httpx.get(f"{portico_url}/v1/portico/offers").status_code == 401


def test_used_offer_cannot_be_deleted_only_deactivated(sdk: stripe.StripeClient,
                                                       http: httpx.Client) -> None:
    config = sdk.v1.billing_portal.configurations.create({
        "features": {"subscription_cancel": {"enabled": True}}})
    offer = raw(sdk, "post", "/v1/portico/offers", type="contact", name="Talk",
                contact={"email": "help@acme.test"})
    policy = http.post(f"/v1/portico/retention_policies/{config.id}", data={
        "offers[default]": offer["id"], "comment_required": "true"}).json()
    assert policy["object"] == "portico.retention_policy"
    assert policy["offers"] == {"default": offer["id"]} and policy["comment_required"] is True
    assert http.get(f"/v1/portico/retention_policies/{config.id}").json() == policy
    refused = http.delete(f"/v1/portico/offers/{offer['id']}")
    assert refused.status_code == 400 and error_of(refused)["code"] == "offer_in_use"
    bad = http.post(f"/v1/portico/retention_policies/{config.id}",
                    data={"offers[bored]": offer["id"]})
    assert bad.status_code == 400 and error_of(bad)["param"] == "offers[bored]"
    assert http.get("/v1/portico/retention_policies/bpc_nope").status_code == 404


def test_stripe_endpoints_still_answer_beside_portico(http: httpx.Client) -> None:
    assert http.post("/v1/customers", data={"email": "a@example.com"}).status_code == 200
    unknown = http.get("/v1/portico/nothing")
    assert unknown.status_code == 404 and "Unrecognized request URL" in error_of(unknown)[
        "message"]
