"""Babel helpers: money in minor units per currency and locale, negotiation, RTL, catalogs."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from hypothesis import given
from hypothesis import strategies as st

from portal_app import i18n

NBSP = "\xa0"


@pytest.mark.parametrize(("amount", "currency", "locale", "expected"), [
    (1999, "usd", "en", "$19.99"),
    (1999, "USD", "en-US", "$19.99"),
    (5, "usd", "en", "$0.05"),
    (0, "usd", "en", "$0.00"),
    (-500, "usd", "en", "-$5.00"),
    (123456789, "usd", "en", "$1,234,567.89"),
    (1999, "eur", "de", f"19,99{NBSP}€"),
    (1999, "eur", "fr", f"19,99{NBSP}€"),
    (1999, "gbp", "en-GB", "£19.99"),
    (1999, "chf", "de-CH", f"CHF{NBSP}19.99"),
    (1500, "jpy", "en", "¥1,500"),  # zero-decimal: 1500 minor units are 1500 yen
    (1500, "jpy", "ja", "￥1,500"),
    (0, "jpy", "ja", "￥0"),
    (50000, "krw", "ko", "₩50,000"),
    (12345, "kwd", "en", "KWD12.345"),  # three-decimal: 12.345 dinars
    (12345, "bhd", "en", "BHD12.345"),
    (1999, "usd", "xx-nowhere", "$19.99"),  # unknown locales fall back to English
])
def test_format_money(amount: int, currency: str, locale: str, expected: str) -> None:
    assert i18n.format_money(amount, currency, locale) == expected


def test_three_decimal_money_in_arabic() -> None:
    text = i18n.format_money(12345, "kwd", "ar")
    assert "12.345" in text or "١٢٫٣٤٥" in text
    assert "د.ك" in text


@pytest.mark.parametrize(("currency", "exponent"), [
    ("usd", 2), ("EUR", 2), ("jpy", 0), ("krw", 0), ("xof", 0), ("kwd", 3), ("bhd", 3),
    ("tnd", 3),
])
def test_minor_exponent(currency: str, exponent: int) -> None:
    assert i18n.minor_exponent(currency) == exponent


@pytest.mark.parametrize(("minor", "currency", "major"), [
    (1050, "usd", "10.50"), (5, "eur", "0.05"), (1500, "jpy", "1500"), (12345, "kwd", "12.345"),
])
def test_major_and_minor_units(minor: int, currency: str, major: str) -> None:
    assert str(i18n.major_units(minor, currency)) == major
    assert i18n.minor_units(Decimal(major), currency) == minor
    assert i18n.minor_units(Decimal("10"), currency) == 10 * 10 ** i18n.minor_exponent(currency)


@pytest.mark.parametrize(("major", "currency"), [("10.5", "jpy"), ("0.005", "usd"),
                                                 ("1.2345", "kwd"), ("Infinity", "usd")])
def test_minor_units_never_round(major: str, currency: str) -> None:
    with pytest.raises(ValueError):
        i18n.minor_units(Decimal(major), currency)


@given(st.integers(-10**12, 10**12),
       st.sampled_from(["usd", "eur", "gbp", "jpy", "krw", "kwd", "bhd", "chf", "inr"]))
def test_money_keeps_every_minor_unit(amount: int, currency: str) -> None:
    text = i18n.format_money(amount, currency, "en")
    digits = re.sub(r"\D", "", text)
    assert int(digits) == abs(amount)
    assert text.startswith("-") == (amount < 0)
    decimals = i18n.minor_exponent(currency)
    if decimals:
        assert re.search(rf"\.\d{{{decimals}}}$", text)
    else:
        assert "." not in text


def test_format_date_in_the_customers_locale() -> None:
    late_evening = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert i18n.format_date(late_evening, "en") == "Feb 28, 2026"
    assert i18n.format_date(late_evening, "de") == "28.02.2026"
    assert i18n.format_date(late_evening, "ja") == "2026/02/28"


@pytest.mark.parametrize(("locale", "rtl"), [
    ("ar", True), ("he", True), ("fa", True), ("ur", True), ("ar-EG", True),
    ("en", False), ("fr-CA", False), ("ja", False), ("zh-TW", False), ("nonsense", False),
])
def test_is_rtl(locale: str, rtl: bool) -> None:
    assert i18n.is_rtl(locale) is rtl


@pytest.mark.parametrize(("requested", "header", "expected"), [
    ("en-GB", "de-DE,de;q=0.9", "en-GB"),
    ("auto", "en-AU,en;q=0.8", "en-AU"),
    (None, "xx-YY, en-GB;q=0.5", "en-GB"),
    ("auto", "de;q=0.3, en-US;q=0.9", "en-US"),
    ("auto", "*, en_IE;q=0.1", "en-IE"),
    ("auto", "en;q=oops, en-CA;q=0.2", "en-CA"),
    ("auto", None, "en"),
    (None, "", "en"),
    ("auto", "tlh", "en"),
    ("ko", "ja", "en"),  # no catalog for either: English
])
def test_negotiate(requested: str | None, header: str | None, expected: str) -> None:
    assert i18n.negotiate(requested, header) == expected


@pytest.fixture
def with_italian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The real locales folder plus a small Italian catalog (a language Portico lacks)."""
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, locales)
    catalog = Catalog(locale="it")
    catalog.add("No invoices yet.", "Ancora nessuna fattura.")
    catalog.add("Return to {business}", "Torna a {business}")
    (locales / "it" / "LC_MESSAGES").mkdir(parents=True)
    with (locales / "it" / "LC_MESSAGES" / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    caches = (i18n.available_locales, i18n._read_catalog, i18n.msgids)
    monkeypatch.setattr(i18n, "LOCALES_DIR", locales)
    for cached in caches:
        cached.cache_clear()
    yield locales
    monkeypatch.undo()
    for cached in caches:
        cached.cache_clear()


def test_a_new_catalog_is_a_new_language(with_italian: Path) -> None:
    assert "it" not in SHIPPED
    assert i18n.available_locales() == tuple(sorted({*SHIPPED, "it"}))
    assert i18n.negotiate("auto", "it-CH,it;q=0.9,en;q=0.5") == "it-CH"
    assert i18n.negotiate("auto", "ko, it;q=0.4") == "it"
    assert i18n.gettext("it-CH", "Return to {business}", business="Acme") == "Torna a Acme"
    italian = i18n.catalog("it")
    assert italian["No invoices yet."] == "Ancora nessuna fattura."
    assert italian["No subscriptions yet"] == "No subscriptions yet"  # untranslated: the id
    assert set(italian) == set(i18n.msgids())


def test_english_catalog_covers_every_message() -> None:
    english = i18n.catalog("en")
    assert set(english) == set(i18n.msgids()) and english
    assert all(english.values())
    assert i18n.gettext("en", "Return to {business}", business="Acme") == "Return to Acme"
    assert i18n.gettext("en", "not in any catalog") == "not in any catalog"


SHIPPED = ("ar", "de", "en", "fr")
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def test_the_shipped_languages_are_the_catalogs() -> None:
    assert i18n.available_locales() == SHIPPED


@pytest.mark.parametrize("language", SHIPPED)
def test_every_catalog_translates_every_message_with_its_placeholders(language: str) -> None:
    """A new message id fails here until every language has it (pybabel update, translate)."""
    path = i18n.LOCALES_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as handle:
        po = read_po(handle, locale=language)
    entries = {str(m.id): m for m in po if m.id}
    assert sorted(set(i18n.msgids()) - set(entries)) == []  # missing from the catalog
    for msgid in i18n.msgids():
        entry = entries[msgid]
        assert not entry.fuzzy, msgid
        assert entry.string, msgid
        assert sorted(PLACEHOLDER.findall(str(entry.string))) == \
            sorted(PLACEHOLDER.findall(msgid)), msgid
        values = dict.fromkeys(PLACEHOLDER.findall(msgid), "x")
        i18n.gettext(language, msgid, **values)  # formats: no stray braces


@pytest.mark.parametrize(("locale", "message", "expected"), [
    ("de", "Payment method", "Zahlungsmethode"),
    ("de-AT", "Invoice history", "Rechnungsverlauf"),
    ("fr", "Payment method", "Moyen de paiement"),
    ("fr-CA", "Next invoice", "Prochaine facture"),
    ("ar", "Your subscriptions", "اشتراكاتك"),
])
def test_translations_reach_regional_variants(locale: str, message: str, expected: str) -> None:
    assert i18n.gettext(locale, message) == expected
    assert i18n.catalog(locale)[message] == expected


def test_placeholders_are_filled_in_the_translation() -> None:
    assert i18n.gettext("de", "Renews on {date}", date="28.02.2026") == \
        "Verlängert sich am 28.02.2026"
    assert i18n.gettext("fr", "Return to {business}", business="Acme") == "Retour à Acme"


@pytest.mark.parametrize(("header", "expected"), [
    ("de-DE,de;q=0.9,en;q=0.5", "de-DE"),
    ("fr-CH, fr;q=0.9", "fr-CH"),
    ("ar-EG,ar;q=0.9", "ar-EG"),
    ("ko, fr;q=0.4", "fr"),
])
def test_negotiate_picks_the_shipped_catalogs(header: str, expected: str) -> None:
    assert i18n.negotiate("auto", header) == expected
