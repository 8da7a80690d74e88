"""The portal's cancel flow as the customer reads it: reason, offer, confirm, outcome.

The steps themselves are :mod:`portal_app.retention.flows` (which scopes every id
to the session's customer and appends the flow's events); this module turns what
they return into view models — translated, money and dates formatted in the
customer's locale — and their refusals into one sentence each.

Typical use from a State::

    start = cancel.start(session, "sub_...", locale="en", uow=uow)
    offer = cancel.submit_reason(session, start.flow_id, "too_expensive", "", locale=..., uow=...)
    saved = cancel.accept_offer(session, start.flow_id, offer.id, locale=..., uow=...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from portal_app import i18n
from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix
from portal_app.db import UnitOfWork
from portal_app.errors import BillingError
from portal_app.i18n import _
from portal_app.money import percent_of
from portal_app.portal.models import PortalSession
from portal_app.portal.refusals import error_message as refusal_message
from portal_app.retention import flows
from portal_app.retention.flows import COMMENT_MAX_LENGTH, FlowView
from portal_app.retention.offers import OfferView
from portal_app.retention.subscriptions import period_amount
from portal_app.stripe_shapes import recurring, subscription_items
from portal_app.views.overview import (
    interval_text,
    price_interval_text,
)
from portal_app.views.subscriptions import cancel_view, discount_text, pause_length_text

# Stripe's eight reasons, worded as Stripe's own cancellation survey words them.
REASON_LABELS: dict[str, str] = {
    "too_expensive": _("It's too expensive"),
    "missing_features": _("Some features are missing"),
    "switched_service": _("I'm switching to a different service"),
    "unused": _("I don't use the service enough"),
    "customer_service": _("Customer service was less than expected"),
    "too_complex": _("Ease of use was less than expected"),
    "low_quality": _("Quality was less than expected"),
    "other": _("Other reason"),
}
# The retention service's refusal codes as the customer reads them.
FLOW_REFUSALS: dict[str, str] = {
    "reason_required": _("Please choose a reason to continue."),
    "reason_invalid": _("Please choose one of the reasons shown."),
    "comment_required": _("Please tell us a little more to continue."),
    "comment_too_long": _("Please keep your comment under {maximum} characters."),
    "flow_closed": _("This cancellation has already been decided."),
    "offer_not_presented": _("This offer isn't available any more."),
    "offer_not_eligible": _("This offer isn't available for your subscription any more. "
                            "You can still cancel or keep your subscription."),
    "offer_accepted": _("You kept this subscription with an offer."),
    "subscription_cancel_disabled": _("This change isn't available for your subscription."),
    "subscription_not_cancelable": _("This subscription can't be canceled right now."),
}
COUPON_ONCE = _("{discount} off your next invoice")
COUPON_FOREVER = _("{discount} off for as long as you stay")
COUPON_ONE_MONTH = _("{discount} off for 1 month")
COUPON_MONTHS = _("{discount} off for {months} months")


def error_message(error: BillingError, *, locale: str) -> str:
    """A refusal of the cancel flow (or of the billing under it) as one sentence."""
    message = FLOW_REFUSALS.get(error.code or "")
    if message is not None:
        return i18n.gettext(locale, message, maximum=COMMENT_MAX_LENGTH)
    return refusal_message(error, locale=locale)


@dataclass
class ReasonChoice:
    """One answer of the reason step."""

    key: str  # Stripe's value, e.g. "too_expensive"
    label: str


@dataclass
class OfferCard:
    """The offer step: what the customer is offered instead of leaving."""

    id: str = ""
    type: str = ""  # coupon | pause | price_change | trial_extension | contact
    headline: str = ""  # the merchant's words, if any
    title: str = ""  # "50% off for 3 months"
    detail: str = ""  # "Pay €15.00 instead of €30.00 per month ..."
    accept_label: str = ""
    contact_url: str = ""  # contact offers: the link (a mailto: for an email)


NO_OFFER = OfferCard()


@dataclass
class Outcome:
    """The last step: canceled, or kept with an offer."""

    kind: str  # canceled | saved
    title: str
    message: str
    contact_url: str = ""


@dataclass
class CancelStart:
    """The cancel page of one subscription: what ends when, and the survey to answer."""

    flow_id: str
    subscription_id: str
    product_name: str
    amount: str  # "€30.00 per month"
    immediately: bool
    ends_line: str
    detail: str
    reasons: list[ReasonChoice] = field(default_factory=list)  # empty: no reason step
    comment_required: bool = False
    status: str = "started"  # the flow's status when the page opened (it may be resumed)
    reason: str = ""
    comment: str = ""
    offer: OfferCard = field(default_factory=OfferCard)  # an offer still on the table


def start(session: PortalSession, subscription_id: str, *, locale: str, uow: UnitOfWork
          ) -> CancelStart:
    """Open (or resume) the cancel flow of one of the session customer's subscriptions.

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        summary = cancel_view(session, subscription_id, locale=locale, uow=uow)
        begun = flows.start_flow(session, subscription_id, uow=uow)
        flow = begun.flow
        offer = NO_OFFER
        if flow.status == "offer_presented" and flow.offer is not None:
            offer = _offer_card(flow.offer, _subscription(session, flow, uow), locale=locale,
                                now=uow.clock())
        opened = CancelStart(
            flow_id=flow.id, subscription_id=summary.subscription_id,
            product_name=summary.product_name, amount=summary.amount,
            immediately=summary.immediately, ends_line=summary.ends_line,
            detail=summary.detail,
            reasons=[ReasonChoice(key, i18n.gettext(locale, REASON_LABELS[key]))
                     for key in begun.reasons if key in REASON_LABELS],
            comment_required=begun.comment_required,
            status=flow.status, reason=flow.reason or "", comment=flow.comment or "",
            offer=offer)
        uow.commit()
        return opened


def submit_reason(session: PortalSession, flow_id: str, reason: str | None, comment: str, *,
                  locale: str, uow: UnitOfWork) -> OfferCard | None:
    """Record the answer; the offer to show for it, or None (go on to confirm).

    Raises ResourceMissing, InvalidRequest (``reason_required``, ``comment_required``...).
    """
    with uow:
        shown = flows.submit_reason(session, flow_id, reason or None, comment, uow=uow)
        card = None
        if shown is not None:
            flow = flows.retrieve_flow(session, flow_id, uow=uow)
            card = _offer_card(shown, _subscription(session, flow, uow), locale=locale,
                               now=uow.clock())
        uow.commit()
        return card


def accept_offer(session: PortalSession, flow_id: str, offer_id: str, *, locale: str,
                 uow: UnitOfWork) -> Outcome:
    """Take the offer presented in this flow; what changed. Raises InvalidRequest, ..."""
    with uow:
        flow = flows.accept_offer(session, flow_id, offer_id, uow=uow)
        saved = _saved(flow, _subscription(session, flow, uow), locale=locale)
        uow.commit()
        return saved


def decline_offer(session: PortalSession, flow_id: str, *, uow: UnitOfWork) -> None:
    """Turn the offer down and go on to confirm. Raises InvalidRequest, ResourceMissing."""
    flows.decline_offer(session, flow_id, uow=uow)


def confirm_cancel(session: PortalSession, flow_id: str, *, locale: str, uow: UnitOfWork
                   ) -> Outcome:
    """Cancel as the configuration says; what happens now. Raises InvalidRequest, ..."""
    with uow:
        flow = flows.confirm_cancel(session, flow_id, uow=uow)
        sub = _subscription(session, flow, uow)
        uow.commit()
        if sub["ended_at"] is not None or flow.cancel_at is None:
            return Outcome("canceled", i18n.gettext(locale, _("Your subscription is canceled")),
                           i18n.gettext(locale, _("It ended today. You won't be charged "
                                                  "again.")))
        return Outcome(
            "canceled", i18n.gettext(locale, _("Your cancellation is confirmed")),
            i18n.gettext(locale, _("Your subscription ends on {date}. You can keep using it "
                                   "until then, and renew any time before that date."),
                         date=i18n.format_date(flow.cancel_at, locale)))


# --- what an offer says ---------------------------------------------------------------------


def _subscription(session: PortalSession, flow: FlowView, uow: UnitOfWork) -> StripeObject:
    return billing_provider(session.account_id, uow=uow).retrieve_subscription(
        flow.subscription_id, customer_id=session.customer_id)


def _first_price(sub: StripeObject) -> StripeObject | None:
    items = subscription_items(sub)
    return items[0]["price"] if items else None


def _coupon_amounts(view: OfferView, sub: StripeObject) -> tuple[int, int, int]:
    """Current, new and saved amount per period with the coupon (the offer's, if it has them)."""
    if view.current_amount is not None and view.new_amount is not None:
        return view.current_amount, view.new_amount, view.current_amount - view.new_amount
    current = period_amount(sub)
    if view.percent_off is not None:
        saving = percent_of(current, view.percent_off)
    else:
        saving = min(current, view.amount_off or 0)
    return current, current - saving, saving


def _coupon_title(view: OfferView, *, locale: str) -> str:
    discount = discount_text({"percent_off": view.percent_off, "amount_off": view.amount_off},
                             view.currency, locale=locale)
    if view.duration == "forever":
        return i18n.gettext(locale, COUPON_FOREVER, discount=discount)
    if view.duration == "repeating" and view.duration_in_months:
        if view.duration_in_months == 1:
            return i18n.gettext(locale, COUPON_ONE_MONTH, discount=discount)
        return i18n.gettext(locale, COUPON_MONTHS, discount=discount,
                            months=view.duration_in_months)
    return i18n.gettext(locale, COUPON_ONCE, discount=discount)


def _pause_length(view: OfferView, sub: StripeObject, *, locale: str) -> str:
    count = view.pause_interval_count or 1
    interval = view.pause_interval or "month"
    if interval == "period":
        terms = recurring(_first_price(sub) or {})
        interval = terms.get("interval") or "month"
        count *= terms.get("interval_count") or 1
    return pause_length_text(interval, count, locale=locale)


def _offer_card(view: OfferView, sub: StripeObject, *, locale: str, now: datetime
                ) -> OfferCard:
    money = lambda amount: i18n.format_money(amount, view.currency, locale)  # noqa: E731
    date = lambda when: i18n.format_date(when, locale) if when else ""  # noqa: E731
    price = _first_price(sub)
    card = OfferCard(id=view.id, type=view.type, headline=view.headline or "")
    if view.type == "coupon":
        current, new, saving = _coupon_amounts(view, sub)
        card.title = _coupon_title(view, locale=locale)
        message = (_("Your next invoice: {new} instead of {current}. You save {saving}.")
                   if view.duration == "once" else
                   _("Pay {new} instead of {current} {per}: you save {saving} each time."))
        card.detail = i18n.gettext(locale, message, new=money(new), current=money(current),
                                   saving=money(saving),
                                   per=price_interval_text(price, locale=locale))
        card.accept_label = i18n.gettext(locale, _("Apply the discount"))
    elif view.type == "pause":
        card.title = i18n.gettext(locale, _("Pause for {duration}"),
                                  duration=_pause_length(view, sub, locale=locale))
        card.detail = i18n.gettext(locale, _("Take a break instead: you won't be charged while "
                                             "paused, and it resumes on {date}."),
                                   date=date(view.resumes_at))
        card.accept_label = i18n.gettext(locale, _("Pause my subscription"))
    elif view.type == "price_change":
        per = interval_text(view.interval, view.interval_count or 1, locale=locale)
        card.title = i18n.gettext(locale, _("Switch to {plan} at {amount} {per}"),
                                  plan=view.product_name or "", amount=money(view.new_amount or 0),
                                  per=per)
        starts = (i18n.gettext(locale, _("The new price applies from today."))
                  if view.effective_at is not None and view.effective_at <= now
                  else i18n.gettext(locale, _("The new price applies from {date}."),
                                    date=date(view.effective_at)))
        card.detail = i18n.gettext(locale, _("Save {saving} {per}."),
                                   saving=money(view.saving or 0), per=per) + " " + starts
        card.accept_label = i18n.gettext(locale, _("Switch to {plan}"),
                                         plan=view.product_name or "")
    elif view.type == "trial_extension":
        card.title = i18n.gettext(locale, _("Take {days} days free"), days=view.extension_days)
        card.detail = i18n.gettext(locale, _("Keep everything you have, on us. Your next charge "
                                             "is on {date}."), date=date(view.next_billing_at))
        card.accept_label = i18n.gettext(locale, _("Take the free days"))
    else:
        card.title = i18n.gettext(locale, _("Talk to us"))
        card.detail = i18n.gettext(locale, _("Before you go, let us try to fix what isn't "
                                             "working for you. A real person will answer."))
        card.accept_label = i18n.gettext(locale, _("Talk to us"))
        card.contact_url = view.contact_url or (
            f"mailto:{view.contact_email}" if view.contact_email else "")
    return card


def _saved(flow: FlowView, sub: StripeObject, *, locale: str) -> Outcome:
    """What accepting the flow's offer changed, in the customer's words."""
    outcome = flow.outcome or {}
    view = flow.offer
    kind = view.type if view is not None else "contact"
    title = i18n.gettext(locale, _("Thanks for staying!"))
    price = _first_price(sub)
    if kind == "coupon" and view is not None:
        current, new, _saving = _coupon_amounts(view, sub)
        message = i18n.gettext(
            locale, _("{discount} is applied to your subscription: you'll pay {new} instead of "
                      "{current} {per}."),
            discount=_coupon_title(view, locale=locale),
            new=i18n.format_money(new, sub["currency"], locale),
            current=i18n.format_money(current, sub["currency"], locale),
            per=price_interval_text(price, locale=locale))
    elif kind == "pause" and outcome.get("resumes_at"):
        title = i18n.gettext(locale, _("Your subscription is paused"))
        message = i18n.gettext(locale, _("You won't be charged until it resumes on {date}. You "
                                         "can resume earlier from your subscriptions."),
                               date=i18n.format_date(from_unix(outcome["resumes_at"]), locale))
    elif kind == "price_change" and view is not None:
        title = i18n.gettext(locale, _("You're switching to {plan}"),
                             plan=view.product_name or "")
        when = from_unix(outcome["effective_at"]) if outcome.get("effective_at") else None
        message = i18n.gettext(
            locale, _("From {date} you'll pay {amount} {per}."),
            date=i18n.format_date(when, locale) if when else "",
            amount=i18n.format_money(view.new_amount or 0, sub["currency"], locale),
            per=interval_text(view.interval, view.interval_count or 1, locale=locale))
    elif kind == "trial_extension" and outcome.get("next_billing_at"):
        title = i18n.gettext(locale, _("Enjoy {days} free days"),
                             days=view.extension_days if view else "")
        message = i18n.gettext(locale, _("Your subscription stays as it is. Your next charge "
                                         "is on {date}."),
                               date=i18n.format_date(from_unix(outcome["next_billing_at"]),
                                                     locale))
    else:
        contact = outcome.get("contact") or {}
        url = contact.get("url") or (f"mailto:{contact['email']}" if contact.get("email")
                                     else "")
        return Outcome("saved", title, i18n.gettext(
            locale, _("Your subscription stays active. Tell us what isn't working: we read "
                      "every message.")), contact_url=url)
    return Outcome("saved", title, message)
