"""The invoice PDF: an A4 page (or more) laid out with fpdf2, text shaped by HarfBuzz.

Fonts are Debian's ``fonts-noto-core`` (Noto Sans for Latin, Greek and Cyrillic,
Noto Sans Arabic), each the other's fallback, so a Latin invoice can name an Arabic
customer and an Arabic invoice a Latin product. An Arabic (right-to-left) document
is mirrored: every block's x position and alignment flip, and HarfBuzz shapes and
orders the text right to left.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from portal_app.invoice_documents.document import InvoiceDocument

FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONTS = {
    "Noto": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    "NotoArabic": ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
}
# Bidi controls Babel puts into Arabic amounts and dates: HarfBuzz orders the text by the
# paragraph's direction already, and the fonts have no glyph for them.
BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c"))
ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")

PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 18.0
WIDTH = PAGE_W - 2 * MARGIN
AMOUNT_W, QTY_W = 34.0, 18.0
INK, MUTED, RULE = (28, 32, 36), (96, 100, 108), (224, 225, 230)
STAMP_COLORS = {"paid": (48, 164, 108), "void": (139, 141, 152)}


def missing_fonts() -> list[Path]:
    """The font files this module needs that are not installed (``fonts-noto-core``)."""
    return [FONT_DIR / name for files in FONTS.values() for name in files
            if not (FONT_DIR / name).is_file()]


@dataclass
class _Page:
    """Writes on the PDF in logical positions: x from the start edge of the reading direction."""

    pdf: FPDF
    rtl: bool

    def text(self, x: float, y: float, w: float, h: float, text: str, *, size: float = 10,
             bold: bool = False, color: tuple[int, int, int] = INK, align: str = "L") -> None:
        """One line of ``text`` in the box at logical ``x`` (mirrored when right to left)."""
        if self.rtl:
            x = PAGE_W - x - w
            align = {"L": "R", "R": "L"}.get(align, align)
        self.text_font(bold=bold, size=size)
        self.pdf.set_text_color(*color)
        self.pdf.set_xy(x, y)
        self.pdf.cell(w, h, text.translate(BIDI_MARKS), align=align)

    def text_font(self, *, bold: bool, size: float) -> None:
        """Select the document's font (regular or bold) at ``size`` pt."""
        # fpdf2 (2.8) forgets, after a run in the fallback font, that the page's font changed
        # and writes the next text without selecting a font: select it anew each time.
        self.pdf.set_font(style="B" if bold else "", size=size + 1)
        self.pdf.set_font(style="B" if bold else "", size=size)

    def rule(self, y: float, *, x: float = MARGIN, w: float = WIDTH) -> None:
        """A thin horizontal line."""
        if self.rtl:
            x = PAGE_W - x - w
        self.pdf.set_draw_color(*RULE)
        self.pdf.set_line_width(0.3)
        self.pdf.line(x, y, x + w, y)

    def fits(self, text: str, w: float, *, size: float) -> str:
        """``text`` cut (with an ellipsis) to fit ``w`` mm at ``size`` pt."""
        self.text_font(bold=False, size=size)
        clean = text.translate(BIDI_MARKS)
        if self.pdf.get_string_width(clean) <= w:
            return clean
        while clean and self.pdf.get_string_width(clean + "…") > w:
            clean = clean[:-1]
        return clean + "…"


def _texts(doc: InvoiceDocument) -> Iterator[str]:
    yield from (doc.title, doc.business_name, doc.number, doc.headline, doc.stamp,
                doc.bill_to_label, doc.from_label, *doc.bill_to, *doc.columns,
                *doc.labels.values())
    yield from (text for pair in doc.meta for text in pair)
    yield from (text for line in doc.lines
                for text in (line.description, line.period, line.quantity, line.amount))
    yield from (text for row in doc.totals for text in (row.label, row.amount))


def needs_arabic_font(doc: InvoiceDocument) -> bool:
    """Whether any text of ``doc`` is in the Arabic script (an Arabic name, say)."""
    return doc.direction == "rtl" or any(ARABIC.search(text) for text in _texts(doc))


def _new_pdf(doc: InvoiceDocument) -> FPDF:
    missing = missing_fonts()
    if missing:
        raise RuntimeError(f"Invoice fonts are missing (install fonts-noto-core): {missing[0]}")
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(False)
    # Loading a font costs ~50 ms: the Arabic one only when some text needs it.
    families = list(FONTS) if needs_arabic_font(doc) else ["Noto"]
    for family in families:
        regular, bold = FONTS[family]
        pdf.add_font(family, "", str(FONT_DIR / regular))
        pdf.add_font(family, "B", str(FONT_DIR / bold))
    rtl = doc.direction == "rtl"
    pdf.set_font("NotoArabic" if rtl else "Noto", size=10)
    pdf.set_fallback_fonts([f for f in families if f != ("NotoArabic" if rtl else "Noto")])
    pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr")
    pdf.set_title(doc.labels["page_title"])
    pdf.set_author(doc.business_name)
    pdf.set_creator("Portico")
    pdf.set_lang(doc.locale)
    return pdf


def _stamp(page: _Page, doc: InvoiceDocument, y: float) -> None:
    """PAID / VOID across the top of the page, tilted like a rubber stamp."""
    w, h = 44.0, 13.0
    x = MARGIN + WIDTH - w if not page.rtl else MARGIN
    color = STAMP_COLORS.get(doc.status, MUTED)
    pdf = page.pdf
    with pdf.rotation(angle=-8 if page.rtl else 8, x=x + w / 2, y=y + h / 2):
        pdf.set_draw_color(*color)
        pdf.set_line_width(0.9)
        pdf.rect(x, y, w, h, round_corners=True, corner_radius=2)
        page.text_font(bold=True, size=17)
        pdf.set_text_color(*color)
        pdf.set_xy(x, y)
        pdf.cell(w, h, doc.stamp, align="C")


def _header(page: _Page, doc: InvoiceDocument) -> float:
    """Title, business, stamp, the invoice's numbers and dates, and who it is for."""
    page.text(MARGIN, MARGIN, 100, 11, doc.title, size=22, bold=True)
    page.text(MARGIN + 100, MARGIN + 1, WIDTH - 100, 8, doc.business_name, size=13, bold=True,
              align="R")
    if doc.stamp:
        _stamp(page, doc, MARGIN + 15)
    y = MARGIN + 17
    for label, value in doc.meta:
        page.text(MARGIN, y, 38, 5.5, label, size=9, color=MUTED)
        page.text(MARGIN + 38, y, 70, 5.5, value, size=9, bold=True)
        y += 5.5
    y += 7
    column = WIDTH / 2 - 4
    page.text(MARGIN, y, column, 5, doc.from_label, size=9, bold=True, color=MUTED)
    page.text(MARGIN, y + 5.5, column, 5, doc.business_name, size=10)
    page.text(MARGIN + WIDTH / 2, y, column, 5, doc.bill_to_label, size=9, bold=True,
              color=MUTED)
    for i, line in enumerate(doc.bill_to):
        page.text(MARGIN + WIDTH / 2, y + 5.5 * (i + 1), column,
                  5, page.fits(line, column, size=10), size=10)
    y += 5.5 * (max(1, len(doc.bill_to)) + 1) + 8
    page.text(MARGIN, y, WIDTH, 9, doc.headline, size=15, bold=True)
    return y + 15


def _table_header(page: _Page, doc: InvoiceDocument, y: float) -> float:
    description, quantity, amount = doc.columns
    desc_w = WIDTH - QTY_W - AMOUNT_W
    page.text(MARGIN, y, desc_w, 5, description, size=8.5, color=MUTED)
    page.text(MARGIN + desc_w, y, QTY_W, 5, quantity, size=8.5, color=MUTED, align="R")
    page.text(MARGIN + desc_w + QTY_W, y, AMOUNT_W, 5, amount, size=8.5, color=MUTED,
              align="R")
    page.rule(y + 6.5)
    return y + 9


def _lines(page: _Page, doc: InvoiceDocument, y: float) -> float:
    desc_w = WIDTH - QTY_W - AMOUNT_W
    y = _table_header(page, doc, y)
    for line in doc.lines:
        height = 11.5 if line.period else 7.5
        if y + height > PAGE_H - MARGIN - 12:
            page.pdf.add_page()
            y = _table_header(page, doc, MARGIN)
        page.text(MARGIN, y, desc_w - 4, 5, page.fits(line.description, desc_w - 4, size=10),
                  size=10)
        page.text(MARGIN + desc_w, y, QTY_W, 5, line.quantity, size=10, align="R")
        page.text(MARGIN + desc_w + QTY_W, y, AMOUNT_W, 5, line.amount, size=10, align="R")
        if line.period:
            page.text(MARGIN, y + 5, desc_w - 4, 4.5, line.period, size=8.5, color=MUTED)
        y += height
        page.rule(y - 2)
    return y + 3


def _totals(page: _Page, doc: InvoiceDocument, y: float) -> float:
    label_x, label_w = MARGIN + WIDTH / 2, WIDTH / 2 - AMOUNT_W
    if y + 7 * len(doc.totals) > PAGE_H - MARGIN - 12:
        page.pdf.add_page()
        y = MARGIN
    for row in doc.totals:
        if row.strong:
            page.rule(y - 1, x=label_x, w=WIDTH / 2)
            y += 1
        page.text(label_x, y, label_w, 6, row.label, size=10, bold=row.strong)
        page.text(label_x + label_w, y, AMOUNT_W, 6, row.amount, size=10, bold=row.strong,
                  align="R")
        y += 7
    return y


def invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The PDF of ``doc``: header, lines, totals, and a stamp when paid or void."""
    pdf = _new_pdf(doc)
    pdf.add_page()
    page = _Page(pdf, rtl=doc.direction == "rtl")
    y = _header(page, doc)
    y = _lines(page, doc, y)
    _totals(page, doc, y)
    for number in range(1, pdf.pages_count + 1):
        pdf.page = number
        page.text(MARGIN, PAGE_H - MARGIN - 2, WIDTH - 20, 5, doc.labels["questions"], size=8,
                  color=MUTED)
        page.text(MARGIN + WIDTH - 20, PAGE_H - MARGIN - 2, 20, 5,
                  f"{number}/{pdf.pages_count}", size=8, color=MUTED, align="R")
    return bytes(pdf.output())
