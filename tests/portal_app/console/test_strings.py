"""The console's gettext domain: its catalog matches the code and reaches pages and handlers."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal_app import i18n
from portal_app.console.strings import CONSOLE_LOCALE, DOMAIN, catalog, ct
from portal_app.settings import ROOT

KEYWORDS = {"ct": None, "ct_var": None}  # pybabel extract --no-default-keywords -k ct -k ct_var


def extracted() -> set[str]:
    """Every console message of the code, as ``pybabel extract`` (babel.cfg) finds it."""
    found = extract_from_dir(ROOT, [("portal_app/**.py", "python")], keywords=KEYWORDS)
    return {message for _, _, message, _, _ in found}


def test_the_template_is_extracted_from_the_code() -> None:
    """Fails until ``locales/console.pot`` is extracted again (see console/strings.py)."""
    assert set(i18n.msgids(DOMAIN)) == extracted()


def test_the_english_catalog_has_every_message() -> None:
    path = Path(i18n.LOCALES_DIR / "en" / "LC_MESSAGES" / f"{DOMAIN}.po")
    with path.open("rb") as handle:
        english = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    assert set(english) == set(i18n.msgids(DOMAIN))
    assert all(english[msgid] == msgid for msgid in english)


def test_the_portal_never_sees_console_messages() -> None:
    portal = set(i18n.msgids())
    assert "Sign in to the Portico console" not in portal
    assert i18n.available_locales() == ("ar", "de", "en", "fr")  # console.po adds no language


def test_ct_and_the_pages_catalog() -> None:
    assert CONSOLE_LOCALE == "en"
    assert ct("Sign out") == "Sign out"
    assert ct("Use at most {decimals} decimals.", decimals=0) == "Use at most 0 decimals."
    assert ct("not in the catalog") == "not in the catalog"
    texts = catalog()
    assert set(texts) == set(i18n.msgids(DOMAIN))
    assert texts["Offers & experiments"] == "Offers & experiments"
