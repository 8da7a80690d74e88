"""Sign-in throttling: failures per key in a window, counted in the database."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import select

from portal_app.accounts import throttle
from portal_app.accounts.models import LoginFailure
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import RateLimited

MakeUow = Callable[[], UnitOfWork]
EMAIL = throttle.EMAIL_LIMIT
ADDRESS = throttle.ADDRESS_LIMIT
WINDOW = EMAIL.window


def fresh(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(6)}"


def fail(value: str, make_uow: MakeUow, limit: throttle.Limit = EMAIL) -> throttle.Attempt:
    """An attempt that never succeeds: its row stays, a failure."""
    return throttle.begin_attempt([(limit, value)], uow=make_uow())


def test_the_attempt_past_the_limit_is_refused_until_the_first_failure_expires(
        make_uow: MakeUow, clock: FrozenClock) -> None:
    email, start = fresh("email"), clock()
    for minute in range(EMAIL.failures):
        clock.set(start + timedelta(minutes=minute))
        fail(email, make_uow)
    clock.set(start + timedelta(minutes=5))

    with pytest.raises(RateLimited) as refused:
        fail(email, make_uow)

    assert refused.value.http_status == 429
    assert refused.value.retry_after == (WINDOW - timedelta(minutes=5)).total_seconds()
    clock.set(start + WINDOW - timedelta(seconds=1))
    with pytest.raises(RateLimited) as still:
        fail(email, make_uow)
    assert still.value.retry_after == 1
    clock.set(start + WINDOW)  # the first failure has left the window: one more guess
    fail(email, make_uow)
    with pytest.raises(RateLimited):
        fail(email, make_uow)


def test_hammering_a_blocked_key_does_not_keep_it_blocked(make_uow: MakeUow,
                                                          clock: FrozenClock) -> None:
    email, start = fresh("email"), clock()
    for _ in range(EMAIL.failures):
        fail(email, make_uow)
    for minute in range(1, 15):
        clock.set(start + timedelta(minutes=minute))
        with pytest.raises(RateLimited):
            fail(email, make_uow)

    clock.set(start + WINDOW)
    fail(email, make_uow)


def test_a_success_resets_the_email_but_not_the_address(make_uow: MakeUow) -> None:
    email, address = fresh("email"), fresh("address")
    limit = throttle.Limit("address", failures=EMAIL.failures + 1, window=WINDOW,
                           reset_on_success=False)
    for _ in range(EMAIL.failures - 1):
        throttle.begin_attempt([(EMAIL, email), (limit, address)], uow=make_uow())
    ok = throttle.begin_attempt([(EMAIL, email), (limit, address)], uow=make_uow())
    throttle.record_success(ok, uow=make_uow())

    # The email starts over; the address keeps its four failures (its limit is six).
    fail(email, make_uow)
    fail(fresh("email"), make_uow)
    throttle.begin_attempt([(limit, address)], uow=make_uow())  # fifth
    throttle.begin_attempt([(limit, address)], uow=make_uow())  # sixth
    with pytest.raises(RateLimited):
        throttle.begin_attempt([(EMAIL, fresh("email")), (limit, address)], uow=make_uow())


def test_keys_are_stored_as_digests_and_missing_ones_skipped(make_uow: MakeUow) -> None:
    email = fresh("email") + "@acme.test"
    attempt = throttle.begin_attempt([(EMAIL, email), (ADDRESS, None)], uow=make_uow())

    assert [limit for limit, _, _ in attempt.rows] == [EMAIL]
    with make_uow() as uow:
        row = uow.session.exec(select(LoginFailure).where(
            LoginFailure.key_digest == throttle.key_digest(EMAIL, email))).one()
    assert email not in str(row.model_dump())


def test_concurrent_attempts_get_no_more_than_the_limit(make_uow: MakeUow) -> None:
    email = fresh("email")
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            fail(email, make_uow)
            outcomes.append("checked")
        except RateLimited:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # Attempts still in flight count against each other, so a burst may get fewer through
    # (on PostgreSQL, all twelve may commit before any counts, and all are refused): the
    # guarantee is the upper bound, and that a refused attempt leaves nothing behind.
    assert len(outcomes) == 12
    assert outcomes.count("checked") <= EMAIL.failures
    with make_uow() as uow:
        left = uow.session.exec(select(LoginFailure).where(
            LoginFailure.key_digest == throttle.key_digest(EMAIL, email))).all()
    assert len(left) == outcomes.count("checked")


def test_old_failures_are_pruned(make_uow: MakeUow, clock: FrozenClock) -> None:
    old = fresh("email")
    fail(old, make_uow)
    clock.set(clock() + WINDOW)

    fail(fresh("email"), make_uow)

    with make_uow() as uow:
        assert uow.session.exec(select(LoginFailure).where(
            LoginFailure.key_digest == throttle.key_digest(EMAIL, old))).all() == []
