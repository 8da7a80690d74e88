"""Calendar-correct billing periods anchored on the billing cycle anchor."""

from __future__ import annotations

from datetime import datetime

from dateutil.relativedelta import relativedelta

from portal_app.billing.models import Interval


def shift(anchor: datetime, interval: Interval | str, count: int) -> datetime:
    """``anchor`` moved by ``count`` intervals; month ends clamp (Jan 31 -> Feb 28 -> Mar 31)."""
    unit = Interval(interval)
    if unit is Interval.day:
        return anchor + relativedelta(days=count)
    if unit is Interval.week:
        return anchor + relativedelta(weeks=count)
    if unit is Interval.month:
        return anchor + relativedelta(months=count)
    return anchor + relativedelta(years=count)


def next_period_end(anchor: datetime, interval: Interval | str, interval_count: int,
                    after: datetime) -> datetime:
    """The first period boundary counted from ``anchor`` that lies strictly after ``after``."""
    step = 1
    # Jump close first so that long histories don't walk period by period.
    approx = {Interval.day: 1, Interval.week: 7, Interval.month: 28, Interval.year: 365}
    days = max((after - anchor).days, 0)
    step = max(1, days // (approx[Interval(interval)] * interval_count) - 1)
    while (end := shift(anchor, interval, step * interval_count)) <= after:
        step += 1
    while step > 1 and shift(anchor, interval, (step - 1) * interval_count) > after:
        step -= 1
        end = shift(anchor, interval, step * interval_count)
    return end
