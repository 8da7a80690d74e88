"""The Stripe-compatible HTTP API: each endpoint parses its form, calls a service, renders.

Authentication, unknown parameters, ``Idempotency-Key``, ``expand[]``, errors
and headers are the pipeline's (:mod:`portal_app.api.pipeline`); lists page
through :func:`portal_app.api.pagination.paginate`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from portal_app.api.forms import (
    refuse_unknown,
    to_bool,
    to_dict,
    to_float,
    to_int,
    to_list,
    to_metadata,
    to_str,
)
from portal_app.api.pagination import PAGE_PARAMS, In, NotIn, PageRequest, paginate
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.billing import changes, meters, promotions, schedules
from portal_app.billing import services as billing
from portal_app.billing.models import (
    Coupon,
    Customer,
    Invoice,
    InvoiceStatus,
    Meter,
    MeterStatus,
    PaymentMethod,
    Price,
    Product,
    PromotionCode,
    Subscription,
    SubscriptionSchedule,
    SubscriptionStatus,
)
from portal_app.clock import Clock, from_unix, utc_now
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.objects import (
    list_object,
    render_configuration,
    render_coupon,
    render_customer,
    render_invoice,
    render_meter,
    render_meter_event,
    render_meter_event_summary,
    render_payment_method,
    render_price,
    render_product,
    render_promotion_code,
    render_session,
    render_subscription,
    render_subscription_schedule,
)
from portal_app.portal import configurations, sessions
from portal_app.portal.models import PortalConfiguration

endpoint = Registry()

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


# --- shared parameter readers ------------------------------------------------------------


def _opt_str(params: dict[str, Any], name: str) -> str | None:
    return to_str(params[name], name) if name in params else None


def _required(params: dict[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise InvalidRequest(f"Missing required param: {name}.", param=name,
                             code="parameter_missing")
    return params[name]


def _address(value: Any, param: str) -> dict[str, Any] | None:
    if value == "":
        return None
    given = to_dict(value, param)
    refuse_unknown(given, ADDRESS_FIELDS, prefix=param)
    return {key: to_str(given[key], f"{param}[{key}]") if key in given else None
            for key in ADDRESS_FIELDS}


def _shipping(value: Any, param: str) -> dict[str, Any] | None:
    if value == "":
        return None
    given = to_dict(value, param)
    refuse_unknown(given, ("address", "name", "phone"), prefix=param)
    return {"address": _address(_required_in(given, "address", param), f"{param}[address]"),
            "carrier": None,
            "name": to_str(_required_in(given, "name", param), f"{param}[name]"),
            "phone": _opt_str(given, "phone"),
            "tracking_number": None}


def _required_in(given: dict[str, Any], name: str, parent: str) -> Any:
    if given.get(name) in (None, ""):
        raise InvalidRequest(f"Missing required param: {parent}[{name}].",
                             param=f"{parent}[{name}]", code="parameter_missing")
    return given[name]


def _page(req: ApiRequest, model: type, *, url: str, render: Any,
          filters: dict[str, Any] | None = None, label: str | None = None) -> dict[str, Any]:
    return paginate(model, uow=req.uow, page=PageRequest.from_params(req.params), url=url,
                    render=render, account_id=req.account_id, filters=filters, label=label)


# --- customers ---------------------------------------------------------------------------

_CUSTOMER_PARAMS = ("email", "name", "phone", "description", "address", "shipping",
                    "preferred_locales", "metadata", "invoice_settings")


def _customer_fields(params: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("email", "name", "phone", "description"):
        if name in params:
            fields[name] = to_str(params[name], name)
    if "address" in params:
        fields["address"] = _address(params["address"], "address")
    if "shipping" in params:
        fields["shipping"] = _shipping(params["shipping"], "shipping")
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


@endpoint("POST", "/v1/customers", params=(*_CUSTOMER_PARAMS, "payment_method"))
def create_customer(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    fields = _customer_fields(p)
    customer = billing.create_customer(
        account_id=req.account_id, uow=req.uow, **fields,
        metadata=to_metadata(p.get("metadata", {})),
        payment_method=_opt_str(p, "payment_method"),
        default_payment_method=_default_payment_method(p) or None)
    return render_customer(customer)


@endpoint("GET", "/v1/customers/{id}")
def retrieve_customer(req: ApiRequest) -> dict[str, Any]:
    return render_customer(req.uow.get(Customer, req.id(), account_id=req.account_id,
                                       label="customer"))


@endpoint("POST", "/v1/customers/{id}", params=_CUSTOMER_PARAMS)
def update_customer(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    customer = billing.update_customer(
        req.id(), account_id=req.account_id, uow=req.uow, **_customer_fields(p),
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None,
        default_payment_method=_default_payment_method(p))
    return render_customer(customer)


@endpoint("GET", "/v1/customers", params=(*PAGE_PARAMS, "email"))
def list_customers(req: ApiRequest) -> dict[str, Any]:
    return _page(req, Customer, url="/v1/customers", label="customer",
                 render=lambda row, _s: render_customer(row),
                 filters={"email": _opt_str(req.params, "email")})


@endpoint("GET", "/v1/customers/{id}/payment_methods", params=(*PAGE_PARAMS, "type"))
def list_customer_payment_methods(req: ApiRequest) -> dict[str, Any]:
    customer = req.uow.get(Customer, req.id(), account_id=req.account_id, param="customer",
                           label="customer")
    return _page(req, PaymentMethod, url=f"/v1/customers/{customer.id}/payment_methods",
                 label="PaymentMethod", render=lambda row, _s: render_payment_method(row),
                 filters={"customer_id": customer.id, "type": _opt_str(req.params, "type")})


# --- products and prices -----------------------------------------------------------------


@endpoint("POST", "/v1/products",
          params=("name", "description", "active", "unit_label", "metadata"))
def create_product(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    product = billing.create_product(
        account_id=req.account_id, uow=req.uow, name=to_str(_required(p, "name"), "name"),
        description=_opt_str(p, "description") or None,
        active=to_bool(p.get("active", True), "active"),
        unit_label=_opt_str(p, "unit_label") or None,
        metadata=to_metadata(p.get("metadata", {})))
    return render_product(product)


@endpoint("GET", "/v1/products/{id}")
def retrieve_product(req: ApiRequest) -> dict[str, Any]:
    return render_product(req.uow.get(Product, req.id(), account_id=req.account_id,
                                      label="product"))


@endpoint("POST", "/v1/products/{id}",
          params=("name", "description", "active", "default_price", "unit_label", "metadata"))
def update_product(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    product = billing.update_product(
        req.id(), account_id=req.account_id, uow=req.uow, name=_opt_str(p, "name"),
        description=_opt_str(p, "description"), unit_label=_opt_str(p, "unit_label"),
        active=to_bool(p["active"], "active") if "active" in p else None,
        default_price=_opt_str(p, "default_price"),
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    return render_product(product)


@endpoint("GET", "/v1/products", params=(*PAGE_PARAMS, "active"))
def list_products(req: ApiRequest) -> dict[str, Any]:
    active = req.params.get("active")
    return _page(req, Product, url="/v1/products", label="product",
                 render=lambda row, _s: render_product(row),
                 filters={"active": to_bool(active, "active") if active else None})


_RECURRING = ("interval", "interval_count", "usage_type", "meter")


@endpoint("POST", "/v1/prices",
          params=("product", "product_data", "currency", "unit_amount", "recurring", "nickname",
                  "lookup_key", "active", "metadata"))
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
    meter = _opt_str(recurring, "meter") or None
    if usage_type == "metered" and meter is None:
        # The current API bills usage only through a billing meter.
        raise InvalidRequest("Missing required param: recurring[meter] (a metered price "
                             "bills the usage of a billing meter).", param="recurring[meter]",
                             code="parameter_missing")
    price = billing.create_price(
        account_id=req.account_id, uow=req.uow,
        currency=to_str(_required(p, "currency"), "currency"),
        unit_amount=to_int(_required(p, "unit_amount"), "unit_amount", minimum=0),
        product=_opt_str(p, "product"),
        product_name=(to_str(product_data["name"], "product_data[name]")
                      if "name" in product_data else None),
        interval=(to_str(recurring["interval"], "recurring[interval]")
                  if recurring else None),
        interval_count=to_int(recurring.get("interval_count", 1), "recurring[interval_count]",
                              minimum=1),
        usage_type=usage_type, meter=meter,
        nickname=_opt_str(p, "nickname") or None, lookup_key=_opt_str(p, "lookup_key") or None,
        active=to_bool(p.get("active", True), "active"),
        metadata=to_metadata(p.get("metadata", {})))
    return render_price(price)


@endpoint("GET", "/v1/prices/{id}")
def retrieve_price(req: ApiRequest) -> dict[str, Any]:
    return render_price(req.uow.get(Price, req.id(), account_id=req.account_id, label="price"))


@endpoint("GET", "/v1/prices", params=(*PAGE_PARAMS, "product", "active", "currency"))
def list_prices(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    active = p.get("active")
    currency = _opt_str(p, "currency")
    return _page(req, Price, url="/v1/prices", label="price",
                 render=lambda row, _s: render_price(row),
                 filters={"product_id": _opt_str(p, "product"),
                          "active": to_bool(active, "active") if active else None,
                          "currency": currency.lower() if currency else None})


# --- billing meters ----------------------------------------------------------------------


def _meter_params(p: dict[str, Any]) -> dict[str, Any]:
    aggregation = to_dict(_required(p, "default_aggregation"), "default_aggregation")
    refuse_unknown(aggregation, ("formula",), prefix="default_aggregation")
    mapping = to_dict(p.get("customer_mapping", {}), "customer_mapping")
    refuse_unknown(mapping, ("event_payload_key", "type"), prefix="customer_mapping")
    settings = to_dict(p.get("value_settings", {}), "value_settings")
    refuse_unknown(settings, ("event_payload_key",), prefix="value_settings")
    options: dict[str, Any] = {}
    if mapping:
        if to_str(_required_in(mapping, "type", "customer_mapping"),
                  "customer_mapping[type]") != "by_id":
            raise InvalidRequest("Invalid customer_mapping[type]: must be by_id",
                                 param="customer_mapping[type]")
        options["customer_payload_key"] = to_str(
            _required_in(mapping, "event_payload_key", "customer_mapping"),
            "customer_mapping[event_payload_key]")
    if settings:
        options["value_payload_key"] = to_str(
            _required_in(settings, "event_payload_key", "value_settings"),
            "value_settings[event_payload_key]")
    return {
        "display_name": to_str(_required(p, "display_name"), "display_name"),
        "event_name": to_str(_required(p, "event_name"), "event_name"),
        "formula": to_str(_required_in(aggregation, "formula", "default_aggregation"),
                          "default_aggregation[formula]"),
        "event_time_window": _opt_str(p, "event_time_window") or None,
        **options,
    }


@endpoint("POST", "/v1/billing/meters",
          params=("display_name", "event_name", "default_aggregation", "customer_mapping",
                  "value_settings", "event_time_window"))
def create_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.create_meter(account_id=req.account_id, uow=req.uow,
                                            **_meter_params(req.params)))


@endpoint("GET", "/v1/billing/meters/{id}")
def retrieve_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.retrieve_meter(req.id(), account_id=req.account_id,
                                              uow=req.uow))


@endpoint("POST", "/v1/billing/meters/{id}", params=("display_name",))
def update_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.update_meter(req.id(), account_id=req.account_id, uow=req.uow,
                                            display_name=_opt_str(req.params, "display_name")))


@endpoint("POST", "/v1/billing/meters/{id}/deactivate")
def deactivate_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.deactivate_meter(req.id(), account_id=req.account_id,
                                                uow=req.uow))


@endpoint("POST", "/v1/billing/meters/{id}/reactivate")
def reactivate_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.reactivate_meter(req.id(), account_id=req.account_id,
                                                uow=req.uow))


@endpoint("GET", "/v1/billing/meters", params=(*PAGE_PARAMS, "status"))
def list_meters(req: ApiRequest) -> dict[str, Any]:
    status = _opt_str(req.params, "status")
    if status is not None and status not in MeterStatus.__members__:
        raise InvalidRequest("Invalid status: must be one of active or inactive",
                             param="status")
    return _page(req, Meter, url="/v1/billing/meters", label="billing.meter",
                 render=lambda row, _s: render_meter(row), filters={"status": status})


@endpoint("GET", "/v1/billing/meters/{id}/event_summaries",
          params=(*PAGE_PARAMS, "customer", "start_time", "end_time", "value_grouping_window"))
def list_meter_event_summaries(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    found = meters.list_event_summaries(
        req.id(), account_id=req.account_id, uow=req.uow,
        customer=to_str(_required(p, "customer"), "customer"),
        start=from_unix(to_int(_required(p, "start_time"), "start_time", minimum=0)),
        end=from_unix(to_int(_required(p, "end_time"), "end_time", minimum=0)),
        grouping=_opt_str(p, "value_grouping_window") or None)
    rendered = [render_meter_event_summary(id=s.id, meter=s.meter_id, start=s.start,
                                           end=s.end, value=s.value) for s in found]
    return _page_of(rendered, page=PageRequest.from_params(p),
                    url=f"/v1/billing/meters/{req.id()}/event_summaries",
                    label="billing.meter_event_summary")


def _page_of(objects: list[dict[str, Any]], *, page: PageRequest, url: str, label: str
             ) -> dict[str, Any]:
    """One page of an already ordered list of computed objects, by id cursors."""
    ids = [obj["id"] for obj in objects]
    cursor = page.starting_after or page.ending_before
    if cursor is not None and cursor not in ids:
        raise ResourceMissing(f"No such {label}: '{cursor}'",
                              param="starting_after" if page.starting_after else
                              "ending_before")
    if page.starting_after:
        rest = objects[ids.index(page.starting_after) + 1:]
        return list_object(rest[:page.limit], url=url, has_more=len(rest) > page.limit)
    if page.ending_before:
        before = objects[:ids.index(page.ending_before)]
        return list_object(before[-page.limit:], url=url, has_more=len(before) > page.limit)
    return list_object(objects[:page.limit], url=url, has_more=len(objects) > page.limit)


@endpoint("POST", "/v1/billing/meter_events",
          params=("event_name", "payload", "timestamp", "identifier"))
def create_meter_event(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    payload = to_dict(_required(p, "payload"), "payload")
    event = meters.create_meter_event(
        account_id=req.account_id, uow=req.uow,
        event_name=to_str(_required(p, "event_name"), "event_name"),
        payload={key: to_str(value, f"payload[{key}]") for key, value in payload.items()},
        timestamp=(from_unix(to_int(p["timestamp"], "timestamp", minimum=0))
                   if p.get("timestamp") not in (None, "") else None),
        identifier=_opt_str(p, "identifier") or None)
    return render_meter_event(event)


# --- payment methods ---------------------------------------------------------------------

_CARD = ("number", "exp_month", "exp_year", "cvc", "token")
_BILLING_DETAILS = ("address", "email", "name", "phone")


@endpoint("POST", "/v1/payment_methods", params=("type", "card", "billing_details", "metadata"))
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
        details["address"] = _address(given["address"], "billing_details[address]")
    pm = billing.create_payment_method(
        account_id=req.account_id, uow=req.uow, type=to_str(_required(p, "type"), "type"),
        card={k: to_str(v, f"card[{k}]") for k, v in card.items()} or None,
        billing_details=details, metadata=to_metadata(p.get("metadata", {})))
    return render_payment_method(pm)


@endpoint("GET", "/v1/payment_methods/{id}")
def retrieve_payment_method(req: ApiRequest) -> dict[str, Any]:
    return render_payment_method(req.uow.get(PaymentMethod, req.id(),
                                             account_id=req.account_id,
                                             label="PaymentMethod"))


@endpoint("POST", "/v1/payment_methods/{id}/attach", params=("customer",))
def attach_payment_method(req: ApiRequest) -> dict[str, Any]:
    pm = billing.attach_payment_method(
        req.id(), customer_id=to_str(_required(req.params, "customer"), "customer"),
        account_id=req.account_id, uow=req.uow)
    return render_payment_method(pm)


@endpoint("GET", "/v1/payment_methods", params=(*PAGE_PARAMS, "customer", "type"))
def list_payment_methods(req: ApiRequest) -> dict[str, Any]:
    customer = _opt_str(req.params, "customer")
    if customer:
        req.uow.get(Customer, customer, account_id=req.account_id, param="customer",
                    label="customer")
    return _page(req, PaymentMethod, url="/v1/payment_methods", label="PaymentMethod",
                 render=lambda row, _s: render_payment_method(row),
                 filters={"customer_id": customer, "type": _opt_str(req.params, "type")})


# --- coupons -----------------------------------------------------------------------------


@endpoint("POST", "/v1/coupons",
          params=("id", "percent_off", "amount_off", "currency", "duration",
                  "duration_in_months", "name", "max_redemptions", "metadata"))
def create_coupon(req: ApiRequest) -> dict[str, Any]:
    p = req.params

    def opt_int(name: str) -> int | None:
        return to_int(p[name], name, minimum=1) if p.get(name) not in (None, "") else None

    coupon = billing.create_coupon(
        account_id=req.account_id, uow=req.uow, id=_opt_str(p, "id") or None,
        percent_off=(to_float(p["percent_off"], "percent_off")
                     if p.get("percent_off") not in (None, "") else None),
        amount_off=opt_int("amount_off"), currency=_opt_str(p, "currency") or None,
        duration=to_str(p.get("duration", "once"), "duration"),
        duration_in_months=opt_int("duration_in_months"), name=_opt_str(p, "name") or None,
        max_redemptions=opt_int("max_redemptions"),
        metadata=to_metadata(p.get("metadata", {})))
    return render_coupon(coupon)


@endpoint("GET", "/v1/coupons/{id}")
def retrieve_coupon(req: ApiRequest) -> dict[str, Any]:
    return render_coupon(req.uow.get(Coupon, req.id(), account_id=req.account_id,
                                     label="coupon"))


@endpoint("GET", "/v1/coupons", params=PAGE_PARAMS)
def list_coupons(req: ApiRequest) -> dict[str, Any]:
    return _page(req, Coupon, url="/v1/coupons", label="coupon",
                 render=lambda row, _s: render_coupon(row))


# --- subscriptions -----------------------------------------------------------------------


def _items(value: Any) -> list[billing.ItemSpec]:
    specs = []
    for i, item in enumerate(to_list(value, "items")):
        item = to_dict(item, f"items[{i}]")
        refuse_unknown(item, ("price", "quantity"), prefix=f"items[{i}]")
        price = to_str(_required_in(item, "price", f"items[{i}]"), f"items[{i}][price]")
        quantity = (to_int(item["quantity"], f"items[{i}][quantity]", minimum=0)
                    if item.get("quantity") not in (None, "") else 1)
        specs.append(billing.ItemSpec(price=price, quantity=quantity))
    return specs


def _coupon(params: dict[str, Any]) -> str | None:
    coupon = _opt_str(params, "coupon") or None
    discounts = to_list(params.get("discounts", []), "discounts")
    for i, discount in enumerate(discounts):
        discount = to_dict(discount, f"discounts[{i}]")
        refuse_unknown(discount, ("coupon",), prefix=f"discounts[{i}]")
        if i > 0 or coupon:
            raise InvalidRequest("Only one discount per subscription is supported.",
                                 param=f"discounts[{i}]")
        coupon = to_str(_required_in(discount, "coupon", f"discounts[{i}]"),
                        f"discounts[{i}][coupon]")
    return coupon


@endpoint("POST", "/v1/subscriptions",
          params=("customer", "items", "default_payment_method", "trial_period_days",
                  "trial_end", "collection_method", "days_until_due", "coupon", "discounts",
                  "cancel_at_period_end", "description", "metadata", "payment_behavior",
                  "off_session"))
def create_subscription(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    behavior = p.get("payment_behavior", "error_if_incomplete")
    if behavior != "error_if_incomplete":
        # A declined first charge leaves nothing behind: Stripe's error_if_incomplete.
        raise InvalidRequest("Portico supports payment_behavior=error_if_incomplete only.",
                             param="payment_behavior")
    if "off_session" in p:
        to_bool(p["off_session"], "off_session")
    trial_end = None
    if p.get("trial_end") not in (None, "", "now"):
        trial_end = from_unix(to_int(p["trial_end"], "trial_end", minimum=0))
    sub = billing.create_subscription(
        account_id=req.account_id, uow=req.uow,
        customer=to_str(_required(p, "customer"), "customer"),
        items=_items(_required(p, "items")),
        default_payment_method=_opt_str(p, "default_payment_method") or None,
        trial_period_days=(to_int(p["trial_period_days"], "trial_period_days", minimum=0)
                           if p.get("trial_period_days") not in (None, "") else None),
        trial_end=trial_end,
        collection_method=to_str(p.get("collection_method", "charge_automatically"),
                                 "collection_method"),
        days_until_due=(to_int(p["days_until_due"], "days_until_due", minimum=0)
                        if p.get("days_until_due") not in (None, "") else None),
        coupon=_coupon(p),
        cancel_at_period_end=to_bool(p.get("cancel_at_period_end", False),
                                     "cancel_at_period_end"),
        description=_opt_str(p, "description") or None,
        metadata=to_metadata(p.get("metadata", {})))
    return render_subscription(sub, req.uow.session)


@endpoint("GET", "/v1/subscriptions/{id}")
def retrieve_subscription(req: ApiRequest) -> dict[str, Any]:
    sub = req.uow.get(Subscription, req.id(), account_id=req.account_id, label="subscription")
    return render_subscription(sub, req.uow.session)


@endpoint("DELETE", "/v1/subscriptions/{id}",
          params=("cancellation_details", "prorate", "invoice_now"))
def cancel_subscription(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    details = to_dict(p.get("cancellation_details", {}), "cancellation_details")
    refuse_unknown(details, ("comment", "feedback"), prefix="cancellation_details")
    sub = billing.cancel_subscription(
        req.id(), account_id=req.account_id, uow=req.uow,
        feedback=_opt_str(details, "feedback") or None,
        comment=_opt_str(details, "comment") or None,
        prorate=to_bool(p.get("prorate", False), "prorate"),
        invoice_now=to_bool(p.get("invoice_now", False), "invoice_now"))
    return render_subscription(sub, req.uow.session)


def _item_changes(value: Any, param: str = "items") -> list[changes.ItemChange]:
    out = []
    for i, item in enumerate(to_list(value, param)):
        name = f"{param}[{i}]"
        item = to_dict(item, name)
        refuse_unknown(item, ("id", "price", "quantity", "deleted"), prefix=name)
        out.append(changes.ItemChange(
            id=_opt_str(item, "id") or None, price=_opt_str(item, "price") or None,
            quantity=(to_int(item["quantity"], f"{name}[quantity]", minimum=0)
                      if item.get("quantity") not in (None, "") else None),
            deleted=to_bool(item.get("deleted", False), f"{name}[deleted]")))
    return out


def _discount_params(params: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(coupon, promotion_code)`` from ``coupon``/``promotion_code`` or ``discounts[0]``."""
    coupon = _opt_str(params, "coupon") or None
    promotion = _opt_str(params, "promotion_code") or None
    for i, discount in enumerate(to_list(params.get("discounts") or [], "discounts")):
        discount = to_dict(discount, f"discounts[{i}]")
        refuse_unknown(discount, ("coupon", "promotion_code"), prefix=f"discounts[{i}]")
        if i > 0 or coupon or promotion:
            raise InvalidRequest("Only one discount per subscription is supported.",
                                 param=f"discounts[{i}]")
        coupon = _opt_str(discount, "coupon") or None
        promotion = _opt_str(discount, "promotion_code") or None
    return coupon, promotion


def _proration(params: dict[str, Any], parent: str | None = None) -> tuple[str, Any]:
    def name(key: str) -> str:
        return f"{parent}[{key}]" if parent else key

    behavior = to_str(params.get("proration_behavior", "create_prorations"),
                      name("proration_behavior"))
    date = None
    if params.get("proration_date") not in (None, ""):
        date = from_unix(to_int(params["proration_date"], name("proration_date"), minimum=0))
    return behavior, date


@endpoint("POST", "/v1/subscriptions/{id}",
          params=("items", "proration_behavior", "proration_date", "cancel_at_period_end",
                  "pause_collection", "coupon", "discounts", "promotion_code",
                  "default_payment_method", "description", "metadata", "payment_behavior",
                  "off_session"))
def update_subscription(req: ApiRequest) -> dict[str, Any]:
    """Stripe's subscription update: each part given runs its service, in one transaction."""
    p = req.params
    behavior = p.get("payment_behavior", "error_if_incomplete")
    if behavior not in ("error_if_incomplete", "allow_incomplete"):
        raise InvalidRequest("Portico supports payment_behavior=error_if_incomplete only.",
                             param="payment_behavior")
    sub_id, account_id, uow = req.id(), req.account_id, req.uow
    sub = uow.get(Subscription, sub_id, account_id=account_id, label="subscription")
    if any(k in p for k in ("default_payment_method", "description", "metadata")):
        changes.update_subscription(
            sub_id, account_id=account_id, uow=uow,
            default_payment_method=_opt_str(p, "default_payment_method"),
            description=_opt_str(p, "description"),
            metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    if "pause_collection" in p and p["pause_collection"] == "":
        changes.resume_subscription(sub_id, account_id=account_id, uow=uow)
    items = _item_changes(p["items"]) if p.get("items") not in (None, "") else []
    coupon, promotion = _discount_params(p)
    if items or coupon or promotion:
        proration_behavior, proration_date = _proration(p)
        changes.apply_change(sub_id, account_id=account_id, uow=uow, items=items,
                             proration_behavior=proration_behavior,
                             proration_date=proration_date, coupon=coupon,
                             promotion_code=promotion)
    if "cancel_at_period_end" in p:
        cancel = to_bool(p["cancel_at_period_end"], "cancel_at_period_end")
        if cancel and not sub.cancel_at_period_end:
            billing.cancel_subscription(sub_id, account_id=account_id, uow=uow,
                                        at_period_end=True)
        elif not cancel and sub.cancel_at_period_end:
            changes.reactivate_subscription(sub_id, account_id=account_id, uow=uow)
    if "pause_collection" in p and p["pause_collection"] != "":
        pause = to_dict(p["pause_collection"], "pause_collection")
        refuse_unknown(pause, ("behavior", "resumes_at"), prefix="pause_collection")
        resumes_at = None
        if pause.get("resumes_at") not in (None, ""):
            resumes_at = from_unix(to_int(pause["resumes_at"], "pause_collection[resumes_at]",
                                          minimum=0))
        changes.pause_subscription(
            sub_id, account_id=account_id, uow=uow,
            behavior=to_str(_required_in(pause, "behavior", "pause_collection"),
                            "pause_collection[behavior]"),
            resumes_at=resumes_at)
    uow.session.refresh(sub)
    return render_subscription(sub, uow.session)


@endpoint("POST", "/v1/subscriptions/{id}/resume",
          params=("billing_cycle_anchor", "proration_behavior", "proration_date"))
def resume_subscription(req: ApiRequest) -> dict[str, Any]:
    anchor = req.params.get("billing_cycle_anchor", "unchanged")
    if anchor != "unchanged":
        raise InvalidRequest("Portico resumes with billing_cycle_anchor=unchanged only.",
                             param="billing_cycle_anchor")
    sub = changes.resume_subscription(req.id(), account_id=req.account_id, uow=req.uow)
    return render_subscription(sub, req.uow.session)


@endpoint("GET", "/v1/subscriptions", params=(*PAGE_PARAMS, "customer", "status", "price"))
def list_subscriptions(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    status = _opt_str(p, "status")
    choices = [s.value for s in SubscriptionStatus]
    if status is None:
        status_filter: Any = NotIn([SubscriptionStatus.canceled.value])  # Stripe's default
    elif status == "all":
        status_filter = None
    elif status == "ended":
        status_filter = In([SubscriptionStatus.canceled.value,
                            SubscriptionStatus.incomplete_expired.value])
    elif status in choices:
        status_filter = status
    else:
        raise InvalidRequest(f"Invalid status: must be one of {', '.join(choices)}, ended, "
                             "or all", param="status")
    if "price" in p:
        raise InvalidRequest("Filtering subscriptions by price is not supported.",
                             param="price")
    return _page(req, Subscription, url="/v1/subscriptions", label="subscription",
                 render=render_subscription,
                 filters={"customer_id": _opt_str(p, "customer"), "status": status_filter})


# --- invoices ----------------------------------------------------------------------------


@endpoint("GET", "/v1/invoices/{id}")
def retrieve_invoice(req: ApiRequest) -> dict[str, Any]:
    invoice = req.uow.get(Invoice, req.id(), account_id=req.account_id, label="invoice")
    return render_invoice(invoice, req.uow.session)


@endpoint("GET", "/v1/invoices",
          params=(*PAGE_PARAMS, "customer", "subscription", "status", "collection_method"))
def list_invoices(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    status = _opt_str(p, "status")
    if status is not None and status not in InvoiceStatus.__members__:
        raise InvalidRequest("Invalid status: must be one of draft, open, paid, "
                             "uncollectible, or void", param="status")
    return _page(req, Invoice, url="/v1/invoices", label="invoice", render=render_invoice,
                 filters={"customer_id": _opt_str(p, "customer"),
                          "subscription_id": _opt_str(p, "subscription"),
                          "status": status,
                          "collection_method": _opt_str(p, "collection_method")})


@endpoint("POST", "/v1/invoices/create_preview",
          params=("customer", "subscription", "subscription_details", "automatic_tax",
                  "currency"))
def create_invoice_preview(req: ApiRequest) -> dict[str, Any]:
    """The upcoming invoice of a subscription, with the changes of subscription_details."""
    p = req.params
    details = to_dict(p.get("subscription_details") or {}, "subscription_details")
    refuse_unknown(details, ("items", "proration_date", "proration_behavior"),
                   prefix="subscription_details")
    customer = _opt_str(p, "customer") or None
    subscription = _opt_str(p, "subscription") or None
    if subscription is None:
        if customer is None:
            raise InvalidRequest("Missing required param: customer or subscription.",
                                 param="subscription", code="parameter_missing")
        live = billing.list_subscriptions(account_id=req.account_id, uow=req.uow,
                                          customer_id=customer)
        if not live:
            raise InvalidRequest("No upcoming invoices for customer: " + customer,
                                 code="invoice_upcoming_none", param="customer")
        subscription = live[0].id
    behavior, date = _proration(details, "subscription_details")
    items = (_item_changes(details["items"], "subscription_details[items]")
             if details.get("items") not in (None, "") else [])
    invoice, lines = changes.preview_invoice(
        subscription, account_id=req.account_id, uow=req.uow, items=items,
        proration_behavior=behavior, proration_date=date, customer_id=customer)
    return render_invoice(invoice, req.uow.session, lines=lines)


# --- subscription schedules --------------------------------------------------------------


def _render_schedule(row: SubscriptionSchedule, session: Any) -> dict[str, Any]:
    return render_subscription_schedule(row, session)


@endpoint("POST", "/v1/subscription_schedules",
          params=("from_subscription", "customer", "phases", "start_date", "end_behavior",
                  "metadata"))
def create_subscription_schedule(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    if "from_subscription" not in p:
        raise InvalidRequest("Portico creates schedules from_subscription only.",
                             param="from_subscription", code="parameter_missing")
    for name in ("customer", "phases", "start_date"):
        if name in p:
            raise InvalidRequest(f"You cannot set {name} together with from_subscription.",
                                 param=name)
    schedule = schedules.create_subscription_schedule(
        account_id=req.account_id, uow=req.uow,
        from_subscription=to_str(p["from_subscription"], "from_subscription"))
    if "end_behavior" in p or "metadata" in p:
        schedule = schedules.update_subscription_schedule(
            schedule.id, account_id=req.account_id, uow=req.uow,
            end_behavior=_opt_str(p, "end_behavior"),
            metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    return _render_schedule(schedule, req.uow.session)


@endpoint("GET", "/v1/subscription_schedules/{id}")
def retrieve_subscription_schedule(req: ApiRequest) -> dict[str, Any]:
    schedule = schedules.retrieve_subscription_schedule(req.id(), account_id=req.account_id,
                                                      uow=req.uow)
    return _render_schedule(schedule, req.uow.session)


_PHASE = ("items", "start_date", "end_date", "iterations", "proration_behavior", "metadata")


@endpoint("POST", "/v1/subscription_schedules/{id}",
          params=("phases", "end_behavior", "metadata", "proration_behavior"))
def update_subscription_schedule(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    phases = None
    if "phases" in p:
        phases = []
        for i, phase in enumerate(to_list(p["phases"], "phases")):
            phase = to_dict(phase, f"phases[{i}]")
            refuse_unknown(phase, _PHASE, prefix=f"phases[{i}]")
            items = []
            for j, item in enumerate(to_list(phase.get("items") or [], f"phases[{i}][items]")):
                item = to_dict(item, f"phases[{i}][items][{j}]")
                refuse_unknown(item, ("price", "quantity"), prefix=f"phases[{i}][items][{j}]")
                items.append({"price": _opt_str(item, "price"),
                              "quantity": (to_int(item["quantity"],
                                                  f"phases[{i}][items][{j}][quantity]",
                                                  minimum=1)
                                           if item.get("quantity") not in (None, "") else 1)})
            phases.append({
                "items": items,
                "start_date": (to_int(phase["start_date"], f"phases[{i}][start_date]")
                               if phase.get("start_date") not in (None, "", "now") else None),
                "end_date": (to_int(phase["end_date"], f"phases[{i}][end_date]")
                             if phase.get("end_date") not in (None, "") else None),
                "iterations": (to_int(phase["iterations"], f"phases[{i}][iterations]",
                                      minimum=1)
                               if phase.get("iterations") not in (None, "") else None),
                "proration_behavior": _opt_str(phase, "proration_behavior"),
            })
    schedule = schedules.update_subscription_schedule(
        req.id(), account_id=req.account_id, uow=req.uow, phases=phases,
        end_behavior=_opt_str(p, "end_behavior"),
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    return _render_schedule(schedule, req.uow.session)


@endpoint("POST", "/v1/subscription_schedules/{id}/release",
          params=("preserve_cancel_date",))
def release_subscription_schedule(req: ApiRequest) -> dict[str, Any]:
    schedule = schedules.release_subscription_schedule(req.id(), account_id=req.account_id,
                                                     uow=req.uow)
    return _render_schedule(schedule, req.uow.session)


@endpoint("POST", "/v1/subscription_schedules/{id}/cancel",
          params=("invoice_now", "prorate"))
def cancel_subscription_schedule(req: ApiRequest) -> dict[str, Any]:
    schedule = schedules.cancel_subscription_schedule(req.id(), account_id=req.account_id,
                                                    uow=req.uow)
    return _render_schedule(schedule, req.uow.session)


@endpoint("GET", "/v1/subscription_schedules", params=(*PAGE_PARAMS, "customer"))
def list_subscription_schedules(req: ApiRequest) -> dict[str, Any]:
    return _page(req, SubscriptionSchedule, url="/v1/subscription_schedules",
                 label="subscription schedule", render=_render_schedule,
                 filters={"customer_id": _opt_str(req.params, "customer")})


# --- promotion codes ---------------------------------------------------------------------


def _render_promotion(row: PromotionCode, session: Any) -> dict[str, Any]:
    coupon = session.get(Coupon, row.coupon_id)
    return render_promotion_code(row, coupon)


@endpoint("POST", "/v1/promotion_codes",
          params=("promotion", "coupon", "code", "active", "customer", "expires_at",
                  "max_redemptions", "restrictions", "metadata"))
def create_promotion_code(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    promotion = to_dict(p.get("promotion") or {}, "promotion")
    refuse_unknown(promotion, ("type", "coupon"), prefix="promotion")
    if promotion.get("type", "coupon") != "coupon":
        raise InvalidRequest("Invalid promotion[type]: must be coupon",
                             param="promotion[type]")
    coupon = _opt_str(promotion, "coupon") or _opt_str(p, "coupon")
    if not coupon:
        raise InvalidRequest("Missing required param: promotion[coupon].",
                             param="promotion[coupon]", code="parameter_missing")
    restrictions = to_dict(p.get("restrictions") or {}, "restrictions")
    refuse_unknown(restrictions, ("first_time_transaction", "minimum_amount",
                                  "minimum_amount_currency"), prefix="restrictions")
    promo = promotions.create_promotion_code(
        account_id=req.account_id, uow=req.uow, coupon=coupon,
        code=_opt_str(p, "code") or None, active=to_bool(p.get("active", True), "active"),
        customer=_opt_str(p, "customer") or None,
        max_redemptions=(to_int(p["max_redemptions"], "max_redemptions", minimum=1)
                         if p.get("max_redemptions") not in (None, "") else None),
        expires_at=(from_unix(to_int(p["expires_at"], "expires_at", minimum=0))
                    if p.get("expires_at") not in (None, "") else None),
        first_time_transaction=to_bool(restrictions.get("first_time_transaction", False),
                                       "restrictions[first_time_transaction]"),
        minimum_amount=(to_int(restrictions["minimum_amount"],
                               "restrictions[minimum_amount]", minimum=0)
                        if restrictions.get("minimum_amount") not in (None, "") else None),
        minimum_amount_currency=_opt_str(restrictions, "minimum_amount_currency") or None,
        metadata=to_metadata(p.get("metadata", {})))
    return _render_promotion(promo, req.uow.session)


@endpoint("GET", "/v1/promotion_codes/{id}")
def retrieve_promotion_code(req: ApiRequest) -> dict[str, Any]:
    promo = promotions.retrieve_promotion_code(req.id(), account_id=req.account_id, uow=req.uow)
    return _render_promotion(promo, req.uow.session)


@endpoint("POST", "/v1/promotion_codes/{id}", params=("active", "metadata"))
def update_promotion_code(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    promo = promotions.update_promotion_code(
        req.id(), account_id=req.account_id, uow=req.uow,
        active=to_bool(p["active"], "active") if "active" in p else None,
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    return _render_promotion(promo, req.uow.session)


@endpoint("GET", "/v1/promotion_codes",
          params=(*PAGE_PARAMS, "code", "coupon", "customer", "active"))
def list_promotion_codes(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    return _page(req, PromotionCode, url="/v1/promotion_codes", label="promotion code",
                 render=_render_promotion,
                 filters={"code": _opt_str(p, "code"), "coupon_id": _opt_str(p, "coupon"),
                          "customer_id": _opt_str(p, "customer"),
                          "active": to_bool(p["active"], "active") if "active" in p else None})


# --- billing portal ----------------------------------------------------------------------

_CONFIGURATION_PARAMS = tuple(sorted(configurations.PARAMETERS - {"expand"}))


@endpoint("POST", "/v1/billing_portal/configurations", params=_CONFIGURATION_PARAMS)
def create_configuration(req: ApiRequest) -> dict[str, Any]:
    config = configurations.create_configuration(req.params, account_id=req.account_id,
                                                 uow=req.uow)
    return render_configuration(config)


@endpoint("GET", "/v1/billing_portal/configurations/{id}")
def retrieve_configuration(req: ApiRequest) -> dict[str, Any]:
    return render_configuration(req.uow.get(PortalConfiguration, req.id(),
                                            account_id=req.account_id,
                                            label="configuration"))


@endpoint("POST", "/v1/billing_portal/configurations/{id}", params=_CONFIGURATION_PARAMS)
def update_configuration(req: ApiRequest) -> dict[str, Any]:
    config = configurations.update_configuration(req.id(), req.params,
                                                 account_id=req.account_id, uow=req.uow)
    return render_configuration(config)


@endpoint("GET", "/v1/billing_portal/configurations", params=(*PAGE_PARAMS, "active",
                                                               "is_default"))
def list_configurations(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    return _page(req, PortalConfiguration, url="/v1/billing_portal/configurations",
                 label="configuration", render=lambda row, _s: render_configuration(row),
                 filters={"active": to_bool(p["active"], "active") if "active" in p else None,
                          "is_default": (to_bool(p["is_default"], "is_default")
                                         if "is_default" in p else None)})


@endpoint("POST", "/v1/billing_portal/sessions",
          params=("customer", "configuration", "return_url", "locale", "on_behalf_of",
                  "flow_data"))
def create_session(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    created = sessions.create_session(
        account_id=req.account_id, uow=req.uow,
        customer=to_str(_required(p, "customer"), "customer"),
        configuration=_opt_str(p, "configuration") or None,
        return_url=_opt_str(p, "return_url") or None,
        locale=_opt_str(p, "locale") or None,
        on_behalf_of=_opt_str(p, "on_behalf_of") or None,
        flow_data=to_dict(p["flow_data"], "flow_data") if "flow_data" in p else None)
    return render_session(created.session, url=created.url,
                          configuration=created.session.configuration_id)


ROUTES = endpoint.routes()


def build_api(*, clock: Clock = utc_now, engine: Any = None) -> Starlette:
    """A Starlette app serving only the API (tests, benchmarks); ``clock`` is injectable."""
    return Starlette(routes=endpoint.routes(clock=clock, engine=engine))
