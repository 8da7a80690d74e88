"""``/v1/payment_method_configurations``: which payment method types are offered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal_app.api.forms import optional_str, to_bool, to_dict, to_str
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Bool, Hash, Spec, Str
from portal_app.billing import payment_method_configurations as configurations
from portal_app.billing.models import PaymentMethodConfiguration
from portal_app.billing.payment_objects import (
    CONFIGURABLE_TYPES,
    render_payment_method_configuration,
)

endpoint = Registry()

_PREFERENCE = Hash({"display_preference": Hash({
    "preference": Str(enum=configurations.PREFERENCES)})})
_PARAMS: dict[str, Spec] = {"name": Str(max_length=100),
                            **{type: _PREFERENCE for type in CONFIGURABLE_TYPES}}


def _preferences(params: Mapping[str, Any]) -> dict[str, str]:
    found = {}
    for type in CONFIGURABLE_TYPES:
        if type in params:
            display = to_dict(to_dict(params[type], type).get("display_preference", {}),
                              f"{type}[display_preference]")
            if "preference" in display:
                found[type] = to_str(display["preference"],
                                     f"{type}[display_preference][preference]")
    return found


@endpoint("POST", "/v1/payment_method_configurations", params=_PARAMS)
def create_payment_method_configuration(req: ApiRequest) -> dict[str, Any]:
    return render_payment_method_configuration(configurations.create_configuration(
        account_id=req.account_id, uow=req.uow, name=optional_str(req.params, "name"),
        preferences=_preferences(req.params)))


@endpoint("GET", "/v1/payment_method_configurations/{id}")
def retrieve_payment_method_configuration(req: ApiRequest) -> dict[str, Any]:
    return render_payment_method_configuration(configurations.retrieve_configuration(
        req.id(), account_id=req.account_id, uow=req.uow))


@endpoint("POST", "/v1/payment_method_configurations/{id}",
          params={**_PARAMS, "active": Bool()})
def update_payment_method_configuration(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    return render_payment_method_configuration(configurations.update_configuration(
        req.id(), account_id=req.account_id, uow=req.uow, name=optional_str(p, "name"),
        active=to_bool(p["active"], "active") if "active" in p else None,
        preferences=_preferences(p)))


@endpoint("GET", "/v1/payment_method_configurations", params=PAGE_PARAMS)
def list_payment_method_configurations(req: ApiRequest) -> dict[str, Any]:
    return paginate_request(
        req, PaymentMethodConfiguration, url="/v1/payment_method_configurations",
        label="payment_method_configuration",
        render=lambda row, _s: render_payment_method_configuration(row))
