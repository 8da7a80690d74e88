"""Addresses by country: localized names, subdivisions, labels, required fields, postal codes."""

from __future__ import annotations

import pytest

from portal_app import addresses
from portal_app.addresses import address_rules, country_choices, subdivisions, validate_address


def test_country_names_are_in_the_customers_language_and_sorted() -> None:
    german = dict(country_choices("de"))
    assert german["DE"] == "Deutschland" and german["AT"] == "Österreich"
    assert dict(country_choices("fr"))["DE"] == "Allemagne"
    assert dict(country_choices("ar"))["AE"] == "الإمارات العربية المتحدة"
    assert len(german) == 249
    names = [name for _, name in country_choices("de")]
    # "Österreich" sorts among the O's, not after "Zypern".
    assert names.index("Österreich") < names.index("Polen")
    assert addresses.country_name("jp", "en") == "Japan"


@pytest.mark.parametrize(("country", "count", "value", "name"), [
    ("US", 57, "CA", "California"),
    ("CA", 13, "ON", "Ontario"),
    ("BR", 27, "SP", "São Paulo"),
    ("JP", 47, "Tokyo", "Tokyo"),
    ("AE", 7, "Dubai", "Dubai"),
    ("IT", 107, "MI", "Milano"),
])
def test_subdivisions_where_addresses_use_them(country: str, count: int, value: str,
                                               name: str) -> None:
    subs = subdivisions(country, "en")
    assert len(subs) == count
    assert any(s.value == value and s.name == name for s in subs)


@pytest.mark.parametrize("country", ["DE", "GB", "FR", "CH"])
def test_no_subdivisions_where_addresses_do_not_use_them(country: str) -> None:
    assert subdivisions(country, "en") == ()
    assert not address_rules(country, "en").uses_state


def test_subdivision_names_are_translated() -> None:
    assert {s.name for s in subdivisions("JP", "fr")} >= {"Tokyo"}
    assert "Kalifornien" in {s.name for s in subdivisions("US", "de")}


@pytest.mark.parametrize(("country", "locale", "postal", "state", "city"), [
    ("US", "en", "ZIP code", "State", "City"),
    ("GB", "en", "Postcode", "Province", "Post town"),
    ("CA", "en", "Postal code", "Province", "City"),
    ("JP", "en", "Postal code", "Prefecture", "City"),
    ("AE", "en", "Postal code", "Emirate", "City"),
    ("IN", "en", "PIN code", "State", "City"),
    ("IE", "en", "Eircode", "County", "City"),
    ("US", "de", "Postleitzahl (ZIP)", "Bundesstaat", "Stadt"),
    ("DE", "fr", "Code postal", "Province", "Ville"),
])
def test_labels_are_the_countrys_words(country: str, locale: str, postal: str, state: str,
                                       city: str) -> None:
    rules = address_rules(country, locale)
    assert (rules.postal_code_label, rules.state_label, rules.city_label) == (
        postal, state, city)


@pytest.mark.parametrize(("country", "required"), [
    ("US", {"line1", "city", "state", "postal_code", "country"}),
    ("DE", {"line1", "city", "postal_code", "country"}),
    ("GB", {"line1", "city", "postal_code", "country"}),
    ("JP", {"line1", "state", "postal_code", "country"}),
    ("AE", {"line1", "state", "country"}),
    ("BR", {"line1", "city", "state", "postal_code", "country"}),
])
def test_required_fields_per_country(country: str, required: set[str]) -> None:
    assert address_rules(country, "en").required == required


@pytest.mark.parametrize(("country", "good", "bad"), [
    ("US", ["94107", "94107-1234"], ["9410", "ABCDE"]),
    ("DE", ["10117"], ["1011", "101170"]),
    ("GB", ["EC1Y 8SY", "sw1a 1aa"], ["12345", "EC1Y"]),
    ("CA", ["K1A 0B1"], ["12345"]),
    ("JP", ["100-0001"], ["1000"]),
    ("BR", ["01310-100", "01310100"], ["0131"]),
])
def test_postal_codes(country: str, good: list[str], bad: list[str]) -> None:
    assert all(addresses.postal_code_ok(country, code) for code in good)
    assert not any(addresses.postal_code_ok(country, code) for code in bad)
    assert addresses.postal_code_ok("AE", "anything")  # no postal codes there


def test_validate_address_names_each_field_in_the_customers_language() -> None:
    berlin = {"line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117",
              "country": "DE"}
    assert validate_address(berlin, "de") == {}
    assert validate_address({**berlin, "postal_code": "1011"}, "de") == {
        "postal_code": "Bitte Format prüfen, zum Beispiel 26133."}
    assert validate_address({"country": "US", "line1": "1 Main St"}, "en") == {
        "city": "This field is required.", "postal_code": "This field is required.",
        "state": "This field is required."}
    assert validate_address({"country": "US", "line1": "1 Main St", "city": "SF",
                             "state": "Narnia", "postal_code": "94107"}, "en") == {
        "state": "Choose one from the list."}
    assert validate_address({"country": "US", "line1": "1 Main St", "city": "SF",
                             "state": "california", "postal_code": "94107"}, "en") == {}
    assert validate_address({"line1": "x"}, "fr") == {"country": "Ce champ est obligatoire."}
    assert validate_address({"country": "XX", "line1": "x"}, "en") == {
        "country": "Choose a country from the list."}
    assert validate_address({"country": "AE", "line1": "x", "state": "Dubai"}, "ar") == {}
