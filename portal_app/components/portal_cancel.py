"""The cancel flow's steps: summary, reason survey, retention offer, confirm, outcome.

Texts come from the catalog through :func:`tr`; the reasons' labels and the
offer's sentences arrive translated and formatted from the view models.
"""

from __future__ import annotations

import reflex as rx

from portal_app.components.portal_widgets import (
    SELECTED,
    UNSELECTED,
    back_link,
    buttons,
    card,
    flow_page,
    form_error,
    icon_disc,
    page_heading,
    primary,
    secondary,
    tr,
)
from portal_app.i18n import _
from portal_app.routes import PORTAL
from portal_app.state.portal_cancel import CancelState
from portal_app.views.cancel import ReasonChoice

OFFER_ICONS = (("coupon", "badge_percent"), ("pause", "circle_pause"),
               ("price_change", "arrow_down_wide_narrow"), ("trial_extension", "gift"),
               ("contact", "message_circle"))


def cancel_summary() -> rx.Component:
    """What ends, when, and what happens to the money."""
    return card(
        rx.flex(
            rx.text(CancelState.product_name, size="5", weight="bold"),
            rx.text(CancelState.amount, size="2", color="var(--gray-11)"),
            direction="column", spacing="1",
        ),
        rx.separator(size="4", margin_y="16px"),
        rx.flex(
            rx.icon("calendar_x", size=18, color="var(--red-10)", flex_shrink="0"),
            rx.flex(
                rx.text(CancelState.ends_line, size="3", weight="bold",
                        class_name="portal-cancel-ends"),
                rx.text(CancelState.detail, size="2", color="var(--gray-11)",
                        line_height="1.5"),
                direction="column", spacing="1",
            ),
            spacing="3", align="start",
        ),
    )


def keep_button() -> rx.Component:
    return secondary(_("Keep subscription"), on_click=rx.redirect(PORTAL),
                     class_name="portal-keep")


# --- steps ----------------------------------------------------------------------------------


def choose_step() -> rx.Component:
    """No reason is asked: the summary, then on."""
    return rx.flex(
        cancel_summary(),
        form_error(CancelState.error),
        buttons(keep_button(),
                primary(_("Cancel subscription"),
                        on_click=CancelState.proceed(CancelState.action_nonce),
                        loading=CancelState.working, color="red",
                        class_name="portal-cancel-continue")),
        direction="column", spacing="5", width="100%",
    )


def reason_card(choice: ReasonChoice) -> rx.Component:
    chosen = CancelState.reason == choice.key
    return rx.flex(
        rx.cond(chosen, rx.icon("circle_dot", size=20, color="var(--accent-9)", flex_shrink="0"),
                rx.icon("circle", size=20, color="var(--gray-8)", flex_shrink="0")),
        rx.text(choice.label, size="3", weight=rx.cond(chosen, "bold", "regular")),
        on_click=CancelState.choose_reason(choice.key), cursor="pointer",
        padding="14px 16px", border_radius="12px", align="center", spacing="3",
        role="radio", aria_checked=chosen, tab_index=0, class_name="portal-reason",
        data_reason=choice.key, style=rx.cond(chosen, SELECTED, UNSELECTED),
        transition="border-color 120ms, background 120ms",
    )


def comment_field() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.text(tr("Anything else you'd like to tell us?"), size="2", weight="bold",
                    as_="label", html_for="portal-comment"),
            rx.cond(CancelState.comment_required,
                    rx.badge(tr("Required"), color_scheme="gray", variant="soft",
                             radius="full"),
                    rx.text(tr("Optional"), size="1", color="var(--gray-10)")),
            align="center", spacing="2",
        ),
        rx.text_area(value=CancelState.comment, on_change=CancelState.set_comment,
                     placeholder=tr("Your feedback goes straight to the team."),
                     max_length=CancelState.comment_max, rows="3", resize="vertical",
                     size="3", radius="large", id="portal-comment",
                     class_name="portal-comment", width="100%"),
        rx.text(CancelState.comment_length.to_string() + " / "
                + CancelState.comment_max.to_string(),
                size="1", color="var(--gray-10)", text_align="end"),
        direction="column", spacing="2", width="100%",
    )


def reason_step() -> rx.Component:
    return rx.flex(
        rx.flex(
            rx.text(tr("Why are you canceling?"), size="4", weight="bold"),
            rx.text(tr("Your answer helps us get better."), size="2", color="var(--gray-11)"),
            direction="column", spacing="1",
        ),
        rx.flex(rx.foreach(CancelState.reasons, reason_card), direction="column",
                spacing="2", role="radiogroup", aria_label=tr("Why are you canceling?")),
        comment_field(),
        form_error(CancelState.error),
        buttons(keep_button(),
                primary(_("Continue"),
                        on_click=CancelState.submit_reason(CancelState.action_nonce),
                        loading=CancelState.working, disabled=CancelState.reason == "",
                        class_name="portal-reason-continue")),
        direction="column", spacing="5", width="100%",
    )


def offer_step() -> rx.Component:
    offer = CancelState.offer
    return rx.flex(
        rx.box(
            rx.flex(
                rx.match(offer.type,
                         *[(kind, icon_disc(icon, size="48px")) for kind, icon in OFFER_ICONS],
                         icon_disc("gift", size="48px")),
                rx.flex(
                    rx.text(rx.cond(offer.headline != "", offer.headline,
                                    tr("Before you go")),
                            size="2", weight="bold", color="var(--accent-11)",
                            letter_spacing="0.02em", class_name="portal-offer-headline"),
                    rx.heading(offer.title, size=rx.breakpoints(initial="6", md="7"),
                               weight="bold", letter_spacing="-0.02em",
                               class_name="portal-offer-title"),
                    rx.text(offer.detail, size="3", color="var(--gray-11)",
                            line_height="1.55", class_name="portal-offer-detail"),
                    direction="column", spacing="2", min_width="0",
                ),
                spacing="4", align="start",
                direction=rx.breakpoints(initial="column", sm="row"),
            ),
            padding=rx.breakpoints(initial="20px", sm="28px"), border_radius="16px",
            border="2px solid var(--accent-8)", background="var(--accent-2)", width="100%",
            class_name="portal-offer", data_offer_type=offer.type,
        ),
        form_error(CancelState.error),
        buttons(
            secondary(_("No thanks, continue to cancel"),
                      on_click=CancelState.decline_offer(CancelState.action_nonce),
                      class_name="portal-decline"),
            rx.button(offer.accept_label,
                      on_click=CancelState.accept_offer(CancelState.action_nonce),
                      loading=CancelState.working, size="3", radius="large",
                      width=rx.breakpoints(initial="100%", sm="auto"),
                      class_name="portal-accept"),
        ),
        direction="column", spacing="5", width="100%",
    )


def confirm_step() -> rx.Component:
    return rx.flex(
        cancel_summary(),
        card(rx.text(tr("Are you sure? This can't be undone once the subscription has "
                        "ended."), size="2", color="var(--gray-11)")),
        form_error(CancelState.error),
        buttons(secondary(_("Back"), on_click=CancelState.back, class_name="portal-back-step"),
                primary(_("Confirm cancellation"),
                        on_click=CancelState.confirm(CancelState.action_nonce),
                        loading=CancelState.working, color="red",
                        class_name="portal-confirm-cancel")),
        direction="column", spacing="5", width="100%",
    )


def outcome(saved: bool) -> rx.Component:
    """Canceled, or kept with an offer: what happened, and the way back."""
    return card(
        rx.flex(
            icon_disc("check" if saved else "calendar_check", "green" if saved else "gray",
                      size="48px"),
            rx.heading(CancelState.outcome_title, size="6", weight="bold",
                       class_name="portal-outcome-title"),
            rx.text(CancelState.outcome_message, size="3", color="var(--gray-11)",
                    line_height="1.55", class_name="portal-outcome-message"),
            rx.flex(
                rx.cond(CancelState.contact_url != "",
                        rx.link(rx.button(rx.icon("message_circle", size=16), tr("Talk to us"),
                                          size="3", radius="large",
                                          width=rx.breakpoints(initial="100%", sm="auto")),
                                href=CancelState.contact_url, is_external=True,
                                class_name="portal-contact")),
                rx.button(tr("Back to your subscriptions"), on_click=CancelState.to_overview,
                          variant=rx.cond(CancelState.contact_url != "", "soft", "solid"),
                          size="3", radius="large",
                          width=rx.breakpoints(initial="100%", sm="auto"),
                          class_name="portal-to-overview"),
                direction=rx.breakpoints(initial="column", sm="row"), spacing="3",
                justify="center", width="100%", margin_top="8px",
            ),
            direction="column", align="center", spacing="3", text_align="center",
            padding_y="16px",
        ),
        class_name="portal-saved" if saved else "portal-canceled",
    )


def cancel_content() -> rx.Component:
    """The cancel page: the title, the plan, and the current step."""
    return flow_page(
        rx.cond((CancelState.step == "done") | (CancelState.step == "saved"), back_link(),
                page_heading(_("Cancel your subscription"), CancelState.plan_line)),
        step=CancelState.step, error=CancelState.error, ready=choose_step(),
        steps=[("reason", reason_step()), ("offer", offer_step()),
               ("confirm", confirm_step()), ("done", outcome(False)),
               ("saved", outcome(True))],
    )
