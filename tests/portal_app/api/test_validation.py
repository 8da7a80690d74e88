"""Issue 10, defects 12, 4 (limits) and 11b: malformed input is Stripe's 400, never a 500.

Every endpoint checks its parameters against its declared schema before the
handler runs (``portal_app.api.schema``): a hash where a string belongs, a string
where a hash belongs, an integer past 64 bits, Stripe's metadata, amount, string
and quantity limits, ids that cannot be ids — each answers Stripe's envelope with
``param`` naming the culprit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from portal_app.clock import FrozenClock
from portal_app.testing.fuzz import fuzz_app

MISSING_FEATURES = {"features[subscription_cancel][enabled]": "true"}


@pytest.fixture
def http(database: Engine, clock: FrozenClock, api_key: str) -> Iterator[httpx.Client]:
    """The whole API (Stripe's endpoints and Portico's), in-process."""
    with TestClient(fuzz_app(clock=clock, engine=database),
                    headers={"Authorization": f"Bearer {api_key}"}) as client:
        yield client


def refused(response: httpx.Response, status: int, param: str) -> dict[str, Any]:
    """The error of ``response``, checked: ``status``, Stripe's envelope, ``param``."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "invalid_request_error", error
    assert error["param"] == param, error
    assert isinstance(error["message"], str) and error["message"]
    return error


def product(http: httpx.Client) -> str:
    created: str = http.post("/v1/products", data={"name": "Cloud"}).json()["id"]
    return created


@pytest.mark.parametrize(("form", "param"), [
    ({"features": "x"}, "features"),
    ({"features[subscription_cancel]": "x"}, "features[subscription_cancel]"),
    ({"features[subscription_cancel][cancellation_reason]": "x"},
     "features[subscription_cancel][cancellation_reason]"),
    ({"features[subscription_update][products]": "x"},
     "features[subscription_update][products]"),
    ({"features[subscription_update][products][0]": "x"},
     "features[subscription_update][products][0]"),
    ({"features[subscription_pause][duration][interval_options][0]": "x"},
     "features[subscription_pause][duration][interval_options][0]"),
    ({**MISSING_FEATURES, "business_profile": "x"}, "business_profile"),
    ({**MISSING_FEATURES, "metadata": "x"}, "metadata"),
    ({**MISSING_FEATURES, "metadata[a][b]": "c"}, "metadata[a]"),
    ({**MISSING_FEATURES, "name[a]": "b"}, "name"),
    ({**MISSING_FEATURES, "allowed_return_origins[0][a]": "b"}, "allowed_return_origins[0]"),
    ({**MISSING_FEATURES, "features[subscription_cancel][mode][a]": "x"},
     "features[subscription_cancel][mode]"),
])
def test_malformed_nested_configuration_parameters_are_400(http: httpx.Client,
                                                           form: dict[str, str],
                                                           param: str) -> None:
    refused(http.post("/v1/billing_portal/configurations", data=form), 400, param)


def test_unknown_nested_parameters_name_themselves(http: httpx.Client) -> None:
    error = refused(http.post("/v1/billing_portal/configurations",
                              data={"features[invoice_history][colour]": "red"}),
                    400, "features[invoice_history][colour]")
    assert error["code"] == "parameter_unknown"
    assert error["message"] == "Received unknown parameter: features[invoice_history][colour]"
    error = refused(http.post("/v1/subscriptions", data={"customer": "cus_x",
                                                         "items[0][price]": "p",
                                                         "items[0][tax_rates]": "t"}),
                    400, "items[0][tax_rates]")
    assert error["code"] == "parameter_unknown"


@pytest.mark.parametrize(("path", "form", "param"), [
    ("/v1/customers", {"address": "x"}, "address"),
    ("/v1/customers", {"shipping[address]": "x", "shipping[name]": "n"}, "shipping[address]"),
    ("/v1/customers", {"preferred_locales[a]": "en"}, "preferred_locales"),
    ("/v1/subscriptions", {"customer[a]": "b", "items[0][price]": "x"}, "customer"),
    ("/v1/subscriptions", {"customer": "cus_x", "items": "x"}, "items"),
    ("/v1/subscriptions", {"customer": "cus_x", "items[0]": "x"}, "items[0]"),
    ("/v1/coupons", {"percent_off": "nan"}, "percent_off"),
    ("/v1/coupons", {"percent_off": "1e400"}, "percent_off"),
    ("/v1/prices", {"currency": "usd", "unit_amount": "1", "recurring": "month"},
     "recurring"),
    ("/v1/billing/meter_events", {"event_name": "e", "payload": "x"}, "payload"),
    ("/v1/portico/offers", {"type": "contact", "name": "x", "eligibility[reasons]": "x"},
     "eligibility[reasons]"),
    ("/v1/portico/experiments", {"configuration": "bpc_x", "name": "e",
                                 "variants[0][offers]": "x"}, "variants[0][offers]"),
])
def test_shape_mismatches_anywhere_are_400(http: httpx.Client, path: str,
                                           form: dict[str, str], param: str) -> None:
    refused(http.post(path, data=form), 400, param)


def test_unit_amount_bounds_follow_stripe(http: httpx.Client) -> None:
    prod = product(http)

    def price(amount: int, currency: str = "usd") -> httpx.Response:
        return http.post("/v1/prices", data={"product": prod, "currency": currency,
                                             "unit_amount": str(amount)})

    huge = refused(price(10**20), 400, "unit_amount")
    assert huge["code"] == "parameter_invalid_integer"
    assert huge["message"] == "Invalid integer: 100000000000000000000"
    over = refused(price(100_000_000), 400, "unit_amount")
    assert over["code"] == "amount_too_large"
    assert over["message"] == "Amount must be no more than $999,999.99"
    assert price(99_999_999).status_code == 200
    yen = refused(price(100_000_000, "jpy"), 400, "unit_amount")
    assert yen["message"] == "Amount must be no more than ¥99,999,999"
    # Rp 25,000,000 a year (IDR has two decimals at Stripe): IDR takes twelve digits.
    assert price(2_500_000_000, "idr").status_code == 200
    refused(price(-1), 400, "unit_amount")


def test_amount_off_and_minimum_amount_are_bounded(http: httpx.Client) -> None:
    over = refused(http.post("/v1/coupons", data={"amount_off": str(10**20),
                                                  "currency": "usd"}), 400, "amount_off")
    assert over["code"] == "parameter_invalid_integer"
    over = refused(http.post("/v1/coupons", data={"amount_off": "100000000",
                                                  "currency": "usd"}), 400, "amount_off")
    assert over["code"] == "amount_too_large"
    coupon = http.post("/v1/coupons", data={"percent_off": "10"}).json()["id"]
    refused(http.post("/v1/promotion_codes", data={
        "promotion[coupon]": coupon, "restrictions[minimum_amount]": "100000000",
        "restrictions[minimum_amount_currency]": "usd"}), 400, "restrictions[minimum_amount]")


def test_metadata_limits_are_stripes(http: httpx.Client) -> None:
    fifty = {f"metadata[k{i}]": "v" for i in range(50)}
    assert http.post("/v1/customers", data=fifty).status_code == 200
    error = refused(http.post("/v1/customers", data={**fifty, "metadata[k50]": "v"}),
                    400, "metadata")
    assert error["message"] == "Metadata can have up to 50 keys, but you passed in 51 keys."
    key = "k" * 41
    error = refused(http.post("/v1/customers", data={f"metadata[{key}]": "v"}), 400,
                    f"metadata[{key}]")
    assert error["message"] == ("Metadata keys can have up to 40 characters, but you passed "
                                "in a key that is 41 characters.")
    error = refused(http.post("/v1/customers", data={"metadata[note]": "x" * 501}), 400,
                    "metadata[note]")
    assert error["message"] == ("Metadata values can have up to 500 characters, but you "
                                "passed in a value that is 501 characters.")
    at_limits = {"metadata[" + "k" * 40 + "]": "x" * 500}
    assert http.post("/v1/customers", data=at_limits).status_code == 200


def test_metadata_limits_hold_on_every_endpoint(http: httpx.Client) -> None:
    """The limits live in the metadata converter: any endpoint with metadata has them."""
    long_value = {"metadata[note]": "x" * 501}
    prod = product(http)
    for path, form in [("/v1/products", {"name": "p"}),
                       (f"/v1/products/{prod}", {}),
                       ("/v1/coupons", {"percent_off": "5"}),
                       ("/v1/billing_portal/configurations", MISSING_FEATURES),
                       ("/v1/portico/offers", {"type": "contact", "name": "x",
                                               "contact[url]": "https://a.test"})]:
        refused(http.post(path, data={**form, **long_value}), 400, "metadata[note]")


def test_strings_ids_quantities_and_timestamps_are_bounded(http: httpx.Client) -> None:
    long = refused(http.post("/v1/customers", data={"description": "d" * 5001}), 400,
                   "description")
    assert "must be at most 5000 characters" in long["message"]
    assert http.post("/v1/customers", data={"description": "d" * 5000}).status_code == 200
    refused(http.post("/v1/customers", data={"name": "a\x00b"}), 400, "name")
    refused(http.post("/v1/subscriptions", data={"customer": "cus x",
                                                 "items[0][price]": "p"}), 400, "customer")
    refused(http.post("/v1/subscriptions", data={"customer": "c" * 256,
                                                 "items[0][price]": "p"}), 400, "customer")
    refused(http.post("/v1/subscriptions", data={"customer": "cus_x", "items[0][price]": "p",
                                                 "items[0][quantity]": "-1"}),
            400, "items[0][quantity]")
    refused(http.post("/v1/subscriptions", data={"customer": "cus_x", "items[0][price]": "p",
                                                 "items[0][quantity]": "1000001"}),
            400, "items[0][quantity]")
    refused(http.post("/v1/subscriptions", data={"customer": "cus_x", "items[0][price]": "p",
                                                 "trial_end": "99999999999999999"}),
            400, "trial_end")
    refused(http.post("/v1/subscriptions", data={"customer": "cus_x", "items[0][price]": "p",
                                                 "items[0][quantity]": "1_000"}),
            400, "items[0][quantity]")
    refused(http.post("/v1/billing/meter_events", data={
        "event_name": "e", "payload[stripe_customer_id]": "cus_x",
        "timestamp": str(10**15)}), 400, "timestamp")


def test_ids_in_the_path_that_cannot_be_ids_are_404(http: httpx.Client) -> None:
    for raw in ("cus%00x", "c" * 300, "a%20b"):
        error = refused(http.get(f"/v1/customers/{raw}"), 404, "id")
        assert error["code"] == "resource_missing"


def test_cancellation_feedback_is_one_of_stripes_values(http: httpx.Client) -> None:
    """Defect 11b through the API: Stripe's eight values, else a 400 naming the param."""
    customer = http.post("/v1/customers", data={}).json()["id"]
    prod = product(http)
    price = http.post("/v1/prices", data={"product": prod, "currency": "usd",
                                          "unit_amount": "1000",
                                          "recurring[interval]": "month"}).json()["id"]
    card = http.post("/v1/payment_methods", data={
        "type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
        "card[exp_year]": "2035", "card[cvc]": "123"}).json()["id"]
    http.post(f"/v1/payment_methods/{card}/attach", data={"customer": customer})
    sub = http.post("/v1/subscriptions", data={
        "customer": customer, "items[0][price]": price,
        "default_payment_method": card}).json()["id"]
    error = refused(http.delete(f"/v1/subscriptions/{sub}",
                                params={"cancellation_details[feedback]": "=cmd|' /C calc'!A0"}),
                    400, "cancellation_details[feedback]")
    assert error["message"].startswith("Invalid cancellation_details[feedback]: must be one of")
    assert http.get(f"/v1/subscriptions/{sub}").json()["status"] == "active"
    done = http.delete(f"/v1/subscriptions/{sub}",
                       params={"cancellation_details[feedback]": "too_complex"})
    assert done.status_code == 200, done.text
    assert done.json()["cancellation_details"]["feedback"] == "too_complex"


def test_numbered_parameter_names_are_unknown_not_a_crash(http: httpx.Client) -> None:
    """Found by the fuzz (bench/fuzz.py): a body ``0=`` was a 500 on every POST."""
    for path in ("/v1/prices", "/v1/customers", "/v1/invoices/create_preview"):
        error = refused(http.post(path, content=b"0=",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"}),
                        400, "0")
        assert error["code"] == "parameter_unknown"
