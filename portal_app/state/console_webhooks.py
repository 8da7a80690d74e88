"""/console/webhooks: the endpoints and the add dialog; /console/webhooks/[endpoint]: one
endpoint, its events, its secret, its deliveries log, an attempt's detail, resends.

Every handler goes through :meth:`ConsoleState._call`: it asks again who is signed
in and passes that identity's account to the webhook services and reads, so an
endpoint or delivery id that arrives from the browser (the route, a row's button)
is looked up within that account only. Forms are read by
``console/webhook_forms.py``, rows built by ``console/webhook_views.py``; changes
are ``webhooks/endpoints.py`` and ``webhooks/resend.py``. A signing secret reaches
the page once, right after it was made (create, roll), and is forgotten when its
dialog closes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import reflex as rx
from reflex.event import EventSpec
from sqlalchemy.exc import SQLAlchemyError

from portal_app.accounts.services import ConsoleIdentity
from portal_app.console.forms import FieldProblem, text
from portal_app.console.strings import ct
from portal_app.console.webhook_forms import (
    EndpointDraft,
    deliveries_since,
    endpoint_fields,
    form_field,
    toggle_event,
)
from portal_app.console.webhook_views import (
    DELIVERY_PAGE_SIZE,
    DELIVERY_STATUSES,
    STATS_WINDOW,
    AttemptRow,
    DeliveryFilters,
    DeliveryRow,
    EndpointRow,
    attempt_row,
    attempt_stats,
    auto_disabled,
    delivery_event_types,
    delivery_row,
    endpoint_rows,
    list_deliveries,
    list_endpoints,
    retrieve_delivery,
)
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.state.console import ConsoleState, Refusal, Refused
from portal_app.webhooks import endpoints, resend
from portal_app.webhooks.endpoints import CreatedEndpoint

ALL = "all"  # a filter's "no filter" value (Radix selects refuse "")


def load_error() -> str:
    """What a webhooks page says when the database could not be read."""
    return ct("This page could not be loaded. Please try again.")


def endpoint_missing() -> str:
    """What the pages say about an endpoint or delivery id that is not the account's."""
    return ct("This webhook endpoint does not exist (any more).")


class WebhookFormState(ConsoleState):
    """What the two webhooks pages share: the endpoint form's errors, the secret shown once."""

    # Reflex keeps a parent's vars in the parent's instance, shared by every page below
    # it: each page's State declares its own vars; this class only holds behaviour.
    if TYPE_CHECKING:
        form_error: str
        error_field: str

    def _show_refusal(self, error: Exception) -> None:
        """A refusal beside its field (or above the form)."""
        if isinstance(error, FieldProblem):
            field, message = error.field, error.message
        elif isinstance(error, InvalidRequest):
            field, message = form_field(error.param), error.message
        elif isinstance(error, SQLAlchemyError):
            field, message = "", load_error()
        else:
            field, message = "", getattr(error, "message", str(error))
        self.error_field = field
        self.form_error = message

    def _refusal_toast(self) -> Refusal:
        return self._toast(unavailable=load_error(), missing=endpoint_missing())


class WebhookNoticeState(ConsoleState):
    """The console's notice of endpoints disabled after days of failures (overview page)."""

    disabled_urls: list[str] = []

    @rx.var
    def has_disabled(self) -> bool:
        """Whether an endpoint was disabled for failing."""
        return bool(self.disabled_urls)

    @rx.event
    def load(self) -> EventSpec | None:
        """Read which endpoints were disabled for failing (quietly nothing on failure)."""
        found = self._call(
            lambda identity, uow: auto_disabled(list_endpoints(identity.account_id, uow=uow)),
            refused=lambda error: None)
        if isinstance(found, Refused):
            return found.effect
        self.disabled_urls = found
        return None


class WebhooksState(WebhookFormState):
    """/console/webhooks: the account's endpoints and the dialog that adds one."""

    status: str = "loading"  # loading | ready | error
    endpoints: list[EndpointRow] = []
    disabled_urls: list[str] = []
    dialog_open: bool = False
    form_key: int = 0  # a new value remounts the dialog's uncontrolled inputs
    form_error: str = ""
    error_field: str = ""
    draft_events: list[str] = []
    livemode: bool = False
    saving: bool = False
    secret: str = ""  # the new endpoint's secret, shown once
    secret_url: str = ""
    secret_open: bool = False

    @rx.var
    def has_endpoints(self) -> bool:
        """Whether the account has any endpoint."""
        return bool(self.endpoints)

    def _fetch(self) -> EventSpec | None:
        def read(identity: ConsoleIdentity, uow: UnitOfWork) -> None:
            found = list_endpoints(identity.account_id, uow=uow)
            stats = attempt_stats(identity.account_id, uow=uow,
                                  since=uow.clock() - STATS_WINDOW)
            self.endpoints = endpoint_rows(found, stats)
            self.disabled_urls = auto_disabled(found)

        loaded = self._call(read, refused=self._failed)
        if isinstance(loaded, Refused):
            return loaded.effect
        self.status = "ready"
        return None

    def _failed(self, error: Exception) -> None:
        self.status = "error"

    @rx.event
    def load(self) -> Iterator[EventSpec | None]:
        """The page's on_load."""
        self.status = "loading"
        self.dialog_open = self.secret_open = False
        self.secret = ""
        yield None
        yield self._fetch()

    @rx.event
    def retry(self) -> Iterator[EventSpec | None]:
        """Load again after an error."""
        self.status = "loading"
        yield None
        yield self._fetch()

    @rx.event
    def open_new(self) -> EventSpec | None:
        """Open an empty add dialog."""
        if (refused := self._signed_out()) is not None:
            return refused.effect
        self.form_key += 1
        self.form_error = self.error_field = ""
        self.draft_events, self.livemode = [], False
        self.dialog_open = True
        return None

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        """Open or close the add dialog."""
        self.dialog_open = bool(value)
        if not value:
            self.form_error = self.error_field = ""

    @rx.event
    def toggle_event(self, event_type: str, checked: bool) -> None:
        """Tick or untick an event type (or ``*``: all events)."""
        self.draft_events = toggle_event(self.draft_events, str(event_type), bool(checked))

    @rx.event
    def set_livemode(self, value: str | list[str]) -> None:
        """Test or live mode (a segmented control sends a string)."""
        self.livemode = value == "live"

    def _create(self, form: Mapping[str, Any], identity: ConsoleIdentity, uow: UnitOfWork
                ) -> CreatedEndpoint:
        fields = endpoint_fields(form, EndpointDraft(events=list(self.draft_events),
                                                      livemode=self.livemode))
        return endpoints.create_endpoint(account_id=identity.account_id, uow=uow, **fields)

    @rx.event
    def save(self, form_data: dict) -> Iterator[EventSpec | None]:
        """Add the endpoint and show its secret once; refusals show in the form."""
        self.form_error = self.error_field = ""
        created = self._call(lambda identity, uow: self._create(form_data, identity, uow),
                             refused=self._show_refusal)
        if isinstance(created, Refused):
            yield created.effect
            return
        self.dialog_open = False
        self.secret, self.secret_url = created.secret, created.endpoint.url
        self.secret_open = True
        yield rx.toast.success(ct("Endpoint added."))
        yield self._fetch()

    @rx.event
    def set_secret_open(self, value: bool) -> None:
        """Close the secret's dialog: the secret is forgotten and never shown again."""
        self.secret_open = bool(value)
        if not value:
            self.secret = self.secret_url = ""


class WebhookEndpointState(WebhookFormState):
    """/console/webhooks/[endpoint]: one endpoint, its deliveries, resends."""

    status: str = "loading"  # loading | ready | error | missing
    shown: EndpointRow = EndpointRow()
    _endpoint_id: str = ""  # backend-only: the endpoint load found (never from the browser)
    # The deliveries log and its filters.
    deliveries_status: str = "loading"  # loading | ready | error
    deliveries: list[DeliveryRow] = []
    types: list[str] = []
    status_filter: str = ALL
    type_filter: str = ALL
    since_filter: str = ""
    filter_error: str = ""
    page_number: int = 1
    has_more: bool = False
    # The edit dialog.
    dialog_open: bool = False
    form_key: int = 0
    form_error: str = ""
    error_field: str = ""
    draft_events: list[str] = []
    defaults: dict[str, str] = {}
    # The secret: roll (asked first), then shown once.
    roll_open: bool = False
    secret: str = ""
    secret_open: bool = False
    # An attempt's detail.
    detail_open: bool = False
    detail: DeliveryRow = DeliveryRow()
    # rx.Field: read on the class (in components) it is typed as the Var it is there.
    attempts: rx.Field[list[AttemptRow]] = rx.field(default_factory=list)
    # Resend every failed delivery since a day.
    resend_open: bool = False
    resend_error: str = ""

    @rx.var
    def filtered(self) -> bool:
        """Whether a filter narrows the log (the empty state says so)."""
        return (self.status_filter != ALL or self.type_filter != ALL
                or bool(self.since_filter))

    @rx.var
    def has_deliveries(self) -> bool:
        """Whether the log's page has rows."""
        return bool(self.deliveries)

    @rx.var
    def has_previous(self) -> bool:
        """Whether there is a newer page to go back to."""
        return self.page_number > 1

    def _route_id(self) -> str:
        return str(self.router.page.params.get("endpoint", "") or "")[:255]

    def _filters(self, identity: ConsoleIdentity, uow: UnitOfWork) -> DeliveryFilters:
        since = deliveries_since(self.since_filter, now=uow.clock())
        return DeliveryFilters(
            status=None if self.status_filter == ALL else self.status_filter,
            event_type=None if self.type_filter == ALL else self.type_filter, since=since)

    def _read(self, identity: ConsoleIdentity, uow: UnitOfWork) -> None:
        account = identity.account_id
        endpoint = endpoints.retrieve_endpoint(self._route_id(), account_id=account, uow=uow)
        stats = attempt_stats(account, uow=uow, since=uow.clock() - STATS_WINDOW)
        self.shown = endpoint_rows([endpoint], stats)[0]
        self._endpoint_id = endpoint.id
        self.draft_events = list(endpoint.enabled_events)
        self.defaults = {"url": endpoint.url, "description": endpoint.description or ""}
        self.types = delivery_event_types(endpoint.id, account_id=account, uow=uow)
        self._read_deliveries(identity, uow)

    def _read_deliveries(self, identity: ConsoleIdentity, uow: UnitOfWork) -> None:
        page = list_deliveries(self._endpoint_id, account_id=identity.account_id, uow=uow,
                               filters=self._filters(identity, uow),
                               offset=(self.page_number - 1) * DELIVERY_PAGE_SIZE)
        self.deliveries = [delivery_row(d) for d in page.deliveries]
        self.has_more = page.has_more
        self.deliveries_status = "ready"

    def _failed(self, error: Exception) -> None:
        self.status = "missing" if getattr(error, "code", None) == "resource_missing" \
            else "error"

    def _fetch(self) -> EventSpec | None:
        loaded = self._call(self._read, refused=self._failed)
        if isinstance(loaded, Refused):
            return loaded.effect
        self.status = "ready"
        return None

    def _fetch_deliveries(self) -> EventSpec | None:
        """The log again with the current filters and page."""
        def refused(error: Exception) -> None:
            if isinstance(error, FieldProblem):
                self.filter_error = error.message
                self.deliveries_status = "ready"
            else:
                self.deliveries_status = "error"

        self.filter_error = ""
        loaded = self._call(self._read_deliveries, refused=refused)
        return loaded.effect if isinstance(loaded, Refused) else None

    @rx.event
    def load(self) -> Iterator[EventSpec | None]:
        """The page's on_load: the endpoint of the route and the first page of its log."""
        self.status = self.deliveries_status = "loading"
        self.shown = EndpointRow()
        self.deliveries, self.attempts, self.detail = [], [], DeliveryRow()
        self.dialog_open = self.roll_open = self.secret_open = self.detail_open = False
        self.resend_open = False
        self.secret = self.filter_error = self.resend_error = ""
        self.status_filter = self.type_filter = ALL
        self.since_filter = ""
        self.page_number = 1
        yield None
        yield self._fetch()

    @rx.event
    def retry(self) -> Iterator[EventSpec | None]:
        """Load again after an error."""
        self.status = "loading"
        yield None
        yield self._fetch()

    # The log -----------------------------------------------------------------------------

    def _refilter(self) -> Iterator[EventSpec | None]:
        self.page_number = 1
        self.deliveries_status = "loading"
        yield None
        yield self._fetch_deliveries()

    @rx.event
    def set_status_filter(self, value: str) -> Iterator[EventSpec | None]:
        """Show only pending, succeeded or failed deliveries (or all)."""
        self.status_filter = value if value in DELIVERY_STATUSES else ALL
        yield from self._refilter()

    @rx.event
    def set_type_filter(self, value: str) -> Iterator[EventSpec | None]:
        """Show only deliveries of one event type (or all)."""
        self.type_filter = value if value in self.types else ALL
        yield from self._refilter()

    @rx.event
    def filter_since(self, form_data: dict) -> Iterator[EventSpec | None]:
        """Show only deliveries of events since a day (YYYY-MM-DD; blank: any)."""
        self.since_filter = text(form_data, "since")[:10]
        yield from self._refilter()

    @rx.event
    def clear_filters(self) -> Iterator[EventSpec | None]:
        """Back to every delivery."""
        self.status_filter = self.type_filter = ALL
        self.since_filter = ""
        yield from self._refilter()

    @rx.event
    def older(self) -> Iterator[EventSpec | None]:
        """The next page (older deliveries)."""
        if not self.has_more:
            return
        self.page_number += 1
        self.deliveries_status = "loading"
        yield None
        yield self._fetch_deliveries()

    @rx.event
    def newer(self) -> Iterator[EventSpec | None]:
        """The previous page (newer deliveries)."""
        if self.page_number <= 1:
            return
        self.page_number -= 1
        self.deliveries_status = "loading"
        yield None
        yield self._fetch_deliveries()

    @rx.event
    def open_delivery(self, delivery_id: str) -> EventSpec | None:
        """Show one delivery's attempts — looked up within the signed-in account only."""
        found = self._call(
            lambda identity, uow: retrieve_delivery(str(delivery_id),
                                                    account_id=identity.account_id, uow=uow),
            refused=self._refusal_toast())
        if isinstance(found, Refused):
            return found.effect
        delivery, attempts = found
        self.detail = delivery_row(delivery)
        self.attempts = [attempt_row(a) for a in attempts]
        self.detail_open = True
        return None

    @rx.event
    def set_detail_open(self, value: bool) -> None:
        """Close the attempt detail."""
        self.detail_open = bool(value)
        if not value:
            self.detail, self.attempts = DeliveryRow(), []

    @rx.event
    def resend(self, delivery_id: str) -> Iterator[EventSpec | None]:
        """Send one delivery's event again (a new pending delivery, due now)."""
        sent = self._call(
            lambda identity, uow: resend.resend_delivery(
                str(delivery_id), account_id=identity.account_id, uow=uow,
                endpoint_id=self._endpoint_id),
            refused=self._refusal_toast())
        if isinstance(sent, Refused):
            yield sent.effect
            return
        self.detail_open = False
        yield rx.toast.success(ct("Resend queued: the event is sent again shortly."))
        yield self._fetch_deliveries()

    @rx.event
    def set_resend_open(self, value: bool) -> None:
        """Open or close the "resend all failed since" dialog."""
        self.resend_open = bool(value)
        self.resend_error = ""

    def _resend_failed(self, form: Mapping[str, Any], identity: ConsoleIdentity,
                       uow: UnitOfWork) -> int:
        since = deliveries_since(text(form, "since"), now=uow.clock())
        if since is None:
            raise FieldProblem("since", ct("This field is required."))
        return len(resend.resend_failed(self._endpoint_id, account_id=identity.account_id,
                                        uow=uow, since=since))

    @rx.event
    def resend_failed(self, form_data: dict) -> Iterator[EventSpec | None]:
        """Resend every failed delivery of events since the chosen day."""
        def refused(error: Exception) -> None:
            self.resend_error = getattr(error, "message", None) or load_error()

        self.resend_error = ""
        sent = self._call(lambda identity, uow: self._resend_failed(form_data, identity, uow),
                          refused=refused)
        if isinstance(sent, Refused):
            yield sent.effect
            return
        self.resend_open = False
        yield rx.toast.success(ct("No failed deliveries to resend.") if sent == 0 else
                               ct("1 delivery queued again.") if sent == 1 else
                               ct("{count} deliveries queued again.", count=sent))
        yield self._fetch_deliveries()

    # The endpoint ------------------------------------------------------------------------

    @rx.event
    def open_edit(self) -> EventSpec | None:
        """Open the edit dialog on the endpoint's URL, description and events."""
        if (refused := self._signed_out()) is not None:
            return refused.effect
        self.form_key += 1
        self.form_error = self.error_field = ""
        self.dialog_open = True
        return None

    @rx.event
    def set_dialog_open(self, value: bool) -> Iterator[EventSpec | None]:
        """Close the edit dialog (its ticked events return to the stored ones)."""
        self.dialog_open = bool(value)
        if not value:
            self.form_error = self.error_field = ""
            yield self._fetch()

    @rx.event
    def toggle_event(self, event_type: str, checked: bool) -> None:
        """Tick or untick an event type (or ``*``: all events)."""
        self.draft_events = toggle_event(self.draft_events, str(event_type), bool(checked))

    def _update(self, form: Mapping[str, Any], identity: ConsoleIdentity, uow: UnitOfWork
                ) -> None:
        fields = endpoint_fields(form, EndpointDraft(events=list(self.draft_events)))
        endpoints.update_endpoint(
            self._endpoint_id, account_id=identity.account_id, uow=uow, url=fields["url"],
            enabled_events=fields["enabled_events"], description=fields["description"],
            clear_description=fields["description"] is None)

    @rx.event
    def save(self, form_data: dict) -> Iterator[EventSpec | None]:
        """Store the endpoint's URL, description and events."""
        self.form_error = self.error_field = ""
        saved = self._call(lambda identity, uow: self._update(form_data, identity, uow),
                           refused=self._show_refusal)
        if isinstance(saved, Refused):
            yield saved.effect
            return
        self.dialog_open = False
        yield rx.toast.success(ct("Endpoint saved."))
        yield self._fetch()

    @rx.event
    def set_enabled(self, enabled: bool) -> Iterator[EventSpec | None]:
        """Disable the endpoint (its pending deliveries fail) or enable it again."""
        changed = self._call(
            lambda identity, uow: endpoints.update_endpoint(
                self._endpoint_id, account_id=identity.account_id, uow=uow,
                disabled=not enabled),
            refused=self._refusal_toast())
        if isinstance(changed, Refused):
            yield changed.effect
            return
        yield rx.toast.success(ct("Endpoint enabled.") if enabled else
                               ct("Endpoint disabled: no events are sent to it."))
        yield self._fetch()

    @rx.event
    def set_roll_open(self, value: bool) -> None:
        """Ask before rolling the secret (or stop asking)."""
        self.roll_open = bool(value)

    @rx.event
    def roll_secret(self) -> Iterator[EventSpec | None]:
        """A new signing secret, shown once; the old one stops signing at once."""
        rolled = self._call(
            lambda identity, uow: endpoints.roll_secret(
                self._endpoint_id, account_id=identity.account_id, uow=uow),
            refused=self._refusal_toast())
        self.roll_open = False
        if isinstance(rolled, Refused):
            yield rolled.effect
            return
        self.secret = rolled.secret
        self.secret_open = True

    @rx.event
    def set_secret_open(self, value: bool) -> None:
        """Close the secret's dialog: the secret is forgotten and never shown again."""
        self.secret_open = bool(value)
        if not value:
            self.secret = ""
