"""The test-mode authorization page: what a redirect payment method or 3-D Secure shows.

In test mode Stripe sends a customer who must authorize something (saving a PayPal
account, a 3-D Secure card, paying an invoice with one) to a page with two buttons;
Portico serves its own at ``next_action.redirect_to_url.url``. The page names the
merchant and what is being authorized; "Authorize test payment" or "Fail test payment"
completes it once (through the billing contract's ``complete_test_authorization``), then
the browser goes back to the ``return_url`` with Stripe's query parameters
(``setup_intent``, ``setup_intent_client_secret``, ``redirect_status``).

The URL's one-time token is unguessable (its digest alone is stored), so it is the
form's CSRF token too; the POST must also come from this page's own origin. The page
works without JavaScript, and its own Content-Security-Policy allows the form's
redirect to the merchant's ``return_url`` (``form-action`` applies to redirects).
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from portal_app import i18n
from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.i18n import _
from portal_app.routes import TEST_AUTHORIZATION
from portal_app.web.console_sign_in import is_same_origin

# The token is in the URL: never cache the page, never send it to another site as a
# Referer ("same-origin", not "no-referrer": that would make the form's Origin "null").
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin",
           "X-Robots-Tag": "noindex"}


def page_policy(return_url: str | None = None) -> str:
    """This page's Content-Security-Policy: no script at all; the form may post here
    and be redirected to ``return_url``'s origin."""
    targets = ["'self'"]
    if return_url:
        parts = urlsplit(return_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            targets.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(["default-src 'none'", "style-src 'unsafe-inline'", "img-src 'self' data:",
                      f"form-action {' '.join(targets)}", "frame-ancestors 'none'",
                      "base-uri 'none'"])


class TestAuthorizationPage:
    """The page's two endpoints, on units of work from ``uow_factory``."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, uow_factory: UnitOfWorkFactory = UnitOfWork) -> None:
        self.uow_factory = uow_factory

    def _locale(self, request: Request) -> str:
        return i18n.negotiate(None, request.headers.get("accept-language"))

    def _read(self, account: str, token: str) -> StripeObject:
        return billing_provider(account, uow=self.uow_factory()).retrieve_test_authorization(
            token)

    async def show(self, request: Request) -> Response:
        """GET: what is being authorized, and the two buttons."""
        locale = self._locale(request)
        account, token = request.path_params["account"], request.path_params["token"]
        try:
            found = await run_in_threadpool(self._read, account, token)
        except ResourceMissing:
            return _message_page(locale, _("This authorization link is not valid."), 404)
        if found["status"] != "pending":
            return _message_page(locale, _("This authorization is already complete."), 409,
                                 business=found["business_name"])
        return HTMLResponse(authorization_html(found, locale=locale),
                            headers={**HEADERS, "Content-Security-Policy":
                                     page_policy(found.get("return_url"))})

    async def complete(self, request: Request) -> Response:
        """POST: authorize or fail, once; then back to the ``return_url``."""
        locale = self._locale(request)
        account, token = request.path_params["account"], request.path_params["token"]
        if not is_same_origin(request):
            return _message_page(locale, _("This request did not come from this page."), 403)
        form = await request.form()
        outcome = str(form.get("outcome") or "")
        if outcome not in ("authorize", "fail"):
            return _message_page(locale, _("Choose to authorize or to fail the test payment."),
                                 400)
        provider = billing_provider(account, uow=self.uow_factory())
        try:
            done = await run_in_threadpool(provider.complete_test_authorization, token,
                                           succeed=outcome == "authorize")
        except ResourceMissing:
            return _message_page(locale, _("This authorization link is not valid."), 404)
        except InvalidRequest:
            return _message_page(locale, _("This authorization is already complete."), 409)
        if done.get("redirect_url"):
            return RedirectResponse(done["redirect_url"], status_code=303, headers=HEADERS)
        text = (_("Test payment authorized. You can close this page.") if outcome == "authorize"
                else _("Test payment failed. You can close this page."))
        return _message_page(locale, text, 200, business=done["business_name"])

    def routes(self) -> list[Route]:
        return [Route(TEST_AUTHORIZATION, self.show, methods=["GET"]),
                Route(TEST_AUTHORIZATION, self.complete, methods=["POST"])]


def authorization_html(found: StripeObject, *, locale: str) -> str:
    """The page for a pending authorization ``found`` (``retrieve_test_authorization``)."""
    def t(message: str, **values: str) -> str:
        return escape(i18n.gettext(locale, message, **values))

    amount = ""
    if found.get("amount") is not None and found.get("currency"):
        money = i18n.format_money(int(found["amount"]), str(found["currency"]), locale)
        amount = (f'<div class="row"><dt>{t(_("Amount"))}</dt>'
                  f'<dd class="amount">{escape(money)}</dd></div>')
    return PAGE.format(
        lang=escape(locale, quote=True), dir="rtl" if i18n.is_rtl(locale) else "ltr",
        title=t(_("Test payment authorization")), badge=t(_("Test mode")),
        heading=t(_("{business} asks you to authorize"), business=found["business_name"]),
        what_label=t(_("Payment method")), what=escape(found["summary"]), amount=amount,
        lead=t(_("This page stands in for your bank or wallet in test mode: choose the "
                 "outcome to simulate.")),
        authorize=t(_("Authorize test payment")), fail=t(_("Fail test payment")),
        note=t(_("No real money moves in test mode.")))


def _message_page(locale: str, message: str, status: int, *, business: str | None = None
                  ) -> HTMLResponse:
    brand = f'<p class="business">{escape(business)}</p>' if business else ""
    html = MESSAGE.format(lang=escape(locale, quote=True),
                          dir="rtl" if i18n.is_rtl(locale) else "ltr",
                          title=escape(i18n.gettext(locale, _("Test payment authorization"))),
                          badge=escape(i18n.gettext(locale, _("Test mode"))), brand=brand,
                          message=escape(i18n.gettext(locale, message)))
    return HTMLResponse(html, status_code=status,
                        headers={**HEADERS, "Content-Security-Policy": page_policy()})


ROUTES: list = TestAuthorizationPage().routes()

# The look of Portico's small standalone pages (this one, mandates): a card on grey.
PAGE_STYLE = """
  :root {{ color-scheme: light; --ink: #1c2024; --muted: #60646c; --line: #e4e6eb;
          --accent: #0d74ce; --fail: #ce2c31; }}
  * {{ box-sizing: border-box; }}
  body {{ margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 24px;
         background: #f6f7f9; color: var(--ink);
         font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",
                      Arial, sans-serif; -webkit-font-smoothing: antialiased; }}
  main {{ width: 100%; max-width: 440px; background: #fff; border: 1px solid var(--line);
         border-radius: 16px; padding: 32px 28px;
         box-shadow: 0 1px 2px rgba(16, 24, 40, .04), 0 8px 24px rgba(16, 24, 40, .06); }}
  .badge {{ display: inline-block; font-size: 12px; font-weight: 700; letter-spacing: .04em;
           text-transform: uppercase; color: #ab6400; background: #fff7c2;
           border: 1px solid #f3d768; border-radius: 999px; padding: 3px 10px;
           margin-bottom: 20px; }}
  .business {{ margin: 0 0 4px; font-size: 14px; font-weight: 600; color: var(--muted); }}
  h1 {{ margin: 0 0 20px; font-size: 22px; line-height: 1.3; letter-spacing: -0.01em; }}
  dl {{ margin: 0 0 20px; border: 1px solid var(--line); border-radius: 12px;
       padding: 4px 16px; }}
  .row {{ display: flex; justify-content: space-between; gap: 16px; padding: 12px 0; }}
  .row + .row {{ border-top: 1px solid var(--line); }}
  dt {{ color: var(--muted); font-size: 14px; }}
  dd {{ margin: 0; font-weight: 600; font-size: 15px; text-align: end; }}
  p.lead {{ margin: 0 0 24px; font-size: 14px; line-height: 1.55; color: var(--muted); }}
  form {{ display: grid; gap: 10px; margin: 0; }}
  button {{ font: inherit; font-size: 15px; font-weight: 600; border-radius: 8px;
           padding: 12px 16px; cursor: pointer; width: 100%; }}
  .authorize {{ background: var(--accent); color: #fff; border: 0; }}
  .authorize:hover {{ background: #0b68b9; }}
  .fail {{ background: #fff; color: var(--fail); border: 1px solid #f4a9aa; }}
  .fail:hover {{ background: #fff1f0; }}
  button:focus-visible {{ outline: 2px solid var(--accent); outline-offset: 2px; }}
  .note {{ margin: 20px 0 0; font-size: 12px; color: var(--muted); text-align: center; }}
  .message {{ margin: 0; font-size: 16px; line-height: 1.55; }}
"""

PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>""" + PAGE_STYLE + """</style>
</head>
<body>
<main>
  <span class="badge">{badge}</span>
  <h1>{heading}</h1>
  <dl>
    <div class="row"><dt>{what_label}</dt><dd><bdi dir="ltr">{what}</bdi></dd></div>
    {amount}
  </dl>
  <p class="lead">{lead}</p>
  <form method="post">
    <button class="authorize" type="submit" name="outcome" value="authorize">{authorize}</button>
    <button class="fail" type="submit" name="outcome" value="fail">{fail}</button>
  </form>
  <p class="note">{note}</p>
</main>
</body>
</html>
"""

MESSAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>""" + PAGE_STYLE + """</style>
</head>
<body>
<main>
  <span class="badge">{badge}</span>
  {brand}
  <p class="message" role="status">{message}</p>
</main>
</body>
</html>
"""
