"""The merchant console's words: the gettext domain ``console`` (English for now).

The console speaks gettext like the portal, from a catalog family of its own:
``locales/console.pot`` and ``locales/<lang>/LC_MESSAGES/console.po``. A separate
domain lets the portal ship languages the console has not been translated into
yet (every ``messages`` catalog must be complete; the console's languages come
later). The ``.po`` files are read at run time, as :mod:`portal_app.i18n` reads
the portal's, so there is no ``.mo`` to build.

Python code (States, the sign-in page, the console's view and form modules)
calls :func:`ct`; Reflex compiles pages once, so pages read the same catalog
through ``ConsoleState.text`` with ``ct_var`` (``components/console_widgets.py``).

Extract the messages and update the catalogs, from the repository root::

    pybabel extract -F babel.cfg --no-default-keywords -k ct -k ct_var \\
        -o locales/console.pot .
    pybabel update -D console -i locales/console.pot -d locales -l en --no-fuzzy-matching

then give each new English entry its own id as ``msgstr``. ``--no-default-keywords``
keeps the portal's ``_``/``gettext`` messages out of this domain, and the portal's
command (``-k tr -k _``) never sees ``ct``. An empty ``msgstr`` shows the id, so a
new message reads right at once; tests/portal_app/console/test_strings.py fails
until the template and the English catalog match the code.
"""

from __future__ import annotations

from portal_app import i18n

DOMAIN = "console"
CONSOLE_LOCALE = "en"  # merchant-facing, English until the console's languages come


def ct(message: str, **values: object) -> str:
    """``message`` in the console's language, with ``{name}`` placeholders filled in."""
    return i18n.gettext(CONSOLE_LOCALE, message, domain=DOMAIN, **values)


def catalog() -> dict[str, str]:
    """Every console message id mapped to its text (what ``ConsoleState.text`` holds)."""
    return i18n.catalog(CONSOLE_LOCALE, domain=DOMAIN)
