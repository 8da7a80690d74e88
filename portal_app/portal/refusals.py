"""Why the portal refuses a subscription change, in the customer's words.

A refusal is an :class:`InvalidRequest` with a stable ``code``: the billing provider's
(``subscription_changed``, ``pending_scheduled_change``, ``promotion_code_invalid``...)
or the portal's own (:class:`PortalRefusal`: what the configuration does not allow).
:func:`error_message` turns any of them, and a card's decline, into one sentence for
the page. To word a refusal differently, or add one, edit :data:`REFUSALS`.
"""

from __future__ import annotations

from portal_app import i18n
from portal_app.errors import BillingError, CardError, InvalidRequest
from portal_app.i18n import _

# The refusal codes as the customer reads them.
REFUSALS: dict[str, str] = {
    "subscription_changed": _("This subscription changed while you were looking at it. "
                              "Please review the new preview."),
    "pending_scheduled_change": _("A change is already scheduled for this subscription. "
                                  "Cancel it first to make another change."),
    "subscription_past_due": _("Your last payment failed. Update your payment method or "
                               "cancel the subscription."),
    "metered_price_change": _("Usage-based and fixed prices can't be exchanged for each "
                              "other: choose a price of the same kind."),
    "currency_mismatch": _("That plan is billed in another currency."),
    "interval_mismatch": _("All items of a subscription must share one billing interval."),
    "no_change": _("Choose a different plan or quantity to continue."),
    "subscription_paused": _("Payments for this subscription are paused. Resume it first."),
    "subscription_not_paused": _("This subscription is not paused."),
    "subscription_canceled": _("This subscription has already ended."),
    "cancel_scheduled": _("This subscription is set to cancel. Renew it first to change it."),
    "promotion_code_invalid": _("This promotion code isn't valid."),
    "coupon_expired": _("This promotion code has expired."),
    "not_allowed": _("This change isn't available for your subscription."),
    "quantity_out_of_range": _("Choose a quantity between {minimum} and {maximum}."),
    "quantity_too_low": _("Choose a quantity of at least {minimum}."),
    "incomplete": _("This subscription is waiting for its first payment."),
    "resource_missing": _("We couldn't find that subscription."),
    "payment_method_missing": _("Add a payment method first: this change is charged now."),
}
CARD_ERRORS: dict[str, str] = {
    "generic_decline": _("Your card was declined."),
    "insufficient_funds": _("Your card has insufficient funds."),
    "lost_card": _("Your card was declined."),
    "stolen_card": _("Your card was declined."),
    "expired_card": _("Your card has expired."),
    "incorrect_cvc": _("Your card's security code is incorrect."),
    "processing_error": _("An error occurred while processing your card. Try again in a "
                          "little bit."),
}
SOMETHING_WRONG = _("Something went wrong. Please try again.")


def error_message(error: BillingError, *, locale: str, **values: object) -> str:
    """A refusal of the billing provider or of the portal as one sentence in ``locale``."""
    if isinstance(error, CardError):
        message = CARD_ERRORS.get(error.decline_code or "", CARD_ERRORS["generic_decline"])
        return i18n.gettext(locale, message)
    if error.code == "resource_missing" and error.param == "default_payment_method":
        return i18n.gettext(locale, REFUSALS["payment_method_missing"])
    refusal = REFUSALS.get(error.code or "")
    if refusal is None:
        return i18n.gettext(locale, SOMETHING_WRONG)
    return i18n.gettext(locale, refusal, **{**getattr(error, "values", {}), **values})


class PortalRefusal(InvalidRequest):
    """A change the configuration does not allow (``code`` is a key of :data:`REFUSALS`)."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(REFUSALS[code].format(**values) if values else REFUSALS[code],
                         code=code)
        self.values = values
