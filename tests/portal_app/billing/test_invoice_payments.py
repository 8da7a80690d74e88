"""Paying an open invoice now, voiding it, writing it off (the ledger's side)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal_app.billing import invoice_payments, renewals
from portal_app.billing.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    Price,
    Subscription,
    SubscriptionStatus,
)
from portal_app.clock import FrozenClock
from portal_app.errors import CardDeclined, InvalidRequest, PaymentRequiresAction
from tests.portal_app.billing.helpers import (
    FEB_28,
    MakeUow,
    attach_card,
    charges_of,
    count_rows,
    events_of,
    invoices_of,
    load,
    raises_param,
    subscribe,
)


@pytest.fixture
def unpaid(account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
           monthly: Price) -> Invoice:
    """The open renewal invoice of Ada's subscription, her new default card declining."""
    sub = subscribe(account_id, make_uow, customer, monthly)
    attach_card(account_id, make_uow, customer, "4000000000000341")
    renewals.advance_clock(clock, FEB_28 + timedelta(hours=2), account_id=account_id,
                           uow_factory=make_uow)
    invoice = invoices_of(make_uow, sub.id)[-1]
    assert invoice.status == InvoiceStatus.open
    return invoice


def test_a_decline_is_recorded_although_the_caller_rolls_back(
        account_id: str, make_uow: MakeUow, unpaid: Invoice) -> None:
    before = count_rows(make_uow, account_id)
    uow = make_uow()
    with pytest.raises(CardDeclined), uow:  # the caller's transaction never commits
        invoice_payments.pay_invoice(unpaid.id, account_id=account_id, uow=uow)
    after = count_rows(make_uow, account_id)
    assert after == {**before, "charge": before["charge"] + 1, "event": before["event"] + 1}
    assert load(make_uow, Invoice, unpaid.id).attempt_count == 2
    assert events_of(make_uow, account_id)[-1].type == "invoice.payment_failed"


def test_paying_settles_the_subscription(account_id: str, make_uow: MakeUow,
                                         customer: Customer, unpaid: Invoice) -> None:
    good = customer.default_payment_method
    paid = invoice_payments.pay_invoice(unpaid.id, account_id=account_id, uow=make_uow(),
                                        customer_id=customer.id, payment_method=good)
    assert (paid.status, paid.amount_paid, paid.payment_method_id) == (
        InvoiceStatus.paid, 2000, good)
    assert [c.status for c in charges_of(make_uow, unpaid.id)] == ["failed", "succeeded"]
    assert unpaid.subscription_id is not None
    assert load(make_uow, Subscription, unpaid.subscription_id).status == (
        SubscriptionStatus.active)
    with raises_param(InvalidRequest, None):
        invoice_payments.pay_invoice(unpaid.id, account_id=account_id, uow=make_uow())


def test_another_customers_invoice_is_missing(account_id: str, make_uow: MakeUow,
                                              unpaid: Invoice) -> None:
    with raises_param(InvalidRequest, "id"):
        invoice_payments.pay_invoice(unpaid.id, account_id=account_id, uow=make_uow(),
                                     customer_id="cus_someone_else")


def test_three_d_secure_without_a_return_url(account_id: str, make_uow: MakeUow,
                                             unpaid: Invoice) -> None:
    with pytest.raises(PaymentRequiresAction) as action:
        invoice_payments.pay_invoice(unpaid.id, account_id=account_id, uow=make_uow(),
                                     payment_method="pm_card_threeDSecure2Required")
    assert action.value.redirect_url is None and action.value.http_status == 402
    assert load(make_uow, Invoice, unpaid.id).status == InvoiceStatus.open


def test_void_settles_and_refuses_twice(account_id: str, make_uow: MakeUow,
                                        unpaid: Invoice) -> None:
    voided = invoice_payments.void_invoice(unpaid.id, account_id=account_id, uow=make_uow())
    assert (voided.status, voided.amount_remaining, voided.next_payment_attempt) == (
        InvoiceStatus.void, 0, None)
    assert unpaid.subscription_id is not None
    assert load(make_uow, Subscription, unpaid.subscription_id).status == (
        SubscriptionStatus.active)
    with raises_param(InvalidRequest, None):
        invoice_payments.mark_uncollectible(unpaid.id, account_id=account_id, uow=make_uow())
