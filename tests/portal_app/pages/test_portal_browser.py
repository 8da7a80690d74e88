"""The portal overview in Chromium against the served production build.

A merchant backend creates the session with the official ``stripe`` SDK pointed
at the live server; the customer opens the link; another browser, or a page
framing the portal, gets nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.engine import Engine

from portal_app.db import UnitOfWork
from tests.portal_app.views.test_overview import subscribed_customer

pytestmark = pytest.mark.browser

RETURN_URL = "https://acme.test/account"


@pytest.fixture
def live_uow(database: Engine) -> Callable[[], UnitOfWork]:
    """Units of work on the wall clock: the live server judges links by real time."""
    return lambda: UnitOfWork(database)


@pytest.fixture
def customer(account_id: str, live_uow: Callable[[], UnitOfWork]) -> str:
    """A customer subscribed to "Pro plan" at 19.99 EUR a month, paid by Visa."""
    return subscribed_customer(account_id, live_uow)[0]


def create_session(live_server: str, api_key: str, customer: str, **params: Any) -> str:
    """A portal session created the way a merchant's backend does: through the SDK."""
    client = stripe.StripeClient(api_key, base_addresses={"api": live_server},
                                 max_network_retries=0)
    session = client.v1.billing_portal.sessions.create(
        params={"customer": customer, "return_url": RETURN_URL, **params})
    assert session.url.startswith(f"{live_server}/p/")
    return session.url


def text_of(locator: Any) -> str:
    return locator.inner_text().replace("\xa0", " ").strip()


@pytest.mark.parametrize(("locale", "price", "renews", "expired"), [
    ("de", "19,99 €", "Verlängert sich am ", "Dieser Link ist abgelaufen"),
    ("en", "€19.99", "Renews on ", "This link has expired"),
])
def test_customer_sees_the_subscription_and_another_browser_does_not(
        live_server: str, api_key: str, customer: str, page: Any, browser: Any,
        locale: str, price: str, renews: str, expired: str) -> None:
    url = create_session(live_server, api_key, customer, locale=locale)

    page.goto(url)

    page.wait_for_url(f"{live_server}/portal**")  # the token left the address bar
    assert "/p/" not in page.url
    page.locator(".portal-product").first.wait_for()
    assert text_of(page.locator(".portal-product")) == "Pro plan"
    assert text_of(page.locator(".portal-price")) == price
    assert page.get_by_text(renews).count() == 1
    assert text_of(page.locator(".portal-payment-method")) == "Visa •••• 4242"
    assert page.locator(".portal-invoice").count() == 1
    assert page.locator(f'[lang="{locale}"]').count() >= 1
    assert page.locator(".portal-return").first.get_attribute("href") == RETURN_URL
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["portico_portal"]["httpOnly"] is True

    other = browser.new_context(base_url=live_server)
    try:
        stranger = other.new_page()
        response = stranger.goto(url)
        assert response is not None and response.status == 404
        assert stranger.get_by_text(expired).count() == 1  # in the session's language
        assert stranger.locator(f'a[href="{RETURN_URL}"]').count() == 1
        assert stranger.get_by_text("Pro plan").count() == 0

        stranger.goto("/portal/")  # straight to the page, without the cookie
        stranger.locator(".portal-problem").wait_for()
        assert text_of(stranger.locator(".portal-problem")) == "This link has expired"
        assert stranger.locator(".portal-product").count() == 0
    finally:
        other.close()


def test_portal_responses_refuse_framing(live_server: str, api_key: str,
                                         customer: str) -> None:
    link = create_session(live_server, api_key, customer)
    for path in ("/portal/", link.removeprefix(live_server), "/p/unknown-token"):
        response = httpx.get(f"{live_server}{path}", follow_redirects=False)
        assert response.status_code in (200, 303, 404), path
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path


def test_a_page_framing_the_portal_shows_nothing_of_it(live_server: str, api_key: str,
                                                      customer: str, page: Any) -> None:
    link = create_session(live_server, api_key, customer)
    page.set_content(
        '<h1 id="host">Embedding page</h1>'
        f'<iframe id="link" src="{link}" width="800" height="600"></iframe>'
        f'<iframe id="page" src="{live_server}/portal/" width="800" height="600"></iframe>'
    )
    page.wait_for_timeout(3000)  # give the frames every chance to render

    frames = [f for f in page.frames if f != page.main_frame]
    assert len(frames) == 2
    for frame in frames:
        assert not frame.url.startswith(live_server), frame.url  # Chromium's error page
        try:
            shown = frame.evaluate("document.body ? document.body.innerText : ''")
        except PlaywrightError:  # an error frame may refuse scripts: nothing is shown
            shown = ""
        assert "Pro plan" not in shown
        assert "expired" not in shown
        assert frame.locator(".portal-product, .portal-problem").count() == 0
