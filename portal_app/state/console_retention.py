"""The console's retention pages: offers and the policy per reason, experiments, read-outs.

Every handler asks :meth:`ConsoleState._identity` again who is signed in and
passes that identity's account to the retention services; an offer, experiment,
variant or configuration id that arrives from the browser is looked up within
that account only, so a crafted id of another merchant is "not found". The
handlers turn form strings into the services' values and the services' plain
results into view rows; the rules (what a valid offer is, who may start what)
and every number of a read-out come from the services and ``analytics/``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import reflex as rx
from reflex.event import EventSpec
from sqlalchemy.exc import SQLAlchemyError

from portal_app import i18n
from portal_app.accounts.services import ConsoleIdentity
from portal_app.clock import from_unix
from portal_app.console.strings import TEXT
from portal_app.db import UnitOfWork
from portal_app.errors import AuthenticationFailed, InvalidRequest, ResourceMissing
from portal_app.portal.configurations import CANCELLATION_REASONS
from portal_app.retention import choices, experiments, offers, policies, readout
from portal_app.retention.experiments import VariantSpec
from portal_app.retention.models import DEFAULT_REASON, ExperimentStatus, OfferType
from portal_app.routes import CONSOLE_EXPERIMENT
from portal_app.state import console as console_state
from portal_app.state.console import CONSOLE_LOCALE, ConsoleState

NONE = "none"  # "no offer" in a select (Radix selects refuse "")
REASON_KEYS = (DEFAULT_REASON, *CANCELLATION_REASONS)
KINDS = tuple(str(kind) for kind in OfferType)

RETENTION_TEXT: dict[str, str] = {
    # Tabs and headers
    "tab_offers": "Offers",
    "tab_experiments": "Experiments",
    "offers_title": "Offers",
    "offers_lead": "What a cancelling customer may be offered instead of leaving, and who "
                   "may get it.",
    "experiments_title": "Experiments",
    "experiments_lead": "A/B tests of offers in the cancel flow, with an honest read-out.",
    "new_offer": "New offer",
    "new_experiment": "New experiment",
    "loading_offers": "Loading offers…",
    "loading_experiments": "Loading experiments…",
    "loading_experiment": "Loading the experiment…",
    "load_error": "This page could not be loaded. Please try again.",
    "retry": "Try again",
    "no_offers": "No offers yet — create your first",
    "no_offers_lead": "A coupon, a pause, a cheaper plan, free days or a way to talk to you: "
                      "shown when a customer is about to cancel.",
    "no_experiments": "No experiments yet — create your first",
    "no_experiments_lead": "Split cancelling customers between variants of offers (or no offer "
                           "at all) and see which keeps more of them.",
    "need_offers_first": "Create an offer first: variants show offers.",
    "need_configuration": "This account has no portal configuration yet: create one through "
                          "the API (POST /v1/billing_portal/configurations).",
    # Offer list
    "col_offer": "Offer",
    "col_kind": "Kind",
    "col_terms": "Terms",
    "col_reasons": "Reasons",
    "col_eligibility": "Eligibility",
    "col_status": "Status",
    "active": "Active",
    "inactive": "Inactive",
    "edit": "Edit",
    "deactivate": "Deactivate",
    "activate": "Activate",
    "deactivated": "Offer deactivated: it is no longer shown.",
    "activated": "Offer active again.",
    "saved_offer": "Offer saved.",
    "created_offer": "Offer created.",
    "offer_missing": "This offer does not exist (any more).",
    "any_reason": "Any reason",
    "everyone": "Every subscriber",
    # Kinds
    "kind_coupon": "Coupon",
    "kind_pause": "Pause",
    "kind_price_change": "Cheaper plan",
    "kind_trial_extension": "Free days",
    "kind_contact": "Talk to us",
    # Reasons (Stripe's eight, and the catch-all)
    "reason_default": "Any reason",
    "reason_too_expensive": "Too expensive",
    "reason_missing_features": "Missing features",
    "reason_switched_service": "Switched service",
    "reason_unused": "Unused",
    "reason_customer_service": "Customer service",
    "reason_too_complex": "Too complex",
    "reason_low_quality": "Low quality",
    "reason_other": "Other",
    # Offer form
    "create_offer": "Create offer",
    "edit_offer": "Edit offer",
    "save": "Save",
    "cancel": "Cancel",
    "field_kind": "Kind",
    "field_name": "Name",
    "field_name_hint": "For you and your team; customers see the headline.",
    "field_headline": "Headline (optional)",
    "field_headline_hint": "Shown above the offer, e.g. “Stay and save 50%”.",
    "field_discount": "Discount",
    "percent_off": "Percent off",
    "amount_off": "Amount off",
    "field_percent": "Percent",
    "field_amount": "Amount",
    "field_currency": "Currency",
    "field_duration": "Duration",
    "duration_once": "Once (next invoice)",
    "duration_repeating": "Several months",
    "duration_forever": "Forever",
    "field_months": "Months",
    "coupon_locked": "A coupon's terms cannot change once customers may have it: create a new "
                     "offer for other terms.",
    "field_pause_count": "Pause for",
    "pause_period": "billing periods",
    "pause_month": "months",
    "pause_week": "weeks",
    "pause_day": "days",
    "field_target_price": "Cheaper price",
    "choose_price": "Choose a price…",
    "no_prices": "No recurring prices yet.",
    "field_timing": "Switch",
    "timing_period_end": "At the end of the current period",
    "timing_now": "Now (unused time credited)",
    "field_days": "Free days",
    "field_contact_url": "Contact link",
    "field_contact_email": "Contact email",
    "section_eligibility": "Who may get it",
    "field_reasons": "Cancellation reasons",
    "field_reasons_hint": "None ticked: any reason.",
    "field_products": "Products",
    "field_products_hint": "None ticked: every product.",
    "field_min_age": "Minimum subscription age (days)",
    "field_cooldown": "Not again within (days)",
    "field_cooldown_hint": "None if the customer accepted any offer this recently. "
                           "Blank: no limit.",
    "field_max_redemptions": "At most per customer",
    "field_blank_unlimited": "Blank: no limit.",
    "required": "This field is required.",
    "whole_number": "Enter a whole number.",
    "number": "Enter a number.",
    "fix_errors": "Check the highlighted field.",
    # Policy
    "policy_title": "Offer per cancellation reason",
    "policy_lead": "Which offer the cancel flow shows for each reason, when no experiment "
                   "decides. “Any reason” answers the reasons without an offer of their own.",
    "field_configuration": "Portal configuration",
    "default_configuration": "default",
    "no_offer": "No offer",
    "comment_required": "Require a comment",
    "save_policy": "Save policy",
    "saved_policy": "Policy saved.",
    # Experiment list
    "col_experiment": "Experiment",
    "col_variants": "Variants",
    "col_configuration": "Configuration",
    "col_started": "Started",
    "status_draft": "Draft",
    "status_running": "Running",
    "status_stopped": "Stopped",
    "status_shipped": "Shipped",
    "open": "Open",
    # Experiment form
    "create_experiment": "Create experiment",
    "edit_experiment": "Edit draft",
    "field_experiment_name": "Name",
    "section_targeting": "Who is in it",
    "field_target_reasons": "Only these reasons",
    "field_segment_products": "Only subscribers of",
    "field_tenure_min": "Subscribed at least (days)",
    "field_tenure_max": "Subscribed at most (days)",
    "field_holdout": "Holdout (%)",
    "field_holdout_hint": "Customers held out of every variant (no offer, not counted).",
    "section_variants": "Variants",
    "variants_lead": "Customers are split by weight. A variant with no offer is a control.",
    "variant": "Variant",
    "field_variant_name": "Name",
    "field_weight": "Weight",
    "offer_for": "Offer",
    "per_reason": "Different offers per reason",
    "add_variant": "Add variant",
    "remove_variant": "Remove",
    "control": "Control",
    "control_hint": "No offer: the baseline.",
    "created_experiment": "Experiment created as a draft.",
    "saved_experiment": "Draft saved.",
    "experiment_missing": "This experiment does not exist.",
    "variant_missing": "This variant does not exist.",
    # Experiment detail
    "back": "All experiments",
    "start": "Start",
    "stop": "Stop",
    "ship": "Ship",
    "refresh": "Refresh",
    "updated_at": "Updated",
    "confirm": "Confirm",
    "confirm_start_title": "Start this experiment?",
    "confirm_start": "Cancelling customers of this configuration are assigned to its variants "
                     "from now on. Variants cannot be changed while it runs.",
    "confirm_stop_title": "Stop this experiment?",
    "confirm_stop": "Customers are no longer assigned; the configuration's policy answers "
                    "again. The read-out stays.",
    "confirm_ship_title": "Ship this variant?",
    "confirm_ship": "Its offers become the configuration's policy for every customer, and the "
                    "experiment stops.",
    "started": "Experiment started.",
    "stopped": "Experiment stopped.",
    "shipped": "Variant shipped: its offers are now the policy.",
    "readout_title": "Read-out",
    "readout_lead": "A save is an exposed customer who did not cancel. Intervals are 95%.",
    "col_exposures": "Exposures",
    "col_saves": "Saves",
    "col_rate": "Save rate",
    "col_diff": "vs control",
    "baseline": "Baseline",
    "no_exposures": "No exposures yet: numbers appear as customers reach the offer step.",
    "srm_title": "Sample ratio mismatch",
    "srm_text": "Exposures do not match the configured weights (p = {p}): assignment or "
                "logging is broken, so no comparison can be trusted.",
    "holdout_label": "Holdout",
    "targeting_label": "Targeting",
    "everyone_in_config": "Every cancelling customer",
    "shipped_label": "Shipped",
    "draft_hint": "A draft: edit it, then start it to assign customers.",
    "of_exposures": "exposures in total",
}

_FIELD_OF_PARAM = {  # the service's ``param`` -> the form field that shows the message
    "name": "name", "headline": "headline",
    "coupon[coupon]": "percent", "percent_off": "percent", "coupon[percent_off]": "percent",
    "amount_off": "amount", "coupon[amount_off]": "amount", "currency": "currency",
    "duration": "duration", "duration_in_months": "months",
    "pause[interval]": "pause_count", "pause[interval_count]": "pause_count",
    "price_change[price]": "target_price", "price_change[timing]": "timing",
    "trial_extension[days]": "days", "contact[url]": "contact_url",
    "contact[email]": "contact_email",
    "eligibility[minimum_subscription_age_days]": "min_age",
    "eligibility[cooldown_days]": "cooldown",
    "eligibility[max_redemptions_per_customer]": "max_redemptions",
    "configuration": "configuration", "holdout_percent": "holdout",
    "segments[tenure_min_days]": "tenure_min", "segments[tenure_max_days]": "tenure_max",
    "variants": "variants",
}
_FIELD_OF_PREFIX = (("eligibility[reasons]", "reasons"), ("eligibility[products]", "products"),
                    ("eligibility[prices]", "products"), ("reasons[", "reasons"),
                    ("segments[products]", "segment_products"),
                    ("segments[prices]", "segment_products"))


class FieldProblem(ValueError):
    """A form value that is not even a value (e.g. letters where a number goes)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def _t(key: str) -> str:
    return RETENTION_TEXT.get(key, TEXT.get(key, key))


def reason_label(reason: str) -> str:
    """A cancellation reason (or ``default``) in words."""
    return _t(f"reason_{reason}")


# --- view rows ----------------------------------------------------------------------------


@dataclass
class Choice:
    """One option of a select or checkbox list."""

    value: str
    label: str


@dataclass
class OfferRow:
    """One offer as the list shows it."""

    id: str
    name: str
    kind: str
    kind_label: str
    summary: str
    headline: str
    reasons: str
    eligibility: list[str]
    active: bool
    status_label: str


@dataclass
class PolicyRow:
    """One reason of a configuration's policy and the offer that answers it."""

    reason: str
    label: str
    offer_id: str  # NONE when no offer


@dataclass
class VariantDraft:
    """A variant in the experiment form; ``key`` keeps its inputs apart."""

    key: str
    name: str = ""
    weight: str = "1"
    offers: dict[str, str] = field(default_factory=dict)  # every REASON_KEY -> id or NONE
    per_reason: bool = False
    control: bool = True


@dataclass
class ExperimentRow:
    """One experiment as the list shows it."""

    id: str
    name: str
    status: str  # draft | running | stopped | shipped
    status_label: str
    tone: str
    configuration: str
    variants: str
    started: str
    href: str


@dataclass
class VariantReadoutRow:
    """One variant of the detail page: its offers and its read-out, ready to show."""

    id: str
    name: str
    weight: str
    offers: str
    is_control: bool
    no_offer: bool
    shipped: bool
    exposures: str
    saves: str
    rate: str
    interval: str
    has_rate: bool
    # The interval bar, in percent of its track (0..100).
    bar_left: str
    bar_width: str
    dot_left: str
    diff: str
    diff_interval: str
    diff_tone: str
    verdict: str


# --- formatting ---------------------------------------------------------------------------


def offer_summary(rendered: Mapping[str, Any], prices: Mapping[str, choices.PriceChoice]
                  ) -> str:
    """An offer's terms in words, e.g. "50% off for 3 months"."""
    kind = rendered["type"]
    if kind == "coupon":
        coupon = rendered.get("coupon") or {}
        if coupon.get("percent_off") is not None:
            off = f"{_number(coupon['percent_off'])}% off"
        elif coupon.get("amount_off") is not None and coupon.get("currency"):
            off = f"{i18n.format_money(coupon['amount_off'], coupon['currency'], CONSOLE_LOCALE)}" \
                  " off"
        else:
            return _t("kind_coupon")
        duration = coupon.get("duration")
        if duration == "repeating":
            months = coupon.get("duration_in_months") or 0
            return f"{off} for {months} month{'s' if months != 1 else ''}"
        return f"{off} forever" if duration == "forever" else f"{off} the next invoice"
    if kind == "pause":
        pause = rendered["pause"]
        count, unit = pause["interval_count"], pause["interval"]
        words = {"period": "billing period", "day": "day", "week": "week", "month": "month",
                 "year": "year"}[unit]
        return f"Pause for {count} {words}{'s' if count != 1 else ''}"
    if kind == "price_change":
        change = rendered["price_change"]
        price = prices.get(change["price"])
        target = price_label(price) if price else change["price"]
        when = "now" if change["timing"] == "now" else "at period end"
        return f"Switch to {target}, {when}"
    if kind == "trial_extension":
        days = rendered["trial_extension"]["days"]
        return f"{days} free day{'s' if days != 1 else ''}"
    contact = rendered.get("contact") or {}
    return f"Talk to us: {contact.get('url') or contact.get('email') or ''}".strip()


def price_label(price: choices.PriceChoice) -> str:
    """ "Cloud · Basic · $19.00/month" """
    amount = i18n.format_money(price.unit_amount, price.currency, CONSOLE_LOCALE)
    every = price.interval if price.interval_count == 1 else \
        f"{price.interval_count} {price.interval}s"
    parts = [price.product_name, price.nickname, f"{amount}/{every}"]
    return " · ".join(p for p in parts if p)


def eligibility_lines(rendered: Mapping[str, Any], products: Mapping[str, str],
                      prices: Mapping[str, choices.PriceChoice]) -> list[str]:
    """The eligibility rules beyond reasons, one line each (``everyone`` when none)."""
    rules = rendered["eligibility"]
    lines = []
    if rules["products"]:
        lines.append("Products: " + ", ".join(products.get(p, p) for p in rules["products"]))
    if rules["prices"]:
        lines.append("Prices: " + ", ".join(price_label(prices[p]) if p in prices else p
                                             for p in rules["prices"]))
    if rules["minimum_subscription_age_days"]:
        lines.append(f"Subscribed ≥ {rules['minimum_subscription_age_days']} days")
    if rules["cooldown_days"] is not None:
        lines.append(f"Not within {rules['cooldown_days']} days of accepting an offer")
    if rules["max_redemptions_per_customer"] is not None:
        lines.append(f"At most {rules['max_redemptions_per_customer']} per customer")
    return lines or [_t("everyone")]


def _number(value: float) -> str:
    return f"{value:g}"


def _percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _points(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} pts"


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


# --- parsing form values ------------------------------------------------------------------


def _text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name) or "").strip()


def _int(form: Mapping[str, Any], name: str, field_name: str | None = None) -> int | None:
    raw = _text(form, name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise FieldProblem(field_name or name, _t("whole_number")) from None


def _decimal(form: Mapping[str, Any], name: str) -> Decimal | None:
    raw = _text(form, name).replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldProblem(name, _t("number")) from None
    if not value.is_finite():
        raise FieldProblem(name, _t("number"))
    return value


def minor_units(amount: Decimal, currency: str) -> int:
    """An amount typed in major units ("10.50") as minor units of ``currency``."""
    scaled = amount.scaleb(i18n.minor_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise FieldProblem("amount", f"Use at most {i18n.minor_exponent(currency)} decimals.")
    return int(scaled)


def field_of(error: InvalidRequest) -> str:
    """The form field a service error is about ("" when it is about the whole form)."""
    param = error.param or ""
    if param in _FIELD_OF_PARAM:
        return _FIELD_OF_PARAM[param]
    for prefix, name in _FIELD_OF_PREFIX:
        if param.startswith(prefix):
            return name
    return ""


# Parameter names inside the services' messages, as the form's words.
_PARAM_WORDS = (
    ("segments[tenure_min_days]", "the minimum subscription age"),
    ("segments[tenure_max_days]", "the maximum subscription age"),
    ("trial_extension[days]", "the number of free days"),
    ("pause[interval_count]", "the pause"),
    ("coupon[percent_off]", "the percentage"), ("percent_off", "the percentage"),
    ("coupon[amount_off]", "the amount"), ("amount_off", "the amount"),
    ("duration_in_months", "the number of months"),
    ("holdout_percent", "the holdout"),
)


def error_message(error: InvalidRequest) -> str:
    """A service error as the form shows it: "required" in words, otherwise its message
    with parameter names in the form's words."""
    if error.code == "parameter_missing":
        return _t("required")
    message = error.message
    for param, words in _PARAM_WORDS:
        message = message.replace(param, words)
    return message[:1].upper() + message[1:]


# --- shared base --------------------------------------------------------------------------


class RetentionState(ConsoleState):
    """What the offers and experiments pages share: their strings and the loaders."""

    # Reflex keeps a parent's vars in the parent's instance, shared by every page below
    # it: each page's State declares its own ``status`` and form errors instead.
    text: dict[str, str] = {**TEXT, **RETENTION_TEXT}
    if TYPE_CHECKING:  # declared by each page's State
        form_error: str
        error_field: str

    def _unit(self) -> UnitOfWork:
        return console_state.unit_of_work()

    def _fail(self, error: InvalidRequest | FieldProblem) -> None:
        """Show a validation error beside its field (or above the form)."""
        if isinstance(error, FieldProblem):
            self.error_field, self.form_error = error.field, error.message
        else:
            self.error_field, self.form_error = field_of(error), error_message(error)

    def _clear_error(self) -> None:
        self.form_error = self.error_field = ""

    @staticmethod
    def _catalog(account_id: str, uow: UnitOfWork
                 ) -> tuple[dict[str, str], dict[str, choices.PriceChoice]]:
        prices = {p.id: p for p in choices.list_price_choices(account_id=account_id, uow=uow)}
        products = {p.product_id: p.product_name for p in prices.values()}
        return products, prices


# --- offers -------------------------------------------------------------------------------


class OffersState(RetentionState):
    """/console/offers: the offer list, its create/edit dialog, and the policy per reason."""

    status: str = "loading"  # loading | ready | error
    form_error: str = ""
    error_field: str = ""
    offers: list[OfferRow] = []
    # rx.Field: read on the class (in components) each is typed as the Var it is there
    # (.length()), as in state/portal.py.
    offer_choices: rx.Field[list[Choice]] = rx.field(default_factory=list)  # NONE first
    product_choices: rx.Field[list[Choice]] = rx.field(default_factory=list)
    price_choices: rx.Field[list[Choice]] = rx.field(default_factory=list)
    configuration_choices: rx.Field[list[Choice]] = rx.field(default_factory=list)
    # Policy
    policy_configuration: str = ""
    policy_rows: list[PolicyRow] = []
    policy_comment_required: bool = False
    # The create/edit dialog
    dialog_open: bool = False
    editing_id: str = ""
    form_key: int = 0  # a new value remounts the dialog's uncontrolled inputs
    kind: str = "coupon"
    coupon_mode: str = "percent"  # percent | amount
    coupon_duration: str = "repeating"
    coupon_locked: bool = False
    pause_interval: str = "month"
    target_price: str = ""
    timing: str = "period_end"
    draft_reasons: list[str] = []
    draft_products: list[str] = []
    defaults: dict[str, str] = {}  # initial values of the uncontrolled inputs
    saving: bool = False

    @rx.var
    def has_offers(self) -> bool:
        """Whether the account has any offer."""
        return bool(self.offers)

    @rx.var
    def editing(self) -> bool:
        """Whether the dialog edits an existing offer."""
        return bool(self.editing_id)

    @rx.var
    def has_configurations(self) -> bool:
        """Whether there is a configuration whose policy can be set."""
        return bool(self.configuration_choices)

    @rx.var
    def kind_choices(self) -> list[Choice]:
        """The offer kinds for the kind select."""
        return [Choice(value=k, label=_t(f"kind_{k}")) for k in KINDS]

    @rx.var
    def reason_choices(self) -> list[Choice]:
        """Stripe's eight reasons."""
        return [Choice(value=r, label=reason_label(r)) for r in CANCELLATION_REASONS]

    def _fetch(self) -> EventSpec | None:
        uow = self._unit()
        try:
            identity = self._identity(uow)
            self._load_offers(identity, uow)
            self._load_policy(identity, uow)
        except AuthenticationFailed:
            return self._to_login()
        except SQLAlchemyError:
            self.status = "error"
            return None
        self.status = "ready"
        return None

    def _load_offers(self, identity: ConsoleIdentity, uow: UnitOfWork) -> None:
        account = identity.account_id
        products, prices = self._catalog(account, uow)
        with uow:
            rows = offers.list_offers(account_id=account, uow=uow)
            rendered = [offers.render_offer(o, uow) for o in rows if o.source == "merchant"]
        self.offers = [_offer_row(r, products, prices) for r in rendered]
        self.offer_choices = [Choice(value=NONE, label=_t("no_offer"))] + [
            Choice(value=r["id"], label=f"{r['name']} — {offer_summary(r, prices)}")
            for r in rendered if r["active"]]
        self.product_choices = [Choice(value=k, label=v) for k, v in products.items()]
        self.price_choices = [Choice(value=p.id, label=price_label(p))
                              for p in prices.values() if p.active]
        self.configuration_choices = [
            Choice(value=c.id, label=_configuration_label(c))
            for c in choices.list_configuration_choices(account_id=account, uow=uow)]

    def _load_policy(self, identity: ConsoleIdentity, uow: UnitOfWork) -> None:
        known = {c.value for c in self.configuration_choices}
        if self.policy_configuration not in known:
            self.policy_configuration = self.configuration_choices[0].value \
                if self.configuration_choices else ""
        mapping: dict[str, str] = {}
        self.policy_comment_required = False
        if self.policy_configuration:
            policy = policies.retrieve_policy(self.policy_configuration,
                                              account_id=identity.account_id, uow=uow)
            if policy is not None:
                mapping = dict(policy.offers)
                self.policy_comment_required = policy.comment_required
        offered = {c.value for c in self.offer_choices}
        self.policy_rows = [
            PolicyRow(reason=r, label=reason_label(r),
                      offer_id=mapping[r] if mapping.get(r) in offered else NONE)
            for r in REASON_KEYS]
        # An inactive offer still in the policy stays visible (and selectable) as it is.
        for reason, offer_id in mapping.items():
            if offer_id not in offered:
                row = next((o for o in self.offers if o.id == offer_id), None)
                if row is not None:
                    self.offer_choices = [*self.offer_choices,
                                          Choice(value=row.id, label=f"{row.name} (inactive)")]
                    offered.add(row.id)
                    self.policy_rows = [PolicyRow(p.reason, p.label, offer_id)
                                        if p.reason == reason else p for p in self.policy_rows]

    @rx.event
    def load(self) -> Iterator[EventSpec | None]:
        """The page's on_load."""
        self.status = "loading"
        self.dialog_open = False
        yield None
        yield self._fetch()

    @rx.event
    def retry(self) -> Iterator[EventSpec | None]:
        """Load again after an error."""
        self.status = "loading"
        yield None
        yield self._fetch()

    # The dialog ------------------------------------------------------------------------

    def _reset_draft(self) -> None:
        self._clear_error()
        self.form_key += 1
        self.kind, self.coupon_mode, self.coupon_duration = "coupon", "percent", "repeating"
        self.coupon_locked = False
        self.pause_interval, self.target_price, self.timing = "month", "", "period_end"
        self.draft_reasons, self.draft_products = [], []
        self.defaults = {"currency": "usd"}

    @rx.event
    def open_new(self) -> EventSpec | None:
        """Open an empty create dialog."""
        uow = self._unit()
        try:
            self._identity(uow)
        except AuthenticationFailed:
            return self._to_login()
        self._reset_draft()
        self.editing_id = ""
        self.dialog_open = True
        return None

    @rx.event
    def open_edit(self, offer_id: str) -> EventSpec | None:
        """Open the dialog on one of the signed-in account's offers."""
        uow = self._unit()
        try:
            identity = self._identity(uow)
            with uow:
                offer = offers.retrieve_offer(str(offer_id), account_id=identity.account_id,
                                              uow=uow)
                rendered = offers.render_offer(offer, uow)
        except AuthenticationFailed:
            return self._to_login()
        except ResourceMissing:
            return rx.toast.error(_t("offer_missing"))
        except SQLAlchemyError:
            return rx.toast.error(_t("load_error"))
        self._reset_draft()
        self.editing_id = offer.id
        self._fill(rendered)
        self.dialog_open = True
        return None

    def _fill(self, r: Mapping[str, Any]) -> None:
        self.kind = r["type"]
        rules = r["eligibility"]
        self.draft_reasons = list(rules["reasons"])
        self.draft_products = list(rules["products"])
        d = {"name": r["name"], "headline": r["headline"] or "",
             "min_age": str(rules["minimum_subscription_age_days"] or ""),
             "cooldown": _str(rules["cooldown_days"]),
             "max_redemptions": _str(rules["max_redemptions_per_customer"])}
        if r["coupon"]:
            c = r["coupon"]
            self.coupon_locked = True
            self.coupon_mode = "percent" if c["percent_off"] is not None else "amount"
            self.coupon_duration = c["duration"] or "once"
            d["percent"] = _str(c["percent_off"] if c["percent_off"] is None
                                else _number(c["percent_off"]))
            if c["amount_off"] is not None and c["currency"]:
                amount = Decimal(c["amount_off"]).scaleb(-i18n.minor_exponent(c["currency"]))
                d["amount"] = str(amount)
            d["currency"] = c["currency"] or "usd"
            d["months"] = _str(c["duration_in_months"])
        if r["pause"]:
            self.pause_interval = r["pause"]["interval"]
            d["pause_count"] = _str(r["pause"]["interval_count"])
        if r["price_change"]:
            self.target_price = r["price_change"]["price"] or ""
            self.timing = r["price_change"]["timing"] or "period_end"
        if r["trial_extension"]:
            d["days"] = _str(r["trial_extension"]["days"])
        if r["contact"]:
            d["contact_url"] = r["contact"]["url"] or ""
            d["contact_email"] = r["contact"]["email"] or ""
        self.defaults = d

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        """Open or close the offer dialog."""
        self.dialog_open = value
        if not value:
            self._clear_error()

    @rx.event
    def set_kind(self, value: str) -> None:
        """Choose the kind of a new offer (an existing offer keeps its kind)."""
        if not self.editing_id and value in KINDS:
            self.kind = value
            self._clear_error()

    @rx.event
    def set_coupon_mode(self, value: str | list[str]) -> None:
        """Percent or amount off (a segmented control sends a string)."""
        if isinstance(value, str) and value in ("percent", "amount") and not self.coupon_locked:
            self.coupon_mode = value

    @rx.event
    def set_coupon_duration(self, value: str) -> None:
        """Once, several months, or forever."""
        if value in ("once", "repeating", "forever") and not self.coupon_locked:
            self.coupon_duration = value

    @rx.event
    def set_pause_interval(self, value: str) -> None:
        """The unit of a pause."""
        if value in offers.PAUSE_INTERVALS:
            self.pause_interval = value

    @rx.event
    def set_target_price(self, value: str) -> None:
        """The cheaper price of a price-change offer."""
        self.target_price = str(value)

    @rx.event
    def set_timing(self, value: str) -> None:
        """When a price change happens."""
        if value in offers.PRICE_CHANGE_TIMINGS:
            self.timing = value

    @rx.event
    def toggle_reason(self, reason: str, checked: bool) -> None:
        """Tick or untick a reason the offer answers."""
        self.draft_reasons = _toggled(self.draft_reasons, reason, checked)

    @rx.event
    def toggle_product(self, product: str, checked: bool) -> None:
        """Tick or untick a product the offer is limited to."""
        self.draft_products = _toggled(self.draft_products, product, checked)

    def _type_fields(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """The kind-specific keywords of the offer services, from the form."""
        kind = self.kind
        if kind == "coupon":
            if self.coupon_locked:
                return {}
            months = _int(form, "months") if self.coupon_duration == "repeating" else None
            terms: dict[str, Any] = {"duration": self.coupon_duration,
                                     "duration_in_months": months}
            if self.coupon_mode == "percent":
                percent = _decimal(form, "percent")
                terms["percent_off"] = float(percent) if percent is not None else None
            else:
                currency = _text(form, "currency").lower()
                amount = _decimal(form, "amount")
                terms["currency"] = currency or None
                terms["amount_off"] = (minor_units(amount, currency or "usd")
                                       if amount is not None else None)
            if terms.get("percent_off") is None and terms.get("amount_off") is None:
                raise FieldProblem("percent" if self.coupon_mode == "percent" else "amount",
                                   _t("required"))
            if self.coupon_duration == "repeating" and months is None:
                raise FieldProblem("months", _t("required"))
            return {"new_coupon": terms}
        if kind == "pause":
            return {"pause_interval": self.pause_interval,
                    "pause_interval_count": _int(form, "pause_count")}
        if kind == "price_change":
            return {"price": self.target_price or None, "price_change_timing": self.timing}
        if kind == "trial_extension":
            return {"extension_days": _int(form, "days")}
        return {"contact_url": _text(form, "contact_url") or None,
                "contact_email": _text(form, "contact_email") or None}

    def _fields(self, form: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": _text(form, "name"),
            "headline": _text(form, "headline") or None,
            **self._type_fields(form),
            "reasons": list(self.draft_reasons),
            "products": list(self.draft_products),
            "minimum_subscription_age_days": _int(form, "min_age") or 0,
            "cooldown_days": _int(form, "cooldown"),
            "max_redemptions_per_customer": _int(form, "max_redemptions"),
        }

    @rx.event
    def save(self, form_data: dict) -> Iterator[EventSpec | None]:
        """Create or change the offer; the services' validation errors show in the form."""
        uow = self._unit()
        self._clear_error()
        try:
            identity = self._identity(uow)
            fields = self._fields(form_data)
            if self.editing_id:
                offers.update_offer(self.editing_id, account_id=identity.account_id, uow=uow,
                                    **fields)
                message = _t("saved_offer")
            else:
                offers.create_offer(account_id=identity.account_id, uow=uow, type=self.kind,
                                    **fields)
                message = _t("created_offer")
        except AuthenticationFailed:
            yield self._to_login()
            return
        except (InvalidRequest, FieldProblem) as error:
            self._fail(error)
            return
        except SQLAlchemyError:
            self.form_error = _t("load_error")
            return
        self.dialog_open = False
        yield rx.toast.success(message)
        yield self._fetch()

    @rx.event
    def set_active(self, offer_id: str, active: bool) -> Iterator[EventSpec | None]:
        """Deactivate an offer (it is no longer shown) or activate it again."""
        uow = self._unit()
        try:
            identity = self._identity(uow)
            offers.update_offer(str(offer_id), account_id=identity.account_id, uow=uow,
                                active=bool(active))
        except AuthenticationFailed:
            yield self._to_login()
            return
        except ResourceMissing:
            yield rx.toast.error(_t("offer_missing"))
            return
        except InvalidRequest as error:
            yield rx.toast.error(error.message)
            return
        yield rx.toast.success(_t("activated") if active else _t("deactivated"))
        yield self._fetch()

    # The policy ------------------------------------------------------------------------

    @rx.event
    def select_configuration(self, configuration_id: str) -> EventSpec | None:
        """Show another configuration's policy."""
        self.policy_configuration = str(configuration_id)
        return self._fetch()

    @rx.event
    def set_policy_offer(self, reason: str, offer_id: str) -> None:
        """Choose the offer of one reason (saved with :meth:`save_policy`)."""
        self.policy_rows = [PolicyRow(row.reason, row.label, str(offer_id))
                            if row.reason == reason else row for row in self.policy_rows]

    @rx.event
    def set_comment_required(self, value: bool) -> None:
        """Whether the cancel page requires a comment (saved with :meth:`save_policy`)."""
        self.policy_comment_required = bool(value)

    @rx.event
    def save_policy(self) -> Iterator[EventSpec | None]:
        """Store the configuration's offer per reason."""
        uow = self._unit()
        try:
            identity = self._identity(uow)
            policies.set_policy(
                self.policy_configuration, account_id=identity.account_id, uow=uow,
                offers={row.reason: row.offer_id for row in self.policy_rows
                        if row.offer_id != NONE},
                comment_required=self.policy_comment_required)
        except AuthenticationFailed:
            yield self._to_login()
            return
        except InvalidRequest as error:
            yield rx.toast.error(error.message)
            return
        yield rx.toast.success(_t("saved_policy"))
        yield self._fetch()


def _offer_row(r: Mapping[str, Any], products: Mapping[str, str],
               prices: Mapping[str, choices.PriceChoice]) -> OfferRow:
    reasons = r["eligibility"]["reasons"]
    return OfferRow(
        id=r["id"], name=r["name"], kind=r["type"], kind_label=_t(f"kind_{r['type']}"),
        summary=offer_summary(r, prices), headline=r["headline"] or "",
        reasons=", ".join(reason_label(x) for x in reasons) if reasons else _t("any_reason"),
        eligibility=eligibility_lines(r, products, prices), active=r["active"],
        status_label=_t("active") if r["active"] else _t("inactive"))


def _configuration_label(c: choices.ConfigurationChoice) -> str:
    label = c.name or c.id
    return f"{label} ({_t('default_configuration')})" if c.is_default else label


def _toggled(values: Sequence[str], value: str, checked: bool) -> list[str]:
    rest = [v for v in values if v != value]
    return [*rest, value] if checked else rest


def _str(value: Any) -> str:
    return "" if value is None else str(value)


# --- experiments --------------------------------------------------------------------------

_TONES = {"draft": "gray", "running": "green", "stopped": "amber", "shipped": "indigo"}


def _status(status: str, shipped: str | None) -> str:
    return "shipped" if shipped else status


class ExperimentsState(RetentionState):
    """/console/experiments: the list and the create/edit-draft dialog."""

    status: str = "loading"  # loading | ready | error
    form_error: str = ""
    error_field: str = ""
    experiments: list[ExperimentRow] = []
    configuration_choices: rx.Field[list[Choice]] = rx.field(default_factory=list)
    offer_choices: rx.Field[list[Choice]] = rx.field(default_factory=list)  # NONE first
    product_choices: rx.Field[list[Choice]] = rx.field(default_factory=list)
    # The dialog
    dialog_open: bool = False
    editing_id: str = ""
    form_key: int = 0
    configuration: str = ""
    target_reasons: list[str] = []
    segment_products: list[str] = []
    variants: list[VariantDraft] = []
    defaults: dict[str, str] = {}
    _next_key: int = 0

    @rx.var
    def has_experiments(self) -> bool:
        """Whether the account has any experiment."""
        return bool(self.experiments)

    @rx.var
    def has_offers(self) -> bool:
        """Whether there is an offer a variant could show."""
        return len(self.offer_choices) > 1

    @rx.var
    def has_configurations(self) -> bool:
        """Whether an experiment could target anything."""
        return bool(self.configuration_choices)

    @rx.var
    def editing(self) -> bool:
        """Whether the dialog edits an existing draft."""
        return bool(self.editing_id)

    @rx.var
    def reason_choices(self) -> list[Choice]:
        """Stripe's eight reasons."""
        return [Choice(value=r, label=reason_label(r)) for r in CANCELLATION_REASONS]

    @rx.var
    def can_remove_variant(self) -> bool:
        """Whether more than one variant is left."""
        return len(self.variants) > 1

    def _fetch(self) -> EventSpec | None:
        uow = self._unit()
        try:
            identity = self._identity(uow)
            account = identity.account_id
            products, prices = self._catalog(account, uow)
            configs = choices.list_configuration_choices(account_id=account, uow=uow)
            with uow:
                active = [offers.render_offer(o, uow) for o in
                          offers.list_offers(account_id=account, uow=uow, active=True)
                          if o.source == "merchant"]
                listed = [(e, experiments.render_experiment(e, uow)) for e in
                          experiments.list_experiments(account_id=account, uow=uow)]
        except AuthenticationFailed:
            return self._to_login()
        except SQLAlchemyError:
            self.status = "error"
            return None
        labels = {c.id: _configuration_label(c) for c in configs}
        self.configuration_choices = [Choice(value=k, label=v) for k, v in labels.items()]
        self.offer_choices = [Choice(value=NONE, label=_t("no_offer"))] + [
            Choice(value=r["id"], label=f"{r['name']} — {offer_summary(r, prices)}")
            for r in active]
        self.product_choices = [Choice(value=k, label=v) for k, v in products.items()]
        self.experiments = [_experiment_row(r, labels) for _, r in listed]
        self.status = "ready"
        return None

    @rx.event
    def load(self) -> Iterator[EventSpec | None]:
        """The page's on_load (``?edit=exp_...`` opens that draft's dialog)."""
        self.status = "loading"
        self.dialog_open = False
        yield None
        yield self._fetch()
        edit = self.router.url.query_parameters.get("edit")
        if edit and self.status == "ready":
            yield self._open(str(edit))

    @rx.event
    def retry(self) -> Iterator[EventSpec | None]:
        """Load again after an error."""
        self.status = "loading"
        yield None
        yield self._fetch()

    def _new_variant(self, name: str = "", offers_: Mapping[str, str] | None = None,
                     weight: int = 1) -> VariantDraft:
        self._next_key += 1
        mapping = {r: (offers_ or {}).get(r, NONE) for r in REASON_KEYS}
        per_reason = any(mapping[r] != NONE for r in CANCELLATION_REASONS)
        return VariantDraft(key=f"v{self._next_key}", name=name, weight=str(weight),
                            offers=mapping, per_reason=per_reason,
                            control=all(v == NONE for v in mapping.values()))

    @rx.event
    def open_new(self) -> EventSpec | None:
        """Open the dialog with a control and one offer variant."""
        uow = self._unit()
        try:
            self._identity(uow)
        except AuthenticationFailed:
            return self._to_login()
        self._clear_error()
        self.form_key += 1
        self.editing_id = ""
        self.configuration = self.configuration_choices[0].value \
            if self.configuration_choices else ""
        self.target_reasons, self.segment_products = [], []
        first_offer = self.offer_choices[1].value if len(self.offer_choices) > 1 else NONE
        self.variants = [self._new_variant("Control"),
                         self._new_variant("Offer", {DEFAULT_REASON: first_offer})]
        self.defaults = {"holdout": "0"}
        self.dialog_open = True
        return None

    @rx.event
    def open_edit(self, experiment_id: str) -> EventSpec | None:
        """Open the dialog on one of the account's draft experiments."""
        return self._open(str(experiment_id))

    def _open(self, experiment_id: str) -> EventSpec | None:
        uow = self._unit()
        try:
            identity = self._identity(uow)
            with uow:
                exp = experiments.retrieve_experiment(experiment_id,
                                                      account_id=identity.account_id, uow=uow)
                rendered = experiments.render_experiment(exp, uow)
        except AuthenticationFailed:
            return self._to_login()
        except ResourceMissing:
            return rx.toast.error(_t("experiment_missing"))
        if rendered["status"] != ExperimentStatus.draft:
            return rx.redirect(f"{CONSOLE_EXPERIMENT}?id={exp.id}")
        self._clear_error()
        self.form_key += 1
        self.editing_id = exp.id
        self.configuration = rendered["configuration"]
        self.target_reasons = list(rendered["reasons"])
        self.segment_products = list(rendered["segments"]["products"])
        self.variants = [self._new_variant(v["name"], v["offers"], v["weight"])
                         for v in rendered["variants"]]
        segments = rendered["segments"]
        self.defaults = {"name": rendered["name"],
                         "holdout": _number(rendered["holdout_percent"]),
                         "tenure_min": _str(segments["tenure_min_days"]),
                         "tenure_max": _str(segments["tenure_max_days"])}
        self.dialog_open = True
        return None

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        """Open or close the experiment dialog."""
        self.dialog_open = value
        if not value:
            self._clear_error()

    @rx.event
    def set_configuration(self, value: str) -> None:
        """The configuration the experiment runs on."""
        self.configuration = str(value)

    @rx.event
    def toggle_reason(self, reason: str, checked: bool) -> None:
        """Limit the experiment to a reason, or not."""
        self.target_reasons = _toggled(self.target_reasons, reason, checked)

    @rx.event
    def toggle_product(self, product: str, checked: bool) -> None:
        """Limit the experiment to subscribers of a product, or not."""
        self.segment_products = _toggled(self.segment_products, product, checked)

    @rx.event
    def add_variant(self) -> None:
        """One more variant (no offer until one is chosen)."""
        self.variants = [*self.variants,
                         self._new_variant(f"Variant {chr(ord('A') + len(self.variants))}")]

    @rx.event
    def remove_variant(self, key: str) -> None:
        """Drop a variant (at least one stays)."""
        if len(self.variants) > 1:
            self.variants = [v for v in self.variants if v.key != key]

    @rx.event
    def set_variant_offer(self, key: str, reason: str, offer_id: str) -> None:
        """The offer a variant shows for a reason (``none``: no offer)."""
        if reason not in REASON_KEYS:
            return
        updated = []
        for v in self.variants:
            if v.key == key:
                mapping = {**v.offers, reason: str(offer_id) or NONE}
                v = VariantDraft(key=v.key, name=v.name, weight=v.weight, offers=mapping,
                                 per_reason=v.per_reason,
                                 control=all(x == NONE for x in mapping.values()))
            updated.append(v)
        self.variants = updated

    @rx.event
    def set_per_reason(self, key: str, value: bool) -> None:
        """Show (or hide) a variant's offer per reason."""
        self.variants = [VariantDraft(key=v.key, name=v.name, weight=v.weight,
                                      offers=v.offers, per_reason=bool(value),
                                      control=v.control)
                         if v.key == key else v for v in self.variants]

    def _specs(self, form: Mapping[str, Any]) -> list[VariantSpec]:
        specs = []
        kept = []
        for v in self.variants:
            name = _text(form, f"vname_{v.key}")
            weight = _int(form, f"vweight_{v.key}", f"vweight_{v.key}")
            # What was typed stays when the dialog re-renders after an error.
            kept.append(VariantDraft(key=v.key, name=name, weight=_str(weight) or "",
                                     offers=v.offers, per_reason=v.per_reason,
                                     control=v.control))
            mapping = {r: o for r, o in v.offers.items() if o != NONE
                       and (v.per_reason or r == DEFAULT_REASON)}
            specs.append(VariantSpec(name=name, weight=weight if weight is not None else 1,
                                     offers=mapping))
        self.variants = kept
        return specs

    def _experiment_fields(self, form: Mapping[str, Any]) -> dict[str, Any]:
        holdout = _decimal(form, "holdout")
        return {"name": _text(form, "name"), "reasons": list(self.target_reasons),
                "segment_products": list(self.segment_products),
                "tenure_min_days": _int(form, "tenure_min"),
                "tenure_max_days": _int(form, "tenure_max"),
                "holdout_percent": float(holdout) if holdout is not None else 0.0,
                "variants": self._specs(form)}

    @rx.event
    def save(self, form_data: dict) -> Iterator[EventSpec | None]:
        """Create the draft, or change it; the services' validation errors show in the form."""
        uow = self._unit()
        self._clear_error()
        self.defaults = {**self.defaults, **{k: _text(form_data, k) for k in
                                             ("name", "holdout", "tenure_min", "tenure_max")}}
        try:
            identity = self._identity(uow)
            fields = self._experiment_fields(form_data)
            if self.editing_id:
                exp = experiments.update_experiment(self.editing_id,
                                                    account_id=identity.account_id, uow=uow,
                                                    **fields)
                message = _t("saved_experiment")
            else:
                exp = experiments.create_experiment(account_id=identity.account_id, uow=uow,
                                                    configuration=self.configuration, **fields)
                message = _t("created_experiment")
        except AuthenticationFailed:
            yield self._to_login()
            return
        except (InvalidRequest, FieldProblem) as error:
            self._fail(error)
            self._variant_error(error)
            return
        except SQLAlchemyError:
            self.form_error = _t("load_error")
            return
        self.dialog_open = False
        yield rx.toast.success(message)
        yield rx.redirect(f"{CONSOLE_EXPERIMENT}?id={exp.id}")

    def _variant_error(self, error: InvalidRequest | FieldProblem) -> None:
        """Point an error about ``variants[i][...]`` at that variant's inputs."""
        param = getattr(error, "param", None) or ""
        if not param.startswith("variants["):
            return
        index_text, _, rest = param[len("variants["):].partition("]")
        if not index_text.isdigit() or int(index_text) >= len(self.variants):
            return
        key = self.variants[int(index_text)].key
        part = "vweight" if rest.startswith("[weight]") else \
            "voffers" if rest.startswith("[offers]") else "vname"
        self.error_field = f"{part}_{key}"


def _experiment_row(r: Mapping[str, Any], configurations: Mapping[str, str]) -> ExperimentRow:
    status = _status(r["status"], r["shipped_variant"])
    names = [v["name"] for v in r["variants"]]
    started = r["started_at"]
    return ExperimentRow(
        id=r["id"], name=r["name"], status=status, status_label=_t(f"status_{status}"),
        tone=_TONES[status], configuration=configurations.get(r["configuration"],
                                                              r["configuration"]),
        variants=" · ".join(names),
        started=i18n.format_date(from_unix(started), CONSOLE_LOCALE) if started else "—",
        href=f"{CONSOLE_EXPERIMENT}?id={r['id']}")


class ExperimentState(RetentionState):
    """/console/experiments/view?id=…: one experiment, its lifecycle and live read-out."""

    status: str = "loading"  # loading | ready | error | missing
    form_error: str = ""
    error_field: str = ""
    experiment_id: str = ""
    name: str = ""
    exp_status: str = "draft"  # draft | running | stopped | shipped
    status_label: str = ""
    tone: str = "gray"
    configuration: str = ""
    targeting: list[str] = []
    holdout: str = ""
    started: str = ""
    stopped: str = ""
    variants: list[VariantReadoutRow] = []
    exposures: str = "0"
    has_exposures: bool = False
    srm_warning: str = ""
    updated_at: str = ""
    confirm_open: bool = False
    confirm_action: str = ""  # start | stop | ship
    confirm_variant_id: str = ""
    confirm_variant_name: str = ""
    busy: bool = False

    @rx.var
    def is_draft(self) -> bool:
        """Whether the experiment can still be edited and started."""
        return self.exp_status == "draft"

    @rx.var
    def is_running(self) -> bool:
        """Whether the experiment assigns customers now."""
        return self.exp_status == "running"

    @rx.var
    def can_ship(self) -> bool:
        """Whether one of its variants can be shipped."""
        return self.exp_status in ("running", "stopped")

    @rx.var
    def confirm_title(self) -> str:
        """The confirmation dialog's title."""
        return _t(f"confirm_{self.confirm_action}_title") if self.confirm_action else ""

    @rx.var
    def confirm_text(self) -> str:
        """The confirmation dialog's explanation."""
        if not self.confirm_action:
            return ""
        text = _t(f"confirm_{self.confirm_action}")
        if self.confirm_action == "ship":
            return f"“{self.confirm_variant_name}”: {text}"
        return text

    def _fetch(self) -> EventSpec | None:
        uow = self._unit()
        try:
            identity = self._identity(uow)
            account = identity.account_id
            products, prices = self._catalog(account, uow)
            configs = {c.id: _configuration_label(c)
                       for c in choices.list_configuration_choices(account_id=account, uow=uow)}
            with uow:
                exp = experiments.retrieve_experiment(self.experiment_id, account_id=account,
                                                      uow=uow)
                rendered = experiments.render_experiment(exp, uow)
                offer_names = {o.id: o.name for o in
                               offers.list_offers(account_id=account, uow=uow)}
            result = readout.experiment_readout(exp.id, account_id=account, uow=uow)
        except AuthenticationFailed:
            return self._to_login()
        except ResourceMissing:
            self.status = "missing"
            return None
        except SQLAlchemyError:
            self.status = "error"
            return None
        self._show(rendered, result, configs, offer_names, products)
        self.updated_at = i18n.format_datetime(uow.clock(), CONSOLE_LOCALE, format="medium")
        self.status = "ready"
        return None

    def _show(self, r: Mapping[str, Any], result: readout.ExperimentReadout,
              configs: Mapping[str, str], offer_names: Mapping[str, str],
              products: Mapping[str, str]) -> None:
        status = _status(r["status"], r["shipped_variant"])
        self.name = r["name"]
        self.exp_status = status
        self.status_label = _t(f"status_{status}")
        self.tone = _TONES[status]
        self.configuration = configs.get(r["configuration"], r["configuration"])
        segments = r["segments"]
        targeting = []
        if r["reasons"]:
            targeting.append(", ".join(reason_label(x) for x in r["reasons"]))
        if segments["products"]:
            targeting.append(", ".join(products.get(p, p) for p in segments["products"]))
        if segments["tenure_min_days"] is not None:
            targeting.append(f"Subscribed ≥ {segments['tenure_min_days']} days")
        if segments["tenure_max_days"] is not None:
            targeting.append(f"Subscribed ≤ {segments['tenure_max_days']} days")
        self.targeting = targeting or [_t("everyone_in_config")]
        self.holdout = f"{_number(r['holdout_percent'])}%"
        self.started = _when(r["started_at"])
        self.stopped = _when(r["stopped_at"])
        by_id = {v.variant_id: v for v in result.variants}
        total_weight = sum(v["weight"] for v in r["variants"]) or 1
        rows = []
        for v in r["variants"]:
            numbers = by_id.get(v["id"])
            rows.append(_readout_row(v, numbers, total_weight=total_weight,
                                     offer_names=offer_names,
                                     shipped=v["id"] == r["shipped_variant"]))
        self.variants = rows
        self.exposures = f"{result.exposures:,}"
        self.has_exposures = result.exposures > 0
        self.srm_warning = (_t("srm_text").format(p=f"{result.srm_p_value:.2g}")
                            if result.sample_ratio_mismatch and result.srm_p_value is not None
                            else "")

    @rx.event
    def load(self) -> Iterator[EventSpec | None]:
        """The page's on_load: the experiment named by ``?id=``."""
        self.experiment_id = str(self.router.url.query_parameters.get("id") or "")[:64]
        self.status = "loading"
        self.confirm_open = False
        yield None
        yield self._fetch()

    @rx.event
    def refresh(self) -> EventSpec | None:
        """Read the numbers again."""
        return self._fetch()

    @rx.event
    def ask(self, action: str, variant_id: str = "") -> None:
        """Open the confirmation of start, stop or ship (variant)."""
        if action not in ("start", "stop", "ship"):
            return
        self.confirm_action = action
        self.confirm_variant_id = str(variant_id)
        self.confirm_variant_name = next((v.name for v in self.variants
                                          if v.id == variant_id), "")
        self.confirm_open = True

    @rx.event
    def set_confirm_open(self, value: bool) -> None:
        """Close (or open) the confirmation."""
        self.confirm_open = value

    @rx.event
    def confirm(self) -> Iterator[EventSpec | None]:
        """Carry out the confirmed action on the signed-in account's experiment."""
        action = self.confirm_action
        uow = self._unit()
        self.confirm_open = False
        try:
            identity = self._identity(uow)
            account = identity.account_id
            if action == "start":
                experiments.start_experiment(self.experiment_id, account_id=account, uow=uow)
            elif action == "stop":
                experiments.stop_experiment(self.experiment_id, account_id=account, uow=uow)
            elif action == "ship":
                experiments.ship_variant(self.experiment_id, variant_id=self.confirm_variant_id,
                                         account_id=account, uow=uow)
            else:
                return
        except AuthenticationFailed:
            yield self._to_login()
            return
        except ResourceMissing as error:
            yield rx.toast.error(_t("variant_missing") if error.param == "variant"
                                 else _t("experiment_missing"))
            return
        except InvalidRequest as error:
            yield rx.toast.error(error.message)
            yield self._fetch()
            return
        yield rx.toast.success(_t({"start": "started", "stop": "stopped",
                                   "ship": "shipped"}[action]))
        yield self._fetch()


def _when(unix: int | None) -> str:
    return i18n.format_datetime(from_unix(unix), CONSOLE_LOCALE) if unix else ""


def _readout_row(v: Mapping[str, Any], numbers: readout.VariantReadout | None, *,
                 total_weight: int, offer_names: Mapping[str, str],
                 shipped: bool) -> VariantReadoutRow:
    offers_ = v["offers"]
    if not offers_:
        offers_label = _t("control_hint")
    else:
        offers_label = "; ".join(f"{reason_label(reason)}: {offer_names.get(o, o)}"
                                 for reason, o in sorted(offers_.items(),
                                                         key=lambda kv: REASON_KEYS.index(kv[0])))
    rate = numbers.rate if numbers else None
    low = numbers.rate_low if numbers else None
    high = numbers.rate_high if numbers else None
    diff = numbers.diff if numbers else None
    if diff is None or numbers is None:
        tone = "gray"
    elif numbers.significant:
        tone = "green" if diff > 0 else "red"
    else:
        tone = "gray"
    has_interval = rate is not None and low is not None and high is not None
    return VariantReadoutRow(
        id=v["id"], name=v["name"], weight=f"{v['weight'] / total_weight:.0%}",
        offers=offers_label, is_control=bool(numbers and numbers.control),
        no_offer=not offers_, shipped=shipped,
        exposures=f"{numbers.exposures:,}" if numbers else "0",
        saves=f"{numbers.saves:,}" if numbers else "0",
        rate=_percent(rate), has_rate=has_interval,
        interval=f"{_percent(low)} – {_percent(high)}" if has_interval else "",
        bar_left=f"{_clamp((low or 0) * 100):.2f}%",
        bar_width=f"{_clamp(((high or 0) - (low or 0)) * 100):.2f}%",
        dot_left=f"{_clamp((rate or 0) * 100):.2f}%",
        diff="" if numbers and numbers.control else _points(diff),
        diff_interval=(f"{_points(numbers.diff_low)} to {_points(numbers.diff_high)}"
                       if numbers and numbers.diff_low is not None
                       and numbers.diff_high is not None else ""),
        diff_tone=tone,
        verdict=numbers.verdict if numbers else "",
    )

