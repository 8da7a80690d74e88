"""The local ledger's services: plain values in, rows out, one transaction each.

Every service takes the account it acts for, a unit of work and (through the
unit of work) the clock. Each change appends its events in the same transaction,
so a failure — a declined card, a bad parameter — leaves nothing behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import col, select

from portal_app.accounts.models import Account
from portal_app.billing import meters, processor
from portal_app.billing.models import (
    Charge,
    Coupon,
    CouponDuration,
    Customer,
    Discount,
    Interval,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceStatus,
    Meter,
    MeterStatus,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from portal_app.billing.periods import next_period_end, shift
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.i18n import format_money
from portal_app.objects import (
    render_coupon,
    render_customer,
    render_invoice,
    render_payment_method,
    render_price,
    render_product,
    render_subscription,
)

LIVE_STATUSES = (SubscriptionStatus.trialing, SubscriptionStatus.active, SubscriptionStatus.past_due)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Stripe's ``previous_attributes``: the old value of every top-level field that changed."""
    return {key: before.get(key) for key in after if before.get(key) != after.get(key)}


# --- customers ---------------------------------------------------------------------------


def create_customer(
    *,
    account_id: str,
    uow: UnitOfWork,
    email: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    description: str | None = None,
    address: dict[str, Any] | None = None,
    shipping: dict[str, Any] | None = None,
    preferred_locales: Sequence[str] = (),
    metadata: Mapping[str, str] | None = None,
    payment_method: str | None = None,
    default_payment_method: str | None = None,
) -> Customer:
    """Create a customer, optionally attaching a payment method as its default.

    Raises InvalidRequest, ResourceMissing, CardError.
    """
    if email is not None and email and "@" not in email:
        raise InvalidRequest(f"Invalid email address: {email}", param="email",
                             code="email_invalid")
    with uow:
        customer = Customer(
            account_id=account_id,
            email=email or None,
            name=name,
            phone=phone,
            description=description,
            address=address,
            shipping=shipping,
            preferred_locales=list(preferred_locales),
            metadata_=dict(metadata or {}),
            invoice_prefix=secrets.token_hex(4).upper(),
            created=uow.clock(),
        )
        uow.add(customer)
        uow.flush()
        uow.events.append("customer.created", render_customer(customer), account_id=account_id)
        if payment_method:
            pm = attach_payment_method(payment_method, customer_id=customer.id,
                                       account_id=account_id, uow=uow)
            default_payment_method = default_payment_method or pm.id
        if default_payment_method:
            update_customer(customer.id, account_id=account_id, uow=uow,
                            default_payment_method=default_payment_method)
        uow.commit()
        return customer


# The details a customer may edit about themselves (the portal's billing details page).
CUSTOMER_DETAIL_FIELDS = ("email", "name", "phone", "address", "shipping", "preferred_locales")
_CUSTOMER_FIELDS = (*CUSTOMER_DETAIL_FIELDS, "description")


def retrieve_customer(customer_id: str, *, account_id: str, uow: UnitOfWork) -> Customer:
    """One customer of the account. Raises ResourceMissing."""
    with uow:
        return uow.get(Customer, customer_id, account_id=account_id, label="customer")


def update_customer(customer_id: str, *, account_id: str, uow: UnitOfWork,
                    metadata: Mapping[str, str] | None = None,
                    default_payment_method: str | None = None,
                    **fields: Any) -> Customer:
    """Change a customer's details; ``metadata`` merges (empty value removes a key).

    Raises ResourceMissing, InvalidRequest.
    """
    unknown = set(fields) - set(_CUSTOMER_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidRequest(f"Received unknown parameter: {name}", param=name)
    if fields.get("email") and "@" not in fields["email"]:
        raise InvalidRequest(f"Invalid email address: {fields['email']}", param="email",
                             code="email_invalid")
    with uow:
        customer = uow.get(Customer, customer_id, account_id=account_id, label="customer")
        before = render_customer(customer)
        for key, value in fields.items():
            setattr(customer, key, value if value != "" else None)
        if metadata is not None:
            customer.metadata_ = _merge_metadata(customer.metadata_, metadata)
        if default_payment_method is not None:
            if default_payment_method:
                pm = uow.get(PaymentMethod, default_payment_method, account_id=account_id,
                             param="invoice_settings[default_payment_method]",
                             label="PaymentMethod")
                if pm.customer_id != customer.id:
                    raise InvalidRequest(
                        f"The payment method `{pm.id}` is not attached to customer "
                        f"`{customer.id}`.",
                        param="invoice_settings[default_payment_method]",
                    )
            customer.default_payment_method = default_payment_method or None
        uow.add(customer)
        uow.flush()
        after = render_customer(customer)
        previous = diff(before, after)
        if previous:
            uow.events.append("customer.updated", after, account_id=account_id,
                              previous_attributes=previous)
        uow.commit()
        return customer


def _merge_metadata(current: Mapping[str, str], update: Mapping[str, str]) -> dict[str, str]:
    merged = dict(current)
    for key, value in update.items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


# --- catalog -----------------------------------------------------------------------------


def create_product(*, account_id: str, uow: UnitOfWork, name: str,
                   description: str | None = None, active: bool = True,
                   unit_label: str | None = None,
                   metadata: Mapping[str, str] | None = None) -> Product:
    """Create a product. Raises InvalidRequest."""
    if not name or not name.strip():
        raise InvalidRequest("Missing required param: name.", param="name",
                             code="parameter_missing")
    with uow:
        now = uow.clock()
        product = Product(account_id=account_id, name=name.strip(), description=description,
                          active=active, unit_label=unit_label or None,
                          metadata_=dict(metadata or {}), created=now, updated=now)
        uow.add(product)
        uow.flush()
        uow.events.append("product.created", render_product(product), account_id=account_id)
        uow.commit()
        return product


def update_product(product_id: str, *, account_id: str, uow: UnitOfWork,
                   name: str | None = None, description: str | None = None,
                   active: bool | None = None, default_price: str | None = None,
                   unit_label: str | None = None,
                   metadata: Mapping[str, str] | None = None) -> Product:
    """Change a product; ``None`` leaves a field, ``""`` clears the description or unit label.

    Raises ResourceMissing, InvalidRequest.
    """
    if name is not None and not name.strip():
        raise InvalidRequest("The product name cannot be empty.", param="name")
    with uow:
        product = uow.get(Product, product_id, account_id=account_id, label="product")
        before = render_product(product)
        if name is not None:
            product.name = name.strip()
        if description is not None:
            product.description = description or None
        if active is not None:
            product.active = active
        if unit_label is not None:
            product.unit_label = unit_label or None
        if default_price is not None:
            if default_price:
                price = uow.get(Price, default_price, account_id=account_id,
                                param="default_price", label="price")
                if price.product_id != product.id:
                    raise InvalidRequest(
                        f"The price `{price.id}` does not belong to product `{product.id}`.",
                        param="default_price")
            product.default_price = default_price or None
        if metadata is not None:
            product.metadata_ = _merge_metadata(product.metadata_, metadata)
        product.updated = uow.clock()
        uow.add(product)
        uow.flush()
        after = render_product(product)
        previous = {k: v for k, v in diff(before, after).items() if k != "updated"}
        if previous:
            uow.events.append("product.updated", after, account_id=account_id,
                              previous_attributes=previous)
        uow.commit()
        return product


def create_price(*, account_id: str, uow: UnitOfWork, currency: str, unit_amount: int,
                 product: str | None = None, product_name: str | None = None,
                 interval: str | None = None, interval_count: int = 1,
                 usage_type: str = "licensed", meter: str | None = None,
                 nickname: str | None = None,
                 lookup_key: str | None = None, active: bool = True,
                 metadata: Mapping[str, str] | None = None) -> Price:
    """Create a price for ``product`` (or a new product named ``product_name``).

    A metered price bills the usage its ``meter`` (an active one) aggregates; only
    metered prices take a meter.

    Raises InvalidRequest, ResourceMissing.
    """
    currency = (currency or "").lower()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidRequest(f"Invalid currency: {currency}", param="currency")
    if unit_amount < 0:
        raise InvalidRequest("Invalid non-negative integer", param="unit_amount")
    if interval is not None and interval not in Interval.__members__:
        raise InvalidRequest(
            "Invalid recurring[interval]: must be one of day, week, month, or year",
            param="recurring[interval]",
        )
    if interval_count < 1 or (interval and _too_long(Interval(interval), interval_count)):
        raise InvalidRequest("The maximum billing interval is 3 years.",
                             param="recurring[interval_count]")
    if usage_type not in ("licensed", "metered"):
        raise InvalidRequest("Invalid recurring[usage_type]", param="recurring[usage_type]")
    if meter and usage_type != "metered":
        raise InvalidRequest("recurring[meter] can only be set when recurring[usage_type] is "
                             "metered.", param="recurring[meter]")
    with uow:
        if meter:
            found = uow.get(Meter, meter, account_id=account_id, param="recurring[meter]",
                            label="billing.meter")
            if found.status != MeterStatus.active:
                raise InvalidRequest(f"The meter `{meter}` is inactive: a price cannot use "
                                     "it.", param="recurring[meter]", code="meter_inactive")
        if product is None:
            if not product_name:
                raise InvalidRequest("Missing required param: product.", param="product",
                                     code="parameter_missing")
            product = create_product(account_id=account_id, uow=uow, name=product_name).id
        parent = uow.get(Product, product, account_id=account_id, param="product",
                         label="product")
        price = Price(account_id=account_id, product_id=parent.id, currency=currency,
                      unit_amount=unit_amount, interval=Interval(interval) if interval else None,
                      interval_count=interval_count, usage_type=usage_type,
                      meter_id=meter or None, nickname=nickname,
                      lookup_key=lookup_key, active=active, metadata_=dict(metadata or {}),
                      created=uow.clock())
        uow.add(price)
        if parent.default_price is None:
            parent.default_price = price.id
            uow.add(parent)
        uow.flush()
        uow.events.append("price.created", render_price(price), account_id=account_id)
        uow.commit()
        return price


def _too_long(interval: Interval, count: int) -> bool:
    limits = {Interval.day: 1095, Interval.week: 156, Interval.month: 36, Interval.year: 3}
    return count > limits[interval]


# --- payment methods ---------------------------------------------------------------------


def create_payment_method(*, account_id: str, uow: UnitOfWork, type: str = "card",
                          card: Mapping[str, Any] | None = None,
                          billing_details: Mapping[str, Any] | None = None,
                          metadata: Mapping[str, str] | None = None) -> PaymentMethod:
    """Tokenize a card (raw test number or ``card[token]=pm_card_*``) into a payment method.

    Raises InvalidRequest, CardError.
    """
    if type != "card":
        raise InvalidRequest(f"The payment method type `{type}` is not supported here.",
                             param="type")
    if not card:
        raise InvalidRequest("Missing required param: card.", param="card",
                             code="parameter_missing")
    with uow:
        now = uow.clock()
        if card.get("token"):
            details = processor.tokenize_test_payment_method(str(card["token"]),
                                                             fingerprint_key=_fingerprint_key(account_id, uow), now=now)
        else:
            if not card.get("number"):
                raise InvalidRequest("Missing required param: card[number].",
                                     param="card[number]", code="parameter_missing")
            details = processor.tokenize_card(
                number=str(card["number"]), exp_month=card.get("exp_month"),
                exp_year=card.get("exp_year"),
                cvc=str(card["cvc"]) if card.get("cvc") is not None else None,
                fingerprint_key=_fingerprint_key(account_id, uow), now=now,
            )
        pm = _store_card(details, account_id=account_id, now=now,
                         billing_details=billing_details, metadata=metadata)
        uow.add(pm)
        uow.flush()
        uow.commit()
        return pm


def _fingerprint_key(account_id: str, uow: UnitOfWork) -> str:
    account = uow.get(Account, account_id, account_id=account_id, label="account")
    return account.fingerprint_key


def _store_card(details: processor.CardDetails, *, account_id: str, now: datetime,
                billing_details: Mapping[str, Any] | None = None,
                metadata: Mapping[str, str] | None = None) -> PaymentMethod:
    pm = PaymentMethod(account_id=account_id, type="card", brand=details.brand,
                       last4=details.last4, exp_month=details.exp_month,
                       exp_year=details.exp_year, funding=details.funding,
                       country=details.country, fingerprint=details.fingerprint,
                       billing_details=dict(billing_details or {}),
                       charge_decline_code=details.charge_decline_code,
                       check_decline_code=details.attach_decline_code,
                       metadata_=dict(metadata or {}), created=now)
    return pm


def attach_payment_method(payment_method: str, *, customer_id: str, account_id: str,
                          uow: UnitOfWork, customer_scoped: bool = False) -> PaymentMethod:
    """Attach a payment method (or one of Stripe's ``pm_card_*`` test ids) to a customer.

    The processor checks the card first, as Stripe does: a card that declines
    every charge is refused here. ``customer_scoped`` (the portal) answers a
    method of another customer as missing rather than as already attached.
    Raises ResourceMissing, InvalidRequest, CardDeclined.
    """
    with uow:
        customer = uow.get(Customer, customer_id, account_id=account_id, param="customer",
                           label="customer")
        now = uow.clock()
        if payment_method in processor.TEST_PAYMENT_METHODS:
            details = processor.tokenize_test_payment_method(
                payment_method, fingerprint_key=_fingerprint_key(account_id, uow), now=now)
            pm = _store_card(details, account_id=account_id, now=now)
            uow.add(pm)
            uow.flush()
        else:
            pm = uow.get(PaymentMethod, payment_method, account_id=account_id,
                         param="payment_method", label="PaymentMethod")
        if pm.customer_id is not None:
            if pm.customer_id == customer.id:
                return pm
            if customer_scoped:
                raise ResourceMissing(f"No such PaymentMethod: '{payment_method}'",
                                      param="payment_method")
            raise InvalidRequest(
                "The payment method you provided has already been attached to a customer.",
                param="payment_method",
            )
        if pm.check_decline_code:
            raise processor.decline(pm.check_decline_code)
        pm.customer_id = customer.id
        uow.add(pm)
        uow.flush()
        uow.events.append("payment_method.attached", render_payment_method(pm),
                          account_id=account_id)
        uow.commit()
        return pm



def retrieve_payment_method(payment_method_id: str, *, account_id: str, uow: UnitOfWork,
                            customer_id: str | None = None) -> PaymentMethod:
    """One payment method; with ``customer_id``, only one attached to that customer.

    Raises ResourceMissing.
    """
    with uow:
        pm = uow.get(PaymentMethod, payment_method_id, account_id=account_id,
                     param="payment_method", label="PaymentMethod")
        if customer_id is not None and pm.customer_id != customer_id:
            raise ResourceMissing(f"No such PaymentMethod: '{payment_method_id}'",
                                  param="payment_method")
        return pm


def list_payment_methods(customer_id: str, *, account_id: str, uow: UnitOfWork
                         ) -> list[PaymentMethod]:
    """A customer's payment methods, newest first. Raises ResourceMissing."""
    with uow:
        uow.get(Customer, customer_id, account_id=account_id, param="customer",
                label="customer")
        return list(uow.session.exec(
            select(PaymentMethod)
            .where(PaymentMethod.customer_id == customer_id)
            .order_by(col(PaymentMethod.created).desc(), col(PaymentMethod.id).desc())
        ).all())


# --- coupons -----------------------------------------------------------------------------


def create_coupon(*, account_id: str, uow: UnitOfWork, id: str | None = None,
                  percent_off: float | None = None, amount_off: int | None = None,
                  currency: str | None = None, duration: str = "once",
                  duration_in_months: int | None = None, name: str | None = None,
                  max_redemptions: int | None = None,
                  metadata: Mapping[str, str] | None = None) -> Coupon:
    """Create a coupon. Raises InvalidRequest."""
    if (percent_off is None) == (amount_off is None):
        raise InvalidRequest("Exactly one of percent_off or amount_off is required.",
                             param="percent_off")
    if percent_off is not None and not 0 < percent_off <= 100:
        raise InvalidRequest("percent_off must be between 0 and 100.", param="percent_off")
    if amount_off is not None and (amount_off <= 0 or not currency):
        raise InvalidRequest("amount_off needs a positive amount and a currency.",
                             param="currency" if not currency else "amount_off")
    if duration not in CouponDuration.__members__:
        raise InvalidRequest("Invalid duration: must be one of once, repeating, or forever",
                             param="duration")
    if (duration == "repeating") != (duration_in_months is not None) or (
            duration_in_months is not None and duration_in_months < 1):
        raise InvalidRequest("duration_in_months (a positive number of months) goes with "
                             "duration=repeating, and only then.", param="duration_in_months")
    with uow:
        if id and uow.session.get(Coupon, id) is not None:
            raise InvalidRequest("Coupon already exists.", param="id",
                                 code="resource_already_exists")
        coupon = Coupon(account_id=account_id, name=name, percent_off=percent_off,
                        amount_off=amount_off, currency=currency.lower() if currency else None,
                        duration=CouponDuration(duration), duration_in_months=duration_in_months,
                        max_redemptions=max_redemptions, metadata_=dict(metadata or {}),
                        created=uow.clock())
        if id:
            coupon.id = id
        uow.add(coupon)
        uow.flush()
        uow.events.append("coupon.created", render_coupon(coupon), account_id=account_id)
        uow.commit()
        return coupon


def _apply_coupon(coupon_id: str, *, sub: Subscription, account_id: str, uow: UnitOfWork
                  ) -> Discount:
    coupon = uow.get(Coupon, coupon_id, account_id=account_id, param="coupon", label="coupon")
    now = uow.clock()
    if not coupon.valid or (coupon.redeem_by and coupon.redeem_by < now) or (
        coupon.max_redemptions is not None and coupon.times_redeemed >= coupon.max_redemptions
    ):
        raise InvalidRequest(f"Coupon expired: {coupon.id}", param="coupon",
                             code="coupon_expired")
    if coupon.currency and coupon.currency != sub.currency:
        raise InvalidRequest(f"The coupon {coupon.id} is in {coupon.currency.upper()}, the "
                             f"subscription in {sub.currency.upper()}.", param="coupon")
    end = None
    if coupon.duration == CouponDuration.repeating and coupon.duration_in_months:
        end = shift(now, Interval.month, coupon.duration_in_months)
    discount = Discount(account_id=account_id, coupon_id=coupon.id, customer_id=sub.customer_id,
                        subscription_id=sub.id, start=now, end=end, created=now)
    coupon.times_redeemed += 1
    uow.add(coupon)
    uow.add(discount)
    uow.flush()
    return discount


# --- subscriptions -----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    """One requested subscription item."""

    price: str
    quantity: int = 1


def create_subscription(
    *,
    account_id: str,
    uow: UnitOfWork,
    customer: str,
    items: Sequence[ItemSpec],
    default_payment_method: str | None = None,
    trial_period_days: int | None = None,
    trial_end: datetime | None = None,
    collection_method: str = "charge_automatically",
    days_until_due: int | None = None,
    coupon: str | None = None,
    cancel_at_period_end: bool = False,
    description: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Subscription:
    """Start a subscription: charge its first invoice now, or start a trial.

    A declined first charge raises CardDeclined and leaves no subscription,
    invoice or event behind (Stripe's ``payment_behavior=error_if_incomplete``).
    Raises InvalidRequest, ResourceMissing, CardDeclined.
    """
    if not items:
        raise InvalidRequest("Missing required param: items.", param="items",
                             code="parameter_missing")
    if collection_method not in ("charge_automatically", "send_invoice"):
        raise InvalidRequest("Invalid collection_method", param="collection_method")
    if collection_method == "send_invoice" and days_until_due is None:
        days_until_due = 30
    with uow:
        now = uow.clock()
        cust = uow.get(Customer, customer, account_id=account_id, param="customer",
                       label="customer")
        prices: list[tuple[Price, int]] = []
        for index, spec in enumerate(items):
            price = uow.get(Price, spec.price, account_id=account_id,
                            param=f"items[{index}][price]", label="price")
            if price.interval is None:
                raise InvalidRequest(
                    f"The price `{price.id}` is not recurring; subscriptions need a "
                    "recurring price.", param=f"items[{index}][price]")
            if not price.active:
                raise InvalidRequest(f"The price `{price.id}` is not active.",
                                     param=f"items[{index}][price]")
            if spec.quantity < 0 or (spec.quantity == 0 and price.usage_type == "licensed"):
                raise InvalidRequest("Invalid positive integer",
                                     param=f"items[{index}][quantity]")
            prices.append((price, spec.quantity))
        first = prices[0][0]
        for index, (price, _) in enumerate(prices[1:], start=1):
            if price.currency != first.currency:
                raise InvalidRequest("All prices on a subscription must share one currency.",
                                     param=f"items[{index}][price]")
            if (price.interval, price.interval_count) != (first.interval, first.interval_count):
                raise InvalidRequest(
                    "All prices on a subscription must share one billing interval.",
                    param=f"items[{index}][price]")
        if len({p.id for p, _ in prices}) != len(prices):
            raise InvalidRequest("A price may appear only once on a subscription.",
                                 param="items")
        if default_payment_method:
            pm = uow.get(PaymentMethod, default_payment_method, account_id=account_id,
                         param="default_payment_method", label="PaymentMethod")
            if pm.customer_id != cust.id:
                raise InvalidRequest(
                    f"The payment method `{pm.id}` is not attached to customer `{cust.id}`.",
                    param="default_payment_method")
        if trial_period_days is not None:
            if trial_period_days < 0 or trial_period_days > 730:
                raise InvalidRequest("trial_period_days must be between 0 and 730.",
                                     param="trial_period_days")
            trial_end = now + timedelta(days=trial_period_days) if trial_period_days else None
        if trial_end is not None and trial_end <= now:
            raise InvalidRequest("Invalid timestamp: must be an integer Unix timestamp in the "
                                 "future.", param="trial_end")
        assert first.interval is not None  # every price was checked to be recurring
        trialing = trial_end is not None
        period_end = trial_end or shift(now, first.interval, first.interval_count)
        sub = Subscription(
            account_id=account_id, customer_id=cust.id,
            status=SubscriptionStatus.trialing if trialing else SubscriptionStatus.incomplete,
            currency=first.currency, collection_method=collection_method,
            days_until_due=days_until_due if collection_method == "send_invoice" else None,
            default_payment_method=default_payment_method, description=description,
            billing_cycle_anchor=period_end if trialing else now,
            current_period_start=now, current_period_end=period_end, start_date=now,
            trial_start=now if trialing else None, trial_end=trial_end,
            cancel_at_period_end=cancel_at_period_end,
            cancel_at=period_end if cancel_at_period_end else None,
            cancellation_origin=_request_origin(uow) if cancel_at_period_end else None,
            metadata_=dict(metadata or {}), created=now,
        )
        uow.add(sub)
        uow.flush()
        for position, (price, quantity) in enumerate(prices):
            uow.add(SubscriptionItem(subscription_id=sub.id, price_id=price.id,
                                     quantity=quantity, position=position, created=now))
        uow.flush()
        if coupon:
            _apply_coupon(coupon, sub=sub, account_id=account_id, uow=uow)
        if cust.currency is None:
            cust.currency = first.currency
            uow.add(cust)
        invoice = _bill_period(sub, billing_reason="subscription_create", uow=uow,
                               trial=trialing)
        if invoice.last_decline_code == "payment_method_missing":
            raise InvalidRequest(
                "This customer has no attached payment source or default payment method.",
                code="resource_missing", param="default_payment_method")
        if invoice.status == InvoiceStatus.open and collection_method == "charge_automatically":
            # The first charge failed: nothing of this subscription may remain.
            raise processor.decline(invoice.last_decline_code or "generic_decline")
        if not trialing:
            sub.status = SubscriptionStatus.active
        uow.add(sub)
        uow.flush()
        uow.events.append("customer.subscription.created", render_subscription(sub, uow.session),
                          account_id=account_id)
        _emit_invoice_events(invoice, uow=uow, account_id=account_id)
        uow.commit()
        return sub


def retrieve_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                          customer_id: str | None = None) -> Subscription:
    """One subscription; with ``customer_id``, only one of that customer's.

    Raises ResourceMissing.
    """
    with uow:
        sub = uow.get(Subscription, subscription_id, account_id=account_id,
                      label="subscription")
        if customer_id is not None and sub.customer_id != customer_id:
            raise ResourceMissing(f"No such subscription: '{subscription_id}'", param="id")
        return sub


def list_subscriptions(*, account_id: str, uow: UnitOfWork, customer_id: str | None = None,
                       status: str | None = None) -> list[Subscription]:
    """The account's (or one customer's) subscriptions, newest first.

    ``status`` filters as Stripe's does: a status, ``all``, or none for every
    subscription that has not been canceled. Raises ResourceMissing, InvalidRequest.
    """
    if status not in (None, "all", "ended", *SubscriptionStatus.__members__):
        raise InvalidRequest(f"Invalid status: {status}", param="status")
    with uow:
        query = select(Subscription).where(Subscription.account_id == account_id)
        if customer_id is not None:
            uow.get(Customer, customer_id, account_id=account_id, param="customer",
                    label="customer")
            query = query.where(Subscription.customer_id == customer_id)
        if status is None:
            query = query.where(Subscription.status != SubscriptionStatus.canceled)
        elif status == "ended":
            query = query.where(col(Subscription.status).in_(
                [SubscriptionStatus.canceled, SubscriptionStatus.incomplete_expired]))
        elif status != "all":
            query = query.where(Subscription.status == SubscriptionStatus(status))
        return list(uow.session.exec(
            query.order_by(col(Subscription.created).desc(), col(Subscription.id).desc())
        ).all())


def retrieve_invoice(invoice_id: str, *, account_id: str, uow: UnitOfWork,
                     customer_id: str | None = None) -> Invoice:
    """One invoice; with ``customer_id``, only one of that customer's.

    Raises ResourceMissing.
    """
    with uow:
        invoice = uow.get(Invoice, invoice_id, account_id=account_id, label="invoice")
        if customer_id is not None and invoice.customer_id != customer_id:
            raise ResourceMissing(f"No such invoice: '{invoice_id}'", param="id")
        return invoice


def list_invoices(*, account_id: str, uow: UnitOfWork, customer_id: str | None = None,
                  subscription_id: str | None = None) -> list[Invoice]:
    """The account's (or one customer's or subscription's) invoices, newest first.

    Raises ResourceMissing.
    """
    with uow:
        query = select(Invoice).where(Invoice.account_id == account_id)
        if customer_id is not None:
            uow.get(Customer, customer_id, account_id=account_id, param="customer",
                    label="customer")
            query = query.where(Invoice.customer_id == customer_id)
        if subscription_id is not None:
            query = query.where(Invoice.subscription_id == subscription_id)
        return list(uow.session.exec(
            query.order_by(col(Invoice.created).desc(), col(Invoice.id).desc())
        ).all())


def _payment_method_for(sub: Subscription, uow: UnitOfWork) -> PaymentMethod | None:
    pm_id = sub.default_payment_method
    if pm_id is None:
        customer = uow.session.get(Customer, sub.customer_id)
        pm_id = customer.default_payment_method if customer else None
    return uow.session.get(PaymentMethod, pm_id) if pm_id else None


def _line_description(price: Price, product: Product, quantity: int) -> str:
    amount = format_money(price.unit_amount, price.currency, "en")
    every = str(price.interval) if price.interval_count == 1 else (
        f"{price.interval_count} {price.interval}s")
    if price.interval is None:
        return f"{quantity} × {product.name}"
    return f"{quantity} × {product.name} (at {amount} / {every})"


def _usage_description(price: Price, product: Product, quantity: int) -> str:
    """``API access — Usage: 1,234 API calls (at $0.05 / unit)`` (invoices are in English)."""
    amount = format_money(price.unit_amount, price.currency, "en")
    return (f"{product.name} — Usage: {quantity:,} {product.unit_label or 'units'} "
            f"(at {amount} / unit)")


def _active_discount(sub: Subscription, uow: UnitOfWork, at: datetime
                     ) -> tuple[Discount, Coupon] | None:
    row = uow.session.exec(
        select(Discount, Coupon)
        .join(Coupon, col(Coupon.id) == Discount.coupon_id)
        .where(Discount.subscription_id == sub.id)
        .order_by(col(Discount.created).desc())
    ).first()
    if row is None:
        return None
    discount, coupon = row
    if discount.end is not None and discount.end <= at:
        return None
    return discount, coupon


def _bill_period(sub: Subscription, *, billing_reason: str, uow: UnitOfWork,
                 trial: bool = False) -> Invoice:
    """Invoice the subscription's current period and try to collect it.

    Pending invoice items of the subscription (prorations) join the invoice
    after the period's lines. While collection is paused, the invoice is kept
    as a draft, voided or marked uncollectible instead of being charged.
    """
    now = uow.clock()
    customer = uow.session.get(Customer, sub.customer_id)
    assert customer is not None
    invoice = Invoice(
        account_id=sub.account_id, customer_id=sub.customer_id, subscription_id=sub.id,
        status=InvoiceStatus.draft, billing_reason=billing_reason,
        collection_method=sub.collection_method, currency=sub.currency,
        period_start=sub.current_period_start, period_end=sub.current_period_end, created=now,
    )
    uow.add(invoice)
    uow.flush()
    rows = uow.session.exec(
        select(SubscriptionItem, Price, Product)
        .join(Price, col(Price.id) == SubscriptionItem.price_id)
        .join(Product, col(Product.id) == Price.product_id)
        .where(SubscriptionItem.subscription_id == sub.id)
        .order_by(col(SubscriptionItem.position), col(SubscriptionItem.id))
    ).all()
    subtotal = 0
    lines: list[InvoiceLine] = []
    for position, (item, price, product) in enumerate(rows):
        if price.usage_type == "metered":
            # Billed in arrears: the usage since the item was last billed, up to the
            # start of the period this invoice opens.
            line = usage_line(sub, item, price, product, until=sub.current_period_start,
                              invoice=invoice, position=position, uow=uow)
            lines.append(line)
            subtotal += line.amount
            continue
        amount = 0 if trial else price.unit_amount * item.quantity
        description = _line_description(price, product, item.quantity)
        if trial:
            description = f"Trial period for {product.name}"
        line = InvoiceLine(invoice_id=invoice.id, subscription_item_id=item.id,
                           price_id=price.id, description=description, quantity=item.quantity,
                           amount=amount, currency=sub.currency,
                           period_start=sub.current_period_start,
                           period_end=sub.current_period_end, position=position)
        lines.append(line)
        subtotal += amount
    discount_total = discount_lines(sub, lines, uow=uow, now=now)
    for pending in _pending_items(sub, uow):
        # A proration carries the discount it was created with.
        pending.invoice_id = invoice.id
        uow.add(pending)
        lines.append(InvoiceLine(
            invoice_id=invoice.id, subscription_item_id=pending.subscription_item_id,
            price_id=pending.price_id, description=pending.description,
            quantity=pending.quantity, amount=pending.amount,
            discount_amount=pending.discount_amount, currency=pending.currency,
            proration=pending.proration, period_start=pending.period_start,
            period_end=pending.period_end, position=len(lines)))
        subtotal += pending.amount
        discount_total += pending.discount_amount
    for line in lines:
        uow.add(line)
    invoice.subtotal = subtotal
    invoice.total_discount = discount_total
    invoice.total = subtotal - discount_total
    sub.latest_invoice = invoice.id
    _close_invoice(invoice, customer, sub=sub, uow=uow, now=now)
    uow.add(invoice)
    uow.add(sub)
    uow.flush()
    return invoice


def usage_line(sub: Subscription, item: SubscriptionItem, price: Price, product: Product, *,
               until: datetime, invoice: Invoice, position: int, uow: UnitOfWork
               ) -> InvoiceLine:
    """The invoice line of a metered item's usage not billed yet, up to ``until``."""
    usage = meters.billable_usage(sub, item, price, until=until, uow=uow)
    return InvoiceLine(invoice_id=invoice.id, subscription_item_id=item.id, price_id=price.id,
                       description=_usage_description(price, product, usage.quantity),
                       quantity=usage.quantity, amount=usage.amount, currency=sub.currency,
                       period_start=usage.start, period_end=usage.end, position=position)


def discount_lines(sub: Subscription, lines: Sequence[InvoiceLine], *, uow: UnitOfWork,
                   now: datetime) -> int:
    """Spread the subscription's active discount over ``lines``; the total taken off.

    A ``once`` coupon ends with the first invoice it discounts.
    """
    subtotal = sum(line.amount for line in lines)
    active = _active_discount(sub, uow, now) if subtotal else None
    if active is None:
        return 0
    discount, coupon = active
    total = _discount_amount(coupon, subtotal)
    for line, share in zip(lines, _spread(total, [ln.amount for ln in lines]), strict=True):
        line.discount_amount = share
    if coupon.duration == CouponDuration.once:
        discount.end = now
        uow.add(discount)
    return total


def _pending_items(sub: Subscription, uow: UnitOfWork) -> list[InvoiceItem]:
    """The subscription's invoice items not yet on an invoice, oldest first."""
    return list(uow.session.exec(
        select(InvoiceItem)
        .where(InvoiceItem.subscription_id == sub.id, col(InvoiceItem.invoice_id).is_(None))
        .order_by(col(InvoiceItem.position), col(InvoiceItem.id))
    ).all())


def settle_balance(total: int, balance: int) -> tuple[int, int]:
    """``(amount_due, balance after)`` of an invoice of ``total`` for a customer ``balance``.

    A negative balance is a credit: it pays invoices first. A negative total
    (more credited than charged) becomes a credit for later invoices.
    """
    due = total + balance
    return max(due, 0), min(due, 0)


def _close_invoice(invoice: Invoice, customer: Customer, *, sub: Subscription | None,
                   uow: UnitOfWork, now: datetime) -> None:
    """Finalize and collect ``invoice``, or park it as the subscription's pause says."""
    behavior = (sub.pause_collection or {}).get("behavior") if sub is not None else None
    if behavior == "keep_as_draft":
        invoice.amount_due = invoice.amount_remaining = max(invoice.total, 0)
        return
    _finalize(invoice, customer, uow=uow, now=now)
    if behavior in ("void", "mark_uncollectible"):
        invoice.amount_due = max(invoice.total, 0)
        invoice.amount_remaining = 0 if behavior == "void" else invoice.amount_due
        if behavior == "void":
            invoice.status = InvoiceStatus.void
            invoice.voided_at = now
        else:
            invoice.status = InvoiceStatus.uncollectible
            invoice.marked_uncollectible_at = now
        return
    invoice.starting_balance = customer.balance
    invoice.amount_due, customer.balance = settle_balance(invoice.total, customer.balance)
    invoice.amount_remaining = invoice.amount_due
    uow.add(customer)
    if invoice.amount_due == 0:
        _mark_paid(invoice, now=now)
    elif invoice.collection_method == "charge_automatically" and sub is not None:
        _collect(invoice, _payment_method_for(sub, uow), uow=uow, now=now)


def _discount_amount(coupon: Coupon, subtotal: int) -> int:
    """What ``coupon`` takes off ``subtotal`` (percentages round half up, as Stripe's do)."""
    if coupon.percent_off is not None:
        off = Decimal(subtotal) * Decimal(str(coupon.percent_off)) / 100
        return int(off.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(subtotal, coupon.amount_off or 0)


def _spread(total: int, amounts: Sequence[int]) -> list[int]:
    """Split ``total`` over ``amounts`` in proportion, exactly.

    Shares are rounded down and the units left over go to the largest
    remainders, so they sum to ``total`` and none exceeds its amount (given
    ``0 <= total <= sum(amounts)``).
    """
    whole = sum(amounts)
    if whole == 0:
        return [0] * len(amounts)
    shares = [total * amount // whole for amount in amounts]
    left = total - sum(shares)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(total * amounts[i] % whole), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def _finalize(invoice: Invoice, customer: Customer, *, uow: UnitOfWork, now: datetime) -> None:
    invoice.number = f"{customer.invoice_prefix}-{customer.next_invoice_sequence:04d}"
    customer.next_invoice_sequence += 1
    invoice.status = InvoiceStatus.open
    invoice.finalized_at = now
    if invoice.collection_method == "send_invoice":
        sub = uow.session.get(Subscription, invoice.subscription_id)
        invoice.due_date = now + timedelta(days=(sub.days_until_due if sub else None) or 30)
    uow.add(customer)


def _mark_paid(invoice: Invoice, *, now: datetime) -> None:
    invoice.status = InvoiceStatus.paid
    invoice.amount_paid = invoice.amount_due
    invoice.amount_remaining = 0
    invoice.paid_at = now


def _collect(invoice: Invoice, pm: PaymentMethod | None, *, uow: UnitOfWork, now: datetime
             ) -> Charge | None:
    """One attempt to charge ``invoice`` through the test processor."""
    invoice.attempt_count += 1
    if pm is None:
        invoice.last_decline_code = "payment_method_missing"
        return None
    declined = pm.charge_decline_code
    charge = Charge(account_id=invoice.account_id, invoice_id=invoice.id,
                    customer_id=invoice.customer_id, payment_method_id=pm.id,
                    amount=invoice.amount_remaining, currency=invoice.currency,
                    status="failed" if declined else "succeeded", failure_code=declined,
                    created=now)
    uow.add(charge)
    invoice.payment_method_id = pm.id
    if declined:
        invoice.last_decline_code = declined
    else:
        _mark_paid(invoice, now=now)
    return charge


def _emit_invoice_events(invoice: Invoice, *, uow: UnitOfWork, account_id: str) -> None:
    """invoice.created, invoice.finalized, then the outcome of collecting it.

    Each snapshot shows the invoice as it was at that step, so the event
    history never shows a draft that is already paid.
    """
    final = render_invoice(invoice, uow.session)
    transitions = final["status_transitions"]
    finalized = {**final, "status": "open", "amount_paid": 0,
                 "amount_remaining": final["amount_due"], "attempt_count": 0,
                 "attempted": False, "auto_advance": True,
                 "status_transitions": {**transitions, "paid_at": None, "voided_at": None,
                                        "marked_uncollectible_at": None}}
    draft = {**finalized, "status": "draft", "number": None, "effective_at": None,
             "ending_balance": None, "hosted_invoice_url": None, "invoice_pdf": None,
             "status_transitions": {**transitions, "paid_at": None, "finalized_at": None}}
    if invoice.status == InvoiceStatus.draft:
        uow.events.append("invoice.created", final, account_id=account_id)
        return
    uow.events.append("invoice.created", draft, account_id=account_id)
    uow.events.append("invoice.finalized", finalized, account_id=account_id)
    if invoice.status == InvoiceStatus.void:
        uow.events.append("invoice.voided", final, account_id=account_id)
    elif invoice.status == InvoiceStatus.uncollectible:
        uow.events.append("invoice.marked_uncollectible", final, account_id=account_id)
    else:
        _emit_payment_outcome(invoice, final, uow=uow, account_id=account_id)


def _emit_payment_outcome(invoice: Invoice, snapshot: dict[str, Any], *, uow: UnitOfWork,
                          account_id: str) -> None:
    if invoice.status == InvoiceStatus.paid:
        uow.events.append("invoice.paid", snapshot, account_id=account_id)
        uow.events.append("invoice.payment_succeeded", snapshot, account_id=account_id)
    elif invoice.attempt_count and invoice.collection_method == "charge_automatically":
        uow.events.append("invoice.payment_failed", snapshot, account_id=account_id)


# --- the clock ---------------------------------------------------------------------------


def due_subscriptions(*, account_id: str | None, until: datetime, uow: UnitOfWork
                      ) -> list[tuple[datetime, str]]:
    """``(when, subscription id)`` of every renewal, trial end, cancellation or pause end
    up to ``until``."""
    with uow:
        query = select(Subscription.current_period_end, Subscription.id).where(
            col(Subscription.status).in_([s.value for s in LIVE_STATUSES]),
            Subscription.current_period_end <= until,
        )
        resumes = select(Subscription.pause_resumes_at, Subscription.id).where(
            col(Subscription.pause_resumes_at).is_not(None),
            col(Subscription.pause_resumes_at) <= until,
        )
        if account_id is not None:
            query = query.where(Subscription.account_id == account_id)
            resumes = resumes.where(Subscription.account_id == account_id)
        due = [*uow.session.exec(query).all(), *uow.session.exec(resumes).all()]
        return sorted((when, sub_id) for when, sub_id in due if when is not None)


def renew_subscription(subscription_id: str, *, uow: UnitOfWork) -> Subscription:
    """Cross the subscription's period end: cancel, end the trial, or bill the next period.

    A pause whose ``resumes_at`` has come is lifted first; a scheduled change
    (a subscription schedule's next phase) is applied before the new period is billed.
    Raises ResourceMissing.
    """
    from portal_app.billing import changes

    with uow:
        # Locked (on PostgreSQL) so that two workers never bill the same period twice.
        sub = changes.lock_subscription(subscription_id, uow=uow)
        now = uow.clock()
        account_id = sub.account_id
        if sub.pause_resumes_at is not None and sub.pause_resumes_at <= now:
            changes.lift_pause(sub, uow=uow)
        if sub.status not in LIVE_STATUSES or sub.current_period_end > now:
            uow.commit()
            return sub
        before = render_subscription(sub, uow.session)
        boundary = sub.current_period_end
        if sub.cancel_at_period_end or (sub.cancel_at is not None and sub.cancel_at <= boundary):
            # The end's events name the request that scheduled it (the clock has none).
            previous = uow.origin
            if sub.cancellation_origin:
                uow.origin = dict(sub.cancellation_origin)
            try:
                changes.end_schedules(sub, uow=uow, event="subscription_schedule.canceled")
                # The final invoice: the usage reported up to the end, billed in arrears.
                invoice = changes.invoice_pending_items(sub, uow=uow, pending=False,
                                                        usage_until=boundary,
                                                        billing_reason="subscription_cancel")
                _end(sub, at=boundary, reason="cancellation_requested", uow=uow,
                     before=before)
                if invoice is not None:
                    _emit_invoice_events(invoice, uow=uow, account_id=account_id)
            finally:
                uow.origin = previous
            uow.commit()
            return sub
        if sub.status == SubscriptionStatus.past_due and _retry_open_invoices(sub, uow=uow):
            # Still unpaid after a whole period of retries: Stripe's "cancel the
            # subscription" outcome when all retries fail.
            changes.end_schedules(sub, uow=uow, event="subscription_schedule.canceled")
            _end(sub, at=boundary, reason="payment_failed", uow=uow, before=before)
            uow.commit()
            return sub
        changes.apply_due_phase(sub, uow=uow, at=boundary)
        first_price = uow.session.exec(
            select(Price).join(SubscriptionItem, col(SubscriptionItem.price_id) == Price.id)
            .where(SubscriptionItem.subscription_id == sub.id)
        ).first()
        assert first_price is not None and first_price.interval is not None
        sub.current_period_start = boundary
        sub.current_period_end = next_period_end(sub.billing_cycle_anchor, first_price.interval,
                                                 first_price.interval_count, boundary)
        invoice = _bill_period(sub, billing_reason="subscription_cycle", uow=uow)
        if (invoice.status != InvoiceStatus.open or invoice.amount_remaining == 0
                or sub.collection_method == "send_invoice"):
            sub.status = SubscriptionStatus.active
        else:
            sub.status = SubscriptionStatus.past_due
        uow.add(sub)
        uow.flush()
        _emit_invoice_events(invoice, uow=uow, account_id=account_id)
        after = render_subscription(sub, uow.session)
        uow.events.append("customer.subscription.updated", after, account_id=account_id,
                          previous_attributes=diff(before, after))
        uow.commit()
        return sub


def _retry_open_invoices(sub: Subscription, *, uow: UnitOfWork) -> bool:
    """Retry the subscription's open invoices; True when one still fails."""
    now = uow.clock()
    pm = _payment_method_for(sub, uow)
    still_failing = False
    for invoice in uow.session.exec(
        select(Invoice).where(Invoice.subscription_id == sub.id,
                              Invoice.status == InvoiceStatus.open)
    ).all():
        _collect(invoice, pm, uow=uow, now=now)
        uow.add(invoice)
        uow.flush()
        _emit_payment_outcome(invoice, render_invoice(invoice, uow.session), uow=uow,
                              account_id=sub.account_id)
        still_failing = still_failing or invoice.status != InvoiceStatus.paid
    if not still_failing:
        sub.status = SubscriptionStatus.active
    return still_failing


def _request_origin(uow: UnitOfWork) -> dict[str, Any] | None:
    """The unit of work's origin, as a subscription keeps it for its scheduled end."""
    return dict(uow.origin) if uow.origin else None


def _end(sub: Subscription, *, at: datetime, reason: str, uow: UnitOfWork,
         before: dict[str, Any]) -> None:
    sub.status = SubscriptionStatus.canceled
    sub.ended_at = at
    sub.canceled_at = sub.canceled_at or at
    details = dict(sub.cancellation_details)
    details["reason"] = details.get("reason") or reason
    sub.cancellation_details = details
    uow.add(sub)
    uow.flush()
    after = render_subscription(sub, uow.session)
    uow.events.append("customer.subscription.deleted", after, account_id=sub.account_id,
                      previous_attributes=diff(before, after))


def cancel_subscription(subscription_id: str, *, account_id: str, uow: UnitOfWork,
                        at_period_end: bool = False, feedback: str | None = None,
                        comment: str | None = None, customer_id: str | None = None,
                        prorate: bool = False, invoice_now: bool = False) -> Subscription:
    """Cancel now, or at the end of the current period.

    An immediate cancel with ``prorate`` credits the unused time of every item
    (rounded half up per item, as proration lines are). Without ``invoice_now``
    the credit goes straight to the customer's balance, which pays their next
    invoices; with ``invoice_now`` a final invoice bills the metered usage not
    billed yet (up to now) with the credit lines and any pending invoice items,
    and whatever it leaves negative becomes that balance credit. Without
    ``invoice_now`` that usage is never billed, as with Stripe. A cancel at
    period end bills the last period's usage in a final invoice when the period
    ends (:func:`renew_subscription`); a declined final charge leaves that
    invoice open and the subscription canceled. A pending scheduled change is canceled with the subscription.
    The events of an end at period end carry the origin of the unit of work that
    scheduled it (``UnitOfWork.origin``, kept on the subscription until reactivated).
    ``customer_id`` restricts the change to that customer's subscription (the
    portal passes its session's customer). Raises ResourceMissing, InvalidRequest.
    """
    from portal_app.billing import changes

    with uow:
        changes.lock_subscription(subscription_id, uow=uow)
        sub = retrieve_subscription(subscription_id, account_id=account_id, uow=uow,
                                    customer_id=customer_id)
        if sub.status == SubscriptionStatus.canceled:
            raise InvalidRequest("This subscription is already canceled.",
                                 code="subscription_canceled")
        before = render_subscription(sub, uow.session)
        now = uow.clock()
        sub.cancellation_details = {"comment": comment, "feedback": feedback,
                                    "reason": "cancellation_requested"}
        sub.canceled_at = now
        if at_period_end:
            sub.cancel_at_period_end = True
            sub.cancel_at = sub.current_period_end
            sub.cancellation_origin = _request_origin(uow)
            uow.add(sub)
            uow.flush()
            changes.end_schedules(sub, uow=uow, event="subscription_schedule.released")
            after = render_subscription(sub, uow.session)
            uow.events.append("customer.subscription.updated", after, account_id=account_id,
                              previous_attributes=diff(before, after))
        else:
            changes.end_schedules(sub, uow=uow, event="subscription_schedule.canceled")
            if prorate:
                changes.credit_unused_time(sub, uow=uow, at=now)
            invoice = None
            if invoice_now:
                invoice = changes.invoice_pending_items(sub, uow=uow, usage_until=now,
                                                        billing_reason="subscription_cancel")
            else:
                changes.credit_pending_to_balance(sub, uow=uow)
            _end(sub, at=now, reason="cancellation_requested", uow=uow, before=before)
            if invoice is not None:
                _emit_invoice_events(invoice, uow=uow, account_id=account_id)
        uow.commit()
        return sub


def advance_clock(clock: Any, to: datetime, *, account_id: str | None,
                  uow_factory: Any) -> int:
    """Move a :class:`FrozenClock` to ``to``, crossing every period end on the way.

    Each renewal runs in its own transaction at the moment it falls due, so its
    invoices and events carry that time. Returns how many renewals ran.
    """
    if to < clock():
        raise InvalidRequest("A test clock only moves forward.", param="frozen_time")
    count = 0
    while True:
        due = due_subscriptions(account_id=account_id, until=to, uow=uow_factory())
        if not due:
            break
        when, subscription_id = due[0]
        if when > clock():
            clock.set(when)
        renew_subscription(subscription_id, uow=uow_factory())
        count += 1
    clock.set(to)
    return count
