"""The outbox: a committed event owes one pending delivery per matching enabled endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from portal_app.accounts import services as accounts
from portal_app.billing import customers
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest
from portal_app.webhooks import endpoints, resend
from portal_app.webhooks.models import (
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SUCCEEDED,
    WebhookDelivery,
)
from tests.conftest import START
from tests.portal_app.billing.helpers import events_of
from tests.portal_app.webhooks.helpers import MakeUow, append_event, deliveries_of, new_endpoint


def test_a_committed_change_makes_one_pending_delivery_per_matching_enabled_endpoint(
        make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    every = new_endpoint(make_uow, account_id, ["*"])
    exact = new_endpoint(make_uow, account_id, ["customer.created", "invoice.paid"])
    other_type = new_endpoint(make_uow, account_id, ["invoice.paid"])
    disabled = new_endpoint(make_uow, account_id, ["*"])
    endpoints.update_endpoint(disabled.id, account_id=account_id, uow=make_uow(),
                              disabled=True)
    clock.set(START + timedelta(minutes=5))
    customer = customers.create_customer(account_id=account_id, uow=make_uow(),
                                         email="ada@example.com")
    [event] = events_of(make_uow, account_id, object_id=customer.id)
    assert event.type == "customer.created"
    made = deliveries_of(make_uow, account_id)
    assert sorted(d.endpoint_id for d in made) == sorted([every.id, exact.id])
    assert other_type.id not in {d.endpoint_id for d in made}
    for delivery in made:
        assert (delivery.event_id, delivery.event_type, delivery.status) == (
            event.id, "customer.created", DELIVERY_PENDING)
        assert delivery.created == delivery.next_attempt_at == START + timedelta(minutes=5)
        assert (delivery.attempt_count, delivery.lease_until, delivery.delivered_at) == (
            0, None, None)


def test_a_rolled_back_change_makes_no_delivery(make_uow: MakeUow, account_id: str) -> None:
    new_endpoint(make_uow, account_id, ["*"])
    uow = make_uow()
    with pytest.raises(RuntimeError), uow:
        uow.events.append("customer.created", {"id": "cus_x", "object": "customer"},
                          account_id=account_id)
        uow.flush()  # even written to the transaction, then abandoned
        raise RuntimeError("the change fails")
    assert deliveries_of(make_uow, account_id) == []
    assert events_of(make_uow, account_id) == []


def test_no_endpoint_no_delivery_and_other_accounts_endpoints_get_nothing(
        make_uow: MakeUow, account_id: str) -> None:
    append_event(make_uow, account_id)
    assert deliveries_of(make_uow, account_id) == []
    other = accounts.create_account(business_name="Other", email="o@example.com",
                                    uow=make_uow()).id
    new_endpoint(make_uow, other, ["*"])
    append_event(make_uow, account_id)
    assert deliveries_of(make_uow, account_id) == [] and deliveries_of(make_uow, other) == []


def test_every_event_of_one_transaction_gets_its_delivery(make_uow: MakeUow,
                                                          account_id: str) -> None:
    endpoint = new_endpoint(make_uow, account_id, ["customer.updated", "customer.created"])
    uow = make_uow()
    with uow:
        first = uow.events.append("customer.created", {"id": "cus_1", "object": "customer"},
                                  account_id=account_id)
        second = uow.events.append("customer.updated", {"id": "cus_1", "object": "customer"},
                                   account_id=account_id, previous_attributes={"name": None})
        uow.events.append("customer.deleted", {"id": "cus_1", "object": "customer"},
                          account_id=account_id)
        uow.commit()
    made = deliveries_of(make_uow, account_id)
    assert sorted(d.event_id for d in made) == sorted([first.id, second.id])
    assert {d.endpoint_id for d in made} == {endpoint.id}


def test_a_re_enabled_endpoint_gets_new_events_only(make_uow: MakeUow, account_id: str
                                                    ) -> None:
    endpoint = new_endpoint(make_uow, account_id, ["*"])
    endpoints.update_endpoint(endpoint.id, account_id=account_id, uow=make_uow(),
                              disabled=True)
    append_event(make_uow, account_id)
    endpoints.update_endpoint(endpoint.id, account_id=account_id, uow=make_uow(),
                              disabled=False)
    later = append_event(make_uow, account_id, "customer.updated")
    assert [d.event_id for d in deliveries_of(make_uow, account_id)] == [later.id]


def _mark(make_uow: MakeUow, delivery_id: str, status: str) -> None:
    uow = make_uow()
    with uow:
        row = uow.session.get(WebhookDelivery, delivery_id)
        assert row is not None
        row.status, row.next_attempt_at = status, None
        uow.add(row)
        uow.commit()


def test_resend_failed_sends_each_undelivered_event_once_within_30_days(
        make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    endpoint = new_endpoint(make_uow, account_id)
    ancient = append_event(make_uow, account_id, "customer.created", "cus_0")
    clock.set(START + timedelta(days=5))
    failed = append_event(make_uow, account_id, "customer.updated", "cus_1")
    delivered_later = append_event(make_uow, account_id, "customer.updated", "cus_2")
    for delivery in deliveries_of(make_uow, account_id):
        _mark(make_uow, delivery.id, DELIVERY_FAILED)
    [first_of_later] = [d for d in deliveries_of(make_uow, account_id)
                        if d.event_id == delivered_later.id]
    again = resend.resend_delivery(first_of_later.id, account_id=account_id, uow=make_uow())
    _mark(make_uow, again.id, DELIVERY_SUCCEEDED)  # the manual resend went through
    clock.set(START + timedelta(days=31))
    made = resend.resend_failed(endpoint.id, account_id=account_id, uow=make_uow(),
                                since=START - timedelta(days=365))
    assert [d.event_id for d in made] == [failed.id]  # not the ancient, not the delivered
    assert (made[0].status, made[0].next_attempt_at, made[0].created) == (
        DELIVERY_PENDING, START + timedelta(days=31), START + timedelta(days=5))
    twice = resend.resend_failed(endpoint.id, account_id=account_id, uow=make_uow(),
                                 since=START)
    assert [d.id for d in twice] == [made[0].id]  # already pending: not doubled
    [old] = [d for d in deliveries_of(make_uow, account_id) if d.event_id == ancient.id]
    with pytest.raises(InvalidRequest, match="30 days"):
        resend.resend_delivery(old.id, account_id=account_id, uow=make_uow())


def test_a_transaction_of_many_events_writes_their_deliveries_with_its_flush(
        make_uow: MakeUow, account_id: str) -> None:
    every = new_endpoint(make_uow, account_id, ["*"])
    invoices = new_endpoint(make_uow, account_id, ["invoice.paid"])
    uow = make_uow()
    with uow:
        made = [uow.events.append(type, {"id": f"obj_{i}", "object": "x"},
                                  account_id=account_id)
                for i, type in enumerate(["invoice.paid", "customer.created"] * 50)]
        uow.flush()  # the flush that writes the events writes their deliveries
        owed = uow.session.exec(select(WebhookDelivery).where(
            WebhookDelivery.account_id == account_id)).all()
        assert len(owed) == 150
        uow.commit()
    by_event: dict[str, set[str]] = {}
    for delivery in deliveries_of(make_uow, account_id):
        by_event.setdefault(delivery.event_id, set()).add(delivery.endpoint_id)
    assert by_event == {event.id: ({every.id, invoices.id} if event.type == "invoice.paid"
                                   else {every.id}) for event in made}


def test_an_event_of_a_rolled_back_savepoint_owes_nothing(make_uow: MakeUow,
                                                           account_id: str) -> None:
    new_endpoint(make_uow, account_id, ["*"])
    uow = make_uow()
    with uow:
        kept = uow.events.append("customer.created", {"id": "cus_kept", "object": "customer"},
                                 account_id=account_id)
        savepoint = uow.session.begin_nested()
        uow.events.append("customer.updated", {"id": "cus_gone", "object": "customer"},
                          account_id=account_id)
        savepoint.rollback()  # never flushed: dropped from the session with its savepoint
        after = uow.events.append("customer.updated", {"id": "cus_kept", "object": "customer"},
                                  account_id=account_id)
        uow.commit()
    assert sorted(d.event_id for d in deliveries_of(make_uow, account_id)) == sorted(
        [kept.id, after.id])
