"""Reflex configuration for Portico.

The public URL is baked into the frontend bundle at build time (`reflex export`):
the browser opens its websocket to ``PORTICO_PUBLIC_URL`` + ``/_event``. A build made
for ``http://localhost:3000`` therefore has to be served on port 3000 (any hostname
works for localhost builds: the frontend swaps ``localhost`` for the page's own host,
and behind https it also drops the port). Rebuild (``make build``) after changing it.

The app's own data lives in DATABASE_URL through its own SQLModel engine; Reflex's
``db_url`` is not used. With REDIS_URL set, Reflex keeps its state in Redis, which is
what allows more than one server worker.
"""

import os

import reflex as rx

from portal_app.settings import public_origins

PUBLIC_URL = os.environ.get("PORTICO_PUBLIC_URL", "http://localhost:3000").rstrip("/")

config = rx.Config(
    app_name="portal_app",
    api_url=PUBLIC_URL,
    deploy_url=PUBLIC_URL,
    redis_url=os.environ.get("REDIS_URL") or None,
    # Reflex's default, "*", lets any site make credentialed requests (CORS) and open
    # the event websocket with the visitor's cookies. Only the public origin may: this
    # list is also the Origin check of the websocket handshake (python-engineio).
    cors_allowed_origins=public_origins(PUBLIC_URL),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Radix Themes made explicit (implicit enablement is deprecated since 0.9).
    # Set the app theme here, e.g. RadixThemesPlugin(theme=rx.theme(accent_color="indigo")),
    # not through rx.App(theme=...), which is deprecated too.
    plugins=[rx.plugins.RadixThemesPlugin()],
    # No sitemap.xml for a private billing portal, and no warning about it either.
    disable_plugins=[rx.plugins.SitemapPlugin],
)
