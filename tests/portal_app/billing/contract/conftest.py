"""Fixtures of the billing contract suite: a provider of a fresh account, and a second one.

The contract tests (one file per area: customers, payment methods, invoices, catalog,
subscriptions...) talk to a :class:`~portal_app.billing.provider.BillingProvider` alone:
they use only the fixtures ``provider``, ``other_provider`` and ``clock``, and set their
data up only through contract methods (``create_product``, ``create_price``,
``create_customer``, ``create_subscription``, ``advance_clock``...). They never import the
ledger, so any other implementation runs the same suite unchanged.

Another provider plugs in by parametrizing the ``provider`` fixture: add its name to
``PROVIDERS`` and a branch to :func:`open_provider` that opens it for an account (the
Stripe-backed provider, later, would open a ``StripeClient`` on a test-mode key and a Stripe
test clock for ``clock``). Every contract test then runs once per provider.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portal_app.accounts import services as accounts
from portal_app.billing.provider import BillingProvider, ItemSpec
from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork

# The implementations the suite runs against; each test runs once per name.
PROVIDERS = ["local"]


def open_provider(name: str, *, account_id: str, clock: FrozenClock,
                  make_uow: Callable[[], UnitOfWork]) -> BillingProvider:
    """The provider called ``name`` for ``account_id`` on the test's frozen clock."""
    if name == "local":
        return LocalBillingProvider(account_id=account_id, clock=clock, uow_factory=make_uow)
    raise ValueError(f"unknown billing provider {name!r}")


@pytest.fixture(params=PROVIDERS)
def provider_name(request: pytest.FixtureRequest) -> str:
    """Which implementation this run of the test checks."""
    return str(request.param)


@pytest.fixture
def provider(provider_name: str, account_id: str, clock: FrozenClock,
             make_uow: Callable[[], UnitOfWork]) -> BillingProvider:
    """The billing provider of the test's fresh account, on the frozen ``clock``.

    ``clock`` (from tests/conftest.py) is the test clock: ``provider.advance_clock`` moves it.
    """
    return open_provider(provider_name, account_id=account_id, clock=clock, make_uow=make_uow)


@pytest.fixture
def other_provider(provider_name: str, clock: FrozenClock,
                   make_uow: Callable[[], UnitOfWork]) -> BillingProvider:
    """The same kind of provider for a second, unrelated merchant account."""
    other_id = accounts.create_account(business_name="Other Shop", email="billing@other.test",
                                       uow=make_uow()).id
    return open_provider(provider_name, account_id=other_id, clock=clock, make_uow=make_uow)


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
