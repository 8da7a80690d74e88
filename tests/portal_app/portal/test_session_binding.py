"""Binding a portal link to the first browser is atomic: of two at once, exactly one binds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from portal_app import db
from portal_app.billing.customers import create_customer
from portal_app.db import UnitOfWork
from portal_app.errors import SessionExpired
from portal_app.portal import sessions
from portal_app.portal.models import PortalSession

UowFactory = Callable[[], UnitOfWork]


def test_two_browsers_opening_one_link_at_once_bind_exactly_one(
        account_id: str, make_uow: UowFactory, database: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # One process takes SQLite's units of work in turns; two worker processes don't.
    # Without the turn, these two threads are those two processes.
    monkeypatch.setattr(db, "SQLITE_TURN_TIMEOUT", 0)
    customer = create_customer(account_id=account_id, uow=make_uow()).id
    url = sessions.create_session(account_id=account_id, uow=make_uow(), customer=customer).url
    token = url.rsplit("/", 1)[1]

    # Both browsers have read the unopened session before either writes: the race.
    both_read = threading.Barrier(2, timeout=15)
    writing: set[int] = set()

    def before_write(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if (statement.lstrip().upper().startswith("UPDATE PORTAL_SESSION")
                and threading.get_ident() not in writing):
            writing.add(threading.get_ident())
            both_read.wait()

    outcomes: list[str] = []
    secrets: list[str] = []

    def browser() -> None:
        try:
            opened = sessions.open_session(token, browser_secret=None, uow=make_uow())
        except SessionExpired:
            outcomes.append("expired")
        else:
            assert opened.browser_secret is not None
            secrets.append(opened.browser_secret)
            outcomes.append("bound")

    event.listen(database, "before_cursor_execute", before_write)
    try:
        threads = [threading.Thread(target=browser) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(database, "before_cursor_execute", before_write)

    assert sorted(outcomes) == ["bound", "expired"]
    [winner] = secrets
    # The winner's cookie is the one that reaches the session; the loser has none.
    assert sessions.resume_session(winner, uow=make_uow()).customer_id == customer
    with make_uow() as uow:
        stored = uow.session.get(PortalSession, sessions.resume_session(
            winner, uow=make_uow()).id)
        assert stored is not None and stored.browser_digest == sessions.digest(winner)
