"""Open the billing provider of a merchant account.

Code outside ``billing/`` gets billing from here (and the contract's types from
``portal_app.billing.provider``), never from the ledger's modules or from Stripe.
"""

from __future__ import annotations

from portal_app.accounts.stripe_link import stripe_credentials
from portal_app.billing.provider import BillingProvider
from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.billing.providers.stripe import (
    StripeBillingProvider,
    StripeCalls,
    action_scope,
    open_client,
)
from portal_app.billing.providers.stripe.portal_configurations import list_portal_configurations
from portal_app.db import UnitOfWork
from portal_app.errors import ResourceMissing

# action_scope: the portal names each customer action with it, so that a retried click
# makes the same Stripe writes with the same idempotency keys (the ledger ignores it).
# stripe_calls and list_portal_configurations: what importing a Stripe account's own
# portal configurations needs (not part of the contract).
__all__ = ["action_scope", "billing_provider", "list_portal_configurations", "stripe_calls"]


def billing_provider(account_id: str, *, uow: UnitOfWork) -> BillingProvider:
    """The provider of ``account_id``: its own ledger, or its Stripe account.

    On the ledger, inside ``with uow:`` every call is part of the caller's transaction
    (the unit of work is re-entrant), so a portal step and the billing change it makes
    commit together or not at all. On Stripe, each call is Stripe's own transaction,
    made safe to retry by its idempotency key (see ``providers/stripe/client.py``).
    """
    try:
        calls = stripe_calls(account_id, uow=uow)
    except ResourceMissing:
        # An account id from a forged or stale link: no Stripe link, an empty ledger, so
        # everything asked of it is missing, as it always was.
        calls = None
    if calls is None:
        return LocalBillingProvider(account_id=account_id, clock=uow.clock,
                                    uow_factory=lambda: uow)
    return StripeBillingProvider(account_id=account_id, calls=calls, clock=uow.clock,
                                 uow_factory=lambda: uow)


def stripe_calls(account_id: str, *, uow: UnitOfWork) -> StripeCalls | None:
    """The Stripe calls of a Stripe-backed account; None when it bills on the ledger.

    Raises ResourceMissing (no such account), SealedSecretError (credentials sealed under
    another server key).
    """
    credentials = stripe_credentials(account_id, uow=uow)
    if credentials is None:
        return None
    return StripeCalls(open_client(credentials), account_id=account_id)
