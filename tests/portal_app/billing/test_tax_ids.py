"""Customers' tax IDs: Stripe's types and formats, check digits, the ledger and its events."""

from __future__ import annotations

import inspect
import re
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.eu import vat
from stdnum.iso7064 import mod_11_10
from stripe.params import _customer_create_tax_id_params

from portal_app.billing import customers, invoicing, tax_ids
from portal_app.billing.models import Customer, Price
from portal_app.billing.objects import render_invoice
from portal_app.billing.tax_id_types import TAX_ID_TYPES, check_tax_id, tax_id_country
from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest, ResourceMissing
from tests.conftest import START
from tests.portal_app.billing.helpers import (
    MakeUow,
    events_of,
    new_customer,
    raises_param,
    read,
    subscribe,
)


def _refused(type: str, value: str) -> bool:
    try:
        check_tax_id(type, value)
    except InvalidRequest as e:
        assert (e.code, e.param) == ("tax_id_invalid", "value")
        return True
    return False


def _with_a_good_check_digit(type: str, value: str) -> str | None:
    """``value`` with one digit changed so that its check digit is right, if one does it."""
    for i in reversed(range(len(value))):
        if value[i].isdigit():
            for digit in "0123456789":
                candidate = value[:i] + digit + value[i + 1:]
                if not _refused(type, candidate):
                    return candidate
    return None


# --- the types and their formats ------------------------------------------------------------


def test_the_types_are_exactly_those_the_sdk_can_create() -> None:
    source = inspect.getsource(_customer_create_tax_id_params)
    sdk = set(re.findall(r'"([a-z]{2}_[a-z_]+)",', source))
    assert set(TAX_ID_TYPES) == sdk
    assert len(TAX_ID_TYPES) == 135


@pytest.mark.parametrize("type", sorted(TAX_ID_TYPES))
def test_every_stripe_example_has_its_type_format(type: str) -> None:
    spec = TAX_ID_TYPES[type]
    assert spec.matches(spec.example)
    if spec.checker is None:
        assert check_tax_id(type, f"  {spec.example} ") == spec.example
    else:
        # Stripe's placeholders often have a wrong check digit ("DE123456789"): the
        # format is accepted, and the same number with a right check digit is too.
        fixed = spec.example if not _refused(type, spec.example) else (
            _with_a_good_check_digit(type, spec.example))
        assert fixed is not None, spec.example
        assert check_tax_id(type, fixed) == fixed


@pytest.mark.parametrize(("type", "value"), [
    ("eu_vat", "DE12345"), ("eu_vat", "US123456789"), ("eu_vat", "DE 123456789 0"),
    ("gb_vat", "GB12345678"), ("us_ein", "12-345678"), ("au_abn", "1234567891A"),
    ("br_cpf", "123.456.789-8"), ("in_gst", "12ABCDE3456FGAH"), ("ca_qst", "1234567890TR1234"),
    ("no_vat", "123456789"), ("jp_trn", "1234567891234"), ("ch_vat", "CHE-123.456.789"),
    ("ae_trn", ""), ("za_vat", "5123456789"),
])
def test_malformed_values_are_tax_id_invalid_on_value(type: str, value: str) -> None:
    with raises_param(InvalidRequest, "value", "tax_id_invalid"):
        check_tax_id(type, value)


@pytest.mark.parametrize(("type", "good", "bad"), [
    ("eu_vat", "DE136695976", "DE136695977"),          # ISO 7064 MOD 11,10
    ("gb_vat", "GB980780684", "GB980780685"),
    ("au_abn", "51824753556", "51824753557"),
    ("br_cnpj", "16.727.230/0001-97", "16.727.230/0001-98"),
    ("br_cpf", "390.533.447-05", "390.533.447-06"),
    ("in_gst", "27AAPFU0939F1ZV", "27AAPFU0939F1ZW"),
    ("ch_vat", "CHE-107.787.577 MWST", "CHE-107.787.578 MWST"),
    ("no_vat", "988077917MVA", "988077918MVA"),
])
def test_a_wrong_check_digit_is_refused(type: str, good: str, bad: str) -> None:
    assert check_tax_id(type, good) == good
    with raises_param(InvalidRequest, "value", "tax_id_invalid") as _:
        check_tax_id(type, bad)


def test_an_unknown_type_names_type() -> None:
    with raises_param(InvalidRequest, "type"):
        check_tax_id("xx_vat", "123")


def test_the_country_comes_from_the_type_or_the_vat_prefix() -> None:
    assert tax_id_country("eu_vat", "EL123456789") == "GR"
    assert tax_id_country("eu_vat", "XI123456789") == "GB"
    assert tax_id_country("au_abn", "12345678912") == "AU"
    assert tax_id_country("eu_oss_vat", "EU123456789") is None


_EU_BODIES = st.from_regex(r"[1-9][0-9]{7}", fullmatch=True)


def _de_vat(body: str) -> str:
    return f"DE{body}{mod_11_10.calc_check_digit(body)}"


def _it_vat(body: str) -> str:
    ten = body[:7] + "001"  # seven digits of the company, three of the office
    return f"IT{ten}{luhn.calc_check_digit(ten)}"


def _one_digit_changed(value: str, position: int, delta: int) -> str:
    digits = [i for i, c in enumerate(value) if c.isdigit()]
    i = digits[position % len(digits)]
    return value[:i] + str((int(value[i]) + delta) % 10) + value[i + 1:]


@settings(max_examples=150, deadline=None)
@given(body=_EU_BODIES, make=st.sampled_from([_de_vat, _it_vat]),
       position=st.integers(0, 20), delta=st.integers(1, 9))
def test_stdnum_valid_eu_vat_numbers_pass_and_one_changed_digit_fails(
        body: str, make: object, position: int, delta: int) -> None:
    assert callable(make)
    value = make(body)
    assert vat.is_valid(value)
    assert check_tax_id("eu_vat", value) == value
    assert _refused("eu_vat", _one_digit_changed(value, position, delta))


# --- the ledger ------------------------------------------------------------------------------


def test_create_list_retrieve_delete_with_events(account_id: str, make_uow: MakeUow,
                                                 customer: Customer) -> None:
    created = tax_ids.create_tax_id(customer.id, type="eu_vat", value=" DE136695976 ",
                                    account_id=account_id, uow=make_uow())
    assert re.fullmatch(r"txi_[0-9A-Za-z]{24}", created.id)
    rendered = tax_ids.render_tax_id(created)
    assert rendered["object"] == "tax_id"
    assert (rendered["type"], rendered["value"], rendered["country"]) == (
        "eu_vat", "DE136695976", "DE")
    assert rendered["verification"] == {"status": "unavailable", "verified_address": None,
                                        "verified_name": None}
    assert rendered["owner"]["type"] == "customer"
    assert rendered["owner"]["customer"] == customer.id == rendered["customer"]
    assert rendered["livemode"] is False and rendered["created"] == int(START.timestamp())
    listed = tax_ids.list_tax_ids(customer.id, account_id=account_id, uow=make_uow())
    assert [t.id for t in listed] == [created.id]
    tax_ids.delete_tax_id(customer.id, created.id, account_id=account_id, uow=make_uow())
    assert tax_ids.list_tax_ids(customer.id, account_id=account_id, uow=make_uow()) == []
    with raises_param(ResourceMissing, "id"):
        tax_ids.retrieve_tax_id(customer.id, created.id, account_id=account_id, uow=make_uow())
    events = [(e.type, e.data_object["id"]) for e in events_of(make_uow, account_id)
              if e.type.startswith("customer.tax_id")]
    assert events == [("customer.tax_id.created", created.id),
                      ("customer.tax_id.deleted", created.id)]
    [made] = [e for e in events_of(make_uow, account_id) if e.type == "customer.tax_id.created"]
    assert made.customer_id == customer.id


def test_refused_values_change_nothing(account_id: str, make_uow: MakeUow,
                                       customer: Customer) -> None:
    with raises_param(InvalidRequest, "value", "tax_id_invalid"):
        tax_ids.create_tax_id(customer.id, type="eu_vat", value="DE136695977",
                              account_id=account_id, uow=make_uow())
    assert tax_ids.list_tax_ids(customer.id, account_id=account_id, uow=make_uow()) == []
    assert not [e for e in events_of(make_uow, account_id) if e.type.startswith("customer.tax")]


def test_another_customers_tax_id_is_missing(account_id: str, make_uow: MakeUow,
                                             customer: Customer) -> None:
    mine = tax_ids.create_tax_id(customer.id, type="us_ein", value="12-3456789",
                                 account_id=account_id, uow=make_uow())
    other = new_customer(account_id, make_uow)
    with raises_param(ResourceMissing, "id"):
        tax_ids.retrieve_tax_id(other.id, mine.id, account_id=account_id, uow=make_uow())
    with raises_param(ResourceMissing, "id"):
        tax_ids.delete_tax_id(other.id, mine.id, account_id=account_id, uow=make_uow())
    with raises_param(ResourceMissing, "customer"):
        tax_ids.list_tax_ids("cus_nope", account_id=account_id, uow=make_uow())
    assert len(tax_ids.list_tax_ids(customer.id, account_id=account_id, uow=make_uow())) == 1


def test_at_most_25_tax_ids(account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    for n in range(tax_ids.MAX_TAX_IDS):
        tax_ids.create_tax_id(customer.id, type="hk_br", value=f"{n:08d}",
                              account_id=account_id, uow=make_uow())
    with raises_param(InvalidRequest, "value", "tax_id_invalid"):
        tax_ids.create_tax_id(customer.id, type="hk_br", value="99999999",
                              account_id=account_id, uow=make_uow())


def test_a_finalized_invoice_keeps_the_tax_ids_of_its_finalization(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    vat = tax_ids.create_tax_id(customer.id, type="eu_vat", value="DE136695976",
                                account_id=account_id, uow=make_uow())
    sub = subscribe(account_id, make_uow, customer, monthly)
    clock.set(START + timedelta(days=1))
    tax_ids.delete_tax_id(customer.id, vat.id, account_id=account_id, uow=make_uow())
    tax_ids.create_tax_id(customer.id, type="gb_vat", value="GB980780684",
                          account_id=account_id, uow=make_uow())
    [invoice] = invoicing.list_invoices(account_id=account_id, uow=make_uow(),
                                        subscription_id=sub.id)
    rendered = read(make_uow, lambda uow: render_invoice(invoice, uow.session))
    assert rendered["status"] != "draft"
    assert rendered["customer_tax_ids"] == [{"type": "eu_vat", "value": "DE136695976"}]


# --- customer.updated ------------------------------------------------------------------------


def test_customer_updated_names_only_what_changed(account_id: str, make_uow: MakeUow,
                                                  customer: Customer) -> None:
    berlin = {"line1": "Unter den Linden 1", "line2": None, "city": "Berlin",
              "postal_code": "10117", "state": None, "country": "DE"}
    customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                              address=berlin, phone="+49 30 1234567")
    customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                              address={**berlin, "city": "Bonn", "postal_code": "53111"},
                              name="Ada", tax_exempt="reverse")
    customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                              name="Ada")  # nothing changes: no event
    updates = [e for e in events_of(make_uow, account_id, object_id=customer.id)
               if e.type == "customer.updated"][-2:]
    first, second = (e.previous_attributes for e in updates)
    assert first == {"address": None, "phone": None}
    assert second == {"address": {"city": "Berlin", "postal_code": "10117"},
                      "tax_exempt": "none"}
    assert updates[-1].data_object["address"]["city"] == "Bonn"


def test_tax_exempt_takes_stripe_values(account_id: str, make_uow: MakeUow,
                                        customer: Customer) -> None:
    with raises_param(InvalidRequest, "tax_exempt"):
        customers.update_customer(customer.id, account_id=account_id, uow=make_uow(),
                                  tax_exempt="sometimes")
