"""Past-due recovery in the portal: the overview's "Payment failed" notices and the pay page.

Every handler re-checks the session; the invoice comes from the route and the payment
method from the browser, and both are looked up among the session customer's own
(:mod:`portal_app.views.past_due`). No rule lives here: the State keeps what the page
shows.
"""

from __future__ import annotations

import json

import reflex as rx
from reflex.event import EventSpec

from portal_app import i18n
from portal_app.errors import BillingError, ResourceMissing, SessionExpired
from portal_app.i18n import _
from portal_app.portal.models import PortalSession
from portal_app.portal.refusals import error_message
from portal_app.routes import PORTAL, PORTAL_PAYMENT_METHODS_ADD, portal_invoice_pay
from portal_app.state import portal as portal_state
from portal_app.state.portal import PortalState
from portal_app.views import past_due
from portal_app.views.past_due import MethodChoice, PastDueNotice


class PastDueState(PortalState):
    """The overview's notices: one per past-due subscription, with its "Pay now" link."""

    # rx.Field: read on the class (in components) each is typed as the Var it is there.
    notices: rx.Field[list[PastDueNotice]] = rx.field(default_factory=list)

    @rx.event
    def load_notices(self) -> None:
        """The session customer's past-due invoices (after the overview's own on_load)."""
        uow = portal_state.unit_of_work()
        try:
            session = self._require_session(uow)
            self.notices = past_due.past_due_notices(session, locale=self.lang, uow=uow)
        except (SessionExpired, ResourceMissing):
            self.notices = []


class PayState(PortalState):
    """The pay page: the invoice, the methods to pay it with, and how paying went."""

    invoice_id: rx.Field[str] = rx.field("")
    status: rx.Field[str] = rx.field("")  # the invoice's: open | paid | void | uncollectible
    number: rx.Field[str] = rx.field("")
    amount: rx.Field[str] = rx.field("")
    period: rx.Field[str] = rx.field("")
    reason: rx.Field[str] = rx.field("")  # why the last attempt failed
    methods: rx.Field[list[MethodChoice]] = rx.field(default_factory=list)
    selected: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")  # the decline (or refusal) of the last try
    notice: rx.Field[str] = rx.field("")  # back from 3-D Secure: what happened there
    paying: rx.Field[bool] = rx.field(False)

    def _invoice_param(self) -> str:
        return str(self.router.page.params.get("invoice", "") or "")[:255]

    def _session(self) -> PortalSession | None:
        try:
            return self._require_session(portal_state.unit_of_work())
        except SessionExpired as expired:
            self._show_expired(expired)
            return None

    def _show_invoice(self, session: PortalSession, invoice_id: str) -> None:
        page = past_due.load_pay_page(session, invoice_id, locale=self.lang,
                                      uow=portal_state.unit_of_work())
        self.invoice_id, self.status, self.number = page.invoice_id, page.status, page.number
        self.amount, self.period, self.reason = page.amount, page.period, page.reason
        self.methods = page.methods
        if self.selected not in {m.id for m in page.methods}:
            self.selected = page.selected

    @rx.event
    def load(self) -> None:
        """The invoice of the route (the page's on_load); back from 3-D Secure, its outcome."""
        PortalState.load.fn(self)
        self.error, self.notice, self.paying = "", "", False
        self.invoice_id = self.selected = ""
        if self.view != "ready":
            return
        session = self._session()
        if session is None:
            return
        try:
            self._show_invoice(session, self._invoice_param())
        except ResourceMissing:
            self.view = "error"
            return
        query = self.router.url.query_parameters
        # Back from the add form: the method just added is preselected (one of the
        # customer's own, or nothing).
        added = str(query.get("payment_method") or "")
        if added in {m.id for m in self.methods}:
            self.selected = added
        # Back from the test authorization page: its outcome (not an id).
        outcome = query.get("redirect_status")
        if outcome == "failed":
            self.error = i18n.gettext(self.lang, _("The payment was not authorized. Try "
                                                   "again or choose another payment method."))
        elif outcome == "succeeded" and self.status == "paid":
            self.notice = i18n.gettext(self.lang, _("Payment authorized. Thank you!"))

    @rx.event
    def choose(self, payment_method: str) -> None:
        """Pick the method to pay with (checked against the customer's own when paying)."""
        self.selected = str(payment_method)[:255]
        self.error = ""

    @rx.event
    def pay(self, nonce: str) -> EventSpec | None:
        """Pay the invoice now with the chosen method: paid, declined, or 3-D Secure."""
        session = self._session()
        if session is None:
            return None
        try:
            with self._acting(session, "pay", nonce):
                result = past_due.pay_invoice(session, self.invoice_id, self.selected,
                                              locale=self.lang,
                                              uow=portal_state.unit_of_work())
        except ResourceMissing:
            self.view = "error"
            return None
        except BillingError as error:
            self.error = error_message(error, locale=self.lang)
            return None
        if result.outcome == "authorize" and result.redirect_url:
            # A full page load: the test page is plain HTTP, unknown to the app's router.
            return rx.call_script(f"window.location.assign({json.dumps(result.redirect_url)})")
        if result.outcome == "refused":
            self.error = result.message
            return None
        if result.outcome == "declined":
            self.error = result.message
            self._show_invoice(session, self.invoice_id)  # the attempt count, the reason
            return None
        return rx.redirect(PORTAL)

    @rx.event
    def add_method(self) -> EventSpec:
        """To the add form, which comes back here once the method is added."""
        self._after_adding_method = portal_invoice_pay(self.invoice_id) if self.invoice_id \
            else ""
        return rx.redirect(PORTAL_PAYMENT_METHODS_ADD)

    @rx.event
    def to_overview(self) -> EventSpec:
        """Back to the overview."""
        return rx.redirect(PORTAL)
