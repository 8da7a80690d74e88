"""The merchant console's States: the signed-in identity, the overview, the event log.

The sign-in route (``web/console_sign_in.py``) leaves an HttpOnly, SameSite=Strict cookie;
Reflex sees it in the websocket handshake (``self.router.headers.cookie``, which is
never sent to the browser). Every handler asks the accounts service again who that
cookie belongs to (:meth:`ConsoleState._identity`) and acts on that identity's
account only; an event id that arrives from the browser is looked up within it.

CSRF and the websocket: handlers here run over Reflex's websocket, not over form
POSTs. A page on another site can open a websocket to this server, but its
handshake carries no console cookie (SameSite=Strict: browsers leave it off
cross-site requests, websockets included), and :meth:`_identity` also refuses a
handshake whose ``Origin`` is not this site. So a forged connection has no
identity and can read or change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import TypeVar

import reflex as rx
from reflex.event import EventSpec
from sqlalchemy.exc import SQLAlchemyError

from portal_app.accounts import services as accounts
from portal_app.accounts.services import ConsoleIdentity
from portal_app.console.event_views import EventRow, event_row
from portal_app.console.forms import FieldProblem
from portal_app.console.strings import catalog, ct
from portal_app.console.wording import count
from portal_app.db import UnitOfWork
from portal_app.errors import AuthenticationFailed, BillingError, ResourceMissing
from portal_app.events import store
from portal_app.web.console_sign_in import COOKIE, login_url, trusted_origin

ALL_TYPES = "all"  # the type filter's "no filter" value (Radix selects refuse "")
PAGE_SIZE = store.DEFAULT_PAGE_SIZE

T = TypeVar("T")


def unit_of_work() -> UnitOfWork:
    """A unit of work for one event (tests point this at their database and clock)."""
    return UnitOfWork()


def console_token(cookie_header: str) -> str | None:
    """The console cookie's value in a ``Cookie:`` header, if any."""
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header or "")
    except CookieError:
        return None
    morsel = cookies.get(COOKIE)
    return morsel.value if morsel is not None else None


@dataclass(frozen=True)
class Refused:
    """A console call that did not happen: why, and what the page does instead."""

    error: Exception
    effect: EventSpec | None = None  # the sign-in page, a toast, or nothing


# Shows a refusal on the page (its error vars) and may return an effect (a toast).
Refusal = Callable[[Exception], EventSpec | None]


class ConsoleState(rx.State):
    """Who is signed in: every console page shows it, every handler re-checks it."""

    # The console's catalog (console/strings.py): pages read it through ``ct_var``.
    text: dict[str, str] = catalog()
    signed_in: bool = False
    email: str = ""
    business_name: str = ""
    csrf_token: str = ""  # rendered into the sign-out form (a hidden field)

    def _identity(self, uow: UnitOfWork) -> ConsoleIdentity:
        """The signed-in user, asked again for this event. Raises AuthenticationFailed."""
        headers = self.router.headers
        if not trusted_origin(headers.origin, host=headers.host):
            raise AuthenticationFailed("The console connection came from another site.")
        identity = accounts.console_identity(console_token(headers.cookie), uow=uow)
        self.signed_in = True
        self.email = identity.email
        self.business_name = identity.business_name
        self.csrf_token = identity.csrf_token
        return identity

    def _to_login(self) -> EventSpec:
        """Forget the identity and leave for the sign-in page (a full page load)."""
        self.signed_in = False
        self.email = self.business_name = self.csrf_token = ""
        target = login_url(self.router.url.path or None)
        return rx.call_script(f"window.location.replace({json.dumps(target)})")

    def _call(self, action: Callable[[ConsoleIdentity, UnitOfWork], T], *,
              refused: Refusal | None = None) -> T | Refused:
        """Check the sign-in, run ``action`` for that identity's account, show the refusal.

        Every console handler goes through here. Returns the action's result, or
        Refused: with the way to the sign-in page when nobody is signed in (any
        more); with what ``refused`` made of a service's refusal (BillingError), a
        form value that is no value (FieldProblem) or a database failure
        (SQLAlchemyError). Without ``refused`` those propagate.
        """
        uow = unit_of_work()
        try:
            return action(self._identity(uow), uow)
        except AuthenticationFailed as error:
            return Refused(error, self._to_login())
        except (BillingError, FieldProblem, SQLAlchemyError) as error:
            if refused is None:
                raise
            return Refused(error, refused(error))

    @staticmethod
    def _toast(*, unavailable: str, missing: str | None = None) -> Refusal:
        """Refusals as a toast: ``unavailable`` when the database failed, ``missing`` (if
        given) when the object is not (or no longer) the account's, else the service's
        message."""

        def show(error: Exception) -> EventSpec:
            if isinstance(error, SQLAlchemyError):
                return rx.toast.error(unavailable)
            if missing is not None and isinstance(error, ResourceMissing):
                return rx.toast.error(missing)
            return rx.toast.error(getattr(error, "message", str(error)))

        return show

    def _signed_out(self) -> Refused | None:
        """None when someone is signed in, else Refused leading to the sign-in page."""
        checked = self._call(lambda identity, uow: identity)
        return checked if isinstance(checked, Refused) else None

    @rx.event
    def check(self) -> EventSpec | None:
        """Pages without data of their own: just require a signed-in user (on_load)."""
        refused = self._signed_out()
        return refused.effect if refused is not None else None


class OverviewState(ConsoleState):
    """The console's landing page."""

    event_count: str = ""

    @rx.event
    def load(self) -> EventSpec | None:
        """Check the identity and count the account's events."""
        counted = self._call(
            lambda identity, uow: store.count_events(identity.account_id, uow=uow),
            refused=self._uncounted)
        if isinstance(counted, Refused):
            return counted.effect
        self.event_count = count(counted)
        return None

    def _uncounted(self, error: Exception) -> None:
        self.event_count = "—"


class EventsState(ConsoleState):
    """The event log: newest first, filtered by type and customer, a page at a time."""

    status: str = "loading"  # loading | ready | error
    events: list[EventRow] = []
    types: list[str] = []
    type_filter: str = ALL_TYPES
    customer_filter: str = ""
    page_number: int = 1
    has_more: bool = False
    selected_id: str = ""
    selected_json: str = ""
    dialog_open: bool = False
    # Backend-only: the ``before_seq`` cursor of every page up to the current one.
    _cursors: list[int | None] = [None]
    _next_cursor: int | None = None

    @rx.var
    def filtered(self) -> bool:
        """Whether a filter narrows the list (the empty state says so)."""
        return self.type_filter != ALL_TYPES or bool(self.customer_filter)

    @rx.var
    def has_events(self) -> bool:
        """Whether the current page has any rows."""
        return bool(self.events)

    @rx.var
    def has_previous(self) -> bool:
        """Whether there is a newer page to go back to."""
        return self.page_number > 1

    def _page(self, identity: ConsoleIdentity, uow: UnitOfWork) -> store.EventPage:
        self.types = store.distinct_types(identity.account_id, uow=uow)
        return store.list_events(
            identity.account_id, uow=uow, limit=PAGE_SIZE, before_seq=self._cursors[-1],
            type=None if self.type_filter == ALL_TYPES else self.type_filter,
            customer=self.customer_filter or None,
        )

    def _failed(self, error: Exception) -> None:
        self.status = "error"

    def _fetch(self) -> EventSpec | None:
        """Load the types and the current page for the signed-in account."""
        page = self._call(self._page, refused=self._failed)
        if isinstance(page, Refused):
            return page.effect
        self.events = [event_row(event) for event in page.events]
        self.has_more = page.has_more
        self._next_cursor = page.next_before_seq
        self.page_number = len(self._cursors)
        self.status = "ready"
        return None

    def _first_page(self) -> None:
        self._cursors = [None]
        self._next_cursor = None
        self.page_number = 1
        self.status = "loading"

    @rx.event
    def load(self):
        """The page's on_load: the first page with the current filters."""
        self._first_page()
        self.dialog_open = False
        yield
        yield self._fetch()

    @rx.event
    def retry(self):
        """Fetch the current page again after an error."""
        self.status = "loading"
        yield
        yield self._fetch()

    @rx.event
    def set_type(self, value: str):
        """Show only events of one type (or all of them)."""
        self.type_filter = value if value == ALL_TYPES or value in self.types else ALL_TYPES
        self._first_page()
        yield
        yield self._fetch()

    @rx.event
    def filter_customer(self, form_data: dict):
        """Show only events about one customer id (empty: every customer)."""
        self.customer_filter = str(form_data.get("customer") or "").strip()[:255]
        self._first_page()
        yield
        yield self._fetch()

    @rx.event
    def clear_filters(self):
        """Back to every event."""
        self.type_filter = ALL_TYPES
        self.customer_filter = ""
        self._first_page()
        yield
        yield self._fetch()

    @rx.event
    def older(self):
        """The next page (older events)."""
        if self._next_cursor is None:
            return
        self._cursors = [*self._cursors, self._next_cursor]
        self.status = "loading"
        yield
        yield self._fetch()

    @rx.event
    def newer(self):
        """The previous page (newer events)."""
        if len(self._cursors) <= 1:
            return
        self._cursors = self._cursors[:-1]
        self.status = "loading"
        yield
        yield self._fetch()

    @rx.event
    def open_event(self, event_id: str) -> EventSpec | None:
        """Show one event's JSON — looked up within the signed-in account only."""
        event = self._call(
            lambda identity, uow: store.retrieve_event(
                str(event_id), account_id=identity.account_id, uow=uow),
            refused=self._toast(
                missing=ct("This event no longer exists."),
                unavailable=ct("The events could not be loaded. Please try again.")))
        if isinstance(event, Refused):
            return event.effect
        self.selected_id = event["id"]
        self.selected_json = json.dumps(event, indent=2, ensure_ascii=False)
        self.dialog_open = True
        return None

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        """Open or close the event dialog (closing forgets the JSON)."""
        self.dialog_open = value
        if not value:
            self.selected_id = ""
            self.selected_json = ""
