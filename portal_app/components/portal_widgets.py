"""Widgets shared by the customer portal's features: their one home (the console's is console_widgets).

A feature's components (overview, manage, cancel) take these from this module, never
from a sibling feature's module.
"""

from __future__ import annotations

from collections.abc import Sequence

import reflex as rx
from reflex.vars import Var

from portal_app.routes import PORTAL
from portal_app.state.portal import PortalState
from portal_app.state.portal_manage import ManageState

CARD_STYLE = {
    "background": "var(--color-panel-solid)",
    "border": "1px solid var(--gray-a4)",
    "border_radius": "14px",
    "box_shadow": "0 1px 2px var(--black-a2), 0 6px 20px -8px var(--black-a3)",
}

SELECTED = {"border": "2px solid var(--accent-9)", "background": "var(--accent-2)"}
UNSELECTED = {"border": "1px solid var(--gray-a5)", "background": "var(--color-panel-solid)"}


def tr(message: str) -> Var:
    """``message`` in the session's language (``pybabel extract -k tr`` finds the id)."""
    return PortalState.t[message]  # type: ignore[return-value]  # a Var on the class


def card(*children: rx.Component, padding: object = None, **props) -> rx.Component:
    """A white panel with a hairline border and a soft shadow."""
    return rx.box(*children, padding=padding or rx.breakpoints(initial="18px", sm="24px"),
                  width="100%", style=CARD_STYLE, **props)


def status_badge(label: Var | str, color: Var | str) -> rx.Component:
    """A status pill coloured by the view model's colour name."""
    return rx.badge(label, color_scheme=color, variant="soft", radius="full", size="2",
                    high_contrast=False, white_space="nowrap")


def icon_disc(icon: str, color: str = "accent", *, size: str = "44px") -> rx.Component:
    """An icon on a round disc tinted with the Radix colour ``color``."""
    return rx.center(rx.icon(icon, size=22, color=f"var(--{color}-11)"), width=size,
                     height=size, border_radius="50%", background=f"var(--{color}-3)",
                     flex_shrink="0")


def empty_state(icon: str, title: Var | str, text: Var | str, **props) -> rx.Component:
    """What a list shows while it has nothing: an icon, a title, a line of help."""
    return rx.flex(
        icon_disc(icon),
        rx.text(title, size="3", weight="bold"),
        rx.text(text, size="2", color="var(--gray-11)"),
        direction="column", align="center", spacing="2", padding_y="12px",
        text_align="center", **props,
    )


def date_and_number(date: Var | str, number: Var | str) -> rx.Component:
    """An invoice's date over its number (in the code font), as its rows start."""
    return rx.flex(
        rx.text(date, size="2", weight="medium"),
        rx.text(number, size="1", color="var(--gray-10)", font_family="var(--code-font-family)"),
        direction="column", spacing="1", min_width="0",
    )


def skeleton_block(height: str, width: str = "100%") -> rx.Component:
    """A grey placeholder while the overview loads."""
    return rx.skeleton(rx.box(height=height, width=width), loading=True)


def back_link() -> rx.Component:
    """Back to the overview."""
    return rx.link(
        rx.hstack(rx.icon("arrow_left", size=16, class_name="portal-flip"),
                  rx.text(tr("Back to your subscriptions")), align="center", spacing="2"),
        href=PORTAL, size="2", weight="medium", underline="hover", class_name="portal-back",
    )


def page_heading(title: str, subtitle: Var | str = "") -> rx.Component:
    return rx.flex(
        back_link(),
        rx.heading(tr(title), size=rx.breakpoints(initial="6", md="7"), weight="bold",
                   letter_spacing="-0.02em", class_name="portal-flow-title"),
        rx.cond(subtitle != "", rx.text(subtitle, size="3", color="var(--gray-11)")),
        direction="column", spacing="3",
    )


def form_error(message: Var | str) -> rx.Component:
    return rx.cond(message != "",
                   rx.callout(message, icon="circle_alert", color_scheme="red", size="2",
                              class_name="portal-error", role="alert"))


def flow_skeleton() -> rx.Component:
    return rx.flex(
        *[rx.skeleton(rx.box(height=h, width="100%"), loading=True)
          for h in ("28px", "120px", "120px")],
        direction="column", spacing="4", width="100%", aria_busy="true",
    )


def unavailable(message: Var | str) -> rx.Component:
    """A flow that can't run for this subscription: say why, offer the way back."""
    return card(
        rx.flex(
            icon_disc("info"),
            rx.text(tr("This isn't available"), size="4", weight="bold"),
            rx.text(message, size="2", color="var(--gray-11)", class_name="portal-unavailable"),
            rx.button(tr("Back to your subscriptions"), on_click=rx.redirect(PORTAL),
                      variant="soft", radius="large", margin_top="8px"),
            direction="column", align="center", spacing="2", text_align="center",
            padding_y="8px",
        ),
    )


def primary(label: str, *, on_click: object, loading: Var | bool = False,
            disabled: Var | bool = False, class_name: str = "", color: str = "blue"
            ) -> rx.Component:
    return rx.button(tr(label), on_click=on_click, loading=loading, disabled=disabled,
                     size="3", radius="large", color_scheme=color,
                     width=rx.breakpoints(initial="100%", sm="auto"), class_name=class_name)


def secondary(label: str, *, on_click: object, class_name: str = "") -> rx.Component:
    return rx.button(tr(label), on_click=on_click, size="3", radius="large", variant="soft",
                     color_scheme="gray", width=rx.breakpoints(initial="100%", sm="auto"),
                     class_name=class_name)


def buttons(*children: rx.Component) -> rx.Component:
    return rx.flex(*children, direction=rx.breakpoints(initial="column-reverse", sm="row"),
                   justify="end", spacing="3", width="100%")


def outcome_banner(*, dismissible: bool = True) -> rx.Component:
    """What the last action did (or why it was refused): ``ManageState.banner``."""
    text = rx.callout.text(ManageState.banner, class_name="portal-banner")
    if dismissible:
        text = rx.flex(
            text,
            rx.icon_button(rx.icon("x", size=14), on_click=ManageState.dismiss_banner,
                           variant="ghost", size="1", color_scheme="gray",
                           aria_label=tr("Dismiss")),
            justify="between", align="center", spacing="3", width="100%",
        )
    return rx.cond(
        ManageState.banner != "",
        rx.callout.root(
            rx.callout.icon(rx.icon(rx.cond(ManageState.banner_kind == "error",
                                            "circle_alert", "circle_check"), size=18)),
            text,
            color_scheme=rx.cond(ManageState.banner_kind == "error", "red", "green"),
            size="2", width="100%", role="status",
        ),
    )


def flow_page(*header: rx.Component, step: Var | str, error: Var | str, ready: rx.Component,
              steps: Sequence[tuple[str, rx.Component]] = ()) -> rx.Component:
    """A portal page: ``header`` over its current ``step``, a skeleton while "loading",
    why not (``error``) when "unavailable", one of ``steps``, else ``ready``."""
    return rx.flex(
        *header,
        rx.match(step, ("loading", flow_skeleton()), ("unavailable", unavailable(error)),
                 *steps, ready),
        direction="column", spacing="6", width="100%",
    )
