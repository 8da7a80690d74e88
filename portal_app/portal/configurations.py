"""Portal configurations: Stripe's ``billing_portal.configuration``, stored whole.

Every field Stripe accepts is validated, stored and returned, even those the
portal does not act on yet; absent fields take Stripe's defaults so the stored
object always has Stripe's complete shape.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import col, select

from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.objects import render_configuration
from portal_app.portal.models import PortalConfiguration
from portal_app.stripe_shapes import CANCELLATION_FEEDBACK

CANCELLATION_REASONS = CANCELLATION_FEEDBACK
CUSTOMER_UPDATES = ("address", "email", "name", "phone", "shipping", "tax_id")
SUBSCRIPTION_UPDATES = ("price", "promotion_code", "quantity")
PRORATION_BEHAVIORS = ("always_invoice", "create_prorations", "none")

DEFAULT_FEATURES: dict[str, Any] = {
    "customer_update": {"allowed_updates": [], "enabled": False},
    "invoice_history": {"enabled": False},
    "payment_method_update": {"enabled": False, "payment_method_configuration": None},
    "subscription_cancel": {
        "cancellation_reason": {"enabled": False, "feedback_options": None, "options": []},
        "enabled": False,
        "mode": "at_period_end",
        "proration_behavior": "none",
    },
    "subscription_pause": {
        "duration": {"interval_options": [], "type": "indefinite"},
        "enabled": False,
    },
    "subscription_update": {
        "billing_cycle_anchor": None,
        "default_allowed_updates": [],
        "enabled": False,
        "products": [],
        "proration_behavior": "none",
        "schedule_at_period_end": {"conditions": []},
        "trial_update_behavior": "end_trial",
    },
}
DEFAULT_BUSINESS_PROFILE = {"headline": None, "privacy_policy_url": None,
                            "terms_of_service_url": None}
DEFAULT_LOGIN_PAGE = {"enabled": False, "url": None}

# What a merchant gets before configuring anything: a portal that does everything.
GENEROUS_FEATURES: dict[str, Any] = {
    "customer_update": {"allowed_updates": ["email", "address", "name", "phone"],
                        "enabled": True},
    "invoice_history": {"enabled": True},
    "payment_method_update": {"enabled": True},
    "subscription_cancel": {
        "enabled": True, "mode": "at_period_end",
        "cancellation_reason": {"enabled": True, "options": list(CANCELLATION_REASONS)},
    },
}


def _merge(base: dict[str, Any], given: Mapping[str, Any], *, path: str) -> dict[str, Any]:
    """``given`` laid over ``base``; keys ``base`` lacks are refused (Stripe's unknown-param)."""
    out = copy.deepcopy(base)
    for key, value in _as_hash(given, path).items():
        param = f"{path}[{key}]"
        if key not in base:
            raise InvalidRequest(f"Received unknown parameter: {param}", param=param,
                                 code="parameter_unknown")
        if isinstance(base[key], dict):
            if value != "":  # "" leaves a hash as it is
                out[key] = _merge(base[key], _as_hash(value, param), path=param)
        elif value == "" and not isinstance(base[key], str):
            out[key] = [] if isinstance(base[key], list) else None  # "" unsets, as in Stripe
        elif isinstance(base[key], list) and not isinstance(value, list):
            raise InvalidRequest(f"Invalid array: {value!r}", param=param)
        else:
            out[key] = value
    return out


def _as_hash(value: Any, param: str) -> Mapping[str, Any]:
    """``value`` if it is a hash (a nested parameter), else Stripe's refusal."""
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"Invalid hash: {value!r}", param=param)
    return value


def _as_bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    raise InvalidRequest(f"Invalid boolean: {value}", param=param)


def _as_int(value: Any, param: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"Invalid integer: {value}", param=param) from None
    if number < 1:
        raise InvalidRequest(f"Invalid positive integer: {value}", param=param)
    return number


def _subset(values: Sequence[str], allowed: Sequence[str], param: str) -> list[str]:
    values = list(values or [])
    for value in values:
        if value not in allowed:
            raise InvalidRequest(
                f"Invalid {param}[]: must be one of {', '.join(allowed)}", param=param)
    return values


def _one_of(value: Any, allowed: Sequence[str], param: str) -> str:
    if value not in allowed:
        raise InvalidRequest(f"Invalid {param}: must be one of {', '.join(allowed)}",
                             param=param)
    return str(value)


def validate_url(value: Any, param: str) -> str:
    """An absolute http(s) URL. Raises InvalidRequest."""
    parts = urlsplit(str(value or ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest(f"Not a valid URL: {value!r}", param=param, code="url_invalid")
    return str(value)


def found(retrieve: Callable[[str], StripeObject], object_id: Any, *, param: str
          ) -> StripeObject:
    """The billing object ``retrieve(object_id)`` answers, its absence blamed on ``param``.

    A request names the parameter that held a missing id (``features[...][product]``),
    not the ``id`` a billing retrieve call blames. Raises ResourceMissing.
    """
    try:
        return retrieve(object_id)
    except ResourceMissing as missing:
        raise ResourceMissing(missing.message, param=param) from None


def _normalize_features(features: dict[str, Any], *, account_id: str, uow: UnitOfWork
                        ) -> dict[str, Any]:
    f = features
    p = "features"
    for name in DEFAULT_FEATURES:
        f[name]["enabled"] = _as_bool(f[name]["enabled"], f"{p}[{name}][enabled]")
    cu = f["customer_update"]
    cu["allowed_updates"] = _subset(cu["allowed_updates"], CUSTOMER_UPDATES,
                                    f"{p}[customer_update][allowed_updates]")
    sc = f["subscription_cancel"]
    sc["mode"] = _one_of(sc["mode"], ("at_period_end", "immediately"),
                         f"{p}[subscription_cancel][mode]")
    sc["proration_behavior"] = _one_of(sc["proration_behavior"], PRORATION_BEHAVIORS,
                                       f"{p}[subscription_cancel][proration_behavior]")
    reason = sc["cancellation_reason"]
    reason["enabled"] = _as_bool(reason["enabled"],
                                 f"{p}[subscription_cancel][cancellation_reason][enabled]")
    reason["options"] = _subset(reason["options"], CANCELLATION_REASONS,
                                f"{p}[subscription_cancel][cancellation_reason][options]")
    if reason["enabled"] and not reason["options"]:
        raise InvalidRequest("Cancellation reasons need at least one option.",
                             param=f"{p}[subscription_cancel][cancellation_reason][options]")
    pause = f["subscription_pause"]["duration"]
    pause["type"] = _one_of(pause["type"], ("indefinite", "interval_options"),
                            f"{p}[subscription_pause][duration][type]")
    options = []
    for i, option in enumerate(pause.get("interval_options") or []):
        param = f"{p}[subscription_pause][duration][interval_options][{i}]"
        option = _as_hash(option, param)
        interval = _one_of(option.get("interval"), ("day", "week", "month", "year"),
                           f"{param}[interval]")
        try:
            count = int(option.get("interval_count", 1))
        except (TypeError, ValueError):
            raise InvalidRequest("Invalid integer", param=f"{param}[interval_count]") from None
        if count < 1:
            raise InvalidRequest("Invalid positive integer", param=f"{param}[interval_count]")
        options.append({"interval": interval, "interval_count": count})
    pause["interval_options"] = options
    su = f["subscription_update"]
    su["default_allowed_updates"] = _subset(su["default_allowed_updates"], SUBSCRIPTION_UPDATES,
                                            f"{p}[subscription_update][default_allowed_updates]")
    su["proration_behavior"] = _one_of(su["proration_behavior"], PRORATION_BEHAVIORS,
                                       f"{p}[subscription_update][proration_behavior]")
    if su["billing_cycle_anchor"] is not None:
        su["billing_cycle_anchor"] = _one_of(su["billing_cycle_anchor"], ("now", "unchanged"),
                                             f"{p}[subscription_update][billing_cycle_anchor]")
    su["trial_update_behavior"] = _one_of(su["trial_update_behavior"],
                                          ("continue_trial", "end_trial"),
                                          f"{p}[subscription_update][trial_update_behavior]")
    conditions = []
    for i, condition in enumerate(su["schedule_at_period_end"].get("conditions") or []):
        condition = _as_hash(condition,
                             f"{p}[subscription_update][schedule_at_period_end][conditions][{i}]")
        kind = _one_of(condition.get("type"), ("decreasing_item_amount", "shortening_interval"),
                       f"{p}[subscription_update][schedule_at_period_end][conditions][{i}][type]")
        conditions.append({"type": kind})
    su["schedule_at_period_end"] = {"conditions": conditions}
    su["products"] = [_normalize_product(entry, index=i, account_id=account_id, uow=uow)
                      for i, entry in enumerate(su["products"] or [])]
    if su["enabled"] and not su["products"]:
        raise InvalidRequest("Missing required param: features[subscription_update][products].",
                             param=f"{p}[subscription_update][products]",
                             code="parameter_missing")
    return f


def _normalize_product(entry: Mapping[str, Any], *, index: int, account_id: str,
                       uow: UnitOfWork) -> dict[str, Any]:
    param = f"features[subscription_update][products][{index}]"
    entry = _as_hash(entry, param)
    billing = billing_provider(account_id, uow=uow)
    product = found(billing.retrieve_product, entry.get("product"), param=f"{param}[product]")
    prices = list(entry.get("prices") or [])
    if not prices:
        raise InvalidRequest(f"Missing required param: {param}[prices].",
                             param=f"{param}[prices]", code="parameter_missing")
    for j, price_id in enumerate(prices):
        price = found(billing.retrieve_price, price_id, param=f"{param}[prices][{j}]")
        if price["product"] != product["id"]:
            raise InvalidRequest(f"The price {price['id']} does not belong to {product['id']}.",
                                 param=f"{param}[prices][{j}]")
        if price["recurring"] is None:
            raise InvalidRequest(f"The price {price['id']} is not recurring.",
                                 param=f"{param}[prices][{j}]")
    quantity = {"enabled": False, "maximum": None, "minimum": 1}
    given = entry.get("adjustable_quantity") or {}
    quantity = _merge(quantity, given, path=f"{param}[adjustable_quantity]")
    quantity["enabled"] = _as_bool(quantity["enabled"], f"{param}[adjustable_quantity][enabled]")
    minimum = _as_int(quantity["minimum"], f"{param}[adjustable_quantity][minimum]")
    maximum = None
    if quantity["maximum"] not in (None, ""):
        maximum = _as_int(quantity["maximum"], f"{param}[adjustable_quantity][maximum]")
        if maximum < minimum:
            raise InvalidRequest("The maximum quantity must be at least the minimum.",
                                 param=f"{param}[adjustable_quantity][maximum]")
    quantity["minimum"], quantity["maximum"] = minimum, maximum
    return {"adjustable_quantity": quantity, "prices": prices, "product": product["id"]}


def _apply(config: PortalConfiguration, *, params: Mapping[str, Any], account_id: str,
           uow: UnitOfWork) -> None:
    if "business_profile" in params:
        config.business_profile = _merge(config.business_profile or DEFAULT_BUSINESS_PROFILE,
                                         params["business_profile"] or {},
                                         path="business_profile")
        for key in ("privacy_policy_url", "terms_of_service_url"):
            if config.business_profile.get(key):
                validate_url(config.business_profile[key], f"business_profile[{key}]")
    if "features" in params:
        merged = _merge(config.features or DEFAULT_FEATURES, params["features"] or {},
                        path="features")
        config.features = _normalize_features(merged, account_id=account_id, uow=uow)
    if "login_page" in params:
        page = _merge(config.login_page or DEFAULT_LOGIN_PAGE, params["login_page"] or {},
                      path="login_page")
        page["enabled"] = _as_bool(page["enabled"], "login_page[enabled]")
        # Portico serves no login page yet; keep Stripe's shape (url set when enabled).
        page["url"] = None
        config.login_page = page
    if "default_return_url" in params:
        url = params["default_return_url"]
        config.default_return_url = validate_url(url, "default_return_url") if url else None
    if "name" in params:
        config.name = params["name"] or None
    if "active" in params:
        config.active = _as_bool(params["active"], "active")
    if "metadata" in params:
        merged_meta = dict(config.metadata_)
        for key, value in (params["metadata"] or {}).items():
            if value in ("", None):
                merged_meta.pop(key, None)
            else:
                merged_meta[key] = str(value)
        config.metadata_ = merged_meta
    if "allowed_return_origins" in params:
        origins = []
        for i, origin in enumerate(params["allowed_return_origins"] or []):
            parts = urlsplit(validate_url(origin, f"allowed_return_origins[{i}]"))
            origins.append(f"{parts.scheme}://{parts.netloc}")
        config.allowed_return_origins = origins


# Every parameter a configuration accepts (``allowed_return_origins`` is Portico's own).
PARAMETERS = frozenset({"business_profile", "features", "login_page", "default_return_url",
                        "name", "active", "metadata", "allowed_return_origins", "expand"})


def create_configuration(params: Mapping[str, Any], *, account_id: str, uow: UnitOfWork,
                         is_default: bool | None = None) -> PortalConfiguration:
    """Create a configuration from Stripe's parameters. Raises InvalidRequest, ResourceMissing.

    The account's first configuration becomes its default.
    """
    _refuse_unknown(params)
    if "features" not in params:
        raise InvalidRequest("Missing required param: features.", param="features",
                             code="parameter_missing")
    with uow:
        now = uow.clock()
        config = PortalConfiguration(
            account_id=account_id, business_profile=copy.deepcopy(DEFAULT_BUSINESS_PROFILE),
            features=copy.deepcopy(DEFAULT_FEATURES), login_page=copy.deepcopy(DEFAULT_LOGIN_PAGE),
            created=now, updated=now,
        )
        _apply(config, params=params, account_id=account_id, uow=uow)
        has_default = uow.session.exec(
            select(PortalConfiguration.id).where(PortalConfiguration.account_id == account_id,
                                                 col(PortalConfiguration.is_default))
        ).first()
        config.is_default = is_default if is_default is not None else has_default is None
        uow.add(config)
        uow.flush()
        uow.events.append("billing_portal.configuration.created", render_configuration(config),
                          account_id=account_id)
        uow.commit()
        return config


def update_configuration(configuration_id: str, params: Mapping[str, Any], *, account_id: str,
                         uow: UnitOfWork) -> PortalConfiguration:
    """Update a configuration. Raises InvalidRequest, ResourceMissing."""
    _refuse_unknown(params)
    with uow:
        config = uow.get(PortalConfiguration, configuration_id, account_id=account_id,
                         label="configuration")
        before = render_configuration(config)
        _apply(config, params=params, account_id=account_id, uow=uow)
        if config.is_default and not config.active:
            raise InvalidRequest("The default configuration cannot be deactivated.",
                                 param="active")
        config.updated = uow.clock()
        uow.add(config)
        uow.flush()
        after = render_configuration(config)
        previous = {k: before[k] for k in after if before[k] != after[k] and k != "updated"}
        if previous:
            uow.events.append("billing_portal.configuration.updated", after,
                              account_id=account_id, previous_attributes=previous)
        uow.commit()
        return config


def default_configuration(*, account_id: str, uow: UnitOfWork) -> PortalConfiguration:
    """The account's default configuration, created (everything on) if it has none yet."""
    with uow:
        config = uow.session.exec(
            select(PortalConfiguration).where(PortalConfiguration.account_id == account_id,
                                              col(PortalConfiguration.is_default))
        ).first()
        if config is None:
            config = create_configuration({"features": GENEROUS_FEATURES},
                                          account_id=account_id, uow=uow, is_default=True)
        uow.commit()
        return config


def _refuse_unknown(params: Mapping[str, Any]) -> None:
    for key in params:
        if key not in PARAMETERS:
            raise InvalidRequest(f"Received unknown parameter: {key}", param=key)
