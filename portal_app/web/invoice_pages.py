"""The hosted invoice page and the invoice PDF: plain HTTP routes at unguessable URLs.

``/invoices/<account>/<invoice>/<mac>`` (``hosted_invoice_url``) and ``.../pdf``
(``invoice_pdf``) open without a session, as Stripe's do: the MAC
(:mod:`portal_app.invoice_documents.links`) is the credential. A wrong MAC, an unknown
account or invoice, another account's invoice and a draft all get the same 404, which
says nothing of why. The invoice comes through the billing contract, so the same pages
serve a Stripe-backed account. The language is ``?locale=``, else the customer's first
preferred locale, else the browser's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from portal_app import i18n
from portal_app.accounts.models import Account
from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import ResourceMissing
from portal_app.i18n import _
from portal_app.invoice_documents.document import InvoiceDocument, invoice_document
from portal_app.invoice_documents.hosted import hosted_invoice_html
from portal_app.invoice_documents.links import invoice_pdf_url, mac_matches
from portal_app.invoice_documents.pdf import invoice_pdf
from portal_app.routes import INVOICE_PAGE, INVOICE_PDF, portal_invoice_pay
from portal_app.web.html_page import message_page

# The URL is the credential: never cached by a shared cache, never sent on as a Referer.
HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
           "X-Robots-Tag": "noindex, nofollow"}
FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class OpenedInvoice:
    """An invoice reached by a valid link, with what its documents need."""

    document: InvoiceDocument
    pdf_url: str


def open_invoice(account_id: str, invoice_id: str, mac: str, *, locale: str | None,
                 accept_language: str | None, uow: UnitOfWork) -> OpenedInvoice | None:
    """The invoice a link names, or None when the link opens nothing (for any reason)."""
    with uow:
        account = uow.session.get(Account, account_id)
        if account is None or not mac_matches(account.fingerprint_key, invoice_id, mac):
            return None
        billing = billing_provider(account_id, uow=uow)
        try:
            invoice: StripeObject = billing.retrieve_invoice(invoice_id)
            customer = billing.retrieve_customer(invoice["customer"])
        except ResourceMissing:
            return None
        if invoice["status"] == "draft":
            return None
        preferred = (customer.get("preferred_locales") or [None])[0]
        chosen = i18n.negotiate(locale or preferred, accept_language)
        document = invoice_document(invoice, business_name=account.business_name,
                                    locale=chosen, now=uow.clock())
        return OpenedInvoice(document=document,
                             pdf_url=invoice_pdf_url(account_id, account.fingerprint_key,
                                                     invoice_id))


def pdf_filename(document: InvoiceDocument) -> str:
    """``Invoice-<number>.pdf``, with only filename-safe characters."""
    return f"Invoice-{FILENAME_UNSAFE.sub('-', document.number).strip('-') or 'invoice'}.pdf"


def _not_found(request: Request) -> Response:
    locale = i18n.negotiate(None, request.headers.get("accept-language"))
    title = i18n.gettext(locale, _("Invoice not found"))
    text = i18n.gettext(locale, _("This invoice link is not valid. Ask the business that "
                                  "sent it for a new one."))
    return HTMLResponse(message_page(locale=locale, title=title, message=text,
                                     above=f"<h1>{escape(title)}</h1>"),
                        status_code=404, headers=HEADERS)


def invoice_routes(uow_factory: UnitOfWorkFactory = UnitOfWork) -> list[Route]:
    """The hosted invoice page and the PDF, on units of work from ``uow_factory``."""

    async def opened(request: Request) -> OpenedInvoice | None:
        params = request.path_params
        return await run_in_threadpool(
            open_invoice, params["account"], params["invoice"], params["mac"],
            locale=request.query_params.get("locale"),
            accept_language=request.headers.get("accept-language"), uow=uow_factory())

    async def page(request: Request) -> Response:
        found = await opened(request)
        if found is None:
            return _not_found(request)
        # Paying goes through the portal (a session of the invoice's customer).
        pay_url = portal_invoice_pay(found.document.invoice_id)
        pdf_url = found.pdf_url
        if request.query_params.get("locale"):  # the PDF in the page's language
            pdf_url += "?" + urlencode({"locale": found.document.locale})
        return HTMLResponse(hosted_invoice_html(found.document, pdf_url=pdf_url,
                                                pay_url=pay_url), headers=HEADERS)

    async def pdf(request: Request) -> Response:
        found = await opened(request)
        if found is None:
            return _not_found(request)
        data = await run_in_threadpool(invoice_pdf, found.document)
        return Response(data, media_type="application/pdf", headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="{pdf_filename(found.document)}"'})

    handlers: list[tuple[str, Callable]] = [(INVOICE_PAGE, page), (INVOICE_PDF, pdf)]
    return [Route(path, handler, methods=["GET"]) for path, handler in handlers]


ROUTES: list = invoice_routes()
