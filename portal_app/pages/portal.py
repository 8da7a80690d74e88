"""Customer portal pages: the overview at ``/portal``.

Pages only arrange components; everything they show comes from PortalState
(texts through ``tr``, values pre-formatted by the view models).
"""

import reflex as rx

from portal_app.components.portal import (
    empty_subscriptions,
    invoices_card,
    payment_method_card,
    return_link,
    section,
)
from portal_app.components.portal_cancel import cancel_content
from portal_app.components.portal_details import billing_info_card, details_content
from portal_app.components.portal_invoices import invoice_history
from portal_app.components.portal_manage import (
    done_content,
    pause_content,
    subscription_card,
    update_content,
)
from portal_app.components.portal_pay import past_due_banner, pay_content
from portal_app.components.portal_payment_methods import add_content, methods_content
from portal_app.components.portal_widgets import card, outcome_banner, skeleton_block, tr
from portal_app.i18n import _
from portal_app.routes import (
    PORTAL,
    PORTAL_DETAILS,
    PORTAL_DONE,
    PORTAL_INVOICE_PAY,
    PORTAL_INVOICES,
    PORTAL_PAYMENT_METHODS,
    PORTAL_PAYMENT_METHODS_ADD,
)
from portal_app.state.portal import PortalState
from portal_app.state.portal_cancel import CancelState
from portal_app.state.portal_details import DetailsState
from portal_app.state.portal_invoices import InvoicesState
from portal_app.state.portal_manage import (
    DoneState,
    ManageState,
    PauseState,
    UpdateState,
)
from portal_app.state.portal_pay import PastDueState, PayState
from portal_app.state.portal_payment_methods import MethodsState

CONTENT_WIDTH = "640px"


def brand_panel() -> rx.Component:
    """The merchant's side: return link, business name, headline."""
    return rx.flex(
        rx.flex(
            return_link(),
            rx.flex(
                rx.center(
                    rx.text(PortalState.business_initial, size="5", weight="bold"),
                    width="44px", height="44px", border_radius="12px",
                    background="var(--accent-9)", color="var(--accent-contrast)",
                    class_name="portal-monogram",
                ),
                rx.heading(PortalState.business_name, size=rx.breakpoints(initial="6", md="8"),
                           weight="bold", letter_spacing="-0.02em",
                           class_name="portal-business"),
                rx.cond(PortalState.headline != "",
                        rx.text(PortalState.headline, size=rx.breakpoints(initial="3", md="4"),
                                color="var(--gray-11)", line_height="1.5")),
                direction="column", spacing="3",
            ),
            rx.cond(PortalState.customer_email != "",
                    rx.hstack(rx.icon("circle_user", size=16, color="var(--gray-10)"),
                              rx.text(PortalState.customer_email, size="2",
                                      color="var(--gray-11)"),
                              align="center", spacing="2")),
            direction="column", spacing=rx.breakpoints(initial="4", md="6"),
        ),
        rx.text(tr("Powered by Portico"), size="1", color="var(--gray-10)",
                display=rx.breakpoints(initial="none", md="block")),
        direction="column", justify="between", height="100%",
    )


def overview() -> rx.Component:
    """The sections of the overview."""
    return rx.flex(
        past_due_banner(),
        outcome_banner(),
        section(
            _("Your subscriptions"), "repeat",
            rx.cond(ManageState.cards.length() > 0,
                    rx.flex(rx.foreach(ManageState.cards, subscription_card),
                            direction="column", spacing="3"),
                    empty_subscriptions()),
        ),
        section(_("Payment method"), "wallet", payment_method_card()),
        rx.cond(PortalState.invoice_history,
                section(_("Invoice history"), "receipt", invoices_card())),
        section(_("Billing information"), "id_card", billing_info_card()),
        rx.text(tr("Powered by Portico"), size="1", color="var(--gray-10)",
                text_align="center", display=rx.breakpoints(initial="block", md="none")),
        direction="column", spacing=rx.breakpoints(initial="6", md="7"), width="100%",
    )


def loading() -> rx.Component:
    """Placeholders in the overview's shape while on_load runs."""
    return rx.flex(
        *[
            rx.flex(skeleton_block("14px", "40%"),
                    card(rx.flex(skeleton_block("22px", "55%"), skeleton_block("34px", "35%"),
                                 skeleton_block("16px", "70%"), direction="column", spacing="4")),
                    direction="column", spacing="3")
            for _ in range(3)
        ],
        direction="column", spacing="7", width="100%", aria_busy="true",
    )


def brand_skeleton() -> rx.Component:
    """The brand panel's placeholder."""
    return rx.flex(skeleton_block("16px", "45%"), skeleton_block("36px", "75%"),
                   skeleton_block("18px", "90%"), direction="column", spacing="4", width="100%")


def problem(title: str, body: str) -> rx.Component:
    """A centred card for an expired link or a failure, with the way back."""
    return rx.center(
        card(
            rx.flex(
                rx.center(rx.icon("clock", size=22, color="var(--accent-11)"),
                          width="48px", height="48px", border_radius="50%",
                          background="var(--accent-3)"),
                rx.cond(PortalState.business_name != "",
                        rx.text(PortalState.business_name, size="2", weight="bold",
                                color="var(--gray-11)")),
                rx.heading(tr(title), size="6", class_name="portal-problem"),
                rx.text(tr(body), size="3", color="var(--gray-11)", line_height="1.55"),
                rx.cond(
                    PortalState.return_url != "",
                    rx.link(rx.button(PortalState.return_label, size="3", radius="large"),
                            href=PortalState.return_url, margin_top="12px",
                            class_name="portal-return"),
                ),
                direction="column", align="center", spacing="3", text_align="center",
            ),
            max_width="440px", padding="40px 32px",
        ),
        min_height="100vh", padding="24px",
    )


EXPIRED_BODY = _("For your security, billing links work for a short time and only in the "
                "browser that first opened them. Go back and open the billing portal again "
                "to get a new link.")


def frame(content: rx.Component) -> rx.Component:
    """Brand panel beside (desktop) or above (phone) ``content``; expired and error views."""
    layout = rx.grid(
        rx.box(
            rx.box(
                rx.cond(PortalState.view == "loading", brand_skeleton(), brand_panel()),
                padding=rx.breakpoints(initial="28px 20px 8px", md="64px 48px"),
                position=rx.breakpoints(initial="static", md="sticky"),
                top="0", height=rx.breakpoints(initial="auto", md="100vh"),
            ),
            background=rx.breakpoints(initial="transparent", md="var(--accent-2)"),
            border_inline_end=rx.breakpoints(initial="none", md="1px solid var(--gray-a4)"),
        ),
        rx.box(
            rx.box(
                rx.cond(PortalState.view == "loading", loading(), content),
                max_width=CONTENT_WIDTH, width="100%",
            ),
            padding=rx.breakpoints(initial="16px 16px 40px", md="64px 48px"),
        ),
        grid_template_columns=rx.breakpoints(initial="1fr", md="minmax(320px, 2fr) 3fr"),
        align_content=rx.breakpoints(initial="start", md="stretch"),  # short pages on a phone
        min_height="100vh",
    )
    return rx.box(
        rx.match(
            PortalState.view,
            ("expired", problem(_("This link has expired"), EXPIRED_BODY)),
            ("error", problem(_("Something went wrong"),
                              _("We couldn't load your billing information. Please try "
                                "again later."))),
            layout,
        ),
        rx.el.style(".rtl .portal-flip { transform: scaleX(-1); }"),
        dir=PortalState.direction,
        lang=PortalState.lang,
        class_name=rx.cond(PortalState.direction == "rtl", "rtl", "ltr"),
        background="var(--gray-2)",
        min_height="100vh",
    )


def portal_page() -> rx.Component:
    """The overview."""
    return frame(overview())


def update_page() -> rx.Component:
    """Change plan or quantity, with the preview."""
    return frame(update_content())


def cancel_page() -> rx.Component:
    """The cancel flow."""
    return frame(cancel_content())


def pause_page() -> rx.Component:
    """Pause payments."""
    return frame(pause_content())


def payment_methods_page() -> rx.Component:
    """The customer's payment methods: make default, remove."""
    return frame(methods_content())


def add_payment_method_page() -> rx.Component:
    """Add a payment method: a form per type."""
    return frame(add_content())


def invoices_page() -> rx.Component:
    """The invoice history, paged."""
    return frame(invoice_history())


def details_page() -> rx.Component:
    """Billing details and tax IDs."""
    return frame(details_content())


def pay_page() -> rx.Component:
    """Pay a past-due invoice now."""
    return frame(pay_content())


def done_page() -> rx.Component:
    """The hosted confirmation after a deep-linked flow."""
    return frame(done_content())


SUBSCRIPTION_ROUTE = f"{PORTAL}/subscriptions/[subscription]"


def register(app: rx.App) -> None:
    """Add the portal's pages to ``app``."""
    title = PortalState.page_title
    app.add_page(portal_page, route=PORTAL, title=title,
                 on_load=[ManageState.load, PastDueState.load_notices])
    app.add_page(pay_page, route=PORTAL_INVOICE_PAY, title=title, on_load=PayState.load)
    app.add_page(update_page, route=f"{SUBSCRIPTION_ROUTE}/update", title=title,
                 on_load=UpdateState.load)
    app.add_page(update_page, route=f"{SUBSCRIPTION_ROUTE}/confirm", title=title,
                 on_load=UpdateState.load_confirm)
    app.add_page(cancel_page, route=f"{SUBSCRIPTION_ROUTE}/cancel", title=title,
                 on_load=CancelState.load)
    app.add_page(pause_page, route=f"{SUBSCRIPTION_ROUTE}/pause", title=title,
                 on_load=PauseState.load)
    app.add_page(done_page, route=PORTAL_DONE, title=title, on_load=DoneState.load)
    app.add_page(invoices_page, route=PORTAL_INVOICES, title=title, on_load=InvoicesState.load)
    app.add_page(payment_methods_page, route=PORTAL_PAYMENT_METHODS, title=title,
                 on_load=MethodsState.load)
    app.add_page(add_payment_method_page, route=PORTAL_PAYMENT_METHODS_ADD, title=title,
                 on_load=MethodsState.load_add)
    app.add_page(details_page, route=PORTAL_DETAILS, title=title, on_load=DetailsState.load)
