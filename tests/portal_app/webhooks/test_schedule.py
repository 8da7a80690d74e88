"""The retry schedule, written down: exponential backoff for up to 3 days after the event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal_app.webhooks.schedule import STRIPE_LIKE, RetrySchedule

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
M, H = timedelta(minutes=1), timedelta(hours=1)


def test_the_schedule_backs_off_then_repeats_every_12_hours_until_3_days() -> None:
    times = STRIPE_LIKE.attempt_times(T0)
    offsets = [t - T0 for t in times]
    assert offsets == [
        timedelta(0), 1 * M, 6 * M, 36 * M, 2 * H + 36 * M, 7 * H + 36 * M, 17 * H + 36 * M,
        29 * H + 36 * M, 41 * H + 36 * M, 53 * H + 36 * M, 65 * H + 36 * M]
    assert all(later > earlier for earlier, later in zip(times, times[1:], strict=False))
    assert times[-1] - T0 <= timedelta(days=3)


def test_the_next_attempt_counts_from_the_failed_one_and_stops_past_the_window() -> None:
    late = T0 + timedelta(hours=5)  # the first attempt itself waited (a backlog)
    assert STRIPE_LIKE.next_attempt_at(created=T0, attempts=1, failed_at=late) == late + M
    second = timedelta(seconds=1)
    assert STRIPE_LIKE.next_attempt_at(created=T0, attempts=9, failed_at=T0 + 60 * H + second
                                       ) is None
    assert STRIPE_LIKE.next_attempt_at(created=T0, attempts=9, failed_at=T0 + 60 * H
                                       ) == T0 + 72 * H
    with pytest.raises(ValueError):
        STRIPE_LIKE.delay_after(0)


def test_an_endpoint_is_given_up_on_after_3_days_of_failures() -> None:
    assert not STRIPE_LIKE.gives_up_on(failing_since=None, now=T0)
    assert not STRIPE_LIKE.gives_up_on(failing_since=T0, now=T0 + 72 * H - M)
    assert STRIPE_LIKE.gives_up_on(failing_since=T0, now=T0 + 72 * H)


def test_a_scaled_schedule_keeps_the_shape() -> None:
    fast = STRIPE_LIKE.scaled(1 / 3600)  # an hour becomes a second
    assert isinstance(fast, RetrySchedule)
    assert [t - T0 for t in fast.attempt_times(T0)] == [
        (t - T0) / 3600 for t in STRIPE_LIKE.attempt_times(T0)]
    assert fast.window == timedelta(seconds=72)
