"""The portal in German and Arabic, in Chromium against the served production build.

Nothing in the page knows these languages: their catalogs alone make the
headings German and the layout right-to-left.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from portal_app.db import UnitOfWork
from tests.portal_app.pages.test_portal_browser import create_session, text_of
from tests.portal_app.views.test_overview import subscribed_customer

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


@pytest.fixture
def customer(account_id: str, database: Engine) -> str:
    """A customer subscribed to "Pro plan" at 19.99 EUR a month (wall clock: the server's)."""
    live_uow: Callable[[], UnitOfWork] = lambda: UnitOfWork(database)  # noqa: E731
    return subscribed_customer(account_id, live_uow)[0]


def open_portal(page: Any, live_server: str, url: str) -> None:
    page.goto(url)
    page.wait_for_url(f"{live_server}/portal**")
    page.locator(".portal-product").first.wait_for()


def test_a_german_session_reads_german(live_server: str, api_key: str, customer: str,
                                       page: Any) -> None:
    open_portal(page, live_server, create_session(live_server, api_key, customer, locale="de"))

    assert page.locator('[lang="de"][dir="ltr"]').count() >= 1
    for heading in ("Ihre Abonnements", "Zahlungsmethode", "Rechnungsverlauf"):
        assert page.get_by_text(heading, exact=True).count() >= 1, heading
    assert text_of(page.locator(".portal-price")) == "19,99 €"
    assert page.get_by_text("Verlängert sich am ").count() == 1
    assert page.get_by_text("Your subscriptions").count() == 0
    assert page.title() == "Abrechnung · Acme Cloud"


def test_an_arabic_session_is_right_to_left(live_server: str, api_key: str, customer: str,
                                            page: Any) -> None:
    open_portal(page, live_server, create_session(live_server, api_key, customer, locale="ar"))

    root = page.locator('[lang="ar"][dir="rtl"]')
    assert root.count() >= 1
    assert root.first.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert page.get_by_text("اشتراكاتك", exact=True).count() >= 1
    assert page.get_by_text("سجل الفواتير", exact=True).count() >= 1
    # Mirrored: the status badge sits left of the plan's name, which is at the card's right.
    product = page.locator(".portal-product").first.bounding_box()
    badge = page.get_by_text("نشط", exact=True).first.bounding_box()
    assert product is not None and badge is not None
    assert badge["x"] + badge["width"] < product["x"]

@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("locale", ["de", "ar"])
def test_screenshots(live_server: str, api_key: str, customer: str, page: Any,
                     locale: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    open_portal(page, live_server, create_session(live_server, api_key, customer,
                                                  locale=locale))
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"i18n-{locale}-{width}.png"), full_page=True)
