"""The portal overview as view models: plain strings, already translated and formatted.

Reflex compiles pages once, so the page itself holds no text: everything it
shows with a value in it (a price, a date, "Return to Acme") is formatted here
in the customer's locale, and the page reads the rest from the catalog.
Billing comes through the contract (Stripe-shaped objects), and only objects of
the session's own customer are ever read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from portal_app import i18n
from portal_app.accounts.models import Account
from portal_app.billing.provider import BillingProvider, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork
from portal_app.errors import ResourceMissing
from portal_app.i18n import _
from portal_app.portal.models import PortalConfiguration, PortalSession
from portal_app.stripe_shapes import current_period, is_metered
from portal_app.views.invoices import in_locale, invoice_history_enabled
from portal_app.views.payment_method_text import method_view

RECENT_INVOICES = 5

# What the overview lists: everything but subscriptions that never started or have ended.
SHOWN_STATUSES = ("trialing", "active", "past_due", "unpaid", "paused", "incomplete")

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
# Keyed by Stripe's interval names. One message per interval rather than plural forms:
# "every {count} months" has a count >= 2 by construction, which is the form most
# languages need here.
INTERVAL_ONE = {
    "day": _("per day"), "week": _("per week"), "month": _("per month"), "year": _("per year"),
}
INTERVAL_MANY = {
    "day": _("every {count} days"), "week": _("every {count} weeks"),
    "month": _("every {count} months"), "year": _("every {count} years"),
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
    hosted_url: str = ""  # the hosted invoice page (hosted_invoice_url)
    pdf_url: str = ""


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
    invoice_history: bool = True  # features.invoice_history.enabled
    payment_method_update: bool = True  # features.payment_method_update.enabled


def resolve_locale(session: PortalSession, *, accept_language: str | None,
                   uow: UnitOfWork) -> str:
    """The session's locale; for ``auto`` (or none) the customer's or the browser's best.

    An explicit locale is kept as given, so money and dates follow it even before
    its language has a catalog (the strings then fall back to English).
    """
    if session.locale and session.locale != "auto":
        return session.locale
    with uow:
        try:
            customer = billing_provider(session.account_id, uow=uow).retrieve_customer(
                session.customer_id)
            preferred = list(customer["preferred_locales"] or [])
        except ResourceMissing:
            preferred = []
    header = ", ".join([*preferred, accept_language] if accept_language else preferred)
    return i18n.negotiate(None, header or None)


def load_overview(session: PortalSession, *, locale: str, uow: UnitOfWork) -> Overview:
    """The overview of ``session``'s customer in ``locale``. Raises ResourceMissing."""
    with uow:
        account = uow.get(Account, session.account_id, account_id=session.account_id,
                          label="account")
        config = uow.get(PortalConfiguration, session.configuration_id,
                         account_id=session.account_id, label="configuration")
        billing = billing_provider(session.account_id, uow=uow)
        customer = billing.retrieve_customer(session.customer_id)
        subscriptions = shown_subscriptions(billing, customer["id"])
        history = invoice_history_enabled(config.features)
        invoices = _recent_invoices(billing.list_invoices(customer["id"])) if history else []
        business = account.business_name
        return Overview(
            locale=locale,
            direction="rtl" if i18n.is_rtl(locale) else "ltr",
            business_name=business,
            headline=(config.business_profile or {}).get("headline") or "",
            return_url=session.return_url or "",
            return_label=i18n.gettext(locale, _("Return to {business}"), business=business),
            customer_email=customer["email"] or "",
            subscriptions=[subscription_view(s, locale=locale, billing=billing)
                           for s in subscriptions],
            payment_method=_payment_method_view(customer, subscriptions, locale=locale,
                                                billing=billing, now=uow.clock()),
            invoices=[_invoice_view(i, locale=locale) for i in invoices],
            invoice_history=history,
            payment_method_update=bool(
                ((config.features or {}).get("payment_method_update") or {}).get("enabled")),
        )


def shown_subscriptions(billing: BillingProvider, customer_id: str) -> list[StripeObject]:
    """The customer's subscriptions the portal lists (:data:`SHOWN_STATUSES`), newest first.

    Subscriptions created at the same second come in id order, so the list is stable.
    """
    current = [s for s in billing.list_subscriptions(customer_id)
               if s["status"] in SHOWN_STATUSES]
    return sorted(sorted(current, key=lambda s: s["id"]), key=lambda s: s["created"],
                  reverse=True)


def _recent_invoices(invoices: Iterable[StripeObject]) -> list[StripeObject]:
    issued = [i for i in invoices if i["status"] != "draft"]
    issued.sort(key=lambda i: (i["created"], i["number"] or ""), reverse=True)
    return issued[:RECENT_INVOICES]


def subscription_view(sub: StripeObject, *, locale: str, billing: BillingProvider
                      ) -> SubscriptionView:
    """One subscription (a Stripe ``subscription``) as the overview's card shows it."""
    items: list[StripeObject] = sub["items"]["data"]
    products: dict[str, str] = {}
    for item in items:
        product_id = item["price"]["product"]
        if product_id not in products:
            products[product_id] = billing.retrieve_product(product_id)["name"]
    names = [products[item["price"]["product"]] for item in items]
    # Usage-based items are billed in arrears: they add nothing to the fixed amount.
    fixed = [item for item in items if not is_metered(item["price"])]
    total = sum((item["price"]["unit_amount"] or 0) * item["quantity"] for item in fixed)
    quantity = ""
    if len(items) == 1 and items[0]["quantity"] != 1:
        price = items[0]["price"]
        unit = i18n.format_money(price["unit_amount"] or 0, price["currency"], locale)
        quantity = f"{items[0]['quantity']} × {unit}"
    interval = price_interval_text(items[0]["price"], locale=locale) if items else ""
    if items and not fixed:
        # Only usage: the headline is what this period's usage costs so far.
        total = sum(line["amount"] for line in billing.list_upcoming_usage(
            sub["id"], customer_id=sub["customer"]))
        interval = i18n.gettext(locale, _("so far this period"))
    status = sub["status"]
    label, color = SUBSCRIPTION_STATUS.get(status, (status, "gray"))
    return SubscriptionView(
        product_name=", ".join(names),
        amount=i18n.format_money(total, sub["currency"], locale),
        interval=interval,
        quantity=quantity,
        status=status,
        status_label=i18n.gettext(locale, label),
        status_color=color,
        date_line=_date_line(sub, locale=locale),
    )


def interval_text(interval: str | None, count: int, *, locale: str) -> str:
    """``per month`` / ``every 3 months`` for Stripe's ``interval`` and ``interval_count``;
    "" without an interval (a one-time price)."""
    if interval is None:
        return ""
    if count == 1:
        return i18n.gettext(locale, INTERVAL_ONE[interval])
    return i18n.gettext(locale, INTERVAL_MANY[interval], count=count)


def price_interval_text(price: StripeObject | None, *, locale: str) -> str:
    """:func:`interval_text` of a Stripe ``price``'s ``recurring`` ("" for one-time)."""
    recurring = (price or {}).get("recurring")
    if not recurring:
        return ""
    return interval_text(recurring["interval"], recurring["interval_count"], locale=locale)


def _date_line(sub: StripeObject, *, locale: str) -> str:
    def on(message: str, when: int | None) -> str:
        if not when:
            return ""
        return i18n.gettext(locale, message, date=i18n.format_date(from_unix(when), locale))

    status = sub["status"]
    period_start, period_end = current_period(sub)
    if status == "canceled":
        return on(_("Ended on {date}"), sub["ended_at"] or sub["canceled_at"])
    if sub["cancel_at_period_end"] or sub["cancel_at"]:
        return on(_("Cancels on {date}"), sub["cancel_at"] or period_end)
    if status == "trialing":
        return on(_("Trial ends on {date}"), sub["trial_end"])
    if status == "paused" or sub["pause_collection"]:
        resumes = (sub["pause_collection"] or {}).get("resumes_at")
        if resumes:
            return on(_("Payments paused until {date}"), resumes)
        return i18n.gettext(locale, _("Payments paused"))
    if status in ("past_due", "unpaid"):
        return on(_("Payment due since {date}"), period_start)
    if status == "incomplete":
        return i18n.gettext(locale, _("Waiting for the first payment"))
    return on(_("Renews on {date}"), period_end)


def _payment_method_view(customer: StripeObject, subscriptions: list[StripeObject], *,
                         locale: str, billing: BillingProvider, now: datetime
                         ) -> PaymentMethodView | None:
    candidates = [customer["invoice_settings"]["default_payment_method"],
                  *(s["default_payment_method"] for s in subscriptions)]
    # Only a method attached to this very customer may be shown: the customer's own list.
    methods = {pm["id"]: pm for pm in billing.list_payment_methods(customer["id"])}
    for pm_id in candidates:
        pm = methods.get(pm_id) if pm_id else None
        if pm is not None:
            return payment_method_view(pm, locale=locale, now=now)
    return None


def payment_method_view(pm: StripeObject, *, locale: str, now: datetime) -> PaymentMethodView:
    """A Stripe ``payment_method`` as the portal names it: ``Visa •••• 4242``."""
    shown = method_view(pm, default_id=None, locale=locale, now=now)
    details: dict[str, Any] = pm.get(pm["type"]) or {}
    return PaymentMethodView(brand=shown.title.split(" •••• ")[0],
                             last4=str(details.get("last4") or ""), description=shown.title,
                             expiry=shown.detail)


def _invoice_view(invoice: StripeObject, *, locale: str) -> InvoiceView:
    status = invoice["status"]
    label, color = INVOICE_STATUS.get(status, (status, "gray"))
    return InvoiceView(
        date=i18n.format_date(from_unix(invoice["created"]), locale),
        number=invoice["number"] or "",
        amount=i18n.format_money(invoice["total"], invoice["currency"], locale),
        status=status,
        status_label=i18n.gettext(locale, label),
        status_color=color,
        hosted_url=in_locale(invoice["hosted_invoice_url"], locale),
        pdf_url=in_locale(invoice["invoice_pdf"], locale),
    )
