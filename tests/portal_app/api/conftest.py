"""The API served over real HTTP on a free loopback port, driven by the real ``stripe`` SDK.

One server runs for the whole session (Granian, embedded in a thread), on the
test database; its clock follows each test's frozen ``clock`` fixture.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
import stripe
from granian.constants import Interfaces
from granian.server.embed import Server
from sqlalchemy.engine import Engine

from portal_app.api.routes import build_api
from portal_app.clock import Clock, FrozenClock


class FollowingClock:
    """The server's clock: whichever test clock is current."""

    def __init__(self) -> None:
        self.current: Clock | None = None

    def __call__(self) -> datetime:
        assert self.current is not None, "no test clock is current"
        return self.current()


class ApiServer:
    """The API app served by Granian on 127.0.0.1:<free port>, in a background thread."""

    def __init__(self, engine: Engine) -> None:
        self.clock = FollowingClock()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = Server(build_api(clock=self.clock, engine=engine), address="127.0.0.1",
                              port=self.port, interface=Interfaces.ASGI, log_enabled=False)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="api-server", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._server.serve())

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/v1/ping", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the API server did not start")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._server.stop)
        self._thread.join(10)


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
