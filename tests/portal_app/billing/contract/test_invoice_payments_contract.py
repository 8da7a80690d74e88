"""Contract: paying a past-due invoice (invoices.pay), and why the last attempt failed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_app.billing.provider import BillingProvider, StripeObject
from portal_app.errors import CardDeclined, PaymentRequiresAction, ResourceMissing

AFTER_RENEWAL = datetime(2026, 3, 1, tzinfo=UTC)  # the fixture clock starts on 2026-01-31


def go_past_due(provider: BillingProvider, shop: dict[str, str]) -> StripeObject:
    """Ada's card starts failing; the renewal leaves an open invoice. Returns it."""
    failing = provider.attach_payment_method("pm_card_chargeCustomerFail",
                                             customer_id=shop["ada"])
    provider.set_default_payment_method(failing["id"], customer_id=shop["ada"])
    provider.advance_clock(AFTER_RENEWAL)
    sub = provider.retrieve_subscription(shop["sub"], customer_id=shop["ada"])
    assert sub["status"] == "past_due"
    invoice = provider.retrieve_invoice(sub["latest_invoice"], customer_id=shop["ada"])
    assert invoice["status"] == "open"
    return invoice


def visa_of(provider: BillingProvider, customer_id: str) -> str:
    return next(pm["id"] for pm in provider.list_payment_methods(customer_id)
                if pm["card"]["last4"] == "4242")


def test_decline_then_pay_with_a_saved_card(provider: BillingProvider,
                                           shop: dict[str, str]) -> None:
    invoice = go_past_due(provider, shop)
    error = provider.last_payment_error(invoice["id"], customer_id=shop["ada"])
    assert error is not None
    assert (error["code"], error["decline_code"]) == ("card_declined", "generic_decline")
    assert error["payment_method"]["card"]["last4"] == "0341"
    with pytest.raises(CardDeclined) as declined:
        provider.pay_invoice(invoice["id"], customer_id=shop["ada"])
    assert declined.value.decline_code == "generic_decline"
    retried = provider.retrieve_invoice(invoice["id"], customer_id=shop["ada"])
    assert (retried["status"], retried["attempt_count"]) == ("open", invoice["attempt_count"] + 1)

    paid = provider.pay_invoice(invoice["id"], customer_id=shop["ada"],
                                payment_method=visa_of(provider, shop["ada"]))
    assert (paid["status"], paid["amount_remaining"]) == ("paid", 0)
    assert provider.retrieve_subscription(shop["sub"], customer_id=shop["ada"])["status"] == (
        "active")
    assert provider.last_payment_error(invoice["id"], customer_id=shop["ada"]) is None


def test_only_the_customers_own_invoice(provider: BillingProvider,
                                        other_provider: BillingProvider,
                                        shop: dict[str, str]) -> None:
    invoice = go_past_due(provider, shop)
    with pytest.raises(ResourceMissing):
        provider.pay_invoice(invoice["id"], customer_id=shop["bob"])
    with pytest.raises(ResourceMissing):
        provider.last_payment_error(invoice["id"], customer_id=shop["bob"])
    with pytest.raises(ResourceMissing):
        other_provider.pay_invoice(invoice["id"], customer_id=shop["ada"])
    assert provider.retrieve_invoice(invoice["id"], customer_id=shop["ada"])["status"] == "open"


def test_three_d_secure_goes_through_the_test_page(provider: BillingProvider,
                                                   shop: dict[str, str],
                                                   hosted_pages: BillingProvider) -> None:
    invoice = go_past_due(provider, shop)
    secure = provider.attach_payment_method("pm_card_threeDSecure2Required",
                                            customer_id=shop["ada"])
    with pytest.raises(PaymentRequiresAction) as action:
        provider.pay_invoice(invoice["id"], customer_id=shop["ada"],
                             payment_method=secure["id"],
                             return_url="https://shop.example/after")
    url = action.value.redirect_url
    assert url is not None and "/test/authorize/" in url
    token = url.rsplit("/", 1)[1]
    page = hosted_pages.retrieve_test_authorization(token)
    assert (page["amount"], page["currency"]) == (invoice["amount_remaining"], "eur")
    done = hosted_pages.complete_test_authorization(token, succeed=True)
    assert done["redirect_url"].startswith("https://shop.example/after?invoice=")
    assert provider.retrieve_invoice(invoice["id"], customer_id=shop["ada"])["status"] == "paid"
    assert provider.retrieve_subscription(shop["sub"], customer_id=shop["ada"])["status"] == (
        "active")


def test_failed_authorization_leaves_the_invoice_open(provider: BillingProvider,
                                                      shop: dict[str, str],
                                                      hosted_pages: BillingProvider) -> None:
    invoice = go_past_due(provider, shop)
    with pytest.raises(PaymentRequiresAction) as action:
        provider.pay_invoice(invoice["id"], customer_id=shop["ada"],
                             payment_method="pm_card_threeDSecure2Required",
                             return_url="https://shop.example/after")
    assert action.value.redirect_url is not None
    hosted_pages.complete_test_authorization(action.value.redirect_url.rsplit("/", 1)[1],
                                         succeed=False)
    assert provider.retrieve_invoice(invoice["id"], customer_id=shop["ada"])["status"] == "open"
