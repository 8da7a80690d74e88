"""Building blocks of the subscription management pages: card actions, the result banner,
the change-plan chooser and preview, the pause step (the cancel flow's steps are
:mod:`portal_app.components.portal_cancel`).

As everywhere in the portal, texts come from the catalog through :func:`tr` and
values arrive formatted from the view models.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from portal_app.components.portal_widgets import (
    SELECTED,
    UNSELECTED,
    buttons,
    card,
    flow_page,
    form_error,
    page_heading,
    primary,
    secondary,
    status_badge,
    tr,
)
from portal_app.i18n import _
from portal_app.routes import PORTAL
from portal_app.state.portal_manage import (
    ManageState,
    PauseState,
    UpdateState,
)
from portal_app.views.plan_change import ItemChoice, PreviewLineView, PriceOption
from portal_app.views.subscriptions import ItemLine, PauseOption, SubscriptionCard


def _route(sub_id: Var | str, step: str) -> str:
    # An f-string with a Var compiles to the same JS concatenation as `+` would.
    return f"{PORTAL}/subscriptions/{sub_id}/{step}"


def action_button(label: str, *, on_click: object, icon: str, color: str = "gray",
                  variant: str = "soft", class_name: str = "") -> rx.Component:
    """A compact card action."""
    return rx.button(rx.icon(icon, size=15), tr(label), on_click=on_click, size="2",
                     variant=variant, color_scheme=color, radius="large", margin="0",
                     class_name=f"portal-action {class_name}".strip())


def item_line(line: ItemLine) -> rx.Component:
    """One item of the card; a usage-based one adds its usage and cost so far."""
    return rx.flex(
        rx.flex(
            rx.text(line.product_name, size="2", weight="medium"),
            rx.text(line.detail, size="2", color="var(--gray-11)", text_align="end"),
            justify="between", spacing="3", wrap="wrap",
        ),
        rx.cond(line.usage != "",
                rx.text(line.usage, size="2", weight="medium", color="var(--accent-11)",
                        text_align="end", class_name="portal-usage")),
        direction="column", spacing="1", padding_y="4px",
    )


def notice(sub: SubscriptionCard) -> rx.Component:
    """The scheduled change or the reason the plan can't change right now."""
    return rx.fragment(
        rx.cond(
            sub.notice != "",
            rx.callout(sub.notice, icon="calendar_clock", color_scheme="blue", size="1",
                       margin_top="14px", class_name="portal-scheduled"),
        ),
        rx.cond(
            sub.blocked_reason != "",
            rx.callout(sub.blocked_reason, icon="info",
                       color_scheme=rx.cond(sub.notice_kind == "past_due", "red", "gray"),
                       size="1", margin_top="14px", class_name="portal-blocked"),
        ),
    )


def card_actions(sub: SubscriptionCard) -> rx.Component:
    """The buttons under a subscription: what the configuration and its state allow."""
    return rx.cond(
        sub.has_actions,
        rx.flex(
            rx.cond(sub.can_update,
                    action_button(_("Update plan"), icon="arrow_up_down", color="blue",
                                  variant="solid", class_name="portal-update",
                                  on_click=rx.redirect(_route(sub.id, "update")))),
            rx.cond(sub.can_reactivate,
                    action_button(_("Don't cancel"), icon="rotate_ccw", color="blue",
                                  variant="solid", class_name="portal-reactivate",
                                  on_click=ManageState.reactivate(
                                      sub.id, ManageState.action_nonce))),
            rx.cond(sub.can_resume,
                    action_button(_("Resume now"), icon="play", color="blue", variant="solid",
                                  class_name="portal-resume",
                                  on_click=ManageState.resume(sub.id, ManageState.action_nonce))),
            rx.cond(sub.can_cancel_scheduled_change,
                    action_button(_("Cancel scheduled change"), icon="undo_2",
                                  class_name="portal-unschedule",
                                  on_click=ManageState.cancel_scheduled_change(
                                      sub.id, ManageState.action_nonce))),
            rx.cond(sub.can_pause,
                    action_button(_("Pause"), icon="pause", class_name="portal-pause",
                                  on_click=rx.redirect(_route(sub.id, "pause")))),
            rx.cond(sub.can_cancel,
                    action_button(_("Cancel subscription"), icon="x", color="red",
                                  variant="outline", class_name="portal-cancel",
                                  on_click=rx.redirect(_route(sub.id, "cancel")))),
            spacing="2", wrap="wrap", margin_top="18px",
        ),
    )


def subscription_card(sub: SubscriptionCard) -> rx.Component:
    """One subscription: product, price and interval, status, next date, actions."""
    return card(
        rx.flex(
            rx.text(sub.product_name, size="5", weight="bold", trim="both",
                    class_name="portal-product"),
            status_badge(sub.status_label, sub.status_color),
            justify="between", align="center", spacing="3", wrap="wrap",
        ),
        rx.flex(
            rx.text(sub.amount, size="7", weight="bold", letter_spacing="-0.02em",
                    class_name="portal-price"),
            rx.text(sub.interval, size="3", color="var(--gray-11)"),
            align="baseline", spacing="2", wrap="wrap", margin_top="14px",
        ),
        rx.cond(sub.quantity != "",
                rx.text(sub.quantity, size="2", color="var(--gray-11)", margin_top="4px",
                        class_name="portal-quantity")),
        rx.cond(sub.discount_line != "",
                rx.badge(rx.icon("badge_percent", size=14), sub.discount_line,
                         color_scheme="green", variant="soft", radius="full", size="2",
                         margin_top="8px", class_name="portal-discount")),
        # In rx.foreach ``sub`` is a Var, so ``sub.item_lines`` is one already: Var.create
        # returns it unchanged (same JS), typed as an array.
        rx.cond(rx.Var.create(sub.item_lines).length() > 0,
                rx.flex(rx.foreach(sub.item_lines, item_line), direction="column",
                        margin_top="10px")),
        rx.separator(size="4", margin_y="16px"),
        rx.hstack(
            rx.icon("calendar", size=16, color="var(--gray-10)"),
            rx.text(sub.date_line, size="2", color="var(--gray-12)", class_name="portal-date"),
            align="center", spacing="2",
        ),
        notice(sub),
        card_actions(sub),
        class_name="portal-subscription",
        data_subscription=sub.id,
    )


# --- change plan ------------------------------------------------------------------------


def item_tab(item: ItemChoice) -> rx.Component:
    chosen = UpdateState.item_id == item.item_id
    return rx.box(
        rx.text(item.product_name, size="2", weight="bold"),
        rx.text(item.summary, size="1", color="var(--gray-11)"),
        on_click=UpdateState.choose_item(item.item_id), cursor="pointer",
        padding="10px 14px", border_radius="10px", class_name="portal-item",
        style=rx.cond(chosen, SELECTED, UNSELECTED),
    )


def price_card(option: PriceOption) -> rx.Component:
    chosen = UpdateState.price_id == option.price_id
    return rx.box(
        rx.flex(
            rx.flex(
                rx.text(option.product_name, size="3", weight="bold"),
                rx.cond(option.current,
                        rx.badge(tr("Current plan"), variant="soft", color_scheme="gray",
                                 radius="full")),
                align="center", spacing="2", wrap="wrap",
            ),
            rx.cond(chosen, rx.icon("circle_check", size=20, color="var(--accent-9)"),
                    rx.icon("circle", size=20, color="var(--gray-8)")),
            justify="between", align="center", spacing="2",
        ),
        rx.cond(option.description != "",
                rx.text(option.description, size="2", color="var(--gray-11)",
                        margin_top="4px")),
        rx.flex(
            rx.text(option.amount, size="5", weight="bold", letter_spacing="-0.01em"),
            rx.text(option.interval, size="2", color="var(--gray-11)"),
            align="baseline", spacing="2", margin_top="10px",
        ),
        on_click=UpdateState.choose_price(option.price_id), cursor="pointer",
        padding="16px", border_radius="12px", role="radio", aria_checked=chosen,
        class_name="portal-price-option", data_price=option.price_id,
        style=rx.cond(chosen, SELECTED, UNSELECTED),
        transition="border-color 120ms, background 120ms",
    )


def interval_toggle() -> rx.Component:
    return rx.cond(
        UpdateState.intervals.length() > 1,
        rx.segmented_control.root(
            rx.foreach(UpdateState.intervals,
                       lambda c: rx.segmented_control.item(c.label, value=c.key)),
            value=UpdateState.interval_key, on_change=UpdateState.set_interval,
            radius="large", size="2", class_name="portal-interval",
        ),
    )


def quantity_stepper() -> rx.Component:
    return rx.cond(
        UpdateState.quantity_enabled,
        card(
            rx.flex(
                rx.flex(
                    rx.text(tr("Quantity"), size="3", weight="bold"),
                    rx.text(tr("Seats, licences or units on this plan."), size="2",
                            color="var(--gray-11)"),
                    direction="column", spacing="1",
                ),
                rx.flex(
                    rx.icon_button(rx.icon("minus", size=16), on_click=UpdateState.decrease,
                                   disabled=~UpdateState.can_decrease, variant="soft",
                                   radius="full", size="2", aria_label=tr("Fewer"),
                                   class_name="portal-decrease"),
                    rx.text(UpdateState.quantity, size="5", weight="bold", min_width="40px",
                            text_align="center", class_name="portal-quantity-value"),
                    rx.icon_button(rx.icon("plus", size=16), on_click=UpdateState.increase,
                                   disabled=~UpdateState.can_increase, variant="soft",
                                   radius="full", size="2", aria_label=tr("More"),
                                   class_name="portal-increase"),
                    align="center", spacing="3",
                ),
                justify="between", align="center", spacing="4", wrap="wrap",
            ),
        ),
    )


def promotion_field() -> rx.Component:
    return rx.cond(
        UpdateState.promotion_code_enabled,
        rx.flex(
            rx.text(tr("Promotion code"), size="2", weight="bold", as_="label",
                    html_for="promotion-code"),
            rx.input(id="promotion-code", value=UpdateState.promotion_code,
                     on_change=UpdateState.set_promotion_code, placeholder=tr("Add a code"),
                     size="3", radius="large", class_name="portal-promo",
                     auto_complete="off"),
            direction="column", spacing="2", width="100%",
        ),
    )


def chooser() -> rx.Component:
    return rx.flex(
        rx.cond(UpdateState.items.length() > 1,
                rx.flex(rx.text(tr("Which item do you want to change?"), size="2",
                                weight="bold", color="var(--gray-11)"),
                        rx.flex(rx.foreach(UpdateState.items, item_tab), spacing="2",
                                wrap="wrap"),
                        direction="column", spacing="2")),
        rx.cond(UpdateState.metered_note != "",
                rx.callout(UpdateState.metered_note, icon="activity", color_scheme="gray",
                           size="1")),
        rx.cond(UpdateState.price_enabled,
                rx.flex(
                    rx.flex(rx.text(tr("Choose a plan"), size="2", weight="bold",
                                    color="var(--gray-11)", letter_spacing="0.04em",
                                    text_transform="uppercase"),
                            interval_toggle(),
                            justify="between", align="center", spacing="3", wrap="wrap"),
                    rx.grid(rx.foreach(UpdateState.shown_options, price_card),
                            columns=rx.breakpoints(initial="1", sm="2"), spacing="3",
                            role="radiogroup"),
                    direction="column", spacing="3")),
        quantity_stepper(),
        promotion_field(),
        form_error(UpdateState.error),
        buttons(
            secondary(_("Cancel"), on_click=rx.redirect(PORTAL)),
            primary(_("Continue"), on_click=UpdateState.review, disabled=~UpdateState.changed,
                    class_name="portal-continue"),
        ),
        direction="column", spacing="5", width="100%",
    )


def preview_line(line: PreviewLineView) -> rx.Component:
    return rx.flex(
        rx.flex(
            rx.text(line.description, size="2", weight="medium"),
            rx.text(line.period, size="1", color="var(--gray-10)"),
            direction="column", spacing="1", min_width="0",
        ),
        rx.text(line.amount, size="2", weight="bold", white_space="nowrap",
                color=rx.cond(line.credit, "var(--green-11)", "var(--gray-12)"),
                class_name="portal-line-amount"),
        justify="between", align="center", spacing="4", padding_y="10px",
        border_bottom="1px solid var(--gray-a3)", class_name="portal-preview-line",
    )


def summary_row(label: Var | str, value: Var | str, *, strong: bool = False,
                class_name: str = "") -> rx.Component:
    return rx.flex(
        rx.text(label, size="3" if strong else "2", weight="bold" if strong else "regular",
                color="var(--gray-12)" if strong else "var(--gray-11)"),
        rx.text(value, size="4" if strong else "2", weight="bold", class_name=class_name,
                white_space="nowrap"),
        justify="between", align="center", spacing="4",
    )


def preview_panel() -> rx.Component:
    p = UpdateState.preview
    return rx.flex(
        card(
            rx.flex(
                rx.text(tr("New plan"), size="2", color="var(--gray-11)"),
                rx.text(p.new_plan, size="5", weight="bold", class_name="portal-new-plan"),
                direction="column", spacing="1",
            ),
            rx.cond(
                p.scheduled,
                rx.callout(p.scheduled_line, icon="calendar_clock", color_scheme="blue",
                           size="2", margin_top="16px", class_name="portal-scheduled-preview"),
                rx.fragment(
                    rx.cond(rx.Var.create(p.lines).length() > 0,  # as item_lines above
                            rx.flex(rx.foreach(UpdateState.preview_lines, preview_line),
                                    direction="column", margin_top="12px")),
                    rx.flex(
                        rx.cond(p.has_discount,
                                summary_row(tr("Discount"), p.discount,
                                            class_name="portal-discount")),
                        summary_row(p.due_now_label, p.amount_due_now, strong=True,
                                    class_name="portal-due-now"),
                        direction="column", spacing="3", margin_top="16px",
                    ),
                ),
            ),
            rx.separator(size="4", margin_y="16px"),
            rx.flex(
                rx.icon("calendar", size=16, color="var(--gray-10)"),
                rx.text(tr("Next invoice"), size="2", color="var(--gray-11)"),
                rx.spacer(),
                rx.text(p.next_invoice_date, size="2", class_name="portal-next-date"),
                rx.text(p.next_invoice_amount, size="2", weight="bold",
                        class_name="portal-next-amount"),
                align="center", spacing="2", wrap="wrap",
            ),
            class_name="portal-preview",
        ),
        form_error(UpdateState.error),
        buttons(
            rx.cond(UpdateState.confirm_flow,
                    secondary(_("Cancel"), on_click=rx.redirect(PORTAL)),
                    secondary(_("Back"), on_click=UpdateState.back)),
            primary(_("Confirm"), on_click=UpdateState.confirm(UpdateState.action_nonce),
                    loading=UpdateState.working, class_name="portal-confirm"),
        ),
        direction="column", spacing="5", width="100%",
    )


def update_content() -> rx.Component:
    return flow_page(page_heading(_("Update your plan"), UpdateState.plan_name),
                     step=UpdateState.step, error=UpdateState.error, ready=chooser(),
                     steps=[("preview", preview_panel())])


# --- pause ------------------------------------------------------------------------------


def pause_option(option: PauseOption) -> rx.Component:
    chosen = PauseState.choice == option.key
    return rx.flex(
        rx.flex(
            rx.text(option.label, size="3", weight="bold"),
            rx.text(option.resumes_line, size="2", color="var(--gray-11)"),
            direction="column", spacing="1",
        ),
        rx.cond(chosen, rx.icon("circle_check", size=20, color="var(--accent-9)"),
                rx.icon("circle", size=20, color="var(--gray-8)")),
        on_click=PauseState.choose(option.key), cursor="pointer", padding="16px",
        border_radius="12px", justify="between", align="center", spacing="3", role="radio",
        aria_checked=chosen, class_name="portal-pause-option", data_key=option.key,
        style=rx.cond(chosen, SELECTED, UNSELECTED),
    )


def pause_content() -> rx.Component:
    return flow_page(
        page_heading(_("Pause payments"), PauseState.product_name),
        step=PauseState.step, error=PauseState.error, ready=rx.flex(
            rx.text(tr("While paused you won't be charged. Choose how long:"), size="3",
                    color="var(--gray-11)"),
            rx.flex(rx.foreach(PauseState.options, pause_option), direction="column",
                    spacing="3", role="radiogroup"),
            form_error(PauseState.error),
            buttons(secondary(_("Cancel"), on_click=rx.redirect(PORTAL)),
                    primary(_("Pause subscription"),
                            on_click=PauseState.confirm(PauseState.action_nonce),
                            loading=PauseState.working, class_name="portal-confirm-pause")),
            direction="column", spacing="5", width="100%",
        ),
    )


# --- hosted confirmation ----------------------------------------------------------------


def done_content() -> rx.Component:
    return card(
        rx.flex(
            rx.center(rx.icon("check", size=24, color="var(--green-11)"), width="52px",
                      height="52px", border_radius="50%", background="var(--green-3)"),
            rx.heading(rx.cond(ManageState.done_title != "", ManageState.done_title,
                               tr("All done")), size="5", class_name="portal-done-title"),
            rx.cond(ManageState.done_message != "",
                    rx.text(ManageState.done_message, size="3", color="var(--gray-11)",
                            line_height="1.55", class_name="portal-done-message")),
            rx.button(tr("Back to your subscriptions"), on_click=rx.redirect(PORTAL),
                      variant="soft", radius="large", size="3", margin_top="8px"),
            direction="column", align="center", spacing="3", text_align="center",
            padding_y="16px",
        ),
    )
