"""Console State: every handler re-checks the cookie's identity and sees its account only."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from portal_app.accounts import services as accounts
from portal_app.billing.catalog import create_product
from portal_app.billing.customers import create_customer
from portal_app.db import UnitOfWork
from portal_app.state import console as console_state
from portal_app.state.console import ALL_TYPES, ConsoleState, EventsState, OverviewState
from portal_app.web.console_sign_in import COOKIE

ORIGIN = "http://localhost:3000"


@pytest.fixture(autouse=True)
def _test_database(monkeypatch: pytest.MonkeyPatch, make_uow: Callable[[], UnitOfWork]) -> None:
    # Handlers open their units of work on the test database and its frozen clock.
    monkeypatch.setattr(console_state, "unit_of_work", make_uow)


def sign_in(account_id: str, make_uow, email: str) -> str:
    accounts.create_console_user(account_id=account_id, email=email, password="s3cret-pass",
                                 uow=make_uow())
    return accounts.sign_in(email=email, password="s3cret-pass", uow=make_uow()).token


def state_of(cls: type[rx.State], *, cookie: str = "", origin: str = ORIGIN,
             path: str = "/console/events"):
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({
        "pathname": path, "asPath": path,
        "headers": {"cookie": cookie, "origin": origin, "host": "localhost:3000"},
    })
    return root.get_substate(cls.get_full_name().split(".")[1:])


def run(handler, state, *args) -> list:
    result = handler.fn(state, *args)
    if result is None:
        return []
    if isinstance(result, list):
        return result
    if hasattr(result, "__next__"):
        return [r for r in result if r is not None]
    return [result]


def redirects_to_login(results: list) -> bool:
    return any("/console/login" in str(r) for r in results)


@pytest.fixture
def token(account_id: str, make_uow) -> str:
    return sign_in(account_id, make_uow, f"ops-{account_id.lower()}@acme.test")


def test_no_cookie_goes_to_sign_in(make_uow) -> None:
    state = state_of(EventsState)

    results = run(EventsState.load, state)

    assert redirects_to_login(results)
    assert "next=%2Fconsole%2Fevents" in str(results)
    assert not state.signed_in and state.events == []


@pytest.mark.parametrize("cookie", [f"{COOKIE}=forged-token", "other=1", "%%%bad"])
def test_invalid_cookie_goes_to_sign_in(cookie: str) -> None:
    state = state_of(ConsoleState, cookie=cookie, path="/console/offers")
    assert redirects_to_login(run(ConsoleState.check, state))
    assert not state.signed_in


def test_a_foreign_websocket_origin_is_refused(token: str) -> None:
    state = state_of(EventsState, cookie=f"{COOKIE}={token}", origin="https://evil.test")
    assert redirects_to_login(run(EventsState.load, state))
    assert state.events == []


def test_signed_in_sees_own_events_only(account_id: str, make_uow, token: str) -> None:
    mine = create_customer(account_id=account_id, uow=make_uow(), email="m@x.test").id
    create_product(account_id=account_id, uow=make_uow(), name="Pro")
    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    theirs = create_customer(account_id=other, uow=make_uow(), email="t@x.test").id
    state = state_of(EventsState, cookie=f"a=b; {COOKIE}={token}")

    assert not redirects_to_login(run(EventsState.load, state))

    assert state.signed_in and state.business_name == "Acme Cloud"
    assert state.csrf_token
    assert state.status == "ready"
    assert [row.type for row in state.events] == ["product.created", "customer.created"]
    assert state.events[1].customer == mine and state.events[1].tone == "blue"
    assert state.types == ["customer.created", "product.created"]

    run(EventsState.set_type, state, "customer.created")
    assert [row.object_id for row in state.events] == [mine]

    run(EventsState.filter_customer, state, {"customer": f"  {theirs} "})
    assert state.customer_filter == theirs and state.events == []
    assert state.filtered

    # Another account's event id is not found, even when the browser asks for it.
    run(EventsState.clear_filters, state)
    their_event = [e for e in _events_of(other, make_uow)][0]
    results = run(EventsState.open_event, state, their_event)
    assert not state.dialog_open and state.selected_json == "" and results

    run(EventsState.open_event, state, state.events[0].id)
    assert state.dialog_open
    shown = json.loads(state.selected_json)
    assert shown["id"] == state.events[0].id and shown["object"] == "event"


def test_overview_counts_events(account_id: str, make_uow, token: str) -> None:
    create_customer(account_id=account_id, uow=make_uow(), email="m@x.test")
    state = state_of(OverviewState, cookie=f"{COOKIE}={token}", path="/console")
    run(OverviewState.load, state)
    assert state.event_count == "1"


def test_paging_walks_older_and_back(account_id: str, make_uow, token: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_state, "PAGE_SIZE", 2)
    for n in range(5):
        create_customer(account_id=account_id, uow=make_uow(), email=f"c{n}@x.test")
    state = state_of(EventsState, cookie=f"{COOKIE}={token}")
    run(EventsState.load, state)
    first = [row.id for row in state.events]
    assert len(first) == 2 and state.has_more and not state.has_previous

    run(EventsState.older, state)
    run(EventsState.older, state)
    assert state.page_number == 3 and len(state.events) == 1 and not state.has_more

    run(EventsState.newer, state)
    run(EventsState.newer, state)
    assert state.page_number == 1 and [row.id for row in state.events] == first
    assert state.type_filter == ALL_TYPES


def test_signed_out_session_stops_handlers(account_id: str, make_uow, token: str) -> None:
    state = state_of(EventsState, cookie=f"{COOKIE}={token}")
    run(EventsState.load, state)
    accounts.sign_out(token, uow=make_uow())

    assert redirects_to_login(run(EventsState.retry, state))
    assert not state.signed_in


def _events_of(account_id: str, make_uow) -> list[str]:
    from portal_app.events import store

    return [e.id for e in store.list_events(account_id, uow=make_uow()).events]
