"""Contract: a customer's tax IDs: list, create (format and check digit), delete; theirs alone."""

from __future__ import annotations

import pytest
import stripe

from portal_app.billing.provider import BillingProvider
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import stripe_fields


def test_create_list_delete(provider: BillingProvider, shop: dict[str, str]) -> None:
    ada = shop["ada"]
    assert provider.list_tax_ids(ada) == []
    vat = provider.create_tax_id(ada, type="eu_vat", value="DE136695976")
    assert set(vat) == set(stripe_fields(stripe.TaxId))
    assert (vat["object"], vat["type"], vat["value"], vat["country"], vat["customer"]) == (
        "tax_id", "eu_vat", "DE136695976", "DE", ada)
    # No network here: a check digit is no verification by a tax authority.
    assert vat["verification"]["status"] == "unavailable"
    assert provider.list_tax_ids(ada) == [vat]
    assert provider.delete_tax_id(ada, vat["id"]) == {"id": vat["id"], "object": "tax_id",
                                                      "deleted": True}
    assert provider.list_tax_ids(ada) == []


@pytest.mark.parametrize("value", ["DE12345", "DE136695977", "136695976"])
def test_a_malformed_number_or_a_wrong_check_digit_is_tax_id_invalid(
        provider: BillingProvider, shop: dict[str, str], value: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        provider.create_tax_id(shop["ada"], type="eu_vat", value=value)
    assert (raised.value.code, raised.value.param) == ("tax_id_invalid", "value")
    assert provider.list_tax_ids(shop["ada"]) == []


def test_only_the_customers_own(provider: BillingProvider, other_provider: BillingProvider,
                                shop: dict[str, str]) -> None:
    mine = provider.create_tax_id(shop["ada"], type="gb_vat", value="GB980780684")
    with pytest.raises(ResourceMissing):
        provider.delete_tax_id(shop["bob"], mine["id"])
    with pytest.raises(ResourceMissing):
        other_provider.list_tax_ids(shop["ada"])
    with pytest.raises(ResourceMissing):
        other_provider.delete_tax_id(shop["ada"], mine["id"])
    assert provider.list_tax_ids(shop["bob"]) == []
    assert [t["id"] for t in provider.list_tax_ids(shop["ada"])] == [mine["id"]]
