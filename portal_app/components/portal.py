"""Building blocks of the customer portal's pages: texts, badges, cards, skeletons.

No literal a customer reads lives here: :func:`tr` looks a message id up in the
session's catalog (``PortalState.t``), and every value arrives formatted from
the view models.
"""

from __future__ import annotations

import reflex as rx

from portal_app.components.portal_widgets import (
    card,
    date_and_number,
    empty_state,
    status_badge,
    tr,
)
from portal_app.routes import PORTAL_INVOICES, PORTAL_PAYMENT_METHODS
from portal_app.state.portal import PortalState
from portal_app.views.overview import InvoiceView


def section(title: str, icon: str, *children: rx.Component) -> rx.Component:
    """A titled block of the overview (title is a message id)."""
    return rx.flex(
        rx.hstack(
            rx.icon(icon, size=16, color="var(--gray-10)"),
            rx.text(tr(title), size="2", weight="bold", color="var(--gray-11)",
                    letter_spacing="0.04em", text_transform="uppercase"),
            align="center", spacing="2",
        ),
        *children,
        direction="column", spacing="3", width="100%",
    )


def empty_subscriptions() -> rx.Component:
    """What a customer without subscriptions sees."""
    return card(empty_state("package", tr("No subscriptions yet"),
                            tr("Plans you subscribe to will appear here.")))


def payment_method_card() -> rx.Component:
    """The default payment method, or a note that there is none."""
    pm = PortalState.payment_method
    return card(
        rx.cond(
            PortalState.has_payment_method,
            rx.flex(
                rx.center(rx.icon("credit_card", size=20, color="var(--accent-11)"),
                          width="44px", height="44px", border_radius="10px",
                          background="var(--accent-3)", flex_shrink="0"),
                rx.flex(
                    rx.text(pm.description, size="3", weight="bold",
                            class_name="portal-payment-method"),
                    rx.text(pm.expiry, size="2", color="var(--gray-11)"),
                    direction="column", spacing="1",
                ),
                rx.spacer(),
                rx.badge(tr("Default"), variant="outline", color_scheme="gray", radius="full"),
                align="center", spacing="3",
            ),
            rx.text(tr("No payment method on file."), size="2", color="var(--gray-11)"),
        ),
        rx.cond(PortalState.payment_method_update, rx.flex(
            rx.link(rx.cond(PortalState.has_payment_method, tr("Manage payment methods"),
                            tr("Add payment method")),
                    href=PORTAL_PAYMENT_METHODS, size="2", weight="medium", underline="hover",
                    class_name="portal-manage-methods"),
            justify="end", margin_top="12px",
        )),
    )


def invoice_row(invoice: InvoiceView) -> rx.Component:
    """One invoice: date and number, amount, status."""
    return rx.flex(
        date_and_number(invoice.date, invoice.number),
        rx.spacer(),
        rx.text(invoice.amount, size="2", weight="bold", white_space="nowrap"),
        rx.box(status_badge(invoice.status_label, invoice.status_color),
               min_width=rx.breakpoints(initial="auto", sm="110px"), display="flex",
               justify_content="flex-end"),
        align="center", spacing="4", padding_y="12px", class_name="portal-invoice",
        border_bottom="1px solid var(--gray-a3)",
        _last_child={"border_bottom": "none"},
    )


def invoices_card() -> rx.Component:
    """The most recent invoices, each opening its hosted page, and "View all invoices"."""
    return card(
        rx.cond(
            PortalState.invoices.length() > 0,
            rx.flex(
                rx.flex(rx.foreach(PortalState.invoices, invoice_link_row), direction="column",
                        margin_y="-12px"),
                rx.link(rx.hstack(rx.text(tr("View all invoices")),
                                  rx.icon("arrow_right", size=16, class_name="portal-flip"),
                                  align="center", spacing="2"),
                        href=PORTAL_INVOICES, size="2", weight="medium", underline="hover",
                        class_name="portal-all-invoices", padding_top="14px",
                        border_top="1px solid var(--gray-a3)", margin_top="12px"),
                direction="column",
            ),
            rx.text(tr("No invoices yet."), size="2", color="var(--gray-11)"),
        ),
    )


def invoice_link_row(invoice: InvoiceView) -> rx.Component:
    """An invoice row that opens the invoice's hosted page in a new tab."""
    return rx.link(invoice_row(invoice), href=invoice.hosted_url, is_external=True,
                   underline="none", color="inherit", class_name="portal-invoice-link")


def return_link(**props) -> rx.Component:
    """"Return to <business>", when the session has a return URL."""
    return rx.cond(
        PortalState.return_url != "",
        rx.link(
            rx.hstack(rx.icon("arrow_left", size=16, class_name="portal-flip"),
                      rx.text(PortalState.return_label), align="center", spacing="2"),
            href=PortalState.return_url, size="2", weight="medium", underline="hover",
            class_name="portal-return", **props,
        ),
    )


