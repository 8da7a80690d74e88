"""``/v1/payment_methods``: tokenize test cards, attach them, list them."""

from __future__ import annotations

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
from portal_app.api.schema import Hash, Id, Metadata, Str
from portal_app.billing import payment_methods
from portal_app.billing.models import Customer, PaymentMethod
from portal_app.billing.objects import render_payment_method

endpoint = Registry()


_CARD = ("number", "exp_month", "exp_year", "cvc", "token")
_BILLING_DETAILS = ("address", "email", "name", "phone")


@endpoint("POST", "/v1/payment_methods",
          params={"type": Str(max_length=100),
                  "card": Hash({key: Str(max_length=100) for key in _CARD}),
                  "billing_details": Hash({
                      "address": Hash({key: Str(max_length=200) for key in ADDRESS_FIELDS}),
                      "email": Str(max_length=512), "name": Str(max_length=256),
                      "phone": Str(max_length=20)}),
                  "metadata": Metadata()},
          required=("type",))
def create_payment_method(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    card = to_dict(p.get("card", {}), "card")
    refuse_unknown(card, _CARD, prefix="card")
    given = to_dict(p.get("billing_details", {}), "billing_details")
    refuse_unknown(given, _BILLING_DETAILS, prefix="billing_details")
    details: dict[str, Any] = {}
    for key in ("email", "name", "phone"):
        if key in given:
            details[key] = to_str(given[key], f"billing_details[{key}]") or None
    if "address" in given:
        details["address"] = to_address(given["address"], "billing_details[address]")
    pm = payment_methods.create_payment_method(
        account_id=req.account_id, uow=req.uow, type=to_str(required(p, "type"), "type"),
        card={k: to_str(v, f"card[{k}]") for k, v in card.items()} or None,
        billing_details=details, metadata=to_metadata(p.get("metadata", {})))
    return render_payment_method(pm)


@endpoint("GET", "/v1/payment_methods/{id}")
def retrieve_payment_method(req: ApiRequest) -> dict[str, Any]:
    return render_payment_method(req.uow.get(PaymentMethod, req.id(),
                                             account_id=req.account_id,
                                             label="PaymentMethod"))


@endpoint("POST", "/v1/payment_methods/{id}/attach", params={"customer": Id()},
          required=("customer",))
def attach_payment_method(req: ApiRequest) -> dict[str, Any]:
    pm = payment_methods.attach_payment_method(
        req.id(), customer_id=to_str(required(req.params, "customer"), "customer"),
        account_id=req.account_id, uow=req.uow)
    return render_payment_method(pm)


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
