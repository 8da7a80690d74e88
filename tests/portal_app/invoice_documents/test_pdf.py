"""The invoice PDF: pypdf reads back its texts, in English, German and Arabic."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pypdf
import pytest

from portal_app.billing.provider import StripeObject
from portal_app.invoice_documents.document import invoice_document
from portal_app.invoice_documents.pdf import invoice_pdf

NOW = datetime(2026, 2, 1, tzinfo=UTC)


def pdf_text(invoice: StripeObject, locale: str) -> str:
    doc = invoice_document(invoice, business_name="Acme Cloud", locale=locale, now=NOW)
    data = invoice_pdf(doc)
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_english_pdf_has_the_number_customer_lines_discount_and_totals(
        invoice: StripeObject) -> None:
    assert (invoice["subtotal"], invoice["total"], invoice["amount_paid"]) == (3000, 2700, 2700)
    text = pdf_text(invoice, "en")
    for expected in ["Invoice", "Acme Cloud", invoice["number"], "Erika Mustermann",
                     "erika@example.com", "Hauptstraße 5", "10115 Berlin", "Germany",
                     "EU VAT DE123456789", invoice["lines"]["data"][0]["description"],
                     "Jan 31, 2026 – Feb 28, 2026", "Subtotal", "€30.00", "Discount",
                     "-€3.00", "Total", "Amount paid", "€27.00", "Amount due", "€0.00",
                     "PAID", "€27.00 paid on January 31, 2026", "Date of issue"]:
        assert expected in text, expected


def test_the_german_pdf_speaks_german_with_german_money_and_dates(
        invoice: StripeObject) -> None:
    text = pdf_text(invoice, "de")
    for expected in ["Rechnung", "Rechnungsnummer", "Zwischensumme", "30,00\xa0€",
                     "Rabatt", "-3,00\xa0€", "Gesamt", "27,00\xa0€", "Deutschland",
                     "BEZAHLT", "31. Januar 2026"]:
        assert expected in text, expected


def test_a_void_invoice_is_stamped_void_and_owes_nothing(invoice: StripeObject) -> None:
    text = pdf_text({**invoice, "status": "void"}, "en")
    assert "VOID" in text and "PAID" not in text
    assert "This invoice is void" in text


def test_an_open_invoice_shows_what_is_due(invoice: StripeObject) -> None:
    due = {**invoice, "status": "open", "amount_paid": 0, "amount_remaining": 2700,
           "due_date": int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())}
    text = pdf_text(due, "en")
    assert "€27.00 due March 1, 2026" in text and "PAID" not in text
    assert "Date due" in text


def text_positions(invoice: StripeObject, locale: str) -> list[tuple[str, float]]:
    """Each text run of the first page with the x (mm from the left edge) it starts at."""
    doc = invoice_document(invoice, business_name="Acme Cloud", locale=locale, now=NOW)
    runs: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            runs.append((text.strip(), (tm[4] * cm[0] + cm[4]) * 25.4 / 72))

    pypdf.PdfReader(io.BytesIO(invoice_pdf(doc))).pages[0].extract_text(visitor_text=visit)
    return runs


def x_of(runs: list[tuple[str, float]], needle: str) -> float:
    return next(x for text, x in runs if needle in text)


@pytest.mark.parametrize("locale", ["ar", "ar-EG"])
def test_the_arabic_pdf_is_shaped_and_laid_out_right_to_left(invoice: StripeObject,
                                                              locale: str) -> None:
    text = pdf_text(invoice, locale)
    # HarfBuzz shaped the Arabic words; their glyphs map back to the letters, which pypdf
    # reads in logical order. Latin names and numbers stay as they are.
    for expected in ["فاتورة", "المجموع الفرعي", "المبلغ المستحق", "الخصم", "مدفوعة",
                     "ألمانيا", "Erika Mustermann", "EU VAT DE123456789", invoice["number"]]:
        assert expected in text, expected
    # Mirrored: labels at the right, amounts at the left (the reverse of English).
    runs = text_positions(invoice, locale)
    assert x_of(runs, "30.00") < 60 < x_of(runs, "المجموع الفرعي")
    assert x_of(runs, "فاتورة") > 150  # the title starts at the right margin
    english = text_positions(invoice, "en")
    assert x_of(english, "Subtotal") < x_of(english, "€30.00")
    assert x_of(english, "Invoice") < 30


def test_many_lines_flow_onto_more_pages(invoice: StripeObject) -> None:
    [line] = invoice["lines"]["data"]
    lines = [{**line, "description": f"Seat {n}"} for n in range(1, 41)]
    doc = invoice_document({**invoice, "lines": {**invoice["lines"], "data": lines}},
                           business_name="Acme Cloud", locale="en", now=NOW)
    reader = pypdf.PdfReader(io.BytesIO(invoice_pdf(doc)))
    texts = [page.extract_text() for page in reader.pages]
    assert len(texts) == 3
    seats = [re.findall(r"Seat (\d+) 2 €30\.00", text) for text in texts]
    # Every line once, in order, none lost at a page break; the totals after the last.
    assert [int(n) for page in seats for n in page] == list(range(1, 41))
    assert all(seats) and "Amount due" in texts[-1]
    assert all("Description" in text for text in texts)  # the table's header again
    assert [f"{n}/3" in text for n, text in enumerate(texts, 1)] == [True] * 3


def embedded_fonts(data: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    return {str(fonts[name].get_object()["/BaseFont"]).split("+")[-1] for name in fonts}


def test_an_english_invoice_can_name_an_arabic_customer(invoice: StripeObject) -> None:
    plain = invoice_document(invoice, business_name="Acme Cloud", locale="en", now=NOW)
    assert not any("Arabic" in font for font in embedded_fonts(invoice_pdf(plain)))
    named = {**invoice, "customer_name": "عائشة العلي"}
    # Shaped in the Arabic fallback font and set right to left inside the English line:
    # pypdf reads the glyphs left to right, so the two words come out in visual order.
    assert "العلي عائشة" in pdf_text(named, "en")
    doc = invoice_document(named, business_name="Acme Cloud", locale="en", now=NOW)
    assert any("Arabic" in font for font in embedded_fonts(invoice_pdf(doc)))
