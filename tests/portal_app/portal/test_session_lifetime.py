"""A portal session's lifetime on the frozen clock: opened within 5 minutes, then alive while
used at least once an hour (a sliding idle window), bound to one browser.

Each boundary is tried just inside and just outside, so that a changed constant, a ``>``
that became ``>=`` or an idle time measured from the wrong moment fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from portal_app.billing.customers import create_customer
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import SessionExpired
from portal_app.portal import sessions
from portal_app.portal.models import PortalSession
from tests.conftest import START

UowFactory = Callable[[], UnitOfWork]
TICK = timedelta(microseconds=1)


@pytest.fixture
def new_link(account_id: str, make_uow: UowFactory) -> Callable[[], str]:
    """Make a session now; returns its link's token."""
    customer = create_customer(account_id=account_id, uow=make_uow()).id

    def make() -> str:
        url = sessions.create_session(account_id=account_id, uow=make_uow(),
                                      customer=customer).url
        return url.rsplit("/", 1)[1]
    return make


def open_link(token: str, make_uow: UowFactory, browser: str | None = None
              ) -> sessions.OpenedSession:
    return sessions.open_session(token, browser_secret=browser, uow=make_uow())


def use(browser: str, make_uow: UowFactory) -> PortalSession:
    """What each portal event does: find the cookie's session, and keep it alive."""
    return sessions.resume_session(browser, uow=make_uow())


def last_activity(session_id: str, make_uow: UowFactory) -> object:
    with make_uow() as uow:
        found = uow.session.get(PortalSession, session_id)
        assert found is not None
        return found.last_activity_at


def opened(new_link: Callable[[], str], make_uow: UowFactory) -> tuple[str, str]:
    """A session opened now by a browser: its id and the browser's cookie secret."""
    first = open_link(new_link(), make_uow)
    assert first.browser_secret is not None
    return first.session.id, first.browser_secret


def test_the_window_constants_are_the_documented_ones() -> None:
    windows = (sessions.OPEN_WITHIN, sessions.IDLE_TIMEOUT, sessions.TOUCH_EVERY)
    assert windows == (timedelta(minutes=5), timedelta(hours=1), timedelta(seconds=30))


def test_a_link_opens_at_exactly_five_minutes_and_not_a_tick_later(
        new_link: Callable[[], str], make_uow: UowFactory, clock: FrozenClock) -> None:
    on_time, late = new_link(), new_link()

    clock.set(START + timedelta(minutes=5))
    assert open_link(on_time, make_uow).browser_secret

    clock.set(START + timedelta(minutes=5) + TICK)
    with pytest.raises(SessionExpired):
        open_link(late, make_uow)
    # Refused without binding: no browser can open it later either.
    with pytest.raises(SessionExpired):
        open_link(late, make_uow)


def test_a_session_idle_exactly_one_hour_lives_and_a_tick_more_expires(
        new_link: Callable[[], str], make_uow: UowFactory, clock: FrozenClock) -> None:
    session_id, browser = opened(new_link, make_uow)

    clock.set(START + timedelta(hours=1))
    assert use(browser, make_uow).id == session_id
    assert last_activity(session_id, make_uow) == START + timedelta(hours=1)

    clock.set(START + timedelta(hours=2) + TICK)
    with pytest.raises(SessionExpired):
        use(browser, make_uow)
    with pytest.raises(SessionExpired):  # and it stays expired: the failed use extends nothing
        use(browser, make_uow)


def test_each_use_slides_the_idle_window(new_link: Callable[[], str], make_uow: UowFactory,
                                         clock: FrozenClock) -> None:
    # Used every 50 minutes, the session outlives its first hour by far: idle time counts
    # from the last use, not from the creation or the first open.
    session_id, browser = opened(new_link, make_uow)
    for minutes in (50, 100, 150, 200):
        clock.set(START + timedelta(minutes=minutes))
        assert use(browser, make_uow).id == session_id
    clock.set(START + timedelta(minutes=260) + TICK)
    with pytest.raises(SessionExpired):
        use(browser, make_uow)


def test_opening_the_link_again_also_counts_as_a_use(
        new_link: Callable[[], str], make_uow: UowFactory, clock: FrozenClock) -> None:
    token = new_link()
    first = open_link(token, make_uow)
    assert first.browser_secret is not None
    clock.set(START + timedelta(minutes=59))
    again = open_link(token, make_uow, first.browser_secret)
    assert again.session.id == first.session.id and again.browser_secret is None
    clock.set(START + timedelta(minutes=118))
    assert use(first.browser_secret, make_uow).id == first.session.id

    clock.set(START + timedelta(minutes=178) + TICK)
    with pytest.raises(SessionExpired):
        open_link(token, make_uow, first.browser_secret)


def test_uses_within_thirty_seconds_write_nothing_and_the_thirtieth_second_does(
        new_link: Callable[[], str], make_uow: UowFactory, clock: FrozenClock) -> None:
    session_id, browser = opened(new_link, make_uow)

    clock.set(START + timedelta(seconds=29))
    use(browser, make_uow)
    assert last_activity(session_id, make_uow) == START

    clock.set(START + timedelta(seconds=30))
    use(browser, make_uow)
    assert last_activity(session_id, make_uow) == START + timedelta(seconds=30)
    # the window now slides from the 30th second
    clock.set(START + timedelta(hours=1, seconds=30))
    assert use(browser, make_uow).id == session_id


def test_only_the_bound_browser_reaches_the_session(
        new_link: Callable[[], str], make_uow: UowFactory) -> None:
    token = new_link()
    first = open_link(token, make_uow)
    assert first.browser_secret is not None

    for stranger in (None, "", "not-the-cookie"):
        with pytest.raises(SessionExpired):
            open_link(token, make_uow, stranger)
    with pytest.raises(SessionExpired):
        use("not-the-cookie", make_uow)
    with pytest.raises(SessionExpired):
        use("", make_uow)
    with pytest.raises(SessionExpired):
        open_link("not-a-token", make_uow, first.browser_secret)
    assert use(first.browser_secret, make_uow).id == first.session.id
