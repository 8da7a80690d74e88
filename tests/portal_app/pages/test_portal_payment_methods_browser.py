"""Payment methods in Chromium against the served production build.

The merchant's backend makes the session with the ``stripe`` SDK; the customer adds a card
(declined, then accepted) and makes it the default, adds a SEPA account after reading its
mandate, adds PayPal through the test authorization page and comes back, and meets the
remove guard. Every page is screenshotted at phone and desktop width into
/tmp/shots/h6_portal_payment_methods/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal_app.billing.customers import create_customer
from portal_app.billing.models import Mandate
from portal_app.billing.providers import billing_provider
from portal_app.portal import configurations
from tests.portal_app.pages.browser import at, screenshots
from tests.portal_app.pages.test_portal_browser import create_session, text_of
from tests.portal_app.pages.test_portal_manage_browser import Shop, live_uow, shop

pytestmark = pytest.mark.browser
__all__ = ["live_uow", "shop"]  # fixtures

shoot = screenshots("h6_portal_payment_methods")
METHODS = "/portal/payment-methods"


def configuration(shop: Shop) -> str:
    return configurations.create_configuration(
        {"features": {"payment_method_update": {"enabled": True},
                      "invoice_history": {"enabled": True},
                      "subscription_cancel": {"enabled": True, "mode": "at_period_end"}}},
        account_id=shop.account_id, uow=shop.uow()).id


def open_methods(page: Any, live_server: str, api_key: str, shop: Shop, *,
                 customer: str | None = None, locale: str = "en", overview: str = "",
                 **params: Any) -> None:
    """The portal from the merchant's link, then the payment methods page (``overview``:
    the overview's screenshot name)."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(create_session(live_server, api_key, customer or shop.customer, locale=locale,
                             configuration=configuration(shop), **params))
    if "flow_data" not in params:
        at(page, "/portal")
        page.locator(".portal-manage-methods").wait_for()
        if overview:
            shoot(page, overview)
        page.locator(".portal-manage-methods").click()
    at(page, METHODS)
    page.locator(".portal-pm, .portal-pm-empty").first.wait_for()


def to_add_form(page: Any) -> None:
    page.locator(".portal-add-method").click()
    at(page, f"{METHODS}/add")
    page.locator(".portal-pm-type").first.wait_for()


def field(page: Any, key: str) -> Any:
    return page.locator(f'[data-field="{key}"]')


def type_into(page: Any, key: str, text: str) -> None:
    box = field(page, key).locator("input")
    box.fill("")
    box.press_sequentially(text, delay=15)


def rows(page: Any) -> list[str]:
    return [text_of(t) for t in page.locator(".portal-pm-title").all()]


def test_add_a_card_declined_then_accepted_then_make_it_default(
        live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    open_methods(page, live_server, api_key, shop, overview="overview")
    assert rows(page) == ["Visa •••• 4242"]
    expect(page.locator(".portal-pm-default")).to_have_count(1)
    shoot(page, "list")
    to_add_form(page)

    type_into(page, "number", "4000000000000002")
    expect(field(page, "number").locator("input")).to_have_value("4000 0000 0000 0002")
    type_into(page, "expiry", "1")
    page.locator(".portal-pm-submit").click()
    expect(field(page, "expiry").locator(".portal-field-error")).to_have_text(
        "Your card's expiry date is invalid.")
    shoot(page, "field-error")
    type_into(page, "expiry", "1230")
    expect(field(page, "expiry").locator("input")).to_have_value("12 / 30")
    expect(field(page, "expiry").locator(".portal-field-error")).to_have_count(0)
    type_into(page, "cvc", "123")
    shoot(page, "add-card")
    page.locator(".portal-pm-submit").click()
    expect(page.locator(".portal-error")).to_have_text("Your card was declined.")
    shoot(page, "declined")

    type_into(page, "number", "5555555555554444")
    page.locator(".portal-pm-submit").click()

    at(page, METHODS)
    expect(page.locator(".portal-banner")).to_have_text("Your payment method was added.")
    expect(page.locator(".portal-pm")).to_have_count(2)
    assert sorted(rows(page)) == ["Mastercard •••• 4444", "Visa •••• 4242"]
    new_row = page.locator(".portal-pm").filter(has_text="Mastercard")
    new_row.locator(".portal-make-default").click()
    expect(page.locator(".portal-banner")).to_have_text(
        "Your default payment method was updated.")
    expect(new_row.locator(".portal-pm-default")).to_have_count(1)
    with shop.uow() as uow:
        customer = billing_provider(shop.account_id, uow=uow).retrieve_customer(shop.customer)
        default = customer["invoice_settings"]["default_payment_method"]
    assert default == new_row.get_attribute("data-method")


def test_add_a_sepa_account_with_its_mandate(live_server: str, api_key: str, shop: Shop,
                                             page: Any) -> None:
    open_methods(page, live_server, api_key, shop)
    to_add_form(page)
    page.locator('.portal-pm-type[data-type="sepa_debit"]').click()
    field(page, "iban").wait_for()
    mandate = text_of(page.locator(".portal-mandate"))
    assert "authorise Acme Cloud" in mandate and "8 weeks" in mandate
    type_into(page, "name", "Ada Lovelace")
    type_into(page, "iban", "de89370400440532013000")
    expect(field(page, "iban").locator("input")).to_have_value("DE89 3704 0044 0532 0130 00")
    expect(page.locator(".portal-pm-submit")).to_have_text("Accept and save")
    shoot(page, "add-sepa")
    page.locator(".portal-pm-submit").click()

    at(page, METHODS)
    expect(page.locator(".portal-banner")).to_have_text("Your payment method was added.")
    sepa = page.locator(".portal-pm").filter(has_text="SEPA Direct Debit")
    expect(sepa.locator(".portal-pm-title")).to_have_text("SEPA Direct Debit •••• 3000")
    expect(sepa.locator(".portal-pm-detail")).to_have_text("Bank code 37040044")
    with shop.uow() as uow:
        [mandate_row] = uow.session.exec(select(Mandate).where(
            Mandate.account_id == shop.account_id)).all()
        accepted = billing_provider(shop.account_id, uow=uow).retrieve_mandate(
            mandate_row.id, customer_id=shop.customer)["customer_acceptance"]
    assert accepted["type"] == "online"
    assert "Chrome" in accepted["online"]["user_agent"]
    assert accepted["online"]["ip_address"] in ("127.0.0.1", "::1")  # from the handshake


def test_paypal_round_trip_through_the_authorization_page(
        live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    open_methods(page, live_server, api_key, shop)
    to_add_form(page)
    page.locator('.portal-pm-type[data-type="paypal"]').click()
    expect(page.locator(".portal-pm-submit")).to_have_text("Continue with PayPal")
    shoot(page, "add-paypal")
    page.locator(".portal-pm-submit").click()

    page.wait_for_url(re.compile(r"/test/authorize/"))
    page.get_by_role("button", name=re.compile("Authorize", re.I)).click()

    at(page, METHODS)
    expect(page.locator(".portal-banner")).to_have_text("Your payment method was added.")
    expect(page.locator(".portal-pm").filter(has_text="PayPal")).to_have_count(1)
    assert "setup_intent" not in page.url  # the outcome was read once, then the list
    shoot(page, "after-paypal")


def test_the_last_method_a_plan_depends_on_stays(live_server: str, api_key: str, shop: Shop,
                                                 page: Any) -> None:
    # flow_data.type=payment_method_update opens the page directly.
    open_methods(page, live_server, api_key, shop,
                 flow_data={"type": "payment_method_update"})
    page.locator(".portal-remove").click()
    page.locator(".portal-confirm-remove").click()

    expect(page.locator(".portal-banner")).to_have_text(
        "Visa •••• 4242 is used to pay your Starter plan. Add another payment method "
        "before removing it.")
    assert rows(page) == ["Visa •••• 4242"]
    shoot(page, "remove-refused")


def test_a_first_method_in_arabic_becomes_the_default(live_server: str, api_key: str,
                                                      shop: Shop, page: Any) -> None:
    newcomer = create_customer(account_id=shop.account_id, uow=shop.uow(),
                               email="nadia@example.test").id
    open_methods(page, live_server, api_key, shop, customer=newcomer, locale="ar",
                 overview="overview-empty-ar")
    expect(page.locator(".portal-pm-empty")).to_contain_text("لا توجد طرق دفع بعد")
    assert page.locator('[dir="rtl"]').count() >= 1
    shoot(page, "empty-ar")
    to_add_form(page)
    type_into(page, "number", "4242424242424242")
    type_into(page, "expiry", "1230")
    type_into(page, "cvc", "123")
    shoot(page, "add-card-ar")
    page.locator(".portal-pm-submit").click()

    at(page, METHODS)
    expect(page.locator(".portal-banner")).to_have_text("تمت إضافة طريقة الدفع.")
    expect(page.locator(".portal-pm-default")).to_have_count(1)
    shoot(page, "list-ar")
