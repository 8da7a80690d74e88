"""A portal session's ``flow_data``: the step its link opens, and what follows the flow.

A merchant may create a session that goes straight to one subscription's update,
update confirmation, cancel or pause step (Stripe's ``flow_data.type``), and say what
happens once that step is done (``flow_data.after_completion``: back to the portal's
homepage, a redirect, or a hosted confirmation with a custom message).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portal_app.portal.models import PortalSession
from portal_app.routes import PORTAL, PORTAL_DETAILS, PORTAL_PAYMENT_METHODS

# The portal step each flow type opens, under /portal/subscriptions/<id>/.
STEPS: dict[str, str] = {"subscription_update": "update",
                         "subscription_update_confirm": "confirm",
                         "subscription_cancel": "cancel", "subscription_pause": "pause"}


def flow_path(session: PortalSession) -> str:
    """Where a session's link opens: the flow's step, or the overview."""
    flow = session.flow or {}
    kind = flow.get("type")
    if kind == "payment_method_update":  # names no subscription: the page itself
        return PORTAL_PAYMENT_METHODS
    if kind == "customer_update":  # the billing details page
        return PORTAL_DETAILS
    detail = flow.get(kind) if kind else None
    sub = (detail or {}).get("subscription") if isinstance(detail, dict) else None
    if not sub:
        return PORTAL
    step = STEPS.get(str(kind))
    return f"{PORTAL}/subscriptions/{sub}/{step}" if step else PORTAL


@dataclass(frozen=True)
class Completion:
    """What follows a completed action: back to the overview, a redirect, or a message."""

    type: str  # portal_homepage | redirect | hosted_confirmation
    url: str = ""
    message: str = ""


def completion(session: PortalSession, flows: Sequence[str], subscription_id: str
               ) -> Completion:
    """The session flow's ``after_completion`` if this action completes that flow."""
    flow = session.flow or {}
    kind = str(flow.get("type") or "")
    detail = flow.get(kind) if kind in flows else None
    # payment_method_update and customer_update name no subscription: any method added
    # (any details saved) completes them.
    customer_wide = kind in flows and kind in ("payment_method_update", "customer_update")
    if not customer_wide and (not isinstance(detail, dict)
                              or detail.get("subscription") != subscription_id):
        return Completion("portal_homepage")
    after = flow.get("after_completion") or {}
    if after.get("type") == "redirect":
        return Completion("redirect", url=(after.get("redirect") or {}).get("return_url") or "")
    if after.get("type") == "hosted_confirmation":
        return Completion("hosted_confirmation",
                          message=(after.get("hosted_confirmation") or {}).get("custom_message")
                          or "")
    return Completion("portal_homepage")
