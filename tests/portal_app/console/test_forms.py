"""Reading console forms: text, whole numbers, decimals, money in minor units, date ranges."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portal_app.console.forms import (
    FieldProblem,
    blank,
    date_range,
    decimal_number,
    major_amount,
    money_amount,
    text,
    toggled,
    whole_number,
)

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)


def test_text_strips_and_treats_absent_as_blank() -> None:
    assert text({"name": "  Half off "}, "name") == "Half off"
    assert text({"name": None}, "name") == ""
    assert text({}, "name") == ""


@pytest.mark.parametrize(("raw", "expected"), [("7", 7), (" 12 ", 12), ("-3", -3), ("", None),
                                               ("  ", None)])
def test_whole_number(raw: str, expected: int | None) -> None:
    assert whole_number({"days": raw}, "days") == expected


@pytest.mark.parametrize("raw", ["two", "1.5", "1e3", "7 days"])
def test_whole_number_refuses_what_is_no_whole_number(raw: str) -> None:
    with pytest.raises(FieldProblem) as refused:
        whole_number({"vweight_v2": raw}, "vweight_v2")
    assert (refused.value.field, refused.value.message) == ("vweight_v2", "Enter a whole number.")


def test_whole_number_problem_can_name_another_field() -> None:
    with pytest.raises(FieldProblem) as refused:
        whole_number({"count": "x"}, "count", field="pause_count")
    assert refused.value.field == "pause_count"


@pytest.mark.parametrize(("raw", "expected"), [("50", Decimal("50")), ("12,5", Decimal("12.5")),
                                               ("0.25", Decimal("0.25")), ("", None)])
def test_decimal_number(raw: str, expected: Decimal | None) -> None:
    assert decimal_number({"percent": raw}, "percent") == expected


@pytest.mark.parametrize("raw", ["fifty", "Infinity", "NaN", "1..2"])
def test_decimal_number_refuses_what_is_no_finite_number(raw: str) -> None:
    with pytest.raises(FieldProblem) as refused:
        decimal_number({"percent": raw}, "percent")
    assert (refused.value.field, refused.value.message) == ("percent", "Enter a number.")


@pytest.mark.parametrize(("raw", "currency", "minor"), [
    ("10.50", "usd", 1050), ("10", "eur", 1000), ("0.05", "usd", 5), ("10,5", "eur", 1050),
    ("1500", "jpy", 1500),  # zero-decimal: yen are their own minor unit
    ("12.345", "kwd", 12345),  # three-decimal
    ("", "usd", None),
])
def test_money_amount_in_minor_units(raw: str, currency: str, minor: int | None) -> None:
    assert money_amount({"amount": raw}, "amount", currency) == minor


@pytest.mark.parametrize(("raw", "currency", "message"), [
    ("10.5", "jpy", "Use at most 0 decimals."),
    ("10.505", "usd", "Use at most 2 decimals."),
    ("1.2345", "kwd", "Use at most 3 decimals."),
])
def test_money_amount_is_never_rounded(raw: str, currency: str, message: str) -> None:
    with pytest.raises(FieldProblem) as refused:
        money_amount({"amount": raw}, "amount", currency)
    assert (refused.value.field, refused.value.message) == ("amount", message)


@pytest.mark.parametrize(("minor", "currency", "shown"), [
    (1050, "usd", "10.50"), (5, "usd", "0.05"), (1500, "jpy", "1500"), (12345, "kwd", "12.345"),
])
def test_major_amount_round_trips(minor: int, currency: str, shown: str) -> None:
    assert major_amount(minor, currency) == shown
    assert money_amount({"amount": shown}, "amount", currency) == minor


def test_blank_and_toggled() -> None:
    assert (blank(None), blank(0), blank(30)) == ("", "0", "30")
    assert toggled(["a", "b"], "c", True) == ["a", "b", "c"]
    assert toggled(["a", "b"], "a", True) == ["b", "a"]  # ticked once
    assert toggled(["a", "b"], "a", False) == ["b"]
    assert toggled([], "a", False) == []


def test_date_range_includes_both_days() -> None:
    begin, end = date_range(" 2025-11-03 ", "2025-12-31", now=NOW)
    assert begin == datetime(2025, 11, 3, tzinfo=UTC)
    assert end == datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_date_range_ending_today_ends_now() -> None:
    assert date_range("2026-01-01", "2026-01-31", now=NOW)[1] == NOW


@pytest.mark.parametrize(("start", "end", "message"), [
    ("", "2025-12-31", "Enter both dates of the range."),
    ("2025-01-01", " ", "Enter both dates of the range."),
    ("2025-13-01", "2025-12-31", "“2025-13-01” is not a date. Use the date picker or YYYY-MM-DD."),
    ("2025-12-01", "2026-02-01", "The range can't go past today (Jan 31, 2026)."),
    ("2025-06-10", "2025-03-15",
     "The start date (Jun 10, 2025) is after the end date (Mar 15, 2025)."),
])
def test_date_range_says_why_it_is_refused(start: str, end: str, message: str) -> None:
    with pytest.raises(FieldProblem) as refused:
        date_range(start, end, now=NOW)
    assert (refused.value.field, refused.value.message) == ("range", message)
