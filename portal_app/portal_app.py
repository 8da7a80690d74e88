"""The Reflex app: wiring only. Pages live in ``pages/``, plain HTTP routes in ``web/``."""

from functools import partial

import reflex as rx
from reflex import constants
from reflex.utils.prerequisites import get_web_dir

from portal_app.pages import console, console_dashboard, portal
from portal_app.web.app import SecurityHeaders, build_http_app
from portal_app.webhooks.worker import background_worker

# Where Reflex serves the compiled pages from (the CSP allows their inline scripts).
COMPILED_PAGES = (get_web_dir() / constants.Dirs.STATIC).resolve()

app = rx.App(
    # Our Starlette routes first (the Reflex app is mounted under them, behind their
    # body limit), then the middleware that adds the security headers to every
    # response, pages included.
    api_transformer=[build_http_app(), partial(SecurityHeaders, pages=COMPILED_PAGES)],
)
portal.register(app)
console.register(app)
console_dashboard.register(app)
# Outbound webhooks are delivered by a worker thread for as long as the app serves
# (PORTICO_WEBHOOKS_WORKER=0: separate `portico webhooks-worker` processes do it).
app.register_lifespan_task(background_worker)
