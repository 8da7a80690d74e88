"""The console overview's Billing panel in Chromium against the built app: the Portico
ledger, or a Stripe account (key hint, API address, inbound webhook URL, signing secret)
and importing its portal configurations. Screenshots at phone and desktop width."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import stripe

from portal_app.accounts import services as accounts
from portal_app.db import UnitOfWork
from portal_app.settings import get_settings
from tests.portal_app.pages.browser import screenshots

pytestmark = pytest.mark.browser

PASSWORD = "console-pass-123"
shoot = screenshots("console-billing")


def _sign_in(page, account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    email = f"billing-{account_id.lower()}@acme.test"
    accounts.create_console_user(account_id=account_id, email=email, password=PASSWORD,
                                 uow=make_uow())
    page.goto("/console")
    page.wait_for_url(re.compile(r"/console/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/?$"))
    page.get_by_test_id("billing-provider").wait_for()


def test_a_ledger_account_shows_the_portico_ledger(
        page, account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    _sign_in(page, account_id, make_uow)
    assert page.get_by_test_id("billing-provider").inner_text() == "Portico ledger"
    assert "portico stripe-connect" in page.get_by_test_id("billing-panel").inner_text()
    assert page.get_by_test_id("import-configurations").count() == 0
    shoot(page, "ledger")


def test_a_stripe_backed_account_shows_its_stripe_and_imports_configurations(
        page, stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
        stripe_account: tuple[str, str], stripe_side,
        make_uow: Callable[[], UnitOfWork]) -> None:
    stripe_side_client.v1.billing_portal.configurations.create(
        {"name": "From Stripe", "features": {"invoice_history": {"enabled": True}}})
    _sign_in(page, stripe_backed_account_id, make_uow)
    assert page.get_by_test_id("billing-provider").inner_text() == "Stripe"
    key = stripe_account[1]
    assert page.get_by_test_id("billing-key").inner_text().endswith(f"sk_test_…{key[-4:]}")
    assert stripe_side.url in page.get_by_test_id("billing-api").inner_text()
    assert (f"{get_settings().public_url}/webhooks/stripe/{stripe_backed_account_id}"
            in page.get_by_test_id("billing-webhook-url").inner_text())
    assert "Not set" in page.get_by_test_id("billing-signing-secret").inner_text()
    assert key not in page.content()
    shoot(page, "stripe")
    page.get_by_test_id("import-configurations").click()
    page.get_by_text("Imported 1 configuration(s) from Stripe: 1 new").wait_for()
    shoot(page, "stripe-imported")
