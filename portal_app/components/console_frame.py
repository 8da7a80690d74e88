"""The console's frame: a sidebar on desktop, a top bar with tabs on phones.

Every string comes from the console catalog through ``ct_var`` (``console_widgets``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from portal_app.components.console_widgets import (
    DESKTOP_ONLY,
    PHONE_ONLY,
    SANS,
    ct_var,
    page_header,
)
from portal_app.routes import (
    CONSOLE,
    CONSOLE_CONFIGURATIONS,
    CONSOLE_DASHBOARD,
    CONSOLE_EVENTS,
    CONSOLE_LOGOUT,
    CONSOLE_OFFERS,
    CONSOLE_WEBHOOKS,
)
from portal_app.state.console import ConsoleState

SIDEBAR_WIDTH = "280px"


@dataclass(frozen=True)
class NavEntry:
    """One section of the console in its navigation."""

    key: str  # the section's name: pages say which one is active
    label: Any  # a Var of the console catalog
    href: str
    icon: str
    ready: bool


NAV = (
    NavEntry("nav_overview", ct_var("Overview"), CONSOLE, "layout-dashboard", True),
    NavEntry("nav_configurations", ct_var("Configurations"), CONSOLE_CONFIGURATIONS,
             "sliders-horizontal", False),
    NavEntry("nav_offers", ct_var("Offers & experiments"), CONSOLE_OFFERS, "flask-conical",
             True),
    NavEntry("nav_dashboard", ct_var("Dashboard"), CONSOLE_DASHBOARD, "chart-line", True),
    NavEntry("nav_events", ct_var("Events"), CONSOLE_EVENTS, "list", True),
    NavEntry("nav_webhooks", ct_var("Webhooks"), CONSOLE_WEBHOOKS, "webhook", True),
)


def nav_entry(key: str) -> NavEntry:
    """The navigation entry of the section ``key``."""
    return next(entry for entry in NAV if entry.key == key)


def logo(size: str = "28px") -> rx.Component:
    """Portico's mark."""
    return rx.center(
        rx.icon("diamond", size=14, color="white"),
        width=size, height=size, border_radius="8px", background=rx.color("accent", 9),
        flex_shrink="0",
    )


def _soon_badge() -> rx.Component:
    return rx.badge(ct_var("Soon"), variant="soft", color_scheme="gray", size="1", radius="full",
                    flex_shrink="0")


def _side_link(entry: NavEntry, active: str) -> rx.Component:
    is_active = entry.key == active
    return rx.link(
        rx.hstack(
            rx.icon(entry.icon, size=16, flex_shrink="0"),
            rx.text(entry.label, size="2", weight="medium" if is_active else "regular",
                    flex="1", min_width="0", truncate=True),
            rx.cond(entry.ready, rx.fragment(), _soon_badge()),
            align="center", spacing="2", width="100%",
        ),
        href=entry.href,
        underline="none",
        color=rx.color("gray", 12) if is_active else rx.color("gray", 11),
        background=rx.color("accent", 3) if is_active else "transparent",
        border_radius="8px",
        padding="8px 10px",
        width="100%",
        _hover={"background": rx.color("gray", 3) if not is_active else rx.color("accent", 4),
                "color": rx.color("gray", 12)},
        custom_attrs={"aria-current": "page"} if is_active else {},
    )


def sign_out_form(*, compact: bool = False) -> rx.Component:
    """A real POST form with the session's CSRF token (the route checks both)."""
    button = (
        rx.icon_button(rx.icon("log-out", size=16), type="submit", variant="ghost",
                       color_scheme="gray", size="2", title=ct_var("Sign out"),
                       aria_label=ct_var("Sign out"))
        if compact else
        rx.button(rx.icon("log-out", size=14), ct_var("Sign out"), type="submit",
                  variant="soft", color_scheme="gray", size="2", width="100%")
    )
    return rx.el.form(
        rx.el.input(type="hidden", name="csrf_token", value=ConsoleState.csrf_token),
        button,
        method="post",
        action=CONSOLE_LOGOUT,
        on_submit=None,  # a plain browser POST, not a Reflex event
        style={"width": "auto" if compact else "100%", "margin": "0"},
    )


def sidebar(active: str) -> rx.Component:
    """The desktop navigation column."""
    return rx.vstack(
        rx.hstack(
            logo(),
            rx.text("Portico", weight="bold", size="3", letter_spacing="-0.01em"),
            rx.badge(ct_var("Console"), variant="outline", color_scheme="gray", size="1"),
            align="center", spacing="2", padding="4px 6px 0",
        ),
        rx.box(
            rx.text(ConsoleState.business_name, size="2", weight="medium", trim="both",
                    truncate=True),
            padding="10px 10px", border_radius="8px", width="100%",
            background=rx.color("gray", 2), border=f"1px solid {rx.color('gray', 4)}",
        ),
        rx.vstack(*[_side_link(entry, active) for entry in NAV], spacing="1", width="100%",
                  as_="nav"),
        rx.spacer(),
        rx.vstack(
            rx.text(ct_var("Signed in as"), size="1", color=rx.color("gray", 10)),
            rx.text(ConsoleState.email, size="2", truncate=True, width="100%",
                    custom_attrs={"data-testid": "console-email"}),
            sign_out_form(),
            spacing="2", width="100%", padding_top="12px",
            border_top=f"1px solid {rx.color('gray', 4)}",
        ),
        display=DESKTOP_ONLY,
        width=SIDEBAR_WIDTH, min_width=SIDEBAR_WIDTH, height="100vh",
        position="sticky", top="0", padding="20px 14px", spacing="4",
        border_right=f"1px solid {rx.color('gray', 4)}", background=rx.color("gray", 1),
    )


def _menu_item(entry: NavEntry, active: str) -> rx.Component:
    is_active = entry.key == active
    return rx.menu.item(
        rx.hstack(
            rx.icon(entry.icon, size=16, flex_shrink="0"),
            rx.text(entry.label, weight="bold" if is_active else "regular", flex="1"),
            rx.cond(entry.ready, rx.fragment(), _soon_badge()),
            align="center", spacing="3", width="100%",
        ),
        on_click=rx.redirect(entry.href),
        color=rx.color("accent", 11) if is_active else None,
    )


def topbar(active: str) -> rx.Component:
    """The phone navigation: brand and account, a menu of the sections, sign out."""
    current = nav_entry(active)
    return rx.hstack(
        logo("28px"),
        rx.vstack(
            rx.text(ConsoleState.business_name, size="2", weight="bold", truncate=True,
                    width="100%"),
            rx.text(ConsoleState.email, size="1", color=rx.color("gray", 10), truncate=True,
                    width="100%"),
            spacing="0", flex="1", min_width="0",
        ),
        rx.menu.root(
            rx.menu.trigger(
                rx.button(rx.icon(current.icon, size=14), current.label,
                          rx.icon("chevron-down", size=14), variant="soft",
                          color_scheme="gray", size="2", aria_label=ct_var("Menu"),
                          custom_attrs={"data-testid": "console-menu"}),
            ),
            rx.menu.content(*[_menu_item(entry, active) for entry in NAV], align="end",
                            min_width="220px"),
        ),
        sign_out_form(compact=True),
        display=PHONE_ONLY,
        align="center", spacing="3", width="100%", padding="10px 16px",
        position="sticky", top="0", z_index="10",
        background=rx.color("gray", 1), border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _signing_in() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh", width="100%")


def console_frame(active: str, *children: rx.Component) -> rx.Component:
    """A console page: the navigation frame around ``children`` once signed in."""
    return rx.theme(rx.box(
        rx.cond(
            ConsoleState.signed_in,
            rx.flex(
                sidebar(active),
                rx.box(
                    topbar(active),
                    rx.box(
                        *children,
                        max_width="1120px", margin="0 auto",
                        padding=["20px 16px 48px", "24px 20px 48px", "32px 40px 64px"],
                    ),
                    flex="1", min_width="0",
                ),
                direction="row", width="100%", min_height="100vh",
            ),
            _signing_in(),
        ),
        font_family=SANS,
        background=rx.color("gray", 1),
        min_height="100vh",
    ), accent_color="indigo", gray_color="slate", radius="medium", has_background=False)


def coming_soon(title: Any, lead: Any) -> rx.Component:
    """A placeholder for a section a later release fills."""
    return rx.fragment(
        page_header(title, lead),
        rx.center(
            rx.vstack(
                rx.icon("hammer", size=28, color=rx.color("gray", 9)),
                rx.text(ct_var("Coming soon"), size="4", weight="bold"),
                rx.text(ct_var("This part of the console arrives in a later release."),
                        size="2", color=rx.color("gray", 11),
                        text_align="center"),
                align="center", spacing="2",
            ),
            padding="64px 24px", border=f"1px dashed {rx.color('gray', 6)}",
            border_radius="12px", background=rx.color("gray", 2),
        ),
    )
