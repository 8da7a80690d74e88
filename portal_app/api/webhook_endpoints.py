"""``/v1/webhook_endpoints``: Stripe's create, retrieve, update, list and delete.

Stripe's ``webhook_endpoint`` object, ``secret`` on create only. Two Portico
extensions (Stripe has these in its dashboard, not its API), same conventions:

- ``POST /v1/webhook_endpoints/{id}/roll_secret``: a new signing secret, returned
  once in ``secret``; the old one stops signing at once.
- ``POST /v1/webhook_endpoints/{id}/resend`` with ``delivery`` (a ``whd_`` id of the
  endpoint: send that event again) or ``since`` (a Unix time: every failed delivery
  of events since then, at most 30 days back). Answers a list of the pending
  ``portico.webhook_delivery`` objects it made due (see webhooks/resend.py).
"""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import (
    optional_str,
    required,
    to_bool,
    to_list,
    to_metadata,
    to_str,
    to_timestamp,
)
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Array, Bool, Id, Metadata, Str, Timestamp
from portal_app.errors import InvalidRequest
from portal_app.stripe_shapes import list_object
from portal_app.webhooks import endpoints, resend
from portal_app.webhooks.models import WebhookEndpoint

endpoint = Registry()

URL = "/v1/webhook_endpoints"
MAX_ENABLED_EVENTS = 256
EVENTS = Array(Str(max_length=100), max_items=MAX_ENABLED_EVENTS,
               description="Event types to send ('*' for all).")
WEBHOOK_URL = Str(max_length=5000, description="Where to POST events: absolute https URL.")


def _events(p: dict[str, Any]) -> list[str]:
    return [to_str(e, f"enabled_events[{i}]")
            for i, e in enumerate(to_list(p["enabled_events"], "enabled_events"))]


@endpoint("POST", URL, params={"url": WEBHOOK_URL, "enabled_events": EVENTS,
                               "description": Str(max_length=5000), "metadata": Metadata(),
                               "api_version": Str(max_length=40)},
          required=("url", "enabled_events"))
def create_webhook_endpoint(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    created = endpoints.create_endpoint(
        account_id=req.account_id, uow=req.uow, url=to_str(required(p, "url"), "url"),
        enabled_events=_events(p), livemode=req.livemode,
        description=optional_str(p, "description") or None,
        metadata=to_metadata(p.get("metadata", {})),
        api_version=optional_str(p, "api_version") or None)
    return endpoints.render_webhook_endpoint(created.endpoint, secret=created.secret)


@endpoint("GET", URL + "/{id}")
def retrieve_webhook_endpoint(req: ApiRequest) -> dict[str, Any]:
    return endpoints.render_webhook_endpoint(
        endpoints.retrieve_endpoint(req.id(), account_id=req.account_id, uow=req.uow))


@endpoint("POST", URL + "/{id}", params={"url": WEBHOOK_URL, "enabled_events": EVENTS,
                                         "description": Str(max_length=5000),
                                         "metadata": Metadata(), "disabled": Bool()})
def update_webhook_endpoint(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    if p.get("url") == "":
        raise InvalidRequest("Invalid URL: must not be empty", param="url")
    description = optional_str(p, "description")
    row = endpoints.update_endpoint(
        req.id(), account_id=req.account_id, uow=req.uow,
        url=optional_str(p, "url"),
        enabled_events=_events(p) if "enabled_events" in p else None,
        description=description or None, clear_description=description == "",
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None,
        disabled=to_bool(p["disabled"], "disabled") if p.get("disabled", "") != "" else None)
    return endpoints.render_webhook_endpoint(row)


@endpoint("GET", URL, params=PAGE_PARAMS)
def list_webhook_endpoints(req: ApiRequest) -> dict[str, Any]:
    return paginate_request(req, WebhookEndpoint, url=URL, label="webhook_endpoint",
                            render=lambda row, _s: endpoints.render_webhook_endpoint(row))


@endpoint("DELETE", URL + "/{id}")
def delete_webhook_endpoint(req: ApiRequest) -> dict[str, Any]:
    return endpoints.render_deleted_webhook_endpoint(
        endpoints.delete_endpoint(req.id(), account_id=req.account_id, uow=req.uow))


@endpoint("POST", URL + "/{id}/roll_secret")
def roll_webhook_endpoint_secret(req: ApiRequest) -> dict[str, Any]:
    rolled = endpoints.roll_secret(req.id(), account_id=req.account_id, uow=req.uow)
    return endpoints.render_webhook_endpoint(rolled.endpoint, secret=rolled.secret)


@endpoint("POST", URL + "/{id}/resend",
          params={"delivery": Id(description="A delivery of this endpoint to send again."),
                  "since": Timestamp(description="Resend every failed delivery of events "
                                                 "created since (at most 30 days back).")})
def resend_webhooks(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    delivery = optional_str(p, "delivery") or None
    since = to_timestamp(p["since"], "since") if p.get("since", "") != "" else None
    if (delivery is None) == (since is None):
        raise InvalidRequest("Specify exactly one of delivery or since.",
                             param="delivery" if delivery is None else "since")
    if delivery is not None:
        endpoints.retrieve_endpoint(req.id(), account_id=req.account_id, uow=req.uow)
        made = [resend.resend_delivery(delivery, account_id=req.account_id, uow=req.uow,
                                       endpoint_id=req.id())]
    else:
        assert since is not None
        made = resend.resend_failed(req.id(), account_id=req.account_id, uow=req.uow,
                                    since=since)
    return list_object([resend.render_delivery(d) for d in made],
                       url=f"{URL}/{req.id()}/resend")
