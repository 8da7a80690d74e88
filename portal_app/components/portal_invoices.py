"""The invoice history page's blocks: the rows with their links, and the pager."""

from __future__ import annotations

import reflex as rx

from portal_app.components.portal_widgets import (
    card,
    date_and_number,
    page_heading,
    status_badge,
    tr,
    unavailable,
)
from portal_app.i18n import _
from portal_app.state.portal_invoices import InvoicesState
from portal_app.views.invoices import InvoiceRow


def document_links(row: InvoiceRow) -> rx.Component:
    """Pay (an open invoice), View (the hosted invoice page, in a new tab), PDF (a download)."""
    return rx.hstack(
        rx.cond(row.pay_url != "",
                rx.link(tr("Pay"), href=row.pay_url, size="2", weight="bold",
                        class_name="portal-invoice-pay")),
        rx.link(rx.hstack(rx.icon("external_link", size=14), rx.text(tr("View")),
                          align="center", spacing="1"),
                href=row.hosted_url, is_external=True, size="2", weight="medium",
                class_name="portal-invoice-view", aria_label=tr("View invoice")),
        rx.el.a(rx.hstack(rx.icon("download", size=14), rx.text(tr("PDF")),
                          align="center", spacing="1"),
                # A document load, not the router's: the server answers with the PDF.
                href=row.pdf_url, download=True, reload_document=True,
                class_name="portal-invoice-pdf rt-Link",
                style={"font_size": "var(--font-size-2)", "font_weight": "500",
                       "color": "var(--accent-11)", "text_decoration": "none"},
                aria_label=tr("Download PDF")),
        spacing="4", align="center",
    )


def history_row(row: InvoiceRow) -> rx.Component:
    """One invoice: date and number, amount and status, its links (below them on a phone)."""
    return rx.flex(
        rx.flex(
            date_and_number(row.date, row.number),
            rx.spacer(),
            rx.flex(
                rx.text(row.amount, size="2", weight="bold", white_space="nowrap"),
                status_badge(row.status_label, row.status_color),
                direction=rx.breakpoints(initial="column", sm="row"),
                align=rx.breakpoints(initial="end", sm="center"), spacing="2",
            ),
            align="center", spacing="3", flex="1", min_width="0",
        ),
        rx.box(document_links(row), min_width=rx.breakpoints(initial="0", sm="150px"),
               display="flex",
               justify_content=rx.breakpoints(initial="flex-start", sm="flex-end")),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="stretch", sm="center"),
        spacing=rx.breakpoints(initial="2", sm="4"), padding_y="14px",
        class_name="portal-history-invoice", data_status=row.status,
        border_bottom="1px solid var(--gray-a3)", _last_child={"border_bottom": "none"},
    )


def pager() -> rx.Component:
    """"1–10 of 23" with Previous and Next."""
    return rx.flex(
        rx.text(InvoicesState.range_text, size="2", color="var(--gray-11)",
                class_name="portal-invoice-range"),
        rx.spacer(),
        rx.hstack(
            rx.button(rx.icon("chevron_left", size=16, class_name="portal-flip"),
                      tr("Previous"), on_click=InvoicesState.previous_page,
                      disabled=~InvoicesState.has_previous, variant="soft", color_scheme="gray",
                      radius="large", class_name="portal-invoices-previous"),
            rx.button(tr("Next"), rx.icon("chevron_right", size=16, class_name="portal-flip"),
                      on_click=InvoicesState.next_page, disabled=~InvoicesState.has_next,
                      variant="soft", color_scheme="gray", radius="large",
                      class_name="portal-invoices-next"),
            spacing="2",
        ),
        align="center", spacing="3", width="100%", wrap="wrap",
    )


def invoice_history() -> rx.Component:
    """The history: a card of rows and the pager, or why there is nothing to show."""
    return rx.flex(
        page_heading(_("Invoice history")),
        rx.cond(
            InvoicesState.history_enabled,
            rx.cond(
                InvoicesState.rows.length() > 0,
                rx.flex(
                    card(rx.flex(rx.foreach(InvoicesState.rows, history_row),
                                 direction="column", margin_y="-14px")),
                    pager(),
                    direction="column", spacing="4", width="100%",
                ),
                card(rx.text(tr("No invoices yet."), size="2", color="var(--gray-11)")),
            ),
            unavailable(tr("Invoice history isn't available for this account.")),
        ),
        direction="column", spacing="5", width="100%",
    )
