"""Fixtures of the billing contract suite: a provider of a fresh account, and a second one.

The contract tests (one file per area: customers, payment methods, invoices, catalog,
subscriptions...) talk to a :class:`~portal_app.billing.provider.BillingProvider` alone:
they use only the fixtures ``provider``, ``other_provider`` and ``clock``, and set their
data up only through contract methods (``create_product``, ``create_price``,
``create_customer``, ``create_subscription``, ``advance_clock``...). They never import the
ledger, so any other implementation runs the same suite unchanged.

Every contract test runs once per name in ``PROVIDERS``:

* ``local``: the embedded ledger on the test database and the frozen ``clock``.
* ``stripe``: the Stripe-backed provider of a Portico account connected (with
  ``connect_stripe``) to a fresh "Stripe account" on the second Portico
  (``tests/stripe_world.py``), reached through the ``stripe`` SDK over loopback HTTP;
  ``other_provider`` is connected to a second, unrelated Stripe account there.
* ``localstripe``: the same provider on localstripe (2017-2019 API); what it lacks skips
  a test with the missing call named, from one table (``on_localstripe.py``).

Pages Stripe hosts itself (a ``next_action``'s test authorization page, a mandate's page)
are Portico extensions of the ledger alone: tests reach them through ``hosted_pages``.

Time on ``stripe`` stays honest the way it does on Stripe: :func:`open_provider` creates
one Stripe test clock per provider, frozen at ``clock()``, and every customer the
provider creates lives on it. ``advance_clock`` advances that test clock through the API
(renewals, retries and pause ends happen on "Stripe", for that clock's customers only —
the other provider's clock stays put) and moves the shared FrozenClock, which the test
reads and which the second Portico's request time follows. So both sides agree on "now"
after every advance, and what renews is what Stripe's own test clock would renew, not
whatever a shared wall clock happens to reach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from portal_app.accounts import services as accounts
from portal_app.accounts.stripe_link import connect_stripe, stripe_credentials
from portal_app.billing.provider import BillingProvider, ItemSpec
from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.billing.providers.stripe import StripeBillingProvider, StripeCalls, open_client
from portal_app.billing.providers.stripe.client import RetryPolicy
from portal_app.clock import FrozenClock, to_unix
from portal_app.db import UnitOfWork
from tests.portal_app.billing.contract.on_localstripe import (
    open_localstripe_provider,
    skip_what_localstripe_lacks,
)
from tests.stripe_world import StripeSide

# The implementations the suite runs against; each test runs once per name.
PROVIDERS = ["local", "stripe", "localstripe"]

# A transient failure on loopback is retried at once: the suite is not about waiting.
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)


def open_provider(name: str, *, account_id: str, clock: FrozenClock,
                  make_uow: Callable[[], UnitOfWork], stripe_side: StripeSide | None = None,
                  stripe_accounts: dict[str, str] | None = None,
                  localstripe_url: str | None = None) -> BillingProvider:
    """The provider called ``name`` for ``account_id`` on the test's frozen clock.

    ``stripe`` needs ``stripe_side`` (the second Portico, whose clock must follow
    ``clock``): it connects ``account_id`` to a new Stripe account there (noted in
    ``stripe_accounts``: Portico account → Stripe account) and puts the provider on a test
    clock of its own frozen at ``clock()`` (see the module docstring).
    """
    if name == "local":
        return LocalBillingProvider(account_id=account_id, clock=clock, uow_factory=make_uow)
    if name == "stripe":
        assert stripe_side is not None, "the stripe provider needs the second Portico"
        stripe_account, secret_key = stripe_side.new_account()
        if stripe_accounts is not None:
            stripe_accounts[account_id] = stripe_account
        connect_stripe(account_id, secret_key=secret_key, api_base=stripe_side.url,
                       uow=make_uow())
        credentials = stripe_credentials(account_id, uow=make_uow())
        assert credentials is not None
        calls = StripeCalls(open_client(credentials), account_id=account_id,
                            retry=FAST_RETRY)
        params: Any = {"frozen_time": to_unix(clock()), "name": "contract suite"}
        test_clock = calls.write(
            lambda options: calls.v1.test_helpers.test_clocks.create(params, options=options),
            what="test_helpers.test_clocks.create", params=params)
        return StripeBillingProvider(account_id=account_id, calls=calls, clock=clock,
                                     uow_factory=make_uow, test_clock=test_clock.id)
    if name == "localstripe":  # what it lacks: on_localstripe.py
        assert localstripe_url is not None, "the localstripe provider needs localstripe"
        return open_localstripe_provider(localstripe_url, account_id=account_id, clock=clock,
                                         make_uow=make_uow)
    raise ValueError(f"unknown billing provider {name!r}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    skip_what_localstripe_lacks(items)


@pytest.fixture(params=PROVIDERS)
def provider_name(request: pytest.FixtureRequest) -> str:
    """Which implementation this run of the test checks."""
    return str(request.param)


@pytest.fixture
def stripe_side_now(request: pytest.FixtureRequest, provider_name: str, clock: FrozenClock
                    ) -> Iterator[StripeSide | None]:
    """The second Portico, its clock following ``clock``, when the provider needs it."""
    if provider_name != "stripe":
        yield None
        return
    side: StripeSide = request.getfixturevalue("stripe_side")
    side.clock.current = clock
    yield side
    side.clock.current = None


@pytest.fixture
def localstripe_now(request: pytest.FixtureRequest, provider_name: str) -> str | None:
    """localstripe's URL, wiped for this test, when the provider needs it."""
    if provider_name != "localstripe":
        return None
    server = request.getfixturevalue("localstripe_shimmed")  # shimmed: on_localstripe.py
    server.wipe()
    return str(server.url)


@pytest.fixture
def stripe_accounts() -> dict[str, str]:
    """The Stripe account (on the second Portico) of each Portico account of the test."""
    return {}


@pytest.fixture
def provider(provider_name: str, account_id: str, clock: FrozenClock,
             make_uow: Callable[[], UnitOfWork], stripe_side_now: StripeSide | None,
             stripe_accounts: dict[str, str], localstripe_now: str | None) -> BillingProvider:
    """The billing provider of the test's fresh account, on the frozen ``clock``.

    ``clock`` (from tests/conftest.py) is the test clock: ``provider.advance_clock`` moves it.
    """
    return open_provider(provider_name, account_id=account_id, clock=clock, make_uow=make_uow,
                         stripe_side=stripe_side_now, stripe_accounts=stripe_accounts,
                         localstripe_url=localstripe_now)


@pytest.fixture
def hosted_pages(provider: BillingProvider, account_id: str,
                 stripe_side_now: StripeSide | None, stripe_accounts: dict[str, str]
                 ) -> BillingProvider:
    """Who serves the pages Stripe hosts itself for ``provider``'s objects: the test
    authorization page of a ``next_action`` and a mandate's page (``retrieve_test_
    authorization``, ``complete_test_authorization``, ``retrieve_mandate_document``).

    On the ledger, the provider itself (Portico serves them). A Stripe-backed provider
    answers ResourceMissing for them, as the contract says — Stripe serves them — so on
    ``stripe`` they are the pages of "Stripe", the second Portico, as the customer's
    browser would reach them there: its own ledger on the Stripe account.
    """
    if stripe_side_now is None:
        return provider
    return LocalBillingProvider(account_id=stripe_accounts[account_id],
                                clock=stripe_side_now.clock, uow_factory=stripe_side_now.uow)


@pytest.fixture
def other_provider(provider_name: str, clock: FrozenClock, make_uow: Callable[[], UnitOfWork],
                   stripe_side_now: StripeSide | None, stripe_accounts: dict[str, str],
                   localstripe_now: str | None) -> BillingProvider:
    """The same kind of provider for a second, unrelated merchant account."""
    other_id = accounts.create_account(business_name="Other Shop", email="billing@other.test",
                                       uow=make_uow()).id
    return open_provider(provider_name, account_id=other_id, clock=clock, make_uow=make_uow,
                         stripe_side=stripe_side_now, stripe_accounts=stripe_accounts,
                         localstripe_url=localstripe_now)


@pytest.fixture
def shop(provider: BillingProvider) -> dict[str, str]:
    """A product with a monthly price and two customers, Ada (subscribed) and Bob.

    Keys: ``product``, ``price``, ``ada``, ``bob``, ``sub`` (Ada's subscription).
    """
    product = provider.create_product(name="Pro")
    price = provider.create_price(product=product["id"], currency="eur", unit_amount=1500,
                                  interval="month")
    ada = provider.create_customer(email="ada@example.com", payment_method="pm_card_visa")
    bob = provider.create_customer(email="bob@example.com", payment_method="pm_card_amex")
    sub = provider.create_subscription(customer=ada["id"], items=[ItemSpec(price["id"])])
    return {"product": product["id"], "price": price["id"], "ada": ada["id"],
            "bob": bob["id"], "sub": sub["id"]}
