"""``/v1/webhook_endpoints`` and ``/v1/events`` through the official SDK, and signed payloads."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import stripe

from portal_app.accounts import services as accounts
from portal_app.clock import FrozenClock, to_unix
from portal_app.webhooks import endpoints
from portal_app.webhooks.events import render_event
from portal_app.webhooks.models import DELIVERY_FAILED, DELIVERY_PENDING, WebhookDelivery
from portal_app.webhooks.signing import signature_header
from tests.conftest import START
from tests.portal_app.api.test_shapes import mismatches
from tests.portal_app.billing.helpers import events_of
from tests.portal_app.stored_secrets import stored_occurrences
from tests.portal_app.webhooks.helpers import MakeUow, deliveries_of

HOOK = "https://hooks.example.com/stripe"


def call(api_url: str, key: str, method: str, path: str, data: dict[str, Any] | None = None
         ) -> httpx.Response:
    return httpx.request(method, f"{api_url}{path}", data=data,
                         headers={"Authorization": f"Bearer {key}"})


def test_create_retrieve_update_list_delete_through_the_sdk(
        client: stripe.StripeClient, api_url: str, api_key: str, clock: FrozenClock) -> None:
    created = client.v1.webhook_endpoints.create({
        "url": HOOK, "enabled_events": ["customer.created", "invoice.paid"],
        "description": "orders", "metadata": {"team": "billing"}})
    assert isinstance(created, stripe.WebhookEndpoint) and created.id.startswith("we_")
    assert created.secret is not None and created.secret.startswith("whsec_")
    assert (created.url, created.status, created.livemode, created.description) == (
        HOOK, "enabled", False, "orders")
    assert created.enabled_events == ["customer.created", "invoice.paid"]
    assert created.created == to_unix(START) and created.metadata.to_dict() == {"team": "billing"}
    raw = call(api_url, api_key, "GET", f"/v1/webhook_endpoints/{created.id}").json()
    assert mismatches(stripe.WebhookEndpoint, raw, "webhook_endpoint") == []
    assert raw["secret"] is None and raw["object"] == "webhook_endpoint"
    clock.set(START + timedelta(seconds=1))
    second = client.v1.webhook_endpoints.create({"url": "http://localhost:4242/h",
                                                 "enabled_events": ["*"]})
    updated = client.v1.webhook_endpoints.update(created.id, {
        "disabled": True, "enabled_events": ["*"], "description": "",
        "metadata": {"team": "", "on_call": "ada"}})
    assert (updated.status, updated.enabled_events, updated.description) == (
        "disabled", ["*"], None)
    assert updated.metadata.to_dict() == {"on_call": "ada"} and updated.secret is None
    listed = client.v1.webhook_endpoints.list()
    assert [e.id for e in listed.data] == [second.id, created.id]
    assert listed.url == "/v1/webhook_endpoints"
    page = client.v1.webhook_endpoints.list({"limit": 1, "starting_after": second.id})
    assert [e.id for e in page.data] == [created.id] and not page.has_more
    deleted = client.v1.webhook_endpoints.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.webhook_endpoints.retrieve(created.id)
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    # The legacy resource methods reach the same endpoints.
    base = stripe.api_base
    stripe.api_base = api_url
    try:
        assert stripe.WebhookEndpoint.retrieve(second.id, api_key=api_key
                                               ).url == "http://localhost:4242/h"
        assert [e.id for e in stripe.Event.list(api_key=api_key).data] == []
    finally:
        stripe.api_base = base


@pytest.mark.parametrize(("data", "param", "code"), [
    ({"enabled_events[]": "*"}, "url", "parameter_missing"),
    ({"url": HOOK}, "enabled_events", "parameter_missing"),
    ({"url": "http://hooks.example.com/", "enabled_events[]": "*"}, "url", "url_invalid"),
    ({"url": "not a url", "enabled_events[]": "*"}, "url", "url_invalid"),
    ({"url": HOOK, "enabled_events[]": "no_such"}, "enabled_events[0]", None),
    ({"url": HOOK, "enabled_events[]": "*", "secret": "whsec_mine"}, "secret",
     "parameter_unknown"),
])
def test_invalid_creates_are_stripes_400_with_param(api_url: str, api_key: str,
                                                    data: dict[str, str], param: str,
                                                    code: str | None) -> None:
    response = call(api_url, api_key, "POST", "/v1/webhook_endpoints", data)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["param"], error.get("code")) == (
        "invalid_request_error", param, code)


def test_a_live_key_makes_live_endpoints_that_must_be_public(
        api_url: str, account_id: str, make_uow: MakeUow) -> None:
    live_key = accounts.create_api_key(account_id=account_id, uow=make_uow(),
                                       key="sk_live_" + "x" * 40 + account_id[-8:])
    client = stripe.StripeClient(live_key, base_addresses={"api": api_url},
                                 max_network_retries=0)
    for url in ("https://169.254.169.254/latest/meta-data/", "https://10.0.0.8/hook",
                "https://localhost/hook", "http://localhost:4242/hook"):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.webhook_endpoints.create({"url": url, "enabled_events": ["*"]})
        assert refused.value.param == "url", url
    live = client.v1.webhook_endpoints.create({"url": "https://93.184.216.34/hook",
                                               "enabled_events": ["*"]})
    assert live.livemode is True


def test_a_delivery_payload_is_the_events_api_object_and_verifies_with_the_secret(
        client: stripe.StripeClient, api_url: str, api_key: str, account_id: str,
        make_uow: MakeUow) -> None:
    hook = client.v1.webhook_endpoints.create({"url": HOOK, "enabled_events": ["*"]})
    customer = client.v1.customers.create({"email": "ada@example.com"})
    [event_row] = events_of(make_uow, account_id, object_id=customer.id)
    [delivery] = deliveries_of(make_uow, account_id)
    assert (delivery.endpoint_id, delivery.event_id, delivery.status) == (
        hook.id, event_row.id, DELIVERY_PENDING)
    served = call(api_url, api_key, "GET", f"/v1/events/{event_row.id}").json()
    assert mismatches(stripe.Event, served, "event") == []
    assert served["pending_webhooks"] == 1
    assert served["request"]["id"] is not None and served["data"]["object"]["id"] == customer.id
    payload = json.dumps(render_event(event_row, pending_webhooks=1))
    assert json.loads(payload) == served
    row = endpoints.retrieve_endpoint(hook.id, account_id=account_id, uow=make_uow())
    header = signature_header(payload, endpoints.endpoint_secret(row), timestamp=to_unix(
        START) or 0)
    assert hook.secret is not None
    event = stripe.Webhook.construct_event(payload, header, hook.secret,
                                           tolerance=10 ** 10)
    assert (event.id, event.type) == (event_row.id, "customer.created")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(customer.id, "cus_evil"), header,
                                       hook.secret, tolerance=10 ** 10)


def test_events_list_filters_and_the_30_day_window(
        client: stripe.StripeClient, api_url: str, api_key: str, clock: FrozenClock) -> None:
    first = client.v1.customers.create({"email": "a@example.com"})
    clock.set(START + timedelta(days=10))
    second = client.v1.customers.create({"email": "b@example.com"})
    client.v1.customers.update(second.id, {"name": "Bea"})
    clock.set(START + timedelta(days=31))
    events = client.v1.events.list()
    assert [(e.type, e.data.object["id"]) for e in events.data] == [
        ("customer.updated", second.id), ("customer.created", second.id)]
    assert events.url == "/v1/events"
    assert [e.type for e in client.v1.events.list({"type": "customer.updated"}).data] == [
        "customer.updated"]
    assert len(client.v1.events.list({"type": "customer.*"}).data) == 2
    assert len(client.v1.events.list({"types": ["customer.created", "invoice.paid"]}).data) == 1
    updated = events.data[0]
    assert updated.data.previous_attributes is not None
    since = int((START + timedelta(days=10)).timestamp())
    assert [e.id for e in client.v1.events.list({"created": {"gt": since}}).data] == []
    assert len(client.v1.events.list({"created": {"gte": since}}).data) == 2
    assert len(client.v1.events.list({"created": since}).data) == 2
    assert client.v1.events.list({"delivery_success": False}).data == []
    assert client.v1.events.retrieve(updated.id).id == updated.id
    old = call(api_url, api_key, "GET", "/v1/events?limit=100").json()
    assert first.id not in json.dumps(old)
    first_created = [e for e in old["data"] if e["data"]["object"]["id"] == first.id]
    assert first_created == []
    response = call(api_url, api_key, "GET", "/v1/events?type=a&types[]=b")
    assert response.status_code == 400 and response.json()["error"]["param"] == "type"
    response = call(api_url, api_key, "GET", "/v1/events?created[after]=1")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "created[after]"


def test_an_event_past_30_days_is_404(client: stripe.StripeClient, account_id: str,
                                      make_uow: MakeUow, clock: FrozenClock) -> None:
    customer = client.v1.customers.create({"email": "a@example.com"})
    [row] = events_of(make_uow, account_id, object_id=customer.id)
    assert client.v1.events.retrieve(row.id).type == "customer.created"
    clock.set(START + timedelta(days=30, seconds=1))
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.events.retrieve(row.id)
    assert missing.value.http_status == 404 and missing.value.param == "id"


def test_resend_a_delivery_or_every_failed_one_since(
        client: stripe.StripeClient, api_url: str, api_key: str, account_id: str,
        make_uow: MakeUow, clock: FrozenClock) -> None:
    hook = client.v1.webhook_endpoints.create({"url": HOOK, "enabled_events": ["*"]})
    for email in ("a@example.com", "b@example.com"):
        client.v1.customers.create({"email": email})
    made = deliveries_of(make_uow, account_id)
    uow = make_uow()
    with uow:
        for delivery in made:
            row = uow.session.get(WebhookDelivery, delivery.id)
            assert row is not None
            row.status, row.next_attempt_at = DELIVERY_FAILED, None
            uow.add(row)
        uow.commit()
    clock.set(START + timedelta(hours=1))
    one = call(api_url, api_key, "POST", f"/v1/webhook_endpoints/{hook.id}/resend",
               {"delivery": made[0].id}).json()
    [again] = one["data"]
    assert (again["object"], again["status"], again["event"], again["endpoint"]) == (
        "portico.webhook_delivery", "pending", made[0].event_id, hook.id)
    assert again["next_attempt"] == to_unix(START + timedelta(hours=1))
    repeat = call(api_url, api_key, "POST", f"/v1/webhook_endpoints/{hook.id}/resend",
                  {"delivery": made[0].id}).json()
    assert [d["id"] for d in repeat["data"]] == [again["id"]]  # pending already: once
    everything = call(api_url, api_key, "POST", f"/v1/webhook_endpoints/{hook.id}/resend",
                      {"since": str(to_unix(START))}).json()
    assert sorted(d["event"] for d in everything["data"]) == sorted(d.event_id for d in made)
    assert len(deliveries_of(make_uow, account_id)) == 4  # two failed + two pending
    both = call(api_url, api_key, "POST", f"/v1/webhook_endpoints/{hook.id}/resend",
                {"delivery": made[0].id, "since": "1"})
    assert both.status_code == 400
    neither = call(api_url, api_key, "POST", f"/v1/webhook_endpoints/{hook.id}/resend", {})
    assert neither.status_code == 400 and neither.json()["error"]["param"] == "delivery"


def test_roll_secret_returns_a_new_secret_once(client: stripe.StripeClient, api_url: str,
                                              api_key: str) -> None:
    hook = client.v1.webhook_endpoints.create({"url": HOOK, "enabled_events": ["*"]})
    rolled = call(api_url, api_key, "POST",
                  f"/v1/webhook_endpoints/{hook.id}/roll_secret").json()
    assert rolled["id"] == hook.id and rolled["secret"].startswith("whsec_")
    assert rolled["secret"] != hook.secret
    assert client.v1.webhook_endpoints.retrieve(hook.id).secret is None


def test_an_idempotent_create_replays_the_same_endpoint_and_secret(
        api_url: str, api_key: str, make_uow: MakeUow) -> None:
    data = {"url": HOOK, "enabled_events[]": "*"}
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": "hook-once"}
    first = httpx.post(f"{api_url}/v1/webhook_endpoints", data=data, headers=headers)
    again = httpx.post(f"{api_url}/v1/webhook_endpoints", data=data, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and first.json()["secret"].startswith("whsec_")
    listed = call(api_url, api_key, "GET", "/v1/webhook_endpoints").json()
    assert [e["id"] for e in listed["data"]] == [first.json()["id"]]
    secret = first.json()["secret"]
    assert stored_occurrences(make_uow, [secret, secret[6:]]) == []  # sealed, even the replay


def test_resending_to_a_disabled_endpoint_is_refused(
        client: stripe.StripeClient, api_url: str, api_key: str, account_id: str,
        make_uow: MakeUow) -> None:
    hook = client.v1.webhook_endpoints.create({"url": HOOK, "enabled_events": ["*"]})
    client.v1.customers.create({"email": "a@example.com"})
    [delivery] = deliveries_of(make_uow, account_id)
    client.v1.webhook_endpoints.update(hook.id, {"disabled": True})
    [failed] = deliveries_of(make_uow, account_id)
    assert failed.status == DELIVERY_FAILED  # disabling fails what was pending
    refused = call(api_url, api_key, "POST", f"/v1/webhook_endpoints/{hook.id}/resend",
                   {"delivery": delivery.id})
    assert refused.status_code == 400 and "disabled" in refused.json()["error"]["message"]
    too_many = call(api_url, api_key, "POST", "/v1/webhook_endpoints",
                    {"url": HOOK, **{f"enabled_events[{i}]": "invoice.paid"
                                     for i in range(257)}})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["param"] == "enabled_events"
