"""The Stripe-backed provider's subscription changes: preview, update, schedules.

The business rules the ledger enforces itself (a past-due, paused or canceled
subscription is not changed; a change that changes nothing is refused; one pending
scheduled change at a time) are checked here on the retrieved subscription, with the
ledger's stable codes, because Stripe would accept (or word differently) most of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from portal_app.billing.provider import ItemChange, StripeObject
from portal_app.billing.providers.stripe.base import plain, plain_list
from portal_app.billing.providers.stripe.catalog import (
    create_object,
    fetch_promotion_code,
    given,
    redeemable,
)
from portal_app.billing.providers.stripe.subscriptions import (
    BY_PORTAL,
    CREATED_BY,
    ENDED_STATUSES,
    SubscriptionCalls,
    current_period_end,
)
from portal_app.clock import to_unix
from portal_app.errors import InvalidRequest, ResourceMissing

OPEN_SCHEDULE = ("not_started", "active")


class ChangesPart(SubscriptionCalls):
    """The contract's subscription changes: preview, update, schedules, as Stripe calls."""

    # --- the version a preview was made on ----------------------------------------------

    def subscription_version(self, sub: StripeObject) -> str:
        """An opaque token of everything billable about ``sub``: the subscription and its
        pending invoice items (`GET /v1/invoiceitems` with ``pending=true``)."""
        params: Any = {"customer": sub["customer"], "pending": True, "limit": 100}
        pending = sorted(item.id for item in self.calls.read(lambda options: list(
            self.v1.invoice_items.list(params, options=options).auto_paging_iter()))
            if subscription_of(plain(item)) == sub["id"])
        state = {"subscription": sub, "pending": pending}
        digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:24]

    def changeable(self, subscription_id: str, *, customer_id: str,
                   expected_version: str | None) -> tuple[StripeObject, str]:
        """The customer's subscription and its version, if it may be changed now.

        Raises ResourceMissing, InvalidRequest (``subscription_changed``,
        ``subscription_canceled``, ``subscription_past_due``, ``subscription_paused``,
        ``pending_scheduled_change``).
        """
        sub = self.stripe_subscription(subscription_id, customer_id=customer_id)
        version = self.subscription_version(sub)
        if expected_version is not None and expected_version != version:
            raise InvalidRequest("The subscription changed since this change was previewed; "
                                 "review it again.", code="subscription_changed")
        if sub["status"] in ENDED_STATUSES:
            raise InvalidRequest("This subscription is canceled and cannot be changed.",
                                 code="subscription_canceled")
        if sub["status"] in ("past_due", "unpaid", "incomplete"):
            raise InvalidRequest(
                "This subscription has an unpaid invoice: pay it or update the payment method, "
                "or cancel the subscription.", code="subscription_past_due")
        if sub.get("pause_collection"):
            raise InvalidRequest("Collection on this subscription is paused: resume it before "
                                 "changing the plan.", code="subscription_paused")
        if sub.get("schedule"):
            raise InvalidRequest(
                "This subscription has a scheduled change; cancel it before changing again.",
                code="pending_scheduled_change")
        return sub, version

    def discount_params(self, coupon: str | None, promotion_code: str | None
                        ) -> list[dict[str, str]] | None:
        """Stripe's ``discounts`` of a change; a promotion code must be redeemable now.

        Raises ResourceMissing, InvalidRequest (``promotion_code_invalid``,
        ``coupon_expired``).
        """
        if promotion_code:
            promo = fetch_promotion_code(self.calls, promotion_code)
            if not promo.get("active"):
                raise InvalidRequest("This promotion code is not valid.",
                                     param="promotion_code", code="promotion_code_invalid")
            if not redeemable(promo, now=to_unix(self.clock())):
                raise InvalidRequest("This promotion code has expired.",
                                     param="promotion_code", code="coupon_expired")
            return [{"promotion_code": promotion_code}]
        return [{"coupon": coupon}] if coupon else None

    # --- preview and update ---------------------------------------------------------------

    def preview_subscription_update(self, subscription_id: str, *, customer_id: str,
                                    items: Sequence[ItemChange],
                                    proration_behavior: str = "create_prorations",
                                    proration_date: datetime | None = None,
                                    coupon: str | None = None,
                                    promotion_code: str | None = None,
                                    schedule_at_period_end: bool = False) -> StripeObject:
        sub, version = self.changeable(subscription_id, customer_id=customer_id,
                                       expected_version=None)
        refuse_no_change(sub, items, discounted=bool(coupon or promotion_code))
        at = to_unix(proration_date or self.clock())
        period_end = current_period_end(sub)
        preview: dict[str, Any] = {
            "object": "subscription_update_preview", "subscription": sub["id"],
            "currency": sub["currency"], "proration_date": at, "lines": [],
            "total_discount": 0, "amount_due_now": 0, "next_invoice_date": period_end,
            "next_invoice_amount_due": 0, "scheduled_at": None, "version": version}
        if schedule_at_period_end:
            if coupon or promotion_code:
                raise InvalidRequest("Discounts apply now; they cannot be scheduled.",
                                     param="promotion_code" if promotion_code else "coupon")
            # The renewal after the change, which is what the schedule's next phase bills
            # (Stripe's schedule_details[phases] preview gives the same invoice).
            renewal = self.invoice_preview(sub["id"], items, proration_behavior="none")
            return {**preview, "scheduled_at": period_end,
                    "next_invoice_amount_due": renewal["amount_due"]}
        discounts = self.discount_params(coupon, promotion_code)
        first = self.invoice_preview(sub["id"], items, proration_behavior=proration_behavior,
                                     proration_date=at, discounts=discounts)
        lines = invoice_lines(first)
        if proration_behavior == "always_invoice":
            # That preview is the invoice charged now; the renewal comes after it.
            renewal = self.invoice_preview(sub["id"], items, proration_behavior="none",
                                           proration_date=at, discounts=discounts)
            preview.update(amount_due_now=first["amount_due"],
                           next_invoice_amount_due=renewal["amount_due"])
        else:
            lines = [line for line in lines if is_proration(line)]
            preview["next_invoice_amount_due"] = first["amount_due"]
        preview.update(lines=lines, total_discount=sum(
            amount["amount"] for line in lines for amount in line.get("discount_amounts") or []))
        return preview

    def invoice_preview(self, subscription_id: str, items: Sequence[ItemChange], *,
                        proration_behavior: str, proration_date: int | None = None,
                        discounts: list[dict[str, str]] | None = None) -> StripeObject:
        """`POST /v1/invoices/create_preview` of the subscription with the change."""
        details = given(items=item_params(items) or None,
                        proration_behavior=proration_behavior, proration_date=proration_date)
        params: Any = given(subscription=subscription_id, subscription_details=details,
                            discounts=discounts)
        return plain(self.calls.read(
            lambda options: self.v1.invoices.create_preview(params, options=options)))

    def update_subscription(self, subscription_id: str, *, customer_id: str,
                            items: Sequence[ItemChange] = (),
                            proration_behavior: str = "create_prorations",
                            proration_date: datetime | None = None,
                            coupon: str | None = None, promotion_code: str | None = None,
                            expected_version: str | None = None) -> StripeObject:
        sub, version = self.changeable(subscription_id, customer_id=customer_id,
                                       expected_version=expected_version)
        refuse_no_change(sub, items, discounted=bool(coupon or promotion_code))
        params: Any = given(
            items=item_params(items) or None, proration_behavior=proration_behavior,
            proration_date=to_unix(proration_date),
            discounts=self.discount_params(coupon, promotion_code),
            # A declined always_invoice charge changes nothing.
            payment_behavior="error_if_incomplete")
        what = f"subscriptions.update:{subscription_id}"
        if expected_version is None:
            return self.update_stripe_subscription(subscription_id, params)
        # Keyed by the version confirmed: a doubled confirm applies once.
        key = "portico-" + hashlib.sha256(
            f"{self.account_id}\n{what}\n{version}".encode()).hexdigest()[:48]
        return plain(self.calls.write(
            lambda options: self.v1.subscriptions.update(
                subscription_id, params, options={**options, "idempotency_key": key}),
            what=what, params=params))

    # --- schedules ------------------------------------------------------------------------

    def schedule_subscription_update(self, subscription_id: str, *, customer_id: str,
                                     items: Sequence[ItemChange],
                                     expected_version: str | None = None) -> StripeObject:
        sub, _ = self.changeable(subscription_id, customer_id=customer_id,
                                 expected_version=expected_version)
        refuse_no_change(sub, items, discounted=False)
        current = [{"price": item["price"]["id"], "quantity": item["quantity"]}
                   for item in sub["items"]["data"]]
        schedule = create_object(self.calls, self.v1.subscription_schedules,
                                 {"from_subscription": subscription_id},
                                 what="subscription_schedules.create")
        phases = [{"items": current, "start_date": schedule["phases"][0]["start_date"],
                   "end_date": current_period_end(sub)},
                  {"items": items_after(sub, items)}]
        try:
            return self.update_stripe_schedule(schedule["id"], {
                "phases": phases, "end_behavior": "release",
                "metadata": {CREATED_BY: BY_PORTAL}})
        except (InvalidRequest, ResourceMissing):
            # Leave no half-made schedule managing the subscription.
            self.release_stripe_schedule(schedule["id"])
            raise

    def retrieve_subscription_schedule(self, schedule_id: str, *, customer_id: str
                                       ) -> StripeObject:
        return self.stripe_schedule(schedule_id, customer_id=customer_id)

    def schedule_made_by_portal(self, schedule_id: str, *, customer_id: str) -> bool:
        schedule = self.stripe_schedule(schedule_id, customer_id=customer_id)
        return bool((schedule.get("metadata") or {}).get(CREATED_BY) == BY_PORTAL)

    def release_subscription_schedule(self, schedule_id: str, *, customer_id: str
                                      ) -> StripeObject:
        schedule = self.stripe_schedule(schedule_id, customer_id=customer_id)
        if schedule["status"] not in OPEN_SCHEDULE:
            raise InvalidRequest(
                f"You cannot release a subscription schedule that is currently in the "
                f"`{schedule['status']}` status.", param="schedule")
        if (schedule.get("metadata") or {}).get(CREATED_BY) != BY_PORTAL:
            raise InvalidRequest("This change was planned by the merchant.",
                                 code="not_allowed")
        return self.release_stripe_schedule(schedule_id)


# --- the items of a change ------------------------------------------------------------------


def item_params(items: Sequence[ItemChange]) -> list[dict[str, Any]]:
    """Stripe's ``items[]`` of an update (or a preview's ``subscription_details``)."""
    return [given(id=item.id, price=item.price, quantity=item.quantity,
                  deleted=True if item.deleted else None) for item in items]


def items_after(sub: StripeObject, items: Sequence[ItemChange]) -> list[dict[str, Any]]:
    """Every item of the subscription once ``items`` applied, as a schedule phase's."""
    changes = {item.id: item for item in items if item.id is not None}
    after = []
    for current in sub["items"]["data"]:
        change = changes.get(current["id"])
        if change is not None and change.deleted:
            continue
        after.append({
            "price": (change.price if change and change.price else current["price"]["id"]),
            "quantity": (change.quantity if change and change.quantity is not None
                         else current["quantity"])})
    after += [{"price": item.price, "quantity": 1 if item.quantity is None else item.quantity}
              for item in items if item.id is None]
    return after


def refuse_no_change(sub: StripeObject, items: Sequence[ItemChange], *, discounted: bool
                     ) -> None:
    """InvalidRequest ``no_change`` when ``items`` would leave the subscription as it is."""
    if discounted:
        return
    current = {item["id"]: item for item in sub["items"]["data"]}
    for index, change in enumerate(items):
        if change.id is not None and change.id not in current:
            raise ResourceMissing(f"No such subscription item: '{change.id}'",
                                  param=f"items[{index}][id]")
    if not any(change.id is None or change.deleted
               or (change.price is not None
                   and change.price != current[change.id]["price"]["id"])
               or (change.quantity is not None
                   and change.quantity != current[change.id]["quantity"])
               for change in items):
        raise InvalidRequest("This change would leave the subscription as it is.",
                             code="no_change", param="items")


def invoice_lines(invoice: StripeObject) -> list[StripeObject]:
    """An invoice's (preview's) line items, as plain dicts."""
    lines = (invoice.get("lines") or {}).get("data") or []
    return plain_list(lines) if lines and not isinstance(lines[0], dict) else list(lines)


def is_proration(line: StripeObject) -> bool:
    """Whether an invoice line is a proration (Stripe: under ``parent``)."""
    parent = line.get("parent") or {}
    for key in ("subscription_item_details", "invoice_item_details"):
        if (parent.get(key) or {}).get("proration"):
            return True
    return False


def subscription_of(item: StripeObject) -> str | None:
    """The subscription a pending invoice item belongs to."""
    details = (item.get("parent") or {}).get("subscription_details") or {}
    subscription = details.get("subscription")
    return subscription if isinstance(subscription, str) else None
