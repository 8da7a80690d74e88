"""Reading the console's forms: strings from the browser in, the services' values out.

A form arrives as a mapping of field names to strings (Reflex's ``on_submit``).
These helpers turn one field into a value or raise :class:`FieldProblem`, whose
``field`` is the input the page marks and whose ``message`` says what to type.
Business rules (what a valid offer is) stay with the services: this module only
refuses values that are not values at all (letters where a number goes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from portal_app import i18n
from portal_app.console.strings import CONSOLE_LOCALE, ct


class FieldProblem(ValueError):
    """A form value that is not even a value; ``field`` names the input it is about."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class Choice:
    """One option of a select or checkbox list."""

    value: str
    label: str


def text(form: Mapping[str, Any], name: str) -> str:
    """The field's text without surrounding blanks ("" when absent)."""
    return str(form.get(name) or "").strip()


def whole_number(form: Mapping[str, Any], name: str, *, field: str | None = None
                 ) -> int | None:
    """The field as an int, None when blank.

    Raises FieldProblem (about ``field``, else ``name``) when it is not a whole number.
    """
    raw = text(form, name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise FieldProblem(field or name, ct("Enter a whole number.")) from None


def decimal_number(form: Mapping[str, Any], name: str) -> Decimal | None:
    """The field as an exact Decimal (a decimal comma accepted), None when blank.

    Raises FieldProblem when it is not a finite number.
    """
    raw = text(form, name).replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldProblem(name, ct("Enter a number.")) from None
    if not value.is_finite():
        raise FieldProblem(name, ct("Enter a number."))
    return value


def money_amount(form: Mapping[str, Any], name: str, currency: str) -> int | None:
    """An amount typed in major units ("10.50") as minor units of ``currency`` (1050).

    None when blank. Raises FieldProblem when it is no number, or has more decimals
    than the currency has (``10.5`` yen): money the merchant typed is never rounded.
    """
    amount = decimal_number(form, name)
    if amount is None:
        return None
    try:
        return i18n.minor_units(amount, currency)
    except ValueError:
        raise FieldProblem(name, ct("Use at most {decimals} decimals.",
                                    decimals=i18n.minor_exponent(currency))) from None


def major_amount(amount: int, currency: str) -> str:
    """Minor units as the form shows them to edit: ``1050`` usd is "10.50", jpy "1050"."""
    return str(i18n.major_units(amount, currency))


def blank(value: object) -> str:
    """A service value as an input's initial text: None is blank."""
    return "" if value is None else str(value)


def toggled(values: Sequence[str], value: str, checked: bool) -> list[str]:
    """``values`` with ``value`` ticked (appended once) or unticked (removed)."""
    rest = [v for v in values if v != value]
    return [*rest, value] if checked else rest


def _day(value: date) -> str:
    return i18n.format_date(datetime.combine(value, time(), UTC), CONSOLE_LOCALE)


def date_range(start: str, end: str, *, now: datetime) -> tuple[datetime, datetime]:
    """The first and last instant of a range of two ISO dates, both days included.

    The end is the last instant of the ``end`` day, or ``now`` when that day is
    today. Raises FieldProblem (field ``range``, with a message for the merchant)
    when a date is missing or malformed, lies after today, or the start follows
    the end.

    Examples
    --------
    >>> now = datetime(2026, 1, 31, 12, tzinfo=UTC)
    >>> [d.isoformat() for d in date_range("2025-11-03", "2025-12-31", now=now)]
    ['2025-11-03T00:00:00+00:00', '2025-12-31T23:59:59.999999+00:00']
    """
    if not start.strip() or not end.strip():
        raise FieldProblem("range", ct("Enter both dates of the range."))
    days = []
    for value in (start.strip(), end.strip()):
        try:
            days.append(date.fromisoformat(value))
        except ValueError:
            raise FieldProblem("range", ct(
                "“{value}” is not a date. Use the date picker or YYYY-MM-DD.",
                value=value)) from None
    first, last = days
    today = now.astimezone(UTC).date()
    if first > today or last > today:
        raise FieldProblem("range", ct("The range can't go past today ({today}).",
                                       today=_day(today)))
    if first > last:
        raise FieldProblem("range", ct("The start date ({start}) is after the end date ({end}).",
                                       start=_day(first), end=_day(last)))
    begin = datetime.combine(first, time(), UTC)
    finish = min(now, datetime.combine(last + timedelta(days=1), time(), UTC)
                 - timedelta(microseconds=1))
    return begin, finish
