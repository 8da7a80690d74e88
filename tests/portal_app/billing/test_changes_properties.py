"""Hypothesis properties of subscription changes on the real ledger (SQLite or PostgreSQL).

Each example builds its own customer, prices and clock inside the test's account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from portal_app.billing import (
    catalog,
    changes,
    coupons,
    customers,
    pauses,
    renewals,
    schedules,
    subscriptions,
)
from portal_app.billing.models import (
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Subscription,
    SubscriptionItem,
)
from portal_app.billing.provider import ItemChange, ItemSpec
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from tests.portal_app.billing.helpers import events_of, invoices_of, lines_of, read

START = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
amounts = st.integers(min_value=1, max_value=100_000)
quantities = st.integers(min_value=1, max_value=20)
behaviors = st.sampled_from(["create_prorations", "always_invoice", "none"])


class World:
    """One example's clock, units of work, customer and prices."""

    def __init__(self, database: Engine, account_id: str) -> None:
        self.clock = FrozenClock(START)
        self.account_id = account_id
        self.make_uow: Callable[[], UnitOfWork] = lambda: UnitOfWork(database,
                                                                     clock=self.clock)
        self.customer = customers.create_customer(account_id=account_id, uow=self.make_uow(),
                                                  email="p@example.com",
                                                  payment_method="pm_card_visa")

    def price(self, amount: int, interval: str = "month") -> str:
        return catalog.create_price(account_id=self.account_id, uow=self.make_uow(),
                                    currency="usd", unit_amount=amount, product_name="Plan",
                                    interval=interval).id

    def subscribe(self, price: str, quantity: int = 1) -> Subscription:
        return subscriptions.create_subscription(account_id=self.account_id, uow=self.make_uow(),
                                                 customer=self.customer.id,
                                                 items=[ItemSpec(price=price, quantity=quantity)])

    def item(self, sub_id: str) -> SubscriptionItem:
        return read(self.make_uow, lambda uow: uow.session.exec(
            select(SubscriptionItem).where(SubscriptionItem.subscription_id == sub_id)
            .order_by(col(SubscriptionItem.position))).first())

    def sub(self, sub_id: str) -> Subscription:
        return read(self.make_uow, lambda uow: uow.session.get(Subscription, sub_id))

    def pending(self, sub_id: str) -> list[InvoiceItem]:
        return read(self.make_uow, lambda uow: list(uow.session.exec(
            select(InvoiceItem).where(InvoiceItem.subscription_id == sub_id,
                                      col(InvoiceItem.invoice_id).is_(None))
            .order_by(col(InvoiceItem.position)))))

    def advance(self, to: datetime) -> None:
        renewals.advance_clock(self.clock, to, account_id=self.account_id,
                               uow_factory=self.make_uow)


@PROPERTY
@given(old=amounts, new=amounts, old_qty=quantities, new_qty=quantities,
       seconds=st.integers(min_value=0, max_value=28 * 86400), behavior=behaviors,
       percent=st.sampled_from([None, 10, 33.3, 50]))
def test_preview_equals_applied_to_the_minor_unit(
        database: Engine, account_id: str, old: int, new: int, old_qty: int, new_qty: int,
        seconds: int, behavior: str, percent: float | None) -> None:
    world = World(database, account_id)
    sub = world.subscribe(world.price(old), old_qty)
    if percent is not None:
        coupon = coupons.create_coupon(account_id=account_id, uow=world.make_uow(),
                                       percent_off=percent, duration="forever")
        changes.apply_change(sub.id, account_id=account_id, uow=world.make_uow(), items=[],
                             coupon=coupon.id)
    new_price = world.price(new)
    world.clock.set(START + timedelta(seconds=seconds))
    change = [ItemChange(id=world.item(sub.id).id, price=new_price, quantity=new_qty)]
    preview = changes.preview_change(sub.id, account_id=account_id, uow=world.make_uow(),
                                     items=change, proration_behavior=behavior)
    latest_before = world.sub(sub.id).latest_invoice
    changes.apply_change(sub.id, account_id=account_id, uow=world.make_uow(), items=change,
                         proration_behavior=behavior, expected_version=preview.version)
    applied = world.sub(sub.id)
    if behavior == "always_invoice":
        invoice = read(world.make_uow, lambda uow: uow.session.get(Invoice,
                                                                   applied.latest_invoice))
        assert invoice is not None and invoice.id != latest_before
        lines = lines_of(world.make_uow, invoice.id)
        assert invoice.amount_due == preview.amount_due_now
        assert [(ln.description, ln.amount) for ln in lines] == [
            (pl.description, pl.amount) for pl in preview.lines]
        assert sum(ln.discount_amount for ln in lines) == preview.discount
    else:
        assert applied.latest_invoice == latest_before and preview.amount_due_now == 0
        pending = world.pending(sub.id)
        assert [(p.description, p.amount) for p in pending] == [
            (pl.description, pl.amount) for pl in preview.lines]
        assert sum(p.discount_amount for p in pending) == preview.discount
        if behavior == "none":
            assert pending == []
    world.advance(preview.next_invoice_at)
    renewal = invoices_of(world.make_uow, sub.id)[-1]
    assert renewal.billing_reason == "subscription_cycle"
    assert renewal.amount_due == preview.next_invoice_amount


@PROPERTY
@given(old=amounts, new=amounts, old_qty=quantities, new_qty=quantities,
       seconds=st.integers(min_value=0, max_value=28 * 86400))
def test_credit_and_debit_sum_to_the_difference_over_the_remaining_time(
        database: Engine, account_id: str, old: int, new: int, old_qty: int, new_qty: int,
        seconds: int) -> None:
    world = World(database, account_id)
    sub = world.subscribe(world.price(old), old_qty)
    new_price = world.price(new)
    world.clock.set(START + timedelta(seconds=seconds))
    preview = changes.preview_change(
        sub.id, account_id=account_id, uow=world.make_uow(),
        items=[ItemChange(id=world.item(sub.id).id, price=new_price, quantity=new_qty)])
    credit, debit = preview.lines
    assert credit.amount <= 0 <= debit.amount
    assert credit.description.startswith("Unused time on ")
    assert debit.description.startswith("Remaining time on ")
    exact = Fraction((new * new_qty - old * old_qty) * (28 * 86400 - seconds), 28 * 86400)
    # Each of the two lines is rounded half up on its own: at most half a unit each.
    assert abs(credit.amount + debit.amount - exact) <= 1
    assert abs(debit.amount - Fraction(new * new_qty * (28 * 86400 - seconds),
                                       28 * 86400)) <= Fraction(1, 2)


action = st.one_of(
    st.tuples(st.just("change"), amounts, quantities, behaviors),
    st.tuples(st.just("schedule"), amounts, quantities, st.just("none")),
    st.tuples(st.just("cancel_schedule"), st.just(0), st.just(0), st.just("none")),
    st.tuples(st.just("pause"), st.sampled_from(["void", "keep_as_draft",
                                                 "mark_uncollectible"]),
              st.integers(min_value=1, max_value=60), st.just("none")),
    st.tuples(st.just("resume"), st.just(0), st.just(0), st.just("none")),
)


@PROPERTY
@given(steps=st.lists(st.tuples(st.integers(min_value=1, max_value=40 * 86400), action),
                      min_size=1, max_size=6))
def test_periods_never_gap_or_overlap_and_invoices_add_up(
        database: Engine, account_id: str, steps: list[tuple[int, tuple]]) -> None:
    world = World(database, account_id)
    sub = world.subscribe(world.price(2000), 1)
    for gap, (kind, a, b, behavior) in steps:
        world.advance(world.clock() + timedelta(seconds=gap))
        try:
            if kind in ("change", "schedule"):
                changes.apply_change(
                    sub.id, account_id=account_id, uow=world.make_uow(),
                    items=[ItemChange(id=world.item(sub.id).id, price=world.price(a),
                                      quantity=b)],
                    proration_behavior=behavior, schedule_at_period_end=kind == "schedule")
            elif kind == "cancel_schedule":
                schedules.cancel_scheduled_change(sub.id, account_id=account_id,
                                                  uow=world.make_uow())
            elif kind == "pause":
                pauses.pause_subscription(sub.id, account_id=account_id,
                                          uow=world.make_uow(), behavior=a,
                                          resumes_at=world.clock() + timedelta(days=b))
            else:
                pauses.resume_subscription(sub.id, account_id=account_id,
                                           uow=world.make_uow())
        except InvalidRequest as refused:
            assert refused.code in ("pending_scheduled_change", "subscription_paused",
                                    "subscription_not_paused", "no_change")
    world.advance(world.clock() + timedelta(days=65))
    invoices = invoices_of(world.make_uow, sub.id)
    periods = sorted((i.period_start, i.period_end) for i in invoices
                     if i.billing_reason in ("subscription_create", "subscription_cycle"))
    for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
        assert start == end  # no gap, no overlap
    assert periods[-1][1] == world.sub(sub.id).current_period_end
    for invoice in invoices:
        lines = lines_of(world.make_uow, invoice.id)
        assert invoice.subtotal == sum(ln.amount for ln in lines)
        assert invoice.total == sum(ln.amount - ln.discount_amount for ln in lines)
        assert invoice.amount_due == max(invoice.total + invoice.starting_balance, 0) \
            or invoice.status in (InvoiceStatus.void, InvoiceStatus.uncollectible,
                                  InvoiceStatus.draft)
    assert world.pending(sub.id) == [] or world.sub(sub.id).current_period_end > world.clock()
    # Events come in order, each subscription update with its previous attributes.
    for event in events_of(world.make_uow, account_id, object_id=sub.id):
        if event.type == "customer.subscription.updated":
            assert event.previous_attributes


@PROPERTY
@given(behavior=st.sampled_from(["void", "keep_as_draft", "mark_uncollectible"]),
       pause_after=st.integers(min_value=0, max_value=27 * 86400),
       pause_days=st.integers(min_value=1, max_value=100))
def test_pause_and_resume_over_the_clock(database: Engine, account_id: str, behavior: str,
                                         pause_after: int, pause_days: int) -> None:
    world = World(database, account_id)
    sub = world.subscribe(world.price(2000), 1)
    world.advance(START + timedelta(seconds=pause_after))
    resumes_at = world.clock() + timedelta(days=pause_days)
    pauses.pause_subscription(sub.id, account_id=account_id, uow=world.make_uow(),
                              behavior=behavior, resumes_at=resumes_at)
    world.advance(resumes_at + timedelta(days=70))
    expected = {"void": InvoiceStatus.void, "keep_as_draft": InvoiceStatus.draft,
                "mark_uncollectible": InvoiceStatus.uncollectible}[behavior]
    for invoice in invoices_of(world.make_uow, sub.id):
        paused = invoice.created < resumes_at and invoice.billing_reason != "subscription_create"
        assert invoice.status == (expected if paused else InvoiceStatus.paid)
    assert world.sub(sub.id).pause_collection is None
    types = [e.type for e in events_of(world.make_uow, account_id, object_id=sub.id)]
    assert types.count("customer.subscription.paused") == 1
    assert types.count("customer.subscription.resumed") == 1
    resumed = types.index("customer.subscription.resumed")
    assert types.index("customer.subscription.paused") < resumed


@PROPERTY
@given(high=st.integers(min_value=2001, max_value=90_000),
       when=st.integers(min_value=0, max_value=28 * 86400 - 1))
def test_a_scheduled_downgrade_applies_at_renewal(database: Engine, account_id: str,
                                                  high: int, when: int) -> None:
    world = World(database, account_id)
    sub = world.subscribe(world.price(high), 1)
    low = world.price(2000)
    world.advance(START + timedelta(seconds=when))
    preview = changes.preview_change(sub.id, account_id=account_id, uow=world.make_uow(),
                                     items=[ItemChange(id=world.item(sub.id).id, price=low)],
                                     schedule_at_period_end=True)
    changes.apply_change(sub.id, account_id=account_id, uow=world.make_uow(),
                         items=[ItemChange(id=world.item(sub.id).id, price=low)],
                         schedule_at_period_end=True)
    assert world.item(sub.id).price_id != low
    world.advance(preview.scheduled_for)  # type: ignore[arg-type]
    assert world.item(sub.id).price_id == low
    renewal = invoices_of(world.make_uow, sub.id)[-1]
    assert renewal.amount_due == preview.next_invoice_amount == 2000
