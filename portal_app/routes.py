"""Every path Portico serves, in one place: Reflex pages and plain HTTP routes.

Pages, States, components and HTTP handlers import their paths from here, so a
path is spelled once and a newcomer finds every route in one list.
"""

from __future__ import annotations

# --- the customer portal ------------------------------------------------------------------
PORTAL_LINK = "/p/{token}"  # the session link (plain HTTP): binds the browser, redirects
PORTAL = "/portal"  # the portal page (Reflex)
PORTAL_DONE = "/portal/done"  # the hosted confirmation after a deep-linked flow (Reflex)

# --- the merchant console (Reflex pages) ----------------------------------------------------
CONSOLE = "/console"
CONSOLE_CONFIGURATIONS = "/console/configurations"
CONSOLE_OFFERS = "/console/offers"
CONSOLE_EXPERIMENTS = "/console/experiments"
CONSOLE_EXPERIMENT = "/console/experiments/view"  # ?id=exp_...
CONSOLE_DASHBOARD = "/console/dashboard"
CONSOLE_EVENTS = "/console/events"

# --- the HTTP API (plain HTTP; its endpoints are in portal_app.api's registries) -----------
API_OPENAPI = "/v1/openapi.json"  # the OpenAPI 3.1 document of the API, served without a key

# --- console sign-in (plain HTTP) -----------------------------------------------------------
CONSOLE_LOGIN = "/console/login"
CONSOLE_LOGOUT = "/console/logout"


def portal_link(token: str) -> str:
    """The path of a portal session link."""
    return PORTAL_LINK.format(token=token)
