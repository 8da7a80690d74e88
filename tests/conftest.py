"""Shared fixtures: a migrated test database (SQLite by default, PostgreSQL by
DATABASE_URL), a frozen clock, a fresh merchant account per test, its API key.

Each test gets its own account, so tests never see each other's objects even
though they share one database (which the live server for browser tests also uses).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

# Pick the database before any Portico module reads the settings.
if not os.environ.get("DATABASE_URL"):
    _TMP = tempfile.mkdtemp(prefix="portico-test-")
    os.environ["DATABASE_URL"] = f"sqlite:///{_TMP}/portico.db"
# The live server must not deliver the webhooks other tests enqueue (every test's frozen
# clock is long past): webhook tests run their own workers.
os.environ.setdefault("PORTICO_WEBHOOKS_WORKER", "0")
# Webhook signing secrets are sealed under a key file (portal_app/webhooks/signing.py):
# the tests' own, never one in the checkout.
os.environ.setdefault("PORTICO_SECRET_KEY_FILE",
                      os.path.join(tempfile.mkdtemp(prefix="portico-key-"), "secret-key"))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from portal_app.accounts import services as accounts  # noqa: E402
from portal_app.clock import FrozenClock  # noqa: E402
from portal_app.db import UnitOfWork, get_engine  # noqa: E402
from portal_app.migrate import upgrade  # noqa: E402

pytest_plugins = ["tests.live_server", "tests.localstripe_server", "tests.stripe_world"]

START = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[Engine]:
    """The test database, emptied and migrated with Alembic once per run.

    Under CI=true an unreachable PostgreSQL fails the run: it is never skipped.
    """
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade()
    yield engine


@pytest.fixture
def clock() -> FrozenClock:
    """A clock that moves only when the test moves it."""
    return FrozenClock(START)


@pytest.fixture
def make_uow(database: Engine, clock: FrozenClock) -> Callable[[], UnitOfWork]:
    """A factory of units of work on the test database and the frozen clock."""
    return lambda: UnitOfWork(database, clock=clock)


@pytest.fixture
def account_id(make_uow: Callable[[], UnitOfWork]) -> str:
    """A fresh merchant account for this test alone."""
    return accounts.create_account(business_name="Acme Cloud", email="billing@acme.test",
                                   uow=make_uow()).id


@pytest.fixture
def api_key(account_id: str, make_uow: Callable[[], UnitOfWork]) -> str:
    """A secret key of the test's account."""
    return accounts.create_api_key(account_id=account_id, uow=make_uow())
