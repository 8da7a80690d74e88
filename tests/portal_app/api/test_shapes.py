"""Every object the API serves has exactly the fields of the SDK's class, at every depth.

Merchant code written against Stripe must never meet a missing key (nor a key
Stripe does not send). The field lists come from the pinned SDK's annotations.
"""

from __future__ import annotations

from typing import Any

import httpx
import stripe

from portal_app.stripe_shapes import stripe_fields


def mismatches(cls: type, obj: Any, path: str) -> list[str]:
    """Where ``obj`` (raw JSON) differs from ``cls``'s fields, recursing into nested objects."""
    if not isinstance(obj, dict):
        return []
    expected, actual = set(stripe_fields(cls)), set(obj)
    problems = []
    if expected != actual:
        problems.append(f"{path} ({cls.__qualname__}): missing {sorted(expected - actual)}, "
                        f"extra {sorted(actual - expected)}")
    for name, inner in getattr(cls, "_inner_class_types", {}).items():
        value = obj.get(name)
        values = value if isinstance(value, list) else [value]
        for i, item in enumerate(values):
            problems += mismatches(inner, item, f"{path}.{name}" + (
                f"[{i}]" if isinstance(value, list) else ""))
    return problems


LIST_KEYS = {"object", "data", "has_more", "url"}


def test_every_served_object_has_the_sdks_exact_fields(client: stripe.StripeClient,
                                                       api_url: str, api_key: str) -> None:
    product = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": product.id, "currency": "usd",
                                     "unit_amount": 1000, "recurring": {"interval": "month"}})
    customer = client.v1.customers.create({
        "email": "shape@example.com",
        "address": {"line1": "1 Main St", "country": "US"},
        "shipping": {"name": "Ada", "address": {"line1": "2 Side St", "country": "US"}},
    })
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    client.v1.customers.update(customer.id,
                               {"invoice_settings": {"default_payment_method": pm.id}})
    coupon = client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    sub = client.v1.subscriptions.create({"customer": customer.id,
                                          "items": [{"price": price.id}],
                                          "discounts": [{"coupon": coupon.id}]})
    config = client.v1.billing_portal.configurations.create({"features": {
        "subscription_cancel": {"enabled": True, "cancellation_reason": {
            "enabled": True, "options": ["other"]}},
        "subscription_pause": {"enabled": True, "duration": {
            "type": "interval_options", "interval_options": [{"interval": "month"}]}},
        "subscription_update": {"enabled": True, "products": [
            {"product": product.id, "prices": [price.id]}],
            "schedule_at_period_end": {"conditions": [{"type": "shortening_interval"}]}},
    }})
    session = client.v1.billing_portal.sessions.create({
        "customer": customer.id, "configuration": config.id,
        "flow_data": {"type": "subscription_cancel",
                      "subscription_cancel": {"subscription": sub.id}}})
    invoice_id = client.v1.subscriptions.retrieve(sub.id).latest_invoice

    auth = {"Authorization": f"Bearer {api_key}"}

    def get(path: str) -> dict[str, Any]:
        response = httpx.get(f"{api_url}{path}", headers=auth)
        assert response.status_code == 200, response.text
        return response.json()

    served = {
        stripe.Customer: get(f"/v1/customers/{customer.id}"),
        stripe.Product: get(f"/v1/products/{product.id}"),
        stripe.Price: get(f"/v1/prices/{price.id}"),
        stripe.PaymentMethod: get(f"/v1/payment_methods/{pm.id}"),
        stripe.Coupon: get(f"/v1/coupons/{coupon.id}"),
        stripe.Subscription: get(f"/v1/subscriptions/{sub.id}"),
        stripe.Invoice: get(f"/v1/invoices/{invoice_id}"),
        stripe.billing_portal.Configuration: get(
            f"/v1/billing_portal/configurations/{config.id}"),
        stripe.billing_portal.Session: session.last_response.data,
    }
    problems: list[str] = []
    for cls, obj in served.items():
        problems += mismatches(cls, obj, cls.OBJECT_NAME)  # type: ignore[attr-defined]
    subscription, invoice = served[stripe.Subscription], served[stripe.Invoice]
    assert set(subscription["items"]) == LIST_KEYS and set(invoice["lines"]) == LIST_KEYS
    for item in subscription["items"]["data"]:
        problems += mismatches(stripe.SubscriptionItem, item, "subscription.items.data")
    for line in invoice["lines"]["data"]:
        problems += mismatches(stripe.InvoiceLineItem, line, "invoice.lines.data")
    for listed in (get("/v1/customers"), get(f"/v1/customers/{customer.id}/payment_methods")):
        assert set(listed) == LIST_KEYS
    assert not problems, "\n".join(problems)
