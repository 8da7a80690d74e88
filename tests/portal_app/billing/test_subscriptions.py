"""Starting subscriptions (first invoice, trials, validation), reading and locking them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal_app.billing import (
    cancellations,
    catalog,
    coupons,
    invoicing,
    pauses,
    payment_methods,
    renewals,
    subscriptions,
)
from portal_app.billing.models import (
    Coupon,
    Customer,
    InvoiceStatus,
    Price,
    Subscription,
    SubscriptionStatus,
)
from portal_app.billing.provider import ItemSpec
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import CardDeclined, InvalidRequest, ResourceMissing
from tests.conftest import START
from tests.portal_app.billing.helpers import (
    FEB_28,
    MakeUow,
    attach_card,
    charges_of,
    count_rows,
    events_of,
    invoices_of,
    lines_of,
    load,
    new_customer,
    new_price,
    raises_param,
    read,
    subscribe,
)

# --- subscriptions -----------------------------------------------------------------------


def test_subscription_charges_its_first_invoice(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    assert re.fullmatch(r"sub_\w{24}", sub.id)
    assert sub.status == SubscriptionStatus.active
    assert (sub.current_period_start, sub.current_period_end) == (START, FEB_28)
    assert sub.billing_cycle_anchor == START
    [invoice] = invoices_of(make_uow, sub.id)
    assert sub.latest_invoice == invoice.id
    assert invoice.status == InvoiceStatus.paid
    assert invoice.number == f"{customer.invoice_prefix}-0001"
    assert invoice.billing_reason == "subscription_create"
    assert (invoice.subtotal, invoice.total, invoice.amount_due, invoice.amount_paid,
            invoice.amount_remaining) == (2000, 2000, 2000, 2000, 0)
    assert (invoice.period_start, invoice.period_end) == (START, FEB_28)
    [line] = lines_of(make_uow, invoice.id)
    assert (line.amount, line.quantity, line.price_id) == (2000, 1, monthly.id)
    assert line.description == "1 × Pro (at $20.00 / month)"
    [charge] = charges_of(make_uow, invoice.id)
    assert (charge.status, charge.amount, charge.currency) == ("succeeded", 2000, "usd")
    assert charge.payment_method_id == customer.default_payment_method
    types = [e.type for e in events_of(make_uow, account_id)][-5:]
    assert types == ["customer.subscription.created", "invoice.created", "invoice.finalized",
                     "invoice.paid", "invoice.payment_succeeded"]


def test_invoice_numbers_count_up_per_customer(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    yearly = new_price(account_id, make_uow, interval="year", amount=20000)
    first = subscribe(account_id, make_uow, customer, monthly)
    second = subscribe(account_id, make_uow, customer, yearly)
    numbers = [invoices_of(make_uow, s.id)[0].number for s in (first, second)]
    assert numbers == [f"{customer.invoice_prefix}-0001", f"{customer.invoice_prefix}-0002"]


def test_trial_starts_trialing_with_a_zero_invoice(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly, trial_period_days=14)
    trial_end = START + timedelta(days=14)
    assert sub.status == SubscriptionStatus.trialing
    assert (sub.trial_start, sub.trial_end, sub.current_period_end) == (START, trial_end,
                                                                          trial_end)
    [invoice] = invoices_of(make_uow, sub.id)
    assert (invoice.total, invoice.status) == (0, InvoiceStatus.paid)
    assert charges_of(make_uow, invoice.id) == []

    renewals.advance_clock(clock, trial_end + timedelta(days=1), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.active
    assert (sub.current_period_start, sub.current_period_end) == (
        trial_end, datetime(2026, 3, 14, 12, tzinfo=UTC))
    first_paid = invoices_of(make_uow, sub.id)[-1]
    assert (first_paid.total, first_paid.status, first_paid.created) == (
        2000, InvoiceStatus.paid, trial_end)
    updated = events_of(make_uow, account_id, object_id=sub.id)[-1]
    assert updated.type == "customer.subscription.updated"
    assert updated.previous_attributes is not None
    assert updated.previous_attributes["status"] == "trialing"
    assert updated.previous_attributes["latest_invoice"] == invoice.id
    assert updated.data_object["status"] == "active"


def test_trial_end_must_be_in_the_future(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    with raises_param(InvalidRequest, "trial_end"):
        subscribe(account_id, make_uow, customer, monthly, trial_end=START)
    with raises_param(InvalidRequest, "trial_period_days"):
        subscribe(account_id, make_uow, customer, monthly, trial_period_days=-1)


def test_multi_item_subscription_bills_every_item(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    seats = new_price(account_id, make_uow, amount=500, name="Seats")
    sub = subscriptions.create_subscription(
        account_id=account_id, uow=make_uow(), customer=customer.id,
        items=[ItemSpec(monthly.id), ItemSpec(seats.id, quantity=3)])
    [invoice] = invoices_of(make_uow, sub.id)
    lines = lines_of(make_uow, invoice.id)
    assert [(line.price_id, line.quantity, line.amount) for line in lines] == [
        (monthly.id, 1, 2000), (seats.id, 3, 1500)]
    assert invoice.total == sum(line.amount for line in lines) == 3500


@pytest.mark.parametrize(("second", "param"), [
    ({"currency": "eur"}, "items[1][price]"),
    ({"interval": "year"}, "items[1][price]"),
    ({"count": 3}, "items[1][price]"),
])
def test_items_must_share_currency_and_interval(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price,
        second: dict[str, Any], param: str) -> None:
    other = new_price(account_id, make_uow, **second)
    before = count_rows(make_uow, account_id)
    with raises_param(InvalidRequest, param):
        subscribe(account_id, make_uow, customer, monthly, other)
    assert count_rows(make_uow, account_id) == before


def test_subscription_item_validation(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    one_time = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                    unit_amount=100, product_name="Setup")
    with raises_param(InvalidRequest, "items[0][price]"):
        subscribe(account_id, make_uow, customer, one_time)
    with raises_param(InvalidRequest, "items"):
        subscribe(account_id, make_uow, customer, monthly, monthly)
    with raises_param(InvalidRequest, "items", "parameter_missing"):
        subscribe(account_id, make_uow, customer)
    with raises_param(ResourceMissing, "items[0][price]", "resource_missing"):
        subscriptions.create_subscription(account_id=account_id, uow=make_uow(),
                                          customer=customer.id, items=[ItemSpec("price_missing")])
    with raises_param(InvalidRequest, "items[0][quantity]"):
        subscriptions.create_subscription(account_id=account_id, uow=make_uow(),
                                          customer=customer.id,
                                          items=[ItemSpec(monthly.id, quantity=0)])
    with raises_param(ResourceMissing, "customer"):
        subscriptions.create_subscription(account_id=account_id, uow=make_uow(), customer="cus_x",
                                          items=[ItemSpec(monthly.id)])


@pytest.mark.parametrize("card", ["pm_card_chargeCustomerFail",
                                  "pm_card_chargeDeclinedInsufficientFunds"])
def test_declined_first_charge_leaves_nothing_behind(
        account_id: str, make_uow: MakeUow, monthly: Price, card: str) -> None:
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10,
                                   duration="forever")
    if card == "pm_card_chargeCustomerFail":
        customer = new_customer(account_id, make_uow, card)  # attaches, then fails to charge
    else:
        customer = new_customer(account_id, make_uow)
        with pytest.raises(CardDeclined):
            payment_methods.attach_payment_method(card, customer_id=customer.id,
                                                  account_id=account_id, uow=make_uow())
        attach_card(account_id, make_uow, customer, "4000000000000341")
    before = count_rows(make_uow, account_id)
    with pytest.raises(CardDeclined) as raised:
        subscribe(account_id, make_uow, customer, monthly, coupon=coupon.id)
    assert (raised.value.code, raised.value.decline_code) == ("card_declined", "generic_decline")
    assert count_rows(make_uow, account_id) == before
    assert read(make_uow, lambda uow: uow.get(Coupon, coupon.id, account_id=account_id)
                ).times_redeemed == 0
    assert load(make_uow, Customer, customer.id).next_invoice_sequence == 1


def test_subscription_without_payment_method_is_refused(
        account_id: str, make_uow: MakeUow, monthly: Price) -> None:
    customer = new_customer(account_id, make_uow)
    before = count_rows(make_uow, account_id)
    with raises_param(InvalidRequest, "default_payment_method", "resource_missing"):
        subscribe(account_id, make_uow, customer, monthly)
    assert count_rows(make_uow, account_id) == before
    free = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=100)
    assert subscribe(account_id, make_uow, customer, monthly, coupon=free.id).status == "active"


# --- listing -----------------------------------------------------------------------------


def test_list_subscriptions_and_invoices(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    first = subscribe(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(hours=1))
    second = subscribe(account_id, make_uow, customer, new_price(account_id, make_uow))
    cancellations.cancel_subscription(first.id, account_id=account_id, uow=make_uow())

    def listed(**kw: Any) -> list[str]:
        return [s.id for s in subscriptions.list_subscriptions(
            account_id=account_id, uow=make_uow(), customer_id=customer.id, **kw)]

    assert listed() == [second.id]
    assert listed(status="all") == [second.id, first.id]
    assert listed(status="canceled") == listed(status="ended") == [first.id]
    with raises_param(InvalidRequest, "status"):
        listed(status="sleeping")
    invoices = invoicing.list_invoices(account_id=account_id, uow=make_uow(),
                                       customer_id=customer.id)
    assert [i.subscription_id for i in invoices] == [second.id, first.id]
    with raises_param(ResourceMissing, "customer"):
        invoicing.list_invoices(account_id=account_id, uow=make_uow(), customer_id="cus_nope")
    stranger = new_customer(account_id, make_uow)
    with raises_param(ResourceMissing, "id"):
        invoicing.retrieve_invoice(invoices[0].id, account_id=account_id, uow=make_uow(),
                                   customer_id=stranger.id)
    with raises_param(ResourceMissing, "id"):
        subscriptions.retrieve_subscription(second.id, account_id=account_id, uow=make_uow(),
                                            customer_id=stranger.id)


def test_a_uow_joined_by_an_outer_service_still_locks(make_uow: MakeUow) -> None:
    uow: UnitOfWork = make_uow()
    with uow, pytest.raises(ResourceMissing):
        subscriptions.lock_subscription("sub_missing", uow=uow)


# --- free time (a trial past the period) ---------------------------------------------------


def test_extend_trial_gives_free_days_after_the_paid_period(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(days=10))
    until = FEB_28 + timedelta(days=14)
    subscriptions.extend_trial(sub.id, trial_end=until, account_id=account_id,
                               uow=make_uow(), customer_id=customer.id)
    fresh = load(make_uow, Subscription, sub.id)
    assert fresh.status == SubscriptionStatus.trialing
    assert (fresh.trial_start, fresh.trial_end) == (clock(), until)
    assert fresh.current_period_end == fresh.billing_cycle_anchor == until
    updated = events_of(make_uow, account_id, object_id=sub.id)[-1]
    assert updated.type == "customer.subscription.updated"
    assert updated.previous_attributes["status"] == "active"
    renewals.advance_clock(clock, until + timedelta(hours=1), account_id=account_id,
                           uow_factory=make_uow)
    assert [i.amount_due for i in invoices_of(make_uow, sub.id)] == [2000, 2000]


def test_extend_trial_refusals(account_id: str, make_uow: MakeUow, customer: Customer,
                               monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    with raises_param(InvalidRequest, "trial_end"):
        subscriptions.extend_trial(sub.id, trial_end=FEB_28, account_id=account_id,
                                   uow=make_uow())
    with pytest.raises(ResourceMissing):
        subscriptions.extend_trial(sub.id, trial_end=FEB_28 + timedelta(days=1),
                                   account_id=account_id, uow=make_uow(),
                                   customer_id=new_customer(account_id, make_uow).id)
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                      at_period_end=True)
    with pytest.raises(InvalidRequest) as refused:
        subscriptions.extend_trial(sub.id, trial_end=FEB_28 + timedelta(days=1),
                                   account_id=account_id, uow=make_uow())
    assert refused.value.code == "subscription_canceled"


def test_extend_trial_rechecks_a_subscription_paused_since_it_was_read(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    # Found by bench/crash.py: two cancel flows of one subscription accepted a pause and
    # free days at once; the free days, checked against the subscription as read before
    # the pause committed, were given to a paused subscription (and their event said it
    # was not paused). The change now locks and re-reads the subscription first.
    sub = subscribe(account_id, make_uow, customer, monthly)
    with make_uow() as uow:
        read = subscriptions.retrieve_subscription(sub.id, account_id=account_id, uow=uow)
        pauses.pause_subscription(sub.id, account_id=account_id, uow=make_uow())
        with pytest.raises(InvalidRequest) as refused:
            subscriptions.extend_trial(sub.id, trial_end=FEB_28 + timedelta(days=7),
                                       account_id=account_id, uow=uow)
        assert read.pause_collection  # the transaction sees the pause now
    assert refused.value.code == "subscription_paused"
    fresh = load(make_uow, Subscription, sub.id)
    assert fresh.status == SubscriptionStatus.active and fresh.trial_end is None
