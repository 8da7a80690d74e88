"""Portico's own API over real HTTP — ``/v1/portico/offers``, ``/v1/portico/experiments``,
``/v1/portico/retention_policies`` — with the SDK's raw requests and plain httpx, on a
server that also serves the Stripe API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy.engine import Engine

from portal_app.api.portico_routes import build_api
from portal_app.clock import FrozenClock
from tests.portal_app.api.conftest import ApiServer


class PorticoServer(ApiServer):
    """The test API server, serving Portico's own endpoints beside Stripe's."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, build=build_api)


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
                               "cooldown_days": "90", "max_redemptions_per_customer": "1",
                               "max_redemptions_per_subscription": "2",
                               "redemption_window_months": "6"},
                  metadata={"team": "growth"})
    assert created["id"].startswith("offer_") and created["object"] == "portico.offer"
    assert created["type"] == "coupon" and created["active"] is True
    assert created["coupon"]["coupon"].startswith("co_")
    assert created["coupon"]["percent_off"] == 50 and created["coupon"]["duration"] == "repeating"
    assert created["coupon"]["duration_in_months"] == 3
    assert created["eligibility"] == {
        "reasons": ["too_expensive", "unused"], "products": [product.id], "prices": [],
        "minimum_subscription_age_days": 30, "cooldown_days": 90,
        "max_redemptions_per_customer": 1, "max_redemptions_per_subscription": 2,
        "redemption_window_months": 6}
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
    # Once per subscription per 12 months unless said otherwise; never "no limit".
    assert (pause["eligibility"]["max_redemptions_per_subscription"],
            pause["eligibility"]["redemption_window_months"]) == (1, 12)
    refused = http.post(f"/v1/portico/offers/{pause['id']}",
                        data={"eligibility[max_redemptions_per_subscription]": ""})
    assert refused.status_code == 400
    assert error_of(refused)["param"] == "eligibility[max_redemptions_per_subscription]"
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
         "trial_extension[days]", "parameter_invalid_integer"),
        ({"type": "contact", "name": "x"}, 400, "contact[url]", "parameter_missing"),
        ({"type": "contact", "name": "x", "contact[url]": "ftp://x"}, 400, "contact[url]",
         "url_invalid"),
        ({"type": "contact", "name": "x", "contact[url]": "https://a.test",
          "eligibility[reasons][0]": "bored"}, 400, "eligibility[reasons][0]", None),
        ({"type": "contact", "name": "x", "contact[url]": "https://a.test",
          "pause[interval]": "month"}, 400, "pause[interval]", None),
        ({"type": "contact", "name": "x", "contact[phone]": "1"}, 400, "contact[phone]",
         "parameter_unknown"),
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


# --- experiments ---------------------------------------------------------------------


def offer(sdk: stripe.StripeClient, name: str) -> str:
    return raw(sdk, "post", "/v1/portico/offers", type="trial_extension", name=name,
               trial_extension={"days": "14"})["id"]


def test_experiment_lifecycle(sdk: stripe.StripeClient, http: httpx.Client) -> None:
    config = sdk.v1.billing_portal.configurations.create({
        "features": {"subscription_cancel": {"enabled": True}}})
    week, month = offer(sdk, "Week"), offer(sdk, "Month")
    created = raw(sdk, "post", "/v1/portico/experiments", name="Free time",
                  configuration=config.id, holdout_percent="10",
                  reasons=["too_expensive", "unused"],
                  segments={"tenure_min_days": "30"},
                  variants=[{"name": "control", "weight": "2"},
                            {"name": "week", "weight": "1",
                             "offers": {"too_expensive": week, "default": week}},
                            {"name": "month", "weight": "1", "offers": {"unused": month}}])
    assert created["id"].startswith("exp_") and created["object"] == "portico.experiment"
    assert created["status"] == "draft" and created["holdout_percent"] == 10
    assert created["configuration"] == config.id
    assert created["segments"] == {"products": [], "prices": [], "tenure_min_days": 30,
                                   "tenure_max_days": None}
    variants = created["variants"]
    assert [v["name"] for v in variants] == ["control", "week", "month"]
    assert [v["weight"] for v in variants] == [2, 1, 1]
    assert variants[0]["control"] is True and variants[0]["offers"] == {}
    assert variants[1]["offers"] == {"too_expensive": week, "default": week}
    assert all(v["id"].startswith("var_") and v["object"] == "portico.experiment_variant"
               for v in variants)

    updated = http.post(f"/v1/portico/experiments/{created['id']}", data={
        "name": "Free time v2", "variants[0][name]": "control",
        "variants[1][name]": "month", "variants[1][offers][default]": month}).json()
    assert updated["name"] == "Free time v2"
    assert [v["name"] for v in updated["variants"]] == ["control", "month"]

    started = http.post(f"/v1/portico/experiments/{created['id']}/start").json()
    assert started["status"] == "running" and started["started_at"] is not None
    frozen = http.post(f"/v1/portico/experiments/{created['id']}", data={"name": "x"})
    assert frozen.status_code == 400 and error_of(frozen)["code"] == "experiment_not_draft"
    second = raw(sdk, "post", "/v1/portico/experiments", name="Other",
                 configuration=config.id, variants=[{"name": "control"}])
    conflict = http.post(f"/v1/portico/experiments/{second['id']}/start")
    assert conflict.status_code == 400 and error_of(conflict)["code"] == "experiment_conflict"

    listed = http.get("/v1/portico/experiments", params={"status": "running"}).json()
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    by_config = http.get("/v1/portico/experiments", params={"configuration": config.id,
                                                            "limit": 1}).json()
    assert by_config["has_more"] is True and by_config["url"] == "/v1/portico/experiments"

    missing = http.post(f"/v1/portico/experiments/{created['id']}/ship", data={})
    assert missing.status_code == 400 and error_of(missing)["param"] == "variant"
    winner = updated["variants"][1]["id"]
    shipped = http.post(f"/v1/portico/experiments/{created['id']}/ship",
                        data={"variant": winner}).json()
    assert shipped["status"] == "stopped" and shipped["shipped_variant"] == winner
    policy = http.get(f"/v1/portico/retention_policies/{config.id}").json()
    assert policy["offers"] == {"default": month}
    again = http.post(f"/v1/portico/experiments/{created['id']}/stop")
    assert again.status_code == 400 and error_of(again)["code"] == "experiment_not_running"
    assert http.post(f"/v1/portico/experiments/{second['id']}/start").json()["status"] == \
        "running"


def test_experiment_errors(sdk: stripe.StripeClient, http: httpx.Client) -> None:
    config = sdk.v1.billing_portal.configurations.create({
        "features": {"subscription_cancel": {"enabled": True}}})
    week = offer(sdk, "Week")
    base: dict[str, Any] = {"name": "E", "configuration": config.id,
                            "variants[0][name]": "a"}
    cases = [
        ({"name": "E", "configuration": config.id}, 400, "variants"),
        ({**base, "configuration": "bpc_nope"}, 404, "configuration"),
        ({**base, "variants[0][weight]": "0"}, 400, "variants[0][weight]"),
        ({**base, "variants[0][offers][bored]": week}, 400, "variants[0][offers][bored]"),
        ({**base, "variants[0][offers][unused]": "offer_nope"}, 404,
         "variants[0][offers][unused]"),
        ({**base, "variants[1][name]": "a"}, 400, "variants[1][name]"),
        ({**base, "holdout_percent": "100"}, 400, "holdout_percent"),
        ({**base, "reasons[0]": "bored"}, 400, "reasons[0]"),
        ({**base, "segments[tenure_min_days]": "9", "segments[tenure_max_days]": "3"}, 400,
         "segments[tenure_min_days]"),
        ({**base, "segments[plan]": "x"}, 400, "segments[plan]"),
    ]
    for data, status, param in cases:
        response = http.post("/v1/portico/experiments", data=data)
        assert response.status_code == status, (data, response.text)
        assert error_of(response)["param"] == param, (data, response.text)
    draft = json.loads(sdk.raw_request("post", "/v1/portico/experiments", name="E",
                                       configuration=config.id,
                                       variants=[{"name": "a"}]).body)
    ship = http.post(f"/v1/portico/experiments/{draft['id']}/ship",
                     data={"variant": draft["variants"][0]["id"]})
    assert ship.status_code == 400 and error_of(ship)["code"] == "experiment_not_started"
    http.post(f"/v1/portico/experiments/{draft['id']}/start")
    foreign = http.post(f"/v1/portico/experiments/{draft['id']}/ship",
                        data={"variant": "var_nope"})
    assert foreign.status_code == 404 and error_of(foreign)["param"] == "variant"
