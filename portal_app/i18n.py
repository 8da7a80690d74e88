"""Babel, end to end: gettext catalogs, locale negotiation, money and date formatting.

Reflex compiles pages once, so no user-visible string is a literal in a page:
State loads :func:`catalog` for the session's locale and the page reads it, and
money and dates arrive already formatted by the helpers here (the only place
that formats them).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, dates, numbers
from babel.messages.pofile import read_po

from portal_app.settings import ROOT

LOCALES_DIR: Path = ROOT / "locales"
DOMAIN = "messages"
DEFAULT_LOCALE = "en"

# Stripe's zero- and three-decimal currencies; every other currency has two.
ZERO_DECIMAL = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])


def minor_exponent(currency: str) -> int:
    """How many minor-unit digits Stripe uses for ``currency``."""
    code = currency.lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def major_units(amount: int, currency: str) -> Decimal:
    """``amount`` minor units as an exact Decimal of major units (1050 usd: 10.50; jpy: 1050)."""
    return Decimal(amount).scaleb(-minor_exponent(currency))


def minor_units(amount: Decimal, currency: str) -> int:
    """An amount in major units (``Decimal("10.50")``) as minor units of ``currency``.

    Raises ValueError when ``amount`` has more decimals than the currency has minor
    digits (``10.5`` yen), rather than rounding money the merchant typed.
    """
    scaled = amount.scaleb(minor_exponent(currency))
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {minor_exponent(currency)} decimals")
    return int(scaled)


def format_money(amount: int, currency: str, locale: str) -> str:
    """``amount`` minor units of ``currency`` as the customer's locale writes it."""
    return numbers.format_currency(major_units(amount, currency), currency.upper(),
                                   locale=babel_locale(locale))


def format_number(value: int, locale: str) -> str:
    """A count (units of usage) with the locale's digit grouping: ``1,234``, ``1 234``."""
    return numbers.format_decimal(value, locale=babel_locale(locale))


def format_date(value: datetime, locale: str, *, format: str = "medium") -> str:
    """A calendar date in the customer's locale (UTC)."""
    return dates.format_date(value.date(), format=format, locale=babel_locale(locale))


def format_datetime(value: datetime, locale: str, *, format: str = "medium") -> str:
    """A date and time of day in the given locale, in UTC (shown as such)."""
    return dates.format_datetime(value, format=format, tzinfo=dates.UTC,
                                 locale=babel_locale(locale))


def babel_locale(locale: str) -> Locale:
    """Babel's Locale for a Stripe-style tag such as ``en-GB`` (English if unknown)."""
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def is_rtl(locale: str) -> bool:
    """True for right-to-left scripts (Arabic, Hebrew, Persian, ...)."""
    return babel_locale(locale).character_order == "right-to-left"


@cache
def available_locales() -> tuple[str, ...]:
    """Languages that have a catalog under ``locales/``."""
    found = {p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return tuple(sorted(found | {DEFAULT_LOCALE}))


def negotiate(requested: str | None, accept_language: str | None = None) -> str:
    """The locale to use: the session's, or (``auto``/none) the browser's best match.

    Returns a tag with a hyphen (``fr-CA``); its language has a catalog or is ``en``.
    """
    candidates: list[str] = []
    if requested and requested != "auto":
        candidates.append(requested)
    if accept_language:
        candidates.extend(_parse_accept_language(accept_language))
    for tag in candidates:
        tag = tag.replace("_", "-")
        if tag.split("-")[0].lower() in available_locales():
            return tag
    return DEFAULT_LOCALE


def _parse_accept_language(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


@cache
def _read_catalog(language: str, domain: str = DOMAIN) -> dict[str, str]:
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


@cache
def msgids(domain: str = DOMAIN) -> tuple[str, ...]:
    """Every message id of a domain's template catalog (``locales/messages.pot``)."""
    path = LOCALES_DIR / f"{domain}.pot"
    with path.open("rb") as handle:
        return tuple(str(m.id) for m in read_po(handle) if m.id)


def catalog(locale: str, *, domain: str = DOMAIN) -> dict[str, str]:
    """Every message id mapped to its translation for ``locale`` (the id when missing).

    ``domain`` names another catalog family (the console's is ``console``).
    """
    language = babel_locale(locale).language
    translated = _read_catalog(language, domain)
    return {msgid: translated.get(msgid) or msgid for msgid in msgids(domain)}


def gettext(locale: str, message: str, *, domain: str = DOMAIN, **values: object) -> str:
    """One translated message of ``domain``, with ``{name}`` placeholders filled in."""
    language = babel_locale(locale).language
    text = _read_catalog(language, domain).get(message) or message
    return text.format(**values) if values else text


def _(message: str) -> str:
    """Marks a message for ``pybabel extract`` where it is looked up later."""
    return message
