"""The served HTTP app: request bodies bounded before they are read, security headers.

Bodies are driven two ways: straight through ASGI, counting every ``receive`` the
app makes (so "refused before reading" is measured, not assumed), and over a real
socket to Granian serving :func:`build_http_app` as ``make run`` does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from granian.constants import Interfaces
from granian.server.embed import Server
from sqlmodel import func, select
from starlette.testclient import TestClient

from portal_app.billing.models import Customer
from portal_app.db import UnitOfWork
from portal_app.routes import CONSOLE_LOGIN
from portal_app.settings import get_settings
from portal_app.web.app import (
    MAX_BODY_BYTES,
    SecurityHeaders,
    build_http_app,
    content_security_policy,
    page_script_hashes,
)

CHUNK = 64 * 1024
OVER = MAX_BODY_BYTES + CHUNK  # just past the limit


class Exchange:
    """One request sent straight into the ASGI app; ``reads`` counts the body chunks it took."""

    def __init__(self, method: str, path: str, *, headers: dict[str, str],
                 chunks: list[bytes]) -> None:
        self.scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "server": ("testserver", 80),
            "client": ("203.0.113.9", 50000),
            "headers": [(k.lower().encode(), v.encode())
                        for k, v in {"host": "testserver", **headers}.items()],
        }
        self.chunks = chunks
        self.reads = 0
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""

    async def _receive(self) -> dict:
        if self.reads < len(self.chunks):
            self.reads += 1
            return {"type": "http.request", "body": self.chunks[self.reads - 1],
                    "more_body": self.reads < len(self.chunks)}
        await asyncio.sleep(3600)  # the client never says more
        raise AssertionError("unreachable")

    async def _send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def run(self, app: Callable) -> Exchange:
        # A fresh loop in its own thread: a browser test earlier in the run (Playwright's
        # sync API) may leave an event loop running in this one.
        exchange = asyncio.wait_for(app(self.scope, self._receive, self._send), timeout=30)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, exchange).result()
        return self


def body_of(size: int) -> list[bytes]:
    """``size`` bytes of a form body (``metadata[note]=xxxx...``), in 64 KiB chunks."""
    data = b"metadata[note]=" + b"x" * (size - len(b"metadata[note]="))
    return [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]


def customers(account_id: str, make_uow: Callable[[], UnitOfWork]) -> int:
    with make_uow() as uow:
        return uow.session.exec(select(func.count()).select_from(Customer).where(
            Customer.account_id == account_id)).one()


def assert_stripe_413(exchange: Exchange) -> None:
    assert exchange.status == 413
    error = json.loads(exchange.body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "request_too_large"
    assert str(MAX_BODY_BYTES) in error["message"]


def test_a_declared_oversized_body_is_refused_unread(api_key: str, account_id: str,
                                                     make_uow) -> None:
    chunks = body_of(OVER)
    exchange = Exchange("POST", "/v1/customers", chunks=chunks, headers={
        "authorization": f"Bearer {api_key}", "content-length": str(OVER),
        "content-type": "application/x-www-form-urlencoded"}).run(build_http_app())

    assert_stripe_413(exchange)
    assert exchange.reads == 0  # not one byte of the body was read
    assert customers(account_id, make_uow) == 0


@pytest.mark.parametrize("declared", [None, "100"], ids=["chunked", "lying-length"])
def test_an_undeclared_or_understated_body_is_cut_off_at_the_limit(
        api_key: str, account_id: str, make_uow, declared: str | None) -> None:
    chunks = body_of(4 * MAX_BODY_BYTES)
    headers = {"authorization": f"Bearer {api_key}",
               "content-type": "application/x-www-form-urlencoded"}
    if declared:
        headers["content-length"] = declared
    exchange = Exchange("POST", "/v1/customers", chunks=chunks,
                        headers=headers).run(build_http_app())

    assert_stripe_413(exchange)
    # Read up to the first chunk past the limit, never the rest.
    assert exchange.reads == MAX_BODY_BYTES // CHUNK + 1 < len(chunks)
    assert customers(account_id, make_uow) == 0


def test_the_api_checks_the_key_before_reading_the_body() -> None:
    exchange = Exchange("POST", "/v1/customers", chunks=body_of(4 * MAX_BODY_BYTES), headers={
        "authorization": "Bearer sk_test_not_a_key"}).run(build_http_app())

    assert exchange.status == 401
    assert json.loads(exchange.body)["error"]["type"] == "invalid_request_error"
    assert exchange.reads == 0


def test_a_body_within_the_limit_goes_through(api_key: str, account_id: str,
                                              make_uow) -> None:
    exchange = Exchange("POST", "/v1/customers", chunks=[b"email=a%40acme.test"], headers={
        "authorization": f"Bearer {api_key}",
        "content-type": "application/x-www-form-urlencoded"}).run(build_http_app())

    assert exchange.status == 200, exchange.body
    assert json.loads(exchange.body)["email"] == "a@acme.test"
    assert customers(account_id, make_uow) == 1


def test_console_sign_in_refuses_an_oversized_body() -> None:
    exchange = Exchange("POST", CONSOLE_LOGIN, chunks=body_of(4 * MAX_BODY_BYTES), headers={
        "origin": "http://testserver", "cookie": "portico_console_login=nonce",
        "content-type": "application/x-www-form-urlencoded"}).run(build_http_app())

    assert exchange.status == 413
    assert exchange.headers["content-type"].startswith("text/plain")
    assert exchange.reads == MAX_BODY_BYTES // CHUNK + 1


@pytest.mark.parametrize("headers", [
    {"origin": "https://evil.test", "cookie": "portico_console_login=nonce"},
    {"origin": "http://testserver"},  # no sign-in form was ever served to this browser
])
def test_console_sign_in_checks_origin_and_form_cookie_before_reading(headers: dict) -> None:
    exchange = Exchange("POST", CONSOLE_LOGIN, chunks=body_of(1000), headers={
        **headers, "content-type": "application/x-www-form-urlencoded"}).run(build_http_app())

    assert exchange.status == 403
    assert exchange.reads == 0


# --- over a real socket -------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, int]]:
    """``build_http_app()`` served by Granian on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = Server(build_http_app(), address="127.0.0.1", port=port,
                    interface=Interfaces.ASGI, log_enabled=False)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: loop.run_until_complete(server.serve()),
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/ping", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield "127.0.0.1", port
    loop.call_soon_threadsafe(server.stop)
    thread.join(10)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        rest += piece
    return status, rest


def test_over_http_a_declared_oversized_body_is_answered_before_it_is_sent(
        served: tuple[str, int], api_key: str) -> None:
    with socket.create_connection(served, timeout=10) as sock:
        sock.sendall((f"POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {api_key}\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\n"
                      f"Content-Length: {100 * MAX_BODY_BYTES}\r\n\r\n").encode())
        status, body = read_response(sock)  # not one byte of the 100 MiB was sent

    assert status == 413
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_over_http_a_chunked_oversized_body_is_refused(served: tuple[str, int],
                                                       api_key: str) -> None:
    host, port = served

    def chunks() -> Iterator[bytes]:
        yield from body_of(4 * MAX_BODY_BYTES)

    response = httpx.post(f"http://{host}:{port}/v1/customers", content=chunks(), headers={
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/x-www-form-urlencoded"}, timeout=30)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


# --- security headers ---------------------------------------------------------------------


def headers_of(app: SecurityHeaders) -> dict[str, str]:
    return dict(TestClient(app).get("/v1/customers").headers)


def test_every_response_carries_a_real_csp_and_no_hsts_over_http() -> None:
    headers = headers_of(SecurityHeaders(build_http_app()))

    csp = {d.split(" ", 1)[0]: d for d in headers["content-security-policy"].split("; ")}
    assert csp["default-src"] == "default-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "ws://localhost:3000" in csp["connect-src"]
    assert "[" not in csp["connect-src"]  # Chromium rejects IPv6 literals in a source list
    assert headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in headers


def test_hsts_when_the_public_url_is_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_PUBLIC_URL", "https://billing.acme.test")
    get_settings.cache_clear()
    try:
        headers = headers_of(SecurityHeaders(build_http_app()))
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()

    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "wss://billing.acme.test" in headers["content-security-policy"]


def test_the_csp_allows_the_compiled_pages_inline_scripts_by_hash(tmp_path: Path) -> None:
    script = "window.__ctx = {\"a\": 1};"
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "index.html").write_text(
        f'<html><head><script type="module" src="/assets/app.js"></script>'
        f"<script>{script}</script></head><body><script></script></body></html>")
    expected = "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()

    hashes = page_script_hashes(tmp_path)

    assert expected in hashes and len(hashes) == 2  # the script above, and the empty one
    assert f"'{expected}'" in content_security_policy(public_url="http://localhost:3000",
                                                       script_hashes=hashes)
    headers = headers_of(SecurityHeaders(build_http_app(), pages=tmp_path))
    assert f"'{expected}'" in headers["content-security-policy"]
