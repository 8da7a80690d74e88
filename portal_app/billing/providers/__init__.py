"""Open the billing provider of a merchant account.

Code outside ``billing/`` gets billing from here (and the contract's types from
``portal_app.billing.provider``), never from the ledger's modules.
"""

from __future__ import annotations

from portal_app.billing.provider import BillingProvider
from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.db import UnitOfWork


def billing_provider(account_id: str, *, uow: UnitOfWork) -> BillingProvider:
    """The provider of ``account_id`` whose calls join ``uow``'s transaction.

    Inside ``with uow:`` every call is part of the caller's transaction (the unit
    of work is re-entrant), so a portal step and the billing change it makes
    commit together or not at all.
    """
    return LocalBillingProvider(account_id=account_id, clock=uow.clock, uow_factory=lambda: uow)
