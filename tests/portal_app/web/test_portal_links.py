"""The ``/p/<token>`` route: bind to the first browser, redirect, or explain the expiry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal_app.billing.customers import create_customer
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.portal import sessions
from portal_app.settings import get_settings
from portal_app.web import portal_links as web
from tests.conftest import START

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def app(make_uow: UowFactory) -> Starlette:
    return Starlette(routes=web.routes(make_uow))


def client(app: Starlette) -> TestClient:
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def link(account_id: str, make_uow: UowFactory) -> str:
    """The path of a fresh session link (English, with a return URL)."""
    customer = create_customer(account_id=account_id, uow=make_uow()).id
    url = sessions.create_session(account_id=account_id, uow=make_uow(), customer=customer,
                                  return_url="https://acme.test/account", locale="en").url
    return url[url.index("/p/"):]


def test_first_open_sets_the_cookie_and_redirects(app: Starlette, link: str) -> None:
    browser = client(app)

    response = browser.get(link)

    assert response.status_code == 303
    assert response.headers["location"] == "/portal"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{web.COOKIE_NAME}=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=lax"} <= attributes
    assert "secure" not in attributes  # served over http here
    assert browser.cookies.get(web.COOKIE_NAME)

    again = browser.get(link)  # the same browser may open its link again
    assert again.status_code == 303
    assert "set-cookie" not in again.headers


def test_another_browser_gets_the_expired_page(app: Starlette, link: str) -> None:
    client(app).get(link)

    response = client(app).get(link)

    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    assert "This link has expired" in response.text
    assert 'href="https://acme.test/account"' in response.text
    assert "Return to Acme Cloud" in response.text
    assert web.COOKIE_NAME not in response.headers.get("set-cookie", "")


def test_a_link_opened_after_five_minutes_has_expired(app: Starlette, link: str,
                                                      clock: FrozenClock) -> None:
    clock.set(START + sessions.OPEN_WITHIN + timedelta(seconds=1))

    response = client(app).get(link)

    assert response.status_code == 404
    assert "This link has expired" in response.text
    assert "https://acme.test/account" in response.text


def test_an_unknown_token_has_no_way_back(app: Starlette) -> None:
    response = client(app).get("/p/not-a-real-token", headers={"accept-language": "en-GB"})

    assert response.status_code == 404
    assert "This link has expired" in response.text
    assert 'lang="en-GB"' in response.text  # the browser's language
    assert 'class="button"' not in response.text


def test_the_expired_page_uses_the_sessions_locale(app: Starlette, account_id: str,
                                                   make_uow: UowFactory) -> None:
    customer = create_customer(account_id=account_id, uow=make_uow()).id
    url = sessions.create_session(account_id=account_id, uow=make_uow(), customer=customer,
                                  locale="de").url
    client(app).get(url)

    page = client(app).get(url[url.index("/p/"):]).text

    assert '<html lang="de" dir="ltr">' in page
    assert "<title>Dieser Link ist abgelaufen</title>" in page
    assert "Zu Ihrer Sicherheit sind Abrechnungslinks nur kurz gültig" in page
    assert "This link has expired" not in page


def test_the_expired_page_follows_the_browsers_language(app: Starlette) -> None:
    french = client(app).get("/p/not-a-real-token",
                             headers={"accept-language": "fr-FR,fr;q=0.9"}).text
    assert '<html lang="fr-FR" dir="ltr">' in french
    assert "<h1>Ce lien a expiré</h1>" in french

    arabic = client(app).get("/p/not-a-real-token", headers={"accept-language": "ar"}).text
    assert '<html lang="ar" dir="rtl">' in arabic
    assert "<h1>انتهت صلاحية هذا الرابط</h1>" in arabic


@pytest.fixture
def https_public_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PORTICO_PUBLIC_URL", "https://billing.acme.test")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_cookie_is_secure_over_https(app: Starlette, link: str,
                                         https_public_url: None) -> None:
    cookie = client(app).get(link).headers["set-cookie"].lower()

    assert "; secure" in cookie
