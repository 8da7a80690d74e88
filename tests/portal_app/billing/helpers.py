"""Reading the ledger back in tests: row counts, events, invoices, lines, charges."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func
from sqlmodel import col, select

from portal_app.billing.models import (
    Charge,
    Discount,
    Invoice,
    InvoiceLine,
    Subscription,
    SubscriptionItem,
)
from portal_app.db import UnitOfWork
from portal_app.events.models import Event

MakeUow = Callable[[], UnitOfWork]
T = TypeVar("T")


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
