"""Endpoint services: URL rules, live-mode address checks, sealed secrets, disable, delete."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from portal_app.accounts import services as accounts
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.webhooks import endpoints
from portal_app.webhooks.addresses import check_destination, check_url
from portal_app.webhooks.endpoints import MAX_ENDPOINTS
from portal_app.webhooks.models import (
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    ENDPOINT_DISABLED,
    ENDPOINT_ENABLED,
    WebhookAttempt,
    WebhookDelivery,
)
from tests.portal_app.stored_secrets import stored_occurrences
from tests.portal_app.webhooks.helpers import MakeUow, append_event, deliveries_of, new_endpoint


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/stripe", "https://93.184.216.34:8443/x?y=1",
    "http://localhost:4242/webhook", "http://127.0.0.1/hook", "http://[::1]:9000/"])
def test_test_mode_accepts_https_and_loopback_http(url: str) -> None:
    assert check_url(url, livemode=False)


@pytest.mark.parametrize("url", [
    "", "hooks.example.com/x", "/relative", "ftp://example.com/", "http://example.com/hook",
    "https://", "https://user:pw@example.com/", "https://exa mple.com/", "https://e.com:99999/",
    "javascript:alert(1)", "http://10.0.0.1/"])
def test_malformed_or_plain_http_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_url(url, livemode=False)
    assert refused.value.param == "url"


@pytest.mark.parametrize("url", [
    "https://localhost/hook", "https://127.0.0.1/", "https://10.1.2.3/", "https://192.168.0.9/",
    "https://172.16.5.5/", "https://169.254.169.254/latest/meta-data/", "https://100.64.0.1/",
    "https://0.0.0.0/", "https://[::1]/", "https://[fe80::1]/", "https://[fd00::1]/",
    "https://[::ffff:10.0.0.1]/", "https://224.0.0.1/", "http://localhost/"])
def test_live_mode_refuses_private_loopback_link_local_and_metadata_addresses(url: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_destination(url, livemode=True)
    assert refused.value.param == "url"


def test_live_mode_resolves_names_and_refuses_any_private_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"public.example": ["93.184.216.34"],
               "sneaky.example": ["93.184.216.34", "10.0.0.7"],
               "inside.example": ["169.254.169.254"]}

    def dns(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror("no such host")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    assert check_destination("https://public.example/hook", livemode=True) == "93.184.216.34"
    for host in ("sneaky.example", "inside.example", "nowhere.example"):
        with pytest.raises(InvalidRequest):
            check_destination(f"https://{host}/hook", livemode=True)
    # Test mode resolves too (the sender connects to the answer) but refuses nothing.
    assert check_destination("https://inside.example/", livemode=False) == "169.254.169.254"
    assert check_destination("https://93.184.216.34/", livemode=True) == "93.184.216.34"


def test_a_live_endpoint_must_be_public_a_test_endpoint_may_be_local(
        make_uow: MakeUow, account_id: str) -> None:
    local = new_endpoint(make_uow, account_id, url="http://localhost:4242/hook")
    assert (local.livemode, local.status) == (False, ENDPOINT_ENABLED)
    with pytest.raises(InvalidRequest, match="publicly accessible"):
        new_endpoint(make_uow, account_id, url="https://10.0.0.1/hook", livemode=True)
    live = new_endpoint(make_uow, account_id, url="https://93.184.216.34/hook", livemode=True)
    assert live.livemode is True
    with pytest.raises(InvalidRequest, match="publicly accessible"):
        endpoints.update_endpoint(live.id, account_id=account_id, uow=make_uow(),
                                  url="https://169.254.169.254/")


def test_the_secret_is_shown_once_and_stored_only_sealed(make_uow: MakeUow,
                                                         account_id: str) -> None:
    created = endpoints.create_endpoint(account_id=account_id, uow=make_uow(),
                                        url="https://hooks.example.com/",
                                        enabled_events=["*"])
    assert created.secret.startswith("whsec_")
    row = endpoints.retrieve_endpoint(created.endpoint.id, account_id=account_id,
                                      uow=make_uow())
    assert endpoints.endpoint_secret(row) == created.secret
    rolled = endpoints.roll_secret(row.id, account_id=account_id, uow=make_uow())
    assert rolled.secret != created.secret
    assert endpoints.endpoint_secret(endpoints.retrieve_endpoint(
        row.id, account_id=account_id, uow=make_uow())) == rolled.secret
    assert stored_occurrences(make_uow, [created.secret, rolled.secret,
                                         created.secret[6:], rolled.secret[6:]]) == []
    assert endpoints.render_webhook_endpoint(row)["secret"] is None


@pytest.mark.parametrize(("events", "param"), [
    ([], "enabled_events"), (["*", "customer.created"], "enabled_events"),
    (["customer"], "enabled_events[0]"), (["customer.created", "Not A Type"],
                                          "enabled_events[1]")])
def test_enabled_events_are_checked(make_uow: MakeUow, account_id: str, events: list[str],
                                    param: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        endpoints.create_endpoint(account_id=account_id, uow=make_uow(),
                                  url="https://hooks.example.com/", enabled_events=events)
    assert refused.value.param == param


def test_an_account_has_at_most_16_endpoints(make_uow: MakeUow, account_id: str) -> None:
    for _ in range(MAX_ENDPOINTS):
        new_endpoint(make_uow, account_id)
    with pytest.raises(InvalidRequest, match="maximum"):
        new_endpoint(make_uow, account_id)


def test_disabling_fails_pending_deliveries_and_update_merges_metadata(
        make_uow: MakeUow, account_id: str) -> None:
    endpoint = new_endpoint(make_uow, account_id, metadata={"a": "1", "b": "2"},
                            description="orders")
    append_event(make_uow, account_id)
    updated = endpoints.update_endpoint(endpoint.id, account_id=account_id, uow=make_uow(),
                                        metadata={"a": "", "c": "3"}, clear_description=True,
                                        enabled_events=["invoice.paid", "invoice.paid"],
                                        disabled=True)
    assert updated.metadata_ == {"b": "2", "c": "3"} and updated.description is None
    assert updated.enabled_events == ["invoice.paid"] and updated.status == ENDPOINT_DISABLED
    [delivery] = deliveries_of(make_uow, account_id)
    assert (delivery.status, delivery.next_attempt_at) == (DELIVERY_FAILED, None)
    again = endpoints.update_endpoint(endpoint.id, account_id=account_id, uow=make_uow(),
                                      disabled=False)
    assert (again.status, again.disabled_reason, again.failing_since) == (
        ENDPOINT_ENABLED, None, None)


def test_delete_removes_the_endpoint_its_deliveries_and_attempts(
        make_uow: MakeUow, account_id: str, clock: Any) -> None:
    endpoint = new_endpoint(make_uow, account_id)
    keep = new_endpoint(make_uow, account_id)
    append_event(make_uow, account_id)
    [mine] = [d for d in deliveries_of(make_uow, account_id) if d.endpoint_id == endpoint.id]
    uow = make_uow()
    with uow:
        uow.add(WebhookAttempt(delivery_id=mine.id, account_id=account_id,
                               started_at=clock(), latency_ms=12, http_status=500))
        uow.commit()
    endpoints.delete_endpoint(endpoint.id, account_id=account_id, uow=make_uow())
    with pytest.raises(ResourceMissing):
        endpoints.retrieve_endpoint(endpoint.id, account_id=account_id, uow=make_uow())
    left = deliveries_of(make_uow, account_id)
    assert [(d.endpoint_id, d.status) for d in left] == [(keep.id, DELIVERY_PENDING)]
    uow = make_uow()
    with uow:
        assert uow.session.get(WebhookAttempt, mine.id) is None
        assert uow.session.get(WebhookDelivery, mine.id) is None


def test_another_accounts_endpoint_is_missing(make_uow: MakeUow, account_id: str) -> None:
    other = accounts.create_account(business_name="B", email="b@example.com", uow=make_uow()).id
    theirs = new_endpoint(make_uow, other)
    for call in (lambda: endpoints.retrieve_endpoint(theirs.id, account_id=account_id,
                                                     uow=make_uow()),
                 lambda: endpoints.update_endpoint(theirs.id, account_id=account_id,
                                                   uow=make_uow(), disabled=True),
                 lambda: endpoints.roll_secret(theirs.id, account_id=account_id,
                                               uow=make_uow()),
                 lambda: endpoints.delete_endpoint(theirs.id, account_id=account_id,
                                                   uow=make_uow())):
        with pytest.raises(ResourceMissing):
            call()
    assert endpoints.retrieve_endpoint(theirs.id, account_id=other,
                                       uow=make_uow()).status == ENDPOINT_ENABLED
