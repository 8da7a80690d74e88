"""Changes scheduled for the period end: applied by the clock, or cancelled."""

from __future__ import annotations

import pytest

from portal_app.billing import cancellations, changes, schedules
from portal_app.billing.models import Customer, Price, ScheduleStatus, SubscriptionSchedule
from portal_app.billing.provider import ItemChange
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest
from tests.portal_app.billing.helpers import (
    HALF,
    PERIOD_END,
    MakeUow,
    advance,
    events_of,
    invoices_of,
    items_of,
    subscribe,
)

# --- scheduled changes ---------------------------------------------------------------------


def test_a_downgrade_scheduled_for_period_end_is_applied_by_the_clock(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, business)
    item = items_of(make_uow, sub.id)[0]
    clock.set(HALF)
    change = [ItemChange(id=item.id, price=monthly.id)]
    preview = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=change, schedule_at_period_end=True)
    assert preview.scheduled_for == PERIOD_END
    assert preview.lines == () and preview.amount_due_now == 0
    assert preview.next_invoice_amount == 2000
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(), items=change,
                         schedule_at_period_end=True)
    pending = schedules.pending_change(sub.id, account_id=account_id, uow=make_uow())
    assert pending is not None
    assert pending.effective_at == PERIOD_END
    assert [(i.price_id, i.quantity, i.product_name) for i in pending.items] == [
        (monthly.id, 1, "Pro")]
    assert pending.schedule_id.startswith("sub_sched_")
    assert items_of(make_uow, sub.id)[0].price_id == business.id  # not yet
    with pytest.raises(InvalidRequest) as info:
        changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                             items=[ItemChange(id=item.id, quantity=2)])
    assert info.value.code == "pending_scheduled_change"
    advance(clock, PERIOD_END, account_id, make_uow)
    assert [(i.id, i.price_id) for i in items_of(make_uow, sub.id)] == [(item.id, monthly.id)]
    assert invoices_of(make_uow, sub.id)[-1].amount_due == 2000
    assert schedules.pending_change(sub.id, account_id=account_id, uow=make_uow()) is None
    types = [e.type for e in events_of(make_uow, account_id)]
    assert "subscription_schedule.created" in types
    assert types.index("subscription_schedule.completed") < len(types) - 1
    # Free to change again.
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                         items=[ItemChange(id=item.id, quantity=2)])


def test_cancelling_a_scheduled_change_keeps_the_plan(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, business)
    item = items_of(make_uow, sub.id)[0]
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                         items=[ItemChange(id=item.id, price=monthly.id)],
                         schedule_at_period_end=True)
    schedules.cancel_scheduled_change(sub.id, account_id=account_id, uow=make_uow())
    assert schedules.pending_change(sub.id, account_id=account_id, uow=make_uow()) is None
    with pytest.raises(InvalidRequest) as info:
        schedules.cancel_scheduled_change(sub.id, account_id=account_id, uow=make_uow())
    assert info.value.code == "no_change"
    advance(clock, PERIOD_END, account_id, make_uow)
    assert items_of(make_uow, sub.id)[0].price_id == business.id
    assert invoices_of(make_uow, sub.id)[-1].amount_due == 5000
    events = events_of(make_uow, account_id)
    released = [e for e in events if e.type == "subscription_schedule.released"]
    assert released and released[0].data_object["status"] == "released"
    updated = [e for e in events if e.type == "customer.subscription.updated"]
    assert any((e.previous_attributes or {}).get("schedule") == released[0].object_id
               for e in updated)


# --- who made the schedule ---------------------------------------------------------------


def merchant_schedule(account_id: str, make_uow: MakeUow, sub_id: str, then: Price) -> str:
    """The merchant's schedule (the API's): the current items to the period end, then ``then``."""
    schedule = schedules.create_subscription_schedule(account_id=account_id, uow=make_uow(),
                                                      from_subscription=sub_id)
    current = schedule.phases[0]
    schedules.update_subscription_schedule(
        schedule.id, account_id=account_id, uow=make_uow(),
        phases=[{"items": current["items"], "end_date": current["end_date"]},
                {"items": [{"price": then.id}]}])
    return schedule.id


def schedule_of(make_uow: MakeUow, schedule_id: str) -> SubscriptionSchedule:
    with make_uow() as uow:
        schedule = uow.session.get(SubscriptionSchedule, schedule_id)
        assert schedule is not None
        return schedule


def test_a_cancel_at_period_end_keeps_the_merchants_schedule(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    """An introductory price (Pro, €20.00) ends as the merchant planned (Business, €50.00):
    cancelling at the period end and then undoing it leaves that plan in place, and the
    customer's "cancel the scheduled change" is refused."""
    sub = subscribe(account_id, make_uow, customer, monthly)
    schedule_id = merchant_schedule(account_id, make_uow, sub.id, business)
    assert schedule_of(make_uow, schedule_id).created_by == "merchant"
    assert schedules.pending_change(sub.id, account_id=account_id, uow=make_uow()) is None
    with pytest.raises(InvalidRequest) as refused:
        schedules.cancel_scheduled_change(sub.id, account_id=account_id, uow=make_uow(),
                                          customer_id=customer.id)
    assert refused.value.code == "not_allowed"

    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                      at_period_end=True)
    assert schedule_of(make_uow, schedule_id).status == ScheduleStatus.active
    cancellations.reactivate_subscription(sub.id, account_id=account_id, uow=make_uow())

    advance(clock, PERIOD_END, account_id, make_uow)
    assert items_of(make_uow, sub.id)[0].price_id == business.id
    assert invoices_of(make_uow, sub.id)[-1].amount_due == 5000


def test_a_subscription_cancelled_at_period_end_ends_with_the_merchants_schedule(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    schedule_id = merchant_schedule(account_id, make_uow, sub.id, business)
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                      at_period_end=True)

    advance(clock, PERIOD_END, account_id, make_uow)

    assert schedule_of(make_uow, schedule_id).status == ScheduleStatus.canceled
    assert len(invoices_of(make_uow, sub.id)) == 1  # nothing billed at the new price


def test_the_portals_change_is_the_customers_and_a_cancel_drops_it(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price,
        business: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, business)
    item = items_of(make_uow, sub.id)[0]
    changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                         items=[ItemChange(id=item.id, price=monthly.id)],
                         schedule_at_period_end=True)
    pending = schedules.pending_change(sub.id, account_id=account_id, uow=make_uow())
    assert pending is not None
    assert schedule_of(make_uow, pending.schedule_id).created_by == "portal"

    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                      at_period_end=True)

    assert schedule_of(make_uow, pending.schedule_id).status == ScheduleStatus.released
