"""``/v1/events``: list and retrieve, with Stripe's filters and its 30-day window.

Filters: ``type`` (``*`` a wildcard: ``customer.*``) or ``types[]`` (up to 20, not
both), ``created`` (a Unix time, or ``created[gt|gte|lt|lte]``), ``delivery_success``
(true: every webhook delivery of the event succeeded; false: one is pending or
failed), and the cursors. Events older than 30 days are neither listed nor
retrieved (see webhooks/events.py: they stay in the event store for the analytics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal_app.api.forms import to_bool, to_dict, to_list, to_str, to_timestamp
from portal_app.api.pagination import PAGE_PARAMS, PageRequest
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Array, Bool, Spec, Str
from portal_app.errors import InvalidRequest
from portal_app.webhooks import events

endpoint = Registry()

MAX_TYPES = 20
CREATED_BOUNDS = ("gt", "gte", "lt", "lte")


def _created(value: Any, param: str = "created") -> events.CreatedRange | None:
    """Stripe's ``created``: a Unix time, or a hash of gt, gte, lt, lte. Raises InvalidRequest."""
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        exact = to_timestamp(value, param)
        return events.CreatedRange(gte=exact, lte=exact)
    bounds = to_dict(value, param)
    for key in bounds:
        if key not in CREATED_BOUNDS:
            raise InvalidRequest(f"Received unknown parameter: {param}[{key}]",
                                 param=f"{param}[{key}]", code="parameter_unknown")
    return events.CreatedRange(**{k: to_timestamp(v, f"{param}[{k}]")
                                  for k, v in bounds.items() if v != ""})


@dataclass(frozen=True)
class TimeRange(Spec):
    """Stripe's range filter: a Unix time, or a hash of gt, gte, lt, lte Unix times."""

    def _check(self, value: Any, param: str) -> None:
        _created(value, param)

    def _json_schema(self) -> dict[str, Any]:
        time = {"type": "integer", "minimum": 0}
        return {"oneOf": [time, {"type": "object", "additionalProperties": False,
                                 "properties": dict.fromkeys(CREATED_BOUNDS, time)}]}


@endpoint("GET", "/v1/events",
          params={**PAGE_PARAMS,
                  "type": Str(max_length=100, description="An event type; '*' a wildcard."),
                  "types": Array(Str(max_length=100), max_items=MAX_TYPES,
                                 description="Event types (any of them)."),
                  "created": TimeRange(description="A Unix time, or created[gt|gte|lt|lte]."),
                  "delivery_success": Bool(description="Whether every webhook delivery "
                                                       "succeeded.")})
def list_events(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    page = PageRequest.from_params(p)
    kind = to_str(p["type"], "type") if p.get("type", "") != "" else None
    kinds = [to_str(t, f"types[{i}]") for i, t in enumerate(to_list(p.get("types", []),
                                                                     "types"))]
    if kind and kinds:
        raise InvalidRequest("You may only specify one of these parameters: type, types.",
                             param="type")
    return events.list_events(
        req.account_id, uow=req.uow, now=req.uow.clock(), limit=page.limit,
        starting_after=page.starting_after, ending_before=page.ending_before,
        types=[kind] if kind else kinds or None, created=_created(p.get("created")),
        delivery_success=(to_bool(p["delivery_success"], "delivery_success")
                          if p.get("delivery_success", "") != "" else None))


@endpoint("GET", "/v1/events/{id}")
def retrieve_event(req: ApiRequest) -> dict[str, Any]:
    return events.retrieve_event(req.id(), account_id=req.account_id, uow=req.uow,
                                 now=req.uow.clock())
