"""The merchant console's States: the signed-in identity, the overview, the event log.

The sign-in route (``console/web.py``) leaves an HttpOnly, SameSite=Strict cookie;
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
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

import reflex as rx
from reflex.event import EventSpec
from sqlalchemy.exc import SQLAlchemyError

from portal_app import i18n
from portal_app.accounts import services as accounts
from portal_app.accounts.services import ConsoleIdentity
from portal_app.console.strings import TEXT
from portal_app.console.web import COOKIE, login_url, trusted_origin
from portal_app.db import UnitOfWork
from portal_app.errors import AuthenticationFailed, ResourceMissing
from portal_app.events import store

CONSOLE_LOCALE = "en"  # merchant-facing, English for now (see console/strings.py)
ALL_TYPES = "all"  # the type filter's "no filter" value (Radix selects refuse "")
PAGE_SIZE = store.DEFAULT_PAGE_SIZE


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


@dataclass
class EventRow:
    """One line of the event log as the page shows it."""

    id: str
    type: str
    tone: str  # a Radix color for the type's badge
    created: str
    object_id: str
    customer: str


# Badge colors by the object an event is about; failures and deletions stand out.
_TONES = {
    "customer": "blue",
    "customer.subscription": "violet",
    "invoice": "amber",
    "payment_method": "teal",
    "charge": "cyan",
    "product": "gray",
    "price": "gray",
    "coupon": "pink",
    "billing_portal": "indigo",
}


def event_tone(event_type: str) -> str:
    """The badge color for an event type."""
    if event_type.endswith((".failed", ".deleted", ".payment_failed")):
        return "red"
    parts = event_type.split(".")
    for length in range(len(parts) - 1, 0, -1):
        tone = _TONES.get(".".join(parts[:length]))
        if tone:
            return tone
    return "gray"


def _row(event: store.EventSummary) -> EventRow:
    return EventRow(id=event.id, type=event.type, tone=event_tone(event.type),
                    created=i18n.format_datetime(event.created, CONSOLE_LOCALE),
                    object_id=event.object_id, customer=event.customer_id or "")


class ConsoleState(rx.State):
    """Who is signed in: every console page shows it, every handler re-checks it."""

    text: dict[str, str] = TEXT
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

    @rx.event
    def check(self) -> EventSpec | None:
        """Pages without data of their own: just require a signed-in user (on_load)."""
        try:
            self._identity(unit_of_work())
        except AuthenticationFailed:
            return self._to_login()
        return None


class OverviewState(ConsoleState):
    """The console's landing page."""

    event_count: str = ""

    @rx.event
    def load(self) -> EventSpec | None:
        """Check the identity and count the account's events."""
        uow = unit_of_work()
        try:
            identity = self._identity(uow)
            count = store.count_events(identity.account_id, uow=uow)
        except AuthenticationFailed:
            return self._to_login()
        except SQLAlchemyError:
            self.event_count = "—"
            return None
        self.event_count = f"{count:,}"
        return None


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

    def _fetch(self) -> EventSpec | None:
        """Load the types and the current page for the signed-in account."""
        uow = unit_of_work()
        try:
            identity = self._identity(uow)
            self.types = store.distinct_types(identity.account_id, uow=uow)
            page = store.list_events(
                identity.account_id, uow=uow, limit=PAGE_SIZE, before_seq=self._cursors[-1],
                type=None if self.type_filter == ALL_TYPES else self.type_filter,
                customer=self.customer_filter or None,
            )
        except AuthenticationFailed:
            return self._to_login()
        except SQLAlchemyError:
            self.status = "error"
            return None
        self.events = [_row(event) for event in page.events]
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
        uow = unit_of_work()
        try:
            identity = self._identity(uow)
            event = store.retrieve_event(str(event_id), account_id=identity.account_id,
                                         uow=uow)
        except AuthenticationFailed:
            return self._to_login()
        except ResourceMissing:
            return rx.toast.error(TEXT["event_missing"])
        except SQLAlchemyError:
            return rx.toast.error(TEXT["load_error"])
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
