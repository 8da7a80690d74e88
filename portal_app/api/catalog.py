"""``/v1/products`` and ``/v1/prices``: the catalog."""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import (
    optional_str,
    refuse_unknown,
    required,
    to_amount,
    to_bool,
    to_dict,
    to_int,
    to_metadata,
    to_str,
)
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Amount, Bool, Hash, Id, Int, Metadata, Str
from portal_app.billing import catalog
from portal_app.billing.models import Price, Product
from portal_app.billing.objects import render_price, render_product
from portal_app.errors import InvalidRequest

endpoint = Registry()


_PRODUCT = {"name": Str(), "description": Str(max_length=40000), "active": Bool(),
            "unit_label": Str(max_length=12), "metadata": Metadata()}


@endpoint("POST", "/v1/products", params=_PRODUCT, required=("name",))
def create_product(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    product = catalog.create_product(
        account_id=req.account_id, uow=req.uow, name=to_str(required(p, "name"), "name"),
        description=optional_str(p, "description") or None,
        active=to_bool(p.get("active", True), "active"),
        unit_label=optional_str(p, "unit_label") or None,
        metadata=to_metadata(p.get("metadata", {})))
    return render_product(product)


@endpoint("GET", "/v1/products/{id}")
def retrieve_product(req: ApiRequest) -> dict[str, Any]:
    return render_product(req.uow.get(Product, req.id(), account_id=req.account_id,
                                      label="product"))


@endpoint("POST", "/v1/products/{id}", params={**_PRODUCT, "default_price": Id()})
def update_product(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    product = catalog.update_product(
        req.id(), account_id=req.account_id, uow=req.uow, name=optional_str(p, "name"),
        description=optional_str(p, "description"), unit_label=optional_str(p, "unit_label"),
        active=to_bool(p["active"], "active") if "active" in p else None,
        default_price=optional_str(p, "default_price"),
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    return render_product(product)


@endpoint("GET", "/v1/products", params={**PAGE_PARAMS, "active": Bool()})
def list_products(req: ApiRequest) -> dict[str, Any]:
    active = req.params.get("active")
    return paginate_request(req, Product, url="/v1/products", label="product",
                            render=lambda row, _s: render_product(row),
                            filters={"active": to_bool(active, "active") if active else None})


_RECURRING = ("interval", "interval_count", "usage_type", "meter")


@endpoint("POST", "/v1/prices",
          params={"product": Id(), "product_data": Hash({"name": Str()}, required=("name",)),
                  "currency": Str(max_length=3), "unit_amount": Amount(),
                  "recurring": Hash({"interval": Str(enum=("day", "week", "month", "year")),
                                     "interval_count": Int(minimum=1, maximum=1095),
                                     "usage_type": Str(enum=("licensed", "metered")),
                                     "meter": Id()},
                                    required=("interval",)),
                  "nickname": Str(), "lookup_key": Str(max_length=200), "active": Bool(),
                  "metadata": Metadata()},
          required=("currency", "unit_amount"))
def create_price(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    recurring = to_dict(p.get("recurring", {}), "recurring")
    refuse_unknown(recurring, _RECURRING, prefix="recurring")
    product_data = to_dict(p.get("product_data", {}), "product_data")
    refuse_unknown(product_data, ("name",), prefix="product_data")
    if recurring and "interval" not in recurring:
        raise InvalidRequest("Missing required param: recurring[interval].",
                             param="recurring[interval]", code="parameter_missing")
    usage_type = to_str(recurring.get("usage_type", "licensed"), "recurring[usage_type]")
    meter = optional_str(recurring, "meter") or None
    if usage_type == "metered" and meter is None:
        # The current API bills usage only through a billing meter.
        raise InvalidRequest("Missing required param: recurring[meter] (a metered price "
                             "bills the usage of a billing meter).", param="recurring[meter]",
                             code="parameter_missing")
    currency = to_str(required(p, "currency"), "currency")
    price = catalog.create_price(
        account_id=req.account_id, uow=req.uow, currency=currency,
        unit_amount=to_amount(required(p, "unit_amount"), "unit_amount", currency=currency),
        product=optional_str(p, "product"),
        product_name=(to_str(product_data["name"], "product_data[name]")
                      if "name" in product_data else None),
        interval=(to_str(recurring["interval"], "recurring[interval]")
                  if recurring else None),
        interval_count=to_int(recurring.get("interval_count", 1), "recurring[interval_count]",
                              minimum=1),
        usage_type=usage_type, meter=meter,
        nickname=optional_str(p, "nickname") or None,
        lookup_key=optional_str(p, "lookup_key") or None,
        active=to_bool(p.get("active", True), "active"),
        metadata=to_metadata(p.get("metadata", {})))
    return render_price(price)


@endpoint("GET", "/v1/prices/{id}")
def retrieve_price(req: ApiRequest) -> dict[str, Any]:
    return render_price(req.uow.get(Price, req.id(), account_id=req.account_id, label="price"))


@endpoint("GET", "/v1/prices",
          params={**PAGE_PARAMS, "product": Id(), "active": Bool(), "currency": Str(max_length=3)})
def list_prices(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    active = p.get("active")
    currency = optional_str(p, "currency")
    return paginate_request(req, Price, url="/v1/prices", label="price",
                            render=lambda row, _s: render_price(row),
                            filters={"product_id": optional_str(p, "product"),
                                     "active": to_bool(active, "active") if active else None,
                                     "currency": currency.lower() if currency else None})
