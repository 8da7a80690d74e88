"""Retention: offers (``offer_``), experiments (``exp_``) with variants (``var_``),
sticky assignments, per-configuration policies and cancellation flows (``cflow_``).

An offer is what a cancelling customer may be shown instead of losing them; its
``eligibility`` decides who may see and accept it. A configuration's policy maps
cancellation reasons to offers; a running experiment overrides the policy for the
customers it assigns. A cancellation flow records one customer's way through the
cancel pages: reason, offer, decision.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal_app.dbtypes import (
    enum_field,
    int64_field,
    json_field,
    time_field,
)
from portal_app.ids import new_id

# Stripe's eight cancellation reasons; "default" in a mapping answers any reason.
DEFAULT_REASON = "default"


class OfferType(StrEnum):
    coupon = "coupon"
    pause = "pause"
    price_change = "price_change"
    trial_extension = "trial_extension"
    contact = "contact"


class ExperimentStatus(StrEnum):
    draft = "draft"
    running = "running"
    stopped = "stopped"


class FlowStatus(StrEnum):
    started = "started"
    offer_presented = "offer_presented"
    offer_accepted = "offer_accepted"
    offer_declined = "offer_declined"
    completed = "completed"


class Offer(SQLModel, table=True):
    """A retention offer and the rules of who may get it.

    Only the fields of its ``type`` are set: ``coupon_id`` (coupon);
    ``pause_interval``/``pause_interval_count`` (pause; interval ``period`` counts
    the subscription's billing periods); ``price_id``/``price_change_timing``
    (price_change: ``now`` or ``period_end``); ``extension_days``
    (trial_extension); ``contact_url``/``contact_email`` (contact).
    """

    __tablename__ = "retention_offer"
    id: str = Field(primary_key=True, default_factory=new_id("offer"))
    account_id: str = Field(foreign_key="account.id", index=True)
    type: OfferType = enum_field(OfferType)
    name: str
    headline: str | None = None  # the merchant's words shown above the offer
    active: bool = True
    # "merchant": created through the API or console; "flow_data": the coupon of a
    # session's flow_data.subscription_cancel.retention, recorded as an offer.
    source: str = "merchant"
    # Billing objects of the account's provider (the ledger's or Stripe's): checked through
    # the provider when the offer is saved, not by a reference into the ledger.
    coupon_id: str | None = None
    pause_interval: str | None = None
    pause_interval_count: int | None = None
    price_id: str | None = None
    price_change_timing: str | None = None
    extension_days: int | None = None
    contact_url: str | None = None
    contact_email: str | None = None
    # Eligibility: empty lists mean "any".
    reasons: list[str] = json_field(default=list)
    product_ids: list[str] = json_field(default=list)
    price_ids: list[str] = json_field(default=list)
    minimum_subscription_age_days: int = 0
    cooldown_days: int | None = None  # none if the customer accepted any offer this recently
    max_redemptions_per_customer: int | None = int64_field(nullable=True)
    # Per subscription, at most this many offers of this kind (this one included) accepted
    # within the last ``redemption_window_months``: no free month every month, no coupon
    # re-applied each time. Safe by default: once per subscription per 12 months.
    max_redemptions_per_subscription: int = int64_field(default=1)
    redemption_window_months: int = 12
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)
    updated: datetime = time_field()


class RetentionPolicy(SQLModel, table=True):
    """Which offer a portal configuration shows for each reason (``default``: any)."""

    __tablename__ = "retention_policy"

    id: str = Field(primary_key=True, default_factory=new_id("rpol"))
    account_id: str = Field(foreign_key="account.id", index=True)
    configuration_id: str = Field(foreign_key="portal_configuration.id", unique=True)
    offers: dict[str, str] = json_field()  # reason -> offer id
    comment_required: bool = False
    created: datetime = time_field()
    updated: datetime = time_field()


class Experiment(SQLModel, table=True):
    """An A/B test of offers on one portal configuration."""

    __tablename__ = "retention_experiment"

    id: str = Field(primary_key=True, default_factory=new_id("exp"))
    account_id: str = Field(foreign_key="account.id", index=True)
    configuration_id: str = Field(foreign_key="portal_configuration.id", index=True)
    name: str
    status: ExperimentStatus = enum_field(ExperimentStatus, default=ExperimentStatus.draft,
                                          index=True)
    reasons: list[str] = json_field(default=list)  # empty: every reason
    segment_product_ids: list[str] = json_field(default=list)
    segment_price_ids: list[str] = json_field(default=list)
    tenure_min_days: int | None = None
    tenure_max_days: int | None = None
    holdout_percent: float = 0.0  # a rate, not money
    started_at: datetime | None = time_field(nullable=True)
    stopped_at: datetime | None = time_field(nullable=True)
    shipped_variant_id: str | None = None
    metadata_: dict[str, str] = json_field()
    created: datetime = time_field(index=True)
    updated: datetime = time_field()


class Variant(SQLModel, table=True):
    """One arm of an experiment: an offer per reason, or none at all (control)."""

    __tablename__ = "retention_variant"

    id: str = Field(primary_key=True, default_factory=new_id("var"))
    experiment_id: str = Field(foreign_key="retention_experiment.id", index=True)
    name: str
    weight: int = 1
    offers: dict[str, str] = json_field()  # reason -> offer id; empty: control
    position: int = 0


class Assignment(SQLModel, table=True):
    """A customer's arm of an experiment, fixed at first exposure."""

    __tablename__ = "retention_assignment"
    __table_args__ = (UniqueConstraint("experiment_id", "customer_id"),)

    id: str = Field(primary_key=True, default_factory=new_id("asg"))
    experiment_id: str = Field(foreign_key="retention_experiment.id", index=True)
    customer_id: str = Field(index=True)  # the provider's customer (ledger or Stripe)
    variant_id: str | None = None  # None: held out
    holdout: bool = False
    bucket: float  # the hash bucket in [0, 1) the variant came from
    created: datetime = time_field()


class CancellationFlow(SQLModel, table=True):
    """One customer's way through the cancel pages of one subscription."""

    __tablename__ = "cancellation_flow"

    id: str = Field(primary_key=True, default_factory=new_id("cflow"))
    account_id: str = Field(foreign_key="account.id", index=True)
    # The provider's customer and subscription (ledger or Stripe): no reference.
    customer_id: str = Field(index=True)
    subscription_id: str = Field(index=True)
    configuration_id: str = Field(foreign_key="portal_configuration.id")
    portal_session_id: str = Field(foreign_key="portal_session.id", index=True)
    status: FlowStatus = enum_field(FlowStatus, default=FlowStatus.started, index=True)
    reason: str | None = None
    comment: str | None = None
    offer_id: str | None = Field(default=None, foreign_key="retention_offer.id")
    offer_type: OfferType | None = enum_field(OfferType, nullable=True)
    experiment_id: str | None = None
    variant_id: str | None = None
    holdout: bool = False
    # Set once an offer step was decided (offer or none), so it happens once per flow.
    offer_decided: bool = False
    mrr: int = int64_field(default=0)  # monthly recurring revenue at the start, minor units
    currency: str
    # The offer as it was shown (an OfferView, times as Unix seconds), for the later pages.
    presented: dict[str, Any] | None = json_field(default=None)
    # What accepting applied, for the confirmation page (e.g. {"resumes_at": 1767225600}).
    outcome: dict[str, Any] | None = json_field(default=None)
    accepted_at: datetime | None = time_field(nullable=True, index=True)
    declined_at: datetime | None = time_field(nullable=True)
    completed_at: datetime | None = time_field(nullable=True)
    created: datetime = time_field(index=True)
    updated: datetime = time_field()
