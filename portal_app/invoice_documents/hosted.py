"""The hosted invoice page: one self-contained HTML page (no script) for an invoice.

Status, what is due, Download PDF, a Pay button for an open invoice when a pay URL is
given, the lines and the totals; right to left for Arabic. Every text comes from an
:class:`~portal_app.invoice_documents.document.InvoiceDocument` and is escaped here.
"""

from __future__ import annotations

from html import escape

from portal_app.invoice_documents.document import InvoiceDocument
from portal_app.web.html_page import html_page

BADGE_COLORS = {"green": ("#e6f6eb", "#193b2d"), "blue": ("#edf2fe", "#1f2d5c"),
                "amber": ("#fff7c2", "#4f3422"), "red": ("#feebec", "#641723"),
                "gray": ("#f0f0f3", "#1c2024")}


def _e(text: str) -> str:
    return escape(text, quote=True)


def _rows(doc: InvoiceDocument) -> str:
    rows = []
    for line in doc.lines:
        period = f'<div class="period">{_e(line.period)}</div>' if line.period else ""
        rows.append(f'<tr class="line"><td><div>{_e(line.description)}</div>{period}</td>'
                    f'<td class="num">{_e(line.quantity)}</td>'
                    f'<td class="num">{_e(line.amount)}</td></tr>')
    return "\n".join(rows)


def _totals(doc: InvoiceDocument) -> str:
    return "\n".join(
        f'<div class="total{" strong" if row.strong else ""}"><span>{_e(row.label)}</span>'
        f'<span class="num">{_e(row.amount)}</span></div>' for row in doc.totals)


def hosted_invoice_html(doc: InvoiceDocument, *, pdf_url: str, pay_url: str | None = None
                        ) -> str:
    """The hosted page of ``doc``; ``pay_url`` (for an open invoice) adds a Pay button."""
    background, ink = BADGE_COLORS.get(doc.status_color, BADGE_COLORS["gray"])
    pay = ""
    if pay_url and doc.status == "open" and doc.amount_remaining > 0:
        pay = f'<a class="button primary" href="{_e(pay_url)}">{_e(doc.labels["pay"])}</a>'
    meta = "\n".join(f"<div><dt>{_e(label)}</dt><dd>{_e(value)}</dd></div>"
                     for label, value in doc.meta)
    bill_to = "<br>".join(_e(line) for line in doc.bill_to)
    description, quantity, amount = doc.columns
    body = BODY.format(
        business=_e(doc.business_name), initial=_e(doc.business_name[:1].upper()),
        invoice_label=_e(doc.title), number=_e(doc.number), status=_e(doc.status_label),
        headline=_e(doc.headline), pdf_url=_e(pdf_url), download=_e(doc.labels["download"]),
        pay=pay, meta=meta, bill_to_label=_e(doc.bill_to_label), bill_to=bill_to,
        col_description=_e(description), col_quantity=_e(quantity), col_amount=_e(amount),
        rows=_rows(doc), totals=_totals(doc), questions=_e(doc.labels["questions"]),
    )
    return html_page(locale=doc.locale, title=doc.labels["page_title"], body=body,
                     style=STYLE.format(badge_bg=background, badge_ink=ink),
                     robots="noindex, nofollow",
                     head='\n<meta name="referrer" content="no-referrer">')


STYLE = """
  :root {{ --ink: #1c2024; --muted: #60646c; --line: #e0e1e6; --bg: #f7f8fa;
          --accent: #3e63dd; --accent-dark: #3358d4; }}
  * {{ box-sizing: border-box; }}
  body {{ margin: 0; background: var(--bg); color: var(--ink);
         font-family: Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto,
           "Noto Sans", "Noto Sans Arabic", Arial, sans-serif;
         -webkit-font-smoothing: antialiased; line-height: 1.45; }}
  main {{ max-width: 640px; margin: 0 auto; padding: 40px 20px 56px; }}
  .brand {{ display: flex; align-items: center; gap: 10px; font-weight: 650; font-size: 17px;
           margin-bottom: 20px; }}
  .logo {{ width: 32px; height: 32px; border-radius: 8px; background: var(--accent);
          color: #fff; display: grid; place-items: center; font-size: 15px; }}
  .card {{ background: #fff; border: 1px solid var(--line); border-radius: 12px;
          padding: 28px; box-shadow: 0 1px 2px rgba(16,24,40,.04),
          0 8px 24px -12px rgba(16,24,40,.12); margin-bottom: 16px; }}
  .kicker {{ color: var(--muted); font-size: 14px; display: flex; gap: 10px;
            align-items: center; flex-wrap: wrap; }}
  .badge {{ font-size: 12px; font-weight: 600; border-radius: 999px; padding: 2px 10px;
           background: {badge_bg}; color: {badge_ink}; }}
  h1 {{ font-size: 28px; letter-spacing: -0.02em; margin: 8px 0 4px; line-height: 1.2; }}
  .number {{ color: var(--muted); font-size: 14px; margin: 0 0 22px; }}
  .actions {{ display: flex; gap: 10px; flex-wrap: wrap; }}
  .button {{ display: inline-flex; align-items: center; justify-content: center;
            font-size: 15px; font-weight: 600; border-radius: 8px; padding: 10px 16px;
            text-decoration: none; border: 1px solid var(--line); color: var(--ink);
            background: #fff; }}
  .button:hover {{ background: var(--bg); }}
  .button.primary {{ background: var(--accent); color: #fff; border-color: var(--accent); }}
  .button.primary:hover {{ background: var(--accent-dark); }}
  .button:focus-visible {{ outline: 2px solid var(--accent); outline-offset: 2px; }}
  dl {{ margin: 0; display: grid; gap: 8px; font-size: 14px; }}
  dl div {{ display: flex; justify-content: space-between; gap: 16px; }}
  dt {{ color: var(--muted); }} dd {{ margin: 0; font-weight: 560; text-align: end; }}
  h2 {{ font-size: 13px; text-transform: uppercase; letter-spacing: .04em;
       color: var(--muted); margin: 0 0 10px; }}
  .bill-to {{ font-size: 14px; margin-top: 20px; overflow-wrap: anywhere; }}
  table {{ width: 100%; border-collapse: collapse; font-size: 14px; }}
  th {{ text-align: start; font-weight: 500; color: var(--muted); font-size: 12px;
       padding: 0 0 8px; border-bottom: 1px solid var(--line); }}
  td {{ padding: 12px 0; border-bottom: 1px solid var(--line); vertical-align: top; }}
  .num {{ text-align: end; white-space: nowrap; padding-inline-start: 12px; }}
  th.num {{ text-align: end; }}
  .period {{ color: var(--muted); font-size: 12px; margin-top: 2px; }}
  .totals {{ margin-top: 14px; margin-inline-start: auto; max-width: 320px; font-size: 14px; }}
  .total {{ display: flex; justify-content: space-between; padding: 4px 0; }}
  .total.strong {{ font-weight: 700; border-top: 1px solid var(--line); margin-top: 6px;
                  padding-top: 10px; }}
  footer {{ color: var(--muted); font-size: 13px; text-align: center; margin-top: 20px; }}
  @media (max-width: 480px) {{ main {{ padding: 24px 12px 40px; }} .card {{ padding: 20px; }}
    h1 {{ font-size: 24px; }} .actions .button {{ flex: 1 1 100%; }} }}
"""

BODY = """<main>
  <div class="brand"><span class="logo" aria-hidden="true">{initial}</span>{business}</div>
  <section class="card summary">
    <div class="kicker"><span>{invoice_label}</span>
      <span class="badge status">{status}</span></div>
    <h1 class="headline">{headline}</h1>
    <p class="number">{number}</p>
    <div class="actions">{pay}
      <a class="button download" href="{pdf_url}" download>{download}</a></div>
  </section>
  <section class="card">
    <dl>{meta}</dl>
    <div class="bill-to"><h2>{bill_to_label}</h2>{bill_to}</div>
  </section>
  <section class="card">
    <table>
      <thead><tr><th>{col_description}</th><th class="num">{col_quantity}</th>
        <th class="num">{col_amount}</th></tr></thead>
      <tbody>
{rows}
      </tbody>
    </table>
    <div class="totals">
{totals}
    </div>
  </section>
  <footer>{questions}</footer>
</main>"""
