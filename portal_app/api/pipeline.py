"""What every API request goes through: key, parameters, idempotency, errors, headers.

An endpoint is a plain function ``(ApiRequest) -> dict``: it reads its
parameters, calls one service and renders the result. Everything Stripe does
the same way for every endpoint — authentication, unknown parameters,
``Idempotency-Key``, ``expand[]``, the error envelope, ``Request-Id`` — lives
here, once.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import anyio.from_thread
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal_app.accounts.services import authenticate_key
from portal_app.accounts.stripe_link import bills_through_stripe
from portal_app.api import idempotency
from portal_app.api.expand import expand
from portal_app.api.forms import parse_body, to_id, to_list, to_str
from portal_app.api.schema import Hash, Spec, body
from portal_app.clock import Clock, utc_now
from portal_app.db import UnitOfWork, get_engine
from portal_app.errors import AuthenticationFailed, BillingError, InvalidRequest, ResourceMissing
from portal_app.ids import random_id
from portal_app.limits import MAX_ID_LENGTH
from portal_app.stripe_shapes import API_VERSION

log = logging.getLogger(__name__)

DOC_URL = "https://stripe.com/docs/error-codes/{code}"


@dataclass
class ApiRequest:
    """One authenticated API call, as an endpoint function sees it."""

    account_id: str
    params: dict[str, Any]
    path_params: dict[str, str]
    uow: UnitOfWork
    path: str
    livemode: bool = False  # the request's key is an ``sk_live_`` key

    def id(self, name: str = "id") -> str:
        """A path parameter (an object id)."""
        return self.path_params[name]


class BillsThroughStripe(InvalidRequest):
    """A ledger endpoint called for an account whose billing lives in its Stripe account:
    acting on Portico's ledger instead would be silently wrong."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(f"This account bills through Stripe: call Stripe for "
                         f"{endpoint.resource} ({endpoint.method} {endpoint.path}). Portico "
                         "serves its portal sessions, configurations, offers, experiments, "
                         "events and webhook endpoints.", code="account_bills_through_stripe")


class UnrecognizedURL(InvalidRequest):
    """No endpoint at this method and path (Stripe answers 404 without a code)."""

    http_status = 404


Handler = Callable[[ApiRequest], dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    """A method and path template, its handler and the parameters it accepts.

    ``schema`` describes and checks the parameters (:mod:`portal_app.api.schema`);
    ``params`` are their top-level names.
    """

    method: str
    path: str
    handler: Handler
    params: frozenset[str] = field(default_factory=frozenset)
    schema: Hash = field(default_factory=Hash)
    # Reads or writes Portico's ledger: refused to an account whose billing is in Stripe.
    ledger: bool = False

    @property
    def resource(self) -> str:
        """What the endpoint is about, in words (``/v1/billing/meters/{id}`` → meters)."""
        names = [part for part in self.path.split("/")[2:]
                 if part and not part.startswith("{") and part not in ("test_helpers", "billing")]
        return names[0].replace("_", " ") if names else self.path


class Registry:
    """The API's endpoints, in the order they were declared."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def __call__(self, method: str, path: str, *,
                 params: Mapping[str, Spec] | tuple[str, ...] = (),
                 required: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
        """Declare ``handler`` as the endpoint for ``method path``, taking ``params``."""
        schema = body(params, required=required)

        def register(handler: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, handler, frozenset(schema.fields),
                                           schema))
            return handler

        return register

    def on_the_ledger(self) -> Registry:
        """These endpoints, marked as the ledger's (:attr:`Endpoint.ledger`)."""
        marked = Registry()
        marked.endpoints = [replace(endpoint, ledger=True) for endpoint in self.endpoints]
        return marked

    @classmethod
    def joined(cls, *registries: Registry) -> Registry:
        """One registry with the endpoints of ``registries``, in their order."""
        joined = cls()
        for registry in registries:
            joined.endpoints.extend(registry.endpoints)
        return joined

    def routes(self, *, clock: Clock = utc_now, engine: Engine | None = None) -> list[Route]:
        """Starlette routes for every endpoint, then Stripe's 404 for any other ``/v1`` URL."""
        by_path: dict[str, dict[str, Endpoint]] = {}
        for endpoint in self.endpoints:
            by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
        routes = [
            Route(path, _asgi_endpoint(methods, clock=clock, engine=engine),
                  methods=list(methods), name=None)
            for path, methods in by_path.items()
        ]
        routes.append(Route("/v1/{rest:path}", _asgi_endpoint({}, clock=clock, engine=engine),
                            methods=["GET", "POST", "DELETE", "PUT", "PATCH"]))
        return routes


def _asgi_endpoint(methods: Mapping[str, Endpoint], *, clock: Clock, engine: Engine | None
                   ) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        def read_body() -> bytes:
            # Called from the worker thread once the key checks out: an unauthenticated
            # client never gets a body read (web.app.BodyLimit bounds it in any case).
            if request.method not in ("POST", "PUT", "PATCH"):
                return b""
            return anyio.from_thread.run(request.body)

        return await run_in_threadpool(
            _respond, request.method, request.url.path, request.url.query, read_body,
            dict(request.path_params), request.headers, methods.get(request.method),
            clock=clock, engine=engine or get_engine())

    return handle


def _respond(method: str, path: str, query: str, read_body: Callable[[], bytes],
             path_params: dict[str, str],
             headers: Mapping[str, str], endpoint: Endpoint | None, *, clock: Clock,
             engine: Engine) -> Response:
    request_id = random_id("req", length=14)
    key = headers.get("idempotency-key") if method == "POST" else None
    try:
        account_id = authenticate_key(_api_key(headers), uow=UnitOfWork(engine, clock=clock))
        if endpoint is None:
            raise UnrecognizedURL(
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.")
        _check_path_ids(path_params)
        params = parse_body(query)
        params.update(parse_body(read_body()))
        status, payload, replayed = _run(endpoint, params, path, path_params, key,
                                         account_id=account_id, request_id=request_id,
                                         clock=clock, engine=engine,
                                         livemode=(_api_key(headers) or "").startswith(
                                             "sk_live_"))
    except BillingError as error:
        status, payload, replayed = error.http_status, error_body(error), False
    except Exception:  # the one place an unexpected failure becomes Stripe's api_error
        log.exception("API request %s failed", request_id)
        status, payload, replayed = 500, json.dumps({"error": {
            "type": "api_error",
            "message": f"An unknown error occurred (request {request_id}).",
        }}), False
    response_headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION,
                        "Cache-Control": "no-cache, no-store"}
    if key:
        response_headers["Idempotency-Key"] = key
    if replayed:
        response_headers["Idempotent-Replayed"] = "true"
    return Response(payload, status_code=status, headers=response_headers,
                    media_type="application/json")


def _run(endpoint: Endpoint, params: dict[str, Any], path: str, path_params: dict[str, str],
         key: str | None, *, account_id: str, request_id: str, clock: Clock, engine: Engine,
         livemode: bool = False) -> tuple[int, str, bool]:
    """Call the endpoint in one transaction; store and replay idempotent responses."""
    fp = idempotency.fingerprint(endpoint.method, path, params)
    if key:
        idempotency.check_key(key)
        stored = idempotency.find_response(key, fp, account_id=account_id,
                                           uow=UnitOfWork(engine, clock=clock))
        if stored is not None:
            return stored.status_code, stored.body, True
    if endpoint.ledger and bills_through_stripe(account_id, uow=UnitOfWork(engine, clock=clock)):
        raise BillsThroughStripe(endpoint)  # before its parameters: none of them is wrong
    endpoint.schema.check(params, "")
    paths = [to_str(p, f"expand[{i}]")
             for i, p in enumerate(to_list(params.pop("expand", []), "expand"))]
    uow = UnitOfWork(engine, clock=clock, request_id=request_id, idempotency_key=key)
    try:
        with uow:
            obj = endpoint.handler(ApiRequest(account_id=account_id, params=params,
                                              path_params=path_params, uow=uow, path=path,
                                              livemode=livemode))
            if paths:
                expand(obj, paths, account_id=account_id, uow=uow)
            payload = json.dumps(obj)
            if key:
                idempotency.store_response(key, fp, status_code=200, body=payload,
                                           account_id=account_id, uow=uow)
            uow.commit()
        return 200, payload, False
    except IntegrityError:
        if not key:
            raise
        # Another request with this key committed first: everything here rolled back.
        stored = idempotency.find_response(key, fp, account_id=account_id,
                                           uow=UnitOfWork(engine, clock=clock))
        if stored is None:
            raise
        return stored.status_code, stored.body, True
    except BillingError as error:
        if key and error.http_status == 402:
            # The charge was attempted: Stripe replays a card error like a success.
            _store_error(key, fp, error, account_id=account_id,
                         uow=UnitOfWork(engine, clock=clock))
        raise


def _store_error(key: str, fp: str, error: BillingError, *, account_id: str,
                 uow: UnitOfWork) -> None:
    try:
        with uow:
            idempotency.store_response(key, fp, status_code=error.http_status,
                                       body=error_body(error), account_id=account_id, uow=uow)
            uow.commit()
    except IntegrityError:
        pass  # a concurrent request with this key stored its own outcome first


def _check_path_ids(path_params: Mapping[str, str]) -> None:
    """An id in the path that cannot be one names no object: Stripe's 404, never a 500."""
    for name, value in path_params.items():
        try:
            to_id(value, name)
        except InvalidRequest:
            raise ResourceMissing(f"No such object: '{value[:MAX_ID_LENGTH]}'",
                                  param=name) from None


def error_body(error: BillingError) -> str:
    """Stripe's error envelope for ``error``."""
    detail: dict[str, Any] = {"type": error.type, "message": error.message}
    if error.code:
        detail["code"] = error.code
        detail["doc_url"] = DOC_URL.format(code=error.code)
    if error.param:
        detail["param"] = error.param
    if error.decline_code:
        detail["decline_code"] = error.decline_code
    return json.dumps({"error": detail})


def _api_key(headers: Mapping[str, str]) -> str | None:
    """The secret key from ``Authorization: Bearer sk_..`` or HTTP Basic (key as user)."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(credentials, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            user = ""
        return user
    raise AuthenticationFailed(
        "Invalid Authorization header: use 'Authorization: Bearer YOUR_SECRET_KEY'.")
