"""Pytest plugin: localstripe, the stateful fake Stripe server, on a private loopback port.

Enable it in tests/conftest.py with ``pytest_plugins = ["tests.localstripe_server"]``
(or import the fixtures into a test module).

Fixtures:

* ``localstripe`` (session): a :class:`portal_app.testing.localstripe.LocalStripe`
  running in a child process on ``127.0.0.1:<free port>``, data in memory only
  (no shared pickle in the temp folder). ``.url`` is its base URL; ``.wipe()``
  deletes every object.
* ``localstripe_shimmed`` (session): another one, with ``tests/localstripe_shim.py`` in
  front of it (prices as plans, ``items[][price]``, ``pm_card_amex``: the current API's
  calls where localstripe has an exact equivalent), for the billing contract suite.
* ``localstripe_client`` (function): a ``stripe.StripeClient`` pointed at it,
  without network retries (the SDK otherwise retries a 5xx twice, ~1.5 s each).

localstripe speaks the 2017-2019 API: plans rather than prices, no billing_portal
(see /work/shared/LOCALSTRIPE.md). Objects persist for the whole session, so tests
create their own customers and never count global lists.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from portal_app.testing.localstripe import LocalStripe, start_process

LOCALSTRIPE_KEY = "sk_test_localstripe"


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    """localstripe in a child process on a free loopback port, stopped at the end."""
    server = start_process()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def localstripe_shimmed() -> Iterator[LocalStripe]:
    """localstripe behind ``tests.localstripe_shim``, in a child process, stopped at the end."""
    server = start_process(shim="tests.localstripe_shim")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def localstripe_client(localstripe: LocalStripe) -> stripe.StripeClient:
    """The official SDK pointed at localstripe."""
    return stripe.StripeClient(LOCALSTRIPE_KEY, base_addresses={"api": localstripe.url},
                               max_network_retries=0)
