"""The billing ledger: customers, catalog, subscriptions, invoices, payment methods, coupons.

Shapes and id prefixes mirror Stripe's objects. Money is an integer count of the
currency's minor units beside a lowercase ISO 4217 code; times are aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, PrimaryKeyConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal_app.dbtypes import (
    account_reference,
    enum_field,
    int64_field,
    json_field,
    time_field,
)
from portal_app.ids import new_id


class Interval(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    year = "year"


class SubscriptionStatus(StrEnum):
    incomplete = "incomplete"
    incomplete_expired = "incomplete_expired"
    trialing = "trialing"
    active = "active"
    past_due = "past_due"
    canceled = "canceled"
    unpaid = "unpaid"
    paused = "paused"


class InvoiceStatus(StrEnum):
    draft = "draft"
    open = "open"
    paid = "paid"
    uncollectible = "uncollectible"
    void = "void"


class CouponDuration(StrEnum):
    once = "once"
    repeating = "repeating"
    forever = "forever"


class Customer(SQLModel, table=True):
    id: str = Field(primary_key=True, default_factory=new_id("cus"))
    account_id: str = Field(foreign_key="account.id", index=True)
    email: str | None = Field(default=None, index=True)
    name: str | None = None
    phone: str | None = None
    description: str | None = None
    address: dict[str, Any] | None = json_field(default=None)
    shipping: dict[str, Any] | None = json_field(default=None)
    preferred_locales: list[str] = json_field(default=list)
    metadata_: dict[str, str] = json_field()
    currency: str | None = None
    balance: int = int64_field(default=0)
    invoice_prefix: str
    next_invoice_sequence: int = 1
    default_payment_method: str | None = None
    tax_exempt: str = "none"
    # The test clock whose time this customer's objects follow (Stripe's ``test_clock``).
    test_clock: str | None = Field(default=None, foreign_key="test_clock.id", index=True)
    created: datetime = time_field(index=True)


class Product(SQLModel, table=True):
    id: str = Field(primary_key=True, default_factory=new_id("prod"))
    account_id: str = Field(foreign_key="account.id", index=True)
    name: str
    description: str | None = None
    active: bool = True
    default_price: str | None = None
    # How the customer reads a unit of a usage-based price ("API calls"), as Stripe's.
    unit_label: str | None = None
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)
    updated: datetime = time_field()


class Price(SQLModel, table=True):
    id: str = Field(primary_key=True, default_factory=new_id("price"))
    account_id: str = Field(foreign_key="account.id", index=True)
    product_id: str = Field(foreign_key="product.id", index=True)
    currency: str = Field(min_length=3, max_length=3)
    unit_amount: int = int64_field()  # 1999 == 19.99 EUR; JPY is zero-decimal
    interval: Interval | None = enum_field(Interval, nullable=True)  # None: one-time
    interval_count: int = 1
    usage_type: str = "licensed"  # licensed | metered
    # The meter whose usage a metered price bills (Stripe's ``recurring.meter``).
    meter_id: str | None = Field(default=None, foreign_key="meter.id", index=True)
    active: bool = True
    nickname: str | None = None
    lookup_key: str | None = Field(default=None, index=True)
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)


class PaymentMethod(SQLModel, table=True):
    """A tokenised payment method; never a full card or account number."""

    __tablename__ = "payment_method"

    id: str = Field(primary_key=True, default_factory=new_id("pm"))
    account_id: str = Field(foreign_key="account.id", index=True)
    customer_id: str | None = Field(default=None, foreign_key="customer.id", index=True)
    type: str = "card"
    brand: str | None = None
    last4: str | None = None  # None for wallets (paypal, link...): no number at all
    exp_month: int | None = None
    exp_year: int | None = None
    funding: str | None = None
    country: str | None = None
    fingerprint: str | None = None
    billing_details: dict[str, Any] = json_field()
    # The public Stripe sub-object of a type other than card (``sepa_debit``: bank_code,
    # last4, fingerprint...; ``paypal``: payer_email...), never a full account number.
    details: dict[str, Any] = json_field()
    # 3-D Secure test cards: every charge needs the test authorization page.
    requires_authentication: bool = False
    allow_redisplay: str = Field(default="unspecified", max_length=16)
    # What the test processor does when this method is charged: None succeeds,
    # otherwise the decline code it answers with (Stripe's test cards decide this).
    charge_decline_code: str | None = None
    # What the card check at attach time answers (Stripe refuses 4000…0002 there).
    check_decline_code: str | None = None
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)


# --- setup intents, mandates, payment method configurations (issue 11) -------------------


class SetupIntent(SQLModel, table=True):
    """Stripe's ``setup_intent``: saving a payment method for later, authorized if need be.

    The client secret is not stored: it is derived from the id with the account's key
    (:mod:`portal_app.billing.setup_intents`).
    """

    __tablename__ = "setup_intent"

    id: str = Field(primary_key=True, default_factory=new_id("seti"))
    account_id: str = Field(foreign_key="account.id", index=True)
    customer_id: str | None = Field(default=None, foreign_key="customer.id", index=True)
    status: str = Field(default="requires_payment_method", max_length=32)
    payment_method_id: str | None = Field(default=None, foreign_key="payment_method.id")
    payment_method_types: list[str] = json_field(default=list)
    usage: str = Field(default="off_session", max_length=16)
    description: str | None = None
    return_url: str | None = None
    # mandate_data[customer_acceptance] given at confirmation, kept until it succeeds.
    mandate_acceptance: dict[str, Any] | None = json_field(default=None)
    mandate_id: str | None = None
    next_action: dict[str, Any] | None = json_field(default=None)
    last_setup_error: dict[str, Any] | None = json_field(default=None)
    cancellation_reason: str | None = None
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)


class Mandate(SQLModel, table=True):
    """Stripe's ``mandate``: the customer's permission to debit their account."""

    id: str = Field(primary_key=True, default_factory=new_id("mandate"))
    account_id: str = Field(foreign_key="account.id", index=True)
    customer_id: str | None = Field(default=None, foreign_key="customer.id", index=True)
    payment_method_id: str = Field(foreign_key="payment_method.id", index=True)
    status: str = Field(default="active", max_length=16)
    type: str = Field(default="multi_use", max_length=16)
    customer_acceptance: dict[str, Any] = json_field()
    # payment_method_details.<type>: Stripe's fields for the method's type.
    method_details: dict[str, Any] = json_field()
    created: datetime = time_field()


class PaymentMethodConfiguration(SQLModel, table=True):
    """Stripe's ``payment_method_configuration``: which types are offered."""

    __tablename__ = "payment_method_configuration"

    id: str = Field(primary_key=True, default_factory=new_id("pmc"))
    account_id: str = Field(foreign_key="account.id", index=True)
    name: str = Field(default="Default", max_length=100)
    active: bool = True
    is_default: bool = False
    # type -> the merchant's preference: "on", "off" or "none" (Stripe's default applies)
    preferences: dict[str, str] = json_field()
    created: datetime = time_field()


class PendingAuthorization(SQLModel, table=True):
    """A pending authorization on Portico's test page (redirect types, 3-D Secure).

    Only the SHA-256 digest of the page's one-time token is stored.
    """

    __tablename__ = "pending_authorization"

    id: str = Field(primary_key=True, default_factory=new_id("tauth"))
    account_id: str = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=32)  # what it authorizes: setup_intent, invoice_payment...
    object_id: str = Field(max_length=255)
    token_digest: str = Field(unique=True, index=True, max_length=64)
    status: str = Field(default="pending", max_length=16)  # pending, succeeded, failed
    return_url: str | None = None
    created: datetime = time_field()


class Coupon(SQLModel, table=True):
    """A coupon; merchants may choose its id (``SUMMER``), unique within their account only.

    The key is (account, id), so account B may create ``SUMMER`` beside A's and learns
    nothing about A's ids; tables that name a coupon reference the pair
    (:func:`~portal_app.dbtypes.account_reference`).
    """

    __table_args__ = (PrimaryKeyConstraint("account_id", "id", name="coupon_pkey"),)

    id: str = Field(default_factory=new_id("co"))
    account_id: str = Field(foreign_key="account.id", index=True)
    name: str | None = None
    percent_off: float | None = None  # a rate, not money: Stripe sends it as a number
    amount_off: int | None = int64_field(nullable=True)
    currency: str | None = None
    duration: CouponDuration = enum_field(CouponDuration, default=CouponDuration.once)
    duration_in_months: int | None = None
    max_redemptions: int | None = int64_field(nullable=True)
    times_redeemed: int = int64_field(default=0)
    redeem_by: datetime | None = time_field(nullable=True)
    valid: bool = True
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)


class Discount(SQLModel, table=True):
    __table_args__ = (account_reference("discount", "coupon_id", "coupon"),)

    id: str = Field(primary_key=True, default_factory=new_id("di"))
    account_id: str = Field(foreign_key="account.id", index=True)
    coupon_id: str
    customer_id: str = Field(foreign_key="customer.id", index=True)
    subscription_id: str | None = Field(default=None, foreign_key="subscription.id", index=True)
    start: datetime = time_field()
    end: datetime | None = time_field(nullable=True)
    created: datetime = time_field()


class Subscription(SQLModel, table=True):
    id: str = Field(primary_key=True, default_factory=new_id("sub"))
    account_id: str = Field(foreign_key="account.id", index=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    status: SubscriptionStatus = enum_field(SubscriptionStatus, index=True)
    currency: str
    collection_method: str = "charge_automatically"
    days_until_due: int | None = None
    default_payment_method: str | None = None
    description: str | None = None
    billing_cycle_anchor: datetime = time_field()
    current_period_start: datetime = time_field()
    current_period_end: datetime = time_field(index=True)
    start_date: datetime = time_field()
    trial_start: datetime | None = time_field(nullable=True)
    trial_end: datetime | None = time_field(nullable=True)
    cancel_at_period_end: bool = False
    cancel_at: datetime | None = time_field(nullable=True)
    canceled_at: datetime | None = time_field(nullable=True)
    ended_at: datetime | None = time_field(nullable=True)
    cancellation_details: dict[str, Any] = json_field(
        default=lambda: {"comment": None, "feedback": None, "reason": None}
    )
    pause_collection: dict[str, Any] | None = json_field(default=None)
    # Portico's own, never rendered: the origin (``UnitOfWork.origin``) of the request
    # that set the cancellation at period end, so the events of the end itself (written
    # by the clock, with no request) name it too. Cleared when reactivated.
    cancellation_origin: dict[str, Any] | None = json_field(default=None)
    # pause_collection["resumes_at"] as a column, so the clock can find pauses that end.
    pause_resumes_at: datetime | None = time_field(nullable=True, index=True)
    latest_invoice: str | None = None
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)


class SubscriptionItem(SQLModel, table=True):
    __tablename__ = "subscription_item"

    id: str = Field(primary_key=True, default_factory=new_id("si"))
    subscription_id: str = Field(foreign_key="subscription.id", index=True)
    price_id: str = Field(foreign_key="price.id")
    quantity: int = int64_field(default=1)
    position: int = 0  # the order the items were given in (ids are random, times equal)
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field()


class Invoice(SQLModel, table=True):
    id: str = Field(primary_key=True, default_factory=new_id("in"))
    account_id: str = Field(foreign_key="account.id", index=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    subscription_id: str | None = Field(default=None, foreign_key="subscription.id", index=True)
    number: str | None = None
    status: InvoiceStatus = enum_field(InvoiceStatus)
    billing_reason: str | None = None
    collection_method: str = "charge_automatically"
    currency: str
    subtotal: int = int64_field(default=0)
    total_discount: int = int64_field(default=0)
    total: int = int64_field(default=0)
    amount_due: int = int64_field(default=0)
    amount_paid: int = int64_field(default=0)
    amount_remaining: int = int64_field(default=0)
    # The customer balance carried in (negative: a credit), Stripe's starting_balance.
    starting_balance: int = int64_field(default=0)
    attempt_count: int = 0
    period_start: datetime = time_field()
    period_end: datetime = time_field()
    due_date: datetime | None = time_field(nullable=True)
    finalized_at: datetime | None = time_field(nullable=True)
    paid_at: datetime | None = time_field(nullable=True)
    voided_at: datetime | None = time_field(nullable=True)
    marked_uncollectible_at: datetime | None = time_field(nullable=True)
    payment_method_id: str | None = None
    last_decline_code: str | None = None
    # When the next automatic retry is due (Stripe's ``next_payment_attempt``), see
    # portal_app/billing/dunning.py; None: no retry scheduled.
    next_payment_attempt: datetime | None = time_field(nullable=True, index=True)
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"

    id: str = Field(primary_key=True, default_factory=new_id("il"))
    invoice_id: str = Field(foreign_key="invoice.id", index=True)
    subscription_item_id: str | None = None
    price_id: str | None = None
    description: str
    quantity: int = int64_field(default=1)
    amount: int = int64_field()
    discount_amount: int = int64_field(default=0)
    currency: str
    proration: bool = False
    period_start: datetime = time_field()
    period_end: datetime = time_field()
    position: int = 0


class Charge(SQLModel, table=True):
    """One attempt of the test processor to collect an invoice."""

    id: str = Field(primary_key=True, default_factory=new_id("ch"))
    account_id: str = Field(foreign_key="account.id", index=True)
    invoice_id: str = Field(foreign_key="invoice.id", index=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    payment_method_id: str
    amount: int = int64_field()
    currency: str
    status: str  # succeeded | failed
    failure_code: str | None = None
    created: datetime = time_field()


class PromotionCode(SQLModel, table=True):
    """A customer-facing code that redeems a coupon (Stripe's ``promo_``)."""

    __tablename__ = "promotion_code"
    __table_args__ = (account_reference("promotion_code", "coupon_id", "coupon"),)

    id: str = Field(primary_key=True, default_factory=new_id("promo"))
    account_id: str = Field(foreign_key="account.id", index=True)
    code: str = Field(index=True)
    coupon_id: str
    active: bool = True
    customer_id: str | None = Field(default=None, foreign_key="customer.id")
    max_redemptions: int | None = int64_field(nullable=True)
    times_redeemed: int = int64_field(default=0)
    expires_at: datetime | None = time_field(nullable=True)
    first_time_transaction: bool = False
    minimum_amount: int | None = int64_field(nullable=True)
    minimum_amount_currency: str | None = None
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)


class ScheduleStatus(StrEnum):
    not_started = "not_started"
    active = "active"
    completed = "completed"
    released = "released"
    canceled = "canceled"


class SubscriptionSchedule(SQLModel, table=True):
    """Planned phases of a subscription (Stripe's ``sub_sched_``).

    ``phases`` is a list of ``{"start_date": unix, "end_date": unix | None,
    "items": [{"price": id, "quantity": n}], "proration_behavior": str}``.
    """

    __tablename__ = "subscription_schedule"

    id: str = Field(primary_key=True, default_factory=new_id("sub_sched"))
    account_id: str = Field(foreign_key="account.id", index=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    subscription_id: str | None = Field(default=None, foreign_key="subscription.id", index=True)
    status: ScheduleStatus = enum_field(ScheduleStatus, index=True)
    end_behavior: str = "release"
    phases: list[dict[str, Any]] = json_field(default=list)
    current_phase: int = 0
    released_subscription: str | None = None
    released_at: datetime | None = time_field(nullable=True)
    canceled_at: datetime | None = time_field(nullable=True)
    completed_at: datetime | None = time_field(nullable=True)
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)
    # Portico's own, never rendered (Stripe records no author): who made the schedule.
    # "portal": the customer's change at the period end, theirs to drop; "merchant" (the
    # API): e.g. an introductory price's end, which the portal must leave in place.
    created_by: str = Field(default="merchant", max_length=16)


class InvoiceItem(SQLModel, table=True):
    """A pending invoice item (Stripe's ``ii_``): a proration waiting for the next invoice.

    ``invoice_id`` is None while pending; renewal moves it onto the invoice it bills.
    ``discount_amount`` is fixed when the item is created (the coupon active then).
    """

    __tablename__ = "invoice_item"

    id: str = Field(primary_key=True, default_factory=new_id("ii"))
    account_id: str = Field(foreign_key="account.id", index=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    subscription_id: str | None = Field(default=None, foreign_key="subscription.id", index=True)
    subscription_item_id: str | None = None
    invoice_id: str | None = Field(default=None, foreign_key="invoice.id", index=True)
    price_id: str | None = None
    description: str
    quantity: int = int64_field(default=1)
    amount: int = int64_field()
    discount_amount: int = int64_field(default=0)
    currency: str
    proration: bool = True
    period_start: datetime = time_field()
    period_end: datetime = time_field()
    position: int = 0  # creation order within the subscription (times are often equal)
    created: datetime = time_field(index=True)


class MeterStatus(StrEnum):
    active = "active"
    inactive = "inactive"


# How a meter aggregates its events over a period (Stripe's default_aggregation.formula).
METER_FORMULAS = ("sum", "count", "last")


class Meter(SQLModel, table=True):
    """How a stream of usage events becomes a quantity to bill (Stripe's ``mtr_``)."""

    id: str = Field(primary_key=True, default_factory=new_id("mtr"))
    account_id: str = Field(foreign_key="account.id", index=True)
    display_name: str
    event_name: str = Field(index=True)
    formula: str = "sum"  # one of METER_FORMULAS
    customer_payload_key: str = "stripe_customer_id"
    value_payload_key: str = "value"
    event_time_window: str | None = None
    status: MeterStatus = enum_field(MeterStatus, default=MeterStatus.active, index=True)
    deactivated_at: datetime | None = time_field(nullable=True)
    created: datetime = time_field(index=True)
    updated: datetime = time_field()


class MeterEvent(SQLModel, table=True):
    """One usage event of a customer, as the merchant reported it.

    ``identifier`` is unique per account: a resent event is counted once.
    ``value`` is a whole number of units (``count`` meters ignore it).
    """

    __tablename__ = "meter_event"
    __table_args__ = (
        UniqueConstraint("account_id", "identifier", name="uq_meter_event_identifier"),
        Index("ix_meter_event_usage", "meter_id", "customer_id", "timestamp"),
    )

    id: str = Field(primary_key=True, default_factory=new_id("mtrevt"))
    account_id: str = Field(foreign_key="account.id", index=True)
    meter_id: str = Field(foreign_key="meter.id")
    customer_id: str = Field(foreign_key="customer.id")
    event_name: str
    identifier: str
    value: int = int64_field()
    payload: dict[str, str] = json_field()
    timestamp: datetime = time_field()
    created: datetime = time_field()


class TaxId(SQLModel, table=True):
    """One of a customer's tax IDs (Stripe's ``tax_id``, owner type ``customer``).

    Deleting keeps the row with ``deleted`` set: an invoice finalized while the tax ID
    existed still shows it (Stripe snapshots ``customer_tax_ids`` at finalization).
    """

    __tablename__ = "tax_id"
    __table_args__ = (Index("ix_tax_id_customer", "customer_id", "created"),)

    id: str = Field(primary_key=True, default_factory=new_id("txi"))
    account_id: str = Field(foreign_key="account.id", index=True)
    customer_id: str = Field(foreign_key="customer.id")
    type: str = Field(max_length=16)
    value: str = Field(max_length=64)
    country: str | None = Field(default=None, max_length=2)
    created: datetime = time_field()
    deleted: datetime | None = time_field(nullable=True)


# --- past-due recovery and test clocks (issue 11, H4) --------------------------------------


class TestClockStatus(StrEnum):
    __test__ = False  # not a pytest test class, despite its name

    advancing = "advancing"
    internal_failure = "internal_failure"
    ready = "ready"


class TestClock(SQLModel, table=True):
    """A simulated time for the customers created on it (Stripe's ``clock_``)."""

    __tablename__ = "test_clock"
    __test__ = False  # not a pytest test class, despite its name

    id: str = Field(primary_key=True, default_factory=new_id("clock"))
    account_id: str = Field(foreign_key="account.id", index=True)
    name: str | None = None
    frozen_time: datetime = time_field()
    status: TestClockStatus = enum_field(TestClockStatus, default=TestClockStatus.ready)
    # While advancing: where to (Stripe's status_details.advancing.target_frozen_time).
    target_frozen_time: datetime | None = time_field(nullable=True)
    deletes_after: datetime = time_field()
    created: datetime = time_field(index=True)


class RetryPolicy(SQLModel, table=True):
    """An account's automatic retry settings (Stripe's Dashboard: Revenue recovery > Retries).

    No row: Portico's default (see :mod:`portal_app.billing.dunning`).
    """

    __tablename__ = "retry_policy"

    account_id: str = Field(primary_key=True, foreign_key="account.id")
    # Days after the first failed attempt at which each retry runs.
    retry_days: list[int] = json_field(default=list)
    # What happens to the subscription when every retry failed: cancel | unpaid | past_due.
    after_all_fail: str = Field(default="cancel", max_length=16)
    updated: datetime = time_field()
