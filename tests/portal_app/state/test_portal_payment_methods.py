"""The payment methods State: handlers called as the browser would, ids crafted by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from portal_app.billing import authorizations
from portal_app.billing.customers import create_customer
from portal_app.billing.models import SetupIntent
from portal_app.billing.providers import billing_provider
from portal_app.billing.setup_intents import render
from portal_app.db import UnitOfWork
from portal_app.portal import sessions
from portal_app.portal.deep_links import flow_path
from portal_app.state.portal_payment_methods import MethodsState
from tests.portal_app.portal.helpers import Shop
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)
from tests.portal_app.state.handlers import handler_state
from tests.portal_app.state.test_portal_manage import browser

UowFactory = Callable[[], UnitOfWork]
ON = {"payment_method_update": {"enabled": True}}


pytestmark = pytest.mark.usefixtures("portal_database")


def page(cookie: str, *, path: str = "/portal/payment-methods",
         query: dict[str, str] | None = None) -> MethodsState:
    return handler_state(MethodsState, cookie, path=path, query=query,
                         user_agent="Mozilla/5.0 (pytest)")


def methods_of(shop: Shop, make_uow: UowFactory, customer: str | None = None
               ) -> tuple[set[str], str | None]:
    with make_uow() as uow:
        billing = billing_provider(shop.account_id, uow=uow)
        who = customer or shop.customer
        return ({pm["id"] for pm in billing.list_payment_methods(who)},
                billing.retrieve_customer(who)["invoice_settings"]["default_payment_method"])


def fill(state: Any, **values: str) -> None:
    for key, value in values.items():
        MethodsState.set_field.fn(state, key, value)


def test_the_list_shows_the_default_card(shop: Shop, make_uow: UowFactory) -> None:
    state = page(browser(shop, make_uow, **ON))
    MethodsState.load.fn(state)
    assert state.step == "list" and state.enabled
    [card] = state.methods
    assert (card.id, card.title, card.is_default) == (shop.card, "Visa •••• 4242", True)


def test_the_page_is_unavailable_when_the_feature_is_off(shop: Shop, make_uow: UowFactory
                                                         ) -> None:
    state = page(browser(shop, make_uow))
    MethodsState.load.fn(state)
    assert state.step == "unavailable" and "can't be changed" in state.error
    MethodsState.load_add.fn(state)
    assert state.step == "unavailable"


def test_add_a_card_declined_then_accepted(shop: Shop, make_uow: UowFactory) -> None:
    state = page(browser(shop, make_uow, **ON), path="/portal/payment-methods/add")
    MethodsState.load_add.fn(state)
    assert state.step == "add" and state.kind == "card"
    fill(state, number="4000000000009995", expiry="1230", cvc="123", name="Ada")
    assert [f.value for f in state.fields][:2] == ["4000 0000 0000 9995", "12 / 30"]

    list(MethodsState.submit.fn(state, state.action_nonce))
    assert state.error == "Your card was declined: insufficient funds"
    assert methods_of(shop, make_uow) == ({shop.card}, shop.card)

    fill(state, number="4242 4242 4242 4242")
    assert state.error == ""
    results = list(MethodsState.submit.fn(state, state.action_nonce))
    assert state.banner == "Your payment method was added." and not state.error
    assert results[-1] is not None  # back to the list
    listed, default = methods_of(shop, make_uow)
    assert len(listed) == 2 and default == shop.card


def test_an_error_shows_next_to_its_field(shop: Shop, make_uow: UowFactory) -> None:
    state = page(browser(shop, make_uow, **ON))
    MethodsState.load_add.fn(state)
    fill(state, number="4242424242424242", expiry="1", cvc="123")
    list(MethodsState.submit.fn(state, state.action_nonce))
    errors = {f.key: f.error for f in state.fields}
    assert errors["expiry"] == "Your card's expiry date is invalid."
    assert errors["number"] == "" and state.error == ""
    fill(state, expiry="12")
    assert {f.key: f.error for f in state.fields}["expiry"] == ""


def test_only_allowed_types_can_be_picked(shop: Shop, make_uow: UowFactory) -> None:
    state = page(browser(shop, make_uow, **ON))
    MethodsState.load_add.fn(state)
    MethodsState.choose_type.fn(state, "sepa_debit")
    assert state.kind == "sepa_debit" and "Acme Cloud" in state.mandate
    assert [f.key for f in state.fields] == ["name", "iban"]
    MethodsState.choose_type.fn(state, "no_such_type")
    assert state.kind == "sepa_debit"


def test_the_remove_guard_and_make_default(shop: Shop, make_uow: UowFactory) -> None:
    cookie = browser(shop, make_uow, **ON)
    state = page(cookie)
    MethodsState.load.fn(state)
    MethodsState.ask_remove.fn(state, shop.card)
    assert state.removing == shop.card
    MethodsState.remove.fn(state, shop.card, state.action_nonce)
    assert state.banner_kind == "error"
    assert state.banner == ("Visa •••• 4242 is used to pay your Starter plan. Add another "
                            "payment method before removing it.")
    assert methods_of(shop, make_uow) == ({shop.card}, shop.card)

    add = page(cookie)
    MethodsState.load_add.fn(add)
    fill(add, number="5555555555554444", expiry="1230", cvc="123")
    list(MethodsState.submit.fn(add, add.action_nonce))
    [new] = methods_of(shop, make_uow)[0] - {shop.card}

    MethodsState.load.fn(state)
    MethodsState.make_default.fn(state, new, state.action_nonce)
    assert state.banner == "Your default payment method was updated."
    assert [m.is_default for m in state.methods if m.id == new] == [True]
    MethodsState.remove.fn(state, shop.card, state.action_nonce)
    assert state.banner == "The payment method was removed."
    assert methods_of(shop, make_uow) == ({new}, new)


def test_another_customers_method_is_refused(shop: Shop, make_uow: UowFactory) -> None:
    stranger = create_customer(account_id=shop.account_id, uow=make_uow()).id
    state = page(browser(shop, make_uow, customer=stranger, **ON))
    MethodsState.load.fn(state)
    assert state.methods == []
    MethodsState.make_default.fn(state, shop.card, state.action_nonce)
    assert state.banner_kind == "error"
    MethodsState.remove.fn(state, shop.card, state.action_nonce)
    assert state.banner_kind == "error"
    assert methods_of(shop, make_uow) == ({shop.card}, shop.card)


def test_coming_back_from_the_authorization_page(shop: Shop, make_uow: UowFactory) -> None:
    cookie = browser(shop, make_uow, **ON)
    state = page(cookie)
    MethodsState.load_add.fn(state)
    MethodsState.choose_type.fn(state, "paypal")
    assert state.redirect and state.fields == []
    results = list(MethodsState.submit.fn(state, state.action_nonce))
    assert state.working  # leaving for the authorization page
    assert "window.location.assign" in str(results[-1])
    [intent] = _setup_intents(shop, make_uow)
    token = intent["next_action"]["redirect_to_url"]["url"].rstrip("/").rsplit("/", 1)[1]

    # The query alone proves nothing: not authorized yet, so it failed.
    early = page(cookie, query={"setup_intent": intent["id"], "redirect_status": "succeeded"})
    MethodsState.load.fn(early)
    assert early.banner_kind == "error"

    authorizations.complete_authorization(token, succeed=True, account_id=shop.account_id,
                                          uow=make_uow())
    back = page(cookie, query={"setup_intent": intent["id"], "redirect_status": "succeeded"})
    MethodsState.load.fn(back)
    assert back.banner == "Your payment method was added."
    assert len(methods_of(shop, make_uow)[0]) == 2


def _setup_intents(shop: Shop, make_uow: UowFactory) -> list[dict[str, Any]]:
    with make_uow() as uow:
        rows = uow.session.exec(select(SetupIntent).where(
            SetupIntent.account_id == shop.account_id)).all()
        return [render(si, uow) for si in rows]


def test_a_payment_method_update_link_opens_the_page_and_redirects_after(
        shop: Shop, make_uow: UowFactory) -> None:
    cookie = browser(shop, make_uow, **ON, flow_data={
        "type": "payment_method_update",
        "after_completion": {"type": "redirect",
                             "redirect": {"return_url": "https://acme.test/thanks"}}})
    with make_uow() as uow:
        session = sessions.resume_session(cookie.split("=", 1)[1], uow=uow)
    assert flow_path(session) == "/portal/payment-methods"
    state = page(cookie)
    MethodsState.load_add.fn(state)
    fill(state, number="4242424242424242", expiry="1230", cvc="123")

    results = list(MethodsState.submit.fn(state, state.action_nonce))

    assert "https://acme.test/thanks" in str(results[-1])
    assert len(methods_of(shop, make_uow)[0]) == 2


def test_a_3d_secure_card_that_fails_authentication(shop: Shop, make_uow: UowFactory) -> None:
    cookie = browser(shop, make_uow, **ON)
    state = page(cookie)
    MethodsState.load_add.fn(state)
    fill(state, number="4000002500003155", expiry="1230", cvc="123")
    results = list(MethodsState.submit.fn(state, state.action_nonce))
    assert "window.location.assign" in str(results[-1])
    [intent] = _setup_intents(shop, make_uow)
    token = intent["next_action"]["redirect_to_url"]["url"].rstrip("/").rsplit("/", 1)[1]
    authorizations.complete_authorization(token, succeed=False, account_id=shop.account_id,
                                          uow=make_uow())

    # The browser claims success; the setup intent says otherwise.
    back = page(cookie, query={"setup_intent": intent["id"], "redirect_status": "succeeded"})
    MethodsState.load.fn(back)

    assert back.banner_kind == "error" and back.banner.startswith("The authorization failed")
    assert methods_of(shop, make_uow) == ({shop.card}, shop.card)
