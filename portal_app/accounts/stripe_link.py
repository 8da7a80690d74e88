"""An account's link to the merchant's own Stripe account (Stripe-backed billing).

A Stripe-backed account keeps its billing in Stripe: Portico reaches it with the
merchant's secret key and verifies Stripe's webhooks with the endpoint's signing
secret. Both are sealed at rest (:mod:`portal_app.sealing`), bound to the account, so
the database never holds them in plaintext and a sealed key copied to another account
does not open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from portal_app.accounts.models import Account
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.sealing import seal, unseal

BILLING_KINDS = ("local", "stripe")
# Secret and restricted keys, test or live mode (Stripe's own prefixes).
# Stripe keys are alphanumeric; a Stripe-compatible server's (Portico's) may use url-safe "-".
_KEY_PATTERN = re.compile(r"(sk|rk)_(test|live)_[0-9A-Za-z_\-]{8,}")
_WEBHOOK_SECRET_PATTERN = re.compile(r"whsec_[0-9A-Za-z_\-]{8,}")


@dataclass(frozen=True)
class StripeCredentials:
    """What Portico needs to act on a merchant's Stripe account."""

    secret_key: str
    webhook_secret: str | None
    api_base: str | None  # None: Stripe itself (https://api.stripe.com)

    @property
    def livemode(self) -> bool:
        """Live keys move real money (and may reach only public addresses)."""
        return "_live_" in self.secret_key[:8]


def key_hint(secret_key: str) -> str:
    """Enough of a key to recognise it, useless to an attacker (``sk_test_…abcd``)."""
    prefix = secret_key[: secret_key.index("_", 3) + 1] if secret_key.count("_") >= 2 else ""
    return f"{prefix}…{secret_key[-4:]}"


def connect_stripe(account_id: str, *, secret_key: str, webhook_secret: str | None = None,
                   api_base: str | None = None, uow: UnitOfWork) -> Account:
    """Make ``account_id`` Stripe-backed with these credentials (replacing any before).

    Raises ResourceMissing (no such account), InvalidRequest (a malformed key, signing
    secret or API address, named by ``param``).
    """
    if not _KEY_PATTERN.fullmatch(secret_key or ""):
        raise InvalidRequest("That is not a Stripe secret key (sk_test_…, sk_live_…, rk_…).",
                             param="secret_key")
    if webhook_secret is not None and not _WEBHOOK_SECRET_PATTERN.fullmatch(webhook_secret):
        raise InvalidRequest("That is not a webhook signing secret (whsec_…).",
                             param="webhook_secret")
    if api_base is not None:
        parts = urlsplit(api_base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidRequest("The API address must be an absolute http(s) URL.",
                                 param="api_base")
    with uow:
        account = uow.get(Account, account_id, account_id=account_id, label="account")
        account.billing = "stripe"
        account.stripe_secret_key_sealed = seal(secret_key, context=_context(account_id, "key"))
        account.stripe_key_hint = key_hint(secret_key)
        account.stripe_webhook_secret_sealed = (
            None if webhook_secret is None
            else seal(webhook_secret, context=_context(account_id, "webhook_secret")))
        account.stripe_api_base = api_base.rstrip("/") if api_base else None
        uow.add(account)
        uow.commit()
        return account


def disconnect_stripe(account_id: str, *, uow: UnitOfWork) -> Account:
    """Make ``account_id`` bill on Portico's ledger again; its Stripe credentials are erased.

    Raises ResourceMissing (no such account).
    """
    with uow:
        account = uow.get(Account, account_id, account_id=account_id, label="account")
        account.billing = "local"
        account.stripe_secret_key_sealed = account.stripe_webhook_secret_sealed = None
        account.stripe_key_hint = account.stripe_api_base = None
        uow.add(account)
        uow.commit()
        return account


def bills_through_stripe(account_id: str, *, uow: UnitOfWork) -> bool:
    """Whether the account's billing lives in Stripe (nothing unsealed: cheap enough for
    every request). Raises ResourceMissing (no such account)."""
    with uow:
        return uow.get(Account, account_id, account_id=account_id,
                       label="account").billing == "stripe"


def stripe_credentials(account_id: str, *, uow: UnitOfWork) -> StripeCredentials | None:
    """The Stripe credentials of a Stripe-backed account; None when it bills locally.

    Raises ResourceMissing (no such account), SealedSecretError (sealed under another
    server key: the credentials must be entered again).
    """
    with uow:
        account = uow.get(Account, account_id, account_id=account_id, label="account")
        if account.billing != "stripe" or account.stripe_secret_key_sealed is None:
            return None
        webhook_secret = (
            None if account.stripe_webhook_secret_sealed is None
            else unseal(account.stripe_webhook_secret_sealed,
                        context=_context(account_id, "webhook_secret")))
        return StripeCredentials(
            secret_key=unseal(account.stripe_secret_key_sealed,
                              context=_context(account_id, "key")),
            webhook_secret=webhook_secret, api_base=account.stripe_api_base)


def _context(account_id: str, what: str) -> str:
    return f"{account_id}:stripe_{what}"
