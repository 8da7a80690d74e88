"""The billing contract: the one door the portal, retention, console and events use.

The portal never talks to a billing system directly: it holds a
:class:`BillingProvider` bound to one merchant account and receives Stripe-shaped
dicts (the same shapes ``portal_app.objects`` renders for the API and the
event store, and the same the ``stripe`` SDK returns), so the local ledger and
Stripe itself are interchangeable behind it.

Methods that take ``customer_id`` act for that customer alone: an object of
another customer is answered with ResourceMissing, exactly like an object that
does not exist, so a portal session can never reach past its own customer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from portal_app.billing.services import ItemSpec

StripeObject = dict[str, Any]


class BillingProvider(Protocol):
    """Billing as the portal sees it, for one merchant account.

    Every method raises the typed errors of ``portal_app.errors``:
    ResourceMissing, InvalidRequest, CardError/CardDeclined.
    """

    # --- what the portal does for a customer (customer-scoped) ---------------------------

    def retrieve_customer(self, customer_id: str) -> StripeObject:
        """The customer (``invoice_settings.default_payment_method`` is their default)."""
        ...

    def update_customer(self, customer_id: str, **details: Any) -> StripeObject:
        """Change the customer's own details (email, name, phone, address, shipping,
        preferred_locales)."""
        ...

    def list_subscriptions(self, customer_id: str, *, status: str | None = None
                           ) -> list[StripeObject]:
        """The customer's subscriptions, newest first (not canceled ones unless asked)."""
        ...

    def retrieve_subscription(self, subscription_id: str, *, customer_id: str) -> StripeObject:
        """One of the customer's subscriptions."""
        ...

    def cancel_subscription(self, subscription_id: str, *, customer_id: str,
                            at_period_end: bool = False, feedback: str | None = None,
                            comment: str | None = None) -> StripeObject:
        """Cancel one of the customer's subscriptions now or at the end of its period."""
        ...

    def list_payment_methods(self, customer_id: str) -> list[StripeObject]:
        """The customer's payment methods, newest first."""
        ...

    def attach_payment_method(self, payment_method: str, *, customer_id: str
                              ) -> StripeObject:
        """Attach a new payment method (or a ``pm_card_*`` test id) to the customer."""
        ...

    def set_default_payment_method(self, payment_method: str, *, customer_id: str
                                   ) -> StripeObject:
        """Make one of the customer's payment methods their default; returns the customer."""
        ...

    def list_invoices(self, customer_id: str) -> list[StripeObject]:
        """The customer's invoices, newest first."""
        ...

    # --- what the merchant (or the demo seed) sets up -------------------------------------

    def create_customer(self, *, email: str | None = None, name: str | None = None,
                        payment_method: str | None = None,
                        preferred_locales: Sequence[str] = (),
                        metadata: Mapping[str, str] | None = None) -> StripeObject:
        """A new customer, optionally with a default payment method."""
        ...

    def create_product(self, *, name: str, description: str | None = None,
                       metadata: Mapping[str, str] | None = None) -> StripeObject:
        """A new product."""
        ...

    def create_price(self, *, product: str, currency: str, unit_amount: int,
                     interval: str | None = None, interval_count: int = 1,
                     nickname: str | None = None) -> StripeObject:
        """A new price of ``product`` (recurring when ``interval`` is given)."""
        ...

    def create_subscription(self, *, customer: str, items: Sequence[ItemSpec],
                            default_payment_method: str | None = None,
                            trial_period_days: int | None = None,
                            coupon: str | None = None,
                            cancel_at_period_end: bool = False,
                            metadata: Mapping[str, str] | None = None) -> StripeObject:
        """Start a subscription: charge its first invoice, or start its trial."""
        ...

    def advance_clock(self, to: datetime) -> int:
        """Move the (test) clock to ``to``, renewing everything due on the way."""
        ...
