"""tests/localstripe_shim.py: the mappings no contract test reaches, checked through the SDK."""

from __future__ import annotations

import stripe

from portal_app.testing.localstripe import LocalStripe
from tests.localstripe_server import LOCALSTRIPE_KEY


def client_of(server: LocalStripe) -> stripe.StripeClient:
    """The SDK pointed at ``server``, without retries."""
    return stripe.StripeClient(LOCALSTRIPE_KEY, base_addresses={"api": server.url},
                               max_network_retries=0)


def test_tax_ids_are_paged_by_limit(localstripe_shimmed: LocalStripe) -> None:
    client = client_of(localstripe_shimmed)
    customer = client.v1.customers.create(params={"email": "tax@example.com"})
    made = [client.v1.customers.tax_ids.create(
        customer.id, params={"type": "eu_vat", "value": f"DE12345678{n}"}).id for n in range(3)]
    page = client.v1.customers.tax_ids.list(customer.id, params={"limit": 2})
    assert [t.id for t in page.data] == made[:2] and page.has_more
    assert [t.id for t in page.auto_paging_iter()] == made


def test_pm_card_amex_is_an_amex_card_and_the_default(localstripe_shimmed: LocalStripe
                                                      ) -> None:
    client = client_of(localstripe_shimmed)
    customer = client.v1.customers.create(params={
        "payment_method": "pm_card_amex",
        "invoice_settings": {"default_payment_method": "pm_card_amex"}})
    default = customer.invoice_settings.default_payment_method
    assert isinstance(default, str) and default.startswith("pm_") and default != "pm_card_amex"
    [card] = client.v1.customers.payment_methods.list(customer.id).data
    assert (card.id, card.card.brand, card.card.last4) == (default, "amex", "0005")
    assert card.customer == customer.id


def test_a_price_is_its_plan(localstripe_shimmed: LocalStripe) -> None:
    client = client_of(localstripe_shimmed)
    product = client.v1.products.create(params={"name": "Shim"})
    price = client.v1.prices.create(params={
        "product": product.id, "currency": "eur", "unit_amount": 900,
        "recurring": {"interval": "month"}})
    plan = client.v1.plans.retrieve(price.id)
    assert (plan.amount, plan.interval, plan.product) == (900, "month", product.id)
    customer = client.v1.customers.create(params={
        "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    sub = client.v1.subscriptions.create(params={"customer": customer.id,
                                                 "items": [{"price": price.id}]})
    [item] = sub["items"].data
    assert item.price.id == price.id and item.price.unit_amount == 900
    assert client.v1.prices.retrieve(price.id).to_dict() == price.to_dict()


def test_pm_card_mastercard_attaches_a_mastercard(localstripe_shimmed: LocalStripe) -> None:
    client = client_of(localstripe_shimmed)
    customer = client.v1.customers.create(params={"email": "mc@example.com"})
    card = client.v1.payment_methods.attach("pm_card_mastercard",
                                            params={"customer": customer.id})
    assert card.id.startswith("pm_") and card.id != "pm_card_mastercard"
    assert (card.customer, card.card.brand, card.card.last4) == (
        customer.id, "mastercard", "4444")
    assert client.v1.customers.payment_methods.retrieve(customer.id, card.id).id == card.id
