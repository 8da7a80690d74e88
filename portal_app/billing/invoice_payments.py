"""Paying an open invoice now (Stripe's ``invoices.pay``), voiding it, writing it off.

A payment attempt is one charge through the test processor
(:func:`portal_app.billing.invoicing.collect_payment`). Paid: ``invoice.paid`` and
``invoice.payment_succeeded``, and a past-due subscription with no other open
invoice is active again (``customer.subscription.updated``). Declined: the attempt
is recorded — the charge, ``attempt_count``, ``invoice.payment_failed`` — in a
transaction of its own, then the decline is raised (402), as Stripe records a
failed attempt whatever the caller does next; nothing else changes. A 3-D Secure
card needs the customer: paid on-session, it answers Stripe's
``invoice_payment_intent_requires_action`` until authorized on the test page.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, func, select

from portal_app.billing import processor
from portal_app.billing.authorizations import (
    AuthorizationKind,
    Description,
    authorization_url,
    register_kind,
    start_authorization,
)
from portal_app.billing.customers import lock_customer
from portal_app.billing.invoicing import (
    apply_balance,
    collect_payment,
    emit_payment_outcome,
    finalize,
    mark_paid,
)
from portal_app.billing.ledger_events import emit_subscription_updated
from portal_app.billing.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    PaymentMethod,
    PendingAuthorization,
    Subscription,
    SubscriptionStatus,
)
from portal_app.billing.objects import render_invoice, render_subscription
from portal_app.billing.payment_methods import (
    attach_payment_method,
    attached_payment_method,
    payment_method_for,
)
from portal_app.billing.payment_objects import render_payment_method
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, PaymentRequiresAction

# Stripe's test PaymentMethod ids stand for a fresh card of the customer when paying.
TEST_TOKEN_PREFIX = "pm_card_"


REQUIRES_ACTION = ("This payment requires additional user action before it can be completed "
                   "successfully. Payment can be completed using the PaymentIntent associated "
                   "with the invoice.")


def load_invoice(invoice_id: str, *, account_id: str, uow: UnitOfWork,
                 customer_id: str | None = None) -> Invoice:
    """The account's invoice (with ``customer_id``: only one of that customer's).

    Raises ResourceMissing.
    """
    return uow.get(Invoice, invoice_id, account_id=account_id, label="invoice",
                   customer_id=customer_id)


def own_transaction(uow: UnitOfWork) -> UnitOfWork:
    """A unit of work beside ``uow`` (same database, clock and request), committed alone.

    A declined attempt must stay recorded although the caller's transaction
    rolls back when the decline is raised.
    """
    return UnitOfWork(uow.engine, clock=uow.clock, request_id=uow.request_id,
                      idempotency_key=uow.idempotency_key, origin=uow.origin)


def pay_invoice(invoice_id: str, *, account_id: str, uow: UnitOfWork,
                customer_id: str | None = None, payment_method: str | None = None,
                paid_out_of_band: bool = False, off_session: bool | None = None,
                return_url: str | None = None) -> Invoice:
    """Collect an open (or uncollectible) invoice now, or mark it paid out of band.

    ``payment_method``: one attached to the invoice's customer, or a ``pm_card_*``
    test id (attached first); by default the subscription's (else the customer's)
    default. A 3-D Secure card on-session starts an authorization on the test page
    (returning to ``return_url``) and raises PaymentRequiresAction. The attempt
    commits on its own before a decline is raised. Raises ResourceMissing,
    InvalidRequest (not payable, method not the customer's), CardDeclined,
    PaymentRequiresAction.
    """
    work = own_transaction(uow)
    with work:
        invoice = load_invoice(invoice_id, account_id=account_id, uow=work,
                               customer_id=customer_id)
        customer = lock_customer(invoice.customer_id, uow=work)
        work.session.refresh(invoice)
        _check_payable(invoice)
        if invoice.status == InvoiceStatus.draft:  # Stripe finalizes a draft it is asked to pay
            open_draft(invoice, customer, uow=work)
        if invoice.status == InvoiceStatus.paid:
            pass  # the customer's balance covered the draft just opened
        elif paid_out_of_band:
            settle(invoice, None, uow=work)
        else:
            pm = _payment_method(invoice, payment_method, account_id=account_id, uow=work)
            if pm.requires_authentication and not off_session:
                invoice.payment_method_id = pm.id
                work.add(invoice)
                redirect = None
                if return_url:
                    auth = start_authorization(kind=AUTHORIZATION_KIND, object_id=invoice.id,
                                               account_id=account_id, return_url=return_url,
                                               uow=work)
                    redirect = authorization_url(auth, uow=work)
                work.commit()
                raise PaymentRequiresAction(REQUIRES_ACTION, redirect_url=redirect)
            settle(invoice, pm, uow=work)
        work.commit()
    if invoice.status != InvoiceStatus.paid:
        raise processor.decline(invoice.last_decline_code or "generic_decline")
    with uow:
        return uow.get(Invoice, invoice.id, account_id=account_id, label="invoice")


def settle(invoice: Invoice, pm: PaymentMethod | None, *, uow: UnitOfWork,
           authenticated: bool = False) -> None:
    """Charge ``pm`` for the invoice (None: it was paid out of band), with its events.

    Paid: a past-due subscription with nothing else open is active again.
    """
    sub = (uow.session.get(Subscription, invoice.subscription_id)
           if invoice.subscription_id else None)
    before = render_subscription(sub, uow.session) if sub is not None else None
    now = uow.clock()
    if pm is None:
        mark_paid(invoice, now=now)
        uow.add(invoice)
        uow.flush()
        uow.events.append("invoice.paid", render_invoice(invoice, uow.session),
                          account_id=invoice.account_id)
    else:
        collect_payment(invoice, pm, uow=uow, now=now, authenticated=authenticated)
        uow.add(invoice)
        uow.flush()
        emit_payment_outcome(invoice, render_invoice(invoice, uow.session), uow=uow,
                             account_id=invoice.account_id)
    if sub is not None and before is not None and invoice.status == InvoiceStatus.paid:
        settle_subscription(sub, before=before, uow=uow)


def last_payment_error(invoice_id: str, *, account_id: str, uow: UnitOfWork,
                       customer_id: str | None = None) -> dict[str, Any] | None:
    """Stripe's ``last_payment_error`` of the invoice's last failed attempt (None: none).

    Raises ResourceMissing.
    """
    with uow:
        invoice = load_invoice(invoice_id, account_id=account_id, uow=uow,
                               customer_id=customer_id)
        code = invoice.last_decline_code
        if invoice.status == InvoiceStatus.paid or not code:
            return None
        pm = (uow.session.get(PaymentMethod, invoice.payment_method_id)
              if invoice.payment_method_id else None)
        if code == "payment_method_missing":
            return {"type": "invalid_request_error", "code": "payment_method_missing",
                    "decline_code": None, "payment_method": None,
                    "message": "There is no payment method to charge."}
        error = processor.decline(code)
        return {"type": error.type, "code": error.code, "decline_code": code,
                "message": error.message,
                "payment_method": render_payment_method(pm) if pm is not None else None}


def _check_payable(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.paid:
        raise InvalidRequest("Invoice is already paid.", code="invoice_already_paid")
    if invoice.status == InvoiceStatus.void:
        raise InvalidRequest("This invoice is void and can no longer be paid.",
                             code="invoice_not_open")


def _payment_method(invoice: Invoice, payment_method: str | None, *, account_id: str,
                    uow: UnitOfWork) -> PaymentMethod:
    if payment_method is None:
        sub = (uow.session.get(Subscription, invoice.subscription_id)
               if invoice.subscription_id else None)
        if sub is not None:
            pm = payment_method_for(sub, uow)
        else:
            customer = uow.session.get(Customer, invoice.customer_id)
            pm_id = customer.default_payment_method if customer else None
            pm = uow.session.get(PaymentMethod, pm_id) if pm_id else None
        if pm is None:
            raise InvalidRequest(
                "This customer has no attached payment source or default payment method. "
                "Please consider adding a default payment method.",
                code="invoice_no_payment_method_types", param="payment_method")
        return pm
    if payment_method.startswith(TEST_TOKEN_PREFIX):
        return attach_payment_method(payment_method, customer_id=invoice.customer_id,
                                     account_id=account_id, uow=uow)
    return attached_payment_method(payment_method, customer_id=invoice.customer_id,
                                   account_id=account_id, uow=uow, param="payment_method")


def open_invoice_count(sub: Subscription, *, uow: UnitOfWork) -> int:
    """How many of the subscription's invoices are still open with something due."""
    return uow.session.exec(
        select(func.count()).select_from(Invoice).where(
            Invoice.subscription_id == sub.id, Invoice.status == InvoiceStatus.open,
            col(Invoice.amount_remaining) > 0)
    ).one()


def settle_subscription(sub: Subscription, *, before: dict[str, object],
                        uow: UnitOfWork) -> None:
    """A past-due (or unpaid) subscription with nothing left open is active again."""
    if sub.status not in (SubscriptionStatus.past_due, SubscriptionStatus.unpaid):
        return
    uow.flush()
    if open_invoice_count(sub, uow=uow) == 0:
        sub.status = SubscriptionStatus.active
        emit_subscription_updated(sub, before, uow=uow)


def finalize_invoice(invoice_id: str, *, account_id: str, uow: UnitOfWork) -> Invoice:
    """Open a draft (a renewal kept as a draft while collection was paused): its number,
    the customer's balance applied (``invoice.finalized``; ``invoice.paid`` when the balance
    covers it). Collecting it is :func:`pay_invoice`'s. Raises ResourceMissing,
    InvalidRequest (not a draft).
    """
    with uow:
        invoice = load_invoice(invoice_id, account_id=account_id, uow=uow)
        customer = lock_customer(invoice.customer_id, uow=uow)
        uow.session.refresh(invoice)
        if invoice.status != InvoiceStatus.draft:
            raise InvalidRequest("This invoice is already finalized, you can't re-finalize a "
                                 "non-draft invoice.", code="invoice_not_editable")
        open_draft(invoice, customer, uow=uow)
        uow.commit()
        return invoice


def open_draft(invoice: Invoice, customer: Customer, *, uow: UnitOfWork) -> None:
    """Finalize a draft and apply the customer's balance, with the events."""
    now = uow.clock()
    finalize(invoice, customer, uow=uow, now=now)
    apply_balance(invoice, customer, uow=uow, now=now)
    uow.add(invoice)
    uow.flush()
    rendered = render_invoice(invoice, uow.session)
    uow.events.append("invoice.finalized", rendered, account_id=invoice.account_id)
    if invoice.status == InvoiceStatus.paid:
        uow.events.append("invoice.paid", rendered, account_id=invoice.account_id)


def void_invoice(invoice_id: str, *, account_id: str, uow: UnitOfWork) -> Invoice:
    """Void an open (or uncollectible) invoice: nothing is owed any more.

    The subscription it was past due for is settled as if it were paid.
    Raises ResourceMissing, InvalidRequest.
    """
    return _close(invoice_id, InvoiceStatus.void, account_id=account_id, uow=uow)


def mark_uncollectible(invoice_id: str, *, account_id: str, uow: UnitOfWork) -> Invoice:
    """Write an open invoice off (still payable later). Raises ResourceMissing, InvalidRequest."""
    return _close(invoice_id, InvoiceStatus.uncollectible, account_id=account_id, uow=uow)


def _close(invoice_id: str, status: InvoiceStatus, *, account_id: str, uow: UnitOfWork
           ) -> Invoice:
    with uow:
        invoice = load_invoice(invoice_id, account_id=account_id, uow=uow)
        lock_customer(invoice.customer_id, uow=uow)
        uow.session.refresh(invoice)
        allowed = ((InvoiceStatus.open, InvoiceStatus.uncollectible)
                   if status == InvoiceStatus.void else (InvoiceStatus.open,))
        if invoice.status not in allowed:
            raise InvalidRequest(
                f"You can only {'void' if status == InvoiceStatus.void else 'mark as uncollectible'}"
                f" an open invoice; this one is {invoice.status}.", code="invoice_not_open")
        sub = (uow.session.get(Subscription, invoice.subscription_id)
               if invoice.subscription_id else None)
        before = render_subscription(sub, uow.session) if sub is not None else None
        now = uow.clock()
        invoice.status = status
        invoice.next_payment_attempt = None
        if status == InvoiceStatus.void:
            invoice.voided_at = now
            invoice.amount_remaining = 0
            event = "invoice.voided"
        else:
            invoice.marked_uncollectible_at = now
            event = "invoice.marked_uncollectible"
        uow.add(invoice)
        uow.flush()
        uow.events.append(event, render_invoice(invoice, uow.session), account_id=account_id)
        if sub is not None and before is not None:
            settle_subscription(sub, before=before, uow=uow)
        uow.commit()
        return invoice


# --- 3-D Secure on the test page ------------------------------------------------------------

AUTHORIZATION_KIND = "invoice_payment"


def _describe_authorization(auth: PendingAuthorization, uow: UnitOfWork) -> Description:
    """The card being authorized (the page labels it "Payment method") and the amount."""
    invoice = uow.get(Invoice, auth.object_id, account_id=auth.account_id, label="invoice")
    pm = (uow.session.get(PaymentMethod, invoice.payment_method_id)
          if invoice.payment_method_id else None)
    card = f"{(pm.brand or pm.type).title()} •••• {pm.last4}" if pm is not None else ""
    return Description(summary=card, amount=invoice.amount_remaining,
                       currency=invoice.currency)


def _complete_authorization(auth: PendingAuthorization, succeeded: bool, uow: UnitOfWork
                            ) -> dict[str, str]:
    """Authorized: charge the card the customer chose; failed: the invoice stays open."""
    invoice = uow.get(Invoice, auth.object_id, account_id=auth.account_id, label="invoice")
    pm = (uow.session.get(PaymentMethod, invoice.payment_method_id)
          if invoice.payment_method_id else None)
    if succeeded and pm is not None and invoice.status in (InvoiceStatus.open,
                                                          InvoiceStatus.uncollectible):
        settle(invoice, pm, uow=uow, authenticated=True)
    return {"invoice": invoice.id}


register_kind(AUTHORIZATION_KIND, AuthorizationKind(describe=_describe_authorization,
                                                    complete=_complete_authorization))
