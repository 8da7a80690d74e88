"""Customers on the real ledger: details, metadata, their default payment method."""

from __future__ import annotations

import re

import pytest

from portal_app.accounts import services as accounts
from portal_app.billing import customers, payment_methods
from portal_app.billing.models import Customer
from portal_app.errors import InvalidRequest, ResourceMissing
from tests.conftest import START
from tests.portal_app.billing.helpers import (
    MakeUow,
    count_rows,
    events_of,
    new_customer,
    raises_param,
)

# --- customers ---------------------------------------------------------------------------


def test_create_customer_with_a_payment_method_makes_it_the_default(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    assert re.fullmatch(r"cus_[0-9A-Za-z]{24}", customer.id)
    assert customer.default_payment_method is not None
    [pm] = payment_methods.list_payment_methods(customer.id, account_id=account_id, uow=make_uow())
    assert (pm.id, pm.brand, pm.last4) == (customer.default_payment_method, "visa", "4242")
    types = [e.type for e in events_of(make_uow, account_id)]
    assert types == ["customer.created", "payment_method.attached", "customer.updated"]
    assert all(e.created == START for e in events_of(make_uow, account_id))


@pytest.mark.parametrize("email", ["not-an-email", "ada.example.com"])
def test_customer_email_is_checked(account_id: str, make_uow: MakeUow, email: str) -> None:
    with raises_param(InvalidRequest, "email", "email_invalid"):
        customers.create_customer(account_id=account_id, uow=make_uow(), email=email)
    assert count_rows(make_uow, account_id)["event"] == 0


def test_update_customer_records_previous_attributes(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                              name="Ada Lovelace", metadata={"plan": "gold"})
    event = events_of(make_uow, account_id)[-1]
    assert event.type == "customer.updated"
    # Stripe's shape: within a hash only the keys that changed (a new key was null).
    assert event.previous_attributes == {"name": "Ada", "metadata": {"plan": None}}
    assert event.data_object["name"] == "Ada Lovelace"


def test_update_customer_without_change_appends_no_event(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    before = count_rows(make_uow, account_id)["event"]
    customers.update_customer(customer.id, account_id=account_id, uow=make_uow(), name="Ada")
    assert count_rows(make_uow, account_id)["event"] == before


def test_update_customer_refuses_unknown_fields_and_bad_email(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    with raises_param(InvalidRequest, "balance"):
        customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                  balance=-500)
    with raises_param(InvalidRequest, "email", "email_invalid"):
        customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                  email="nope")


def test_default_payment_method_must_be_the_customers(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    other = new_customer(account_id, make_uow, "pm_card_mastercard")
    with raises_param(InvalidRequest, "invoice_settings[default_payment_method]"):
        customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                  default_payment_method=other.default_payment_method)
    with raises_param(ResourceMissing, "invoice_settings[default_payment_method]",
                      "resource_missing"):
        customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                  default_payment_method="pm_missing")


def test_customers_of_another_account_are_missing(
        make_uow: MakeUow, customer: Customer) -> None:

    other = accounts.create_account(business_name="Other", email="o@x.test", uow=make_uow()).id
    with raises_param(ResourceMissing, "id", "resource_missing"):
        customers.retrieve_customer(customer.id, account_id=other, uow=make_uow())
    with raises_param(ResourceMissing, "id"):
        customers.update_customer(customer.id, account_id=other, uow=make_uow(), name="x")
