"""An ASGI app served for real (Granian, in a background thread) on a free loopback port.

For tests that need HTTP on the wire without the production build: the API driven by
the ``stripe`` SDK, a standalone page driven by Chromium.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import datetime
from typing import Any

import httpx
from granian.constants import Interfaces
from granian.server.embed import Server

from portal_app.clock import Clock


class EmbeddedServer:
    """``app`` on ``http://127.0.0.1:<free port>``; ``start`` returns once ``ready_path``
    answers."""

    def __init__(self, app: Any, *, ready_path: str = "/") -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready_path = ready_path
        self.server = Server(app, address="127.0.0.1", port=self.port,
                             interface=Interfaces.ASGI, log_enabled=False)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.run, name="embedded-server", daemon=True)

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}{self.ready_path}", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"the server did not start ({self.url})")

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.stop)
        self.thread.join(10)


class FollowingClock:
    """A served app's clock: whichever test clock is current (set per test)."""

    def __init__(self) -> None:
        self.current: Clock | None = None

    def __call__(self) -> datetime:
        assert self.current is not None, "no test clock is current"
        return self.current()
