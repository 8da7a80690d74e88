"""``POST /webhooks/stripe/{account}`` over real HTTP (Granian on a loopback port).

The world test: a second Portico (local ledger) acts as the merchant's Stripe. Its own API
registers a webhook endpoint (``webhook_endpoints.create`` through the SDK) at the first
Portico's ``/webhooks/stripe/{account}``; its delivery worker (one pass) sends the events;
they land once each in the first Portico's store, and the churn dashboard's history loader
sees them.

Signatures are made as Stripe makes them (``t=…,v1=HMAC``) and checked by the SDK on the
server; the refetch path reaches the second Portico acting as the merchant's Stripe.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import polars as pl
import pytest
import stripe
from sqlmodel import col, func, select
from starlette.applications import Starlette

from portal_app.accounts import services as accounts
from portal_app.accounts.stripe_link import connect_stripe
from portal_app.db import UnitOfWork
from portal_app.events.analytics_source import load_history
from portal_app.events.models import Event, StripeObject
from portal_app.events.snapshots import retrieve_snapshot
from portal_app.routes import stripe_webhooks
from portal_app.web.stripe_webhooks import StripeWebhooks
from portal_app.webhooks.endpoints import create_endpoint
from portal_app.webhooks.models import WebhookDelivery
from portal_app.webhooks.resend import resend_delivery
from portal_app.webhooks.signing import signature_header
from portal_app.webhooks.worker import Worker
from tests.embedded_server import EmbeddedServer
from tests.fresh_loop import run
from tests.stripe_world import StripeSide

SECRET = "whsec_test_inbound_0123456789"


@pytest.fixture
def inbound(make_uow: Callable[[], UnitOfWork]) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(Starlette(routes=StripeWebhooks(make_uow).routes()), ready_path="/ping")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def merchant(account_id: str, make_uow: Callable[[], UnitOfWork]) -> str:
    """A Stripe-backed account (its Stripe: a closed port) with a signing secret."""
    connect_stripe(
        account_id,
        secret_key="sk_test_inbound0123456789",
        webhook_secret=SECRET,
        api_base="http://127.0.0.1:9",
        uow=make_uow(),
    )
    return account_id


def event(
    event_id: str, *, created: int, obj: dict[str, Any], type: str = "customer.subscription.updated"
) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": type,
            "created": created,
            "livemode": False,
            "data": {"object": obj},
        }
    )


def post(
    server: EmbeddedServer,
    account: str,
    payload: str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    header: str | None = None,
) -> httpx.Response:
    signed = signature_header(
        payload, secret, timestamp=int(time.time()) if timestamp is None else timestamp
    )
    headers = {"Content-Type": "application/json"}
    if header != "":
        headers["Stripe-Signature"] = header or signed
    return httpx.post(server.url + stripe_webhooks(account), content=payload, headers=headers)


def stored(make_uow: Callable[[], UnitOfWork], account: str) -> list[Event]:
    with make_uow() as uow:
        return list(uow.session.exec(select(Event).where(Event.account_id == account)))


SUB = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active"}


def test_a_signed_event_is_stored_once_and_a_redelivery_changes_nothing(
    inbound: EmbeddedServer, merchant: str, make_uow: Callable[[], UnitOfWork]
) -> None:
    # The merchant's own Portico endpoint must not get Stripe's events re-sent.
    create_endpoint(
        account_id=merchant, uow=make_uow(), url="https://example.com/hook", enabled_events=["*"]
    )
    payload = event("evt_in_1", created=1_700_000_000, obj=SUB)
    first = post(inbound, merchant, payload)
    assert (first.status_code, first.json()) == (200, {"received": True})
    again = post(inbound, merchant, payload)
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    [row] = stored(make_uow, merchant)
    assert (row.id, row.type, row.object_id, row.customer_id) == (
        "evt_in_1",
        "customer.subscription.updated",
        "sub_1",
        "cus_1",
    )
    assert row.data_object == SUB and int(row.created.timestamp()) == 1_700_000_000
    with make_uow() as uow:
        owed = uow.session.exec(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.event_id == "evt_in_1")
        ).one()
        assert owed == 0
    assert retrieve_snapshot(merchant, "sub_1", uow=make_uow()) == SUB


@pytest.mark.parametrize(
    "case", ["tampered", "wrong secret", "too old", "missing header", "garbled header"]
)
def test_a_bad_signature_is_a_clear_400_and_stores_nothing(
    case: str, inbound: EmbeddedServer, merchant: str, make_uow: Callable[[], UnitOfWork]
) -> None:
    payload = event("evt_in_bad", created=1_700_000_000, obj=SUB)
    now = int(time.time())
    if case == "tampered":
        good = signature_header(payload, SECRET, timestamp=now)
        response = post(inbound, merchant, payload.replace("active", "canceled"), header=good)
    elif case == "wrong secret":
        response = post(inbound, merchant, payload, secret="whsec_someone_else_0123")
    elif case == "too old":  # Stripe's tolerance: 5 minutes
        response = post(inbound, merchant, payload, timestamp=now - 301)
    elif case == "missing header":
        response = post(inbound, merchant, payload, header="")
    else:
        response = post(inbound, merchant, payload, header="v1=abc")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "signature_verification_failed"
    assert SECRET not in response.text
    assert stored(make_uow, merchant) == []


def test_a_signature_within_the_tolerance_is_accepted(
    inbound: EmbeddedServer, merchant: str
) -> None:
    payload = event("evt_in_late", created=1_700_000_000, obj=SUB)
    assert post(inbound, merchant, payload, timestamp=int(time.time()) - 240).status_code == 200


def test_unknown_and_ledger_accounts_are_refused_without_secrets(
    inbound: EmbeddedServer, account_id: str, merchant: str, make_uow: Callable[[], UnitOfWork]
) -> None:
    payload = event("evt_in_x", created=1_700_000_000, obj=SUB)
    missing = post(inbound, "acct_nosuchaccount", payload)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
    local = accounts.create_account(business_name="Local", email="l@example.com", uow=make_uow()).id
    refused = post(inbound, local, payload)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "account_not_stripe_backed"
    # Merchant A's signed event sent to merchant B's address proves nothing to B.
    connect_stripe(
        local,
        secret_key="sk_test_other012345678",
        webhook_secret="whsec_b_0123456789",
        api_base="http://127.0.0.1:9",
        uow=make_uow(),
    )
    crossed = post(inbound, local, payload)
    assert crossed.status_code == 400
    assert "whsec_" not in crossed.text
    assert stored(make_uow, local) == []


def test_a_signed_body_that_is_not_an_event_is_refused(
    inbound: EmbeddedServer, merchant: str
) -> None:
    response = post(inbound, merchant, json.dumps({"hello": "world"}))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_event"


def test_an_older_event_delivered_late_never_overwrites_the_newer_snapshot(
    inbound: EmbeddedServer, merchant: str, make_uow: Callable[[], UnitOfWork]
) -> None:
    newer = {**SUB, "status": "canceled"}
    assert (
        post(inbound, merchant, event("evt_new", created=1_700_000_100, obj=newer)).status_code
        == 200
    )
    assert (
        post(inbound, merchant, event("evt_old", created=1_700_000_000, obj=SUB)).status_code == 200
    )
    assert retrieve_snapshot(merchant, "sub_1", uow=make_uow()) == newer
    with make_uow() as uow:
        row = uow.session.get(StripeObject, (merchant, "sub_1"))
        assert row is not None and (row.event_id, row.stale) == ("evt_new", False)
    # Both events are in the store all the same (the analytics order them by time).
    assert {e.id for e in stored(make_uow, merchant)} == {"evt_new", "evt_old"}


def wait_for(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def stripe_merchant(
    stripe_backed_account_id: str,
    make_uow: Callable[[], UnitOfWork],
    stripe_account: tuple[str, str],
    stripe_side: Any,
) -> str:
    """The Stripe-backed account (its Stripe: the second Portico), with a signing secret."""
    connect_stripe(
        stripe_backed_account_id,
        secret_key=stripe_account[1],
        webhook_secret=SECRET,
        api_base=stripe_side.url,
        uow=make_uow(),
    )
    return stripe_backed_account_id


def test_two_events_of_one_second_are_settled_by_a_refetch_from_stripe(
    inbound: EmbeddedServer,
    stripe_merchant: str,
    stripe_side_client: stripe.StripeClient,
    make_uow: Callable[[], UnitOfWork],
) -> None:
    customer = stripe_side_client.v1.customers.create(params={"name": "Ada at Stripe"})
    first = {"id": customer.id, "object": "customer", "name": "Ada (event 1)"}
    second = {"id": customer.id, "object": "customer", "name": "Ada (event 2)"}
    for event_id, obj in (("evt_tie_1", first), ("evt_tie_2", second)):
        payload = event(event_id, created=1_700_000_000, obj=obj, type="customer.updated")
        assert post(inbound, stripe_merchant, payload).status_code == 200

    def settled() -> bool:
        with make_uow() as uow:
            row = uow.session.get(StripeObject, (stripe_merchant, customer.id))
            return row is not None and not row.stale and row.refetched is not None

    wait_for(settled)
    snapshot = retrieve_snapshot(stripe_merchant, customer.id, uow=make_uow())
    assert snapshot is not None and snapshot["name"] == "Ada at Stripe"


def test_a_thin_event_is_stored_and_its_object_fetched(
    inbound: EmbeddedServer,
    stripe_merchant: str,
    stripe_side_client: stripe.StripeClient,
    make_uow: Callable[[], UnitOfWork],
) -> None:
    customer = stripe_side_client.v1.customers.create(params={"email": "thin@example.com"})
    payload = json.dumps(
        {
            "id": "evt_thin_1",
            "object": "v2.core.event",
            "type": "v1.customer.updated",
            "created": "2023-11-14T22:13:20.123Z",
            "livemode": False,
            "related_object": {
                "id": customer.id,
                "type": "customer",
                "url": f"/v1/customers/{customer.id}",
            },
        }
    )
    assert post(inbound, stripe_merchant, payload).status_code == 200
    [row] = stored(make_uow, stripe_merchant)
    assert (row.id, row.object_id, int(row.created.timestamp())) == (
        "evt_thin_1",
        customer.id,
        1_700_000_000,
    )

    def fetched() -> bool:
        snapshot = retrieve_snapshot(stripe_merchant, customer.id, uow=make_uow())
        return snapshot is not None and snapshot.get("email") == "thin@example.com"

    wait_for(fetched)


def test_concurrent_deliveries_share_transactions_and_each_is_stored(
    make_uow: Callable[[], UnitOfWork], merchant: str
) -> None:
    endpoint = StripeWebhooks(make_uow)
    server = EmbeddedServer(Starlette(routes=endpoint.routes()), ready_path="/ping")
    server.start()
    try:
        payloads = [
            event(f"evt_many_{i}", created=1_700_000_000 + i, obj={**SUB, "id": f"sub_{i % 7}"})
            for i in range(120)
        ]

        async def burst() -> list[int]:
            async with httpx.AsyncClient() as client:
                now = int(time.time())
                responses = await asyncio.gather(
                    *[
                        client.post(
                            server.url + stripe_webhooks(merchant),
                            content=p,
                            headers={
                                "Stripe-Signature": signature_header(p, SECRET, timestamp=now)
                            },
                        )
                        for p in payloads
                    ]
                )
                return [r.status_code for r in responses]

        assert run(burst()) == [200] * 120
    finally:
        server.stop()
    assert len(stored(make_uow, merchant)) == 120
    assert endpoint.writer.transactions < 120  # several events per transaction
    with make_uow() as uow:
        newest = {
            object_id: event_id
            for object_id, event_id in uow.session.exec(
                select(StripeObject.id, StripeObject.event_id).where(
                    StripeObject.account_id == merchant, col(StripeObject.id).like("sub_%")
                )
            )
        }
    assert newest == {
        f"sub_{k}": f"evt_many_{max(i for i in range(120) if i % 7 == k)}" for k in range(7)
    }


def subscribe(client: stripe.StripeClient) -> stripe.Subscription:
    customer = client.v1.customers.create({"email": "buyer@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    client.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": pm.id}})
    product = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 4900,
            "recurring": {"interval": "month"},
        }
    )
    return client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})


def test_the_second_portico_delivers_its_events_into_the_first(
    inbound: EmbeddedServer,
    stripe_side: StripeSide,
    stripe_account: tuple[str, str],
    stripe_backed_account_id: str,
    stripe_side_client: stripe.StripeClient,
    make_uow: Callable[[], UnitOfWork],
) -> None:
    account = stripe_backed_account_id
    endpoint = stripe_side_client.v1.webhook_endpoints.create(
        params={"url": inbound.url + stripe_webhooks(account), "enabled_events": ["*"]}
    )
    assert endpoint.secret is not None
    connect_stripe(
        account,
        secret_key=stripe_account[1],
        webhook_secret=endpoint.secret,
        api_base=stripe_side.url,
        uow=make_uow(),
    )
    subscription = subscribe(stripe_side_client)
    stripe_side_client.v1.subscriptions.cancel(subscription.id)
    sent = {e.id for e in stripe_side_client.v1.events.list({"limit": 100}).data}
    assert len(sent) >= 5  # customer, payment method, product, price, subscription, invoice...

    worker = Worker(
        engine=stripe_side.engine, clock=stripe_side.clock, accounts=[stripe_account[0]]
    )
    first = run(worker.drain())
    assert first.succeeded == len(sent) and first.failed == 0

    def landed() -> list[Event]:
        with make_uow() as uow:
            return list(uow.session.exec(select(Event).where(Event.account_id == account)))

    assert {e.id for e in landed()} == sent
    # Redelivered (every delivery resent): answered 2xx, stored nothing twice.
    with stripe_side.uow() as uow:
        deliveries = list(
            uow.session.exec(
                select(WebhookDelivery.id).where(WebhookDelivery.account_id == stripe_account[0])
            )
        )
    for delivery in deliveries:
        resend_delivery(delivery, account_id=stripe_account[0], uow=stripe_side.uow())
    again = run(worker.drain())
    assert again.succeeded == len(sent) and again.failed == 0
    assert len(landed()) == len(sent)

    snapshot = retrieve_snapshot(account, subscription.id, uow=make_uow())
    assert snapshot is not None and snapshot["status"] == "canceled"
    history = load_history(account, uow=make_uow())
    mine = history.subscriptions.filter(pl.col("subscription") == subscription.id)
    assert set(mine["type"].cast(pl.String)) >= {
        "customer.subscription.created",
        "customer.subscription.deleted",
    }
    assert mine.filter(pl.col("type") == "customer.subscription.created")["mrr"].to_list() == [4900]
