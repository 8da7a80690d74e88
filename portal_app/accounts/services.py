"""Merchant accounts, API keys (stored hashed) and console sign-in (argon2)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import col, select

from portal_app.accounts import throttle
from portal_app.accounts.models import Account, ApiKey, ConsoleSession, ConsoleUser
from portal_app.db import UnitOfWork
from portal_app.errors import AuthenticationFailed, InvalidRequest, ResourceMissing

CONSOLE_SESSION_TTL = timedelta(hours=12)
PASSWORD_HASHER = PasswordHasher()
# Verified against when the email is unknown, so both paths cost one argon2 check.
_DUMMY_HASH = PASSWORD_HASHER.hash(secrets.token_urlsafe(16))


def key_digest(key: str) -> str:
    """SHA-256 of an API key (keys are 256-bit random, so no salt or stretching is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_account(*, business_name: str, email: str, uow: UnitOfWork,
                   default_currency: str = "usd") -> Account:
    """Create a merchant account. Raises InvalidRequest."""
    if not business_name.strip():
        raise InvalidRequest("Missing required param: business_name.", param="business_name")
    with uow:
        account = Account(business_name=business_name.strip(), email=email,
                          default_currency=default_currency, created=uow.clock())
        uow.add(account)
        uow.flush()
        uow.commit()
        return account


def create_api_key(*, account_id: str, uow: UnitOfWork, key: str | None = None) -> str:
    """Issue a secret key; the raw key is returned once and never stored."""
    key = key or "sk_test_" + secrets.token_urlsafe(32)
    with uow:
        uow.add(ApiKey(account_id=account_id, digest=key_digest(key),
                       hint=f"{key[:8]}…{key[-4:]}", created=uow.clock()))
        uow.commit()
    return key


def rotate_api_key(*, account_id: str, uow: UnitOfWork, key: str | None = None) -> str:
    """Issue a secret key and revoke every other key of the account.

    ``key`` is the key to issue (default: a new random one); a key the account had
    before, revoked or not, becomes its one live key again. The raw key is returned
    once and never stored. Raises InvalidRequest when ``key`` belongs to another account.
    """
    key = key or "sk_test_" + secrets.token_urlsafe(32)
    digest = key_digest(key)
    with uow:
        now = uow.clock()
        same = uow.session.exec(select(ApiKey).where(ApiKey.digest == digest)).first()
        if same is not None and same.account_id != account_id:
            raise InvalidRequest("This secret key belongs to another account.")
        for row in uow.session.exec(select(ApiKey).where(
                ApiKey.account_id == account_id, col(ApiKey.revoked).is_(None))).all():
            if row is not same:
                row.revoked = now
                uow.add(row)
        if same is None:
            uow.add(ApiKey(account_id=account_id, digest=digest,
                           hint=f"{key[:8]}…{key[-4:]}", created=now))
        else:
            same.revoked = None
            uow.add(same)
        uow.commit()
    return key


def live_key_hints(account_id: str, *, uow: UnitOfWork) -> list[str]:
    """The hints (``sk_test_…abcd``) of the account's unrevoked keys, oldest first."""
    with uow:
        return list(uow.session.exec(
            select(ApiKey.hint).where(ApiKey.account_id == account_id,
                                      col(ApiKey.revoked).is_(None))
            .order_by(col(ApiKey.created))).all())


def authenticate_key(key: str | None, *, uow: UnitOfWork) -> str:
    """The account id a secret key belongs to. Raises AuthenticationFailed."""
    if not key:
        raise AuthenticationFailed(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
    wanted = key_digest(key)
    with uow:
        row = uow.session.exec(select(ApiKey).where(ApiKey.digest == wanted)).first()
        # Read inside the block: leaving it rolls back, which expires the row.
        # The lookup is by digest; the comparison is constant-time all the same.
        if row is None or row.revoked is not None or not hmac.compare_digest(row.digest, wanted):
            raise AuthenticationFailed(f"Invalid API Key provided: {_redact(key)}")
        return row.account_id


def _redact(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else "****"


def create_console_user(*, account_id: str, email: str, password: str, uow: UnitOfWork
                        ) -> ConsoleUser:
    """Add a console user with an argon2id password hash. Raises InvalidRequest."""
    password_hash = _password_hash(password)  # hashed before the transaction opens
    email = email.strip().lower()
    with uow:
        if uow.session.exec(select(ConsoleUser).where(ConsoleUser.email == email)).first():
            raise InvalidRequest("A console user with this email already exists.",
                                 code="resource_already_exists", param="email")
        user = ConsoleUser(account_id=account_id, email=email,
                           password_hash=password_hash, created=uow.clock())
        uow.add(user)
        uow.flush()
        uow.commit()
        return user


@dataclass(frozen=True)
class ConsoleLogin:
    """A signed-in browser: the cookie token (raw, only here) and its CSRF token."""

    token: str
    csrf_token: str
    user: ConsoleUser


def set_console_password(*, email: str, password: str, uow: UnitOfWork) -> ConsoleUser:
    """Give a console user a new password. Raises InvalidRequest, ResourceMissing."""
    password_hash = _password_hash(password)
    with uow:
        user = uow.session.exec(
            select(ConsoleUser).where(ConsoleUser.email == email.strip().lower())).first()
        if user is None:
            raise ResourceMissing(f"No such console user: '{email}'", param="email")
        user.password_hash = password_hash
        uow.add(user)
        uow.commit()
        return user


def _password_hash(password: str) -> str:
    if len(password) < 8:
        raise InvalidRequest("Passwords need at least 8 characters.", param="password")
    return PASSWORD_HASHER.hash(password)


def sign_in(*, email: str, password: str, uow: UnitOfWork, address: str | None = None,
            hasher: PasswordHasher = PASSWORD_HASHER) -> ConsoleLogin:
    """Check a console password and open a console session.

    ``address`` is the client's IP address. Failures are throttled per email and per
    address (:mod:`portal_app.accounts.throttle`). The argon2 check, slow on purpose,
    runs with no transaction open: the hash is read in one short unit of work and the
    outcome written in another, so a sign-in never holds the database (on SQLite, the
    one writer's lock) while it hashes.

    Raises RateLimited (too many recent failures), AuthenticationFailed.
    """
    email = email.strip().lower()
    attempt = throttle.begin_attempt(
        [(throttle.EMAIL_LIMIT, email), (throttle.ADDRESS_LIMIT, address)], uow=uow)
    with uow:
        found = uow.session.exec(
            select(ConsoleUser.id, ConsoleUser.password_hash).where(ConsoleUser.email == email)
        ).first()
    try:
        hasher.verify(found[1] if found else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        found = None
    if found is None:
        raise AuthenticationFailed("Incorrect email or password.")  # the attempt stays counted
    with uow:
        user = uow.session.get(ConsoleUser, found[0])
        if user is None:  # deleted while the password was being checked
            raise AuthenticationFailed("Incorrect email or password.")
        throttle.record_success(attempt, uow=uow)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = uow.clock()
        uow.add(ConsoleSession(user_id=user.id, digest=key_digest(token), csrf_token=csrf,
                               created=now, expires_at=now + CONSOLE_SESSION_TTL))
        uow.commit()
        return ConsoleLogin(token=token, csrf_token=csrf, user=user)


@dataclass(frozen=True)
class ConsoleIdentity:
    """Who a console cookie belongs to."""

    user_id: str
    email: str
    account_id: str
    business_name: str
    csrf_token: str


def console_identity(token: str | None, *, uow: UnitOfWork) -> ConsoleIdentity:
    """The signed-in user behind a console cookie. Raises AuthenticationFailed."""
    if not token:
        raise AuthenticationFailed("Please sign in.")
    with uow:
        row = uow.session.exec(
            select(ConsoleSession, ConsoleUser, Account)
            .join(ConsoleUser, col(ConsoleUser.id) == ConsoleSession.user_id)
            .join(Account, col(Account.id) == ConsoleUser.account_id)
            .where(ConsoleSession.digest == key_digest(token))
        ).first()
        if row is None or row[0].expires_at <= uow.clock():
            raise AuthenticationFailed("Your console session has ended. Please sign in again.")
        session, user, account = row
        return ConsoleIdentity(user_id=user.id, email=user.email, account_id=account.id,
                               business_name=account.business_name,
                               csrf_token=session.csrf_token)


def sign_out(token: str | None, *, uow: UnitOfWork) -> None:
    """End a console session (no error if there is none)."""
    if not token:
        return
    with uow:
        row = uow.session.exec(
            select(ConsoleSession).where(ConsoleSession.digest == key_digest(token))
        ).first()
        if row is not None:
            uow.session.delete(row)
        uow.commit()
