"""PastDueState and PayState: the "Payment failed" notice, paying now, 3-D Secure."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import reflex as rx

from portal_app.db import UnitOfWork
from portal_app.routes import (
    PORTAL,
    PORTAL_PAYMENT_METHODS,
    PORTAL_PAYMENT_METHODS_ADD,
    portal_invoice_pay,
)
from portal_app.state.portal import PortalState
from portal_app.state.portal_pay import PastDueState, PayState
from portal_app.state.portal_payment_methods import MethodsState
from tests.conftest import START
from tests.portal_app.state.handlers import handler_state, router_data
from tests.portal_app.state.test_portal_state import opened
from tests.portal_app.views.test_overview import provider_of, subscribed_customer

UowFactory = Callable[[], UnitOfWork]


pytestmark = pytest.mark.usefixtures("portal_database")


def state_of(cls: type[PortalState], cookie: str, *, path: str = PORTAL,
             query: dict[str, str] | None = None) -> PortalState:
    return handler_state(cls, cookie, path=path, query=query)


@pytest.fixture
def past_due(account_id: str, make_uow: UowFactory) -> tuple[str, str, str]:
    """(customer, open invoice, the good Visa): the renewal declined on the new default."""
    customer, sub = subscribed_customer(account_id, make_uow)
    billing = provider_of(account_id, make_uow)
    visa = billing.retrieve_customer(customer)["invoice_settings"]["default_payment_method"]
    failing = billing.attach_payment_method("pm_card_chargeCustomerFail", customer_id=customer)
    billing.set_default_payment_method(failing["id"], customer_id=customer)
    billing.advance_clock(START + timedelta(days=29))
    renewed = provider_of(account_id, make_uow).retrieve_subscription(sub["id"],
                                                                      customer_id=customer)
    assert renewed["status"] == "past_due"
    return customer, renewed["latest_invoice"], visa


def pay_state(cookie: str, invoice: str, **query: str) -> PayState:
    state = state_of(PayState, cookie, path=portal_invoice_pay(invoice),
                     query={"invoice": invoice, **query})
    assert isinstance(state, PayState)
    return state


def test_the_overview_says_the_payment_failed(account_id: str, make_uow: UowFactory,
                                              past_due: tuple[str, str, str]) -> None:
    customer, invoice, _ = past_due
    state = state_of(PastDueState, opened(account_id, customer, make_uow, locale="de"))
    PortalState.load.fn(state)
    assert isinstance(state, PastDueState)
    PastDueState.load_notices.fn(state)
    [notice] = state.notices
    assert notice.message == ("Wir konnten 19,99\xa0€ für Pro plan am 28.02.2026 nicht "
                              "einziehen.")
    assert notice.reason == "Ihre Karte wurde abgelehnt."
    assert notice.retry == "Wir versuchen es am 31.03.2026 erneut."  # at the period end
    assert notice.pay_url == portal_invoice_pay(invoice)
    assert state.t["Payment failed"] == "Zahlung fehlgeschlagen"


def test_decline_then_pay_with_a_saved_card(account_id: str, make_uow: UowFactory,
                                            past_due: tuple[str, str, str]) -> None:
    customer, invoice, visa = past_due
    cookie = opened(account_id, customer, make_uow)
    state = pay_state(cookie, invoice)
    PayState.load.fn(state)
    assert (state.view, state.status, state.amount) == ("ready", "open", "€19.99")
    assert state.reason == "Your card was declined."
    assert len(state.methods) == 2 and state.selected != visa  # the failing default
    assert PayState.pay.fn(state, state.action_nonce) is None
    assert state.error == "Your card was declined."
    PayState.choose.fn(state, visa)
    done = PayState.pay.fn(state, state.action_nonce)
    assert done is not None and PORTAL in repr(done)
    after = state_of(PastDueState, cookie)
    PortalState.load.fn(after)
    PastDueState.load_notices.fn(after)
    assert isinstance(after, PastDueState) and after.notices == []
    again = pay_state(cookie, invoice)
    PayState.load.fn(again)
    assert again.status == "paid" and again.reason == ""


def test_someone_elses_method_or_invoice(account_id: str, make_uow: UowFactory,
                                         past_due: tuple[str, str, str]) -> None:
    customer, invoice, _ = past_due
    other, _sub = subscribed_customer(account_id, make_uow)
    theirs = provider_of(account_id, make_uow).list_payment_methods(other)[0]["id"]
    state = pay_state(opened(account_id, customer, make_uow), invoice)
    PayState.load.fn(state)
    PayState.choose.fn(state, theirs)
    assert PayState.pay.fn(state, state.action_nonce) is None
    assert state.error == "Choose one of your payment methods."
    foreign = pay_state(opened(account_id, other, make_uow), invoice)
    PayState.load.fn(foreign)
    assert foreign.view == "error" and foreign.amount == ""


def test_three_d_secure_round_trip(account_id: str, make_uow: UowFactory,
                                   past_due: tuple[str, str, str]) -> None:
    customer, invoice, _ = past_due
    billing = provider_of(account_id, make_uow)
    secure = billing.attach_payment_method("pm_card_threeDSecure2Required",
                                           customer_id=customer)
    cookie = opened(account_id, customer, make_uow)
    state = pay_state(cookie, invoice)
    PayState.load.fn(state)
    PayState.choose.fn(state, secure["id"])
    redirect = PayState.pay.fn(state, state.action_nonce)
    assert redirect is not None and "/test/authorize/" in repr(redirect)
    found = re.search(r"/test/authorize/[^/]+/([A-Za-z0-9_-]+)", repr(redirect))
    assert found is not None
    token = found.group(1)
    back = billing.complete_test_authorization(token, succeed=True)["redirect_url"]
    assert back.startswith("http") and urlsplit(back).path == portal_invoice_pay(invoice)
    query = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
    assert query == {"invoice": invoice, "redirect_status": "succeeded"}
    returned = pay_state(cookie, invoice, redirect_status="succeeded")
    PayState.load.fn(returned)
    assert returned.status == "paid"
    assert returned.notice == "Payment authorized. Thank you!"


def test_a_method_added_from_the_pay_page_comes_back_to_it_preselected(
        account_id: str, make_uow: UowFactory, past_due: tuple[str, str, str]) -> None:
    customer, invoice, _ = past_due
    cookie = opened(account_id, customer, make_uow)
    root = rx.State(_reflex_internal_init=True)  # one browser tab: pages share the root

    def at(path: str, **query: str) -> None:
        root.router = router_data(path, cookie=cookie, query=query,
                                  headers={"user-agent": "Mozilla/5.0 (pytest)"})

    at(portal_invoice_pay(invoice), invoice=invoice)
    pay = root.get_substate(PayState.get_full_name().split(".")[1:])
    assert isinstance(pay, PayState)
    PayState.load.fn(pay)
    PayState.add_method.fn(pay)

    at(PORTAL_PAYMENT_METHODS_ADD)
    methods = root.get_substate(MethodsState.get_full_name().split(".")[1:])
    assert isinstance(methods, MethodsState)
    MethodsState.load_add.fn(methods)
    for key, value in {"number": "4242424242424242", "expiry": "1230", "cvc": "123",
                       "name": "Ada"}.items():
        MethodsState.set_field.fn(methods, key, value)
    back = repr(list(MethodsState.submit.fn(methods, methods.action_nonce))[-1])
    assert portal_invoice_pay(invoice) in back
    [added] = set(re.findall(r"payment_method=(pm_\w+)", back))

    at(portal_invoice_pay(invoice), invoice=invoice, payment_method=added)
    PayState.load.fn(pay)
    assert pay.selected == added and added in {m.id for m in pay.methods}

    # The list opened for itself later forgets the way back.
    at(PORTAL_PAYMENT_METHODS)
    MethodsState.load.fn(methods)
    assert root.get_substate(PortalState.get_full_name().split(".")[1:]) \
        ._after_adding_method == ""
