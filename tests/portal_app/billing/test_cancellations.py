"""Cancelling now or at period end, reactivating, and the origin of the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal_app.billing import cancellations, coupons, renewals, subscriptions
from portal_app.billing.models import (
    Customer,
    InvoiceStatus,
    Price,
    Subscription,
    SubscriptionStatus,
)
from portal_app.billing.provider import ItemSpec
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.events.models import Event
from tests.conftest import START
from tests.portal_app.billing.helpers import (
    FEB_28,
    HALF,
    PERIOD_END,
    MakeUow,
    advance,
    events_of,
    invoices_of,
    lines_of,
    load,
    new_customer,
    new_price,
    pending_of,
    raises_param,
    read,
    sub_of,
    subscribe,
)


def test_cancel_at_period_end_takes_effect_at_the_boundary(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(days=3))
    sub = cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                            at_period_end=True, feedback="too_expensive")
    assert sub.status == SubscriptionStatus.active
    assert (sub.cancel_at_period_end, sub.cancel_at) == (True, FEB_28)
    updated = events_of(make_uow, account_id)[-1]
    assert updated.type == "customer.subscription.updated"
    assert updated.previous_attributes is not None
    assert updated.previous_attributes["cancel_at_period_end"] is False
    assert updated.previous_attributes["cancel_at"] is None
    assert updated.data_object["cancellation_details"]["feedback"] == "too_expensive"

    renewals.advance_clock(clock, FEB_28 - timedelta(seconds=1), account_id=account_id,
                           uow_factory=make_uow)
    assert load(make_uow, Subscription, sub.id).status == SubscriptionStatus.active
    renewals.advance_clock(clock, datetime(2026, 5, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.canceled and sub.ended_at == FEB_28
    assert sub.cancellation_details["reason"] == "cancellation_requested"
    assert len(invoices_of(make_uow, sub.id)) == 1
    deleted = events_of(make_uow, account_id)[-1]
    assert (deleted.type, deleted.created) == ("customer.subscription.deleted", FEB_28)


ORIGIN = {"portal_session": "bps_test", "configuration": "bpc_test",
          "cancellation_flow": "cflow_test", "experiment": "exp_test", "variant": "var_test"}


def uow_from(make_uow: MakeUow, origin: dict[str, Any] | None) -> UnitOfWork:
    """A unit of work whose changes come from ``origin`` (as a portal request's do)."""
    uow = make_uow()
    uow.origin = origin
    return uow


def ending(make_uow: MakeUow, account_id: str, sub_id: str) -> Event:
    """The subscription's ``customer.subscription.deleted`` event (there is one)."""
    [deleted] = [e for e in events_of(make_uow, account_id, object_id=sub_id)
                 if e.type == "customer.subscription.deleted"]
    return deleted


@pytest.mark.parametrize("origin", [ORIGIN, None], ids=["with_origin", "without_origin"])
def test_the_end_at_period_end_carries_the_origin_of_the_cancellation(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, origin: dict[str, Any] | None) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(days=3))
    cancellations.cancel_subscription(sub.id, account_id=account_id,
                                      uow=uow_from(make_uow, origin), at_period_end=True)
    scheduled = events_of(make_uow, account_id, object_id=sub.id)[-1]
    assert scheduled.origin == origin
    # Portico's bookkeeping, not a field of Stripe's subscription.
    assert "cancellation_origin" not in scheduled.data_object

    renewals.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    deleted = ending(make_uow, account_id, sub.id)
    assert (deleted.created, deleted.origin) == (FEB_28, origin)
    assert "cancellation_origin" not in deleted.data_object


def test_a_reactivated_subscription_forgets_the_origin_of_its_cancellation(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:

    sub = subscribe(account_id, make_uow, customer, monthly)
    cancellations.cancel_subscription(sub.id, account_id=account_id,
                                      uow=uow_from(make_uow, ORIGIN), at_period_end=True)
    cancellations.reactivate_subscription(sub.id, account_id=account_id, uow=make_uow())
    assert load(make_uow, Subscription, sub.id).cancellation_origin is None
    # Canceled again later by the merchant's API (no origin): that end names nothing.
    renewals.advance_clock(clock, FEB_28 + timedelta(days=1), account_id=account_id,
                           uow_factory=make_uow)
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                      at_period_end=True)
    renewals.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    deleted = ending(make_uow, account_id, sub.id)
    assert deleted.created == datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert deleted.origin is None
    renewed = [e for e in events_of(make_uow, account_id, object_id=sub.id)
               if e.created == FEB_28 and e.type == "customer.subscription.updated"]
    assert renewed and all(e.origin is None for e in renewed)


def test_a_subscription_created_to_cancel_ends_with_its_creation_origin(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscriptions.create_subscription(
        account_id=account_id, uow=uow_from(make_uow, ORIGIN), customer=customer.id,
        items=[ItemSpec(monthly.id)], cancel_at_period_end=True)
    renewals.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    assert ending(make_uow, account_id, sub.id).origin == ORIGIN


def test_cancel_now(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                   customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    later = START + timedelta(days=5)
    clock.set(later)
    sub = cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                            comment="moving on")
    assert sub.status == SubscriptionStatus.canceled
    assert sub.canceled_at == sub.ended_at == later
    assert sub.cancellation_details == {"comment": "moving on", "feedback": None,
                                        "reason": "cancellation_requested"}
    deleted = events_of(make_uow, account_id)[-1]
    assert (deleted.type, deleted.created) == ("customer.subscription.deleted", later)
    assert deleted.previous_attributes["status"] == "active"
    with raises_param(InvalidRequest, None, "subscription_canceled"):
        cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow())
    renewals.advance_clock(clock, datetime(2026, 6, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    assert len(invoices_of(make_uow, sub.id)) == 1


def test_cancel_is_scoped_to_the_customer(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    stranger = new_customer(account_id, make_uow)
    with raises_param(ResourceMissing, "id", "resource_missing"):
        cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                          customer_id=stranger.id)
    assert load(make_uow, Subscription, sub.id).status == SubscriptionStatus.active


# --- cancel, reactivate --------------------------------------------------------------------


def test_cancel_at_period_end_and_reactivate(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                      at_period_end=True)
    assert sub_of(make_uow, sub.id).cancel_at == PERIOD_END
    cancellations.reactivate_subscription(sub.id, account_id=account_id, uow=make_uow())
    fresh = sub_of(make_uow, sub.id)
    assert (fresh.cancel_at_period_end, fresh.cancel_at, fresh.canceled_at) == (False, None,
                                                                                None)
    last = events_of(make_uow, account_id)[-1]
    assert last.type == "customer.subscription.updated"
    assert last.previous_attributes is not None
    assert last.previous_attributes["cancel_at_period_end"] is True
    with pytest.raises(InvalidRequest) as info:
        cancellations.reactivate_subscription(sub.id, account_id=account_id, uow=make_uow())
    assert info.value.code == "no_change"
    advance(clock, PERIOD_END, account_id, make_uow)
    assert sub_of(make_uow, sub.id).status == SubscriptionStatus.active


def test_immediate_cancel_with_proration_credits_the_customer_balance(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(HALF)
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(), prorate=True)
    assert read(make_uow, lambda uow: uow.session.get(Customer, customer.id).balance) == -1000
    assert sub_of(make_uow, sub.id).status == SubscriptionStatus.canceled
    # The credit pays the customer's next invoice first.
    other = subscribe(account_id, make_uow, customer, monthly)
    first = invoices_of(make_uow, other.id)[0]
    assert (first.total, first.starting_balance, first.amount_due) == (2000, -1000, 1000)
    assert read(make_uow, lambda uow: uow.session.get(Customer, customer.id).balance) == 0


def test_immediate_cancel_invoice_now_issues_a_final_credit_invoice(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(HALF)
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(), prorate=True,
                                      invoice_now=True)
    final = invoices_of(make_uow, sub.id)[-1]
    assert final.billing_reason == "subscription_cancel"
    assert (final.total, final.amount_due, final.status) == (-1000, 0, InvoiceStatus.paid)
    assert read(make_uow, lambda uow: uow.session.get(Customer, customer.id).balance) == -1000
    types = [e.type for e in events_of(make_uow, account_id)]
    assert types[types.index("customer.subscription.deleted") - 1:] == [
        "invoiceitem.created", "customer.subscription.deleted", "invoice.created",
        "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]


@pytest.mark.parametrize("invoice_now", [False, True], ids=["to_balance", "final_invoice"])
def test_immediate_cancel_under_a_percent_off_coupon_credits_the_discounted_unused_time(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        invoice_now: bool) -> None:
    # 19.99 USD a month with 12.5 % off forever: the customer paid 19.99 - 2.50 = 17.49
    # (12.5 % of 1999 is 249.875 -> 250). Canceled 10 days into the 28-day period, the
    # unused 18 days are worth 1999 * 18 / 28 = 1285.07 -> 1285, less 12.5 % of it
    # (160.625 -> 161, half away from zero): 1124 back, not 1285 (the coupon forgotten)
    # nor 1035 (the discount counted twice) nor 1125 (the discount rounded down).
    price = new_price(account_id, make_uow, amount=1999)
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=12.5,
                                   duration="forever")
    sub = subscribe(account_id, make_uow, customer, price, coupon=coupon.id)
    [paid] = invoices_of(make_uow, sub.id)
    assert (paid.subtotal, paid.total_discount, paid.total) == (1999, 250, 1749)

    clock.set(START + timedelta(days=10))
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                      prorate=True, invoice_now=invoice_now)

    balance = read(make_uow, lambda uow: uow.session.get(Customer, customer.id).balance)
    assert balance == -1124
    if invoice_now:
        final = invoices_of(make_uow, sub.id)[-1]
        assert (final.subtotal, final.total_discount, final.total, final.amount_due) == (
            -1285, -161, -1124, 0)
        [line] = lines_of(make_uow, final.id)
        assert (line.amount, line.discount_amount, line.proration) == (-1285, -161, True)
    else:
        assert pending_of(make_uow, sub.id) == []  # moved onto the balance, not left over


def test_feedback_outside_stripes_list_is_refused(account_id: str, make_uow: MakeUow,
                                                  customer: Customer, monthly: Price) -> None:
    """Issue 10, defect 11b: Stripe takes eight feedback values; anything else is a 400."""
    sub = subscribe(account_id, make_uow, customer, monthly)
    with raises_param(InvalidRequest, "cancellation_details[feedback]"):
        cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                          feedback="=HYPERLINK(\"http://x\")")
    assert load(make_uow, Subscription, sub.id).canceled_at is None
    done = cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                             feedback="low_quality")
    assert done.cancellation_details["feedback"] == "low_quality"


def test_an_immediate_cancel_in_a_trial_credits_nothing(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly, trial_period_days=14)
    clock.set(START + timedelta(days=3))
    cancellations.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                      prorate=True)
    assert read(make_uow, lambda uow: uow.session.get(Customer, customer.id).balance) == 0
    assert pending_of(make_uow, sub.id) == []
