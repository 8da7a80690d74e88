"""PortalState: the handshake cookie decides which session (if any) the page shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from reflex.istate.data import RouterData

from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.portal import sessions
from portal_app.state.portal import PortalState, browser_secret
from portal_app.web.portal_links import COOKIE_NAME
from tests.portal_app.state.handlers import handler_state
from tests.portal_app.views.test_overview import provider_of, subscribed_customer

UowFactory = Callable[[], UnitOfWork]


pytestmark = pytest.mark.usefixtures("portal_database")


def state_with(cookie: str = "", accept_language: str = "") -> PortalState:
    return handler_state(PortalState, cookie, accept_language=accept_language)


def opened(account_id: str, customer: str, make_uow: UowFactory, *,
           locale: str | None = "en") -> str:
    """Open a new session's link as a browser would; returns the browser's cookie header."""
    url = sessions.create_session(account_id=account_id, uow=make_uow(), customer=customer,
                                  return_url="https://acme.test/account", locale=locale).url
    secret = sessions.open_session(url.rsplit("/", 1)[1], browser_secret=None,
                                   uow=make_uow()).browser_secret
    return f"theme=dark; {COOKIE_NAME}={secret}"


def test_load_shows_the_overview_of_the_cookies_session(account_id: str,
                                                        make_uow: UowFactory) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    state = state_with(opened(account_id, customer, make_uow, locale="de"))

    PortalState.load.fn(state)

    assert state.view == "ready"
    assert (state.lang, state.direction) == ("de", "ltr")
    assert state.t["Your subscriptions"] == "Ihre Abonnements"
    assert state.t["Payment method"] == "Zahlungsmethode"
    assert state.t["Invoice history"] == "Rechnungsverlauf"
    assert state.page_title == "Abrechnung · Acme Cloud"
    assert state.business_initial == "A"
    assert [s.amount for s in state.subscriptions] == ["19,99\xa0€"]
    assert state.has_payment_method
    assert state.payment_method.description == "Visa •••• 4242"
    assert len(state.invoices) == 1
    assert state.return_label == "Zurück zu Acme Cloud"
    assert state.subscriptions[0].status_label == "Aktiv"


def test_an_arabic_session_is_right_to_left(account_id: str, make_uow: UowFactory) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    state = state_with(opened(account_id, customer, make_uow, locale="ar"))

    PortalState.load.fn(state)

    assert state.view == "ready"
    assert (state.lang, state.direction) == ("ar", "rtl")
    assert state.t["Your subscriptions"] == "اشتراكاتك"
    assert state.page_title == "الفوترة · Acme Cloud"
    assert state.return_label == "العودة إلى Acme Cloud"


def test_auto_locale_picks_a_catalog_from_accept_language(account_id: str,
                                                          make_uow: UowFactory) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    state = state_with(opened(account_id, customer, make_uow, locale="auto"),
                       accept_language="fr-FR,fr;q=0.9,en;q=0.5")

    PortalState.load.fn(state)

    assert state.lang == "fr-FR"
    assert state.t["Invoice history"] == "Historique des factures"
    assert state.subscriptions[0].amount == "19,99\xa0€"


def test_an_expired_link_speaks_the_browsers_language(account_id: str,
                                                      make_uow: UowFactory) -> None:
    state = state_with("theme=dark", accept_language="de-DE,de;q=0.9")

    PortalState.load.fn(state)

    assert state.view == "expired"
    assert state.page_title == "Dieser Link ist abgelaufen"
    assert state.t["This link has expired"] == "Dieser Link ist abgelaufen"


def test_auto_locale_follows_the_handshakes_accept_language(account_id: str,
                                                           make_uow: UowFactory) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    state = state_with(opened(account_id, customer, make_uow, locale="auto"),
                       accept_language="en-GB,en;q=0.8")

    PortalState.load.fn(state)

    assert state.lang == "en-GB"
    assert state.subscriptions[0].amount == "€19.99"


def test_without_the_cookie_the_page_is_expired(account_id: str,
                                                make_uow: UowFactory) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    opened(account_id, customer, make_uow)  # bound to some other browser
    state = state_with("theme=dark")

    PortalState.load.fn(state)

    assert state.view == "expired"
    assert state.subscriptions == []
    assert state.t["This link has expired"] == "This link has expired"
    assert state.return_url == ""


def test_an_idle_session_lapses_but_still_offers_the_way_back(
        account_id: str, make_uow: UowFactory, clock: FrozenClock) -> None:
    customer, _ = subscribed_customer(account_id, make_uow)
    state = state_with(opened(account_id, customer, make_uow))
    PortalState.load.fn(state)
    assert state.view == "ready"

    clock.set(clock() + sessions.IDLE_TIMEOUT + timedelta(seconds=1))
    PortalState.load.fn(state)

    assert state.view == "expired"
    assert state.return_url == "https://acme.test/account"
    assert state.return_label == "Return to Acme Cloud"
    assert state.subscriptions == [] and not state.has_payment_method


def test_each_event_rechecks_the_session(account_id: str, make_uow: UowFactory) -> None:
    customer = provider_of(account_id, make_uow).create_customer()["id"]
    state = state_with(opened(account_id, customer, make_uow))
    assert state._require_session(make_uow()).customer_id == customer

    state.router = RouterData.from_router_data({"headers": {"cookie": f"{COOKIE_NAME}=forged"}})
    with pytest.raises(sessions.SessionExpired):
        state._require_session(make_uow())


@pytest.mark.parametrize(("header", "expected"), [
    (f"a=1; {COOKIE_NAME}=s3cr3t-_x", "s3cr3t-_x"),
    ("a=1", None),
    ("", None),
    ('bad"cookie', None),
])
def test_browser_secret(header: str, expected: str | None) -> None:
    assert browser_secret(header) == expected
