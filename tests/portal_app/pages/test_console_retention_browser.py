"""The growth-team pages in Chromium against the built app: sign in, create an offer,
draft an experiment with two variants, start it, read it out while customers go
through the cancel flow, stop it.

``PORTICO_SCREENSHOTS=/some/dir`` also saves each step at 1280 px (and the pages at
390 px) as ``issue5-console-*.png`` there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from portal_app.accounts import services as accounts
from portal_app.billing.catalog import create_price, create_product
from portal_app.billing.customers import create_customer
from portal_app.billing.provider import ItemSpec
from portal_app.billing.subscriptions import create_subscription
from portal_app.db import UnitOfWork
from portal_app.portal import configurations, sessions
from portal_app.retention import experiments, flows

pytestmark = pytest.mark.browser

PASSWORD = "growth-pass-123"
SHOTS = os.environ.get("PORTICO_SCREENSHOTS")
FEATURES = {"subscription_cancel": {
    "enabled": True, "mode": "immediately",
    "cancellation_reason": {"enabled": True,
                            "options": ["too_expensive", "unused", "missing_features"]}}}


def shoot(page: Any, name: str, *, phone: bool = False) -> None:
    """Save the page (full height) when screenshots are asked for."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(400)  # let dialogs finish fading in
    page.screenshot(path=str(Path(SHOTS) / f"issue5-console-{name}-1280.png"), full_page=True)
    if phone:
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(SHOTS) / f"issue5-console-{name}-390.png"),
                        full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.wait_for_timeout(300)


@pytest.fixture
def merchant(account_id: str, make_uow: Callable[[], UnitOfWork]) -> dict[str, str]:
    email = f"growth-{account_id.lower()}@acme.test"
    accounts.create_console_user(account_id=account_id, email=email, password=PASSWORD,
                                 uow=make_uow())
    product = create_product(account_id=account_id, uow=make_uow(), name="Cloud")
    pro = create_price(account_id=account_id, uow=make_uow(), product=product.id,
                               currency="usd", unit_amount=4900, interval="month",
                               nickname="Pro")
    create_price(account_id=account_id, uow=make_uow(), product=product.id,
                         currency="usd", unit_amount=1900, interval="month", nickname="Basic")
    config = configurations.create_configuration({"features": FEATURES},
                                                 account_id=account_id, uow=make_uow())
    return {"email": email, "price": pro.id, "config": config.id}


def seed_flows(account_id: str, merchant: dict[str, str], database: Engine,
               customers: int) -> int:
    """Customers go through the cancel flow: each takes the offer shown, or cancels."""
    uow = lambda: UnitOfWork(database)  # noqa: E731 — the server's real clock, like it
    saved = 0
    for i in range(customers):
        customer = create_customer(account_id=account_id, uow=uow(),
                                           email=f"leaver{i}@x.test",
                                           payment_method="pm_card_visa").id
        sub = create_subscription(account_id=account_id, uow=uow(), customer=customer,
                                          items=[ItemSpec(price=merchant["price"])])
        session = sessions.create_session(account_id=account_id, uow=uow(), customer=customer,
                                          configuration=merchant["config"]).session
        flow = flows.start_flow(session, sub.id, uow=uow()).flow
        shown = flows.submit_reason(session, flow.id, "too_expensive", None, uow=uow())
        if shown is not None:
            flows.accept_offer(session, flow.id, shown.id, uow=uow())
            saved += 1
        else:
            flows.confirm_cancel(session, flow.id, uow=uow())
    return saved


def sign_in(page: Any, merchant: dict[str, str], path: str) -> None:
    page.goto(path)
    page.wait_for_url(re.compile(r"/console/login"))
    page.fill("input[name=email]", merchant["email"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "/?$"))


def test_offer_experiment_start_readout_stop(page: Any, account_id: str, database: Engine,
                                             merchant: dict[str, str]) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, merchant, "/console/offers")

    # Empty state, then the create dialog with a validation message from the service.
    page.get_by_test_id("offers-empty").wait_for()
    assert "No offers yet — create your first" in page.get_by_test_id("offers-empty").inner_text()
    shoot(page, "offers-empty", phone=True)
    page.get_by_test_id("new-offer").first.click()
    form = page.get_by_test_id("offer-form")
    form.wait_for()
    form.locator("input[name=name]").fill("Half off")
    form.locator("input[name=headline]").fill("Stay and save 50%")
    form.locator("input[name=percent]").fill("150")
    form.locator("input[name=months]").fill("3")
    form.locator("[data-value=too_expensive]").click()
    page.get_by_test_id("dialog-save").click()
    error = form.get_by_test_id("field-error")
    error.wait_for()
    assert "The percentage must be between 0 and 100" in error.inner_text()
    shoot(page, "offer-dialog-error", phone=True)
    form.locator("input[name=percent]").fill("50")
    page.get_by_test_id("dialog-save").click()
    form.wait_for(state="detached")

    row = page.get_by_test_id("offer-row").first
    row.wait_for()
    text = row.inner_text()
    assert "Half off" in text and "50% off for 3 months" in text and "Too expensive" in text
    assert "Active" in text

    # Edit: the name changes, the coupon's terms stay as they are.
    row.get_by_test_id("edit-offer").click()
    form = page.get_by_test_id("offer-form")
    form.wait_for()
    assert form.locator("input[name=percent]").is_disabled()
    form.locator("input[name=name]").fill("Half off for 3 months")
    page.get_by_test_id("dialog-save").click()
    form.wait_for(state="detached")
    page.wait_for_function("document.querySelector('[data-testid=offer-row]')"
                           ".innerText.includes('Half off for 3 months')")

    # The policy card lists the configuration's reasons.
    assert page.get_by_test_id("policy-card").is_visible()
    shoot(page, "offers", phone=True)

    # An experiment with two variants: control and the new offer.
    page.get_by_role("link", name="Experiments", exact=True).click()
    page.wait_for_url(re.compile(r"/console/experiments/?$"))
    page.get_by_test_id("experiments-empty").wait_for()
    shoot(page, "experiments-empty")
    page.get_by_test_id("new-experiment").first.click()
    form = page.get_by_test_id("experiment-form")
    form.wait_for()
    assert form.get_by_test_id("variant-editor").count() == 2
    form.locator("input[name=name]").fill("Half off vs nothing")
    names = form.locator("[data-field=variant-name]")
    names.nth(1).fill("Half off")
    assert "Half off" in form.get_by_test_id("variant-editor").nth(1).inner_text()
    shoot(page, "experiment-dialog", phone=True)
    page.get_by_test_id("dialog-save").click()
    page.wait_for_url(re.compile(r"/console/experiments/view\?id=exp_"))
    experiment_id = page.url.split("id=")[1]

    page.wait_for_function(
        "document.querySelector('[data-testid=experiment-status]')?.innerText.trim()"
        " === 'Draft'")
    assert page.get_by_test_id("variant-readout").count() == 2
    shoot(page, "experiment-draft")

    # Start, confirmed.
    page.get_by_test_id("start-experiment").click()
    page.get_by_text("Start this experiment?").wait_for()
    page.get_by_test_id("confirm-action").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=experiment-status]').innerText.trim()"
        " === 'Running'")
    page.get_by_test_id("no-exposures").wait_for()

    # Customers reach the offer step; the read-out shows them.
    saved = seed_flows(account_id, merchant, database, customers=8)
    page.get_by_test_id("refresh-readout").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=total-exposures]').innerText.startsWith('8 ')")
    cards = page.get_by_test_id("variant-readout")
    exposures = [int(cards.nth(i).get_by_test_id("variant-exposures").inner_text())
                 for i in range(2)]
    saves = [int(cards.nth(i).get_by_test_id("variant-saves").inner_text()) for i in range(2)]
    assert sum(exposures) == 8 and sum(saves) == saved and saves[0] == 0
    assert "Control" in cards.nth(0).get_by_test_id("variant-verdict").inner_text()
    if exposures[1]:
        assert cards.nth(1).get_by_test_id("variant-rate").inner_text() == "100.0%"
        assert cards.nth(1).get_by_test_id("interval-bar").is_visible()
        assert "Too early to call" in cards.nth(1).get_by_test_id("variant-verdict").inner_text()
    shoot(page, "experiment-running", phone=True)

    # Stop, confirmed.
    page.get_by_test_id("stop-experiment").click()
    page.get_by_text("Stop this experiment?").wait_for()
    shoot(page, "experiment-confirm-stop")
    page.get_by_test_id("confirm-action").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=experiment-status]').innerText.trim()"
        " === 'Stopped'")
    stopped = experiments.retrieve_experiment(experiment_id, account_id=account_id,
                                              uow=UnitOfWork(database))
    assert stopped.status == "stopped"
    assert page.get_by_test_id("ship-variant").count() == 2  # either arm can be shipped now

    page.goto("/console/experiments")
    page.get_by_test_id("experiment-row").first.wait_for()
    assert "Stopped" in page.get_by_test_id("experiment-row").first.inner_text()
    shoot(page, "experiments", phone=True)
