"""Dunning: the retry schedule, hard declines, and the outcome when every retry fails."""

from __future__ import annotations

from datetime import timedelta

from portal_app.billing import dunning, renewals
from portal_app.billing.models import (
    Customer,
    InvoiceStatus,
    PaymentMethod,
    Price,
    Subscription,
    SubscriptionStatus,
)
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest
from tests.portal_app.billing.helpers import (
    FEB_28,
    MakeUow,
    attach_card,
    charges_of,
    invoices_of,
    load,
    raises_param,
    subscribe,
)


def test_policy_defaults_and_validation(account_id: str, make_uow: MakeUow) -> None:
    assert dunning.retry_policy(account_id, uow=make_uow()) == dunning.DEFAULT_POLICY
    assert len(dunning.SMART_RETRIES) + 1 == 8 and dunning.SMART_RETRIES[-1] == 14
    with raises_param(InvalidRequest, "retry_days"):
        dunning.set_retry_policy(account_id, retry_days=[3, 1], after_all_fail="cancel",
                                 uow=make_uow())
    with raises_param(InvalidRequest, "after_all_fail"):
        dunning.set_retry_policy(account_id, retry_days=[1], after_all_fail="delete",
                                 uow=make_uow())


def test_leave_past_due_keeps_billing(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                                      customer: Customer, monthly: Price) -> None:
    dunning.set_retry_policy(account_id, retry_days=[3, 5], after_all_fail="past_due",
                             uow=make_uow())
    sub = subscribe(account_id, make_uow, customer, monthly)
    attach_card(account_id, make_uow, customer, "4000000000000341")  # generic decline
    renewals.advance_clock(clock, FEB_28 + timedelta(days=10), account_id=account_id,
                           uow_factory=make_uow)
    unpaid = invoices_of(make_uow, sub.id)[-1]
    assert [c.created for c in charges_of(make_uow, unpaid.id)] == [
        FEB_28, FEB_28 + timedelta(days=3), FEB_28 + timedelta(days=5)]
    assert unpaid.next_payment_attempt is None and unpaid.status == InvoiceStatus.open
    assert load(make_uow, Subscription, sub.id).status == SubscriptionStatus.past_due


def test_hard_decline_is_not_retried(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                                     customer: Customer, monthly: Price) -> None:
    dunning.set_retry_policy(account_id, retry_days=dunning.SMART_RETRIES,
                             after_all_fail="cancel", uow=make_uow())
    sub = subscribe(account_id, make_uow, customer, monthly)
    lost = attach_card(account_id, make_uow, customer, "4000000000000341")
    with make_uow() as uow:  # the issuer now answers "lost card" (a hard decline)
        row = uow.session.get(PaymentMethod, lost.id)
        assert row is not None
        row.charge_decline_code = "lost_card"
        uow.add(row)
        uow.commit()
    renewals.advance_clock(clock, FEB_28 + timedelta(days=10), account_id=account_id,
                           uow_factory=make_uow)
    unpaid = invoices_of(make_uow, sub.id)[-1]
    assert len(charges_of(make_uow, unpaid.id)) == 1 and unpaid.next_payment_attempt is None
    assert load(make_uow, Subscription, sub.id).status == SubscriptionStatus.past_due
