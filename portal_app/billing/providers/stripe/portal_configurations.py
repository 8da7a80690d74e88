"""A Stripe account's own customer portal configurations (for importing them into Portico).

Not part of the billing contract: the portal never reads Stripe's configurations, Portico
keeps its own (``portal_app.portal.configurations``); this is what
``portal_app.portal.configuration_import`` copies them from.
"""

from __future__ import annotations

from typing import Any

import stripe

from portal_app.billing.provider import StripeObject
from portal_app.billing.providers.stripe.base import plain_list
from portal_app.billing.providers.stripe.client import StripeCalls


def list_portal_configurations(calls: StripeCalls) -> list[StripeObject]:
    """Every ``billing_portal.configuration`` of the account, newest first (Stripe's
    ``billing_portal.configurations.list``, every page). Raises BillingError."""
    params: Any = {"limit": 100}
    return plain_list(calls.read(
        lambda options: list(calls.v1.billing_portal.configurations.list(params, options=options)
                             .auto_paging_iter())), stripe.billing_portal.Configuration)
