"""Console sign-in throttling: failures counted per email and per client address.

The counts live in the database (``login_failure``), not in process memory, so every
server worker sees the same ones. An attempt is written (and committed) *before* it
is counted: of any number of concurrent attempts, the n-th to commit sees at least
n rows, so no more than the limit get through however many arrive at once. Until
the password check says otherwise the row counts as a failure (a crash mid-way
errs on the safe side). A refused attempt deletes its rows again: it checked no
password, so hammering a blocked sign-in does not keep it blocked. A successful
sign-in deletes its own rows and resets its email's count (not its address's: a
valid login of one's own must not buy more guesses at other accounts).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from portal_app.accounts.models import LoginFailure
from portal_app.db import UnitOfWork
from portal_app.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` failed attempts per key of ``scope`` within ``window``."""

    scope: str
    failures: int
    window: timedelta
    reset_on_success: bool


# An email is one person: few guesses. An address may be a whole office behind one NAT.
EMAIL_LIMIT = Limit("email", failures=5, window=timedelta(minutes=15), reset_on_success=True)
ADDRESS_LIMIT = Limit("address", failures=20, window=timedelta(minutes=15),
                      reset_on_success=False)


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt under way: its rows, one per throttle key."""

    rows: tuple[tuple[Limit, str, int], ...]  # limit, key digest, row id


def key_digest(limit: Limit, value: str) -> str:
    """The stored form of a throttle key (no plain emails or addresses in the table)."""
    return hashlib.sha256(f"{limit.scope}\0{value}".encode()).hexdigest()


def begin_attempt(keys: Sequence[tuple[Limit, str | None]], *, uow: UnitOfWork) -> Attempt:
    """Count a sign-in attempt against each ``(limit, value)`` (None values are skipped).

    Raises RateLimited (with ``retry_after`` in seconds) when any key has had its
    limit of failures within its window; the attempt is then not counted.
    """
    counted = [(limit, key_digest(limit, value)) for limit, value in keys if value]
    with uow:
        now = uow.clock()
        for limit in {limit for limit, _ in counted}:
            # Housekeeping: rows that have left their window count no more.
            uow.session.execute(delete(LoginFailure).where(
                col(LoginFailure.scope) == limit.scope,
                col(LoginFailure.created) <= now - limit.window))
        rows = [LoginFailure(scope=limit.scope, key_digest=digest, created=now)
                for limit, digest in counted]
        for row in rows:
            uow.add(row)
        uow.flush()
        attempt = Attempt(rows=tuple((limit, digest, row.id or 0)
                                     for (limit, digest), row in zip(counted, rows, strict=True)))
        uow.commit()
    with uow:
        retry_after = max((_blocked_for(limit, digest, own, now=now, uow=uow)
                           for limit, digest, own in attempt.rows), default=0)
    if retry_after:
        with uow:
            _delete_own(attempt, uow=uow)
            uow.commit()
        raise RateLimited("Too many failed sign-in attempts.", retry_after=retry_after)
    return attempt


def record_success(attempt: Attempt, *, uow: UnitOfWork) -> None:
    """Forget a successful attempt, and every failure of the keys a success resets."""
    with uow:
        _delete_own(attempt, uow=uow)
        for limit, digest, _ in attempt.rows:
            if limit.reset_on_success:
                uow.session.execute(delete(LoginFailure).where(
                    col(LoginFailure.scope) == limit.scope,
                    col(LoginFailure.key_digest) == digest))
        uow.commit()


def _blocked_for(limit: Limit, digest: str, own: int, *, now: datetime,
                 uow: UnitOfWork) -> int:
    """Seconds until ``digest`` has fewer than ``limit.failures`` others in the window (0: now)."""
    times = uow.session.exec(
        select(LoginFailure.created)
        .where(LoginFailure.scope == limit.scope, LoginFailure.key_digest == digest,
               col(LoginFailure.created) > now - limit.window, LoginFailure.id != own)
        .order_by(col(LoginFailure.created))
    ).all()
    if len(times) < limit.failures:
        return 0
    # The block lifts when enough of the oldest failures have left the window.
    lifts = times[len(times) - limit.failures] + limit.window
    return max(1, math.ceil((lifts - now).total_seconds()))


def _delete_own(attempt: Attempt, *, uow: UnitOfWork) -> None:
    ids = [own for _, _, own in attempt.rows]
    if ids:
        uow.session.execute(delete(LoginFailure).where(col(LoginFailure.id).in_(ids)))
