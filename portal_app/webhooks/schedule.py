"""When a failed webhook delivery is tried again, and when an endpoint is given up on.

Stripe promises to retry a webhook "for up to three days with exponential back off". Portico
writes its schedule down. After a failed attempt the next one is due after:

========  =======================================
attempt   delay after the previous failed attempt
========  =======================================
2         1 minute
3         5 minutes
4         30 minutes
5         2 hours
6         5 hours
7         10 hours
8 and on  12 hours each
========  =======================================

Retries stop once the next attempt would fall more than 3 days after the event
(``RetrySchedule.window``): with attempts that fail at once, that is 11 attempts in all,
the last about 65 h 36 min after the event. The delivery is then ``failed``. It can still be
resent by hand (console, or ``POST /v1/webhook_endpoints/{id}/resend``).

An endpoint whose every attempt has failed for 3 days (``failing_since`` older than
``RetrySchedule.disable_after``: no 2xx since then) is disabled with ``disabled_reason``
``"failing"``, and its pending deliveries are marked failed; one 2xx clears
``failing_since``.

Example
-------
>>> from datetime import UTC, datetime
>>> created = datetime(2026, 1, 1, tzinfo=UTC)
>>> STRIPE_LIKE.next_attempt_at(created=created, attempts=1, failed_at=created)
datetime.datetime(2026, 1, 1, 0, 1, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
REPEAT = timedelta(hours=12)
WINDOW = timedelta(days=3)


@dataclass(frozen=True)
class RetrySchedule:
    """Backoff delays, then a fixed repeat, within a window measured from the event.

    ``delays[i]`` follows failed attempt ``i + 1``; past them every retry waits ``repeat``.
    Benchmarks and tests may use :meth:`scaled` to run the same shape faster.
    """

    delays: tuple[timedelta, ...] = DELAYS
    repeat: timedelta = REPEAT
    window: timedelta = WINDOW
    disable_after: timedelta = WINDOW

    def delay_after(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt (1-based)."""
        if attempts < 1:
            raise ValueError(f"attempts counts from 1, got {attempts}")
        return self.delays[attempts - 1] if attempts <= len(self.delays) else self.repeat

    def next_attempt_at(self, *, created: datetime, attempts: int,
                        failed_at: datetime) -> datetime | None:
        """When to try again after ``attempts`` failed attempts, the last at ``failed_at``.

        ``None``: the retries are over (the next try would be past ``created + window``).
        """
        due = failed_at + self.delay_after(attempts)
        return due if due <= created + self.window else None

    def gives_up_on(self, *, failing_since: datetime | None, now: datetime) -> bool:
        """Whether an endpoint failing every attempt since ``failing_since`` is to be disabled."""
        return failing_since is not None and now - failing_since >= self.disable_after

    def scaled(self, factor: float) -> RetrySchedule:
        """The same schedule with every duration multiplied by ``factor`` (e.g. 1/3600)."""
        return RetrySchedule(
            delays=tuple(d * factor for d in self.delays),
            repeat=self.repeat * factor,
            window=self.window * factor,
            disable_after=self.disable_after * factor,
        )

    def attempt_times(self, created: datetime) -> list[datetime]:
        """Every attempt's time when each fails at once: the schedule written out."""
        times = [created]
        while (due := self.next_attempt_at(created=created, attempts=len(times),
                                           failed_at=times[-1])) is not None:
            times.append(due)
        return times


STRIPE_LIKE = RetrySchedule()
