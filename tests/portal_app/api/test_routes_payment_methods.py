"""Payment methods of every type, setup intents, mandates and payment method
configurations, driven by the official ``stripe`` SDK (errors included)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import stripe

RETURN_URL = "https://shop.example/done"
ONLINE = {"customer_acceptance": {"type": "online", "online": {
    "ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (test)"}}}


@pytest.fixture
def customer(client: stripe.StripeClient) -> stripe.Customer:
    return client.v1.customers.create({"email": "ada@example.com", "name": "Ada"})


def create(client: stripe.StripeClient, type: str, params: dict[str, Any] | None = None,
           **extra: Any) -> stripe.PaymentMethod:
    body: dict[str, Any] = {"type": type, **extra}
    if params is not None:
        body[type] = params
    return client.v1.payment_methods.create(body)  # type: ignore[arg-type]


def bad_request(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call()
    assert raised.value.http_status == 400
    return raised.value


# --- payment methods: every type ---------------------------------------------------------


def test_every_type_is_created_with_its_public_details(client: stripe.StripeClient) -> None:
    card = create(client, "card", {"number": "4000 0025 0000 3155", "exp_month": 12,
                                   "exp_year": 2031, "cvc": "123"},
                  billing_details={"name": "Ada", "address": {"country": "FR"}})
    assert card.object == "payment_method" and card.card.last4 == "3155"
    assert card.billing_details.name == "Ada" and card.billing_details.address.country == "FR"
    assert card.sepa_debit is None and card.customer is None

    sepa = create(client, "sepa_debit", {"iban": "DE89370400440532013000"},
                  billing_details={"name": "Ada", "email": "ada@example.com"})
    assert sepa.sepa_debit.last4 == "3000" and sepa.sepa_debit.country == "DE"
    assert sepa.sepa_debit.bank_code == "37040044"
    ach = create(client, "us_bank_account", {
        "routing_number": "110000000", "account_number": "000123456789",
        "account_holder_type": "individual"}, billing_details={"name": "Ada"})
    assert ach.us_bank_account.last4 == "6789"
    assert ach.us_bank_account.routing_number == "110000000"
    becs = create(client, "au_becs_debit", {"bsb_number": "000000",
                                            "account_number": "000123456"})
    assert becs.au_becs_debit.last4 == "3456" and becs.au_becs_debit.bsb_number == "000000"
    bacs = create(client, "bacs_debit", {"sort_code": "108800", "account_number": "00012345"})
    assert bacs.bacs_debit.sort_code.replace("-", "") == "108800" and bacs.bacs_debit.last4 == "2345"
    paypal = create(client, "paypal", {})
    assert paypal.type == "paypal" and paypal.paypal is not None
    customer = client.v1.customers.create({})
    unauthorized = bad_request(lambda: client.v1.payment_methods.attach(
        paypal.id, {"customer": customer.id}))
    assert unauthorized.param == "payment_method"  # a wallet: only through a SetupIntent
    # Nothing of a full number is ever answered.
    for pm in (card, sepa, ach, becs, bacs):
        text = str(pm.to_dict())
        for number in ("4000002500003155", "DE89370400440532013000", "000123456789",
                       "000123456", "00012345"):
            assert number not in text


def test_a_wrong_check_digit_names_the_parameter(client: stripe.StripeClient) -> None:
    card = bad_request(lambda: create(client, "card", {
        "number": "4242424242424241", "exp_month": 12, "exp_year": 2031}))
    assert card.param == "card[number]" and card.code == "incorrect_number"
    iban = bad_request(lambda: create(client, "sepa_debit", {"iban": "DE89370400440532013001"}))
    assert iban.param == "sepa_debit[iban]"
    routing = bad_request(lambda: create(client, "us_bank_account", {
        "routing_number": "110000001", "account_number": "000123456789"}))
    assert routing.param == "us_bank_account[routing_number]"
    missing = bad_request(lambda: create(client, "sepa_debit"))
    assert missing.param == "sepa_debit" and missing.code == "parameter_missing"
    wrong = bad_request(lambda: create(client, "card", sepa_debit={"iban": "x"}))
    assert wrong.param == "sepa_debit"
    unknown = bad_request(lambda: create(client, "bitcoin"))
    assert unknown.param == "type"


def test_retrieve_update_list_attach_detach(client: stripe.StripeClient,
                                            customer: stripe.Customer) -> None:
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    sepa = create(client, "sepa_debit", {"iban": "DE89370400440532013000"})
    client.v1.payment_methods.attach(sepa.id, {"customer": customer.id})
    assert client.v1.payment_methods.retrieve(pm.id).card.brand == "visa"

    updated = client.v1.payment_methods.update(pm.id, {
        "billing_details": {"name": "Ada L."}, "metadata": {"k": "v"},
        "card": {"exp_month": "11", "exp_year": "2032"}})
    assert updated.billing_details.name == "Ada L." and updated.metadata["k"] == "v"
    assert (updated.card.exp_month, updated.card.exp_year) == (11, 2032)
    expired = bad_request(lambda: client.v1.payment_methods.update(
        pm.id, {"card": {"exp_month": "13"}}))
    assert expired.param == "card[exp_month]"

    both = client.v1.customers.payment_methods.list(customer.id)
    assert {m.id for m in both.data} == {pm.id, sepa.id}
    only_sepa = client.v1.customers.payment_methods.list(customer.id, {"type": "sepa_debit"})
    assert [m.id for m in only_sepa.data] == [sepa.id]
    listed = client.v1.payment_methods.list({"customer": customer.id, "type": "card"})
    assert [m.id for m in listed.data] == [pm.id]
    assert client.v1.customers.payment_methods.retrieve(customer.id, pm.id).id == pm.id

    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.customers.payment_methods.retrieve(customer.id, pm.id)
    assert gone.value.http_status == 404
    again = bad_request(lambda: client.v1.payment_methods.detach(pm.id))
    assert again.param == "payment_method"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_methods.detach("pm_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_charge_customer_fail_attaches(client: stripe.StripeClient,
                                       customer: stripe.Customer) -> None:
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                          {"customer": customer.id})
    assert pm.customer == customer.id and pm.card.last4 == "0341"
    numbered = create(client, "card", {"number": "4000000000000341", "exp_month": 12,
                                       "exp_year": 2031, "cvc": "123"})
    assert client.v1.payment_methods.attach(numbered.id, {"customer": customer.id}).customer


# --- setup intents -----------------------------------------------------------------------


def test_setup_intent_for_a_card(client: stripe.StripeClient, customer: stripe.Customer
                                 ) -> None:
    si = client.v1.setup_intents.create({"customer": customer.id,
                                         "payment_method_types": ["card"]})
    assert si.status == "requires_payment_method" and si.object == "setup_intent"
    confirmed = client.v1.setup_intents.confirm(si.id, {"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded" and confirmed.mandate is None
    assert client.v1.payment_methods.retrieve(confirmed.payment_method).customer == customer.id
    assert client.v1.setup_intents.retrieve(si.id).status == "succeeded"
    state = bad_request(lambda: client.v1.setup_intents.cancel(si.id))
    assert state.code == "setup_intent_unexpected_state"
    listed = client.v1.setup_intents.list({"customer": customer.id})
    assert [s.id for s in listed.data] == [si.id]
    expanded = client.v1.setup_intents.retrieve(si.id, {
        "client_secret": si.client_secret, "expand": ["payment_method", "customer"]})
    assert expanded.payment_method.card.brand == "visa"  # type: ignore[union-attr]
    assert expanded.customer.id == customer.id  # type: ignore[union-attr]
    wrong = bad_request(lambda: client.v1.setup_intents.retrieve(
        si.id, {"client_secret": si.client_secret + "x"}))
    assert wrong.param == "client_secret"


def test_a_decline_is_kept_on_the_intent(client: stripe.StripeClient,
                                         customer: stripe.Customer) -> None:
    si = client.v1.setup_intents.create({"customer": customer.id})
    with pytest.raises(stripe.CardError) as declined:
        client.v1.setup_intents.confirm(si.id, {"payment_method": "pm_card_chargeDeclined"})
    assert declined.value.http_status == 402 and declined.value.code == "card_declined"
    after = client.v1.setup_intents.retrieve(si.id)
    assert after.status == "requires_payment_method"
    assert after.last_setup_error.decline_code == "generic_decline"
    assert client.v1.customers.payment_methods.list(customer.id).data == []
    # Then a working card.
    assert client.v1.setup_intents.confirm(si.id, {"payment_method": "pm_card_visa"}
                                           ).status == "succeeded"


def test_three_d_secure_redirects_to_the_test_page(client: stripe.StripeClient,
                                                   customer: stripe.Customer) -> None:
    si = client.v1.setup_intents.create({
        "customer": customer.id, "payment_method": "pm_card_threeDSecure2Required",
        "confirm": True, "return_url": RETURN_URL})
    assert si.status == "requires_action"
    assert si.next_action.type == "redirect_to_url"
    assert si.next_action.redirect_to_url.return_url == RETURN_URL
    assert "/test/authorize/" in si.next_action.redirect_to_url.url
    assert client.v1.setup_intents.retrieve(si.id).next_action.redirect_to_url.url == (
        si.next_action.redirect_to_url.url)
    canceled = client.v1.setup_intents.cancel(si.id, {"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"


def test_sepa_setup_records_a_mandate(client: stripe.StripeClient, customer: stripe.Customer,
                                      api_url: str) -> None:
    si = client.v1.setup_intents.create({
        "customer": customer.id, "confirm": True, "payment_method_types": ["sepa_debit"],
        "payment_method_data": {"type": "sepa_debit",
                                "sepa_debit": {"iban": "DE89370400440532013000"},
                                "billing_details": {"name": "Ada", "email": "a@example.com"}},
        "mandate_data": ONLINE})
    assert si.status == "succeeded" and si.mandate.startswith("mandate_")
    mandate = client.v1.mandates.retrieve(si.mandate)
    assert mandate.status == "active" and mandate.type == "multi_use"
    assert mandate.payment_method == si.payment_method
    assert mandate.customer_acceptance.type == "online"
    assert mandate.customer_acceptance.online.ip_address == "203.0.113.7"
    assert mandate.payment_method_details.type == "sepa_debit"
    assert len(mandate.payment_method_details.sepa_debit.reference) == 16
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.mandates.retrieve("mandate_nope")
    assert missing.value.http_status == 404
    # Detaching the method ends the mandate.
    client.v1.payment_methods.detach(si.payment_method)
    assert client.v1.mandates.retrieve(si.mandate).status == "inactive"


def test_setup_intent_errors(client: stripe.StripeClient, customer: stripe.Customer) -> None:
    bad_iban = bad_request(lambda: client.v1.setup_intents.create({
        "customer": customer.id, "confirm": True, "payment_method_types": ["sepa_debit"],
        "payment_method_data": {"type": "sepa_debit",
                                "sepa_debit": {"iban": "DE89370400440532013001"}},
        "mandate_data": ONLINE}))
    assert bad_iban.param == "payment_method_data[sepa_debit][iban]"
    no_mandate = bad_request(lambda: client.v1.setup_intents.create({
        "customer": customer.id, "confirm": True, "payment_method_types": ["sepa_debit"],
        "payment_method_data": {"type": "sepa_debit",
                                "sepa_debit": {"iban": "DE89370400440532013000"}}}))
    assert no_mandate.param == "mandate_data[customer_acceptance]"
    no_return = bad_request(lambda: client.v1.setup_intents.create({
        "customer": customer.id, "confirm": True, "payment_method_types": ["paypal"],
        "payment_method_data": {"type": "paypal"}}))
    assert no_return.param == "return_url"
    not_allowed = bad_request(lambda: client.v1.setup_intents.create({
        "customer": customer.id, "confirm": True, "payment_method_types": ["sepa_debit"],
        "payment_method": "pm_card_visa"}))
    assert not_allowed.param == "payment_method"
    bad_type = bad_request(lambda: client.v1.setup_intents.create({
        "payment_method_types": ["bitcoin"]}))
    assert bad_type.param == "payment_method_types[0]"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.setup_intents.retrieve("seti_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_a_wallet_waits_for_the_customers_authorization(client: stripe.StripeClient,
                                                 customer: stripe.Customer,
                                                 api_url: str) -> None:
    si = client.v1.setup_intents.create({
        "customer": customer.id, "confirm": True, "payment_method_types": ["paypal"],
        "payment_method_data": {"type": "paypal",
                                "billing_details": {"email": "payer@example.com"}},
        "return_url": RETURN_URL})
    assert si.status == "requires_action"
    url = si.next_action.redirect_to_url.url
    assert urlsplit(url).path.startswith("/test/authorize/")
    assert si.payment_method not in [m.id for m in client.v1.customers.payment_methods.list(
        customer.id).data]
    # The API alone cannot authorize: only the customer's browser on the page can.
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.setup_intents.confirm(si.id)
    assert httpx.get(f"{api_url}/v1/setup_intents/{si.id}").status_code == 401


# --- payment method configurations ---------------------------------------------------------


def test_payment_method_configurations(client: stripe.StripeClient) -> None:
    created = client.v1.payment_method_configurations.create({
        "name": "Portal", "paypal": {"display_preference": {"preference": "on"}},
        "sepa_debit": {"display_preference": {"preference": "off"}}})
    assert created.id.startswith("pmc_") and created.is_default and created.active
    assert created.paypal.display_preference.value == "on" and created.paypal.available
    assert created.sepa_debit.display_preference.value == "off"
    assert created.card.display_preference.preference == "none"
    updated = client.v1.payment_method_configurations.update(created.id, {
        "name": "Checkout", "sepa_debit": {"display_preference": {"preference": "on"}}})
    assert updated.name == "Checkout" and updated.sepa_debit.available
    assert client.v1.payment_method_configurations.retrieve(created.id).name == "Checkout"
    second = client.v1.payment_method_configurations.create({"name": "Other"})
    assert second.is_default is False
    listed = client.v1.payment_method_configurations.list()
    assert {c.id for c in listed.data} == {second.id, created.id}
    default_off = bad_request(lambda: client.v1.payment_method_configurations.update(
        created.id, {"active": False}))
    assert default_off.param == "active"
    bad = bad_request(lambda: client.v1.payment_method_configurations.create({
        "card": {"display_preference": {"preference": "maybe"}}}))
    assert bad.param == "card[display_preference][preference]"
