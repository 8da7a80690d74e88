"""Invoicing: bill a subscription's period or its pending items, close and collect the invoice.

An invoice is built from the period's lines (metered items billed in arrears,
by :mod:`portal_app.billing.meters`), discounted
(:mod:`portal_app.billing.discounts`), then the subscription's pending invoice
items (prorations, with the discount they were created with) join it. Closing
it finalizes it and collects it through the test processor — or, while the
subscription's collection is paused, keeps it as a draft, voids it or marks it
uncollectible. The customer's balance (a credit when negative) pays first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from portal_app.billing import meters, processor
from portal_app.billing.customers import lock_customer
from portal_app.billing.discounts import discount_lines
from portal_app.billing.models import (
    Charge,
    Customer,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceStatus,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from portal_app.billing.objects import render_invoice
from portal_app.billing.payment_methods import payment_method_for
from portal_app.billing.subscription_items import subscription_items
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.i18n import format_money


def retrieve_invoice(invoice_id: str, *, account_id: str, uow: UnitOfWork,
                     customer_id: str | None = None) -> Invoice:
    """One invoice; with ``customer_id``, only one of that customer's.

    Raises ResourceMissing.
    """
    with uow:
        return uow.get(Invoice, invoice_id, account_id=account_id, label="invoice",
                       customer_id=customer_id)


def list_invoices(*, account_id: str, uow: UnitOfWork, customer_id: str | None = None,
                  subscription_id: str | None = None) -> list[Invoice]:
    """The account's (or one customer's or subscription's) invoices, newest first.

    Raises ResourceMissing.
    """
    with uow:
        query = select(Invoice).where(Invoice.account_id == account_id)
        if customer_id is not None:
            uow.get(Customer, customer_id, account_id=account_id, param="customer",
                    label="customer")
            query = query.where(Invoice.customer_id == customer_id)
        if subscription_id is not None:
            query = query.where(Invoice.subscription_id == subscription_id)
        return list(uow.session.exec(
            query.order_by(col(Invoice.created).desc(), col(Invoice.id).desc())
        ).all())


# --- building an invoice -----------------------------------------------------------------


def bill_period(sub: Subscription, *, billing_reason: str, uow: UnitOfWork,
                trial: bool = False) -> Invoice:
    """Invoice the subscription's current period and try to collect it.

    Pending invoice items of the subscription (prorations) join the invoice
    after the period's lines. While collection is paused, the invoice is kept
    as a draft, voided or marked uncollectible instead of being charged.
    """
    now = uow.clock()
    customer = lock_customer(sub.customer_id, uow=uow)
    invoice = Invoice(
        account_id=sub.account_id, customer_id=sub.customer_id, subscription_id=sub.id,
        status=InvoiceStatus.draft, billing_reason=billing_reason,
        collection_method=sub.collection_method, currency=sub.currency,
        period_start=sub.current_period_start, period_end=sub.current_period_end, created=now,
    )
    uow.add(invoice)
    uow.flush()
    lines: list[InvoiceLine] = []
    for position, (item, price, product) in enumerate(subscription_items(sub, uow)):
        if price.usage_type == "metered":
            # Billed in arrears: the usage since the item was last billed, up to the
            # start of the period this invoice opens.
            lines.append(usage_line(sub, item, price, product, until=sub.current_period_start,
                                    invoice=invoice, position=position, uow=uow))
            continue
        lines.append(InvoiceLine(
            invoice_id=invoice.id, subscription_item_id=item.id, price_id=price.id,
            description=(f"Trial period for {product.name}" if trial
                         else _line_description(price, product, item.quantity)),
            quantity=item.quantity, amount=0 if trial else price.unit_amount * item.quantity,
            currency=sub.currency, period_start=sub.current_period_start,
            period_end=sub.current_period_end, position=position))
    discount = discount_lines(sub, lines, uow=uow, now=now)
    _complete(invoice, lines, pending=pending_items(sub, uow), discount=discount, sub=sub,
              customer=customer, uow=uow, now=now)
    return invoice


def invoice_pending_items(sub: Subscription, *, uow: UnitOfWork, billing_reason: str,
                          pending: bool = True, usage_until: datetime | None = None
                          ) -> Invoice | None:
    """Invoice the subscription's pending invoice items now (and try to collect).

    With ``usage_until`` (a subscription's end) the invoice first bills every
    metered item's usage not billed yet, up to that moment, discounted as a
    renewal's lines are; ``pending=False`` leaves the pending items out. None
    when there is nothing to bill: no pending item and no metered usage window
    (usage during a trial is free, so a trial's end bills none).
    """
    items = pending_items(sub, uow) if pending else []
    now = uow.clock()
    invoice = Invoice(
        account_id=sub.account_id, customer_id=sub.customer_id, subscription_id=sub.id,
        status=InvoiceStatus.draft, billing_reason=billing_reason,
        collection_method=sub.collection_method, currency=sub.currency,
        period_start=now, period_end=now, created=now)
    lines: list[InvoiceLine] = []
    if usage_until is not None:
        for item, price, product in subscription_items(sub, uow):
            if price.usage_type == "metered":
                lines.append(usage_line(sub, item, price, product, until=usage_until,
                                        invoice=invoice, position=len(lines), uow=uow))
        # An empty window (nothing billable since the last invoice) is no line at all.
        lines = [line for line in lines if line.period_start < line.period_end]
    if not items and not lines:
        return None
    customer = lock_customer(sub.customer_id, uow=uow)
    uow.add(invoice)
    uow.flush()
    usage_discount = discount_lines(sub, lines, uow=uow, now=now)
    for position, line in enumerate(lines):
        line.position = position
    # The invoice spans every line it bills, the pending items' included.
    spans = [(line.period_start, line.period_end) for line in lines] + [
        (item.period_start, item.period_end) for item in items]
    invoice.period_start = min(start for start, _ in spans)
    invoice.period_end = max(end for _, end in spans)
    _complete(invoice, lines, pending=items, discount=usage_discount, sub=sub,
              customer=customer, uow=uow, now=now)
    return invoice


def _complete(invoice: Invoice, lines: list[InvoiceLine], *, pending: Sequence[InvoiceItem],
              discount: int, sub: Subscription, customer: Customer, uow: UnitOfWork,
              now: datetime) -> None:
    """Add the pending items after ``lines``, total the invoice and close it."""
    for item in pending:
        # A proration carries the discount it was created with.
        item.invoice_id = invoice.id
        uow.add(item)
        lines.append(InvoiceLine(
            invoice_id=invoice.id, subscription_item_id=item.subscription_item_id,
            price_id=item.price_id, description=item.description, quantity=item.quantity,
            amount=item.amount, discount_amount=item.discount_amount, currency=item.currency,
            proration=item.proration, period_start=item.period_start,
            period_end=item.period_end, position=len(lines)))
    for line in lines:
        uow.add(line)
    invoice.subtotal = sum(line.amount for line in lines)
    invoice.total_discount = discount + sum(item.discount_amount for item in pending)
    invoice.total = invoice.subtotal - invoice.total_discount
    sub.latest_invoice = invoice.id
    _close_invoice(invoice, customer, sub=sub, uow=uow, now=now)
    uow.add(invoice)
    uow.add(sub)
    uow.flush()


def usage_line(sub: Subscription, item: SubscriptionItem, price: Price, product: Product, *,
               until: datetime, invoice: Invoice, position: int, uow: UnitOfWork
               ) -> InvoiceLine:
    """The invoice line of a metered item's usage not billed yet, up to ``until``."""
    usage = meters.billable_usage(sub, item, price, until=until, uow=uow)
    return InvoiceLine(invoice_id=invoice.id, subscription_item_id=item.id, price_id=price.id,
                       description=_usage_description(price, product, usage.quantity),
                       quantity=usage.quantity, amount=usage.amount, currency=sub.currency,
                       period_start=usage.start, period_end=usage.end, position=position)


def _line_description(price: Price, product: Product, quantity: int) -> str:
    amount = format_money(price.unit_amount, price.currency, "en")
    every = str(price.interval) if price.interval_count == 1 else (
        f"{price.interval_count} {price.interval}s")
    if price.interval is None:
        return f"{quantity} × {product.name}"
    return f"{quantity} × {product.name} (at {amount} / {every})"


def _usage_description(price: Price, product: Product, quantity: int) -> str:
    """``API access — Usage: 1,234 API calls (at $0.05 / unit)`` (invoices are in English)."""
    amount = format_money(price.unit_amount, price.currency, "en")
    return (f"{product.name} — Usage: {quantity:,} {product.unit_label or 'units'} "
            f"(at {amount} / unit)")


# --- pending invoice items ---------------------------------------------------------------


def pending_items(sub: Subscription, uow: UnitOfWork) -> list[InvoiceItem]:
    """The subscription's invoice items not yet on an invoice, oldest first."""
    return list(uow.session.exec(
        select(InvoiceItem)
        .where(InvoiceItem.subscription_id == sub.id, col(InvoiceItem.invoice_id).is_(None))
        .order_by(col(InvoiceItem.position), col(InvoiceItem.id))
    ).all())


def credit_pending_to_balance(sub: Subscription, *, uow: UnitOfWork) -> None:
    """Move the net of the subscription's pending items onto the customer's balance."""
    pending = pending_items(sub, uow)
    if not pending:
        return
    customer = lock_customer(sub.customer_id, uow=uow)
    customer.balance += sum(i.amount - i.discount_amount for i in pending)
    uow.add(customer)
    for item in pending:
        uow.session.delete(item)
    uow.flush()


# --- closing and collecting --------------------------------------------------------------


def settle_balance(total: int, balance: int) -> tuple[int, int]:
    """``(amount_due, balance after)`` of an invoice of ``total`` for a customer ``balance``.

    A negative balance is a credit: it pays invoices first. A negative total
    (more credited than charged) becomes a credit for later invoices.
    """
    due = total + balance
    return max(due, 0), min(due, 0)


def _close_invoice(invoice: Invoice, customer: Customer, *, sub: Subscription | None,
                   uow: UnitOfWork, now: datetime) -> None:
    """Finalize and collect ``invoice``, or park it as the subscription's pause says."""
    behavior = (sub.pause_collection or {}).get("behavior") if sub is not None else None
    if behavior == "keep_as_draft":
        invoice.amount_due = invoice.amount_remaining = max(invoice.total, 0)
        return
    finalize(invoice, customer, uow=uow, now=now)
    if behavior in ("void", "mark_uncollectible"):
        invoice.amount_due = max(invoice.total, 0)
        invoice.amount_remaining = 0 if behavior == "void" else invoice.amount_due
        if behavior == "void":
            invoice.status = InvoiceStatus.void
            invoice.voided_at = now
        else:
            invoice.status = InvoiceStatus.uncollectible
            invoice.marked_uncollectible_at = now
        return
    apply_balance(invoice, customer, uow=uow, now=now)
    if (invoice.status == InvoiceStatus.open
            and invoice.collection_method == "charge_automatically" and sub is not None):
        collect_payment(invoice, payment_method_for(sub, uow), uow=uow, now=now)


def apply_balance(invoice: Invoice, customer: Customer, *, uow: UnitOfWork,
                  now: datetime) -> None:
    """Settle a just-finalized invoice against the customer's balance (paid when it covers
    it all): what is left is ``amount_due``."""
    invoice.starting_balance = customer.balance
    invoice.amount_due, customer.balance = settle_balance(invoice.total, customer.balance)
    invoice.amount_remaining = invoice.amount_due
    uow.add(customer)
    if invoice.amount_due == 0:
        mark_paid(invoice, now=now)


def finalize(invoice: Invoice, customer: Customer, *, uow: UnitOfWork, now: datetime) -> None:
    """Give a draft its number and open it (a ``send_invoice`` one gets its due date)."""
    invoice.number = f"{customer.invoice_prefix}-{customer.next_invoice_sequence:04d}"
    customer.next_invoice_sequence += 1
    invoice.status = InvoiceStatus.open
    invoice.finalized_at = now
    if invoice.collection_method == "send_invoice":
        sub = uow.session.get(Subscription, invoice.subscription_id)
        invoice.due_date = now + timedelta(days=(sub.days_until_due if sub else None) or 30)
    uow.add(customer)


def mark_paid(invoice: Invoice, *, now: datetime) -> None:
    """The invoice is paid in full now (no retry is due any more)."""
    invoice.status = InvoiceStatus.paid
    invoice.amount_paid = invoice.amount_due
    invoice.amount_remaining = 0
    invoice.paid_at = now
    invoice.next_payment_attempt = None


def collect_payment(invoice: Invoice, pm: PaymentMethod | None, *, uow: UnitOfWork,
                    now: datetime, authenticated: bool = False) -> Charge | None:
    """One attempt to charge ``invoice`` through the test processor.

    A 3-D Secure card declines an unauthenticated (off-session) charge with
    ``authentication_required``, as Stripe's test cards do.
    """
    invoice.attempt_count += 1
    if pm is None:
        invoice.last_decline_code = "payment_method_missing"
        return None
    declined = pm.charge_decline_code or (
        "authentication_required" if pm.requires_authentication and not authenticated
        else None)
    charge = Charge(account_id=invoice.account_id, invoice_id=invoice.id,
                    customer_id=invoice.customer_id, payment_method_id=pm.id,
                    amount=invoice.amount_remaining, currency=invoice.currency,
                    status="failed" if declined else "succeeded", failure_code=declined,
                    created=now)
    uow.add(charge)
    invoice.payment_method_id = pm.id
    if declined:
        invoice.last_decline_code = declined
    else:
        mark_paid(invoice, now=now)
    return charge


def retry_open_invoices(sub: Subscription, *, uow: UnitOfWork) -> bool:
    """Retry the subscription's open invoices; True when one still fails.

    All paid: the subscription is active again.
    """
    now = uow.clock()
    pm = payment_method_for(sub, uow)
    still_failing = False
    for invoice in uow.session.exec(
        select(Invoice).where(Invoice.subscription_id == sub.id,
                              Invoice.status == InvoiceStatus.open)
    ).all():
        collect_payment(invoice, pm, uow=uow, now=now)
        uow.add(invoice)
        uow.flush()
        emit_payment_outcome(invoice, render_invoice(invoice, uow.session), uow=uow,
                             account_id=sub.account_id)
        still_failing = still_failing or invoice.status != InvoiceStatus.paid
    if not still_failing:
        sub.status = SubscriptionStatus.active
    return still_failing


def refuse_unpaid(invoice: Invoice) -> None:
    """Stripe's ``payment_behavior=error_if_incomplete``: a change whose invoice is unpaid fails.

    The caller's transaction then rolls back, so nothing of the change remains.
    Raises InvalidRequest (no payment method), CardDeclined (the charge failed).
    """
    if invoice.last_decline_code == "payment_method_missing":
        raise InvalidRequest(
            "This customer has no attached payment source or default payment method.",
            code="resource_missing", param="default_payment_method")
    if (invoice.status == InvoiceStatus.open and invoice.amount_remaining > 0
            and invoice.collection_method == "charge_automatically"):
        raise processor.decline(invoice.last_decline_code or "generic_decline")


# --- the invoice's events ----------------------------------------------------------------


def emit_invoice_events(invoice: Invoice, *, uow: UnitOfWork, account_id: str) -> None:
    """invoice.created, invoice.finalized, then the outcome of collecting it.

    Each snapshot shows the invoice as it was at that step, so the event
    history never shows a draft that is already paid.
    """
    final = render_invoice(invoice, uow.session)
    transitions = final["status_transitions"]
    finalized = {**final, "status": "open", "amount_paid": 0,
                 "amount_remaining": final["amount_due"], "attempt_count": 0,
                 "attempted": False, "auto_advance": True,
                 "status_transitions": {**transitions, "paid_at": None, "voided_at": None,
                                        "marked_uncollectible_at": None}}
    draft = {**finalized, "status": "draft", "number": None, "effective_at": None,
             "ending_balance": None, "hosted_invoice_url": None, "invoice_pdf": None,
             "status_transitions": {**transitions, "paid_at": None, "finalized_at": None}}
    if invoice.status == InvoiceStatus.draft:
        uow.events.append("invoice.created", final, account_id=account_id)
        return
    uow.events.append("invoice.created", draft, account_id=account_id)
    uow.events.append("invoice.finalized", finalized, account_id=account_id)
    if invoice.status == InvoiceStatus.void:
        uow.events.append("invoice.voided", final, account_id=account_id)
    elif invoice.status == InvoiceStatus.uncollectible:
        uow.events.append("invoice.marked_uncollectible", final, account_id=account_id)
    else:
        emit_payment_outcome(invoice, final, uow=uow, account_id=account_id)


def emit_payment_outcome(invoice: Invoice, snapshot: dict[str, Any], *, uow: UnitOfWork,
                         account_id: str) -> None:
    """invoice.paid and invoice.payment_succeeded, or invoice.payment_failed, as it turned out."""
    if invoice.status == InvoiceStatus.paid:
        uow.events.append("invoice.paid", snapshot, account_id=account_id)
        uow.events.append("invoice.payment_succeeded", snapshot, account_id=account_id)
    elif invoice.attempt_count and invoice.collection_method == "charge_automatically":
        uow.events.append("invoice.payment_failed", snapshot, account_id=account_id)
