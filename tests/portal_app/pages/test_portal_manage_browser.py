"""Managing a subscription in Chromium against the served production build.

The merchant's backend makes the session with the ``stripe`` SDK; the customer
changes plan (with the preview), schedules a downgrade and takes it back,
cancels at period end and changes their mind, cancels at once, pauses and
resumes, and follows a deep link. Each new page is screenshotted at phone and
desktop width into /tmp/shots/issue4-*.png.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from portal_app.billing.catalog import create_price
from portal_app.billing.customers import create_customer, update_customer
from portal_app.billing.models import Invoice, Subscription, SubscriptionStatus
from portal_app.billing.payment_methods import attach_payment_method
from portal_app.billing.provider import ItemSpec
from portal_app.billing.subscriptions import create_subscription
from portal_app.db import UnitOfWork
from portal_app.portal import configurations
from tests.portal_app.pages.browser import at, screenshots
from tests.portal_app.pages.test_portal_browser import create_session, text_of

pytestmark = pytest.mark.browser

shoot = screenshots("", prefix="issue4-", settle_ms=250)
Uow = Callable[[], UnitOfWork]


@pytest.fixture
def live_uow(database: Engine) -> Uow:
    """Units of work on the wall clock: the live server judges links by real time."""
    return lambda: UnitOfWork(database)


class Shop:
    """Starter (10/100 EUR) and Growth (30/300 EUR), and a customer on 2 × Starter monthly."""

    def __init__(self, account_id: str, uow: Uow) -> None:
        def price(product: str | None, amount: int, interval: str, name: str | None = None,
                  ) -> Any:
            return create_price(account_id=account_id, uow=uow(), currency="eur",
                                        unit_amount=amount, interval=interval, product=product,
                                        product_name=name)

        self.account_id, self.uow = account_id, uow
        self.starter = price(None, 1000, "month", "Starter")
        self.starter_year = price(self.starter.product_id, 10000, "year")
        self.growth = price(None, 3000, "month", "Growth")
        self.growth_year = price(self.growth.product_id, 30000, "year")
        self.customer = create_customer(account_id=account_id, uow=uow(),
                                                email="ada@example.test").id
        card = attach_payment_method("pm_card_visa", customer_id=self.customer,
                                             account_id=account_id, uow=uow()).id
        update_customer(self.customer, account_id=account_id, uow=uow(),
                                default_payment_method=card)
        self.sub = create_subscription(
            account_id=account_id, uow=uow(), customer=self.customer,
            items=[ItemSpec(self.starter.id, 2)]).id

    def configuration(self, **overrides: Any) -> str:
        update = {
            "enabled": True, "default_allowed_updates": ["price", "quantity",
                                                         "promotion_code"],
            "proration_behavior": "always_invoice",
            "products": [
                {"product": self.starter.product_id,
                 "prices": [self.starter.id, self.starter_year.id],
                 "adjustable_quantity": {"enabled": True, "minimum": 1, "maximum": 20}},
                {"product": self.growth.product_id,
                 "prices": [self.growth.id, self.growth_year.id],
                 "adjustable_quantity": {"enabled": True, "minimum": 1, "maximum": 20}},
            ],
            "schedule_at_period_end": {"conditions": [{"type": "decreasing_item_amount"}]},
        }
        update.update(overrides.pop("subscription_update", {}))
        features = {
            "subscription_update": update,
            "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
            "subscription_pause": {"enabled": True, "duration": {
                "type": "interval_options",
                "interval_options": [{"interval": "month", "interval_count": 1},
                                     {"interval": "month", "interval_count": 3}]}},
            "invoice_history": {"enabled": True},
        }
        for key, value in overrides.items():
            features[key] = {**features[key], **value}
        return configurations.create_configuration(
            {"features": features, "business_profile": {"headline": "Cloud hosting"}},
            account_id=self.account_id, uow=self.uow()).id

    def subscription(self) -> Subscription:
        with self.uow() as uow:
            return uow.session.get(Subscription, self.sub)


@pytest.fixture
def shop(account_id: str, live_uow: Uow) -> Shop:
    return Shop(account_id, live_uow)


def open_portal(page: Any, live_server: str, api_key: str, shop: Shop, **params: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(create_session(live_server, api_key, shop.customer, locale="en", **params))


def on_overview(page: Any) -> Any:
    at(page, "/portal")
    card = page.locator(".portal-subscription").first
    card.wait_for()
    return card


def test_upgrade_with_preview_matches_the_invoice(live_server: str, api_key: str, shop: Shop,
                                                  page: Any) -> None:
    open_portal(page, live_server, api_key, shop, configuration=shop.configuration())
    card = on_overview(page)
    shoot(page, "overview")

    card.locator(".portal-update").click()
    at(page, f"/portal/subscriptions/{shop.sub}/update")
    page.locator(".portal-price-option").first.wait_for()
    assert page.locator(".portal-continue").is_disabled()
    shoot(page, "update")
    page.locator(".portal-interval").get_by_role("radio", name="Yearly").click()
    expect(page.locator(".portal-price-option").first).to_contain_text("100.00")
    page.locator(".portal-interval").get_by_role("radio", name="Monthly").click()
    page.locator(f'.portal-price-option[data-price="{shop.growth.id}"]').click()
    page.locator(".portal-continue").click()

    page.locator(".portal-preview").wait_for()
    assert text_of(page.locator(".portal-new-plan")) == "2 × Growth"
    assert page.locator(".portal-preview-line").count() == 2
    due_now = text_of(page.locator(".portal-due-now"))
    shoot(page, "preview")
    page.locator(".portal-confirm").click()

    card = on_overview(page)
    expect(page.locator(".portal-banner")).to_have_text("Your plan was updated.")
    expect(card.locator(".portal-product")).to_have_text("Growth")
    with shop.uow() as uow:
        invoice = uow.session.exec(select(Invoice).where(Invoice.subscription_id == shop.sub)
                                   .order_by(col(Invoice.created).desc(),
                                             col(Invoice.number).desc())).first()
    assert invoice is not None and invoice.billing_reason == "subscription_update"
    assert due_now == f"€{invoice.amount_due / 100:.2f}"
    assert text_of(page.locator(".portal-invoice").first).find(due_now) >= 0
    shoot(page, "updated")


def test_scheduled_downgrade_and_its_cancellation(live_server: str, api_key: str, shop: Shop,
                                                  page: Any) -> None:
    open_portal(page, live_server, api_key, shop, configuration=shop.configuration())
    on_overview(page).locator(".portal-update").click()
    page.locator(".portal-decrease").click()
    expect(page.locator(".portal-quantity-value")).to_have_text("1")
    page.locator(".portal-continue").click()
    page.locator(".portal-scheduled-preview").wait_for()
    scheduled = text_of(page.locator(".portal-scheduled-preview"))
    assert scheduled.startswith("Changes to 1 × Starter on ")
    shoot(page, "preview-scheduled")
    page.locator(".portal-confirm").click()

    card = on_overview(page)
    expect(card.locator(".portal-scheduled")).to_have_text(scheduled.replace(" ", "\xa0"))
    assert card.locator(".portal-update").count() == 0
    shoot(page, "overview-scheduled")
    card.locator(".portal-unschedule").click()

    expect(page.locator(".portal-banner")).to_have_text("The scheduled change was canceled.")
    expect(card.locator(".portal-scheduled")).to_have_count(0)
    expect(card.locator(".portal-update")).to_have_count(1)


def test_cancel_at_period_end_then_dont_cancel(live_server: str, api_key: str, shop: Shop,
                                               page: Any) -> None:
    open_portal(page, live_server, api_key, shop, configuration=shop.configuration())
    on_overview(page).locator(".portal-cancel").click()
    at(page, f"/portal/subscriptions/{shop.sub}/cancel")
    page.locator(".portal-cancel-ends").wait_for()
    shoot(page, "cancel")
    page.locator(".portal-cancel-continue").click()
    page.locator(".portal-confirm-cancel").wait_for()
    shoot(page, "cancel-confirm")
    page.locator(".portal-confirm-cancel").click()
    page.locator(".portal-to-overview").click()  # from the cancel flow's outcome

    card = on_overview(page)
    expect(card.locator(".portal-date")).to_contain_text("Cancels on ")
    assert shop.subscription().cancel_at_period_end
    shoot(page, "overview-canceling")
    card.locator(".portal-reactivate").click()

    page.get_by_text("Your subscription will continue.").wait_for()
    expect(card.locator(".portal-date")).to_contain_text("Renews on ")
    assert not shop.subscription().cancel_at_period_end


def test_immediate_cancel_from_a_deep_link_redirects(live_server: str, api_key: str,
                                                     shop: Shop, page: Any) -> None:
    config = shop.configuration(subscription_cancel={"mode": "immediately",
                                                     "proration_behavior": "none"})
    open_portal(page, live_server, api_key, shop, configuration=config, flow_data={
        "type": "subscription_cancel", "subscription_cancel": {"subscription": shop.sub},
        "after_completion": {"type": "redirect",
                             "redirect": {"return_url": "http://127.0.0.1:3000/ping?bye=1"}}})

    at(page, f"/portal/subscriptions/{shop.sub}/cancel")  # straight to the step
    assert text_of(page.locator(".portal-cancel-ends")) == "Your subscription ends today."
    page.locator(".portal-cancel-continue").click()
    page.locator(".portal-confirm-cancel").click()

    page.wait_for_url("**/ping?bye=1")
    assert shop.subscription().status == SubscriptionStatus.canceled


def test_pause_and_resume(live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    open_portal(page, live_server, api_key, shop, configuration=shop.configuration())
    on_overview(page).locator(".portal-pause").click()
    at(page, f"/portal/subscriptions/{shop.sub}/pause")
    page.locator(".portal-pause-option").first.wait_for()
    shoot(page, "pause")
    page.locator('.portal-pause-option[data-key="3-month"]').click()
    page.locator(".portal-confirm-pause").click()

    card = on_overview(page)
    expect(card.locator(".portal-date")).to_contain_text("Paused · resumes on ")
    assert shop.subscription().pause_collection
    shoot(page, "overview-paused")
    card.locator(".portal-resume").click()

    page.get_by_text("Your subscription is active again.").wait_for()
    expect(card.locator(".portal-date")).to_contain_text("Renews on ")
    assert not shop.subscription().pause_collection


def test_hosted_confirmation_after_a_pause_link(live_server: str, api_key: str, shop: Shop,
                                                page: Any) -> None:
    open_portal(page, live_server, api_key, shop, configuration=shop.configuration(),
                flow_data={"type": "subscription_pause",
                           "subscription_pause": {"subscription": shop.sub},
                           "after_completion": {"type": "hosted_confirmation",
                                                "hosted_confirmation": {
                                                    "custom_message": "Enjoy the break!"}}})
    at(page, f"/portal/subscriptions/{shop.sub}/pause")
    page.locator(".portal-confirm-pause").click()

    at(page, "/portal/done")
    assert text_of(page.locator(".portal-done-message")) == "Enjoy the break!"
    assert text_of(page.locator(".portal-done-title")) == "Your subscription is paused."
    shoot(page, "done")
