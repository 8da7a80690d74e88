"""An invoice's payment intent through the ``stripe`` SDK: ``expand[]=payments...``,
``payment_intents.retrieve`` and ``.confirm`` with a ``return_url`` (3-D Secure), as a
Stripe-backed Portico reads and drives another Portico acting as Stripe."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import stripe

from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from tests.portal_app.api import test_routes_invoices_pay as paying

MakeUow = Callable[[], UnitOfWork]
PAYMENTS = "payments.data.payment.payment_intent"


# The open renewal whose card was declined (a fixture shared with invoices.pay's tests).
past_due = paying.past_due


def intent_of(client: stripe.StripeClient, invoice_id: str) -> stripe.PaymentIntent:
    invoice = client.v1.invoices.retrieve(invoice_id, {"expand": [PAYMENTS]})
    assert invoice.payments is not None
    [payment] = invoice.payments.data
    intent = payment.payment.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    return intent


def test_payments_are_included_only_when_expanded(client: stripe.StripeClient,
                                                  past_due: stripe.Invoice) -> None:
    assert client.v1.invoices.retrieve(past_due.id).payments is None
    invoice = client.v1.invoices.retrieve(past_due.id, {"expand": ["payments"]})
    assert invoice.payments is not None
    [payment] = invoice.payments.data
    assert (payment.object, payment.invoice, payment.status, payment.is_default) == (
        "invoice_payment", past_due.id, "open", True)
    assert payment.payment.type == "payment_intent"
    assert payment.payment.payment_intent == "pi_" + past_due.id.removeprefix("in_")


def test_the_intent_carries_the_last_decline(client: stripe.StripeClient,
                                             past_due: stripe.Invoice) -> None:
    intent = intent_of(client, past_due.id)
    assert (intent.status, intent.amount, intent.currency) == (
        "requires_payment_method", past_due.amount_due, "eur")
    error = intent.last_payment_error
    assert error is not None and (error.code, error.decline_code) == ("card_declined",
                                                                      "generic_decline")
    assert error.payment_method is not None and error.payment_method.card is not None
    assert error.payment_method.card.last4 == "0341"
    assert client.v1.payment_intents.retrieve(intent.id).last_payment_error is not None

    client.v1.invoices.pay(past_due.id, {"payment_method": "pm_card_visa"})
    paid = client.v1.payment_intents.retrieve(intent.id)
    assert (paid.status, paid.amount_received) == ("succeeded", past_due.amount_due)


def test_confirm_with_a_return_url_sends_the_customer_to_authenticate(
        client: stripe.StripeClient, account_id: str, make_uow: MakeUow, clock: FrozenClock,
        past_due: stripe.Invoice) -> None:
    with pytest.raises(stripe.CardError) as action:
        client.v1.invoices.pay(past_due.id, {"payment_method": "pm_card_threeDSecure2Required"})
    assert action.value.code == "invoice_payment_intent_requires_action"
    intent = intent_of(client, past_due.id)
    confirmed = client.v1.payment_intents.confirm(
        intent.id, {"return_url": "https://shop.example/after"})
    assert confirmed.status == "requires_action" and confirmed.next_action is not None
    redirect = confirmed.next_action.redirect_to_url
    assert redirect is not None and redirect.return_url == "https://shop.example/after"
    assert redirect.url is not None and "/test/authorize/" in redirect.url
    # The customer authorizes on the page: the invoice is paid with the 3-D Secure card.
    page = LocalBillingProvider(account_id=account_id, clock=clock, uow_factory=make_uow)
    page.complete_test_authorization(urlsplit(redirect.url).path.rsplit("/", 1)[1],
                                     succeed=True)
    assert client.v1.invoices.retrieve(past_due.id).status == "paid"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_only_invoices_have_intents(client: stripe.StripeClient) -> None:
    for missing in ("pi_doesnotexist0000", "in_doesnotexist0000"):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.payment_intents.retrieve(missing)
        assert raised.value.http_status == 404


def test_a_test_card_repeated_as_the_default_names_the_card_attached(
        client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({
        "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    [card] = client.v1.customers.payment_methods.list(customer.id).data
    assert customer.invoice_settings is not None
    assert customer.invoice_settings.default_payment_method == card.id
