"""Two subscriptions of one customer billed at the same moment (found by ``bench/crash.py``).

Each billing locks its own subscription, but both read and write the customer's row:
its invoice sequence (the invoice number) and its balance. On PostgreSQL the second
writer used to overwrite the first with what it read before (two invoices with one
number, a balance change lost); the customer's row is now locked while billing.
SQLite serializes writers, so the race is PostgreSQL's alone.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from portal_app.billing import renewals
from portal_app.billing.models import Customer, Price
from portal_app.clock import FrozenClock
from tests.portal_app.billing.helpers import FEB_28, MakeUow, invoices_of, load, subscribe


def _waiting_on_locks(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar_one()


def test_two_renewals_of_one_customer_at_once_keep_numbers_and_balance(
        database: Engine, account_id: str, make_uow: MakeUow, clock: FrozenClock,
        customer: Customer, monthly: Price) -> None:
    if database.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: the race needs PostgreSQL's row locks")
    first = subscribe(account_id, make_uow, customer, monthly)
    second = subscribe(account_id, make_uow, customer, monthly)
    with make_uow() as uow:
        row = uow.session.get(Customer, customer.id)
        assert row is not None
        row.balance = -500  # a credit: the first renewal uses it up
        uow.add(row)
        uow.commit()
    clock.set(FEB_28 + timedelta(seconds=1))
    errors: list[BaseException] = []

    def renew(sub_id: str) -> None:
        try:
            renewals.renew_subscription(sub_id, uow=make_uow())
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    # Hold the customer's row so that both renewals are under way before either bills.
    with database.begin() as blocker:
        blocker.execute(text("SELECT 1 FROM customer WHERE id = :id FOR UPDATE"),
                        {"id": customer.id})
        threads = [threading.Thread(target=renew, args=(sub.id,)) for sub in (first, second)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on_locks(database) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    renewed = [invoices_of(make_uow, sub.id)[-1] for sub in (first, second)]
    assert all(i.billing_reason == "subscription_cycle" for i in renewed)
    assert {i.number for i in renewed} == {f"{customer.invoice_prefix}-0003",
                                           f"{customer.invoice_prefix}-0004"}
    assert sorted(i.starting_balance for i in renewed) == [-500, 0]
    assert sorted(i.amount_due for i in renewed) == [1500, 2000]
    after = load(make_uow, Customer, customer.id)
    assert after.next_invoice_sequence == 5 and after.balance == 0
