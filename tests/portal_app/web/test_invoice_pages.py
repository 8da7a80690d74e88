"""The hosted invoice page and the PDF at their unguessable URLs."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import pypdf
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal_app.accounts import services as accounts
from portal_app.accounts.models import Account
from portal_app.billing.provider import BillingProvider, StripeObject
from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.invoice_documents.links import invoice_mac
from portal_app.routes import invoice_page, invoice_pdf
from portal_app.web.invoice_pages import invoice_routes
from tests.portal_app.invoice_documents.conftest import issue_invoice

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def browser(make_uow: UowFactory) -> TestClient:
    return TestClient(Starlette(routes=invoice_routes(make_uow)), follow_redirects=False)


@pytest.fixture
def provider(account_id: str, clock: FrozenClock, make_uow: UowFactory) -> BillingProvider:
    return LocalBillingProvider(account_id=account_id, clock=clock, uow_factory=make_uow)


@pytest.fixture
def invoice(provider: BillingProvider) -> StripeObject:
    return issue_invoice(provider)


def path(url: str) -> str:
    return urlsplit(url).path


def secret(account_id: str, make_uow: UowFactory) -> str:
    with make_uow() as uow:
        return uow.get(Account, account_id, account_id=account_id).fingerprint_key


def test_the_hosted_page_shows_the_invoice(browser: TestClient, invoice: StripeObject) -> None:
    response = browser.get(path(invoice["hosted_invoice_url"]))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    page = response.text
    for expected in [invoice["number"], "Acme Cloud", "Paid", "€27.00 paid on January 31, 2026",
                     "Download PDF", "Erika Mustermann", "Subtotal", "€30.00", "-€3.00"]:
        assert expected in page, expected
    assert f'href="{invoice["invoice_pdf"]}"' in page
    assert "Pay this invoice" not in page  # paid: nothing to pay


def test_the_pdf_is_an_attachment_named_by_the_number(browser: TestClient,
                                                      invoice: StripeObject) -> None:
    assert invoice["invoice_pdf"] == invoice["hosted_invoice_url"] + "/pdf"
    response = browser.get(path(invoice["invoice_pdf"]))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == \
        f'attachment; filename="Invoice-{invoice["number"]}.pdf"'
    text = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert invoice["number"] in text and "€27.00" in text


def not_found(browser: TestClient, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 404
    assert response.headers["cache-control"] == "private, no-store"
    return response.text


def test_a_wrong_mac_is_a_404_that_says_nothing_of_why(browser: TestClient,
                                                       invoice: StripeObject) -> None:
    url = path(invoice["hosted_invoice_url"])
    account, invoice_id, mac = url.split("/")[2:5]
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    bad = not_found(browser, invoice_page(account, invoice_id, flipped))
    assert not_found(browser, invoice_pdf(account, invoice_id, flipped)) == bad
    assert not_found(browser, invoice_page(account, invoice_id, "x")) == bad
    assert not_found(browser, invoice_page(account, "in_nothing", mac)) == bad
    assert not_found(browser, invoice_page("acct_nothing", invoice_id, mac)) == bad
    text = bad.split("</style>")[1]  # what the page says (its fonts name BlinkMacSystemFont)
    assert "Invoice not found" in text and "mac" not in text.lower()


def test_another_accounts_invoice_is_a_404(browser: TestClient, invoice: StripeObject,
                                          clock: FrozenClock, make_uow: UowFactory) -> None:
    other = accounts.create_account(business_name="Other", email="o@other.test",
                                    uow=make_uow()).id
    # A valid MAC for the other account, naming this account's invoice: the provider of
    # the other account does not find it.
    forged = invoice_page(other, invoice["id"], invoice_mac(secret(other, make_uow),
                                                            invoice["id"]))
    not_found(browser, forged)
    # This account's MAC under the other account's id: the MAC does not match.
    mac = path(invoice["hosted_invoice_url"]).split("/")[4]
    not_found(browser, invoice_page(other, invoice["id"], mac))


def test_a_draft_has_no_links_and_no_page(browser: TestClient, provider: BillingProvider,
                                          invoice: StripeObject, clock: FrozenClock,
                                          account_id: str, make_uow: UowFactory) -> None:
    [sub] = provider.list_subscriptions(invoice["customer"])
    provider.pause_subscription(sub["id"], customer_id=invoice["customer"],
                                behavior="keep_as_draft")
    provider.advance_clock(clock() + timedelta(days=32))
    [draft] = [i for i in provider.list_invoices(invoice["customer"]) if i["status"] == "draft"]
    assert (draft["hosted_invoice_url"], draft["invoice_pdf"]) == (None, None)
    mac = invoice_mac(secret(account_id, make_uow), draft["id"])
    not_found(browser, invoice_page(account_id, draft["id"], mac))
    not_found(browser, invoice_pdf(account_id, draft["id"], mac))


def test_the_language_is_the_query_then_the_customers_then_the_browsers(
        browser: TestClient, provider: BillingProvider) -> None:
    french = issue_invoice(provider, locales=("fr-FR",))
    url = path(french["hosted_invoice_url"])
    assert "Télécharger le PDF" in browser.get(url).text
    assert 'lang="fr-FR"' in browser.get(url).text
    german = browser.get(url + "?locale=de").text
    assert "PDF herunterladen" in german and "27,00\xa0€" in german
    assert f'href="{french["invoice_pdf"]}?locale=de" download' in german
    pdf = browser.get(path(french["invoice_pdf"]) + "?locale=de")
    assert "Rechnung" in pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    hostile = browser.get(url, params={"locale": 'de-"><script>alert(1)</script>'}).text
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile
    arabic = browser.get(url + "?locale=ar").text
    assert 'dir="rtl"' in arabic and "تنزيل PDF" in arabic
    plain = issue_invoice(provider)
    assert "PDF herunterladen" in browser.get(
        path(plain["hosted_invoice_url"]), headers={"accept-language": "de-DE,de;q=0.9"}).text
    assert 'lang="en"' in browser.get(path(plain["hosted_invoice_url"]) + "?locale=xx").text


def test_an_open_invoice_is_past_due_with_a_pay_button(browser: TestClient,
                                                       provider: BillingProvider,
                                                       invoice: StripeObject,
                                                       clock: FrozenClock) -> None:
    customer = invoice["customer"]
    failing = provider.attach_payment_method("pm_card_chargeCustomerFail", customer_id=customer)
    provider.set_default_payment_method(failing["id"], customer_id=customer)
    provider.advance_clock(clock() + timedelta(days=29))
    [renewal] = [i for i in provider.list_invoices(customer) if i["status"] == "open"]

    page = browser.get(path(renewal["hosted_invoice_url"])).text
    assert '<span class="badge status">Past due</span>' in page
    assert "€30.00 due" in page  # no discount on the renewal
    assert f'<a class="button primary" href="/portal/invoices/{renewal["id"]}/pay">' in page
    assert "Pay this invoice" not in browser.get(path(invoice["hosted_invoice_url"])).text
