"""Contract: changing a subscription: preview and apply (prorated, guarded by the preview's
version), schedule for the period end and release, cancel, reactivate, pause, resume,
discounts and promotion codes, usage so far.

Ada subscribes to Pro (€15.00 a month) at the frozen clock's start, Jan 31 2026 12:00 UTC;
her period ends Feb 28 2026 12:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import stripe

from portal_app.billing.provider import BillingProvider, ItemChange
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import stripe_fields

PERIOD_END = datetime(2026, 2, 28, 12, tzinfo=UTC)


def unix(when: datetime) -> int:
    return int(when.timestamp())


@pytest.fixture
def team(provider: BillingProvider) -> str:
    """A dearer monthly plan, Team at €30.00 a month."""
    product = provider.create_product(name="Team")
    return str(provider.create_price(product=product["id"], currency="eur", unit_amount=3000,
                                     interval="month")["id"])


def item_of(provider: BillingProvider, shop: dict[str, str]) -> dict:
    sub = provider.retrieve_subscription(shop["sub"], customer_id=shop["ada"])
    [item] = sub["items"]["data"]
    return dict(item)


def test_a_preview_is_what_the_update_bills(provider: BillingProvider, shop: dict[str, str],
                                            team: str, clock: FrozenClock) -> None:
    ada, item = shop["ada"], item_of(provider, shop)
    clock.set(clock() + timedelta(days=14))
    change = [ItemChange(id=item["id"], price=team)]

    preview = provider.preview_subscription_update(shop["sub"], customer_id=ada, items=change,
                                                   proration_behavior="always_invoice")

    assert preview["object"] == "subscription_update_preview"
    assert (preview["subscription"], preview["currency"]) == (shop["sub"], "eur")
    assert preview["proration_date"] == unix(clock())
    credit, debit = preview["lines"]
    assert set(credit) == set(stripe_fields(stripe.InvoiceLineItem))
    assert credit["amount"] < 0 < debit["amount"]
    assert credit["pricing"]["price_details"]["price"] == shop["price"]
    assert debit["pricing"]["price_details"]["price"] == team
    assert credit["period"]["end"] == unix(PERIOD_END)
    assert preview["amount_due_now"] == credit["amount"] + debit["amount"]
    assert (preview["next_invoice_date"], preview["next_invoice_amount_due"]) == (
        unix(PERIOD_END), 3000)
    assert preview["scheduled_at"] is None and preview["version"]
    # Nothing changed.
    assert item_of(provider, shop)["price"]["id"] == shop["price"]

    clock.set(clock() + timedelta(hours=1))  # confirmed a little later: prorated as previewed
    sub = provider.update_subscription(
        shop["sub"], customer_id=ada, items=change, proration_behavior="always_invoice",
        proration_date=datetime.fromtimestamp(preview["proration_date"], UTC),
        expected_version=preview["version"])

    assert sub["items"]["data"][0]["price"]["id"] == team
    newest = max(provider.list_invoices(ada), key=lambda i: (i["created"], i["id"]))
    assert newest["amount_due"] == preview["amount_due_now"]


def test_a_stale_or_doubled_confirmation_is_refused(provider: BillingProvider,
                                                    shop: dict[str, str], team: str) -> None:
    ada, item = shop["ada"], item_of(provider, shop)
    change = [ItemChange(id=item["id"], quantity=3)]
    preview = provider.preview_subscription_update(shop["sub"], customer_id=ada, items=change)
    provider.update_subscription(shop["sub"], customer_id=ada, items=change,
                                 expected_version=preview["version"])

    with pytest.raises(InvalidRequest) as refused:
        provider.update_subscription(shop["sub"], customer_id=ada,
                                     items=[ItemChange(id=item["id"], price=team)],
                                     expected_version=preview["version"])

    assert refused.value.code == "subscription_changed"
    assert item_of(provider, shop)["price"]["id"] == shop["price"]
    assert item_of(provider, shop)["quantity"] == 3


def test_no_change_is_refused(provider: BillingProvider, shop: dict[str, str]) -> None:
    item = item_of(provider, shop)
    with pytest.raises(InvalidRequest) as refused:
        provider.preview_subscription_update(shop["sub"], customer_id=shop["ada"],
                                             items=[ItemChange(id=item["id"], quantity=1)])
    assert refused.value.code == "no_change"


def test_changes_of_another_customer_or_account_are_missing(
        provider: BillingProvider, other_provider: BillingProvider, shop: dict[str, str],
        team: str) -> None:
    bob, sub, item = shop["bob"], shop["sub"], item_of(provider, shop)
    change = [ItemChange(id=item["id"], price=team)]
    for act in (
            lambda p, c: p.preview_subscription_update(sub, customer_id=c, items=change),
            lambda p, c: p.update_subscription(sub, customer_id=c, items=change),
            lambda p, c: p.schedule_subscription_update(sub, customer_id=c, items=change),
            lambda p, c: p.reactivate_subscription(sub, customer_id=c),
            lambda p, c: p.pause_subscription(sub, customer_id=c),
            lambda p, c: p.resume_subscription(sub, customer_id=c),
            lambda p, c: p.list_subscription_discounts(sub, customer_id=c),
            lambda p, c: p.list_upcoming_usage(sub, customer_id=c)):
        with pytest.raises(ResourceMissing):
            act(provider, bob)
        with pytest.raises(ResourceMissing):
            act(other_provider, shop["ada"])
    assert item_of(provider, shop)["price"]["id"] == shop["price"]


def test_a_change_scheduled_for_the_period_end(provider: BillingProvider,
                                               shop: dict[str, str], team: str) -> None:
    ada, item = shop["ada"], item_of(provider, shop)
    change = [ItemChange(id=item["id"], price=team)]
    preview = provider.preview_subscription_update(shop["sub"], customer_id=ada, items=change,
                                                   schedule_at_period_end=True)
    assert preview["scheduled_at"] == unix(PERIOD_END) and preview["lines"] == []
    assert preview["next_invoice_amount_due"] == 3000

    schedule = provider.schedule_subscription_update(shop["sub"], customer_id=ada, items=change,
                                                     expected_version=preview["version"])

    assert set(schedule) == set(stripe_fields(stripe.SubscriptionSchedule))
    assert (schedule["status"], schedule["subscription"]) == ("active", shop["sub"])
    assert schedule["phases"][-1]["start_date"] == unix(PERIOD_END)
    assert schedule["phases"][-1]["items"][0]["price"] == team
    sub = provider.retrieve_subscription(shop["sub"], customer_id=ada)
    assert sub["schedule"] == schedule["id"]
    assert sub["items"]["data"][0]["price"]["id"] == shop["price"]  # not before the period end
    assert provider.retrieve_subscription_schedule(schedule["id"], customer_id=ada) == schedule
    with pytest.raises(ResourceMissing):
        provider.retrieve_subscription_schedule(schedule["id"], customer_id=shop["bob"])
    with pytest.raises(InvalidRequest) as refused:
        provider.preview_subscription_update(shop["sub"], customer_id=ada,
                                             items=[ItemChange(id=item["id"], quantity=2)])
    assert refused.value.code == "pending_scheduled_change"

    provider.advance_clock(PERIOD_END + timedelta(hours=1))

    assert item_of(provider, shop)["price"]["id"] == team


def test_releasing_a_schedule_keeps_the_subscription_as_it_is(
        provider: BillingProvider, shop: dict[str, str], team: str) -> None:
    ada, item = shop["ada"], item_of(provider, shop)
    schedule = provider.schedule_subscription_update(
        shop["sub"], customer_id=ada, items=[ItemChange(id=item["id"], price=team)])
    with pytest.raises(ResourceMissing):
        provider.release_subscription_schedule(schedule["id"], customer_id=shop["bob"])

    released = provider.release_subscription_schedule(schedule["id"], customer_id=ada)

    assert released["status"] == "released"
    assert provider.retrieve_subscription(shop["sub"], customer_id=ada)["schedule"] is None
    with pytest.raises(InvalidRequest):
        provider.release_subscription_schedule(schedule["id"], customer_id=ada)
    provider.advance_clock(PERIOD_END + timedelta(hours=1))
    assert item_of(provider, shop)["price"]["id"] == shop["price"]


def test_a_change_made_in_the_portal_is_the_customers_and_a_cancel_drops_it(
        provider: BillingProvider, shop: dict[str, str], team: str) -> None:
    ada, item = shop["ada"], item_of(provider, shop)
    schedule = provider.schedule_subscription_update(
        shop["sub"], customer_id=ada, items=[ItemChange(id=item["id"], price=team)])
    assert "created_by" not in schedule  # Portico's bookkeeping, never rendered

    assert provider.schedule_made_by_portal(schedule["id"], customer_id=ada) is True
    with pytest.raises(ResourceMissing):
        provider.schedule_made_by_portal(schedule["id"], customer_id=shop["bob"])
    provider.cancel_subscription(shop["sub"], customer_id=ada, at_period_end=True)

    assert provider.retrieve_subscription(shop["sub"], customer_id=ada)["schedule"] is None
    provider.reactivate_subscription(shop["sub"], customer_id=ada)
    provider.advance_clock(PERIOD_END + timedelta(hours=1))
    assert item_of(provider, shop)["price"]["id"] == shop["price"]


def test_cancel_at_period_end_and_reactivate(provider: BillingProvider,
                                             shop: dict[str, str]) -> None:
    ada = shop["ada"]
    with pytest.raises(InvalidRequest) as refused:
        provider.reactivate_subscription(shop["sub"], customer_id=ada)
    assert refused.value.code == "no_change"
    provider.cancel_subscription(shop["sub"], customer_id=ada, at_period_end=True)

    sub = provider.reactivate_subscription(shop["sub"], customer_id=ada)

    assert (sub["cancel_at_period_end"], sub["cancel_at"], sub["status"]) == (
        False, None, "active")


def test_cancel_now_with_a_final_invoice(provider: BillingProvider, shop: dict[str, str],
                                         clock: FrozenClock) -> None:
    ada = shop["ada"]
    clock.set(clock() + timedelta(days=14))
    before = len(provider.list_invoices(ada))

    sub = provider.cancel_subscription(shop["sub"], customer_id=ada, prorate=True,
                                       invoice_now=True)

    assert sub["status"] == "canceled"
    final = max(provider.list_invoices(ada), key=lambda i: (i["created"], i["id"]))
    assert len(provider.list_invoices(ada)) == before + 1
    assert final["total"] < 0  # the unused half of the period, credited


def test_pause_and_resume(provider: BillingProvider, shop: dict[str, str],
                          clock: FrozenClock) -> None:
    ada = shop["ada"]
    with pytest.raises(InvalidRequest) as refused:
        provider.resume_subscription(shop["sub"], customer_id=ada)
    assert refused.value.code == "subscription_not_paused"
    resumes_at = clock() + timedelta(weeks=2)

    paused = provider.pause_subscription(shop["sub"], customer_id=ada, behavior="void",
                                         resumes_at=resumes_at)

    assert paused["pause_collection"]["behavior"] == "void"
    assert paused["pause_collection"]["resumes_at"] == unix(resumes_at)
    resumed = provider.resume_subscription(shop["sub"], customer_id=ada)
    assert resumed["pause_collection"] is None and resumed["status"] == "active"


def test_discounts_and_promotion_codes(provider: BillingProvider, shop: dict[str, str],
                                       clock: FrozenClock) -> None:
    ada = shop["ada"]
    assert provider.list_subscription_discounts(shop["sub"], customer_id=ada) == []
    coupon = provider.create_coupon(percent_off=20, duration="forever")
    spring = provider.create_promotion_code(coupon=coupon["id"], code="SPRING")
    provider.create_promotion_code(coupon=coupon["id"], code="OLD",
                                   expires_at=clock() + timedelta(hours=1))

    found = provider.retrieve_promotion_code_by_code("spring")

    assert set(found) == set(stripe_fields(stripe.PromotionCode))
    assert (found["id"], found["code"]) == (spring["id"], "SPRING")
    assert found["promotion"]["coupon"]["id"] == coupon["id"]
    assert provider.retrieve_promotion_code(spring["id"]) == found
    with pytest.raises(ResourceMissing):
        provider.retrieve_promotion_code("promo_missing")
    with pytest.raises(InvalidRequest) as refused:
        provider.retrieve_promotion_code_by_code("NOPE")
    assert refused.value.code == "promotion_code_invalid"
    clock.set(clock() + timedelta(days=1))
    with pytest.raises(InvalidRequest) as refused:
        provider.retrieve_promotion_code_by_code("OLD")
    assert refused.value.code == "coupon_expired"

    preview = provider.preview_subscription_update(shop["sub"], customer_id=ada, items=[],
                                                   promotion_code=found["id"])
    assert preview["lines"] == [] and preview["next_invoice_amount_due"] == 1200
    provider.update_subscription(shop["sub"], customer_id=ada, promotion_code=found["id"])

    [discount] = provider.list_subscription_discounts(shop["sub"], customer_id=ada)
    assert set(discount) == set(stripe_fields(stripe.Discount))
    assert discount["source"]["coupon"]["percent_off"] == 20 and discount["end"] is None


def test_a_licensed_subscription_has_no_usage(provider: BillingProvider,
                                              shop: dict[str, str]) -> None:
    assert provider.list_upcoming_usage(shop["sub"], customer_id=shop["ada"]) == []
