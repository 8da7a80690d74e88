"""The portal's rules for billing details: only what features.customer_update allows."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portal_app.billing.customers import create_customer
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import ResourceMissing
from portal_app.portal import customer_details as rules
from portal_app.portal.deep_links import completion, flow_path
from tests.portal_app.billing.helpers import events_of
from tests.portal_app.portal.helpers import Shop, session_for
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)

UowFactory = Callable[[], UnitOfWork]
BERLIN = {"line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117",
          "country": "de"}


def allowing(*updates: str) -> dict[str, object]:
    return {"customer_update": {"enabled": True, "allowed_updates": list(updates)}}


def test_allowed_updates_follow_the_configuration() -> None:
    assert rules.allowed_updates(None) == frozenset()
    assert rules.allowed_updates({"customer_update": {"enabled": False,
                                                      "allowed_updates": ["email"]}}) == set()
    assert rules.allowed_updates(allowing("email", "tax_id")) == {"email", "tax_id"}


def test_a_field_that_is_not_allowed_refuses_the_whole_change(
        shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, **allowing("address"))
    with pytest.raises(rules.DetailsRefusal) as refused:
        rules.update_details(session, {"address": BERLIN, "email": "eve@example.test"},
                             locale="en", uow=make_uow())
    assert (refused.value.code, refused.value.param) == ("not_allowed", "email")
    saved = rules.update_details(session, {"address": BERLIN}, locale="en", uow=make_uow())
    assert saved["address"]["country"] == "DE" and saved["email"] == "ada@example.test"
    event = events_of(make_uow, shop.account_id)[-1]
    assert event.type == "customer.updated"
    assert event.origin == {"portal_session": session.id,
                            "configuration": session.configuration_id}


def test_disabled_refuses_everything(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, **allowing("tax_id"))
    with pytest.raises(rules.DetailsRefusal) as refused:
        rules.update_details(session, {"name": "Eve"}, locale="en", uow=make_uow())
    assert refused.value.code == "customer_update_disabled"
    off = session_for(shop, make_uow)
    with pytest.raises(rules.DetailsRefusal):
        rules.add_tax_id(off, type="us_ein", value="12-3456789", uow=make_uow())


def test_invalid_fields_are_all_reported_in_the_customers_language(
        shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, **allowing("email", "address", "shipping"))
    with pytest.raises(rules.DetailsInvalid) as invalid:
        rules.update_details(session, {
            "email": "nope", "address": {**BERLIN, "postal_code": "1011"},
            "shipping": {"name": "", "address": {"country": "US", "line1": "1 Main St"}},
        }, locale="fr", uow=make_uow())
    assert invalid.value.errors == {
        "email": "Saisissez une adresse e-mail valide.",
        "address.postal_code": "Vérifiez le format, par exemple 26133.",
        "shipping.name": "Ce champ est obligatoire.",
        "shipping.city": "Ce champ est obligatoire.",
        "shipping.state": "Ce champ est obligatoire.",
        "shipping.postal_code": "Ce champ est obligatoire.",
    }


def test_tax_ids_of_the_session_customer_only(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, **allowing("tax_id"))
    mine = rules.add_tax_id(session, type="gb_vat", value="GB980780684", uow=make_uow())
    grace = create_customer(account_id=shop.account_id, uow=make_uow(),
                            email="grace@example.test").id
    theirs = session_for(shop, make_uow, customer=grace, **allowing("tax_id"))
    with pytest.raises(ResourceMissing):
        rules.remove_tax_id(theirs, mine["id"], uow=make_uow())
    assert [t["id"] for t in rules.list_tax_ids(session, uow=make_uow())] == [mine["id"]]
    rules.remove_tax_id(session, mine["id"], uow=make_uow())
    with make_uow() as uow:
        assert billing_provider(shop.account_id, uow=uow).list_tax_ids(shop.customer) == []


def test_the_customer_update_deep_link_opens_the_details_page(
        shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow, flow_data={
        "type": "customer_update", "after_completion": {
            "type": "hosted_confirmation",
            "hosted_confirmation": {"custom_message": "Thanks!"}}},
        **allowing("address"))
    assert flow_path(session) == "/portal/details"
    done = completion(session, ("customer_update",), "")
    assert (done.type, done.message) == ("hosted_confirmation", "Thanks!")
