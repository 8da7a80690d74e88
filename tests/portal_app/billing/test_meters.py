"""Billing meters on a real unit of work: meters, events, aggregation, usage billed in arrears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal_app.billing import (
    cancellations,
    catalog,
    changes,
    customers,
    meters,
    payment_methods,
    renewals,
    subscriptions,
)
from portal_app.billing.models import Customer, Meter, MeterStatus, Price, SubscriptionItem
from portal_app.billing.provider import ItemSpec
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest, ResourceMissing
from tests.conftest import START
from tests.portal_app.billing.helpers import MakeUow, events_of, invoices_of, lines_of, read

FEB_28 = datetime(2026, 2, 28, 12, tzinfo=UTC)  # the first period's end (anchor Jan 31)
MAR_31 = datetime(2026, 3, 31, 12, tzinfo=UTC)


def meter(account_id: str, make_uow: MakeUow, formula: str = "sum",
          event_name: str = "api_call") -> Meter:
    return meters.create_meter(account_id=account_id, uow=make_uow(), display_name="API calls",
                               event_name=event_name, formula=formula)


def metered_price(account_id: str, make_uow: MakeUow, m: Meter, *, unit_amount: int = 5,
                  unit_label: str | None = "API calls") -> Price:
    product = catalog.create_product(account_id=account_id, uow=make_uow(), name="API access",
                                     unit_label=unit_label)
    return catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                unit_amount=unit_amount, product=product.id, interval="month",
                                usage_type="metered", meter=m.id)


def report(account_id: str, make_uow: MakeUow, customer: Customer, value: int | None = None,
           *, at: datetime | None = None, identifier: str | None = None,
           event_name: str = "api_call") -> None:
    payload = {"stripe_customer_id": customer.id}
    if value is not None:
        payload["value"] = str(value)
    meters.create_meter_event(account_id=account_id, uow=make_uow(), event_name=event_name,
                              payload=payload, timestamp=at, identifier=identifier)


def usage(make_uow: MakeUow, m: Meter, customer: Customer, start: datetime, end: datetime
          ) -> int:
    return meters.aggregate(m, customer_id=customer.id, start=start, end=end, uow=make_uow())


# --- meters ------------------------------------------------------------------------------


def test_a_meter_is_created_active_with_stripe_defaults(account_id: str, make_uow: MakeUow
                                                        ) -> None:
    m = meter(account_id, make_uow)
    assert (m.id.startswith("mtr_"), m.status, m.formula) == (True, "active", "sum")
    assert (m.customer_payload_key, m.value_payload_key) == ("stripe_customer_id", "value")
    [created] = events_of(make_uow, account_id, object_id=m.id)
    assert created.type == "billing.meter.created"
    assert created.data_object["default_aggregation"] == {"formula": "sum"}


def test_one_active_meter_per_event_name(account_id: str, make_uow: MakeUow) -> None:
    first = meter(account_id, make_uow)
    with pytest.raises(InvalidRequest) as refused:
        meter(account_id, make_uow)
    assert (refused.value.param, refused.value.code) == ("event_name", "resource_already_exists")
    meters.deactivate_meter(first.id, account_id=account_id, uow=make_uow())
    second = meter(account_id, make_uow)  # the name is free again
    with pytest.raises(InvalidRequest):
        meters.reactivate_meter(first.id, account_id=account_id, uow=make_uow())
    meters.deactivate_meter(second.id, account_id=account_id, uow=make_uow())
    assert meters.reactivate_meter(first.id, account_id=account_id,
                                   uow=make_uow()).status == MeterStatus.active


@pytest.mark.parametrize(("options", "param"), [
    ({"formula": "avg"}, "default_aggregation[formula]"),
    ({"event_name": ""}, "event_name"),
    ({"event_name": "x" * 101}, "event_name"),
    ({"display_name": " "}, "display_name"),
    ({"event_time_window": "week"}, "event_time_window"),
])
def test_meter_parameters_are_checked(account_id: str, make_uow: MakeUow,
                                      options: dict[str, str], param: str) -> None:
    given = {"display_name": "Calls", "event_name": "call", "formula": "sum", **options}
    with pytest.raises(InvalidRequest) as refused:
        meters.create_meter(account_id=account_id, uow=make_uow(), **given)
    assert refused.value.param == param


def test_deactivate_and_reactivate_record_their_events(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer) -> None:
    m = meter(account_id, make_uow)
    clock.set(START + timedelta(hours=1))
    off = meters.deactivate_meter(m.id, account_id=account_id, uow=make_uow())
    assert (off.status, off.deactivated_at) == (MeterStatus.inactive, clock())
    with pytest.raises(InvalidRequest) as refused:
        report(account_id, make_uow, customer, 1)
    assert refused.value.code == "meter_event_no_meter"
    with pytest.raises(InvalidRequest):
        meters.deactivate_meter(m.id, account_id=account_id, uow=make_uow())
    on = meters.reactivate_meter(m.id, account_id=account_id, uow=make_uow())
    assert (on.status, on.deactivated_at) == (MeterStatus.active, None)
    renamed = meters.update_meter(m.id, account_id=account_id, uow=make_uow(),
                                  display_name="Requests")
    assert renamed.display_name == "Requests"
    types = [e.type for e in events_of(make_uow, account_id, object_id=m.id)]
    assert types == ["billing.meter.created", "billing.meter.deactivated",
                     "billing.meter.reactivated", "billing.meter.updated"]
    deactivated = events_of(make_uow, account_id, object_id=m.id)[1]
    assert deactivated.previous_attributes == {
        "status": "active", "status_transitions": {"deactivated_at": None}}


def test_another_accounts_meter_is_missing(account_id: str, make_uow: MakeUow) -> None:
    from portal_app.accounts.services import create_account

    other = create_account(uow=make_uow(), business_name="Other", email="o@x.test").id
    m = meter(other, make_uow)
    with pytest.raises(ResourceMissing):
        meters.retrieve_meter(m.id, account_id=account_id, uow=make_uow())


# --- meter events ------------------------------------------------------------------------


@pytest.mark.parametrize(("formula", "expected"), [("sum", 16), ("count", 3), ("last", 4)])
def test_aggregation_formulas(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                              customer: Customer, formula: str, expected: int) -> None:
    m = meter(account_id, make_uow, formula)
    for minutes, value in ((1, 5), (3, 4), (2, 7)):  # reported out of order
        report(account_id, make_uow, customer, value, at=START + timedelta(minutes=minutes))
    assert usage(make_uow, m, customer, START, START + timedelta(hours=1)) == expected
    # [start, end): the event at exactly `end` is not in the window
    assert usage(make_uow, m, customer, START, START + timedelta(minutes=3)) == {
        "sum": 12, "count": 2, "last": 7}[formula]


def test_usage_is_per_customer(account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    m = meter(account_id, make_uow)
    other = customers.create_customer(account_id=account_id, uow=make_uow(), email="b@x.test")
    report(account_id, make_uow, customer, 3)
    report(account_id, make_uow, other, 40)
    assert usage(make_uow, m, customer, START, START + timedelta(seconds=1)) == 3


def test_a_count_meter_needs_no_value(account_id: str, make_uow: MakeUow,
                                      customer: Customer) -> None:
    m = meter(account_id, make_uow, "count")
    report(account_id, make_uow, customer)
    report(account_id, make_uow, customer)
    assert usage(make_uow, m, customer, START, START + timedelta(seconds=1)) == 2


def test_the_same_identifier_counts_once(account_id: str, make_uow: MakeUow,
                                         customer: Customer) -> None:
    m = meter(account_id, make_uow)
    report(account_id, make_uow, customer, 10, identifier="req_1")
    report(account_id, make_uow, customer, 10, identifier="req_1")  # a retry
    assert usage(make_uow, m, customer, START, START + timedelta(seconds=1)) == 10
    with pytest.raises(InvalidRequest) as refused:
        report(account_id, make_uow, customer, 11, identifier="req_1")
    assert (refused.value.param, refused.value.code) == ("identifier",
                                                         "resource_already_exists")
    report(account_id, make_uow, customer, 1, identifier="req_2")
    assert usage(make_uow, m, customer, START, START + timedelta(seconds=1)) == 11


@pytest.mark.parametrize(("payload", "param"), [
    ({}, "payload[stripe_customer_id]"),
    ({"value": "1"}, "payload[stripe_customer_id]"),
    ({"stripe_customer_id": "CUSTOMER"}, "payload[value]"),
    ({"stripe_customer_id": "CUSTOMER", "value": "1.5"}, "payload[value]"),
    ({"stripe_customer_id": "CUSTOMER", "value": "-2"}, "payload[value]"),
    ({"stripe_customer_id": "cus_nope", "value": "1"}, "payload[stripe_customer_id]"),
])
def test_meter_event_payloads_are_checked(account_id: str, make_uow: MakeUow,
                                          customer: Customer, payload: dict[str, str],
                                          param: str) -> None:
    meter(account_id, make_uow)
    given = {k: customer.id if v == "CUSTOMER" else v for k, v in payload.items()}
    with pytest.raises(InvalidRequest) as refused:
        meters.create_meter_event(account_id=account_id, uow=make_uow(), event_name="api_call",
                                  payload=given)
    assert refused.value.param == param


@pytest.mark.parametrize(("offset", "accepted"), [
    (timedelta(days=-35), True), (timedelta(days=-35, seconds=-1), False),
    (timedelta(minutes=5), True), (timedelta(minutes=5, seconds=1), False),
])
def test_event_timestamps_within_35_days_back_and_5_minutes_ahead(
        account_id: str, make_uow: MakeUow, customer: Customer, offset: timedelta,
        accepted: bool) -> None:
    meter(account_id, make_uow)
    if accepted:
        report(account_id, make_uow, customer, 1, at=START + offset)
    else:
        with pytest.raises(InvalidRequest) as refused:
            report(account_id, make_uow, customer, 1, at=START + offset)
        assert refused.value.param == "timestamp"


def test_custom_payload_keys(account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    m = meters.create_meter(account_id=account_id, uow=make_uow(), display_name="Bytes",
                            event_name="bytes", formula="sum", customer_payload_key="account",
                            value_payload_key="bytes_used")
    meters.create_meter_event(account_id=account_id, uow=make_uow(), event_name="bytes",
                              payload={"account": customer.id, "bytes_used": "2048"})
    assert usage(make_uow, m, customer, START, START + timedelta(seconds=1)) == 2048


# --- summaries ---------------------------------------------------------------------------


def test_event_summaries_whole_range_and_by_hour_and_day(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    m = meter(account_id, make_uow)
    day = datetime(2026, 1, 30, tzinfo=UTC)
    for at, value in ((day + timedelta(hours=1, minutes=5), 2),
                      (day + timedelta(hours=1, minutes=59), 3),
                      (day + timedelta(hours=5), 10),
                      (day + timedelta(days=1, hours=2), 100)):
        report(account_id, make_uow, customer, value, at=at)

    def summaries(grouping: str | None, end: datetime = day + timedelta(days=2)
                  ) -> list[tuple[datetime, datetime, int]]:
        found = meters.list_event_summaries(m.id, account_id=account_id, uow=make_uow(),
                                            customer=customer.id, start=day, end=end,
                                            grouping=grouping)
        return [(s.start, s.end, s.value) for s in found]

    assert summaries(None) == [(day, day + timedelta(days=2), 115)]
    assert summaries("hour") == [
        (day + timedelta(days=1, hours=2), day + timedelta(days=1, hours=3), 100),
        (day + timedelta(hours=5), day + timedelta(hours=6), 10),
        (day + timedelta(hours=1), day + timedelta(hours=2), 5)]
    assert summaries("day") == [(day + timedelta(days=1), day + timedelta(days=2), 100),
                                (day, day + timedelta(days=1), 15)]
    first = meters.list_event_summaries(m.id, account_id=account_id, uow=make_uow(),
                                        customer=customer.id, start=day,
                                        end=day + timedelta(days=1))
    again = meters.list_event_summaries(m.id, account_id=account_id, uow=make_uow(),
                                        customer=customer.id, start=day,
                                        end=day + timedelta(days=1))
    assert first[0].id == again[0].id and first[0].id.startswith("mtrusg_")


@pytest.mark.parametrize(("start", "end", "grouping", "param"), [
    (datetime(2026, 1, 30, 0, 0, 30, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC), None,
     "start_time"),
    (datetime(2026, 1, 30, 0, 30, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC), "hour",
     "start_time"),
    (datetime(2026, 1, 30, tzinfo=UTC), datetime(2026, 1, 31, 1, tzinfo=UTC), "day",
     "end_time"),
    (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 1, 30, tzinfo=UTC), None, "end_time"),
    (datetime(2026, 1, 30, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC), "week",
     "value_grouping_window"),
])
def test_event_summary_windows_are_checked(account_id: str, make_uow: MakeUow,
                                           customer: Customer, start: datetime, end: datetime,
                                           grouping: str | None, param: str) -> None:
    m = meter(account_id, make_uow)
    with pytest.raises(InvalidRequest) as refused:
        meters.list_event_summaries(m.id, account_id=account_id, uow=make_uow(),
                                    customer=customer.id, start=start, end=end,
                                    grouping=grouping)
    assert refused.value.param == param


# --- prices ------------------------------------------------------------------------------


def test_only_metered_prices_take_an_active_meter(account_id: str, make_uow: MakeUow) -> None:
    m = meter(account_id, make_uow)
    price = metered_price(account_id, make_uow, m)
    assert price.meter_id == m.id
    with pytest.raises(InvalidRequest) as refused:
        catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                             unit_amount=5, product=price.product_id, interval="month",
                             meter=m.id)
    assert refused.value.param == "recurring[meter]"
    meters.deactivate_meter(m.id, account_id=account_id, uow=make_uow())
    with pytest.raises(InvalidRequest) as refused:
        metered_price(account_id, make_uow, m)
    assert refused.value.code == "meter_inactive"
    with pytest.raises(ResourceMissing) as missing:
        catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                             unit_amount=5, product=price.product_id, interval="month",
                             usage_type="metered", meter="mtr_nope")
    assert missing.value.param == "recurring[meter]"


# --- billing usage in arrears ------------------------------------------------------------


def test_renewals_bill_each_periods_usage_exactly(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    m = meter(account_id, make_uow)
    calls = metered_price(account_id, make_uow, m)
    sub = subscriptions.create_subscription(account_id=account_id, uow=make_uow(),
                                            customer=customer.id,
                                            items=[ItemSpec(monthly.id), ItemSpec(calls.id)])
    report(account_id, make_uow, customer, 1000, at=START)  # the first second of period 1
    clock.set(FEB_28 - timedelta(minutes=2))
    report(account_id, make_uow, customer, 234, at=FEB_28 - timedelta(seconds=1))
    report(account_id, make_uow, customer, 7, at=FEB_28)  # the boundary: period 2

    # The upcoming invoice already shows the usage so far.
    upcoming, upcoming_lines = changes.preview_invoice(sub.id, account_id=account_id,
                                                       uow=make_uow())
    assert [ln.amount for ln in upcoming_lines] == [2000, 6170]

    renewals.advance_clock(clock, FEB_28 + timedelta(hours=1), account_id=account_id,
                           uow_factory=make_uow)
    clock.set(MAR_31 - timedelta(minutes=1))
    report(account_id, make_uow, customer, 3, at=MAR_31 - timedelta(seconds=1))
    report(account_id, make_uow, customer, 500, at=MAR_31)  # belongs to period 3
    renewals.advance_clock(clock, MAR_31 + timedelta(hours=1), account_id=account_id,
                           uow_factory=make_uow)

    first, feb, mar = invoices_of(make_uow, sub.id)
    assert [(ln.quantity, ln.amount) for ln in lines_of(make_uow, first.id)] == [
        (1, 2000), (0, 0)]
    feb_lines = lines_of(make_uow, feb.id)
    usage_line = feb_lines[1]
    assert (usage_line.quantity, usage_line.amount) == (1234, 6170)
    assert (usage_line.period_start, usage_line.period_end) == (START, FEB_28)
    assert usage_line.description == "API access — Usage: 1,234 API calls (at $0.05 / unit)"
    assert (feb.subtotal, feb.total, feb.amount_paid) == (8170, 8170, 8170)
    assert upcoming.total == feb.total
    mar_usage = lines_of(make_uow, mar.id)[1]
    assert (mar_usage.quantity, mar_usage.period_start, mar_usage.period_end) == (
        10, FEB_28, MAR_31)
    assert mar.total == 2000 + 50
    # What the next renewal will bill: the event at the boundary and nothing before it.
    item = read(make_uow, lambda uow: uow.session.get(
        SubscriptionItem, usage_line.subscription_item_id))
    sub_now = subscriptions.retrieve_subscription(sub.id, account_id=account_id, uow=make_uow())
    so_far = meters.current_usage(sub_now, item, calls, uow=make_uow())
    assert (so_far.quantity, so_far.amount, so_far.start) == (500, 2500, MAR_31)


def test_usage_during_a_trial_is_free(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                                      customer: Customer) -> None:
    m = meter(account_id, make_uow)
    calls = metered_price(account_id, make_uow, m, unit_label=None)
    sub = subscriptions.create_subscription(account_id=account_id, uow=make_uow(),
                                            customer=customer.id, items=[ItemSpec(calls.id)],
                                            trial_period_days=7)
    trial_end = START + timedelta(days=7)
    clock.set(START + timedelta(days=1))
    report(account_id, make_uow, customer, 50)
    clock.set(trial_end - timedelta(minutes=1))
    report(account_id, make_uow, customer, 2, at=trial_end)  # after the trial
    renewals.advance_clock(clock, trial_end + timedelta(days=31), account_id=account_id,
                           uow_factory=make_uow)
    _trial, after_trial, first_paid = invoices_of(make_uow, sub.id)
    assert lines_of(make_uow, after_trial.id)[0].quantity == 0
    line = lines_of(make_uow, first_paid.id)[0]
    assert (line.quantity, line.amount) == (2, 10)
    assert line.description == "API access — Usage: 2 units (at $0.05 / unit)"


def test_a_metered_price_without_a_meter_bills_nothing(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer) -> None:
    legacy = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                  unit_amount=5, product_name="Legacy", interval="month",
                                  usage_type="metered")
    sub = subscriptions.create_subscription(account_id=account_id, uow=make_uow(),
                                            customer=customer.id, items=[ItemSpec(legacy.id)])
    renewals.advance_clock(clock, FEB_28 + timedelta(hours=1), account_id=account_id,
                           uow_factory=make_uow)
    assert [i.total for i in invoices_of(make_uow, sub.id)] == [0, 0]


def test_two_simultaneous_retries_store_one_event(account_id: str, make_uow: MakeUow,
                                                  customer: Customer) -> None:
    import threading

    from sqlalchemy import func
    from sqlmodel import select

    from portal_app.billing.models import MeterEvent

    m = meter(account_id, make_uow)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send() -> None:
        barrier.wait()
        try:
            report(account_id, make_uow, customer, 9, identifier="req_same")
        except BaseException as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    stored = read(make_uow, lambda uow: uow.session.exec(
        select(func.count()).select_from(MeterEvent)
        .where(MeterEvent.account_id == account_id)).one())
    assert stored == 1
    assert usage(make_uow, m, customer, START, START + timedelta(seconds=1)) == 9


# --- the final invoice when a subscription ends ------------------------------------------


def metered_subscription(account_id: str, make_uow: MakeUow, customer: Customer,
                         monthly: Price) -> tuple[str, Price]:
    calls = metered_price(account_id, make_uow, meter(account_id, make_uow))
    sub = subscriptions.create_subscription(account_id=account_id, uow=make_uow(),
                                            customer=customer.id,
                                            items=[ItemSpec(monthly.id), ItemSpec(calls.id)])
    return sub.id, calls


def invoice_event_types(make_uow: MakeUow, account_id: str, invoice_id: str) -> list[str]:
    return [e.type for e in events_of(make_uow, account_id, object_id=invoice_id)]


def test_a_cancel_at_period_end_bills_the_last_periods_usage_once(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub_id, calls = metered_subscription(account_id, make_uow, customer, monthly)
    report(account_id, make_uow, customer, 100, at=START)
    renewals.advance_clock(clock, FEB_28 + timedelta(hours=1), account_id=account_id,
                           uow_factory=make_uow)
    report(account_id, make_uow, customer, 20)  # period 2
    cancellations.cancel_subscription(sub_id, account_id=account_id, uow=make_uow(),
                                      at_period_end=True)
    clock.set(MAR_31 - timedelta(minutes=1))
    report(account_id, make_uow, customer, 3, at=MAR_31 - timedelta(seconds=1))
    report(account_id, make_uow, customer, 4000, at=MAR_31)  # the end: after it
    renewals.advance_clock(clock, MAR_31 + timedelta(hours=1), account_id=account_id,
                           uow_factory=make_uow)
    report(account_id, make_uow, customer, 5000)  # after the end
    renewals.advance_clock(clock, MAR_31 + timedelta(days=62), account_id=account_id,
                           uow_factory=make_uow)

    first, feb, final = invoices_of(make_uow, sub_id)
    assert [(ln.quantity, ln.amount) for ln in lines_of(make_uow, feb.id)] == [
        (1, 2000), (100, 500)]
    [usage_line] = lines_of(make_uow, final.id)  # no licensed line: paid in advance
    assert (usage_line.price_id, usage_line.quantity, usage_line.amount) == (calls.id, 23, 115)
    assert (usage_line.period_start, usage_line.period_end) == (FEB_28, MAR_31)
    assert (final.billing_reason, final.created, final.status) == (
        "subscription_cancel", MAR_31, "paid")
    assert (final.period_start, final.period_end, final.amount_paid) == (FEB_28, MAR_31, 115)
    assert invoice_event_types(make_uow, account_id, final.id) == [
        "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]
    sub = subscriptions.retrieve_subscription(sub_id, account_id=account_id, uow=make_uow())
    assert (sub.status, sub.ended_at, sub.latest_invoice) == ("canceled", MAR_31, final.id)
    # The subscription ends, then its final invoice is issued (as on an immediate cancel).
    last = [e.type for e in events_of(make_uow, account_id)][-5:]
    assert last == ["customer.subscription.deleted", "invoice.created", "invoice.finalized",
                    "invoice.paid", "invoice.payment_succeeded"]


def test_an_immediate_cancel_with_invoice_now_bills_usage_up_to_now(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub_id, calls = metered_subscription(account_id, make_uow, customer, monthly)
    report(account_id, make_uow, customer, 1000, at=START)
    renewals.advance_clock(clock, FEB_28 + timedelta(hours=1), account_id=account_id,
                           uow_factory=make_uow)
    report(account_id, make_uow, customer, 600)
    middle = FEB_28 + (MAR_31 - FEB_28) / 2
    clock.set(middle)
    report(account_id, make_uow, customer, 1, at=middle - timedelta(seconds=1))
    report(account_id, make_uow, customer, 9000, at=middle)  # the end: after it
    cancellations.cancel_subscription(sub_id, account_id=account_id, uow=make_uow(),
                                      prorate=True, invoice_now=True)
    clock.set(middle + timedelta(minutes=1))
    report(account_id, make_uow, customer, 7000)
    renewals.advance_clock(clock, MAR_31 + timedelta(days=31), account_id=account_id,
                           uow_factory=make_uow)

    _first, feb, final = invoices_of(make_uow, sub_id)
    assert lines_of(make_uow, feb.id)[1].quantity == 1000
    usage_line, credit = lines_of(make_uow, final.id)
    assert (usage_line.price_id, usage_line.quantity, usage_line.amount) == (calls.id, 601,
                                                                             3005)
    assert (usage_line.period_start, usage_line.period_end) == (FEB_28, middle)
    assert (credit.price_id, credit.proration, credit.amount) == (monthly.id, True, -1000)
    assert (final.billing_reason, final.total, final.amount_paid, final.status) == (
        "subscription_cancel", 2005, 2005, "paid")
    assert invoice_event_types(make_uow, account_id, final.id) == [
        "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]


def test_an_immediate_cancel_without_invoice_now_bills_no_usage(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub_id, _calls = metered_subscription(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(days=3))
    report(account_id, make_uow, customer, 40)
    clock.set(START + timedelta(days=3, minutes=1))
    cancellations.cancel_subscription(sub_id, account_id=account_id, uow=make_uow())
    renewals.advance_clock(clock, MAR_31 + timedelta(hours=1), account_id=account_id,
                           uow_factory=make_uow)
    assert [i.billing_reason for i in invoices_of(make_uow, sub_id)] == [
        "subscription_create"]


def test_a_declined_final_invoice_stays_open_and_the_subscription_ends(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub_id, _calls = metered_subscription(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(days=3))
    report(account_id, make_uow, customer, 40)
    clock.set(START + timedelta(days=3, minutes=1))
    failing = payment_methods.attach_payment_method("pm_card_chargeCustomerFail",
                                                    customer_id=customer.id, account_id=account_id,
                                                    uow=make_uow())
    customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                              default_payment_method=failing.id)
    cancellations.cancel_subscription(sub_id, account_id=account_id, uow=make_uow(),
                                      invoice_now=True)
    _first, final = invoices_of(make_uow, sub_id)
    assert (final.billing_reason, final.status, final.amount_remaining) == (
        "subscription_cancel", "open", 200)
    assert invoice_event_types(make_uow, account_id, final.id) == [
        "invoice.created", "invoice.finalized", "invoice.payment_failed"]
    sub = subscriptions.retrieve_subscription(sub_id, account_id=account_id, uow=make_uow())
    assert sub.status == "canceled"


def test_a_trial_canceled_at_its_end_has_no_final_invoice(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer) -> None:
    calls = metered_price(account_id, make_uow, meter(account_id, make_uow))
    sub = subscriptions.create_subscription(account_id=account_id, uow=make_uow(),
                                            customer=customer.id, items=[ItemSpec(calls.id)],
                                            trial_period_days=7, cancel_at_period_end=True)
    clock.set(START + timedelta(days=1))
    report(account_id, make_uow, customer, 50)  # free: during the trial
    renewals.advance_clock(clock, START + timedelta(days=40), account_id=account_id,
                           uow_factory=make_uow)
    assert [i.billing_reason for i in invoices_of(make_uow, sub.id)] == [
        "subscription_create"]
    ended = subscriptions.retrieve_subscription(sub.id, account_id=account_id, uow=make_uow())
    assert ended.status == "canceled"
