"""The ledger's events and ids: written only with their change, subscriptions' discounts
expanded in the event store, Stripe's id prefixes."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from portal_app.billing import coupons, customers, renewals
from portal_app.billing.ledger_events import append_if_changed, diff, subscription_snapshot
from portal_app.billing.models import Customer, Price, Subscription
from portal_app.billing.objects import render_subscription
from portal_app.clock import FrozenClock
from portal_app.events.models import Event
from tests.portal_app.billing.helpers import (
    FEB_28,
    MakeUow,
    charges_of,
    count_rows,
    events_of,
    invoices_of,
    lines_of,
    load,
    new_customer,
    read,
    subscribe,
)

# --- ids and the event store -------------------------------------------------------------


def test_ids_are_random_with_stripe_prefixes(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    [invoice] = invoices_of(make_uow, sub.id)
    [line] = lines_of(make_uow, invoice.id)
    [charge] = charges_of(make_uow, invoice.id)
    item_id = events_of(make_uow, account_id, object_id=sub.id)[0].data_object["items"][
        "data"][0]["id"]
    ids = {"cus": customer.id, "pm": customer.default_payment_method, "price": monthly.id,
           "prod": monthly.product_id, "sub": sub.id, "si": item_id, "in": invoice.id,
           "il": line.id, "ch": charge.id, "evt": events_of(make_uow, account_id)[0].id}
    for prefix, object_id in ids.items():
        assert re.fullmatch(rf"{prefix}_[0-9A-Za-z]{{24}}", object_id or ""), object_id
    customers = [new_customer(account_id, make_uow).id for _ in range(20)]
    assert len(set(customers)) == 20
    assert sorted(customers) != customers or sorted(customers, reverse=True) != customers
    suffixes = [c.removeprefix("cus_") for c in customers]
    assert len({s[:4] for s in suffixes}) > 10  # no shared counter-like prefix


def test_an_event_is_written_only_with_its_change(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    before = count_rows(make_uow, account_id)
    uow = make_uow()
    with pytest.raises(RuntimeError), uow:
        customers.update_customer(customer.id, account_id=account_id, uow=uow, name="Changed")
        flushed = uow.session.exec(select(Event).where(Event.object_id == customer.id)).all()
        assert flushed[-1].type == "customer.updated"  # appended in this transaction
        raise RuntimeError("the request failed after the event was appended")
    assert count_rows(make_uow, account_id) == before
    assert load(make_uow, Customer, customer.id).name == "Ada"


def test_a_renewal_that_fails_midway_leaves_no_event(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    before = count_rows(make_uow, account_id)
    clock.set(FEB_28)
    uow = make_uow()
    with pytest.raises(RuntimeError), uow:
        renewals.renew_subscription(sub.id, uow=uow)
        raise RuntimeError("crash before commit")
    assert count_rows(make_uow, account_id) == before
    assert load(make_uow, Subscription, sub.id).current_period_end == FEB_28


# --- subscription snapshots in the event store -------------------------------------------


def test_subscription_events_keep_the_discounts_expanded(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=20,
                                   duration="forever")
    sub = subscribe(account_id, make_uow, customer, monthly, coupon=coupon.id)
    [created] = [e for e in events_of(make_uow, account_id, object_id=sub.id)
                 if e.type == "customer.subscription.created"]
    [discount] = created.data_object["discounts"]
    assert discount["object"] == "discount"
    assert discount["source"]["coupon"]["id"] == coupon.id
    assert discount["source"]["coupon"]["percent_off"] == 20
    # The object itself (the API's, the contract's) names its discounts by id.
    rendered = read(make_uow, lambda uow: render_subscription(
        uow.session.get(Subscription, sub.id), uow.session))
    assert rendered["discounts"] == [discount["id"]]


def test_a_snapshot_without_discounts_or_with_unknown_ones_stays_as_it_is(
        account_id: str, make_uow: MakeUow, customer: Customer, monthly: Price) -> None:
    sub = subscribe(account_id, make_uow, customer, monthly)
    with make_uow() as uow:
        rendered = render_subscription(uow.session.get(Subscription, sub.id), uow.session)
        assert subscription_snapshot(rendered, uow.session) is rendered
        gone = {**rendered, "discounts": ["di_gone"]}
        assert subscription_snapshot(gone, uow.session)["discounts"] == ["di_gone"]


def test_previous_attributes_name_only_what_changed(make_uow: MakeUow,
                                                    account_id: str) -> None:
    before = {"id": "prod_x", "object": "product", "name": "Pro", "updated": 1}
    with make_uow() as uow:
        append_if_changed("product.updated", before, {**before, "updated": 2}, uow=uow,
                          account_id=account_id, ignore=("updated",))
        assert list(uow.session.new) == []  # only the ignored field changed: no event
        row = append_if_changed("product.updated", before, {**before, "name": "Max"}, uow=uow,
                                account_id=account_id)
        [event] = list(uow.session.new)
        assert row is None and event.previous_attributes == {"name": "Pro"}
    assert diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b": 2, "c": None}
