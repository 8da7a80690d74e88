"""Portico's own API, with Stripe's conventions: ``/v1/portico/offers``,
``/v1/portico/experiments`` and ``/v1/portico/retention_policies``.

Same pipeline as the Stripe-compatible endpoints (form encoding, errors with
``param``, ``Idempotency-Key``, pagination); objects are named ``portico.*``.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from portal_app.api.forms import (
    refuse_unknown,
    required,
    to_amount,
    to_bool,
    to_dict,
    to_float,
    to_int,
    to_list,
    to_metadata,
    to_str,
)
from portal_app.api.pagination import PAGE_PARAMS, PageRequest, paginate
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.routes import endpoint as stripe_endpoints
from portal_app.api.schema import (
    Amount,
    Array,
    Bool,
    Decimal,
    Hash,
    Id,
    Int,
    Map,
    Metadata,
    Spec,
    Str,
)
from portal_app.clock import Clock, utc_now
from portal_app.errors import InvalidRequest
from portal_app.retention import experiments, offers, policies
from portal_app.retention.experiments import VariantSpec
from portal_app.retention.models import (
    DEFAULT_REASON,
    Experiment,
    ExperimentStatus,
    Offer,
    OfferType,
)
from portal_app.stripe_shapes import CANCELLATION_FEEDBACK

endpoint = Registry()

_REASON = Str(enum=CANCELLATION_FEEDBACK)
_REASON_KEYS = (*CANCELLATION_FEEDBACK, DEFAULT_REASON)  # offers per reason, or for any
_DAYS = Int(minimum=0, maximum=36500)
_COUPON_TERMS = Hash({"coupon": Id(), "percent_off": Decimal(minimum=0, maximum=100),
                      "amount_off": Amount(), "currency": Str(max_length=3),
                      "duration": Str(enum=("forever", "once", "repeating")),
                      "duration_in_months": Int(minimum=1, maximum=1200)})
_ELIGIBILITY_RULES = Hash({"reasons": Array(_REASON), "products": Array(Id()),
                           "prices": Array(Id()), "minimum_subscription_age_days": _DAYS,
                           "cooldown_days": _DAYS,
                           "max_redemptions_per_customer": Int(minimum=1, maximum=1000),
                           # Per subscription and offer kind: once a year unless given.
                           "max_redemptions_per_subscription": Int(
                               minimum=1, maximum=offers.MAX_REDEMPTIONS_PER_SUBSCRIPTION),
                           "redemption_window_months": Int(
                               minimum=1, maximum=offers.MAX_REDEMPTION_WINDOW_MONTHS)})
_OFFER_PARAMS: dict[str, Spec] = {
    "name": Str(max_length=200), "headline": Str(max_length=500),
    "coupon": _COUPON_TERMS,
    "pause": Hash({"interval": Str(enum=offers.PAUSE_INTERVALS),
                   "interval_count": Int(minimum=1, maximum=1000)}),
    "price_change": Hash({"price": Id(), "timing": Str(enum=offers.PRICE_CHANGE_TIMINGS)}),
    "trial_extension": Hash({"days": Int(minimum=1, maximum=730)}),
    "contact": Hash({"url": Str(), "email": Str(max_length=512)}),
    "eligibility": _ELIGIBILITY_RULES,
    "active": Bool(), "metadata": Metadata(),
}
_COUPON = tuple(_COUPON_TERMS.fields)
_ELIGIBILITY = tuple(_ELIGIBILITY_RULES.fields)


def _opt_int(given: dict[str, Any], key: str, param: str, *, minimum: int) -> int | None:
    """An optional integer; ``""`` clears it (None)."""
    value = given[key]
    return None if value == "" else to_int(value, param, minimum=minimum)


def _strings(value: Any, param: str) -> list[str]:
    return [to_str(v, f"{param}[{i}]") for i, v in enumerate(to_list(value, param))]


def _hash(params: dict[str, Any], name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    given = to_dict(params[name], name)
    refuse_unknown(given, allowed, prefix=name)
    return given


def _offer_fields(p: dict[str, Any]) -> dict[str, Any]:
    """The offer service's keywords from the form (only those given)."""
    fields: dict[str, Any] = {}
    for name in ("name", "headline"):
        if name in p:
            fields[name] = to_str(p[name], name)
    if "active" in p:
        fields["active"] = to_bool(p["active"], "active")
    if "metadata" in p:
        fields["metadata"] = to_metadata(p["metadata"])
    if "coupon" in p:
        coupon = _hash(p, "coupon", _COUPON)
        terms = {k: v for k, v in coupon.items() if k != "coupon"}
        if "coupon" in coupon:
            fields["coupon"] = to_str(coupon["coupon"], "coupon[coupon]") or None
        if terms:
            fields["new_coupon"] = {
                "percent_off": (to_float(terms["percent_off"], "coupon[percent_off]")
                                if terms.get("percent_off") not in (None, "") else None),
                "amount_off": (to_amount(terms["amount_off"], "coupon[amount_off]",
                                         currency=to_str(terms.get("currency") or "",
                                                         "coupon[currency]") or None)
                               if terms.get("amount_off") not in (None, "") else None),
                "currency": (to_str(terms["currency"], "coupon[currency]")
                             if terms.get("currency") else None),
                "duration": to_str(terms.get("duration", "once"), "coupon[duration]"),
                "duration_in_months": (
                    to_int(terms["duration_in_months"], "coupon[duration_in_months]",
                           minimum=1)
                    if terms.get("duration_in_months") not in (None, "") else None),
            }
    if "pause" in p:
        pause = _hash(p, "pause", ("interval", "interval_count"))
        if "interval" in pause:
            fields["pause_interval"] = to_str(pause["interval"], "pause[interval]") or None
        if "interval_count" in pause:
            fields["pause_interval_count"] = _opt_int(pause, "interval_count",
                                                      "pause[interval_count]", minimum=1)
    if "price_change" in p:
        change = _hash(p, "price_change", ("price", "timing"))
        if "price" in change:
            fields["price"] = to_str(change["price"], "price_change[price]") or None
        if "timing" in change:
            fields["price_change_timing"] = to_str(change["timing"],
                                                   "price_change[timing]") or None
    if "trial_extension" in p:
        extension = _hash(p, "trial_extension", ("days",))
        if "days" in extension:
            fields["extension_days"] = _opt_int(extension, "days", "trial_extension[days]",
                                                minimum=1)
    if "contact" in p:
        contact = _hash(p, "contact", ("url", "email"))
        for key in ("url", "email"):
            if key in contact:
                fields[f"contact_{key}"] = to_str(contact[key], f"contact[{key}]") or None
    if "eligibility" in p:
        rules = _hash(p, "eligibility", _ELIGIBILITY)
        for key in ("reasons", "products", "prices"):
            if key in rules:
                fields[key] = _strings(rules[key], f"eligibility[{key}]")
        if "minimum_subscription_age_days" in rules:
            fields["minimum_subscription_age_days"] = _opt_int(
                rules, "minimum_subscription_age_days",
                "eligibility[minimum_subscription_age_days]", minimum=0) or 0
        if "cooldown_days" in rules:
            fields["cooldown_days"] = _opt_int(rules, "cooldown_days",
                                               "eligibility[cooldown_days]", minimum=0)
        if "max_redemptions_per_customer" in rules:
            fields["max_redemptions_per_customer"] = _opt_int(
                rules, "max_redemptions_per_customer",
                "eligibility[max_redemptions_per_customer]", minimum=1)
        for key in ("max_redemptions_per_subscription", "redemption_window_months"):
            if key in rules:  # a limit, never "none": "" is refused
                fields[key] = to_int(rules[key], f"eligibility[{key}]", minimum=1)
    return fields


# --- offers ------------------------------------------------------------------------------


@endpoint("POST", "/v1/portico/offers",
          params={"type": Str(enum=tuple(OfferType)), **_OFFER_PARAMS},
          required=("type", "name"))
def create_offer(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    fields = _offer_fields(p)
    offer = offers.create_offer(account_id=req.account_id, uow=req.uow,
                                type=to_str(required(p, "type"), "type"),
                                name=fields.pop("name", None) or required(p, "name"),
                                **fields)
    return offers.render_offer(offer, req.uow)


@endpoint("GET", "/v1/portico/offers/{id}")
def retrieve_offer(req: ApiRequest) -> dict[str, Any]:
    return offers.render_offer(
        offers.retrieve_offer(req.id(), account_id=req.account_id, uow=req.uow), req.uow)


@endpoint("POST", "/v1/portico/offers/{id}", params=_OFFER_PARAMS)
def update_offer(req: ApiRequest) -> dict[str, Any]:
    fields = _offer_fields(req.params)
    if "new_coupon" in fields:
        raise InvalidRequest("A coupon offer's terms cannot change; give another "
                             "coupon[coupon] or create a new offer.",
                             param="coupon[percent_off]")
    offer = offers.update_offer(req.id(), account_id=req.account_id, uow=req.uow, **fields)
    return offers.render_offer(offer, req.uow)


@endpoint("DELETE", "/v1/portico/offers/{id}")
def delete_offer(req: ApiRequest) -> dict[str, Any]:
    return offers.delete_offer(req.id(), account_id=req.account_id, uow=req.uow)


@endpoint("GET", "/v1/portico/offers",
          params={**PAGE_PARAMS, "active": Bool(), "type": Str(enum=tuple(OfferType))})
def list_offers(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    kind = to_str(p["type"], "type") if p.get("type") else None
    if kind is not None and kind not in OfferType.__members__:
        raise InvalidRequest(f"Invalid type: must be one of {', '.join(OfferType)}",
                             param="type")
    return paginate(Offer, uow=req.uow, page=PageRequest.from_params(p),
                    url="/v1/portico/offers", account_id=req.account_id, label="offer",
                    render=lambda row, _s: offers.render_offer(row, req.uow),
                    filters={"active": to_bool(p["active"], "active") if "active" in p
                             else None,
                             "type": kind})


# --- experiments -------------------------------------------------------------------------

_EXPERIMENT_PARAMS: dict[str, Spec] = {
    "name": Str(max_length=200),
    "variants": Array(Hash({"name": Str(max_length=200), "weight": Int(minimum=1, maximum=1000),
                            "offers": Map(Id(), keys=_REASON_KEYS)}),
                      max_items=20),
    "reasons": Array(_REASON),
    "segments": Hash({"products": Array(Id()), "prices": Array(Id()),
                      "tenure_min_days": _DAYS, "tenure_max_days": _DAYS}),
    "holdout_percent": Decimal(minimum=0, maximum=100),
    "metadata": Metadata(),
}


def _variants(value: Any) -> list[VariantSpec]:
    specs = []
    for i, given in enumerate(to_list(value, "variants")):
        given = to_dict(given, f"variants[{i}]")
        refuse_unknown(given, ("name", "weight", "offers"), prefix=f"variants[{i}]")
        offers_given = to_dict(given.get("offers", {}), f"variants[{i}][offers]")
        specs.append(VariantSpec(
            name=to_str(given.get("name", ""), f"variants[{i}][name]"),
            weight=to_int(given.get("weight", 1), f"variants[{i}][weight]", minimum=1),
            offers={reason: to_str(offer, f"variants[{i}][offers][{reason}]")
                    for reason, offer in offers_given.items()}))
    return specs


def _experiment_fields(p: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "name" in p:
        fields["name"] = to_str(p["name"], "name")
    if "variants" in p:
        fields["variants"] = _variants(p["variants"])
    if "reasons" in p:
        fields["reasons"] = _strings(p["reasons"], "reasons")
    if "holdout_percent" in p:
        fields["holdout_percent"] = (to_float(p["holdout_percent"], "holdout_percent")
                                     if p["holdout_percent"] != "" else 0.0)
    if "metadata" in p:
        fields["metadata"] = to_metadata(p["metadata"])
    if "segments" in p:
        segments = _hash(p, "segments", ("products", "prices", "tenure_min_days",
                                         "tenure_max_days"))
        for key in ("products", "prices"):
            if key in segments:
                fields[f"segment_{key}"] = _strings(segments[key], f"segments[{key}]")
        for key in ("tenure_min_days", "tenure_max_days"):
            if key in segments:
                fields[key] = _opt_int(segments, key, f"segments[{key}]", minimum=0)
    return fields


def _render_experiment(req: ApiRequest, exp: Experiment) -> dict[str, Any]:
    return experiments.render_experiment(exp, req.uow)


@endpoint("POST", "/v1/portico/experiments",
          params={"configuration": Id(), **_EXPERIMENT_PARAMS},
          required=("configuration", "name", "variants"))
def create_experiment(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    fields = _experiment_fields(p)
    if "variants" not in fields:
        required(p, "variants")
    exp = experiments.create_experiment(
        account_id=req.account_id, uow=req.uow,
        configuration=to_str(required(p, "configuration"), "configuration"),
        name=fields.pop("name", None) or required(p, "name"), **fields)
    return _render_experiment(req, exp)


@endpoint("GET", "/v1/portico/experiments/{id}")
def retrieve_experiment(req: ApiRequest) -> dict[str, Any]:
    return _render_experiment(req, experiments.retrieve_experiment(
        req.id(), account_id=req.account_id, uow=req.uow))


@endpoint("POST", "/v1/portico/experiments/{id}", params=_EXPERIMENT_PARAMS)
def update_experiment(req: ApiRequest) -> dict[str, Any]:
    exp = experiments.update_experiment(req.id(), account_id=req.account_id, uow=req.uow,
                                        **_experiment_fields(req.params))
    return _render_experiment(req, exp)


@endpoint("GET", "/v1/portico/experiments",
          params={**PAGE_PARAMS, "configuration": Id(),
                  "status": Str(enum=tuple(ExperimentStatus))})
def list_experiments(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    status = to_str(p["status"], "status") if p.get("status") else None
    if status is not None and status not in ExperimentStatus.__members__:
        raise InvalidRequest("Invalid status: must be one of draft, running, or stopped",
                             param="status")
    return paginate(Experiment, uow=req.uow, page=PageRequest.from_params(p),
                    url="/v1/portico/experiments", account_id=req.account_id,
                    label="experiment",
                    render=lambda row, _s: experiments.render_experiment(row, req.uow),
                    filters={"configuration_id": (to_str(p["configuration"], "configuration")
                                                  if p.get("configuration") else None),
                             "status": status})


@endpoint("POST", "/v1/portico/experiments/{id}/start")
def start_experiment(req: ApiRequest) -> dict[str, Any]:
    return _render_experiment(req, experiments.start_experiment(
        req.id(), account_id=req.account_id, uow=req.uow))


@endpoint("POST", "/v1/portico/experiments/{id}/stop")
def stop_experiment(req: ApiRequest) -> dict[str, Any]:
    return _render_experiment(req, experiments.stop_experiment(
        req.id(), account_id=req.account_id, uow=req.uow))


@endpoint("POST", "/v1/portico/experiments/{id}/ship", params={"variant": Id()},
          required=("variant",))
def ship_variant(req: ApiRequest) -> dict[str, Any]:
    variant = to_str(required(req.params, "variant"), "variant")
    return _render_experiment(req, experiments.ship_variant(
        req.id(), variant_id=variant, account_id=req.account_id, uow=req.uow))


# --- retention policies ------------------------------------------------------------------


@endpoint("GET", "/v1/portico/retention_policies/{id}")
def retrieve_policy(req: ApiRequest) -> dict[str, Any]:
    policy = policies.retrieve_policy(req.id(), account_id=req.account_id, uow=req.uow)
    if policy is None:  # the configuration exists but has no policy yet: an empty one
        return {"id": None, "object": "portico.retention_policy", "comment_required": False,
                "configuration": req.id(), "created": None, "livemode": False, "offers": {},
                "updated": None}
    return policies.render_policy(policy)


@endpoint("POST", "/v1/portico/retention_policies/{id}",
          params={"offers": Map(Id(), keys=_REASON_KEYS), "comment_required": Bool()})
def update_policy(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    given = to_dict(p["offers"], "offers") if "offers" in p else None
    policy = policies.set_policy(
        req.id(), account_id=req.account_id, uow=req.uow,
        offers=({k: to_str(v, f"offers[{k}]") for k, v in given.items()}
                if given is not None else None),
        comment_required=(to_bool(p["comment_required"], "comment_required")
                          if "comment_required" in p else None))
    return policies.render_policy(policy)


def _without_catch_all(routes: list[Route]) -> list[Route]:
    # The Stripe API's own route list ends with the 404 for any other /v1 URL.
    return [r for r in routes if r.path != "/v1/{rest:path}"]


ROUTES = _without_catch_all(endpoint.routes())


def build_api(*, clock: Clock = utc_now, engine: Any = None) -> Starlette:
    """The Stripe-compatible API plus Portico's own (tests); ``clock`` is injectable."""
    return Starlette(routes=[*_without_catch_all(endpoint.routes(clock=clock, engine=engine)),
                             *stripe_endpoints.routes(clock=clock, engine=engine)])
