"""The billing details State: handlers called as the browser would, ids crafted by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import reflex as rx

from portal_app.billing.customers import create_customer
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.state.portal_details import DetailsState
from tests.portal_app.billing.helpers import events_of
from tests.portal_app.portal.helpers import Shop
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)
from tests.portal_app.state.handlers import handler_state
from tests.portal_app.state.test_portal_manage import browser

UowFactory = Callable[[], UnitOfWork]
EVERYTHING = {"customer_update": {"enabled": True, "allowed_updates": [
    "email", "address", "shipping", "phone", "name", "tax_id"]}}


pytestmark = pytest.mark.usefixtures("portal_database")


def page(cookie: str, *, path: str = "/portal/details") -> DetailsState:
    return handler_state(DetailsState, cookie, path=path)


def customer_of(shop: Shop, make_uow: UowFactory, who: str | None = None) -> dict[str, Any]:
    with make_uow() as uow:
        return billing_provider(shop.account_id, uow=uow).retrieve_customer(who or shop.customer)


def keys(fields: list[Any]) -> list[str]:
    return [f.key for f in fields]


def fill(state: Any, **values: str) -> None:
    for key, value in values.items():
        DetailsState.set_field.fn(state, key.replace("__", "."), value)


def run(handler: Any, state: Any, *args: Any) -> list[Any]:
    """A handler that yields (the save), run to its end."""
    result = handler.fn(state, *args)
    return list(result) if result is not None and hasattr(result, "__iter__") else [result]


def test_only_the_allowed_fields_are_on_the_form(shop: Shop, make_uow: UowFactory) -> None:
    state = page(browser(shop, make_uow, customer_update={
        "enabled": True, "allowed_updates": ["name", "address"]}))
    DetailsState.load.fn(state)
    assert state.step == "form" and state.allowed == ["address", "name"]
    assert keys(state.contact) == ["name"]
    assert keys(state.address)[0] == "address.country"
    assert state.shipping == [] and not state.can_tax_ids
    # Only the allowed fields are sent: the email on file is not touched.
    fill(state, name="Ada Lovelace", address__line1="1 Main St", address__city="Springfield",
         address__country="US")
    fill(state, address__state="IL", address__postal_code="62701")
    run(DetailsState.save, state, state.action_nonce)
    after = customer_of(shop, make_uow)
    assert (after["name"], after["email"]) == ("Ada Lovelace", "ada@example.test")
    assert after["address"] == {"line1": "1 Main St", "line2": None, "city": "Springfield",
                                "state": "IL", "postal_code": "62701", "country": "US"}


def test_a_german_postcode_error_shows_next_to_the_field_then_saves(
        shop: Shop, make_uow: UowFactory, account_id: str) -> None:
    state = page(browser(shop, make_uow, **EVERYTHING))
    DetailsState.load.fn(state)
    fill(state, address__country="DE")
    labels = {f.key: f.label for f in state.address}
    assert "address.state" not in labels and labels["address.postal_code"] == "Postal code"
    fill(state, name="Ada GmbH", address__line1="Unter den Linden 1", address__city="Berlin",
         address__postal_code="1011")
    run(DetailsState.save, state, state.action_nonce)
    errors = {f.key: f.error for f in state.address if f.error}
    assert errors == {"address.postal_code": "Check the format, for example 26133."}
    assert state.error == "Please check the highlighted fields."
    assert customer_of(shop, make_uow)["address"] is None  # nothing saved
    fill(state, address__postal_code="10117")
    done = run(DetailsState.save, state, state.action_nonce)
    assert any(isinstance(e, rx.event.EventSpec) for e in done)  # back to the overview
    assert state.banner == "Your billing information was updated."
    after = customer_of(shop, make_uow)
    assert (after["address"]["postal_code"], after["name"]) == ("10117", "Ada GmbH")
    [updated] = [e for e in events_of(make_uow, account_id, object_id=shop.customer)
                 if e.type == "customer.updated" and "address" in (e.previous_attributes or {})]
    assert updated.previous_attributes == {"address": None, "name": None}


def test_a_new_country_relabels_its_address(shop: Shop, make_uow: UowFactory) -> None:
    state = page(browser(shop, make_uow, **EVERYTHING))
    DetailsState.load.fn(state)
    fill(state, address__country="JP", address__city="Chiyoda")
    fields = {f.key: f for f in state.address}
    assert fields["address.state"].label == "Prefecture"
    assert "Tokyo" in {o.value for o in fields["address.state"].options}
    assert fields["address.city"].value == "Chiyoda"  # kept across the change
    fill(state, address__country="GB")
    assert {f.key: f.label for f in state.address}["address.postal_code"] == "Postcode"


def test_tax_ids_added_refused_and_removed(shop: Shop, make_uow: UowFactory,
                                          account_id: str) -> None:
    state = page(browser(shop, make_uow, **EVERYTHING))
    DetailsState.load.fn(state)
    # A customer in the US (no address yet, an English session) is offered an EIN first.
    assert state.can_tax_ids and state.tax_type == "us_ein"
    assert state.tax_placeholder == "12-3456789"
    DetailsState.choose_tax_type.fn(state, "eu_vat")
    assert state.tax_placeholder == "DE123456789"
    DetailsState.set_tax_value.fn(state, "DE136695977")
    DetailsState.add_tax_id.fn(state, state.action_nonce)
    assert state.tax_error.startswith("This number isn't valid for the chosen type")
    assert state.tax_ids == []
    DetailsState.set_tax_value.fn(state, "DE136695976")
    DetailsState.add_tax_id.fn(state, state.action_nonce)
    [row] = state.tax_ids
    assert (row.value, row.label, state.tax_error) == ("DE136695976", "Germany · EU VAT", "")
    DetailsState.choose_tax_type.fn(state, "not_a_type")  # ignored
    assert state.tax_type == "eu_vat"
    DetailsState.ask_remove_tax_id.fn(state, "txi_someone_elses")  # not listed: not found
    assert state.removing_tax_id == "" and state.banner == "We couldn't find that tax ID."
    DetailsState.ask_remove_tax_id.fn(state, row.id)
    DetailsState.remove_tax_id.fn(state, row.id, state.action_nonce)
    assert state.tax_ids == [] and state.banner == "The tax ID was removed."
    types = [e.type for e in events_of(make_uow, account_id) if "tax_id" in e.type]
    assert types == ["customer.tax_id.created", "customer.tax_id.deleted"]


def test_another_customers_tax_id_cannot_be_removed(shop: Shop, make_uow: UowFactory) -> None:
    other = page(browser(shop, make_uow, **EVERYTHING))
    DetailsState.load.fn(other)
    DetailsState.choose_tax_type.fn(other, "eu_vat")
    DetailsState.set_tax_value.fn(other, "DE136695976")
    DetailsState.add_tax_id.fn(other, other.action_nonce)
    [theirs] = other.tax_ids
    grace = create_customer(account_id=shop.account_id, uow=make_uow(),
                            email="grace@example.test").id
    state = page(browser(shop, make_uow, customer=grace, **EVERYTHING))
    DetailsState.load.fn(state)
    DetailsState.remove_tax_id.fn(state, theirs.id, state.action_nonce)
    assert (state.banner, state.banner_kind) == ("We couldn't find that tax ID.", "error")
    DetailsState.load.fn(other)
    assert [t.id for t in other.tax_ids] == [theirs.id]


def test_unavailable_when_customer_update_is_off(shop: Shop, make_uow: UowFactory) -> None:
    state = page(browser(shop, make_uow))
    DetailsState.load.fn(state)
    assert state.step == "unavailable"
    assert state.error == "Billing details can't be changed here."


def test_the_overview_summary(shop: Shop, make_uow: UowFactory) -> None:
    state = page(browser(shop, make_uow, **EVERYTHING), path="/portal")
    DetailsState.load.fn(state)
    fill(state, name="Ada", address__country="DE", address__line1="Unter den Linden 1",
         address__city="Berlin", address__postal_code="10117")
    run(DetailsState.save, state, state.action_nonce)
    DetailsState.choose_tax_type.fn(state, "eu_vat")
    DetailsState.set_tax_value.fn(state, "DE136695976")
    DetailsState.add_tax_id.fn(state, state.action_nonce)
    DetailsState.load_summary.fn(state)
    assert (state.summary_name, state.summary_email) == ("Ada", "ada@example.test")
    assert state.summary_address == ["Unter den Linden 1", "10117 Berlin", "Germany"]
    assert state.summary_tax_ids == ["Germany · EU VAT: DE136695976"]
    assert state.can_update


def test_an_untouched_shipping_form_saves_no_shipping_address(shop: Shop, make_uow: UowFactory
                                                             ) -> None:
    state = page(browser(shop, make_uow, **EVERYTHING))
    DetailsState.load.fn(state)
    assert keys(state.shipping)[:2] == ["shipping.name", "shipping.phone"]
    fill(state, name="Ada")
    run(DetailsState.save, state, state.action_nonce)
    assert state.error == "" and customer_of(shop, make_uow)["shipping"] is None
    DetailsState.load.fn(state)
    fill(state, shipping__name="Ada", shipping__country="FR", shipping__line1="1 rue de Rivoli",
         shipping__city="Paris", shipping__postal_code="75001")
    run(DetailsState.save, state, state.action_nonce)
    assert customer_of(shop, make_uow)["shipping"] == {
        "name": "Ada", "phone": None, "address": {
            "line1": "1 rue de Rivoli", "line2": None, "city": "Paris", "state": None,
            "postal_code": "75001", "country": "FR"}}
