"""The merchant console in Chromium against the built app: sign in, read, filter, inspect."""

from __future__ import annotations

import re

import pytest

from portal_app.accounts import services as accounts
from portal_app.billing.catalog import create_product
from portal_app.billing.customers import create_customer, update_customer

pytestmark = pytest.mark.browser

PASSWORD = "console-pass-123"


@pytest.fixture
def merchant(account_id: str, make_uow) -> dict[str, str]:
    """A console user and some history: two customers (one updated) and a product."""
    email = f"ops-{account_id.lower()}@acme.test"
    accounts.create_console_user(account_id=account_id, email=email, password=PASSWORD,
                                 uow=make_uow())
    alice = create_customer(account_id=account_id, uow=make_uow(), email="a@x.test").id
    bob = create_customer(account_id=account_id, uow=make_uow(), email="b@x.test").id
    update_customer(alice, account_id=account_id, uow=make_uow(), name="Alice")
    create_product(account_id=account_id, uow=make_uow(), name="Pro")
    # Another merchant's customer must never show up.
    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    stranger = create_customer(account_id=other, uow=make_uow(), email="s@x.test").id
    return {"email": email, "alice": alice, "bob": bob, "stranger": stranger}


def test_unauthenticated_visit_ends_on_the_login_page(page) -> None:
    page.goto("/console/events")
    page.wait_for_url(re.compile(r"/console/login\?next=%2Fconsole%2Fevents"))
    assert page.locator("input[name=password]").is_visible()


def test_sign_in_list_filter_and_inspect_events(page, merchant: dict[str, str]) -> None:
    page.goto("/console/events")
    page.wait_for_url(re.compile(r"/console/login"))

    page.fill("input[name=email]", merchant["email"])
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").is_visible()

    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/events/?$"))

    rows = page.locator("[data-testid=event-row]")
    rows.first.wait_for()
    assert rows.count() == 4
    assert page.get_by_test_id("console-email").inner_text() == merchant["email"]
    table = page.locator("table").inner_text()
    assert merchant["alice"] in table and merchant["bob"] in table
    assert merchant["stranger"] not in table
    assert rows.nth(0).inner_text().startswith("product.created")

    # Filter by type.
    page.get_by_test_id("type-filter").click()
    page.get_by_role("option", name="customer.updated").click()
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=event-row]').length === 1")
    assert merchant["alice"] in rows.first.inner_text()

    # Open its JSON: Stripe's event object, with its id.
    event_id = rows.first.get_attribute("data-event-id")
    assert event_id and event_id.startswith("evt_")
    rows.first.click()
    shown = page.get_by_test_id("event-json")
    shown.wait_for()
    text = shown.inner_text()
    assert f'"id": "{event_id}"' in text and '"type": "customer.updated"' in text
    page.keyboard.press("Escape")
    shown.wait_for(state="detached")

    # Filter by customer (and back to every type).
    page.get_by_role("button", name="Clear").first.click()
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=event-row]').length === 4")
    page.get_by_test_id("customer-filter").fill(merchant["bob"])
    page.get_by_test_id("customer-filter").press("Enter")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=event-row]').length === 1")
    assert rows.first.inner_text().startswith("customer.created")
    assert merchant["bob"] in rows.first.inner_text()


def test_sign_out_ends_the_session(page, merchant: dict[str, str]) -> None:
    page.goto("/console/login")
    page.fill("input[name=email]", merchant["email"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/?$"))
    page.get_by_test_id("event-count").wait_for()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/console/login\?signed_out=1"))
    page.goto("/console/events")
    page.wait_for_url(re.compile(r"/console/login"))
