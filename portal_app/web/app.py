"""The plain HTTP side of the server: the Stripe-compatible API, portal links, console sign-in.

Reflex mounts its own app (pages, websocket) inside the Starlette app built
here (``rx.App(api_transformer=...)``), and :class:`SecurityHeaders` wraps the
whole thing, so every response — API, redirect or compiled page — refuses
framing.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_app.api.portico_routes import ROUTES as PORTICO_ROUTES
from portal_app.api.routes import ROUTES as API_ROUTES
from portal_app.web.console_sign_in import ROUTES as CONSOLE_ROUTES
from portal_app.web.portal_links import ROUTES as PORTAL_ROUTES

FRAME_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware: anti-framing and related headers on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in FRAME_HEADERS if k not in names]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_http_app() -> Starlette:
    """Every plain HTTP route Portico serves beside the Reflex pages."""
    routes: list[Any] = [*PORTICO_ROUTES, *API_ROUTES, *PORTAL_ROUTES, *CONSOLE_ROUTES]
    return Starlette(routes=routes)
