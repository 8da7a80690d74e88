"""The rules of a plan or quantity change in the portal, and making it.

``features.subscription_update`` of the session's configuration decides, as Stripe's
portal does: which updates are on (``default_allowed_updates``: price, quantity,
promotion_code), which products and prices an item may switch to (same currency and
usage type; on a multi-item subscription also the same interval; never a price another
item already has), the quantity bounds, the ``proration_behavior``, and which changes
wait for the period end (``schedule_at_period_end.conditions``: a decreasing amount per
time, a shortening interval). A merchant's ``subscription_update_confirm`` link brings
its own change (:func:`plan_flow`). To change a plan-change rule, edit this module.

A change is previewed and applied through the billing provider with the same arguments;
the preview's ``version`` and ``proration_date`` come back with the confirmation, so the
applied change bills exactly what the customer confirmed, and a stale or doubled
confirmation is refused (``subscription_changed``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from portal_app.billing.provider import BillingProvider, ItemChange, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.portal.models import PortalSession
from portal_app.portal.refusals import PortalRefusal
from portal_app.portal.subscription_actions import (
    CustomerSubscription,
    ItemRow,
    load_subscription,
    origin,
)
from portal_app.stripe_shapes import is_metered, price_interval

# Relative period lengths, to compare interval lengths and amounts per time.
DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
PER_YEAR = {"day": 365, "week": 52, "month": 12, "year": 1}


@dataclass(frozen=True)
class ChangeRequest:
    """What the customer picked on the change-plan page (ids from the browser: untrusted)."""

    subscription_id: str
    item_id: str
    price_id: str
    quantity: int
    promotion_code: str = ""


@dataclass(frozen=True)
class PriceChoice:
    """A price the configuration lets an item switch to, with its product."""

    price: StripeObject
    product: StripeObject


@dataclass(frozen=True)
class ItemOptions:
    """What the configuration lets the customer change about one item."""

    subscription: CustomerSubscription
    row: ItemRow  # the item being changed
    choices: tuple[PriceChoice, ...]  # configured prices it may switch to (price updates on)
    price_enabled: bool
    quantity_enabled: bool
    quantity_min: int
    quantity_max: int  # 0: no maximum
    promotion_code_enabled: bool


@dataclass(frozen=True)
class ChangePlan:
    """A checked change and how it is applied."""

    items: tuple[ItemChange, ...]
    proration_behavior: str
    schedule_at_period_end: bool
    promotion_code: str | None
    coupon: str | None
    new_plan: str  # "Growth", "3 × Growth": what the customer gets


def _update(features: Mapping[str, Any]) -> Mapping[str, Any]:
    return features.get("subscription_update") or {}


def _allowed(features: Mapping[str, Any]) -> set[str]:
    return set(_update(features).get("default_allowed_updates") or [])


def _configured(features: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {p["product"]: p for p in _update(features).get("products") or []}


def _bounds(features: Mapping[str, Any], product_id: str) -> Mapping[str, Any]:
    return (_configured(features).get(product_id) or {}).get("adjustable_quantity") or {}


def _updatable(session: PortalSession, subscription_id: str, *, uow: UnitOfWork
               ) -> CustomerSubscription:
    subscription = load_subscription(session, subscription_id, uow=uow)
    actions = subscription.actions()
    if not actions.can_update:
        raise PortalRefusal(actions.update_reason or "not_allowed")
    return subscription


def allowed_prices(subscription: CustomerSubscription, row: ItemRow, *,
                   provider: BillingProvider) -> list[PriceChoice]:
    """Configured prices ``row`` may switch to: same currency and usage type; on a
    multi-item subscription also the same interval; no price another item already has."""
    others = {r.price["id"] for r in subscription.items if r.id != row.id}
    currency = subscription.subscription["currency"]
    out = []
    for entry in _configured(subscription.features).values():
        try:
            product = provider.retrieve_product(entry["product"])
        except ResourceMissing:
            continue
        if not product["active"]:
            continue
        for price_id in entry["prices"]:
            try:
                candidate = provider.retrieve_price(price_id)
            except ResourceMissing:
                continue
            if not candidate["active"] or candidate["id"] in others:
                continue
            if candidate["currency"] != currency or is_metered(candidate) != row.metered:
                continue
            if len(subscription.items) > 1 and \
                    price_interval(candidate) != price_interval(row.price):
                continue
            out.append(PriceChoice(candidate, product))
    return out


def item_options(session: PortalSession, subscription_id: str, *, uow: UnitOfWork,
                 item_id: str | None = None) -> ItemOptions:
    """What may change about ``item_id`` (default: the first item).

    Raises ResourceMissing, InvalidRequest (a refusal code: why no change is possible;
    ``resource_missing`` for an ``item_id`` that is not one of the subscription's).
    """
    with uow:
        subscription = _updatable(session, subscription_id, uow=uow)
        row = next((r for r in subscription.items if r.id == item_id), None) if item_id \
            else subscription.items[0]
        if row is None:  # a crafted id: never another item in its place
            raise PortalRefusal("resource_missing")
        allowed = _allowed(subscription.features)
        choices = allowed_prices(subscription, row,
                                 provider=billing_provider(session.account_id, uow=uow)) \
            if "price" in allowed else []
        bounds = _bounds(subscription.features, row.product["id"])
        return ItemOptions(
            subscription=subscription, row=row, choices=tuple(choices),
            price_enabled="price" in allowed,
            quantity_enabled=("quantity" in allowed and bool(bounds.get("enabled"))
                              and not row.metered),
            quantity_min=int(bounds.get("minimum") or 1),
            quantity_max=int(bounds.get("maximum") or 0),
            promotion_code_enabled="promotion_code" in allowed)


# --- which changes wait for the period end ---------------------------------------------


def _rate(price: Mapping[str, Any], quantity: int) -> Fraction:
    interval = price_interval(price)
    assert interval is not None
    return Fraction(int(price["unit_amount"]) * quantity * PER_YEAR[interval[0]], interval[1])


def period_days(price: Mapping[str, Any]) -> int:
    """A recurring price's period in (approximate) days, to order intervals by length."""
    interval = price_interval(price)
    assert interval is not None
    return DAYS[interval[0]] * interval[1]


def schedule_at_period_end(conditions: Sequence[Mapping[str, Any]],
                           changed: Sequence[tuple[Mapping[str, Any], int,
                                                   Mapping[str, Any], int]]) -> bool:
    """Whether the configured conditions send a change to the period end.

    ``changed`` holds (old price, old quantity, new price, new quantity) per changed
    item, prices as Stripe objects. ``decreasing_item_amount``: an item costs less per
    unit of time afterwards; ``shortening_interval``: an item is billed more often
    afterwards.
    """
    kinds = {c.get("type") for c in conditions}
    for old_price, old_qty, new_price, new_qty in changed:
        if "decreasing_item_amount" in kinds and _rate(new_price, new_qty) < _rate(old_price,
                                                                                   old_qty):
            return True
        if "shortening_interval" in kinds and period_days(new_price) < period_days(old_price):
            return True
    return False


def _conditions(features: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return (_update(features).get("schedule_at_period_end") or {}).get("conditions") or []


def _plan(items: Sequence[ItemChange], features: Mapping[str, Any], *, scheduled: bool,
          promotion_code: str | None, coupon: str | None, new_plan: str) -> ChangePlan:
    if scheduled and (promotion_code or coupon):
        # A discount starts now; a change at the period end has nothing to apply it to yet.
        raise InvalidRequest("Discounts apply now; they cannot be scheduled.",
                             param="promotion_code" if promotion_code else "coupon")
    return ChangePlan(items=tuple(items),
                      proration_behavior=_update(features).get("proration_behavior")
                      or "create_prorations",
                      schedule_at_period_end=scheduled, promotion_code=promotion_code,
                      coupon=coupon, new_plan=new_plan)


# --- the customer's change, and a merchant's confirm link -------------------------------


def _check_quantity(features: Mapping[str, Any], product_id: str, price: Mapping[str, Any],
                    quantity: int) -> None:
    bounds = _bounds(features, product_id)
    if "quantity" not in _allowed(features) or not bounds.get("enabled") or is_metered(price):
        raise PortalRefusal("not_allowed")
    low, high = int(bounds.get("minimum") or 1), bounds.get("maximum")
    if quantity < low or (high and quantity > int(high)):
        if high:
            raise PortalRefusal("quantity_out_of_range", minimum=low, maximum=high)
        raise PortalRefusal("quantity_too_low", minimum=low)


def plan_request(session: PortalSession, request: ChangeRequest, *, uow: UnitOfWork
                 ) -> ChangePlan:
    """Check the customer's request against the configuration and decide how it applies.

    Raises ResourceMissing, InvalidRequest (a refusal code).
    """
    provider = billing_provider(session.account_id, uow=uow)
    subscription = _updatable(session, request.subscription_id, uow=uow)
    features = subscription.features
    row = next((r for r in subscription.items if r.id == request.item_id), None)
    if row is None:
        raise PortalRefusal("resource_missing")
    allowed = _allowed(features)
    new_price, new_product = row.price, row.product
    if request.price_id != row.price["id"]:
        choices = allowed_prices(subscription, row, provider=provider) \
            if "price" in allowed else []
        chosen = next((c for c in choices if c.price["id"] == request.price_id), None)
        if chosen is None:
            try:
                wanted = provider.retrieve_price(request.price_id)
            except ResourceMissing:
                raise PortalRefusal("not_allowed") from None
            if is_metered(wanted) != row.metered:
                raise PortalRefusal("metered_price_change")
            raise PortalRefusal("not_allowed")
        new_price, new_product = chosen.price, chosen.product
    if request.quantity != row.quantity:
        _check_quantity(features, new_product["id"], new_price, request.quantity)
    promotion = None
    if request.promotion_code.strip():
        if "promotion_code" not in allowed:
            raise PortalRefusal("not_allowed")
        promotion = provider.retrieve_promotion_code_by_code(request.promotion_code.strip())["id"]
    price_changed = new_price["id"] != row.price["id"]
    if not price_changed and request.quantity == row.quantity and promotion is None:
        raise PortalRefusal("no_change")
    change = ItemChange(id=row.id, price=new_price["id"] if price_changed else None,
                        quantity=request.quantity if request.quantity != row.quantity else None)
    scheduled = schedule_at_period_end(_conditions(features),
                                       [(row.price, row.quantity, new_price, request.quantity)])
    new_plan = new_product["name"] if request.quantity == 1 and \
        new_product["id"] != row.product["id"] else f"{request.quantity} × {new_product['name']}"
    return _plan([change], features, scheduled=scheduled, promotion_code=promotion,
                 coupon=None, new_plan=new_plan)


def plan_flow(session: PortalSession, subscription_id: str, *, uow: UnitOfWork
              ) -> ChangePlan:
    """The change a merchant's ``subscription_update_confirm`` link asks to confirm.

    Raises ResourceMissing, InvalidRequest (a refusal code).
    """
    flow = session.flow or {}
    detail = flow.get("subscription_update_confirm") or {}
    if flow.get("type") != "subscription_update_confirm" or \
            detail.get("subscription") != subscription_id:
        raise PortalRefusal("not_allowed")
    provider = billing_provider(session.account_id, uow=uow)
    subscription = load_subscription(session, subscription_id, uow=uow)
    reason = subscription.actions().update_reason
    if reason:
        raise PortalRefusal(reason)
    by_id = {row.id: row for row in subscription.items}
    items, changed, names = [], [], []
    for given in detail.get("items") or []:
        items.append(ItemChange(id=given.get("id"), price=given.get("price"),
                                quantity=given.get("quantity")))
        old = by_id.get(given.get("id") or "")
        new_price = provider.retrieve_price(given["price"]) if given.get("price") \
            else (old.price if old else None)
        if new_price is None:
            continue
        quantity = given.get("quantity") or (old.quantity if old else 1)
        product = provider.retrieve_product(new_price["product"])
        names.append(product["name"] if quantity == 1 else f"{quantity} × {product['name']}")
        if old is not None:
            changed.append((old.price, old.quantity, new_price, quantity))
    discounts = detail.get("discounts") or [{}]
    return _plan(items, subscription.features,
                 scheduled=schedule_at_period_end(_conditions(subscription.features), changed),
                 promotion_code=discounts[0].get("promotion_code"),
                 coupon=discounts[0].get("coupon"), new_plan=", ".join(names))


# --- preview and apply -------------------------------------------------------------------


def preview(session: PortalSession, subscription_id: str, plan: ChangePlan, *,
            uow: UnitOfWork) -> StripeObject:
    """The provider's ``subscription_update_preview`` of ``plan``; changes nothing.

    Raises ResourceMissing, InvalidRequest.
    """
    return billing_provider(session.account_id, uow=uow).preview_subscription_update(
        subscription_id, customer_id=session.customer_id, items=plan.items,
        proration_behavior=plan.proration_behavior, coupon=plan.coupon,
        promotion_code=plan.promotion_code, schedule_at_period_end=plan.schedule_at_period_end)


def _apply(session: PortalSession, subscription_id: str, plan: ChangePlan, *, version: str,
           proration_date: int | None, uow: UnitOfWork) -> StripeObject:
    uow.origin = origin(session)
    provider = billing_provider(session.account_id, uow=uow)
    if plan.schedule_at_period_end:
        provider.schedule_subscription_update(subscription_id, customer_id=session.customer_id,
                                              items=plan.items, expected_version=version)
        return provider.retrieve_subscription(subscription_id, customer_id=session.customer_id)
    return provider.update_subscription(
        subscription_id, customer_id=session.customer_id, items=plan.items,
        proration_behavior=plan.proration_behavior,
        proration_date=from_unix(proration_date) if proration_date else None,
        coupon=plan.coupon, promotion_code=plan.promotion_code, expected_version=version)


def confirm_update(session: PortalSession, request: ChangeRequest, *, version: str,
                   uow: UnitOfWork, proration_date: int | None = None) -> StripeObject:
    """Apply a previewed change, only if the subscription is as it was previewed.

    ``version`` and ``proration_date`` are the preview's: the prorations are computed as
    of the preview, so what is billed is what was shown. Raises InvalidRequest
    (``subscription_changed`` when the subscription changed since), CardDeclined.
    """
    with uow:
        plan = plan_request(session, request, uow=uow)
        sub = _apply(session, request.subscription_id, plan, version=version,
                     proration_date=proration_date, uow=uow)
        uow.commit()
        return sub


def confirm_flow(session: PortalSession, subscription_id: str, *, version: str,
                 uow: UnitOfWork, proration_date: int | None = None) -> StripeObject:
    """Apply the change of a ``subscription_update_confirm`` link, as previewed.

    Raises ResourceMissing, InvalidRequest (``subscription_changed``...), CardDeclined.
    """
    with uow:
        plan = plan_flow(session, subscription_id, uow=uow)
        sub = _apply(session, subscription_id, plan, version=version,
                     proration_date=proration_date, uow=uow)
        uow.commit()
        return sub
