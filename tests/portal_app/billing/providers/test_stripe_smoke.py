"""The Stripe-backed provider reaches "Stripe" (a second Portico) through the SDK."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe

from portal_app.billing.providers import billing_provider
from portal_app.billing.providers.stripe import StripeBillingProvider
from portal_app.db import UnitOfWork
from portal_app.errors import ResourceMissing


def test_a_stripe_backed_account_keeps_its_customers_in_stripe(
        stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
        make_uow: Callable[[], UnitOfWork]) -> None:
    billing = billing_provider(stripe_backed_account_id, uow=make_uow())
    assert isinstance(billing, StripeBillingProvider)
    ada = billing.create_customer(email="ada@example.com", name="Ada")
    assert stripe_side_client.v1.customers.retrieve(ada["id"]).email == "ada@example.com"
    assert billing.retrieve_customer(ada["id"])["name"] == "Ada"
    with pytest.raises(ResourceMissing):
        billing.retrieve_customer("cus_missing")
