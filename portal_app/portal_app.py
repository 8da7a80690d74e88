"""The Reflex app: wiring only. Pages live in ``pages/``, HTTP routes in ``http.py``."""

import reflex as rx

from portal_app.http import SecurityHeaders, build_http_app
from portal_app.pages import console, console_dashboard, portal

app = rx.App(
    # Our Starlette routes first (the Reflex app is mounted under them), then the
    # middleware that adds anti-framing headers to every response, pages included.
    api_transformer=[build_http_app(), SecurityHeaders],
)
portal.register(app)
console.register(app)
console_dashboard.register(app)
