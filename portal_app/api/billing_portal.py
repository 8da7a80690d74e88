"""``/v1/billing_portal``: configurations and the sessions a merchant creates."""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import optional_str, required, to_bool, to_dict, to_str
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Array, Bool, Hash, Id, Int, Metadata, Quantity, Spec, Str
from portal_app.objects import render_configuration, render_session
from portal_app.portal import configurations, sessions
from portal_app.portal.models import PortalConfiguration

endpoint = Registry()


_PRORATION = Str(enum=configurations.PRORATION_BEHAVIORS)
_FEATURES = Hash({
    "customer_update": Hash({
        "allowed_updates": Array(Str(enum=configurations.CUSTOMER_UPDATES)),
        "enabled": Bool()}),
    "invoice_history": Hash({"enabled": Bool()}),
    "payment_method_update": Hash({"enabled": Bool(), "payment_method_configuration": Id()}),
    "subscription_cancel": Hash({
        "cancellation_reason": Hash({
            "enabled": Bool(),
            "options": Array(Str(enum=configurations.CANCELLATION_REASONS))}),
        "enabled": Bool(),
        "mode": Str(enum=("at_period_end", "immediately")),
        "proration_behavior": _PRORATION}),
    "subscription_pause": Hash({
        "duration": Hash({
            "interval_options": Array(Hash({
                "interval": Str(enum=("day", "week", "month", "year")),
                "interval_count": Int(minimum=1, maximum=1000)})),
            "type": Str(enum=("indefinite", "interval_options"))}),
        "enabled": Bool()}),
    "subscription_update": Hash({
        "billing_cycle_anchor": Str(enum=("now", "unchanged")),
        "default_allowed_updates": Array(Str(enum=configurations.SUBSCRIPTION_UPDATES)),
        "enabled": Bool(),
        "products": Array(Hash({
            "product": Id(), "prices": Array(Id()),
            "adjustable_quantity": Hash({"enabled": Bool(), "maximum": Quantity(minimum=1),
                                         "minimum": Quantity(minimum=1)})},
            required=("product", "prices"))),
        "proration_behavior": _PRORATION,
        "schedule_at_period_end": Hash({"conditions": Array(Hash({
            "type": Str(enum=("decreasing_item_amount", "shortening_interval"))}))}),
        "trial_update_behavior": Str(enum=("continue_trial", "end_trial"))}),
}, description="What the portal lets a customer do.")

_CONFIGURATION_PARAMS: dict[str, Spec] = {
    "business_profile": Hash({"headline": Str(max_length=60), "privacy_policy_url": Str(),
                              "terms_of_service_url": Str()}),
    "features": _FEATURES,
    "login_page": Hash({"enabled": Bool()}),
    "default_return_url": Str(),
    "name": Str(max_length=256),
    "active": Bool(),
    "metadata": Metadata(),
    "allowed_return_origins": Array(Str(), max_items=100,
                                    description="Portico's own: where return_url may point."),
}


@endpoint("POST", "/v1/billing_portal/configurations", params=_CONFIGURATION_PARAMS,
          required=("features",))
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


@endpoint("GET", "/v1/billing_portal/configurations",
          params={**PAGE_PARAMS, "active": Bool(), "is_default": Bool()})
def list_configurations(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    return paginate_request(
        req, PortalConfiguration, url="/v1/billing_portal/configurations",
        label="configuration", render=lambda row, _s: render_configuration(row),
        filters={"active": to_bool(p["active"], "active") if "active" in p else None,
                 "is_default": (to_bool(p["is_default"], "is_default")
                                if "is_default" in p else None)})


_SUBSCRIPTION = Hash({"subscription": Id()}, required=("subscription",))
_FLOW_DATA = Hash({
    "type": Str(enum=sessions.FLOW_TYPES),
    "after_completion": Hash({
        "type": Str(enum=sessions.AFTER_COMPLETION),
        "redirect": Hash({"return_url": Str()}, required=("return_url",)),
        "hosted_confirmation": Hash({"custom_message": Str(max_length=500)})},
        required=("type",)),
    "subscription_cancel": Hash({
        "subscription": Id(),
        "retention": Hash({"type": Str(enum=("coupon_offer",)),
                           "coupon_offer": Hash({"coupon": Id()}, required=("coupon",))},
                          required=("type",))},
        required=("subscription",)),
    "subscription_pause": _SUBSCRIPTION,
    "subscription_update": _SUBSCRIPTION,
    "subscription_update_confirm": Hash({
        "subscription": Id(),
        "items": Array(Hash({"id": Id(), "price": Id(), "quantity": Quantity()}),
                       max_items=20),
        "discounts": Array(Hash({"coupon": Id(), "promotion_code": Id()}), max_items=1)},
        required=("subscription", "items")),
}, required=("type",), description="A deep link: the flow the session opens.")


@endpoint("POST", "/v1/billing_portal/sessions",
          params={"customer": Id(), "configuration": Id(), "return_url": Str(),
                  "locale": Str(enum=tuple(sessions.accepted_locales())), "on_behalf_of": Id(),
                  "flow_data": _FLOW_DATA},
          required=("customer",))
def create_session(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    # The response holds the session's token, sealed under the Idempotency-Key
    # (api/idempotency.py): the key must not also be stored on an event this request
    # writes (the account's default configuration, made on its first session).
    req.uow.idempotency_key = None
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
