"""``/v1/customers``: create, retrieve, update and list customers, and their payment methods."""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import (
    ADDRESS_FIELDS,
    optional_str,
    refuse_unknown,
    to_address,
    to_dict,
    to_list,
    to_metadata,
    to_shipping,
    to_str,
)
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Array, Hash, Id, Metadata, Spec, Str
from portal_app.billing import customers, payment_methods
from portal_app.billing.models import Customer, PaymentMethod
from portal_app.billing.objects import render_customer, render_payment_method

endpoint = Registry()


_ADDRESS = Hash({key: Str(max_length=200) for key in ADDRESS_FIELDS})
_CUSTOMER_PARAMS: dict[str, Spec] = {
    "email": Str(max_length=512), "name": Str(max_length=256), "phone": Str(max_length=20),
    "description": Str(), "address": _ADDRESS,
    "shipping": Hash({"address": _ADDRESS, "name": Str(max_length=256),
                      "phone": Str(max_length=20)}, required=("address", "name")),
    "preferred_locales": Array(Str(max_length=20), max_items=10),
    "metadata": Metadata(),
    "invoice_settings": Hash({"default_payment_method": Id()}),
}


def _customer_fields(params: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("email", "name", "phone", "description"):
        if name in params:
            fields[name] = to_str(params[name], name)
    if "address" in params:
        fields["address"] = to_address(params["address"], "address")
    if "shipping" in params:
        fields["shipping"] = to_shipping(params["shipping"], "shipping")
    if "preferred_locales" in params:
        fields["preferred_locales"] = [
            to_str(v, f"preferred_locales[{i}]")
            for i, v in enumerate(to_list(params["preferred_locales"], "preferred_locales"))]
    return fields


def _default_payment_method(params: dict[str, Any]) -> str | None:
    if "invoice_settings" not in params:
        return None
    settings = to_dict(params["invoice_settings"], "invoice_settings")
    refuse_unknown(settings, ("default_payment_method",), prefix="invoice_settings")
    if "default_payment_method" not in settings:
        return None
    return to_str(settings["default_payment_method"],
                  "invoice_settings[default_payment_method]")


@endpoint("POST", "/v1/customers",
          params={**_CUSTOMER_PARAMS, "payment_method": Id(), "test_clock": Id()})
def create_customer(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    fields = _customer_fields(p)
    customer = customers.create_customer(
        account_id=req.account_id, uow=req.uow, **fields,
        metadata=to_metadata(p.get("metadata", {})),
        payment_method=optional_str(p, "payment_method"),
        default_payment_method=_default_payment_method(p) or None,
        test_clock=optional_str(p, "test_clock") or None)
    return render_customer(customer)


@endpoint("GET", "/v1/customers/{id}")
def retrieve_customer(req: ApiRequest) -> dict[str, Any]:
    return render_customer(req.uow.get(Customer, req.id(), account_id=req.account_id,
                                       label="customer"))


@endpoint("POST", "/v1/customers/{id}",
          params={**_CUSTOMER_PARAMS, "tax_exempt": Str(enum=customers.TAX_EXEMPT_VALUES)})
def update_customer(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    if "tax_exempt" in p:
        fields = {**_customer_fields(p), "tax_exempt": to_str(p["tax_exempt"], "tax_exempt")}
    else:
        fields = _customer_fields(p)
    customer = customers.update_customer(
        req.id(), account_id=req.account_id, uow=req.uow, **fields,
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None,
        default_payment_method=_default_payment_method(p))
    return render_customer(customer)


@endpoint("GET", "/v1/customers", params={**PAGE_PARAMS, "email": Str(max_length=512)})
def list_customers(req: ApiRequest) -> dict[str, Any]:
    return paginate_request(req, Customer, url="/v1/customers", label="customer",
                            render=lambda row, _s: render_customer(row),
                            filters={"email": optional_str(req.params, "email")})


@endpoint("GET", "/v1/customers/{id}/payment_methods",
          params={**PAGE_PARAMS, "type": Str(max_length=100)})
def list_customer_payment_methods(req: ApiRequest) -> dict[str, Any]:
    customer = req.uow.get(Customer, req.id(), account_id=req.account_id, param="customer",
                           label="customer")
    return paginate_request(
        req, PaymentMethod, url=f"/v1/customers/{customer.id}/payment_methods",
        label="PaymentMethod", render=lambda row, _s: render_payment_method(row),
        filters={"customer_id": customer.id, "type": optional_str(req.params, "type")})


@endpoint("GET", "/v1/customers/{id}/payment_methods/{payment_method}")
def retrieve_customer_payment_method(req: ApiRequest) -> dict[str, Any]:
    customer = req.uow.get(Customer, req.id(), account_id=req.account_id, param="customer",
                           label="customer")
    return render_payment_method(payment_methods.retrieve_payment_method(
        req.id("payment_method"), account_id=req.account_id, uow=req.uow,
        customer_id=customer.id))
