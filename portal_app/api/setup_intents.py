"""``/v1/setup_intents``: create, confirm, retrieve, update, list and cancel setup intents."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from portal_app.api.forms import (
    optional_str,
    to_bool,
    to_dict,
    to_id,
    to_list,
    to_metadata,
    to_str,
    to_timestamp,
)
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.payment_methods import (
    ALLOW_REDISPLAY,
    BILLING_DETAILS,
    TYPE_SPECS,
    billing_details,
    method_params,
)
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Array, Bool, Hash, Id, Metadata, Str, Timestamp
from portal_app.billing import setup_intents
from portal_app.billing.models import Customer, SetupIntent
from portal_app.billing.payment_method_types import PAYMENT_METHOD_TYPES
from portal_app.clock import to_unix
from portal_app.errors import InvalidRequest

endpoint = Registry()

PAYMENT_METHOD_DATA = Hash({"type": Str(max_length=100), **TYPE_SPECS,
                            "billing_details": BILLING_DETAILS, "metadata": Metadata(),
                            "allow_redisplay": ALLOW_REDISPLAY}, required=("type",))
MANDATE_DATA = Hash({"customer_acceptance": Hash({
    "type": Str(enum=("online", "offline")), "accepted_at": Timestamp(),
    "online": Hash({"ip_address": Str(max_length=64), "user_agent": Str(max_length=512)}),
    "offline": Hash({})}, required=("type",))}, required=("customer_acceptance",))
CONFIRM_PARAMS = {"payment_method": Id(), "payment_method_data": PAYMENT_METHOD_DATA,
                  "return_url": Str(max_length=2048), "mandate_data": MANDATE_DATA}


def _payment_method_data(params: Mapping[str, Any]) -> dict[str, Any] | None:
    if "payment_method_data" not in params:
        return None
    data = to_dict(params["payment_method_data"], "payment_method_data")
    type = to_str(data.get("type", ""), "payment_method_data[type]")
    parsed: dict[str, Any] = {"type": type, type: method_params(data, type)}
    if "billing_details" in data:
        parsed["billing_details"] = billing_details(data["billing_details"],
                                                    "payment_method_data[billing_details]")
    if "metadata" in data:
        parsed["metadata"] = to_metadata(data["metadata"], "payment_method_data[metadata]")
    if data.get("allow_redisplay"):
        parsed["allow_redisplay"] = str(data["allow_redisplay"])
    return parsed


def _mandate_acceptance(params: Mapping[str, Any]) -> dict[str, Any] | None:
    if "mandate_data" not in params:
        return None
    acceptance = dict(to_dict(to_dict(params["mandate_data"], "mandate_data").get(
        "customer_acceptance", {}), "mandate_data[customer_acceptance]"))
    if acceptance.get("accepted_at"):
        acceptance["accepted_at"] = to_unix(to_timestamp(
            acceptance["accepted_at"], "mandate_data[customer_acceptance][accepted_at]"))
    return acceptance


@contextmanager
def _data_params(given: bool) -> Iterator[None]:
    """Name errors of ``payment_method_data``'s fields as nested in it, as Stripe does."""
    try:
        yield
    except InvalidRequest as error:
        head = (error.param or "").split("[", 1)[0]
        if given and head in (*PAYMENT_METHOD_TYPES, "type", "billing_details"):
            rest = (error.param or "")[len(head):]
            error.param = f"payment_method_data[{head}]{rest}"
        raise


def _answer(req: ApiRequest, action: Callable[[], SetupIntent], *, data_given: bool
            ) -> dict[str, Any]:
    """Run ``action``; a failed confirmation is kept on the intent, then answered as an error."""
    with _data_params(data_given):
        si = action()
    error = setup_intents.failure(si) if si.status == setup_intents.REQUIRES_PAYMENT_METHOD \
        else None
    if error is not None and si.last_setup_error is not None:
        req.uow.commit()  # Stripe keeps last_setup_error (and its event) on a decline
        raise error
    return setup_intents.render(si, req.uow)


@endpoint("POST", "/v1/setup_intents",
          params={"customer": Id(), "payment_method_types": Array(Str(max_length=100)),
                  "confirm": Bool(), "usage": Str(enum=("on_session", "off_session")),
                  "description": Str(max_length=1000), "metadata": Metadata(),
                  **CONFIRM_PARAMS})
def create_setup_intent(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    confirm = to_bool(p["confirm"], "confirm") if p.get("confirm") else False
    data = _payment_method_data(p)
    types = [to_str(t, f"payment_method_types[{i}]")
             for i, t in enumerate(to_list(p.get("payment_method_types", []),
                                           "payment_method_types"))]
    for i, type in enumerate(types):
        if type not in PAYMENT_METHOD_TYPES:
            raise InvalidRequest(f"The payment method type `{type}` is invalid.",
                                 param=f"payment_method_types[{i}]")
    if "return_url" in p and not confirm:
        raise InvalidRequest("You can only pass in return_url if confirm is true.",
                             param="return_url")
    return _answer(req, lambda: setup_intents.create_setup_intent(
        account_id=req.account_id, uow=req.uow, customer_id=optional_str(p, "customer"),
        payment_method_types=types, payment_method=optional_str(p, "payment_method"),
        payment_method_data=data, confirm=confirm, return_url=optional_str(p, "return_url"),
        mandate_acceptance=_mandate_acceptance(p), usage=optional_str(p, "usage") or
        "off_session", description=optional_str(p, "description"),
        metadata=to_metadata(p.get("metadata", {}))), data_given=data is not None)


@endpoint("GET", "/v1/setup_intents/{id}", params={"client_secret": Str(max_length=200)})
def retrieve_setup_intent(req: ApiRequest) -> dict[str, Any]:
    rendered = setup_intents.render(setup_intents.retrieve_setup_intent(
        req.id(), account_id=req.account_id, uow=req.uow), req.uow)
    given = optional_str(req.params, "client_secret")
    if given is not None and not hmac.compare_digest(given.encode(),
                                                      rendered["client_secret"].encode()):
        raise InvalidRequest("The client_secret provided does not match the client_secret "
                             "associated with the SetupIntent.", param="client_secret")
    return rendered


@endpoint("POST", "/v1/setup_intents/{id}",
          params={"metadata": Metadata(), "description": Str(max_length=1000)})
def update_setup_intent(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    si = setup_intents.update_setup_intent(
        req.id(), account_id=req.account_id, uow=req.uow,
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None,
        description=to_str(p["description"], "description") if "description" in p else None)
    return setup_intents.render(si, req.uow)


@endpoint("POST", "/v1/setup_intents/{id}/confirm", params=CONFIRM_PARAMS)
def confirm_setup_intent(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    data = _payment_method_data(p)
    return _answer(req, lambda: setup_intents.confirm_setup_intent(
        req.id(), account_id=req.account_id, uow=req.uow,
        payment_method=optional_str(p, "payment_method"), payment_method_data=data,
        return_url=optional_str(p, "return_url"),
        mandate_acceptance=_mandate_acceptance(p)), data_given=data is not None)


@endpoint("POST", "/v1/setup_intents/{id}/cancel",
          params={"cancellation_reason": Str(
              enum=setup_intents.CANCELLATION_REASONS)})
def cancel_setup_intent(req: ApiRequest) -> dict[str, Any]:
    si = setup_intents.cancel_setup_intent(
        req.id(), account_id=req.account_id, uow=req.uow,
        cancellation_reason=optional_str(req.params, "cancellation_reason"))
    return setup_intents.render(si, req.uow)


@endpoint("GET", "/v1/setup_intents",
          params={**PAGE_PARAMS, "customer": Id(), "payment_method": Id()})
def list_setup_intents(req: ApiRequest) -> dict[str, Any]:
    customer = optional_str(req.params, "customer")
    if customer:
        req.uow.get(Customer, to_id(customer, "customer"), account_id=req.account_id,
                    param="customer", label="customer")
    return paginate_request(
        req, SetupIntent, url="/v1/setup_intents", label="setup_intent",
        render=lambda row, _s: setup_intents.render(row, req.uow),
        filters={"customer_id": customer,
                 "payment_method_id": optional_str(req.params, "payment_method")})
