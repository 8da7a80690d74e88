"""Retention offers: create, change and list them, decide who may get one, apply one.

An offer answers a cancelling customer with something real: a coupon on coming
invoices, a pause, a cheaper price, a later billing date, or a way to talk to
the merchant. :func:`check_eligibility` says why a customer may not get an offer
(a stable rule code), :func:`eligible_offers` lists those they may get, and
:func:`apply_offer` carries one out for real, through the billing contract
(``billing_provider``): coupons, prices, products and the subscription itself are
the Stripe-shaped objects it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, func, or_, select

from portal_app.billing.provider import ItemChange, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix, to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.periods import shift
from portal_app.portal.configurations import CANCELLATION_REASONS, found, validate_url
from portal_app.retention.models import (
    DEFAULT_REASON,
    CancellationFlow,
    Experiment,
    FlowStatus,
    Offer,
    OfferType,
    RetentionPolicy,
    Variant,
)
from portal_app.stripe_shapes import current_period_end, is_licensed, recurring, subscription_items

PAUSE_INTERVALS = ("period", "day", "week", "month", "year")
PRICE_CHANGE_TIMINGS = ("period_end", "now")
MAX_PAUSE_DAYS = 366 * 2
MAX_EXTENSION_DAYS = 366
MAX_REDEMPTIONS_PER_SUBSCRIPTION = 1000
MAX_REDEMPTION_WINDOW_MONTHS = 120


class OfferNotEligible(InvalidRequest):
    """The customer may not get (or accept) this offer; ``rule`` says which rule refused."""

    default_code = "offer_not_eligible"

    def __init__(self, message: str, *, rule: str, param: str | None = None) -> None:
        super().__init__(message, param=param)
        self.rule = rule


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # "leave this field as it is" in update_offer


# --- managing offers ---------------------------------------------------------------------


def create_offer(*, account_id: str, uow: UnitOfWork, type: str, name: str,
                 headline: str | None = None, coupon: str | None = None,
                 new_coupon: Mapping[str, Any] | None = None,
                 pause_interval: str | None = None, pause_interval_count: int | None = None,
                 price: str | None = None, price_change_timing: str | None = None,
                 extension_days: int | None = None, contact_url: str | None = None,
                 contact_email: str | None = None, reasons: Sequence[str] = (),
                 products: Sequence[str] = (), prices: Sequence[str] = (),
                 minimum_subscription_age_days: int = 0, cooldown_days: int | None = None,
                 max_redemptions_per_customer: int | None = None,
                 max_redemptions_per_subscription: int = 1, redemption_window_months: int = 12,
                 active: bool = True, metadata: Mapping[str, str] | None = None,
                 source: str = "merchant") -> Offer:
    """Create an offer of ``type``; a coupon offer uses ``coupon`` or creates ``new_coupon``.

    ``max_redemptions_per_subscription`` offers of this kind (this one included) may be
    accepted on one subscription within ``redemption_window_months``: once a year by
    default, so that offers never stack.

    ``new_coupon`` takes billing's coupon fields (percent_off or amount_off and
    currency, duration, duration_in_months, name). Raises InvalidRequest, ResourceMissing.
    """
    if type not in OfferType.__members__:
        raise InvalidRequest(f"Invalid type: must be one of {', '.join(OfferType)}",
                             param="type")
    with uow:
        now = uow.clock()
        offer = Offer(account_id=account_id, type=OfferType(type), name="", created=now,
                      updated=now)
        if offer.type == OfferType.coupon and new_coupon is not None:
            if coupon:
                raise InvalidRequest("Give either coupon[coupon] or the new coupon's terms, "
                                     "not both.", param="coupon[coupon]")
            coupon = billing_provider(account_id, uow=uow).create_coupon(
                name=new_coupon.get("name") or name,
                **{k: v for k, v in new_coupon.items() if k != "name"})["id"]
        _set_fields(offer, uow=uow, name=name, headline=headline, coupon=coupon,
                    pause_interval=pause_interval, pause_interval_count=pause_interval_count,
                    price=price, price_change_timing=price_change_timing,
                    extension_days=extension_days, contact_url=contact_url,
                    contact_email=contact_email, reasons=reasons, products=products,
                    prices=prices, minimum_subscription_age_days=minimum_subscription_age_days,
                    cooldown_days=cooldown_days,
                    max_redemptions_per_customer=max_redemptions_per_customer,
                    max_redemptions_per_subscription=max_redemptions_per_subscription,
                    redemption_window_months=redemption_window_months, active=active,
                    metadata=metadata)
        offer.source = source
        _validate_type_fields(offer)
        uow.add(offer)
        uow.flush()
        uow.events.append("portico.offer.created", render_offer(offer, uow),
                          account_id=account_id)
        uow.commit()
        return offer


def update_offer(offer_id: str, *, account_id: str, uow: UnitOfWork, **changes_: Any) -> Offer:
    """Change an offer's fields (the keywords of :func:`create_offer` but ``type``).

    Fields not given stay as they are; ``None`` clears an optional one.
    Raises ResourceMissing, InvalidRequest.
    """
    allowed = {"name", "headline", "coupon", "pause_interval", "pause_interval_count", "price",
               "price_change_timing", "extension_days", "contact_url", "contact_email",
               "reasons", "products", "prices", "minimum_subscription_age_days",
               "cooldown_days", "max_redemptions_per_customer",
               "max_redemptions_per_subscription", "redemption_window_months", "active",
               "metadata"}
    unknown = set(changes_) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidRequest(f"Received unknown parameter: {name}", param=name)
    with uow:
        offer = retrieve_offer(offer_id, account_id=account_id, uow=uow)
        before = render_offer(offer, uow)
        _set_fields(offer, uow=uow, **changes_)
        _validate_type_fields(offer)
        offer.updated = uow.clock()
        uow.add(offer)
        uow.flush()
        after = render_offer(offer, uow)
        previous = {k: before[k] for k in after if before[k] != after[k] and k != "updated"}
        if previous:
            uow.events.append("portico.offer.updated", after, account_id=account_id,
                              previous_attributes=previous)
        uow.commit()
        return offer


def retrieve_offer(offer_id: str, *, account_id: str, uow: UnitOfWork) -> Offer:
    """One offer of the account. Raises ResourceMissing."""
    with uow:
        return uow.get(Offer, offer_id, account_id=account_id, label="offer")


def list_offers(*, account_id: str, uow: UnitOfWork, active: bool | None = None,
                type: str | None = None) -> list[Offer]:
    """The account's offers, newest first."""
    with uow:
        query = select(Offer).where(Offer.account_id == account_id)
        if active is not None:
            query = query.where(Offer.active == active)
        if type is not None:
            query = query.where(Offer.type == OfferType(type))
        return list(uow.session.exec(
            query.order_by(col(Offer.created).desc(), col(Offer.id).desc())).all())


def delete_offer(offer_id: str, *, account_id: str, uow: UnitOfWork) -> dict[str, Any]:
    """Delete an offer nobody has used yet; a used one can only be deactivated.

    Raises ResourceMissing, InvalidRequest (``offer_in_use``).
    """
    with uow:
        offer = retrieve_offer(offer_id, account_id=account_id, uow=uow)
        if offer_in_use(offer, uow=uow):
            raise InvalidRequest(
                "This offer has been shown to customers or is part of a policy or experiment; "
                "deactivate it with active=false instead.", code="offer_in_use")
        snapshot = render_offer(offer, uow)
        uow.session.delete(offer)
        uow.flush()
        uow.events.append("portico.offer.deleted", snapshot, account_id=account_id)
        uow.commit()
        return {"id": offer_id, "object": "portico.offer", "deleted": True}


def offer_in_use(offer: Offer, *, uow: UnitOfWork) -> bool:
    """Whether a flow, a policy or an experiment variant refers to ``offer``."""
    if uow.session.exec(select(CancellationFlow.id).where(
            CancellationFlow.offer_id == offer.id)).first():
        return True
    policies = uow.session.exec(select(RetentionPolicy.offers).where(
        RetentionPolicy.account_id == offer.account_id)).all()
    if any(offer.id in mapping.values() for mapping in policies):
        return True
    variants = uow.session.exec(
        select(Variant.offers).join(Experiment, col(Experiment.id) == Variant.experiment_id)
        .where(Experiment.account_id == offer.account_id)).all()
    return any(offer.id in mapping.values() for mapping in variants)


def _set_fields(offer: Offer, *, uow: UnitOfWork, name: Any = UNSET, headline: Any = UNSET,
                coupon: Any = UNSET, pause_interval: Any = UNSET,
                pause_interval_count: Any = UNSET, price: Any = UNSET,
                price_change_timing: Any = UNSET, extension_days: Any = UNSET,
                contact_url: Any = UNSET, contact_email: Any = UNSET, reasons: Any = UNSET,
                products: Any = UNSET, prices: Any = UNSET,
                minimum_subscription_age_days: Any = UNSET, cooldown_days: Any = UNSET,
                max_redemptions_per_customer: Any = UNSET,
                max_redemptions_per_subscription: Any = UNSET,
                redemption_window_months: Any = UNSET, active: Any = UNSET,
                metadata: Any = UNSET) -> None:
    provider = billing_provider(offer.account_id, uow=uow)
    if name is not UNSET:
        if not name or not str(name).strip():
            raise InvalidRequest("Missing required param: name.", param="name",
                                 code="parameter_missing")
        offer.name = str(name).strip()
    if headline is not UNSET:
        offer.headline = headline or None
    if coupon is not UNSET:
        if coupon:
            found(provider.retrieve_coupon, coupon, param="coupon[coupon]")
        offer.coupon_id = coupon or None
    if pause_interval is not UNSET:
        if pause_interval is not None and pause_interval not in PAUSE_INTERVALS:
            raise InvalidRequest(f"Invalid pause[interval]: must be one of "
                                 f"{', '.join(PAUSE_INTERVALS)}", param="pause[interval]")
        offer.pause_interval = pause_interval
    if pause_interval_count is not UNSET:
        offer.pause_interval_count = _positive(pause_interval_count, "pause[interval_count]")
    if price is not UNSET:
        if price:
            target = found(provider.retrieve_price, price, param="price_change[price]")
            if target["recurring"] is None or not target["active"]:
                raise InvalidRequest("The price of a price change offer must be an active "
                                     "recurring price.", param="price_change[price]")
        offer.price_id = price or None
    if price_change_timing is not UNSET:
        if price_change_timing is not None and price_change_timing not in PRICE_CHANGE_TIMINGS:
            raise InvalidRequest("Invalid price_change[timing]: must be one of period_end, now",
                                 param="price_change[timing]")
        offer.price_change_timing = price_change_timing
    if extension_days is not UNSET:
        offer.extension_days = _positive(extension_days, "trial_extension[days]",
                                         maximum=MAX_EXTENSION_DAYS)
    if contact_url is not UNSET:
        if contact_url:
            validate_url(contact_url, "contact[url]")
        offer.contact_url = contact_url or None
    if contact_email is not UNSET:
        if contact_email and "@" not in contact_email:
            raise InvalidRequest(f"Invalid email address: {contact_email}",
                                 param="contact[email]", code="email_invalid")
        offer.contact_email = contact_email or None
    if reasons is not UNSET:
        for i, reason in enumerate(reasons or ()):
            if reason not in CANCELLATION_REASONS:
                raise InvalidRequest(f"Invalid reason: must be one of "
                                     f"{', '.join(CANCELLATION_REASONS)}",
                                     param=f"eligibility[reasons][{i}]")
        offer.reasons = list(dict.fromkeys(reasons or ()))
    if products is not UNSET:
        for i, product in enumerate(products or ()):
            found(provider.retrieve_product, product, param=f"eligibility[products][{i}]")
        offer.product_ids = list(dict.fromkeys(products or ()))
    if prices is not UNSET:
        for i, price_id in enumerate(prices or ()):
            found(provider.retrieve_price, price_id, param=f"eligibility[prices][{i}]")
        offer.price_ids = list(dict.fromkeys(prices or ()))
    if minimum_subscription_age_days is not UNSET:
        offer.minimum_subscription_age_days = _non_negative(
            minimum_subscription_age_days or 0, "eligibility[minimum_subscription_age_days]")
    if cooldown_days is not UNSET:
        offer.cooldown_days = (None if cooldown_days is None else
                               _non_negative(cooldown_days, "eligibility[cooldown_days]"))
    if max_redemptions_per_customer is not UNSET:
        offer.max_redemptions_per_customer = _positive(
            max_redemptions_per_customer, "eligibility[max_redemptions_per_customer]")
    if max_redemptions_per_subscription is not UNSET:
        offer.max_redemptions_per_subscription = _required_positive(
            max_redemptions_per_subscription, "eligibility[max_redemptions_per_subscription]",
            maximum=MAX_REDEMPTIONS_PER_SUBSCRIPTION)
    if redemption_window_months is not UNSET:
        offer.redemption_window_months = _required_positive(
            redemption_window_months, "eligibility[redemption_window_months]",
            maximum=MAX_REDEMPTION_WINDOW_MONTHS)
    if active is not UNSET:
        offer.active = bool(active)
    if metadata is not UNSET:
        merged = dict(offer.metadata_)
        for key, value in (metadata or {}).items():
            if value in ("", None):
                merged.pop(key, None)
            else:
                merged[key] = str(value)
        offer.metadata_ = merged


def _positive(value: Any, param: str, *, maximum: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"Invalid positive integer: {value}", param=param)
    if maximum is not None and value > maximum:
        raise InvalidRequest(f"{param} must be at most {maximum}.", param=param)
    return value


def _required_positive(value: Any, param: str, *, maximum: int) -> int:
    """A positive integer that must be given: None is refused, not "no limit"."""
    checked = _positive(value, param, maximum=maximum)
    if checked is None:
        raise InvalidRequest(f"Invalid positive integer: {value}", param=param)
    return checked


def _non_negative(value: Any, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"Invalid non-negative integer: {value}", param=param)
    return value


_TYPE_FIELDS: dict[OfferType, tuple[tuple[str, str], ...]] = {
    OfferType.coupon: (("coupon_id", "coupon[coupon]"),),
    OfferType.pause: (("pause_interval", "pause[interval]"),
                      ("pause_interval_count", "pause[interval_count]")),
    OfferType.price_change: (("price_id", "price_change[price]"),
                             ("price_change_timing", "price_change[timing]")),
    OfferType.trial_extension: (("extension_days", "trial_extension[days]"),),
    OfferType.contact: (),
}


def _validate_type_fields(offer: Offer) -> None:
    """The fields of the offer's type are set, and those of other types are not."""
    if offer.type == OfferType.price_change and offer.price_change_timing is None:
        offer.price_change_timing = "period_end"
    for attr, param in _TYPE_FIELDS[offer.type]:
        if getattr(offer, attr) in (None, ""):
            raise InvalidRequest(f"Missing required param: {param}.", param=param,
                                 code="parameter_missing")
    for other, fields in _TYPE_FIELDS.items():
        if other == offer.type:
            continue
        for attr, param in fields:
            if getattr(offer, attr) not in (None, ""):
                raise InvalidRequest(f"{param} does not apply to a {offer.type} offer.",
                                     param=param)
    contact_set = offer.contact_url or offer.contact_email
    if offer.type == OfferType.contact and not contact_set:
        raise InvalidRequest("Missing required param: contact[url] or contact[email].",
                             param="contact[url]", code="parameter_missing")
    if offer.type != OfferType.contact and contact_set:
        raise InvalidRequest(f"contact does not apply to a {offer.type} offer.",
                             param="contact[url]")
    if offer.type == OfferType.pause:
        assert offer.pause_interval is not None and offer.pause_interval_count is not None
        if offer.pause_interval != "period":
            days = (shift(_EPOCH, offer.pause_interval, offer.pause_interval_count)
                    - _EPOCH).days
            if days > MAX_PAUSE_DAYS:
                raise InvalidRequest("A pause can last at most two years.",
                                     param="pause[interval_count]")


_EPOCH = datetime(2000, 1, 1)


def render_offer(offer: Offer, uow: UnitOfWork) -> dict[str, Any]:
    """The offer as the API shows it (``object: portico.offer``)."""
    coupon = None
    if offer.type == OfferType.coupon and offer.coupon_id:
        try:
            terms = billing_provider(offer.account_id, uow=uow).retrieve_coupon(offer.coupon_id)
        except ResourceMissing:  # deleted since: the offer still shows which it was
            terms = {}
        coupon = {"coupon": offer.coupon_id,
                  **{key: terms.get(key) for key in ("percent_off", "amount_off", "currency",
                                                     "duration", "duration_in_months")}}
    return {
        "id": offer.id,
        "object": "portico.offer",
        "active": offer.active,
        "contact": ({"email": offer.contact_email, "url": offer.contact_url}
                    if offer.type == OfferType.contact else None),
        "coupon": coupon,
        "created": to_unix(offer.created),
        "eligibility": {
            "cooldown_days": offer.cooldown_days,
            "max_redemptions_per_customer": offer.max_redemptions_per_customer,
            "max_redemptions_per_subscription": offer.max_redemptions_per_subscription,
            "minimum_subscription_age_days": offer.minimum_subscription_age_days,
            "prices": list(offer.price_ids),
            "products": list(offer.product_ids),
            "reasons": list(offer.reasons),
            "redemption_window_months": offer.redemption_window_months,
        },
        "headline": offer.headline,
        "livemode": False,
        "metadata": dict(offer.metadata_),
        "name": offer.name,
        "pause": ({"interval": offer.pause_interval,
                   "interval_count": offer.pause_interval_count}
                  if offer.type == OfferType.pause else None),
        "price_change": ({"price": offer.price_id, "timing": offer.price_change_timing}
                         if offer.type == OfferType.price_change else None),
        "source": offer.source,
        "trial_extension": ({"days": offer.extension_days}
                            if offer.type == OfferType.trial_extension else None),
        "type": str(offer.type),
        "updated": to_unix(offer.updated),
    }


# --- eligibility -------------------------------------------------------------------------

LIVE = ("active", "trialing")


def check_eligibility(offer: Offer, *, subscription: StripeObject, reason: str | None,
                      uow: UnitOfWork) -> str | None:
    """Why this subscription's customer may not get ``offer`` now (a rule code), or None.

    ``subscription`` is the billing contract's subscription object. Rule codes:
    ``offer_inactive``, ``subscription_not_live``, ``reason_not_targeted``,
    ``product_not_targeted``, ``price_not_targeted``, ``subscription_too_new``,
    ``recently_accepted_offer``, ``redemption_limit_reached``,
    ``subscription_redemption_limit_reached``, and per type ``coupon_unusable``,
    ``already_paused``, ``price_not_cheaper``, ``price_incompatible``.
    Accepting re-checks this under :func:`portal_app.retention.flows.accept_offer`'s lock
    on the subscription's flows, so two acceptances at once cannot both pass it.
    """
    now = uow.clock()
    sub = subscription
    if not offer.active:
        return "offer_inactive"
    if sub["status"] not in LIVE or sub["cancel_at_period_end"] or sub["cancel_at"] is not None:
        return "subscription_not_live"
    if offer.reasons and reason not in offer.reasons:
        return "reason_not_targeted"
    prices = [item["price"] for item in subscription_items(sub)]
    if offer.product_ids and not any(p["product"] in offer.product_ids for p in prices):
        return "product_not_targeted"
    if offer.price_ids and not any(p["id"] in offer.price_ids for p in prices):
        return "price_not_targeted"
    if now - from_unix(sub["start_date"]) < timedelta(days=offer.minimum_subscription_age_days):
        return "subscription_too_new"
    accepted = select(func.count()).select_from(CancellationFlow).where(
        CancellationFlow.account_id == offer.account_id,
        CancellationFlow.customer_id == sub["customer"],
        CancellationFlow.status == FlowStatus.offer_accepted)
    if offer.cooldown_days is not None and uow.session.exec(accepted.where(
            col(CancellationFlow.accepted_at) > now - timedelta(days=offer.cooldown_days))
    ).one():
        return "recently_accepted_offer"
    if offer.max_redemptions_per_customer is not None and uow.session.exec(accepted.where(
            CancellationFlow.offer_id == offer.id)).one() >= offer.max_redemptions_per_customer:
        return "redemption_limit_reached"
    if redemptions_on_subscription(offer, subscription_id=sub["id"], uow=uow) \
            >= offer.max_redemptions_per_subscription:
        return "subscription_redemption_limit_reached"
    return _type_rule(offer, sub=sub, uow=uow, now=now)


def redemptions_on_subscription(offer: Offer, *, subscription_id: str, uow: UnitOfWork
                                ) -> int:
    """How many offers of ``offer``'s kind (it included) were accepted on the subscription
    within its ``redemption_window_months``."""
    since = shift(uow.clock(), "month", -offer.redemption_window_months)
    return uow.session.exec(select(func.count()).select_from(CancellationFlow).where(
        CancellationFlow.account_id == offer.account_id,
        CancellationFlow.subscription_id == subscription_id,
        CancellationFlow.status == FlowStatus.offer_accepted,
        or_(col(CancellationFlow.offer_id) == offer.id,
            col(CancellationFlow.offer_type) == offer.type),
        col(CancellationFlow.accepted_at) > since)).one()


def _type_rule(offer: Offer, *, sub: StripeObject, uow: UnitOfWork, now: datetime
               ) -> str | None:
    provider = billing_provider(offer.account_id, uow=uow)
    if offer.type == OfferType.coupon:
        coupon = _retrieve_or_none(provider.retrieve_coupon, offer.coupon_id)
        if coupon is None or not coupon["valid"] \
                or (coupon["redeem_by"] and from_unix(coupon["redeem_by"]) < now) \
                or (coupon["max_redemptions"] is not None
                    and coupon["times_redeemed"] >= coupon["max_redemptions"]) \
                or (coupon["currency"] and coupon["currency"] != sub["currency"]):
            return "coupon_unusable"
    if offer.type in (OfferType.pause, OfferType.trial_extension) and sub["pause_collection"]:
        return "already_paused"
    if offer.type == OfferType.price_change:
        target = _retrieve_or_none(provider.retrieve_price, offer.price_id)
        prices = [item["price"] for item in subscription_items(sub)]
        licensed = [price for price in prices if is_licensed(price)]
        if target is None or not target["active"] or len(prices) != 1 or len(licensed) != 1:
            return "price_incompatible"
        current = licensed[0]
        if target["id"] == current["id"] or target["currency"] != current["currency"] \
                or not is_licensed(target) \
                or _interval(target) != _interval(current):
            return "price_incompatible"
        if target["unit_amount"] >= current["unit_amount"]:
            return "price_not_cheaper"
    return None


def _retrieve_or_none(retrieve: Callable[[str], StripeObject], object_id: str | None
                      ) -> StripeObject | None:
    """The object, or None when it is gone (an offer may outlive its coupon or price)."""
    if not object_id:
        return None
    try:
        return retrieve(object_id)
    except ResourceMissing:
        return None


def _interval(price: StripeObject) -> tuple[str | None, int | None]:
    terms = recurring(price)
    return terms.get("interval"), terms.get("interval_count")


def ensure_eligible(offer: Offer, *, subscription: StripeObject, reason: str | None,
                    uow: UnitOfWork) -> None:
    """Raise OfferNotEligible (with its ``rule``) unless the customer may get ``offer``."""
    rule = check_eligibility(offer, subscription=subscription, reason=reason, uow=uow)
    if rule is not None:
        raise OfferNotEligible("This offer is not available for this subscription.",
                               rule=rule, param="offer")


def eligible_offers(*, account_id: str, subscription_id: str, reason: str | None,
                    uow: UnitOfWork, customer_id: str | None = None) -> list[Offer]:
    """The account's active offers this subscription's customer may get for ``reason``.

    ``customer_id`` restricts to that customer's subscription. Raises ResourceMissing.
    """
    with uow:
        sub = billing_provider(account_id, uow=uow).retrieve_subscription(
            subscription_id, customer_id=customer_id)
        return [offer for offer in list_offers(account_id=account_id, uow=uow, active=True)
                if offer.source == "merchant"
                and check_eligibility(offer, subscription=sub, reason=reason, uow=uow) is None]


def offer_for_reason(mapping: Mapping[str, str], reason: str | None) -> str | None:
    """The offer id a reason → offer mapping gives ``reason`` (or its ``default``)."""
    if reason and reason in mapping:
        return mapping[reason]
    return mapping.get(DEFAULT_REASON)


# --- what an offer means for one subscription --------------------------------------------


@dataclass(frozen=True)
class OfferView:
    """An offer as the cancel page shows it for one subscription; money in minor units."""

    id: str
    type: str
    name: str
    headline: str | None
    currency: str
    # coupon
    percent_off: float | None = None
    amount_off: int | None = None
    duration: str | None = None  # once | repeating | forever
    duration_in_months: int | None = None
    # pause
    pause_interval: str | None = None
    pause_interval_count: int | None = None
    resumes_at: datetime | None = None
    # price_change
    price_id: str | None = None
    product_name: str | None = None
    current_amount: int | None = None  # per billing period, the subscription's quantity
    new_amount: int | None = None
    saving: int | None = None  # per billing period
    interval: str | None = None
    interval_count: int | None = None
    effective_at: datetime | None = None
    # trial_extension
    extension_days: int | None = None
    next_billing_at: datetime | None = None  # after accepting
    # contact
    contact_url: str | None = None
    contact_email: str | None = None


def offer_view(offer: Offer, *, subscription: StripeObject, uow: UnitOfWork) -> OfferView:
    """What ``offer`` would give this subscription (the contract's object), ready to show.

    Raises ResourceMissing (the offer's coupon or price is gone).
    """
    sub = subscription
    now = uow.clock()
    provider = billing_provider(offer.account_id, uow=uow)
    base: dict[str, Any] = {"id": offer.id, "type": str(offer.type), "name": offer.name,
                            "headline": offer.headline, "currency": sub["currency"]}
    if offer.type == OfferType.coupon:
        assert offer.coupon_id is not None
        coupon = provider.retrieve_coupon(offer.coupon_id)
        base.update(percent_off=coupon["percent_off"], amount_off=coupon["amount_off"],
                    duration=coupon["duration"],
                    duration_in_months=coupon["duration_in_months"])
    elif offer.type == OfferType.pause:
        base.update(pause_interval=offer.pause_interval,
                    pause_interval_count=offer.pause_interval_count,
                    resumes_at=pause_resumes_at(offer, sub, uow=uow))
    elif offer.type == OfferType.price_change:
        assert offer.price_id is not None
        items = subscription_items(sub)
        target = provider.retrieve_price(offer.price_id)
        product = provider.retrieve_product(target["product"])
        quantity = items[0]["quantity"] if items else 1
        current = items[0]["price"]["unit_amount"] * quantity if items else None
        new = target["unit_amount"] * quantity
        terms = recurring(target)
        base.update(price_id=target["id"], product_name=product["name"],
                    current_amount=current, new_amount=new,
                    saving=(current - new) if current is not None else None,
                    interval=terms.get("interval"), interval_count=terms.get("interval_count"),
                    effective_at=(now if offer.price_change_timing == "now"
                                  else current_period_end(sub)))
    elif offer.type == OfferType.trial_extension:
        base.update(extension_days=offer.extension_days,
                    next_billing_at=current_period_end(sub)
                    + timedelta(days=offer.extension_days or 0))
    elif offer.type == OfferType.contact:
        base.update(contact_url=offer.contact_url, contact_email=offer.contact_email)
    return OfferView(**base)


def pause_resumes_at(offer: Offer, sub: StripeObject, *, uow: UnitOfWork) -> datetime:
    """When a pause accepted now ends: N billing periods after the current one, or N intervals."""
    assert offer.pause_interval is not None and offer.pause_interval_count is not None
    if offer.pause_interval == "period":
        terms = recurring(subscription_items(sub)[0]["price"])
        return shift(current_period_end(sub), terms["interval"],
                     terms["interval_count"] * offer.pause_interval_count)
    return shift(uow.clock(), offer.pause_interval, offer.pause_interval_count)


def apply_offer(offer: Offer, *, subscription: StripeObject, customer_id: str,
                uow: UnitOfWork) -> dict[str, Any]:
    """Carry out ``offer`` on the subscription through the billing contract; what it did.

    Runs in the caller's unit of work (the provider joins it, so the change and the
    caller's flow step commit together, and its events carry the caller's origin).
    Raises InvalidRequest (the billing provider's codes), ResourceMissing.
    """
    sub = subscription
    provider = billing_provider(offer.account_id, uow=uow)
    if offer.type == OfferType.coupon:
        provider.update_subscription(sub["id"], customer_id=customer_id,
                                     coupon=offer.coupon_id, proration_behavior="none")
        return {"coupon": offer.coupon_id}
    if offer.type == OfferType.pause:
        resumes_at = pause_resumes_at(offer, sub, uow=uow)
        provider.pause_subscription(sub["id"], customer_id=customer_id, behavior="void",
                                    resumes_at=resumes_at)
        return {"resumes_at": to_unix(resumes_at)}
    if offer.type == OfferType.price_change:
        switch = [ItemChange(id=subscription_items(sub)[0]["id"], price=offer.price_id)]
        if offer.price_change_timing == "now":
            # Cheaper now: the unused time comes back as a credit, never a charge.
            provider.update_subscription(sub["id"], customer_id=customer_id, items=switch,
                                         proration_behavior="create_prorations")
            effective = uow.clock()
        else:
            provider.schedule_subscription_update(sub["id"], customer_id=customer_id,
                                                  items=switch)
            effective = current_period_end(sub)
        return {"price": offer.price_id, "effective_at": to_unix(effective)}
    if offer.type == OfferType.trial_extension:
        assert offer.extension_days is not None
        updated = provider.extend_trial(
            sub["id"], customer_id=customer_id,
            trial_end=current_period_end(sub) + timedelta(days=offer.extension_days))
        return {"next_billing_at": to_unix(current_period_end(updated))}
    return {"contact": {"url": offer.contact_url, "email": offer.contact_email}}
