"""Changes scheduled for the period end: applied by the clock, or cancelled."""

from __future__ import annotations

import pytest

from portal_app.billing import changes, schedules
from portal_app.billing.models import Customer, Price
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
