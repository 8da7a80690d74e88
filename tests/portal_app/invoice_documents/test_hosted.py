"""The hosted invoice page's HTML and the texts both documents share."""

from __future__ import annotations

from datetime import UTC, datetime

from portal_app.billing.provider import StripeObject
from portal_app.invoice_documents.document import invoice_document, is_past_due
from portal_app.invoice_documents.hosted import hosted_invoice_html

NOW = datetime(2026, 2, 1, tzinfo=UTC)
MARCH = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())


def html(invoice: StripeObject, *, locale: str = "en", business: str = "Acme Cloud",
         pay_url: str | None = None, now: datetime = NOW) -> str:
    doc = invoice_document(invoice, business_name=business, locale=locale, now=now)
    return hosted_invoice_html(doc, pdf_url="/invoices/a/b/c/pdf", pay_url=pay_url)


def open_invoice(invoice: StripeObject, **changes: object) -> StripeObject:
    return {**invoice, "status": "open", "amount_paid": 0, "amount_remaining": 2700,
            "due_date": MARCH, "attempted": False, "attempt_count": 0, **changes}


def test_a_paid_invoice_page(invoice: StripeObject) -> None:
    page = html(invoice)
    assert '<html lang="en" dir="ltr">' in page
    assert '<span class="badge status">Paid</span>' in page
    assert "€27.00 paid on January 31, 2026" in page
    assert 'href="/invoices/a/b/c/pdf" download' in page
    assert "EU VAT DE123456789" in page and "10115 Berlin<br>Germany" in page
    assert page.count('<tr class="line">') == 1 and "Jan 31, 2026 – Feb 28, 2026" in page
    assert "Pay this invoice" not in html(invoice, pay_url="/pay")


def test_an_open_invoice_can_be_paid_when_a_pay_url_is_given(invoice: StripeObject) -> None:
    due = open_invoice(invoice)
    assert '<span class="badge status">Open</span>' in html(due)
    assert "€27.00 due March 1, 2026" in html(due)
    assert "Pay this invoice" not in html(due)
    assert '<a class="button primary" href="/pay?x=1&amp;y=2">Pay this invoice</a>' in \
        html(due, pay_url="/pay?x=1&y=2")


def test_past_due_when_the_due_date_passed_or_a_payment_failed(invoice: StripeObject) -> None:
    due = open_invoice(invoice)
    assert not is_past_due(due, now=NOW)
    assert is_past_due(due, now=datetime(2026, 3, 2, tzinfo=UTC))
    assert is_past_due({**due, "attempted": True}, now=NOW)
    assert not is_past_due({**invoice, "attempted": True}, now=NOW)  # paid
    assert "Past due" in html(due, now=datetime(2026, 3, 2, tzinfo=UTC))


def test_void_and_uncollectible(invoice: StripeObject) -> None:
    void = html({**invoice, "status": "void"})
    assert "This invoice is void" in void and ">Void</span>" in void
    assert ">Uncollectible</span>" in html(open_invoice(invoice, status="uncollectible"))


def test_every_text_is_escaped(invoice: StripeObject) -> None:
    evil = "<script>alert(1)</script>"
    page = html({**invoice, "customer_name": evil, "number": '"><img src=x>'}, business=evil)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_arabic_is_right_to_left_and_translated(invoice: StripeObject) -> None:
    page = html(invoice, locale="ar")
    assert '<html lang="ar" dir="rtl">' in page
    for expected in ["فاتورة", "تنزيل PDF", "المجموع الفرعي", "مدفوعة", "ألمانيا"]:
        assert expected in page, expected


def test_tax_is_shown_when_there_is_some(invoice: StripeObject) -> None:
    assert "Tax" not in html(invoice)
    taxed = {**invoice, "total_taxes": [{"amount": 513, "tax_behavior": "exclusive"}],
             "total": 3213}
    page = html(taxed)
    assert "<span>Tax</span><span class=\"num\">€5.13</span>" in page
    assert "<span>Total</span><span class=\"num\">€32.13</span>" in page
