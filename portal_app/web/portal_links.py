"""The portal link route ``/p/<token>``: bind the session to this browser, then redirect.

The link's token must leave the address bar (and every later Referer) at once,
so the route answers with a redirect to the portal page and never renders it.
The browser secret travels only in an HttpOnly cookie; the portal page's State
reads it from the websocket handshake.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from portal_app import i18n
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import SessionExpired
from portal_app.i18n import _
from portal_app.portal import sessions
from portal_app.portal.deep_links import flow_path
from portal_app.routes import PORTAL_LINK
from portal_app.settings import get_settings
from portal_app.web.html_page import html_page

COOKIE_NAME = "portico_portal"
# The token is in this response's URL: don't cache it, don't leak it as a Referer.
LINK_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def portal_link(uow_factory: UnitOfWorkFactory = UnitOfWork
                ) -> Callable[[Request], Response]:
    """The ``/p/{token}`` endpoint, on units of work from ``uow_factory``."""

    def open_link(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            opened = sessions.open_session(token, browser_secret=request.cookies.get(COOKIE_NAME),
                                           uow=uow_factory())
        except SessionExpired as expired:
            locale = expired.locale if expired.locale and expired.locale != "auto" else \
                i18n.negotiate(None, request.headers.get("accept-language"))
            return HTMLResponse(expired_page(expired, locale=locale), status_code=404,
                                headers=LINK_HEADERS)
        # A link made with flow_data opens straight on that flow's step.
        response = RedirectResponse(flow_path(opened.session), status_code=303,
                                    headers=LINK_HEADERS)
        if opened.browser_secret is not None:
            response.set_cookie(COOKIE_NAME, opened.browser_secret, path="/", httponly=True,
                                samesite="lax", secure=get_settings().secure_cookies)
        return response

    return open_link


def routes(uow_factory: UnitOfWorkFactory = UnitOfWork) -> list[Route]:
    """The portal's plain HTTP routes."""
    return [Route(PORTAL_LINK, portal_link(uow_factory), methods=["GET"])]


ROUTES: list = routes()


def expired_message(locale: str) -> tuple[str, str]:
    """The expired page's title and explanation in ``locale``."""
    return (i18n.gettext(locale, _("This link has expired")),
            i18n.gettext(locale, _("For your security, billing links work for a short time "
                                   "and only in the browser that first opened them. Go back "
                                   "and open the billing portal again to get a new link.")))


def expired_page(expired: SessionExpired, *, locale: str) -> str:
    """A small self-contained HTML page for a link that no longer opens."""
    title, text = expired_message(locale)
    button = ""
    if expired.return_url:
        label = (i18n.gettext(locale, _("Return to {business}"), business=expired.business_name)
                 if expired.business_name else i18n.gettext(locale, _("Go back")))
        button = (f'<a class="button" href="{escape(expired.return_url, quote=True)}">'
                  f"{escape(label)}</a>")
    brand = f'<p class="brand">{escape(expired.business_name)}</p>' \
        if expired.business_name else ""
    body = f"""<main>
  <div class="icon" aria-hidden="true"><svg width="24" height="24" viewBox="0 0 24 24"
    fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"
    stroke-linejoin="round"><circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/></svg></div>
  {brand}
  <h1>{escape(title)}</h1>
  <p class="body">{escape(text)}</p>
  {button}
</main>"""
    return html_page(locale=locale, title=title, body=body, style=EXPIRED_STYLE)


EXPIRED_STYLE = """
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center;
         background: #f6f7f9; color: #1c2024; padding: 24px;
         font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",
                      Arial, sans-serif; }
  main { width: 100%; max-width: 440px; background: #fff; border: 1px solid #e4e6eb;
         border-radius: 16px; padding: 40px 32px; text-align: center;
         box-shadow: 0 1px 2px rgba(16, 24, 40, .04), 0 8px 24px rgba(16, 24, 40, .06); }
  .icon { width: 48px; height: 48px; margin: 0 auto 20px; border-radius: 50%;
          background: #e6f4fe; display: grid; place-items: center; color: #0d74ce; }
  .brand { margin: 0 0 6px; font-size: 14px; font-weight: 600; color: #60646c; }
  h1 { margin: 0 0 12px; font-size: 22px; line-height: 1.3; }
  p.body { margin: 0 0 28px; font-size: 15px; line-height: 1.55; color: #60646c; }
  .button { display: inline-block; padding: 11px 20px; border-radius: 8px; background: #0090ff;
            color: #fff; font-weight: 600; font-size: 15px; text-decoration: none; }
  .button:hover { background: #0588f0; }
"""
