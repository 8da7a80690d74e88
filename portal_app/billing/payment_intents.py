"""An invoice's payment as Stripe shows it: ``invoice.payments`` and its PaymentIntent.

Stripe collects an invoice through one PaymentIntent; ``invoice.payments`` (included when
expanded) lists it, and the intent carries ``last_payment_error`` and, for 3-D Secure,
the ``next_action`` a customer follows after `POST /v1/payment_intents/{id}/confirm` with
a ``return_url``. The ledger charges invoices directly (:mod:`invoice_payments`), so each
invoice that was opened has exactly one intent, named after it (``in_X`` → ``pi_X``) and
rendered from the invoice: nothing more is stored.
"""

from __future__ import annotations

from typing import Any

import stripe

from portal_app.billing import invoice_payments
from portal_app.billing.models import Invoice, InvoiceStatus
from portal_app.clock import to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import PaymentRequiresAction, ResourceMissing
from portal_app.stripe_shapes import complete, list_object

INVOICE_PREFIX, INTENT_PREFIX = "in_", "pi_"


def payment_intent_id(invoice_id: str) -> str:
    """The id of the intent collecting ``invoice_id``."""
    return INTENT_PREFIX + invoice_id.removeprefix(INVOICE_PREFIX)


def invoice_of(payment_intent: str, *, account_id: str, uow: UnitOfWork) -> Invoice:
    """The invoice the intent collects. Raises ResourceMissing."""
    if not payment_intent.startswith(INTENT_PREFIX):
        raise ResourceMissing(f"No such payment_intent: '{payment_intent}'", param="intent")
    invoice_id = INVOICE_PREFIX + payment_intent.removeprefix(INTENT_PREFIX)
    with uow:
        invoice = uow.session.get(Invoice, invoice_id)
        if invoice is None or invoice.account_id != account_id or invoice.number is None:
            raise ResourceMissing(f"No such payment_intent: '{payment_intent}'",
                                  param="intent")
        return invoice


def render_invoice_payments(invoice: Invoice) -> dict[str, Any]:
    """Stripe's ``invoice.payments`` list: the default payment of an opened invoice."""
    if invoice.number is None:  # a draft has no payment yet
        return list_object([], url=f"/v1/invoices/{invoice.id}/payments")
    paid = invoice.status == InvoiceStatus.paid
    payment = complete(stripe.InvoicePayment, {
        "id": "inpay_" + invoice.id.removeprefix(INVOICE_PREFIX),
        "amount_paid": invoice.amount_paid if paid else None,
        "amount_requested": invoice.amount_due,
        "created": to_unix(invoice.created),
        "currency": invoice.currency,
        "invoice": invoice.id,
        "is_default": True,
        "payment": {"type": "payment_intent",
                    "payment_intent": payment_intent_id(invoice.id)},
        "status": "paid" if paid else "open",
        "status_transitions": {"canceled_at": None,
                               "paid_at": to_unix(invoice.paid_at) if paid else None},
    })
    return list_object([payment], url=f"/v1/invoices/{invoice.id}/payments")


def render_payment_intent(invoice: Invoice, *, uow: UnitOfWork,
                          next_action: dict[str, Any] | None = None) -> dict[str, Any]:
    """The intent collecting ``invoice``, with the last declined attempt's error."""
    error = invoice_payments.last_payment_error(invoice.id, account_id=invoice.account_id,
                                                uow=uow)
    if invoice.status == InvoiceStatus.paid:
        status = "succeeded"
    elif invoice.status == InvoiceStatus.void:
        status = "canceled"
    else:
        status = "requires_action" if next_action else "requires_payment_method"
    return complete(stripe.PaymentIntent, {
        "id": payment_intent_id(invoice.id),
        "amount": invoice.amount_due,
        "amount_received": invoice.amount_paid,
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "created": to_unix(invoice.created),
        "currency": invoice.currency,
        "customer": invoice.customer_id,
        "last_payment_error": error,
        "metadata": {},
        "next_action": next_action,
        "payment_method": invoice.payment_method_id,
        "payment_method_types": ["card"],
        "status": status,
    })


def confirm_payment_intent(payment_intent: str, *, account_id: str, uow: UnitOfWork,
                           payment_method: str | None = None, return_url: str | None = None
                           ) -> dict[str, Any]:
    """Attempt the invoice's payment now (:func:`invoice_payments.pay_invoice`); a card
    that needs 3-D Secure answers ``requires_action`` with the test page as
    ``next_action.redirect_to_url`` (given a ``return_url``). Raises ResourceMissing,
    InvalidRequest, CardDeclined, PaymentRequiresAction (no ``return_url``)."""
    invoice = invoice_of(payment_intent, account_id=account_id, uow=uow)
    next_action = None
    try:  # the intent's own method (the one last tried) unless another is given
        invoice_payments.pay_invoice(
            invoice.id, account_id=account_id, uow=uow, return_url=return_url,
            payment_method=payment_method or invoice.payment_method_id)
    except PaymentRequiresAction as action:
        if action.redirect_url is None:
            raise
        next_action = {"type": "redirect_to_url",
                       "redirect_to_url": {"url": action.redirect_url,
                                           "return_url": return_url}}
    with uow:
        invoice = invoice_of(payment_intent, account_id=account_id, uow=uow)
        return render_payment_intent(invoice, uow=uow, next_action=next_action)
