"""Every endpoint, driven by the official ``stripe`` SDK with only its API base changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe

from portal_app.clock import FrozenClock, to_unix


@pytest.fixture
def plan(client: stripe.StripeClient) -> stripe.Price:
    """A monthly 19.99 EUR price of a new product."""
    product = client.v1.products.create({"name": "Pro"})
    return client.v1.prices.create({
        "product": product.id, "currency": "eur", "unit_amount": 1999,
        "recurring": {"interval": "month"},
    })


@pytest.fixture
def paying_customer(client: stripe.StripeClient) -> stripe.Customer:
    """A customer whose default payment method is a working Visa."""
    customer = client.v1.customers.create({"email": "ada@example.com", "name": "Ada"})
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    return client.v1.customers.update(
        customer.id, {"invoice_settings": {"default_payment_method": pm.id}})


# --- customers ---------------------------------------------------------------------------


def test_customer_create_retrieve_update_list(client: stripe.StripeClient) -> None:
    created = client.v1.customers.create({
        "email": "grace@example.com", "name": "Grace Hopper", "phone": "+1 555 0100",
        "description": "admiral", "preferred_locales": ["en", "fr"],
        "address": {"line1": "1 Navy Way", "city": "Arlington", "country": "US"},
        "metadata": {"crm_id": "42"},
    })
    assert created.id.startswith("cus_")
    assert created.object == "customer"
    assert created.address.line1 == "1 Navy Way" and created.address.state is None
    assert created.preferred_locales == ["en", "fr"]
    assert created.metadata["crm_id"] == "42"

    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.email == "grace@example.com" and fetched.name == "Grace Hopper"

    updated = client.v1.customers.update(created.id, {
        "name": "Rear Admiral Hopper", "metadata": {"crm_id": "", "tier": "gold"},
    })
    assert updated.name == "Rear Admiral Hopper"
    assert updated.metadata.to_dict() == {"tier": "gold"}

    client.v1.customers.create({"email": "other@example.com"})
    by_email = client.v1.customers.list({"email": "grace@example.com"})
    assert [c.id for c in by_email.data] == [created.id]
    assert by_email.url == "/v1/customers" and by_email.has_more is False


def test_customer_with_payment_method_at_creation(client: stripe.StripeClient) -> None:
    pm = client.v1.payment_methods.create({"type": "card", "card": {"token": "pm_card_visa"}})
    customer = client.v1.customers.create({"payment_method": pm.id})
    assert customer.invoice_settings.default_payment_method == pm.id


def test_customer_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_nope")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"
    assert missing.value.param == "id"
    with pytest.raises(stripe.InvalidRequestError) as email:
        client.v1.customers.create({"email": "not-an-email"})
    assert email.value.http_status == 400
    assert email.value.param == "email" and email.value.code == "email_invalid"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.customers.create({"emial": "typo@example.com"})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.param == "emial"
    assert "Received unknown parameter: emial" in str(unknown.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as nested:
        client.v1.customers.create({"address": {"line9": "x"}})  # type: ignore[typeddict-item]
    assert nested.value.param == "address[line9]"


# --- products and prices -----------------------------------------------------------------


def test_product_create_retrieve_update_list(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Starter", "description": "For hobbyists",
                                         "metadata": {"tier": "1"}})
    assert product.id.startswith("prod_") and product.active is True
    assert client.v1.products.retrieve(product.id).name == "Starter"
    updated = client.v1.products.update(product.id, {"name": "Starter+", "active": False,
                                                     "description": ""})
    assert updated.name == "Starter+" and updated.active is False
    assert updated.description is None
    active = client.v1.products.create({"name": "Team"})
    listed = client.v1.products.list({"active": True})
    assert [p.id for p in listed.data] == [active.id]
    assert {p.id for p in client.v1.products.list().data} == {product.id, active.id}
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.products.create({})  # type: ignore[typeddict-item]
    assert missing.value.param == "name" and missing.value.code == "parameter_missing"


def test_price_create_retrieve_list(client: stripe.StripeClient) -> None:
    price = client.v1.prices.create({
        "product_data": {"name": "Analytics"}, "currency": "usd", "unit_amount": 4900,
        "recurring": {"interval": "year", "interval_count": 1, "usage_type": "licensed"},
        "nickname": "yearly",
    })
    assert price.id.startswith("price_") and price.type == "recurring"
    assert price.recurring.interval == "year" and price.recurring.interval_count == 1
    assert price.unit_amount == 4900 and price.currency == "usd"
    product = client.v1.products.retrieve(price.product)
    assert product.name == "Analytics" and product.default_price == price.id
    monthly = client.v1.prices.create({"product": product.id, "currency": "usd",
                                       "unit_amount": 500, "recurring": {"interval": "month",
                                                                         "interval_count": 3}})
    assert client.v1.prices.retrieve(monthly.id).recurring.interval_count == 3
    other = client.v1.prices.create({"product_data": {"name": "Other"}, "currency": "usd",
                                     "unit_amount": 100})
    assert other.recurring is None and other.type == "one_time"
    listed = client.v1.prices.list({"product": product.id})
    assert [p.id for p in listed.data] == sorted([price.id, monthly.id], reverse=True)
    client.v1.products.update(product.id, {"default_price": monthly.id})
    assert client.v1.prices.list({"active": True, "product": other.product}).data[0].id == \
        other.id


def test_price_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as bad_int:
        client.v1.prices.create({"product_data": {"name": "X"}, "currency": "usd",
                                 "unit_amount": "12.5"})  # type: ignore[typeddict-item]
    assert bad_int.value.param == "unit_amount"
    assert "Invalid integer" in str(bad_int.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as interval:
        client.v1.prices.create({"product_data": {"name": "X"}, "currency": "usd",
                                 "unit_amount": 100,
                                 "recurring": {"interval": "fortnight"}})  # type: ignore[typeddict-item]
    assert interval.value.param == "recurring[interval]"
    with pytest.raises(stripe.InvalidRequestError) as product:
        client.v1.prices.create({"product": "prod_missing", "currency": "usd",
                                 "unit_amount": 100})
    assert product.value.http_status == 404 and product.value.param == "product"


# --- payment methods ---------------------------------------------------------------------


def test_payment_method_from_card_number_and_token(client: stripe.StripeClient,
                                                   clock: FrozenClock) -> None:
    year = clock().year + 2
    pm = client.v1.payment_methods.create({"type": "card", "card": {
        "number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": year, "cvc": "123"},
        "billing_details": {"name": "Ada Lovelace"}})
    assert pm.id.startswith("pm_") and pm.type == "card"
    assert (pm.card.brand, pm.card.last4, pm.card.exp_month, pm.card.exp_year) == \
        ("visa", "4242", 12, year)
    assert pm.billing_details.name == "Ada Lovelace" and pm.customer is None
    assert "4242424242424242" not in str(pm)
    token = client.v1.payment_methods.create({"type": "card",
                                              "card": {"token": "pm_card_mastercard"}})
    assert token.card.brand == "mastercard"
    assert client.v1.payment_methods.retrieve(pm.id).card.last4 == "4242"


def test_payment_method_attach_and_list(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({"email": "pm@example.com"})
    created = client.v1.payment_methods.create({"type": "card",
                                                "card": {"token": "pm_card_amex"}})
    attached = client.v1.payment_methods.attach(created.id, {"customer": customer.id})
    assert attached.customer == customer.id
    test_id = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    assert test_id.id.startswith("pm_") and test_id.id != "pm_card_visa"
    assert test_id.card.brand == "visa"
    listed = client.v1.customers.payment_methods.list(customer.id)
    assert {pm.id for pm in listed.data} == {attached.id, test_id.id}
    assert listed.url == f"/v1/customers/{customer.id}/payment_methods"
    by_query = client.v1.payment_methods.list({"customer": customer.id, "type": "card"})
    assert [pm.id for pm in by_query.data] == [pm.id for pm in listed.data]


def test_payment_method_errors(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({})
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", {"customer": customer.id})
    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"
    assert declined.value.error.decline_code == "generic_decline"
    assert client.v1.customers.payment_methods.list(customer.id).data == []
    with pytest.raises(stripe.InvalidRequestError) as luhn:  # a wrong check digit: 400
        client.v1.payment_methods.create({"type": "card", "card": {
            "number": "4242424242424241", "exp_month": 1, "exp_year": 2030}})
    assert luhn.value.code == "incorrect_number" and luhn.value.param == "card[number]"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_methods.attach("pm_nope", {"customer": customer.id})
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as no_customer:
        client.v1.customers.payment_methods.list("cus_nope")
    assert no_customer.value.http_status == 404 and no_customer.value.param == "customer"


# --- coupons -----------------------------------------------------------------------------


def test_coupon_create_retrieve(client: stripe.StripeClient) -> None:
    coupon = client.v1.coupons.create({"percent_off": 25.5, "duration": "repeating",
                                       "duration_in_months": 3, "name": "Quarter off"})
    assert coupon.percent_off == 25.5 and coupon.duration_in_months == 3
    assert client.v1.coupons.retrieve(coupon.id).name == "Quarter off"
    named = client.v1.coupons.create({"id": "WELCOME10", "amount_off": 1000,
                                      "currency": "eur", "duration": "once"})
    assert named.id == "WELCOME10" and named.amount_off == 1000
    with pytest.raises(stripe.InvalidRequestError) as both:
        client.v1.coupons.create({"duration": "once"})
    assert both.value.param == "percent_off"


# --- subscriptions and invoices ----------------------------------------------------------


def test_subscription_create_retrieve_and_invoice(client: stripe.StripeClient,
                                                  plan: stripe.Price,
                                                  paying_customer: stripe.Customer) -> None:
    sub = client.v1.subscriptions.create({
        "customer": paying_customer.id, "items": [{"price": plan.id, "quantity": 2}],
        "metadata": {"order": "7"}, "expand": ["latest_invoice"],
    })
    assert sub.id.startswith("sub_") and sub.status == "active"
    assert sub["items"].data[0].price.id == plan.id and sub["items"].data[0].quantity == 2
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.status, invoice.amount_paid, invoice.currency) == ("paid", 3998, "eur")
    fetched = client.v1.subscriptions.retrieve(sub.id)
    assert fetched.latest_invoice == invoice.id and fetched.metadata["order"] == "7"
    assert client.v1.invoices.retrieve(invoice.id).lines.data[0].amount == 3998
    invoices = client.v1.invoices.list({"customer": paying_customer.id})
    assert [i.id for i in invoices.data] == [invoice.id]
    assert client.v1.invoices.list({"subscription": sub.id, "status": "paid"}).data[0].id == \
        invoice.id
    assert client.v1.invoices.list({"subscription": sub.id, "status": "open"}).data == []
    expanded = client.v1.subscriptions.retrieve(sub.id, {"expand": ["customer"]})
    assert expanded.customer.email == "ada@example.com"


def test_subscription_options(client: stripe.StripeClient, plan: stripe.Price,
                              paying_customer: stripe.Customer, clock: FrozenClock) -> None:
    coupon = client.v1.coupons.create({"percent_off": 50, "duration": "once"})
    trial = client.v1.subscriptions.create({
        "customer": paying_customer.id, "items": [{"price": plan.id}],
        "trial_period_days": 14, "cancel_at_period_end": True,
    })
    assert trial.status == "trialing"
    assert trial.trial_end == to_unix(clock() + timedelta(days=14))
    assert trial.cancel_at_period_end is True
    end = to_unix(clock() + timedelta(days=3))
    until = client.v1.subscriptions.create({"customer": paying_customer.id,
                                            "items": [{"price": plan.id}], "trial_end": end})
    assert until.trial_end == end
    discounted = client.v1.subscriptions.create({
        "customer": paying_customer.id, "items": [{"price": plan.id}],
        "discounts": [{"coupon": coupon.id}], "expand": ["latest_invoice"],
    })
    assert discounted.latest_invoice.amount_paid == 1999 - 1000  # half off, discount rounded
    assert len(discounted.discounts) == 1
    invoiced = client.v1.subscriptions.create({
        "customer": paying_customer.id, "items": [{"price": plan.id}],
        "collection_method": "send_invoice", "days_until_due": 7,
        "default_payment_method": paying_customer.invoice_settings.default_payment_method,
        "expand": ["latest_invoice"],
    })
    assert invoiced.collection_method == "send_invoice" and invoiced.days_until_due == 7
    assert invoiced.latest_invoice.status == "open"
    assert invoiced.latest_invoice.due_date == to_unix(clock() + timedelta(days=7))
    legacy_coupon = client.v1.subscriptions.create({
        "customer": paying_customer.id, "items": [{"price": plan.id}], "coupon": coupon.id,
    })
    assert len(legacy_coupon.discounts) == 1


def test_subscription_list_filters(client: stripe.StripeClient, plan: stripe.Price,
                                   paying_customer: stripe.Customer) -> None:
    kept = client.v1.subscriptions.create({"customer": paying_customer.id,
                                           "items": [{"price": plan.id}]})
    gone = client.v1.subscriptions.create({"customer": paying_customer.id,
                                           "items": [{"price": plan.id}]})
    canceled = client.v1.subscriptions.cancel(gone.id)
    assert canceled.status == "canceled"
    other = client.v1.customers.create({})
    client.v1.payment_methods.attach("pm_card_visa", {"customer": other.id})
    default = client.v1.subscriptions.list({"customer": paying_customer.id})
    assert [s.id for s in default.data] == [kept.id]  # canceled ones only on request
    everything = client.v1.subscriptions.list({"customer": paying_customer.id,
                                               "status": "all"})
    assert {s.id for s in everything.data} == {kept.id, gone.id}
    only_canceled = client.v1.subscriptions.list({"status": "canceled"})
    assert [s.id for s in only_canceled.data] == [gone.id]
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.subscriptions.list({"status": "sleeping"})  # type: ignore[typeddict-item]
    assert bad.value.param == "status"


def test_declined_first_charge_leaves_no_subscription(client: stripe.StripeClient,
                                                      plan: stripe.Price,
                                                      clock: FrozenClock) -> None:
    customer = client.v1.customers.create({"email": "broke@example.com"})
    pm = client.v1.payment_methods.create({"type": "card", "card": {
        "number": "4000000000000341", "exp_month": 12, "exp_year": clock().year + 1}})
    client.v1.payment_methods.attach(pm.id, {"customer": customer.id})  # attaches fine
    with pytest.raises(stripe.CardError) as declined:
        client.v1.subscriptions.create({"customer": customer.id,
                                        "items": [{"price": plan.id}],
                                        "default_payment_method": pm.id})
    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"
    assert declined.value.error.decline_code == "generic_decline"
    assert client.v1.subscriptions.list({"customer": customer.id, "status": "all"}).data == []
    assert client.v1.invoices.list({"customer": customer.id}).data == []


def test_subscription_errors(client: stripe.StripeClient, plan: stripe.Price,
                             paying_customer: stripe.Customer) -> None:
    with pytest.raises(stripe.InvalidRequestError) as price:
        client.v1.subscriptions.create({"customer": paying_customer.id,
                                        "items": [{"price": "price_missing"}]})
    assert price.value.http_status == 404 and price.value.param == "items[0][price]"
    with pytest.raises(stripe.InvalidRequestError) as quantity:
        client.v1.subscriptions.create({"customer": paying_customer.id,
                                        "items": [{"price": plan.id, "quantity": "two"}]})  # type: ignore[typeddict-item]
    assert quantity.value.param == "items[0][quantity]"
    with pytest.raises(stripe.InvalidRequestError) as items:
        client.v1.subscriptions.create({"customer": paying_customer.id})  # type: ignore[typeddict-item]
    assert items.value.param == "items" and items.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.subscriptions.retrieve("sub_missing")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as invoice:
        client.v1.invoices.retrieve("in_missing")
    assert invoice.value.http_status == 404
