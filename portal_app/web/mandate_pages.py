"""A mandate's hosted page: the Direct Debit mandate text, its creditor and acceptance.

``/mandates/<account>/<mandate>/<mac>`` is the ``url`` of a SEPA (and Bacs) mandate's
``payment_method_details``; the MAC is the credential, as for Stripe's hosted mandate
pages. The creditor is the merchant (the account's business name). A wrong MAC, another
account's or an unknown mandate all get the same 404. The mandate comes through the
billing contract (``retrieve_mandate_document``).
"""

from __future__ import annotations

from html import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from portal_app import i18n
from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import ResourceMissing
from portal_app.i18n import _
from portal_app.routes import MANDATE_PAGE
from portal_app.web.html_page import CARD_STYLE, html_page, message_page
from portal_app.web.test_authorization import page_policy

HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
           "X-Robots-Tag": "noindex, nofollow", "Content-Security-Policy": page_policy()}
SEPA_TEXT = _("By signing this mandate form, you authorise (A) {business} and its payment "
              "service provider to send instructions to your bank to debit your account and "
              "(B) your bank to debit your account in accordance with those instructions. As "
              "part of your rights, you are entitled to a refund from your bank under the "
              "terms and conditions of your agreement with your bank. A refund must be "
              "claimed within 8 weeks starting from the date on which your account was "
              "debited.")
TITLE = _("Direct Debit mandate")
DEBIT_TEXT = _("You authorise {business} to debit your account in accordance with this "
               "mandate.")


def mandate_html(document: StripeObject, *, locale: str) -> str:
    """The page of a mandate (``retrieve_mandate_document``) in ``locale``."""
    def t(message: str, **values: str) -> str:
        return escape(i18n.gettext(locale, message, **values))

    mandate, pm = document["mandate"], document["payment_method"]
    business = str(document["creditor"])
    type = mandate["payment_method_details"]["type"]
    details = mandate["payment_method_details"].get(type) or {}
    account = pm.get(type) or {}
    acceptance = mandate["customer_acceptance"]
    rows = [(t(_("Creditor")), escape(business))]
    if details.get("reference"):
        rows.append((t(_("Mandate reference")), _ltr(str(details["reference"]))))
    if account.get("last4"):
        label = "IBAN" if type == "sepa_debit" else str(account.get("bank_name") or "")
        rows.append((t(_("Account")), _ltr(f"{label} •••• {account['last4']}".strip())))
    if pm["billing_details"].get("name"):
        rows.append((t(_("Account holder")), escape(str(pm["billing_details"]["name"]))))
    if acceptance.get("accepted_at"):
        when = i18n.format_datetime(from_unix(acceptance["accepted_at"]), locale)
        rows.append((t(_("Accepted on")), escape(when)))
    rows.append((t(_("Status")), t(_("Active")) if mandate["status"] == "active"
                 else t(_("Inactive"))))
    text = SEPA_TEXT if type == "sepa_debit" else DEBIT_TEXT
    rows_html = "\n    ".join(f'<div class="row"><dt>{k}</dt><dd>{v}</dd></div>'
                              for k, v in rows)
    return html_page(locale=locale, title=i18n.gettext(locale, TITLE),
                     style=CARD_STYLE + MANDATE_STYLE,
                     body=BODY.format(title=t(TITLE), rows=rows_html,
                                      text=t(text, business=business)))


def _ltr(text: str) -> str:
    # Account numbers and references read left to right in a right-to-left page too.
    return f'<bdi dir="ltr">{escape(text)}</bdi>'


class MandatePage:
    """The mandate page's endpoint, on units of work from ``uow_factory``."""

    def __init__(self, uow_factory: UnitOfWorkFactory = UnitOfWork) -> None:
        self.uow_factory = uow_factory

    def _read(self, account: str, mandate: str, mac: str) -> StripeObject:
        return billing_provider(account, uow=self.uow_factory()).retrieve_mandate_document(
            mandate, mac=mac)

    async def show(self, request: Request) -> Response:
        """GET: the mandate, or one 404 for every reason it cannot be shown."""
        locale = i18n.negotiate(request.query_params.get("locale"),
                                request.headers.get("accept-language"))
        p = request.path_params
        try:
            document = await run_in_threadpool(self._read, p["account"], p["mandate"],
                                               p["mac"])
        except ResourceMissing:
            text = i18n.gettext(locale, _("This mandate could not be found."))
            return HTMLResponse(message_page(locale=locale, title="404", message=text),
                                status_code=404, headers=HEADERS)
        return HTMLResponse(mandate_html(document, locale=locale), headers=HEADERS)

    def routes(self) -> list[Route]:
        return [Route(MANDATE_PAGE, self.show, methods=["GET"])]


ROUTES: list = MandatePage().routes()

MANDATE_STYLE = """
  .mandate { margin: 0; font-size: 13px; line-height: 1.6; color: var(--muted); }
"""

BODY = """<main>
  <h1>{title}</h1>
  <dl>
    {rows}
  </dl>
  <p class="mandate">{text}</p>
</main>"""
