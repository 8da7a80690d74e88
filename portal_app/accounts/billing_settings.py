"""Which billing an account uses, and switching it: Portico's ledger or the merchant's Stripe.

:func:`connect_verified_stripe` links an account to a Stripe account only once Stripe has
accepted the key (one cheap read through the provider); :func:`billing_summary` is what
the console's Billing panel and ``portico stripe-connect`` show.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal_app.accounts.models import Account
from portal_app.accounts.stripe_link import connect_stripe, disconnect_stripe, key_hint
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import BillingUnavailable, InvalidRequest, ResourceMissing
from portal_app.routes import stripe_webhooks
from portal_app.settings import get_settings

STRIPE_API = "https://api.stripe.com"
# A customer id no Stripe account has: retrieving it costs one read and must answer 404.
PROBE_CUSTOMER = "cus_portico_connection_check"


@dataclass(frozen=True)
class BillingSummary:
    """An account's billing as the console shows it (no secret, only a key's hint)."""

    kind: str  # "local" | "stripe"
    key_hint: str | None = None  # sk_test_…abcd
    api_base: str | None = None  # where its Stripe API is (Stripe's own by default)
    webhook_url: str | None = None  # where Stripe must send this account's events
    has_webhook_secret: bool = False

    @property
    def through_stripe(self) -> bool:
        """Whether billing lives in the merchant's Stripe account."""
        return self.kind == "stripe"


def inbound_webhook_url(account_id: str) -> str:
    """The address a Stripe-backed account's Stripe sends its webhooks to."""
    return get_settings().public_url + stripe_webhooks(account_id)


def billing_summary(account_id: str, *, uow: UnitOfWork) -> BillingSummary:
    """The account's billing provider and, for Stripe, how it is reached.

    Raises ResourceMissing (no such account).
    """
    with uow:
        account = uow.get(Account, account_id, account_id=account_id, label="account")
        if account.billing != "stripe":
            return BillingSummary(kind="local")
        return BillingSummary(kind="stripe", key_hint=account.stripe_key_hint,
                              api_base=account.stripe_api_base or STRIPE_API,
                              webhook_url=inbound_webhook_url(account_id),
                              has_webhook_secret=account.stripe_webhook_secret_sealed is not None)


def connect_verified_stripe(account_id: str, *, secret_key: str,
                            webhook_secret: str | None = None, api_base: str | None = None,
                            uow: UnitOfWork) -> BillingSummary:
    """Make ``account_id`` Stripe-backed, once Stripe accepts ``secret_key``.

    The link is written, then proved in the same transaction by retrieving a customer no
    account has: Stripe's 404 means the key works; anything else leaves the account as
    it was. Raises ResourceMissing (no such account), InvalidRequest (a malformed key,
    secret or address; a key Stripe refuses), BillingUnavailable (Stripe unreachable).
    """
    with uow:
        connect_stripe(account_id, secret_key=secret_key, webhook_secret=webhook_secret,
                       api_base=api_base, uow=uow)
        where = (api_base or STRIPE_API).rstrip("/")
        try:
            billing_provider(account_id, uow=uow).retrieve_customer(PROBE_CUSTOMER)
        except ResourceMissing:
            pass  # the answer a working key gets
        except BillingUnavailable as error:
            if error.code == "stripe_authentication":
                raise InvalidRequest(f"Stripe at {where} refused the key {key_hint(secret_key)}:"
                                     " check that it is a current secret key of the account.",
                                     param="secret_key") from None
            raise BillingUnavailable(f"Could not reach Stripe at {where}: {error.message}"
                                     ) from None
        uow.commit()
    return billing_summary(account_id, uow=uow)


def disconnect(account_id: str, *, uow: UnitOfWork) -> BillingSummary:
    """Back to Portico's ledger; the Stripe credentials are erased. Raises ResourceMissing."""
    disconnect_stripe(account_id, uow=uow)
    return billing_summary(account_id, uow=uow)
