"""The payment methods pages' State: the list (make default, remove), the add form, and
the return from a redirect or 3-D Secure authorization.

Every handler goes through :meth:`MethodsState._call`: re-check the session, run one of
the portal's rules (:mod:`portal_app.portal.payment_method_actions`), show its refusal.
Ids that arrive from the browser (a method's id, the returning ``setup_intent``) are
only looked up among the session customer's own objects by those rules. No rule lives
here: the State keeps what the page shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from portal_app.db import UnitOfWork
from portal_app.errors import BillingError, ResourceMissing
from portal_app.i18n import _
from portal_app.portal import payment_method_actions as actions
from portal_app.portal.deep_links import completion
from portal_app.portal.models import PortalSession
from portal_app.routes import PORTAL_DONE, PORTAL_PAYMENT_METHODS, PORTAL_PAYMENT_METHODS_ADD
from portal_app.settings import get_settings
from portal_app.state import portal as portal_state
from portal_app.state.portal_manage import ManageState
from portal_app.views import payment_methods as views
from portal_app.views.payment_methods import FieldView, MethodView, TypeChoice

FLOWS = ("payment_method_update",)


def return_url() -> str:
    """Where a redirect authorization comes back to (Stripe appends its query)."""
    return get_settings().public_url + PORTAL_PAYMENT_METHODS


class MethodsState(ManageState):
    """The payment methods list and the add form."""

    step: str = "loading"  # loading | list | add | unavailable
    methods: rx.Field[list[MethodView]] = rx.field(default_factory=list)
    choices: rx.Field[list[TypeChoice]] = rx.field(default_factory=list)
    enabled: bool = False
    removing: str = ""  # the method whose removal waits for "Remove" again
    kind: str = ""  # the add form's chosen type
    fields: rx.Field[list[FieldView]] = rx.field(default_factory=list)
    mandate: str = ""
    redirect: bool = False
    submit_label: str = ""
    redirect_note: str = ""
    error: str = ""
    working: bool = False
    _business: str = ""  # backend only
    _email: str = ""

    @rx.var
    def has_methods(self) -> bool:
        return len(self.methods) > 0

    # --- the skeleton ---------------------------------------------------------------

    def _call(self, action: Callable[[PortalSession, UnitOfWork], Any], *, handler: str,
              nonce: str) -> tuple[PortalSession, Any] | None:
        """Run one rule on the re-checked session, as the action ``handler`` clicked with
        ``nonce`` (:meth:`PortalState._acting`): its session and result, or None when the
        session lapsed (the expired view shows) or the rule refused (the error shows, next
        to its field when it concerns one)."""
        done = self._run(action, self._fail, handler=handler, nonce=nonce)
        self.working = False
        return done

    def _fail(self, error: BillingError) -> None:
        located = views.field_error(self.kind, error, locale=self.lang) \
            if self.step == "add" else None
        if located is not None:
            key, message = located
            self.fields = [_with(f, error=message if f.key == key else f.error)
                           for f in self.fields]
            self.error = ""
            return
        self.error = views.form_error(error, locale=self.lang)

    def _show_page(self, session: PortalSession) -> bool:
        try:
            page = views.load_methods_page(session, locale=self.lang,
                                           uow=portal_state.unit_of_work())
        except ResourceMissing:
            self.view = "error"
            return False
        self.methods, self.choices, self.enabled = page.methods, page.choices, page.enabled
        self._business, self._email = page.business_name, page.customer_email
        return True

    def _unavailable(self) -> None:
        self.step = "unavailable"
        self.error = views.form_error(actions.PaymentMethodRefusal(
            "payment_method_update_disabled"), locale=self.lang)

    def _begin(self, step: str) -> PortalSession | None:
        # The banner stays: it reports what the page just did before it came back here.
        self.step, self.error, self.working = step, "", False
        self.removing, self.kind, self.fields, self.mandate = "", "", [], ""
        self.redirect, self.submit_label = False, ""
        session = self._open()
        if session is None or not self._show_page(session):
            return None
        return session

    # --- the list -------------------------------------------------------------------

    @rx.event
    def load(self) -> Any:
        """The list (on_load); back from an authorization page, its outcome first."""
        session = self._begin("loading")
        if session is None:
            return None
        if not self.enabled:
            self._unavailable()
            return None
        self.step = "list"
        query = self.router.url.query_parameters
        returning = str(query.get("setup_intent") or "")
        if not returning:
            self._after_adding_method = ""  # the list opened for itself
            return None
        # Named by the setup intent it returns from: reloading the page is the same action.
        done = self._call(lambda s, uow: actions.finish_setup(s, returning, uow=uow),
                          handler="finish_setup", nonce=returning)
        self._show_page(session)
        if done is None:
            self.banner, self.banner_kind, self.error = self.error, "error", ""
            return rx.redirect(PORTAL_PAYMENT_METHODS, replace=True)
        return self._completed(session, _("Your payment method was added."),
                               added=str(done[1]["payment_method"] or ""))

    def _completed(self, session: PortalSession, message: str, *, added: str = "") -> Any:
        """After an added or changed method: the flow's ``after_completion``, the page that
        sent the customer here (with ``added``, the new method, preselected), else the list."""
        finished = completion(session, FLOWS, "")
        if finished.type == "redirect" and finished.url:
            return rx.redirect(finished.url)
        if self._after_adding_method:
            # Sent here by another page (paying an invoice): back to it, the new method listed.
            back, self._after_adding_method = self._after_adding_method, ""
            return rx.redirect(f"{back}?{urlencode({'payment_method': added})}" if added
                               else back)
        self._say(message)
        if finished.type == "hosted_confirmation":
            self.done_title, self.done_message = self.banner, finished.message
            self.banner = ""
            return rx.redirect(PORTAL_DONE)
        self.step = "list"
        return rx.redirect(PORTAL_PAYMENT_METHODS, replace=True)

    @rx.event
    def make_default(self, payment_method: str, nonce: str) -> None:
        """Make one of the listed methods the default."""
        self.error, self.removing = "", ""
        done = self._call(lambda s, uow: actions.make_default(s, payment_method, uow=uow),
                          handler="make_default", nonce=nonce)
        if done is not None:
            self._show_page(done[0])
            self._say(_("Your default payment method was updated."))
        else:
            self.banner, self.banner_kind, self.error = self.error, "error", ""

    @rx.event
    def ask_remove(self, payment_method: str) -> None:
        """The first "Remove": ask again on that row (only a row listed here)."""
        if payment_method in {m.id for m in self.methods}:
            self.removing, self.banner = payment_method, ""
        else:
            self.removing = ""
            self.banner = views.form_error(actions.PaymentMethodRefusal(
                "payment_method_missing"), locale=self.lang)
            self.banner_kind = "error"

    @rx.event
    def keep(self) -> None:
        self.removing = ""

    @rx.event
    def remove(self, payment_method: str, nonce: str) -> None:
        """Detach one of the listed methods (refused for the last one a plan depends on)."""
        self.error, self.removing = "", ""
        done = self._call(lambda s, uow: actions.remove_payment_method(
            s, payment_method, uow=uow), handler="remove", nonce=nonce)
        if done is not None:
            self._show_page(done[0])
            self._say(_("The payment method was removed."))
        else:
            self.banner, self.banner_kind, self.error = self.error, "error", ""

    # --- the add form ---------------------------------------------------------------

    @rx.event
    def load_add(self) -> None:
        """The add form (on_load): the first allowed type is picked."""
        self.banner = ""
        session = self._begin("loading")
        if session is None:
            return
        if not self.enabled:
            self._unavailable()
            return
        self.step = "add"
        self._pick(self.choices[0].type if self.choices else "")

    def _pick(self, kind: str) -> None:
        if kind not in {c.type for c in self.choices}:
            return
        form = views.type_form(kind, business=self._business, locale=self.lang)
        self.kind, self.fields, self.mandate = kind, form.fields, form.mandate
        self.redirect, self.submit_label, self.error = form.redirect, form.submit_label, ""
        self.redirect_note = form.note

    @rx.event
    def choose_type(self, kind: str) -> None:
        """Pick another type (only one the configuration allows)."""
        if self.step == "add" and kind != self.kind:
            self._pick(kind)

    @rx.event
    def set_field(self, key: str, value: str) -> None:
        """Typing into a field: formatted as typed, its error cleared."""
        self.fields = [_with(f, value=views.format_field(self.kind, key, value), error="")
                       if f.key == key else f for f in self.fields]
        self.error = ""

    @rx.event
    def submit(self, nonce: str) -> Iterator[Any]:
        """Set the method up: saved, or off to the authorization page."""
        if self.working or self.step != "add" or not self.kind:
            return
        self.working, self.error = True, ""
        self.fields = [_with(f, error="") for f in self.fields]
        yield
        values = {f.key: f.value for f in self.fields}
        mandate = views.mandate_acceptance(
            user_agent=self.router.headers.user_agent,
            ip_address=self.router.session.client_ip or None) if self.mandate else None

        def add(session: PortalSession, uow: UnitOfWork) -> Any:
            data = views.payment_method_data(self.kind, values, email=self._email)
            return actions.add_payment_method(session, data, return_url=return_url(),
                                              mandate_acceptance=mandate, uow=uow)

        done = self._call(add, handler="submit", nonce=nonce)
        if done is None:
            return
        session, intent = done
        if intent["status"] == "requires_action":
            self.working = True  # the page is leaving
            # A full page load: the authorization page is no page of this app's router.
            url = intent["next_action"]["redirect_to_url"]["url"]
            yield rx.call_script(f"window.location.assign({json.dumps(url)})")
            return
        yield self._completed(session, _("Your payment method was added."),
                              added=str(intent["payment_method"] or ""))

    @rx.event
    def to_list(self) -> Any:
        return rx.redirect(PORTAL_PAYMENT_METHODS)

    @rx.event
    def to_add(self) -> Any:
        return rx.redirect(PORTAL_PAYMENT_METHODS_ADD)


def _with(field: FieldView, **changes: str) -> FieldView:
    """A copy of ``field`` with ``changes`` (Reflex sees a new list, so it re-renders)."""
    return FieldView(**{**field.__dict__, **changes})
