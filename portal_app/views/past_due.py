"""A failed renewal as the portal shows it, and paying the open invoice now.

The overview's "Payment failed" notices (one per past-due subscription: the amount
due and why the last attempt failed) and the pay page
(``/portal/invoices/<invoice>/pay``: the invoice, the customer's saved methods with
the default preselected). Everything is the session customer's own, through the
billing contract; texts are translated and money and dates formatted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal_app import i18n
from portal_app.billing.provider import BillingProvider, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork
from portal_app.errors import CardError, PaymentRequiresAction
from portal_app.i18n import _
from portal_app.portal.models import PortalSession
from portal_app.portal.refusals import CARD_ERRORS
from portal_app.routes import portal_invoice_pay
from portal_app.settings import get_settings
from portal_app.views.overview import payment_method_view

PAST_DUE = ("past_due", "unpaid")
PAYABLE = ("open", "uncollectible")

# Why a payment failed, in the customer's words: the portal's card errors, and the two
# reasons only an automatic (off-session) renewal meets.
DECLINE_REASONS = {
    **CARD_ERRORS,
    "authentication_required": _("Your bank asked to confirm this payment, which an "
                                 "automatic payment can't do."),
    "payment_method_missing": _("There was no payment method to charge."),
}


def decline_reason(code: str | None, *, locale: str) -> str:
    """Why a payment with decline code ``code`` failed, translated."""
    return i18n.gettext(locale, DECLINE_REASONS.get(code or "", DECLINE_REASONS[
        "generic_decline"]))


# --- the overview's notices ---------------------------------------------------------------


@dataclass
class PastDueNotice:
    """A past-due subscription's open invoice, as the overview's banner shows it."""

    invoice_id: str
    pay_url: str
    message: str  # "We couldn't collect €20.00 for Pro on Feb 28, 2026."
    reason: str  # "Your card was declined."
    retry: str = ""  # "We'll try again on Mar 3, 2026." (when a retry is scheduled)


def past_due_notices(session: PortalSession, *, locale: str, uow: UnitOfWork
                     ) -> list[PastDueNotice]:
    """One notice per past-due (or unpaid) subscription of the customer with an open invoice."""
    with uow:
        provider = billing_provider(session.account_id, uow=uow)
        notices = []
        for sub in provider.list_subscriptions(session.customer_id):
            if sub["status"] not in PAST_DUE or not sub.get("latest_invoice"):
                continue
            invoice = provider.retrieve_invoice(sub["latest_invoice"],
                                                customer_id=session.customer_id)
            if invoice["status"] not in PAYABLE or invoice["amount_remaining"] <= 0:
                continue
            notices.append(PastDueNotice(
                invoice_id=invoice["id"], pay_url=portal_invoice_pay(invoice["id"]),
                message=i18n.gettext(
                    locale, _("We couldn't collect {amount} for {plan} on {date}."),
                    amount=i18n.format_money(invoice["amount_remaining"], invoice["currency"],
                                             locale),
                    plan=_plan_name(invoice, provider),
                    date=i18n.format_date(from_unix(invoice["created"]), locale)),
                reason=_reason(provider, invoice["id"], session, locale=locale),
                retry=i18n.gettext(locale, _("We'll try again on {date}."),
                                   date=i18n.format_date(
                                       from_unix(invoice["next_payment_attempt"]), locale))
                if invoice.get("next_payment_attempt") else ""))
        return notices


def _plan_name(invoice: StripeObject, provider: BillingProvider) -> str:
    """The product the invoice's first line bills (its number when it bills none)."""
    lines = invoice["lines"]["data"]
    price_id = (((lines[0].get("pricing") or {}).get("price_details") or {}).get("price")
                if lines else None)
    if not price_id:
        return str(invoice["number"] or "")
    product = provider.retrieve_price(price_id)["product"]
    return str(provider.retrieve_product(product)["name"])


def _reason(provider: BillingProvider, invoice_id: str, session: PortalSession, *,
            locale: str) -> str:
    error = provider.last_payment_error(invoice_id, customer_id=session.customer_id)
    return decline_reason(error["decline_code"] if error else None, locale=locale)


# --- the pay page -------------------------------------------------------------------------


@dataclass
class MethodChoice:
    """A saved payment method the customer may pay with."""

    id: str
    label: str  # "Visa •••• 4242"
    detail: str  # "Expires 12/2029 · Default"


@dataclass
class PayPage:
    """What the pay page shows about the invoice and how it can be paid."""

    invoice_id: str
    status: str  # open | paid | void | uncollectible
    number: str
    amount: str  # "€20.00"
    period: str  # "Feb 28 – Mar 28, 2026"
    reason: str  # why the last attempt failed ("" when none did)
    methods: list[MethodChoice] = field(default_factory=list)
    selected: str = ""  # the default, preselected


def load_pay_page(session: PortalSession, invoice_id: str, *, locale: str, uow: UnitOfWork
                  ) -> PayPage:
    """The session customer's invoice ``invoice_id`` and their saved methods.

    Raises ResourceMissing (not the customer's invoice).
    """
    with uow:
        provider = billing_provider(session.account_id, uow=uow)
        invoice = provider.retrieve_invoice(invoice_id, customer_id=session.customer_id)
        customer = provider.retrieve_customer(session.customer_id)
        default = customer["invoice_settings"]["default_payment_method"]
        methods = []
        for pm in provider.list_payment_methods(session.customer_id):
            shown = payment_method_view(pm, locale=locale, now=uow.clock())
            detail = [shown.expiry] if shown.expiry else []
            if pm["id"] == default:
                detail.append(i18n.gettext(locale, _("Default")))
            methods.append(MethodChoice(id=pm["id"], label=shown.description,
                                        detail=" · ".join(detail)))
        ids = [m.id for m in methods]
        return PayPage(
            invoice_id=invoice["id"], status=invoice["status"], number=invoice["number"] or "",
            amount=i18n.format_money(invoice["amount_remaining"] or invoice["amount_due"],
                                     invoice["currency"], locale),
            period=_period(invoice, locale=locale),
            reason=(_reason(provider, invoice["id"], session, locale=locale)
                    if invoice["status"] in PAYABLE and invoice["attempt_count"] else ""),
            methods=methods,
            selected=default if default in ids else (ids[0] if ids else ""))


def _period(invoice: StripeObject, *, locale: str) -> str:
    start, end = invoice["period_start"], invoice["period_end"]
    if start == end:
        return i18n.format_date(from_unix(invoice["created"]), locale)
    return (f"{i18n.format_date(from_unix(start), locale)} – "
            f"{i18n.format_date(from_unix(end), locale)}")


@dataclass(frozen=True)
class PayResult:
    """How paying went: ``paid``, ``declined`` or ``refused`` (``message`` says why), or
    ``authorize`` (send the customer to ``redirect_url``, the test authorization page)."""

    outcome: str
    message: str = ""
    redirect_url: str = ""


def pay_invoice(session: PortalSession, invoice_id: str, payment_method: str, *, locale: str,
                uow: UnitOfWork) -> PayResult:
    """Pay the customer's invoice with one of their own saved methods.

    A method that is not one of the customer's is refused before anything is tried.
    Raises ResourceMissing (not the customer's invoice), InvalidRequest (not payable).
    """
    with uow:
        provider = billing_provider(session.account_id, uow=uow)
        own = {pm["id"] for pm in provider.list_payment_methods(session.customer_id)}
    if payment_method not in own:
        return PayResult("refused", message=i18n.gettext(
            locale, _("Choose one of your payment methods.")))
    return_url = get_settings().public_url + portal_invoice_pay(invoice_id)
    try:
        with uow:
            billing_provider(session.account_id, uow=uow).pay_invoice(
                invoice_id, customer_id=session.customer_id, payment_method=payment_method,
                return_url=return_url)
    except PaymentRequiresAction as action:
        return PayResult("authorize", redirect_url=action.redirect_url or "")
    except CardError as declined:
        return PayResult("declined", message=decline_reason(declined.decline_code,
                                                            locale=locale))
    return PayResult("paid")
