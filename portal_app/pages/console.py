"""Merchant console pages: overview, events, and the sections later releases fill.

Sign-in and sign-out are plain HTTP routes (``console/web.py``); every page
here checks the identity on load and leaves for the sign-in page without one.
"""

from typing import Any

import reflex as rx

from portal_app.components import console_retention as retention
from portal_app.components.console_events import event_dialog, events_list, filters
from portal_app.components.console_frame import coming_soon, console_frame, page_header
from portal_app.routes import (
    CONSOLE,
    CONSOLE_CONFIGURATIONS,
    CONSOLE_DASHBOARD,
    CONSOLE_EVENTS,
    CONSOLE_EXPERIMENT,
    CONSOLE_EXPERIMENTS,
    CONSOLE_OFFERS,
)
from portal_app.state.console import ConsoleState, EventsState, OverviewState
from portal_app.state.console_retention import (
    ExperimentsState,
    ExperimentState,
    OffersState,
)

PLACEHOLDERS = (  # route, nav key, lead key
    (CONSOLE_CONFIGURATIONS, "nav_configurations", "configurations_lead"),
)


def _t(key: str) -> Any:  # a Var of the state's text mapping
    return ConsoleState.text[key]


def _section_card(icon: str, title_key: str, lead_key: str, href: str,
                  ready: bool) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon(icon, size=18, color=rx.color("accent", 10)), rx.spacer(),
                          rx.cond(ready, rx.fragment(),
                                  rx.badge(_t("coming_soon"), color_scheme="gray",
                                           variant="soft", radius="full")),
                          width="100%", align="center"),
                rx.text(_t(title_key), size="3", weight="bold"),
                rx.text(_t(lead_key), size="2", color=rx.color("gray", 11)),
                spacing="2",
            ),
            size="2", height="100%",
            _hover={"box_shadow": f"0 0 0 1px {rx.color('accent', 7)}"},
        ),
        href=href, underline="none", color="inherit",
    )


def overview_page() -> rx.Component:
    """The landing page: the event count and the console's sections."""
    return console_frame(
        "nav_overview",
        page_header(_t("overview_title"), _t("overview_lead")),
        rx.card(
            rx.flex(
                rx.vstack(
                    rx.text(_t("events_recorded"), size="2", color=rx.color("gray", 11)),
                    rx.text(OverviewState.event_count, size="7", weight="bold",
                            custom_attrs={"data-testid": "event-count"}),
                    spacing="1",
                ),
                rx.spacer(),
                rx.link(rx.button(_t("view_events"), rx.icon("arrow-right", size=14)),
                        href=CONSOLE_EVENTS),
                align="center", gap="16px", wrap="wrap",
            ),
            size="3", margin_bottom="24px",
        ),
        rx.grid(
            _section_card("sliders-horizontal", "nav_configurations", "configurations_lead",
                          CONSOLE_CONFIGURATIONS, False),
            _section_card("flask-conical", "nav_offers", "offers_lead", CONSOLE_OFFERS, True),
            _section_card("chart-line", "nav_dashboard", "dashboard_lead",
                          CONSOLE_DASHBOARD, True),
            _section_card("list", "nav_events", "events_lead", CONSOLE_EVENTS, True),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4",
        ),
    )


def events_page() -> rx.Component:
    """The event log of the signed-in account."""
    return console_frame(
        "nav_events",
        page_header(_t("events_title"), _t("events_lead")),
        filters(),
        events_list(),
        event_dialog(),
    )


def offers_page() -> rx.Component:
    """The account's retention offers and its configurations' offer per reason."""
    return console_frame(
        "nav_offers",
        retention.section_tabs(OffersState, CONSOLE_OFFERS),
        retention.header(OffersState, "offers_title", "offers_lead",
                         rx.cond(OffersState.has_offers, retention.new_offer_button())),
        retention.offers_list(),
        retention.policy_card(),
        retention.offer_dialog(),
    )


def experiments_page() -> rx.Component:
    """The account's experiments, and the dialog that drafts one."""
    return console_frame(
        "nav_offers",
        retention.section_tabs(ExperimentsState, CONSOLE_EXPERIMENTS),
        retention.header(ExperimentsState, "experiments_title", "experiments_lead",
                         rx.cond(ExperimentsState.has_experiments,
                                 retention.new_experiment_button())),
        retention.experiments_list(),
        retention.experiment_dialog(),
    )


def experiment_page() -> rx.Component:
    """One experiment: its lifecycle and its live read-out (``?id=exp_...``)."""
    return console_frame(
        "nav_offers",
        retention.section_tabs(ExperimentState, CONSOLE_EXPERIMENTS),
        retention.experiment_detail(),
    )


def _placeholder(nav_key: str, lead_key: str):
    def page() -> rx.Component:
        return console_frame(nav_key, coming_soon(nav_key, lead_key))

    page.__name__ = f"console_{nav_key.removeprefix('nav_')}_page"
    return page


def register(app: rx.App) -> None:
    """Add the console's pages to ``app``."""
    app.add_page(overview_page, route=CONSOLE, title="Console · Portico",
                 on_load=OverviewState.load)
    app.add_page(events_page, route=CONSOLE_EVENTS, title="Events · Portico console",
                 on_load=EventsState.load)
    app.add_page(offers_page, route=CONSOLE_OFFERS, title="Offers · Portico console",
                 on_load=OffersState.load)
    app.add_page(experiments_page, route=CONSOLE_EXPERIMENTS, title="Experiments · Portico console",
                 on_load=ExperimentsState.load)
    app.add_page(experiment_page, route=CONSOLE_EXPERIMENT, title="Experiment · Portico console",
                 on_load=ExperimentState.load)
    for route, nav_key, lead_key in PLACEHOLDERS:
        app.add_page(_placeholder(nav_key, lead_key), route=route,
                     title="Portico console", on_load=ConsoleState.check)
