"""The portal's main journeys in Chromium on a Stripe-backed account, then the dashboard.

"Stripe" is a second Portico (tests/stripe_world.py, on the wall clock here, as the live
server is): it holds the product with two monthly prices, the customer with a card on a
subscription and the retention coupon. The Portico under test (the served production
build) bills that customer through it: the customer changes plan after reading the
preview, pauses and resumes, adds a card and makes it the default, and starts to cancel
with a reason but accepts the coupon offer; after each step the change is read back from
"Stripe" itself. Then "Stripe" delivers its events (one worker pass) to the first
Portico's ``/webhooks/stripe/{account}``, and the console shows them: the event log lists
the subscription's updates, the dashboard's offers table counts the accepted offer.
Screenshots at phone and desktop width go to /tmp/shots/stripe-mode/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import stripe
from playwright.sync_api import expect
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from portal_app.accounts import services as accounts
from portal_app.accounts.stripe_link import connect_stripe
from portal_app.clock import utc_now
from portal_app.db import UnitOfWork
from portal_app.events.models import Event
from portal_app.portal import configurations
from portal_app.retention import offers, policies
from portal_app.routes import stripe_webhooks
from portal_app.webhooks.worker import Worker
from tests.fresh_loop import run
from tests.portal_app.pages.browser import at, screenshots
from tests.portal_app.pages.test_portal_browser import create_session, text_of
from tests.portal_app.pages.test_portal_payment_methods_browser import (
    METHODS,
    to_add_form,
    type_into,
)
from tests.stripe_world import StripeSide

pytestmark = pytest.mark.browser

shoot = screenshots("stripe-mode", settle_ms=250)
Uow = Callable[[], UnitOfWork]
PASSWORD = "stripe-mode-pass-123"
REASONS = ["too_expensive", "missing_features", "unused", "other"]


@dataclass
class StripeWorld:
    """The Stripe-side objects and the Portico account billing through them."""

    account_id: str  # on the Portico under test
    api_key: str
    configuration: str
    offer: str
    console_email: str
    customer: str  # ids on "Stripe"
    card: str
    subscription: str
    basic: str
    pro: str
    coupon: str


@pytest.fixture
def world(stripe_side: StripeSide, stripe_account: tuple[str, str],
          stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
          live_server: str, database: Engine) -> StripeWorld:
    """Everything set up on "Stripe" through its API, and on Portico through its services."""
    stripe_side.clock.current = utc_now  # "Stripe" keeps real time, as the live server does
    uow: Uow = lambda: UnitOfWork(database)  # noqa: E731  (the wall clock, as the server's)
    account = stripe_backed_account_id
    client = stripe_side_client
    # The endpoint first: every event from here on is owed to the first Portico.
    inbound = live_server.replace("localhost", "127.0.0.1") + stripe_webhooks(account)
    endpoint = client.v1.webhook_endpoints.create({"url": inbound, "enabled_events": ["*"]})
    assert endpoint.secret is not None
    connect_stripe(account, secret_key=stripe_account[1], webhook_secret=endpoint.secret,
                   api_base=stripe_side.url, uow=uow())

    product = client.v1.products.create({"name": "Team"})
    basic, pro = (client.v1.prices.create({
        "product": product.id, "currency": "usd", "unit_amount": amount,
        "recurring": {"interval": "month"}}).id for amount in (1000, 3000))
    customer = client.v1.customers.create({"email": "ada@example.test", "name": "Ada"}).id
    card = client.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer}).id
    client.v1.customers.update(customer,
                               {"invoice_settings": {"default_payment_method": card}})
    subscription = client.v1.subscriptions.create(
        {"customer": customer, "items": [{"price": basic}]}).id
    coupon = client.v1.coupons.create({"percent_off": 50, "duration": "repeating",
                                       "duration_in_months": 3, "name": "Half off"}).id

    config = configurations.create_configuration({
        "features": {
            "subscription_update": {
                "enabled": True, "default_allowed_updates": ["price"],
                "proration_behavior": "always_invoice",
                "products": [{"product": product.id, "prices": [basic, pro]}]},
            "subscription_cancel": {
                "enabled": True, "mode": "at_period_end",
                "cancellation_reason": {"enabled": True, "options": REASONS}},
            "subscription_pause": {"enabled": True, "duration": {
                "type": "interval_options",
                "interval_options": [{"interval": "month", "interval_count": 1}]}},
            "payment_method_update": {"enabled": True},
            "invoice_history": {"enabled": True}},
        "business_profile": {"headline": "Team hosting, billed by Stripe"}},
        account_id=account, uow=uow()).id
    offer = offers.create_offer(account_id=account, uow=uow(), type="coupon",
                                name="Half off for a quarter", coupon=coupon,
                                headline="Stay with us for less").id
    policies.set_policy(config, account_id=account, uow=uow(), offers={"default": offer})
    email = f"ops-{account.lower()}@acme-stripe.test"
    accounts.create_console_user(account_id=account, email=email, password=PASSWORD,
                                 uow=uow())
    return StripeWorld(account, accounts.create_api_key(account_id=account, uow=uow()),
                       config, offer, email, customer, card, subscription, basic, pro, coupon)


def overview(page: Any) -> Any:
    """The overview's subscription card, once shown."""
    at(page, "/portal")
    card = page.locator(".portal-subscription").first
    card.wait_for()
    return card


def change_plan(page: Any, world: StripeWorld, client: stripe.StripeClient) -> None:
    """Basic -> Pro with the proration preview; Stripe bills what the preview said."""
    overview(page).locator(".portal-update").click()
    at(page, f"/portal/subscriptions/{world.subscription}/update")
    page.locator(f'.portal-price-option[data-price="{world.pro}"]').click()
    page.locator(".portal-continue").click()
    page.locator(".portal-preview").wait_for()
    assert text_of(page.locator(".portal-new-plan")) == "1 × Team"
    due_now = text_of(page.locator(".portal-due-now"))
    assert re.fullmatch(r"\$\d+\.\d\d", due_now), due_now
    shoot(page, "preview")
    page.locator(".portal-confirm").click()

    expect(page.locator(".portal-banner")).to_have_text("Your plan was updated.")
    expect(overview(page).locator(".portal-price")).to_contain_text("$30.00")
    sub = client.v1.subscriptions.retrieve(world.subscription)
    assert [item.price.id for item in sub["items"].data] == [world.pro]
    invoices = client.v1.invoices.list({"subscription": world.subscription}).data
    update = [i for i in invoices if i.billing_reason == "subscription_update"]
    assert [f"${i.amount_due / 100:.2f}" for i in update] == [due_now]


def pause_and_resume(page: Any, world: StripeWorld, client: stripe.StripeClient) -> None:
    """Pause for a month (pause_collection set on Stripe), then resume (cleared)."""
    overview(page).locator(".portal-pause").click()
    at(page, f"/portal/subscriptions/{world.subscription}/pause")
    page.locator('.portal-pause-option[data-key="1-month"]').click()
    shoot(page, "pause")
    page.locator(".portal-confirm-pause").click()
    card = overview(page)
    expect(card.locator(".portal-date")).to_contain_text("Paused · resumes on ")
    paused = client.v1.subscriptions.retrieve(world.subscription).pause_collection
    assert paused is not None and paused.resumes_at is not None
    shoot(page, "paused")
    card.locator(".portal-resume").click()
    page.get_by_text("Your subscription is active again.").wait_for()
    expect(card.locator(".portal-date")).to_contain_text("Renews on ")
    assert client.v1.subscriptions.retrieve(world.subscription).pause_collection is None


def add_default_card(page: Any, world: StripeWorld, client: stripe.StripeClient) -> None:
    """Add a Visa 4242 and make it the default: the customer's default on Stripe is it."""
    page.locator(".portal-manage-methods").click()
    at(page, METHODS)
    expect(page.locator(".portal-pm")).to_have_count(1)
    assert text_of(page.locator(".portal-pm-title")) == "Mastercard •••• 4444"
    to_add_form(page)
    for key, value in (("number", "4242424242424242"), ("expiry", "1230"), ("cvc", "123")):
        type_into(page, key, value)
    shoot(page, "add-card")
    page.locator(".portal-pm-submit").click()
    at(page, METHODS)
    expect(page.locator(".portal-pm")).to_have_count(2)
    expect(page.locator(".portal-banner")).to_have_text("Your payment method was added.")
    new_row = page.locator(".portal-pm").filter(has_text="Visa •••• 4242")
    new_card = new_row.get_attribute("data-method")
    assert new_card and new_card != world.card
    new_row.locator(".portal-make-default").click()
    expect(page.locator(".portal-banner")).to_have_text(
        "Your default payment method was updated.")
    expect(new_row.locator(".portal-pm-default")).to_have_count(1)
    shoot(page, "methods")
    customer = client.v1.customers.retrieve(world.customer)
    assert customer.invoice_settings is not None
    assert customer.invoice_settings.default_payment_method == new_card
    assert {pm.id for pm in client.v1.customers.payment_methods.list(world.customer).data} == {
        world.card, new_card}


def cancel_but_accept_the_offer(page: Any, world: StripeWorld,
                                client: stripe.StripeClient) -> None:
    """Cancel -> too expensive -> the coupon offer -> accepted: discounted, not canceled."""
    page.goto("/portal/")
    overview(page).locator(".portal-cancel").click()
    at(page, f"/portal/subscriptions/{world.subscription}/cancel")
    page.locator('.portal-reason[data-reason="too_expensive"]').click()
    page.locator(".portal-comment textarea").fill("Our budget was cut")
    shoot(page, "reason")
    page.locator(".portal-reason-continue").click()
    offer = page.locator(".portal-offer")
    expect(offer.locator(".portal-offer-title")).to_have_text("50% off for 3 months")
    assert text_of(offer.locator(".portal-offer-detail")) == (
        "Pay $15.00 instead of $30.00 per month: you save $15.00 each time.")
    shoot(page, "offer")
    page.locator(".portal-accept").click()
    expect(page.locator(".portal-saved .portal-outcome-title")).to_have_text(
        "Thanks for staying!")
    shoot(page, "saved")
    page.locator(".portal-to-overview").click()
    card = overview(page)
    expect(card.locator(".portal-discount")).to_contain_text("50% off until ")
    expect(card.locator(".portal-date")).to_contain_text("Renews on ")
    shoot(page, "overview-saved")

    sub = client.v1.subscriptions.retrieve(world.subscription, {"expand": ["discounts"]})
    assert sub.status == "active" and not sub.cancel_at_period_end
    assert [d["source"]["coupon"]["id"] for d in sub.discounts] == [world.coupon]


def deliver_stripe_events(stripe_side: StripeSide, stripe_account: tuple[str, str],
                          client: stripe.StripeClient, world: StripeWorld,
                          database: Engine) -> dict[str, int]:
    """One pass of "Stripe"'s webhook worker; every event it sent is now in our store.

    Returns how many events of each type Stripe sent.
    """
    sent = client.v1.events.list({"limit": 100}).data
    worker = Worker(engine=stripe_side.engine, clock=stripe_side.clock,
                    accounts=[stripe_account[0]])
    report = run(worker.drain())
    assert (report.succeeded, report.failed) == (len(sent), 0)
    with UnitOfWork(database) as uow:
        stored = set(uow.session.exec(select(Event.id).where(
            Event.account_id == world.account_id, col(Event.id).in_([e.id for e in sent]))))
    assert stored == {e.id for e in sent}
    counts: dict[str, int] = {}
    for event in sent:
        counts[event.type] = counts.get(event.type, 0) + 1
    return counts


def sign_in(page: Any, email: str, path: str) -> None:
    page.goto(path)
    page.wait_for_url(re.compile(r"/console/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"{path}/?$"))


def test_the_main_journeys_on_stripe_then_the_dashboard_shows_them(
        page: Any, live_server: str, world: StripeWorld, stripe_side: StripeSide,
        stripe_account: tuple[str, str], stripe_side_client: stripe.StripeClient,
        database: Engine) -> None:
    client = stripe_side_client
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(create_session(live_server, world.api_key, world.customer, locale="en",
                             configuration=world.configuration))
    card = overview(page)
    assert text_of(card.locator(".portal-product")) == "Team"
    assert text_of(card.locator(".portal-price")).startswith("$10.00")
    assert text_of(page.locator(".portal-payment-method")) == "Mastercard •••• 4444"
    shoot(page, "overview")

    change_plan(page, world, client)
    pause_and_resume(page, world, client)
    add_default_card(page, world, client)
    cancel_but_accept_the_offer(page, world, client)

    sent = deliver_stripe_events(stripe_side, stripe_account, client, world, database)
    # plan change, pause, resume, the coupon's discount
    assert sent.get("customer.subscription.updated", 0) >= 4

    sign_in(page, world.console_email, "/console/events")
    page.get_by_test_id("event-row").first.wait_for()
    page.get_by_test_id("type-filter").click()
    page.get_by_role("option", name="customer.subscription.updated").click()
    rows = page.get_by_test_id("event-row")
    expect(rows).to_have_count(sent["customer.subscription.updated"])
    assert all(world.subscription in text_of(row) for row in rows.all())
    shoot(page, "console-events")

    page.goto("/console/dashboard")
    offer_row = page.get_by_test_id("offer-row").filter(has_text="Half off for a quarter")
    offer_row.wait_for()  # once the dashboard is computed
    cells = [text_of(c) for c in offer_row.locator("td").all()]
    assert cells[2:4] == ["1", "1"], cells  # shown once, accepted once
    expect(page.get_by_test_id("kpi-mrr").get_by_test_id("kpi-value")).to_contain_text("$")
    shoot(page, "console-dashboard")
