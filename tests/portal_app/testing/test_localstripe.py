"""localstripe on loopback: reachable through the SDK, private, and leaves no pickle behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
import stripe

from portal_app.testing.localstripe import LocalStripe, start_thread
from tests.localstripe_server import localstripe, localstripe_client  # noqa: F401

PICKLE = Path(tempfile.gettempdir()) / "localstripe.pickle"


def test_process_server_speaks_stripe_on_loopback(localstripe: LocalStripe,  # noqa: F811
                                                  localstripe_client: stripe.StripeClient  # noqa: F811
                                                  ) -> None:
    assert localstripe.url.startswith("http://127.0.0.1:")
    before = PICKLE.stat().st_mtime_ns if PICKLE.exists() else None
    customer = localstripe_client.v1.customers.create(params={"email": "ls@example.com"})
    assert customer.id.startswith("cus_")
    assert localstripe_client.v1.customers.retrieve(customer.id).email == "ls@example.com"
    # No shared pickle written (or rewritten) by our server.
    assert (PICKLE.stat().st_mtime_ns if PICKLE.exists() else None) == before
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("not_a_key", base_addresses={"api": localstripe.url},
                            max_network_retries=0).v1.customers.list()


def test_thread_server_wipes_and_stops() -> None:
    server = start_thread()
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.url},
                                 max_network_retries=0)
    try:
        created = client.v1.customers.create(params={"name": "Threaded"})
        server.wipe()
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.customers.retrieve(created.id)
    finally:
        server.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/v1/customers", timeout=1)
