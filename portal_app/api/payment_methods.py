"""``/v1/payment_methods``: create every type, retrieve, update, list, attach, detach."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal_app.api.forms import (
    ADDRESS_FIELDS,
    optional_str,
    refuse_unknown,
    required,
    to_address,
    to_dict,
    to_metadata,
    to_str,
)
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Hash, Id, Metadata, Spec, Str
from portal_app.billing import payment_methods
from portal_app.billing.models import Customer, PaymentMethod
from portal_app.billing.payment_method_types import PAYMENT_METHOD_TYPES, TYPE_PARAMS
from portal_app.billing.payment_objects import render_payment_method
from portal_app.errors import InvalidRequest

endpoint = Registry()

_BILLING_DETAILS = ("address", "email", "name", "phone")
BILLING_DETAILS = Hash({
    "address": Hash({key: Str(max_length=200) for key in ADDRESS_FIELDS}),
    "email": Str(max_length=512), "name": Str(max_length=256), "phone": Str(max_length=20)})
ALLOW_REDISPLAY = Str(enum=("always", "limited", "unspecified"))


def _type_spec(type: str) -> Hash:
    fields: dict[str, Spec] = {key: Str(max_length=100) for key in TYPE_PARAMS[type]}
    if "networks" in fields:
        fields["networks"] = Hash({"preferred": Str(max_length=40)})
    return Hash(fields)


# Each type's nested parameters, as Stripe's ``payment_methods.create`` takes them.
TYPE_SPECS: dict[str, Spec] = {type: _type_spec(type) for type in PAYMENT_METHOD_TYPES}


def billing_details(value: Any, param: str = "billing_details") -> dict[str, Any]:
    """Stripe's ``billing_details`` hash (the fields given; ``""`` clears one)."""
    given = to_dict(value, param)
    refuse_unknown(given, _BILLING_DETAILS, prefix=param)
    details: dict[str, Any] = {}
    for key in ("email", "name", "phone"):
        if key in given:
            details[key] = to_str(given[key], f"{param}[{key}]") or None
    if "address" in given:
        details["address"] = to_address(given["address"], f"{param}[address]")
    return details


def method_params(params: Mapping[str, Any], type: str) -> dict[str, Any]:
    """The nested parameters of ``type`` (a type's hash given for another type is refused).

    Raises InvalidRequest.
    """
    for other in PAYMENT_METHOD_TYPES:
        if other != type and other in params:
            raise InvalidRequest(f"You passed `{other}` but the payment method type is "
                                 f"`{type}`.", param=other)
    return to_dict(params.get(type, {}), type)


@endpoint("POST", "/v1/payment_methods",
          params={"type": Str(max_length=100), **TYPE_SPECS,
                  "billing_details": BILLING_DETAILS, "metadata": Metadata(),
                  "allow_redisplay": ALLOW_REDISPLAY},
          required=("type",))
def create_payment_method(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    type = to_str(required(p, "type"), "type")
    nested = method_params(p, type)
    pm = payment_methods.create_payment_method(
        account_id=req.account_id, uow=req.uow, type=type,
        card=nested if type == "card" else None,
        method_params=nested if type != "card" else None,
        billing_details=billing_details(p.get("billing_details", {})),
        metadata=to_metadata(p.get("metadata", {})),
        allow_redisplay=optional_str(p, "allow_redisplay"))
    return render_payment_method(pm)


@endpoint("GET", "/v1/payment_methods/{id}")
def retrieve_payment_method(req: ApiRequest) -> dict[str, Any]:
    return render_payment_method(req.uow.get(PaymentMethod, req.id(),
                                             account_id=req.account_id,
                                             label="PaymentMethod"))


@endpoint("POST", "/v1/payment_methods/{id}",
          params={"billing_details": BILLING_DETAILS, "metadata": Metadata(),
                  "card": Hash({"exp_month": Str(max_length=4), "exp_year": Str(max_length=4)}),
                  "allow_redisplay": ALLOW_REDISPLAY})
def update_payment_method(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    pm = payment_methods.update_payment_method(
        req.id(), account_id=req.account_id, uow=req.uow,
        billing_details=billing_details(p["billing_details"])
        if "billing_details" in p else None,
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None,
        card=to_dict(p["card"], "card") if "card" in p else None,
        allow_redisplay=optional_str(p, "allow_redisplay"))
    return render_payment_method(pm)


@endpoint("POST", "/v1/payment_methods/{id}/attach", params={"customer": Id()},
          required=("customer",))
def attach_payment_method(req: ApiRequest) -> dict[str, Any]:
    pm = payment_methods.attach_payment_method(
        req.id(), customer_id=to_str(required(req.params, "customer"), "customer"),
        account_id=req.account_id, uow=req.uow)
    return render_payment_method(pm)


@endpoint("POST", "/v1/payment_methods/{id}/detach")
def detach_payment_method(req: ApiRequest) -> dict[str, Any]:
    return render_payment_method(payment_methods.detach_payment_method(
        req.id(), account_id=req.account_id, uow=req.uow))


@endpoint("GET", "/v1/payment_methods",
          params={**PAGE_PARAMS, "customer": Id(), "type": Str(max_length=100)})
def list_payment_methods(req: ApiRequest) -> dict[str, Any]:
    customer = optional_str(req.params, "customer")
    if customer:
        req.uow.get(Customer, customer, account_id=req.account_id, param="customer",
                    label="customer")
    return paginate_request(
        req, PaymentMethod, url="/v1/payment_methods", label="PaymentMethod",
        render=lambda row, _s: render_payment_method(row),
        filters={"customer_id": customer, "type": optional_str(req.params, "type")})
