"""The portal's invoice history as view models: one page of rows, already formatted.

Invoices come through the billing contract, only the session customer's, finalized ones
only (a draft has no document yet), newest first. Each row links to the invoice's hosted
page and PDF (``hosted_invoice_url``, ``invoice_pdf``). The configuration's
``features.invoice_history.enabled`` governs the whole page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from portal_app import i18n
from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork
from portal_app.i18n import _
from portal_app.invoice_documents.document import status_badge
from portal_app.portal.models import PortalConfiguration, PortalSession
from portal_app.routes import portal_invoice_pay

PAGE_SIZE = 10


@dataclass
class InvoiceRow:
    """One invoice of the history."""

    id: str
    date: str
    number: str
    amount: str
    status: str  # Stripe's status, or "past_due" for an open invoice past its due date
    status_label: str
    status_color: str
    hosted_url: str
    pdf_url: str
    pay_url: str  # the portal's pay page for an open invoice, else ""


@dataclass
class InvoiceHistory:
    """One page of the customer's invoice history."""

    enabled: bool
    page: int  # 1-based, within 1..pages
    pages: int
    total: int
    range_text: str  # "1–10 of 23"
    rows: list[InvoiceRow] = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.pages


def invoice_history_enabled(features: Mapping[str, Any] | None) -> bool:
    """Whether a configuration's ``features`` show the invoice history."""
    return bool(((features or {}).get("invoice_history") or {}).get("enabled"))


def issued_invoices(invoices: Iterable[StripeObject]) -> list[StripeObject]:
    """The finalized invoices (no drafts), newest first; same-second ones by number."""
    issued = [i for i in invoices if i["status"] != "draft"]
    issued.sort(key=lambda i: (i["created"], i["number"] or "", i["id"]), reverse=True)
    return issued


def in_locale(url: str | None, locale: str) -> str:
    """An invoice document's URL opened in the portal's language (``?locale=``); "" for none."""
    return f"{url}?{urlencode({'locale': locale})}" if url else ""


def invoice_row(invoice: StripeObject, *, locale: str, now: datetime) -> InvoiceRow:
    """One Stripe ``invoice`` as a row of the history."""
    label, color = status_badge(invoice, now=now)
    past_due = color == "red" and invoice["status"] == "open"
    return InvoiceRow(
        id=invoice["id"],
        date=i18n.format_date(from_unix(invoice["created"]), locale),
        number=invoice["number"] or "",
        amount=i18n.format_money(invoice["total"], invoice["currency"], locale),
        status="past_due" if past_due else invoice["status"],
        status_label=i18n.gettext(locale, label),
        status_color=color,
        hosted_url=in_locale(invoice["hosted_invoice_url"], locale),
        pdf_url=in_locale(invoice["invoice_pdf"], locale),
        pay_url=portal_invoice_pay(invoice["id"])
        if invoice["status"] == "open" and invoice["amount_remaining"] > 0 else "",
    )


def history_page(invoices: list[StripeObject], *, page: int, locale: str, now: datetime,
                 enabled: bool = True, page_size: int = PAGE_SIZE) -> InvoiceHistory:
    """Page ``page`` (clamped to the pages there are) of ``invoices`` (already issued)."""
    total = len(invoices)
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    start = (page - 1) * page_size
    shown = invoices[start:start + page_size]
    range_text = (i18n.gettext(locale, _("{first}–{last} of {total}"),
                               first=i18n.format_number(start + 1, locale),
                               last=i18n.format_number(start + len(shown), locale),
                               total=i18n.format_number(total, locale))
                  if total else "")
    return InvoiceHistory(enabled=enabled, page=page, pages=pages, total=total,
                          range_text=range_text,
                          rows=[invoice_row(i, locale=locale, now=now) for i in shown])


def load_invoice_history(session: PortalSession, *, page: int, locale: str, uow: UnitOfWork
                         ) -> InvoiceHistory:
    """Page ``page`` of the session customer's invoices. Raises ResourceMissing."""
    with uow:
        config = uow.get(PortalConfiguration, session.configuration_id,
                         account_id=session.account_id, label="configuration")
        if not invoice_history_enabled(config.features):
            return InvoiceHistory(enabled=False, page=1, pages=1, total=0, range_text="")
        billing = billing_provider(session.account_id, uow=uow)
        invoices = issued_invoices(billing.list_invoices(session.customer_id))
        return history_page(invoices, page=page, locale=locale, now=uow.clock())
