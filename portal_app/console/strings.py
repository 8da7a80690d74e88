"""Every user-visible string of the merchant console, in one place.

The console is merchant-facing and English for now; the sign-in page (plain
HTML) and the Reflex pages (through ``ConsoleState.text``) both read this
mapping, so translating the console later means swapping this one table for
a catalog lookup.
"""

from __future__ import annotations

TEXT: dict[str, str] = {
    # Sign-in page
    "product": "Portico",
    "sign_in_title": "Sign in to the Portico console",
    "sign_in_lead": "Manage your customer portal, offers and events.",
    "email": "Email",
    "password": "Password",
    "sign_in": "Sign in",
    "bad_credentials": "That email and password don't match an account. Check them and try again.",
    "form_expired": "This sign-in form has expired. Please try again.",
    "cross_origin": "This request did not come from the Portico console.",
    "signed_out": "You have been signed out.",
    "session_ended": "Your session has ended. Please sign in again.",
    # Frame
    "console": "Console",
    "nav_overview": "Overview",
    "nav_configurations": "Configurations",
    "nav_offers": "Offers & experiments",
    "nav_dashboard": "Dashboard",
    "nav_events": "Events",
    "sign_out": "Sign out",
    "signed_in_as": "Signed in as",
    "menu": "Menu",
    "coming_soon": "Coming soon",
    "soon": "Soon",
    "coming_soon_lead": "This part of the console arrives in a later release.",
    # Overview
    "overview_title": "Overview",
    "overview_lead": "Everything your customers do in the portal, and every change to "
                     "their billing, is recorded as an event.",
    "events_recorded": "Events recorded",
    "view_events": "View events",
    "configurations_lead": "Brand and configure the customer portal without code.",
    "offers_lead": "Retention offers and A/B experiments in the cancel flow.",
    "dashboard_lead": "MRR, churn and the revenue your offers saved.",
    # Events
    "events_title": "Events",
    "events_lead": "Every change to your account's billing objects, newest first.",
    "filter_type": "Type",
    "all_types": "All types",
    "filter_customer": "Customer",
    "customer_placeholder": "cus_…",
    "apply": "Filter",
    "clear": "Clear",
    "col_type": "Type",
    "col_created": "Created (UTC)",
    "col_object": "Object",
    "col_customer": "Customer",
    "no_events": "No events yet",
    "no_events_lead": "Events appear here as customers, subscriptions and invoices change.",
    "no_matches": "No events match these filters",
    "no_matches_lead": "Try another type or customer, or clear the filters.",
    "loading": "Loading events…",
    "load_error": "The events could not be loaded. Please try again.",
    "retry": "Try again",
    "newer": "Newer",
    "older": "Older",
    "page": "Page",
    "event_json": "Event",
    "close": "Close",
    "copy": "Copy JSON",
    "copied": "Copied",
    "event_missing": "This event no longer exists.",
}
