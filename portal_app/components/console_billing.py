"""The overview's Billing panel: Portico's ledger, or the merchant's Stripe account (its
key's hint, API address, inbound webhook URL and whether a signing secret is set).

Every word comes from the console catalog (``ct_var``); every value from
:class:`~portal_app.state.console_billing.BillingState`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal_app.components.console_widgets import BORDER, MONO, MUTED, ct_var
from portal_app.state.console_billing import BillingState as B


def _row(label: Any, value: rx.Component, testid: str) -> rx.Component:
    return rx.flex(
        rx.text(label, size="2", color=MUTED, min_width="160px"),
        rx.box(value, min_width="0", flex="1"),
        direction=rx.breakpoints(initial="column", sm="row"), gap=rx.breakpoints(
            initial="2px", sm="12px"), width="100%", padding_y="8px", border_top=BORDER,
        custom_attrs={"data-testid": testid},
    )


def _mono(value: Any) -> rx.Component:
    # Long URLs wrap anywhere rather than leave a phone's screen.
    return rx.code(value, variant="ghost", font_family=MONO, size="2",
                   style={"overflow_wrap": "anywhere", "word_break": "break-all",
                          "white_space": "normal"})


def _stripe() -> rx.Component:
    return rx.vstack(
        _row(ct_var("Secret key"), _mono(B.key_hint), "billing-key"),
        _row(ct_var("API address"), _mono(B.api_base), "billing-api"),
        _row(ct_var("Inbound webhook URL"), rx.vstack(
            _mono(B.webhook_url),
            rx.text(ct_var("Add it as a webhook endpoint in your Stripe account."), size="1",
                    color=MUTED),
            spacing="1", min_width="0", width="100%"), "billing-webhook-url"),
        _row(ct_var("Signing secret"), rx.cond(
            B.has_webhook_secret,
            rx.badge(ct_var("Set"), color_scheme="green", variant="soft", radius="full"),
            rx.vstack(
                rx.badge(ct_var("Not set"), color_scheme="amber", variant="soft",
                         radius="full"),
                rx.text(ct_var("Stripe's webhooks are refused until it is set: run portico "
                               "stripe-connect with --webhook-secret whsec_…"),
                        size="1", color=MUTED),
                spacing="1")), "billing-signing-secret"),
        rx.flex(
            rx.button(rx.icon("download", size=14),
                      ct_var("Import portal configurations from Stripe"),
                      on_click=B.import_configurations, loading=B.importing, variant="soft",
                      custom_attrs={"data-testid": "import-configurations"}),
            padding_top="12px", border_top=BORDER, width="100%", wrap="wrap",
        ),
        spacing="0", width="100%",
    )


def _ledger() -> rx.Component:
    return rx.text(
        ct_var("Customers, subscriptions and invoices live in Portico's own ledger. To bill "
               "through your Stripe account instead, run portico stripe-connect."),
        size="2", color=MUTED, padding_top="8px", border_top=BORDER, width="100%")


def billing_panel() -> rx.Component:
    """Which billing the account uses (the overview's panel)."""
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.hstack(rx.icon("landmark", size=18, color=rx.color("accent", 10)),
                          rx.text(ct_var("Billing"), size="3", weight="bold"),
                          align="center", spacing="2"),
                rx.spacer(),
                rx.cond(B.loaded, rx.badge(
                    rx.cond(B.through_stripe, ct_var("Stripe"), ct_var("Portico ledger")),
                    color_scheme=rx.cond(B.through_stripe, "iris", "gray"), variant="soft",
                    radius="full", size="2", custom_attrs={"data-testid": "billing-provider"})),
                align="center", width="100%", gap="8px",
            ),
            rx.cond(B.loaded, rx.cond(B.through_stripe, _stripe(), _ledger())),
            spacing="3", width="100%",
        ),
        size="3", margin_bottom="24px", custom_attrs={"data-testid": "billing-panel"},
    )
