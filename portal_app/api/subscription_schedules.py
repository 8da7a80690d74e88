"""``/v1/subscription_schedules``: from a subscription, phases, release, cancel."""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import (
    optional_str,
    refuse_unknown,
    to_dict,
    to_int,
    to_list,
    to_metadata,
    to_str,
)
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Array, Bool, Hash, Id, Int, Metadata, Quantity, Str, Timestamp
from portal_app.billing import schedules
from portal_app.billing.models import SubscriptionSchedule
from portal_app.billing.objects import render_subscription_schedule
from portal_app.errors import InvalidRequest

endpoint = Registry()


def _render_schedule(row: SubscriptionSchedule, session: Any) -> dict[str, Any]:
    return render_subscription_schedule(row, session)


_END_BEHAVIOR = Str(enum=("cancel", "none", "release", "renew"))
_PRORATION_BEHAVIOR = Str(enum=("always_invoice", "create_prorations", "none"))
_PHASES = Array(Hash({
    "items": Array(Hash({"price": Id(), "quantity": Quantity(minimum=1)}), max_items=20),
    "start_date": Timestamp(now=True), "end_date": Timestamp(),
    "iterations": Int(minimum=1, maximum=1000), "proration_behavior": _PRORATION_BEHAVIOR,
    "metadata": Metadata()}), max_items=10)


@endpoint("POST", "/v1/subscription_schedules",
          params={"from_subscription": Id(), "customer": Id(), "phases": _PHASES,
                  "start_date": Timestamp(now=True), "end_behavior": _END_BEHAVIOR,
                  "metadata": Metadata()})
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
            end_behavior=optional_str(p, "end_behavior"),
            metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    return _render_schedule(schedule, req.uow.session)


@endpoint("GET", "/v1/subscription_schedules/{id}")
def retrieve_subscription_schedule(req: ApiRequest) -> dict[str, Any]:
    schedule = schedules.retrieve_subscription_schedule(req.id(), account_id=req.account_id,
                                                        uow=req.uow)
    return _render_schedule(schedule, req.uow.session)


_PHASE = ("items", "start_date", "end_date", "iterations", "proration_behavior", "metadata")


@endpoint("POST", "/v1/subscription_schedules/{id}",
          params={"phases": _PHASES, "end_behavior": _END_BEHAVIOR, "metadata": Metadata(),
                  "proration_behavior": _PRORATION_BEHAVIOR})
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
                items.append({"price": optional_str(item, "price"),
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
                "proration_behavior": optional_str(phase, "proration_behavior"),
            })
    schedule = schedules.update_subscription_schedule(
        req.id(), account_id=req.account_id, uow=req.uow, phases=phases,
        end_behavior=optional_str(p, "end_behavior"),
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    return _render_schedule(schedule, req.uow.session)


@endpoint("POST", "/v1/subscription_schedules/{id}/release",
          params={"preserve_cancel_date": Bool()})
def release_subscription_schedule(req: ApiRequest) -> dict[str, Any]:
    schedule = schedules.release_subscription_schedule(req.id(), account_id=req.account_id,
                                                       uow=req.uow)
    return _render_schedule(schedule, req.uow.session)


@endpoint("POST", "/v1/subscription_schedules/{id}/cancel",
          params={"invoice_now": Bool(), "prorate": Bool()})
def cancel_subscription_schedule(req: ApiRequest) -> dict[str, Any]:
    schedule = schedules.cancel_subscription_schedule(req.id(), account_id=req.account_id,
                                                      uow=req.uow)
    return _render_schedule(schedule, req.uow.session)


@endpoint("GET", "/v1/subscription_schedules", params={**PAGE_PARAMS, "customer": Id()})
def list_subscription_schedules(req: ApiRequest) -> dict[str, Any]:
    return paginate_request(req, SubscriptionSchedule, url="/v1/subscription_schedules",
                            label="subscription schedule", render=_render_schedule,
                            filters={"customer_id": optional_str(req.params, "customer")})
