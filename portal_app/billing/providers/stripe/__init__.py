"""The Stripe-backed billing provider: the contract on a merchant's own Stripe account.

Every method is ``stripe`` SDK calls alone (``StripeClient.v1``), through
:class:`~portal_app.billing.providers.stripe.client.StripeCalls` (idempotency keys,
retries, Portico's errors). One part per area of the contract, assembled here.
"""

from __future__ import annotations

from portal_app.billing.providers.stripe.catalog import CatalogPart
from portal_app.billing.providers.stripe.changes import ChangesPart
from portal_app.billing.providers.stripe.client import StripeCalls, action_scope, open_client
from portal_app.billing.providers.stripe.customers import CustomersPart
from portal_app.billing.providers.stripe.invoices import InvoicesPart
from portal_app.billing.providers.stripe.payment_methods import PaymentMethodsPart
from portal_app.billing.providers.stripe.subscriptions import SubscriptionsPart

__all__ = ["StripeBillingProvider", "StripeCalls", "action_scope", "open_client"]


class StripeBillingProvider(CustomersPart, PaymentMethodsPart, InvoicesPart, CatalogPart,
                            SubscriptionsPart, ChangesPart):
    """:class:`~portal_app.billing.provider.BillingProvider` on a Stripe account.

    Construct with ``account_id``, ``calls`` (:class:`StripeCalls` on
    :func:`open_client`), ``clock``, optionally ``uow_factory`` and ``test_clock``
    (see :class:`~portal_app.billing.providers.stripe.base.StripeProviderBase`).
    """
