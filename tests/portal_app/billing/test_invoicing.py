"""Invoicing: the customer balance pays first, unpaid changes are refused, nothing to bill
is no invoice."""

from __future__ import annotations

import pytest

from portal_app.billing import invoicing
from portal_app.billing.models import Customer, Invoice, InvoiceStatus, Price
from portal_app.errors import CardDeclined, InvalidRequest
from tests.conftest import START
from tests.portal_app.billing.helpers import MakeUow, read, sub_of, subscribe


@pytest.mark.parametrize(("total", "balance", "due", "after"), [
    (2000, 0, 2000, 0),  # nothing carried in
    (2000, -500, 1500, 0),  # a credit pays part of it
    (2000, -3000, 0, -1000),  # ... or all of it, and the rest stays a credit
    (-700, 0, 0, -700),  # more credited than charged: a credit for later invoices
    (-700, -300, 0, -1000),
])
def test_the_balance_pays_first_and_a_negative_total_becomes_a_credit(
        total: int, balance: int, due: int, after: int) -> None:
    assert invoicing.settle_balance(total, balance) == (due, after)


def unpaid(**fields: object) -> Invoice:
    base: dict[str, object] = dict(
        account_id="acct_x", customer_id="cus_x", status=InvoiceStatus.open, currency="usd",
        amount_remaining=2000, collection_method="charge_automatically", period_start=START,
        period_end=START, created=START)
    return Invoice(**{**base, **fields})


def test_an_unpaid_change_is_refused_as_stripe_error_if_incomplete_does() -> None:
    with pytest.raises(CardDeclined) as declined:
        invoicing.refuse_unpaid(unpaid(last_decline_code="insufficient_funds"))
    assert declined.value.decline_code == "insufficient_funds"
    with pytest.raises(InvalidRequest) as missing:
        invoicing.refuse_unpaid(unpaid(last_decline_code="payment_method_missing"))
    assert (missing.value.code, missing.value.param) == ("resource_missing",
                                                         "default_payment_method")


@pytest.mark.parametrize("fields", [
    {"status": InvoiceStatus.paid, "amount_remaining": 0},
    {"collection_method": "send_invoice"},  # the customer pays it later
    {"status": InvoiceStatus.draft},  # kept as a draft while collection is paused
])
def test_a_paid_or_not_yet_collected_invoice_is_not_refused(fields: dict[str, object]) -> None:
    invoicing.refuse_unpaid(unpaid(**fields))


def test_no_pending_item_and_no_usage_is_no_invoice(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    with make_uow() as uow:
        fresh = uow.session.get(type(sub), sub.id)
        assert fresh is not None
        assert invoicing.pending_items(fresh, uow) == []
        assert invoicing.invoice_pending_items(fresh, uow=uow, billing_reason="manual",
                                               usage_until=START) is None
    assert read(make_uow, lambda uow: invoicing.list_invoices(
        account_id=account_id, uow=uow, subscription_id=sub.id))[0].id == sub_of(
            make_uow, sub.id).latest_invoice
