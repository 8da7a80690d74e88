"""Stripe-shaped JSON for Portico's own objects: portal configurations and sessions, events.

The ledger's rows render in :mod:`portal_app.billing.objects`; the shared field
lists and list envelope are :mod:`portal_app.stripe_shapes`.
"""

from __future__ import annotations

from typing import Any

import stripe

from portal_app.clock import to_unix
from portal_app.events.models import Event
from portal_app.portal.models import PortalConfiguration, PortalSession
from portal_app.stripe_shapes import API_VERSION, complete


def render_configuration(config: PortalConfiguration) -> dict[str, Any]:
    """Stripe's ``billing_portal.configuration`` object."""
    return complete(
        stripe.billing_portal.Configuration,
        {
            "id": config.id,
            "active": config.active,
            "application": config.application,
            "business_profile": config.business_profile,
            "created": to_unix(config.created),
            "default_return_url": config.default_return_url,
            "features": config.features,
            "is_default": config.is_default,
            "login_page": config.login_page,
            "metadata": dict(config.metadata_),
            "name": config.name,
            "updated": to_unix(config.updated),
        },
    )


def render_session(
    portal_session: PortalSession, *, url: str | None, configuration: dict[str, Any] | str
) -> dict[str, Any]:
    """Stripe's ``billing_portal.session`` object."""
    return complete(
        stripe.billing_portal.Session,
        {
            "id": portal_session.id,
            "configuration": configuration,
            "created": to_unix(portal_session.created),
            "customer": portal_session.customer_id,
            "flow": portal_session.flow,
            "locale": portal_session.locale,
            "on_behalf_of": portal_session.on_behalf_of,
            "return_url": portal_session.return_url,
            "url": url,
        },
    )


def render_event(event: Event) -> dict[str, Any]:
    """Stripe's ``event`` object: the snapshot and what changed, who acted."""
    return complete(
        stripe.Event,
        {
            "id": event.id,
            "account": event.account_id,
            "api_version": API_VERSION,
            # Stripe's ``context`` names who acted; here the portal session a change came from.
            "context": (event.origin or {}).get("portal_session"),
            "created": to_unix(event.created),
            "data": {
                "object": event.data_object,
                "previous_attributes": event.previous_attributes,
            },
            "pending_webhooks": 0,
            "request": {"id": event.request_id, "idempotency_key": event.idempotency_key},
            "type": event.type,
        },
    )
