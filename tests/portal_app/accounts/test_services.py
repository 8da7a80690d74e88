"""Accounts: API keys stored as digests, argon2 console passwords, console sessions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from portal_app.accounts import services as accounts
from portal_app.accounts.models import ApiKey, ConsoleSession, ConsoleUser
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import AuthenticationFailed, InvalidRequest, RateLimited

MakeUow = Callable[[], UnitOfWork]


def rows(make_uow: MakeUow, model: type, *where: object) -> list:
    with make_uow() as uow:
        return list(uow.session.exec(select(model).where(*where)).all())


def test_api_key_is_stored_only_as_its_digest(account_id: str, api_key: str,
                                              make_uow: MakeUow) -> None:
    assert api_key.startswith("sk_test_") and len(api_key) > 40
    [row] = rows(make_uow, ApiKey, ApiKey.account_id == account_id)
    assert row.digest == accounts.key_digest(api_key)
    stored = " ".join(str(value) for value in row.model_dump().values())
    assert api_key not in stored
    assert row.hint == f"{api_key[:8]}…{api_key[-4:]}"


def test_authenticate_key(account_id: str, api_key: str, make_uow: MakeUow) -> None:
    assert accounts.authenticate_key(api_key, uow=make_uow()) == account_id
    for bad in (api_key + "x", api_key[:-1], "sk_test_nope", ""):
        with pytest.raises(AuthenticationFailed) as raised:
            accounts.authenticate_key(bad, uow=make_uow())
        assert raised.value.http_status == 401
        assert api_key not in raised.value.message
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_key(None, uow=make_uow())


def test_revoked_key_is_refused(account_id: str, api_key: str, make_uow: MakeUow,
                                clock: FrozenClock) -> None:
    with make_uow() as uow:
        row = uow.session.exec(select(ApiKey).where(ApiKey.account_id == account_id)).one()
        row.revoked = clock()
        uow.add(row)
        uow.commit()
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_key(api_key, uow=make_uow())


def test_every_key_is_new(account_id: str, make_uow: MakeUow) -> None:
    keys = {accounts.create_api_key(account_id=account_id, uow=make_uow()) for _ in range(5)}
    assert len(keys) == 5
    assert {accounts.authenticate_key(k, uow=make_uow()) for k in keys} == {account_id}


def test_account_needs_a_name(make_uow: MakeUow) -> None:
    with pytest.raises(InvalidRequest) as raised:
        accounts.create_account(business_name="  ", email="a@b.test", uow=make_uow())
    assert raised.value.param == "business_name"


@pytest.fixture
def user(account_id: str, make_uow: MakeUow) -> ConsoleUser:
    return accounts.create_console_user(account_id=account_id,
                                        email=f" Ops+{account_id}@Acme.test ",
                                        password="correct horse battery", uow=make_uow())


def test_console_password_is_hashed_with_argon2(user: ConsoleUser) -> None:
    assert user.password_hash != "correct horse battery"
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse battery" not in user.password_hash
    assert PasswordHasher().verify(user.password_hash, "correct horse battery")
    assert user.email == user.email.strip().lower()


def test_short_passwords_are_refused(account_id: str, make_uow: MakeUow) -> None:
    with pytest.raises(InvalidRequest) as raised:
        accounts.create_console_user(account_id=account_id, email="x@acme.test",
                                     password="short", uow=make_uow())
    assert raised.value.param == "password"


def test_console_emails_are_unique(account_id: str, user: ConsoleUser, make_uow: MakeUow
                                   ) -> None:
    with pytest.raises(InvalidRequest) as raised:
        accounts.create_console_user(account_id=account_id, email=user.email.upper(),
                                     password="another password", uow=make_uow())
    assert (raised.value.param, raised.value.code) == ("email", "resource_already_exists")


def test_sign_in_and_identity(account_id: str, user: ConsoleUser, make_uow: MakeUow) -> None:
    login = accounts.sign_in(email=user.email.upper(), password="correct horse battery",
                             uow=make_uow())
    assert login.user.id == user.id and login.token and login.csrf_token
    [session] = rows(make_uow, ConsoleSession, ConsoleSession.user_id == user.id)
    assert session.digest == accounts.key_digest(login.token) != login.token
    identity = accounts.console_identity(login.token, uow=make_uow())
    assert (identity.user_id, identity.account_id, identity.business_name) == (
        user.id, account_id, "Acme Cloud")
    assert identity.csrf_token == login.csrf_token


@pytest.mark.parametrize(("email", "password"), [
    (None, "wrong password!"), (None, "correct horse batter"), ("nobody@acme.test",
                                                                "correct horse battery"),
])
def test_sign_in_refuses_wrong_credentials(user: ConsoleUser, make_uow: MakeUow,
                                           email: str | None, password: str) -> None:
    with pytest.raises(AuthenticationFailed) as raised:
        accounts.sign_in(email=email or user.email, password=password, uow=make_uow())
    assert raised.value.message == "Incorrect email or password."
    assert rows(make_uow, ConsoleSession, ConsoleSession.user_id == user.id) == []


def test_console_session_expires(user: ConsoleUser, make_uow: MakeUow,
                                 clock: FrozenClock) -> None:
    login = accounts.sign_in(email=user.email, password="correct horse battery",
                             uow=make_uow())
    clock.set(clock() + accounts.CONSOLE_SESSION_TTL - timedelta(seconds=1))
    assert accounts.console_identity(login.token, uow=make_uow()).user_id == user.id
    clock.set(clock() + timedelta(seconds=1))
    with pytest.raises(AuthenticationFailed):
        accounts.console_identity(login.token, uow=make_uow())


def test_sign_out_ends_the_session(user: ConsoleUser, make_uow: MakeUow) -> None:
    login = accounts.sign_in(email=user.email, password="correct horse battery",
                             uow=make_uow())
    accounts.sign_out(login.token, uow=make_uow())
    with pytest.raises(AuthenticationFailed):
        accounts.console_identity(login.token, uow=make_uow())
    accounts.sign_out(login.token, uow=make_uow())  # twice is harmless
    accounts.sign_out(None, uow=make_uow())
    for token in (None, "", "forged"):
        with pytest.raises(AuthenticationFailed):
            accounts.console_identity(token, uow=make_uow())


class WatchingHasher(PasswordHasher):
    """Checks, while it verifies, that the database is free: no connection held, writers pass."""

    def __init__(self, uow: UnitOfWork) -> None:
        super().__init__()
        self.engine = uow.engine
        self.clock = uow.clock
        self.seen: list[tuple[int, bool]] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        held = self.engine.pool.checkedout()  # type: ignore[attr-defined]
        wrote = threading.Event()

        def write() -> None:
            accounts.create_account(business_name="Meanwhile", email="w@acme.test",
                                    uow=UnitOfWork(self.engine, clock=self.clock))
            wrote.set()

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(5)  # SQLite's writer lock (and our turn lock) would hold it ~10 s
        self.seen.append((held, wrote.is_set()))
        return super().verify(hash, password)


@pytest.mark.parametrize("password", ["correct horse battery", "wrong password!"])
def test_the_password_is_checked_with_no_transaction_open(user: ConsoleUser, make_uow: MakeUow,
                                                          password: str) -> None:
    hasher = WatchingHasher(make_uow())
    try:
        accounts.sign_in(email=user.email, password=password, uow=make_uow(), hasher=hasher)
    except AuthenticationFailed:
        assert password == "wrong password!"

    assert hasher.seen == [(0, True)]


def test_sign_in_is_throttled_per_email(user: ConsoleUser, make_uow: MakeUow,
                                        clock: FrozenClock) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            accounts.sign_in(email=user.email, password="wrong password!", uow=make_uow(),
                             address="192.0.2.1")
    with pytest.raises(RateLimited) as refused:
        accounts.sign_in(email=user.email.upper(), password="correct horse battery",
                         uow=make_uow(), address="192.0.2.2")
    assert refused.value.retry_after == 15 * 60
    assert rows(make_uow, ConsoleSession, ConsoleSession.user_id == user.id) == []

    clock.set(clock() + timedelta(minutes=15))
    accounts.sign_in(email=user.email, password="correct horse battery", uow=make_uow())
