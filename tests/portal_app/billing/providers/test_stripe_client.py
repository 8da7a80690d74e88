"""StripeCalls: Stripe's errors become Portico's, transient failures are retried with the
same idempotency key, and a retried action applies once.

Errors and idempotency are checked against "Stripe" (the second Portico, through the
SDK); faults a healthy server never makes (429, 5xx, a hang) come from a tiny Starlette
app on loopback that answers from a script.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal_app.billing.providers.stripe.client import RetryPolicy, StripeCalls, action_scope
from portal_app.errors import (
    BillingUnavailable,
    CardDeclined,
    IdempotencyConflict,
    InvalidRequest,
    RateLimited,
    ResourceMissing,
)
from tests.embedded_server import EmbeddedServer
from tests.stripe_world import StripeSide

CUSTOMER = {"id": "cus_fault", "object": "customer", "email": "ada@example.com"}
RATE_LIMITED = {"error": {"type": "invalid_request_error", "code": "rate_limit",
                          "message": "Too many requests hit the API too quickly."}}
SERVER_ERROR = {"error": {"type": "api_error", "message": "Something went wrong."}}


# --- a server that answers from a script ----------------------------------------------


@dataclass
class Script:
    """What the fault server answers, one step per request (then 200 with CUSTOMER), and
    what it received: each request's method, path and Idempotency-Key."""

    steps: list[tuple[int, float]] = field(default_factory=list)  # (status, delay in s)
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)


class FaultServer(EmbeddedServer):
    def __init__(self) -> None:
        self.script = Script()
        super().__init__(Starlette(routes=[
            Route("/ready", lambda _: Response("ok")),
            Route("/v1/{path:path}", self.answer, methods=["GET", "POST", "DELETE"]),
        ]), ready_path="/ready")

    async def answer(self, request: Request) -> Response:
        self.script.seen.append((request.method, request.url.path,
                                 request.headers.get("idempotency-key")))
        status, delay = self.script.steps.pop(0) if self.script.steps else (200, 0.0)
        await asyncio.sleep(delay)
        body = {429: RATE_LIMITED}.get(status, SERVER_ERROR) if status != 200 else CUSTOMER
        return JSONResponse(body, status_code=status)


@pytest.fixture(scope="module")
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def script(fault_server: FaultServer) -> Script:
    fault_server.script = Script()
    return fault_server.script


@dataclass
class Sleeps:
    """The retry policy's sleeps, recorded instead of slept (tests never wait)."""

    taken: list[float] = field(default_factory=list)

    def policy(self, attempts: int = 4) -> RetryPolicy:
        return RetryPolicy(attempts=attempts, base_delay=0.05, max_delay=0.4,
                           sleep=self.taken.append)


def calls_on(url: str, *, retry: RetryPolicy, timeout: float = 5,
             key: str = "sk_test_faults_faults") -> StripeCalls:
    client = stripe.StripeClient(key, base_addresses={"api": url},
                                 max_network_retries=0,
                                 http_client=stripe.RequestsClient(timeout=timeout))
    return StripeCalls(client, account_id="acct_test", retry=retry)


def create_customer(calls: StripeCalls, email: str = "ada@example.com") -> stripe.Customer:
    params: Any = {"email": email}
    return calls.write(lambda options: calls.v1.customers.create(params, options=options),
                       what="customers.create", params=params)


# --- transient failures ---------------------------------------------------------------


def test_a_rate_limit_is_retried_with_backoff_then_succeeds(fault_server: FaultServer,
                                                           script: Script) -> None:
    script.steps = [(429, 0), (429, 0)]
    sleeps = Sleeps()
    customer = create_customer(calls_on(fault_server.url, retry=sleeps.policy()))
    assert customer.id == "cus_fault" and len(script.seen) == 3
    assert len(sleeps.taken) == 2
    # Full jitter under a doubling cap: 0.05 s, then 0.1 s at most.
    assert 0 <= sleeps.taken[0] <= 0.05 and 0 <= sleeps.taken[1] <= 0.1
    assert len({key for _, _, key in script.seen}) == 1  # the same write, the same key


def test_rate_limited_to_the_end_is_rate_limited(fault_server: FaultServer,
                                                 script: Script) -> None:
    script.steps = [(429, 0)] * 4
    sleeps = Sleeps()
    with pytest.raises(RateLimited) as raised:
        create_customer(calls_on(fault_server.url, retry=sleeps.policy(attempts=4)))
    assert raised.value.retry_after == 2
    assert len(script.seen) == 4 and len(sleeps.taken) == 3


def test_server_errors_are_retried_with_the_same_key_then_unavailable(
        fault_server: FaultServer, script: Script) -> None:
    script.steps = [(500, 0), (503, 0), (502, 0)]
    with pytest.raises(BillingUnavailable):
        create_customer(calls_on(fault_server.url, retry=Sleeps().policy(attempts=3)))
    keys = [key for _, _, key in script.seen]
    assert len(keys) == 3 and keys[0] is not None and keys.count(keys[0]) == 3


def test_a_timeout_is_retried_with_the_same_key(fault_server: FaultServer,
                                                script: Script) -> None:
    script.steps = [(200, 1.0)]  # answers after the client gave up
    calls = calls_on(fault_server.url, retry=Sleeps().policy(), timeout=0.3)
    assert create_customer(calls).id == "cus_fault"
    [(_, _, first), (_, _, second)] = script.seen
    assert first is not None and first == second


def test_timeouts_to_the_end_are_unavailable(fault_server: FaultServer,
                                             script: Script) -> None:
    script.steps = [(200, 1.0)] * 2
    calls = calls_on(fault_server.url, retry=Sleeps().policy(attempts=2), timeout=0.3)
    with pytest.raises(BillingUnavailable):
        calls.read(lambda options: calls.v1.customers.retrieve("cus_fault", options=options))
    assert [method for method, _, key in script.seen] == ["GET", "GET"]
    assert all(key is None for _, _, key in script.seen)  # a read carries no key


def test_a_bad_request_is_not_retried(fault_server: FaultServer, script: Script) -> None:
    script.steps = [(400, 0)]
    with pytest.raises(InvalidRequest):
        create_customer(calls_on(fault_server.url, retry=Sleeps().policy()))
    assert len(script.seen) == 1


# --- Stripe's errors, from "Stripe" ---------------------------------------------------


@pytest.fixture
def calls(stripe_side: StripeSide, stripe_account: tuple[str, str]) -> StripeCalls:
    """Calls on this test's Stripe account on the second Portico."""
    return calls_on(stripe_side.url, retry=Sleeps().policy(), key=stripe_account[1])


def test_a_decline_is_card_declined_with_its_decline_code(calls: StripeCalls) -> None:
    customer = create_customer(calls)
    with pytest.raises(CardDeclined) as raised:
        calls.write(lambda options: calls.v1.payment_methods.attach(
            "pm_card_chargeDeclined", {"customer": customer.id}, options=options),
            what="payment_methods.attach")
    assert (raised.value.code, raised.value.decline_code) == ("card_declined",
                                                              "generic_decline")
    assert raised.value.http_status == 402


def test_a_missing_object_is_resource_missing(calls: StripeCalls) -> None:
    with pytest.raises(ResourceMissing) as raised:
        calls.read(lambda options: calls.v1.customers.retrieve("cus_missing",
                                                                options=options))
    assert "cus_missing" in str(raised.value)


def test_a_bad_parameter_keeps_its_name(calls: StripeCalls) -> None:
    with pytest.raises(InvalidRequest) as raised:
        create_customer(calls, email="not-an-address")
    assert (raised.value.param, raised.value.code) == ("email", "email_invalid")


def test_one_key_with_other_parameters_is_an_idempotency_conflict(calls: StripeCalls) -> None:
    with action_scope("bps_test:details:save"):
        create_customer(calls, email="ada@example.com")
    with action_scope("bps_test:details:save"):  # retried, sending something else by mistake
        params: Any = {"email": "eve@example.com"}
        with pytest.raises(IdempotencyConflict):
            calls.write(lambda options: calls.v1.customers.create(params, options=options),
                        what="customers.create", params={"email": "ada@example.com"})


def test_an_action_retried_applies_once(stripe_side: StripeSide,
                                        stripe_account: tuple[str, str],
                                        calls: StripeCalls) -> None:
    with action_scope("bps_test:payment-methods:add:1"):
        first = create_customer(calls)
    # The customer clicks again: another worker (new StripeCalls), the same action.
    with action_scope("bps_test:payment-methods:add:1"):
        second = create_customer(calls_on(stripe_side.url, retry=Sleeps().policy(),
                                          key=stripe_account[1]))
    # ... or the same worker: the action's keys start over with it.
    with action_scope("bps_test:payment-methods:add:1"):
        third = create_customer(calls)
    assert first.id == second.id == third.id
    with action_scope("bps_test:payment-methods:add:2"):  # another action: another write,
        fourth = create_customer(calls)
        fifth = create_customer(calls)  # and the same call twice in it: two writes
    assert len({first.id, fourth.id, fifth.id}) == 3
    listed = calls.read(lambda options: calls.v1.customers.list(
        {"email": "ada@example.com", "limit": 100}, options=options))
    assert sorted(c.id for c in listed.auto_paging_iter()) == sorted(
        [first.id, fourth.id, fifth.id])


def test_writes_outside_an_action_get_fresh_keys(calls: StripeCalls) -> None:
    assert create_customer(calls).id != create_customer(calls).id


def test_no_stripe_error_leaves(fault_server: FaultServer, script: Script) -> None:
    script.steps = [(401, 0), (404, 0), (409, 0), (409, 0), (409, 0), (409, 0)]
    calls = calls_on(fault_server.url, retry=Sleeps().policy())
    with pytest.raises(BillingUnavailable) as unauthorized:  # the merchant's key, not ours
        create_customer(calls)
    assert unauthorized.value.code == "stripe_authentication"
    with pytest.raises(ResourceMissing):
        create_customer(calls)
    with pytest.raises(InvalidRequest):  # a conflict that does not clear is a refusal
        create_customer(calls)
    assert len(script.seen) == 2 + 4
