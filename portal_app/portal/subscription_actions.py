"""What a customer may do with a subscription in the portal, and doing it: cancel,
"Don't cancel", pause, resume, drop a scheduled change.

The merchant's ``billing_portal.configuration`` governs the portal the way Stripe's
does: ``features.subscription_update`` (whether plan changes are on at all; the
rules of a change are :mod:`portal_app.portal.plan_changes`), ``features.subscription_cancel``
(mode, proration) and ``features.subscription_pause`` (durations). :class:`Actions`
combines them with the subscription's state (past due, paused, canceling, a change
waiting for the period end — the customer's own, made in the portal, which they may
drop, or the merchant's, which they may not): to change when a button is offered, edit
:meth:`CustomerSubscription.actions`.

Billing is reached only through the session account's billing provider, for the
session's customer only (another customer's subscription is ResourceMissing), and
every change records the portal session and configuration it came from
(``uow.origin``). Objects are the provider's Stripe-shaped dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from portal_app.billing.provider import BillingProvider, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork
from portal_app.periods import shift
from portal_app.portal.models import PortalConfiguration, PortalSession
from portal_app.portal.refusals import PortalRefusal
from portal_app.stripe_shapes import is_metered

# --- Stripe objects as the rules read them ---------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    """One subscription item with its price and product."""

    item: StripeObject
    price: StripeObject
    product: StripeObject

    @property
    def id(self) -> str:
        return str(self.item["id"])

    @property
    def quantity(self) -> int:
        return int(self.item.get("quantity") or 0)

    @property
    def metered(self) -> bool:
        return is_metered(self.price)


@dataclass(frozen=True)
class PendingItem:
    """One item of the change waiting for the period end."""

    price_id: str
    quantity: int
    product_name: str


@dataclass(frozen=True)
class PendingChange:
    """The change a subscription schedule makes at the period end."""

    schedule_id: str
    effective_at: datetime
    items: tuple[PendingItem, ...]


@dataclass(frozen=True)
class Actions:
    """What the customer may do with one subscription; a ``*_reason`` is a refusal code."""

    can_update: bool = False
    update_reason: str = ""  # why "Update plan" is refused although the feature is on
    can_cancel: bool = False
    can_pause: bool = False
    can_resume: bool = False
    can_reactivate: bool = False
    can_cancel_scheduled_change: bool = False


def updatable_items(features: Mapping[str, Any], rows: tuple[ItemRow, ...]) -> bool:
    """Whether the configuration leaves anything of these items to change."""
    update = features.get("subscription_update") or {}
    allowed = set(update.get("default_allowed_updates") or [])
    products = {p["product"]: p for p in update.get("products") or []}
    if "price" in allowed and products:
        return True
    if "quantity" in allowed:
        return any(row.product["id"] in products
                   and products[row.product["id"]]["adjustable_quantity"].get("enabled")
                   and not row.metered
                   for row in rows)
    return "promotion_code" in allowed


@dataclass(frozen=True)
class CustomerSubscription:
    """One of the session customer's subscriptions with all the rules need to know."""

    subscription: StripeObject
    items: tuple[ItemRow, ...]
    pending: PendingChange | None  # the customer's own change (a schedule the portal made)
    features: Mapping[str, Any]
    # A schedule the merchant made manages the subscription (say, an introductory price
    # ending): not the customer's to drop, and no plan change or pause on top of it.
    merchant_schedule: bool = False

    @property
    def id(self) -> str:
        return str(self.subscription["id"])

    @property
    def status(self) -> str:
        return str(self.subscription["status"])

    @property
    def paused(self) -> bool:
        return bool(self.subscription.get("pause_collection")) or self.status == "paused"

    @property
    def canceling(self) -> bool:
        return bool(self.subscription.get("cancel_at_period_end")) or \
            self.subscription.get("cancel_at") is not None

    def actions(self) -> Actions:
        """What the configuration and the subscription's state allow."""
        status = self.status
        if status in ("canceled", "incomplete_expired"):
            return Actions()
        update_on = bool((self.features.get("subscription_update") or {}).get("enabled")) \
            and updatable_items(self.features, self.items)
        reason = ""
        if status in ("past_due", "unpaid"):
            reason = "subscription_past_due"
        elif status == "incomplete":
            reason = "incomplete"
        elif self.canceling:
            reason = "cancel_scheduled"
        elif self.paused:
            reason = "subscription_paused"
        elif self.pending is not None:
            reason = "pending_scheduled_change"
        elif self.merchant_schedule:
            reason = "not_allowed"
        cancel_on = bool((self.features.get("subscription_cancel") or {}).get("enabled"))
        pause_on = bool((self.features.get("subscription_pause") or {}).get("enabled"))
        return Actions(
            can_update=update_on and not reason,
            update_reason=reason if update_on else "",
            can_cancel=cancel_on and not self.canceling and status != "incomplete",
            can_pause=(pause_on and status == "active" and not self.paused
                       and not self.canceling and self.pending is None
                       and not self.merchant_schedule),
            can_resume=self.paused and status != "canceled",
            can_reactivate=self.canceling,
            can_cancel_scheduled_change=self.pending is not None,
        )


# --- reading --------------------------------------------------------------------------


def origin(session: PortalSession) -> dict[str, str]:
    """What events of a portal change record as their origin."""
    return {"portal_session": session.id, "configuration": session.configuration_id}


def portal_features(session: PortalSession, *, uow: UnitOfWork) -> dict[str, Any]:
    """The ``features`` of the session's configuration. Raises ResourceMissing."""
    config = uow.get(PortalConfiguration, session.configuration_id,
                     account_id=session.account_id, label="configuration")
    return config.features or {}


def _open_schedule(provider: BillingProvider, sub: StripeObject, *, customer_id: str
                   ) -> StripeObject | None:
    """The schedule managing the subscription, if it has not ended."""
    if not sub.get("schedule"):
        return None
    schedule = provider.retrieve_subscription_schedule(sub["schedule"],
                                                       customer_id=customer_id)
    return schedule if schedule["status"] in ("not_started", "active") else None


def _pending(provider: BillingProvider, schedule: StripeObject) -> PendingChange | None:
    """The next phase of an open schedule, if any."""
    phases = schedule["phases"]
    current = schedule.get("current_phase")
    # The phases after the current one (a schedule not started yet: after its first).
    since = current["start_date"] if current else (phases[0]["start_date"] if phases else 0)
    upcoming = [phase for phase in phases if phase["start_date"] > since]
    if not upcoming:
        return None
    items = []
    for spec in upcoming[0]["items"]:
        product = provider.retrieve_product(provider.retrieve_price(spec["price"])["product"])
        items.append(PendingItem(price_id=spec["price"], quantity=spec.get("quantity") or 1,
                                 product_name=product["name"]))
    return PendingChange(schedule_id=schedule["id"],
                         effective_at=from_unix(upcoming[0]["start_date"]), items=tuple(items))


def describe_subscription(session: PortalSession, sub: StripeObject, *,
                          provider: BillingProvider, features: Mapping[str, Any]
                          ) -> CustomerSubscription:
    """``sub`` (one of the session customer's) with its products and pending change."""
    rows = tuple(ItemRow(item=item, price=item["price"],
                         product=provider.retrieve_product(item["price"]["product"]))
                 for item in sub["items"]["data"])
    schedule = _open_schedule(provider, sub, customer_id=session.customer_id)
    # Only the customer's own change is theirs to see as pending and to drop.
    mine = schedule is not None and provider.schedule_made_by_portal(
        schedule["id"], customer_id=session.customer_id)
    return CustomerSubscription(
        subscription=sub, items=rows, features=features,
        pending=_pending(provider, schedule) if schedule is not None and mine else None,
        merchant_schedule=schedule is not None and not mine)


def load_subscription(session: PortalSession, subscription_id: str, *, uow: UnitOfWork
                      ) -> CustomerSubscription:
    """The session customer's subscription; anyone else's is ResourceMissing."""
    provider = billing_provider(session.account_id, uow=uow)
    sub = provider.retrieve_subscription(subscription_id, customer_id=session.customer_id)
    return describe_subscription(session, sub, provider=provider,
                                 features=portal_features(session, uow=uow))


def subscription_actions(session: PortalSession, subscription_id: str, *, uow: UnitOfWork
                         ) -> Actions:
    """What the configuration and the subscription's state allow. Raises ResourceMissing."""
    with uow:
        return load_subscription(session, subscription_id, uow=uow).actions()


def allowed_subscription(session: PortalSession, subscription_id: str,
                         action: Literal["can_cancel", "can_pause"], *, uow: UnitOfWork
                         ) -> CustomerSubscription:
    """The subscription, if ``action`` is allowed for it.

    Raises ResourceMissing, InvalidRequest (``not_allowed``).
    """
    subscription = load_subscription(session, subscription_id, uow=uow)
    if not getattr(subscription.actions(), action):
        raise PortalRefusal("not_allowed")
    return subscription


# --- cancel and reactivate ------------------------------------------------------------


@dataclass(frozen=True)
class CancelTerms:
    """How ``features.subscription_cancel`` cancels: now (credited or not) or at period end."""

    immediately: bool
    prorate: bool  # credit the unused time (immediately only)
    invoice_now: bool  # bill the credit and unbilled usage in a final invoice now


def cancel_terms(features: Mapping[str, Any]) -> CancelTerms:
    """The configuration's cancel mode and proration."""
    config = features.get("subscription_cancel") or {}
    immediately = config.get("mode") == "immediately"
    proration = config.get("proration_behavior") or "none"
    return CancelTerms(immediately=immediately,
                       prorate=immediately and proration != "none",
                       invoice_now=immediately and proration == "always_invoice")


def cancel(session: PortalSession, subscription_id: str, *, uow: UnitOfWork) -> StripeObject:
    """Cancel as ``features.subscription_cancel`` says. Raises ResourceMissing, InvalidRequest."""
    with uow:
        terms = cancel_terms(allowed_subscription(session, subscription_id, "can_cancel",
                                                  uow=uow).features)
        uow.origin = origin(session)
        sub = billing_provider(session.account_id, uow=uow).cancel_subscription(
            subscription_id, customer_id=session.customer_id,
            at_period_end=not terms.immediately, prorate=terms.prorate,
            invoice_now=terms.invoice_now)
        uow.commit()
        return sub


def reactivate(session: PortalSession, subscription_id: str, *, uow: UnitOfWork
               ) -> StripeObject:
    """Undo a cancellation at period end ("Don't cancel"). Raises ResourceMissing, InvalidRequest."""
    with uow:
        uow.origin = origin(session)
        sub = billing_provider(session.account_id, uow=uow).reactivate_subscription(
            subscription_id, customer_id=session.customer_id)
        uow.commit()
        return sub


def cancel_scheduled_change(session: PortalSession, subscription_id: str, *, uow: UnitOfWork
                            ) -> StripeObject:
    """Drop the change waiting for the period end. Raises ResourceMissing, InvalidRequest."""
    with uow:
        subscription = load_subscription(session, subscription_id, uow=uow)
        if subscription.pending is None:
            raise PortalRefusal("no_change")
        uow.origin = origin(session)
        provider = billing_provider(session.account_id, uow=uow)
        provider.release_subscription_schedule(subscription.pending.schedule_id,
                                               customer_id=session.customer_id)
        sub = provider.retrieve_subscription(subscription_id, customer_id=session.customer_id)
        uow.commit()
        return sub


# --- pause and resume -----------------------------------------------------------------


@dataclass(frozen=True)
class PauseDuration:
    """One duration the customer may pause for; no interval: until they resume."""

    key: str  # "indefinite" or "<count>-<interval>"
    interval: str | None = None
    count: int = 0

    def resumes_at(self, now: datetime) -> datetime | None:
        """When payments resume if the pause starts ``now``; None: when resumed."""
        return shift(now, self.interval, self.count) if self.interval else None


INDEFINITE = PauseDuration("indefinite")


def pause_durations(features: Mapping[str, Any]) -> list[PauseDuration]:
    """The durations ``features.subscription_pause.duration`` offers (else indefinite)."""
    duration = (features.get("subscription_pause") or {}).get("duration") or {}
    if duration.get("type") != "interval_options" or not duration.get("interval_options"):
        return [INDEFINITE]
    return [PauseDuration(f"{int(o['interval_count'])}-{o['interval']}", str(o["interval"]),
                          int(o["interval_count"]))
            for o in duration["interval_options"]]


def pause(session: PortalSession, subscription_id: str, option: str, *, uow: UnitOfWork
          ) -> StripeObject:
    """Pause collection for a configured duration (``option`` is a :class:`PauseDuration` key).

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        features = allowed_subscription(session, subscription_id, "can_pause", uow=uow).features
        duration = next((d for d in pause_durations(features) if d.key == option), None)
        if duration is None:
            raise PortalRefusal("not_allowed")
        uow.origin = origin(session)
        sub = billing_provider(session.account_id, uow=uow).pause_subscription(
            subscription_id, customer_id=session.customer_id, behavior="void",
            resumes_at=duration.resumes_at(uow.clock()))
        uow.commit()
        return sub


def resume(session: PortalSession, subscription_id: str, *, uow: UnitOfWork) -> StripeObject:
    """Resume a paused subscription now. Raises ResourceMissing, InvalidRequest."""
    with uow:
        uow.origin = origin(session)
        sub = billing_provider(session.account_id, uow=uow).resume_subscription(
            subscription_id, customer_id=session.customer_id)
        uow.commit()
        return sub
