"""Billing meters through the official SDK: meters, meter events, summaries, metered prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe

from portal_app.clock import FrozenClock, to_unix
from tests.conftest import START
from tests.portal_app.api.test_shapes import mismatches

FEB_28 = datetime(2026, 2, 28, 12, tzinfo=UTC)


def raw(api_url: str, api_key: str, path: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{api_url}{path}", params=params,
                         headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def meter(client: stripe.StripeClient) -> stripe.billing.Meter:
    return client.v1.billing.meters.create({
        "display_name": "API calls", "event_name": "api_call",
        "default_aggregation": {"formula": "sum"}})


@pytest.fixture
def customer(client: stripe.StripeClient) -> stripe.Customer:
    return client.v1.customers.create({"email": "ada@example.com",
                                       "payment_method": "pm_card_visa"})


def test_meters_create_retrieve_update_list_and_their_shapes(
        client: stripe.StripeClient, meter: stripe.billing.Meter, api_url: str,
        api_key: str) -> None:
    assert isinstance(meter, stripe.billing.Meter)
    assert meter.id.startswith("mtr_") and meter.object == "billing.meter"
    assert (meter.status, meter.default_aggregation.formula) == ("active", "sum")
    assert meter.customer_mapping.event_payload_key == "stripe_customer_id"
    assert meter.customer_mapping.type == "by_id"
    assert meter.value_settings.event_payload_key == "value"
    assert meter.status_transitions.deactivated_at is None
    assert mismatches(stripe.billing.Meter,
                      raw(api_url, api_key, f"/v1/billing/meters/{meter.id}"), "meter") == []
    custom = client.v1.billing.meters.create({
        "display_name": "Storage", "event_name": "bytes",
        "default_aggregation": {"formula": "last"},
        "customer_mapping": {"event_payload_key": "account", "type": "by_id"},
        "value_settings": {"event_payload_key": "bytes_used"}})
    assert (custom.customer_mapping.event_payload_key,
            custom.value_settings.event_payload_key) == ("account", "bytes_used")
    renamed = client.v1.billing.meters.update(meter.id, {"display_name": "Requests"})
    assert renamed.display_name == "Requests"
    assert client.v1.billing.meters.retrieve(meter.id).display_name == "Requests"
    assert {m.id for m in client.v1.billing.meters.list().data} == {meter.id, custom.id}


def test_deactivate_and_reactivate(client: stripe.StripeClient, clock: FrozenClock,
                                   meter: stripe.billing.Meter, customer: stripe.Customer
                                   ) -> None:
    off = client.v1.billing.meters.deactivate(meter.id)
    assert (off.status, off.status_transitions.deactivated_at) == ("inactive", to_unix(START))
    assert [m.id for m in client.v1.billing.meters.list({"status": "inactive"}).data] == [
        meter.id]
    assert client.v1.billing.meters.list({"status": "active"}).data == []
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.billing.meter_events.create({
            "event_name": "api_call", "payload": {"stripe_customer_id": customer.id,
                                                  "value": "1"}})
    assert refused.value.http_status == 400 and refused.value.param == "event_name"
    on = client.v1.billing.meters.reactivate(meter.id)
    assert (on.status, on.status_transitions.deactivated_at) == ("active", None)


def test_meter_parameters_are_checked(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.billing.meters.create({"display_name": "X", "event_name": "x"})
    assert missing.value.param == "default_aggregation"
    with pytest.raises(stripe.InvalidRequestError) as wrong:
        client.v1.billing.meters.create({"display_name": "X", "event_name": "x",
                                         "default_aggregation": {"formula": "max"}})
    assert wrong.value.param == "default_aggregation[formula]"
    with pytest.raises(stripe.InvalidRequestError) as mapping:
        client.v1.billing.meters.create({
            "display_name": "X", "event_name": "x", "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"event_payload_key": "c", "type": "by_email"}})
    assert mapping.value.param == "customer_mapping[type]"
    with pytest.raises(stripe.InvalidRequestError) as missing_meter:
        client.v1.billing.meters.retrieve("mtr_nope")
    assert missing_meter.value.http_status == 404


def test_meter_events_are_deduplicated_by_identifier(
        client: stripe.StripeClient, api_url: str, api_key: str, meter: stripe.billing.Meter,
        customer: stripe.Customer) -> None:
    params = {"event_name": "api_call", "identifier": "req_42", "timestamp": to_unix(START),
              "payload": {"stripe_customer_id": customer.id, "value": "25"}}
    event = client.v1.billing.meter_events.create(params)
    assert isinstance(event, stripe.billing.MeterEvent)
    assert (event.object, event.identifier, event.timestamp) == (
        "billing.meter_event", "req_42", to_unix(START))
    assert event.payload.to_dict() == {"stripe_customer_id": customer.id, "value": "25"}
    response = httpx.post(f"{api_url}/v1/billing/meter_events",
                          headers={"Authorization": f"Bearer {api_key}"},
                          data={"event_name": "api_call", "identifier": "req_42",
                                "timestamp": str(to_unix(START)),
                                "payload[stripe_customer_id]": customer.id,
                                "payload[value]": "25"})
    assert response.status_code == 200
    assert mismatches(stripe.billing.MeterEvent, response.json(), "meter_event") == []
    with pytest.raises(stripe.InvalidRequestError) as conflict:
        client.v1.billing.meter_events.create({**params, "payload": {
            "stripe_customer_id": customer.id, "value": "26"}})
    assert conflict.value.param == "identifier"
    generated = client.v1.billing.meter_events.create({
        "event_name": "api_call", "payload": {"stripe_customer_id": customer.id,
                                              "value": "5"}})
    assert generated.identifier and generated.identifier != "req_42"
    summary = client.v1.billing.meters.event_summaries.list(meter.id, {
        "customer": customer.id, "start_time": to_unix(START),
        "end_time": to_unix(START + timedelta(minutes=1))})
    assert [s.aggregated_value for s in summary.data] == [30.0]


@pytest.mark.parametrize(("payload", "param", "status"), [
    ({"value": "1"}, "payload[stripe_customer_id]", 400),
    ({"stripe_customer_id": "cus_nope", "value": "1"}, "payload[stripe_customer_id]", 404),
    ({"stripe_customer_id": "CUSTOMER", "value": "lots"}, "payload[value]", 400),
])
def test_meter_event_errors(client: stripe.StripeClient, meter: stripe.billing.Meter,
                            customer: stripe.Customer, payload: dict[str, str], param: str,
                            status: int) -> None:
    given = {k: customer.id if v == "CUSTOMER" else v for k, v in payload.items()}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.billing.meter_events.create({"event_name": "api_call", "payload": given})
    assert (refused.value.param, refused.value.http_status) == (param, status)


def test_event_summaries_grouped_by_hour_page_through(
        client: stripe.StripeClient, api_url: str, api_key: str,
        meter: stripe.billing.Meter, customer: stripe.Customer) -> None:
    day = datetime(2026, 1, 31, tzinfo=UTC)
    for hour in range(3):
        client.v1.billing.meter_events.create({
            "event_name": "api_call", "timestamp": to_unix(day + timedelta(hours=hour)),
            "payload": {"stripe_customer_id": customer.id, "value": str(hour + 1)}})
    params = {"customer": customer.id, "start_time": to_unix(day),
              "end_time": to_unix(day + timedelta(days=1)), "value_grouping_window": "hour"}
    first = client.v1.billing.meters.event_summaries.list(meter.id, {**params, "limit": 2})
    assert [s.aggregated_value for s in first.data] == [3.0, 2.0] and first.has_more
    assert all(isinstance(s, stripe.billing.MeterEventSummary) for s in first.data)
    assert (first.data[0].start_time, first.data[0].end_time) == (
        to_unix(day + timedelta(hours=2)), to_unix(day + timedelta(hours=3)))
    rest = client.v1.billing.meters.event_summaries.list(
        meter.id, {**params, "limit": 2, "starting_after": first.data[-1].id})
    assert [s.aggregated_value for s in rest.data] == [1.0] and not rest.has_more
    body = raw(api_url, api_key, f"/v1/billing/meters/{meter.id}/event_summaries", **params)
    assert body["url"] == f"/v1/billing/meters/{meter.id}/event_summaries"
    for item in body["data"]:
        assert mismatches(stripe.billing.MeterEventSummary, item, "summary") == []
        assert item["meter"] == meter.id
    with pytest.raises(stripe.InvalidRequestError) as misaligned:
        client.v1.billing.meters.event_summaries.list(meter.id, {
            **params, "start_time": to_unix(day) + 30})
    assert misaligned.value.param == "start_time"


def test_metered_prices_need_a_meter_and_bill_its_usage(
        client: stripe.StripeClient, clock: FrozenClock, api_url: str, api_key: str,
        meter: stripe.billing.Meter, customer: stripe.Customer) -> None:
    product = client.v1.products.create({"name": "API access", "unit_label": "API calls"})
    assert product.unit_label == "API calls"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 5,
                                 "recurring": {"interval": "month", "usage_type": "metered"}})
    assert (refused.value.param, refused.value.code) == ("recurring[meter]",
                                                         "parameter_missing")
    price = client.v1.prices.create({
        "product": product.id, "currency": "usd", "unit_amount": 5,
        "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id}})
    assert (price.recurring.meter, price.recurring.usage_type) == (meter.id, "metered")
    assert mismatches(stripe.Price, raw(api_url, api_key, f"/v1/prices/{price.id}"),
                      "price") == []
    sub = client.v1.subscriptions.create({"customer": customer.id,
                                          "items": [{"price": price.id}]})
    clock.set(FEB_28 - timedelta(minutes=1))
    for value, at in (("1200", START + timedelta(days=3)), ("34", FEB_28 - timedelta(seconds=1)),
                      ("99", FEB_28)):
        client.v1.billing.meter_events.create({
            "event_name": "api_call", "timestamp": to_unix(at),
            "payload": {"stripe_customer_id": customer.id, "value": value}})
    upcoming = client.v1.invoices.create_preview({"subscription": sub.id})
    assert [(ln.quantity, ln.amount) for ln in upcoming.lines.data] == [(1234, 6170)]
    assert upcoming.lines.data[0].description == (
        "API access — Usage: 1,234 API calls (at $0.05 / unit)")
