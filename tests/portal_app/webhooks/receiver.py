"""A real webhook receiver on loopback for the delivery tests, and endpoint rows pointing at it.

:class:`Receiver` is an ``http.server`` on its own thread (HTTP/1.1, keep-alive) that checks
every POST with ``stripe.Webhook.construct_event`` against the endpoint's secret, as a
merchant's server would, and answers what the test scripted: a status, a pause (to make
the sender time out), a redirect, a large body.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import stripe

from portal_app.db import UnitOfWork
from portal_app.ids import new_id
from portal_app.webhooks.models import WebhookEndpoint
from portal_app.webhooks.signing import new_secret, seal_secret


@dataclass(frozen=True)
class Reply:
    """What the receiver answers to one POST."""

    status: int = 200
    body: bytes = b'{"received": true}'
    delay: float = 0.0  # seconds before answering (past the sender's timeout: a timeout)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Received:
    """One POST as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    event: dict[str, Any] | None  # the verified event, None when the signature failed
    connection: int  # which TCP connection brought it (keep-alive reuse)


@dataclass
class Receiver:
    """A loopback HTTP server that verifies Stripe signatures with ``secret``."""

    secret: str
    port: int = 0
    replies: list[Reply] = field(default_factory=list)  # consumed in order, then ``default``
    default: Reply = field(default_factory=Reply)
    received: list[Received] = field(default_factory=list)
    on_receive: Callable[[Received], None] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._connections = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._connections += 1
                    self.connection_number = receiver._connections

            def handle(self) -> None:
                with contextlib.suppress(ConnectionResetError):  # a killed sender
                    super().handle()

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    stripe.Webhook.construct_event(
                        body.decode(), self.headers.get("Stripe-Signature", ""),
                        receiver.secret)
                    verified: dict[str, Any] | None = json.loads(body)
                except (stripe.SignatureVerificationError, ValueError):
                    verified = None
                seen = Received(self.path, dict(self.headers.items()), body, verified,
                                self.connection_number)
                with receiver._lock:
                    receiver.received.append(seen)
                    reply = receiver.replies.pop(0) if receiver.replies else receiver.default
                if receiver.on_receive is not None:
                    receiver.on_receive(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up (timed out) first

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._handler = Handler
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks"

    @property
    def connections(self) -> int:
        return self._connections

    def start(self) -> Receiver:
        server = _Server(("127.0.0.1", self.port), self._handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_tls(self, context: ssl.SSLContext) -> None:
        """Answer over TLS from now on (``context``: a server context with a certificate)."""
        assert self._server is not None
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)

    def stop(self) -> None:
        """Close the listening socket: the port refuses connections until :meth:`start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def event_counts(self) -> Counter[str]:
        """How many verified deliveries of each event id arrived."""
        with self._lock:
            return Counter(r.event["id"] for r in self.received if r.event is not None)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    # The default backlog (5) drops the SYNs of a burst of new connections: the sender's
    # retransmission a second later would look like a slow receiver.
    request_queue_size = 512


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_endpoint(uow: UnitOfWork, account_id: str, url: str, *, secret: str | None = None,
                 events: list[str] | None = None, livemode: bool = False) -> tuple[str, str]:
    """An enabled endpoint row (id, secret) for ``url``: no URL checks, as if the DNS
    answer changed after it was created."""
    endpoint_id = new_id("we")()
    secret = secret or new_secret()
    with uow:
        uow.add(WebhookEndpoint(
            id=endpoint_id, account_id=account_id, url=url, enabled_events=events or ["*"],
            secret_sealed=seal_secret(secret, endpoint_id=endpoint_id), livemode=livemode,
            created=uow.clock()))
        uow.commit()
    return endpoint_id, secret
