"""Changing a live subscription's items and quantities, with Stripe's prorations.

A change applies now — prorated (:mod:`portal_app.billing.prorations`), a coupon
or promotion code redeemed with it (:mod:`portal_app.billing.discounts`), and
invoiced at once for ``always_invoice`` or a new billing interval — or at the
period end, as a subscription schedule's next phase
(:mod:`portal_app.billing.schedule_phases`).

:func:`preview_change` and :func:`apply_change` compute the lines with the same
function, so the preview a customer confirms is what gets billed, to the minor unit.

Business-rule refusals raise :class:`InvalidRequest` with a stable ``code``:
``subscription_changed``, ``pending_scheduled_change``, ``subscription_past_due``,
``metered_price_change``, ``currency_mismatch``, ``interval_mismatch``, ``no_change``,
``subscription_paused``, ``subscription_not_paused``, ``subscription_canceled``,
``promotion_code_invalid``, ``coupon_expired``; a declined ``always_invoice`` charge
raises :class:`CardDeclined` and leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from portal_app.billing.catalog import recurring_price
from portal_app.billing.coupons import record_redemption
from portal_app.billing.discounts import (
    active_coupon,
    recurring_amount,
    redeem_promotion_code,
    replace_discount,
)
from portal_app.billing.invoicing import (
    bill_period,
    emit_invoice_events,
    invoice_pending_items,
    refuse_unpaid,
)
from portal_app.billing.ledger_events import emit_subscription_updated
from portal_app.billing.models import (
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceStatus,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionSchedule,
    SubscriptionStatus,
)
from portal_app.billing.objects import render_subscription
from portal_app.billing.prorations import add_pending_items, proration_item
from portal_app.billing.provider import ItemChange
from portal_app.billing.renewals import bill_next_period
from portal_app.billing.schedule_phases import open_schedule, schedule_next_phase
from portal_app.billing.subscription_items import subscription_items
from portal_app.billing.subscriptions import (
    LIVE_STATUSES,
    load_subscription,
    subscription_version,
)
from portal_app.clock import as_utc, from_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.periods import shift

PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")


@dataclass(frozen=True)
class PreviewLine:
    """One line a change would bill (credits are negative)."""

    description: str
    amount: int  # minor units; credits are negative
    proration: bool
    period_start: datetime
    period_end: datetime
    price_id: str | None
    quantity: int


@dataclass(frozen=True)
class ChangePreview:
    """What a change costs: its lines, what is due now and the next invoice."""

    subscription_id: str
    currency: str
    lines: tuple[PreviewLine, ...]  # one credit and one debit line per changed item
    discount: int  # positive: total discount on the lines
    amount_due_now: int  # charged at confirmation (always_invoice), else 0
    next_invoice_at: datetime
    next_invoice_amount: int  # the renewal invoice incl. pending prorations
    proration_date: datetime
    scheduled_for: datetime | None  # not None: the change applies at this period end instead
    version: str  # opaque token of the subscription state the preview was made on


# --- resolving a change ----------------------------------------------------------------


@dataclass
class _Target:
    price: Price
    product: Product
    quantity: int
    item: SubscriptionItem | None = None
    old_price: Price | None = None
    old_product: Product | None = None
    old_quantity: int = 0
    deleted: bool = False

    @property
    def changed(self) -> bool:
        return (self.deleted or self.item is None or self.old_price is None
                or self.price.id != self.old_price.id or self.quantity != self.old_quantity)


def _resolve(sub: Subscription, changes: Sequence[ItemChange], *, account_id: str,
             uow: UnitOfWork) -> list[_Target]:
    """Every item of the subscription after ``changes`` (deleted ones flagged)."""
    targets: dict[str, _Target] = {}
    for item, price, product in subscription_items(sub, uow):
        targets[item.id] = _Target(price=price, product=product, quantity=item.quantity,
                                   item=item, old_price=price, old_product=product,
                                   old_quantity=item.quantity)
    added: list[_Target] = []
    seen: set[str] = set()
    for index, change in enumerate(changes):
        param = f"items[{index}]"
        if change.quantity is not None and change.quantity < 0:
            raise InvalidRequest("Invalid non-negative integer", param=f"{param}[quantity]")
        if change.id is not None:
            if change.id not in targets:
                raise ResourceMissing(f"No such subscription item: '{change.id}'",
                                      param=f"{param}[id]")
            if change.id in seen:
                raise InvalidRequest(f"The item `{change.id}` appears twice in items.",
                                     param=f"{param}[id]")
            seen.add(change.id)
            target = targets[change.id]
            if change.deleted:
                target.deleted = True
                continue
            if change.price is not None and change.price != target.price.id:
                price, product = recurring_price(change.price, account_id=account_id, uow=uow,
                                        param=f"{param}[price]")
                if price.usage_type != target.price.usage_type:
                    raise InvalidRequest(
                        "A usage-based (metered) price cannot be exchanged for a fixed "
                        "price or the other way round; add the new price as its own item.",
                        param=f"{param}[price]", code="metered_price_change")
                target.price, target.product = price, product
            if change.quantity is not None:
                target.quantity = change.quantity
        else:
            if change.deleted:
                raise InvalidRequest("Only an existing item (items[][id]) can be deleted.",
                                     param=f"{param}[deleted]")
            if not change.price:
                raise InvalidRequest(f"Missing required param: {param}[price].",
                                     param=f"{param}[price]", code="parameter_missing")
            price, product = recurring_price(change.price, account_id=account_id, uow=uow,
                                    param=f"{param}[price]")
            quantity = 1 if change.quantity is None else change.quantity
            added.append(_Target(price=price, product=product, quantity=quantity))
    result = [*targets.values(), *added]
    live = [t for t in result if not t.deleted]
    if not live:
        raise InvalidRequest("A subscription needs at least one item; cancel it instead.",
                             param="items")
    for index, target in enumerate(live):
        if target.price.usage_type == "metered":
            if target.quantity not in (0, 1) and target.quantity != target.old_quantity:
                raise InvalidRequest("A metered price is billed by usage and takes no "
                                     "quantity.", param="items", code="metered_price_change")
        elif target.quantity < 1:
            raise InvalidRequest("Invalid positive integer", param=f"items[{index}][quantity]")
        if target.price.currency != sub.currency:
            raise InvalidRequest(
                f"The price `{target.price.id}` is in {target.price.currency.upper()}, the "
                f"subscription in {sub.currency.upper()}.", param="items",
                code="currency_mismatch")
    intervals = {(t.price.interval, t.price.interval_count) for t in live}
    if len(intervals) > 1:
        raise InvalidRequest("All prices on a subscription must share one billing interval.",
                             param="items", code="interval_mismatch")
    if len({t.price.id for t in live}) != len(live):
        raise InvalidRequest("A price may appear only once on a subscription.", param="items")
    return result


def _interval(targets: Sequence[_Target], *, old: bool) -> tuple[Any, int] | None:
    for t in targets:
        price = t.old_price if old else (None if t.deleted else t.price)
        if price is not None:
            return price.interval, price.interval_count
    return None


def _check_changeable(sub: Subscription, uow: UnitOfWork) -> None:
    if sub.status in (SubscriptionStatus.canceled, SubscriptionStatus.incomplete_expired):
        raise InvalidRequest("This subscription is canceled and cannot be changed.",
                             code="subscription_canceled")
    if sub.status == SubscriptionStatus.past_due:
        raise InvalidRequest(
            "This subscription has an unpaid invoice: pay it or update the payment method, "
            "or cancel the subscription.", code="subscription_past_due")
    if sub.status == SubscriptionStatus.incomplete:
        raise InvalidRequest("This subscription is incomplete and cannot be changed.",
                             code="subscription_past_due")
    if sub.pause_collection:
        raise InvalidRequest("Collection on this subscription is paused: resume it before "
                             "changing the plan.", code="subscription_paused")
    if open_schedule(sub, uow) is not None:
        raise InvalidRequest(
            "This subscription has a scheduled change; cancel it before changing again.",
            code="pending_scheduled_change")


# --- the change itself -------------------------------------------------------------------


@dataclass
class _Outcome:
    sub: Subscription
    version: str
    items: list[InvoiceItem] = field(default_factory=list)
    invoice: Invoice | None = None
    schedule: SubscriptionSchedule | None = None
    proration_date: datetime | None = None


def _change(sub: Subscription, *, account_id: str, uow: UnitOfWork,
            items: Sequence[ItemChange], proration_behavior: str,
            proration_date: datetime | None, coupon: str | None, promotion_code: str | None,
            schedule_at_period_end: bool, expected_version: str | None,
            collect_strictly: bool) -> _Outcome:
    """Apply a change inside the open transaction; previews run this and roll back."""
    if proration_behavior not in PRORATION_BEHAVIORS:
        raise InvalidRequest(
            "Invalid proration_behavior: must be one of create_prorations, always_invoice, "
            "or none", param="proration_behavior")
    version = subscription_version(sub, uow)
    if expected_version is not None and expected_version != version:
        raise InvalidRequest("The subscription changed since this change was previewed; "
                             "review it again.", code="subscription_changed")
    _check_changeable(sub, uow)
    now = uow.clock()
    at = as_utc(proration_date) if proration_date is not None else now
    if not sub.current_period_start <= at <= sub.current_period_end:
        raise InvalidRequest("proration_date must fall within the current billing period.",
                             param="proration_date")
    targets = _resolve(sub, items, account_id=account_id, uow=uow)
    changed = [t for t in targets if t.changed]
    if not changed and not coupon and not promotion_code:
        raise InvalidRequest("This change would leave the subscription as it is.",
                             code="no_change", param="items")
    outcome = _Outcome(sub=sub, version=version, proration_date=at)
    before = render_subscription(sub, uow.session)
    if schedule_at_period_end:
        if coupon or promotion_code:
            raise InvalidRequest("Discounts apply now; they cannot be scheduled.",
                                 param="promotion_code" if promotion_code else "coupon")
        outcome.schedule = schedule_next_phase(
            sub, current=[(t.item, t.old_price, t.old_quantity) for t in targets
                          if t.item is not None and t.old_price is not None],
            upcoming=[(t.item, t.price, t.quantity) for t in targets if not t.deleted],
            uow=uow, now=now)
        emit_subscription_updated(sub, before, uow=uow)
        return outcome
    promo = None
    if promotion_code:
        # The code discounts the subscription as it is after the change.
        amount = recurring_amount((t.price, t.quantity) for t in targets if not t.deleted)
        promo = redeem_promotion_code(promotion_code, sub=sub, account_id=account_id,
                                      uow=uow, amount=amount)
        coupon = promo.coupon_id
    if coupon:
        replace_discount(sub, coupon, account_id=account_id, uow=uow, now=now)
        if promo is not None:
            record_redemption(promo, uow=uow, param="promotion_code")
    discount_coupon = active_coupon(sub, uow, now)
    old_interval = _interval(targets, old=True)
    new_interval = _interval(targets, old=False)
    # A trial keeps its end date whatever the interval: nothing is billed during it.
    interval_change = (old_interval != new_interval
                       and sub.status != SubscriptionStatus.trialing)
    prorating = proration_behavior != "none" and sub.status != SubscriptionStatus.trialing
    credits: list[InvoiceItem] = []
    # Apply the item changes first, so that new items have their si_ ids.
    position = max((t.item.position for t in targets if t.item is not None), default=-1) + 1
    for target in targets:
        if target.item is None:
            target.item = SubscriptionItem(subscription_id=sub.id, price_id=target.price.id,
                                           quantity=target.quantity, position=position,
                                           created=now)
            position += 1
            uow.add(target.item)
        elif target.changed and not target.deleted:
            target.item.price_id = target.price.id
            target.item.quantity = target.quantity
            uow.add(target.item)
    uow.flush()
    if prorating:
        for target in changed if not interval_change else targets:
            assert target.item is not None
            old_metered = target.old_price is not None and target.old_price.usage_type == "metered"
            if target.old_price is not None and target.old_product is not None and not old_metered:
                credits.append(proration_item(
                    sub, price=target.old_price, product=target.old_product,
                    quantity=target.old_quantity, item_id=target.item.id, at=at, credit=True,
                    coupon=discount_coupon, now=now))
            if not target.deleted and not interval_change and target.price.usage_type != "metered":
                credits.append(proration_item(
                    sub, price=target.price, product=target.product, quantity=target.quantity,
                    item_id=target.item.id, at=at, credit=False, coupon=discount_coupon,
                    now=now))
    for target in targets:
        if target.deleted and target.item is not None:
            uow.session.delete(target.item)
    uow.flush()
    add_pending_items(credits, uow)
    outcome.items = credits
    if interval_change:
        # A new billing interval starts a new period now, billed at once (as Stripe does).
        assert new_interval is not None
        sub.billing_cycle_anchor = now
        sub.current_period_start = now
        sub.current_period_end = shift(now, new_interval[0], new_interval[1])
        outcome.invoice = bill_period(sub, billing_reason="subscription_update", uow=uow)
    elif proration_behavior == "always_invoice" and prorating:
        outcome.invoice = invoice_pending_items(sub, uow=uow,
                                                billing_reason="subscription_update")
    invoice = outcome.invoice
    if invoice is not None and collect_strictly:
        refuse_unpaid(invoice)
    emit_subscription_updated(sub, before, uow=uow)
    if invoice is not None:
        emit_invoice_events(invoice, uow=uow, account_id=account_id)
    return outcome


# --- previews and the change applied -----------------------------------------------------


@contextmanager
def _clock_at(uow: UnitOfWork, at: datetime) -> Iterator[None]:
    original = uow.clock
    uow.clock = lambda: at
    try:
        yield
    finally:
        uow.clock = original


def preview_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                   items: Sequence[ItemChange], proration_behavior: str = "create_prorations",
                   proration_date: datetime | None = None, coupon: str | None = None,
                   promotion_code: str | None = None, schedule_at_period_end: bool = False,
                   customer_id: str | None = None) -> ChangePreview:
    """What :func:`apply_change` with the same arguments would bill; changes nothing.

    The change is applied for real inside a savepoint — and the renewal after
    it billed — then rolled back: the preview is the applied result by
    construction, to the minor unit. Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id)
        savepoint = uow.session.begin_nested()
        try:
            outcome = _change(sub, account_id=account_id, uow=uow, items=items,
                              proration_behavior=proration_behavior,
                              proration_date=proration_date, coupon=coupon,
                              promotion_code=promotion_code,
                              schedule_at_period_end=schedule_at_period_end,
                              expected_version=None, collect_strictly=False)
            preview = _describe(outcome, uow=uow)
        finally:
            savepoint.rollback()
        return preview


def _simulate_renewal(sub: Subscription, uow: UnitOfWork) -> Invoice | None:
    """Bill the coming renewal as the clock will (inside a savepoint that is rolled back)."""
    if sub.cancel_at_period_end or sub.status not in LIVE_STATUSES:
        return None
    next_at = sub.current_period_end
    with _clock_at(uow, next_at):
        return bill_next_period(sub, uow=uow, at=next_at)


def _describe(outcome: _Outcome, *, uow: UnitOfWork) -> ChangePreview:
    sub = outcome.sub
    lines: list[tuple[PreviewLine, int]] = [
        (PreviewLine(description=i.description, amount=i.amount, proration=i.proration,
                     period_start=i.period_start, period_end=i.period_end, price_id=i.price_id,
                     quantity=i.quantity), i.discount_amount)
        for i in outcome.items]
    due_now = 0
    if outcome.invoice is not None:
        invoice = outcome.invoice
        due_now = invoice.amount_due
        for line in uow.session.exec(select(InvoiceLine).where(
                InvoiceLine.invoice_id == invoice.id, col(InvoiceLine.proration).is_(False))
                .order_by(col(InvoiceLine.position))).all():
            lines.append((PreviewLine(
                description=line.description, amount=line.amount, proration=False,
                period_start=line.period_start, period_end=line.period_end,
                price_id=line.price_id, quantity=line.quantity), line.discount_amount))
    next_at = sub.current_period_end
    renewal = _simulate_renewal(sub, uow)
    return ChangePreview(
        subscription_id=sub.id, currency=sub.currency,
        lines=tuple(line for line, _ in lines), discount=sum(d for _, d in lines),
        amount_due_now=due_now, next_invoice_at=next_at,
        next_invoice_amount=renewal.amount_due if renewal is not None else 0,
        proration_date=outcome.proration_date or uow.clock(),
        scheduled_for=(from_unix(outcome.schedule.phases[1]["start_date"])
                       if outcome.schedule is not None else None),
        version=outcome.version)


def preview_invoice(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                    items: Sequence[ItemChange] = (),
                    proration_behavior: str = "create_prorations",
                    proration_date: datetime | None = None, customer_id: str | None = None,
                    coupon: str | None = None, promotion_code: str | None = None
                    ) -> tuple[Invoice, list[Any]]:
    """The upcoming invoice, as draft copies of the invoice and its lines.

    With ``items`` (or a ``coupon`` or ``promotion_code`` redeemed with them), the
    invoice the change would issue now (``always_invoice`` or a new billing interval),
    else the renewal after it, pending prorations included. Computed like :func:`preview_change`: applied in a savepoint,
    rolled back. Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id)
        savepoint = uow.session.begin_nested()
        try:
            invoice = None
            if items or coupon or promotion_code:
                invoice = _change(sub, account_id=account_id, uow=uow, items=items,
                                  proration_behavior=proration_behavior,
                                  proration_date=proration_date, coupon=coupon,
                                  promotion_code=promotion_code, schedule_at_period_end=False,
                                  expected_version=None, collect_strictly=False).invoice
            if invoice is None:
                invoice = _simulate_renewal(sub, uow)
            if invoice is None:
                raise ResourceMissing("No upcoming invoices for this subscription.",
                                      code="invoice_upcoming_none")
            copy = Invoice.model_validate(invoice.model_dump())
            lines = [InvoiceLine.model_validate(line.model_dump()) for line in uow.session.exec(
                select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                .order_by(col(InvoiceLine.position))).all()]
        finally:
            savepoint.rollback()
    copy.id = f"upcoming_{copy.id}"  # Stripe's preview ids: never a stored invoice
    for line in lines:
        line.invoice_id = copy.id
    copy.status = InvoiceStatus.draft
    copy.number = None
    copy.finalized_at = copy.paid_at = copy.voided_at = copy.marked_uncollectible_at = None
    copy.amount_paid = 0
    copy.amount_remaining = copy.amount_due
    copy.attempt_count = 0
    copy.payment_method_id = None
    copy.last_decline_code = None
    copy.due_date = None
    return copy, lines


def apply_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                 items: Sequence[ItemChange], proration_behavior: str = "create_prorations",
                 proration_date: datetime | None = None, coupon: str | None = None,
                 promotion_code: str | None = None, schedule_at_period_end: bool = False,
                 expected_version: str | None = None, customer_id: str | None = None
                 ) -> Subscription:
    """Change the subscription's items now (prorated) or schedule it for the period end.

    The subscription row is locked first, so two simultaneous changes
    serialize; ``expected_version`` (a preview's ``version``) refuses the
    change with ``subscription_changed`` if the subscription changed since that
    preview. ``proration_behavior``: ``create_prorations`` leaves pending
    invoice items for the next renewal, ``always_invoice`` invoices and charges
    them now, ``none`` bills nothing until the renewal. A declined charge
    raises CardDeclined and leaves everything as it was.
    Raises ResourceMissing, InvalidRequest, CardDeclined.
    """
    with uow:
        sub = load_subscription(subscription_id, account_id=account_id, uow=uow,
                                customer_id=customer_id)
        _change(sub, account_id=account_id, uow=uow, items=items,
                proration_behavior=proration_behavior, proration_date=proration_date,
                coupon=coupon, promotion_code=promotion_code,
                schedule_at_period_end=schedule_at_period_end,
                expected_version=expected_version, collect_strictly=True)
        uow.commit()
        return sub
