"""The Reflex app: wiring only. Pages live in ``pages/``, plain HTTP routes in ``web/``."""

import reflex as rx

from portal_app.pages import console, console_dashboard, portal
from portal_app.web.app import SecurityHeaders, build_http_app

app = rx.App(
    # Our Starlette routes first (the Reflex app is mounted under them), then the
    # middleware that adds anti-framing headers to every response, pages included.
    api_transformer=[build_http_app(), SecurityHeaders],
)
portal.register(app)
console.register(app)
console_dashboard.register(app)
