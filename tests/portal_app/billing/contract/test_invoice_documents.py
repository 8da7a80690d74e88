"""Contract: one invoice, as the hosted invoice page and the PDF read it."""

from __future__ import annotations

import pytest
import stripe

from portal_app.billing.provider import BillingProvider
from portal_app.errors import ResourceMissing
from portal_app.stripe_shapes import stripe_fields


def test_retrieve_invoice_is_the_listed_invoice(provider: BillingProvider,
                                                shop: dict[str, str]) -> None:
    [listed] = provider.list_invoices(shop["ada"])
    invoice = provider.retrieve_invoice(listed["id"])
    assert invoice == listed
    assert set(invoice) == set(stripe_fields(stripe.Invoice))
    assert provider.retrieve_invoice(listed["id"], customer_id=shop["ada"]) == listed
    assert invoice["lines"]["data"][0]["amount"] == 1500


def test_an_invoice_of_another_customer_or_account_is_missing(
        provider: BillingProvider, other_provider: BillingProvider,
        shop: dict[str, str]) -> None:
    [invoice] = provider.list_invoices(shop["ada"])
    with pytest.raises(ResourceMissing):
        provider.retrieve_invoice(invoice["id"], customer_id=shop["bob"])
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_invoice(invoice["id"])
    with pytest.raises(ResourceMissing):
        provider.retrieve_invoice("in_doesnotexist")
