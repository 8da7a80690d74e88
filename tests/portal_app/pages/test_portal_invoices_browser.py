"""The invoice history in Chromium: paging, the hosted invoice page, the PDF download.

A customer billed 12 times opens the portal, follows "View all invoices", pages
forward and back, downloads a PDF and opens an invoice's hosted page. Pages are
screenshotted at phone and desktop width into /tmp/shots/invoices/.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine

from portal_app.billing import renewals
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from tests.portal_app.pages.browser import SHOTS, screenshots
from tests.portal_app.pages.test_portal_browser import create_session, text_of
from tests.portal_app.views.test_overview import provider_of, subscribed_customer

pytestmark = pytest.mark.browser

shoot = screenshots("invoices")
START = datetime(2025, 6, 1, 12, tzinfo=UTC)  # a year ago: every invoice is in the past


@pytest.fixture
def customer(account_id: str, database: Engine) -> str:
    """A customer whose €19.99 monthly plan was billed 12 times (June 2025 – May 2026)."""
    clock = FrozenClock(START)
    uow: Callable[[], UnitOfWork] = lambda: UnitOfWork(database, clock=clock)  # noqa: E731
    customer, _ = subscribed_customer(account_id, uow, name="Ada Lovelace")
    renewals.advance_clock(clock, START + timedelta(days=11 * 30.5), account_id=account_id,
                           uow_factory=uow)
    assert len(provider_of(account_id, uow).list_invoices(customer)) == 12
    return customer


def test_page_through_the_history_download_a_pdf_and_open_the_hosted_page(
        live_server: str, api_key: str, customer: str, page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(create_session(live_server, api_key, customer, locale="en"))
    page.locator(".portal-all-invoices").wait_for()
    expect(page.locator(".portal-invoice")).to_have_count(5)  # the latest few
    shoot(page, "overview")
    page.locator(".portal-all-invoices").click()
    page.wait_for_url("**/portal/invoices**")

    rows = page.locator(".portal-history-invoice")
    expect(rows).to_have_count(10)
    range_text = page.locator(".portal-invoice-range")
    expect(range_text).to_have_text("1–10 of 12")
    expect(page.locator(".portal-invoices-previous")).to_be_disabled()
    assert text_of(rows.first).startswith("May 1, 2026")
    shoot(page, "history")

    page.locator(".portal-invoices-next").click()
    expect(range_text).to_have_text("11–12 of 12")
    expect(rows).to_have_count(2)
    expect(page.locator(".portal-invoices-next")).to_be_disabled()
    first_number = text_of(rows.last.locator(".rt-Text").nth(1))
    assert first_number.endswith("-0001")

    with page.expect_download() as download_info:
        rows.last.locator(".portal-invoice-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"Invoice-{first_number}.pdf"
    data = Path(download.path()).read_bytes()
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert first_number in text and "€19.99" in text and "Ada Lovelace" in text
    (SHOTS / "invoices").mkdir(parents=True, exist_ok=True)
    (SHOTS / "invoices" / "downloaded.pdf").write_bytes(data)

    page.locator(".portal-invoices-previous").click()
    expect(range_text).to_have_text("1–10 of 12")

    hosted = rows.first.locator(".portal-invoice-view").get_attribute("href")
    assert hosted and hosted.startswith(f"{live_server}/invoices/")
    page.goto(hosted)
    expect(page.locator(".badge.status")).to_have_text("Paid")
    expect(page.locator("h1.headline")).to_contain_text("€19.99 paid on")
    shoot(page, "hosted")
    with page.expect_download() as pdf_info:
        page.locator(".button.download").click()
    assert pdf_info.value.suggested_filename.startswith("Invoice-")
    assert hosted.endswith("?locale=en")  # the portal's language
    page.goto(hosted.replace("?locale=en", "?locale=ar"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    shoot(page, "hosted-ar")
