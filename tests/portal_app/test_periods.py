"""Billing periods: boundaries counted from the anchor, month ends clamped, never skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_app.periods import INTERVALS, next_period_end, shift

ANCHORS = st.one_of(
    st.sampled_from([datetime(2026, 1, 31, 12, tzinfo=UTC), datetime(2028, 2, 29, 23, 59,
                                                                      tzinfo=UTC),
                     datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 8, 30, 6, tzinfo=UTC),
                     datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)]),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                 timezones=st.just(UTC)),
)
INTERVAL_NAMES = st.sampled_from(INTERVALS)


@pytest.mark.parametrize(("anchor", "interval", "count", "expected"), [
    (datetime(2026, 1, 31, tzinfo=UTC), "month", 1, [28, 31, 30, 31, 30, 31]),
    (datetime(2026, 1, 30, tzinfo=UTC), "month", 1, [28, 30, 30, 30, 30, 30]),
    (datetime(2028, 2, 29, tzinfo=UTC), "year", 1, [28, 28, 28, 29, 28, 28]),
    (datetime(2026, 8, 31, tzinfo=UTC), "month", 3, [30, 28, 31, 31, 30, 29]),
])
def test_month_ends_clamp_from_the_anchor(anchor: datetime, interval: str, count: int,
                                          expected: list[int]) -> None:
    days = [shift(anchor, interval, count * k).day for k in range(1, 7)]
    assert days == expected


@given(ANCHORS, INTERVAL_NAMES, st.integers(1, 3), st.integers(0, 4000),
       st.integers(0, 86399))
def test_next_period_end_is_the_first_boundary_after(
        anchor: datetime, interval: str, count: int, days: int, seconds: int) -> None:
    after = anchor + timedelta(days=days, seconds=seconds)
    end = next_period_end(anchor, interval, count, after)
    assert end > after
    steps = next(k for k in range(1, 10_000) if shift(anchor, interval, k * count) == end)
    assert shift(anchor, interval, (steps - 1) * count) <= after


def test_next_period_end_on_a_boundary_moves_one_period() -> None:
    anchor = datetime(2026, 1, 31, 12, tzinfo=UTC)
    feb_28 = datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert next_period_end(anchor, "month", 1, feb_28) == datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert next_period_end(anchor, "month", 1, anchor) == feb_28


def test_an_unknown_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="fortnight"):
        shift(datetime(2026, 1, 31, tzinfo=UTC), "fortnight", 1)
    with pytest.raises(ValueError):
        next_period_end(datetime(2026, 1, 31, tzinfo=UTC), "fortnight", 1,
                        datetime(2026, 3, 1, tzinfo=UTC))
