"""The merchant console's churn dashboard: /console/dashboard."""

from __future__ import annotations

import reflex as rx

from portal_app.components.console_dashboard import content
from portal_app.components.console_frame import console_frame
from portal_app.components.console_widgets import ct_var, page_header
from portal_app.routes import CONSOLE_DASHBOARD
from portal_app.state.console_dashboard import DashboardState


def dashboard_page() -> rx.Component:
    """KPI tiles, MRR and churn charts, reasons, cohorts, offers and experiments."""
    return console_frame(
        "nav_dashboard",
        page_header(ct_var("Dashboard"),
                    ct_var("Recurring revenue, churn and what your cancel flow saved, from "
                           "your event history.")),
        content(),
    )


def register(app: rx.App) -> None:
    """Add the dashboard page to ``app``."""
    app.add_page(dashboard_page, route=CONSOLE_DASHBOARD, title="Dashboard · Portico console",
                 on_load=DashboardState.load)
