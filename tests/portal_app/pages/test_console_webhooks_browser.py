"""The console's webhooks pages in Chromium against the built app: add an endpoint and see
its secret once; see a failed delivery, its attempt, and resend it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from portal_app.accounts import services as accounts
from portal_app.billing.customers import create_customer
from portal_app.db import UnitOfWork
from portal_app.webhooks import endpoints
from portal_app.webhooks.models import WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.browser

PASSWORD = "console-pass-123"
SHOTS = Path(os.environ.get("PORTICO_SHOTS", "/tmp/shots/webhooks"))
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
DOWN = "http://127.0.0.1:9/hooks"  # nothing listens there: connection refused


@pytest.fixture
def merchant(account_id: str, database: Engine) -> dict[str, str]:
    """A console user, and an endpoint whose delivery of a customer.created event failed.

    On the real clock, as the served app runs: a resend is for events of the last 30 days.
    """
    def make_uow() -> UnitOfWork:
        return UnitOfWork(database)

    email = f"ops-{account_id.lower()}@acme.test"
    accounts.create_console_user(account_id=account_id, email=email, password=PASSWORD,
                                 uow=make_uow())
    failing = endpoints.create_endpoint(account_id=account_id, uow=make_uow(), url=DOWN,
                                        enabled_events=["customer.created"],
                                        description="Old receiver").endpoint.id
    create_customer(account_id=account_id, uow=make_uow(), email="a@x.test")
    uow = make_uow()
    with uow:
        delivery = uow.session.query(WebhookDelivery).filter_by(endpoint_id=failing).one()
        # What the worker leaves after the last retry failed.
        delivery.status, delivery.attempt_count, delivery.next_attempt_at = "failed", 1, None
        delivery.last_http_status = 500
        uow.add(WebhookAttempt(delivery_id=delivery.id, account_id=account_id,
                               started_at=uow.clock(), latency_ms=37, http_status=500,
                               response_excerpt="upstream exploded"))
        uow.add(delivery)
        uow.commit()
    return {"email": email, "endpoint": failing, "delivery": delivery.id}


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def sign_in(page, email: str, target: str) -> None:
    page.goto(target)
    page.wait_for_url(re.compile(r"/console/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_add_an_endpoint_and_see_its_secret_once(page, merchant: dict[str, str]) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, merchant["email"], "/console/webhooks")
    page.wait_for_url(re.compile(r"/console/webhooks/?$"))
    page.locator("[data-testid=endpoint-row]").first.wait_for()
    shoot(page, "endpoints")

    page.get_by_test_id("add-endpoint").click()
    form = page.get_by_test_id("endpoint-form")
    form.locator("input[name=url]").fill("https://hooks.acme.test/stripe")
    form.locator("input[name=description]").fill("Billing sync")
    page.locator("[data-event-type='customer.subscription.deleted'] button").click()
    page.locator("[data-event-type='portico.cancellation_flow.completed'] button").click()
    shoot(page, "add-dialog")
    page.get_by_test_id("dialog-save").click()

    secret = page.get_by_test_id("endpoint-secret")
    secret.wait_for()
    shown = secret.inner_text()
    assert re.fullmatch(r"whsec_[\w-]{20,}", shown)
    shoot(page, "secret")
    page.get_by_test_id("secret-done").click()
    secret.wait_for(state="detached")
    rows = page.locator("[data-testid=endpoint-row]")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=endpoint-row]').length === 2")
    assert "https://hooks.acme.test/stripe" in rows.first.inner_text()
    assert "2 events" in rows.first.inner_text()
    # Shown once: nowhere on the page again, not after a reload either.
    assert shown not in page.content()
    page.reload()
    rows.first.wait_for()
    assert shown not in page.content()


def test_see_a_failed_delivery_and_resend_it(page, merchant: dict[str, str]) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, merchant["email"], f"/console/webhooks/{merchant['endpoint']}")
    page.wait_for_url(re.compile(rf"/console/webhooks/{merchant['endpoint']}$"))
    assert page.get_by_test_id("endpoint-url").inner_text() == DOWN
    rows = page.locator("[data-testid=delivery-row]")
    rows.first.wait_for()
    assert rows.count() == 1 and rows.first.get_attribute("data-status") == "failed"
    assert "HTTP 500" in rows.first.inner_text()
    shoot(page, "endpoint")

    # The attempt's detail: status, latency, the response excerpt.
    rows.first.click()
    attempt = page.get_by_test_id("attempt")
    attempt.wait_for()
    text = attempt.inner_text()
    assert "HTTP 500" in text and "37 ms" in text and "upstream exploded" in text
    shoot(page, "attempt")
    page.get_by_test_id("attempt-dialog").get_by_test_id("resend-delivery").click()
    page.get_by_test_id("attempt-dialog").wait_for(state="detached")

    # A new delivery of the same event, due now (the worker may already have tried it).
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=delivery-row]').length === 2")
    statuses = {rows.nth(i).get_attribute("data-status") for i in range(2)}
    assert "failed" in statuses and statuses - {"failed"} <= {"pending", "failed"}

    # Filter to the failed ones.
    page.get_by_test_id("status-filter").click()
    page.get_by_role("option", name="Failed").click()
    page.wait_for_function(
        "[...document.querySelectorAll('[data-testid=delivery-row]')]"
        ".every(r => r.dataset.status === 'failed')")


def test_the_console_shows_an_auto_disabled_endpoint(page, account_id: str, database: Engine,
                                                     merchant: dict[str, str]) -> None:
    uow = UnitOfWork(database)
    with uow:
        endpoint = endpoints.retrieve_endpoint(merchant["endpoint"], account_id=account_id,
                                               uow=uow)
        endpoints.disable_endpoint(endpoint, uow=uow, reason="failing")  # as the worker does
        uow.commit()
    page.set_viewport_size(DESKTOP)
    sign_in(page, merchant["email"], "/console")
    notice = page.get_by_test_id("webhooks-disabled-notice")
    notice.wait_for()
    assert DOWN in notice.inner_text()
    shoot(page, "overview-notice")

    notice.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/console/webhooks/?$"))
    page.get_by_test_id("webhooks-disabled-notice").wait_for()
    page.locator("[data-testid=endpoint-row] a").first.click()
    page.wait_for_url(re.compile(rf"/console/webhooks/{merchant['endpoint']}$"))
    assert "Disabled automatically" in page.get_by_test_id("endpoint-notice").inner_text()
    shoot(page, "endpoint-disabled")
