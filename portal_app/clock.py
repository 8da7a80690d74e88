"""The injectable clock: the only place that reads the wall time.

Services take ``clock: Clock = utc_now``. Tests and the demo seed pass a
:class:`FrozenClock` and move it forward, as Stripe's test clocks do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)

    def __call__(self) -> datetime:
        return self._now

    def set(self, to: datetime) -> None:
        """Move to ``to``; time never runs backwards."""
        to = as_utc(to)
        if to < self._now:
            raise ValueError(f"cannot move the clock back from {self._now} to {to}")
        self._now = to


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_unix(value: datetime | None) -> int | None:
    """Seconds since the epoch, as Stripe sends timestamps."""
    return None if value is None else int(as_utc(value).timestamp())


def from_unix(value: int) -> datetime:
    """The aware UTC datetime of a Stripe timestamp."""
    return datetime.fromtimestamp(int(value), UTC)
