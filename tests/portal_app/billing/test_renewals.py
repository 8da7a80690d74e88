"""The clock: renewals, past due and recovery, and periods over any anchor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal_app.accounts import services as accounts
from portal_app.billing import coupons, customers, renewals
from portal_app.billing.models import (
    Customer,
    InvoiceStatus,
    Price,
    Subscription,
    SubscriptionStatus,
)
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.periods import shift
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
    subscribe,
)

# --- the clock ---------------------------------------------------------------------------


def test_a_year_of_renewals(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                            customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    year_later = datetime(2027, 1, 31, 12, tzinfo=UTC)
    renewed = renewals.advance_clock(clock, year_later + timedelta(hours=1),
                                     account_id=account_id, uow_factory=make_uow)
    assert renewed == 12 and clock() == year_later + timedelta(hours=1)
    invoices = invoices_of(make_uow, sub.id)
    assert len(invoices) == 13
    assert invoices[0].period_start == START and invoices[-1].period_start == year_later
    for previous, following in zip(invoices, invoices[1:], strict=False):
        assert previous.period_end == following.period_start  # no gap, no overlap
    assert [i.period_end.day for i in invoices[:4]] == [28, 31, 30, 31]  # clamped to the anchor
    assert [i.number for i in invoices] == [
        f"{customer.invoice_prefix}-{n:04d}" for n in range(1, 14)]
    for invoice in invoices:
        assert invoice.created == invoice.period_start == invoice.finalized_at
        assert invoice.status == InvoiceStatus.paid and invoice.total == 2000
        [charge] = charges_of(make_uow, invoice.id)
        assert (charge.created, charge.amount, charge.status) == (
            invoice.created, 2000, "succeeded")
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.active
    assert (sub.current_period_start, sub.current_period_end) == (
        year_later, datetime(2027, 2, 28, 12, tzinfo=UTC))
    assert sub.latest_invoice == invoices[-1].id


def test_renewal_events_carry_the_clock_time_in_order(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    already = len(events_of(make_uow, account_id))
    renewals.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    renewal_events = events_of(make_uow, account_id)[already:]
    boundaries = [FEB_28, datetime(2026, 3, 31, 12, tzinfo=UTC)]
    per_renewal = ["invoice.created", "invoice.finalized", "invoice.paid",
                   "invoice.payment_succeeded", "customer.subscription.updated"]
    assert [e.type for e in renewal_events] == per_renewal * 2
    assert [e.created for e in renewal_events] == [b for b in boundaries for _ in per_renewal]
    invoices = invoices_of(make_uow, sub.id)
    first_renewal = renewal_events[:5]
    assert {e.object_id for e in first_renewal[:4]} == {invoices[1].id}
    snapshots = [e.data_object for e in first_renewal[:3]]
    assert [(o["status"], o["amount_paid"], o["amount_remaining"]) for o in snapshots] == [
        ("draft", 0, 2000), ("open", 0, 2000), ("paid", 2000, 0)]
    assert [o["number"] is None for o in snapshots] == [True, False, False]
    assert [o["status_transitions"]["paid_at"] is None for o in snapshots] == [True, True, False]
    updated = first_renewal[4]
    assert updated.object_id == sub.id and updated.customer_id == customer.id
    assert updated.previous_attributes is not None
    assert updated.previous_attributes["latest_invoice"] == invoices[0].id
    assert updated.data_object["latest_invoice"] == invoices[1].id
    item = updated.data_object["items"]["data"][0]
    old_item = updated.previous_attributes["items"]["data"][0]
    assert (old_item["current_period_start"], old_item["current_period_end"]) == (
        int(START.timestamp()), int(FEB_28.timestamp()))
    assert item["current_period_start"] == int(FEB_28.timestamp())


def test_advance_clock_never_moves_back(account_id: str, make_uow: MakeUow,
                                        clock: FrozenClock) -> None:
    with raises_param(InvalidRequest, "frozen_time"):
        renewals.advance_clock(clock, START - timedelta(seconds=1), account_id=account_id,
                               uow_factory=make_uow)


def test_advance_clock_only_renews_the_given_account(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    from portal_app.accounts import services as accounts

    sub = subscribe(account_id, make_uow, customer, monthly)
    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    renewals.advance_clock(clock, datetime(2026, 3, 1, tzinfo=UTC), account_id=other,
                           uow_factory=make_uow)
    assert len(invoices_of(make_uow, sub.id)) == 1


def test_failing_card_goes_past_due_then_cancels(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    attach_card(account_id, make_uow, customer, "4000000000000341")  # the new default fails
    renewals.advance_clock(clock, FEB_28 + timedelta(days=1), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.past_due
    unpaid = invoices_of(make_uow, sub.id)[-1]
    assert (unpaid.status, unpaid.attempt_count, unpaid.amount_remaining) == (
        InvoiceStatus.open, 1, 2000)
    assert unpaid.last_decline_code == "generic_decline"
    [failed] = charges_of(make_uow, unpaid.id)
    assert (failed.status, failed.failure_code) == ("failed", "generic_decline")
    types = [e.type for e in events_of(make_uow, account_id)][-4:]
    assert types == ["invoice.created", "invoice.finalized", "invoice.payment_failed",
                     "customer.subscription.updated"]
    assert events_of(make_uow, account_id)[-1].previous_attributes["status"] == "active"

    march_31 = datetime(2026, 3, 31, 12, tzinfo=UTC)
    renewals.advance_clock(clock, datetime(2026, 6, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.canceled
    assert sub.ended_at == sub.canceled_at == march_31
    assert sub.cancellation_details["reason"] == "payment_failed"
    assert len(invoices_of(make_uow, sub.id)) == 2  # nothing billed after the end
    assert len(charges_of(make_uow, unpaid.id)) == 2  # retried once at the boundary
    deleted = events_of(make_uow, account_id)[-1]
    assert (deleted.type, deleted.created, deleted.object_id) == (
        "customer.subscription.deleted", march_31, sub.id)
    assert deleted.data_object["status"] == "canceled"
    assert deleted.previous_attributes["status"] == "past_due"


def test_past_due_recovers_when_the_card_is_fixed(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    good = customer.default_payment_method
    sub = subscribe(account_id, make_uow, customer, monthly)
    attach_card(account_id, make_uow, customer, "4000000000000341")
    renewals.advance_clock(clock, FEB_28 + timedelta(days=1), account_id=account_id,
                           uow_factory=make_uow)
    customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                              default_payment_method=good)
    renewals.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.active
    invoices = invoices_of(make_uow, sub.id)
    assert [i.status for i in invoices] == [InvoiceStatus.paid] * 3
    retried = [e.type for e in events_of(make_uow, account_id, object_id=invoices[1].id)]
    assert retried[-2:] == ["invoice.paid", "invoice.payment_succeeded"]


def test_renewing_twice_bills_once(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                                   customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(FEB_28)
    renewals.renew_subscription(sub.id, uow=make_uow())
    before = count_rows(make_uow, account_id)
    again = renewals.renew_subscription(sub.id, uow=make_uow())
    assert again.current_period_start == FEB_28
    assert count_rows(make_uow, account_id) == before
    with raises_param(ResourceMissing, None):
        renewals.renew_subscription("sub_missing", uow=make_uow())


# --- renewals over any anchor (hypothesis) -----------------------------------------------


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    anchor=st.one_of(
        st.sampled_from([datetime(2026, 1, 31, 12, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC),
                         datetime(2027, 3, 31, 23, 59, tzinfo=UTC),
                         datetime(2026, 5, 30, 8, tzinfo=UTC)]),
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1),
                     timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0)),
    ),
    interval=st.sampled_from(["day", "week", "month", "year"]),
    count=st.integers(1, 3),
    periods=st.integers(1, 6),
    percent_off=st.one_of(st.none(), st.sampled_from([10, 33.3, 62.5])),
)
def test_renewal_periods_are_contiguous_and_totals_add_up(
        database: Any, anchor: datetime, interval: str, count: int, periods: int,
        percent_off: float | None) -> None:
    clock = FrozenClock(anchor)

    def make_uow() -> UnitOfWork:
        return UnitOfWork(database, clock=clock)

    account_id = accounts.create_account(business_name="Prop", email="p@x.test",
                                         uow=make_uow()).id
    customer = new_customer(account_id, make_uow, "pm_card_visa")
    prices = [new_price(account_id, make_uow, amount=a, interval=interval, count=count)
              for a in (999, 1)]
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(),
                                   percent_off=percent_off, duration="forever"
                                   ) if percent_off else None
    sub = subscribe(account_id, make_uow, customer, *prices, coupon=coupon.id if coupon else None)
    end = shift(anchor, interval, count * periods)
    renewed = renewals.advance_clock(clock, end, account_id=account_id, uow_factory=make_uow)
    assert renewed == periods
    invoices = invoices_of(make_uow, sub.id)
    assert len(invoices) == periods + 1
    for k, invoice in enumerate(invoices):
        assert invoice.period_start == shift(anchor, interval, count * k) == invoice.created
        assert invoice.period_end == shift(anchor, interval, count * (k + 1))
        lines = lines_of(make_uow, invoice.id)
        assert invoice.subtotal == sum(line.amount for line in lines) == 1000
        assert invoice.total_discount == sum(line.discount_amount for line in lines)
        assert invoice.total == invoice.subtotal - invoice.total_discount == invoice.amount_paid
    for previous, following in zip(invoices, invoices[1:], strict=False):
        assert previous.period_end == following.period_start
    assert load(make_uow, Subscription, sub.id).current_period_start == end
