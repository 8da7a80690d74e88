"""Portico's errors, named after the business fact; each knows its Stripe type and status.

Shared vocabulary: the billing contract, the portal, retention and the console
raise these; only ``portal_app.api`` turns them into HTTP responses, and
the portal pages show ``user_message``.
"""

from __future__ import annotations

from typing import ClassVar


class BillingError(Exception):
    """Base of every error a service raises on purpose."""

    type: ClassVar[str] = "api_error"
    http_status: ClassVar[int] = 500
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        self.decline_code = decline_code

    @property
    def user_message(self) -> str:
        """The message to show a customer (already plain words)."""
        return self.message


class InvalidRequest(BillingError):
    """The request is malformed or asks for something impossible."""

    type = "invalid_request_error"
    http_status = 400


class ResourceMissing(InvalidRequest):
    """No such object, or not one this account or customer may see."""

    http_status = 404
    default_code = "resource_missing"


class CardError(BillingError):
    """A payment method was refused: invalid details or a declined charge."""

    type = "card_error"
    http_status = 402


class CardDeclined(CardError):
    """The issuer declined the charge."""

    default_code = "card_declined"


class PaymentRequiresAction(CardError):
    """The card asks for 3-D Secure: Stripe's 402 ``invoice_payment_intent_requires_action``.

    ``redirect_url``: where the customer authorizes the payment (Portico's test page), as
    Stripe's ``next_action.redirect_to_url.url``; None when no return URL was given.
    """

    default_code = "invoice_payment_intent_requires_action"

    def __init__(self, message: str, *, redirect_url: str | None = None) -> None:
        super().__init__(message)
        self.redirect_url = redirect_url


class AuthenticationFailed(BillingError):
    """No API key, or one that matches no account."""

    type = "invalid_request_error"
    http_status = 401


class IdempotencyConflict(BillingError):
    """An idempotency key was reused with different parameters."""

    type = "idempotency_error"
    http_status = 400


class RateLimited(BillingError):
    """Too many attempts in a short time; ``retry_after`` says when to try again (seconds)."""

    type = "invalid_request_error"
    http_status = 429
    default_code = "rate_limit"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BillingUnavailable(BillingError):
    """The billing system did not answer (timeouts, its 5xx, refused credentials) after
    Portico's retries; nothing was applied that a retry could apply twice."""

    type = "api_error"
    http_status = 503
    default_code = "billing_unavailable"


class PayloadTooLarge(BillingError):
    """A request body over the size Portico accepts, refused before it is read."""

    type = "invalid_request_error"
    http_status = 413
    default_code = "request_too_large"


class SessionExpired(BillingError):
    """A portal session link is unknown, lapsed, or bound to another browser.

    ``return_url`` and ``locale`` are those of the session when it is known, so
    the expired page can still offer the way back in the customer's language.
    """

    type = "invalid_request_error"
    http_status = 404
    default_code = "session_expired"

    def __init__(self, message: str = "This portal link has expired.", *,
                 return_url: str | None = None, locale: str | None = None,
                 business_name: str | None = None) -> None:
        super().__init__(message)
        self.return_url = return_url
        self.locale = locale
        self.business_name = business_name
