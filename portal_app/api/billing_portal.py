"""``/v1/billing_portal``: configurations and the sessions a merchant creates."""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import optional_str, required, to_bool, to_dict, to_str
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.objects import render_configuration, render_session
from portal_app.portal import configurations, sessions
from portal_app.portal.models import PortalConfiguration

endpoint = Registry()


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
    return paginate_request(
        req, PortalConfiguration, url="/v1/billing_portal/configurations",
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
        customer=to_str(required(p, "customer"), "customer"),
        configuration=optional_str(p, "configuration") or None,
        return_url=optional_str(p, "return_url") or None,
        locale=optional_str(p, "locale") or None,
        on_behalf_of=optional_str(p, "on_behalf_of") or None,
        flow_data=to_dict(p["flow_data"], "flow_data") if "flow_data" in p else None)
    return render_session(created.session, url=created.url,
                          configuration=created.session.configuration_id)
