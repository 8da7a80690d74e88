"""The portal's payment method rules, on a real SQLite ledger through the billing contract:
add through a setup intent, the first becomes the default, the remove guard, make default,
what the configuration allows, another customer's ids refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portal_app.billing import authorizations
from portal_app.billing import payment_method_configurations as pmcs
from portal_app.billing.customers import create_customer
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import CardDeclined, InvalidRequest
from portal_app.portal import payment_method_actions as actions
from portal_app.portal.models import PortalSession
from tests.portal_app.portal.helpers import Shop, session_for
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)

UowFactory = Callable[[], UnitOfWork]
RETURN = "http://localhost:3000/portal/payment-methods"
VISA = {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12,
                                 "exp_year": 2030, "cvc": "123"}}
MASTERCARD = {"type": "card", "card": {"number": "5555555555554444", "exp_month": 12,
                                       "exp_year": 2030, "cvc": "123"}}
SEPA = {"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"},
        "billing_details": {"name": "Ada Lovelace", "email": "ada@example.test"}}
ACCEPTED = {"type": "online", "online": {"ip_address": "127.0.0.1", "user_agent": "pytest"}}


def enabled(shop: Shop, make_uow: UowFactory, *, customer: str | None = None,
            **update: Any) -> PortalSession:
    return session_for(shop, make_uow, customer=customer,
                       payment_method_update={"enabled": True, **update})


def add(session: PortalSession, make_uow: UowFactory, data: dict[str, Any],
        mandate: dict[str, Any] | None = None) -> dict[str, Any]:
    return actions.add_payment_method(session, data, return_url=RETURN,
                                      mandate_acceptance=mandate, uow=make_uow())


def methods(shop: Shop, make_uow: UowFactory, customer: str | None = None
            ) -> tuple[list[str], str | None]:
    with make_uow() as uow:
        billing = billing_provider(shop.account_id, uow=uow)
        who = customer or shop.customer
        listed = [pm["id"] for pm in billing.list_payment_methods(who)]
        default = billing.retrieve_customer(who)["invoice_settings"]["default_payment_method"]
        return listed, default


def test_the_wallet_knows_which_plans_each_method_pays(shop: Shop, make_uow: UowFactory
                                                       ) -> None:
    wallet = actions.wallet(enabled(shop, make_uow), uow=make_uow())
    assert [pm["id"] for pm in wallet.methods] == [shop.card]
    assert wallet.default_id == shop.card
    assert wallet.dependents == {shop.card: ("Starter",)}
    assert wallet.enabled and "card" in wallet.allowed_types
    assert "sepa_debit" in wallet.allowed_types and "paypal" in wallet.allowed_types
    assert wallet.customer_email == "ada@example.test"


def test_the_last_method_a_plan_is_charged_to_cannot_be_removed(shop: Shop,
                                                                 make_uow: UowFactory) -> None:
    session = enabled(shop, make_uow)
    with pytest.raises(actions.PaymentMethodRefusal) as refused:
        actions.remove_payment_method(session, shop.card, uow=make_uow())
    assert refused.value.code == "payment_method_in_use"
    assert actions.error_message(refused.value, locale="en") == (
        "Visa •••• 4242 is used to pay your Starter plan. Add another payment method "
        "before removing it.")
    assert "Starter" in actions.error_message(refused.value, locale="de")
    assert methods(shop, make_uow) == ([shop.card], shop.card)


def test_add_then_remove_the_old_default_moves_the_plan(shop: Shop, make_uow: UowFactory
                                                        ) -> None:
    session = enabled(shop, make_uow)
    intent = add(session, make_uow, MASTERCARD)
    assert intent["status"] == "succeeded" and intent["customer"] == shop.customer
    new = intent["payment_method"]
    listed, default = methods(shop, make_uow)
    assert set(listed) == {shop.card, new} and default == shop.card  # not the first

    actions.remove_payment_method(session, shop.card, uow=make_uow())

    assert methods(shop, make_uow) == ([new], new)


def test_the_first_method_becomes_the_default(shop: Shop, make_uow: UowFactory) -> None:
    newcomer = create_customer(account_id=shop.account_id, uow=make_uow(),
                               email="bob@example.test").id
    session = enabled(shop, make_uow, customer=newcomer)
    assert actions.wallet(session, uow=make_uow()).methods == ()

    intent = add(session, make_uow, VISA)

    assert methods(shop, make_uow, newcomer) == ([intent["payment_method"]],
                                                 intent["payment_method"])
    # Nothing depends on it: the only method may go.
    actions.remove_payment_method(session, intent["payment_method"], uow=make_uow())
    assert methods(shop, make_uow, newcomer) == ([], None)


def test_a_sepa_debit_needs_its_mandate(shop: Shop, make_uow: UowFactory) -> None:
    session = enabled(shop, make_uow)
    with pytest.raises(InvalidRequest) as missing:
        add(session, make_uow, SEPA)
    assert missing.value.param == "mandate_data[customer_acceptance]"

    intent = add(session, make_uow, SEPA, ACCEPTED)

    assert intent["status"] == "succeeded" and intent["mandate"]
    with make_uow() as uow:
        mandate = billing_provider(shop.account_id, uow=uow).retrieve_mandate(
            intent["mandate"], customer_id=shop.customer)
    assert mandate["customer_acceptance"]["online"]["user_agent"] == "pytest"


def test_a_declined_card_says_why_and_adds_nothing(shop: Shop, make_uow: UowFactory) -> None:
    session = enabled(shop, make_uow)
    with pytest.raises(CardDeclined) as declined:
        add(session, make_uow, {"type": "card", "card": {**VISA["card"],
                                                          "number": "4000000000009995"}})
    assert actions.error_message(declined.value, locale="en") == \
        "Your card was declined: insufficient funds"
    assert methods(shop, make_uow) == ([shop.card], shop.card)


def test_a_wrong_check_digit_names_the_field(shop: Shop, make_uow: UowFactory) -> None:
    with pytest.raises(InvalidRequest) as invalid:
        add(enabled(shop, make_uow), make_uow,
            {"type": "card", "card": {**VISA["card"], "number": "4242424242424241"}})
    assert invalid.value.param == "card[number]"


def test_a_redirect_wallet_round_trip(shop: Shop, make_uow: UowFactory) -> None:
    session = enabled(shop, make_uow)
    intent = add(session, make_uow, {"type": "paypal", "paypal": {}})
    assert intent["status"] == "requires_action"
    url = intent["next_action"]["redirect_to_url"]["url"]
    with pytest.raises(actions.PaymentMethodRefusal):  # not authorized yet
        actions.finish_setup(session, intent["id"], uow=make_uow())

    back = authorizations.complete_authorization(url.rstrip("/").rsplit("/", 1)[1],
                                                 succeed=True, account_id=shop.account_id,
                                                 uow=make_uow())
    assert back is not None and back.startswith(RETURN)
    done = actions.finish_setup(session, intent["id"], uow=make_uow())

    assert done["status"] == "succeeded"
    assert done["payment_method"] in methods(shop, make_uow)[0]


def test_make_default(shop: Shop, make_uow: UowFactory) -> None:
    session = enabled(shop, make_uow)
    new = add(session, make_uow, MASTERCARD)["payment_method"]

    actions.make_default(session, new, uow=make_uow())

    assert methods(shop, make_uow)[1] == new
    wallet = actions.wallet(session, uow=make_uow())
    assert wallet.dependents == {new: ("Starter",)}
    assert wallet.removal_refusal(new) == ()  # another method exists


def test_another_customers_methods_are_refused(shop: Shop, make_uow: UowFactory) -> None:
    stranger = create_customer(account_id=shop.account_id, uow=make_uow()).id
    session = enabled(shop, make_uow, customer=stranger)
    for act in (actions.remove_payment_method, actions.make_default):
        with pytest.raises(actions.PaymentMethodRefusal) as refused:
            act(session, shop.card, uow=make_uow())
        assert refused.value.code == "payment_method_missing"
    mine = add(enabled(shop, make_uow), make_uow, {"type": "paypal", "paypal": {}})
    with pytest.raises(InvalidRequest):
        actions.finish_setup(session, mine["id"], uow=make_uow())
    assert methods(shop, make_uow) == ([shop.card], shop.card)


def test_nothing_changes_when_the_feature_is_off(shop: Shop, make_uow: UowFactory) -> None:
    session = session_for(shop, make_uow)  # payment_method_update off
    assert not actions.wallet(session, uow=make_uow()).enabled
    with pytest.raises(actions.PaymentMethodRefusal) as refused:
        add(session, make_uow, VISA)
    assert refused.value.code == "payment_method_update_disabled"
    with pytest.raises(actions.PaymentMethodRefusal):
        actions.make_default(session, shop.card, uow=make_uow())


def test_the_payment_method_configuration_limits_the_types(shop: Shop, make_uow: UowFactory
                                                           ) -> None:
    pmc = pmcs.create_configuration(account_id=shop.account_id, uow=make_uow(),
                                    name="Cards and SEPA",
                                    preferences={"card": "on", "sepa_debit": "on",
                                                 "paypal": "off"})
    session = enabled(shop, make_uow, payment_method_configuration=pmc.id)
    wallet = actions.wallet(session, uow=make_uow())
    assert "card" in wallet.allowed_types and "sepa_debit" in wallet.allowed_types
    assert "paypal" not in wallet.allowed_types
    with pytest.raises(actions.PaymentMethodRefusal) as refused:
        add(session, make_uow, {"type": "paypal", "paypal": {}})
    assert refused.value.code == "payment_method_type_not_allowed"
