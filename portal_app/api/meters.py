"""``/v1/billing/meters`` and ``/v1/billing/meter_events``: usage-based billing."""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import (
    optional_str,
    refuse_unknown,
    required,
    to_dict,
    to_str,
    to_timestamp,
)
from portal_app.api.pagination import PAGE_PARAMS, PageRequest, paginate_list, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Hash, Id, Map, Str, Timestamp
from portal_app.billing import meters
from portal_app.billing.models import Meter, MeterStatus
from portal_app.billing.objects import render_meter, render_meter_event, render_meter_event_summary
from portal_app.errors import InvalidRequest

endpoint = Registry()


def _meter_params(p: dict[str, Any]) -> dict[str, Any]:
    aggregation = to_dict(required(p, "default_aggregation"), "default_aggregation")
    refuse_unknown(aggregation, ("formula",), prefix="default_aggregation")
    mapping = to_dict(p.get("customer_mapping", {}), "customer_mapping")
    refuse_unknown(mapping, ("event_payload_key", "type"), prefix="customer_mapping")
    settings = to_dict(p.get("value_settings", {}), "value_settings")
    refuse_unknown(settings, ("event_payload_key",), prefix="value_settings")
    options: dict[str, Any] = {}
    if mapping:
        if to_str(required(mapping, "type", parent="customer_mapping"),
                  "customer_mapping[type]") != "by_id":
            raise InvalidRequest("Invalid customer_mapping[type]: must be by_id",
                                 param="customer_mapping[type]")
        options["customer_payload_key"] = to_str(
            required(mapping, "event_payload_key", parent="customer_mapping"),
            "customer_mapping[event_payload_key]")
    if settings:
        options["value_payload_key"] = to_str(
            required(settings, "event_payload_key", parent="value_settings"),
            "value_settings[event_payload_key]")
    return {
        "display_name": to_str(required(p, "display_name"), "display_name"),
        "event_name": to_str(required(p, "event_name"), "event_name"),
        "formula": to_str(required(aggregation, "formula", parent="default_aggregation"),
                          "default_aggregation[formula]"),
        "event_time_window": optional_str(p, "event_time_window") or None,
        **options,
    }


_NAME = Str(max_length=meters.MAX_NAME)


@endpoint("POST", "/v1/billing/meters",
          params={"display_name": _NAME, "event_name": _NAME,
                  "default_aggregation": Hash({"formula": Str(enum=("count", "last", "sum"))},
                                              required=("formula",)),
                  "customer_mapping": Hash({"event_payload_key": _NAME,
                                            "type": Str(enum=("by_id",))},
                                           required=("event_payload_key", "type")),
                  "value_settings": Hash({"event_payload_key": _NAME},
                                         required=("event_payload_key",)),
                  "event_time_window": Str(enum=("day", "hour"))},
          required=("display_name", "event_name", "default_aggregation"))
def create_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.create_meter(account_id=req.account_id, uow=req.uow,
                                            **_meter_params(req.params)))


@endpoint("GET", "/v1/billing/meters/{id}")
def retrieve_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.retrieve_meter(req.id(), account_id=req.account_id,
                                              uow=req.uow))


@endpoint("POST", "/v1/billing/meters/{id}", params={"display_name": _NAME})
def update_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.update_meter(req.id(), account_id=req.account_id, uow=req.uow,
                                            display_name=optional_str(req.params, "display_name")))


@endpoint("POST", "/v1/billing/meters/{id}/deactivate")
def deactivate_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.deactivate_meter(req.id(), account_id=req.account_id,
                                                uow=req.uow))


@endpoint("POST", "/v1/billing/meters/{id}/reactivate")
def reactivate_meter(req: ApiRequest) -> dict[str, Any]:
    return render_meter(meters.reactivate_meter(req.id(), account_id=req.account_id,
                                                uow=req.uow))


@endpoint("GET", "/v1/billing/meters",
          params={**PAGE_PARAMS, "status": Str(enum=tuple(MeterStatus.__members__))})
def list_meters(req: ApiRequest) -> dict[str, Any]:
    status = optional_str(req.params, "status")
    if status is not None and status not in MeterStatus.__members__:
        raise InvalidRequest("Invalid status: must be one of active or inactive",
                             param="status")
    return paginate_request(req, Meter, url="/v1/billing/meters", label="billing.meter",
                            render=lambda row, _s: render_meter(row), filters={"status": status})


@endpoint("GET", "/v1/billing/meters/{id}/event_summaries",
          params={**PAGE_PARAMS, "customer": Id(), "start_time": Timestamp(),
                  "end_time": Timestamp(), "value_grouping_window": Str(enum=("day", "hour"))},
          required=("customer", "start_time", "end_time"))
def list_meter_event_summaries(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    found = meters.list_event_summaries(
        req.id(), account_id=req.account_id, uow=req.uow,
        customer=to_str(required(p, "customer"), "customer"),
        start=to_timestamp(required(p, "start_time"), "start_time"),
        end=to_timestamp(required(p, "end_time"), "end_time"),
        grouping=optional_str(p, "value_grouping_window") or None)
    rendered = [render_meter_event_summary(id=s.id, meter=s.meter_id, start=s.start,
                                           end=s.end, value=s.value) for s in found]
    return paginate_list(rendered, page=PageRequest.from_params(p),
                         url=f"/v1/billing/meters/{req.id()}/event_summaries",
                         label="billing.meter_event_summary")


@endpoint("POST", "/v1/billing/meter_events",
          params={"event_name": _NAME, "payload": Map(Str(max_length=100)),
                  "timestamp": Timestamp(), "identifier": _NAME},
          required=("event_name", "payload"))
def create_meter_event(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    payload = to_dict(required(p, "payload"), "payload")
    event = meters.create_meter_event(
        account_id=req.account_id, uow=req.uow,
        event_name=to_str(required(p, "event_name"), "event_name"),
        payload={key: to_str(value, f"payload[{key}]") for key, value in payload.items()},
        timestamp=(to_timestamp(p["timestamp"], "timestamp")
                   if p.get("timestamp") not in (None, "") else None),
        identifier=optional_str(p, "identifier") or None)
    return render_meter_event(event)
