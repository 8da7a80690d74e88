"""The local ledger on a real unit of work: validation, subscriptions, coupons, the clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from portal_app.billing import services
from portal_app.billing.models import (
    Coupon,
    Customer,
    InvoiceStatus,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    SubscriptionStatus,
)
from portal_app.billing.periods import shift
from portal_app.billing.services import ItemSpec
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import (
    BillingError,
    CardDeclined,
    CardError,
    InvalidRequest,
    ResourceMissing,
)
from portal_app.events.models import Event
from tests.conftest import START
from tests.portal_app.billing.helpers import (
    MakeUow,
    charges_of,
    count_rows,
    events_of,
    invoices_of,
    lines_of,
    read,
)

FEB_28 = datetime(2026, 2, 28, 12, tzinfo=UTC)


def raises_param(error: type[BillingError], param: str, code: str | None = None) -> Any:
    """``pytest.raises`` that also checks the error's ``param`` (and ``code``)."""
    class _Check:
        def __enter__(self) -> None:
            self._ctx = pytest.raises(error)
            self.info = self._ctx.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            handled = self._ctx.__exit__(*exc)
            assert self.info.value.param == param, self.info.value.param
            if code is not None:
                assert self.info.value.code == code, self.info.value.code
            return bool(handled)

    return _Check()


def subscribe(account_id: str, make_uow: MakeUow, customer: Customer, *prices: Price,
              **options: Any) -> Subscription:
    return services.create_subscription(
        account_id=account_id, uow=make_uow(), customer=customer.id,
        items=[ItemSpec(p.id) for p in prices], **options)


def new_customer(account_id: str, make_uow: MakeUow, payment_method: str | None = None
                 ) -> Customer:
    return services.create_customer(account_id=account_id, uow=make_uow(),
                                    email="grace@example.com", payment_method=payment_method)


def new_price(account_id: str, make_uow: MakeUow, *, amount: int = 2000, currency: str = "usd",
              interval: str = "month", count: int = 1, name: str = "Plan") -> Price:
    return services.create_price(account_id=account_id, uow=make_uow(), currency=currency,
                                 unit_amount=amount, product_name=name, interval=interval,
                                 interval_count=count)


def attach_card(account_id: str, make_uow: MakeUow, customer: Customer, number: str,
                *, default: bool = True) -> PaymentMethod:
    pm = services.create_payment_method(
        account_id=account_id, uow=make_uow(),
        card={"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"})
    services.attach_payment_method(pm.id, customer_id=customer.id, account_id=account_id,
                                   uow=make_uow())
    if default:
        services.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                 default_payment_method=pm.id)
    return pm


def load(make_uow: MakeUow, model: type, object_id: str) -> Any:
    return read(make_uow, lambda uow: uow.session.get(model, object_id))


# --- customers ---------------------------------------------------------------------------


def test_create_customer_with_a_payment_method_makes_it_the_default(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    assert re.fullmatch(r"cus_[0-9A-Za-z]{24}", customer.id)
    assert customer.default_payment_method is not None
    [pm] = services.list_payment_methods(customer.id, account_id=account_id, uow=make_uow())
    assert (pm.id, pm.brand, pm.last4) == (customer.default_payment_method, "visa", "4242")
    types = [e.type for e in events_of(make_uow, account_id)]
    assert types == ["customer.created", "payment_method.attached", "customer.updated"]
    assert all(e.created == START for e in events_of(make_uow, account_id))


@pytest.mark.parametrize("email", ["not-an-email", "ada.example.com"])
def test_customer_email_is_checked(account_id: str, make_uow: MakeUow, email: str) -> None:
    with raises_param(InvalidRequest, "email", "email_invalid"):
        services.create_customer(account_id=account_id, uow=make_uow(), email=email)
    assert count_rows(make_uow, account_id)["event"] == 0


def test_update_customer_records_previous_attributes(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    services.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                             name="Ada Lovelace", metadata={"plan": "gold"})
    event = events_of(make_uow, account_id)[-1]
    assert event.type == "customer.updated"
    assert event.previous_attributes == {"name": "Ada", "metadata": {}}
    assert event.data_object["name"] == "Ada Lovelace"


def test_update_customer_without_change_appends_no_event(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    before = count_rows(make_uow, account_id)["event"]
    services.update_customer(customer.id, account_id=account_id, uow=make_uow(), name="Ada")
    assert count_rows(make_uow, account_id)["event"] == before


def test_update_customer_refuses_unknown_fields_and_bad_email(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    with raises_param(InvalidRequest, "balance"):
        services.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                 balance=-500)
    with raises_param(InvalidRequest, "email", "email_invalid"):
        services.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                 email="nope")


def test_default_payment_method_must_be_the_customers(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    other = new_customer(account_id, make_uow, "pm_card_mastercard")
    with raises_param(InvalidRequest, "invoice_settings[default_payment_method]"):
        services.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                 default_payment_method=other.default_payment_method)
    with raises_param(ResourceMissing, "invoice_settings[default_payment_method]",
                      "resource_missing"):
        services.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                 default_payment_method="pm_missing")


def test_customers_of_another_account_are_missing(
        make_uow: MakeUow, customer: Customer) -> None:
    from portal_app.accounts import services as accounts

    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    with raises_param(ResourceMissing, "id", "resource_missing"):
        services.retrieve_customer(customer.id, account_id=other, uow=make_uow())
    with raises_param(ResourceMissing, "id"):
        services.update_customer(customer.id, account_id=other, uow=make_uow(), name="x")


# --- catalog -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   "])
def test_product_needs_a_name(account_id: str, make_uow: MakeUow, name: str) -> None:
    with raises_param(InvalidRequest, "name", "parameter_missing"):
        services.create_product(account_id=account_id, uow=make_uow(), name=name)


def test_first_price_becomes_the_products_default(account_id: str, make_uow: MakeUow) -> None:
    product = services.create_product(account_id=account_id, uow=make_uow(), name=" Pro ")
    assert product.name == "Pro" and re.fullmatch(r"prod_\w{24}", product.id)
    first = services.create_price(account_id=account_id, uow=make_uow(), product=product.id,
                                  currency="EUR", unit_amount=900, interval="month")
    services.create_price(account_id=account_id, uow=make_uow(), product=product.id,
                          currency="eur", unit_amount=9000, interval="year")
    assert first.currency == "eur"
    assert load(make_uow, Product, product.id).default_price == first.id


@pytest.mark.parametrize(("params", "param"), [
    ({"currency": "dollars"}, "currency"),
    ({"currency": "u$d"}, "currency"),
    ({"currency": ""}, "currency"),
    ({"unit_amount": -1}, "unit_amount"),
    ({"interval": "fortnight"}, "recurring[interval]"),
    ({"interval_count": 0}, "recurring[interval_count]"),
    ({"interval": "month", "interval_count": 37}, "recurring[interval_count]"),
    ({"interval": "year", "interval_count": 4}, "recurring[interval_count]"),
    ({"interval": "week", "interval_count": 157}, "recurring[interval_count]"),
    ({"usage_type": "sometimes"}, "recurring[usage_type]"),
    ({"product_name": None}, "product"),
    ({"product_name": None, "product": "prod_missing"}, "product"),
])
def test_price_validation(account_id: str, make_uow: MakeUow, params: dict[str, Any],
                          param: str) -> None:
    values: dict[str, Any] = {"currency": "usd", "unit_amount": 100, "product_name": "P",
                              "interval": "month", **params}
    with raises_param(InvalidRequest, param):
        services.create_price(account_id=account_id, uow=make_uow(), **values)
    assert count_rows(make_uow, account_id)["event"] == 0


def test_price_of_another_accounts_product_is_missing(
        account_id: str, make_uow: MakeUow, monthly: Price) -> None:
    from portal_app.accounts import services as accounts

    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    with raises_param(ResourceMissing, "product", "resource_missing"):
        services.create_price(account_id=other, uow=make_uow(), currency="usd",
                              unit_amount=100, product=monthly.product_id, interval="month")


# --- payment methods ---------------------------------------------------------------------


def test_no_payment_method_row_contains_the_full_number(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    numbers = ["4242424242424242", "5555555555554444", "378282246310005",
               "4000000000000341"]
    for number in numbers:
        attach_card(account_id, make_uow, customer, number, default=False)
    rows = read(make_uow, lambda uow: uow.session.exec(
        select(PaymentMethod).where(PaymentMethod.account_id == account_id)).all())
    events = events_of(make_uow, account_id)
    assert len(rows) == len(numbers) + 1  # and the fixture's pm_card_visa
    stored = " ".join(str(value) for row in rows for value in row.model_dump().values())
    stored += " ".join(str(e.data_object) for e in events)
    for number in numbers:
        assert number not in stored
        assert number[-4:] in stored


def test_card_validation_errors_carry_their_code(account_id: str, make_uow: MakeUow) -> None:
    cases = [
        ({"number": "4242424242424241", "exp_month": 1, "exp_year": 2030}, "incorrect_number"),
        ({"number": "4242424242424242", "exp_month": 13, "exp_year": 2030},
         "invalid_expiry_month"),
        ({"number": "4242424242424242", "exp_month": 12, "exp_year": 2020},
         "invalid_expiry_year"),
        ({"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "1"},
         "invalid_cvc"),
    ]
    for card, code in cases:
        with pytest.raises(CardError) as raised:
            services.create_payment_method(account_id=account_id, uow=make_uow(), card=card)
        assert raised.value.code == code
    with raises_param(InvalidRequest, "card[number]", "parameter_missing"):
        services.create_payment_method(account_id=account_id, uow=make_uow(),
                                       card={"exp_month": 1})
    with raises_param(InvalidRequest, "card", "parameter_missing"):
        services.create_payment_method(account_id=account_id, uow=make_uow())
    with raises_param(InvalidRequest, "type"):
        services.create_payment_method(account_id=account_id, uow=make_uow(), type="alipay",
                                       card={"token": "pm_card_visa"})


def test_declining_card_is_refused_at_attach(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    pm = services.create_payment_method(
        account_id=account_id, uow=make_uow(),
        card={"number": "4000 0000 0000 0002", "exp_month": 12, "exp_year": 2030})
    before = count_rows(make_uow, account_id)
    with pytest.raises(CardDeclined) as raised:
        services.attach_payment_method(pm.id, customer_id=customer.id, account_id=account_id,
                                       uow=make_uow())
    assert (raised.value.code, raised.value.decline_code) == ("card_declined", "generic_decline")
    assert raised.value.type == "card_error"
    assert load(make_uow, PaymentMethod, pm.id).customer_id is None
    assert count_rows(make_uow, account_id) == before


def test_declining_test_token_leaves_no_payment_method(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    with pytest.raises(CardDeclined) as raised:
        services.attach_payment_method("pm_card_chargeDeclined", customer_id=customer.id,
                                       account_id=account_id, uow=make_uow())
    assert raised.value.decline_code == "generic_decline"
    methods = services.list_payment_methods(customer.id, account_id=account_id, uow=make_uow())
    assert [pm.id for pm in methods] == [customer.default_payment_method]


def test_a_customers_payment_method_cannot_be_attached_elsewhere(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    other = new_customer(account_id, make_uow)
    with raises_param(InvalidRequest, "payment_method"):
        services.attach_payment_method(customer.default_payment_method or "", account_id=account_id,
                                       customer_id=other.id, uow=make_uow())
    with raises_param(ResourceMissing, "payment_method", "resource_missing"):
        services.attach_payment_method(customer.default_payment_method or "", account_id=account_id,
                                       customer_id=other.id, uow=make_uow(), customer_scoped=True)


def test_attaching_twice_is_harmless(account_id: str, make_uow: MakeUow,
                                     customer: Customer) -> None:
    pm_id = customer.default_payment_method or ""
    before = count_rows(make_uow, account_id)
    again = services.attach_payment_method(pm_id, customer_id=customer.id,
                                           account_id=account_id, uow=make_uow())
    assert again.id == pm_id and count_rows(make_uow, account_id) == before


def test_payment_methods_list_newest_first(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                                           customer: Customer) -> None:
    clock.set(START + timedelta(minutes=1))
    newer = attach_card(account_id, make_uow, customer, "5555555555554444", default=False)
    listed = services.list_payment_methods(customer.id, account_id=account_id, uow=make_uow())
    assert [pm.id for pm in listed] == [newer.id, customer.default_payment_method]


# --- coupons -----------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "param"), [
    ({}, "percent_off"),
    ({"percent_off": 10, "amount_off": 100, "currency": "usd"}, "percent_off"),
    ({"percent_off": 0}, "percent_off"),
    ({"percent_off": 100.5}, "percent_off"),
    ({"amount_off": 100}, "currency"),
    ({"amount_off": 0, "currency": "usd"}, "amount_off"),
    ({"percent_off": 10, "duration": "sometimes"}, "duration"),
    ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
    ({"percent_off": 10, "duration": "repeating", "duration_in_months": 0}, "duration_in_months"),
    ({"percent_off": 10, "duration": "once", "duration_in_months": 3}, "duration_in_months"),
])
def test_coupon_validation(account_id: str, make_uow: MakeUow, params: dict[str, Any],
                           param: str) -> None:
    with raises_param(InvalidRequest, param):
        services.create_coupon(account_id=account_id, uow=make_uow(), **params)


def test_coupon_ids_are_unique(account_id: str, make_uow: MakeUow) -> None:
    services.create_coupon(account_id=account_id, uow=make_uow(), id=f"SAVE-{account_id}",
                           percent_off=10)
    with raises_param(InvalidRequest, "id", "resource_already_exists"):
        services.create_coupon(account_id=account_id, uow=make_uow(), id=f"SAVE-{account_id}",
                               percent_off=20)


# --- subscriptions -----------------------------------------------------------------------


def test_subscription_charges_its_first_invoice(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    assert re.fullmatch(r"sub_\w{24}", sub.id)
    assert sub.status == SubscriptionStatus.active
    assert (sub.current_period_start, sub.current_period_end) == (START, FEB_28)
    assert sub.billing_cycle_anchor == START
    [invoice] = invoices_of(make_uow, sub.id)
    assert sub.latest_invoice == invoice.id
    assert invoice.status == InvoiceStatus.paid
    assert invoice.number == f"{customer.invoice_prefix}-0001"
    assert invoice.billing_reason == "subscription_create"
    assert (invoice.subtotal, invoice.total, invoice.amount_due, invoice.amount_paid,
            invoice.amount_remaining) == (2000, 2000, 2000, 2000, 0)
    assert (invoice.period_start, invoice.period_end) == (START, FEB_28)
    [line] = lines_of(make_uow, invoice.id)
    assert (line.amount, line.quantity, line.price_id) == (2000, 1, monthly.id)
    assert line.description == "1 × Pro (at $20.00 / month)"
    [charge] = charges_of(make_uow, invoice.id)
    assert (charge.status, charge.amount, charge.currency) == ("succeeded", 2000, "usd")
    assert charge.payment_method_id == customer.default_payment_method
    types = [e.type for e in events_of(make_uow, account_id)][-5:]
    assert types == ["customer.subscription.created", "invoice.created", "invoice.finalized",
                     "invoice.paid", "invoice.payment_succeeded"]


def test_invoice_numbers_count_up_per_customer(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    yearly = new_price(account_id, make_uow, interval="year", amount=20000)
    first = subscribe(account_id, make_uow, customer, monthly)
    second = subscribe(account_id, make_uow, customer, yearly)
    numbers = [invoices_of(make_uow, s.id)[0].number for s in (first, second)]
    assert numbers == [f"{customer.invoice_prefix}-0001", f"{customer.invoice_prefix}-0002"]


def test_trial_starts_trialing_with_a_zero_invoice(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly, trial_period_days=14)
    trial_end = START + timedelta(days=14)
    assert sub.status == SubscriptionStatus.trialing
    assert (sub.trial_start, sub.trial_end, sub.current_period_end) == (START, trial_end,
                                                                          trial_end)
    [invoice] = invoices_of(make_uow, sub.id)
    assert (invoice.total, invoice.status) == (0, InvoiceStatus.paid)
    assert charges_of(make_uow, invoice.id) == []

    services.advance_clock(clock, trial_end + timedelta(days=1), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.active
    assert (sub.current_period_start, sub.current_period_end) == (
        trial_end, datetime(2026, 3, 14, 12, tzinfo=UTC))
    first_paid = invoices_of(make_uow, sub.id)[-1]
    assert (first_paid.total, first_paid.status, first_paid.created) == (
        2000, InvoiceStatus.paid, trial_end)
    updated = events_of(make_uow, account_id, object_id=sub.id)[-1]
    assert updated.type == "customer.subscription.updated"
    assert updated.previous_attributes is not None
    assert updated.previous_attributes["status"] == "trialing"
    assert updated.previous_attributes["latest_invoice"] == invoice.id
    assert updated.data_object["status"] == "active"


def test_trial_end_must_be_in_the_future(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    with raises_param(InvalidRequest, "trial_end"):
        subscribe(account_id, make_uow, customer, monthly, trial_end=START)
    with raises_param(InvalidRequest, "trial_period_days"):
        subscribe(account_id, make_uow, customer, monthly, trial_period_days=-1)


def test_multi_item_subscription_bills_every_item(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    seats = new_price(account_id, make_uow, amount=500, name="Seats")
    sub = services.create_subscription(
        account_id=account_id, uow=make_uow(), customer=customer.id,
        items=[ItemSpec(monthly.id), ItemSpec(seats.id, quantity=3)])
    [invoice] = invoices_of(make_uow, sub.id)
    lines = lines_of(make_uow, invoice.id)
    assert [(line.price_id, line.quantity, line.amount) for line in lines] == [
        (monthly.id, 1, 2000), (seats.id, 3, 1500)]
    assert invoice.total == sum(line.amount for line in lines) == 3500


@pytest.mark.parametrize(("second", "param"), [
    ({"currency": "eur"}, "items[1][price]"),
    ({"interval": "year"}, "items[1][price]"),
    ({"count": 3}, "items[1][price]"),
])
def test_items_must_share_currency_and_interval(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price,
        second: dict[str, Any], param: str) -> None:
    other = new_price(account_id, make_uow, **second)
    before = count_rows(make_uow, account_id)
    with raises_param(InvalidRequest, param):
        subscribe(account_id, make_uow, customer, monthly, other)
    assert count_rows(make_uow, account_id) == before


def test_subscription_item_validation(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    one_time = services.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                     unit_amount=100, product_name="Setup")
    with raises_param(InvalidRequest, "items[0][price]"):
        subscribe(account_id, make_uow, customer, one_time)
    with raises_param(InvalidRequest, "items"):
        subscribe(account_id, make_uow, customer, monthly, monthly)
    with raises_param(InvalidRequest, "items", "parameter_missing"):
        subscribe(account_id, make_uow, customer)
    with raises_param(ResourceMissing, "items[0][price]", "resource_missing"):
        services.create_subscription(account_id=account_id, uow=make_uow(), customer=customer.id,
                                     items=[ItemSpec("price_missing")])
    with raises_param(InvalidRequest, "items[0][quantity]"):
        services.create_subscription(account_id=account_id, uow=make_uow(), customer=customer.id,
                                     items=[ItemSpec(monthly.id, quantity=0)])
    with raises_param(ResourceMissing, "customer"):
        services.create_subscription(account_id=account_id, uow=make_uow(), customer="cus_x",
                                     items=[ItemSpec(monthly.id)])


@pytest.mark.parametrize("card", ["pm_card_chargeCustomerFail",
                                  "pm_card_chargeDeclinedInsufficientFunds"])
def test_declined_first_charge_leaves_nothing_behind(
        account_id: str, make_uow: MakeUow, monthly: Price, card: str) -> None:
    coupon = services.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10,
                                    duration="forever")
    if card == "pm_card_chargeCustomerFail":
        customer = new_customer(account_id, make_uow, card)  # attaches, then fails to charge
    else:
        customer = new_customer(account_id, make_uow)
        with pytest.raises(CardDeclined):
            services.attach_payment_method(card, customer_id=customer.id, account_id=account_id,
                                           uow=make_uow())
        attach_card(account_id, make_uow, customer, "4000000000000341")
    before = count_rows(make_uow, account_id)
    with pytest.raises(CardDeclined) as raised:
        subscribe(account_id, make_uow, customer, monthly, coupon=coupon.id)
    assert (raised.value.code, raised.value.decline_code) == ("card_declined", "generic_decline")
    assert count_rows(make_uow, account_id) == before
    assert load(make_uow, Coupon, coupon.id).times_redeemed == 0
    assert load(make_uow, Customer, customer.id).next_invoice_sequence == 1


def test_subscription_without_payment_method_is_refused(
        account_id: str, make_uow: MakeUow, monthly: Price) -> None:
    customer = new_customer(account_id, make_uow)
    before = count_rows(make_uow, account_id)
    with raises_param(InvalidRequest, "default_payment_method", "resource_missing"):
        subscribe(account_id, make_uow, customer, monthly)
    assert count_rows(make_uow, account_id) == before
    free = services.create_coupon(account_id=account_id, uow=make_uow(), percent_off=100)
    assert subscribe(account_id, make_uow, customer, monthly, coupon=free.id).status == "active"


# --- coupons over renewals ---------------------------------------------------------------


@pytest.mark.parametrize(("coupon", "discounts"), [
    ({"percent_off": 25}, [500, 0, 0, 0, 0, 0]),
    ({"percent_off": 25, "duration": "repeating", "duration_in_months": 3},
     [500, 500, 500, 0, 0, 0]),
    ({"percent_off": 25, "duration": "forever"}, [500] * 6),
    ({"amount_off": 300, "currency": "usd"}, [300, 0, 0, 0, 0, 0]),
    ({"amount_off": 300, "currency": "usd", "duration": "repeating",
      "duration_in_months": 2}, [300, 300, 0, 0, 0, 0]),
    ({"amount_off": 5000, "currency": "usd", "duration": "forever"}, [2000] * 6),
    ({"percent_off": 100, "duration": "forever"}, [2000] * 6),
    ({"percent_off": 33.3, "duration": "forever"}, [666] * 6),
])
def test_coupons_over_renewals(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, coupon: dict[str, Any], discounts: list[int]) -> None:
    made = services.create_coupon(account_id=account_id, uow=make_uow(), **coupon)
    sub = subscribe(account_id, make_uow, customer, monthly, coupon=made.id)
    services.advance_clock(clock, datetime(2026, 7, 15, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    invoices = invoices_of(make_uow, sub.id)
    assert [i.total_discount for i in invoices] == discounts
    for invoice in invoices:
        lines = lines_of(make_uow, invoice.id)
        assert invoice.subtotal == sum(line.amount for line in lines)
        assert invoice.total_discount == sum(line.discount_amount for line in lines)
        assert invoice.total == invoice.subtotal - invoice.total_discount
        assert invoice.status == InvoiceStatus.paid
        paid = sum(c.amount for c in charges_of(make_uow, invoice.id) if c.status == "succeeded")
        assert paid == invoice.total
    assert load(make_uow, Coupon, made.id).times_redeemed == 1


def test_coupon_in_another_currency_is_refused(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    euros = services.create_coupon(account_id=account_id, uow=make_uow(), amount_off=100,
                                   currency="eur")
    with raises_param(InvalidRequest, "coupon"):
        subscribe(account_id, make_uow, customer, monthly, coupon=euros.id)
    with raises_param(ResourceMissing, "coupon"):
        subscribe(account_id, make_uow, customer, monthly, coupon="nope")


def test_coupon_max_redemptions(account_id: str, make_uow: MakeUow, customer: Customer,
                                monthly: Price) -> None:
    once = services.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10,
                                  max_redemptions=1)
    subscribe(account_id, make_uow, customer, monthly, coupon=once.id)
    with raises_param(InvalidRequest, "coupon", "coupon_expired"):
        subscribe(account_id, make_uow, customer, monthly, coupon=once.id)


@pytest.mark.parametrize("amounts", [[1, 1, 1, 1], [999, 1], [3, 0], [1, 2, 3, 5, 7]])
@pytest.mark.parametrize("percent", [62.5, 50, 33.3, 99.9, 1])
def test_discount_spreads_exactly_over_lines(
        account_id: str, make_uow: MakeUow, customer: Customer, amounts: list[int],
        percent: float) -> None:
    prices = [new_price(account_id, make_uow, amount=a, name=f"Item {i}")
              for i, a in enumerate(amounts)]
    coupon = services.create_coupon(account_id=account_id, uow=make_uow(),
                                    percent_off=percent)
    sub = subscribe(account_id, make_uow, customer, *prices, coupon=coupon.id)
    [invoice] = invoices_of(make_uow, sub.id)
    lines = lines_of(make_uow, invoice.id)
    assert all(0 <= line.discount_amount <= line.amount for line in lines)
    assert invoice.total_discount == sum(line.discount_amount for line in lines)
    assert invoice.total == invoice.subtotal - invoice.total_discount == invoice.amount_paid


# --- the clock ---------------------------------------------------------------------------


def test_a_year_of_renewals(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                            customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    year_later = datetime(2027, 1, 31, 12, tzinfo=UTC)
    renewals = services.advance_clock(clock, year_later + timedelta(hours=1),
                                      account_id=account_id, uow_factory=make_uow)
    assert renewals == 12 and clock() == year_later + timedelta(hours=1)
    invoices = invoices_of(make_uow, sub.id)
    assert len(invoices) == 13
    assert invoices[0].period_start == START and invoices[-1].period_start == year_later
    for previous, following in zip(invoices, invoices[1:], strict=False):
        assert previous.period_end == following.period_start  # no gap, no overlap
    assert [i.period_end.day for i in invoices[:4]] == [28, 31, 30, 31]  # clamped to the anchor
    assert [i.number for i in invoices] == [
        f"{customer.invoice_prefix}-{n:04d}" for n in range(1, 14)]
    for invoice in invoices:
        assert invoice.created == invoice.period_start == invoice.finalized_at
        assert invoice.status == InvoiceStatus.paid and invoice.total == 2000
        [charge] = charges_of(make_uow, invoice.id)
        assert (charge.created, charge.amount, charge.status) == (
            invoice.created, 2000, "succeeded")
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.active
    assert (sub.current_period_start, sub.current_period_end) == (
        year_later, datetime(2027, 2, 28, 12, tzinfo=UTC))
    assert sub.latest_invoice == invoices[-1].id


def test_renewal_events_carry_the_clock_time_in_order(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    already = len(events_of(make_uow, account_id))
    services.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    renewal_events = events_of(make_uow, account_id)[already:]
    boundaries = [FEB_28, datetime(2026, 3, 31, 12, tzinfo=UTC)]
    per_renewal = ["invoice.created", "invoice.finalized", "invoice.paid",
                   "invoice.payment_succeeded", "customer.subscription.updated"]
    assert [e.type for e in renewal_events] == per_renewal * 2
    assert [e.created for e in renewal_events] == [b for b in boundaries for _ in per_renewal]
    invoices = invoices_of(make_uow, sub.id)
    first_renewal = renewal_events[:5]
    assert {e.object_id for e in first_renewal[:4]} == {invoices[1].id}
    snapshots = [e.data_object for e in first_renewal[:3]]
    assert [(o["status"], o["amount_paid"], o["amount_remaining"]) for o in snapshots] == [
        ("draft", 0, 2000), ("open", 0, 2000), ("paid", 2000, 0)]
    assert [o["number"] is None for o in snapshots] == [True, False, False]
    assert [o["status_transitions"]["paid_at"] is None for o in snapshots] == [True, True, False]
    updated = first_renewal[4]
    assert updated.object_id == sub.id and updated.customer_id == customer.id
    assert updated.previous_attributes is not None
    assert updated.previous_attributes["latest_invoice"] == invoices[0].id
    assert updated.data_object["latest_invoice"] == invoices[1].id
    item = updated.data_object["items"]["data"][0]
    old_item = updated.previous_attributes["items"]["data"][0]
    assert (old_item["current_period_start"], old_item["current_period_end"]) == (
        int(START.timestamp()), int(FEB_28.timestamp()))
    assert item["current_period_start"] == int(FEB_28.timestamp())


def test_advance_clock_never_moves_back(account_id: str, make_uow: MakeUow,
                                        clock: FrozenClock) -> None:
    with raises_param(InvalidRequest, "frozen_time"):
        services.advance_clock(clock, START - timedelta(seconds=1), account_id=account_id,
                               uow_factory=make_uow)


def test_advance_clock_only_renews_the_given_account(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    from portal_app.accounts import services as accounts

    sub = subscribe(account_id, make_uow, customer, monthly)
    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    services.advance_clock(clock, datetime(2026, 3, 1, tzinfo=UTC), account_id=other,
                           uow_factory=make_uow)
    assert len(invoices_of(make_uow, sub.id)) == 1


def test_failing_card_goes_past_due_then_cancels(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    attach_card(account_id, make_uow, customer, "4000000000000341")  # the new default fails
    services.advance_clock(clock, FEB_28 + timedelta(days=1), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.past_due
    unpaid = invoices_of(make_uow, sub.id)[-1]
    assert (unpaid.status, unpaid.attempt_count, unpaid.amount_remaining) == (
        InvoiceStatus.open, 1, 2000)
    assert unpaid.last_decline_code == "generic_decline"
    [failed] = charges_of(make_uow, unpaid.id)
    assert (failed.status, failed.failure_code) == ("failed", "generic_decline")
    types = [e.type for e in events_of(make_uow, account_id)][-4:]
    assert types == ["invoice.created", "invoice.finalized", "invoice.payment_failed",
                     "customer.subscription.updated"]
    assert events_of(make_uow, account_id)[-1].previous_attributes["status"] == "active"

    march_31 = datetime(2026, 3, 31, 12, tzinfo=UTC)
    services.advance_clock(clock, datetime(2026, 6, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.canceled
    assert sub.ended_at == sub.canceled_at == march_31
    assert sub.cancellation_details["reason"] == "payment_failed"
    assert len(invoices_of(make_uow, sub.id)) == 2  # nothing billed after the end
    assert len(charges_of(make_uow, unpaid.id)) == 2  # retried once at the boundary
    deleted = events_of(make_uow, account_id)[-1]
    assert (deleted.type, deleted.created, deleted.object_id) == (
        "customer.subscription.deleted", march_31, sub.id)
    assert deleted.data_object["status"] == "canceled"
    assert deleted.previous_attributes["status"] == "past_due"


def test_past_due_recovers_when_the_card_is_fixed(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    good = customer.default_payment_method
    sub = subscribe(account_id, make_uow, customer, monthly)
    attach_card(account_id, make_uow, customer, "4000000000000341")
    services.advance_clock(clock, FEB_28 + timedelta(days=1), account_id=account_id,
                           uow_factory=make_uow)
    services.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                             default_payment_method=good)
    services.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.active
    invoices = invoices_of(make_uow, sub.id)
    assert [i.status for i in invoices] == [InvoiceStatus.paid] * 3
    retried = [e.type for e in events_of(make_uow, account_id, object_id=invoices[1].id)]
    assert retried[-2:] == ["invoice.paid", "invoice.payment_succeeded"]


def test_renewing_twice_bills_once(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                                   customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(FEB_28)
    services.renew_subscription(sub.id, uow=make_uow())
    before = count_rows(make_uow, account_id)
    again = services.renew_subscription(sub.id, uow=make_uow())
    assert again.current_period_start == FEB_28
    assert count_rows(make_uow, account_id) == before
    with raises_param(ResourceMissing, None):
        services.renew_subscription("sub_missing", uow=make_uow())


def test_cancel_at_period_end_takes_effect_at_the_boundary(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(days=3))
    sub = services.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                       at_period_end=True, feedback="too_expensive")
    assert sub.status == SubscriptionStatus.active
    assert (sub.cancel_at_period_end, sub.cancel_at) == (True, FEB_28)
    updated = events_of(make_uow, account_id)[-1]
    assert updated.type == "customer.subscription.updated"
    assert updated.previous_attributes is not None
    assert updated.previous_attributes["cancel_at_period_end"] is False
    assert updated.previous_attributes["cancel_at"] is None
    assert updated.data_object["cancellation_details"]["feedback"] == "too_expensive"

    services.advance_clock(clock, FEB_28 - timedelta(seconds=1), account_id=account_id,
                           uow_factory=make_uow)
    assert load(make_uow, Subscription, sub.id).status == SubscriptionStatus.active
    services.advance_clock(clock, datetime(2026, 5, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    sub = load(make_uow, Subscription, sub.id)
    assert sub.status == SubscriptionStatus.canceled and sub.ended_at == FEB_28
    assert sub.cancellation_details["reason"] == "cancellation_requested"
    assert len(invoices_of(make_uow, sub.id)) == 1
    deleted = events_of(make_uow, account_id)[-1]
    assert (deleted.type, deleted.created) == ("customer.subscription.deleted", FEB_28)


ORIGIN = {"portal_session": "bps_test", "configuration": "bpc_test",
          "cancellation_flow": "cflow_test", "experiment": "exp_test", "variant": "var_test"}


def uow_from(make_uow: MakeUow, origin: dict[str, Any] | None) -> UnitOfWork:
    """A unit of work whose changes come from ``origin`` (as a portal request's do)."""
    uow = make_uow()
    uow.origin = origin
    return uow


def ending(make_uow: MakeUow, account_id: str, sub_id: str) -> Event:
    """The subscription's ``customer.subscription.deleted`` event (there is one)."""
    [deleted] = [e for e in events_of(make_uow, account_id, object_id=sub_id)
                 if e.type == "customer.subscription.deleted"]
    return deleted


@pytest.mark.parametrize("origin", [ORIGIN, None], ids=["with_origin", "without_origin"])
def test_the_end_at_period_end_carries_the_origin_of_the_cancellation(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price, origin: dict[str, Any] | None) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(days=3))
    services.cancel_subscription(sub.id, account_id=account_id,
                                 uow=uow_from(make_uow, origin), at_period_end=True)
    scheduled = events_of(make_uow, account_id, object_id=sub.id)[-1]
    assert scheduled.origin == origin
    # Portico's bookkeeping, not a field of Stripe's subscription.
    assert "cancellation_origin" not in scheduled.data_object

    services.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    deleted = ending(make_uow, account_id, sub.id)
    assert (deleted.created, deleted.origin) == (FEB_28, origin)
    assert "cancellation_origin" not in deleted.data_object


def test_a_reactivated_subscription_forgets_the_origin_of_its_cancellation(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    from portal_app.billing import changes

    sub = subscribe(account_id, make_uow, customer, monthly)
    services.cancel_subscription(sub.id, account_id=account_id,
                                 uow=uow_from(make_uow, ORIGIN), at_period_end=True)
    changes.reactivate_subscription(sub.id, account_id=account_id, uow=make_uow())
    assert load(make_uow, Subscription, sub.id).cancellation_origin is None
    # Canceled again later by the merchant's API (no origin): that end names nothing.
    services.advance_clock(clock, FEB_28 + timedelta(days=1), account_id=account_id,
                           uow_factory=make_uow)
    services.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                 at_period_end=True)
    services.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    deleted = ending(make_uow, account_id, sub.id)
    assert deleted.created == datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert deleted.origin is None
    renewed = [e for e in events_of(make_uow, account_id, object_id=sub.id)
               if e.created == FEB_28 and e.type == "customer.subscription.updated"]
    assert renewed and all(e.origin is None for e in renewed)


def test_a_subscription_created_to_cancel_ends_with_its_creation_origin(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = services.create_subscription(
        account_id=account_id, uow=uow_from(make_uow, ORIGIN), customer=customer.id,
        items=[ItemSpec(monthly.id)], cancel_at_period_end=True)
    services.advance_clock(clock, datetime(2026, 4, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    assert ending(make_uow, account_id, sub.id).origin == ORIGIN


def test_cancel_now(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                   customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    later = START + timedelta(days=5)
    clock.set(later)
    sub = services.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                       comment="moving on")
    assert sub.status == SubscriptionStatus.canceled
    assert sub.canceled_at == sub.ended_at == later
    assert sub.cancellation_details == {"comment": "moving on", "feedback": None,
                                        "reason": "cancellation_requested"}
    deleted = events_of(make_uow, account_id)[-1]
    assert (deleted.type, deleted.created) == ("customer.subscription.deleted", later)
    assert deleted.previous_attributes["status"] == "active"
    with raises_param(InvalidRequest, None, "subscription_canceled"):
        services.cancel_subscription(sub.id, account_id=account_id, uow=make_uow())
    services.advance_clock(clock, datetime(2026, 6, 1, tzinfo=UTC), account_id=account_id,
                           uow_factory=make_uow)
    assert len(invoices_of(make_uow, sub.id)) == 1


def test_cancel_is_scoped_to_the_customer(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    stranger = new_customer(account_id, make_uow)
    with raises_param(ResourceMissing, "id", "resource_missing"):
        services.cancel_subscription(sub.id, account_id=account_id, uow=make_uow(),
                                     customer_id=stranger.id)
    assert load(make_uow, Subscription, sub.id).status == SubscriptionStatus.active


# --- listing -----------------------------------------------------------------------------


def test_list_subscriptions_and_invoices(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    first = subscribe(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(hours=1))
    second = subscribe(account_id, make_uow, customer, new_price(account_id, make_uow))
    services.cancel_subscription(first.id, account_id=account_id, uow=make_uow())

    def listed(**kw: Any) -> list[str]:
        return [s.id for s in services.list_subscriptions(account_id=account_id, uow=make_uow(),
                                                          customer_id=customer.id, **kw)]

    assert listed() == [second.id]
    assert listed(status="all") == [second.id, first.id]
    assert listed(status="canceled") == listed(status="ended") == [first.id]
    with raises_param(InvalidRequest, "status"):
        listed(status="sleeping")
    invoices = services.list_invoices(account_id=account_id, uow=make_uow(),
                                      customer_id=customer.id)
    assert [i.subscription_id for i in invoices] == [second.id, first.id]
    with raises_param(ResourceMissing, "customer"):
        services.list_invoices(account_id=account_id, uow=make_uow(), customer_id="cus_nope")
    stranger = new_customer(account_id, make_uow)
    with raises_param(ResourceMissing, "id"):
        services.retrieve_invoice(invoices[0].id, account_id=account_id, uow=make_uow(),
                                  customer_id=stranger.id)
    with raises_param(ResourceMissing, "id"):
        services.retrieve_subscription(second.id, account_id=account_id, uow=make_uow(),
                                       customer_id=stranger.id)


# --- ids and the event store -------------------------------------------------------------


def test_ids_are_random_with_stripe_prefixes(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    [invoice] = invoices_of(make_uow, sub.id)
    [line] = lines_of(make_uow, invoice.id)
    [charge] = charges_of(make_uow, invoice.id)
    item_id = events_of(make_uow, account_id, object_id=sub.id)[0].data_object["items"][
        "data"][0]["id"]
    ids = {"cus": customer.id, "pm": customer.default_payment_method, "price": monthly.id,
           "prod": monthly.product_id, "sub": sub.id, "si": item_id, "in": invoice.id,
           "il": line.id, "ch": charge.id, "evt": events_of(make_uow, account_id)[0].id}
    for prefix, object_id in ids.items():
        assert re.fullmatch(rf"{prefix}_[0-9A-Za-z]{{24}}", object_id or ""), object_id
    customers = [new_customer(account_id, make_uow).id for _ in range(20)]
    assert len(set(customers)) == 20
    assert sorted(customers) != customers or sorted(customers, reverse=True) != customers
    suffixes = [c.removeprefix("cus_") for c in customers]
    assert len({s[:4] for s in suffixes}) > 10  # no shared counter-like prefix


def test_an_event_is_written_only_with_its_change(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    before = count_rows(make_uow, account_id)
    uow = make_uow()
    with pytest.raises(RuntimeError), uow:
        services.update_customer(customer.id, account_id=account_id, uow=uow, name="Changed")
        flushed = uow.session.exec(select(Event).where(Event.object_id == customer.id)).all()
        assert flushed[-1].type == "customer.updated"  # appended in this transaction
        raise RuntimeError("the request failed after the event was appended")
    assert count_rows(make_uow, account_id) == before
    assert load(make_uow, Customer, customer.id).name == "Ada"


def test_a_renewal_that_fails_midway_leaves_no_event(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    before = count_rows(make_uow, account_id)
    clock.set(FEB_28)
    uow = make_uow()
    with pytest.raises(RuntimeError), uow:
        services.renew_subscription(sub.id, uow=uow)
        raise RuntimeError("crash before commit")
    assert count_rows(make_uow, account_id) == before
    assert load(make_uow, Subscription, sub.id).current_period_end == FEB_28


# --- renewals over any anchor (hypothesis) -----------------------------------------------


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    anchor=st.one_of(
        st.sampled_from([datetime(2026, 1, 31, 12, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC),
                         datetime(2027, 3, 31, 23, 59, tzinfo=UTC),
                         datetime(2026, 5, 30, 8, tzinfo=UTC)]),
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1),
                     timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0)),
    ),
    interval=st.sampled_from(["day", "week", "month", "year"]),
    count=st.integers(1, 3),
    periods=st.integers(1, 6),
    percent_off=st.one_of(st.none(), st.sampled_from([10, 33.3, 62.5])),
)
def test_renewal_periods_are_contiguous_and_totals_add_up(
        database: Any, anchor: datetime, interval: str, count: int, periods: int,
        percent_off: float | None) -> None:
    from portal_app.accounts import services as accounts
    from portal_app.db import UnitOfWork

    clock = FrozenClock(anchor)

    def make_uow() -> UnitOfWork:
        return UnitOfWork(database, clock=clock)

    account_id = accounts.create_account(business_name="Prop", email="p@x.test",
                                         uow=make_uow()).id
    customer = new_customer(account_id, make_uow, "pm_card_visa")
    prices = [new_price(account_id, make_uow, amount=a, interval=interval, count=count)
              for a in (999, 1)]
    coupon = services.create_coupon(account_id=account_id, uow=make_uow(),
                                    percent_off=percent_off, duration="forever"
                                    ) if percent_off else None
    sub = subscribe(account_id, make_uow, customer, *prices, coupon=coupon.id if coupon else None)
    end = shift(anchor, interval, count * periods)
    renewals = services.advance_clock(clock, end, account_id=account_id, uow_factory=make_uow)
    assert renewals == periods
    invoices = invoices_of(make_uow, sub.id)
    assert len(invoices) == periods + 1
    for k, invoice in enumerate(invoices):
        assert invoice.period_start == shift(anchor, interval, count * k) == invoice.created
        assert invoice.period_end == shift(anchor, interval, count * (k + 1))
        lines = lines_of(make_uow, invoice.id)
        assert invoice.subtotal == sum(line.amount for line in lines) == 1000
        assert invoice.total_discount == sum(line.discount_amount for line in lines)
        assert invoice.total == invoice.subtotal - invoice.total_discount == invoice.amount_paid
    for previous, following in zip(invoices, invoices[1:], strict=False):
        assert previous.period_end == following.period_start
    assert load(make_uow, Subscription, sub.id).current_period_start == end
