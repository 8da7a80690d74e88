"""The API served over real HTTP on a free loopback port, driven by the real ``stripe`` SDK.

One server runs for the whole session (Granian, embedded in a thread), on the
test database; its clock follows each test's frozen ``clock`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
from sqlalchemy.engine import Engine

from portal_app.api.routes import build_api
from portal_app.clock import FrozenClock
from tests.embedded_server import EmbeddedServer, FollowingClock


class ApiServer(EmbeddedServer):
    """An API app (``build``: the Stripe API's by default) served on a free loopback port,
    on the test database, its clock :class:`FollowingClock`."""

    def __init__(self, engine: Engine, build: Callable[..., Any] = build_api) -> None:
        self.clock = FollowingClock()
        super().__init__(build(clock=self.clock, engine=engine), ready_path="/v1/ping")


@pytest.fixture(scope="session")
def api_server(database: Engine) -> Iterator[ApiServer]:
    server = ApiServer(database)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api_url(api_server: ApiServer, clock: FrozenClock) -> Iterator[str]:
    """The API's base URL, its clock now this test's clock."""
    api_server.clock.current = clock
    yield api_server.url
    api_server.clock.current = None


@pytest.fixture
def client(api_url: str, api_key: str) -> stripe.StripeClient:
    """The official SDK pointed at Portico, exactly as a merchant would configure it."""
    return stripe.StripeClient(api_key, base_addresses={"api": api_url}, max_network_retries=0)
