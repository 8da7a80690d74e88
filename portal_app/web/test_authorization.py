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
from portal_app.web.html_page import html_page, message_page

# The token is in the URL: never cache the page, never send it to another site as a
# Referer ("same-origin", not "no-referrer": that would make the form's Origin "null").
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin",
           "X-Robots-Tag": "noindex"}
TITLE = _("Test payment authorization")


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
    body = BODY.format(
        badge=t(_("Test mode")),
        heading=t(_("{business} asks you to authorize"), business=found["business_name"]),
        what_label=t(_("Payment method")), what=escape(found["summary"]), amount=amount,
        lead=t(_("This page stands in for your bank or wallet in test mode: choose the "
                 "outcome to simulate.")),
        authorize=t(_("Authorize test payment")), fail=t(_("Fail test payment")),
        note=t(_("No real money moves in test mode.")))
    return html_page(locale=locale, title=i18n.gettext(locale, TITLE), body=body)


def _message_page(locale: str, message: str, status: int, *, business: str | None = None
                  ) -> HTMLResponse:
    badge = f'<span class="badge">{escape(i18n.gettext(locale, _("Test mode")))}</span>'
    brand = f'\n  <p class="business">{escape(business)}</p>' if business else ""
    html = message_page(locale=locale, title=i18n.gettext(locale, TITLE),
                        message=i18n.gettext(locale, message), above=badge + brand)
    return HTMLResponse(html, status_code=status,
                        headers={**HEADERS, "Content-Security-Policy": page_policy()})


ROUTES: list = TestAuthorizationPage().routes()

BODY = """<main>
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
</main>"""
