"""The API's isolation matrix, generated from the endpoint registry.

Every endpoint of ``api/routes.py`` and ``api/portico_routes.py`` is called with merchant
A's key through the real ``stripe`` SDK (``raw_request``), first as a valid request on A's
own objects (the control: it must succeed, which proves the request reaches the lookup
of each id), then once per id in it (a *slot*: the path's ``{id}``, a cursor, a
parameter, a nested ``items[0][price]``...) with that one id replaced by merchant B's
object in the same role. Each such call must be refused exactly as for an id that names
no object — 404 ``resource_missing`` (a list filter: the same empty list) — and change
nothing of B's or of A's.

Nothing here lists endpoints by hand: a new endpoint is called as soon as it is
registered. What the generator cannot know is said in small tables below, and an endpoint
it cannot classify fails :func:`test_every_endpoint_is_classified` with what to add:

* ``COLLECTION_KINDS``: which object a path's ``{id}`` names, from the collection before it;
* ``VALID``: a valid request, for endpoints that need more than their path id;
* ``NOT_REFERENCES`` (and per endpoint ``ENDPOINT_NOT_REFERENCES``): parameters that never
  carry an object id — every other parameter, and every field the endpoint's schema types
  as an ``Id`` (``discounts[][promotion_code]``) unless in ``NESTED_NOT_REFERENCES``, must
  be exercised as a slot by some valid request;
* ``NO_IDS``: endpoints that take no id at all, each with why.

Beside the matrix: every list holds only the merchant's own objects, names a merchant
chooses (coupon ids, promotion codes, lookup keys...) are per merchant, and so are
``Idempotency-Key`` values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import stripe
from sqlalchemy.engine import Engine

from portal_app.api.pipeline import Endpoint
from portal_app.api.portico_routes import endpoint as portico_endpoints
from portal_app.api.routes import endpoint as stripe_endpoints
from portal_app.api.schema import Array, Hash, Id, Map, nested
from portal_app.billing import meters, pauses
from portal_app.clock import FrozenClock, to_unix
from portal_app.db import UnitOfWork
from portal_app.retention import experiments
from tests.conftest import START
from tests.portal_app.api.test_portico_routes import PorticoServer
from tests.portal_app.isolation_world import (
    ID_SHAPE,
    MARKER,
    PUBLIC_TOKENS,
    Merchant,
    build_merchant,
    draft_first_invoice,
    fake_merchant,
    kind_of,
    missing_like,
    reopen_first_invoice,
    victim_merchant,
    watch,
)

ENDPOINTS: list[Endpoint] = [*stripe_endpoints.endpoints, *portico_endpoints.endpoints]

# The object a path's ``{id}`` names, by the collection segment before it (a world
# attribute of isolation_world.Merchant / Holder).
COLLECTION_KINDS = {
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "meters": "meter",
    "payment_methods": "payment_method",
    "coupons": "coupon",
    "promotion_codes": "promotion_code",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "payment_intents": "payment_intent",
    "subscription_schedules": "subscription_schedule",
    "configurations": "configuration",
    "offers": "offer",
    "experiments": "experiment",
    "retention_policies": "configuration",  # a configuration's policy
    "tax_ids": "tax_id",
    "setup_intents": "setup_intent",
    "mandates": "mandate",
    "payment_method_configurations": "payment_method_configuration",
    "test_clocks": "test_clock",
    "webhook_endpoints": "webhook_endpoint",
    "events": "event",
}

# Parameters that never carry an object id: plain values, and ids of nothing in Portico
# (on_behalf_of is a Stripe Connect account, stored as given). ``code``, ``id`` and
# ``identifier`` are names a merchant chooses when creating; ``card[token]`` is one of
# Stripe's public test tokens; ``expand`` names fields, not objects.
NOT_REFERENCES = frozenset({
    "active", "address", "allowed_return_origins", "amount_off", "automatic_tax",
    "billing_cycle_anchor", "billing_details", "business_profile", "cancel_at_period_end",
    "cancellation_details", "card", "code", "collection_method", "comment_required", "contact",
    "currency", "customer_mapping", "days_until_due", "default_aggregation",
    "default_return_url", "description", "display_name", "duration", "duration_in_months",
    "email", "end_behavior", "end_time", "event_name", "event_time_window", "expand",
    "expires_at", "headline", "holdout_percent", "id", "identifier", "invoice_now",
    "is_default", "limit", "locale", "login_page", "lookup_key", "max_redemptions", "metadata",
    "name", "nickname", "off_session", "on_behalf_of", "pause", "pause_collection",
    "payment_behavior", "percent_off", "phone", "preferred_locales", "preserve_cancel_date",
    "prorate", "proration_behavior", "proration_date", "product_data", "reasons", "restrictions",
    "return_url", "shipping", "start_date", "start_time", "status", "timestamp", "trial_end",
    "trial_extension", "trial_period_days", "type", "unit_amount", "unit_label",
    "value", "value_grouping_window", "value_settings", "tax_exempt",
    "frozen_time", "paid_out_of_band",
    # A subscription's cancel time (only "" is accepted: unset), invoice items' pending flag.
    "cancel_at", "pending",
    # Payment methods of every type (their nested details), setup intents' plain values.
    "acss_debit", "amazon_pay", "au_becs_debit", "bacs_debit", "cashapp", "kakao_pay",
    "kr_card", "link", "naver_pay", "nz_bank_account", "paypal", "revolut_pay", "samsung_pay",
    "sepa_debit", "us_bank_account", "allow_redisplay", "confirm", "usage",
    "payment_method_types", "payment_method_data", "mandate_data", "cancellation_reason",
    "client_secret",
    # Webhook endpoints and the events list: URLs, event types, times, flags.
    "url", "enabled_events", "api_version", "disabled", "types", "created",
    "delivery_success", "since",
})

# Parameters of one endpoint that carry no id there (why, in the comment).
ENDPOINT_NOT_REFERENCES: dict[tuple[str, str], frozenset[str]] = {
    # Filtering subscriptions by price is refused (400) whatever the price.
    ("GET", "/v1/subscriptions"): frozenset({"price"}),
    # Portico creates schedules from_subscription only: these are refused (400) with it.
    ("POST", "/v1/subscription_schedules"): frozenset({"customer", "phases"}),
    # Summaries are computed, not stored: their cursors are ids of this list only.
    ("GET", "/v1/billing/meters/{id}/event_summaries"): frozenset({"starting_after",
                                                                    "ending_before"}),
    # Pending invoice items are paged as one computed list: a cursor that is not an item of
    # it (another merchant's or none) is 404.
    ("GET", "/v1/invoiceitems"): frozenset({"starting_after", "ending_before"}),
}

# Ids (typed ``Id`` in an endpoint's schema) of nothing in Portico.
NESTED_NOT_REFERENCES = frozenset({
    # A Stripe payment method configuration (pmc_...): stored as given, never looked up.
    "features[payment_method_update][payment_method_configuration]",
})

# Endpoints that take no id at all: they create from plain values.
NO_IDS = {
    ("POST", "/v1/products"): "a product from a name",
    ("POST", "/v1/billing/meters"): "a meter from names and an aggregation",
    ("POST", "/v1/payment_methods"): "a card from a number or a public test token",
    ("POST", "/v1/coupons"): "a coupon from its terms (its id is chosen, not referenced)",
    ("POST", "/v1/test_helpers/test_clocks"): "a test clock from a time and a name",
    ("POST", "/v1/payment_method_configurations"): "a configuration from preferences",
    ("POST", "/v1/webhook_endpoints"): "an endpoint from a URL and event types",
}

Params = dict[str, Any]


@dataclass(frozen=True)
class Valid:
    """A valid request on merchant ``m``'s objects (``"{id}"``: the path id, if not the
    default), and what to do to ``m`` first so that it can succeed."""

    params: Callable[[Merchant], Params]
    before: Callable[[Merchant, Callable[[], UnitOfWork]], None] | None = None


def _pause(m: Merchant, make_uow: Callable[[], UnitOfWork]) -> None:
    pauses.pause_subscription(m.first.subscription, account_id=m.account_id, uow=make_uow())


def _deactivate(m: Merchant, make_uow: Callable[[], UnitOfWork]) -> None:
    meters.deactivate_meter(m.meter, account_id=m.account_id, uow=make_uow())


def _start(m: Merchant, make_uow: Callable[[], UnitOfWork]) -> None:
    experiments.start_experiment(m.experiment, account_id=m.account_id, uow=make_uow())


def _features(m: Merchant) -> Params:
    base = "features[subscription_update]"
    return {f"{base}[enabled]": "true", f"{base}[default_allowed_updates][0]": "price",
            f"{base}[products][0][product]": m.product,
            f"{base}[products][0][prices][0]": m.price,
            f"{base}[products][0][prices][1]": m.other_price}


def _flow(kind: str, **fields: str) -> Params:
    return {"flow_data[type]": kind,
            **{f"flow_data[{kind}]{key}": value for key, value in fields.items()}}


def _window() -> Params:
    day = timedelta(days=1)
    return {"start_time": str(to_unix(START.replace(hour=0) - day)),
            "end_time": str(to_unix(START.replace(hour=0) + day))}


# Valid requests of the endpoints that need more than their path id. Each id in them is
# a slot of the matrix.
VALID: dict[tuple[str, str], list[Valid]] = {
    ("POST", "/v1/customers"): [Valid(lambda m: {
        "payment_method": m.loose_payment_method,
        "invoice_settings[default_payment_method]": m.loose_payment_method}),
        Valid(lambda m: {"test_clock": m.test_clock})],
    ("POST", "/v1/customers/{id}"): [Valid(lambda m: {
        "invoice_settings[default_payment_method]": m.first.payment_method})],
    ("POST", "/v1/products"): [Valid(lambda m: {"name": "Isolation"})],
    ("POST", "/v1/products/{id}"): [Valid(lambda m: {"default_price": m.price})],
    ("POST", "/v1/prices"): [
        Valid(lambda m: {"product": m.product, "currency": "eur", "unit_amount": "700",
                         "recurring[interval]": "month"}),
        Valid(lambda m: {"product": m.product, "currency": "eur", "unit_amount": "1",
                         "recurring[interval]": "month", "recurring[usage_type]": "metered",
                         "recurring[meter]": m.meter})],
    ("GET", "/v1/prices"): [Valid(lambda m: {"product": m.product})],
    ("POST", "/v1/billing/meters"): [Valid(lambda m: {
        "display_name": "Isolation", "event_name": "isolation_calls",
        "default_aggregation[formula]": "sum"})],
    ("POST", "/v1/billing/meters/{id}/reactivate"): [
        Valid(lambda m: {}, before=_deactivate)],
    ("GET", "/v1/billing/meters/{id}/event_summaries"): [Valid(lambda m: {
        "customer": m.first.customer, **_window()})],
    ("POST", "/v1/billing/meter_events"): [Valid(lambda m: {
        "event_name": f"{m.name.lower()}_calls",
        "payload[stripe_customer_id]": m.first.customer, "payload[value]": "2"})],
    ("POST", "/v1/payment_methods"): [Valid(lambda m: {"type": "card",
                                                      "card[token]": "pm_card_visa"})],
    ("POST", "/v1/payment_methods/{id}/attach"): [Valid(lambda m: {
        "{id}": m.loose_payment_method, "customer": m.first.customer})],
    ("GET", "/v1/payment_methods"): [Valid(lambda m: {"customer": m.first.customer})],
    ("POST", "/v1/coupons"): [Valid(lambda m: {"percent_off": "5", "duration": "once"})],
    ("POST", "/v1/promotion_codes"): [
        Valid(lambda m: {"promotion[coupon]": m.coupon, "customer": m.first.customer}),
        Valid(lambda m: {"coupon": m.coupon})],
    ("GET", "/v1/promotion_codes"): [Valid(lambda m: {
        "coupon": m.coupon, "customer": m.first.customer, "code": m.promotion_code_code})],
    ("POST", "/v1/subscriptions"): [
        Valid(lambda m: {"customer": m.first.customer, "items[0][price]": m.price,
                         "default_payment_method": m.first.payment_method,
                         "coupon": m.coupon}),
        Valid(lambda m: {"customer": m.first.customer, "items[0][price]": m.price,
                         "discounts[0][coupon]": m.coupon}),
        Valid(lambda m: {"customer": m.first.customer, "items[0][price]": m.price,
                         "promotion_code": m.promotion_code}),
        Valid(lambda m: {"customer": m.first.customer, "items[0][price]": m.price,
                         "discounts[0][promotion_code]": m.promotion_code})],
    ("POST", "/v1/subscriptions/{id}"): [
        Valid(lambda m: {"items[0][id]": m.first.subscription_item,
                         "items[0][price]": m.other_price}),
        Valid(lambda m: {"default_payment_method": m.first.payment_method}),
        Valid(lambda m: {"discounts[0][coupon]": m.coupon}),
        Valid(lambda m: {"coupon": m.coupon}),
        Valid(lambda m: {"promotion_code": m.promotion_code}),
        Valid(lambda m: {"discounts[0][promotion_code]": m.promotion_code})],
    ("POST", "/v1/subscriptions/{id}/resume"): [Valid(lambda m: {}, before=_pause)],
    ("GET", "/v1/subscriptions"): [Valid(lambda m: {"customer": m.first.customer}),
                                   Valid(lambda m: {"test_clock": m.test_clock})],
    ("GET", "/v1/invoiceitems"): [Valid(lambda m: {"customer": m.first.customer,
                                                   "invoice": m.first.invoice,
                                                   "pending": "false"})],
    ("POST", "/v1/invoices/{id}/pay"): [Valid(lambda m: {
        "payment_method": m.first.payment_method}, before=reopen_first_invoice)],
    ("POST", "/v1/invoices/{id}/finalize"): [Valid(lambda m: {}, before=draft_first_invoice)],
    ("POST", "/v1/payment_intents/{id}/confirm"): [Valid(lambda m: {
        "payment_method": m.first.payment_method}, before=reopen_first_invoice)],
    ("POST", "/v1/invoices/{id}/void"): [Valid(lambda m: {}, before=reopen_first_invoice)],
    ("POST", "/v1/invoices/{id}/mark_uncollectible"): [Valid(lambda m: {}, before=reopen_first_invoice)],
    ("POST", "/v1/test_helpers/test_clocks"): [Valid(lambda m: {
        "frozen_time": str(to_unix(START))})],
    ("POST", "/v1/test_helpers/test_clocks/{id}/advance"): [Valid(lambda m: {
        "frozen_time": str(to_unix(START + timedelta(days=1)))})],
    ("GET", "/v1/invoices"): [Valid(lambda m: {"customer": m.first.customer,
                                               "subscription": m.first.subscription})],
    ("POST", "/v1/invoices/create_preview"): [
        Valid(lambda m: {"customer": m.first.customer}),
        Valid(lambda m: {"subscription": m.first.subscription,
                         "subscription_details[items][0][id]": m.first.subscription_item,
                         "subscription_details[items][0][price]": m.other_price}),
        Valid(lambda m: {"subscription": m.first.subscription,
                         "discounts[0][coupon]": m.coupon}),
        Valid(lambda m: {"subscription": m.first.subscription,
                         "discounts[0][promotion_code]": m.promotion_code})],
    ("POST", "/v1/subscription_schedules"): [Valid(lambda m: {
        "from_subscription": m.first.subscription})],
    ("POST", "/v1/subscription_schedules/{id}"): [Valid(lambda m: {
        "phases[0][items][0][price]": m.price, "phases[0][items][0][quantity]": "1",
        "phases[0][start_date]": "now", "phases[0][iterations]": "1",
        "phases[1][items][0][price]": m.other_price})],
    ("GET", "/v1/subscription_schedules"): [Valid(lambda m: {"customer": m.first.customer})],
    ("POST", "/v1/billing_portal/configurations"): [Valid(_features)],
    ("POST", "/v1/billing_portal/configurations/{id}"): [Valid(_features)],
    ("POST", "/v1/billing_portal/sessions"): [
        Valid(lambda m: {"customer": m.first.customer, "configuration": m.configuration}),
        Valid(lambda m: {"customer": m.first.customer, **_flow(
            "subscription_cancel", **{"[subscription]": m.first.subscription,
                                      "[retention][type]": "coupon_offer",
                                      "[retention][coupon_offer][coupon]": m.coupon})}),
        Valid(lambda m: {"customer": m.first.customer, **_flow(
            "subscription_update", **{"[subscription]": m.first.subscription})}),
        Valid(lambda m: {"customer": m.first.customer, **_flow(
            "subscription_pause", **{"[subscription]": m.first.subscription})}),
        Valid(lambda m: {"customer": m.first.customer, **_flow(
            "subscription_update_confirm",
            **{"[subscription]": m.first.subscription,
               "[items][0][id]": m.first.subscription_item,
               "[items][0][price]": m.other_price, "[discounts][0][coupon]": m.coupon})}),
        Valid(lambda m: {"customer": m.first.customer, **_flow(
            "subscription_update_confirm",
            **{"[subscription]": m.first.subscription,
               "[items][0][id]": m.first.subscription_item,
               "[discounts][0][promotion_code]": m.promotion_code})})],
    ("POST", "/v1/portico/offers"): [
        Valid(lambda m: {"type": "coupon", "name": "Isolation", "coupon[coupon]": m.coupon,
                         "eligibility[products][0]": m.product,
                         "eligibility[prices][0]": m.price}),
        Valid(lambda m: {"type": "price_change", "name": "Isolation",
                         "price_change[price]": m.other_price})],
    ("POST", "/v1/portico/offers/{id}"): [
        Valid(lambda m: {"coupon[coupon]": m.coupon, "eligibility[products][0]": m.product,
                         "eligibility[prices][0]": m.price}),
        Valid(lambda m: {"{id}": m.spare_offer, "price_change[price]": m.price})],
    ("DELETE", "/v1/portico/offers/{id}"): [Valid(lambda m: {"{id}": m.spare_offer})],
    ("POST", "/v1/portico/experiments"): [Valid(lambda m: {
        "configuration": m.configuration, "name": "Isolation",
        "variants[0][name]": "control", "variants[1][name]": "offer",
        "variants[1][offers][too_expensive]": m.offer,
        "segments[products][0]": m.product, "segments[prices][0]": m.price})],
    ("POST", "/v1/portico/experiments/{id}"): [Valid(lambda m: {
        "variants[0][name]": "control", "variants[1][name]": "offer",
        "variants[1][offers][too_expensive]": m.spare_offer,
        "segments[products][0]": m.product, "segments[prices][0]": m.price})],
    ("GET", "/v1/portico/experiments"): [Valid(lambda m: {"configuration": m.configuration})],
    ("POST", "/v1/portico/experiments/{id}/stop"): [Valid(lambda m: {}, before=_start)],
    ("POST", "/v1/portico/experiments/{id}/ship"): [Valid(lambda m: {"variant": m.variant},
                                                          before=_start)],
    ("POST", "/v1/portico/retention_policies/{id}"): [Valid(lambda m: {
        "offers[too_expensive]": m.spare_offer})],
    ("POST", "/v1/customers/{id}/tax_ids"): [Valid(lambda m: {"type": "us_ein",
                                                             "value": "98-7654321"})],
    ("GET", "/v1/customers/{id}/tax_ids/{tax_id}"): [Valid(lambda m: {
        "{tax_id}": m.first.tax_id})],
    ("DELETE", "/v1/customers/{id}/tax_ids/{tax_id}"): [Valid(lambda m: {
        "{tax_id}": m.first.tax_id})],
    ("GET", "/v1/customers/{id}/payment_methods/{payment_method}"): [Valid(lambda m: {
        "{payment_method}": m.first.payment_method})],
    ("POST", "/v1/setup_intents"): [Valid(lambda m: {
        "customer": m.first.customer, "payment_method": m.first.payment_method})],
    ("POST", "/v1/setup_intents/{id}/confirm"): [
        Valid(lambda m: {"{id}": m.first.open_setup_intent}),
        Valid(lambda m: {"{id}": m.first.open_setup_intent,
                         "payment_method": m.first.payment_method})],
    ("GET", "/v1/setup_intents"): [Valid(lambda m: {
        "customer": m.first.customer, "payment_method": m.first.payment_method})],
    ("POST", "/v1/webhook_endpoints"): [Valid(lambda m: {
        "url": "https://hooks.example.com/isolation", "enabled_events[0]": "*"})],
    ("POST", "/v1/webhook_endpoints/{id}/resend"): [
        Valid(lambda m: {"delivery": m.webhook_delivery}),
        Valid(lambda m: {"since": str(to_unix(START))})],
}


# --- the generator -----------------------------------------------------------------------


def _collection(path: str, *, before_id: bool) -> str | None:
    parts = [p for p in path.split("/") if p]
    if before_id:
        return parts[parts.index("{id}") - 1] if "{id}" in parts else None
    return parts[-1]


def _is_list(endpoint: Endpoint) -> bool:
    return endpoint.method == "GET" and "starting_after" in endpoint.params


def valid_requests(endpoint: Endpoint) -> list[Valid]:
    """The endpoint's valid requests: from VALID, else its path id alone; a list also
    pages from one of the merchant's objects (its cursor is an id too)."""
    key = (endpoint.method, endpoint.path)
    found = list(VALID.get(key, [Valid(lambda m: {})]))
    cursor_kind = COLLECTION_KINDS.get(_collection(endpoint.path, before_id=False) or "")
    not_refs = ENDPOINT_NOT_REFERENCES.get(key, frozenset())
    if _is_list(endpoint) and cursor_kind and "starting_after" not in not_refs:
        found += [Valid(lambda m, k=cursor_kind: {"starting_after": m.same_as(k)}),
                  Valid(lambda m, k=cursor_kind: {"ending_before": m.same_as(k)})]
    return found


def schema_ids(spec: Any, path: str = "") -> Iterator[str]:
    """The parameters an endpoint's schema types as ids (``items[][price]``; ``[*]``: a key
    of the caller's own, as in ``offers[too_expensive]``)."""
    if isinstance(spec, Id):
        yield path
    elif isinstance(spec, Hash):
        for name, inner in spec.fields.items():
            yield from schema_ids(inner, nested(path, name))
    elif isinstance(spec, Array):
        yield from schema_ids(spec.items, f"{path}[]")
    elif isinstance(spec, Map):
        yield from schema_ids(spec.values, f"{path}[*]")


def _matches(schema_path: str, slot: str) -> bool:
    pattern = re.escape(schema_path).replace(r"\[\]", r"\[\d+\]").replace(
        r"\[\*\]", r"\[[^\]]+\]")
    return re.fullmatch(pattern, slot) is not None


def path_kind(endpoint: Endpoint) -> str | None:
    collection = _collection(endpoint.path, before_id=True)
    return None if collection is None else COLLECTION_KINDS.get(collection)


@dataclass
class Call:
    """One request: the path id and the parameters (flat, Stripe's bracket keys)."""

    path_id: str | None
    params: Params = field(default_factory=dict)

    def url(self, endpoint: Endpoint) -> str:
        url = endpoint.path.replace("{id}", self.path_id or "")
        for name, value in self.params.items():  # a second path id: "{tax_id}"
            if name.startswith("{"):
                url = url.replace(name, str(value))
        return url

    def query(self) -> Params:
        """The parameters sent (the path ids go in the URL)."""
        return {k: v for k, v in self.params.items() if not k.startswith("{")}

    def slots(self) -> list[str]:
        """Where ids may go: ``{id}`` and every parameter."""
        return (["{id}"] if self.path_id is not None else []) + list(self.params)

    def get(self, slot: str) -> str:
        return str(self.path_id if slot == "{id}" else self.params[slot])

    def replaced(self, slot: str, value: str) -> Call:
        if slot == "{id}":
            return Call(value, dict(self.params))
        return Call(self.path_id, {**self.params, slot: value})


def call_on(endpoint: Endpoint, valid: Valid, m: Merchant) -> Call:
    params = dict(valid.params(m))
    path_id = params.pop("{id}", None)
    if path_id is None and "{id}" in endpoint.path:
        kind = path_kind(endpoint)
        assert kind is not None, f"{endpoint.method} {endpoint.path}: unknown collection"
        path_id = m.same_as(kind)
    return Call(path_id, params)


def id_slots(call: Call, m: Merchant) -> dict[str, str]:
    """Slot -> world attribute of each id in ``call``; an id-shaped value that is no object
    of the world fails (the matrix would not know what to replace it with)."""
    found = {}
    for slot in call.slots():
        value = call.get(slot)
        if value in m.ids:
            found[slot] = m.ids[value]
        else:
            assert not ID_SHAPE.match(value) or value in PUBLIC_TOKENS, (
                f"{slot}={value!r} looks like an id but is no object of the world: build "
                "it in isolation_world.build_merchant")
    return found


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]

    def normalized(self, *ids: str) -> str:
        text = json.dumps(self.body, sort_keys=True)
        for object_id in ids:
            text = text.replace(object_id, "<id>")
        return re.sub(r"req_[0-9A-Za-z]+", "<request>", text)


def send(client: stripe.StripeClient, endpoint: Endpoint, call: Call) -> Outcome:
    try:
        response = client.raw_request(endpoint.method.lower(), call.url(endpoint),
                                      **call.query())
    except stripe.StripeError as error:
        return Outcome(error.http_status or 0, error.json_body or {})
    return Outcome(response.code, json.loads(response.body))


def _name(endpoint: Endpoint) -> str:
    return f"{endpoint.method} {endpoint.path}"


CASES = [pytest.param(e, i, id=f"{_name(e)}#{i}")
         for e in ENDPOINTS for i in range(len(valid_requests(e)))]


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def victim(database: Engine) -> Merchant:
    """Merchant B: built once; every test checks that it stays as it is."""
    return victim_merchant(database)


@pytest.fixture(scope="module")
def reader(database: Engine) -> Merchant:
    """Merchant A for the tests that change nothing of it (GETs): built once."""
    clock = FrozenClock(START)
    return build_merchant(lambda: UnitOfWork(database, clock=clock), "Alpha", console=False)


@pytest.fixture
def actor(request: pytest.FixtureRequest, make_uow: Callable[[], UnitOfWork],
          reader: Merchant) -> Merchant:
    """Merchant A: fresh for a test whose valid request changes it, else the shared one."""
    spec = getattr(request.node, "callspec", None)
    if spec is not None and "endpoint" in spec.params:
        endpoint = spec.params["endpoint"]
        if endpoint.method == "GET" and valid_requests(endpoint)[spec.params["index"]].before \
                is None:
            return reader
    return build_merchant(make_uow, "Alpha", console=False)


@pytest.fixture(scope="module")
def server(database: Engine) -> Iterator[PorticoServer]:
    """The Stripe API and Portico's own, over HTTP."""
    server = PorticoServer(database)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sdk(server: PorticoServer, clock: FrozenClock
        ) -> Iterator[Callable[[Merchant], stripe.StripeClient]]:
    """A merchant's key in the SDK, pointed at the server (on this test's clock)."""
    server.clock.current = clock
    yield lambda m: stripe.StripeClient(m.api_key, base_addresses={"api": server.url},
                                        max_network_retries=0)
    server.clock.current = None


@pytest.fixture
def as_actor(sdk: Callable[[Merchant], stripe.StripeClient], actor: Merchant
             ) -> stripe.StripeClient:
    return sdk(actor)


# --- the matrix --------------------------------------------------------------------------


def test_every_endpoint_is_classified() -> None:
    """Each endpoint's path id, parameters and valid requests are known to the generator."""
    problems = []
    world = fake_merchant()
    for endpoint in ENDPOINTS:
        key = (endpoint.method, endpoint.path)
        if "{id}" in endpoint.path and path_kind(endpoint) is None:
            problems.append(f"{_name(endpoint)}: add its collection to COLLECTION_KINDS")
            continue
        all_slots: set[str] = set()
        for valid in valid_requests(endpoint):
            all_slots |= set(id_slots(call_on(endpoint, valid, world), world))
        covered = {re.sub(r"\[.*", "", slot) for slot in all_slots}
        if not covered and key not in NO_IDS:
            problems.append(f"{_name(endpoint)}: takes no id? list it in NO_IDS (with why) "
                            "or give a valid request with its ids in VALID")
        exempt = NOT_REFERENCES | ENDPOINT_NOT_REFERENCES.get(key, frozenset())
        for param in sorted(set(endpoint.params) - exempt - covered - {"{id}"}):
            problems.append(f"{_name(endpoint)}: parameter {param!r} may carry an id: use it "
                            "in a VALID request, or add it to NOT_REFERENCES (with why)")
        for path in schema_ids(endpoint.schema):
            if re.sub(r"\[.*", "", path) in exempt or path in NESTED_NOT_REFERENCES:
                continue
            if not any(_matches(path, slot) for slot in all_slots):
                problems.append(f"{_name(endpoint)}: {path} is an id: use it in a VALID "
                                "request, or add it to NESTED_NOT_REFERENCES (with why)")
    for key in [*VALID, *NO_IDS, *ENDPOINT_NOT_REFERENCES]:
        if not any((e.method, e.path) == key for e in ENDPOINTS):
            problems.append(f"{key}: no such endpoint any more")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("endpoint", "index"), CASES)
def test_another_merchants_ids_are_missing(
        endpoint: Endpoint, index: int, actor: Merchant, victim: Merchant,
        as_actor: stripe.StripeClient, database: Engine,
        make_uow: Callable[[], UnitOfWork]) -> None:
    """A's request with one of B's ids in any slot: what an unknown id gets; nothing moves."""
    valid = valid_requests(endpoint)[index]
    if valid.before is not None:
        valid.before(actor, make_uow)
    own = call_on(endpoint, valid, actor)
    slots = id_slots(own, actor)
    for slot, attribute in slots.items():
        theirs = victim.same_as(attribute)
        nobody = missing_like(theirs)
        differences = watch(database, actor.account_id, [victim.account_id])
        foreign = send(as_actor, endpoint, own.replaced(slot, theirs))
        assert differences() == {}, f"{slot}={kind_of(attribute)} of B changed rows"
        missing = send(as_actor, endpoint, own.replaced(slot, nobody))
        where = f"{_name(endpoint)} with B's {kind_of(attribute)} in {slot}"
        assert foreign.normalized(theirs) == missing.normalized(nobody), where
        assert MARKER not in json.dumps(foreign.body), where
        if foreign.status == 200:  # a filter that names nobody: the same empty list
            assert endpoint.method == "GET" and foreign.body.get("data") == [], where
        else:
            assert foreign.status == 404, (where, foreign)
            assert foreign.body["error"]["code"] == "resource_missing", (where, foreign)
            assert foreign.body["error"]["type"] == "invalid_request_error", where
    done = send(as_actor, endpoint, own)
    assert done.status == 200, (f"the valid request of {_name(endpoint)} failed: fix VALID",
                                done)
    assert MARKER not in json.dumps(done.body)


def test_lists_show_only_the_merchants_own_objects(
        reader: Merchant, victim: Merchant, sdk: Callable[[Merchant], stripe.StripeClient]
) -> None:
    """Every list, unfiltered, holds none of B's objects."""
    for endpoint in ENDPOINTS:
        if not _is_list(endpoint) or "{id}" in endpoint.path:
            continue
        outcome = send(sdk(reader), endpoint, Call(None, {"limit": "100"}))
        assert outcome.status == 200, (_name(endpoint), outcome)
        text = json.dumps(outcome.body)
        assert MARKER not in text and not [i for i in victim.ids if i in text], \
            _name(endpoint)


# Names a merchant chooses when creating (its own namespace): the victim's value, taken
# by the actor, must work as if the victim had never used it — "already exists" would
# tell A what B has.
CHOSEN_NAMES = {
    ("POST", "/v1/coupons"): lambda b: {"id": b.coupon},
    ("POST", "/v1/promotion_codes"): lambda b: {"code": b.promotion_code_code},
    ("POST", "/v1/billing/meters"): lambda b: {"event_name": f"{b.name.lower()}_calls"},
    ("POST", "/v1/billing/meter_events"): lambda b: {"identifier": f"{b.name.lower()}-usage-1"},
    ("POST", "/v1/prices"): lambda b: {"lookup_key": f"{b.name.lower()}_monthly"},
}


@pytest.mark.parametrize("key", list(CHOSEN_NAMES), ids=" ".join)
def test_names_a_merchant_chooses_are_its_own(
        key: tuple[str, str], actor: Merchant, victim: Merchant, as_actor: stripe.StripeClient,
        database: Engine) -> None:
    """A creates with a name (id, code, lookup key...) that B uses: as if B did not exist."""
    endpoint = next(e for e in ENDPOINTS if (e.method, e.path) == key)
    call = call_on(endpoint, valid_requests(endpoint)[0], actor)
    chosen = CHOSEN_NAMES[key](victim)
    differences = watch(database, victim.account_id, [])
    done = send(as_actor, endpoint, Call(call.path_id, {**call.params, **chosen}))
    assert differences() == {}, "B changed"
    assert done.status == 200, done
    assert MARKER not in json.dumps(done.body)


def test_idempotency_keys_are_per_merchant(
        sdk: Callable[[Merchant], stripe.StripeClient], actor: Merchant, victim: Merchant,
        as_actor: stripe.StripeClient, database: Engine) -> None:
    """A's request with the Idempotency-Key of one of B's requests is A's own, not a replay."""
    as_victim = sdk(victim)
    key = f"isolation-{actor.account_id}"
    theirs = as_victim.v1.customers.create({"name": f"{MARKER} idempotent"},
                                           {"idempotency_key": key})
    differences = watch(database, victim.account_id, [])
    mine = as_actor.v1.customers.create({"name": "Alpha idempotent"}, {"idempotency_key": key})
    assert differences() == {}
    assert mine.id != theirs.id and mine.name == "Alpha idempotent"
    assert mine.last_response.headers.get("Idempotent-Replayed") is None
