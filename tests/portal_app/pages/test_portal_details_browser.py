"""Billing details in Chromium against the served production build.

The merchant's backend makes a ``customer_update`` deep link with the ``stripe`` SDK; the
customer picks Germany, types a postcode Germany doesn't have and sees why next to the
field, fixes it, saves, and finds the address on the overview; then adds a tax ID (a
wrong check digit first) and removes nothing. Every page is screenshotted at phone and
desktop width into /tmp/shots/h5/.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from portal_app.billing.providers import billing_provider
from portal_app.portal import configurations
from tests.portal_app.pages.browser import at, screenshots
from tests.portal_app.pages.test_portal_browser import create_session, text_of
from tests.portal_app.pages.test_portal_manage_browser import Shop, live_uow, shop

pytestmark = pytest.mark.browser
__all__ = ["live_uow", "shop"]  # fixtures

shoot = screenshots("h5")
DETAILS = "/portal/details"


def configuration(shop: Shop) -> str:
    return configurations.create_configuration(
        {"features": {"customer_update": {"enabled": True, "allowed_updates": [
            "name", "email", "phone", "address", "tax_id"]},
            "payment_method_update": {"enabled": True},
            "invoice_history": {"enabled": True}}},
        account_id=shop.account_id, uow=shop.uow()).id


def open_details(page: Any, live_server: str, api_key: str, shop: Shop, *, locale: str) -> None:
    """Follow the merchant's ``customer_update`` deep link: it opens the details page."""
    page.goto(create_session(live_server, api_key, shop.customer, locale=locale,
                             configuration=configuration(shop),
                             flow_data={"type": "customer_update"}))
    at(page, DETAILS)


def field(page: Any, key: str) -> Any:
    return page.locator(f'[data-field="{key}"]')


def type_into(page: Any, key: str, text: str) -> None:
    box = field(page, key).locator("input")
    box.fill("")
    box.press_sequentially(text, delay=10)


def test_edit_the_address_with_a_german_postcode_error_then_add_a_tax_id(
        live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    open_details(page, live_server, api_key, shop, locale="en")
    field(page, "address.country").wait_for()
    shoot(page, "details-empty")

    field(page, "address.country").locator("select").select_option("DE")
    # Germany's addresses have no state and a five-digit postcode.
    expect(field(page, "address.state")).to_have_count(0)
    expect(field(page, "address.postal_code").locator("label")).to_contain_text("Postal code")
    type_into(page, "name", "Ada Lovelace GmbH")
    type_into(page, "address.line1", "Unter den Linden 1")
    type_into(page, "address.city", "Berlin")
    type_into(page, "address.postal_code", "1011")
    page.locator(".portal-save-details").click()
    error = field(page, "address.postal_code").locator(".portal-field-error")
    expect(error).to_have_text("Check the format, for example 26133.")
    expect(page.locator(".portal-error")).to_have_text("Please check the highlighted fields.")
    shoot(page, "postcode-error")

    type_into(page, "address.postal_code", "10117")
    expect(error).to_have_count(0)
    page.locator(".portal-save-details").click()
    at(page, "/portal")
    expect(page.locator(".portal-info-address")).to_contain_text("10117 Berlin")
    expect(page.locator(".portal-info-name")).to_have_text("Ada Lovelace GmbH")
    shoot(page, "overview")
    with shop.uow() as uow:
        customer = billing_provider(shop.account_id, uow=uow).retrieve_customer(shop.customer)
    assert customer["address"] == {"line1": "Unter den Linden 1", "line2": None,
                                   "city": "Berlin", "state": None, "postal_code": "10117",
                                   "country": "DE"}

    page.locator(".portal-update-details").click()
    at(page, DETAILS)
    page.locator(".portal-tax-type").wait_for()
    page.locator(".portal-tax-type").select_option("eu_vat")
    page.locator(".portal-tax-value input").fill("DE136695977")
    page.locator(".portal-add-tax-id").click()
    expect(page.locator(".portal-tax-error")).to_contain_text(
        "This number isn't valid for the chosen type")
    shoot(page, "tax-id-error")
    page.locator(".portal-tax-value input").fill("DE136695976")
    page.locator(".portal-add-tax-id").click()
    expect(page.locator(".portal-tax-id-value")).to_have_text("DE136695976")
    expect(page.locator(".portal-banner")).to_have_text("Your tax ID was added.")
    assert text_of(page.locator(".portal-tax-id")).endswith("Remove")
    shoot(page, "tax-id-added")
    with shop.uow() as uow:
        [tax_id] = billing_provider(shop.account_id, uow=uow).list_tax_ids(shop.customer)
    assert (tax_id["type"], tax_id["value"]) == ("eu_vat", "DE136695976")

    page.locator(".portal-remove-tax-id").click()  # asked again, then removed
    page.locator(".portal-confirm-remove-tax-id").click()
    expect(page.locator(".portal-banner")).to_have_text("The tax ID was removed.")
    expect(page.locator(".portal-tax-id")).to_have_count(0)
    with shop.uow() as uow:
        assert billing_provider(shop.account_id, uow=uow).list_tax_ids(shop.customer) == []


def test_a_us_address_offers_states_and_checks_the_zip_code(
        live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_details(page, live_server, api_key, shop, locale="de")
    country = field(page, "address.country").locator("select")
    country.wait_for()
    country.select_option("US")
    state = field(page, "address.state")
    expect(state.locator("label")).to_contain_text("Bundesstaat")
    expect(field(page, "address.postal_code").locator("label")).to_contain_text(
        "Postleitzahl (ZIP)")
    assert "Kalifornien" in state.locator("select").inner_text()
    shoot(page, "details-us-de")


def test_the_page_reads_right_to_left_in_arabic(live_server: str, api_key: str, shop: Shop,
                                                page: Any) -> None:
    open_details(page, live_server, api_key, shop, locale="ar")
    country = field(page, "address.country").locator("select")
    country.wait_for()
    country.select_option("AE")
    expect(field(page, "address.state").locator("label")).to_contain_text("الإمارة")
    expect(page.locator("[dir=rtl]").first).to_be_visible()
    shoot(page, "details-ae-ar")
