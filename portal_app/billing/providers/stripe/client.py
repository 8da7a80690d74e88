"""Calls to a merchant's Stripe account: retries, idempotency keys and Portico's errors.

Every call of the Stripe-backed provider goes through :class:`StripeCalls`, so that:

- **writes never double-apply**: each write carries an ``Idempotency-Key``. Inside
  :func:`action_scope` (a portal action: a click, named by what the customer confirmed)
  the key is derived from the scope, the call and its parameters, so a retried click
  replays Stripe's first answer instead of applying again; outside a scope each write
  gets a random key, which still makes Portico's own retries of that write safe;
- **transient failures are retried** with exponential backoff and jitter — 429 rate limits,
  409 conflicts, timeouts and connection errors, Stripe's 5xx — reusing the write's key
  (the SDK's own retries are off: it does not retry 429);
- **errors are Portico's** (:mod:`portal_app.errors`): a decline is CardDeclined with
  Stripe's decline code, a 404 ResourceMissing, a 400 InvalidRequest naming the
  parameter, an exhausted retry RateLimited or BillingUnavailable. No ``stripe`` error
  leaves this module.

Note for the other parts (A1 → A2): a call's ``options`` is typed ``stripe.RequestOptions``
(the SDK's own TypedDict), so ``options=options`` type-checks; build dynamic params as
``dict[str, Any]`` typed ``Any`` where the SDK wants its TypedDict.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import stripe

from portal_app.accounts.stripe_link import StripeCredentials
from portal_app.errors import (
    BillingError,
    BillingUnavailable,
    CardDeclined,
    CardError,
    IdempotencyConflict,
    InvalidRequest,
    PaymentRequiresAction,
    RateLimited,
    ResourceMissing,
)

T = TypeVar("T")

# Seconds before a Stripe call is abandoned (Stripe's own default is 80 s: far too long
# for a customer waiting on a click).
REQUEST_TIMEOUT = 20


@dataclass
class _Action:
    """The action in progress: its name, and how often each write was made in it."""

    name: str
    writes: dict[str, int]


_scope: ContextVar[_Action | None] = ContextVar("portico_stripe_action_scope", default=None)


@contextmanager
def action_scope(name: str) -> Iterator[None]:
    """Derive the idempotency keys of the writes made inside from ``name``.

    ``name`` identifies one portal action as the customer asked for it (the session, the
    step and what was confirmed, e.g. ``bps_…:cancel-flow:cflow_…:accept``): the same
    action retried derives the same keys, so Stripe answers the retry with the first
    result instead of applying it twice.
    """
    token = _scope.set(_Action(name, {}))
    try:
        yield
    finally:
        _scope.reset(token)


def open_client(credentials: StripeCredentials) -> stripe.StripeClient:
    """The SDK client of a merchant's Stripe account (its own retries off: see module).

    One client (and its pool of keep-alive connections) per key and address.
    """
    return _client(credentials.secret_key, credentials.api_base)


@lru_cache(maxsize=256)
def _client(secret_key: str, api_base: str | None) -> stripe.StripeClient:
    base = {"api": api_base} if api_base else None
    return stripe.StripeClient(
        secret_key, base_addresses=base,  # type: ignore[arg-type]
        max_network_retries=0, http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT))


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient failure."""

    attempts: int = 4  # the first try included
    base_delay: float = 0.5  # seconds; doubled each retry, with full jitter
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, retry: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** retry))


class StripeCalls:
    """One merchant account's Stripe calls (see the module docstring).

    Parameters
    ----------
    client
        The account's :class:`stripe.StripeClient` (:func:`open_client`).
    account_id
        The Portico account: part of every derived idempotency key.
    retry
        The retry policy (tests pass one with tiny delays).
    """

    def __init__(self, client: stripe.StripeClient, *, account_id: str,
                 retry: RetryPolicy | None = None) -> None:
        self.client = client
        self.v1 = client.v1
        self.account_id = account_id
        self.retry = retry or RetryPolicy()

    def read(self, call: Callable[[stripe.RequestOptions], T]) -> T:
        """Run a read: ``call(options)`` with the request options to pass on."""
        return self._attempt(call, options={})

    def write(self, call: Callable[[stripe.RequestOptions], T], *, what: str,
              params: Mapping[str, Any] | None = None) -> T:
        """Run a write with its idempotency key: ``call(options)``.

        ``what`` names the call (``subscriptions.update:sub_…``) and ``params`` are what
        it sends: with the action scope they make the key, so the same action making the
        same call derives the same key, and a different call a different one.
        """
        return self._attempt(call, options={"idempotency_key": self.idempotency_key(
            what, params or {})})

    def idempotency_key(self, what: str, params: Mapping[str, Any]) -> str:
        """The key of the next write ``what`` with ``params`` (see :meth:`write`)."""
        action = _scope.get()
        if action is None:
            return "portico-" + secrets.token_hex(16)
        canonical = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
        seed = f"{self.account_id}\n{action.name}\n{what}\n{canonical}"
        # The same call twice within one action (rare) still needs two keys; the count
        # starts again with the action, so a retried action derives the same keys.
        count = action.writes.get(seed, 0)
        action.writes[seed] = count + 1
        return "portico-" + hashlib.sha256(f"{seed}\n{count}".encode()).hexdigest()[:48]

    def _attempt(self, call: Callable[[stripe.RequestOptions], T], *,
                 options: stripe.RequestOptions) -> T:
        for retry in range(self.retry.attempts):
            try:
                return call(options)
            except stripe.StripeError as error:
                if retry + 1 >= self.retry.attempts or not _transient(error):
                    raise portico_error(error) from None
                self.retry.sleep(self.retry.delay(retry))
        raise AssertionError("unreachable: the last attempt returns or raises")


def _transient(error: stripe.StripeError) -> bool:
    """Worth trying again with the same key: a rate limit, no answer, a lock conflict (409,
    which the SDK raises as a plain APIError) or Stripe's own failure (5xx)."""
    if isinstance(error, stripe.RateLimitError | stripe.APIConnectionError):
        return True
    status = error.http_status
    if status is None:
        return isinstance(error, stripe.APIError)
    return status == 409 or status >= 500


def portico_error(error: stripe.StripeError) -> BillingError:
    """The Portico error a Stripe error means (its message kept: Stripe words it plainly)."""
    message = error.user_message or "The billing system refused this."
    status = error.http_status
    code = getattr(error, "code", None)
    param = getattr(error, "param", None)
    if isinstance(error, stripe.CardError) or status == 402:
        if code == "invoice_payment_intent_requires_action":
            return PaymentRequiresAction(message)
        # The SDK keeps decline_code only on the error object it parsed from the body.
        decline_code = error.error.decline_code if error.error is not None else None
        if code == "card_declined":
            return CardDeclined(message, decline_code=decline_code, param=param)
        return CardError(message, code=code, param=param, decline_code=decline_code)
    if isinstance(error, stripe.IdempotencyError):
        return IdempotencyConflict(message)
    if isinstance(error, stripe.RateLimitError) or status == 429:
        return RateLimited("Billing is busy right now; please try again in a moment.",
                           retry_after=2)
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        # The merchant's key is wrong or revoked: nothing a customer can fix.
        return BillingUnavailable("Billing is not available right now; please try again "
                                  "later.", code="stripe_authentication")
    if status == 404 or code == "resource_missing":
        return ResourceMissing(message, param=param)
    if status is not None and 400 <= status < 500:
        return InvalidRequest(message, code=code, param=param)
    # A retry of the same action replays Stripe's answer (same key): trying again is safe.
    return BillingUnavailable("We could not reach the billing system. Please try again in "
                              "a moment.")

