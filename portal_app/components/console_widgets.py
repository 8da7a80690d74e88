"""The console's shared widgets: its words on the page, headers, states, form controls.

No literal a merchant reads lives in a console page: :func:`ct_var` looks a
message up in the console catalog (``ConsoleState.text``, see
``console/strings.py``), and every value arrives formatted from the States.
Every console page and component takes these widgets from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from portal_app.routes import CONSOLE_EXPERIMENTS, CONSOLE_OFFERS
from portal_app.state.console import ConsoleState
from portal_app.state.console_retention import RetentionState

MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace"
SANS = ("Inter, ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, "
        "'Helvetica Neue', Arial, sans-serif")
# Radix breakpoints: [phone, >=520px, >=768px, ...]; the sidebar appears at 768px.
DESKTOP_ONLY = ["none", "none", "flex"]
PHONE_ONLY = ["flex", "flex", "none"]
MUTED = rx.color("gray", 11)
FAINT = rx.color("gray", 10)
BORDER = f"1px solid {rx.color('gray', 5)}"

Form = type[RetentionState]  # a page State with a dialog form (form_error, defaults)


def ct_var(message: str) -> Any:
    """``message`` in the console's language, as a Var the compiled page reads.

    ``pybabel extract -k ct_var`` finds the id (see ``console/strings.py``).
    """
    return ConsoleState.text[message]


# Offers and experiments both need a portal configuration to act on.
NEED_CONFIGURATION = ct_var("This account has no portal configuration yet: create one "
                            "through the API (POST /v1/billing_portal/configurations).")


def page_header(title: rx.Var | str, lead: rx.Var | str) -> rx.Component:
    """A page's title and one line about it."""
    return rx.vstack(
        rx.heading(title, size="6", weight="bold", letter_spacing="-0.02em"),
        rx.text(lead, size="2", color=rx.color("gray", 11)),
        spacing="1", margin_bottom="24px",
    )


def header(title: Any, lead: Any, action: rx.Component | None = None) -> rx.Component:
    """A page's title, one line about it, and its main button."""
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="6", weight="bold", letter_spacing="-0.02em"),
            rx.text(lead, size="2", color=MUTED),
            spacing="1", flex="1", min_width="240px",
        ),
        action or rx.fragment(),
        gap="12px", align="end", wrap="wrap", justify="between", margin_bottom="20px",
        width="100%",
    )


def retention_tabs(active: str) -> rx.Component:
    """Offers | Experiments, as links (each is its own page)."""

    def tab(text: Any, href: str, icon: str) -> rx.Component:
        is_active = href == active
        return rx.link(
            rx.hstack(rx.icon(icon, size=14), rx.text(text, size="2", weight="medium"),
                      align="center", spacing="2"),
            href=href, underline="none",
            color=rx.color("gray", 12) if is_active else MUTED,
            background=rx.color("gray", 1) if is_active else "transparent",
            box_shadow=f"0 1px 2px {rx.color('gray', 6)}" if is_active else "none",
            padding="6px 14px", border_radius="6px",
            custom_attrs={"aria-current": "page"} if is_active else {},
        )

    return rx.hstack(
        tab(ct_var("Offers"), CONSOLE_OFFERS, "gift"),
        tab(ct_var("Experiments"), CONSOLE_EXPERIMENTS, "flask-conical"),
        spacing="1", padding="3px", border_radius="8px", background=rx.color("gray", 3),
        width="fit-content", margin_bottom="20px", as_="nav",
    )


def loading(message: Any, testid: str) -> rx.Component:
    """A spinner line and skeleton rows."""
    return rx.vstack(
        rx.hstack(rx.spinner(size="2"), rx.text(message, size="2", color=MUTED),
                  align="center", spacing="2"),
        *[rx.skeleton(rx.box(height="52px", width="100%"), loading=True, width="100%")
          for _ in range(4)],
        spacing="2", width="100%", custom_attrs={"data-testid": testid},
    )


def load_error(retry: Any) -> rx.Component:
    """The page could not be read: say so, offer a retry."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(rx.hstack(
            rx.text(ct_var("This page could not be loaded. Please try again.")),
            rx.button(ct_var("Try again"), size="1", variant="soft", color_scheme="red",
                      on_click=retry),
            align="center", spacing="3", wrap="wrap")),
        color_scheme="red", role="alert",
    )


def empty(icon: str, title: Any, lead: Any, action: rx.Component, testid: str
          ) -> rx.Component:
    """Nothing here yet, and the button that makes the first one."""
    return rx.center(
        rx.vstack(
            rx.center(rx.icon(icon, size=24, color=FAINT), width="48px", height="48px",
                      border_radius="12px", background=rx.color("gray", 3)),
            rx.text(title, size="4", weight="bold", text_align="center"),
            rx.text(lead, size="2", color=MUTED, text_align="center", max_width="420px"),
            action,
            align="center", spacing="3",
        ),
        padding="56px 24px", border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px", background=rx.color("gray", 2),
        custom_attrs={"data-testid": testid},
    )


def rows_shown(headers: list[Any], rows: Any, row: Callable, card: Callable) -> rx.Component:
    """A list var as a table on desktop (its last column for actions) and cards on phones."""
    table = rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                *[rx.table.column_header_cell(text) for text in headers],
                rx.table.column_header_cell(""),
            )),
            rx.table.body(rx.foreach(rows, row)),
            variant="surface", size="2", width="100%",
        ),
        display=DESKTOP_ONLY, width="100%", overflow_x="auto",
    )
    cards = rx.box(rx.foreach(rows, card), display=PHONE_ONLY,
                   flex_direction="column", width="100%", border=BORDER,
                   border_radius="10px", overflow="hidden", background=rx.color("gray", 1))
    return rx.box(table, cards, width="100%")


# --- forms --------------------------------------------------------------------------------


def label(text: Any) -> rx.Component:
    """A control's label."""
    return rx.text(text, size="2", weight="medium", as_="label")


def hint(text: Any) -> rx.Component:
    """A line of help under a control."""
    return rx.text(text, size="1", color=FAINT)


def problem(state: Form, name: Any) -> rx.Component:
    """The form's error, when it is about the input ``name``."""
    return rx.cond(
        state.error_field == name,
        rx.hstack(rx.icon("circle-alert", size=13, flex_shrink="0"),
                  rx.text(state.form_error, size="1"),
                  color=rx.color("red", 11), spacing="1", align="center",
                  custom_attrs={"data-testid": "field-error"}),
    )


def field(state: Form, text: Any, control: rx.Component, name: Any, help_text: Any = None,
          **props: Any) -> rx.Component:
    """A labelled control, its hint, and the service's message when it is about it."""
    return rx.vstack(
        label(text),
        control,
        hint(help_text) if help_text is not None else rx.fragment(),
        problem(state, name),
        spacing="1", width="100%", **props,
    )


def text_input(state: Form, name: str, *, placeholder: str = "", type_: str = "text",
               mono: bool = False, **props: Any) -> rx.Component:
    """An uncontrolled input read on submit, prefilled from ``state.defaults``."""
    return rx.input(
        name=name, default_value=state.defaults[name], type=type_,
        placeholder=placeholder, width="100%", font_family=MONO if mono else None,
        color_scheme=rx.cond(state.error_field == name, "red", "indigo"),
        variant=rx.cond(state.error_field == name, "soft", "surface"),
        custom_attrs={"data-field": name, "autocomplete": "off"}, **props,
    )


def select(value: Any, on_change: Callable, items: list[tuple[Any, Any]] | None = None,
           choices: Any = None, testid: Any = None, **props: Any) -> rx.Component:
    """A Radix select over fixed ``items`` (value, label) or a list var of ``Choice``."""
    content = (
        [rx.select.item(text, value=v) for v, text in items] if items is not None else
        [rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value))]
    )
    return rx.select.root(
        rx.select.trigger(width="100%",
                          custom_attrs={"data-testid": testid} if testid is not None else {}),
        rx.select.content(*content, position="popper"),
        value=value, on_change=on_change, **props,
    )


def check_list(choices: Any, selected: Any, on_toggle: Callable, testid: str) -> rx.Component:
    """Checkboxes over a list var of ``Choice``; ``selected`` is the list of ticked values."""
    return rx.flex(
        rx.foreach(choices, lambda c: rx.el.label(
            rx.checkbox(checked=selected.contains(c.value),
                        on_change=lambda checked: on_toggle(c.value, checked)),
            rx.text(c.label, size="2"),
            style={"display": "flex", "gap": "8px", "align_items": "center",
                   "padding": "6px 10px", "border_radius": "6px", "cursor": "pointer",
                   "border": BORDER, "background": rx.color("gray", 1)},
            custom_attrs={"data-value": c.value},
        )),
        gap="8px", wrap="wrap", custom_attrs={"data-testid": testid},
    )


def _form_problem(state: Form) -> rx.Component:
    return rx.cond(
        state.form_error != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-alert", size=16)),
            rx.callout.text(rx.cond(state.error_field == "", state.form_error,
                                    ct_var("Check the highlighted field."))),
            color_scheme="red", size="1", role="alert", width="100%",
            custom_attrs={"data-testid": "form-error"},
        ),
    )


def form_section(title: Any, *children: rx.Component) -> rx.Component:
    """A titled group of a form's controls."""
    return rx.vstack(
        rx.text(title, size="1", weight="bold", color=FAINT, text_transform="uppercase",
                letter_spacing="0.06em"),
        *children,
        spacing="3", width="100%", padding_top="16px", border_top=BORDER,
    )


def form_dialog(state: Any, title: Any, lead: Any, *fields: rx.Component, testid: str,
                max_width: str) -> rx.Component:
    """A create/edit dialog of ``state``: its form (remounted on ``form_key``), Cancel, Save.

    ``state`` has ``dialog_open``, ``form_key``, ``save`` and ``set_dialog_open``.
    """
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title, size="5"),
            rx.dialog.description(lead, size="2", color=MUTED, margin_bottom="16px"),
            rx.form(
                rx.vstack(*fields, _dialog_buttons(state), spacing="4", width="100%"),
                on_submit=state.save, key=state.form_key, width="100%",
                custom_attrs={"data-testid": testid},
            ),
            max_width=max_width, width="calc(100vw - 24px)", max_height="92vh",
        ),
        open=state.dialog_open, on_open_change=state.set_dialog_open,
    )


def _dialog_buttons(state: Form) -> rx.Component:
    """A dialog form's error (if any), Cancel and Save."""
    return rx.flex(
        _form_problem(state),
        rx.hstack(
            rx.dialog.close(rx.button(ct_var("Cancel"), variant="soft", color_scheme="gray",
                                      type="button")),
            rx.button(ct_var("Save"), type="submit",
                      custom_attrs={"data-testid": "dialog-save"}),
            spacing="2", justify="end", width="100%",
        ),
        direction="column", gap="12px", width="100%", padding_top="8px",
    )
