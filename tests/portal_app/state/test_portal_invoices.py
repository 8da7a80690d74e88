"""InvoicesState: the session customer's invoice history, paged, re-checked per event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from portal_app.db import UnitOfWork
from portal_app.state.portal_invoices import InvoicesState
from tests.conftest import START
from tests.portal_app.state.handlers import handler_state
from tests.portal_app.state.test_portal_state import opened
from tests.portal_app.views.test_overview import provider_of, subscribed_customer

UowFactory = Callable[[], UnitOfWork]


pytestmark = pytest.mark.usefixtures("portal_database")


def invoices_state(cookie: str) -> InvoicesState:
    return handler_state(InvoicesState, cookie, path="/portal/invoices")


@pytest.fixture
def customer(account_id: str, make_uow: UowFactory) -> str:
    """A customer with 12 invoices."""
    customer, _ = subscribed_customer(account_id, make_uow)
    provider_of(account_id, make_uow).advance_clock(START + timedelta(days=11 * 30.5))
    return customer


def test_load_then_page_forward_and_back(account_id: str, customer: str,
                                         make_uow: UowFactory) -> None:
    state = invoices_state(opened(account_id, customer, make_uow, locale="fr"))

    InvoicesState.load.fn(state)
    assert state.view == "ready" and state.history_enabled
    assert (len(state.rows), state.range_text, state.has_previous, state.has_next) == \
        (10, "1–10 sur 12", False, True)
    assert state.rows[0].status_label == "Payée"
    assert state.t["Invoice history"] == "Historique des factures"

    InvoicesState.next_page.fn(state)
    assert (state.page, len(state.rows), state.range_text, state.has_next) == \
        (2, 2, "11–12 sur 12", False)
    InvoicesState.next_page.fn(state)  # past the end: stays on the last page
    assert state.page == 2
    InvoicesState.previous_page.fn(state)
    assert (state.page, state.rows[0].number) == (1, max(r.number for r in state.rows))


def test_without_a_session_nothing_is_shown(account_id: str, customer: str,
                                            make_uow: UowFactory) -> None:
    state = invoices_state("portico_portal=forged")
    InvoicesState.load.fn(state)
    assert (state.view, state.rows) == ("expired", [])
    InvoicesState.next_page.fn(state)
    assert (state.view, state.rows) == ("expired", [])
