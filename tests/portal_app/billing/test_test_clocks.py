"""Test clocks in the ledger: only their customers move, each step at the clock's time."""

from __future__ import annotations

from datetime import timedelta

from portal_app.billing import customers, pauses, test_clocks
from portal_app.billing.models import (
    Customer,
    InvoiceStatus,
    Price,
    Subscription,
    SubscriptionStatus,
    TestClockStatus,
)
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest, ResourceMissing
from tests.conftest import START
from tests.portal_app.billing.helpers import (
    FEB_28,
    MakeUow,
    events_of,
    invoices_of,
    load,
    raises_param,
    subscribe,
)


def test_advance_bills_the_clock_customers_at_the_clock_time(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    tc = test_clocks.create_test_clock(account_id=account_id, frozen_time=START,
                                       uow=make_uow(), name="rehearsal")
    on_clock = customers.create_customer(account_id=account_id, uow=make_uow(),
                                         payment_method="pm_card_visa", test_clock=tc.id)
    mine = subscribe(account_id, make_uow, on_clock, monthly)
    theirs = subscribe(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(hours=1))  # the request clock: events of the clock itself
    advanced = test_clocks.advance_test_clock(tc.id, account_id=account_id,
                                              frozen_time=FEB_28 + timedelta(days=1),
                                              uow=make_uow())
    assert (advanced.status, advanced.frozen_time) == (TestClockStatus.ready,
                                                       FEB_28 + timedelta(days=1))
    renewed = invoices_of(make_uow, mine.id)
    assert [i.status for i in renewed] == [InvoiceStatus.paid] * 2
    assert renewed[-1].created == renewed[-1].paid_at == FEB_28
    assert len(invoices_of(make_uow, theirs.id)) == 1
    assert clock() == START + timedelta(hours=1)  # the request's clock never moved
    on_renewal = events_of(make_uow, account_id, object_id=renewed[-1].id)
    assert {e.created for e in on_renewal} == {FEB_28}


def test_pause_end_on_the_clock(account_id: str, make_uow: MakeUow, monthly: Price) -> None:
    tc = test_clocks.create_test_clock(account_id=account_id, frozen_time=START,
                                       uow=make_uow())
    on_clock = customers.create_customer(account_id=account_id, uow=make_uow(),
                                         payment_method="pm_card_visa", test_clock=tc.id)
    sub = subscribe(account_id, make_uow, on_clock, monthly)
    pauses.pause_subscription(sub.id, account_id=account_id, uow=make_uow(),
                              resumes_at=START + timedelta(days=10))
    test_clocks.advance_test_clock(tc.id, account_id=account_id,
                                   frozen_time=START + timedelta(days=11), uow=make_uow())
    resumed = load(make_uow, Subscription, sub.id)
    assert resumed.pause_collection is None and resumed.status == SubscriptionStatus.active
    types = [e.type for e in events_of(make_uow, account_id, object_id=sub.id)]
    assert types[-1] == "customer.subscription.resumed"


def test_refusals_and_delete(account_id: str, make_uow: MakeUow, monthly: Price) -> None:
    tc = test_clocks.create_test_clock(account_id=account_id, frozen_time=START,
                                       uow=make_uow())
    with raises_param(InvalidRequest, "frozen_time"):
        test_clocks.advance_test_clock(tc.id, account_id=account_id,
                                       frozen_time=START - timedelta(seconds=1), uow=make_uow())
    with raises_param(ResourceMissing, "test_clock"):
        test_clocks.advance_test_clock(tc.id, account_id="acct_other",
                                       frozen_time=START + timedelta(days=1), uow=make_uow())
    on_clock = customers.create_customer(account_id=account_id, uow=make_uow(),
                                         payment_method="pm_card_visa", test_clock=tc.id)
    sub = subscribe(account_id, make_uow, on_clock, monthly)
    with raises_param(InvalidRequest, "frozen_time"):  # two months at most, as Stripe
        test_clocks.advance_test_clock(tc.id, account_id=account_id,
                                       frozen_time=START + timedelta(days=62), uow=make_uow())
    test_clocks.advance_test_clock(tc.id, account_id=account_id,
                                   frozen_time=START + timedelta(days=58), uow=make_uow())
    test_clocks.delete_test_clock(tc.id, account_id=account_id, uow=make_uow())
    assert load(make_uow, Subscription, sub.id).status == SubscriptionStatus.canceled
    assert load(make_uow, Customer, on_clock.id).test_clock is None
    assert test_clocks.list_test_clocks(account_id=account_id, uow=make_uow()) == []
