"""The overview's view models: the session's customer only, formatted in its locale."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from portal_app.billing import meters
from portal_app.billing.provider import BillingProvider, ItemSpec, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.portal import configurations, sessions
from portal_app.portal.models import PortalSession
from portal_app.views.overview import (
    RECENT_INVOICES,
    load_overview,
    resolve_locale,
)
from tests.conftest import START

UowFactory = Callable[[], UnitOfWork]


def provider_of(account_id: str, make_uow: UowFactory) -> BillingProvider:
    """The account's billing provider on the test database and clock."""
    return billing_provider(account_id, uow=make_uow())


def subscribed_customer(account_id: str, make_uow: UowFactory, *, unit_amount: int = 1999,
                        currency: str = "eur", quantity: int = 1, interval_count: int = 1,
                        product_name: str = "Pro plan", name: str = "Ada",
                        **subscription: object) -> tuple[str, StripeObject]:
    """A customer with a Visa card as default and one subscription to ``product_name``."""
    billing = provider_of(account_id, make_uow)
    customer = billing.create_customer(email="ada@example.test", name=name)["id"]
    product = billing.create_product(name=product_name)
    price = billing.create_price(product=product["id"], currency=currency,
                                 unit_amount=unit_amount, interval="month",
                                 interval_count=interval_count)
    card = billing.attach_payment_method("pm_card_visa", customer_id=customer)
    billing.set_default_payment_method(card["id"], customer_id=customer)
    sub = billing.create_subscription(customer=customer,
                                      items=[ItemSpec(price["id"], quantity)],
                                      **subscription)  # type: ignore[arg-type]
    return customer, sub


def portal_session(account_id: str, customer: str, make_uow: UowFactory, *,
                   locale: str | None = "en",
                   return_url: str = "https://acme.test/account") -> PortalSession:
    """A fresh portal session for ``customer``."""
    return sessions.create_session(account_id=account_id, uow=make_uow(), customer=customer,
                                   return_url=return_url, locale=locale).session


@pytest.fixture
def headline(account_id: str, make_uow: UowFactory) -> str:
    text = "Cloud hosting that scales with you"
    configurations.create_configuration(
        {"features": configurations.GENEROUS_FEATURES,
         "business_profile": {"headline": text}},
        account_id=account_id, uow=make_uow())
    return text


def test_overview_in_english(account_id: str, make_uow: UowFactory, headline: str) -> None:
    customer, _sub = subscribed_customer(account_id, make_uow)
    session = portal_session(account_id, customer, make_uow)

    view = load_overview(session, locale="en", uow=make_uow())

    assert (view.business_name, view.headline) == ("Acme Cloud", headline)
    assert view.return_url == "https://acme.test/account"
    assert view.return_label == "Return to Acme Cloud"
    assert view.direction == "ltr"
    [sub] = view.subscriptions
    assert (sub.product_name, sub.amount, sub.interval, sub.quantity) == (
        "Pro plan", "€19.99", "per month", "")
    assert (sub.status, sub.status_label, sub.status_color) == ("active", "Active", "green")
    assert sub.date_line == "Renews on Feb 28, 2026"
    assert view.payment_method is not None
    assert view.payment_method.description == "Visa •••• 4242"
    assert view.payment_method.expiry.startswith("Expires ")
    [invoice] = view.invoices
    assert (invoice.date, invoice.amount, invoice.status_label) == ("Jan 31, 2026", "€19.99",
                                                                     "Paid")
    assert invoice.number.endswith("-0001")


def test_overview_in_german_formats_money_and_dates(account_id: str,
                                                    make_uow: UowFactory) -> None:
    customer, _sub = subscribed_customer(account_id, make_uow)
    session = portal_session(account_id, customer, make_uow, locale="de")

    view = load_overview(session, locale="de", uow=make_uow())

    [sub] = view.subscriptions
    assert sub.amount == "19,99\xa0€"
    assert (sub.interval, sub.status_label) == ("pro Monat", "Aktiv")
    assert sub.date_line == "Verlängert sich am 28.02.2026"
    assert view.invoices[0].date == "31.01.2026"
    assert view.invoices[0].status_label == "Bezahlt"
    assert view.return_label.startswith("Zurück zu ")
    assert view.direction == "ltr"


def test_a_language_with_a_catalog_is_a_session_locale(account_id: str,
                                                       make_uow: UowFactory) -> None:
    customer, _sub = subscribed_customer(account_id, make_uow)
    assert "ar" not in sessions.LOCALES  # not one of Stripe's: accepted for its catalog
    assert portal_session(account_id, customer, make_uow, locale="ar").locale == "ar"
    with pytest.raises(InvalidRequest) as refused:
        portal_session(account_id, customer, make_uow, locale="tlh")
    assert refused.value.param == "locale"


def test_overview_in_arabic_is_right_to_left(account_id: str, make_uow: UowFactory) -> None:
    customer, _sub = subscribed_customer(account_id, make_uow)
    session = portal_session(account_id, customer, make_uow, locale="ar")

    view = load_overview(session, locale="ar", uow=make_uow())

    assert view.direction == "rtl"
    [sub] = view.subscriptions
    assert (sub.interval, sub.status_label) == ("شهريًا", "نشط")
    assert sub.date_line.startswith("يتجدد في ")


def test_quantity_interval_trial_and_cancellation_lines(account_id: str,
                                                        make_uow: UowFactory) -> None:
    customer, sub = subscribed_customer(account_id, make_uow, quantity=3, interval_count=3,
                                        trial_period_days=14)
    session = portal_session(account_id, customer, make_uow)

    [view] = load_overview(session, locale="en", uow=make_uow()).subscriptions
    assert (view.amount, view.quantity, view.interval) == ("€59.97", "3 × €19.99",
                                                           "every 3 months")
    assert (view.status_label, view.status_color) == ("Trial", "blue")
    assert view.date_line == "Trial ends on Feb 14, 2026"

    provider_of(account_id, make_uow).cancel_subscription(sub["id"], customer_id=customer,
                                                          at_period_end=True)
    [view] = load_overview(session, locale="en", uow=make_uow()).subscriptions
    assert view.date_line == "Cancels on Feb 14, 2026"


def test_only_the_sessions_customer_is_shown(account_id: str, make_uow: UowFactory) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    subscribed_customer(account_id, make_uow, product_name="Someone else's plan")
    session = portal_session(account_id, customer, make_uow)

    view = load_overview(session, locale="en", uow=make_uow())

    assert [s.product_name for s in view.subscriptions] == ["Pro plan"]
    assert len(view.invoices) == 1


def test_empty_customer(account_id: str, make_uow: UowFactory) -> None:
    customer = provider_of(account_id, make_uow).create_customer()["id"]
    session = portal_session(account_id, customer, make_uow)

    view = load_overview(session, locale="en", uow=make_uow())

    assert (view.subscriptions, view.payment_method, view.invoices) == ([], None, [])


def test_recent_invoices_newest_first(account_id: str, make_uow: UowFactory,
                                      clock: FrozenClock) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    provider_of(account_id, make_uow).advance_clock(START + timedelta(days=200))
    session = portal_session(account_id, customer, make_uow)

    invoices = load_overview(session, locale="en", uow=make_uow()).invoices

    assert len(invoices) == RECENT_INVOICES
    numbers = [i.number for i in invoices]
    assert numbers == sorted(numbers, reverse=True)
    assert invoices[0].date == "Jul 31, 2026"


@pytest.mark.parametrize(("session_locale", "preferred", "accept", "expected"), [
    ("it", [], "en-US", "it"),  # an explicit locale wins, even without a catalog
    ("de", [], "en-US", "de"),
    ("auto", ["en-GB"], "fr-FR", "en-GB"),  # the customer's preference before the browser's
    (None, [], "en-AU,en;q=0.8", "en-AU"),
    ("auto", [], "fr-FR", "fr-FR"),  # the browser's, when it has a catalog
    ("auto", [], "ko-KR", "en"),  # no Korean catalog: English
    ("auto", [], "ar-EG,ar;q=0.9", "ar-EG"),  # a catalog Stripe's locales lack
])
def test_resolve_locale(account_id: str, make_uow: UowFactory, session_locale: str | None,
                        preferred: list[str], accept: str, expected: str) -> None:
    customer = provider_of(account_id, make_uow).create_customer(
        preferred_locales=preferred)["id"]
    session = portal_session(account_id, customer, make_uow, locale=session_locale)

    assert resolve_locale(session, accept_language=accept, uow=make_uow()) == expected


def test_right_to_left_locale(account_id: str, make_uow: UowFactory) -> None:
    customer = provider_of(account_id, make_uow).create_customer()["id"]
    session = portal_session(account_id, customer, make_uow)

    assert load_overview(session, locale="ar", uow=make_uow()).direction == "rtl"


def test_a_usage_only_subscription_shows_what_its_usage_costs_so_far(
        account_id: str, make_uow: UowFactory, clock: FrozenClock, headline: str) -> None:
    meter = meters.create_meter(account_id=account_id, uow=make_uow(), display_name="Calls",
                                event_name="api_call", formula="count")
    billing = provider_of(account_id, make_uow)
    product = billing.create_product(name="Support")
    price = billing.create_price(product=product["id"], currency="eur", unit_amount=250,
                                 interval="month", usage_type="metered", meter=meter.id)
    customer = billing.create_customer(email="ada@example.test",
                                       payment_method="pm_card_visa")["id"]
    billing.create_subscription(customer=customer, items=[ItemSpec(price["id"])])
    clock.set(START + timedelta(days=3))
    for _ in range(3):
        meters.create_meter_event(account_id=account_id, uow=make_uow(), event_name="api_call",
                                  payload={"stripe_customer_id": customer})
    session = portal_session(account_id, customer, make_uow, locale="fr")

    [sub] = load_overview(session, locale="fr", uow=make_uow()).subscriptions

    assert sub.amount == "7,50\u00a0€"
    assert sub.interval == "à ce jour sur cette période"


def test_overview_names_every_kind_of_default_method_and_follows_the_feature(
        account_id: str, make_uow: UowFactory) -> None:
    customer, _sub = subscribed_customer(account_id, make_uow)
    billing = provider_of(account_id, make_uow)
    intent = billing.create_setup_intent(
        customer_id=customer,
        payment_method_data={"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"},
                             "billing_details": {"name": "Ada", "email": "ada@example.test"}},
        mandate_acceptance={"type": "online",
                            "online": {"ip_address": "127.0.0.1", "user_agent": "pytest"}})
    billing.set_default_payment_method(intent["payment_method"], customer_id=customer)
    configurations.create_configuration(
        {"features": {**configurations.GENEROUS_FEATURES,
                      "payment_method_update": {"enabled": False}}},
        account_id=account_id, uow=make_uow())
    session = portal_session(account_id, customer, make_uow)

    view = load_overview(session, locale="en", uow=make_uow())

    assert view.payment_method is not None
    # The debit reads as its owner knows it, never as a type code ("Sepa_Debit").
    assert view.payment_method.description.endswith("•••• 3000")
    assert "Sepa" not in view.payment_method.description
    assert view.payment_method_update is False
