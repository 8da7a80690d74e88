"""A test-only layer in front of localstripe's aiohttp app: the current API's calls where
localstripe's 2017-2019 API has an exact equivalent.

localstripe (PyPI 1.15, /work/shared/LOCALSTRIPE.md) predates prices and some test
tokens. The Stripe-backed provider speaks the current API and is not bent for it;
instead this module, loaded into localstripe's own process
(``start_process(shim="tests.localstripe_shim")``), answers those calls by calling
localstripe's own resource classes, so every object still lives, and every rule is still
checked, in localstripe. Each mapping is exact (what the current API documents as the
same object or call); anything that is not stays missing, and the contract suite skips
the tests needing it (``tests/portal_app/billing/contract/on_localstripe.py``).

The mappings, one per gap:

* localstripe lacks ``POST /v1/prices``; the shim maps it to ``POST /v1/plans`` (product,
  ``unit_amount`` → amount, currency, ``recurring[interval]``, ``recurring[interval_count]``,
  ``recurring[usage_type]``, nickname, metadata) with a ``price_`` id, as Stripe itself
  serves every recurring price as a plan of the same id. A price without ``recurring``
  (one-time) has no plan: 400, as before.
* localstripe lacks ``GET /v1/prices/{id}`` and ``GET /v1/prices``; the shim maps them to
  the plan (``GET /v1/plans/{id}``, ``GET /v1/plans`` with product and active) rendered as
  a price: id, product, currency, ``unit_amount`` = amount, active, nickname, metadata,
  ``type: recurring`` and ``recurring`` {interval, interval_count, usage_type,
  trial_period_days}.
* localstripe lacks ``price`` on subscription items; the shim maps ``items[][price]`` on
  ``POST /v1/subscriptions`` to ``items[][plan]``, and every plan in an answer (items,
  ``subscription.plan``, invoice lines) gains its ``price`` beside it: the same plan
  rendered as a price, as Stripe answers both.
* localstripe lacks ``limit`` and ``starting_after`` on ``GET /v1/customers/{id}/tax_ids``
  (400 "Unexpected limit"); the shim pages the customer's tax IDs with them, as its other
  lists do.
* localstripe lacks ``GET /v1/customers/{id}/payment_methods[/{pm}]`` (404); the shim
  maps the list to the customer's payment methods (``GET /v1/payment_methods`` with
  ``customer``, every type, newest first as Stripe lists them, paged by ``limit`` and
  ``starting_after``) and one of them to ``GET /v1/payment_methods/{pm}`` when it is
  attached to that customer (404 otherwise, as Stripe answers).
* localstripe lacks clearing a customer's ``invoice_settings[default_payment_method]``
  when that payment method is detached; the shim clears it on
  ``POST /v1/payment_methods/{id}/detach``, as Stripe does.
* localstripe lacks the test tokens ``pm_card_amex`` and ``pm_card_mastercard`` (it knows
  ``pm_card_visa`` and two declining tokens), and keeps a token given as a customer's
  ``invoice_settings[default_payment_method]`` as it is, where Stripe stores the new
  card's ``pm_`` id; the shim maps each test token a customer or subscription create
  names to one new card made first (localstripe's own for the tokens it knows) and
  passes that card's id wherever the request named the token; a shim token's
  ``POST /v1/payment_methods/{token}/attach`` attaches a new card of its own. The shim's
  cards are made through localstripe's own payment-method constructor, then given
  Stripe's test number, brand and last4 (localstripe calls every card ``visa``): Amex
  378282246310005, ``0005``; Mastercard 5555555555554444, ``4444``. localstripe only takes
  16-digit numbers, so the Amex card is built with one none of its decline lists holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import (
    Customer,
    List,
    PaymentMethod,
    Plan,
    Subscription,
    random_id,
    store,
)
from localstripe.server import get_post_data, json_response, unflatten_data

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The test tokens localstripe lacks: Stripe's test number and brand behind each.
SHIM_TOKENS = {"pm_card_amex": ("378282246310005", "amex"),
               "pm_card_mastercard": ("5555555555554444", "mastercard")}
# What a shorter (Amex) card is built with: localstripe takes 16-digit numbers only; this
# one is on none of its decline lists. The card is then given its own number.
SIXTEEN_DIGITS = "4242424242424242"


def install(app: web.Application) -> None:
    """Put the shim in front of localstripe's ``app`` (before it starts serving)."""
    app.router.add_post("/v1/prices", create_price)
    app.router.add_get("/v1/prices/{id}", retrieve_price)
    app.router.add_get("/v1/prices", list_prices)
    app.middlewares.append(rewrite)


# --- prices are plans -------------------------------------------------------------------

def as_price(plan: dict[str, Any]) -> dict[str, Any]:
    """An exported plan rendered as the price of the same id."""
    return {
        "id": plan["id"], "object": "price", "active": plan["active"],
        "billing_scheme": plan["billing_scheme"], "created": plan["created"],
        "currency": plan["currency"], "livemode": plan["livemode"], "lookup_key": None,
        "metadata": plan["metadata"], "nickname": plan["nickname"],
        "product": plan["product"], "tax_behavior": "unspecified",
        "tiers_mode": plan["tiers_mode"], "transform_quantity": None, "type": "recurring",
        "unit_amount": plan["amount"], "unit_amount_decimal": str(plan["amount"]),
        "recurring": {"interval": plan["interval"], "interval_count": plan["interval_count"],
                      "usage_type": plan["usage_type"], "meter": None,
                      "aggregate_usage": None,
                      "trial_period_days": plan["trial_period_days"]},
    }


async def create_price(request: web.Request) -> web.Response:
    """``POST /v1/prices`` as ``POST /v1/plans`` with a ``price_`` id."""
    data = dict(await get_post_data(request) or {})
    recurring = data.pop("recurring", None)
    if not isinstance(recurring, dict):
        raise UserError(400, "Bad request")  # a one-time price has no plan
    plan = Plan._api_create(
        id="price_" + random_id(14), amount=data.pop("unit_amount", None),
        product=data.pop("product", None), currency=data.pop("currency", None),
        interval=recurring.get("interval"),
        interval_count=recurring.get("interval_count", 1),
        usage_type=recurring.get("usage_type", "licensed"), **data)
    return json_response(as_price(plan._export()))


async def retrieve_price(request: web.Request) -> web.Response:
    """``GET /v1/prices/{id}`` as the plan of that id."""
    return json_response(as_price(Plan._api_retrieve(request.match_info["id"])._export()))


async def list_prices(request: web.Request) -> web.Response:
    """``GET /v1/prices`` as ``GET /v1/plans`` (product, active), each plan as a price."""
    data = unflatten_data(request.query)
    page = Plan._api_list_all("/v1/prices", **data)._export()
    page["data"] = [as_price(plan) for plan in page["data"]]
    return json_response(page)


def with_prices(value: Any) -> Any:
    """``value`` (an exported answer) with each plan's price beside it."""
    if isinstance(value, list):
        return [with_prices(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: with_prices(item) for key, item in value.items()}
    plan = out.get("plan")
    if isinstance(plan, dict) and plan.get("object") == "plan" and "price" not in out:
        out["price"] = as_price(plan)
    return out


# --- requests that name what localstripe lacks ------------------------------------------

def shim_card(token: str) -> str:
    """A new card with the test number and brand Stripe gives ``token`` (SHIM_TOKENS)."""
    number, brand = SHIM_TOKENS[token]
    card = PaymentMethod(type="card", card={
        "number": number if len(number) == 16 else SIXTEEN_DIGITS, "exp_month": "12",
        "exp_year": "2030", "cvc": "123"})
    card._card_number = number
    card.card.update(brand=brand, country="US", last4=number[-4:])
    return str(card.id)


def test_card(token: str) -> str:
    """A new card for a test token: localstripe's own, or the shim's."""
    if token in SHIM_TOKENS:
        return shim_card(token)
    return str(PaymentMethod._try_get_canonical_test_article(token).id)


# The test tokens localstripe itself turns into cards (PaymentMethod._api_retrieve).
LOCALSTRIPE_TOKENS = ("pm_card_visa", "pm_card_visa_chargeDeclined", "pm_card_chargeCustomerFail")


def without_test_tokens(value: Any, cards: dict[str, str]) -> Any:
    """``value`` with each test token replaced by its card (``cards``: one per token)."""
    if isinstance(value, str) and (value in SHIM_TOKENS or value in LOCALSTRIPE_TOKENS):
        if value not in cards:
            cards[value] = test_card(value)
        return cards[value]
    if isinstance(value, list):
        return [without_test_tokens(item, cards) for item in value]
    if isinstance(value, dict):
        return {key: without_test_tokens(item, cards) for key, item in value.items()}
    return value


async def create_customer(data: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/customers``, each test token made a card first."""
    data = without_test_tokens(data, {})
    expand = data.pop("expand", None)
    return dict(Customer._api_create(**data)._export(expand=expand))


async def create_subscription(data: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/subscriptions``, ``items[][price]`` as ``items[][plan]``."""
    data = without_test_tokens(data, {})
    items = data.get("items")
    if isinstance(items, list):
        data["items"] = [{("plan" if key == "price" else key): item for key, item in
                          entry.items()} if isinstance(entry, dict) else entry
                         for entry in items]
    expand = data.pop("expand", None)
    return dict(Subscription._api_create(**data)._export(expand=expand))


def list_tax_ids(request: web.Request, customer_id: str) -> web.Response:
    """``GET /v1/customers/{id}/tax_ids`` paged by ``limit`` and ``starting_after``."""
    data = unflatten_data(request.query)
    page = List(request.path, limit=data.pop("limit", None),
                starting_after=data.pop("starting_after", None))
    page._list = list(Customer._api_list_tax_ids(customer_id, **data)._list)
    return json_response(page._export())


TAX_IDS = re.compile(r"^/v1/customers/(cus_\w+)/tax_ids$")


def list_payment_methods(request: web.Request, customer_id: str) -> web.Response:
    """``GET /v1/customers/{id}/payment_methods``: its payment methods, newest first."""
    data = unflatten_data(request.query)
    Customer._api_retrieve(customer_id)  # 404 for a missing customer
    page = List(request.path, limit=data.get("limit"), starting_after=data.get("starting_after"))
    kind = data.get("type")
    page._list = [obj for obj in reversed(list(store.values()))
                  if isinstance(obj, PaymentMethod) and obj.customer == customer_id
                  and kind in (None, obj.type)]
    return json_response(page._export())


def retrieve_payment_method(customer_id: str, payment_method_id: str) -> web.Response:
    """``GET /v1/customers/{id}/payment_methods/{pm}``: 404 unless it is attached there."""
    Customer._api_retrieve(customer_id)
    found = PaymentMethod._api_retrieve(payment_method_id)
    if getattr(found, "customer", None) != customer_id:
        raise UserError(404, "Not Found")
    return json_response(found._export())


async def detach_payment_method(request: web.Request, payment_method_id: str) -> web.Response:
    """``POST /v1/payment_methods/{id}/detach``, its customer's default cleared if it was."""
    data = dict(await get_post_data(request) or {})
    expand = data.pop("expand", None)
    owner = getattr(PaymentMethod._api_retrieve(payment_method_id), "customer", None)
    detached = PaymentMethod._api_detach(payment_method_id, **data)
    if owner is not None:
        customer = Customer._api_retrieve(owner)
        if customer.invoice_settings.get("default_payment_method") == payment_method_id:
            customer.invoice_settings["default_payment_method"] = None
    return json_response(detached._export(expand=expand))


async def attach_test_token(request: web.Request, token: str) -> web.Response:
    """``POST /v1/payment_methods/{token}/attach`` of a shim token: its card, attached."""
    data = dict(await get_post_data(request) or {})
    expand = data.pop("expand", None)
    return json_response(PaymentMethod._api_attach(shim_card(token), **data)
                         ._export(expand=expand))


ATTACH = re.compile(r"^/v1/payment_methods/(\w+)/attach$")
DETACH = re.compile(r"^/v1/payment_methods/(\w+)/detach$")
PAYMENT_METHODS = re.compile(r"^/v1/customers/(cus_\w+)/payment_methods(?:/(\w+))?$")

REWRITTEN: dict[tuple[str, str], Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    ("POST", "/v1/customers"): create_customer,
    ("POST", "/v1/subscriptions"): create_subscription,
}


@web.middleware
async def rewrite(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Requests naming what localstripe lacks rewritten; each plan answered with its price."""
    tax_ids = TAX_IDS.match(request.path)
    if request.method == "GET" and tax_ids:
        return list_tax_ids(request, tax_ids.group(1))
    payment_methods = PAYMENT_METHODS.match(request.path)
    if request.method == "GET" and payment_methods:
        customer_id, payment_method_id = payment_methods.groups()
        if payment_method_id is None:
            return list_payment_methods(request, customer_id)
        return retrieve_payment_method(customer_id, payment_method_id)
    attach = ATTACH.match(request.path)
    if request.method == "POST" and attach and attach.group(1) in SHIM_TOKENS:
        return await attach_test_token(request, attach.group(1))
    detach = DETACH.match(request.path)
    if request.method == "POST" and detach:
        return await detach_payment_method(request, detach.group(1))
    shimmed = REWRITTEN.get((request.method, request.path))
    if shimmed is not None:
        return json_response(with_prices(await shimmed(dict(await get_post_data(request)
                                                            or {}))))
    response = await handler(request)
    if not isinstance(response, web.Response) or response.content_type != "application/json":
        return response
    body = response.body
    if not isinstance(body, bytes) or b'"plan"' not in body:
        return response
    return json_response(with_prices(json.loads(body)), status=response.status)
