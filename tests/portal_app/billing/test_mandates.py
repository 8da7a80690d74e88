"""Mandates: how the customer accepted, each scheme's details, and their end on detach."""

from __future__ import annotations

import pytest
import stripe

from portal_app.billing import mandates, payment_methods, setup_intents
from portal_app.billing.models import Customer, Mandate
from portal_app.billing.payment_objects import render_mandate
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import stripe_fields
from tests.portal_app.billing.helpers import MakeUow, events_of, load, raises_param
from tests.portal_app.billing.test_setup_intents import DEBITS, ONLINE


def mandate_for(account_id: str, make_uow: MakeUow, customer: Customer, type: str,
                acceptance: dict = ONLINE) -> Mandate:
    si = setup_intents.create_setup_intent(
        account_id=account_id, uow=make_uow(), customer_id=customer.id,
        payment_method_types=[type], payment_method_data={"type": type, type: DEBITS[type]},
        confirm=True, mandate_acceptance=acceptance)
    return load(make_uow, Mandate, si.mandate_id)


def test_a_sepa_mandate_is_stripes_object(account_id: str, make_uow: MakeUow,
                                          customer: Customer) -> None:
    mandate = mandate_for(account_id, make_uow, customer, "sepa_debit")
    rendered = render_mandate(mandate, method_type="sepa_debit")
    assert set(rendered) == set(stripe_fields(stripe.Mandate))
    assert rendered["object"] == "mandate" and rendered["type"] == "multi_use"
    assert rendered["multi_use"] == {} and rendered["single_use"] is None
    acceptance = rendered["customer_acceptance"]
    assert acceptance["type"] == "online" and acceptance["offline"] is None
    assert acceptance["online"] == {"ip_address": "198.51.100.4", "user_agent": "UA/1"}
    assert isinstance(acceptance["accepted_at"], int)
    details = rendered["payment_method_details"]
    assert details["type"] == "sepa_debit"
    assert set(details["sepa_debit"]) == {"reference", "url"}
    reference = details["sepa_debit"]["reference"]
    assert len(reference) == 16 and reference.isalnum() and reference.isupper()


def test_each_scheme_has_its_own_details(account_id: str, make_uow: MakeUow,
                                         customer: Customer) -> None:
    bacs = render_mandate(mandate_for(account_id, make_uow, customer, "bacs_debit"),
                          method_type="bacs_debit")["payment_method_details"]["bacs_debit"]
    assert bacs["network_status"] == "accepted" and bacs["display_name"] == "Acme Cloud"
    becs = render_mandate(mandate_for(account_id, make_uow, customer, "au_becs_debit"),
                          method_type="au_becs_debit")["payment_method_details"]
    assert becs["au_becs_debit"]["url"] == mandates.BECS_SERVICE_AGREEMENT
    acss = render_mandate(mandate_for(account_id, make_uow, customer, "acss_debit"),
                          method_type="acss_debit")["payment_method_details"]["acss_debit"]
    assert (acss["payment_schedule"], acss["transaction_type"]) == ("sporadic", "personal")


def test_offline_acceptance(account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    mandate = mandate_for(account_id, make_uow, customer, "us_bank_account",
                          acceptance={"type": "offline", "accepted_at": 1760000000})
    acceptance = render_mandate(mandate, method_type="us_bank_account")["customer_acceptance"]
    assert acceptance == {"accepted_at": 1760000000, "offline": {}, "online": None,
                          "type": "offline"}


def test_acceptance_is_checked() -> None:
    with raises_param(InvalidRequest, "m[type]"):
        mandates.parse_acceptance({"type": "by_fax"}, param="m", accepted_at=1)
    with raises_param(InvalidRequest, "m[online]", "parameter_missing"):
        mandates.parse_acceptance({"type": "online"}, param="m", accepted_at=1)
    with raises_param(InvalidRequest, "m[online][ip_address]", "parameter_missing"):
        mandates.parse_acceptance({"type": "online", "online": {"user_agent": "x"}},
                                  param="m", accepted_at=1)


def test_detaching_the_method_ends_its_mandate(account_id: str, make_uow: MakeUow,
                                               customer: Customer) -> None:
    mandate = mandate_for(account_id, make_uow, customer, "sepa_debit")
    payment_methods.detach_payment_method(mandate.payment_method_id, account_id=account_id,
                                          uow=make_uow())
    assert load(make_uow, Mandate, mandate.id).status == "inactive"
    [updated] = events_of(make_uow, account_id, object_id=mandate.id)
    assert updated.type == "mandate.updated"
    assert updated.previous_attributes == {"status": "active"}
    assert updated.data_object["status"] == "inactive"
    assert updated.customer_id == customer.id


def test_another_customers_mandate_is_missing(account_id: str, make_uow: MakeUow,
                                              customer: Customer) -> None:
    mandate = mandate_for(account_id, make_uow, customer, "sepa_debit")
    found, pm = mandates.retrieve_mandate(mandate.id, account_id=account_id, uow=make_uow(),
                                          customer_id=customer.id)
    assert found.id == mandate.id and pm.type == "sepa_debit"
    with pytest.raises(ResourceMissing):
        mandates.retrieve_mandate(mandate.id, account_id=account_id, uow=make_uow(),
                                  customer_id="cus_other")
