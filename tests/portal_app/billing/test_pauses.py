"""Pausing collection and resuming it, by hand or by the clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_app.billing import changes, pauses
from portal_app.billing.models import Customer, InvoiceStatus, Price, SubscriptionStatus
from portal_app.billing.provider import ItemChange
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest
from tests.portal_app.billing.helpers import (
    MakeUow,
    advance,
    charges_of,
    events_of,
    invoices_of,
    items_of,
    sub_of,
    subscribe,
)

# --- pause and resume ----------------------------------------------------------------------


@pytest.mark.parametrize(("behavior", "status"), [
    ("void", InvoiceStatus.void), ("keep_as_draft", InvoiceStatus.draft),
    ("mark_uncollectible", InvoiceStatus.uncollectible)])
def test_paused_renewals_are_not_charged_and_the_clock_resumes(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, behavior: str, status: InvoiceStatus) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    resumes = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    pauses.pause_subscription(sub.id, account_id=account_id, uow=make_uow(),
                              behavior=behavior, resumes_at=resumes)
    paused = sub_of(make_uow, sub.id)
    assert paused.pause_collection == {"behavior": behavior,
                                       "resumes_at": int(resumes.timestamp())}
    with pytest.raises(InvalidRequest) as info:
        changes.apply_change(sub.id, account_id=account_id, uow=make_uow(),
                             items=[ItemChange(id=items_of(make_uow, sub.id)[0].id,
                                               quantity=2)])
    assert info.value.code == "subscription_paused"
    advance(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id, make_uow)
    invoices = invoices_of(make_uow, sub.id)
    assert [i.status for i in invoices] == [InvoiceStatus.paid, status, InvoiceStatus.paid]
    assert charges_of(make_uow, invoices[1].id) == []
    fresh = sub_of(make_uow, sub.id)
    assert fresh.pause_collection is None and fresh.status == SubscriptionStatus.active
    types = [e.type for e in events_of(make_uow, account_id, object_id=sub.id)]
    assert types.count("customer.subscription.paused") == 1
    assert types.count("customer.subscription.resumed") == 1
    resumed = [e for e in events_of(make_uow, account_id) if
               e.type == "customer.subscription.resumed"][0]
    assert resumed.created == resumes


def test_resume_early_and_refusals(account_id: str, make_uow: MakeUow, customer: Customer,
                                   monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    with pytest.raises(InvalidRequest) as info:
        pauses.resume_subscription(sub.id, account_id=account_id, uow=make_uow())
    assert info.value.code == "subscription_not_paused"
    with pytest.raises(InvalidRequest) as info:
        pauses.pause_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                  behavior="sleep")
    assert info.value.param == "pause_collection[behavior]"
    pauses.pause_subscription(sub.id, account_id=account_id, uow=make_uow())
    pauses.resume_subscription(sub.id, account_id=account_id, uow=make_uow())
    assert sub_of(make_uow, sub.id).pause_collection is None
    updated = [e for e in events_of(make_uow, account_id)
               if e.type == "customer.subscription.updated"]
    assert updated[-1].previous_attributes == {
        "pause_collection": {"behavior": "void", "resumes_at": None}}
