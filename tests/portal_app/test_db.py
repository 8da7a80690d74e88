"""The unit of work: all or nothing, re-entrant, account-scoped lookups, events inside."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from portal_app.billing.models import Customer
from portal_app.db import UnitOfWork, _sqlite_turn
from portal_app.errors import ResourceMissing
from portal_app.events.models import Event
from tests.conftest import START

MakeUow = Callable[[], UnitOfWork]


def new_customer(account_id: str, **values: object) -> Customer:
    return Customer(account_id=account_id, invoice_prefix="TEST", created=START, **values)


def stored(make_uow: MakeUow, model: type, object_id: str) -> object | None:
    with make_uow() as uow:
        return uow.session.get(model, object_id)


def test_commit_keeps_and_leaving_without_commit_rolls_back(account_id: str,
                                                            make_uow: MakeUow) -> None:
    kept, dropped = new_customer(account_id), new_customer(account_id)
    with make_uow() as uow:
        uow.add(kept)
        uow.commit()
    with make_uow() as uow:
        uow.add(dropped)
        uow.flush()
    assert stored(make_uow, Customer, kept.id) is not None
    assert stored(make_uow, Customer, dropped.id) is None


def test_an_exception_rolls_back(account_id: str, make_uow: MakeUow) -> None:
    row = new_customer(account_id)
    uow = make_uow()
    with pytest.raises(ValueError), uow:
        uow.add(row)
        uow.flush()
        raise ValueError("boom")
    assert stored(make_uow, Customer, row.id) is None


def test_nested_units_join_the_outer_transaction(account_id: str, make_uow: MakeUow) -> None:
    row = new_customer(account_id)
    uow = make_uow()
    with uow:
        with uow:
            uow.add(row)
            uow.commit()  # only flushes: the outer block owns the transaction
        assert uow.session.get(Customer, row.id) is not None
    assert stored(make_uow, Customer, row.id) is None
    with uow:
        with uow:
            uow.add(row)
            uow.commit()
        uow.commit()
    assert stored(make_uow, Customer, row.id) is not None


def test_session_exists_only_inside_the_block(make_uow: MakeUow) -> None:
    uow = make_uow()
    with pytest.raises(RuntimeError):
        uow.session  # noqa: B018
    with uow:
        assert uow.session is not None
    with pytest.raises(RuntimeError):
        uow.session  # noqa: B018


def test_get_is_scoped_to_the_account(account_id: str, make_uow: MakeUow) -> None:
    row = new_customer(account_id)
    with make_uow() as uow:
        uow.add(row)
        uow.commit()
    with make_uow() as uow:
        assert uow.get(Customer, row.id, account_id=account_id).id == row.id
        for object_id, owner in ((row.id, "acct_other"), ("cus_missing", account_id),
                                 (None, account_id)):
            with pytest.raises(ResourceMissing) as raised:
                uow.get(Customer, object_id, account_id=owner, param="customer",
                        label="customer")
            assert raised.value.param == "customer"
            assert raised.value.code == "resource_missing"
            assert raised.value.message == f"No such customer: '{object_id}'"


def test_events_are_appended_in_the_transaction_with_the_clock(
        account_id: str, make_uow: MakeUow) -> None:
    customer = new_customer(account_id)
    uow = make_uow()
    uow.request_id = "req_1"
    with uow:
        uow.add(customer)
        first = uow.events.append("customer.created", {"id": customer.id, "object": "customer"},
                                  account_id=account_id)
        second = uow.events.append("invoice.paid", {"id": "in_1", "object": "invoice",
                                                    "customer": customer.id},
                                   account_id=account_id, previous_attributes={"status": "open"})
        uow.commit()
    assert first.id.startswith("evt_") and first.id != second.id
    assert (first.created, first.customer_id, first.request_id) == (START, customer.id, "req_1")
    assert second.customer_id == customer.id and second.seq > first.seq
    assert second.previous_attributes == {"status": "open"}
    with make_uow() as uow:
        uow.events.append("customer.updated", {"id": customer.id, "object": "customer"},
                          account_id=account_id)  # never committed
    with make_uow() as uow:
        types = uow.session.exec(select(Event.type).where(Event.customer_id == customer.id)
                                 .order_by(Event.seq)).all()
    assert list(types) == ["customer.created", "invoice.paid"]


@pytest.mark.parametrize("created", [
    datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
    datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 3, 1, 12, 30),  # naive values are taken to be UTC
])
def test_times_come_back_aware_utc(account_id: str, make_uow: MakeUow,
                                   created: datetime) -> None:
    row = Customer(account_id=account_id, invoice_prefix="T", created=created)
    with make_uow() as uow:
        uow.add(row)
        uow.commit()
    loaded = stored(make_uow, Customer, row.id)
    assert isinstance(loaded, Customer)
    assert loaded.created == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert loaded.created.utcoffset() == timedelta(0)


def _in_other_thread(make_uow: MakeUow, log: list[str], entered: threading.Event) -> None:
    with make_uow():
        entered.set()
        log.append("second entered")


def test_sqlite_units_of_work_of_one_process_take_turns(make_uow: MakeUow) -> None:

    uow = make_uow()
    if uow.engine.dialect.name != "sqlite":
        # PostgreSQL has row locks and concurrent writers: no turns there.
        assert _sqlite_turn(uow.engine) is None
        return
    log: list[str] = []
    entered = threading.Event()
    with uow:
        other = threading.Thread(target=_in_other_thread, args=(make_uow, log, entered))
        other.start()
        # The other thread may not enter while this unit of work is open.
        assert not entered.wait(0.3)
        log.append("first left")
    other.join(10)
    assert log == ["first left", "second entered"]


def test_a_unit_of_work_waiting_on_another_thread_does_not_deadlock(
        make_uow: MakeUow, monkeypatch: pytest.MonkeyPatch) -> None:

    import portal_app.db

    uow = make_uow()
    monkeypatch.setattr(portal_app.db, "SQLITE_TURN_TIMEOUT", 0.2)
    log: list[str] = []
    entered = threading.Event()
    with uow:
        other = threading.Thread(target=_in_other_thread, args=(make_uow, log, entered))
        other.start()
        # Past the timeout the other thread goes on without its turn (SQLite's own
        # locking decides), so waiting for it here cannot hang.
        assert entered.wait(10)
        other.join(10)
    assert log == ["second entered"]
