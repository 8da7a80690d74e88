"""/console/offers: the offer list, its create/edit dialog, and the policy per reason."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from portal_app.accounts.services import ConsoleIdentity
from portal_app.console.forms import Choice, toggled
from portal_app.console.offer_forms import (
    COUPON_DURATIONS,
    COUPON_MODES,
    NEW_OFFER_DEFAULTS,
    OfferDraft,
    draft_of,
    offer_fields,
)
from portal_app.console.offer_views import (
    NONE,
    OfferRow,
    PolicyRow,
    configuration_label,
    offer_choices,
    offer_row,
    policy_rows,
    price_label,
)
from portal_app.console.strings import ct
from portal_app.console.wording import kind_label
from portal_app.db import UnitOfWork
from portal_app.retention import choices, offers, policies
from portal_app.retention.models import OfferType
from portal_app.state.console import Refused
from portal_app.state.console_retention import RetentionState, reason_choices

KINDS = tuple(str(kind) for kind in OfferType)


def offer_missing() -> str:
    """What the page says about an offer id that is not the account's."""
    return ct("This offer does not exist (any more).")


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
    # The create/edit dialog: its controlled inputs (an OfferDraft) and the typed ones'
    # initial values.
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
        return [Choice(value=k, label=kind_label(k)) for k in KINDS]

    @rx.var
    def reason_choices(self) -> list[Choice]:
        """Stripe's eight reasons."""
        return reason_choices()

    def _load(self, identity: ConsoleIdentity, uow: UnitOfWork) -> None:
        """The account's offers, its catalog and configurations, and the shown policy."""
        account = identity.account_id
        products, prices = self._catalog(account, uow)
        with uow:
            rendered = [offers.render_offer(o, uow)
                        for o in offers.list_offers(account_id=account, uow=uow)
                        if o.source == "merchant"]
        self.offers = [offer_row(r, products, prices) for r in rendered]
        self.product_choices = [Choice(value=k, label=v) for k, v in products.items()]
        self.price_choices = [Choice(value=p.id, label=price_label(p))
                              for p in prices.values() if p.active]
        self.configuration_choices = [
            Choice(value=c.id, label=configuration_label(c))
            for c in choices.list_configuration_choices(account_id=account, uow=uow)]
        if self.policy_configuration not in {c.value for c in self.configuration_choices}:
            self.policy_configuration = self.configuration_choices[0].value \
                if self.configuration_choices else ""
        mapping: dict[str, str] = {}
        self.policy_comment_required = False
        if self.policy_configuration:
            policy = policies.retrieve_policy(self.policy_configuration, account_id=account,
                                              uow=uow)
            if policy is not None:
                mapping = dict(policy.offers)
                self.policy_comment_required = policy.comment_required
        self.policy_rows, self.offer_choices = policy_rows(
            mapping, offer_choices([r for r in rendered if r["active"]], prices), self.offers)

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

    def _draft(self) -> OfferDraft:
        return OfferDraft(kind=self.kind, coupon_mode=self.coupon_mode,
                          coupon_duration=self.coupon_duration,
                          coupon_locked=self.coupon_locked,
                          pause_interval=self.pause_interval, target_price=self.target_price,
                          timing=self.timing, reasons=list(self.draft_reasons),
                          products=list(self.draft_products))

    def _open_dialog(self, editing_id: str, draft: OfferDraft, typed: Mapping[str, str]
                     ) -> None:
        self._clear_error()
        self.form_key += 1
        self.editing_id = editing_id
        self.kind, self.coupon_mode = draft.kind, draft.coupon_mode
        self.coupon_duration, self.coupon_locked = draft.coupon_duration, draft.coupon_locked
        self.pause_interval, self.target_price = draft.pause_interval, draft.target_price
        self.timing = draft.timing
        self.draft_reasons, self.draft_products = list(draft.reasons), list(draft.products)
        self.defaults = dict(typed)
        self.dialog_open = True

    @rx.event
    def open_new(self) -> EventSpec | None:
        """Open an empty create dialog."""
        if (refused := self._signed_out()) is not None:
            return refused.effect
        self._open_dialog("", OfferDraft(), NEW_OFFER_DEFAULTS)
        return None

    @rx.event
    def open_edit(self, offer_id: str) -> EventSpec | None:
        """Open the dialog on one of the signed-in account's offers."""

        def rendered_offer(identity: ConsoleIdentity, uow: UnitOfWork) -> dict[str, Any]:
            with uow:
                offer = offers.retrieve_offer(str(offer_id), account_id=identity.account_id,
                                              uow=uow)
                return offers.render_offer(offer, uow)

        rendered = self._call(rendered_offer, refused=self._toast_refused(offer_missing()))
        if isinstance(rendered, Refused):
            return rendered.effect
        draft, typed = draft_of(rendered)
        self._open_dialog(rendered["id"], draft, typed)
        return None

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
        if isinstance(value, str) and value in COUPON_MODES and not self.coupon_locked:
            self.coupon_mode = value

    @rx.event
    def set_coupon_duration(self, value: str) -> None:
        """Once, several months, or forever."""
        if value in COUPON_DURATIONS and not self.coupon_locked:
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
        self.draft_reasons = toggled(self.draft_reasons, reason, checked)

    @rx.event
    def toggle_product(self, product: str, checked: bool) -> None:
        """Tick or untick a product the offer is limited to."""
        self.draft_products = toggled(self.draft_products, product, checked)

    def _save(self, form: Mapping[str, Any], identity: ConsoleIdentity, uow: UnitOfWork
              ) -> str:
        """Create or change the offer; what the toast then says."""
        fields = offer_fields(form, self._draft())
        if self.editing_id:
            offers.update_offer(self.editing_id, account_id=identity.account_id, uow=uow,
                                **fields)
            return ct("Offer saved.")
        offers.create_offer(account_id=identity.account_id, uow=uow, type=self.kind, **fields)
        return ct("Offer created.")

    @rx.event
    def save(self, form_data: dict) -> Iterator[EventSpec | None]:
        """Create or change the offer; the services' validation errors show in the form."""
        self._clear_error()
        saved = self._call(lambda identity, uow: self._save(form_data, identity, uow),
                           refused=self._form_refused)
        if isinstance(saved, Refused):
            yield saved.effect
            return
        self.dialog_open = False
        yield rx.toast.success(saved)
        yield self._fetch()

    @rx.event
    def set_active(self, offer_id: str, active: bool) -> Iterator[EventSpec | None]:
        """Deactivate an offer (it is no longer shown) or activate it again."""
        changed = self._call(
            lambda identity, uow: offers.update_offer(
                str(offer_id), account_id=identity.account_id, uow=uow, active=bool(active)),
            refused=self._toast_refused(offer_missing()))
        if isinstance(changed, Refused):
            yield changed.effect
            return
        yield rx.toast.success(ct("Offer active again.") if active
                               else ct("Offer deactivated: it is no longer shown."))
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
        saved = self._call(
            lambda identity, uow: policies.set_policy(
                self.policy_configuration, account_id=identity.account_id, uow=uow,
                offers={row.reason: row.offer_id for row in self.policy_rows
                        if row.offer_id != NONE},
                comment_required=self.policy_comment_required),
            refused=self._toast_refused())
        if isinstance(saved, Refused):
            yield saved.effect
            return
        yield rx.toast.success(ct("Policy saved."))
        yield self._fetch()
