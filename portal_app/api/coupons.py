"""``/v1/coupons`` and ``/v1/promotion_codes``."""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import (
    optional_str,
    refuse_unknown,
    to_amount,
    to_bool,
    to_dict,
    to_float,
    to_int,
    to_metadata,
    to_str,
    to_timestamp,
)
from portal_app.api.pagination import PAGE_PARAMS, AnyCase, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Amount, Bool, Decimal, Hash, Id, Int, Metadata, Str, Timestamp
from portal_app.billing import coupons
from portal_app.billing.models import Coupon, PromotionCode
from portal_app.billing.objects import render_coupon, render_promotion_code
from portal_app.db import row_identity
from portal_app.errors import InvalidRequest

endpoint = Registry()


@endpoint("POST", "/v1/coupons",
          params={"id": Id(), "percent_off": Decimal(minimum=0, maximum=100),
                  "amount_off": Amount(), "currency": Str(max_length=3),
                  "duration": Str(enum=("forever", "once", "repeating")),
                  "duration_in_months": Int(minimum=1, maximum=1200),
                  "name": Str(max_length=40), "max_redemptions": Int(minimum=1),
                  "metadata": Metadata()})
def create_coupon(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    currency = optional_str(p, "currency") or None

    def opt_int(name: str) -> int | None:
        return to_int(p[name], name, minimum=1) if p.get(name) not in (None, "") else None

    coupon = coupons.create_coupon(
        account_id=req.account_id, uow=req.uow, id=optional_str(p, "id") or None,
        percent_off=(to_float(p["percent_off"], "percent_off")
                     if p.get("percent_off") not in (None, "") else None),
        amount_off=(to_amount(p["amount_off"], "amount_off", currency=currency)
                    if p.get("amount_off") not in (None, "") else None),
        currency=currency,
        duration=to_str(p.get("duration", "once"), "duration"),
        duration_in_months=opt_int("duration_in_months"), name=optional_str(p, "name") or None,
        max_redemptions=opt_int("max_redemptions"),
        metadata=to_metadata(p.get("metadata", {})))
    return render_coupon(coupon)


@endpoint("GET", "/v1/coupons/{id}")
def retrieve_coupon(req: ApiRequest) -> dict[str, Any]:
    return render_coupon(req.uow.get(Coupon, req.id(), account_id=req.account_id,
                                     label="coupon"))


@endpoint("GET", "/v1/coupons", params=PAGE_PARAMS)
def list_coupons(req: ApiRequest) -> dict[str, Any]:
    return paginate_request(req, Coupon, url="/v1/coupons", label="coupon",
                            render=lambda row, _s: render_coupon(row))


def _render_promotion(row: PromotionCode, session: Any) -> dict[str, Any]:
    coupon = session.get(Coupon, row_identity(Coupon, row.coupon_id, account_id=row.account_id))
    return render_promotion_code(row, coupon)


@endpoint("POST", "/v1/promotion_codes",
          params={"promotion": Hash({"type": Str(enum=("coupon",)), "coupon": Id()}),
                  "coupon": Id(), "code": Str(max_length=500), "active": Bool(),
                  "customer": Id(), "expires_at": Timestamp(), "max_redemptions": Int(minimum=1),
                  "restrictions": Hash({"first_time_transaction": Bool(),
                                        "minimum_amount": Amount(),
                                        "minimum_amount_currency": Str(max_length=3)}),
                  "metadata": Metadata()})
def create_promotion_code(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    promotion = to_dict(p.get("promotion") or {}, "promotion")
    refuse_unknown(promotion, ("type", "coupon"), prefix="promotion")
    if promotion.get("type", "coupon") != "coupon":
        raise InvalidRequest("Invalid promotion[type]: must be coupon",
                             param="promotion[type]")
    coupon = optional_str(promotion, "coupon") or optional_str(p, "coupon")
    if not coupon:
        raise InvalidRequest("Missing required param: promotion[coupon].",
                             param="promotion[coupon]", code="parameter_missing")
    restrictions = to_dict(p.get("restrictions") or {}, "restrictions")
    refuse_unknown(restrictions, ("first_time_transaction", "minimum_amount",
                                  "minimum_amount_currency"), prefix="restrictions")
    promo = coupons.create_promotion_code(
        account_id=req.account_id, uow=req.uow, coupon=coupon,
        code=optional_str(p, "code") or None, active=to_bool(p.get("active", True), "active"),
        customer=optional_str(p, "customer") or None,
        max_redemptions=(to_int(p["max_redemptions"], "max_redemptions", minimum=1)
                         if p.get("max_redemptions") not in (None, "") else None),
        expires_at=(to_timestamp(p["expires_at"], "expires_at")
                    if p.get("expires_at") not in (None, "") else None),
        first_time_transaction=to_bool(restrictions.get("first_time_transaction", False),
                                       "restrictions[first_time_transaction]"),
        minimum_amount=(to_amount(restrictions["minimum_amount"],
                                  "restrictions[minimum_amount]",
                                  currency=optional_str(restrictions, "minimum_amount_currency")
                                  or None)
                        if restrictions.get("minimum_amount") not in (None, "") else None),
        minimum_amount_currency=optional_str(restrictions, "minimum_amount_currency") or None,
        metadata=to_metadata(p.get("metadata", {})))
    return _render_promotion(promo, req.uow.session)


@endpoint("GET", "/v1/promotion_codes/{id}")
def retrieve_promotion_code(req: ApiRequest) -> dict[str, Any]:
    promo = coupons.retrieve_promotion_code(req.id(), account_id=req.account_id, uow=req.uow)
    return _render_promotion(promo, req.uow.session)


@endpoint("POST", "/v1/promotion_codes/{id}", params={"active": Bool(), "metadata": Metadata()})
def update_promotion_code(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    promo = coupons.update_promotion_code(
        req.id(), account_id=req.account_id, uow=req.uow,
        active=to_bool(p["active"], "active") if "active" in p else None,
        metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    return _render_promotion(promo, req.uow.session)


@endpoint("GET", "/v1/promotion_codes",
          params={**PAGE_PARAMS, "code": Str(max_length=500), "coupon": Id(), "customer": Id(),
                  "active": Bool()})
def list_promotion_codes(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    return paginate_request(
        req, PromotionCode, url="/v1/promotion_codes", label="promotion code",
        render=_render_promotion,
        filters={"code": AnyCase(code) if (code := optional_str(p, "code")) else None,
                 "coupon_id": optional_str(p, "coupon"),
                 "customer_id": optional_str(p, "customer"),
                 "active": to_bool(p["active"], "active") if "active" in p else None})
