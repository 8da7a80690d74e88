"""Subscription changes on the real ledger: prorations, multi-item changes, hard cases,
promotion codes, origin and concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from portal_app import money
from portal_app.billing import (
    cancellations,
    catalog,
    changes,
    coupons,
    customers,
    pauses,
    payment_methods,
    schedules,
    subscriptions,
)
from portal_app.billing.models import (
    Customer,
    InvoiceStatus,
    Price,
    Subscription,
    SubscriptionStatus,
)
from portal_app.billing.provider import ItemChange
from portal_app.clock import FrozenClock
from portal_app.errors import CardDeclined, InvalidRequest, ResourceMissing
from portal_app.objects import render_event
from tests.portal_app.billing.helpers import (
    HALF,
    PERIOD_END,
    MakeUow,
    advance,
    charges_of,
    count_rows,
    events_of,
    invoices_of,
    items_of,
    lines_of,
    pending_of,
    sub_of,
    subscribe,
)

# --- upgrades and downgrades -------------------------------------------------------------


def test_upgrade_halfway_creates_a_credit_and_a_debit_billed_at_renewal(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    change = [ItemChange(id=item.id, price=business.id)]
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(), items=change)
    assert [(line.description, line.amount) for line in preview.lines] == [
        ("Unused time on Pro after 14 Feb 2026", -1000),
        ("Remaining time on Business after 14 Feb 2026", 2500),
    ]
    assert preview.amount_due_now == 0
    assert preview.next_invoice_at == PERIOD_END
    assert preview.next_invoice_amount == 5000 + 1500
    assert preview.scheduled_for is None
    # The preview changed nothing.
    assert items_of(make_uow, sub.id)[0].price_id == monthly.id
    assert pending_of(make_uow, sub.id) == []

    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(), items=change,
                         expected_version=preview.version)
    assert items_of(make_uow, sub.id)[0].id == item.id  # the same item, a new price
    assert items_of(make_uow, sub.id)[0].price_id == business.id
    assert [p.amount for p in pending_of(make_uow, sub.id)] == [-1000, 2500]

    advance(clock, PERIOD_END, account_id, make_uow)
    renewal = invoices_of(make_uow, sub.id)[-1]
    assert renewal.amount_due == preview.next_invoice_amount == 6500
    assert renewal.status == InvoiceStatus.paid
    lines = lines_of(make_uow, renewal.id)
    assert [(ln.amount, ln.proration) for ln in lines] == [(5000, False), (-1000, True),
                                                           (2500, True)]
    assert renewal.total == sum(ln.amount - ln.discount_amount for ln in lines)
    assert pending_of(make_uow, sub.id) == []


def test_always_invoice_charges_the_difference_now(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    change = [ItemChange(id=item.id, price=business.id)]
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=change, proration_behavior="always_invoice")
    assert preview.amount_due_now == 1500
    assert preview.next_invoice_amount == 5000
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(), items=change,
                         proration_behavior="always_invoice")
    invoice = invoices_of(make_uow, sub.id)[-1]
    assert invoice.billing_reason == "subscription_update"
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == (InvoiceStatus.paid,
                                                                         1500, 1500)
    assert [c.amount for c in charges_of(make_uow, invoice.id)] == [1500]
    types = [e.type for e in events_of(make_uow, account_id)]
    tail = types[types.index("invoiceitem.created"):]
    assert tail == ["invoiceitem.created", "invoiceitem.created",
                    "customer.subscription.updated", "invoice.created", "invoice.finalized",
                    "invoice.paid", "invoice.payment_succeeded"]
    updated = [e for e in events_of(make_uow, account_id)
               if e.type == "customer.subscription.updated"][-1]
    assert set(updated.previous_attributes or {}) >= {"items", "latest_invoice"}
    advance(clock, PERIOD_END, account_id, make_uow)
    assert invoices_of(make_uow, sub.id)[-1].amount_due == preview.next_invoice_amount


def test_a_declined_always_invoice_charge_leaves_everything_as_it_was(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    failing = payment_methods.attach_payment_method("pm_card_chargeCustomerFail",
                                                    customer_id=customer.id, account_id=account_id,
                                                    uow=make_uow())
    customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                              default_payment_method=failing.id)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    before = count_rows(make_uow, account_id)
    version = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=[ItemChange(id=item.id, price=business.id)],
                                     proration_behavior="always_invoice").version
    with pytest.raises(CardDeclined):
        changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                             items=[ItemChange(id=item.id, price=business.id)],
                             proration_behavior="always_invoice")
    assert count_rows(make_uow, account_id) == before
    assert items_of(make_uow, sub.id)[0].price_id == monthly.id
    assert pending_of(make_uow, sub.id) == []
    with make_uow() as uow:
        fresh = uow.session.get(Subscription, sub.id)
        assert fresh is not None
        assert subscriptions.subscription_version(fresh, uow) == version


def test_quantity_change_prorates_old_and_new_quantity(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly, quantity=2)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=[ItemChange(id=item.id, quantity=5)])
    assert [(ln.description, ln.amount, ln.quantity) for ln in preview.lines] == [
        ("Unused time on 2 × Pro after 14 Feb 2026", -2000, 2),
        ("Remaining time on 5 × Pro after 14 Feb 2026", 5000, 5),
    ]
    assert sum(ln.amount for ln in preview.lines) == 3 * 2000 // 2


def test_proration_is_to_the_second_and_rounds_each_line_half_up(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer) -> None:
    odd = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                               unit_amount=999, product_name="Odd", interval="month")
    other = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                 unit_amount=1001, product_name="Other", interval="month")
    sub = subscribe(account_id, make_uow, customer, odd)
    item = items_of(make_uow, sub.id)[0]
    at = datetime(2026, 2, 3, 7, 11, 13, tzinfo=UTC)
    clock.set(at)
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=[ItemChange(id=item.id, price=other.id)])
    total = 28 * 86400
    remaining = int((PERIOD_END - at).total_seconds())
    exact_credit = 999 * remaining / total
    exact_debit = 1001 * remaining / total
    assert preview.lines[0].amount == -int(exact_credit + 0.5)
    assert preview.lines[1].amount == int(exact_debit + 0.5)
    assert money.prorate(3, remaining=1, total=2) == 2  # half up
    assert money.prorate(-3, remaining=1, total=2) == -2  # half away from zero


def test_proration_date_in_the_past_of_the_period_is_honoured(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF + timedelta(days=3))
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=[ItemChange(id=item.id, price=business.id)],
                                     proration_date=HALF)
    assert [ln.amount for ln in preview.lines] == [-1000, 2500]
    with pytest.raises(InvalidRequest) as info:
        changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                               items=[ItemChange(id=item.id, price=business.id)],
                               proration_date=PERIOD_END + timedelta(days=1))
    assert info.value.param == "proration_date"


def test_none_changes_items_without_billing_anything_until_renewal(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=[ItemChange(id=item.id, price=business.id)],
                                     proration_behavior="none")
    assert preview.lines == () and preview.next_invoice_amount == 5000
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                         items=[ItemChange(id=item.id, price=business.id)],
                         proration_behavior="none")
    assert pending_of(make_uow, sub.id) == []
    advance(clock, PERIOD_END, account_id, make_uow)
    assert invoices_of(make_uow, sub.id)[-1].amount_due == 5000


def test_switching_to_a_yearly_price_starts_a_new_period_billed_now(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    yearly = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                  unit_amount=20000, product_name="Pro yearly",
                                  interval="year")
    sub = subscribe(account_id, make_uow, customer, monthly)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    change = [ItemChange(id=item.id, price=yearly.id)]
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=change)
    assert [(ln.amount, ln.proration) for ln in preview.lines] == [(-1000, True),
                                                                  (20000, False)]
    assert preview.amount_due_now == 19000
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(), items=change)
    fresh = sub_of(make_uow, sub.id)
    assert (fresh.current_period_start, fresh.current_period_end) == (
        HALF, datetime(2027, 2, 14, 12, 0, tzinfo=UTC))
    assert fresh.billing_cycle_anchor == HALF
    invoice = invoices_of(make_uow, sub.id)[-1]
    assert (invoice.amount_paid, invoice.status) == (19000, InvoiceStatus.paid)


# --- multi-item subscriptions ------------------------------------------------------------


def test_multi_item_subscription_changes_one_item_adds_and_deletes_others(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    seats = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                 unit_amount=400, product_name="Seats", interval="month")
    support = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                   unit_amount=1000, product_name="Support",
                                   interval="month")
    sub = subscribe(account_id, make_uow, customer, monthly, seats)
    plan, seat = items_of(make_uow, sub.id)
    clock.set(HALF)
    preview = changes.preview_change(
        sub.id, account_id=account_id, uow=make_uow(),
        items=[ItemChange(id=seat.id, quantity=3), ItemChange(price=support.id)])
    assert [ln.amount for ln in preview.lines] == [-200, 600, 500]
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                         items=[ItemChange(id=seat.id, quantity=3),
                                ItemChange(price=support.id)])
    after = items_of(make_uow, sub.id)
    assert [(i.id, i.price_id, i.quantity) for i in after[:2]] == [
        (plan.id, monthly.id, 1), (seat.id, seats.id, 3)]
    assert after[2].price_id == support.id
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                         items=[ItemChange(id=after[2].id, deleted=True)])
    assert [i.id for i in items_of(make_uow, sub.id)] == [plan.id, seat.id]
    assert [p.amount for p in pending_of(make_uow, sub.id)][-1] == -500
    advance(clock, PERIOD_END, account_id, make_uow)
    renewal = invoices_of(make_uow, sub.id)[-1]
    assert renewal.amount_due == 2000 + 1200 + (-200 + 600 + 500 - 500)


# --- hard cases ----------------------------------------------------------------------------


def test_metered_prices_cannot_silently_become_fixed(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    metered = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                   unit_amount=5, product_name="API calls", interval="month",
                                   usage_type="metered")
    sub = subscribe(account_id, make_uow, customer, metered)
    item = items_of(make_uow, sub.id)[0]
    with pytest.raises(InvalidRequest) as info:
        changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                               items=[ItemChange(id=item.id, price=monthly.id)])
    assert info.value.code == "metered_price_change"
    # Adding a fixed price beside it is fine, and prorates only the new item.
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=[ItemChange(price=monthly.id)])
    assert [ln.price_id for ln in preview.lines] == [monthly.id]


def test_past_due_allows_only_cancel(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                                     customer: Customer, monthly: Price,
                                     business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    failing = payment_methods.attach_payment_method("pm_card_chargeCustomerFail",
                                                    customer_id=customer.id, account_id=account_id,
                                                    uow=make_uow())
    customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                              default_payment_method=failing.id)
    advance(clock, PERIOD_END, account_id, make_uow)
    assert sub_of(make_uow, sub.id).status == SubscriptionStatus.past_due
    item = items_of(make_uow, sub.id)[0]
    for attempt in (
        lambda: changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=[ItemChange(id=item.id, price=business.id)]),
        lambda: pauses.pause_subscription(sub.id, account_id=account_id, uow=make_uow()),
    ):
        with pytest.raises(InvalidRequest) as info:
            attempt()
        assert info.value.code == "subscription_past_due"
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow())
    with pytest.raises(InvalidRequest) as info:
        changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                             items=[ItemChange(id=item.id, price=business.id)])
    assert info.value.code == "subscription_canceled"


def test_refusal_codes(account_id: str, make_uow: MakeUow, customer: Customer,
                       monthly: Price) -> None:
    eur = catalog.create_price(account_id=account_id, uow=make_uow(), currency="eur",
                               unit_amount=1800, product_name="Pro EU", interval="month")
    weekly = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                  unit_amount=500, product_name="Addon", interval="week")
    sub = subscribe(account_id, make_uow, customer, monthly)
    item = items_of(make_uow, sub.id)[0]

    def code(*items: ItemChange) -> str | None:
        with pytest.raises(InvalidRequest) as info:
            changes.apply_change(sub.id, account_id=account_id, uow=make_uow(), items=items)
        return info.value.code

    assert code(ItemChange(id=item.id, price=eur.id)) == "currency_mismatch"
    assert code(ItemChange(price=weekly.id)) == "interval_mismatch"
    assert code(ItemChange(id=item.id, quantity=1)) == "no_change"
    assert code(ItemChange(id=item.id, price=monthly.id)) == "no_change"
    with pytest.raises(InvalidRequest) as info:
        changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                             items=[ItemChange(id=item.id, quantity=2)],
                             expected_version="stale")
    assert info.value.code == "subscription_changed"
    with pytest.raises(ResourceMissing):
        changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                             items=[ItemChange(id="si_nope", quantity=2)])


def test_another_customer_s_subscription_is_missing(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    other = customers.create_customer(account_id=account_id, uow=make_uow(), email="x@y.z")
    calls = [
        lambda: changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                       items=[], customer_id=other.id),
        lambda: pauses.pause_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                          customer_id=other.id),
        lambda: pauses.resume_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                           customer_id=other.id),
        lambda: cancellations.reactivate_subscription(sub.id, account_id=account_id,
                                                      uow=make_uow(), customer_id=other.id),
        lambda: schedules.pending_change(sub.id, account_id=account_id, uow=make_uow(),
                                         customer_id=other.id),
        lambda: schedules.cancel_scheduled_change(sub.id, account_id=account_id,
                                                  uow=make_uow(), customer_id=other.id),
    ]
    for call in calls:
        with pytest.raises(ResourceMissing):
            call()


def test_send_invoice_needs_no_payment_method(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, monthly: Price,
        business: Price) -> None:
    customer = customers.create_customer(account_id=account_id, uow=make_uow(),
                                         email="ap@example.com")
    sub = subscribe(account_id, make_uow, customer, monthly, collection_method="send_invoice",
                    days_until_due=14)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                         items=[ItemChange(id=item.id, price=business.id)],
                         proration_behavior="always_invoice")
    invoice = invoices_of(make_uow, sub.id)[-1]
    assert (invoice.status, invoice.amount_due, invoice.due_date) == (
        InvoiceStatus.open, 1500, HALF + timedelta(days=14))
    assert charges_of(make_uow, invoice.id) == []
    assert sub_of(make_uow, sub.id).status == SubscriptionStatus.active


# --- promotion codes and coupons -----------------------------------------------------------


def test_promotion_code_discounts_the_prorations_and_the_renewal(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10,
                                   duration="forever")
    promo = coupons.create_promotion_code(account_id=account_id, uow=make_uow(),
                                          coupon=coupon.id, code="SPRING", max_redemptions=1)
    assert promo.id.startswith("promo_")
    assert coupons.retrieve_promotion_code_by_code("spring", account_id=account_id,
                                                   uow=make_uow()).id == promo.id
    sub = subscribe(account_id, make_uow, customer, monthly)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    change = [ItemChange(id=item.id, price=business.id)]
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=change, promotion_code="SPRING")
    assert [ln.amount for ln in preview.lines] == [-1000, 2500]
    assert preview.discount == -100 + 250
    assert preview.next_invoice_amount == 4500 + 1500 - 150
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(), items=change,
                         promotion_code="SPRING")
    with pytest.raises(InvalidRequest) as info:
        coupons.retrieve_promotion_code_by_code("SPRING", account_id=account_id,
                                                uow=make_uow())
    assert info.value.code == "coupon_expired"
    with pytest.raises(InvalidRequest) as info:
        coupons.retrieve_promotion_code_by_code("NOPE", account_id=account_id, uow=make_uow())
    assert info.value.code == "promotion_code_invalid"
    advance(clock, PERIOD_END, account_id, make_uow)
    renewal = invoices_of(make_uow, sub.id)[-1]
    assert renewal.amount_due == preview.next_invoice_amount
    assert renewal.total == sum(ln.amount - ln.discount_amount
                                for ln in lines_of(make_uow, renewal.id))



# --- origin, concurrency -------------------------------------------------------------------


def test_portal_origin_is_recorded_on_every_event(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    uow = make_uow()
    uow.origin = {"portal_session": "bps_test", "configuration": "bpc_test"}
    pauses.pause_subscription(sub.id, account_id=account_id, uow=uow)
    events = events_of(make_uow, account_id)[-2:]
    assert [e.type for e in events] == ["customer.subscription.updated",
                                        "customer.subscription.paused"]
    assert all(e.origin == {"portal_session": "bps_test", "configuration": "bpc_test"}
               for e in events)
    assert render_event(events[0])["context"] == "bps_test"
    assert events_of(make_uow, account_id)[0].origin is None


def test_two_simultaneous_changes_apply_exactly_one(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    change = [ItemChange(id=item.id, price=business.id)]
    version = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=change).version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm() -> None:
        uow = make_uow()
        barrier.wait()
        try:
            changes.apply_change(sub.id, account_id=account_id, uow=uow, items=change,
                                 proration_behavior="always_invoice",
                                 expected_version=version)
            outcomes.append("applied")
        except InvalidRequest as error:
            outcomes.append(str(error.code))

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["applied", "subscription_changed"]
    invoices = invoices_of(make_uow, sub.id)
    assert [i.billing_reason for i in invoices] == ["subscription_create",
                                                    "subscription_update"]
    assert [c.amount for c in charges_of(make_uow, invoices[1].id)] == [1500]



def test_changes_during_a_trial_bill_nothing(account_id: str, make_uow: MakeUow,
                                             clock: FrozenClock, customer: Customer,
                                             monthly: Price, business: Price) -> None:
    yearly = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                  unit_amount=20000, product_name="Pro yearly",
                                  interval="year")
    sub = subscribe(account_id, make_uow, customer, monthly, trial_period_days=14)
    item = items_of(make_uow, sub.id)[0]
    clock.set(START_PLUS_WEEK := datetime(2026, 2, 7, 12, tzinfo=UTC))
    for price in (business, yearly):
        preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                         items=[ItemChange(id=item.id, price=price.id)],
                                         proration_behavior="always_invoice")
        assert (preview.lines, preview.amount_due_now) == ((), 0)
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                         items=[ItemChange(id=item.id, price=yearly.id)],
                         proration_behavior="always_invoice")
    fresh = sub_of(make_uow, sub.id)
    assert fresh.status == SubscriptionStatus.trialing
    assert fresh.current_period_end == fresh.trial_end > START_PLUS_WEEK
    assert len(invoices_of(make_uow, sub.id)) == 1  # the trial's zero invoice only
