"""The webhooks pages' States: add an endpoint (its secret once), edit, roll, disable,
the deliveries log and its filters, an attempt's detail, resends — one account only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import stripe

from portal_app.accounts import services as accounts
from portal_app.billing.customers import create_customer
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.state import console as console_state
from portal_app.state.console_webhooks import (
    ALL,
    WebhookEndpointState,
    WebhookNoticeState,
    WebhooksState,
)
from portal_app.web.console_sign_in import COOKIE
from portal_app.webhooks import endpoints
from portal_app.webhooks.models import WebhookAttempt, WebhookDelivery
from portal_app.webhooks.signing import signature_header
from tests.portal_app.state.test_console_state import redirects_to_login, run, sign_in, state_of

UowFactory = Callable[[], UnitOfWork]
URL = "https://hooks.acme.test/stripe"


@pytest.fixture(autouse=True)
def _test_database(monkeypatch: pytest.MonkeyPatch, make_uow: UowFactory) -> None:
    monkeypatch.setattr(console_state, "unit_of_work", make_uow)


@pytest.fixture
def cookie(account_id: str, make_uow: UowFactory) -> str:
    return f"{COOKIE}={sign_in(account_id, make_uow, f'hooks-{account_id.lower()}@acme.test')}"


def endpoint_page(cookie: str, endpoint_id: str) -> WebhookEndpointState:
    path = f"/console/webhooks/{endpoint_id}"
    state = state_of(WebhookEndpointState, cookie=cookie, path=path)
    state.router = type(state.router).from_router_data({
        "pathname": "/console/webhooks/[endpoint]", "asPath": path,
        "query": {"endpoint": endpoint_id},
        "headers": {"cookie": cookie, "origin": "http://localhost:3000",
                    "host": "localhost:3000"}})
    return state


def fail_deliveries(make_uow: UowFactory, endpoint_id: str, clock: FrozenClock) -> None:
    """What the worker does when every retry failed: attempts recorded, status failed."""
    uow = make_uow()
    with uow:
        for d in uow.session.query(WebhookDelivery).filter_by(endpoint_id=endpoint_id):
            d.status, d.attempt_count, d.last_http_status = "failed", 1, 500
            d.next_attempt_at = None
            uow.add(WebhookAttempt(delivery_id=d.id, account_id=d.account_id,
                                   started_at=clock(), latency_ms=42, http_status=500,
                                   response_excerpt="Internal Server Error"))
        uow.commit()


def test_signed_out_goes_to_sign_in() -> None:
    state = state_of(WebhooksState, path="/console/webhooks")
    assert redirects_to_login(run(WebhooksState.load, state))
    assert state.endpoints == []


def test_add_an_endpoint_and_see_its_secret_once(account_id: str, cookie: str,
                                                 make_uow: UowFactory) -> None:
    state = state_of(WebhooksState, cookie=cookie, path="/console/webhooks")
    run(WebhooksState.load, state)
    assert state.status == "ready" and not state.has_endpoints

    run(WebhooksState.open_new, state)
    # Nothing ticked: the form says so beside the picker.
    run(WebhooksState.save, state, {"url": URL})
    assert state.dialog_open and state.error_field == "events"
    run(WebhooksState.toggle_event, state, "invoice.paid", True)
    run(WebhooksState.toggle_event, state, "customer.created", True)
    # The service's refusal of the URL shows beside the URL.
    run(WebhooksState.save, state, {"url": "ftp://hooks.acme.test"})
    assert state.error_field == "url" and "Invalid URL" in state.form_error
    run(WebhooksState.save, state, {"url": URL, "description": "Sync"})

    assert not state.dialog_open and state.secret_open
    assert state.secret.startswith("whsec_") and state.secret_url == URL
    [row] = state.endpoints
    assert (row.url, row.description, row.events, row.status_label, row.success_rate) == (
        URL, "Sync", "2 events", "Enabled", "—")
    # The secret shown is the one that signs: stripe.Webhook verifies with it.
    stored = endpoints.retrieve_endpoint(row.id, account_id=account_id, uow=make_uow())
    payload = '{"id": "evt_1", "object": "event"}'
    header = signature_header(payload, endpoints.endpoint_secret(stored), timestamp=1769860800)
    stripe.WebhookSignature.verify_header(payload, header, state.secret, tolerance=None)

    run(WebhooksState.set_secret_open, state, False)
    assert state.secret == "" and not state.secret_open
    run(WebhooksState.load, state)
    assert state.secret == ""


def test_endpoint_page_log_detail_and_resend(account_id: str, cookie: str, clock: FrozenClock,
                                             make_uow: UowFactory) -> None:
    created = endpoints.create_endpoint(account_id=account_id, uow=make_uow(), url=URL,
                                        enabled_events=["customer.created"])
    create_customer(account_id=account_id, uow=make_uow(), email="a@x.test")
    clock.set(clock() + timedelta(hours=1))
    create_customer(account_id=account_id, uow=make_uow(), email="b@x.test")
    fail_deliveries(make_uow, created.endpoint.id, clock)
    state = endpoint_page(cookie, created.endpoint.id)

    run(WebhookEndpointState.load, state)

    assert state.status == "ready" and state.shown.url == URL
    assert state.shown.success_rate == "0.0%"
    assert [d.status_label for d in state.deliveries] == ["Failed", "Failed"]
    assert state.types == ["customer.created"]
    newest = state.deliveries[0]
    assert newest.result == "HTTP 500" and newest.can_resend

    run(WebhookEndpointState.open_delivery, state, newest.id)
    assert state.detail_open and state.detail.id == newest.id
    [attempt] = state.attempts
    assert (attempt.result, attempt.latency, attempt.excerpt, attempt.ok) == (
        "HTTP 500", "42 ms", "Internal Server Error", False)

    run(WebhookEndpointState.resend, state, newest.id)
    assert not state.detail_open
    assert sorted(d.status for d in state.deliveries) == ["failed", "failed", "pending"]

    run(WebhookEndpointState.set_status_filter, state, "failed")
    assert [d.status for d in state.deliveries] == ["failed", "failed"] and state.filtered
    run(WebhookEndpointState.filter_since, state, {"since": "2026-02-01"})
    assert state.filter_error == "The date can't be after today."
    run(WebhookEndpointState.filter_since, state, {"since": "2026-01-31"})
    assert not state.filter_error and len(state.deliveries) == 2
    run(WebhookEndpointState.clear_filters, state)
    assert not state.filtered and len(state.deliveries) == 3

    # Resend all failed since a day: the event already pending again is not doubled.
    run(WebhookEndpointState.set_resend_open, state, True)
    run(WebhookEndpointState.resend_failed, state, {"since": ""})
    assert state.resend_open and state.resend_error
    run(WebhookEndpointState.resend_failed, state, {"since": "2026-01-30"})
    assert not state.resend_open and not state.resend_error
    assert sorted(d.status for d in state.deliveries) == [
        "failed", "failed", "pending", "pending"]


def test_edit_roll_disable_enable(account_id: str, cookie: str, make_uow: UowFactory) -> None:
    created = endpoints.create_endpoint(account_id=account_id, uow=make_uow(), url=URL,
                                        enabled_events=["*"], description="Old")
    state = endpoint_page(cookie, created.endpoint.id)
    run(WebhookEndpointState.load, state)
    assert state.shown.events == "All events" and state.defaults["description"] == "Old"

    run(WebhookEndpointState.open_edit, state)
    run(WebhookEndpointState.toggle_event, state, "invoice.paid", True)
    run(WebhookEndpointState.save, state, {"url": URL + "/v2", "description": ""})
    assert not state.dialog_open
    stored = endpoints.retrieve_endpoint(created.endpoint.id, account_id=account_id,
                                         uow=make_uow())
    assert (stored.url, stored.enabled_events, stored.description) == (
        URL + "/v2", ["invoice.paid"], None)
    assert state.shown.events == "invoice.paid"

    run(WebhookEndpointState.set_roll_open, state, True)
    run(WebhookEndpointState.roll_secret, state)
    assert not state.roll_open and state.secret_open
    assert state.secret.startswith("whsec_") and state.secret != created.secret
    stored = endpoints.retrieve_endpoint(created.endpoint.id, account_id=account_id,
                                         uow=make_uow())
    assert endpoints.endpoint_secret(stored) == state.secret
    run(WebhookEndpointState.set_secret_open, state, False)
    assert state.secret == ""

    run(WebhookEndpointState.set_enabled, state, False)
    assert not state.shown.enabled and state.shown.status_label == "Disabled"
    # A disabled endpoint resends nothing: the refusal shows as a toast.
    run(WebhookEndpointState.set_resend_open, state, True)
    run(WebhookEndpointState.resend_failed, state, {"since": "2026-01-30"})
    assert "disabled" in state.resend_error
    run(WebhookEndpointState.set_enabled, state, True)
    assert state.shown.enabled


def test_another_accounts_endpoint_is_not_found(account_id: str, cookie: str,
                                                make_uow: UowFactory) -> None:
    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    theirs = endpoints.create_endpoint(account_id=other, uow=make_uow(), url=URL,
                                       enabled_events=["*"])
    create_customer(account_id=other, uow=make_uow(), email="t@x.test")
    uow = make_uow()
    with uow:
        their_delivery = uow.session.query(WebhookDelivery).filter_by(
            endpoint_id=theirs.endpoint.id).one().id
    state = endpoint_page(cookie, theirs.endpoint.id)

    run(WebhookEndpointState.load, state)
    assert state.status == "missing" and state.shown.url == "" and state.deliveries == []

    mine = endpoints.create_endpoint(account_id=account_id, uow=make_uow(), url=URL,
                                     enabled_events=["*"])
    state = endpoint_page(cookie, mine.endpoint.id)
    run(WebhookEndpointState.load, state)
    assert state.status == "ready"
    assert run(WebhookEndpointState.open_delivery, state, their_delivery)
    assert not state.detail_open and state.attempts == []
    assert run(WebhookEndpointState.resend, state, their_delivery)
    uow = make_uow()
    with uow:
        assert uow.session.query(WebhookDelivery).filter_by(
            endpoint_id=theirs.endpoint.id).count() == 1
    assert state.status_filter == ALL


def test_the_console_notices_an_auto_disabled_endpoint(account_id: str, cookie: str,
                                                       make_uow: UowFactory) -> None:
    created = endpoints.create_endpoint(account_id=account_id, uow=make_uow(), url=URL,
                                        enabled_events=["*"])
    notice = state_of(WebhookNoticeState, cookie=cookie, path="/console")
    run(WebhookNoticeState.load, notice)
    assert not notice.has_disabled
    uow = make_uow()
    with uow:
        endpoint = endpoints.retrieve_endpoint(created.endpoint.id, account_id=account_id,
                                               uow=uow)
        endpoints.disable_endpoint(endpoint, uow=uow, reason="failing")
        uow.commit()

    run(WebhookNoticeState.load, notice)
    assert notice.disabled_urls == [URL]
    page = endpoint_page(cookie, created.endpoint.id)
    run(WebhookEndpointState.load, page)
    assert page.shown.notice.startswith("Disabled automatically")
