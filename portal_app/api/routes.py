"""The Stripe-compatible HTTP API: every resource's endpoints, in one route list.

Each resource module declares its endpoints (a route, its parameters and its
handler, in one place: :class:`portal_app.api.pipeline.Registry`); each handler
parses its form, calls a ledger service and renders the result. Authentication,
unknown parameters, ``Idempotency-Key``, ``expand[]``, errors and headers are the
pipeline's (:mod:`portal_app.api.pipeline`); lists page through
:mod:`portal_app.api.pagination`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from portal_app.api import (
    billing_portal,
    catalog,
    coupons,
    customers,
    events,
    invoices,
    mandates,
    meters,
    payment_intents,
    payment_method_configurations,
    payment_methods,
    setup_intents,
    subscription_schedules,
    subscriptions,
    tax_ids,
    test_clocks,
    webhook_endpoints,
)
from portal_app.api.pipeline import Registry
from portal_app.clock import Clock, utc_now

# The ledger's endpoints: an account whose billing is in Stripe is refused them (Stripe's
# 400, naming what to call Stripe for) rather than served from a ledger it does not use.
LEDGER = Registry.joined(
    customers.endpoint,
    catalog.endpoint,
    meters.endpoint,
    payment_methods.endpoint,
    setup_intents.endpoint,
    mandates.endpoint,
    payment_method_configurations.endpoint,
    coupons.endpoint,
    subscriptions.endpoint,
    invoices.endpoint,
    payment_intents.endpoint,
    subscription_schedules.endpoint,
    test_clocks.endpoint,
    tax_ids.endpoint,
).on_the_ledger()

endpoint = Registry.joined(
    LEDGER,
    billing_portal.endpoint,
    webhook_endpoints.endpoint,
    events.endpoint,
)

ROUTES = endpoint.routes()


def build_api(*, clock: Clock = utc_now, engine: Any = None) -> Starlette:
    """A Starlette app serving only the API (tests, benchmarks); ``clock`` is injectable."""
    return Starlette(routes=endpoint.routes(clock=clock, engine=engine))
