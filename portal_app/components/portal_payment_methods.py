"""Building blocks of the payment methods pages: the list with its actions, the type
picker, the add form with its field errors and the mandate.

As everywhere in the portal, texts come from the catalog through :func:`tr` and values
arrive formatted (and field labels translated) from the view models.
"""

from __future__ import annotations

import reflex as rx

from portal_app.components.portal_widgets import (
    buttons,
    card,
    empty_state,
    flow_page,
    form_error,
    outcome_banner,
    page_heading,
    secondary,
    status_badge,
    tr,
)
from portal_app.i18n import _
from portal_app.routes import PORTAL_PAYMENT_METHODS
from portal_app.state.portal_payment_methods import MethodsState
from portal_app.views.payment_methods import FieldView, MethodView, TypeChoice


def method_icon(icon: str) -> rx.Component:
    return rx.center(
        rx.match(icon,
                 ("landmark", rx.icon("landmark", size=20, color="var(--accent-11)")),
                 ("wallet", rx.icon("wallet", size=20, color="var(--accent-11)")),
                 rx.icon("credit_card", size=20, color="var(--accent-11)")),
        width="44px", height="44px", border_radius="10px", background="var(--accent-3)",
        flex_shrink="0",
    )


def method_actions(method: MethodView) -> rx.Component:
    """"Make default" and "Remove" (hidden while the removal asks again)."""
    return rx.cond(
        MethodsState.removing != method.id,
        rx.flex(
            rx.cond(~method.is_default,
                    rx.button(rx.icon("star", size=14), tr("Make default"), size="2",
                              variant="soft", radius="large", class_name="portal-make-default",
                              on_click=MethodsState.make_default(
                                  method.id, MethodsState.action_nonce))),
            rx.button(rx.icon("trash_2", size=14), tr("Remove"), size="2", variant="ghost",
                      color_scheme="red", radius="large", class_name="portal-remove",
                      on_click=MethodsState.ask_remove(method.id)),
            spacing="3", align="center", wrap="wrap", flex_shrink="0",
            padding_inline_start=rx.breakpoints(initial="56px", sm="0"),
        ),
    )


def removal_question(method: MethodView) -> rx.Component:
    """The removal's second question, under its row."""
    return rx.cond(
        MethodsState.removing == method.id,
        rx.flex(
            rx.text(tr("Remove this payment method?"), size="2", weight="medium"),
            rx.spacer(),
            rx.button(tr("Keep"), on_click=MethodsState.keep, size="2", variant="soft",
                      color_scheme="gray", radius="large", class_name="portal-keep"),
            rx.button(tr("Remove"),
                      on_click=MethodsState.remove(method.id, MethodsState.action_nonce),
                      size="2", color_scheme="red", radius="large",
                      class_name="portal-confirm-remove"),
            align="center", spacing="2", wrap="wrap", width="100%", margin_top="12px",
            padding="10px 12px", border_radius="10px", background="var(--red-a2)",
        ),
    )


def method_row(method: MethodView) -> rx.Component:
    """One method: how its owner knows it, its badges and actions."""
    return rx.box(
        rx.flex(
            rx.flex(
                method_icon(method.icon),
                rx.flex(
                    rx.flex(
                        rx.text(method.title, size="3", weight="bold",
                                class_name="portal-pm-title"),
                        rx.cond(method.is_default,
                                rx.badge(tr("Default"), variant="outline", color_scheme="gray",
                                         radius="full", class_name="portal-pm-default")),
                        rx.cond(method.badge != "",
                                rx.box(status_badge(method.badge, method.badge_color),
                                       class_name="portal-pm-badge")),
                        align="center", spacing="2", wrap="wrap",
                    ),
                    rx.cond(method.detail != "",
                            rx.text(method.detail, size="2", color="var(--gray-11)",
                                    class_name="portal-pm-detail")),
                    direction="column", spacing="1", min_width="0",
                ),
                align="center", spacing="3", min_width="0",
            ),
            method_actions(method),
            direction=rx.breakpoints(initial="column", sm="row"),
            justify="between", align=rx.breakpoints(initial="start", sm="center"),
            spacing="3",
        ),
        removal_question(method),
        padding_y="16px", border_bottom="1px solid var(--gray-a3)",
        _last_child={"border_bottom": "none"}, class_name="portal-pm",
        data_method=method.id,
    )


def empty_methods() -> rx.Component:
    return empty_state("wallet", tr("No payment methods yet"),
                       tr("Add a card or bank account to pay for your subscriptions."),
                       class_name="portal-pm-empty")


def methods_list() -> rx.Component:
    return rx.flex(
        card(rx.cond(MethodsState.has_methods,
                     rx.flex(rx.foreach(MethodsState.methods, method_row),
                             direction="column", margin_y="-16px"),
                     empty_methods())),
        rx.flex(
            rx.button(rx.icon("plus", size=16), tr("Add payment method"),
                      on_click=MethodsState.to_add, size="3", radius="large",
                      width=rx.breakpoints(initial="100%", sm="auto"),
                      class_name="portal-add-method"),
            justify="end", width="100%",
        ),
        direction="column", spacing="4", width="100%",
    )


def methods_content() -> rx.Component:
    """The payment methods page."""
    return flow_page(page_heading(_("Payment methods")), outcome_banner(),
                     step=MethodsState.step, error=MethodsState.error, ready=methods_list())


# --- the add form --------------------------------------------------------------------------


def small_icon(icon: str) -> rx.Component:
    return rx.match(icon,
                    ("landmark", rx.icon("landmark", size=16)),
                    ("wallet", rx.icon("wallet", size=16)),
                    rx.icon("credit_card", size=16))


def type_chip(choice: TypeChoice) -> rx.Component:
    """One type of the picker: a pill (a real button: reachable by keyboard)."""
    chosen = MethodsState.kind == choice.type
    return rx.button(
        small_icon(choice.icon),
        choice.label,
        on_click=MethodsState.choose_type(choice.type), size="2", radius="full",
        variant=rx.cond(chosen, "surface", "outline"),
        color_scheme=rx.cond(chosen, "blue", "gray"),
        role="radio", aria_checked=rx.cond(chosen, "true", "false"),
        class_name="portal-pm-type", data_type=choice.type, white_space="nowrap",
    )


def field_input(field: FieldView) -> rx.Component:
    """A labelled input with its error under it."""
    field_id = f"pm-{field.key}"
    return rx.flex(
        rx.el.label(field.label, html_for=field_id, font_size="14px", font_weight="500"),
        rx.input(
            id=field_id, name=field.key, value=field.value,
            on_change=lambda value: MethodsState.set_field(field.key, value),
            placeholder=field.placeholder, auto_complete=field.autocomplete,
            max_length=field.max_length + 6, size="3", radius="large",
            color_scheme=rx.cond(field.error != "", "red", "gray"),
            custom_attrs={"inputMode": field.input_mode,
                          "aria-invalid": rx.cond(field.error != "", "true", "false"),
                          "aria-describedby": f"pm-{field.key}-error"},
            class_name="portal-pm-input", debounce_timeout=150,
        ),
        rx.cond(field.error != "",
                rx.text(field.error, id=f"pm-{field.key}-error", size="2",
                        color="var(--red-11)", class_name="portal-field-error")),
        direction="column", spacing="2", width="100%", data_field=field.key,
        grid_column=rx.cond(field.half, "span 1", "1 / -1"),
    )


def add_form() -> rx.Component:
    return rx.flex(
        rx.flex(rx.foreach(MethodsState.choices, type_chip), spacing="2", wrap="wrap",
                role="radiogroup", aria_label=tr("Payment method type")),
        card(
            rx.flex(
                rx.cond(MethodsState.redirect,
                        rx.text(MethodsState.redirect_note, size="2", color="var(--gray-11)",
                                class_name="portal-redirect-note"),
                        rx.grid(rx.foreach(MethodsState.fields, field_input),
                                columns="2", spacing="4", width="100%")),
                rx.cond(MethodsState.mandate != "",
                        rx.box(rx.text(MethodsState.mandate, size="1", color="var(--gray-11)",
                                       line_height="1.6"),
                               padding="12px 14px", border_radius="10px",
                               background="var(--gray-a2)", class_name="portal-mandate")),
                form_error(MethodsState.error),
                buttons(
                    secondary(_("Cancel"), on_click=MethodsState.to_list),
                    rx.button(MethodsState.submit_label,
                              on_click=MethodsState.submit(MethodsState.action_nonce),
                              loading=MethodsState.working, size="3", radius="large",
                              width=rx.breakpoints(initial="100%", sm="auto"),
                              class_name="portal-pm-submit"),
                ),
                direction="column", spacing="5",
            ),
        ),
        direction="column", spacing="4", width="100%",
    )


def add_heading() -> rx.Component:
    """The add form's title, with the way back to the list."""
    return rx.flex(
        rx.link(
            rx.hstack(rx.icon("arrow_left", size=16, class_name="portal-flip"),
                      rx.text(tr("Back to payment methods")), align="center", spacing="2"),
            href=PORTAL_PAYMENT_METHODS, size="2", weight="medium", underline="hover",
            class_name="portal-back",
        ),
        rx.heading(tr("Add a payment method"), size=rx.breakpoints(initial="6", md="7"),
                   weight="bold", letter_spacing="-0.02em", class_name="portal-flow-title"),
        direction="column", spacing="3",
    )


def add_content() -> rx.Component:
    """The add form page."""
    return flow_page(add_heading(), step=MethodsState.step, error=MethodsState.error,
                     ready=add_form())
