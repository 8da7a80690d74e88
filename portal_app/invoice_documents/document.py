"""An invoice as its documents show it: every text translated, money and dates formatted.

:func:`invoice_document` reads a Stripe ``invoice`` (with its ``lines``) alone, so the
hosted page and the PDF lay out the same texts and neither formats anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from portal_app import i18n
from portal_app.billing.provider import StripeObject
from portal_app.clock import from_unix
from portal_app.i18n import _

Color = Literal["green", "blue", "amber", "red", "gray"]

# Stripe's finalized statuses, each with its label and badge colour (drafts have no document).
STATUS: dict[str, tuple[str, Color]] = {
    "paid": (_("Paid"), "green"),
    "open": (_("Open"), "blue"),
    "void": (_("Void"), "gray"),
    "uncollectible": (_("Uncollectible"), "red"),
    "draft": (_("Draft"), "gray"),
}
PAST_DUE: tuple[str, Color] = (_("Past due"), "red")
# The stamp across a settled document.
STAMPS = {"paid": _("PAID"), "void": _("VOID")}


@dataclass(frozen=True)
class LineText:
    """One invoice line: what was billed, for which period, how many, for how much."""

    description: str
    period: str  # "Mar 1, 2026 – Apr 1, 2026", or ""
    quantity: str
    amount: str


@dataclass(frozen=True)
class TotalText:
    """One row of the totals block."""

    label: str
    amount: str
    strong: bool = False


@dataclass
class InvoiceDocument:
    """Everything an invoice document shows, in one locale."""

    locale: str
    direction: Literal["ltr", "rtl"]
    invoice_id: str
    status: str  # Stripe's status
    status_label: str  # "Paid", "Past due"...
    status_color: Color
    stamp: str  # "PAID", "VOID", or ""
    title: str  # "Invoice"
    business_name: str
    number: str
    headline: str  # "€15.00 due Mar 31, 2026", "€15.00 paid on Mar 1, 2026"
    amount_due: str
    amount_remaining: int  # minor units still to pay (0: nothing to pay)
    meta: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    bill_to_label: str = ""
    bill_to: list[str] = field(default_factory=list)
    from_label: str = ""
    columns: tuple[str, str, str] = ("", "", "")  # description, quantity, amount
    lines: list[LineText] = field(default_factory=list)
    totals: list[TotalText] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # the page's other texts


def is_past_due(invoice: StripeObject, *, now: datetime) -> bool:
    """An open invoice whose due date has passed, or whose payment has been tried and failed."""
    if invoice["status"] != "open":
        return False
    due = invoice.get("due_date")
    return bool(invoice.get("attempted")) or (due is not None and from_unix(due) < now)


def status_badge(invoice: StripeObject, *, now: datetime) -> tuple[str, Color]:
    """The status label (a message id) and colour of ``invoice``: "Past due" when it is."""
    if is_past_due(invoice, now=now):
        return PAST_DUE
    return STATUS.get(invoice["status"], (invoice["status"], "gray"))


def _money(amount: int, invoice: StripeObject, locale: str) -> str:
    return i18n.format_money(amount, invoice["currency"], locale)


def _date(unix: int | None, locale: str, *, format: str = "medium") -> str:
    return i18n.format_date(from_unix(unix), locale, format=format) if unix else ""


def _period(period: dict[str, Any] | None, locale: str) -> str:
    if not period or not period.get("start") or not period.get("end"):
        return ""
    start, end = _date(period["start"], locale), _date(period["end"], locale)
    return start if start == end else f"{start} – {end}"


def address_lines(address: dict[str, Any] | None, locale: str) -> list[str]:
    """A Stripe ``address`` as lines: street, postal code and city, state, country name."""
    if not address:
        return []
    country = address.get("country") or ""
    city = " ".join(p for p in (address.get("postal_code"), address.get("city")) if p)
    lines = [address.get("line1"), address.get("line2"), city, address.get("state"),
             i18n.babel_locale(locale).territories.get(country.upper(), country)
             if country else ""]
    return [str(line) for line in lines if line]


def tax_id_text(tax_id: dict[str, Any]) -> str:
    """``EU VAT DE123456789`` for Stripe's ``{type: eu_vat, value: DE123456789}``."""
    kind = str(tax_id.get("type") or "").replace("_", " ").upper()
    return f"{kind} {tax_id.get('value') or ''}".strip()


def _headline(invoice: StripeObject, locale: str) -> str:
    status = invoice["status"]
    if status == "paid":
        paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
        return i18n.gettext(locale, _("{amount} paid on {date}"),
                            amount=_money(invoice["amount_paid"], invoice, locale),
                            date=_date(paid_at or invoice["created"], locale, format="long"))
    if status == "void":
        return i18n.gettext(locale, _("This invoice is void"))
    amount = _money(invoice["amount_remaining"], invoice, locale)
    if invoice.get("due_date"):
        return i18n.gettext(locale, _("{amount} due {date}"), amount=amount,
                            date=_date(invoice["due_date"], locale, format="long"))
    return i18n.gettext(locale, _("{amount} due"), amount=amount)


def _totals(invoice: StripeObject, locale: str) -> list[TotalText]:
    def t(message: str) -> str:
        return i18n.gettext(locale, message)

    rows = [TotalText(t(_("Subtotal")), _money(invoice["subtotal"], invoice, locale))]
    discount = sum(d["amount"] for d in invoice.get("total_discount_amounts") or [])
    if discount:
        rows.append(TotalText(t(_("Discount")), _money(-discount, invoice, locale)))
    tax = sum(tx["amount"] for tx in invoice.get("total_taxes") or [])
    if tax:
        rows.append(TotalText(t(_("Tax")), _money(tax, invoice, locale)))
    rows.append(TotalText(t(_("Total")), _money(invoice["total"], invoice, locale)))
    if invoice["amount_paid"]:
        rows.append(TotalText(t(_("Amount paid")),
                              _money(invoice["amount_paid"], invoice, locale)))
    remaining = 0 if invoice["status"] == "void" else invoice["amount_remaining"]
    rows.append(TotalText(t(_("Amount due")), _money(remaining, invoice, locale), strong=True))
    return rows


def invoice_document(invoice: StripeObject, *, business_name: str, locale: str,
                     now: datetime) -> InvoiceDocument:
    """The texts of ``invoice`` (a Stripe ``invoice`` with its lines) in ``locale``."""
    def t(message: str) -> str:
        return i18n.gettext(locale, message)

    issued = (invoice.get("status_transitions") or {}).get("finalized_at") or invoice["created"]
    meta = [(t(_("Invoice number")), invoice["number"] or invoice["id"]),
            (t(_("Date of issue")), _date(issued, locale, format="long"))]
    if invoice.get("due_date"):
        meta.append((t(_("Date due")), _date(invoice["due_date"], locale, format="long")))
    label, color = status_badge(invoice, now=now)
    bill_to = [line for line in (invoice.get("customer_name"), invoice.get("customer_email"))
               if line]
    bill_to += address_lines(invoice.get("customer_address"), locale)
    bill_to += [tax_id_text(tax_id) for tax_id in invoice.get("customer_tax_ids") or []]
    lines = [LineText(description=line.get("description") or "",
                      period=_period(line.get("period"), locale),
                      quantity=i18n.format_number(line.get("quantity") or 0, locale)
                      if line.get("quantity") is not None else "",
                      amount=_money(line["amount"], invoice, locale))
             for line in (invoice.get("lines") or {}).get("data", [])]
    return InvoiceDocument(
        locale=locale,
        direction="rtl" if i18n.is_rtl(locale) else "ltr",
        invoice_id=invoice["id"],
        status=invoice["status"],
        status_label=t(label),
        status_color=color,
        stamp=t(STAMPS[invoice["status"]]) if invoice["status"] in STAMPS else "",
        title=t(_("Invoice")),
        business_name=business_name,
        number=invoice["number"] or invoice["id"],
        headline=_headline(invoice, locale),
        amount_due=_money(invoice["amount_remaining"], invoice, locale),
        amount_remaining=0 if invoice["status"] in ("void", "paid")
        else invoice["amount_remaining"],
        meta=meta,
        bill_to_label=t(_("Bill to")),
        bill_to=bill_to,
        from_label=t(_("From")),
        columns=(t(_("Description")), t(_("Qty")), t(_("Amount"))),
        lines=lines,
        totals=_totals(invoice, locale),
        labels={
            "download": t(_("Download PDF")),
            "pay": t(_("Pay this invoice")),
            "amount_due": t(_("Amount due")),
            "page_title": i18n.gettext(locale, _("Invoice {number} · {business}"),
                                       number=invoice["number"] or invoice["id"],
                                       business=business_name),
            "questions": i18n.gettext(locale, _("Questions? Contact {business}."),
                                      business=business_name),
        },
    )
