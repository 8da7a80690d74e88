"""``invoices.pay``, ``void_invoice`` and ``mark_uncollectible`` through the ``stripe`` SDK."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import stripe

from portal_app.billing import renewals
from portal_app.clock import FrozenClock, to_unix
from portal_app.db import UnitOfWork
from tests.portal_app.billing.helpers import FEB_28, events_of

MakeUow = Callable[[], UnitOfWork]


def subscribed(client: stripe.StripeClient) -> tuple[stripe.Customer, stripe.Subscription]:
    """A customer paying 20.00 EUR a month for "Pro" by Visa, billed on Jan 31."""
    product = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": product.id, "currency": "eur",
                                     "unit_amount": 2000, "recurring": {"interval": "month"}})
    customer = client.v1.customers.create({"payment_method": "pm_card_visa"})
    return customer, client.v1.subscriptions.create({"customer": customer.id,
                                                     "items": [{"price": price.id}]})


def renew(clock: FrozenClock, account_id: str, make_uow: MakeUow) -> None:
    """An hour past the first renewal (Feb 28)."""
    renewals.advance_clock(clock, FEB_28 + timedelta(hours=1), account_id=account_id,
                           uow_factory=make_uow)


@pytest.fixture
def past_due(client: stripe.StripeClient, account_id: str, make_uow: MakeUow,
             clock: FrozenClock) -> stripe.Invoice:
    """The open renewal invoice of a subscription whose card now declines (past due)."""
    customer, _sub = subscribed(client)
    failing = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                               {"customer": customer.id})
    client.v1.customers.update(customer.id,
                               {"invoice_settings": {"default_payment_method": failing.id}})
    renew(clock, account_id, make_uow)
    [invoice, _first] = client.v1.invoices.list({"customer": customer.id}).data
    assert invoice.status == "open"
    return invoice


def subscription_of(client: stripe.StripeClient, invoice: stripe.Invoice) -> stripe.Subscription:
    assert invoice.parent is not None and invoice.parent.subscription_details is not None
    sub_id = invoice.parent.subscription_details.subscription
    assert isinstance(sub_id, str)
    return client.v1.subscriptions.retrieve(sub_id)


def test_pay_with_a_new_card_reactivates(client: stripe.StripeClient, account_id: str,
                                         make_uow: MakeUow, past_due: stripe.Invoice) -> None:
    assert subscription_of(client, past_due).status == "past_due"
    paid = client.v1.invoices.pay(past_due.id, {"payment_method": "pm_card_mastercard"})
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 2000, 0)
    assert paid.attempt_count == 2 and paid.next_payment_attempt is None
    assert paid.status_transitions.paid_at == to_unix(FEB_28 + timedelta(hours=1))
    sub = subscription_of(client, paid)
    assert sub.status == "active"
    types = [e.type for e in events_of(make_uow, account_id)][-3:]
    assert types == ["invoice.paid", "invoice.payment_succeeded",
                     "customer.subscription.updated"]
    updated = events_of(make_uow, account_id)[-1]
    assert updated.previous_attributes == {"status": "past_due"}
    assert isinstance(past_due.customer, str)
    pms = client.v1.customers.payment_methods.list(past_due.customer)
    assert "mastercard" in {pm.card.brand for pm in pms.data if pm.card}


def test_decline_is_recorded_and_nothing_else_changes(
        client: stripe.StripeClient, account_id: str, make_uow: MakeUow,
        past_due: stripe.Invoice) -> None:
    before = len(events_of(make_uow, account_id))
    with pytest.raises(stripe.CardError) as declined:
        client.v1.invoices.pay(past_due.id)
    assert declined.value.http_status == 402
    assert (declined.value.code, declined.value.error.decline_code) == (
        "card_declined", "generic_decline")
    invoice = client.v1.invoices.retrieve(past_due.id)
    assert (invoice.status, invoice.attempt_count) == ("open", 2)
    new = [e.type for e in events_of(make_uow, account_id)][before:]
    assert new == ["invoice.payment_failed"]
    assert subscription_of(client, invoice).status == "past_due"


def test_three_d_secure_requires_action(client: stripe.StripeClient,
                                        past_due: stripe.Invoice) -> None:
    with pytest.raises(stripe.CardError) as action:
        client.v1.invoices.pay(past_due.id, {"payment_method": "pm_card_threeDSecure2Required"})
    assert (action.value.http_status, action.value.code) == (
        402, "invoice_payment_intent_requires_action")
    with pytest.raises(stripe.CardError) as off_session:
        client.v1.invoices.pay(past_due.id, {"payment_method": "pm_card_threeDSecure2Required",
                                             "off_session": True})
    assert off_session.value.error.decline_code == "authentication_required"
    assert client.v1.invoices.retrieve(past_due.id).status == "open"


def test_paid_out_of_band_and_errors(client: stripe.StripeClient,
                                     past_due: stripe.Invoice) -> None:
    other = client.v1.customers.create({"payment_method": "pm_card_visa"})
    assert other.invoice_settings is not None
    with pytest.raises(stripe.InvalidRequestError) as foreign:
        client.v1.invoices.pay(past_due.id, {
            "payment_method": str(other.invoice_settings.default_payment_method)})
    assert (foreign.value.http_status, foreign.value.param) == (400, "payment_method")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.invoices.pay("in_nope")
    assert missing.value.http_status == 404
    paid = client.v1.invoices.pay(past_due.id, {"paid_out_of_band": True})
    assert paid.status == "paid" and subscription_of(client, paid).status == "active"
    assert paid.attempt_count == 1  # no charge: paid elsewhere
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.invoices.pay(past_due.id)
    assert (again.value.http_status, again.value.code) == (400, "invoice_already_paid")


def test_void_and_mark_uncollectible(client: stripe.StripeClient, account_id: str,
                                     make_uow: MakeUow, past_due: stripe.Invoice) -> None:
    written_off = client.v1.invoices.mark_uncollectible(past_due.id)
    assert written_off.status == "uncollectible"
    assert written_off.status_transitions.marked_uncollectible_at is not None
    voided = client.v1.invoices.void_invoice(past_due.id)
    assert (voided.status, voided.amount_remaining) == ("void", 0)
    assert subscription_of(client, voided).status == "active"
    with pytest.raises(stripe.InvalidRequestError) as not_open:
        client.v1.invoices.void_invoice(past_due.id)
    assert (not_open.value.http_status, not_open.value.code) == (400, "invoice_not_open")
    types = [e.type for e in events_of(make_uow, account_id, object_id=past_due.id)]
    assert types[-2:] == ["invoice.marked_uncollectible", "invoice.voided"]


def test_finalize_a_draft_then_pay_it(client: stripe.StripeClient, account_id: str,
                                      make_uow: MakeUow, clock: FrozenClock) -> None:
    customer, sub = subscribed(client)
    client.v1.subscriptions.update(sub.id, {"pause_collection": {"behavior": "keep_as_draft"}})
    renew(clock, account_id, make_uow)
    [draft, _first] = client.v1.invoices.list({"customer": customer.id}).data
    assert (draft.status, draft.number) == ("draft", None)
    with pytest.raises(stripe.InvalidRequestError) as paid_already:
        client.v1.invoices.finalize_invoice(_first.id)
    assert (paid_already.value.http_status, paid_already.value.code) == (
        400, "invoice_not_editable")
    opened = client.v1.invoices.finalize_invoice(draft.id)
    assert (opened.status, opened.amount_remaining) == ("open", 2000)
    assert opened.number is not None and opened.status_transitions.finalized_at is not None
    paid = client.v1.invoices.pay(draft.id)
    assert (paid.status, paid.attempt_count) == ("paid", 1)
    types = [e.type for e in events_of(make_uow, account_id, object_id=draft.id)]
    assert types == ["invoice.created", "invoice.finalized", "invoice.paid",
                     "invoice.payment_succeeded"]


def test_paying_a_draft_finalizes_it(client: stripe.StripeClient, account_id: str,
                                     make_uow: MakeUow, clock: FrozenClock) -> None:
    customer, sub = subscribed(client)
    client.v1.subscriptions.update(sub.id, {"pause_collection": {"behavior": "keep_as_draft"}})
    renew(clock, account_id, make_uow)
    draft = client.v1.invoices.list({"customer": customer.id}).data[0]
    paid = client.v1.invoices.pay(draft.id)
    assert paid.status == "paid" and paid.number is not None
