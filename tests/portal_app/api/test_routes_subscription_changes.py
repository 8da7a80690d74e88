"""Issue 4's endpoints through the official SDK: subscription update/cancel/resume,
the invoice preview, subscription schedules and promotion codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from portal_app.clock import FrozenClock, to_unix
from portal_app.stripe_shapes import stripe_fields

HALF = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)


@pytest.fixture
def prices(client: stripe.StripeClient) -> tuple[stripe.Price, stripe.Price]:
    """Pro at 20.00 USD and Business at 50.00 USD a month."""
    pro = client.v1.prices.create({"product_data": {"name": "Pro"}, "currency": "usd",
                                   "unit_amount": 2000, "recurring": {"interval": "month"}})
    business = client.v1.prices.create({"product_data": {"name": "Business"},
                                        "currency": "usd", "unit_amount": 5000,
                                        "recurring": {"interval": "month"}})
    return pro, business


@pytest.fixture
def subscription(client: stripe.StripeClient, prices: tuple[stripe.Price, stripe.Price]
                 ) -> stripe.Subscription:
    customer = client.v1.customers.create({"email": "ada@example.com",
                                           "payment_method": "pm_card_visa"})
    return client.v1.subscriptions.create({"customer": customer.id,
                                           "items": [{"price": prices[0].id}]})


def test_update_items_with_always_invoice_then_preview_matches(
        client: stripe.StripeClient, clock: FrozenClock, subscription: stripe.Subscription,
        prices: tuple[stripe.Price, stripe.Price]) -> None:
    clock.set(HALF)
    item = subscription["items"].data[0]
    preview = client.v1.invoices.create_preview({
        "subscription": subscription.id,
        "subscription_details": {"items": [{"id": item.id, "price": prices[1].id}],
                                 "proration_behavior": "always_invoice",
                                 "proration_date": to_unix(HALF)}})
    assert preview.id.startswith("upcoming_in_")
    assert set(preview.to_dict()) == set(stripe_fields(stripe.Invoice))
    assert preview.status == "draft" and preview.amount_due == 1500
    assert [line.amount for line in preview.lines.data] == [-1000, 2500]
    updated = client.v1.subscriptions.update(subscription.id, {
        "items": [{"id": item.id, "price": prices[1].id}],
        "proration_behavior": "always_invoice", "proration_date": to_unix(HALF)})
    assert updated["items"].data[0].id == item.id
    assert updated["items"].data[0].price.id == prices[1].id
    invoice = client.v1.invoices.retrieve(updated.latest_invoice)
    assert (invoice.amount_paid, invoice.status) == (preview.amount_due, "paid")
    assert [line.amount for line in invoice.lines.data] == [-1000, 2500]
    # The next invoice now: the renewal at the new price.
    upcoming = client.v1.invoices.create_preview({"subscription": subscription.id})
    assert upcoming.amount_due == 5000
    assert upcoming.period_start == to_unix(datetime(2026, 2, 28, 12, tzinfo=UTC))


def test_update_refusals_have_stripe_errors(client: stripe.StripeClient,
                                            subscription: stripe.Subscription) -> None:
    item = subscription["items"].data[0]
    with pytest.raises(stripe.InvalidRequestError) as same:
        client.v1.subscriptions.update(subscription.id, {"items": [{"id": item.id,
                                                                    "quantity": 1}]})
    assert (same.value.http_status, same.value.code) == (400, "no_change")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.subscriptions.update(subscription.id, {"items": [{"id": "si_nope",
                                                                    "quantity": 2}]})
    assert (missing.value.http_status, missing.value.param) == (404, "items[0][id]")
    with pytest.raises(stripe.InvalidRequestError) as behavior:
        client.v1.subscriptions.update(subscription.id, {
            "items": [{"id": item.id, "quantity": 2}], "proration_behavior": "sometimes"})
    assert behavior.value.param == "proration_behavior"


def test_a_declined_upgrade_is_a_card_error_and_changes_nothing(
        client: stripe.StripeClient, clock: FrozenClock, subscription: stripe.Subscription,
        prices: tuple[stripe.Price, stripe.Price]) -> None:
    failing = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                               {"customer": subscription.customer})
    client.v1.customers.update(subscription.customer,
                               {"invoice_settings": {"default_payment_method": failing.id}})
    clock.set(HALF)
    item = subscription["items"].data[0]
    with pytest.raises(stripe.CardError) as declined:
        client.v1.subscriptions.update(subscription.id, {
            "items": [{"id": item.id, "price": prices[1].id}],
            "proration_behavior": "always_invoice"})
    assert declined.value.http_status == 402
    after = client.v1.subscriptions.retrieve(subscription.id)
    assert after["items"].data[0].price.id == prices[0].id
    assert after.latest_invoice == subscription.latest_invoice


def test_cancel_at_period_end_reactivate_pause_resume(
        client: stripe.StripeClient, subscription: stripe.Subscription) -> None:
    canceling = client.v1.subscriptions.update(subscription.id, {"cancel_at_period_end": True})
    assert canceling.cancel_at_period_end is True
    assert canceling.cancel_at == canceling["items"].data[0].current_period_end
    back = client.v1.subscriptions.update(subscription.id, {"cancel_at_period_end": False})
    assert (back.cancel_at_period_end, back.cancel_at) == (False, None)
    resumes = to_unix(datetime(2026, 3, 31, tzinfo=UTC))
    paused = client.v1.subscriptions.update(subscription.id, {
        "pause_collection": {"behavior": "mark_uncollectible", "resumes_at": resumes}})
    assert paused.pause_collection.behavior == "mark_uncollectible"
    assert paused.pause_collection.resumes_at == resumes
    resumed = client.v1.subscriptions.resume(subscription.id)
    assert resumed.pause_collection is None
    client.v1.subscriptions.update(subscription.id, {"pause_collection": {"behavior": "void"}})
    unset = client.v1.subscriptions.update(subscription.id, {"pause_collection": ""})
    assert unset.pause_collection is None
    with pytest.raises(stripe.InvalidRequestError) as not_paused:
        client.v1.subscriptions.resume(subscription.id)
    assert not_paused.value.code == "subscription_not_paused"


def test_delete_with_prorate_and_invoice_now(client: stripe.StripeClient, clock: FrozenClock,
                                             subscription: stripe.Subscription) -> None:
    clock.set(HALF)
    canceled = client.v1.subscriptions.cancel(subscription.id,
                                              {"prorate": True, "invoice_now": True})
    assert canceled.status == "canceled"
    final = client.v1.invoices.retrieve(canceled.latest_invoice)
    assert final.billing_reason == "subscription_cancel"
    assert (final.total, final.amount_due) == (-1000, 0)
    assert client.v1.customers.retrieve(subscription.customer).balance == -1000
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.subscriptions.cancel(subscription.id)
    assert again.value.code == "subscription_canceled"


def test_subscription_schedule_lifecycle(client: stripe.StripeClient,
                                         subscription: stripe.Subscription,
                                         prices: tuple[stripe.Price, stripe.Price]) -> None:
    schedule = client.v1.subscription_schedules.create(
        {"from_subscription": subscription.id})
    assert schedule.id.startswith("sub_sched_")
    assert set(schedule.to_dict()) == set(stripe_fields(stripe.SubscriptionSchedule))
    assert schedule.status == "active" and schedule.subscription == subscription.id
    assert [p.price for p in schedule.phases[0]["items"]] == [prices[0].id]
    assert client.v1.subscriptions.retrieve(subscription.id).schedule == schedule.id
    phase = schedule.phases[0]
    updated = client.v1.subscription_schedules.update(schedule.id, {"phases": [
        {"items": [{"price": prices[0].id}], "start_date": phase.start_date,
         "end_date": phase.end_date},
        {"items": [{"price": prices[1].id, "quantity": 2}], "iterations": 1}]})
    assert [p.start_date for p in updated.phases] == [phase.start_date, phase.end_date]
    with pytest.raises(stripe.InvalidRequestError) as blocked:
        client.v1.subscriptions.update(subscription.id, {
            "items": [{"id": subscription["items"].data[0].id, "quantity": 3}]})
    assert blocked.value.code == "pending_scheduled_change"
    preview = client.v1.invoices.create_preview({"subscription": subscription.id})
    assert preview.amount_due == 10000
    listed = client.v1.subscription_schedules.list({"customer": subscription.customer})
    assert [s.id for s in listed.data] == [schedule.id]
    released = client.v1.subscription_schedules.release(schedule.id)
    assert released.status == "released"
    assert released.released_subscription == subscription.id
    assert client.v1.subscriptions.retrieve(subscription.id).schedule is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_schedules.release(schedule.id)
    second = client.v1.subscription_schedules.create({"from_subscription": subscription.id})
    canceled = client.v1.subscription_schedules.cancel(second.id)
    assert canceled.status == "canceled"
    assert client.v1.subscriptions.retrieve(subscription.id).status == "canceled"


def test_promotion_codes(client: stripe.StripeClient, clock: FrozenClock,
                         subscription: stripe.Subscription) -> None:
    coupon = client.v1.coupons.create({"percent_off": 25, "duration": "forever"})
    promo = client.v1.promotion_codes.create({
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "HALFOFF",
        "max_redemptions": 5, "restrictions": {"first_time_transaction": False}})
    assert promo.id.startswith("promo_")
    assert set(promo.to_dict()) == set(stripe_fields(stripe.PromotionCode))
    assert promo.promotion.coupon.id == coupon.id and promo.active is True
    assert client.v1.promotion_codes.retrieve(promo.id).code == "HALFOFF"
    client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id},
                                      "code": "OTHER"})
    listed = client.v1.promotion_codes.list({"code": "HALFOFF"})
    assert [p.id for p in listed.data] == [promo.id]
    with pytest.raises(stripe.InvalidRequestError) as duplicate:
        client.v1.promotion_codes.create({
            "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "halfoff"})
    assert duplicate.value.code == "resource_already_exists"
    discounted = client.v1.subscriptions.update(subscription.id,
                                                {"discounts": [{"promotion_code": promo.id}]})
    assert len(discounted.discounts) == 1
    assert client.v1.invoices.create_preview({"subscription": subscription.id}).amount_due \
        == 1500
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1
    off = client.v1.promotion_codes.update(promo.id, {"active": False})
    assert off.active is False
    with pytest.raises(stripe.InvalidRequestError) as inactive:
        client.v1.subscriptions.update(subscription.id, {"promotion_code": "HALFOFF"})
    assert inactive.value.code == "promotion_code_invalid"


def test_a_promotion_codes_minimum_amount_is_enforced(
        client: stripe.StripeClient, subscription: stripe.Subscription,
        prices: tuple[stripe.Price, stripe.Price]) -> None:
    """restrictions.minimum_amount: the amount before discount must reach it, on create and
    on update, with Stripe's 400 for a code that does not apply."""
    coupon = client.v1.coupons.create({"percent_off": 50, "duration": "forever"})
    client.v1.promotion_codes.create({
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "BIG50",
        "restrictions": {"minimum_amount": 5000, "minimum_amount_currency": "usd"}})
    for attempt in (
            lambda: client.v1.subscriptions.update(subscription.id,
                                                   {"promotion_code": "BIG50"}),
            lambda: client.v1.subscriptions.update(
                subscription.id, {"discounts": [{"promotion_code": "BIG50"}]}),
            lambda: client.v1.subscriptions.create({
                "customer": subscription.customer, "items": [{"price": prices[0].id}],
                "discounts": [{"promotion_code": "BIG50"}]})):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            attempt()
        assert refused.value.http_status == 400
        assert (refused.value.code, refused.value.param) == ("promotion_code_invalid",
                                                             "promotion_code")
    assert client.v1.subscriptions.retrieve(subscription.id).discounts == []

    business = client.v1.subscriptions.create({
        "customer": subscription.customer, "items": [{"price": prices[1].id}],
        "discounts": [{"promotion_code": "BIG50"}]})

    assert client.v1.invoices.retrieve(business.latest_invoice).amount_due == 2500


def test_send_invoice_upgrade_without_a_payment_method(
        client: stripe.StripeClient, clock: FrozenClock,
        prices: tuple[stripe.Price, stripe.Price]) -> None:
    customer = client.v1.customers.create({"email": "ap@example.com"})
    sub = client.v1.subscriptions.create({"customer": customer.id,
                                          "items": [{"price": prices[0].id}],
                                          "collection_method": "send_invoice",
                                          "days_until_due": 10})
    clock.set(HALF)
    updated = client.v1.subscriptions.update(sub.id, {
        "items": [{"id": sub["items"].data[0].id, "price": prices[1].id}],
        "proration_behavior": "always_invoice"})
    invoice = client.v1.invoices.retrieve(updated.latest_invoice)
    assert (invoice.status, invoice.amount_due) == ("open", 1500)
    assert invoice.due_date == to_unix(HALF) + 10 * 86400


def test_new_objects_have_the_sdks_exact_fields_at_every_depth(
        client: stripe.StripeClient, subscription: stripe.Subscription,
        prices: tuple[stripe.Price, stripe.Price]) -> None:
    from tests.portal_app.api.test_shapes import mismatches

    coupon = client.v1.coupons.create({"percent_off": 10, "duration": "once"})
    promo = client.v1.promotion_codes.create({"promotion": {"type": "coupon",
                                                            "coupon": coupon.id}})
    schedule = client.v1.subscription_schedules.create({"from_subscription": subscription.id})
    preview = client.v1.invoices.create_preview({"subscription": subscription.id})
    problems = (mismatches(stripe.PromotionCode, promo.to_dict(), "promotion_code")
                + mismatches(stripe.SubscriptionSchedule, schedule.to_dict(), "schedule")
                + mismatches(stripe.Invoice, preview.to_dict(), "preview"))
    # restrictions.currency_options is a map keyed by currency (empty here), which the
    # shape checker takes for one CurrencyOptions object.
    assert [p for p in problems if "currency_options" not in p] == []
