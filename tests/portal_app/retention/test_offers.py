"""Offers: validation per type, and each eligibility rule on its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

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
    assert rule(shop, offer(shop, "pause"), sub) == "already_paused"
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
