"""What the Stripe-backed provider does beyond the contract suite: a merchant's schedule
through a cancel and its undo, the test clock's renewals, Portico's checks before Stripe's.

"Stripe" is the second Portico (tests/stripe_world.py), reached through the SDK.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import stripe

from portal_app.billing.provider import BillingProvider, ItemChange, ItemSpec
from portal_app.billing.providers import billing_provider
from portal_app.billing.providers.stripe import StripeBillingProvider
from portal_app.billing.providers.stripe.subscriptions import (
    CREATED_BY,
    END_BEHAVIOR_BEFORE_CANCEL,
)
from portal_app.clock import FrozenClock, to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest

PERIOD_END = datetime(2026, 2, 28, 12, tzinfo=UTC)
METHODS = sorted(name for name, _ in inspect.getmembers(BillingProvider, inspect.isfunction)
                 if not name.startswith("_"))


@pytest.mark.parametrize("name", METHODS)
def test_each_contract_method_is_implemented_with_its_signature(name: str) -> None:
    declared = inspect.signature(getattr(BillingProvider, name))
    implemented = inspect.signature(getattr(StripeBillingProvider, name))
    assert [(p.name, p.kind, p.default) for p in implemented.parameters.values()] == [
        (p.name, p.kind, p.default) for p in declared.parameters.values()]


@pytest.fixture
def billing(stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
            make_uow: Callable[[], UnitOfWork], clock: FrozenClock) -> StripeBillingProvider:
    """The account's provider, its new customers on a Stripe test clock frozen at now."""
    provider = billing_provider(stripe_backed_account_id, uow=make_uow())
    assert isinstance(provider, StripeBillingProvider)
    provider.test_clock = stripe_side_client.v1.test_helpers.test_clocks.create(
        {"frozen_time": to_unix(clock()) or 0}).id
    return provider


@pytest.fixture
def shop(billing: StripeBillingProvider) -> dict[str, str]:
    """Pro (€15.00) and Team (€30.00) a month; Ada subscribed to Pro since now."""
    product = billing.create_product(name="Pro")
    price = billing.create_price(product=product["id"], currency="eur", unit_amount=1500,
                                 interval="month")
    team = billing.create_price(product=product["id"], currency="eur", unit_amount=3000,
                                interval="month")
    ada = billing.create_customer(email="ada@example.com", payment_method="pm_card_visa")
    sub = billing.create_subscription(customer=ada["id"], items=[ItemSpec(price["id"])])
    return {"price": price["id"], "team": team["id"], "ada": ada["id"], "sub": sub["id"],
            "item": sub["items"]["data"][0]["id"]}


def test_a_merchants_schedule_stays_through_a_cancel_and_its_undo(
        billing: StripeBillingProvider, shop: dict[str, str],
        stripe_side_client: stripe.StripeClient) -> None:
    schedules = stripe_side_client.v1.subscription_schedules
    planned = schedules.create({"from_subscription": shop["sub"]})
    schedules.update(planned.id, {"end_behavior": "release", "phases": [
        {"items": [{"price": shop["price"]}], "start_date": planned.phases[0].start_date,
         "end_date": to_unix(PERIOD_END)},
        {"items": [{"price": shop["team"]}]}]})
    ada = shop["ada"]
    assert billing.schedule_made_by_portal(planned.id, customer_id=ada) is False
    with pytest.raises(InvalidRequest) as refused:
        billing.release_subscription_schedule(planned.id, customer_id=ada)
    assert refused.value.code == "not_allowed"

    billing.cancel_subscription(shop["sub"], customer_id=ada, at_period_end=True,
                                feedback="too_expensive")

    # Stripe refuses cancel_at_period_end under a schedule: the schedule ends it instead.
    kept = schedules.retrieve(planned.id)
    assert (kept.status, kept.end_behavior) == ("active", "cancel")
    assert kept.metadata[END_BEHAVIOR_BEFORE_CANCEL] == "release"
    sub = billing.retrieve_subscription(shop["sub"], customer_id=ada)
    assert sub["schedule"] == planned.id
    assert sub["cancellation_details"]["feedback"] == "too_expensive"

    billing.reactivate_subscription(shop["sub"], customer_id=ada)

    restored = schedules.retrieve(planned.id)
    assert restored.end_behavior == "release"
    assert END_BEHAVIOR_BEFORE_CANCEL not in restored.metadata


def test_the_portals_schedule_is_marked_in_stripe_metadata(
        billing: StripeBillingProvider, shop: dict[str, str],
        stripe_side_client: stripe.StripeClient) -> None:
    schedule = billing.schedule_subscription_update(
        shop["sub"], customer_id=shop["ada"],
        items=[ItemChange(id=shop["item"], price=shop["team"])])
    stored = stripe_side_client.v1.subscription_schedules.retrieve(schedule["id"])
    assert (stored.metadata[CREATED_BY], stored.end_behavior) == ("portal", "release")
    assert [phase.end_date for phase in stored.phases][0] == to_unix(PERIOD_END)


def test_advancing_the_test_clock_counts_each_renewal(
        billing: StripeBillingProvider, shop: dict[str, str], clock: FrozenClock,
        stripe_side_client: stripe.StripeClient) -> None:
    to = datetime(2026, 3, 31, 12, tzinfo=UTC)  # two monthly renewals: Feb 28, Mar 31

    assert billing.advance_clock(to) == 2

    assert clock() == to
    assert stripe_side_client.v1.test_helpers.test_clocks.retrieve(
        billing.test_clock or "").frozen_time == to_unix(to)
    assert len(billing.list_invoices(shop["ada"])) == 3
    assert billing.advance_clock(to) == 0  # already there


def test_only_a_test_clock_advances(stripe_backed_account_id: str,
                                    make_uow: Callable[[], UnitOfWork]) -> None:
    provider = billing_provider(stripe_backed_account_id, uow=make_uow())
    with pytest.raises(InvalidRequest) as refused:
        provider.advance_clock(datetime(2026, 3, 1, tzinfo=UTC))
    assert refused.value.param == "frozen_time"


def test_a_paused_subscription_is_refused_before_stripe_is_asked(
        billing: StripeBillingProvider, shop: dict[str, str]) -> None:
    ada = shop["ada"]
    billing.pause_subscription(shop["sub"], customer_id=ada)
    for change in (
            lambda: billing.preview_subscription_update(
                shop["sub"], customer_id=ada, items=[ItemChange(id=shop["item"], quantity=2)]),
            lambda: billing.schedule_subscription_update(
                shop["sub"], customer_id=ada, items=[ItemChange(id=shop["item"], quantity=2)])):
        with pytest.raises(InvalidRequest) as refused:
            change()
        assert refused.value.code == "subscription_paused"
    with pytest.raises(InvalidRequest) as missing:
        billing.update_subscription(shop["sub"], customer_id=ada,
                                    promotion_code="promo_missing")
    assert missing.value.code == "subscription_paused"


def test_an_expired_promotion_code_is_refused_on_update(
        billing: StripeBillingProvider, shop: dict[str, str], clock: FrozenClock) -> None:
    coupon = billing.create_coupon(percent_off=10, duration="forever")
    promo = billing.create_promotion_code(coupon=coupon["id"], code="SOON",
                                          expires_at=datetime(2026, 2, 1, tzinfo=UTC))
    clock.set(datetime(2026, 2, 2, tzinfo=UTC))
    with pytest.raises(InvalidRequest) as refused:
        billing.update_subscription(shop["sub"], customer_id=shop["ada"],
                                    promotion_code=promo["id"])
    assert refused.value.code == "coupon_expired"
    assert billing.list_subscription_discounts(shop["sub"], customer_id=shop["ada"]) == []
