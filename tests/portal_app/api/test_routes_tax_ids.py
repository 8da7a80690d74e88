"""Customers' tax IDs through the official SDK: create, list, retrieve, delete, and errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import stripe

from portal_app.clock import FrozenClock
from tests.conftest import START
from tests.portal_app.api.test_shapes import mismatches
from tests.portal_app.billing.helpers import MakeUow, events_of


def raw(api_url: str, api_key: str, path: str) -> dict[str, Any]:
    response = httpx.get(f"{api_url}{path}", headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def customer(client: stripe.StripeClient) -> stripe.Customer:
    return client.v1.customers.create({"email": "ada@example.com", "name": "Ada GmbH"})


def test_create_retrieve_list_delete_through_the_sdk(
        client: stripe.StripeClient, customer: stripe.Customer, api_url: str, api_key: str,
        clock: FrozenClock) -> None:
    vat = client.v1.customers.tax_ids.create(customer.id, {"type": "eu_vat",
                                                           "value": "DE136695976"})
    assert isinstance(vat, stripe.TaxId)
    assert vat.id.startswith("txi_") and vat.object == "tax_id"
    assert (vat.type, vat.value, vat.country, vat.customer) == (
        "eu_vat", "DE136695976", "DE", customer.id)
    assert vat.verification is not None and vat.verification.status == "unavailable"
    assert vat.created == int(START.timestamp()) and vat.livemode is False
    assert mismatches(stripe.TaxId, raw(api_url, api_key,
                                        f"/v1/customers/{customer.id}/tax_ids/{vat.id}"),
                      "tax_id") == []
    clock.set(START + timedelta(seconds=1))
    ein = client.v1.customers.tax_ids.create(customer.id, {"type": "us_ein",
                                                           "value": "12-3456789"})
    assert client.v1.customers.tax_ids.retrieve(customer.id, vat.id).value == "DE136695976"
    listed = client.v1.customers.tax_ids.list(customer.id)
    assert [t.id for t in listed.data] == [ein.id, vat.id]
    assert listed.url == f"/v1/customers/{customer.id}/tax_ids"
    page = client.v1.customers.tax_ids.list(customer.id, {"limit": 1})
    assert [t.id for t in page.data] == [ein.id] and page.has_more
    after = client.v1.customers.tax_ids.list(customer.id, {"starting_after": ein.id})
    assert [t.id for t in after.data] == [vat.id]
    deleted = client.v1.customers.tax_ids.delete(customer.id, vat.id)
    assert (deleted.id, deleted.deleted) == (vat.id, True)
    assert [t.id for t in client.v1.customers.tax_ids.list(customer.id).data] == [ein.id]


def test_legacy_resource_methods_work_too(client: stripe.StripeClient, api_url: str,
                                          api_key: str, customer: stripe.Customer) -> None:
    options: dict[str, Any] = {"api_key": api_key}
    with _base(api_url):
        made = stripe.Customer.create_tax_id(customer.id, type="gb_vat", value="GB980780684",
                                             **options)
        assert stripe.Customer.retrieve_tax_id(customer.id, made.id, **options).type == "gb_vat"
        assert [t.id for t in stripe.Customer.list_tax_ids(customer.id, **options).data] == [
            made.id]
        assert stripe.Customer.delete_tax_id(customer.id, made.id, **options).deleted is True


class _base:
    """``stripe.api_base`` pointed at Portico for the block."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        self.saved = stripe.api_base
        stripe.api_base = self.url

    def __exit__(self, *exc: object) -> None:
        stripe.api_base = self.saved


@pytest.mark.parametrize(("params", "param", "code"), [
    ({"type": "eu_vat", "value": "DE12345"}, "value", "tax_id_invalid"),
    ({"type": "eu_vat", "value": "DE136695977"}, "value", "tax_id_invalid"),   # check digit
    ({"type": "au_abn", "value": "51 824 753 557"}, "value", "tax_id_invalid"),
    ({"type": "us_ein", "value": "12345"}, "value", "tax_id_invalid"),
    ({"type": "xx_vat", "value": "123"}, "type", None),
    ({"type": "eu_vat"}, "value", "parameter_missing"),
])
def test_refusals_name_the_parameter(client: stripe.StripeClient, customer: stripe.Customer,
                                     params: dict[str, Any], param: str, code: str | None
                                     ) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.tax_ids.create(customer.id, params)  # type: ignore[arg-type]
    assert caught.value.http_status == 400
    assert caught.value.param == param
    if code is not None:
        assert caught.value.code == code
    assert client.v1.customers.tax_ids.list(customer.id).data == []


def test_missing_objects_are_404(client: stripe.StripeClient, customer: stripe.Customer
                                 ) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.tax_ids.create("cus_missing", {"type": "us_ein",
                                                           "value": "12-3456789"})
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    other = client.v1.customers.create({"email": "grace@example.com"})
    mine = client.v1.customers.tax_ids.create(customer.id, {"type": "us_ein",
                                                            "value": "12-3456789"})
    for call in (lambda: client.v1.customers.tax_ids.retrieve(other.id, mine.id),
                 lambda: client.v1.customers.tax_ids.delete(other.id, mine.id),
                 lambda: client.v1.customers.tax_ids.retrieve(customer.id, "txi_missing")):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call()
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    client.v1.customers.tax_ids.delete(customer.id, mine.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.tax_ids.delete(customer.id, mine.id)
    assert caught.value.http_status == 404


def test_events_are_recorded(client: stripe.StripeClient, customer: stripe.Customer,
                             account_id: str, make_uow: MakeUow) -> None:
    made = client.v1.customers.tax_ids.create(customer.id, {"type": "us_ein",
                                                            "value": "12-3456789"})
    client.v1.customers.tax_ids.delete(customer.id, made.id)
    client.v1.customers.update(customer.id, {"name": "Ada AG",
                                             "address": {"country": "DE", "city": "Bonn"}})
    events = events_of(make_uow, account_id)
    assert [e.type for e in events][-3:] == [
        "customer.tax_id.created", "customer.tax_id.deleted", "customer.updated"]
    assert all(e.customer_id == customer.id for e in events[-3:])
    assert events[-1].previous_attributes == {"name": "Ada GmbH", "address": None}


def test_tax_exempt_is_updatable(client: stripe.StripeClient, customer: stripe.Customer
                                 ) -> None:
    assert client.v1.customers.update(customer.id, {"tax_exempt": "reverse"}).tax_exempt == (
        "reverse")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.update(customer.id, {"tax_exempt": "sometimes"})  # type: ignore[typeddict-item]
    assert caught.value.param == "tax_exempt"
