"""The portal's invoice history page: one page of the session customer's invoices.

Every handler re-checks the session and reads only its customer's invoices
(:mod:`portal_app.views.invoices`); the page number is the only thing that comes from
the browser, and it is clamped to the pages there are.
"""

from __future__ import annotations

import reflex as rx

from portal_app.errors import ResourceMissing, SessionExpired
from portal_app.state import portal as portal_state
from portal_app.state.portal import PortalState
from portal_app.views.invoices import InvoiceRow, load_invoice_history


class InvoicesState(PortalState):
    """The invoice history: rows of the current page and the pager."""

    # rx.Field: read on the class (in components) each is typed as the Var it is there.
    rows: rx.Field[list[InvoiceRow]] = rx.field(default_factory=list)
    page: rx.Field[int] = rx.field(1)
    pages: rx.Field[int] = rx.field(1)
    range_text: rx.Field[str] = rx.field("")
    has_previous: rx.Field[bool] = rx.field(False)
    has_next: rx.Field[bool] = rx.field(False)
    history_enabled: rx.Field[bool] = rx.field(True)

    def _show_page(self, page: int) -> None:
        uow = portal_state.unit_of_work()
        try:
            session = self._require_session(uow)
            history = load_invoice_history(session, page=page, locale=self.lang, uow=uow)
        except SessionExpired as expired:
            self._show_expired(expired)
            self.rows = []
            return
        except ResourceMissing:
            self.view = "error"
            return
        self.history_enabled = history.enabled
        self.rows = history.rows
        self.page, self.pages = history.page, history.pages
        self.range_text = history.range_text
        self.has_previous, self.has_next = history.has_previous, history.has_next

    @rx.event
    def load(self) -> None:
        """The first page (the page's on_load), after the portal's own checks."""
        PortalState.load.fn(self)
        if self.view != "ready":
            self.rows = []
            return
        self._show_page(1)

    @rx.event
    def next_page(self) -> None:
        """The page after this one."""
        self._show_page(self.page + 1)

    @rx.event
    def previous_page(self) -> None:
        """The page before this one."""
        self._show_page(self.page - 1)
