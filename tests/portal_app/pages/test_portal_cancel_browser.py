"""The cancel flow in Chromium against the served production build.

One customer on Growth (€30.00 a month) per test; the merchant's configuration
asks for a reason and answers it with one offer of each kind (through a running
experiment for the coupon and for control, through the configuration's policy
for the others). The customer goes reason -> offer -> accept and is saved, with
the change on the overview, or (control) reason -> confirm and cancels. Each test
checks the flow's events in order in the event store, with the experiment and
variant ids when an experiment runs. With PORTICO_SHOOT=1 every step is
screenshotted at 390 px and 1280 px into /tmp/shots/issue5-*.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from portal_app.billing.catalog import create_price
from portal_app.billing.customers import create_customer, update_customer
from portal_app.billing.models import Subscription
from portal_app.billing.payment_methods import attach_payment_method
from portal_app.billing.provider import ItemSpec
from portal_app.billing.subscriptions import create_subscription
from portal_app.db import UnitOfWork
from portal_app.events.models import Event
from portal_app.portal import configurations
from portal_app.retention import assignment, experiments, offers, policies
from portal_app.retention.experiments import VariantSpec
from tests.portal_app.pages.browser import at, screenshots
from tests.portal_app.pages.test_portal_browser import create_session, text_of

pytestmark = pytest.mark.browser

shoot = screenshots("", prefix="issue5-", settle_ms=200,
                    enabled=os.environ.get("PORTICO_SHOOT") == "1")
Uow = Callable[[], UnitOfWork]
REASONS = ["too_expensive", "missing_features", "unused", "other"]


@pytest.fixture
def live_uow(database: Engine) -> Uow:
    """Units of work on the wall clock: the live server judges links by real time."""
    return lambda: UnitOfWork(database)


class Shop:
    """Starter (€10/month) and Growth (€30/month); a customer on Growth with a card."""

    def __init__(self, account_id: str, uow: Uow) -> None:
        self.account_id, self.uow = account_id, uow
        self.starter = create_price(account_id=account_id, uow=uow(), currency="eur",
                                            unit_amount=1000, interval="month",
                                            product_name="Starter")
        self.growth = create_price(account_id=account_id, uow=uow(), currency="eur",
                                           unit_amount=3000, interval="month",
                                           product_name="Growth")
        self.customer = create_customer(account_id=account_id, uow=uow(),
                                                email="ada@example.test").id
        card = attach_payment_method("pm_card_visa", customer_id=self.customer,
                                             account_id=account_id, uow=uow()).id
        update_customer(self.customer, account_id=account_id, uow=uow(),
                                default_payment_method=card)
        self.sub = create_subscription(account_id=account_id, uow=uow(),
                                               customer=self.customer,
                                               items=[ItemSpec(self.growth.id)]).id
        self.config = configurations.create_configuration({
            "features": {
                "subscription_cancel": {
                    "enabled": True, "mode": "at_period_end",
                    "cancellation_reason": {"enabled": True, "options": REASONS}},
                "invoice_history": {"enabled": True}},
            "business_profile": {"headline": "Cloud hosting"}},
            account_id=account_id, uow=uow()).id

    def offer(self, type: str, **fields: Any) -> str:
        return offers.create_offer(account_id=self.account_id, uow=self.uow(), type=type,
                                   name=f"{type} offer", **fields).id

    def policy(self, offer_id: str) -> None:
        policies.set_policy(self.config, account_id=self.account_id, uow=self.uow(),
                            offers={"default": offer_id})

    def experiment(self, offers_: dict[str, str]) -> tuple[str, str]:
        """A running experiment whose only variant (everyone's) has ``offers_``."""
        exp = experiments.create_experiment(
            account_id=self.account_id, uow=self.uow(), name="Deflection test",
            configuration=self.config,
            variants=[VariantSpec(name="treatment" if offers_ else "control", offers=offers_)])
        experiments.start_experiment(exp.id, account_id=self.account_id, uow=self.uow())
        with self.uow() as uow:
            variant = assignment.ordered_variants(exp.id, uow=uow)[0]
        return exp.id, variant.id

    def subscription(self) -> Subscription:
        with self.uow() as uow:
            return uow.session.get(Subscription, self.sub)

    def flow_events(self) -> list[Event]:
        with self.uow() as uow:
            return list(uow.session.exec(
                select(Event).where(Event.account_id == self.account_id,
                                    col(Event.type).startswith("portico.cancellation_flow."))
                .order_by(col(Event.seq))).all())


@pytest.fixture
def shop(account_id: str, live_uow: Uow) -> Shop:
    return Shop(account_id, live_uow)


def to_offer(page: Any, live_server: str, api_key: str, shop: Shop, *, reason: str,
             comment: str = "", name: str = "") -> Any:
    """Open the portal, choose Cancel, answer the survey; the offer card."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(create_session(live_server, api_key, shop.customer, locale="en",
                             configuration=shop.config))
    at(page, "/portal")
    page.locator(".portal-subscription .portal-cancel").click()
    at(page, f"/portal/subscriptions/{shop.sub}/cancel")
    continue_ = page.locator(".portal-reason-continue")
    expect(continue_).to_be_disabled()
    page.locator(f'.portal-reason[data-reason="{reason}"]').click()
    if comment:
        page.locator(".portal-comment textarea").fill(comment)
    if name:
        shoot(page, "reason")
    continue_.click()
    offer = page.locator(".portal-offer")
    if name:
        offer.wait_for()
        shoot(page, f"offer-{name}")
    return offer


def accept_and_return(page: Any, name: str) -> tuple[str, str, Any]:
    """Accept the offer; the saved view's title and message, then the overview's card."""
    page.locator(".portal-accept").click()
    title = page.locator(".portal-saved .portal-outcome-title")
    title.wait_for()
    saved = (text_of(title), text_of(page.locator(".portal-outcome-message")))
    shoot(page, f"saved-{name}")
    page.locator(".portal-to-overview").click()
    at(page, "/portal")
    card = page.locator(".portal-subscription").first
    card.wait_for()
    return saved[0], saved[1], card


def assert_flow(shop: Shop, steps: list[str], *, offer_type: str | None,
                experiment: tuple[str, str] | None = None) -> None:
    """The flow's events, in order, each naming the flow, offer, experiment and variant."""
    events = shop.flow_events()
    assert [e.type.removeprefix("portico.cancellation_flow.") for e in events] == steps
    flow_ids = {e.data_object["id"] for e in events}
    assert len(flow_ids) == 1
    for step, event in enumerate(events):
        obj = event.data_object
        assert obj["customer"] == shop.customer and obj["subscription"] == shop.sub
        assert obj["configuration"] == shop.config and obj["mrr"] == 3000
        assert event.origin is not None and event.origin["cancellation_flow"] in flow_ids
        # The customer is assigned when the reason is in: from the exposure on.
        ids = experiment if experiment and step > 0 else None
        assert (obj["experiment"], obj["variant"]) == (ids or (None, None))
        assert (event.origin.get("experiment"), event.origin.get("variant")) == (
            ids or (None, None))
    presented = events[1].data_object
    assert (presented["offer"] or {}).get("type") == offer_type


def test_coupon_from_an_experiment(live_server: str, api_key: str, shop: Shop,
                                   page: Any) -> None:
    coupon = shop.offer("coupon", headline="Stay with us for less", new_coupon={
        "percent_off": 50, "duration": "repeating", "duration_in_months": 3})
    experiment = shop.experiment({"too_expensive": coupon})

    offer = to_offer(page, live_server, api_key, shop, reason="too_expensive",
                     comment="Budget cuts", name="coupon")

    expect(offer.locator(".portal-offer-title")).to_have_text("50% off for 3 months")
    assert text_of(offer.locator(".portal-offer-headline")) == "Stay with us for less"
    assert text_of(offer.locator(".portal-offer-detail")) == (
        "Pay €15.00 instead of €30.00 per month: you save €15.00 each time.")
    title, message, card = accept_and_return(page, "coupon")
    assert title == "Thanks for staying!"
    assert message.startswith("50% off for 3 months is applied to your subscription")
    expect(card.locator(".portal-discount")).to_contain_text("50% off until ")
    expect(card.locator(".portal-date")).to_contain_text("Renews on ")
    shoot(page, "overview-coupon")
    assert_flow(shop, ["started", "offer_presented", "offer_accepted"], offer_type="coupon",
                experiment=experiment)
    assert shop.flow_events()[-1].data_object["comment"] == "Budget cuts"


def test_pause(live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    shop.policy(shop.offer("pause", pause_interval="month", pause_interval_count=2))

    offer = to_offer(page, live_server, api_key, shop, reason="unused", name="pause")

    expect(offer.locator(".portal-offer-title")).to_have_text("Pause for 2 months")
    resumes = re.search(r"resumes on (.+)\.$", text_of(offer.locator(".portal-offer-detail")))
    assert resumes is not None
    title, message, card = accept_and_return(page, "pause")
    assert title == "Your subscription is paused"
    assert resumes.group(1) in message
    expect(card.locator(".portal-date")).to_contain_text("Paused · resumes on ")
    assert text_of(card.locator(".portal-date")).endswith(resumes.group(1))
    assert shop.subscription().pause_collection
    assert_flow(shop, ["started", "offer_presented", "offer_accepted"], offer_type="pause")


def test_price_change(live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    shop.policy(shop.offer("price_change", price=shop.starter.id))

    offer = to_offer(page, live_server, api_key, shop, reason="too_expensive",
                     name="price-change")

    expect(offer.locator(".portal-offer-title")).to_have_text(
        "Switch to Starter at €10.00 per month")
    assert text_of(offer.locator(".portal-offer-detail")).startswith(
        "Save €20.00 per month. The new price applies from ")
    title, _message, card = accept_and_return(page, "price-change")
    assert title == "You're switching to Starter"
    expect(card.locator(".portal-scheduled")).to_contain_text("Changes to Starter on ")
    shoot(page, "overview-price-change")
    assert_flow(shop, ["started", "offer_presented", "offer_accepted"],
                offer_type="price_change")


def test_free_days(live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    shop.policy(shop.offer("trial_extension", extension_days=30))

    offer = to_offer(page, live_server, api_key, shop, reason="missing_features",
                     name="free-days")

    expect(offer.locator(".portal-offer-title")).to_have_text("Take 30 days free")
    next_charge = re.search(r"next charge is on (.+)\.$",
                            text_of(offer.locator(".portal-offer-detail")))
    assert next_charge is not None
    title, message, card = accept_and_return(page, "free-days")
    assert title == "Enjoy 30 free days" and next_charge.group(1) in message
    expect(card.locator(".portal-date")).to_contain_text("Trial ends on ")
    assert text_of(card.locator(".portal-date")) == f"Trial ends on {next_charge[1]}"
    assert shop.subscription().status == "trialing"
    assert_flow(shop, ["started", "offer_presented", "offer_accepted"],
                offer_type="trial_extension")


def test_talk_to_us(live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    shop.policy(shop.offer("contact", contact_url="https://acme.test/talk"))

    offer = to_offer(page, live_server, api_key, shop, reason="other", name="contact")

    expect(offer.locator(".portal-offer-title")).to_have_text("Talk to us")
    page.locator(".portal-accept").click()
    link = page.locator(".portal-saved .portal-contact")
    expect(link).to_have_attribute("href", "https://acme.test/talk")
    shoot(page, "saved-contact")
    page.locator(".portal-to-overview").click()
    card = page.locator(".portal-subscription").first
    expect(card.locator(".portal-date")).to_contain_text("Renews on ")
    assert not shop.subscription().cancel_at_period_end
    assert_flow(shop, ["started", "offer_presented", "offer_accepted"], offer_type="contact")


def test_control_cancels(live_server: str, api_key: str, shop: Shop, page: Any) -> None:
    shop.policy(shop.offer("pause", pause_interval="month", pause_interval_count=1))
    experiment = shop.experiment({})  # control overrides the policy: no offer

    to_offer(page, live_server, api_key, shop, reason="too_expensive", comment="Too pricey")

    page.locator(".portal-confirm-cancel").wait_for()
    assert page.locator(".portal-offer").count() == 0
    ends = text_of(page.locator(".portal-cancel-ends"))
    shoot(page, "confirm")
    page.locator(".portal-confirm-cancel").click()
    title = page.locator(".portal-canceled .portal-outcome-title")
    expect(title).to_have_text("Your cancellation is confirmed")
    assert ends.removesuffix(".") in text_of(page.locator(".portal-outcome-message"))
    shoot(page, "done")
    page.locator(".portal-to-overview").click()
    card = page.locator(".portal-subscription").first
    expect(card.locator(".portal-date")).to_contain_text("Cancels on ")
    shoot(page, "overview-canceled")
    sub = shop.subscription()
    assert sub.cancel_at_period_end
    assert sub.cancellation_details == {"feedback": "too_expensive", "comment": "Too pricey",
                                        "reason": "cancellation_requested"}
    assert_flow(shop, ["started", "offer_presented", "completed"], offer_type=None,
                experiment=experiment)
