"""Amounts and usage past 2**31: 64-bit columns on both databases (PostgreSQL's INTEGER is 32-bit).

Rp 25,000,000 a year is 2,500,000,000 minor units (Stripe treats IDR as two-decimal);
metered usage of 3,500,000,000 calls in a month is one busy API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import stripe

from portal_app.billing import renewals
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.portal import sessions
from portal_app.portal.models import PortalSession
from portal_app.views.overview import load_overview
from tests.conftest import START

MakeUow = Callable[[], UnitOfWork]
RP_25M = 2_500_000_000
PAST_INT32 = 2**31


def paying_customer(client: stripe.StripeClient) -> stripe.Customer:
    return client.v1.customers.create({"email": "budi@example.co.id",
                                       "payment_method": "pm_card_visa",
                                       "invoice_settings": {"default_payment_method":
                                                            "pm_card_visa"}})


def renew_until(clock: FrozenClock, to: datetime, account_id: str, make_uow: MakeUow) -> int:
    return renewals.advance_clock(clock, to, account_id=account_id, uow_factory=make_uow)


def test_a_25_million_rupiah_yearly_plan_creates_renews_and_renders(
        client: stripe.StripeClient, clock: FrozenClock, account_id: str,
        make_uow: MakeUow) -> None:
    assert RP_25M > PAST_INT32
    product = client.v1.products.create({"name": "Enterprise"})
    price = client.v1.prices.create({"product": product.id, "currency": "idr",
                                     "unit_amount": RP_25M, "recurring": {"interval": "year"}})
    customer = client.v1.customers.create({"email": "budi@example.co.id"})
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    sub = client.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": price.id, "quantity": 2}],
        "default_payment_method": pm.id, "expand": ["latest_invoice"]})

    assert client.v1.prices.retrieve(price.id).unit_amount == RP_25M
    assert sub.latest_invoice.amount_paid == 2 * RP_25M

    assert renew_until(clock, START + timedelta(days=366), account_id, make_uow) == 1
    invoices = client.v1.invoices.list({"subscription": sub.id}).data
    assert [(i.status, i.amount_paid, i.lines.data[0].amount) for i in invoices] == [
        ("paid", 2 * RP_25M, 2 * RP_25M)] * 2
    with make_uow() as uow:
        portal_session = uow.session.get(PortalSession, sessions.create_session(
            account_id=account_id, uow=make_uow(), customer=customer.id).session.id)
    assert portal_session is not None
    overview = load_overview(portal_session, locale="en", uow=make_uow())
    [shown] = overview.subscriptions
    # Babel shows rupiah without decimals (the unit is still Stripe's hundredth).
    assert (shown.amount, shown.quantity) == ("IDR50,000,000", "2 × IDR25,000,000")
    assert [invoice.amount for invoice in overview.invoices] == ["IDR50,000,000"] * 2


def test_metered_usage_past_2_31_bills(client: stripe.StripeClient, clock: FrozenClock,
                                        account_id: str, make_uow: MakeUow) -> None:
    meter = client.v1.billing.meters.create({
        "display_name": "API calls", "event_name": "busy_call",
        "default_aggregation": {"formula": "sum"}})
    product = client.v1.products.create({"name": "API", "unit_label": "calls"})
    price = client.v1.prices.create({
        "product": product.id, "currency": "usd", "unit_amount": 1,
        "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id}})
    customer = client.v1.customers.create({"payment_method": "pm_card_visa"})
    pm = customer.invoice_settings.default_payment_method or client.v1.payment_methods.list(
        {"customer": customer.id}).data[0].id
    sub = client.v1.subscriptions.create({"customer": customer.id,
                                          "items": [{"price": price.id}],
                                          "default_payment_method": pm})
    for value in (2_000_000_000, 1_500_000_000):  # each fits 32 bits, their sum does not
        client.v1.billing.meter_events.create({
            "event_name": "busy_call",
            "payload": {"stripe_customer_id": customer.id, "value": str(value)}})

    assert renew_until(clock, datetime(2026, 3, 1, tzinfo=UTC), account_id, make_uow) == 1

    latest = client.v1.invoices.list({"subscription": sub.id}).data[0]
    assert latest.billing_reason == "subscription_cycle" and latest.status == "paid"
    [line] = latest.lines.data
    assert (line.quantity, line.amount) == (3_500_000_000, 3_500_000_000)
    assert latest.amount_paid == 3_500_000_000 > PAST_INT32
