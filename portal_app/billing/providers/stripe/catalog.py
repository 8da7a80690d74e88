"""The Stripe-backed provider's products, prices, coupons and promotion codes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from portal_app.billing.provider import StripeObject
from portal_app.billing.providers.stripe.base import StripeProviderBase, plain, plain_list
from portal_app.billing.providers.stripe.client import StripeCalls
from portal_app.clock import to_unix
from portal_app.errors import InvalidRequest

# A promotion code's coupon comes expanded, as the contract's (and the portal's) readers
# expect ``promotion.coupon.percent_off``.
PROMOTION_EXPAND = ["promotion.coupon"]


def given(**values: Any) -> dict[str, Any]:
    """The parameters actually given (None left out: Stripe's default applies)."""
    return {key: value for key, value in values.items() if value is not None}


def create_object(calls: StripeCalls, service: Any, params: Any, *, what: str
                  ) -> StripeObject:
    """``service.create(params)`` as one idempotent write (``what``: the call's name)."""
    return plain(calls.write(lambda options: service.create(params, options=options),
                             what=what, params=params))


def update_object(calls: StripeCalls, service: Any, object_id: str, params: Any, *,
                  what: str) -> StripeObject:
    """``service.update(object_id, params)`` as one idempotent write."""
    return plain(calls.write(
        lambda options: service.update(object_id, params, options=options),
        what=f"{what}:{object_id}", params=params))


class CatalogPart(StripeProviderBase):
    """The contract's products, prices, coupons and promotion codes, as Stripe calls."""

    # --- products and prices ---------------------------------------------------------

    def create_product(self, *, name: str, description: str | None = None,
                       metadata: Mapping[str, str] | None = None) -> StripeObject:
        params: Any = given(name=name, description=description,
                            metadata=dict(metadata) if metadata else None)
        return create_object(self.calls, self.v1.products, params, what="products.create")

    def retrieve_product(self, product_id: str) -> StripeObject:
        return plain(self.calls.read(
            lambda options: self.v1.products.retrieve(product_id, options=options)))

    def list_products(self, *, active: bool | None = None) -> list[StripeObject]:
        params: Any = given(active=active, limit=100)
        return plain_list(self.calls.read(
            lambda options: list(self.v1.products.list(params, options=options)
                                 .auto_paging_iter())))

    def create_price(self, *, product: str, currency: str, unit_amount: int,
                     interval: str | None = None, interval_count: int = 1,
                     nickname: str | None = None, usage_type: str = "licensed",
                     meter: str | None = None) -> StripeObject:
        recurring = None
        if interval is not None:
            recurring = given(interval=interval, interval_count=interval_count,
                              usage_type=usage_type, meter=meter)
        elif usage_type != "licensed" or meter is not None:
            raise InvalidRequest("A metered price must be recurring: give an interval.",
                                 param="recurring[interval]")
        params: Any = given(product=product, currency=currency.lower(),
                            unit_amount=unit_amount, nickname=nickname, recurring=recurring)
        return create_object(self.calls, self.v1.prices, params, what="prices.create")

    def retrieve_price(self, price_id: str) -> StripeObject:
        return plain(self.calls.read(
            lambda options: self.v1.prices.retrieve(price_id, options=options)))

    def list_prices(self, *, product: str | None = None, active: bool | None = None
                    ) -> list[StripeObject]:
        params: Any = given(product=product, active=active, limit=100)
        return plain_list(self.calls.read(
            lambda options: list(self.v1.prices.list(params, options=options)
                                 .auto_paging_iter())))

    # --- coupons and promotion codes -------------------------------------------------

    def create_coupon(self, *, percent_off: float | None = None, amount_off: int | None = None,
                      currency: str | None = None, duration: str = "once",
                      duration_in_months: int | None = None, name: str | None = None,
                      id: str | None = None, max_redemptions: int | None = None
                      ) -> StripeObject:
        params: Any = given(percent_off=percent_off, amount_off=amount_off,
                            currency=currency.lower() if currency else None,
                            duration=duration, duration_in_months=duration_in_months,
                            name=name, id=id, max_redemptions=max_redemptions)
        return create_object(self.calls, self.v1.coupons, params, what="coupons.create")

    def retrieve_coupon(self, coupon_id: str) -> StripeObject:
        return plain(self.calls.read(
            lambda options: self.v1.coupons.retrieve(coupon_id, options=options)))

    def create_promotion_code(self, *, coupon: str, code: str,
                              expires_at: datetime | None = None) -> StripeObject:
        params: Any = given(promotion={"type": "coupon", "coupon": coupon}, code=code,
                            expires_at=to_unix(expires_at) if expires_at else None,
                            expand=PROMOTION_EXPAND)
        return create_object(self.calls, self.v1.promotion_codes, params,
                             what="promotion_codes.create")

    def retrieve_promotion_code(self, promotion_code_id: str) -> StripeObject:
        return fetch_promotion_code(self.calls, promotion_code_id)

    def retrieve_promotion_code_by_code(self, code: str) -> StripeObject:
        params: Any = {"code": code.strip(), "active": True, "expand": ["data.promotion.coupon"],
                       "limit": 100}
        found = plain_list(self.calls.read(
            lambda options: list(self.v1.promotion_codes.list(params, options=options)
                                 .auto_paging_iter()))) if code.strip() else []
        if not found:
            raise InvalidRequest("This promotion code is not valid.", param="promotion_code",
                                 code="promotion_code_invalid")
        # Newest first, as Stripe lists: the code the merchant issued last wins.
        promo = found[0]
        if not redeemable(promo, now=to_unix(self.clock())):
            raise InvalidRequest("This promotion code has expired.", param="promotion_code",
                                 code="coupon_expired")
        return promo


def fetch_promotion_code(calls: StripeCalls, promotion_code_id: str) -> StripeObject:
    """`GET /v1/promotion_codes/{id}`, its coupon expanded. Raises ResourceMissing."""
    params: Any = {"expand": PROMOTION_EXPAND}
    return plain(calls.read(lambda options: calls.v1.promotion_codes.retrieve(
        promotion_code_id, params, options=options)))


def redeemable(promo: StripeObject, *, now: int | None) -> bool:
    """Whether an active promotion code (its coupon expanded) can be redeemed at ``now``.

    Stripe keeps an expired code ``active`` until it is deactivated; what ends it is its
    ``expires_at``, its redemptions, or its coupon's validity.
    """
    coupon = (promo.get("promotion") or {}).get("coupon") or {}
    now = now or 0
    limits = ((promo.get("max_redemptions"), promo.get("times_redeemed") or 0),
              (coupon.get("max_redemptions"), coupon.get("times_redeemed") or 0))
    return not (
        (promo.get("expires_at") is not None and promo["expires_at"] <= now)
        or (coupon.get("redeem_by") is not None and coupon["redeem_by"] <= now)
        or coupon.get("valid") is False
        or any(limit is not None and used >= limit for limit, used in limits))
