"""``hosted_invoice_url`` and ``invoice_pdf`` of invoices read through the ``stripe`` SDK."""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import urlsplit

import pypdf
import stripe
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal_app.db import UnitOfWork
from portal_app.settings import get_settings
from portal_app.web.invoice_pages import invoice_routes


def test_the_sdk_reads_links_that_open_the_page_and_the_pdf(
        client: stripe.StripeClient, make_uow: Callable[[], UnitOfWork]) -> None:
    product = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": product.id, "currency": "usd",
                                     "unit_amount": 4900, "recurring": {"interval": "month"}})
    customer = client.v1.customers.create({"payment_method": "pm_card_visa", "name": "Ada",
                                           "email": "ada@example.com"})
    client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    [listed] = client.v1.invoices.list({"customer": customer.id}).data
    invoice = client.v1.invoices.retrieve(listed.id)

    hosted, pdf = invoice.hosted_invoice_url, invoice.invoice_pdf
    assert hosted is not None and pdf == f"{hosted}/pdf"
    assert (listed.hosted_invoice_url, listed.invoice_pdf) == (hosted, pdf)
    assert hosted.startswith(f"{get_settings().public_url}/invoices/")
    assert invoice.id in hosted and len(urlsplit(hosted).path.split("/")[-1]) >= 22

    browser = TestClient(Starlette(routes=invoice_routes(make_uow)))
    page = browser.get(urlsplit(hosted).path)
    assert page.status_code == 200 and "$49.00 paid on" in page.text
    document = browser.get(urlsplit(pdf).path)
    assert document.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(document.content)).pages[0].extract_text()
    assert str(invoice.number) in text and "$49.00" in text and "Ada" in text
