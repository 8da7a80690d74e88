"""The portal overview as view models: plain strings, already translated and formatted.

Reflex compiles pages once, so the page itself holds no text: everything it
shows with a value in it (a price, a date, "Return to Acme") is formatted here
in the customer's locale, and the page reads the rest from the catalog.
Only objects of the session's own customer are ever read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlmodel import col, select

from portal_app import i18n
from portal_app.accounts.models import Account
from portal_app.billing import meters
from portal_app.billing.models import (
    Customer,
    Interval,
    Invoice,
    InvoiceStatus,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork
from portal_app.i18n import _
from portal_app.portal.models import PortalConfiguration, PortalSession

RECENT_INVOICES = 5

# What the overview lists: everything but subscriptions that never started or have ended.
SHOWN_STATUSES = (
    SubscriptionStatus.trialing, SubscriptionStatus.active, SubscriptionStatus.past_due,
    SubscriptionStatus.unpaid, SubscriptionStatus.paused, SubscriptionStatus.incomplete,
)

# Radix colour names for the status badges (not user-visible text).
Color = Literal["green", "blue", "amber", "red", "gray"]

SUBSCRIPTION_STATUS: dict[str, tuple[str, Color]] = {
    "active": (_("Active"), "green"),
    "trialing": (_("Trial"), "blue"),
    "past_due": (_("Past due"), "red"),
    "unpaid": (_("Unpaid"), "red"),
    "paused": (_("Paused"), "amber"),
    "incomplete": (_("Incomplete"), "amber"),
    "incomplete_expired": (_("Expired"), "gray"),
    "canceled": (_("Canceled"), "gray"),
}
INVOICE_STATUS: dict[str, tuple[str, Color]] = {
    "paid": (_("Paid"), "green"),
    "open": (_("Due"), "amber"),
    "void": (_("Void"), "gray"),
    "uncollectible": (_("Uncollectible"), "red"),
    "draft": (_("Draft"), "gray"),
}
# One message per interval rather than plural forms: "every {count} months" has a
# count >= 2 by construction, which is the form most languages need here.
INTERVAL_ONE = {
    Interval.day: _("per day"), Interval.week: _("per week"),
    Interval.month: _("per month"), Interval.year: _("per year"),
}
INTERVAL_MANY = {
    Interval.day: _("every {count} days"), Interval.week: _("every {count} weeks"),
    Interval.month: _("every {count} months"), Interval.year: _("every {count} years"),
}
CARD_BRANDS = {
    "visa": "Visa", "mastercard": "Mastercard", "amex": "American Express",
    "discover": "Discover", "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay",
    "cartes_bancaires": "Cartes Bancaires", "eftpos_au": "eftpos", "interac": "Interac",
}


@dataclass
class SubscriptionView:
    """One subscription as the overview shows it."""

    product_name: str
    amount: str  # the total per period, e.g. "€59.97"
    interval: str  # "per month", "every 3 months"
    quantity: str  # "3 × €19.99", or "" for a single unit
    status: str  # Stripe's status value
    status_label: str
    status_color: str
    date_line: str  # "Renews on Feb 28, 2026", "Trial ends on ...", "Cancels on ..."


@dataclass
class PaymentMethodView:
    """The customer's default payment method."""

    brand: str  # "Visa"
    last4: str
    description: str  # "Visa •••• 4242"
    expiry: str  # "Expires 12/2034", or ""


@dataclass
class InvoiceView:
    """One row of the recent invoices."""

    date: str
    number: str
    amount: str
    status: str
    status_label: str
    status_color: str


@dataclass
class Overview:
    """Everything the overview page shows, for one session, in one locale."""

    locale: str
    direction: Literal["ltr", "rtl"]
    business_name: str
    headline: str
    return_url: str
    return_label: str  # "Return to Acme Cloud"
    customer_email: str
    subscriptions: list[SubscriptionView] = field(default_factory=list)
    payment_method: PaymentMethodView | None = None
    invoices: list[InvoiceView] = field(default_factory=list)


def resolve_locale(session: PortalSession, *, accept_language: str | None,
                   uow: UnitOfWork) -> str:
    """The session's locale; for ``auto`` (or none) the customer's or the browser's best.

    An explicit locale is kept as given, so money and dates follow it even before
    its language has a catalog (the strings then fall back to English).
    """
    if session.locale and session.locale != "auto":
        return session.locale
    with uow:
        customer = uow.session.get(Customer, session.customer_id)
        preferred = list(customer.preferred_locales) if customer else []
    header = ", ".join([*preferred, accept_language] if accept_language else preferred)
    return i18n.negotiate(None, header or None)


def load_overview(session: PortalSession, *, locale: str, uow: UnitOfWork) -> Overview:
    """The overview of ``session``'s customer in ``locale``. Raises ResourceMissing."""
    with uow:
        account = uow.get(Account, session.account_id, account_id=session.account_id,
                          label="account")
        config = uow.get(PortalConfiguration, session.configuration_id,
                         account_id=session.account_id, label="configuration")
        customer = uow.get(Customer, session.customer_id, account_id=session.account_id,
                           label="customer")
        subscriptions = list(uow.session.exec(
            select(Subscription)
            .where(Subscription.customer_id == customer.id,
                   Subscription.account_id == session.account_id,
                   col(Subscription.status).in_(SHOWN_STATUSES))
            .order_by(col(Subscription.created).desc(), col(Subscription.id))
        ).all())
        invoices = list(uow.session.exec(
            select(Invoice)
            .where(Invoice.customer_id == customer.id,
                   Invoice.account_id == session.account_id,
                   Invoice.status != InvoiceStatus.draft)
            .order_by(col(Invoice.created).desc(), col(Invoice.number).desc())
            .limit(RECENT_INVOICES)
        ).all())
        business = account.business_name
        return Overview(
            locale=locale,
            direction="rtl" if i18n.is_rtl(locale) else "ltr",
            business_name=business,
            headline=(config.business_profile or {}).get("headline") or "",
            return_url=session.return_url or "",
            return_label=i18n.gettext(locale, _("Return to {business}"), business=business),
            customer_email=customer.email or "",
            subscriptions=[_subscription_view(s, locale=locale, uow=uow) for s in subscriptions],
            payment_method=_payment_method_view(customer, subscriptions, locale=locale,
                                                uow=uow),
            invoices=[_invoice_view(i, locale=locale) for i in invoices],
        )


def _subscription_view(sub: Subscription, *, locale: str, uow: UnitOfWork
                       ) -> SubscriptionView:
    rows = uow.session.exec(
        select(SubscriptionItem, Price, Product)
        .where(SubscriptionItem.subscription_id == sub.id,
               SubscriptionItem.price_id == Price.id, Price.product_id == Product.id)
        .order_by(col(SubscriptionItem.position), col(SubscriptionItem.id))
    ).all()
    names = [product.name for _item, _price, product in rows]
    # Usage-based items are billed in arrears: they add nothing to the fixed amount.
    fixed = [(item, price) for item, price, _product in rows if price.usage_type != "metered"]
    total = sum(price.unit_amount * item.quantity for item, price in fixed)
    quantity = ""
    if len(rows) == 1 and rows[0][0].quantity != 1:
        item, price, _product = rows[0]
        quantity = f"{item.quantity} × {i18n.format_money(price.unit_amount, price.currency, locale)}"
    first_price = rows[0][1] if rows else None
    interval = _interval_text(first_price, locale=locale)
    if rows and not fixed:
        # Only usage: the headline is what this period's usage costs so far.
        total = sum(meters.current_usage(sub, item, price, uow=uow).amount
                    for item, price, _product in rows)
        interval = i18n.gettext(locale, _("so far this period"))
    label, color = SUBSCRIPTION_STATUS.get(str(sub.status), (str(sub.status), "gray"))
    return SubscriptionView(
        product_name=", ".join(names),
        amount=i18n.format_money(total, sub.currency, locale),
        interval=interval,
        quantity=quantity,
        status=str(sub.status),
        status_label=i18n.gettext(locale, label),
        status_color=color,
        date_line=_date_line(sub, locale=locale),
    )


def _interval_text(price: Price | None, *, locale: str) -> str:
    if price is None or price.interval is None:
        return ""
    if price.interval_count == 1:
        return i18n.gettext(locale, INTERVAL_ONE[price.interval])
    return i18n.gettext(locale, INTERVAL_MANY[price.interval], count=price.interval_count)


def _date_line(sub: Subscription, *, locale: str) -> str:
    def on(message: str, when: datetime | None) -> str:
        return i18n.gettext(locale, message, date=i18n.format_date(when, locale)) if when else ""

    status = sub.status
    if status == SubscriptionStatus.canceled:
        return on(_("Ended on {date}"), sub.ended_at or sub.canceled_at)
    if sub.cancel_at_period_end or sub.cancel_at:
        return on(_("Cancels on {date}"), sub.cancel_at or sub.current_period_end)
    if status == SubscriptionStatus.trialing:
        return on(_("Trial ends on {date}"), sub.trial_end)
    if status == SubscriptionStatus.paused or sub.pause_collection:
        resumes = (sub.pause_collection or {}).get("resumes_at")
        if resumes:
            return on(_("Payments paused until {date}"), from_unix(resumes))
        return i18n.gettext(locale, _("Payments paused"))
    if status in (SubscriptionStatus.past_due, SubscriptionStatus.unpaid):
        return on(_("Payment due since {date}"), sub.current_period_start)
    if status == SubscriptionStatus.incomplete:
        return i18n.gettext(locale, _("Waiting for the first payment"))
    return on(_("Renews on {date}"), sub.current_period_end)


def _payment_method_view(customer: Customer, subscriptions: list[Subscription], *,
                         locale: str, uow: UnitOfWork) -> PaymentMethodView | None:
    candidates = [customer.default_payment_method,
                  *(s.default_payment_method for s in subscriptions)]
    for pm_id in candidates:
        pm = uow.session.get(PaymentMethod, pm_id) if pm_id else None
        # Only a method attached to this very customer may be shown.
        if pm is not None and pm.customer_id == customer.id:
            brand = CARD_BRANDS.get(pm.brand or "", (pm.brand or pm.type).title())
            expiry = ""
            if pm.exp_month and pm.exp_year:
                expiry = i18n.gettext(locale, _("Expires {month}/{year}"),
                                      month=f"{pm.exp_month:02d}", year=pm.exp_year)
            return PaymentMethodView(brand=brand, last4=pm.last4,
                                     description=f"{brand} •••• {pm.last4}", expiry=expiry)
    return None


def _invoice_view(invoice: Invoice, *, locale: str) -> InvoiceView:
    label, color = INVOICE_STATUS.get(str(invoice.status), (str(invoice.status), "gray"))
    return InvoiceView(
        date=i18n.format_date(invoice.created, locale),
        number=invoice.number or "",
        amount=i18n.format_money(invoice.total, invoice.currency, locale),
        status=str(invoice.status),
        status_label=i18n.gettext(locale, label),
        status_color=color,
    )
