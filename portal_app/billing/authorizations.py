"""Authorizations on Portico's test page: redirect payment methods and 3-D Secure.

Stripe's test mode sends a customer who must authorize something (a PayPal setup, a
3-D Secure card) to a test page with two buttons; Portico serves its own
(:mod:`portal_app.web.test_authorization`). A pending authorization names what it is
for by ``kind`` and ``object_id``; each kind registers how the page describes it and
what authorizing (or failing) it does, so other parts of the ledger add their own kind
(an invoice payment needing 3-D Secure) with :func:`register_kind`.

The page's URL carries a one-time token: an HMAC of the authorization's id under the
account's secret key, so it is unguessable and can be shown again (a setup intent's
``next_action`` on every retrieve) while only its SHA-256 digest is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlmodel import select

from portal_app.accounts.models import Account
from portal_app.billing.models import PendingAuthorization
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.routes import authorization_page
from portal_app.settings import get_settings

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


@dataclass(frozen=True)
class Description:
    """What the test page shows: what is being authorized, and for how much (if money)."""

    summary: str  # e.g. "Save PayPal for future payments" (English; the page translates)
    amount: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class AuthorizationKind:
    """How one kind of authorization is described and completed.

    ``complete(auth, succeeded, uow)`` applies the outcome and returns the query
    parameters added to the ``return_url`` (Stripe's: ``setup_intent``,
    ``setup_intent_client_secret``...; ``redirect_status``, the button's outcome, is
    added unless the kind gives its own).
    """

    describe: Callable[[PendingAuthorization, UnitOfWork], Description]
    complete: Callable[[PendingAuthorization, bool, UnitOfWork], dict[str, str]]


KINDS: dict[str, AuthorizationKind] = {}


def register_kind(name: str, kind: AuthorizationKind) -> None:
    """Make ``name`` an authorization the test page can show and complete."""
    KINDS[name] = kind


def _token(key: str, authorization_id: str) -> str:
    mac = hmac.new(key.encode(), f"test_authorization:{authorization_id}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authorization_url(auth: PendingAuthorization, *, uow: UnitOfWork) -> str:
    """The absolute URL of the test page for ``auth``."""
    account = uow.get(Account, auth.account_id, account_id=auth.account_id, label="account")
    token = _token(account.fingerprint_key, auth.id)
    return get_settings().public_url + authorization_page(auth.account_id, token)


def start_authorization(*, kind: str, object_id: str, account_id: str,
                        return_url: str | None, uow: UnitOfWork) -> PendingAuthorization:
    """A new pending authorization of ``kind`` for ``object_id``; its page is
    :func:`authorization_url`."""
    if kind not in KINDS:
        raise ValueError(f"unknown authorization kind {kind!r}")
    with uow:
        account = uow.get(Account, account_id, account_id=account_id, label="account")
        auth = PendingAuthorization(account_id=account_id, kind=kind, object_id=object_id,
                                    return_url=return_url, token_digest="", created=uow.clock())
        auth.token_digest = _digest(_token(account.fingerprint_key, auth.id))
        uow.add(auth)
        uow.flush()
        uow.commit()
        return auth


def find_authorization(token: str, *, account_id: str, uow: UnitOfWork, lock: bool = False
                       ) -> PendingAuthorization:
    """The authorization whose page token is ``token`` (``lock``: its row locked, on
    PostgreSQL, until the transaction ends). Raises ResourceMissing."""
    with uow:
        query = select(PendingAuthorization).where(
            PendingAuthorization.token_digest == _digest(token))
        auth = uow.session.exec(query.with_for_update() if lock else query).first()
        if auth is None or auth.account_id != account_id or auth.kind not in KINDS:
            raise ResourceMissing("No such test authorization.", param="token")
        return auth


def describe(auth: PendingAuthorization, *, uow: UnitOfWork) -> Description:
    """What the page shows for ``auth``."""
    return KINDS[auth.kind].describe(auth, uow)


def render_authorization(auth: PendingAuthorization, *, uow: UnitOfWork) -> dict[str, Any]:
    """What the test page knows of ``auth`` (Portico's own ``test_authorization`` object)."""
    described = describe(auth, uow=uow)
    account = uow.get(Account, auth.account_id, account_id=auth.account_id, label="account")
    return {"object": "test_authorization", "id": auth.id, "kind": auth.kind,
            "status": auth.status, "business_name": account.business_name,
            "summary": described.summary, "amount": described.amount,
            "currency": described.currency, "return_url": auth.return_url}


def complete_authorization(token: str, *, succeed: bool, account_id: str, uow: UnitOfWork
                           ) -> str | None:
    """Authorize (or fail) the pending authorization once; the URL to send the customer to.

    Returns the ``return_url`` with the kind's query parameters and ``redirect_status``
    (None when there is no return URL). Raises ResourceMissing, InvalidRequest
    (``authorization_completed``: the token was used already).
    """
    with uow:
        # Locked: two clicks at once complete it once.
        auth = find_authorization(token, account_id=account_id, uow=uow, lock=True)
        if auth.status != PENDING:
            raise InvalidRequest("This test authorization has already been completed.",
                                 code="authorization_completed", param="token")
        auth.status = SUCCEEDED if succeed else FAILED
        uow.add(auth)
        query = KINDS[auth.kind].complete(auth, succeed, uow)
        uow.flush()
        uow.commit()
        if not auth.return_url:
            return None
        # A kind may say otherwise (what it authorized was canceled meanwhile).
        query.setdefault("redirect_status", "succeeded" if succeed else "failed")
        return with_query(auth.return_url, query)


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to its query string."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
