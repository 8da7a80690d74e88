"""Payment methods: test cards tokenized (never stored whole), attached, listed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from portal_app.billing import payment_methods
from portal_app.billing.models import Customer, PaymentMethod
from portal_app.clock import FrozenClock
from portal_app.errors import CardDeclined, InvalidRequest, ResourceMissing
from tests.conftest import START
from tests.portal_app.billing.helpers import (
    MakeUow,
    attach_card,
    count_rows,
    events_of,
    load,
    new_customer,
    raises_param,
    read,
)

# --- payment methods ---------------------------------------------------------------------


def test_no_payment_method_row_contains_the_full_number(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    numbers = ["4242424242424242", "5555555555554444", "378282246310005",
               "4000000000000341"]
    for number in numbers:
        attach_card(account_id, make_uow, customer, number, default=False)
    rows = read(make_uow, lambda uow: uow.session.exec(
        select(PaymentMethod).where(PaymentMethod.account_id == account_id)).all())
    events = events_of(make_uow, account_id)
    assert len(rows) == len(numbers) + 1  # and the fixture's pm_card_visa
    stored = " ".join(str(value) for row in rows for value in row.model_dump().values())
    stored += " ".join(str(e.data_object) for e in events)
    for number in numbers:
        assert number not in stored
        assert number[-4:] in stored


def test_card_validation_errors_carry_their_code(account_id: str, make_uow: MakeUow) -> None:
    cases = [
        ({"number": "4242424242424241", "exp_month": 1, "exp_year": 2030}, "incorrect_number"),
        ({"number": "4242424242424242", "exp_month": 13, "exp_year": 2030},
         "invalid_expiry_month"),
        ({"number": "4242424242424242", "exp_month": 12, "exp_year": 2020},
         "invalid_expiry_year"),
        ({"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "1"},
         "invalid_cvc"),
    ]
    for card, code in cases:
        # A malformed card is a malformed request: 400, naming the nested parameter.
        with pytest.raises(InvalidRequest) as raised:
            payment_methods.create_payment_method(account_id=account_id, uow=make_uow(), card=card)
        assert raised.value.code == code and raised.value.param.startswith("card[")
    with raises_param(InvalidRequest, "card[number]", "parameter_missing"):
        payment_methods.create_payment_method(account_id=account_id, uow=make_uow(),
                                              card={"exp_month": 1})
    with raises_param(InvalidRequest, "card", "parameter_missing"):
        payment_methods.create_payment_method(account_id=account_id, uow=make_uow())
    with raises_param(InvalidRequest, "type"):
        payment_methods.create_payment_method(account_id=account_id, uow=make_uow(), type="alipay",
                                              card={"token": "pm_card_visa"})


def test_declining_card_is_refused_at_attach(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    pm = payment_methods.create_payment_method(
        account_id=account_id, uow=make_uow(),
        card={"number": "4000 0000 0000 0002", "exp_month": 12, "exp_year": 2030})
    before = count_rows(make_uow, account_id)
    with pytest.raises(CardDeclined) as raised:
        payment_methods.attach_payment_method(pm.id, customer_id=customer.id, account_id=account_id,
                                              uow=make_uow())
    assert (raised.value.code, raised.value.decline_code) == ("card_declined", "generic_decline")
    assert raised.value.type == "card_error"
    assert load(make_uow, PaymentMethod, pm.id).customer_id is None
    assert count_rows(make_uow, account_id) == before


def test_declining_test_token_leaves_no_payment_method(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    with pytest.raises(CardDeclined) as raised:
        payment_methods.attach_payment_method("pm_card_chargeDeclined", customer_id=customer.id,
                                              account_id=account_id, uow=make_uow())
    assert raised.value.decline_code == "generic_decline"
    methods = payment_methods.list_payment_methods(customer.id, account_id=account_id,
                                                   uow=make_uow())
    assert [pm.id for pm in methods] == [customer.default_payment_method]


def test_a_customers_payment_method_cannot_be_attached_elsewhere(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    other = new_customer(account_id, make_uow)
    with raises_param(InvalidRequest, "payment_method"):
        payment_methods.attach_payment_method(customer.default_payment_method or "",
                                              account_id=account_id, customer_id=other.id,
                                              uow=make_uow())
    with raises_param(ResourceMissing, "payment_method", "resource_missing"):
        payment_methods.attach_payment_method(customer.default_payment_method or "",
                                              account_id=account_id, customer_id=other.id,
                                              uow=make_uow(), customer_scoped=True)


def test_attaching_twice_is_harmless(account_id: str, make_uow: MakeUow,
                                     customer: Customer) -> None:
    pm_id = customer.default_payment_method or ""
    before = count_rows(make_uow, account_id)
    again = payment_methods.attach_payment_method(pm_id, customer_id=customer.id,
                                                  account_id=account_id, uow=make_uow())
    assert again.id == pm_id and count_rows(make_uow, account_id) == before


def test_payment_methods_list_newest_first(account_id: str, make_uow: MakeUow, clock: FrozenClock,
                                           customer: Customer) -> None:
    clock.set(START + timedelta(minutes=1))
    newer = attach_card(account_id, make_uow, customer, "5555555555554444", default=False)
    listed = payment_methods.list_payment_methods(customer.id, account_id=account_id,
                                                  uow=make_uow())
    assert [pm.id for pm in listed] == [newer.id, customer.default_payment_method]


# --- every type, update, detach (issue 11) -----------------------------------------------


def test_no_bank_account_number_is_stored_whole(account_id: str, make_uow: MakeUow) -> None:
    numbers = {"sepa_debit": ({"iban": "DE89370400440532013000"}, "DE89370400440532013000"),
               "us_bank_account": ({"routing_number": "110000000",
                                    "account_number": "000123456789"}, "000123456789"),
               "au_becs_debit": ({"bsb_number": "000000", "account_number": "000123456"},
                                 "000123456"),
               "bacs_debit": ({"sort_code": "108800", "account_number": "00012345"},
                              "00012345")}
    for type, (params, number) in numbers.items():
        pm = payment_methods.create_payment_method(account_id=account_id, uow=make_uow(),
                                                   type=type, method_params=params)
        assert pm.type == type and pm.last4 == number[-4:] and pm.fingerprint
        assert number not in str(load(make_uow, PaymentMethod, pm.id).model_dump())
    with raises_param(InvalidRequest, "sepa_debit", "parameter_missing"):
        payment_methods.create_payment_method(account_id=account_id, uow=make_uow(),
                                              type="sepa_debit")


def test_update_records_what_changed(account_id: str, make_uow: MakeUow,
                                     customer: Customer) -> None:
    pm_id = customer.default_payment_method or ""
    payment_methods.update_payment_method(
        pm_id, account_id=account_id, uow=make_uow(),
        billing_details={"name": "Ada"}, metadata={"a": "1", "b": "2"})
    updated = payment_methods.update_payment_method(
        pm_id, account_id=account_id, uow=make_uow(), metadata={"a": ""},
        card={"exp_month": "3", "exp_year": "2035"})
    assert updated.metadata_ == {"b": "2"} and updated.billing_details["name"] == "Ada"
    assert (updated.exp_month, updated.exp_year) == (3, 2035)
    events = [e for e in events_of(make_uow, account_id, object_id=pm_id)
              if e.type == "payment_method.updated"]
    assert len(events) == 2
    assert set(events[1].previous_attributes or {}) == {"metadata", "card"}
    assert events[1].previous_attributes["metadata"] == {"a": "1", "b": "2"}
    assert events[1].data_object["card"]["exp_year"] == 2035
    # Nothing changed: no event.
    payment_methods.update_payment_method(pm_id, account_id=account_id, uow=make_uow(),
                                          metadata={"b": "2"})
    assert len([e for e in events_of(make_uow, account_id, object_id=pm_id)
                if e.type == "payment_method.updated"]) == 2
    with raises_param(InvalidRequest, "card[exp_month]", "invalid_expiry_month"):
        payment_methods.update_payment_method(pm_id, account_id=account_id, uow=make_uow(),
                                              card={"exp_month": "13"})
    with raises_param(InvalidRequest, "card[number]"):
        payment_methods.update_payment_method(pm_id, account_id=account_id, uow=make_uow(),
                                              card={"number": "4242424242424242"})


def test_detach_clears_the_default_and_records_it(account_id: str, make_uow: MakeUow,
                                                  customer: Customer) -> None:
    pm_id = customer.default_payment_method or ""
    detached = payment_methods.detach_payment_method(pm_id, account_id=account_id,
                                                     uow=make_uow())
    assert detached.customer_id is None
    assert load(make_uow, Customer, customer.id).default_payment_method is None
    types = [e.type for e in events_of(make_uow, account_id)]
    assert types[-2:] == ["customer.updated", "payment_method.detached"]
    [event] = [e for e in events_of(make_uow, account_id, object_id=pm_id)
               if e.type == "payment_method.detached"]
    assert event.previous_attributes == {"customer": customer.id}
    assert event.customer_id == customer.id
    with raises_param(InvalidRequest, "payment_method"):
        payment_methods.detach_payment_method(pm_id, account_id=account_id, uow=make_uow())
    # A detached method cannot come back to another customer's list by id.
    assert payment_methods.list_payment_methods(customer.id, account_id=account_id,
                                                uow=make_uow()) == []


def test_list_by_type(account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    sepa = payment_methods.create_payment_method(
        account_id=account_id, uow=make_uow(), type="sepa_debit",
        method_params={"iban": "DE89370400440532013000"})
    payment_methods.attach_payment_method(sepa.id, customer_id=customer.id,
                                          account_id=account_id, uow=make_uow())
    only = payment_methods.list_payment_methods(customer.id, account_id=account_id,
                                                uow=make_uow(), type="sepa_debit")
    assert [pm.id for pm in only] == [sepa.id]
    cards = payment_methods.list_payment_methods(customer.id, account_id=account_id,
                                                 uow=make_uow(), type="card")
    assert [pm.id for pm in cards] == [customer.default_payment_method]
