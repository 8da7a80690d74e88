"""The customer portal's base State: the session check every portal handler goes through.

The portal link route (``portal/web.py``) leaves an HttpOnly cookie; Reflex sees
it in the websocket handshake (``self.router.headers.cookie``, never sent to the
browser's state). Each handler calls :meth:`PortalState._require_session`, which
asks the session service again, so a lapsed or foreign session can do nothing.
Ids that arrive from the browser are never trusted: handlers act on
``session.customer_id`` only.

Each handler that changes something runs its service call in :meth:`PortalState._acting`:
one portal action, named by the session, the handler and the nonce the page held when
the customer clicked, so that a click sent twice never applies twice (see
:func:`action_name`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import CookieError, SimpleCookie

import reflex as rx

from portal_app import i18n
from portal_app.billing.providers import action_scope
from portal_app.db import UnitOfWork
from portal_app.errors import BillingUnavailable, RateLimited, ResourceMissing, SessionExpired
from portal_app.i18n import _
from portal_app.portal import sessions
from portal_app.portal.models import PortalSession
from portal_app.views.overview import (
    InvoiceView,
    Overview,
    PaymentMethodView,
    SubscriptionView,
    load_overview,
    resolve_locale,
)
from portal_app.web.portal_links import COOKIE_NAME


def unit_of_work() -> UnitOfWork:
    """A unit of work for one event (tests point this at their database and clock)."""
    return UnitOfWork()


def browser_secret(cookie_header: str) -> str | None:
    """The portal cookie's value in a ``Cookie:`` header, if any."""
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header or "")
    except CookieError:
        return None
    morsel = cookies.get(COOKIE_NAME)
    return morsel.value if morsel is not None else None


NO_PAYMENT_METHOD = PaymentMethodView(brand="", last4="", description="", expiry="")

# A nonce names one click; a longer one from the browser is no more of a name.
NONCE_MAX_LENGTH = 64


def action_name(session_id: str, handler: str, nonce: str) -> str:
    """The name of one portal action: the session, the handler, the click.

    The same click sent twice (a double click, a websocket re-send) carries the same
    ``nonce``, so both get the same name: the billing writes made inside
    ``action_scope(name)`` derive the same idempotency keys, and Stripe answers the second
    with the first's result instead of applying it again. The nonce comes from the browser
    and is only a name within the session's own actions; without one, a click is an
    action of its own.
    """
    click = nonce[:NONCE_MAX_LENGTH] or secrets.token_hex(8)
    return f"{session_id}:{handler}:{click}"


class PortalState(rx.State):
    """What every portal page shows: the view (loading/ready/expired/error) and its texts."""

    # rx.Field: read on the class (in pages) each is typed as the Var it is there
    # (invoices.length()), not as its value. Not for dicts and dataclasses: mypy resolves
    # Reflex's Field[dict]/Field[dataclass] overloads to ArrayVar.
    view: rx.Field[str] = rx.field("loading")  # loading | ready | expired | error
    t: dict[str, str] = {}  # the session's catalog: pages read t["<message id>"]
    lang: rx.Field[str] = rx.field(i18n.DEFAULT_LOCALE)
    direction: rx.Field[str] = rx.field("ltr")
    page_title: rx.Field[str] = rx.field("Portico")
    business_name: rx.Field[str] = rx.field("")
    headline: rx.Field[str] = rx.field("")
    return_url: rx.Field[str] = rx.field("")
    return_label: rx.Field[str] = rx.field("")
    customer_email: rx.Field[str] = rx.field("")
    subscriptions: rx.Field[list[SubscriptionView]] = rx.field(default_factory=list)
    has_payment_method: rx.Field[bool] = rx.field(False)
    payment_method: PaymentMethodView = NO_PAYMENT_METHOD
    invoices: rx.Field[list[InvoiceView]] = rx.field(default_factory=list)
    invoice_history: rx.Field[bool] = rx.field(True)  # features.invoice_history.enabled
    # Where the add-payment-method form goes once a method is added, when a page sent the
    # customer there to come back (the pay page). Set on the server only, never from the
    # browser: a portal path.
    _after_adding_method: str = ""
    # features.payment_method_update.enabled: the overview links to the methods page.
    payment_method_update: rx.Field[bool] = rx.field(True)
    # Names the next click: the buttons that change something send it back as their
    # event's argument (:meth:`_acting`). New when a page loads and after every action.
    action_nonce: rx.Field[str] = rx.field("")

    @rx.var
    def business_initial(self) -> str:
        """The business name's first letter, for the monogram."""
        return self.business_name[:1].upper()

    def _require_session(self, uow: UnitOfWork) -> PortalSession:
        """This browser's live session, checked again for this event. Raises SessionExpired."""
        return sessions.resume_session(browser_secret(self.router.headers.cookie), uow=uow)

    def _new_nonce(self) -> None:
        self.action_nonce = secrets.token_hex(8)

    @contextmanager
    def _acting(self, session: PortalSession, handler: str, nonce: str) -> Iterator[None]:
        """Run the block as one portal action: ``handler`` of this State, clicked while the
        page held ``nonce`` (:func:`action_name`).

        Once the action has an outcome (done, or refused: a decline, a rule) the page gets
        a new nonce: what the customer clicks next, having seen it, is a new action. When
        billing did not answer (BillingUnavailable, RateLimited) the outcome is unknown and
        the nonce stays: "try again" is this same action, whose writes replay Stripe's
        answers if they were applied after all.
        """
        settled = True
        try:
            with action_scope(action_name(session.id, f"{type(self).__name__}.{handler}",
                                          nonce)):
                yield
        except (BillingUnavailable, RateLimited):
            settled = False
            raise
        finally:
            if settled:
                self._new_nonce()

    def _use_locale(self, locale: str) -> None:
        self.lang = locale
        self.direction = "rtl" if i18n.is_rtl(locale) else "ltr"
        self.t = i18n.catalog(locale)

    def _show_expired(self, expired: SessionExpired) -> None:
        """Switch to the expired view, in the session's language when it is known."""
        locale = expired.locale if expired.locale and expired.locale != "auto" else \
            i18n.negotiate(None, self.router.headers.accept_language)
        self._use_locale(locale)
        self.view = "expired"
        self.page_title = i18n.gettext(locale, _("This link has expired"))
        self.return_url = expired.return_url or ""
        self.business_name = expired.business_name or ""
        self.return_label = (
            i18n.gettext(locale, _("Return to {business}"), business=expired.business_name)
            if expired.business_name else i18n.gettext(locale, _("Go back")))
        self.subscriptions, self.invoices = [], []
        self.has_payment_method, self.payment_method = False, NO_PAYMENT_METHOD

    def _show(self, overview: Overview) -> None:
        self._use_locale(overview.locale)
        self.view = "ready"
        self.page_title = i18n.gettext(overview.locale, _("Billing · {business}"),
                                       business=overview.business_name)
        self.business_name = overview.business_name
        self.headline = overview.headline
        self.return_url = overview.return_url
        self.return_label = overview.return_label
        self.customer_email = overview.customer_email
        self.subscriptions = overview.subscriptions
        self.has_payment_method = overview.payment_method is not None
        self.payment_method = overview.payment_method or NO_PAYMENT_METHOD
        self.invoices = overview.invoices
        self.invoice_history = overview.invoice_history
        self.payment_method_update = overview.payment_method_update

    @rx.event
    def load(self) -> None:
        """Check the session and load its customer's overview (the page's on_load)."""
        self._new_nonce()
        uow = unit_of_work()
        try:
            session = self._require_session(uow)
            locale = resolve_locale(session, accept_language=self.router.headers.accept_language,
                                    uow=uow)
            overview = load_overview(session, locale=locale, uow=uow)
        except SessionExpired as expired:
            self._show_expired(expired)
            return
        except ResourceMissing:
            # The session outlived its customer or configuration: nothing to show.
            self._use_locale(i18n.negotiate(None, self.router.headers.accept_language))
            self.view = "error"
            return
        self._show(overview)
