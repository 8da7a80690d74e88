"""Schemathesis against the API in-process: generated requests from the OpenAPI document.

:func:`fuzz` loads ``/v1/openapi.json`` from the ASGI app itself (no network),
seeds a merchant "world" per operation (a customer with a card, products, prices,
a subscription, its invoice, a coupon, a promotion code, a configuration, a meter,
an offer, an experiment, a schedule: made through the API, so that generated
requests reach past "No such customer"), then sends every operation's generated
cases — positive (valid per the document) and negative (violating it) — with the
merchant's key. Generated ids are swapped for the world's ids of the right kind
about half of the time.

Each response is checked: no 5xx, every 4xx in Stripe's error envelope
(:data:`portal_app.api.openapi.ERROR_SCHEMA`), every 2xx a JSON object. Failures
are collected, not raised, so one run counts everything; :class:`FuzzReport`
holds the numbers. Used by ``tests/portal_app/api/test_fuzz.py`` (a small
budget in the normal run) and ``bench/fuzz.py`` (10,000+ cases).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jsonschema
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from portal_app.accounts import services as accounts
from portal_app.api.openapi import ERROR_SCHEMA, FORM, api_registry
from portal_app.api.openapi import ROUTES as OPENAPI_ROUTES
from portal_app.api.portico_routes import build_api
from portal_app.clock import Clock
from portal_app.db import UnitOfWork
from portal_app.routes import API_OPENAPI

# The object kind behind a collection's ``{id}``.
PATH_KINDS = {
    "customers": "customer", "products": "product", "prices": "price", "coupons": "coupon",
    "promotion_codes": "promotion_code", "subscriptions": "subscription",
    "invoices": "invoice", "payment_methods": "payment_method",
    "subscription_schedules": "subscription_schedule", "meters": "meter",
    "configurations": "configuration", "offers": "offer", "experiments": "experiment",
    "retention_policies": "configuration",
}
# The object kind a parameter of this name takes, wherever it is nested.
PARAM_KINDS = {
    "customer": "customer", "product": "product", "price": "price", "default_price": "price",
    "coupon": "coupon", "promotion_code": "promotion_code", "subscription": "subscription",
    "from_subscription": "subscription", "payment_method": "payment_method",
    "default_payment_method": "payment_method", "configuration": "configuration",
    "meter": "meter",
}


def encode_form(value: Any) -> str:
    """``value`` in Stripe's form encoding (``a[b][0]=c``), as the ``stripe`` SDK sends it."""
    pairs: list[tuple[str, str]] = []

    def walk(name: str, item: Any) -> None:
        if isinstance(item, dict) and (item or not name):
            for key, sub in item.items():
                walk(f"{name}[{key}]" if name else str(key), sub)
        elif isinstance(item, list) and item:
            for i, sub in enumerate(item):
                walk(f"{name}[{i}]", sub)
        elif isinstance(item, bool):
            pairs.append((name, "true" if item else "false"))
        elif item is None or item in ({}, []):
            pairs.append((name, ""))  # Stripe's "unset"
        else:
            pairs.append((name, str(item)))

    walk("", value)
    return urlencode(pairs, errors="replace")


@schemathesis.serializer(FORM)
def _form_serializer(ctx: schemathesis.SerializationContext, value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", errors="replace")
    if isinstance(value, dict):
        return encode_form(value).encode()
    return json.dumps(value).encode()  # a negative case's non-object body, sent as is


def fuzz_app(*, clock: Clock, engine: Engine) -> Starlette:
    """The API as served (its document, Portico's endpoints, Stripe's) on ``engine``."""
    api = build_api(clock=clock, engine=engine)
    return Starlette(routes=[*OPENAPI_ROUTES, *api.routes])


class World:
    """A merchant with one object of each kind, made through the API."""

    def __init__(self, app: Starlette, *, engine: Engine, clock: Clock) -> None:
        account = accounts.create_account(business_name="Fuzz", email="fuzz@example.test",
                                          uow=UnitOfWork(engine, clock=clock))
        self.key = accounts.create_api_key(account_id=account.id,
                                           uow=UnitOfWork(engine, clock=clock))
        self.ids: dict[str, list[str]] = {}
        transport = httpx.ASGITransport(app=app)
        self._http = httpx.AsyncClient(transport=transport, base_url="http://fuzz.test",
                                       headers={"Authorization": f"Bearer {self.key}"})

    async def seed(self) -> World:
        """Create the world's objects (one request each)."""
        async with self._http:
            customer = await self._make("customer", "/v1/customers", email="c@example.test")
            card = await self._make("payment_method", "/v1/payment_methods", type="card",
                                    **{"card[number]": "4242424242424242",
                                       "card[exp_month]": "12", "card[exp_year]": "2035",
                                       "card[cvc]": "123"})
            await self._post(f"/v1/payment_methods/{card}/attach", customer=customer)
            await self._post(f"/v1/customers/{customer}",
                             **{"invoice_settings[default_payment_method]": card})
            product = await self._make("product", "/v1/products", name="Cloud")
            prices = [await self._make("price", "/v1/prices", product=product, currency="usd",
                                       unit_amount=str(amount),
                                       **{"recurring[interval]": "month"})
                      for amount in (1000, 2500)]
            subscription = await self._make("subscription", "/v1/subscriptions",
                                            customer=customer,
                                            **{"items[0][price]": prices[0]})
            other = await self._make("subscription", "/v1/subscriptions", customer=customer,
                                     **{"items[0][price]": prices[1]})
            await self._make("subscription_schedule", "/v1/subscription_schedules",
                             from_subscription=other)
            invoices = (await self._http.get("/v1/invoices",
                                             params={"subscription": subscription})).json()
            self.ids["invoice"] = [row["id"] for row in invoices.get("data", [])]
            coupon = await self._make("coupon", "/v1/coupons", percent_off="10",
                                      duration="once")
            await self._make("promotion_code", "/v1/promotion_codes", code="FUZZ10",
                             **{"promotion[coupon]": coupon})
            config = await self._make("configuration", "/v1/billing_portal/configurations",
                                      **{"features[subscription_cancel][enabled]": "true",
                                         "features[invoice_history][enabled]": "true"})
            await self._make("meter", "/v1/billing/meters", display_name="API calls",
                             event_name="api_calls",
                             **{"default_aggregation[formula]": "sum"})
            offer = await self._make("offer", "/v1/portico/offers", type="trial_extension",
                                     name="Two weeks", **{"trial_extension[days]": "14"})
            await self._make("experiment", "/v1/portico/experiments", configuration=config,
                             name="Stay", **{"variants[0][name]": "A",
                                             "variants[0][offers][default]": offer})
        return self

    async def _post(self, path: str, **form: str) -> dict[str, Any]:
        response = await self._http.post(path, data=form)
        if response.status_code != 200:
            raise RuntimeError(f"seeding {path} failed: {response.text}")
        body: dict[str, Any] = response.json()
        return body

    async def _make(self, kind: str, path: str, **form: str) -> str:
        object_id: str = (await self._post(path, **form))["id"]
        self.ids.setdefault(kind, []).append(object_id)
        return object_id

    def pick(self, kind: str, rng: random.Random) -> str | None:
        """One of the world's ids of ``kind`` (None when it has none)."""
        found = self.ids.get(kind)
        return rng.choice(found) if found else None


def _kind_of_path(path: str) -> str | None:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    collection = next((p for p in reversed(parts) if p in PATH_KINDS), None)
    return PATH_KINDS.get(collection) if collection else None


def _swap_ids(value: Any, world: World, rng: random.Random) -> Any:
    """``value`` with ids under known parameter names replaced by the world's (half the time)."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            kind = PARAM_KINDS.get(str(key))
            if kind and isinstance(item, str) and rng.random() < 0.5:
                out[key] = world.pick(kind, rng) or item
            elif key == "offers" and isinstance(item, dict):
                out[key] = {k: world.pick("offer", rng) or v for k, v in item.items()}
            else:
                out[key] = _swap_ids(item, world, rng)
        return out
    if isinstance(value, list):
        return [_swap_ids(item, world, rng) for item in value]
    return value


@dataclass
class Failure:
    """A case that broke a rule: its operation, status and what was sent and answered."""

    operation: str
    rule: str
    status: int
    request: str
    response: str


@dataclass
class FuzzReport:
    """What a run did: cases sent, statuses seen, failures found."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    enveloped_4xx: int = 0
    failures: list[Failure] = field(default_factory=list)
    operations: int = 0
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        """Responses with a 5xx status."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def client_errors(self) -> int:
        """Responses with a 4xx status."""
        return sum(n for status, n in self.statuses.items() if 400 <= status < 500)

    def summary(self) -> str:
        """One paragraph of numbers."""
        by_status = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (f"{self.cases} cases over {self.operations} operations in "
                f"{self.seconds:.1f} s ({self.cases / max(self.seconds, 1e-9):.0f}/s); "
                f"5xx: {self.server_errors}; 4xx: {self.client_errors} "
                f"({self.enveloped_4xx} in Stripe's envelope); failures: "
                f"{len(self.failures)}; statuses: {by_status}")


def _check(report: FuzzReport, label: str, case: Any, response: Any) -> None:
    report.cases += 1
    status = response.status_code
    report.statuses[status] += 1
    problem = None
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if status >= 500:
        problem = "5xx"
    elif status >= 400:
        try:
            jsonschema.validate(body, ERROR_SCHEMA)
            report.enveloped_4xx += 1
        except jsonschema.ValidationError:
            problem = "4xx not in Stripe's error envelope"
    elif not isinstance(body, dict):
        problem = "2xx body not a JSON object"
    if problem:
        report.failures.append(Failure(
            operation=label, rule=problem, status=status,
            request=f"{case.method} {case.formatted_path} query={case.query!r} "
                    f"body={case.body!r}"[:2000],
            response=response.content[:1000].decode("utf-8", "replace")))


def merge(reports: list[FuzzReport]) -> FuzzReport:
    """One report of several runs (the processes of ``bench/fuzz.py``)."""
    merged = FuzzReport()
    for report in reports:
        merged.cases += report.cases
        merged.statuses.update(report.statuses)
        merged.enveloped_4xx += report.enveloped_4xx
        merged.failures += report.failures
        merged.operations += report.operations
        merged.seconds += report.seconds
    return merged


def operation_labels() -> list[str]:
    """``"METHOD /path"`` of every registered operation, as schemathesis labels them."""
    return [f"{e.method} {e.path}" for e in api_registry().endpoints]


def operations(app: Starlette) -> Iterator[Any]:
    """Every API operation of the document served by ``app``."""
    schema = schemathesis.openapi.from_asgi(API_OPENAPI, app)
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken
        yield result.ok()


def fuzz(*, engine: Engine, clock: Clock, cases_per_operation: int, seed: int = 0,
         modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE,
                                             GenerationMode.NEGATIVE),
         only: Callable[[str], bool] | None = None, fresh_world: bool = True,
         progress: Callable[[str, FuzzReport], None] | None = None) -> FuzzReport:
    """Send ``cases_per_operation`` generated cases (split over ``modes``) to each operation.

    ``only`` filters operations by label (``"POST /v1/customers"``); with
    ``fresh_world`` each operation gets a newly seeded world (else one world serves
    all). Deterministic for a given ``seed``.
    """
    app = fuzz_app(clock=clock, engine=engine)
    report = FuzzReport()
    started = time.monotonic()
    world: World | None = None
    for operation in operations(app):
        label = operation.label
        if only is not None and not only(label):
            continue
        if world is None or fresh_world:
            world = asyncio.run(World(app, engine=engine, clock=clock).seed())
        report.operations += 1
        for mode in modes:
            _fuzz_operation(operation, mode=mode, world=world, report=report, seed=seed,
                            budget=max(1, cases_per_operation // len(modes)))
        if progress is not None:
            progress(label, report)
    report.seconds = time.monotonic() - started
    return report


def _fuzz_operation(operation: Any, *, mode: GenerationMode, world: World, report: FuzzReport,
                    seed: int, budget: int) -> None:
    """``budget`` cases of ``operation`` in ``mode``, checked into ``report``."""
    headers = {"Authorization": f"Bearer {world.key}"}
    kind = _kind_of_path(operation.path)

    @settings(max_examples=budget, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), pick=st.integers(0, 2**32 - 1))
    def run(case: Any, pick: int) -> None:
        rng = random.Random(pick ^ seed)
        if kind and case.path_parameters and rng.random() < 0.6:
            case.path_parameters = {name: world.pick(kind, rng) or value
                                    for name, value in case.path_parameters.items()}
        if isinstance(case.body, dict):
            case.body = _swap_ids(case.body, world, rng)
        if isinstance(case.query, dict):
            case.query = _swap_ids(case.query, world, rng)
        _check(report, operation.label, case, case.call(headers=headers))

    run()
