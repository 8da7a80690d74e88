"""Contract: saving payment methods with setup intents (3-D Secure through the test page),
detaching them, mandates and payment method configurations."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from portal_app.billing.provider import BillingProvider, StripeObject
from portal_app.errors import CardDeclined, InvalidRequest, ResourceMissing

VISA = {"type": "card", "card": {"number": "4242 4242 4242 4242", "exp_month": "12",
                                 "exp_year": "2031", "cvc": "123"},
        "billing_details": {"name": "Ada Lovelace"}}
THREE_D_SECURE = {"type": "card", "card": {"number": "4000000000003220", "exp_month": "12",
                                           "exp_year": "2031", "cvc": "123"}}
DECLINED = {"type": "card", "card": {"number": "4000000000000002", "exp_month": "12",
                                     "exp_year": "2031", "cvc": "123"}}
RETURN_URL = "https://shop.example/back?from=portal"


def page_token(setup_intent: StripeObject) -> str:
    """The one-time token of the test authorization page the intent redirects to."""
    return urlsplit(setup_intent["next_action"]["redirect_to_url"]["url"]).path.rsplit("/", 1)[1]


def test_a_card_is_saved_and_attached(provider: BillingProvider, shop: dict[str, str]) -> None:
    si = provider.create_setup_intent(customer_id=shop["bob"], payment_method_data=VISA)
    assert si["object"] == "setup_intent" and si["status"] == "succeeded"
    assert si["customer"] == shop["bob"] and si["usage"] == "off_session"
    assert si["payment_method_types"] == ["card"] and si["next_action"] is None
    assert si["client_secret"].startswith(si["id"] + "_secret_")
    pm = provider.retrieve_payment_method(si["payment_method"], customer_id=shop["bob"])
    assert pm["card"]["last4"] == "4242" and pm["billing_details"]["name"] == "Ada Lovelace"
    assert provider.retrieve_setup_intent(si["id"], customer_id=shop["bob"]) == si
    assert si["payment_method"] in [m["id"] for m in provider.list_payment_methods(shop["bob"])]


def test_a_declined_card_is_not_saved(provider: BillingProvider, shop: dict[str, str]) -> None:
    before = provider.list_payment_methods(shop["bob"])
    with pytest.raises(CardDeclined) as raised:
        provider.create_setup_intent(customer_id=shop["bob"], payment_method_data=DECLINED)
    assert raised.value.decline_code == "generic_decline"
    assert provider.list_payment_methods(shop["bob"]) == before


def test_three_d_secure_is_authorized_on_the_test_page(provider: BillingProvider,
                                                       shop: dict[str, str],
                                                       hosted_pages: BillingProvider) -> None:
    si = provider.create_setup_intent(customer_id=shop["bob"],
                                      payment_method_data=THREE_D_SECURE, return_url=RETURN_URL)
    assert si["status"] == "requires_action"
    assert si["next_action"]["type"] == "redirect_to_url"
    assert si["next_action"]["redirect_to_url"]["return_url"] == RETURN_URL
    token = page_token(si)
    page = hosted_pages.retrieve_test_authorization(token)
    assert page["status"] == "pending" and page["kind"] == "setup_intent"
    assert page["business_name"] and "3220" in page["summary"]
    # Not attached before the customer authorizes.
    assert si["payment_method"] not in [m["id"] for m in provider.list_payment_methods(shop["bob"])]

    done = hosted_pages.complete_test_authorization(token, succeed=True)
    back = urlsplit(done["redirect_url"])
    query = parse_qs(back.query)
    assert back.netloc == "shop.example" and query["from"] == ["portal"]
    assert query["setup_intent"] == [si["id"]] and query["redirect_status"] == ["succeeded"]
    assert query["setup_intent_client_secret"] == [si["client_secret"]]
    after = provider.retrieve_setup_intent(si["id"], customer_id=shop["bob"])
    assert after["status"] == "succeeded" and after["next_action"] is None
    assert si["payment_method"] in [m["id"] for m in provider.list_payment_methods(shop["bob"])]
    with pytest.raises(InvalidRequest):  # the token is one-time
        hosted_pages.complete_test_authorization(token, succeed=False)


def test_a_failed_authorization_leaves_the_intent_waiting(provider: BillingProvider,
                                                          shop: dict[str, str],
                                                          hosted_pages: BillingProvider) -> None:
    si = provider.create_setup_intent(customer_id=shop["bob"],
                                      payment_method_data=THREE_D_SECURE, return_url=RETURN_URL)
    done = hosted_pages.complete_test_authorization(page_token(si), succeed=False)
    assert parse_qs(urlsplit(done["redirect_url"]).query)["redirect_status"] == ["failed"]
    after = provider.retrieve_setup_intent(si["id"], customer_id=shop["bob"])
    assert after["status"] == "requires_payment_method" and after["payment_method"] is None
    assert after["last_setup_error"]["code"] == "setup_intent_authentication_failure"
    assert si["payment_method"] not in [m["id"] for m in provider.list_payment_methods(shop["bob"])]


def test_test_pages_and_setup_intents_of_others_are_missing(
        provider: BillingProvider, other_provider: BillingProvider,
        shop: dict[str, str], hosted_pages: BillingProvider) -> None:
    si = provider.create_setup_intent(customer_id=shop["bob"],
                                      payment_method_data=THREE_D_SECURE, return_url=RETURN_URL)
    with pytest.raises(ResourceMissing):
        provider.retrieve_setup_intent(si["id"], customer_id=shop["ada"])
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_setup_intent(si["id"], customer_id=shop["bob"])
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_test_authorization(page_token(si))
    with pytest.raises(ResourceMissing):
        other_provider.complete_test_authorization(page_token(si), succeed=True)
    with pytest.raises(ResourceMissing):
        hosted_pages.retrieve_test_authorization(page_token(si)[:-2] + "xx")
    assert hosted_pages.retrieve_test_authorization(page_token(si))["status"] == "pending"


def test_detach(provider: BillingProvider, shop: dict[str, str]) -> None:
    ada = shop["ada"]
    [visa] = provider.list_payment_methods(ada)
    with pytest.raises(ResourceMissing):
        provider.detach_payment_method(visa["id"], customer_id=shop["bob"])
    detached = provider.detach_payment_method(visa["id"], customer_id=ada)
    assert detached["customer"] is None
    assert provider.list_payment_methods(ada) == []
    assert provider.retrieve_customer(ada)["invoice_settings"]["default_payment_method"] is None
    with pytest.raises(ResourceMissing):
        provider.detach_payment_method(visa["id"], customer_id=ada)


def test_payment_method_configurations(provider: BillingProvider,
                                       other_provider: BillingProvider) -> None:
    created = provider.create_payment_method_configuration(
        name="Portal", preferences={"sepa_debit": "off", "paypal": "on"})
    assert created["id"].startswith("pmc_") and created["name"] == "Portal"
    fetched = provider.retrieve_payment_method_configuration(created["id"])
    assert fetched == created
    assert fetched["paypal"]["display_preference"] == {
        "overridable": None, "preference": "on", "value": "on"}
    assert fetched["paypal"]["available"] is True
    assert fetched["sepa_debit"]["display_preference"]["value"] == "off"
    assert fetched["card"]["display_preference"] == {
        "overridable": None, "preference": "none", "value": "on"}
    with pytest.raises(InvalidRequest):
        provider.create_payment_method_configuration(preferences={"card": "maybe"})
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_payment_method_configuration(created["id"])


SEPA = {"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"},
        "billing_details": {"name": "Bob Builder", "email": "bob@example.com"}}
ONLINE = {"type": "online", "online": {"ip_address": "203.0.113.5", "user_agent": "UA/2"}}


def test_a_sepa_debit_is_saved_with_its_mandate(provider: BillingProvider,
                                                other_provider: BillingProvider,
                                                shop: dict[str, str],
                                                hosted_pages: BillingProvider) -> None:
    si = provider.create_setup_intent(customer_id=shop["bob"], payment_method_data=SEPA,
                                      mandate_acceptance=ONLINE)
    assert si["status"] == "succeeded" and si["payment_method_types"] == ["sepa_debit"]
    pm = provider.retrieve_payment_method(si["payment_method"], customer_id=shop["bob"])
    assert pm["sepa_debit"]["last4"] == "3000" and pm["customer"] == shop["bob"]
    mandate = provider.retrieve_mandate(si["mandate"], customer_id=shop["bob"])
    assert mandate["payment_method"] == pm["id"] and mandate["status"] == "active"
    assert mandate["customer_acceptance"]["online"]["ip_address"] == "203.0.113.5"
    sepa = mandate["payment_method_details"]["sepa_debit"]
    assert len(sepa["reference"]) == 16
    # Its page: the creditor is the merchant.
    mac = urlsplit(sepa["url"]).path.rsplit("/", 1)[1]
    document = hosted_pages.retrieve_mandate_document(mandate["id"], mac=mac)
    assert document["mandate"] == mandate and document["payment_method"]["id"] == pm["id"]
    assert document["creditor"]
    with pytest.raises(ResourceMissing):
        hosted_pages.retrieve_mandate_document(mandate["id"], mac=mac[:-2] + "xx")
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_mandate_document(mandate["id"], mac=mac)
    with pytest.raises(ResourceMissing):
        provider.retrieve_mandate(mandate["id"], customer_id=shop["ada"])
    with pytest.raises(ResourceMissing):
        other_provider.retrieve_mandate(mandate["id"], customer_id=shop["bob"])
    # Removing the account ends the mandate.
    provider.detach_payment_method(pm["id"], customer_id=shop["bob"])
    assert provider.retrieve_mandate(mandate["id"], customer_id=shop["bob"])["status"] == (
        "inactive")


def test_a_wrong_iban_names_its_field(provider: BillingProvider, shop: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest) as raised:
        provider.create_setup_intent(
            customer_id=shop["bob"], mandate_acceptance=ONLINE,
            payment_method_data={"type": "sepa_debit",
                                 "sepa_debit": {"iban": "DE89370400440532013001"}})
    assert raised.value.param == "sepa_debit[iban]"
    with pytest.raises(InvalidRequest) as card:
        provider.create_setup_intent(customer_id=shop["bob"], payment_method_data={
            "type": "card", "card": {"number": "4242424242424241", "exp_month": "12",
                                     "exp_year": "2031"}})
    assert card.value.param == "card[number]"


def test_a_wallet_is_authorized_on_the_test_page(provider: BillingProvider,
                                                 shop: dict[str, str],
                                                 hosted_pages: BillingProvider) -> None:
    si = provider.create_setup_intent(
        customer_id=shop["bob"], return_url=RETURN_URL,
        payment_method_data={"type": "paypal", "billing_details": {"email": "b@example.com"}})
    assert si["status"] == "requires_action"
    page = hosted_pages.retrieve_test_authorization(page_token(si))
    assert "PayPal" in page["summary"] and page["return_url"] == RETURN_URL
    hosted_pages.complete_test_authorization(page_token(si), succeed=True)
    pm = provider.retrieve_payment_method(si["payment_method"], customer_id=shop["bob"])
    assert pm["type"] == "paypal" and pm["paypal"]["payer_email"] == "b@example.com"
