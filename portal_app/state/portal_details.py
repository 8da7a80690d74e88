"""The billing details page's State (and the overview's "Billing information").

Every handler goes through :meth:`DetailsState._call`: re-check the session, run one of
the portal's rules (:mod:`portal_app.portal.customer_details`), show its refusal next to
the field it concerns. The form only holds the fields the configuration allows; the
only id that comes from the browser (a tax ID to remove) is looked up among the session
customer's own by the billing contract. No rule lives here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import reflex as rx

from portal_app import i18n
from portal_app.db import UnitOfWork
from portal_app.errors import BillingError, ResourceMissing
from portal_app.i18n import _
from portal_app.portal import customer_details as rules
from portal_app.portal.deep_links import completion
from portal_app.portal.models import PortalSession
from portal_app.portal.refusals import error_message
from portal_app.routes import PORTAL, PORTAL_DETAILS, PORTAL_DONE
from portal_app.state import portal as portal_state
from portal_app.state.portal_manage import ManageState
from portal_app.views import billing_details as views
from portal_app.views.billing_details import Choice, DetailField, TaxIdRow

FLOWS = ("customer_update",)


class DetailsState(ManageState):
    """The billing details form, the tax IDs, and the overview's summary of both."""

    step: str = "loading"  # loading | form | unavailable
    allowed: rx.Field[list[str]] = rx.field(default_factory=list)
    contact: rx.Field[list[DetailField]] = rx.field(default_factory=list)
    address: rx.Field[list[DetailField]] = rx.field(default_factory=list)
    shipping: rx.Field[list[DetailField]] = rx.field(default_factory=list)
    tax_ids: rx.Field[list[TaxIdRow]] = rx.field(default_factory=list)
    tax_types: rx.Field[list[Choice]] = rx.field(default_factory=list)
    tax_type: str = "eu_vat"
    tax_value: str = ""
    tax_placeholder: str = ""
    tax_error: str = ""
    removing_tax_id: str = ""
    error: str = ""
    working: bool = False
    # The overview's "Billing information".
    summary_name: str = ""
    summary_email: str = ""
    summary_address: rx.Field[list[str]] = rx.field(default_factory=list)
    summary_tax_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    can_update: bool = False
    summary_loaded: bool = False

    @rx.var
    def can_tax_ids(self) -> bool:
        return "tax_id" in self.allowed

    @rx.var
    def can_save(self) -> bool:
        return any(a != "tax_id" for a in self.allowed)

    @rx.var
    def has_summary(self) -> bool:
        return bool(self.summary_name or self.summary_email or self.summary_address
                    or self.summary_tax_ids)

    # --- the skeleton ---------------------------------------------------------------

    def _call(self, action: Callable[[PortalSession, UnitOfWork], Any], *, handler: str,
              nonce: str) -> tuple[PortalSession, Any] | None:
        """Run one rule on the re-checked session, as the action ``handler`` clicked with
        ``nonce`` (:meth:`PortalState._acting`): its session and result, or None when the
        session lapsed (the expired view shows) or the rule refused (shown)."""
        done = self._run(action, self._fail, handler=handler, nonce=nonce)
        self.working = False
        return done

    def _fail(self, error: BillingError) -> None:
        if isinstance(error, rules.DetailsInvalid):
            self._place(error.errors)
        else:
            self.error = self._words(error)

    def _words(self, error: BillingError) -> str:
        if isinstance(error, rules.DetailsRefusal):
            return views.tax_id_error(error, type=self.tax_type, locale=self.lang)
        return error_message(error, locale=self.lang)

    def _place(self, errors: dict[str, str]) -> None:
        self.working = False
        self.contact = views.with_errors(self.contact, errors)
        self.address = views.with_errors(self.address, errors)
        self.shipping = views.with_errors(self.shipping, errors)
        self.error = i18n.gettext(self.lang, _("Please check the highlighted fields."))

    def _show_page(self, session: PortalSession) -> bool:
        try:
            page = views.load_details_page(session, locale=self.lang,
                                           uow=portal_state.unit_of_work())
        except ResourceMissing:
            self.view = "error"
            return False
        self.allowed = page.allowed
        self.contact, self.address, self.shipping = page.contact, page.address, page.shipping
        self.tax_ids, self.tax_types = page.tax_ids, page.tax_types
        country = next((f.value for f in page.address if f.key == "address.country"),
                       views.default_country(self.lang))
        self.tax_type = views.default_tax_type(country)
        self.tax_placeholder = views.tax_id_example(self.tax_type)
        return True

    # --- the page -------------------------------------------------------------------

    @rx.event
    def load(self) -> None:
        """The form (on_load), or why there is none."""
        self.step, self.error, self.tax_error, self.working = "loading", "", "", False
        self.tax_value, self.removing_tax_id, self.banner = "", "", ""
        session = self._open()
        if session is None or not self._show_page(session):
            return
        if not self.allowed:
            self.step = "unavailable"
            self.error = i18n.gettext(self.lang, views.TAX_ID_REFUSALS[
                "customer_update_disabled"])
            return
        self.step = "form"

    @rx.event
    def set_field(self, key: str, value: str) -> None:
        """Typing into (or choosing in) a field; a new country relabels its address."""
        group = key.partition(".")[0]
        if group == "address":
            self.address = views.with_value(self.address, key, value, self.lang)
        elif group == "shipping":
            self.shipping = views.with_value(self.shipping, key, value, self.lang)
        else:
            self.contact = views.with_value(self.contact, key, value, self.lang)
        self.error = ""

    @rx.event
    def save(self, nonce: str) -> Iterator[Any]:
        """Save the allowed fields; errors go next to their fields."""
        if self.working or self.step != "form":
            return
        self.working, self.error = True, ""
        yield
        change = views.change_of(self.allowed, self.contact, self.address, self.shipping)
        done = self._call(lambda s, uow: rules.update_details(s, change, locale=self.lang,
                                                              uow=uow),
                          handler="save", nonce=nonce)
        if done is None:
            return
        session = done[0]
        finished = completion(session, FLOWS, "")
        if finished.type == "redirect" and finished.url:
            yield rx.redirect(finished.url)
            return
        self._say(_("Your billing information was updated."))
        if finished.type == "hosted_confirmation":
            self.done_title, self.done_message, self.banner = self.banner, finished.message, ""
            yield rx.redirect(PORTAL_DONE)
            return
        yield rx.redirect(PORTAL)

    # --- tax IDs --------------------------------------------------------------------

    @rx.event
    def choose_tax_type(self, value: str) -> None:
        """Pick a tax ID type (one of Stripe's; the rule checks it again)."""
        if value in {c.value for c in self.tax_types}:
            self.tax_type, self.tax_error = value, ""
            self.tax_placeholder = views.tax_id_example(value)

    @rx.event
    def set_tax_value(self, value: str) -> None:
        self.tax_value, self.tax_error = value, ""

    def _reload_tax_ids(self, session: PortalSession) -> None:
        self.tax_ids = [views.tax_id_row(t, self.lang) for t in rules.list_tax_ids(
            session, uow=portal_state.unit_of_work())]

    @rx.event
    def add_tax_id(self, nonce: str) -> None:
        """Add the typed tax ID; a refusal shows under the value."""
        if not self.tax_value.strip():
            self.tax_error = i18n.gettext(self.lang, _("Enter the number."))
            return
        self.error = ""
        kind, value = self.tax_type, self.tax_value

        def refused(error: BillingError) -> None:
            self.tax_error = views.tax_id_error(error, type=kind, locale=self.lang)

        done = self._run(lambda s, uow: rules.add_tax_id(s, type=kind, value=value, uow=uow),
                         refused, handler="add_tax_id", nonce=nonce)
        if done is None:
            return
        self.tax_value, self.tax_error = "", ""
        self._reload_tax_ids(done[0])
        self._say(_("Your tax ID was added."))

    def _listed(self, tax_id: str) -> bool:
        """Whether ``tax_id`` is one of the rows shown; if not, say it is not found."""
        if tax_id in {t.id for t in self.tax_ids}:
            return True
        self._say(views.TAX_ID_REFUSALS["resource_missing"], "error")
        return False

    @rx.event
    def ask_remove_tax_id(self, tax_id: str) -> None:
        """The first "Remove": ask again on that row (one of the rows listed)."""
        if self._listed(tax_id):
            self.removing_tax_id = tax_id

    @rx.event
    def keep_tax_id(self) -> None:
        self.removing_tax_id = ""

    @rx.event
    def remove_tax_id(self, tax_id: str, nonce: str) -> None:
        """Remove one of the listed tax IDs."""
        self.removing_tax_id, self.error = "", ""
        if not self._listed(tax_id):
            return
        done = self._run(lambda s, uow: rules.remove_tax_id(s, tax_id, uow=uow),
                         lambda error: self._say(views.tax_id_error(
                             error, type=self.tax_type, locale=self.lang), "error"),
                         handler="remove_tax_id", nonce=nonce)
        if done is None:
            return
        self._reload_tax_ids(done[0])
        self._say(_("The tax ID was removed."))

    # --- the overview's summary -----------------------------------------------------

    @rx.event
    def load_summary(self) -> None:
        """The overview's "Billing information" (when its section mounts)."""
        uow = portal_state.unit_of_work()
        session = self._session(uow)
        if session is None:
            return
        try:
            summary = views.load_summary(session, locale=self.lang, uow=uow)
        except ResourceMissing:
            return
        self.summary_name, self.summary_email = summary.name, summary.email
        self.summary_address, self.summary_tax_ids = summary.address_lines, summary.tax_ids
        self.can_update, self.summary_loaded = summary.can_update, True

    @rx.event
    def to_details(self) -> Any:
        return rx.redirect(PORTAL_DETAILS)
