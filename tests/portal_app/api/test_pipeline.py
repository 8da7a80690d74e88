"""What every request goes through: the key, the envelope, headers, idempotency."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable

import httpx
import pytest
import stripe
from sqlmodel import select

from portal_app.api.models import IdempotencyRecord
from portal_app.billing.models import Customer
from portal_app.db import UnitOfWork
from portal_app.events.models import Event


def test_bad_or_missing_key_is_401(api_url: str) -> None:
    bad = stripe.StripeClient("sk_test_wrong", base_addresses={"api": api_url},
                              max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as wrong:
        bad.v1.customers.list()
    assert wrong.value.http_status == 401
    assert "Invalid API Key provided" in str(wrong.value.user_message)
    assert "sk_test_wrong" not in str(wrong.value.user_message)  # redacted
    response = httpx.get(f"{api_url}/v1/customers")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "You did not provide an API key" in response.json()["error"]["message"]


def test_basic_auth_with_the_key_as_user(api_url: str, api_key: str) -> None:
    token = base64.b64encode(f"{api_key}:".encode()).decode()
    response = httpx.get(f"{api_url}/v1/customers", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200
    assert response.json()["object"] == "list"


def test_headers_and_unknown_route(api_url: str, api_key: str) -> None:
    auth = {"Authorization": f"Bearer {api_key}"}
    ok = httpx.get(f"{api_url}/v1/customers", headers=auth)
    assert ok.headers["request-id"].startswith("req_")
    assert ok.headers["stripe-version"] == stripe.api_version
    assert ok.headers["content-type"] == "application/json"
    missing = httpx.get(f"{api_url}/v1/widgets", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"error": {
        "type": "invalid_request_error",
        "message": "Unrecognized request URL (GET: /v1/widgets). Please see "
                   "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    }}
    wrong_method = httpx.delete(f"{api_url}/v1/customers", headers=auth)
    assert wrong_method.status_code == 404
    assert "DELETE: /v1/customers" in wrong_method.json()["error"]["message"]


def test_objects_are_per_account(client: stripe.StripeClient, api_url: str,
                                 make_uow: Callable[[], UnitOfWork]) -> None:
    from portal_app.accounts import services as accounts

    other = accounts.create_account(business_name="Other", email="o@example.com",
                                    uow=make_uow())
    other_key = accounts.create_api_key(account_id=other.id, uow=make_uow())
    theirs = stripe.StripeClient(other_key, base_addresses={"api": api_url},
                                 max_network_retries=0).v1.customers.create({})
    with pytest.raises(stripe.InvalidRequestError) as hidden:
        client.v1.customers.retrieve(theirs.id)
    assert hidden.value.http_status == 404
    assert client.v1.customers.list().data == []


def test_idempotent_replay_returns_the_same_object(client: stripe.StripeClient,
                                                   make_uow: Callable[[], UnitOfWork],
                                                   account_id: str) -> None:
    options = {"idempotency_key": "order-1001"}
    first = client.v1.customers.create({"email": "once@example.com"}, options)
    again = client.v1.customers.create({"email": "once@example.com"}, options)
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    with make_uow() as uow:
        rows = uow.session.exec(select(Customer).where(Customer.account_id == account_id)).all()
        events = [(e.idempotency_key, e.request_id) for e in uow.session.exec(
            select(Event).where(Event.object_id == first.id)).all()]
    assert len(rows) == 1
    assert events == [("order-1001", first.last_response.request_id)]


def test_same_key_different_body_is_an_idempotency_error(client: stripe.StripeClient) -> None:
    options = {"idempotency_key": "order-1002"}
    client.v1.customers.create({"email": "a@example.com"}, options)
    with pytest.raises(stripe.IdempotencyError) as conflict:
        client.v1.customers.create({"email": "b@example.com"}, options)
    assert conflict.value.http_status == 400
    assert conflict.value.json_body["error"]["type"] == "idempotency_error"
    with pytest.raises(stripe.IdempotencyError):  # another path is another request too
        client.v1.products.create({"name": "x"}, options)


def test_keys_are_per_account(client: stripe.StripeClient, api_url: str,
                              make_uow: Callable[[], UnitOfWork]) -> None:
    from portal_app.accounts import services as accounts

    other = accounts.create_account(business_name="Other", email="o@example.com",
                                    uow=make_uow())
    other_client = stripe.StripeClient(accounts.create_api_key(account_id=other.id,
                                                               uow=make_uow()),
                                       base_addresses={"api": api_url}, max_network_retries=0)
    options = {"idempotency_key": "shared-key"}
    mine = client.v1.customers.create({"email": "me@example.com"}, options)
    theirs = other_client.v1.customers.create({"email": "you@example.com"}, options)
    assert theirs.id != mine.id and theirs.email == "you@example.com"


def test_failed_validation_is_not_stored(client: stripe.StripeClient) -> None:
    options = {"idempotency_key": "fix-and-retry"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.create({"email": "broken"}, options)
    fixed = client.v1.customers.create({"email": "ok@example.com"},
                                       options)
    assert fixed.email == "ok@example.com"


def test_card_errors_replay(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({})
    options = {"idempotency_key": "attach-declined"}
    params = {"customer": customer.id}
    with pytest.raises(stripe.CardError) as first:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params, options)
    with pytest.raises(stripe.CardError) as second:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params, options)
    assert second.value.headers["Idempotent-Replayed"] == "true"
    assert second.value.json_body == first.value.json_body


def test_concurrent_requests_with_one_key_create_one_object(
        api_url: str, api_key: str, make_uow: Callable[[], UnitOfWork], account_id: str) -> None:
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": "racing"}
    results: list[httpx.Response] = []

    def post() -> None:
        results.append(httpx.post(f"{api_url}/v1/customers", headers=headers,
                                  data={"email": "race@example.com"}, timeout=30))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    with make_uow() as uow:
        assert len(uow.session.exec(
            select(Customer).where(Customer.account_id == account_id)).all()) == 1
        assert len(uow.session.exec(select(IdempotencyRecord).where(
            IdempotencyRecord.account_id == account_id)).all()) == 1
