"""The one family of money rounding helpers: half away from zero, exact in integers."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_app.money import percent_of, prorate, round_half_up, spread


@pytest.mark.parametrize(("value", "expected"), [
    ("0", 0), ("0.5", 1), ("1.5", 2), ("2.5", 3), ("2.4999", 2), ("-0.5", -1), ("-2.5", -3),
    ("-2.4999", -2), ("1999.5", 2000),
])
def test_round_half_up_rounds_halves_away_from_zero(value: str, expected: int) -> None:
    assert round_half_up(Decimal(value)) == expected


@pytest.mark.parametrize(("amount", "percent", "expected"), [
    (2000, 20, 400), (1999, 12.5, 250), (1, 50, 1), (3, 50, 2), (-3, 50, -2),
    (-1999, 12.5, -250), (999, 33.3, 333), (0, 100, 0), (1234, 100, 1234),
])
def test_percent_of_rounds_each_amount_half_up(amount: int, percent: float,
                                               expected: int) -> None:
    assert percent_of(amount, percent) == expected


def test_percent_of_reads_the_rate_as_its_decimal_text() -> None:
    # 0.1 + 0.2 is not 0.3 in binary; Stripe's rates are decimal numbers.
    assert percent_of(10_000, 14.35) == 1435
    assert percent_of(5, 10) == 1  # 0.5 rounds up, not to even


@given(st.integers(-10**9, 10**9), st.integers(0, 10**8), st.integers(1, 10**8))
def test_prorate_is_the_exact_share_rounded_half_away_from_zero(amount: int, remaining: int,
                                                                total: int) -> None:
    exact = Fraction(amount * remaining, total)
    magnitude = abs(exact)
    rounded = int(magnitude) + (1 if magnitude - int(magnitude) >= Fraction(1, 2) else 0)
    assert prorate(amount, remaining=remaining, total=total) == (
        rounded if exact >= 0 else -rounded)


def test_prorate_of_an_empty_period_is_nothing() -> None:
    assert prorate(2000, remaining=10, total=0) == 0


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=8), st.data())
def test_spread_shares_sum_to_the_total_and_stay_within_each_amount(
        amounts: list[int], data: st.DataObject) -> None:
    total = data.draw(st.integers(0, sum(amounts)))
    shares = spread(total, amounts)
    assert sum(shares) == total
    assert all(0 <= share <= amount for share, amount in zip(shares, amounts, strict=True))


def test_spread_gives_leftover_units_to_the_largest_remainders_first_line_on_ties() -> None:
    assert spread(100, [1, 1, 1]) == [34, 33, 33]
    assert spread(10, [0, 0]) == [0, 0]
    assert spread(7, [10, 20]) == [2, 5]
    # the largest remainder, not the largest line: 10 × 2/7 = 2.86 -> 3, 10 × 5/7 = 7.14 -> 7
    assert spread(10, [2, 5]) == [3, 7]
