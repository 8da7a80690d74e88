"""The console's event queries: newest first, filters, pages, and one account only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from portal_app.accounts import services as accounts
from portal_app.billing.providers import billing_provider
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import ResourceMissing
from portal_app.events import store

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def history(account_id: str, make_uow: UowFactory, clock: FrozenClock) -> dict[str, str]:
    """Two customers and a product, created a minute apart (five events)."""
    alice = billing_provider(account_id, uow=make_uow()).create_customer(email="a@x.test")["id"]
    clock.set(clock() + timedelta(minutes=1))
    bob = billing_provider(account_id, uow=make_uow()).create_customer(email="b@x.test")["id"]
    clock.set(clock() + timedelta(minutes=1))
    billing_provider(account_id, uow=make_uow()).update_customer(alice, name="Alice")
    billing_provider(account_id, uow=make_uow()).create_product(name="Pro")
    return {"alice": alice, "bob": bob}


def test_lists_newest_first(account_id: str, make_uow: UowFactory, history: dict) -> None:
    page = store.list_events(account_id, uow=make_uow())

    types = [e.type for e in page.events]
    assert types == ["product.created", "customer.updated", "customer.created",
                     "customer.created"]
    seqs = [e.seq for e in page.events]
    assert seqs == sorted(seqs, reverse=True)
    assert page.events[2].object_id == history["bob"]
    assert page.events[2].customer_id == history["bob"]
    assert page.events[0].customer_id is None
    assert not page.has_more and page.next_before_seq is None


def test_filters_by_type_and_customer(account_id: str, make_uow: UowFactory,
                                      history: dict) -> None:
    created = store.list_events(account_id, uow=make_uow(), type="customer.created")
    assert {e.object_id for e in created.events} == {history["alice"], history["bob"]}

    alice = store.list_events(account_id, uow=make_uow(), customer=history["alice"])
    assert [e.type for e in alice.events] == ["customer.updated", "customer.created"]

    both = store.list_events(account_id, uow=make_uow(), type="customer.updated",
                             customer=history["bob"])
    assert both.events == []


def test_pages_with_a_cursor(account_id: str, make_uow: UowFactory, history: dict) -> None:
    first = store.list_events(account_id, uow=make_uow(), limit=3)
    assert len(first.events) == 3 and first.has_more
    assert first.next_before_seq == first.events[-1].seq

    second = store.list_events(account_id, uow=make_uow(), limit=3,
                               before_seq=first.next_before_seq)
    assert len(second.events) == 1 and not second.has_more
    assert second.events[0].seq < first.events[-1].seq
    assert second.events[0].object_id == history["alice"]


def test_other_accounts_are_invisible(account_id: str, make_uow: UowFactory,
                                      history: dict) -> None:
    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    theirs = billing_provider(other, uow=make_uow()).create_customer(email="z@x.test")["id"]

    mine = store.list_events(account_id, uow=make_uow())
    assert theirs not in {e.object_id for e in mine.events}
    assert store.list_events(account_id, uow=make_uow(), customer=theirs).events == []
    assert store.distinct_types(other, uow=make_uow()) == ["customer.created"]
    assert store.count_events(other, uow=make_uow()) == 1

    their_event = store.list_events(other, uow=make_uow()).events[0]
    with pytest.raises(ResourceMissing):
        store.retrieve_event(their_event.id, account_id=account_id, uow=make_uow())


def test_distinct_types_and_count(account_id: str, make_uow: UowFactory, history: dict) -> None:
    assert store.distinct_types(account_id, uow=make_uow()) == [
        "customer.created", "customer.updated", "product.created"]
    assert store.count_events(account_id, uow=make_uow()) == 4


def test_retrieve_event_is_stripes_event_object(account_id: str, make_uow: UowFactory,
                                                history: dict) -> None:
    newest = store.list_events(account_id, uow=make_uow(), type="customer.updated").events[0]

    event = store.retrieve_event(newest.id, account_id=account_id, uow=make_uow())

    assert event["id"] == newest.id and event["object"] == "event"
    assert event["type"] == "customer.updated"
    assert event["data"]["object"]["id"] == history["alice"]
    assert event["data"]["object"]["name"] == "Alice"
    assert event["data"]["previous_attributes"] == {"name": None}
    with pytest.raises(ResourceMissing):
        store.retrieve_event("evt_missing", account_id=account_id, uow=make_uow())
