"""Setup intents: every status, every payment method type, and the events of each step."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from sqlmodel import select

from portal_app.accounts import services as accounts
from portal_app.billing import authorizations, setup_intents
from portal_app.billing.models import (
    Customer,
    Mandate,
    PaymentMethod,
    PendingAuthorization,
    SetupIntent,
)
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import stripe_fields
from tests.portal_app.billing.helpers import MakeUow, events_of, load, raises_param, read

RETURN_URL = "https://shop.example/back"
ONLINE = {"type": "online", "online": {"ip_address": "198.51.100.4", "user_agent": "UA/1"}}
CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2031", "cvc": "123"}

# A valid example of every bank debit (Stripe's documented test accounts).
DEBITS: dict[str, dict[str, str]] = {
    "sepa_debit": {"iban": "DE89370400440532013000"},
    "us_bank_account": {"routing_number": "110000000", "account_number": "000123456789",
                        "account_holder_type": "individual"},
    "au_becs_debit": {"bsb_number": "000000", "account_number": "000123456"},
    "bacs_debit": {"sort_code": "108800", "account_number": "00012345"},
    "acss_debit": {"institution_number": "000", "transit_number": "11000",
                   "account_number": "000123456789"},
}
WALLETS = ("link", "paypal", "cashapp", "amazon_pay", "revolut_pay", "kakao_pay", "naver_pay",
           "samsung_pay", "kr_card")


def setup(account_id: str, make_uow: MakeUow, customer: Customer, type: str,
          params: dict[str, Any], **options: Any) -> SetupIntent:
    return setup_intents.create_setup_intent(
        account_id=account_id, uow=make_uow(), customer_id=customer.id,
        payment_method_types=[type], payment_method_data={"type": type, type: params},
        confirm=True, **options)


def event_types(make_uow: MakeUow, account_id: str, object_id: str) -> list[str]:
    return [e.type for e in events_of(make_uow, account_id, object_id=object_id)]


def test_a_card_setup_attaches_the_card(account_id: str, make_uow: MakeUow,
                                        customer: Customer) -> None:
    si = setup(account_id, make_uow, customer, "card", CARD)
    assert si.status == "succeeded" and si.mandate_id is None
    pm = load(make_uow, PaymentMethod, si.payment_method_id)
    assert pm.customer_id == customer.id and pm.last4 == "4242"
    assert event_types(make_uow, account_id, si.id) == ["setup_intent.created",
                                                        "setup_intent.succeeded"]
    assert event_types(make_uow, account_id, pm.id) == ["payment_method.attached"]
    with make_uow() as uow:
        rendered = setup_intents.render(si, uow)
    assert set(rendered) == set(stripe_fields(stripe.SetupIntent))
    assert rendered["object"] == "setup_intent" and rendered["livemode"] is False


def test_step_by_step(account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    si = setup_intents.create_setup_intent(account_id=account_id, uow=make_uow(),
                                           customer_id=customer.id)
    assert si.status == "requires_payment_method" and si.payment_method_types == ["card"]
    with raises_param(InvalidRequest, "payment_method", "setup_intent_unexpected_state"):
        setup_intents.confirm_setup_intent(si.id, account_id=account_id, uow=make_uow())
    done = setup_intents.confirm_setup_intent(si.id, account_id=account_id, uow=make_uow(),
                                              payment_method="pm_card_mastercard")
    assert done.status == "succeeded"
    with pytest.raises(InvalidRequest) as again:
        setup_intents.confirm_setup_intent(si.id, account_id=account_id, uow=make_uow())
    assert again.value.code == "setup_intent_unexpected_state"
    with pytest.raises(InvalidRequest):
        setup_intents.cancel_setup_intent(si.id, account_id=account_id, uow=make_uow())


def test_a_decline_is_recorded_and_nothing_is_attached(account_id: str, make_uow: MakeUow,
                                                       customer: Customer) -> None:
    si = setup(account_id, make_uow, customer, "card", {**CARD, "number": "4000000000009995"})
    assert si.status == "requires_payment_method" and si.payment_method_id is None
    error = si.last_setup_error or {}
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error", "card_declined", "insufficient_funds")
    assert error["payment_method"]["customer"] is None
    failure = setup_intents.failure(si)
    assert failure is not None and failure.decline_code == "insufficient_funds"
    assert event_types(make_uow, account_id, si.id) == ["setup_intent.created",
                                                        "setup_intent.setup_failed"]
    methods = read(make_uow, lambda uow: uow.session.exec(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)).all())
    assert [pm.id for pm in methods] == [customer.default_payment_method]


def test_three_d_secure_waits_for_the_test_page(account_id: str, make_uow: MakeUow,
                                                customer: Customer) -> None:
    si = setup(account_id, make_uow, customer, "card", {**CARD, "number": "4000002760003184"},
               return_url=RETURN_URL)
    assert si.status == "requires_action" and si.next_action is not None
    url = si.next_action["redirect_to_url"]["url"]
    assert si.next_action["redirect_to_url"]["return_url"] == RETURN_URL
    assert event_types(make_uow, account_id, si.id) == ["setup_intent.created",
                                                        "setup_intent.requires_action"]
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits
    # Only the token's digest is stored, nowhere the token itself.
    rows = read(make_uow, lambda uow: uow.session.exec(select(PendingAuthorization).where(
        PendingAuthorization.account_id == account_id)).all())
    assert len(rows) == 1 and token not in str(rows[0].model_dump())
    # The URL is the same on every read (derived, not stored).
    with make_uow() as uow:
        again = authorizations.authorization_url(rows[0], uow=uow)
    assert again == url
    redirect = authorizations.complete_authorization(token, succeed=True,
                                                     account_id=account_id, uow=make_uow())
    assert redirect and "redirect_status=succeeded" in redirect
    after = load(make_uow, SetupIntent, si.id)
    assert after.status == "succeeded" and after.next_action is None
    assert load(make_uow, PaymentMethod, si.payment_method_id).customer_id == customer.id


def test_every_bank_debit_records_its_mandate(account_id: str, make_uow: MakeUow,
                                              customer: Customer) -> None:
    for type, params in DEBITS.items():
        si = setup(account_id, make_uow, customer, type, params, mandate_acceptance=ONLINE)
        assert si.status == "succeeded", type
        mandate = load(make_uow, Mandate, si.mandate_id)
        assert mandate.payment_method_id == si.payment_method_id
        assert mandate.customer_acceptance["online"]["ip_address"] == "198.51.100.4"
        assert mandate.status == "active" and mandate.customer_id == customer.id
        pm = load(make_uow, PaymentMethod, si.payment_method_id)
        assert pm.type == type and pm.customer_id == customer.id and pm.last4
    sepa = read(make_uow, lambda uow: uow.session.exec(select(Mandate).where(
        Mandate.account_id == account_id)).all())
    assert len({m.method_details.get("reference") for m in sepa
                if "reference" in m.method_details}) == 2  # SEPA and Bacs, distinct


def test_a_bank_debit_needs_a_mandate(account_id: str, make_uow: MakeUow,
                                      customer: Customer) -> None:
    with raises_param(InvalidRequest, "mandate_data[customer_acceptance]", "parameter_missing"):
        setup(account_id, make_uow, customer, "sepa_debit", DEBITS["sepa_debit"])
    with raises_param(InvalidRequest,
                      "mandate_data[customer_acceptance][online][user_agent]",
                      "parameter_missing"):
        setup(account_id, make_uow, customer, "sepa_debit", DEBITS["sepa_debit"],
              mandate_acceptance={"type": "online", "online": {"ip_address": "1.2.3.4"}})
    with raises_param(InvalidRequest, "sepa_debit[iban]"):
        setup(account_id, make_uow, customer, "sepa_debit",
              {"iban": "DE89370400440532013001"}, mandate_acceptance=ONLINE)


def test_every_wallet_redirects(account_id: str, make_uow: MakeUow,
                                customer: Customer) -> None:
    for type in WALLETS:
        with raises_param(InvalidRequest, "return_url", "parameter_missing"):
            setup(account_id, make_uow, customer, type, {})
        si = setup(account_id, make_uow, customer, type, {}, return_url=RETURN_URL)
        assert si.status == "requires_action", type
        assert si.next_action and si.next_action["type"] == "redirect_to_url"
        pm = load(make_uow, PaymentMethod, si.payment_method_id)
        assert pm.type == type and pm.customer_id is None and pm.last4 is None


def test_a_type_the_intent_does_not_allow(account_id: str, make_uow: MakeUow,
                                          customer: Customer) -> None:
    si = setup_intents.create_setup_intent(account_id=account_id, uow=make_uow(),
                                           customer_id=customer.id,
                                           payment_method_types=["sepa_debit"])
    with raises_param(InvalidRequest, "payment_method"):
        setup_intents.confirm_setup_intent(si.id, account_id=account_id, uow=make_uow(),
                                           payment_method="pm_card_visa")


def test_cancel(account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    si = setup(account_id, make_uow, customer, "paypal", {}, return_url=RETURN_URL)
    with raises_param(InvalidRequest, "cancellation_reason"):
        setup_intents.cancel_setup_intent(si.id, account_id=account_id, uow=make_uow(),
                                          cancellation_reason="bored")
    canceled = setup_intents.cancel_setup_intent(si.id, account_id=account_id, uow=make_uow(),
                                                 cancellation_reason="requested_by_customer")
    assert canceled.status == "canceled" and canceled.next_action is None
    assert event_types(make_uow, account_id, si.id)[-1] == "setup_intent.canceled"
    # The test page can no longer change it.
    token = (si.next_action or {})["redirect_to_url"]["url"].rsplit("/", 1)[1]
    back = authorizations.complete_authorization(token, succeed=True, account_id=account_id,
                                                 uow=make_uow())
    assert back and back.endswith("redirect_status=failed")
    assert load(make_uow, SetupIntent, si.id).status == "canceled"


def test_client_secrets_are_per_intent_and_per_account(
        account_id: str, make_uow: MakeUow, customer: Customer) -> None:
    one = setup_intents.create_setup_intent(account_id=account_id, uow=make_uow())
    two = setup_intents.create_setup_intent(account_id=account_id, uow=make_uow())
    with make_uow() as uow:
        secret = setup_intents.client_secret(one, uow=uow)
        assert secret.startswith(f"{one.id}_secret_") and secret != setup_intents.client_secret(
            two, uow=uow)
        assert secret == setup_intents.client_secret(one, uow=uow)
    other = accounts.create_account(business_name="Other", email="o@example.com",
                                    uow=make_uow()).id
    with make_uow() as uow:
        moved = SetupIntent(id=one.id, account_id=other, created=one.created)
        assert setup_intents.client_secret(moved, uow=uow) != secret


def test_another_customers_intent_is_missing(account_id: str, make_uow: MakeUow,
                                             customer: Customer) -> None:
    si = setup(account_id, make_uow, customer, "card", CARD)
    with pytest.raises(ResourceMissing):
        setup_intents.retrieve_setup_intent(si.id, account_id=account_id, uow=make_uow(),
                                            customer_id="cus_other")
    other = accounts.create_account(business_name="Other", email="o@example.com",
                                    uow=make_uow()).id
    with pytest.raises(ResourceMissing):
        setup_intents.retrieve_setup_intent(si.id, account_id=other, uow=make_uow())
