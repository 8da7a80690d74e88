"""Every table, imported in one place so that ``SQLModel.metadata`` (and Alembic) sees them."""

from portal_app.accounts.models import Account, ApiKey, ConsoleSession, ConsoleUser, LoginFailure
from portal_app.api.models import IdempotencyRecord
from portal_app.billing.models import (
    Charge,
    Coupon,
    Customer,
    Discount,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    PaymentMethod,
    Price,
    Product,
    PromotionCode,
    Subscription,
    SubscriptionItem,
    SubscriptionSchedule,
)
from portal_app.events.models import Event, StripeBackfillCursor, StripeObject
from portal_app.portal.models import PortalConfiguration, PortalSession
from portal_app.retention.models import (
    Assignment,
    CancellationFlow,
    Experiment,
    Offer,
    RetentionPolicy,
    Variant,
)
from portal_app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account", "ApiKey", "Charge", "ConsoleSession", "ConsoleUser", "Coupon", "Customer",
    "Discount", "Event", "IdempotencyRecord", "Invoice", "InvoiceItem", "InvoiceLine",
    "LoginFailure", "PaymentMethod",
    "PortalConfiguration", "PortalSession", "Price", "Product", "PromotionCode", "Subscription",
    "StripeBackfillCursor", "StripeObject", "SubscriptionItem", "SubscriptionSchedule",
    "Assignment", "CancellationFlow", "Experiment", "Offer", "RetentionPolicy", "Variant",
    "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint",
]
