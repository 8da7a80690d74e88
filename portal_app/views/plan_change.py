"""The change-plan page as view models: the plan chooser and the proration preview.

What may change and how a change applies are the portal's rules
(:mod:`portal_app.portal.plan_changes`); this module turns them, and the billing
provider's preview, into text already translated and money and dates already
formatted in the customer's locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portal_app import i18n
from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork
from portal_app.i18n import _
from portal_app.portal.models import PortalSession
from portal_app.portal.plan_changes import (
    DAYS,
    ChangePlan,
    ChangeRequest,
    PriceChoice,
    item_options,
    plan_flow,
    plan_request,
    preview,
)
from portal_app.portal.subscription_actions import ItemRow
from portal_app.stripe_shapes import price_interval
from portal_app.views.overview import (
    INTERVAL_MANY,
    price_interval_text,
)
from portal_app.views.subscriptions import item_line

INTERVAL_NAMES = {"day": _("Daily"), "week": _("Weekly"), "month": _("Monthly"),
                  "year": _("Yearly")}


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


def interval_key(price: Mapping[str, Any]) -> str:
    """The toggle position of a recurring price: ``month``, ``year``, ``3-month``."""
    interval = price_interval(price)
    assert interval is not None
    name, count = interval
    return name if count == 1 else f"{count}-{name}"


def _key_days(key: str) -> int:
    count, _sep, unit = key.rpartition("-")
    return DAYS[unit] * int(count or 1)


def _interval_name(price: Mapping[str, Any], locale: str) -> str:
    interval = price_interval(price)
    assert interval is not None
    name, count = interval
    if count == 1:
        return i18n.gettext(locale, INTERVAL_NAMES[name])
    return i18n.gettext(locale, INTERVAL_MANY[name], count=count).capitalize()


def _option(choice: PriceChoice, *, current: bool, locale: str) -> PriceOption:
    price, product = choice.price, choice.product
    return PriceOption(price_id=price["id"], product_name=product["name"],
                       description=product.get("description") or "",
                       amount=i18n.format_money(price["unit_amount"] or 0, price["currency"],
                                                locale),
                       interval=price_interval_text(price, locale=locale),
                       interval_key=interval_key(price), current=current)


def _plan_line(rows: tuple[ItemRow, ...]) -> str:
    return ", ".join(row.product["name"] if row.quantity == 1
                     else f"{row.quantity} × {row.product['name']}" for row in rows)


def plan_chooser(session: PortalSession, subscription_id: str, *, locale: str,
                 uow: UnitOfWork, item_id: str | None = None) -> PlanChooser:
    """The options of the change-plan page. Raises ResourceMissing, InvalidRequest."""
    with uow:
        allowed = item_options(session, subscription_id, uow=uow, item_id=item_id)
        row, rows = allowed.row, allowed.subscription.items
        choices = list(allowed.choices)
        options = [_option(c, current=c.price["id"] == row.price["id"], locale=locale)
                   for c in choices]
        if not any(o.current for o in options):
            # The current price is always shown, even when it is not on offer any more.
            choices.insert(0, PriceChoice(row.price, row.product))
            options.insert(0, _option(choices[0], current=True, locale=locale))
        seen: dict[str, IntervalChoice] = {}
        for choice in choices:
            key = interval_key(choice.price)
            seen.setdefault(key, IntervalChoice(key, _interval_name(choice.price, locale)))
        return PlanChooser(
            subscription_id=allowed.subscription.id,
            product_name=", ".join(r.product["name"] for r in rows),
            current_line=i18n.gettext(locale, _("Current plan: {plan}"),
                                      plan=_plan_line(rows)),
            item_id=row.id,
            items=[ItemChoice(r.id, r.product["name"], item_line(r, locale=locale).detail,
                              r.metered) for r in rows],
            options=options,
            intervals=sorted(seen.values(), key=lambda c: _key_days(c.key)),
            interval_key=interval_key(row.price),
            price_id=row.price["id"],
            quantity=row.quantity,
            price_enabled=allowed.price_enabled,
            quantity_enabled=allowed.quantity_enabled,
            quantity_min=allowed.quantity_min,
            quantity_max=allowed.quantity_max,
            promotion_code_enabled=allowed.promotion_code_enabled,
            metered_note=i18n.gettext(locale, _("Usage-based: you pay for what you use. "
                                                "It can only switch to another usage-based "
                                                "price.")) if row.metered else "",
        )


# --- the preview --------------------------------------------------------------------------


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
    version: str  # the subscription state previewed: the confirmation must find it unchanged
    proration_date: int = 0  # unix: the confirmation prorates as of the preview


def preview_update(session: PortalSession, request: ChangeRequest, *, locale: str,
                   uow: UnitOfWork) -> PreviewView:
    """The preview of a plan or quantity change. Raises InvalidRequest, ResourceMissing."""
    with uow:
        plan = plan_request(session, request, uow=uow)
        return _preview_view(preview(session, request.subscription_id, plan, uow=uow), plan,
                             session=session, locale=locale, uow=uow)


def preview_flow_confirm(session: PortalSession, subscription_id: str, *, locale: str,
                         uow: UnitOfWork) -> PreviewView:
    """The preview of the change a ``subscription_update_confirm`` link was made for."""
    with uow:
        plan = plan_flow(session, subscription_id, uow=uow)
        return _preview_view(preview(session, subscription_id, plan, uow=uow), plan,
                             session=session, locale=locale, uow=uow)


def _line_view(line: StripeObject, *, session: PortalSession, locale: str, uow: UnitOfWork
               ) -> PreviewLineView:
    provider = billing_provider(session.account_id, uow=uow)
    price_id = line["pricing"]["price_details"]["price"]
    name = provider.retrieve_product(provider.retrieve_price(price_id)["product"])["name"] \
        if price_id else line["description"]
    if line["quantity"] != 1:
        name = f"{line['quantity']} × {name}"
    message = _("Unused time on {plan}") if line["amount"] < 0 else _("Remaining time on {plan}")
    period = line["period"]
    return PreviewLineView(
        description=i18n.gettext(locale, message, plan=name),
        period=i18n.gettext(locale, _("{start} – {end}"),
                            start=i18n.format_date(from_unix(period["start"]), locale),
                            end=i18n.format_date(from_unix(period["end"]), locale)),
        amount=i18n.format_money(line["amount"], line["currency"], locale),
        credit=line["amount"] < 0)


def _preview_view(change: StripeObject, plan: ChangePlan, *, session: PortalSession,
                  locale: str, uow: UnitOfWork) -> PreviewView:
    def money(amount: int) -> str:
        return i18n.format_money(amount, change["currency"], locale)

    sub = billing_provider(session.account_id, uow=uow).retrieve_subscription(
        change["subscription"], customer_id=session.customer_id)
    due_label = _("Invoiced today") if sub["collection_method"] == "send_invoice" \
        else _("Amount due today")
    scheduled_line = ""
    if change["scheduled_at"] is not None:
        scheduled_line = i18n.gettext(
            locale, _("Changes to {plan} on {date}"), plan=plan.new_plan,
            date=i18n.format_date(from_unix(change["scheduled_at"]), locale))
    return PreviewView(
        subscription_id=change["subscription"],
        new_plan=plan.new_plan,
        lines=[_line_view(line, session=session, locale=locale, uow=uow)
               for line in change["lines"]],
        has_discount=change["total_discount"] > 0,
        discount=money(-change["total_discount"]),
        amount_due_now=money(change["amount_due_now"]),
        due_now_label=i18n.gettext(locale, due_label),
        next_invoice_date=i18n.format_date(from_unix(change["next_invoice_date"]), locale),
        next_invoice_amount=money(change["next_invoice_amount_due"]),
        scheduled=change["scheduled_at"] is not None,
        scheduled_line=scheduled_line,
        version=change["version"],
        proration_date=change["proration_date"],
    )
