"""Past-due recovery in Chromium: "Payment failed" on the overview, a decline, then paying
with another saved card brings the subscription back to active.

Pages are screenshotted at phone and desktop width into /tmp/shots/h4/.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine

from portal_app.billing import renewals
from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.clock import FrozenClock, utc_now
from portal_app.db import UnitOfWork
from tests.portal_app.pages.browser import screenshots
from tests.portal_app.pages.test_portal_browser import create_session, text_of
from tests.portal_app.views.test_overview import provider_of, subscribed_customer

pytestmark = pytest.mark.browser

shoot = screenshots("h4")


@pytest.fixture
def customer(account_id: str, database: Engine) -> str:
    """Ada's €19.99 plan renewed a few days ago on her new default card, which declined."""
    start = utc_now() - timedelta(days=34)
    clock = FrozenClock(start)
    uow: Callable[[], UnitOfWork] = lambda: UnitOfWork(database, clock=clock)  # noqa: E731
    customer, sub = subscribed_customer(account_id, uow, name="Ada Lovelace")
    billing = provider_of(account_id, uow)
    failing = billing.attach_payment_method("pm_card_chargeCustomerFail", customer_id=customer)
    billing.set_default_payment_method(failing["id"], customer_id=customer)
    renewals.advance_clock(clock, utc_now() - timedelta(hours=1), account_id=account_id,
                           uow_factory=uow)
    assert billing.retrieve_subscription(sub["id"], customer_id=customer)["status"] == "past_due"
    return customer


def test_pay_a_past_due_invoice_after_a_decline(live_server: str, api_key: str,
                                                customer: str, page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(create_session(live_server, api_key, customer, locale="en"))
    notice = page.locator(".portal-past-due")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("Payment failed")
    assert "We couldn't collect €19.99 for Pro plan on " in text_of(
        page.locator(".portal-past-due-message"))
    expect(page.locator(".portal-past-due-reason")).to_have_text("Your card was declined.")
    expect(page.locator(".portal-past-due-retry")).to_contain_text("We'll try again on ")
    shoot(page, "overview-past-due")

    page.locator(".portal-pay-now").click()
    page.wait_for_url("**/portal/invoices/*/pay")
    expect(page.locator(".portal-pay-amount")).to_have_text("€19.99")
    methods = page.locator(".portal-pay-method")
    expect(methods).to_have_count(2)
    shoot(page, "pay")

    page.locator(".portal-pay-confirm").click()  # the failing default, preselected
    expect(page.locator(".portal-error")).to_have_text("Your card was declined.")
    shoot(page, "pay-declined")

    methods.filter(has_text="4242").click()
    expect(page.locator(".portal-error")).to_have_count(0)
    page.locator(".portal-pay-confirm").click()
    page.wait_for_url("**/portal")
    expect(page.locator(".portal-past-due")).to_have_count(0)
    expect(page.get_by_text("Active").first).to_be_visible()
    shoot(page, "recovered")


def test_three_d_secure_through_the_test_page(live_server: str, api_key: str, account_id: str,
                                              customer: str, database: Engine,
                                              page: Any) -> None:
    billing = LocalBillingProvider(account_id=account_id, clock=utc_now,
                                   uow_factory=lambda: UnitOfWork(database))
    billing.attach_payment_method("pm_card_threeDSecure2Required", customer_id=customer)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(create_session(live_server, api_key, customer, locale="en"))
    page.locator(".portal-pay-now").click()
    page.wait_for_url("**/portal/invoices/*/pay")
    page.locator(".portal-pay-method").filter(has_text="3220").click()
    page.locator(".portal-pay-confirm").click()
    page.wait_for_url("**/test/authorize/**")
    expect(page.locator(".amount")).to_have_text("€19.99")
    shoot(page, "three-d-secure")
    page.locator("button.authorize").click()
    page.wait_for_url("**/portal/invoices/*/pay?*redirect_status=succeeded*")
    expect(page.locator(".portal-pay-settled")).to_have_text("Payment authorized. Thank you!")
    shoot(page, "authorized")
    page.get_by_role("button", name="Back to your subscriptions").click()
    page.wait_for_url("**/portal")
    expect(page.locator(".portal-past-due")).to_have_count(0)
