"""Contract: a customer's invoices."""

from __future__ import annotations

import stripe

from portal_app.billing.provider import BillingProvider
from portal_app.stripe_shapes import stripe_fields


def test_invoices_are_complete_stripe_objects(provider: BillingProvider,
                                              shop: dict[str, str]) -> None:
    [invoice] = provider.list_invoices(shop["ada"])
    assert set(invoice) == set(stripe_fields(stripe.Invoice))
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 1500)
    assert invoice["parent"]["subscription_details"]["subscription"] == shop["sub"]


def test_invoices_of_another_customer_are_not_listed(provider: BillingProvider,
                                                     shop: dict[str, str]) -> None:
    assert provider.list_invoices(shop["bob"]) == []
