"""The plain HTTP side of the server: the Stripe-compatible API, portal links, console sign-in.

Reflex mounts its own app (pages, websocket) inside the Starlette app built
here (``rx.App(api_transformer=...)``), so :class:`BodyLimit` bounds every request
body, and :class:`SecurityHeaders` wraps the whole thing, so every response — API,
redirect or compiled page — carries the CSP (which refuses framing) and, over
https, HSTS.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_app.api.openapi import ROUTES as OPENAPI_ROUTES
from portal_app.api.pipeline import error_body
from portal_app.api.portico_routes import ROUTES as PORTICO_ROUTES
from portal_app.api.routes import ROUTES as API_ROUTES
from portal_app.errors import PayloadTooLarge
from portal_app.settings import get_settings, public_origins
from portal_app.web.console_sign_in import ROUTES as CONSOLE_ROUTES
from portal_app.web.invoice_pages import ROUTES as INVOICE_ROUTES
from portal_app.web.mandate_pages import ROUTES as MANDATE_ROUTES
from portal_app.web.portal_links import ROUTES as PORTAL_ROUTES
from portal_app.web.stripe_webhooks import ROUTES as STRIPE_WEBHOOK_ROUTES
from portal_app.web.test_authorization import ROUTES as TEST_AUTHORIZATION_ROUTES

MAX_BODY_BYTES = 1024 * 1024  # far above any form Portico takes; Stripe's own bodies are small
HSTS = b"max-age=31536000; includeSubDomains"

FRAME_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def content_security_policy(*, public_url: str, script_hashes: Iterable[str] = ()) -> str:
    """The Content-Security-Policy of every response, pages included.

    Scripts: the site's own files, and the inline scripts of the compiled pages by
    their hashes (no ``'unsafe-inline'``, so an injected ``<script>`` or ``onclick``
    does not run). ``'unsafe-eval'``: Reflex's frontend evaluates the scripts its own
    backend sends over the event socket (toasts, ``rx.call_script``). Styles may be
    inline: Emotion and Radix inject ``<style>`` elements at run time. Connections go
    to this site and its event websocket only; no page may frame ours.
    """
    connect = ["'self'"]
    for origin in public_origins(public_url):
        if "[" not in origin:  # a CSP source cannot name an IPv6 literal ('self' covers it)
            connect += [origin, "ws" + origin.removeprefix("http")]
    scripts = " ".join(["'self'", "'unsafe-eval'", *(f"'{h}'" for h in script_hashes)])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src {' '.join(connect)}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class _InlineScripts(HTMLParser):
    """Collects the text of every ``<script>`` without a ``src``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._open = []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open is not None:
            self.scripts.append("".join(self._open))
            self._open = None


def page_script_hashes(pages: Path) -> list[str]:
    """CSP hashes (``sha256-...``) of the inline scripts of every compiled page under ``pages``."""
    found: set[str] = set()
    for page in sorted(pages.rglob("*.html")) if pages.is_dir() else []:
        parser = _InlineScripts()
        parser.feed(page.read_text(encoding="utf-8"))
        for script in parser.scripts:
            # Browsers hash the script's text after HTML newline normalization.
            digest = hashlib.sha256(script.replace("\r\n", "\n").encode()).digest()
            found.add("sha256-" + base64.b64encode(digest).decode())
    return sorted(found)


class SecurityHeaders:
    """ASGI middleware: CSP, anti-framing, HSTS (over https) and related headers on every response.

    ``pages`` is the directory of the compiled frontend, whose inline scripts the CSP
    allows by hash (read once, at the first request: restart after a rebuild, as
    ``make run`` does).
    """

    def __init__(self, app: ASGIApp, *, pages: Path | None = None) -> None:
        self.app = app
        self.pages = pages

    @cached_property
    def headers(self) -> list[tuple[bytes, bytes]]:
        settings = get_settings()
        hashes = page_script_hashes(self.pages) if self.pages is not None else []
        csp = content_security_policy(public_url=settings.public_url, script_hashes=hashes)
        headers = [*FRAME_HEADERS, (b"content-security-policy", csp.encode())]
        if urlsplit(settings.public_url).scheme == "https":
            headers.append((b"strict-transport-security", HSTS))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in names]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """ASGI middleware: request bodies over ``max_bytes`` get 413, before they are read.

    A declared ``Content-Length`` over the limit is refused without calling the app.
    A body without one (chunked), or longer than it claimed, is counted as it
    arrives: the first chunk past the limit raises :class:`PayloadTooLarge` in the
    app's ``receive``. The API renders that in Stripe's error envelope itself; for
    anything else this middleware answers 413 (the API's envelope under ``/v1``).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except PayloadTooLarge:
            if started:
                raise
            await self._refuse(scope, send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body is too large: at most {self.max_bytes} bytes are accepted.")

    async def _refuse(self, scope: Scope, send: Send) -> None:
        error = self._too_large()
        if str(scope.get("path", "")).startswith("/v1/"):
            body, media = error_body(error).encode(), b"application/json"
        else:
            body, media = error.message.encode(), b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": error.http_status, "headers": [
            (b"content-type", media), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # the unread body is not worth draining
        ]})
        await send({"type": "http.response.body", "body": body})


def build_http_app() -> Starlette:
    """Every plain HTTP route Portico serves beside the Reflex pages, behind the body limit."""
    # The OpenAPI document first: API_ROUTES ends with the keyed 404 for any other /v1 URL.
    # Inbound webhooks before them all: the busiest route is matched first.
    routes: list[Any] = [*STRIPE_WEBHOOK_ROUTES, *OPENAPI_ROUTES, *PORTICO_ROUTES, *API_ROUTES,
                         *PORTAL_ROUTES, *CONSOLE_ROUTES, *INVOICE_ROUTES,
                         *TEST_AUTHORIZATION_ROUTES, *MANDATE_ROUTES]
    return Starlette(routes=routes, middleware=[Middleware(BodyLimit)])
