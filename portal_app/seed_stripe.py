"""The demo merchant on a Stripe account (``PORTICO_BILLING=stripe``).

With ``PORTICO_BILLING=stripe`` and ``STRIPE_SECRET_KEY`` (``STRIPE_WEBHOOK_SECRET``,
``STRIPE_API_BASE`` optional), ``portico seed`` connects the demo account to that Stripe
account instead of building a ledger history: customers, subscriptions and invoices are
the merchant's own in Stripe. Portal configurations and offers stay Portico's: the Stripe
account's portal configurations are imported; when it has none, one is made that offers
its recurring prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from portal_app.accounts.billing_settings import BillingSummary, connect_verified_stripe
from portal_app.billing.providers import billing_provider, stripe_calls
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.portal import configurations
from portal_app.portal.configuration_import import (
    ImportedConfigurations,
    import_stripe_configurations,
)
from portal_app.portal.models import PortalConfiguration
from portal_app.settings import get_settings

# Stripe's limit on the products (and prices per product) a configuration may offer.
MAX_PRODUCTS = 10


@dataclass(frozen=True)
class StripeDemo:
    """What connecting the demo to Stripe did."""

    billing: BillingSummary
    imported: ImportedConfigurations
    created_configuration: str | None = None  # made from the catalog (nothing to import)


def connect_demo(account_id: str, *, engine: Engine) -> StripeDemo:
    """Connect the demo account to the configured Stripe account and set up its portal.

    Raises InvalidRequest (no STRIPE_SECRET_KEY, or a key Stripe refuses),
    BillingUnavailable (Stripe unreachable).
    """
    settings = get_settings()
    if not settings.stripe_secret_key:
        raise InvalidRequest("PORTICO_BILLING=stripe needs STRIPE_SECRET_KEY (the Stripe "
                             "account's secret key, sk_test_…).", param="STRIPE_SECRET_KEY")
    summary = connect_verified_stripe(
        account_id, secret_key=settings.stripe_secret_key,
        webhook_secret=settings.stripe_webhook_secret, api_base=settings.stripe_api_base,
        uow=UnitOfWork(engine))
    imported = import_stripe_configurations(account_id, uow=UnitOfWork(engine))
    created = None
    with UnitOfWork(engine) as uow:
        has_one = uow.session.exec(select(PortalConfiguration.id).where(
            PortalConfiguration.account_id == account_id)).first() is not None
    if not has_one:
        created = catalog_configuration(account_id, uow=UnitOfWork(engine)).id
    return StripeDemo(billing=summary, imported=imported, created_configuration=created)


def catalog_configuration(account_id: str, *, uow: UnitOfWork) -> PortalConfiguration:
    """The account's default configuration: every feature on, switching between its
    active recurring (licensed) prices from Stripe."""
    billing = billing_provider(account_id, uow=uow)
    by_product: dict[str, list[str]] = {}
    for price in billing.list_prices(active=True):
        recurring = price.get("recurring") or {}
        if recurring and (recurring.get("usage_type") or "licensed") == "licensed":
            by_product.setdefault(price["product"], []).append(price["id"])
    features: dict[str, Any] = dict(configurations.GENEROUS_FEATURES)
    if by_product:
        features["subscription_update"] = {
            "enabled": True, "default_allowed_updates": ["price"],
            "proration_behavior": "create_prorations",
            "products": [{"product": product, "prices": prices[:MAX_PRODUCTS]}
                         for product, prices in list(by_product.items())[:MAX_PRODUCTS]]}
    return configurations.create_configuration({"features": features}, account_id=account_id,
                                               uow=uow, is_default=True)


def first_customer(account_id: str, *, engine: Engine) -> tuple[str, str] | None:
    """``(id, "Name <email>")`` of the Stripe account's newest customer, or None."""
    calls = stripe_calls(account_id, uow=UnitOfWork(engine))
    if calls is None:
        return None
    params: Any = {"limit": 1}
    page = calls.read(lambda options: calls.v1.customers.list(params, options=options))
    if not page.data:
        return None
    customer = page.data[0]
    return customer.id, f"{customer.name or customer.id} <{customer.email or 'no email'}>"
