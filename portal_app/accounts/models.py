"""Merchant accounts, their API keys and console users."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Index, LargeBinary
from sqlmodel import Field, SQLModel

from portal_app.dbtypes import time_field
from portal_app.ids import new_id


class Account(SQLModel, table=True):
    """A merchant: the owner of every billing and portal object."""

    id: str = Field(primary_key=True, default_factory=new_id("acct"))
    business_name: str
    email: str
    default_currency: str = Field(default="usd", min_length=3, max_length=3)
    # Keys the card fingerprints of this account (see billing.processor.fingerprint);
    # never leaves the database.
    fingerprint_key: str = Field(default_factory=lambda: secrets.token_hex(32))
    # Where the account's billing lives: "local" (Portico's ledger) or "stripe" (the
    # merchant's own Stripe account, reached with the credentials below, sealed at rest
    # by portal_app.sealing; see portal_app.accounts.stripe_link).
    billing: str = Field(default="local", max_length=16)
    stripe_secret_key_sealed: bytes | None = Field(default=None, sa_type=LargeBinary)
    stripe_key_hint: str | None = None  # "sk_test_…abcd", for the console
    stripe_webhook_secret_sealed: bytes | None = Field(default=None, sa_type=LargeBinary)
    stripe_api_base: str | None = None  # None: https://api.stripe.com
    created: datetime = time_field()


class ApiKey(SQLModel, table=True):
    """A secret key; only its SHA-256 digest is stored (keys are 256-bit random)."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, default_factory=new_id("key"))
    account_id: str = Field(foreign_key="account.id", index=True)
    digest: str = Field(unique=True, index=True)
    hint: str  # "sk_test_…abcd": enough to recognise a key, useless to an attacker
    livemode: bool = False
    created: datetime = time_field()
    revoked: datetime | None = time_field(nullable=True)


class ConsoleUser(SQLModel, table=True):
    """A person who signs in to the merchant console."""

    __tablename__ = "console_user"

    id: str = Field(primary_key=True, default_factory=new_id("usr"))
    account_id: str = Field(foreign_key="account.id", index=True)
    email: str = Field(unique=True, index=True)
    password_hash: str  # argon2id
    created: datetime = time_field()


class ConsoleSession(SQLModel, table=True):
    """A signed-in console browser; the cookie holds the token, the table its digest."""

    __tablename__ = "console_session"

    id: str = Field(primary_key=True, default_factory=new_id("csess"))
    user_id: str = Field(foreign_key="console_user.id", index=True)
    digest: str = Field(unique=True, index=True)
    csrf_token: str
    created: datetime = time_field()
    expires_at: datetime = time_field()


class LoginFailure(SQLModel, table=True):
    """One failed (or still running) console sign-in, counted against a throttle key.

    ``scope`` is ``email`` or ``address`` (the client's IP address); ``key_digest``
    is the SHA-256 of the scope and the value, so the table lists no addresses.
    Rows older than the throttle window are pruned as new attempts come in.
    """

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key", "scope", "key_digest", "created"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=16)
    key_digest: str = Field(max_length=64)
    created: datetime = time_field(index=True)
