"""The Stripe-backed provider's subscriptions: create, list, retrieve, cancel, reactivate,
pause, resume, discounts, usage, free days; and the Stripe test clock."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import stripe

from portal_app.billing.provider import ItemSpec, StripeObject
from portal_app.billing.providers.stripe.base import (
    StripeProviderBase,
    owned_by,
    plain,
    plain_list,
)
from portal_app.billing.providers.stripe.catalog import create_object, given, update_object
from portal_app.clock import FrozenClock, as_utc, to_unix
from portal_app.errors import BillingUnavailable, InvalidRequest
from portal_app.stripe_shapes import complete

# Written into a subscription schedule's metadata (Stripe records no author; the contract's
# ``schedule_made_by_portal``): who made it, and the end_behavior a cancel at period end
# replaced (Stripe refuses ``cancel_at_period_end`` while a schedule manages the
# subscription, so the schedule itself is set to cancel, and put back when undone).
CREATED_BY = "portico_created_by"
BY_PORTAL = "portal"
END_BEHAVIOR_BEFORE_CANCEL = "portico_end_behavior_before_cancel"

ENDED_STATUSES = ("canceled", "incomplete_expired")
# How long to wait for a test clock to finish advancing (Stripe advances in the background).
CLOCK_READY_TIMEOUT = 60.0
CLOCK_POLL_INTERVAL = 0.25


class SubscriptionCalls(StripeProviderBase):
    """The Stripe calls on subscriptions and schedules both their parts make."""

    def stripe_subscription(self, subscription_id: str, *, customer_id: str | None,
                            expand: Sequence[str] = ()) -> StripeObject:
        """The subscription as Stripe has it, if it is ``customer_id``'s (None: any).

        Raises ResourceMissing (another customer's subscription too).
        """
        params: Any = {"expand": list(expand)} if expand else None
        sub = plain(self.calls.read(lambda options: self.v1.subscriptions.retrieve(
            subscription_id, params, options=options)))
        return owned_by(sub, customer_id, label="subscription")

    def stripe_schedule(self, schedule_id: str, *, customer_id: str) -> StripeObject:
        """One of the customer's subscription schedules. Raises ResourceMissing."""
        schedule = plain(self.calls.read(lambda options: self.v1.subscription_schedules
                                         .retrieve(schedule_id, options=options)))
        return owned_by(schedule, customer_id, label="subscription_schedule")

    def update_stripe_subscription(self, subscription_id: str, params: Mapping[str, Any]
                                   ) -> StripeObject:
        """``subscriptions.update`` with ``params`` (one idempotent write)."""
        return update_object(self.calls, self.v1.subscriptions, subscription_id, dict(params),
                             what="subscriptions.update")

    def update_stripe_schedule(self, schedule_id: str, params: Mapping[str, Any]
                               ) -> StripeObject:
        """``subscription_schedules.update`` with ``params`` (one idempotent write)."""
        return update_object(self.calls, self.v1.subscription_schedules, schedule_id,
                             dict(params), what="subscription_schedules.update")

    def release_stripe_schedule(self, schedule_id: str) -> StripeObject:
        """``subscription_schedules.release`` (one idempotent write)."""
        return plain(self.calls.write(
            lambda options: self.v1.subscription_schedules.release(schedule_id,
                                                                   options=options),
            what=f"subscription_schedules.release:{schedule_id}", params={}))


class SubscriptionsPart(SubscriptionCalls):
    """The contract's subscriptions, discounts, usage, free days and the test clock, as
    Stripe calls."""

    # --- create, list, retrieve ---------------------------------------------------------

    def create_subscription(self, *, customer: str, items: Sequence[ItemSpec],
                            default_payment_method: str | None = None,
                            trial_period_days: int | None = None,
                            coupon: str | None = None,
                            cancel_at_period_end: bool = False,
                            metadata: Mapping[str, str] | None = None) -> StripeObject:
        params: Any = given(
            customer=customer,
            items=[{"price": item.price, "quantity": item.quantity} for item in items],
            default_payment_method=default_payment_method,
            trial_period_days=trial_period_days,
            discounts=[{"coupon": coupon}] if coupon else None,
            cancel_at_period_end=cancel_at_period_end or None,
            metadata=dict(metadata) if metadata else None,
            # A declined first charge leaves no subscription behind.
            payment_behavior="error_if_incomplete")
        return create_object(self.calls, self.v1.subscriptions, params,
                             what="subscriptions.create")

    def list_subscriptions(self, customer_id: str, *, status: str | None = None
                           ) -> list[StripeObject]:
        self.calls.read(lambda options: self.v1.customers.retrieve(customer_id,
                                                                   options=options))
        params: Any = given(customer=customer_id, status=status, limit=100)
        return plain_list(self.calls.read(
            lambda options: list(self.v1.subscriptions.list(params, options=options)
                                 .auto_paging_iter())))

    def retrieve_subscription(self, subscription_id: str, *, customer_id: str | None
                              ) -> StripeObject:
        return self.stripe_subscription(subscription_id, customer_id=customer_id)

    # --- cancel and undo --------------------------------------------------------------

    def cancel_subscription(self, subscription_id: str, *, customer_id: str,
                            at_period_end: bool = False, feedback: str | None = None,
                            comment: str | None = None, prorate: bool = False,
                            invoice_now: bool = False) -> StripeObject:
        sub = self.stripe_subscription(subscription_id, customer_id=customer_id)
        if sub["status"] in ENDED_STATUSES:
            raise InvalidRequest("This subscription is already canceled.",
                                 code="subscription_canceled")
        details = given(feedback=feedback, comment=comment)
        if not at_period_end:
            params: Any = given(cancellation_details=details or None,
                                prorate=prorate or None, invoice_now=invoice_now or None)
            return plain(self.calls.write(
                lambda options: self.v1.subscriptions.cancel(subscription_id, params,
                                                             options=options),
                what=f"subscriptions.cancel:{subscription_id}", params=params))
        if sub.get("schedule"):
            schedule = self.stripe_schedule(sub["schedule"], customer_id=customer_id)
            if (schedule.get("metadata") or {}).get(CREATED_BY) == BY_PORTAL:
                # The customer's own pending change goes with their cancel.
                self.release_stripe_schedule(schedule["id"])
            else:
                # The merchant's plan stays, ending the subscription (undone on reactivate).
                self.update_stripe_schedule(schedule["id"], {
                    "end_behavior": "cancel",
                    "metadata": {END_BEHAVIOR_BEFORE_CANCEL: schedule["end_behavior"]}})
                if details:
                    return self.update_stripe_subscription(
                        subscription_id, {"cancellation_details": details})
                return self.stripe_subscription(subscription_id, customer_id=customer_id)
        return self.update_stripe_subscription(subscription_id, given(
            cancel_at_period_end=True, cancellation_details=details or None))

    def reactivate_subscription(self, subscription_id: str, *, customer_id: str
                                ) -> StripeObject:
        sub = self.stripe_subscription(subscription_id, customer_id=customer_id)
        if sub["status"] in ENDED_STATUSES:
            raise InvalidRequest("This subscription is canceled and cannot be reactivated.",
                                 code="subscription_canceled")
        if sub.get("schedule"):
            schedule = self.stripe_schedule(sub["schedule"], customer_id=customer_id)
            before = (schedule.get("metadata") or {}).get(END_BEHAVIOR_BEFORE_CANCEL)
            if before:
                self.update_stripe_schedule(schedule["id"], {
                    "end_behavior": before, "metadata": {END_BEHAVIOR_BEFORE_CANCEL: ""}})
                return self.stripe_subscription(subscription_id, customer_id=customer_id)
        if not sub.get("cancel_at_period_end") and sub.get("cancel_at") is None:
            raise InvalidRequest("This subscription is not set to cancel.", code="no_change")
        return self.update_stripe_subscription(
            subscription_id, {"cancel_at_period_end": False, "cancel_at": ""})

    # --- pause and resume ---------------------------------------------------------------

    def pause_subscription(self, subscription_id: str, *, customer_id: str,
                           behavior: str = "void", resumes_at: datetime | None = None
                           ) -> StripeObject:
        sub = self.stripe_subscription(subscription_id, customer_id=customer_id)
        if sub["status"] in ENDED_STATUSES:
            raise InvalidRequest("This subscription is canceled.", code="subscription_canceled")
        if sub["status"] in ("past_due", "unpaid", "incomplete"):
            raise InvalidRequest("This subscription has an unpaid invoice: pay it first.",
                                 code="subscription_past_due")
        return self.update_stripe_subscription(subscription_id, {
            "pause_collection": given(behavior=behavior, resumes_at=to_unix(resumes_at))})

    def resume_subscription(self, subscription_id: str, *, customer_id: str) -> StripeObject:
        sub = self.stripe_subscription(subscription_id, customer_id=customer_id)
        if sub["status"] in ENDED_STATUSES:
            raise InvalidRequest("This subscription is canceled.", code="subscription_canceled")
        if sub["status"] == "paused":
            return plain(self.calls.write(
                lambda options: self.v1.subscriptions.resume(subscription_id, options=options),
                what=f"subscriptions.resume:{subscription_id}", params={}))
        if not sub.get("pause_collection"):
            raise InvalidRequest("This subscription is not paused.",
                                 code="subscription_not_paused")
        return self.update_stripe_subscription(subscription_id, {"pause_collection": ""})

    # --- discounts, usage, free days ----------------------------------------------------

    def list_subscription_discounts(self, subscription_id: str, *, customer_id: str
                                    ) -> list[StripeObject]:
        sub = self.stripe_subscription(subscription_id, customer_id=customer_id,
                                       expand=["discounts", "discounts.source.coupon"])
        discounts = [plain_discount(d) for d in sub.get("discounts") or []
                     if isinstance(d, dict)]
        return sorted(discounts, key=lambda d: (d.get("start") or 0, d["id"]), reverse=True)

    def list_upcoming_usage(self, subscription_id: str, *, customer_id: str
                            ) -> list[StripeObject]:
        sub = self.stripe_subscription(subscription_id, customer_id=customer_id)
        metered = [item["id"] for item in (sub.get("items") or {}).get("data") or []
                   if ((item.get("price") or {}).get("recurring") or {}).get("usage_type")
                   == "metered"]
        if not metered:
            return []
        params: Any = {"subscription": subscription_id}
        preview = plain(self.calls.read(  # a preview changes nothing: no key needed
            lambda options: self.v1.invoices.create_preview(params, options=options)))
        lines = [plain(line) if not isinstance(line, dict) else line
                 for line in (preview.get("lines") or {}).get("data") or []]
        by_item = {line_item(line): line for line in lines}
        return [by_item[item] for item in metered if item in by_item]

    def extend_trial(self, subscription_id: str, *, customer_id: str, trial_end: datetime
                     ) -> StripeObject:
        sub = self.stripe_subscription(subscription_id, customer_id=customer_id)
        if sub["status"] not in ("active", "trialing") or sub.get("cancel_at_period_end"):
            code = ("subscription_past_due" if sub["status"] == "past_due"
                    else "subscription_canceled")
            raise InvalidRequest("Only a live subscription can get a free period.", code=code)
        if sub.get("pause_collection"):
            raise InvalidRequest("A paused subscription cannot get a free period.",
                                 code="subscription_paused")
        period_end = current_period_end(sub)
        end = to_unix(as_utc(trial_end))
        assert end is not None
        if period_end is not None and end <= period_end:
            raise InvalidRequest("trial_end must be after the end of the current period.",
                                 param="trial_end")
        return self.update_stripe_subscription(
            subscription_id, {"trial_end": end, "proration_behavior": "none"})

    # --- the test clock -----------------------------------------------------------------

    def advance_clock(self, to: datetime) -> int:
        """Advance the provider's Stripe test clock to ``to`` and wait until it is ready;
        the provider's own clock follows when it is a :class:`FrozenClock`.

        Returns the renewals that ran: for each subscription of the clock's customers,
        the cycle invoices dated in the advance, and its end if it ended then.
        Raises InvalidRequest (no test clock, or backwards).
        """
        if self.test_clock is None:
            raise InvalidRequest("Only a test clock can be advanced.", param="frozen_time")
        if isinstance(self.clock, FrozenClock) and to < self.clock():
            raise InvalidRequest("A test clock only moves forward.", param="frozen_time")
        test_clock = self.test_clock
        start = self.calls.read(lambda options: self.v1.test_helpers.test_clocks.retrieve(
            test_clock, options=options)).frozen_time
        target = to_unix(as_utc(to))
        assert target is not None
        count = 0
        if target > start:
            live: Any = {"test_clock": test_clock, "limit": 100}
            subs = [sub.id for sub in self.calls.read(lambda options: list(
                self.v1.subscriptions.list(live, options=options).auto_paging_iter()))]
            advance: Any = {"frozen_time": target}
            self.calls.write(
                lambda options: self.v1.test_helpers.test_clocks.advance(
                    test_clock, advance, options=options),
                what=f"test_helpers.test_clocks.advance:{test_clock}", params=advance)
            self.wait_until_ready(test_clock)
            count = sum(self.renewals_of(sub_id, after=start, until=target) for sub_id in subs)
        if isinstance(self.clock, FrozenClock):
            self.clock.set(to)
        return count

    def wait_until_ready(self, test_clock: str) -> None:
        """Poll the test clock until Stripe has finished advancing it."""
        deadline = time.monotonic() + CLOCK_READY_TIMEOUT
        while self.calls.read(lambda options: self.v1.test_helpers.test_clocks.retrieve(
                test_clock, options=options)).status != "ready":
            if time.monotonic() > deadline:
                raise BillingUnavailable("The test clock is still advancing; try again "
                                         "in a moment.")
            time.sleep(CLOCK_POLL_INTERVAL)

    def renewals_of(self, subscription_id: str, *, after: int, until: int) -> int:
        """The period ends a test clock's advance crossed for one subscription."""
        params: Any = {"subscription": subscription_id, "limit": 100}
        invoices = self.calls.read(lambda options: list(
            self.v1.invoices.list(params, options=options).auto_paging_iter()))
        cycles = sum(1 for invoice in invoices
                     if invoice.billing_reason == "subscription_cycle"
                     and after < invoice.created <= until)
        sub = self.stripe_subscription(subscription_id, customer_id=None)
        ended = sub.get("ended_at")
        return cycles + (1 if ended is not None and after < ended <= until else 0)


def current_period_end(sub: StripeObject) -> int | None:
    """The end of the subscription's current period (its items', as Stripe now puts it)."""
    ends = [item.get("current_period_end")
            for item in (sub.get("items") or {}).get("data") or []]
    known = [end for end in ends if end is not None]
    return min(known) if known else sub.get("current_period_end")


def line_item(line: StripeObject) -> str | None:
    """The subscription item an invoice line bills (None for other lines)."""
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or {}
    return details.get("subscription_item")


def plain_discount(discount: StripeObject) -> StripeObject:
    """An expanded discount, every field of Stripe's present (its coupon's too)."""
    source = dict(discount.get("source") or {})
    if isinstance(source.get("coupon"), dict):
        source["coupon"] = complete(stripe.Coupon, source["coupon"])
    return complete(stripe.Discount, {**discount, "source": source})
