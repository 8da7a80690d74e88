"""The Stripe calls the Stripe-backed provider makes, answered by Portico's API as Stripe
answers them (through the SDK): unsetting a cancel, cancellation details and free days on
update, subscriptions of a test clock, previews with a discount, expanded discounts,
pending invoice items, promotion codes looked up in any case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import stripe

from portal_app.clock import FrozenClock, to_unix

Shop = dict[str, Any]


@pytest.fixture
def shop(stripe_side_client: stripe.StripeClient, clock: FrozenClock) -> Shop:
    """On "Stripe": a monthly €15.00 price and Ada, on a test clock, subscribed to it."""
    v1 = stripe_side_client.v1
    product = v1.products.create({"name": "Pro"})
    price = v1.prices.create({"product": product.id, "currency": "eur", "unit_amount": 1500,
                              "recurring": {"interval": "month"}})
    team = v1.prices.create({"product": product.id, "currency": "eur", "unit_amount": 3000,
                             "recurring": {"interval": "month"}})
    test_clock = v1.test_helpers.test_clocks.create({"frozen_time": to_unix(clock()) or 0})
    ada = v1.customers.create({"email": "ada@example.com", "payment_method": "pm_card_visa",
                               "test_clock": test_clock.id, "invoice_settings": {
                                   "default_payment_method": "pm_card_visa"}})
    bob = v1.customers.create({"email": "bob@example.com", "payment_method": "pm_card_visa",
                               "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    sub = v1.subscriptions.create({"customer": ada.id, "items": [{"price": price.id}]})
    v1.subscriptions.create({"customer": bob.id, "items": [{"price": price.id}]})
    return {"sub": sub, "team": team.id, "clock": test_clock.id, "ada": ada.id}


def test_cancellation_details_are_kept_and_cancel_at_unset_undoes_the_cancel(
        stripe_side_client: stripe.StripeClient, shop: Shop) -> None:
    subs = stripe_side_client.v1.subscriptions
    pending = subs.update(shop["sub"].id, {"cancel_at_period_end": True,
                                           "cancellation_details": {"feedback": "unused",
                                                                    "comment": "Too busy"}})
    assert pending.cancel_at_period_end and pending.cancel_at is not None
    assert (pending.cancellation_details.feedback, pending.cancellation_details.comment) == (
        "unused", "Too busy")

    undone = subs.update(shop["sub"].id, {"cancel_at_period_end": False, "cancel_at": ""})

    assert (undone.cancel_at_period_end, undone.cancel_at) == (False, None)
    kept = subs.update(shop["sub"].id, {"cancellation_details": {"feedback": "low_quality"}})
    assert (kept.cancellation_details.feedback, kept.cancel_at_period_end) == (
        "low_quality", False)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        subs.update(shop["sub"].id, {"cancel_at": 1900000000})
    assert refused.value.param == "cancel_at"


def test_trial_end_on_update_gives_free_time(stripe_side_client: stripe.StripeClient,
                                             shop: Shop) -> None:
    end = shop["sub"]["items"].data[0].current_period_end + 14 * 86400
    sub = stripe_side_client.v1.subscriptions.update(
        shop["sub"].id, {"trial_end": end, "proration_behavior": "none"})
    assert (sub.status, sub.trial_end, sub.billing_cycle_anchor) == ("trialing", end, end)


def test_subscriptions_of_a_test_clock(stripe_side_client: stripe.StripeClient,
                                      shop: Shop) -> None:
    subs = stripe_side_client.v1.subscriptions
    assert [s.id for s in subs.list({"test_clock": shop["clock"]})] == [shop["sub"].id]
    assert len(subs.list({}).data) == 2
    assert subs.list({"test_clock": shop["clock"], "customer": "cus_other"}).data == []


def test_a_preview_with_a_discount_and_the_discounts_expanded(
        stripe_side_client: stripe.StripeClient, shop: Shop) -> None:
    v1 = stripe_side_client.v1
    coupon = v1.coupons.create({"percent_off": 20, "duration": "forever"})
    preview = v1.invoices.create_preview({"subscription": shop["sub"].id,
                                          "discounts": [{"coupon": coupon.id}]})
    assert preview.amount_due == 1200
    assert v1.subscriptions.retrieve(shop["sub"].id).discounts == []  # a preview only

    v1.subscriptions.update(shop["sub"].id, {"discounts": [{"coupon": coupon.id}]})
    sub = v1.subscriptions.retrieve(shop["sub"].id, {"expand": ["discounts"]})

    [discount] = sub.discounts
    assert (discount.object, discount.subscription) == ("discount", shop["sub"].id)
    assert discount.source.coupon.percent_off == 20


def test_pending_invoice_items_of_a_prorated_change(stripe_side_client: stripe.StripeClient,
                                                   shop: Shop, clock: FrozenClock) -> None:
    v1 = stripe_side_client.v1
    assert v1.invoice_items.list({"customer": shop["ada"], "pending": True}).data == []
    clock.set(clock() + timedelta(days=14))
    item = shop["sub"]["items"].data[0].id
    v1.subscriptions.update(shop["sub"].id, {"items": [{"id": item, "price": shop["team"]}],
                                             "proration_behavior": "create_prorations"})

    pending = v1.invoice_items.list({"customer": shop["ada"], "pending": True}).data

    assert sorted(i.amount > 0 for i in pending) == [False, True]
    assert {i.parent.subscription_details.subscription for i in pending} == {shop["sub"].id}
    assert v1.invoice_items.list({"customer": shop["ada"], "pending": False}).data == []


def test_promotion_codes_are_found_in_any_case(stripe_side_client: stripe.StripeClient
                                               ) -> None:
    v1 = stripe_side_client.v1
    coupon = v1.coupons.create({"percent_off": 10})
    promo = v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id},
                                       "code": "SPRING"})
    assert [p.id for p in v1.promotion_codes.list({"code": "spring"})] == [promo.id]
    assert v1.promotion_codes.list({"code": "summer"}).data == []
