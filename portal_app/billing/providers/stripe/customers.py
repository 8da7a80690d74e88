"""The Stripe-backed provider's customers and their tax IDs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from portal_app.billing.provider import StripeObject
from portal_app.billing.providers.stripe.base import StripeProviderBase, plain
from portal_app.errors import InvalidRequest

# What a customer may change about themselves (the contract's update_customer).
CUSTOMER_DETAIL_FIELDS = ("email", "name", "phone", "address", "shipping", "preferred_locales")


class CustomersPart(StripeProviderBase):
    """The contract's customers and tax IDs, as Stripe calls."""

    def retrieve_customer(self, customer_id: str) -> StripeObject:
        return self.live_customer(customer_id)

    def update_customer(self, customer_id: str, **details: Any) -> StripeObject:
        unknown = sorted(set(details) - set(CUSTOMER_DETAIL_FIELDS))
        if unknown:
            raise InvalidRequest(f"Received unknown parameter: {unknown[0]}", param=unknown[0])
        self.retrieve_customer(customer_id)  # a deleted customer is missing, not updated
        params: Any = dict(details)
        return plain(self.calls.write(
            lambda options: self.v1.customers.update(customer_id, params, options=options),
            what=f"customers.update:{customer_id}", params=params))

    def create_customer(self, *, email: str | None = None, name: str | None = None,
                        payment_method: str | None = None,
                        preferred_locales: Sequence[str] = (),
                        metadata: Mapping[str, str] | None = None) -> StripeObject:
        params: dict[str, Any] = {key: value for key, value in (
            ("email", email), ("name", name), ("metadata", dict(metadata or {})),
            ("preferred_locales", list(preferred_locales)),
            ("test_clock", self.test_clock)) if value}
        if payment_method:
            params["payment_method"] = payment_method
            params["invoice_settings"] = {"default_payment_method": payment_method}
        return plain(self.calls.write(
            lambda options: self.v1.customers.create(params, options=options),  # type: ignore[arg-type]
            what="customers.create", params=params))

    # --- tax IDs: Stripe scopes them under the customer, so another's is a 404 ---------

    def list_tax_ids(self, customer_id: str) -> list[StripeObject]:
        self.retrieve_customer(customer_id)  # a deleted customer has no tax IDs to show
        return self.read_all(lambda options: self.v1.customers.tax_ids.list(
            customer_id, {"limit": 100}, options=options))

    def create_tax_id(self, customer_id: str, *, type: str, value: str) -> StripeObject:
        params: Any = {"type": type, "value": value}
        return plain(self.calls.write(
            lambda options: self.v1.customers.tax_ids.create(customer_id, params,
                                                             options=options),
            what=f"customers.tax_ids.create:{customer_id}", params=params))

    def delete_tax_id(self, customer_id: str, tax_id: str) -> StripeObject:
        deleted = self.calls.write(
            lambda options: self.v1.customers.tax_ids.delete(customer_id, tax_id,
                                                             options=options),
            what=f"customers.tax_ids.delete:{customer_id}:{tax_id}")
        return {"id": deleted.id, "object": "tax_id", "deleted": True}
