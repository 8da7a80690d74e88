"""/console/experiments: the list and its draft dialog; /console/experiments/view: one
experiment, its lifecycle and its live read-out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from portal_app import i18n
from portal_app.accounts.services import ConsoleIdentity
from portal_app.console.experiment_forms import (
    VariantDraft,
    experiment_defaults,
    experiment_fields,
    new_variant,
    new_variant_name,
    variant_field,
    with_offer,
)
from portal_app.console.experiment_views import (
    ExperimentRow,
    ExperimentView,
    VariantReadoutRow,
    confirm_text,
    confirm_title,
    done_message,
    experiment_href,
    experiment_row,
    experiment_view,
)
from portal_app.console.forms import Choice, text, toggled
from portal_app.console.offer_views import NONE, configuration_label, offer_choices
from portal_app.console.strings import CONSOLE_LOCALE, ct
from portal_app.console.wording import REASON_KEYS, reason_label
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.retention import choices, experiments, offers, readout
from portal_app.retention.models import DEFAULT_REASON, ExperimentStatus
from portal_app.state.console import Refused
from portal_app.state.console_retention import RetentionState, reason_choices

ACTIONS = ("start", "stop", "ship")


def experiment_missing() -> str:
    """What the pages say about an experiment id that is not the account's."""
    return ct("This experiment does not exist.")


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
        return reason_choices()

    @rx.var
    def reason_labels(self) -> dict[str, str]:
        """Every reason key (``default`` too) in words: the variants' per-reason offers."""
        return {reason: reason_label(reason) for reason in REASON_KEYS}

    @rx.var
    def can_remove_variant(self) -> bool:
        """Whether more than one variant is left."""
        return len(self.variants) > 1

    def _load(self, identity: ConsoleIdentity, uow: UnitOfWork) -> None:
        """The account's experiments, and the choices the dialog offers."""
        account = identity.account_id
        products, prices = self._catalog(account, uow)
        configs = choices.list_configuration_choices(account_id=account, uow=uow)
        with uow:
            active = [offers.render_offer(o, uow) for o in
                      offers.list_offers(account_id=account, uow=uow, active=True)
                      if o.source == "merchant"]
            listed = [experiments.render_experiment(e, uow) for e in
                      experiments.list_experiments(account_id=account, uow=uow)]
        labels = {c.id: configuration_label(c) for c in configs}
        self.configuration_choices = [Choice(value=k, label=v) for k, v in labels.items()]
        self.offer_choices = offer_choices(active, prices)
        self.product_choices = [Choice(value=k, label=v) for k, v in products.items()]
        self.experiments = [experiment_row(r, labels) for r in listed]

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

    def _variant(self, name: str = "", offers_: Mapping[str, str] | None = None,
                 weight: int = 1) -> VariantDraft:
        self._next_key += 1
        return new_variant(f"v{self._next_key}", name, offers_, weight)

    def _open_dialog(self, *, editing_id: str, configuration: str, reasons: list[str],
                     products: list[str], variants: list[VariantDraft],
                     defaults: dict[str, str]) -> None:
        self._clear_error()
        self.form_key += 1
        self.editing_id, self.configuration = editing_id, configuration
        self.target_reasons, self.segment_products = reasons, products
        self.variants, self.defaults = variants, defaults
        self.dialog_open = True

    @rx.event
    def open_new(self) -> EventSpec | None:
        """Open the dialog with a control and one offer variant."""
        if (refused := self._signed_out()) is not None:
            return refused.effect
        first_offer = self.offer_choices[1].value if len(self.offer_choices) > 1 else NONE
        self._open_dialog(
            editing_id="", reasons=[], products=[], defaults={"holdout": "0"},
            configuration=self.configuration_choices[0].value
            if self.configuration_choices else "",
            variants=[self._variant(ct("Control")),
                      self._variant(ct("Offer"), {DEFAULT_REASON: first_offer})])
        return None

    @rx.event
    def open_edit(self, experiment_id: str) -> EventSpec | None:
        """Open the dialog on one of the account's draft experiments."""
        return self._open(str(experiment_id))

    def _open(self, experiment_id: str) -> EventSpec | None:
        def rendered_experiment(identity: ConsoleIdentity, uow: UnitOfWork) -> dict[str, Any]:
            with uow:
                exp = experiments.retrieve_experiment(experiment_id,
                                                      account_id=identity.account_id, uow=uow)
                return experiments.render_experiment(exp, uow)

        rendered = self._call(rendered_experiment,
                              refused=self._toast_refused(experiment_missing()))
        if isinstance(rendered, Refused):
            return rendered.effect
        if rendered["status"] != ExperimentStatus.draft:
            return rx.redirect(experiment_href(rendered["id"]))
        self._open_dialog(
            editing_id=rendered["id"], configuration=rendered["configuration"],
            reasons=list(rendered["reasons"]),
            products=list(rendered["segments"]["products"]),
            variants=[self._variant(v["name"], v["offers"], v["weight"])
                      for v in rendered["variants"]],
            defaults=experiment_defaults(rendered))
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
        self.target_reasons = toggled(self.target_reasons, reason, checked)

    @rx.event
    def toggle_product(self, product: str, checked: bool) -> None:
        """Limit the experiment to subscribers of a product, or not."""
        self.segment_products = toggled(self.segment_products, product, checked)

    @rx.event
    def add_variant(self) -> None:
        """One more variant (no offer until one is chosen)."""
        self.variants = [*self.variants, self._variant(new_variant_name(len(self.variants)))]

    @rx.event
    def remove_variant(self, key: str) -> None:
        """Drop a variant (at least one stays)."""
        if len(self.variants) > 1:
            self.variants = [v for v in self.variants if v.key != key]

    @rx.event
    def set_variant_offer(self, key: str, reason: str, offer_id: str) -> None:
        """The offer a variant shows for a reason (``none``: no offer)."""
        if reason in REASON_KEYS:
            self.variants = [with_offer(v, reason, str(offer_id)) if v.key == key else v
                             for v in self.variants]

    @rx.event
    def set_per_reason(self, key: str, value: bool) -> None:
        """Show (or hide) a variant's offer per reason."""
        self.variants = [replace(v, per_reason=bool(value)) if v.key == key else v
                         for v in self.variants]

    def _save(self, form: Mapping[str, Any], identity: ConsoleIdentity, uow: UnitOfWork
              ) -> tuple[str, str]:
        """Create the draft or change it; its id and what the toast then says."""
        fields, self.variants = experiment_fields(
            form, variants=self.variants, reasons=self.target_reasons,
            products=self.segment_products)
        if self.editing_id:
            exp = experiments.update_experiment(self.editing_id,
                                                account_id=identity.account_id, uow=uow,
                                                **fields)
            return exp.id, ct("Draft saved.")
        exp = experiments.create_experiment(account_id=identity.account_id, uow=uow,
                                            configuration=self.configuration, **fields)
        return exp.id, ct("Experiment created as a draft.")

    def _save_refused(self, error: Exception) -> None:
        """Show a refusal in the form; one about ``variants[i]`` at that variant's inputs."""
        self._form_refused(error)
        if field := variant_field(getattr(error, "param", None), self.variants):
            self.error_field = field

    @rx.event
    def save(self, form_data: dict) -> Iterator[EventSpec | None]:
        """Create the draft, or change it; the services' validation errors show in the form."""
        self._clear_error()
        # What was typed stays if the dialog re-renders (its inputs are uncontrolled).
        self.defaults = {**self.defaults, **{k: text(form_data, k) for k in
                                             ("name", "holdout", "tenure_min", "tenure_max")}}
        saved = self._call(lambda identity, uow: self._save(form_data, identity, uow),
                           refused=self._save_refused)
        if isinstance(saved, Refused):
            yield saved.effect
            return
        experiment_id, message = saved
        self.dialog_open = False
        yield rx.toast.success(message)
        yield rx.redirect(experiment_href(experiment_id))


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
        return confirm_title(self.confirm_action)

    @rx.var
    def confirm_text(self) -> str:
        """The confirmation dialog's explanation."""
        return confirm_text(self.confirm_action, self.confirm_variant_name)

    def _read(self, identity: ConsoleIdentity, uow: UnitOfWork
              ) -> tuple[ExperimentView, datetime]:
        """The experiment with its read-out, and when it was read."""
        account = identity.account_id
        products, _ = self._catalog(account, uow)
        configurations = {c.id: configuration_label(c) for c in
                          choices.list_configuration_choices(account_id=account, uow=uow)}
        with uow:
            exp = experiments.retrieve_experiment(self.experiment_id, account_id=account,
                                                  uow=uow)
            rendered = experiments.render_experiment(exp, uow)
            offer_names = {o.id: o.name for o in
                           offers.list_offers(account_id=account, uow=uow)}
        result = readout.experiment_readout(exp.id, account_id=account, uow=uow)
        view = experiment_view(rendered, result, configurations=configurations,
                               offer_names=offer_names, products=products)
        return view, uow.clock()

    def _unreadable(self, error: Exception) -> None:
        self.status = "missing" if isinstance(error, ResourceMissing) else "error"

    def _fetch(self) -> EventSpec | None:
        loaded = self._call(self._read, refused=self._unreadable)
        if isinstance(loaded, Refused):
            return loaded.effect
        view, read_at = loaded
        self.name, self.exp_status = view.name, view.status
        self.status_label, self.tone = view.status_label, view.tone
        self.configuration, self.targeting = view.configuration, view.targeting
        self.holdout, self.started, self.stopped = view.holdout, view.started, view.stopped
        self.variants, self.exposures = view.variants, view.exposures
        self.has_exposures, self.srm_warning = view.has_exposures, view.srm_warning
        self.updated_at = i18n.format_datetime(read_at, CONSOLE_LOCALE, format="medium")
        self.status = "ready"
        return None

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
        if action not in ACTIONS:
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

    def _carry_out(self, action: str, identity: ConsoleIdentity, uow: UnitOfWork) -> None:
        account = identity.account_id
        if action == "start":
            experiments.start_experiment(self.experiment_id, account_id=account, uow=uow)
        elif action == "stop":
            experiments.stop_experiment(self.experiment_id, account_id=account, uow=uow)
        else:
            experiments.ship_variant(self.experiment_id, variant_id=self.confirm_variant_id,
                                     account_id=account, uow=uow)

    def _action_refused(self, error: Exception) -> EventSpec | None:
        if isinstance(error, ResourceMissing) and error.param == "variant":
            return rx.toast.error(ct("This variant does not exist."))
        return self._toast_refused(experiment_missing())(error)

    @rx.event
    def confirm(self) -> Iterator[EventSpec | None]:
        """Carry out the confirmed action on the signed-in account's experiment."""
        action = self.confirm_action
        self.confirm_open = False
        if action not in ACTIONS:
            return
        done = self._call(lambda identity, uow: self._carry_out(action, identity, uow),
                          refused=self._action_refused)
        if isinstance(done, Refused):
            yield done.effect
            if isinstance(done.error, InvalidRequest) and \
                    not isinstance(done.error, ResourceMissing):
                yield self._fetch()  # it moved on meanwhile: show it as it is now
            return
        yield rx.toast.success(done_message(action))
        yield self._fetch()
