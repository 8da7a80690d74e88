"""Pytest plugin: a second Portico, in local-ledger mode, acting as "Stripe".

Its API is Stripe-compatible, so a Stripe-backed account of the Portico under test
(``stripe_backed_account_id``) reaches it through the ``stripe`` SDK exactly as it would
reach Stripe: only the base address differs. It runs on its own database (a SQLite file
of its own, migrated with Alembic), served over real HTTP on a free loopback port
(Granian, in a thread), and its clock follows each test's frozen ``clock``.

Fixtures:

* ``stripe_side`` (session): the second Portico — ``.url``, ``.engine``, ``.clock``
  (its :class:`FollowingClock`); ``.new_account()`` makes a merchant account there and
  returns ``(account_id, secret_key)``: a fresh "Stripe account" per test.
* ``stripe_account`` (function): ``(account_id, secret_key)`` of this test's Stripe
  account on the second Portico; the second Portico's clock is this test's ``clock``.
* ``stripe_backed_account_id`` (function): a Portico account (on the test database)
  whose billing is that Stripe account (``accounts.stripe_link.connect_stripe``).
* ``stripe_side_client`` (function): the SDK pointed at the Stripe account, as the
  merchant's own backend would hold it (to set up or inspect "Stripe" directly).

Enable it with ``pytest_plugins = ["tests.stripe_world"]`` in tests/conftest.py.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator

import pytest
import stripe
from sqlalchemy.engine import Engine

from portal_app.accounts import services as accounts
from portal_app.accounts.stripe_link import connect_stripe
from portal_app.api.routes import build_api
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork, get_engine
from portal_app.migrate import upgrade
from tests.embedded_server import EmbeddedServer, FollowingClock


class StripeSide(EmbeddedServer):
    """The second Portico's API on its own database and a free loopback port."""

    def __init__(self) -> None:
        self.database_url = f"sqlite:///{tempfile.mkdtemp(prefix='portico-stripe-side-')}/db"
        upgrade(self.database_url)
        self.engine: Engine = get_engine(self.database_url)
        self.clock = FollowingClock()
        super().__init__(build_api(clock=self.clock, engine=self.engine),
                         ready_path="/v1/ping")

    def uow(self) -> UnitOfWork:
        """A unit of work on the second Portico's database, on its clock."""
        return UnitOfWork(self.engine, clock=self.clock)

    def new_account(self) -> tuple[str, str]:
        """A merchant account on the second Portico and its secret key."""
        account_id = accounts.create_account(business_name="Stripe-side Shop",
                                             email="billing@stripe-side.test", uow=self.uow()).id
        return account_id, accounts.create_api_key(account_id=account_id, uow=self.uow())


@pytest.fixture(scope="session")
def stripe_side() -> Iterator[StripeSide]:
    server = StripeSide()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stripe_account(stripe_side: StripeSide, clock: FrozenClock) -> Iterator[tuple[str, str]]:
    """This test's Stripe account on the second Portico, whose clock is now ``clock``."""
    stripe_side.clock.current = clock
    yield stripe_side.new_account()
    stripe_side.clock.current = None


@pytest.fixture
def stripe_backed_account_id(stripe_side: StripeSide, stripe_account: tuple[str, str],
                             make_uow: Callable[[], UnitOfWork]) -> str:
    """A Portico account on the test database billing through ``stripe_account``."""
    account_id = accounts.create_account(business_name="Acme on Stripe",
                                         email="billing@acme-stripe.test", uow=make_uow()).id
    connect_stripe(account_id, secret_key=stripe_account[1], webhook_secret=None,
                   api_base=stripe_side.url, uow=make_uow())
    return account_id


@pytest.fixture
def stripe_side_client(stripe_side: StripeSide, stripe_account: tuple[str, str]
                       ) -> stripe.StripeClient:
    """The SDK on the Stripe account, as the merchant's own backend holds it."""
    return stripe.StripeClient(stripe_account[1], base_addresses={"api": stripe_side.url},
                               max_network_retries=0)
