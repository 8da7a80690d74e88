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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from portal_app.billing.models import PromotionCode, Subscription
from portal_app.db import UnitOfWork

PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")
PAUSE_BEHAVIORS = ("void", "keep_as_draft", "mark_uncollectible")


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


def preview_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                   items: Sequence[ItemChange], proration_behavior: str = "create_prorations",
                   proration_date: datetime | None = None, coupon: str | None = None,
                   promotion_code: str | None = None, schedule_at_period_end: bool = False,
                   customer_id: str | None = None) -> ChangePreview:
    """What :func:`apply_change` with the same arguments would bill; changes nothing.

    Raises ResourceMissing, InvalidRequest.
    """
    raise NotImplementedError


def apply_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                 items: Sequence[ItemChange], proration_behavior: str = "create_prorations",
                 proration_date: datetime | None = None, coupon: str | None = None,
                 promotion_code: str | None = None, schedule_at_period_end: bool = False,
                 expected_version: str | None = None, customer_id: str | None = None
                 ) -> Subscription:
    """Change the subscription's items now (prorated) or schedule it for the period end.

    ``expected_version`` (a preview's ``version``) refuses the change with
    ``subscription_changed`` if the subscription changed since that preview.
    Raises ResourceMissing, InvalidRequest, CardDeclined.
    """
    raise NotImplementedError


def cancel_scheduled_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                            customer_id: str | None = None) -> Subscription:
    """Release the subscription's pending schedule (the change will not happen).

    Raises ResourceMissing, InvalidRequest.
    """
    raise NotImplementedError


def pending_change(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                   customer_id: str | None = None) -> ScheduledChange | None:
    """The change scheduled for the period end, if any. Raises ResourceMissing."""
    raise NotImplementedError


def reactivate_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                            customer_id: str | None = None) -> Subscription:
    """Undo a cancellation at period end. Raises ResourceMissing, InvalidRequest."""
    raise NotImplementedError


def pause_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                       behavior: str = "void", resumes_at: datetime | None = None,
                       customer_id: str | None = None) -> Subscription:
    """Pause collection (Stripe's ``pause_collection``) until ``resumes_at`` or resumed.

    Raises ResourceMissing, InvalidRequest.
    """
    raise NotImplementedError


def resume_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                        customer_id: str | None = None) -> Subscription:
    """Lift a pause now. Raises ResourceMissing, InvalidRequest."""
    raise NotImplementedError


def retrieve_promotion_code_by_code(code: str, *, account_id: str, uow: UnitOfWork
                                    ) -> PromotionCode:
    """The active, redeemable promotion code with this ``code``.

    Raises InvalidRequest (``promotion_code_invalid``, ``coupon_expired``).
    """
    raise NotImplementedError
