"""Ledger tests' helpers: setting up customers, prices and subscriptions; reading the ledger
back (row counts, events, invoices, lines, charges, items); errors with their ``param``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from portal_app.billing import catalog, customers, payment_methods, renewals, subscriptions
from portal_app.billing.models import (
    Charge,
    Customer,
    Discount,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    PaymentMethod,
    Price,
    Subscription,
    SubscriptionItem,
)
from portal_app.billing.provider import ItemSpec
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import BillingError
from portal_app.events.models import Event

MakeUow = Callable[[], UnitOfWork]
T = TypeVar("T")

# The fixture clock starts at 2026-01-31 12:00 UTC; a monthly period then ends on
# 2026-02-28 12:00 (28 days), so two weeks in, exactly half of it remains.
HALF = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)
PERIOD_END = FEB_28 = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)


def read(make_uow: MakeUow, query: Callable[[UnitOfWork], T]) -> T:
    """Run a read in its own unit of work (its rows stay usable after it)."""
    with make_uow() as uow:
        return query(uow)


def count_rows(make_uow: MakeUow, account_id: str) -> dict[str, int]:
    """How many rows of each billing table (and events) the account has."""
    with make_uow() as uow:
        def count(model: type, *where: object) -> int:
            return uow.session.exec(select(func.count()).select_from(model).where(*where)).one()

        subs = select(Subscription.id).where(Subscription.account_id == account_id)
        invoices = select(Invoice.id).where(Invoice.account_id == account_id)
        return {
            "subscription": count(Subscription, Subscription.account_id == account_id),
            "subscription_item": count(SubscriptionItem,
                                       col(SubscriptionItem.subscription_id).in_(subs)),
            "invoice": count(Invoice, Invoice.account_id == account_id),
            "invoice_line": count(InvoiceLine, col(InvoiceLine.invoice_id).in_(invoices)),
            "charge": count(Charge, Charge.account_id == account_id),
            "discount": count(Discount, Discount.account_id == account_id),
            "event": count(Event, Event.account_id == account_id),
        }


def events_of(make_uow: MakeUow, account_id: str, *, object_id: str | None = None
              ) -> list[Event]:
    """The account's events in the order they were appended."""
    query = select(Event).where(Event.account_id == account_id)
    if object_id is not None:
        query = query.where(Event.object_id == object_id)
    return read(make_uow, lambda uow: list(uow.session.exec(query.order_by(col(Event.seq)))))


def invoices_of(make_uow: MakeUow, subscription_id: str) -> list[Invoice]:
    """A subscription's invoices, oldest first."""
    query = (select(Invoice).where(Invoice.subscription_id == subscription_id)
             .order_by(col(Invoice.period_start), col(Invoice.created)))
    return read(make_uow, lambda uow: list(uow.session.exec(query)))


def lines_of(make_uow: MakeUow, invoice_id: str) -> list[InvoiceLine]:
    """An invoice's lines in order."""
    query = (select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
             .order_by(col(InvoiceLine.position)))
    return read(make_uow, lambda uow: list(uow.session.exec(query)))


def charges_of(make_uow: MakeUow, invoice_id: str) -> list[Charge]:
    """An invoice's payment attempts, oldest first."""
    query = select(Charge).where(Charge.invoice_id == invoice_id).order_by(col(Charge.created))
    return read(make_uow, lambda uow: list(uow.session.exec(query)))


def items_of(make_uow: MakeUow, sub_id: str) -> list[SubscriptionItem]:
    """A subscription's items in order."""
    return read(make_uow, lambda uow: list(uow.session.exec(
        select(SubscriptionItem).where(SubscriptionItem.subscription_id == sub_id)
        .order_by(col(SubscriptionItem.position)))))


def pending_of(make_uow: MakeUow, sub_id: str) -> list[InvoiceItem]:
    """A subscription's invoice items not on an invoice yet, in order."""
    return read(make_uow, lambda uow: list(uow.session.exec(
        select(InvoiceItem).where(InvoiceItem.subscription_id == sub_id,
                                  col(InvoiceItem.invoice_id).is_(None))
        .order_by(col(InvoiceItem.position)))))


def sub_of(make_uow: MakeUow, sub_id: str) -> Subscription:
    """The subscription as stored now."""
    return read(make_uow, lambda uow: uow.session.get(Subscription, sub_id))


def load(make_uow: MakeUow, model: type, object_id: str) -> Any:
    """Any row as stored now."""
    return read(make_uow, lambda uow: uow.session.get(model, object_id))


# --- setting the ledger up ---------------------------------------------------------------


def subscribe(account_id: str, make_uow: MakeUow, customer: Customer, *prices: Price,
              quantity: int = 1, **options: Any) -> Subscription:
    """A subscription of ``customer`` to ``prices`` (``quantity`` each)."""
    return subscriptions.create_subscription(
        account_id=account_id, uow=make_uow(), customer=customer.id,
        items=[ItemSpec(price=p.id, quantity=quantity) for p in prices], **options)


def new_customer(account_id: str, make_uow: MakeUow, payment_method: str | None = None
                 ) -> Customer:
    """Another customer (grace@example.com), optionally paying with ``payment_method``."""
    return customers.create_customer(account_id=account_id, uow=make_uow(),
                                     email="grace@example.com", payment_method=payment_method)


def new_price(account_id: str, make_uow: MakeUow, *, amount: int = 2000, currency: str = "usd",
              interval: str = "month", count: int = 1, name: str = "Plan") -> Price:
    """A recurring price of a new product."""
    return catalog.create_price(account_id=account_id, uow=make_uow(), currency=currency,
                                unit_amount=amount, product_name=name, interval=interval,
                                interval_count=count)


def attach_card(account_id: str, make_uow: MakeUow, customer: Customer, number: str,
                *, default: bool = True) -> PaymentMethod:
    """A card (a test number) attached to ``customer``, by default as their default."""
    pm = payment_methods.create_payment_method(
        account_id=account_id, uow=make_uow(),
        card={"number": number, "exp_month": 12, "exp_year": 2030,
              "cvc": "1234" if number.startswith(("34", "37")) else "123"})  # Amex: 4 digits
    payment_methods.attach_payment_method(pm.id, customer_id=customer.id,
                                          account_id=account_id, uow=make_uow())
    if default:
        customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                  default_payment_method=pm.id)
    return pm


def advance(clock: FrozenClock, to: datetime, account_id: str, make_uow: MakeUow) -> int:
    """Run the account's test clock to ``to``; how many renewals ran."""
    return renewals.advance_clock(clock, to, account_id=account_id, uow_factory=make_uow)


def raises_param(error: type[BillingError], param: str, code: str | None = None) -> Any:
    """``pytest.raises`` that also checks the error's ``param`` (and ``code``)."""
    class _Check:
        def __enter__(self) -> None:
            self._ctx = pytest.raises(error)
            self.info = self._ctx.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            handled = self._ctx.__exit__(*exc)
            assert self.info.value.param == param, self.info.value.param
            if code is not None:
                assert self.info.value.code == code, self.info.value.code
            return bool(handled)

    return _Check()
