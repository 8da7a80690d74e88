"""The overview's subscription cards, and the cancel and pause pages, as view models.

Everything here is text already translated and money and dates already formatted in
the customer's locale; what the customer may do comes from the portal's rules
(:mod:`portal_app.portal.subscription_actions`), billing from the session account's
billing provider (Stripe-shaped objects), for the session's customer only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel import numbers

from portal_app import i18n
from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix, to_unix
from portal_app.db import UnitOfWork
from portal_app.i18n import _
from portal_app.portal.models import PortalSession
from portal_app.portal.refusals import REFUSALS
from portal_app.portal.subscription_actions import (
    CustomerSubscription,
    ItemRow,
    allowed_subscription,
    cancel_terms,
    describe_subscription,
    pause_durations,
    portal_features,
)
from portal_app.stripe_shapes import current_period
from portal_app.views.overview import (
    price_interval_text,
    shown_subscriptions,
    subscription_view,
)

PAUSE_ONE = {"day": _("1 day"), "week": _("1 week"), "month": _("1 month"),
             "year": _("1 year")}
PAUSE_MANY = {"day": _("{count} days"), "week": _("{count} weeks"),
              "month": _("{count} months"), "year": _("{count} years")}
ACTION_FLAGS = ("can_update", "can_cancel", "can_pause", "can_resume", "can_reactivate",
                "can_cancel_scheduled_change")


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
        features = portal_features(session, uow=uow)
        provider = billing_provider(session.account_id, uow=uow)
        return [_card(session, sub, features, locale=locale, uow=uow)
                for sub in shown_subscriptions(provider, session.customer_id)]


def _card(session: PortalSession, sub: StripeObject, features: Mapping[str, Any], *,
          locale: str, uow: UnitOfWork) -> SubscriptionCard:
    provider = billing_provider(session.account_id, uow=uow)
    subscription = describe_subscription(session, sub, provider=provider, features=features)
    actions = subscription.actions()
    card = SubscriptionCard(id=sub["id"],
                            **vars(subscription_view(sub, locale=locale, billing=provider)))
    card.discount_line = _discount_line(session, sub, locale=locale, uow=uow)
    rows = subscription.items
    if len(rows) > 1 or any(row.metered for row in rows):
        usage = {line["parent"]["subscription_item_details"]["subscription_item"]: line
                 for line in provider.list_upcoming_usage(sub["id"],
                                                          customer_id=session.customer_id)}
        card.item_lines = [item_line(row, locale=locale, usage=usage.get(row.id),
                                     trialing=subscription.status == "trialing")
                           for row in rows]
    pending = subscription.pending
    if pending is not None:
        current = {row.product["name"] for row in rows}
        names = ", ".join(dict.fromkeys(
            f"{i.quantity} × {i.product_name}"
            if i.quantity != 1 or i.product_name in current else i.product_name
            for i in pending.items))
        card.notice = i18n.gettext(locale, _("Changes to {plan} on {date}"), plan=names,
                                   date=i18n.format_date(pending.effective_at, locale))
        card.notice_kind = "scheduled"
    if subscription.paused:
        resumes = (sub.get("pause_collection") or {}).get("resumes_at")
        card.status_label, card.status_color = i18n.gettext(locale, _("Paused")), "amber"
        card.date_line = (
            i18n.gettext(locale, _("Paused · resumes on {date}"),
                         date=i18n.format_date(from_unix(resumes), locale))
            if resumes else i18n.gettext(locale, _("Paused until you resume it")))
        card.notice_kind = card.notice_kind or "paused"
    if subscription.canceling:
        card.status_label, card.status_color = i18n.gettext(locale, _("Canceling")), "amber"
        card.notice_kind = card.notice_kind or "canceling"
    if actions.update_reason in ("subscription_past_due", "incomplete"):
        card.blocked_reason = i18n.gettext(locale, REFUSALS[actions.update_reason])
        if actions.update_reason == "subscription_past_due":
            card.notice_kind = "past_due"
    for name in ACTION_FLAGS:
        setattr(card, name, getattr(actions, name))
    card.has_actions = any(getattr(actions, name) for name in ACTION_FLAGS)
    return card


def percent_text(value: float, locale: str) -> str:
    """``50%`` as the locale writes a percentage (a rate, not money)."""
    return numbers.format_percent(Decimal(str(value)) / 100, locale=i18n.babel_locale(locale))


def discount_text(coupon: Mapping[str, Any], currency: str, *, locale: str) -> str:
    """A Stripe ``coupon``'s reduction: ``50%`` or ``€5.00``."""
    if coupon.get("percent_off") is not None:
        return percent_text(coupon["percent_off"], locale)
    return i18n.format_money(coupon.get("amount_off") or 0, coupon.get("currency") or currency,
                             locale)


def _discount_line(session: PortalSession, sub: StripeObject, *, locale: str,
                   uow: UnitOfWork) -> str:
    """The subscription's running discount, e.g. ``50% off until May 31, 2026``."""
    now = to_unix(uow.clock())
    discounts = billing_provider(session.account_id, uow=uow).list_subscription_discounts(
        sub["id"], customer_id=session.customer_id)
    running = next((d for d in discounts if d["end"] is None or d["end"] > now), None)
    if running is None:
        return ""
    coupon = running["source"]["coupon"]
    off = discount_text(coupon, sub["currency"], locale=locale)
    if coupon["duration"] == "once":
        return i18n.gettext(locale, _("{discount} off your next invoice"), discount=off)
    if running["end"] is not None:
        return i18n.gettext(locale, _("{discount} off until {date}"), discount=off,
                            date=i18n.format_date(from_unix(running["end"]), locale))
    return i18n.gettext(locale, _("{discount} off"), discount=off)


def item_line(row: ItemRow, *, locale: str, usage: Mapping[str, Any] | None = None,
              trialing: bool = False) -> ItemLine:
    """The item's line; with ``usage`` (the upcoming invoice's line for a usage-based
    item), what it used and costs so far."""
    price = row.price
    unit = i18n.format_money(price["unit_amount"] or 0, price["currency"], locale)
    text = ""
    if row.metered:
        detail = i18n.gettext(locale, _("{amount} per unit · billed on usage"), amount=unit)
        if usage is not None:
            text = _usage_text(row, usage, trialing=trialing, locale=locale)
    elif row.quantity != 1:
        detail = f"{row.quantity} × {unit} {price_interval_text(price, locale=locale)}"
    else:
        detail = f"{unit} {price_interval_text(price, locale=locale)}"
    return ItemLine(product_name=row.product["name"], detail=detail, usage=text)


def _usage_text(row: ItemRow, usage: Mapping[str, Any], *, trialing: bool, locale: str) -> str:
    """``1,234 API calls this period · €61.70 so far`` (free while the trial lasts)."""
    count = i18n.format_number(int(usage["quantity"] or 0), locale)
    amount = i18n.format_money(usage["amount"], row.price["currency"], locale)
    unit = row.product.get("unit_label")
    if unit:
        message = (_("{count} {unit} this period · free during the trial") if trialing
                   else _("{count} {unit} this period · {amount} so far"))
    else:
        message = (_("Usage this period: {count} · free during the trial") if trialing
                   else _("Usage this period: {count} · {amount} so far"))
    return i18n.gettext(locale, message, count=count, unit=unit or "", amount=amount)


def _summary(session: PortalSession, subscription: CustomerSubscription, *, locale: str,
             uow: UnitOfWork) -> tuple[str, str]:
    """The subscription's products and its amount per period (``€19.99 per month``)."""
    view = subscription_view(subscription.subscription, locale=locale,
                             billing=billing_provider(session.account_id, uow=uow))
    return view.product_name, f"{view.amount} {view.interval}".strip()


# --- cancel -------------------------------------------------------------------------------


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
        subscription = allowed_subscription(session, subscription_id, "can_cancel", uow=uow)
        terms = cancel_terms(subscription.features)
        if terms.immediately:
            ends = i18n.gettext(locale, _("Your subscription ends today."))
            detail = i18n.gettext(locale, _("You'll get a credit for the unused time of this "
                                            "period.")) \
                if terms.prorate \
                else i18n.gettext(locale, _("You'll lose access right away; there is no "
                                            "refund for the rest of this period."))
        else:
            _start, period_end = current_period(subscription.subscription)
            assert period_end is not None  # a subscription has items, hence a period
            ends = i18n.gettext(locale, _("Your subscription ends on {date}."),
                                date=i18n.format_date(from_unix(period_end), locale))
            detail = i18n.gettext(locale, _("You can keep using it until then, and you won't "
                                            "be charged again. You can renew any time before "
                                            "that date."))
        product_name, amount = _summary(session, subscription, locale=locale, uow=uow)
        return CancelView(subscription_id=subscription.id, product_name=product_name,
                          amount=amount, immediately=terms.immediately, ends_line=ends,
                          detail=detail)


# --- pause --------------------------------------------------------------------------------


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


def pause_length_text(interval: str, count: int, *, locale: str) -> str:
    """``1 month`` / ``3 weeks``: how long a pause lasts."""
    if count == 1:
        return i18n.gettext(locale, PAUSE_ONE[interval])
    return i18n.gettext(locale, PAUSE_MANY[interval], count=count)


def pause_view(session: PortalSession, subscription_id: str, *, locale: str,
               uow: UnitOfWork) -> PauseView:
    """The durations on offer. Raises ResourceMissing, InvalidRequest (not allowed)."""
    with uow:
        subscription = allowed_subscription(session, subscription_id, "can_pause", uow=uow)
        now = uow.clock()
        options = []
        for duration in pause_durations(subscription.features):
            resumes_at = duration.resumes_at(now)
            if duration.interval is None or resumes_at is None:
                options.append(PauseOption(
                    duration.key, i18n.gettext(locale, _("Until I resume")),
                    i18n.gettext(locale, _("Payments resume when you resume the "
                                           "subscription."))))
                continue
            options.append(PauseOption(
                duration.key,
                pause_length_text(duration.interval, duration.count, locale=locale),
                i18n.gettext(locale, _("Payments resume on {date}"),
                             date=i18n.format_date(resumes_at, locale))))
        product_name, _amount = _summary(session, subscription, locale=locale, uow=uow)
        return PauseView(subscription_id=subscription.id, product_name=product_name,
                         options=options)
