"""What a customer may do with a subscription in the portal, as the configuration decides.

The merchant's ``billing_portal.configuration`` governs the portal the way
Stripe's does: ``features.subscription_update`` (which updates, which products
and prices, quantity bounds, proration, which changes wait for the period end),
``features.subscription_cancel`` (mode, proration) and ``features.subscription_pause``
(durations). These functions apply it and call the ledger
(:mod:`portal_app.billing.changes`) for the session's customer only; every change
records the portal session and configuration it came from (``uow.origin``).

Everything returned for display is a view model: text already translated and
money and dates already formatted in the customer's locale. Refusals are the
ledger's :class:`InvalidRequest` with a stable ``code``; :func:`error_message`
turns any of them into a sentence for the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from babel import numbers
from sqlmodel import col, or_, select

from portal_app import i18n
from portal_app.billing import changes, meters
from portal_app.billing import services as billing
from portal_app.billing.changes import ChangePreview, ItemChange, ScheduledChange
from portal_app.billing.models import (
    Coupon,
    CouponDuration,
    Discount,
    Interval,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from portal_app.billing.periods import shift
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork
from portal_app.errors import BillingError, CardError, InvalidRequest
from portal_app.i18n import _
from portal_app.portal.models import PortalConfiguration, PortalSession
from portal_app.portal.overview import (
    INTERVAL_MANY,
    INTERVAL_ONE,
    SHOWN_STATUSES,
    SubscriptionView,
    _subscription_view,
)
from portal_app.routes import PORTAL

Flow = Literal["subscription_update", "subscription_update_confirm", "subscription_cancel",
               "subscription_pause"]

# --- messages ------------------------------------------------------------------------------

# The ledger's refusal codes as the customer reads them.
REFUSALS: dict[str, str] = {
    "subscription_changed": _("This subscription changed while you were looking at it. "
                              "Please review the new preview."),
    "pending_scheduled_change": _("A change is already scheduled for this subscription. "
                                  "Cancel it first to make another change."),
    "subscription_past_due": _("Your last payment failed. Update your payment method or "
                               "cancel the subscription."),
    "metered_price_change": _("Usage-based and fixed prices can't be exchanged for each "
                              "other: choose a price of the same kind."),
    "currency_mismatch": _("That plan is billed in another currency."),
    "interval_mismatch": _("All items of a subscription must share one billing interval."),
    "no_change": _("Choose a different plan or quantity to continue."),
    "subscription_paused": _("Payments for this subscription are paused. Resume it first."),
    "subscription_not_paused": _("This subscription is not paused."),
    "subscription_canceled": _("This subscription has already ended."),
    "cancel_scheduled": _("This subscription is set to cancel. Renew it first to change it."),
    "promotion_code_invalid": _("This promotion code isn't valid."),
    "coupon_expired": _("This promotion code has expired."),
    "not_allowed": _("This change isn't available for your subscription."),
    "quantity_out_of_range": _("Choose a quantity between {minimum} and {maximum}."),
    "quantity_too_low": _("Choose a quantity of at least {minimum}."),
    "incomplete": _("This subscription is waiting for its first payment."),
    "resource_missing": _("We couldn't find that subscription."),
    "payment_method_missing": _("Add a payment method first: this change is charged now."),
}
CARD_ERRORS: dict[str, str] = {
    "generic_decline": _("Your card was declined."),
    "insufficient_funds": _("Your card has insufficient funds."),
    "lost_card": _("Your card was declined."),
    "stolen_card": _("Your card was declined."),
    "expired_card": _("Your card has expired."),
    "incorrect_cvc": _("Your card's security code is incorrect."),
    "processing_error": _("An error occurred while processing your card. Try again in a "
                          "little bit."),
}
SOMETHING_WRONG = _("Something went wrong. Please try again.")
INTERVAL_NAMES = {Interval.day: _("Daily"), Interval.week: _("Weekly"),
                  Interval.month: _("Monthly"), Interval.year: _("Yearly")}
PAUSE_ONE = {Interval.day: _("1 day"), Interval.week: _("1 week"), Interval.month: _("1 month"),
             Interval.year: _("1 year")}
PAUSE_MANY = {Interval.day: _("{count} days"), Interval.week: _("{count} weeks"),
              Interval.month: _("{count} months"), Interval.year: _("{count} years")}
# Relative period lengths, to compare amounts per time and interval lengths.
DAYS = {Interval.day: 1, Interval.week: 7, Interval.month: 30, Interval.year: 365}
PER_YEAR = {Interval.day: 365, Interval.week: 52, Interval.month: 12, Interval.year: 1}


def error_message(error: BillingError, *, locale: str, **values: object) -> str:
    """A refusal of the ledger or of this module as one sentence in ``locale``."""
    if isinstance(error, CardError):
        message = CARD_ERRORS.get(error.decline_code or "", CARD_ERRORS["generic_decline"])
        return i18n.gettext(locale, message)
    if error.code == "resource_missing" and error.param == "default_payment_method":
        return i18n.gettext(locale, REFUSALS["payment_method_missing"])
    refusal = REFUSALS.get(error.code or "")
    if refusal is None:
        return i18n.gettext(locale, SOMETHING_WRONG)
    return i18n.gettext(locale, refusal, **{**getattr(error, "values", {}), **values})


class PortalRefusal(InvalidRequest):
    """A change the configuration does not allow (``code`` is a key of :data:`REFUSALS`)."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(REFUSALS[code].format(**values) if values else REFUSALS[code],
                         code=code)
        self.values = values


# --- reading ----------------------------------------------------------------------------


def origin(session: PortalSession) -> dict[str, str]:
    """What events of a portal change record as their origin."""
    return {"portal_session": session.id, "configuration": session.configuration_id}


def _features(session: PortalSession, uow: UnitOfWork) -> dict[str, Any]:
    config = uow.get(PortalConfiguration, session.configuration_id,
                     account_id=session.account_id, label="configuration")
    return config.features or {}


def _subscription(session: PortalSession, subscription_id: str, uow: UnitOfWork
                  ) -> Subscription:
    """The session customer's subscription; anyone else's is ResourceMissing."""
    return billing.retrieve_subscription(subscription_id, account_id=session.account_id,
                                         uow=uow, customer_id=session.customer_id)


def _items(sub: Subscription, uow: UnitOfWork) -> list[tuple[SubscriptionItem, Price, Product]]:
    return [tuple(row) for row in uow.session.exec(  # type: ignore[misc]
        select(SubscriptionItem, Price, Product)
        .where(SubscriptionItem.subscription_id == sub.id,
               SubscriptionItem.price_id == Price.id, Price.product_id == Product.id)
        .order_by(col(SubscriptionItem.position), col(SubscriptionItem.id))
    ).all()]


def _pending(session: PortalSession, sub: Subscription, uow: UnitOfWork
             ) -> ScheduledChange | None:
    return changes.pending_change(sub.id, account_id=session.account_id, uow=uow,
                                  customer_id=session.customer_id)


def _paused(sub: Subscription) -> bool:
    return bool(sub.pause_collection) or sub.status == SubscriptionStatus.paused


# --- what the customer may do -------------------------------------------------------------


@dataclass(frozen=True)
class Actions:
    """What the customer may do with one subscription; a ``*_reason`` is a refusal code."""

    can_update: bool = False
    update_reason: str = ""  # why "Update plan" is refused although the feature is on
    can_cancel: bool = False
    can_pause: bool = False
    can_resume: bool = False
    can_reactivate: bool = False
    can_cancel_scheduled_change: bool = False


def _updatable_items(features: dict[str, Any], rows: Sequence[tuple[SubscriptionItem, Price,
                                                                    Product]]) -> bool:
    update = features.get("subscription_update") or {}
    allowed = set(update.get("default_allowed_updates") or [])
    products = {p["product"]: p for p in update.get("products") or []}
    if "price" in allowed and products:
        return True
    if "quantity" in allowed:
        return any(product.id in products
                   and products[product.id]["adjustable_quantity"].get("enabled")
                   and price.usage_type != "metered"
                   for _item, price, product in rows)
    return "promotion_code" in allowed


def subscription_actions(session: PortalSession, subscription_id: str, *, uow: UnitOfWork
                         ) -> Actions:
    """What the configuration and the subscription's state allow. Raises ResourceMissing."""
    with uow:
        features = _features(session, uow)
        sub = _subscription(session, subscription_id, uow)
        return _actions(sub, features, _pending(session, sub, uow), _items(sub, uow))


def _actions(sub: Subscription, features: dict[str, Any], pending: ScheduledChange | None,
             rows: Sequence[tuple[SubscriptionItem, Price, Product]]) -> Actions:
    status = sub.status
    if status in (SubscriptionStatus.canceled, SubscriptionStatus.incomplete_expired):
        return Actions()
    update_on = bool((features.get("subscription_update") or {}).get("enabled")) \
        and _updatable_items(features, rows)
    reason = ""
    if status in (SubscriptionStatus.past_due, SubscriptionStatus.unpaid):
        reason = "subscription_past_due"
    elif status == SubscriptionStatus.incomplete:
        reason = "incomplete"
    elif sub.cancel_at_period_end or sub.cancel_at:
        reason = "cancel_scheduled"
    elif _paused(sub):
        reason = "subscription_paused"
    elif pending is not None:
        reason = "pending_scheduled_change"
    canceling = sub.cancel_at_period_end or sub.cancel_at is not None
    cancel_on = bool((features.get("subscription_cancel") or {}).get("enabled"))
    pause_on = bool((features.get("subscription_pause") or {}).get("enabled"))
    return Actions(
        can_update=update_on and not reason,
        update_reason=reason if update_on else "",
        can_cancel=cancel_on and not canceling and status != SubscriptionStatus.incomplete,
        can_pause=(pause_on and status == SubscriptionStatus.active and not _paused(sub)
                   and not canceling and pending is None),
        can_resume=_paused(sub) and status != SubscriptionStatus.canceled,
        can_reactivate=canceling,
        can_cancel_scheduled_change=pending is not None,
    )


# --- the overview's cards -----------------------------------------------------------------


@dataclass
class ItemLine:
    """One item of a multi-item or usage-based subscription, as the card lists it."""

    product_name: str
    detail: str  # "3 × €9.00 per month", "€0.05 per unit · billed on usage"
    usage: str = ""  # usage-based items: "1,234 API calls this period · €61.70 so far"


@dataclass
class SubscriptionCard:
    """One subscription on the overview with what the customer may do about it."""

    id: str
    product_name: str
    amount: str
    interval: str
    quantity: str
    status: str
    status_label: str
    status_color: str
    date_line: str
    item_lines: list[ItemLine] = field(default_factory=list)  # when several or metered
    discount_line: str = ""  # "50% off until May 31, 2026"
    notice: str = ""  # "Changes to Basic on Feb 28, 2026", "Paused · resumes on ..."
    notice_kind: str = ""  # scheduled | paused | canceling | past_due | ""
    blocked_reason: str = ""  # why Update plan is unavailable right now
    can_update: bool = False
    can_cancel: bool = False
    can_pause: bool = False
    can_resume: bool = False
    can_reactivate: bool = False
    can_cancel_scheduled_change: bool = False
    has_actions: bool = False


def subscription_cards(session: PortalSession, *, locale: str, uow: UnitOfWork
                       ) -> list[SubscriptionCard]:
    """The session customer's current subscriptions, newest first, with their actions."""
    with uow:
        features = _features(session, uow)
        subs = list(uow.session.exec(
            select(Subscription)
            .where(Subscription.customer_id == session.customer_id,
                   Subscription.account_id == session.account_id,
                   col(Subscription.status).in_(SHOWN_STATUSES))
            .order_by(col(Subscription.created).desc(), col(Subscription.id))
        ).all())
        return [_card(session, sub, features, locale=locale, uow=uow) for sub in subs]


def _card(session: PortalSession, sub: Subscription, features: dict[str, Any], *, locale: str,
          uow: UnitOfWork) -> SubscriptionCard:
    view: SubscriptionView = _subscription_view(sub, locale=locale, uow=uow)
    rows = _items(sub, uow)
    pending = _pending(session, sub, uow)
    actions = _actions(sub, features, pending, rows)
    card = SubscriptionCard(id=sub.id, **vars(view))
    card.discount_line = _discount_line(sub, locale=locale, uow=uow)
    if len(rows) > 1 or any(price.usage_type == "metered" for _i, price, _p in rows):
        card.item_lines = [_item_line(item, price, product, locale=locale, sub=sub, uow=uow)
                           for item, price, product in rows]
    if pending is not None:
        current = {product.name for _i, _p, product in rows}
        names = ", ".join(dict.fromkeys(
            f"{i.quantity} × {i.product_name}"
            if i.quantity != 1 or i.product_name in current else i.product_name
            for i in pending.items))
        card.notice = i18n.gettext(locale, _("Changes to {plan} on {date}"), plan=names,
                                   date=i18n.format_date(pending.effective_at, locale))
        card.notice_kind = "scheduled"
    if _paused(sub):
        resumes = (sub.pause_collection or {}).get("resumes_at")
        card.status_label, card.status_color = i18n.gettext(locale, _("Paused")), "amber"
        card.date_line = (
            i18n.gettext(locale, _("Paused · resumes on {date}"),
                         date=i18n.format_date(from_unix(resumes), locale))
            if resumes else i18n.gettext(locale, _("Paused until you resume it")))
        card.notice_kind = card.notice_kind or "paused"
    if sub.cancel_at_period_end or sub.cancel_at:
        card.status_label, card.status_color = i18n.gettext(locale, _("Canceling")), "amber"
        card.notice_kind = card.notice_kind or "canceling"
    if actions.update_reason in ("subscription_past_due", "incomplete"):
        card.blocked_reason = i18n.gettext(locale, REFUSALS[actions.update_reason])
        if actions.update_reason == "subscription_past_due":
            card.notice_kind = "past_due"
    for name in ("can_update", "can_cancel", "can_pause", "can_resume", "can_reactivate",
                 "can_cancel_scheduled_change"):
        setattr(card, name, getattr(actions, name))
    card.has_actions = any(getattr(actions, n) for n in (
        "can_update", "can_cancel", "can_pause", "can_resume", "can_reactivate",
        "can_cancel_scheduled_change"))
    return card


def percent_text(value: float, locale: str) -> str:
    """``50%`` as the locale writes a percentage (a rate, not money)."""
    return numbers.format_percent(Decimal(str(value)) / 100, locale=i18n.babel_locale(locale))


def discount_text(coupon: Coupon, currency: str, *, locale: str) -> str:
    """A coupon's reduction: ``50%`` or ``€5.00``."""
    if coupon.percent_off is not None:
        return percent_text(coupon.percent_off, locale)
    return i18n.format_money(coupon.amount_off or 0, coupon.currency or currency, locale)


def _discount_line(sub: Subscription, *, locale: str, uow: UnitOfWork) -> str:
    """The subscription's running discount, e.g. ``50% off until May 31, 2026``."""
    row = uow.session.exec(
        select(Discount, Coupon).join(Coupon, col(Coupon.id) == Discount.coupon_id)
        .where(Discount.subscription_id == sub.id,
               or_(col(Discount.end).is_(None), col(Discount.end) > uow.clock()))
        .order_by(col(Discount.created).desc())).first()
    if row is None:
        return ""
    discount, coupon = row
    off = discount_text(coupon, sub.currency, locale=locale)
    if coupon.duration == CouponDuration.once:
        return i18n.gettext(locale, _("{discount} off your next invoice"), discount=off)
    if discount.end is not None:
        return i18n.gettext(locale, _("{discount} off until {date}"), discount=off,
                            date=i18n.format_date(discount.end, locale))
    return i18n.gettext(locale, _("{discount} off"), discount=off)


def _item_line(item: SubscriptionItem, price: Price, product: Product, *, locale: str,
               sub: Subscription | None = None, uow: UnitOfWork | None = None) -> ItemLine:
    """The item's line; with ``sub`` and ``uow``, a usage-based item shows its usage."""
    unit = i18n.format_money(price.unit_amount, price.currency, locale)
    usage = ""
    if price.usage_type == "metered":
        detail = i18n.gettext(locale, _("{amount} per unit · billed on usage"), amount=unit)
        if sub is not None and uow is not None:
            usage = _usage_text(sub, item, price, product, locale=locale, uow=uow)
    elif item.quantity != 1:
        detail = f"{item.quantity} × {unit} {_interval_text(price, locale)}"
    else:
        detail = f"{unit} {_interval_text(price, locale)}"
    return ItemLine(product_name=product.name, detail=detail, usage=usage)


def _usage_text(sub: Subscription, item: SubscriptionItem, price: Price, product: Product, *,
                locale: str, uow: UnitOfWork) -> str:
    """``1,234 API calls this period · €61.70 so far`` (free while the trial lasts)."""
    so_far = meters.current_usage(sub, item, price, uow=uow)
    count = i18n.format_number(so_far.quantity, locale)
    amount = i18n.format_money(so_far.amount, price.currency, locale)
    trial = sub.status == SubscriptionStatus.trialing
    if product.unit_label:
        message = (_("{count} {unit} this period · free during the trial") if trial
                   else _("{count} {unit} this period · {amount} so far"))
    else:
        message = (_("Usage this period: {count} · free during the trial") if trial
                   else _("Usage this period: {count} · {amount} so far"))
    return i18n.gettext(locale, message, count=count, unit=product.unit_label or "",
                        amount=amount)


def _interval_text(price: Price, locale: str) -> str:
    if price.interval is None:
        return ""
    if price.interval_count == 1:
        return i18n.gettext(locale, INTERVAL_ONE[price.interval])
    return i18n.gettext(locale, INTERVAL_MANY[price.interval], count=price.interval_count)


def _interval_key(price: Price) -> str:
    return f"{price.interval}" if price.interval_count == 1 else \
        f"{price.interval_count}-{price.interval}"


def _interval_name(price: Price, locale: str) -> str:
    assert price.interval is not None
    if price.interval_count == 1:
        return i18n.gettext(locale, INTERVAL_NAMES[price.interval])
    return i18n.gettext(locale, INTERVAL_MANY[price.interval], count=price.interval_count)\
        .capitalize()


# --- changing plan and quantity -------------------------------------------------------------


@dataclass
class PriceOption:
    """A price the customer may switch an item to."""

    price_id: str
    product_name: str
    description: str
    amount: str  # "€19.99"
    interval: str  # "per month"
    interval_key: str  # "month", "year", "3-month": the toggle it belongs to
    current: bool


@dataclass
class IntervalChoice:
    """One position of the monthly/yearly toggle."""

    key: str
    label: str


@dataclass
class ItemChoice:
    """An item of the subscription the customer may change."""

    item_id: str
    product_name: str
    summary: str
    metered: bool


@dataclass
class PlanChooser:
    """Everything the change-plan page offers for one item of a subscription."""

    subscription_id: str
    product_name: str  # the subscription's products, for the page title
    current_line: str  # "Current plan: 2 × Starter"
    item_id: str  # the item being changed
    items: list[ItemChoice]
    options: list[PriceOption]
    intervals: list[IntervalChoice]  # the toggle; shown when there are two or more
    interval_key: str  # the current price's toggle position
    price_id: str  # the current price
    quantity: int
    price_enabled: bool
    quantity_enabled: bool
    quantity_min: int
    quantity_max: int  # 0: no maximum
    promotion_code_enabled: bool
    metered_note: str  # shown for a usage-based item


def plan_chooser(session: PortalSession, subscription_id: str, *, locale: str,
                 uow: UnitOfWork, item_id: str | None = None) -> PlanChooser:
    """The options of the change-plan page. Raises ResourceMissing, InvalidRequest."""
    with uow:
        features = _features(session, uow)
        sub = _subscription(session, subscription_id, uow)
        rows = _items(sub, uow)
        actions = _actions(sub, features, _pending(session, sub, uow), rows)
        if not actions.can_update:
            raise PortalRefusal(actions.update_reason or "not_allowed")
        current = next((r for r in rows if r[0].id == item_id), rows[0])
        item, price, product = current
        update = features["subscription_update"]
        allowed = set(update.get("default_allowed_updates") or [])
        configured = {p["product"]: p for p in update.get("products") or []}
        options = _price_options(session, sub, rows, current, configured,
                                 locale=locale, uow=uow) if "price" in allowed else []
        if not any(o.current for o in options):
            options.insert(0, _option(price, product, current=True, locale=locale))
        seen: dict[str, IntervalChoice] = {}
        for option_price in _option_prices(options, uow):
            seen.setdefault(_interval_key(option_price),
                            IntervalChoice(_interval_key(option_price),
                                           _interval_name(option_price, locale)))
        bounds = (configured.get(product.id) or {}).get("adjustable_quantity") or {}
        quantity_on = ("quantity" in allowed and bool(bounds.get("enabled"))
                       and price.usage_type != "metered")
        return PlanChooser(
            subscription_id=sub.id,
            product_name=", ".join(p.name for _i, _pr, p in rows),
            current_line=i18n.gettext(locale, _("Current plan: {plan}"), plan=", ".join(
                p.name if i.quantity == 1 else f"{i.quantity} × {p.name}"
                for i, _pr, p in rows)),
            item_id=item.id,
            items=[ItemChoice(i.id, p.name, _item_line(i, pr, p, locale=locale).detail,
                              pr.usage_type == "metered") for i, pr, p in rows],
            options=options,
            intervals=sorted(seen.values(), key=lambda c: _key_days(c.key)),
            interval_key=_interval_key(price),
            price_id=price.id,
            quantity=item.quantity,
            price_enabled="price" in allowed,
            quantity_enabled=quantity_on,
            quantity_min=int(bounds.get("minimum") or 1),
            quantity_max=int(bounds.get("maximum") or 0),
            promotion_code_enabled="promotion_code" in allowed,
            metered_note=i18n.gettext(locale, _("Usage-based: you pay for what you use. "
                                                "It can only switch to another usage-based "
                                                "price.")) if price.usage_type == "metered"
            else "",
        )


def _key_days(key: str) -> int:
    count, _sep, unit = key.rpartition("-")
    return DAYS[Interval(unit)] * int(count or 1)


def _option(price: Price, product: Product, *, current: bool, locale: str) -> PriceOption:
    return PriceOption(price_id=price.id, product_name=product.name,
                       description=product.description or "",
                       amount=i18n.format_money(price.unit_amount, price.currency, locale),
                       interval=_interval_text(price, locale), interval_key=_interval_key(price),
                       current=current)


def _option_prices(options: list[PriceOption], uow: UnitOfWork) -> list[Price]:
    prices = [uow.session.get(Price, o.price_id) for o in options]
    return [p for p in prices if p is not None]


def _price_options(session: PortalSession, sub: Subscription,
                   rows: Sequence[tuple[SubscriptionItem, Price, Product]],
                   current: tuple[SubscriptionItem, Price, Product],
                   configured: dict[str, dict[str, Any]], *, locale: str, uow: UnitOfWork
                   ) -> list[PriceOption]:
    """Configured prices the item may switch to: same currency and usage type; on a
    multi-item subscription also the same interval; no price another item already has."""
    _item, price, _product = current
    others = {pr.id for i, pr, _p in rows if i.id != current[0].id}
    out = []
    for entry in configured.values():
        product = uow.session.get(Product, entry["product"])
        if product is None or product.account_id != session.account_id or not product.active:
            continue
        for price_id in entry["prices"]:
            candidate = uow.session.get(Price, price_id)
            if candidate is None or not candidate.active or candidate.id in others:
                continue
            if candidate.currency != sub.currency or candidate.usage_type != price.usage_type:
                continue
            if len(rows) > 1 and (candidate.interval, candidate.interval_count) != (
                    price.interval, price.interval_count):
                continue
            out.append(_option(candidate, product, current=candidate.id == price.id,
                               locale=locale))
    return out


@dataclass(frozen=True)
class ChangeRequest:
    """What the customer picked on the change-plan page (ids from the browser: untrusted)."""

    subscription_id: str
    item_id: str
    price_id: str
    quantity: int
    promotion_code: str = ""


@dataclass
class PreviewLineView:
    """One proration line of the preview."""

    description: str
    period: str
    amount: str
    credit: bool


@dataclass
class PreviewView:
    """The preview panel: what changes, what it costs now and on the next invoice."""

    subscription_id: str
    new_plan: str  # "Growth · €45.00 per month" / "3 × Growth"
    lines: list[PreviewLineView]
    has_discount: bool
    discount: str  # "−€2.00"
    amount_due_now: str
    due_now_label: str
    next_invoice_date: str
    next_invoice_amount: str
    scheduled: bool
    scheduled_line: str  # "Changes to Starter on Feb 28, 2026"
    version: str


@dataclass(frozen=True)
class _Plan:
    items: tuple[ItemChange, ...]
    proration_behavior: str
    schedule_at_period_end: bool
    promotion_code: str | None
    coupon: str | None
    new_plan: str


def _rate(price: Price, quantity: int) -> Fraction:
    assert price.interval is not None
    return Fraction(price.unit_amount * quantity * PER_YEAR[price.interval], price.interval_count)


def _length(price: Price) -> int:
    assert price.interval is not None
    return DAYS[price.interval] * price.interval_count


def schedule_at_period_end(conditions: Sequence[dict[str, Any]],
                           changed: Sequence[tuple[Price, int, Price, int]]) -> bool:
    """Whether the configured conditions send a change to the period end.

    ``changed`` holds (old price, old quantity, new price, new quantity) per changed
    item. ``decreasing_item_amount``: an item costs less per unit of time afterwards;
    ``shortening_interval``: an item is billed more often afterwards.
    """
    kinds = {c.get("type") for c in conditions}
    for old_price, old_qty, new_price, new_qty in changed:
        if "decreasing_item_amount" in kinds and _rate(new_price, new_qty) < _rate(old_price,
                                                                                   old_qty):
            return True
        if "shortening_interval" in kinds and _length(new_price) < _length(old_price):
            return True
    return False


def _plan(session: PortalSession, request: ChangeRequest, *, locale: str, uow: UnitOfWork
          ) -> _Plan:
    """Check the request against the configuration and decide how it is applied."""
    features = _features(session, uow)
    sub = _subscription(session, request.subscription_id, uow)
    rows = _items(sub, uow)
    actions = _actions(sub, features, _pending(session, sub, uow), rows)
    if not actions.can_update:
        raise PortalRefusal(actions.update_reason or "not_allowed")
    row = next((r for r in rows if r[0].id == request.item_id), None)
    if row is None:
        raise PortalRefusal("resource_missing")
    item, price, product = row
    update = features["subscription_update"]
    allowed = set(update.get("default_allowed_updates") or [])
    configured = {p["product"]: p for p in update.get("products") or []}
    new_price, new_product = price, product
    if request.price_id != price.id:
        options = _price_options(session, sub, rows, row, configured, locale=locale, uow=uow) \
            if "price" in allowed else []
        if request.price_id not in {o.price_id for o in options}:
            wanted = uow.session.get(Price, request.price_id)
            if (wanted is not None and wanted.account_id == session.account_id
                    and wanted.usage_type != price.usage_type):
                raise PortalRefusal("metered_price_change")
            raise PortalRefusal("not_allowed")
        new_price = uow.get(Price, request.price_id, account_id=session.account_id)
        new_product = uow.get(Product, new_price.product_id, account_id=session.account_id)
    if request.quantity != item.quantity:
        bounds = (configured.get(new_product.id) or {}).get("adjustable_quantity") or {}
        if "quantity" not in allowed or not bounds.get("enabled") \
                or new_price.usage_type == "metered":
            raise PortalRefusal("not_allowed")
        low, high = int(bounds.get("minimum") or 1), bounds.get("maximum")
        if request.quantity < low or (high and request.quantity > int(high)):
            if high:
                raise PortalRefusal("quantity_out_of_range", minimum=low, maximum=high)
            raise PortalRefusal("quantity_too_low", minimum=low)
    promotion = None
    if request.promotion_code.strip():
        if "promotion_code" not in allowed:
            raise PortalRefusal("not_allowed")
        promotion = changes.retrieve_promotion_code_by_code(
            request.promotion_code.strip(), account_id=session.account_id, uow=uow).id
    if new_price.id == price.id and request.quantity == item.quantity and promotion is None:
        raise PortalRefusal("no_change")
    change = ItemChange(id=item.id,
                        price=new_price.id if new_price.id != price.id else None,
                        quantity=request.quantity if request.quantity != item.quantity else None)
    conditions = (update.get("schedule_at_period_end") or {}).get("conditions") or []
    scheduled = schedule_at_period_end(conditions,
                                       [(price, item.quantity, new_price, request.quantity)])
    new_plan = new_product.name if request.quantity == 1 and new_product.id != product.id \
        else f"{request.quantity} × {new_product.name}"
    return _Plan(items=(change,), proration_behavior=update.get("proration_behavior")
                 or "create_prorations", schedule_at_period_end=scheduled,
                 promotion_code=promotion, coupon=None, new_plan=new_plan)


def _flow_plan(session: PortalSession, subscription_id: str, *, uow: UnitOfWork) -> _Plan:
    """The change a merchant's ``subscription_update_confirm`` link asks to confirm."""
    flow = session.flow or {}
    detail = flow.get("subscription_update_confirm") or {}
    if flow.get("type") != "subscription_update_confirm" or \
            detail.get("subscription") != subscription_id:
        raise PortalRefusal("not_allowed")
    features = _features(session, uow)
    sub = _subscription(session, subscription_id, uow)
    rows = _items(sub, uow)
    actions = _actions(sub, features, _pending(session, sub, uow), rows)
    if actions.update_reason:
        raise PortalRefusal(actions.update_reason)
    by_id = {item.id: (item, price) for item, price, _p in rows}
    items, changed, names = [], [], []
    for given in detail.get("items") or []:
        items.append(ItemChange(id=given.get("id"), price=given.get("price"),
                                quantity=given.get("quantity")))
        old = by_id.get(given.get("id") or "")
        new_price = uow.get(Price, given["price"], account_id=session.account_id) \
            if given.get("price") else (old[1] if old else None)
        if new_price is None:
            continue
        quantity = given.get("quantity") or (old[0].quantity if old else 1)
        product = uow.get(Product, new_price.product_id, account_id=session.account_id)
        names.append(product.name if quantity == 1 else f"{quantity} × {product.name}")
        if old is not None:
            changed.append((old[1], old[0].quantity, new_price, quantity))
    update = features.get("subscription_update") or {}
    conditions = (update.get("schedule_at_period_end") or {}).get("conditions") or []
    discounts = detail.get("discounts") or [{}]
    return _Plan(items=tuple(items),
                 proration_behavior=update.get("proration_behavior") or "create_prorations",
                 schedule_at_period_end=schedule_at_period_end(conditions, changed),
                 promotion_code=discounts[0].get("promotion_code") if discounts else None,
                 coupon=discounts[0].get("coupon") if discounts else None,
                 new_plan=", ".join(names))


def _preview(session: PortalSession, sub_id: str, plan: _Plan, uow: UnitOfWork
             ) -> ChangePreview:
    return changes.preview_change(
        sub_id, account_id=session.account_id, uow=uow, items=plan.items,
        proration_behavior=plan.proration_behavior, coupon=plan.coupon,
        promotion_code=plan.promotion_code, schedule_at_period_end=plan.schedule_at_period_end,
        customer_id=session.customer_id)


def preview_update(session: PortalSession, request: ChangeRequest, *, locale: str,
                   uow: UnitOfWork) -> PreviewView:
    """The preview of a plan or quantity change. Raises InvalidRequest, ResourceMissing."""
    with uow:
        plan = _plan(session, request, locale=locale, uow=uow)
        return _preview_view(_preview(session, request.subscription_id, plan, uow), plan,
                             session=session, locale=locale, uow=uow)


def preview_flow_confirm(session: PortalSession, subscription_id: str, *, locale: str,
                         uow: UnitOfWork) -> PreviewView:
    """The preview of the change a ``subscription_update_confirm`` link was made for."""
    with uow:
        plan = _flow_plan(session, subscription_id, uow=uow)
        return _preview_view(_preview(session, subscription_id, plan, uow), plan,
                             session=session, locale=locale, uow=uow)


def _apply(session: PortalSession, sub_id: str, plan: _Plan, *, version: str,
           uow: UnitOfWork) -> Subscription:
    uow.origin = origin(session)
    return changes.apply_change(
        sub_id, account_id=session.account_id, uow=uow, items=plan.items,
        proration_behavior=plan.proration_behavior, coupon=plan.coupon,
        promotion_code=plan.promotion_code, schedule_at_period_end=plan.schedule_at_period_end,
        expected_version=version, customer_id=session.customer_id)


def confirm_update(session: PortalSession, request: ChangeRequest, *, version: str,
                   uow: UnitOfWork) -> Subscription:
    """Apply a previewed change, only if the subscription is as it was previewed.

    Raises InvalidRequest (``subscription_changed`` when it is not), CardDeclined.
    """
    with uow:
        plan = _plan(session, request, locale=i18n.DEFAULT_LOCALE, uow=uow)
        sub = _apply(session, request.subscription_id, plan, version=version, uow=uow)
        uow.commit()
        return sub


def confirm_flow(session: PortalSession, subscription_id: str, *, version: str,
                 uow: UnitOfWork) -> Subscription:
    """Apply the change of a ``subscription_update_confirm`` link."""
    with uow:
        plan = _flow_plan(session, subscription_id, uow=uow)
        sub = _apply(session, subscription_id, plan, version=version, uow=uow)
        uow.commit()
        return sub


def _preview_view(preview: ChangePreview, plan: _Plan, *, session: PortalSession, locale: str,
                  uow: UnitOfWork) -> PreviewView:
    money = lambda amount: i18n.format_money(amount, preview.currency, locale)  # noqa: E731
    lines = []
    for line in preview.lines:
        price = uow.session.get(Price, line.price_id) if line.price_id else None
        product = uow.session.get(Product, price.product_id) if price else None
        name = product.name if product else line.description
        if line.quantity != 1:
            name = f"{line.quantity} × {name}"
        message = _("Unused time on {plan}") if line.amount < 0 else \
            _("Remaining time on {plan}")
        lines.append(PreviewLineView(
            description=i18n.gettext(locale, message, plan=name),
            period=i18n.gettext(locale, _("{start} – {end}"),
                                start=i18n.format_date(line.period_start, locale),
                                end=i18n.format_date(line.period_end, locale)),
            amount=money(line.amount), credit=line.amount < 0))
    sub = _subscription(session, preview.subscription_id, uow)
    due_label = _("Amount due today")
    if sub.collection_method == "send_invoice":
        due_label = _("Invoiced today")
    scheduled_line = ""
    if preview.scheduled_for is not None:
        scheduled_line = i18n.gettext(locale, _("Changes to {plan} on {date}"),
                                      plan=plan.new_plan,
                                      date=i18n.format_date(preview.scheduled_for, locale))
    return PreviewView(
        subscription_id=preview.subscription_id,
        new_plan=plan.new_plan,
        lines=lines,
        has_discount=preview.discount > 0,
        discount=money(-preview.discount),
        amount_due_now=money(preview.amount_due_now),
        due_now_label=i18n.gettext(locale, due_label),
        next_invoice_date=i18n.format_date(preview.next_invoice_at, locale),
        next_invoice_amount=money(preview.next_invoice_amount),
        scheduled=preview.scheduled_for is not None,
        scheduled_line=scheduled_line,
        version=preview.version,
    )


def cancel_scheduled_change(session: PortalSession, subscription_id: str, *, uow: UnitOfWork
                            ) -> Subscription:
    """Drop the change waiting for the period end. Raises ResourceMissing, InvalidRequest."""
    with uow:
        _subscription(session, subscription_id, uow)
        uow.origin = origin(session)
        sub = changes.cancel_scheduled_change(subscription_id, account_id=session.account_id,
                                              uow=uow, customer_id=session.customer_id)
        uow.commit()
        return sub


# --- cancel and reactivate ------------------------------------------------------------------


@dataclass
class CancelView:
    """The cancel page: what ends, when, and what happens to the money."""

    subscription_id: str
    product_name: str
    amount: str  # "€19.99 per month"
    immediately: bool
    ends_line: str  # "Your subscription ends on Feb 28, 2026." / "... ends today."
    detail: str  # what the customer keeps or gets back


def cancel_view(session: PortalSession, subscription_id: str, *, locale: str,
                uow: UnitOfWork) -> CancelView:
    """What cancelling would do. Raises ResourceMissing, InvalidRequest (not allowed)."""
    with uow:
        features = _features(session, uow)
        sub = _subscription(session, subscription_id, uow)
        rows = _items(sub, uow)
        if not _actions(sub, features, _pending(session, sub, uow), rows).can_cancel:
            raise PortalRefusal("not_allowed")
        cancel = features["subscription_cancel"]
        immediately = cancel.get("mode") == "immediately"
        view = _subscription_view(sub, locale=locale, uow=uow)
        if immediately:
            ends = i18n.gettext(locale, _("Your subscription ends today."))
            detail = i18n.gettext(locale, _("You'll get a credit for the unused time of this "
                                            "period.")) \
                if cancel.get("proration_behavior") in ("create_prorations", "always_invoice") \
                else i18n.gettext(locale, _("You'll lose access right away; there is no "
                                            "refund for the rest of this period."))
        else:
            ends = i18n.gettext(locale, _("Your subscription ends on {date}."),
                                date=i18n.format_date(sub.current_period_end, locale))
            detail = i18n.gettext(locale, _("You can keep using it until then, and you won't "
                                            "be charged again. You can renew any time before "
                                            "that date."))
        return CancelView(subscription_id=sub.id, product_name=view.product_name,
                          amount=f"{view.amount} {view.interval}".strip(),
                          immediately=immediately, ends_line=ends, detail=detail)


def cancel(session: PortalSession, subscription_id: str, *, uow: UnitOfWork) -> Subscription:
    """Cancel as ``features.subscription_cancel`` says. Raises ResourceMissing, InvalidRequest."""
    with uow:
        features = _features(session, uow)
        sub = _subscription(session, subscription_id, uow)
        if not _actions(sub, features, _pending(session, sub, uow), _items(sub, uow)).can_cancel:
            raise PortalRefusal("not_allowed")
        config = features["subscription_cancel"]
        immediately = config.get("mode") == "immediately"
        proration = config.get("proration_behavior") or "none"
        uow.origin = origin(session)
        sub = billing.cancel_subscription(
            subscription_id, account_id=session.account_id, uow=uow,
            at_period_end=not immediately, customer_id=session.customer_id,
            prorate=immediately and proration != "none",
            invoice_now=immediately and proration == "always_invoice")
        uow.commit()
        return sub


def reactivate(session: PortalSession, subscription_id: str, *, uow: UnitOfWork
               ) -> Subscription:
    """Undo a cancellation at period end ("Don't cancel"). Raises ResourceMissing, ..."""
    with uow:
        _subscription(session, subscription_id, uow)
        uow.origin = origin(session)
        sub = changes.reactivate_subscription(subscription_id, account_id=session.account_id,
                                              uow=uow, customer_id=session.customer_id)
        uow.commit()
        return sub


# --- pause and resume -----------------------------------------------------------------------


@dataclass
class PauseOption:
    """One duration the customer may pause for."""

    key: str  # "indefinite" or "<count>-<interval>"
    label: str  # "1 month"
    resumes_line: str  # "Payments resume on Mar 31, 2026"


@dataclass
class PauseView:
    """The pause page."""

    subscription_id: str
    product_name: str
    options: list[PauseOption]


def _pause_options(features: dict[str, Any], *, now: datetime, locale: str
                   ) -> list[PauseOption]:
    duration = (features.get("subscription_pause") or {}).get("duration") or {}
    if duration.get("type") != "interval_options" or not duration.get("interval_options"):
        return [PauseOption("indefinite", i18n.gettext(locale, _("Until I resume")),
                            i18n.gettext(locale, _("Payments resume when you resume the "
                                                   "subscription.")))]
    out = []
    for option in duration["interval_options"]:
        interval, count = Interval(option["interval"]), int(option["interval_count"])
        label = i18n.gettext(locale, PAUSE_ONE[interval]) if count == 1 else \
            i18n.gettext(locale, PAUSE_MANY[interval], count=count)
        out.append(PauseOption(
            f"{count}-{interval}", label,
            i18n.gettext(locale, _("Payments resume on {date}"),
                         date=i18n.format_date(shift(now, interval, count), locale))))
    return out


def pause_view(session: PortalSession, subscription_id: str, *, locale: str,
               uow: UnitOfWork) -> PauseView:
    """The durations on offer. Raises ResourceMissing, InvalidRequest (not allowed)."""
    with uow:
        features = _features(session, uow)
        sub = _subscription(session, subscription_id, uow)
        if not _actions(sub, features, _pending(session, sub, uow), _items(sub, uow)).can_pause:
            raise PortalRefusal("not_allowed")
        view = _subscription_view(sub, locale=locale, uow=uow)
        return PauseView(subscription_id=sub.id, product_name=view.product_name,
                         options=_pause_options(features, now=uow.clock(), locale=locale))


def pause(session: PortalSession, subscription_id: str, option: str, *, uow: UnitOfWork
          ) -> Subscription:
    """Pause collection for a configured duration (``option`` is a :class:`PauseOption` key).

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        features = _features(session, uow)
        sub = _subscription(session, subscription_id, uow)
        if not _actions(sub, features, _pending(session, sub, uow), _items(sub, uow)).can_pause:
            raise PortalRefusal("not_allowed")
        now = uow.clock()
        keys = {o.key for o in _pause_options(features, now=now, locale=i18n.DEFAULT_LOCALE)}
        if option not in keys:
            raise PortalRefusal("not_allowed")
        resumes_at = None
        if option != "indefinite":
            count, _sep, interval = option.partition("-")
            resumes_at = shift(now, Interval(interval), int(count))
        uow.origin = origin(session)
        sub = changes.pause_subscription(subscription_id, account_id=session.account_id,
                                         uow=uow, behavior="void", resumes_at=resumes_at,
                                         customer_id=session.customer_id)
        uow.commit()
        return sub


def resume(session: PortalSession, subscription_id: str, *, uow: UnitOfWork) -> Subscription:
    """Resume a paused subscription now. Raises ResourceMissing, InvalidRequest."""
    with uow:
        _subscription(session, subscription_id, uow)
        uow.origin = origin(session)
        sub = changes.resume_subscription(subscription_id, account_id=session.account_id,
                                          uow=uow, customer_id=session.customer_id)
        uow.commit()
        return sub


# --- deep links and what follows a completed flow -------------------------------------------


def flow_path(session: PortalSession) -> str:
    """Where a session's link opens: the flow's step, or the overview."""
    flow = session.flow or {}
    kind = flow.get("type")
    detail = flow.get(kind) if kind else None
    sub = (detail or {}).get("subscription") if isinstance(detail, dict) else None
    if not sub:
        return PORTAL
    step = {"subscription_update": "update", "subscription_update_confirm": "confirm",
            "subscription_cancel": "cancel", "subscription_pause": "pause"}.get(str(kind))
    return f"{PORTAL}/subscriptions/{sub}/{step}" if step else PORTAL


@dataclass(frozen=True)
class Completion:
    """What follows a completed action: back to the overview, a redirect, or a message."""

    type: str  # portal_homepage | redirect | hosted_confirmation
    url: str = ""
    message: str = ""


def completion(session: PortalSession, flows: Sequence[str], subscription_id: str
               ) -> Completion:
    """The session flow's ``after_completion`` if this action completes that flow."""
    flow = session.flow or {}
    kind = str(flow.get("type") or "")
    detail = flow.get(kind) if kind in flows else None
    if not isinstance(detail, dict) or detail.get("subscription") != subscription_id:
        return Completion("portal_homepage")
    after = flow.get("after_completion") or {}
    if after.get("type") == "redirect":
        return Completion("redirect", url=(after.get("redirect") or {}).get("return_url") or "")
    if after.get("type") == "hosted_confirmation":
        return Completion("hosted_confirmation",
                          message=(after.get("hosted_confirmation") or {}).get("custom_message")
                          or "")
    return Completion("portal_homepage")
