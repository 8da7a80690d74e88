"""Offers: validation per type, and each eligibility rule on its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from portal_app.billing.models import Coupon, Price
from portal_app.billing.provider import StripeObject
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest
from portal_app.retention import flows, offers, policies
from portal_app.retention.models import Offer
from tests.portal_app.retention.conftest import Shop


def offer(shop: Shop, type: str = "trial_extension", **kw: Any) -> Offer:
    defaults: dict[str, Any] = {
        "trial_extension": {"extension_days": 7},
        "contact": {"contact_url": "https://acme.test/talk"},
        "pause": {"pause_interval": "month", "pause_interval_count": 1},
        "price_change": {"price": shop.basic["id"]},
    }[type] if type in ("trial_extension", "contact", "pause", "price_change") else {}
    return offers.create_offer(account_id=shop.account_id, uow=shop.make_uow(), type=type,
                               name="Offer", **{**defaults, **kw})


def rule(shop: Shop, o: Offer, sub: StripeObject, reason: str | None = "too_expensive"
         ) -> str | None:
    with shop.make_uow() as uow:
        o = uow.session.get(Offer, o.id)
        return offers.check_eligibility(o, subscription=shop.subscription(sub["id"]),
                                        reason=reason, uow=uow)


def accept(shop: Shop, o: Offer, customer: str, sub: StripeObject) -> None:
    policies.set_policy(shop.config.id, account_id=shop.account_id, uow=shop.make_uow(),
                        offers={"default": o.id})
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    shown = flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    assert shown is not None and shown.id == o.id
    flows.accept_offer(session, flow.id, o.id, uow=shop.make_uow())


def test_eligible_by_default(shop: Shop) -> None:
    sub = shop.subscribe(shop.customer())
    o = offer(shop)
    assert rule(shop, o, sub) is None
    assert [x.id for x in offers.eligible_offers(
        account_id=shop.account_id, subscription_id=sub["id"], reason="unused",
        uow=shop.make_uow())] == [o.id]


def test_inactive(shop: Shop) -> None:
    sub = shop.subscribe(shop.customer())
    assert rule(shop, offer(shop, active=False), sub) == "offer_inactive"


def test_reasons(shop: Shop) -> None:
    sub = shop.subscribe(shop.customer())
    o = offer(shop, reasons=["unused"])
    assert rule(shop, o, sub, "too_expensive") == "reason_not_targeted"
    assert rule(shop, o, sub, None) == "reason_not_targeted"
    assert rule(shop, o, sub, "unused") is None


def test_products_and_prices(shop: Shop) -> None:
    sub = shop.subscribe(shop.customer())
    other = shop.billing.create_price(product=shop.billing.create_product(name="Other")["id"],
                                      currency="usd", unit_amount=100, interval="month")
    assert rule(shop, offer(shop, products=[other["product"]]), sub) == "product_not_targeted"
    assert rule(shop, offer(shop, products=[shop.pro["product"]]), sub) is None
    assert rule(shop, offer(shop, prices=[shop.basic["id"]]), sub) == "price_not_targeted"
    assert rule(shop, offer(shop, prices=[shop.pro["id"]]), sub) is None


def test_minimum_subscription_age(shop: Shop, clock: FrozenClock) -> None:
    sub = shop.subscribe(shop.customer())
    o = offer(shop, minimum_subscription_age_days=10)
    assert rule(shop, o, sub) == "subscription_too_new"
    clock.set(clock() + timedelta(days=10))
    assert rule(shop, o, sub) is None


def test_cooldown_after_accepting_any_offer(shop: Shop, clock: FrozenClock) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    accept(shop, offer(shop, "contact"), customer, sub)
    o = offer(shop, cooldown_days=30)
    assert rule(shop, o, sub) == "recently_accepted_offer"
    assert rule(shop, offer(shop), sub) is None  # no cooldown rule: still fine
    clock.set(clock() + timedelta(days=30, seconds=1))
    assert rule(shop, o, sub) is None


def test_redemptions_per_customer(shop: Shop) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    o = offer(shop, "contact", max_redemptions_per_customer=1)
    assert rule(shop, o, sub) is None
    accept(shop, o, customer, sub)
    assert rule(shop, o, sub) == "redemption_limit_reached"
    other_sub = shop.subscribe(shop.customer("b@example.com"))
    assert rule(shop, o, other_sub) is None  # per customer


def test_once_per_subscription_and_kind_per_12_months_by_default(shop: Shop,
                                                                   clock: FrozenClock) -> None:
    """Offers don't stack: after "7 days free", neither it nor another free-days offer
    comes back for that subscription within 12 months (other kinds still may)."""
    customer = shop.customer()
    sub = shop.subscribe(customer)
    free_week, free_month = offer(shop), offer(shop, extension_days=30)
    assert (free_week.max_redemptions_per_subscription,
            free_week.redemption_window_months) == (1, 12)
    accept(shop, free_week, customer, sub)

    assert rule(shop, free_week, sub) == "subscription_redemption_limit_reached"
    assert rule(shop, free_month, sub) == "subscription_redemption_limit_reached"
    assert rule(shop, offer(shop, "contact"), sub) is None  # another kind
    other_sub = shop.subscribe(customer, shop.basic)
    assert rule(shop, free_week, other_sub) is None  # per subscription
    clock.set(clock() + timedelta(days=360))
    assert rule(shop, free_week, sub) == "subscription_redemption_limit_reached"
    clock.set(clock() + timedelta(days=6))  # 12 months after accepting
    assert rule(shop, free_week, sub) is None


def test_redemptions_per_subscription_are_configurable(shop: Shop, clock: FrozenClock
                                                      ) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    o = offer(shop, "contact", max_redemptions_per_subscription=2, redemption_window_months=1)
    accept(shop, o, customer, sub)
    assert rule(shop, o, sub) is None
    accept(shop, o, customer, sub)
    assert rule(shop, o, sub) == "subscription_redemption_limit_reached"
    clock.set(clock() + timedelta(days=32))
    assert rule(shop, o, sub) is None
    for bad in ({"max_redemptions_per_subscription": 0},
                {"max_redemptions_per_subscription": None},
                {"redemption_window_months": 121}):
        with pytest.raises(InvalidRequest) as refused:
            offers.update_offer(o.id, account_id=shop.account_id, uow=shop.make_uow(), **bad)
        assert refused.value.param == f"eligibility[{next(iter(bad))}]"


def test_subscription_must_be_live(shop: Shop) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    shop.billing.cancel_subscription(sub["id"], customer_id=customer, at_period_end=True)
    assert rule(shop, offer(shop), sub) == "subscription_not_live"


def test_type_rules(shop: Shop) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    assert rule(shop, offer(shop, "price_change", price=shop.pro["id"]), sub) == \
        "price_incompatible"
    dearer = shop.billing.create_price(product=shop.pro["product"], currency="usd",
                                       unit_amount=9900, interval="month")
    assert rule(shop, offer(shop, "price_change", price=dearer["id"]), sub) == \
        "price_not_cheaper"
    yearly = shop.billing.create_price(product=shop.pro["product"], currency="usd",
                                       unit_amount=100, interval="year")
    assert rule(shop, offer(shop, "price_change", price=yearly["id"]), sub) == \
        "price_incompatible"
    euro = shop.billing.create_coupon(amount_off=500, currency="eur")
    assert rule(shop, offer(shop, "coupon", coupon=euro["id"]), sub) == "coupon_unusable"
    used = shop.billing.create_coupon(percent_off=10, max_redemptions=1)
    shop.subscribe(shop.customer("c@example.com"), coupon=used["id"])
    assert rule(shop, offer(shop, "coupon", coupon=used["id"]), sub) == "coupon_unusable"
    pause = offer(shop, "pause")
    accept(shop, pause, customer, sub)
    # (a second pause allowed per subscription, so that only "already paused" refuses it)
    assert rule(shop, offer(shop, "pause", max_redemptions_per_subscription=2), sub) == \
        "already_paused"
    assert rule(shop, offer(shop, "trial_extension"), sub) == "already_paused"


def test_validation_per_type(shop: Shop) -> None:
    for kw, param in (
        ({"type": "coupon"}, "coupon[coupon]"),
        ({"type": "coupon", "coupon": "co_nope"}, "coupon[coupon]"),
        ({"type": "pause", "pause_interval": "fortnight", "pause_interval_count": 1},
         "pause[interval]"),
        ({"type": "pause", "pause_interval": "year", "pause_interval_count": 3},
         "pause[interval_count]"),
        ({"type": "price_change"}, "price_change[price]"),
        ({"type": "price_change", "price": shop.basic["id"], "price_change_timing": "later"},
         "price_change[timing]"),
        ({"type": "trial_extension", "extension_days": 400}, "trial_extension[days]"),
        ({"type": "contact", "contact_email": "nope"}, "contact[email]"),
        ({"type": "trial_extension", "extension_days": 3, "coupon": None,
          "price": shop.basic["id"]}, "price_change[price]"),
        ({"type": "contact", "contact_url": "https://a.test", "reasons": ["bored"]},
         "eligibility[reasons][0]"),
    ):
        with pytest.raises(InvalidRequest) as error:
            offers.create_offer(account_id=shop.account_id, uow=shop.make_uow(), name="x",
                                **kw)
        assert error.value.param == param, kw
    with pytest.raises(InvalidRequest) as bad_type:
        offers.create_offer(account_id=shop.account_id, uow=shop.make_uow(), name="x",
                            type="refund")
    assert bad_type.value.param == "type"


# --- the exact edges of each rule (tests that notice a `>` that became `>=`) ---------------


def test_cooldown_ends_exactly_after_its_days(shop: Shop, clock: FrozenClock) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    accept(shop, offer(shop, "contact"), customer, sub)
    accepted_at = clock()
    o = offer(shop, cooldown_days=30)
    clock.set(accepted_at + timedelta(days=30) - timedelta(microseconds=1))
    assert rule(shop, o, sub) == "recently_accepted_offer"
    clock.set(accepted_at + timedelta(days=30))
    assert rule(shop, o, sub) is None


def test_a_coupon_offer_lasts_until_the_coupons_redeem_by(shop: Shop,
                                                          clock: FrozenClock) -> None:
    sub = shop.subscribe(shop.customer())
    coupon = shop.billing.create_coupon(percent_off=10)
    redeem_by = clock() + timedelta(days=1)
    with shop.make_uow() as uow:  # a Stripe coupon's field; the local ledger never sets it
        row = uow.session.exec(select(Coupon).where(Coupon.account_id == shop.account_id,
                                                    Coupon.id == coupon["id"])).one()
        row.redeem_by = redeem_by
        uow.add(row)
        uow.commit()
    o = offer(shop, "coupon", coupon=coupon["id"])
    clock.set(redeem_by)  # "can no longer be redeemed after": this instant still can
    assert rule(shop, o, sub) is None
    clock.set(redeem_by + timedelta(seconds=1))
    assert rule(shop, o, sub) == "coupon_unusable"


def test_a_price_change_needs_a_live_strictly_cheaper_price(shop: Shop) -> None:
    sub = shop.subscribe(shop.customer())
    same = shop.billing.create_price(product=shop.pro["product"], currency="usd",
                                     unit_amount=4900, interval="month")
    assert rule(shop, offer(shop, "price_change", price=same["id"]), sub) == \
        "price_not_cheaper"
    cheaper = offer(shop, "price_change", price=shop.basic["id"])
    assert rule(shop, cheaper, sub) is None
    with shop.make_uow() as uow:  # the merchant archives the cheaper price
        price = uow.session.exec(select(Price).where(Price.id == shop.basic["id"])).one()
        price.active = False
        uow.add(price)
        uow.commit()
    assert rule(shop, cheaper, sub) == "price_incompatible"


def test_eligible_offers_leaves_out_the_ineligible(shop: Shop) -> None:
    sub = shop.subscribe(shop.customer())
    fits = offer(shop)
    offer(shop, "contact", reasons=["missing_features"])  # another reason's offer
    offer(shop, "contact", active=False)
    assert [o.id for o in offers.eligible_offers(
        account_id=shop.account_id, subscription_id=sub["id"], reason="unused",
        uow=shop.make_uow())] == [fits.id]
