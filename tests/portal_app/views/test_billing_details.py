"""The billing details view models: fields in the country's words, summaries, tax ID words."""

from __future__ import annotations

from portal_app.errors import InvalidRequest
from portal_app.views import billing_details as views


def test_address_lines_as_the_country_writes_them() -> None:
    assert views.address_lines({"line1": "1 Main St", "line2": "Suite 2", "city": "Springfield",
                                "state": "IL", "postal_code": "62701", "country": "US"},
                               "de") == [
        "1 Main St", "Suite 2", "Springfield, IL 62701", "Vereinigte Staaten"]
    assert views.address_lines({"line1": "Unter den Linden 1", "city": "Berlin",
                                "postal_code": "10117", "country": "DE"}, "fr") == [
        "Unter den Linden 1", "10117 Berlin", "Allemagne"]
    assert views.address_lines(None, "en") == []
    assert views.address_lines({"country": "DE"}, "en") == []


def test_a_new_address_starts_in_the_customers_country() -> None:
    assert [views.default_country(x) for x in ("de", "fr", "en", "en-GB", "ja")] == [
        "DE", "FR", "US", "GB", "JP"]
    fields = views.address_fields("address", None, "de")
    assert fields[0].key == "address.country" and fields[0].value == "DE"
    assert dict((o.value, o.label) for o in fields[0].options)["FR"] == "Frankreich"


def test_changing_the_country_keeps_what_fits() -> None:
    fields = views.address_fields("address", {"country": "US", "state": "CA",
                                              "city": "Oakland"}, "en")
    assert {f.key: f.value for f in fields}["address.state"] == "CA"
    canada = views.with_value(fields, "address.country", "CA", "en")
    values = {f.key: f.value for f in canada}
    assert values["address.city"] == "Oakland" and values["address.state"] == ""
    assert {f.key: f.label for f in canada}["address.state"] == "Province"


def test_only_allowed_fields_are_sent() -> None:
    contact = [views.DetailField("name", "Name", "Ada"), views.DetailField("email", "E", "a@b.c")]
    address = views.address_fields("address", {"country": "DE", "city": "Bonn"}, "en")
    shipping = views.address_fields("shipping", None, "en", extra={})
    change = views.change_of(["name", "address"], contact, address, shipping)
    assert set(change) == {"name", "address"}
    assert change["address"]["city"] == "Bonn"
    # An untouched shipping form (a country alone) is no shipping address.
    assert "shipping" not in views.change_of(["shipping"], [], [], shipping)


def test_tax_id_words() -> None:
    choices = views.tax_type_choices("fr")
    assert [c.value for c in choices[:2]] == ["eu_vat", "gb_vat"] and len(choices) == 135
    assert views.tax_type_label("au_abn", "en") == "Australia · AU ABN"
    assert views.tax_type_label("eu_vat", "de", value="FR40303265045") == "Frankreich · EU VAT"
    refused = InvalidRequest("x", code="tax_id_invalid", param="value")
    assert views.tax_id_error(refused, type="gb_vat", locale="de") == (
        "Diese Nummer ist für den gewählten Typ nicht gültig. Bitte auf Tippfehler prüfen: "
        "Nummern dieses Typs sehen so aus: GB123456789.")


def test_the_tax_id_type_offered_first_follows_the_country() -> None:
    assert [views.default_tax_type(c) for c in ("DE", "GR", "GB", "US", "AE", "AU", "")] == [
        "eu_vat", "eu_vat", "gb_vat", "us_ein", "ae_trn", "au_abn", "eu_vat"]
