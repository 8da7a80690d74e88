"""Past-due recovery: the overview's "Payment failed" banner and the pay page.

As everywhere in the portal, texts come from the catalog through :func:`tr` and values
arrive formatted from the view models (:mod:`portal_app.views.past_due`).
"""

from __future__ import annotations

import reflex as rx

from portal_app.components.portal_widgets import (
    SELECTED,
    UNSELECTED,
    buttons,
    card,
    flow_skeleton,
    form_error,
    page_heading,
    primary,
    secondary,
    tr,
)
from portal_app.i18n import _
from portal_app.state.portal_pay import PastDueState, PayState
from portal_app.views.past_due import MethodChoice, PastDueNotice


def past_due_notice(notice: PastDueNotice) -> rx.Component:
    """One past-due invoice: what failed, why, and the way to pay it now."""
    return rx.box(
        rx.flex(
            rx.center(rx.icon("circle_alert", size=22, color="var(--red-11)"), width="44px",
                      height="44px", border_radius="50%", background="var(--red-4)",
                      flex_shrink="0"),
            rx.flex(
                rx.text(tr("Payment failed"), size="4", weight="bold", color="var(--red-12)"),
                rx.text(notice.message, size="2", color="var(--gray-12)",
                        class_name="portal-past-due-message"),
                rx.text(notice.reason, size="2", color="var(--red-11)",
                        class_name="portal-past-due-reason"),
                rx.cond(notice.retry != "",
                        rx.text(notice.retry, size="2", color="var(--gray-11)",
                                class_name="portal-past-due-retry")),
                direction="column", spacing="1", flex="1", min_width="0",
            ),
            spacing="3", align="start",
        ),
        rx.flex(
            rx.link(
                rx.button(rx.icon("credit_card", size=16), tr("Pay now"), size="3",
                          color_scheme="red", radius="large",
                          width=rx.breakpoints(initial="100%", sm="auto")),
                href=notice.pay_url, class_name="portal-pay-now",
                width=rx.breakpoints(initial="100%", sm="auto"),
            ),
            justify="end", margin_top="14px",
        ),
        padding=rx.breakpoints(initial="16px", sm="20px"), border_radius="14px",
        background="var(--red-2)", border="1px solid var(--red-6)", width="100%",
        role="alert", class_name="portal-past-due",
    )


def past_due_banner() -> rx.Component:
    """The overview's notices, above everything else (nothing when all is paid)."""
    return rx.cond(
        PastDueState.notices.length() > 0,
        rx.flex(rx.foreach(PastDueState.notices, past_due_notice), direction="column",
                spacing="3", width="100%"),
    )


def method_option(method: MethodChoice) -> rx.Component:
    """A saved method as a selectable row."""
    chosen = PayState.selected == method.id
    return rx.box(
        rx.flex(
            rx.center(rx.icon("credit_card", size=20, color="var(--accent-11)"),
                      width="40px", height="40px", border_radius="10px",
                      background="var(--accent-3)", flex_shrink="0"),
            rx.flex(
                rx.text(method.label, size="3", weight="medium"),
                rx.cond(method.detail != "",
                        rx.text(method.detail, size="2", color="var(--gray-11)")),
                direction="column", spacing="1", flex="1",
            ),
            rx.cond(chosen, rx.icon("circle_check", size=20, color="var(--accent-9)"),
                    rx.icon("circle", size=20, color="var(--gray-8)")),
            align="center", spacing="3",
        ),
        on_click=PayState.choose(method.id), cursor="pointer", padding="14px 16px",
        border_radius="12px", style=rx.cond(chosen, SELECTED, UNSELECTED),
        role="radio", aria_checked=rx.cond(chosen, "true", "false"), tab_index=0,
        class_name="portal-pay-method",
    )


def invoice_summary() -> rx.Component:
    """The amount due, the invoice's number and period."""
    return rx.flex(
        rx.text(rx.cond(PayState.status == "paid", tr("Amount paid"), tr("Amount due")),
                size="2", color="var(--gray-11)"),
        rx.text(PayState.amount, size="8", weight="bold", letter_spacing="-0.02em",
                class_name="portal-pay-amount"),
        # Separate boxes: the invoice number and the dates never mix in one bidi run (RTL).
        rx.flex(rx.text(PayState.number, dir="ltr"), rx.text("·"),
                rx.text(PayState.period, dir="auto"), spacing="2", wrap="wrap",
                justify=rx.cond(PayState.status == "paid", "center", "start"),
                font_size="var(--font-size-2)", color="var(--gray-11)"),
        direction="column", spacing="1",
    )


def open_invoice() -> rx.Component:
    """Choose a method and pay."""
    return rx.flex(
        card(
            rx.flex(
                invoice_summary(),
                # After a decline here, the error below says it: not twice.
                rx.cond((PayState.reason != "") & (PayState.error == ""),
                        rx.callout(PayState.reason, icon="circle_alert", color_scheme="red",
                                   size="1", class_name="portal-pay-reason")),
                direction="column", spacing="4",
            ),
        ),
        rx.text(tr("Pay with"), size="2", weight="bold", color="var(--gray-11)",
                text_transform="uppercase", letter_spacing="0.04em"),
        rx.flex(rx.foreach(PayState.methods, method_option), direction="column", spacing="2",
                role="radiogroup"),
        rx.button(rx.icon("plus", size=16), tr("Add a new payment method"),
                  on_click=PayState.add_method, variant="ghost", size="2", radius="large",
                  align_self="start", class_name="portal-pay-add"),
        form_error(PayState.error),
        buttons(
            secondary(_("Cancel"), on_click=PayState.to_overview),
            primary(_("Pay now"), on_click=PayState.pay(PayState.action_nonce),
                    disabled=PayState.selected == "", class_name="portal-pay-confirm"),
        ),
        direction="column", spacing="4", width="100%",
    )


def settled() -> rx.Component:
    """Nothing left to pay: paid (perhaps just now, after 3-D Secure), voided..."""
    return card(
        rx.flex(
            rx.center(rx.icon("circle_check", size=24, color="var(--green-11)"), width="48px",
                      height="48px", border_radius="50%", background="var(--green-3)"),
            rx.text(rx.cond(PayState.notice != "", PayState.notice,
                            tr("This invoice has nothing left to pay.")),
                    size="4", weight="bold", class_name="portal-pay-settled"),
            invoice_summary(),
            rx.button(tr("Back to your subscriptions"), on_click=PayState.to_overview,
                      size="3", radius="large", margin_top="8px"),
            direction="column", align="center", spacing="3", text_align="center",
        ),
    )


def pay_content() -> rx.Component:
    """The pay page: the invoice and how to pay it, or that it is settled."""
    return rx.flex(
        page_heading(_("Pay your invoice")),
        rx.cond(
            PayState.invoice_id == "",
            flow_skeleton(),
            rx.cond((PayState.status == "open") | (PayState.status == "uncollectible"),
                    open_invoice(), settled()),
        ),
        direction="column", spacing="5", width="100%",
    )
