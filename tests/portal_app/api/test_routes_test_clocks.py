"""Test clocks through the ``stripe`` SDK: rehearse renewals and failed payments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import stripe

from portal_app.billing import dunning
from portal_app.clock import FrozenClock, to_unix
from portal_app.db import UnitOfWork
from tests.conftest import START
from tests.portal_app.billing.helpers import FEB_28, events_of

MakeUow = Callable[[], UnitOfWork]


@pytest.fixture
def plan(client: stripe.StripeClient) -> stripe.Price:
    product = client.v1.products.create({"name": "Pro"})
    return client.v1.prices.create({"product": product.id, "currency": "eur",
                                    "unit_amount": 2000, "recurring": {"interval": "month"}})


@pytest.fixture
def test_clock(client: stripe.StripeClient) -> stripe.test_helpers.TestClock:
    return client.v1.test_helpers.test_clocks.create(
        {"frozen_time": to_unix(START), "name": "Monthly renewal"})


def subscribed(client: stripe.StripeClient, plan: stripe.Price, *,
               test_clock: str | None) -> stripe.Subscription:
    params: stripe.CustomerCreateParams = {"payment_method": "pm_card_visa"}
    if test_clock:
        params["test_clock"] = test_clock
    customer = client.v1.customers.create(params)
    return client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": plan.id}]})


def fail_future_charges(client: stripe.StripeClient, customer_id: str) -> None:
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                          {"customer": customer_id})
    client.v1.customers.update(customer_id,
                               {"invoice_settings": {"default_payment_method": pm.id}})


def test_create_retrieve_list_delete(client: stripe.StripeClient, account_id: str,
                                     make_uow: MakeUow,
                                     test_clock: stripe.test_helpers.TestClock) -> None:
    assert test_clock.id.startswith("clock_") and test_clock.object == "test_helpers.test_clock"
    assert (test_clock.status, test_clock.frozen_time, test_clock.name) == (
        "ready", to_unix(START), "Monthly renewal")
    assert test_clock.deletes_after == to_unix(START + timedelta(days=30))
    assert client.v1.test_helpers.test_clocks.retrieve(test_clock.id).id == test_clock.id
    listed = client.v1.test_helpers.test_clocks.list()
    assert [c.id for c in listed.data] == [test_clock.id]
    customer = client.v1.customers.create({"test_clock": test_clock.id})
    assert customer.test_clock == test_clock.id and customer.created == to_unix(START)
    deleted = client.v1.test_helpers.test_clocks.delete(test_clock.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(customer.id).test_clock is None
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.test_helpers.test_clocks.retrieve(test_clock.id)
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    types = [e.type for e in events_of(make_uow, account_id, object_id=test_clock.id)]
    assert types == ["test_helpers.test_clock.created", "test_helpers.test_clock.deleted"]


def test_errors(client: stripe.StripeClient, test_clock: stripe.test_helpers.TestClock
                ) -> None:
    with pytest.raises(stripe.InvalidRequestError) as backwards:
        client.v1.test_helpers.test_clocks.advance(test_clock.id,
                                                   {"frozen_time": to_unix(START)})
    assert (backwards.value.http_status, backwards.value.param) == (400, "frozen_time")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.test_helpers.test_clocks.create({})  # type: ignore[typeddict-item]
    assert (missing.value.param, missing.value.code) == ("frozen_time", "parameter_missing")
    with pytest.raises(stripe.InvalidRequestError) as unknown_clock:
        client.v1.customers.create({"test_clock": "clock_nope"})
    assert (unknown_clock.value.http_status, unknown_clock.value.param) == (404, "test_clock")


def test_advancing_a_month_renews_only_the_clock_customers(
        client: stripe.StripeClient, account_id: str, make_uow: MakeUow, clock: FrozenClock,
        plan: stripe.Price, test_clock: stripe.test_helpers.TestClock) -> None:
    on_clock = subscribed(client, plan, test_clock=test_clock.id)
    elsewhere = subscribed(client, plan, test_clock=None)
    clock.set(START + timedelta(days=40))  # the wall clock passing renews nobody either
    advanced = client.v1.test_helpers.test_clocks.advance(
        test_clock.id, {"frozen_time": to_unix(FEB_28 + timedelta(days=1))})
    assert (advanced.status, advanced.frozen_time) == (
        "ready", to_unix(FEB_28 + timedelta(days=1)))
    renewed = client.v1.invoices.list({"subscription": on_clock.id}).data
    assert [i.status for i in renewed] == ["paid", "paid"]
    assert renewed[0].created == renewed[0].period_start == to_unix(FEB_28)  # the clock's time
    assert renewed[0].billing_reason == "subscription_cycle"
    assert len(client.v1.invoices.list({"subscription": elsewhere.id}).data) == 1
    sub = client.v1.subscriptions.retrieve(on_clock.id)
    assert sub.items.data[0].current_period_start == to_unix(FEB_28)
    events = events_of(make_uow, account_id)
    renewal = [e for e in events if e.object_id == renewed[0].id]
    assert {e.created for e in renewal} == {FEB_28}
    clock_events = [e.type for e in events if e.object_id == test_clock.id]
    assert clock_events[-2:] == ["test_helpers.test_clock.advancing",
                                 "test_helpers.test_clock.ready"]


def test_failing_card_past_due_then_retries_then_canceled(
        client: stripe.StripeClient, account_id: str, make_uow: MakeUow, plan: stripe.Price,
        test_clock: stripe.test_helpers.TestClock) -> None:
    dunning.set_retry_policy(account_id, retry_days=dunning.SMART_RETRIES,
                             after_all_fail="cancel", uow=make_uow())
    sub = subscribed(client, plan, test_clock=test_clock.id)
    fail_future_charges(client, sub.customer)
    client.v1.test_helpers.test_clocks.advance(
        test_clock.id, {"frozen_time": to_unix(FEB_28 + timedelta(hours=1))})
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    unpaid = client.v1.invoices.list({"subscription": sub.id}).data[0]
    assert (unpaid.status, unpaid.attempt_count) == ("open", 1)
    assert unpaid.next_payment_attempt == to_unix(FEB_28 + timedelta(days=1))

    client.v1.test_helpers.test_clocks.advance(
        test_clock.id, {"frozen_time": to_unix(FEB_28 + timedelta(days=6))})
    unpaid = client.v1.invoices.retrieve(unpaid.id)
    assert unpaid.attempt_count == 4  # days 1, 3 and 5
    assert unpaid.next_payment_attempt == to_unix(FEB_28 + timedelta(days=7))

    client.v1.test_helpers.test_clocks.advance(
        test_clock.id, {"frozen_time": to_unix(FEB_28 + timedelta(days=20))})
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled"
    assert ended.ended_at == to_unix(FEB_28 + timedelta(days=14))  # the 8th try failed
    assert ended.cancellation_details.reason == "payment_failed"
    unpaid = client.v1.invoices.retrieve(unpaid.id)
    assert (unpaid.status, unpaid.attempt_count, unpaid.next_payment_attempt) == (
        "open", 8, None)
    failed = [e for e in events_of(make_uow, account_id, object_id=unpaid.id)
              if e.type == "invoice.payment_failed"]
    assert len(failed) == 8


def test_default_policy_retries_at_period_end_then_cancels(
        client: stripe.StripeClient, plan: stripe.Price,
        test_clock: stripe.test_helpers.TestClock) -> None:
    sub = subscribed(client, plan, test_clock=test_clock.id)
    fail_future_charges(client, sub.customer)
    client.v1.test_helpers.test_clocks.advance(
        test_clock.id, {"frozen_time": to_unix(FEB_28 + timedelta(days=1))})
    unpaid = client.v1.invoices.list({"subscription": sub.id}).data[0]
    march_28 = FEB_28 + timedelta(days=28)
    assert unpaid.next_payment_attempt == to_unix(march_28 + timedelta(days=3))  # Mar 31
    client.v1.test_helpers.test_clocks.advance(
        test_clock.id, {"frozen_time": to_unix(march_28 + timedelta(days=5))})
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    assert client.v1.invoices.retrieve(unpaid.id).attempt_count == 2


def test_unpaid_outcome_then_paying_reactivates(
        client: stripe.StripeClient, account_id: str, make_uow: MakeUow, plan: stripe.Price,
        test_clock: stripe.test_helpers.TestClock) -> None:
    dunning.set_retry_policy(account_id, retry_days=(2,), after_all_fail="unpaid",
                             uow=make_uow())
    sub = subscribed(client, plan, test_clock=test_clock.id)
    fail_future_charges(client, sub.customer)
    client.v1.test_helpers.test_clocks.advance(
        test_clock.id, {"frozen_time": to_unix(FEB_28 + timedelta(days=3))})
    assert client.v1.subscriptions.retrieve(sub.id).status == "unpaid"
    unpaid = client.v1.invoices.list({"subscription": sub.id}).data[0]
    paid = client.v1.invoices.pay(unpaid.id, {"payment_method": "pm_card_visa"})
    assert paid.status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
