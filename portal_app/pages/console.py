"""Merchant console pages: overview, events, and the sections later releases fill.

Sign-in and sign-out are plain HTTP routes (``console/web.py``); every page
here checks the identity on load and leaves for the sign-in page without one.
"""

from typing import Any

import reflex as rx

from portal_app.components import console_experiments, console_offers, console_webhooks
from portal_app.components.console_billing import billing_panel
from portal_app.components.console_events import event_dialog, events_list, filters
from portal_app.components.console_frame import coming_soon, console_frame, nav_entry
from portal_app.components.console_widgets import ct_var, header, page_header, retention_tabs
from portal_app.routes import (
    CONSOLE,
    CONSOLE_CONFIGURATIONS,
    CONSOLE_DASHBOARD,
    CONSOLE_EVENTS,
    CONSOLE_EXPERIMENT,
    CONSOLE_EXPERIMENTS,
    CONSOLE_OFFERS,
    CONSOLE_WEBHOOK,
    CONSOLE_WEBHOOKS,
)
from portal_app.state.console import ConsoleState, EventsState, OverviewState
from portal_app.state.console_billing import BillingState
from portal_app.state.console_experiments import ExperimentsState, ExperimentState
from portal_app.state.console_offers import OffersState
from portal_app.state.console_webhooks import (
    WebhookEndpointState,
    WebhookNoticeState,
    WebhooksState,
)

EVENTS_LEAD = ct_var("Every change to your account's billing objects, newest first.")
PLACEHOLDERS = (  # route, nav key, what the section will do
    (CONSOLE_CONFIGURATIONS, "nav_configurations",
     ct_var("Brand and configure the customer portal without code.")),
)


def _section_card(icon: str, title: Any, lead: Any, href: str,
                  ready: bool) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon(icon, size=18, color=rx.color("accent", 10)), rx.spacer(),
                          rx.cond(ready, rx.fragment(),
                                  rx.badge(ct_var("Coming soon"), color_scheme="gray",
                                           variant="soft", radius="full")),
                          width="100%", align="center"),
                rx.text(title, size="3", weight="bold"),
                rx.text(lead, size="2", color=rx.color("gray", 11)),
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
        page_header(ct_var("Overview"),
                    ct_var("Everything your customers do in the portal, and every change to "
                           "their billing, is recorded as an event.")),
        console_webhooks.console_notice(),
        rx.card(
            rx.flex(
                rx.vstack(
                    rx.text(ct_var("Events recorded"), size="2", color=rx.color("gray", 11)),
                    rx.text(OverviewState.event_count, size="7", weight="bold",
                            custom_attrs={"data-testid": "event-count"}),
                    spacing="1",
                ),
                rx.spacer(),
                rx.link(rx.button(ct_var("View events"), rx.icon("arrow-right", size=14)),
                        href=CONSOLE_EVENTS),
                align="center", gap="16px", wrap="wrap",
            ),
            size="3", margin_bottom="24px",
        ),
        billing_panel(),
        rx.grid(
            _section_card("sliders-horizontal", nav_entry("nav_configurations").label,
                          ct_var("Brand and configure the customer portal without code."),
                          CONSOLE_CONFIGURATIONS, False),
            _section_card("flask-conical", nav_entry("nav_offers").label,
                          ct_var("Retention offers and A/B experiments in the cancel flow."),
                          CONSOLE_OFFERS, True),
            _section_card("chart-line", nav_entry("nav_dashboard").label,
                          ct_var("MRR, churn and the revenue your offers saved."),
                          CONSOLE_DASHBOARD, True),
            _section_card("list", nav_entry("nav_events").label, EVENTS_LEAD,
                          CONSOLE_EVENTS, True),
            _section_card("webhook", nav_entry("nav_webhooks").label, console_webhooks.LEAD,
                          CONSOLE_WEBHOOKS, True),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4",
        ),
    )


def events_page() -> rx.Component:
    """The event log of the signed-in account."""
    return console_frame(
        "nav_events",
        page_header(ct_var("Events"), EVENTS_LEAD),
        filters(),
        events_list(),
        event_dialog(),
    )


def offers_page() -> rx.Component:
    """The account's retention offers and its configurations' offer per reason."""
    return console_frame(
        "nav_offers",
        retention_tabs(CONSOLE_OFFERS),
        header(console_offers.TITLE, console_offers.LEAD,
               rx.cond(OffersState.has_offers, console_offers.new_offer_button())),
        console_offers.offers_list(),
        console_offers.policy_card(),
        console_offers.offer_dialog(),
    )


def experiments_page() -> rx.Component:
    """The account's experiments, and the dialog that drafts one."""
    return console_frame(
        "nav_offers",
        retention_tabs(CONSOLE_EXPERIMENTS),
        header(console_experiments.TITLE, console_experiments.LEAD,
               rx.cond(ExperimentsState.has_experiments,
                       console_experiments.new_experiment_button())),
        console_experiments.experiments_list(),
        console_experiments.experiment_dialog(),
    )


def experiment_page() -> rx.Component:
    """One experiment: its lifecycle and its live read-out (``?id=exp_...``)."""
    return console_frame(
        "nav_offers",
        retention_tabs(CONSOLE_EXPERIMENTS),
        console_experiments.experiment_detail(),
    )


def webhooks_page() -> rx.Component:
    """The account's webhook endpoints, and the dialog that adds one."""
    return console_frame(
        "nav_webhooks",
        header(console_webhooks.TITLE, console_webhooks.LEAD,
               rx.cond(WebhooksState.has_endpoints, console_webhooks.add_button())),
        console_webhooks.disabled_notice(WebhooksState.disabled_urls),
        console_webhooks.endpoints_list(),
        console_webhooks.add_dialog(),
        console_webhooks.secret_dialog(WebhooksState),
    )


def webhook_page() -> rx.Component:
    """One webhook endpoint: its settings, secret, deliveries log and resends."""
    return console_frame("nav_webhooks", console_webhooks.endpoint_detail())


def _placeholder(nav_key: str, lead: Any):
    def page() -> rx.Component:
        return console_frame(nav_key, coming_soon(nav_entry(nav_key).label, lead))

    page.__name__ = f"console_{nav_key.removeprefix('nav_')}_page"
    return page


def register(app: rx.App) -> None:
    """Add the console's pages to ``app``."""
    app.add_page(overview_page, route=CONSOLE, title="Console · Portico",
                 on_load=[OverviewState.load, WebhookNoticeState.load, BillingState.load])
    app.add_page(webhooks_page, route=CONSOLE_WEBHOOKS, title="Webhooks · Portico console",
                 on_load=WebhooksState.load)
    app.add_page(webhook_page, route=CONSOLE_WEBHOOK, title="Webhook · Portico console",
                 on_load=WebhookEndpointState.load)
    app.add_page(events_page, route=CONSOLE_EVENTS, title="Events · Portico console",
                 on_load=EventsState.load)
    app.add_page(offers_page, route=CONSOLE_OFFERS, title="Offers · Portico console",
                 on_load=OffersState.load)
    app.add_page(experiments_page, route=CONSOLE_EXPERIMENTS, title="Experiments · Portico console",
                 on_load=ExperimentsState.load)
    app.add_page(experiment_page, route=CONSOLE_EXPERIMENT, title="Experiment · Portico console",
                 on_load=ExperimentState.load)
    for route, nav_key, lead in PLACEHOLDERS:
        app.add_page(_placeholder(nav_key, lead), route=route,
                     title="Portico console", on_load=ConsoleState.check)
