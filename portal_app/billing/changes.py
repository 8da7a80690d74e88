"""Changing a live subscription: items and quantities with Stripe's prorations,
changes scheduled for the period end, reactivation, pause and resume, promotion codes.

Proration follows Stripe: for every changed item, one credit line for the unused
time on the old price and one debit line for the remaining time on the new one,
time-proportional to the second from ``proration_date`` to the period end over
the whole current period. Each line is rounded on its own, half up (away from zero
for credits), as Stripe rounds each line. An active percent-off coupon is applied
to each proration line (its discount rounded half up the same way); amount-off
coupons apply only to a renewal invoice's regular lines.

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

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from portal_app.billing import processor
from portal_app.billing.models import (
    Coupon,
    Customer,
    Discount,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Price,
    Product,
    PromotionCode,
    ScheduleStatus,
    Subscription,
    SubscriptionItem,
    SubscriptionSchedule,
    SubscriptionStatus,
)
from portal_app.billing.periods import shift
from portal_app.billing.promotions import (
    check_promotion,
    retrieve_promotion_code_by_code,
)
from portal_app.clock import as_utc, from_unix, to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.objects import (
    render_invoice_item,
    render_subscription,
    render_subscription_schedule,
)

__all__ = [
    "ChangePreview", "ItemChange", "PreviewLine", "ScheduledChange", "ScheduledItem",
    "apply_change", "cancel_scheduled_change", "pause_subscription", "pending_change",
    "preview_change", "reactivate_subscription", "resume_subscription",
    "retrieve_promotion_code_by_code",
]

PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")
PAUSE_BEHAVIORS = ("void", "keep_as_draft", "mark_uncollectible")
OPEN_SCHEDULE = (ScheduleStatus.not_started, ScheduleStatus.active)


@dataclass(frozen=True)
class ItemChange:
    """One entry of Stripe's ``items[]`` on a subscription update."""

    id: str | None = None  # existing si_ to change or delete; None adds a new item
    price: str | None = None
    quantity: int | None = None
    deleted: bool = False


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


@dataclass(frozen=True)
class ScheduledItem:
    """One item of a scheduled change's next phase."""

    price_id: str
    quantity: int
    product_name: str


@dataclass(frozen=True)
class ScheduledChange:
    """A change waiting for the period end (a subscription schedule's next phase)."""

    effective_at: datetime
    items: tuple[ScheduledItem, ...]
    schedule_id: str


# --- locking, loading, versions ---------------------------------------------------------


def lock_subscription(subscription_id: str, *, uow: UnitOfWork) -> Subscription:
    """Load the subscription holding its row lock until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite has no row locks: the
    transaction takes the database write lock first (``BEGIN IMMEDIATE``), so
    two writers serialize before either reads. Raises ResourceMissing.
    """
    conn = uow.session.connection()
    if conn.dialect.name == "sqlite":
        raw: Any = conn.connection.dbapi_connection
        if not raw.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    sub = uow.session.get(Subscription, subscription_id, with_for_update=True,
                          populate_existing=True)
    if sub is None:
        raise ResourceMissing(f"No such subscription: '{subscription_id}'")
    return sub


def _load(subscription_id: str, *, account_id: str, uow: UnitOfWork,
          customer_id: str | None, lock: bool = True) -> Subscription:
    if lock:
        try:
            sub = lock_subscription(subscription_id, uow=uow)
        except ResourceMissing:
            sub = None
    else:
        sub = uow.session.get(Subscription, subscription_id)
    if sub is None or sub.account_id != account_id or (
            customer_id is not None and sub.customer_id != customer_id):
        raise ResourceMissing(f"No such subscription: '{subscription_id}'", param="id")
    return sub


def subscription_version(sub: Subscription, uow: UnitOfWork) -> str:
    """An opaque token that changes whenever anything billable about ``sub`` changes."""
    pending = uow.session.exec(
        select(InvoiceItem.id).where(InvoiceItem.subscription_id == sub.id,
                                     col(InvoiceItem.invoice_id).is_(None))
        .order_by(col(InvoiceItem.id))
    ).all()
    state = {"subscription": render_subscription(sub, uow.session), "pending": list(pending)}
    digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:24]


def _rows(sub: Subscription, uow: UnitOfWork) -> list[tuple[SubscriptionItem, Price, Product]]:
    return [tuple(row) for row in uow.session.exec(  # type: ignore[misc]
        select(SubscriptionItem, Price, Product)
        .join(Price, col(Price.id) == SubscriptionItem.price_id)
        .join(Product, col(Product.id) == Price.product_id)
        .where(SubscriptionItem.subscription_id == sub.id)
        .order_by(col(SubscriptionItem.position), col(SubscriptionItem.id))
    ).all()]


def _open_schedule(sub: Subscription, uow: UnitOfWork) -> SubscriptionSchedule | None:
    return uow.session.exec(
        select(SubscriptionSchedule).where(
            SubscriptionSchedule.subscription_id == sub.id,
            col(SubscriptionSchedule.status).in_([s.value for s in OPEN_SCHEDULE]))
        .order_by(col(SubscriptionSchedule.created).desc())
    ).first()


def _emit_updated(sub: Subscription, before: dict[str, Any], uow: UnitOfWork) -> None:
    from portal_app.billing.services import diff

    uow.add(sub)
    uow.flush()
    after = render_subscription(sub, uow.session)
    previous = diff(before, after)
    if previous:
        uow.events.append("customer.subscription.updated", after, account_id=sub.account_id,
                          previous_attributes=previous)


# --- proration arithmetic --------------------------------------------------------------


def prorate(amount: int, *, remaining: int, total: int) -> int:
    """``amount * remaining / total`` rounded half up (half away from zero for credits).

    ``remaining`` and ``total`` are whole seconds: Stripe prorates to the second.
    """
    if total <= 0:
        return 0
    sign = -1 if amount < 0 else 1
    return sign * ((2 * abs(amount) * remaining + total) // (2 * total))


def percent_of(amount: int, percent: float) -> int:
    """``percent`` % of ``amount``, rounded half away from zero (a line's discount)."""
    from decimal import ROUND_HALF_UP, Decimal

    value = Decimal(amount) * Decimal(str(percent)) / 100
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _seconds(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


def _when(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def _label(product: Product, quantity: int) -> str:
    return product.name if quantity == 1 else f"{quantity} × {product.name}"


def _line_discount(amount: int, coupon: Coupon | None) -> int:
    # Percent-off coupons discount every proration line; amount-off coupons only
    # a renewal's regular lines (an amount cannot be split over credits and debits).
    if coupon is None or coupon.percent_off is None:
        return 0
    return percent_of(amount, coupon.percent_off)


def _active_coupon(sub: Subscription, uow: UnitOfWork, at: datetime) -> Coupon | None:
    from portal_app.billing.services import _active_discount

    active = _active_discount(sub, uow, at)
    return active[1] if active else None


def _proration_item(sub: Subscription, *, price: Price, product: Product, quantity: int,
                    item_id: str | None, at: datetime, credit: bool, coupon: Coupon | None,
                    now: datetime) -> InvoiceItem:
    remaining = _seconds(at, sub.current_period_end)
    total = _seconds(sub.current_period_start, sub.current_period_end)
    amount = prorate(price.unit_amount * quantity, remaining=remaining, total=total)
    verb = "Unused" if credit else "Remaining"
    if credit:
        amount = -amount
    return InvoiceItem(
        account_id=sub.account_id, customer_id=sub.customer_id, subscription_id=sub.id,
        subscription_item_id=item_id, price_id=price.id,
        description=f"{verb} time on {_label(product, quantity)} after {_when(at)}",
        quantity=quantity, amount=amount, discount_amount=_line_discount(amount, coupon),
        currency=sub.currency, proration=True, period_start=at,
        period_end=sub.current_period_end, created=now)


def _add_items(items: Sequence[InvoiceItem], uow: UnitOfWork) -> None:
    from sqlalchemy import func

    for item in items:
        item.position = uow.session.exec(
            select(func.count()).select_from(InvoiceItem)
            .where(InvoiceItem.subscription_id == item.subscription_id)).one()
        uow.add(item)
        uow.flush()
    uow.flush()
    for item in items:
        uow.events.append("invoiceitem.created", render_invoice_item(item),
                          account_id=item.account_id)


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


def _price(price_id: str, *, account_id: str, uow: UnitOfWork, param: str
           ) -> tuple[Price, Product]:
    price = uow.get(Price, price_id, account_id=account_id, param=param, label="price")
    if price.interval is None:
        raise InvalidRequest(f"The price `{price.id}` is not recurring; subscriptions need a "
                             "recurring price.", param=param)
    if not price.active:
        raise InvalidRequest(f"The price `{price.id}` is not active.", param=param)
    product = uow.session.get(Product, price.product_id)
    assert product is not None
    return price, product


def _resolve(sub: Subscription, changes: Sequence[ItemChange], *, account_id: str,
             uow: UnitOfWork) -> list[_Target]:
    """Every item of the subscription after ``changes`` (deleted ones flagged)."""
    targets: dict[str, _Target] = {}
    for item, price, product in _rows(sub, uow):
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
                price, product = _price(change.price, account_id=account_id, uow=uow,
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
            price, product = _price(change.price, account_id=account_id, uow=uow,
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
    if _open_schedule(sub, uow) is not None:
        raise InvalidRequest(
            "This subscription has a scheduled change; cancel it before changing again.",
            code="pending_scheduled_change")


def _redeem_promotion(code: str, *, sub: Subscription, account_id: str, uow: UnitOfWork
                      ) -> PromotionCode:
    if code.startswith("promo_"):
        promo = uow.session.get(PromotionCode, code)
        if promo is None or promo.account_id != account_id:
            raise InvalidRequest("This promotion code is not valid.", param="promotion_code",
                                 code="promotion_code_invalid")
        check_promotion(promo, uow=uow, now=uow.clock())
    else:
        promo = retrieve_promotion_code_by_code(code, account_id=account_id, uow=uow)
    if promo.customer_id is not None and promo.customer_id != sub.customer_id:
        raise InvalidRequest("This promotion code is not valid.", param="promotion_code",
                             code="promotion_code_invalid")
    if promo.first_time_transaction and uow.session.exec(
            select(Invoice.id).where(Invoice.customer_id == sub.customer_id,
                                     Invoice.status == InvoiceStatus.paid,
                                     Invoice.amount_paid > 0)).first() is not None:
        raise InvalidRequest("This promotion code is only for a first purchase.",
                             param="promotion_code", code="promotion_code_invalid")
    return promo


def _set_coupon(sub: Subscription, coupon_id: str, *, account_id: str, uow: UnitOfWork,
                now: datetime) -> Discount:
    """Replace the subscription's discount with one of ``coupon_id``."""
    from portal_app.billing.services import _apply_coupon

    for discount in uow.session.exec(
            select(Discount).where(Discount.subscription_id == sub.id)).all():
        if discount.end is None or discount.end > now:
            discount.end = now
            uow.add(discount)
    return _apply_coupon(coupon_id, sub=sub, account_id=account_id, uow=uow)


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
    from portal_app.billing import services

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
        outcome.schedule = _schedule_change(sub, targets, uow=uow, now=now)
        _emit_updated(sub, before, uow)
        return outcome
    promo = None
    if promotion_code:
        promo = _redeem_promotion(promotion_code, sub=sub, account_id=account_id, uow=uow)
        coupon = promo.coupon_id
    if coupon:
        _set_coupon(sub, coupon, account_id=account_id, uow=uow, now=now)
        if promo is not None:
            promo.times_redeemed += 1
            uow.add(promo)
    discount_coupon = _active_coupon(sub, uow, now)
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
                credits.append(_proration_item(
                    sub, price=target.old_price, product=target.old_product,
                    quantity=target.old_quantity, item_id=target.item.id, at=at, credit=True,
                    coupon=discount_coupon, now=now))
            if not target.deleted and not interval_change and target.price.usage_type != "metered":
                credits.append(_proration_item(
                    sub, price=target.price, product=target.product, quantity=target.quantity,
                    item_id=target.item.id, at=at, credit=False, coupon=discount_coupon,
                    now=now))
    for target in targets:
        if target.deleted and target.item is not None:
            uow.session.delete(target.item)
    uow.flush()
    _add_items(credits, uow)
    outcome.items = credits
    if interval_change:
        # A new billing interval starts a new period now, billed at once (as Stripe does).
        assert new_interval is not None
        sub.billing_cycle_anchor = now
        sub.current_period_start = now
        sub.current_period_end = shift(now, new_interval[0], new_interval[1])
        outcome.invoice = services._bill_period(sub, billing_reason="subscription_update",
                                                uow=uow)
    elif proration_behavior == "always_invoice" and prorating:
        outcome.invoice = invoice_pending_items(sub, uow=uow,
                                                billing_reason="subscription_update")
    invoice = outcome.invoice
    if invoice is not None and collect_strictly:
        if invoice.last_decline_code == "payment_method_missing":
            raise InvalidRequest(
                "This customer has no attached payment source or default payment method.",
                code="resource_missing", param="default_payment_method")
        if (invoice.status == InvoiceStatus.open and invoice.amount_remaining > 0
                and invoice.collection_method == "charge_automatically"):
            # Stripe's payment_behavior=error_if_incomplete: nothing of the change remains.
            raise processor.decline(invoice.last_decline_code or "generic_decline")
    _emit_updated(sub, before, uow)
    if invoice is not None:
        services._emit_invoice_events(invoice, uow=uow, account_id=account_id)
    return outcome


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
    from portal_app.billing import services
    from portal_app.billing.models import InvoiceLine

    items = services._pending_items(sub, uow) if pending else []
    now = uow.clock()
    invoice = Invoice(
        account_id=sub.account_id, customer_id=sub.customer_id, subscription_id=sub.id,
        status=InvoiceStatus.draft, billing_reason=billing_reason,
        collection_method=sub.collection_method, currency=sub.currency,
        period_start=now, period_end=now, created=now)
    lines: list[InvoiceLine] = []
    if usage_until is not None:
        for item, price, product in _rows(sub, uow):
            if price.usage_type == "metered":
                lines.append(services.usage_line(sub, item, price, product, until=usage_until,
                                                 invoice=invoice, position=len(lines),
                                                 uow=uow))
        # An empty window (nothing billable since the last invoice) is no line at all.
        lines = [line for line in lines if line.period_start < line.period_end]
    if not items and not lines:
        return None
    customer = uow.session.get(Customer, sub.customer_id)
    assert customer is not None
    uow.add(invoice)
    uow.flush()
    usage_discount = services.discount_lines(sub, lines, uow=uow, now=now)
    for position, line in enumerate(lines):
        line.invoice_id = invoice.id
        line.position = position
    for pending_item in items:
        pending_item.invoice_id = invoice.id
        uow.add(pending_item)
        lines.append(InvoiceLine(
            invoice_id=invoice.id, subscription_item_id=pending_item.subscription_item_id,
            price_id=pending_item.price_id, description=pending_item.description,
            quantity=pending_item.quantity, amount=pending_item.amount,
            discount_amount=pending_item.discount_amount, currency=pending_item.currency,
            proration=pending_item.proration, period_start=pending_item.period_start,
            period_end=pending_item.period_end, position=len(lines)))
    for line in lines:
        uow.add(line)
    invoice.period_start = min(line.period_start for line in lines)
    invoice.period_end = max(line.period_end for line in lines)
    invoice.subtotal = sum(line.amount for line in lines)
    invoice.total_discount = usage_discount + sum(i.discount_amount for i in items)
    invoice.total = invoice.subtotal - invoice.total_discount
    sub.latest_invoice = invoice.id
    services._close_invoice(invoice, customer, sub=sub, uow=uow, now=now)
    uow.add(invoice)
    uow.add(sub)
    uow.flush()
    return invoice


def credit_unused_time(sub: Subscription, *, uow: UnitOfWork, at: datetime) -> None:
    """Pending credit items for the unused time of every item (an immediate cancel)."""
    now = uow.clock()
    coupon = _active_coupon(sub, uow, now)
    credits = [
        _proration_item(sub, price=price, product=product, quantity=item.quantity,
                        item_id=item.id, at=at, credit=True, coupon=coupon, now=now)
        for item, price, product in _rows(sub, uow)
        if price.usage_type != "metered" and sub.status != SubscriptionStatus.trialing
    ]
    _add_items(credits, uow)


def credit_pending_to_balance(sub: Subscription, *, uow: UnitOfWork) -> None:
    """Move the net of the subscription's pending items onto the customer's balance."""
    from portal_app.billing import services

    pending = services._pending_items(sub, uow)
    if not pending:
        return
    customer = uow.session.get(Customer, sub.customer_id)
    assert customer is not None
    customer.balance += sum(i.amount - i.discount_amount for i in pending)
    uow.add(customer)
    for item in pending:
        uow.session.delete(item)
    uow.flush()


# --- schedules ---------------------------------------------------------------------------


def _phase_items(rows: Sequence[tuple[SubscriptionItem | None, Price, int]]
                 ) -> list[dict[str, Any]]:
    return [{"price": price.id, "quantity": quantity, "_item": item.id if item else None}
            for item, price, quantity in rows]


def _schedule_change(sub: Subscription, targets: Sequence[_Target], *, uow: UnitOfWork,
                     now: datetime) -> SubscriptionSchedule:
    live = [t for t in targets if not t.deleted]
    interval = live[0].price.interval
    assert interval is not None
    next_end = shift(sub.current_period_end, interval, live[0].price.interval_count)
    schedule = SubscriptionSchedule(
        account_id=sub.account_id, customer_id=sub.customer_id, subscription_id=sub.id,
        status=ScheduleStatus.active, end_behavior="release", current_phase=0,
        phases=[
            {"start_date": to_unix(sub.current_period_start),
             "end_date": to_unix(sub.current_period_end),
             "items": _phase_items([(t.item, t.old_price, t.old_quantity) for t in targets
                                    if t.item is not None and t.old_price is not None]),
             "proration_behavior": "none"},
            {"start_date": to_unix(sub.current_period_end), "end_date": to_unix(next_end),
             "items": _phase_items([(t.item, t.price, t.quantity) for t in live]),
             "proration_behavior": "none"},
        ],
        created=now)
    uow.add(schedule)
    uow.flush()
    uow.events.append("subscription_schedule.created",
                      render_subscription_schedule(schedule, uow.session),
                      account_id=sub.account_id, customer_id=sub.customer_id)
    return schedule


def apply_due_phase(sub: Subscription, *, uow: UnitOfWork, at: datetime) -> None:
    """At a period boundary, switch the subscription to its schedule's phase starting then.

    The schedule completes once its last phase has begun: the subscription
    goes on with that phase's items (``end_behavior=release``).
    """
    schedule = _open_schedule(sub, uow)
    if schedule is None:
        return
    due = [i for i, phase in enumerate(schedule.phases)
           if i > schedule.current_phase and phase["start_date"] <= to_unix(at)]
    if not due:
        return
    index = due[-1]
    phase = schedule.phases[index]
    rows = {item.id: (item, price) for item, price, _ in _rows(sub, uow)}
    by_price = {price.id: item for item, price in rows.values()}
    keep: set[str] = set()
    old_interval = next(iter(rows.values()))[1].interval if rows else None
    position = max((item.position for item, _ in rows.values()), default=-1) + 1
    new_interval = None
    for spec in phase["items"]:
        price = uow.session.get(Price, spec["price"])
        assert price is not None
        new_interval = price.interval
        item = rows[spec["_item"]][0] if spec.get("_item") in rows else by_price.get(price.id)
        if item is None or item.id in keep:
            item = SubscriptionItem(subscription_id=sub.id, price_id=price.id,
                                    quantity=spec.get("quantity") or 1, position=position,
                                    created=uow.clock())
            position += 1
        item.price_id = price.id
        item.quantity = spec.get("quantity") or 1
        uow.add(item)
        uow.flush()
        keep.add(item.id)
    for item_id, (item, _) in rows.items():
        if item_id not in keep:
            uow.session.delete(item)
    if new_interval != old_interval:
        sub.billing_cycle_anchor = at
    uow.flush()
    schedule.current_phase = index
    if index == len(schedule.phases) - 1:
        schedule.status = ScheduleStatus.completed
        schedule.completed_at = at
        event = "subscription_schedule.completed"
    else:
        event = "subscription_schedule.updated"
    uow.add(schedule)
    uow.flush()
    uow.events.append(event, render_subscription_schedule(schedule, uow.session),
                      account_id=sub.account_id, customer_id=sub.customer_id)


def end_schedules(sub: Subscription, *, uow: UnitOfWork, event: str) -> None:
    """Release or cancel the subscription's open schedules (``event`` says which)."""
    now = uow.clock()
    for schedule in uow.session.exec(
        select(SubscriptionSchedule).where(
            SubscriptionSchedule.subscription_id == sub.id,
            col(SubscriptionSchedule.status).in_([s.value for s in OPEN_SCHEDULE]))
    ).all():
        if event.endswith("released"):
            schedule.status = ScheduleStatus.released
            schedule.released_at = now
            schedule.released_subscription = sub.id
        else:
            schedule.status = ScheduleStatus.canceled
            schedule.canceled_at = now
        uow.add(schedule)
        uow.flush()
        uow.events.append(event, render_subscription_schedule(schedule, uow.session),
                          account_id=sub.account_id, customer_id=sub.customer_id)


# --- public services ---------------------------------------------------------------------


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
        sub = _load(subscription_id, account_id=account_id, uow=uow, customer_id=customer_id)
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
    from portal_app.billing import services

    if sub.cancel_at_period_end or sub.status not in services.LIVE_STATUSES:
        return None
    next_at = sub.current_period_end
    with _clock_at(uow, next_at):
        apply_due_phase(sub, uow=uow, at=next_at)
        first = uow.session.exec(
            select(Price).join(SubscriptionItem, col(SubscriptionItem.price_id) == Price.id)
            .where(SubscriptionItem.subscription_id == sub.id)).first()
        assert first is not None and first.interval is not None
        sub.current_period_start = next_at
        sub.current_period_end = services.next_period_end(
            sub.billing_cycle_anchor, first.interval, first.interval_count, next_at)
        return services._bill_period(sub, billing_reason="subscription_cycle", uow=uow)


def _describe(outcome: _Outcome, *, uow: UnitOfWork) -> ChangePreview:
    from portal_app.billing.models import InvoiceLine

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
                    proration_date: datetime | None = None, customer_id: str | None = None
                    ) -> tuple[Invoice, list[Any]]:
    """The upcoming invoice, as draft copies of the invoice and its lines.

    With ``items``, the invoice the change would issue now (``always_invoice``
    or a new billing interval), else the renewal after it, pending prorations
    included. Computed like :func:`preview_change`: applied in a savepoint,
    rolled back. Raises ResourceMissing, InvalidRequest.
    """
    from portal_app.billing.models import InvoiceLine

    with uow:
        sub = _load(subscription_id, account_id=account_id, uow=uow, customer_id=customer_id)
        savepoint = uow.session.begin_nested()
        try:
            invoice = None
            if items:
                invoice = _change(sub, account_id=account_id, uow=uow, items=items,
                                  proration_behavior=proration_behavior,
                                  proration_date=proration_date, coupon=None,
                                  promotion_code=None, schedule_at_period_end=False,
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


def update_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                        default_payment_method: str | None = None,
                        description: str | None = None,
                        metadata: Mapping[str, str] | None = None) -> Subscription:
    """Change what is not billed: payment method, description, metadata.

    A new default payment method is allowed on a past_due subscription (and
    retried on its open invoices at the next renewal). Raises ResourceMissing,
    InvalidRequest.
    """
    from portal_app.billing.models import PaymentMethod
    from portal_app.billing.services import _merge_metadata

    with uow:
        sub = _load(subscription_id, account_id=account_id, uow=uow, customer_id=None)
        before = render_subscription(sub, uow.session)
        if default_payment_method is not None:
            if default_payment_method:
                pm = uow.get(PaymentMethod, default_payment_method, account_id=account_id,
                             param="default_payment_method", label="PaymentMethod")
                if pm.customer_id != sub.customer_id:
                    raise InvalidRequest(
                        f"The payment method `{pm.id}` is not attached to customer "
                        f"`{sub.customer_id}`.", param="default_payment_method")
            sub.default_payment_method = default_payment_method or None
        if description is not None:
            sub.description = description or None
        if metadata is not None:
            sub.metadata_ = _merge_metadata(sub.metadata_, metadata)
        _emit_updated(sub, before, uow)
        uow.commit()
        return sub


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
        sub = _load(subscription_id, account_id=account_id, uow=uow, customer_id=customer_id)
        _change(sub, account_id=account_id, uow=uow, items=items,
                proration_behavior=proration_behavior, proration_date=proration_date,
                coupon=coupon, promotion_code=promotion_code,
                schedule_at_period_end=schedule_at_period_end,
                expected_version=expected_version, collect_strictly=True)
        uow.commit()
        return sub


def cancel_scheduled_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                            customer_id: str | None = None) -> Subscription:
    """Release the subscription's pending schedule (the change will not happen).

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        sub = _load(subscription_id, account_id=account_id, uow=uow, customer_id=customer_id)
        if _open_schedule(sub, uow) is None:
            raise InvalidRequest("This subscription has no scheduled change.",
                                 code="no_change")
        before = render_subscription(sub, uow.session)
        end_schedules(sub, uow=uow, event="subscription_schedule.released")
        _emit_updated(sub, before, uow)
        uow.commit()
        return sub


def pending_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                   customer_id: str | None = None) -> ScheduledChange | None:
    """The change scheduled for the period end, if any. Raises ResourceMissing."""
    with uow:
        sub = _load(subscription_id, account_id=account_id, uow=uow, customer_id=customer_id,
                    lock=False)
        schedule = _open_schedule(sub, uow)
        if schedule is None:
            return None
        upcoming = [p for i, p in enumerate(schedule.phases) if i > schedule.current_phase]
        if not upcoming:
            return None
        phase = upcoming[0]
        items = []
        for spec in phase["items"]:
            price = uow.session.get(Price, spec["price"])
            product = uow.session.get(Product, price.product_id) if price else None
            items.append(ScheduledItem(price_id=spec["price"], quantity=spec.get("quantity") or 1,
                                       product_name=product.name if product else ""))
        return ScheduledChange(effective_at=from_unix(phase["start_date"]), items=tuple(items),
                               schedule_id=schedule.id)


def reactivate_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                            customer_id: str | None = None) -> Subscription:
    """Undo a cancellation at period end. Raises ResourceMissing, InvalidRequest."""
    with uow:
        sub = _load(subscription_id, account_id=account_id, uow=uow, customer_id=customer_id)
        if sub.status == SubscriptionStatus.canceled:
            raise InvalidRequest("This subscription is canceled and cannot be reactivated.",
                                 code="subscription_canceled")
        if not sub.cancel_at_period_end and sub.cancel_at is None:
            raise InvalidRequest("This subscription is not set to cancel.", code="no_change")
        before = render_subscription(sub, uow.session)
        sub.cancel_at_period_end = False
        sub.cancel_at = None
        sub.canceled_at = None
        sub.cancellation_details = {"comment": None, "feedback": None, "reason": None}
        sub.cancellation_origin = None
        _emit_updated(sub, before, uow)
        uow.commit()
        return sub


def pause_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                       behavior: str = "void", resumes_at: datetime | None = None,
                       customer_id: str | None = None) -> Subscription:
    """Pause collection (Stripe's ``pause_collection``) until ``resumes_at`` or resumed.

    Renewals go on while paused; their invoices are voided, kept as drafts or
    marked uncollectible as ``behavior`` says, and never charged. At
    ``resumes_at`` the clock lifts the pause. Raises ResourceMissing, InvalidRequest.
    """
    if behavior not in PAUSE_BEHAVIORS:
        raise InvalidRequest("Invalid pause_collection[behavior]: must be one of void, "
                             "keep_as_draft, or mark_uncollectible",
                             param="pause_collection[behavior]")
    with uow:
        sub = _load(subscription_id, account_id=account_id, uow=uow, customer_id=customer_id)
        if sub.status in (SubscriptionStatus.canceled, SubscriptionStatus.incomplete_expired):
            raise InvalidRequest("This subscription is canceled.", code="subscription_canceled")
        if sub.status == SubscriptionStatus.past_due:
            raise InvalidRequest("This subscription has an unpaid invoice: pay it first.",
                                 code="subscription_past_due")
        now = uow.clock()
        if resumes_at is not None:
            resumes_at = as_utc(resumes_at)
            if resumes_at <= now:
                raise InvalidRequest("pause_collection[resumes_at] must be in the future.",
                                     param="pause_collection[resumes_at]")
        before = render_subscription(sub, uow.session)
        sub.pause_collection = {"behavior": behavior, "resumes_at": to_unix(resumes_at)}
        sub.pause_resumes_at = resumes_at
        _emit_updated(sub, before, uow)
        if not before["pause_collection"]:
            uow.events.append("customer.subscription.paused",
                              render_subscription(sub, uow.session), account_id=account_id)
        uow.commit()
        return sub


def lift_pause(sub: Subscription, *, uow: UnitOfWork) -> None:
    """Clear ``pause_collection`` (resume collection) with its events."""
    before = render_subscription(sub, uow.session)
    sub.pause_collection = None
    sub.pause_resumes_at = None
    _emit_updated(sub, before, uow)
    uow.events.append("customer.subscription.resumed", render_subscription(sub, uow.session),
                      account_id=sub.account_id)


def resume_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                        customer_id: str | None = None) -> Subscription:
    """Lift a pause now. Raises ResourceMissing, InvalidRequest."""
    with uow:
        sub = _load(subscription_id, account_id=account_id, uow=uow, customer_id=customer_id)
        if sub.status == SubscriptionStatus.canceled:
            raise InvalidRequest("This subscription is canceled.", code="subscription_canceled")
        if not sub.pause_collection:
            raise InvalidRequest("This subscription is not paused.",
                                 code="subscription_not_paused")
        lift_pause(sub, uow=uow)
        uow.commit()
        return sub
