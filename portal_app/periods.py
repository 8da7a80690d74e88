"""Calendar-correct billing periods over Stripe's interval names (day, week, month, year).

Pure calendar arithmetic, shared by the ledger, the portal and retention: a
period boundary is the anchor moved by whole intervals, month ends clamped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from dateutil.relativedelta import relativedelta

IntervalName = Literal["day", "week", "month", "year"]
INTERVALS: tuple[IntervalName, ...] = ("day", "week", "month", "year")

# relativedelta's keyword for each interval, and its shortest length in days.
_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}
_MIN_DAYS = {"day": 1, "week": 7, "month": 28, "year": 365}


def _unit(interval: str) -> str:
    if interval not in _UNITS:
        raise ValueError(f"{interval!r} is not an interval: one of {', '.join(INTERVALS)}")
    return str(interval)


def shift(anchor: datetime, interval: str, count: int) -> datetime:
    """``anchor`` moved by ``count`` intervals; month ends clamp (Jan 31 -> Feb 28 -> Mar 31).

    Raises ValueError for an unknown interval.
    """
    return anchor + relativedelta(**{_UNITS[_unit(interval)]: count})


def next_period_end(anchor: datetime, interval: str, interval_count: int,
                    after: datetime) -> datetime:
    """The first period boundary counted from ``anchor`` that lies strictly after ``after``.

    Raises ValueError for an unknown interval.
    """
    unit = _unit(interval)
    # Jump close first so that long histories don't walk period by period.
    days = max((after - anchor).days, 0)
    step = max(1, days // (_MIN_DAYS[unit] * interval_count) - 1)
    while (end := shift(anchor, unit, step * interval_count)) <= after:
        step += 1
    while step > 1 and shift(anchor, unit, (step - 1) * interval_count) > after:
        step -= 1
        end = shift(anchor, unit, step * interval_count)
    return end
