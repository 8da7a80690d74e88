"""Console sign-in and sign-out over real HTTP (Starlette's TestClient, real database)."""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal_app.accounts import services as accounts
from portal_app.accounts import throttle
from portal_app.db import UnitOfWork
from portal_app.errors import AuthenticationFailed
from portal_app.routes import CONSOLE_LOGIN, CONSOLE_LOGOUT
from portal_app.web import console_sign_in as web

ORIGIN = {"Origin": "http://testserver"}
PASSWORD = "correct horse battery"


@pytest.fixture
def user_email(account_id: str, make_uow: Callable[[], UnitOfWork]) -> str:
    email = f"ops-{account_id.lower()}@acme.test"
    accounts.create_console_user(account_id=account_id, email=email, password=PASSWORD,
                                 uow=make_uow())
    return email


def browser_at(address: str) -> TestClient:
    """A browser whose requests come from ``address``."""
    return TestClient(Starlette(routes=web.ROUTES), follow_redirects=False,
                      client=(address, 50000))


def new_address() -> str:
    """A client address of this test alone (failures are counted per address)."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


@pytest.fixture
def client() -> TestClient:
    return browser_at(new_address())


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str, *, next_path: str = "",
            headers: dict | None = None):
    page = client.get(CONSOLE_LOGIN)
    assert page.status_code == 200
    return client.post(CONSOLE_LOGIN, headers=ORIGIN if headers is None else headers,
                       data={"email": email, "password": password, "next": next_path,
                             "csrf_token": form_token(page.text)})


def set_cookie_header(response, name: str) -> str:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(name + "=")]
    assert found, f"no {name} cookie set"
    return found[0]


def test_login_form_is_a_styled_page_with_a_bound_token(client: TestClient) -> None:
    page = client.get(CONSOLE_LOGIN)

    assert page.headers["content-type"].startswith("text/html")
    assert "<style>" in page.text and 'type="password"' in page.text
    assert page.headers["cache-control"] == "no-store"
    pre = set_cookie_header(page, web.LOGIN_COOKIE).lower()
    assert "httponly" in pre and "samesite=strict" in pre
    assert form_token(page.text) == client.cookies.get(web.LOGIN_COOKIE)


def test_good_login_sets_a_strict_httponly_cookie_and_redirects(
        client: TestClient, user_email: str, make_uow) -> None:
    response = sign_in(client, user_email.upper(), PASSWORD, next_path="/console/events")

    assert response.status_code == 303
    assert response.headers["location"] == "/console/events"
    cookie = set_cookie_header(response, web.COOKIE)
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    assert "secure" not in lowered  # served over http here
    token = cookie.split(";")[0].split("=", 1)[1]
    identity = accounts.console_identity(token, uow=make_uow())
    assert identity.email == user_email

    # Signed in already: the form sends the browser straight on.
    again = client.get(CONSOLE_LOGIN, params={"next": "/console/events"})
    assert again.status_code == 303 and again.headers["location"] == "/console/events"


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/console", "/\\evil.test",
                                    "/elsewhere", "/consolex", "javascript:alert(1)"])
def test_next_never_leaves_the_console(client: TestClient, user_email: str, target: str) -> None:
    response = sign_in(client, user_email, PASSWORD, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"


@pytest.mark.parametrize("email", ["known", "nobody@acme.test"])
def test_bad_password_is_401_without_a_cookie(client: TestClient, user_email: str,
                                              email: str) -> None:
    response = sign_in(client, user_email if email == "known" else email, "wrong password!")

    assert response.status_code == 401
    assert "don&#x27;t match an account" in response.text  # one message: no enumeration
    assert web.COOKIE not in client.cookies
    assert not any(h.startswith(web.COOKIE + "=")
                   for h in response.headers.get_list("set-cookie"))


def test_login_without_the_form_token_is_refused(client: TestClient, user_email: str) -> None:
    client.get(CONSOLE_LOGIN)
    response = client.post(CONSOLE_LOGIN, headers=ORIGIN,
                           data={"email": user_email, "password": PASSWORD,
                                 "csrf_token": "forged"})
    assert response.status_code == 403
    assert web.COOKIE not in client.cookies


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.test"},
    {"Origin": "null"},
    {"Referer": "https://evil.test/console/login"},
    {},
])
def test_login_from_another_origin_is_refused(client: TestClient, user_email: str,
                                             headers: dict) -> None:
    response = sign_in(client, user_email, PASSWORD, headers=headers)
    assert response.status_code == 403
    assert web.COOKIE not in client.cookies


def test_login_with_a_same_origin_referer_is_accepted(client: TestClient,
                                                      user_email: str) -> None:
    response = sign_in(client, user_email, PASSWORD,
                       headers={"Referer": "http://testserver/console/login"})
    assert response.status_code == 303


def signed_in(client: TestClient, email: str, make_uow) -> tuple[str, str]:
    response = sign_in(client, email, PASSWORD)
    assert response.status_code == 303
    token = client.cookies[web.COOKIE]
    return token, accounts.console_identity(token, uow=make_uow()).csrf_token


@pytest.mark.parametrize("data", [{}, {"csrf_token": "wrong"}])
def test_logout_needs_the_sessions_csrf_token(client: TestClient, user_email: str, make_uow,
                                              data: dict) -> None:
    token, _ = signed_in(client, user_email, make_uow)

    response = client.post(CONSOLE_LOGOUT, headers=ORIGIN, data=data)

    assert response.status_code == 403
    accounts.console_identity(token, uow=make_uow())  # still signed in


def test_logout_from_another_origin_is_refused(client: TestClient, user_email: str,
                                               make_uow) -> None:
    token, csrf = signed_in(client, user_email, make_uow)

    response = client.post(CONSOLE_LOGOUT, headers={"Origin": "https://evil.test"},
                           data={"csrf_token": csrf})

    assert response.status_code == 403
    accounts.console_identity(token, uow=make_uow())


def test_logout_ends_the_session_and_clears_the_cookie(client: TestClient, user_email: str,
                                                       make_uow) -> None:
    token, csrf = signed_in(client, user_email, make_uow)

    response = client.post(CONSOLE_LOGOUT, headers=ORIGIN, data={"csrf_token": csrf})

    assert response.status_code == 303
    assert response.headers["location"].startswith(CONSOLE_LOGIN)
    cleared = set_cookie_header(response, web.COOKIE).lower()
    assert "max-age=0" in cleared or "expires=" in cleared
    with pytest.raises(AuthenticationFailed):
        accounts.console_identity(token, uow=make_uow())
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and "signed out" in page.text


def test_secure_cookies_over_https(user_email: str, monkeypatch) -> None:
    from portal_app import settings

    monkeypatch.setenv("PORTICO_PUBLIC_URL", "https://billing.acme.test")
    settings.get_settings.cache_clear()
    client = TestClient(Starlette(routes=web.ROUTES), base_url="https://billing.acme.test",
                        follow_redirects=False)
    try:
        page = client.get(CONSOLE_LOGIN)
        assert "secure" in set_cookie_header(page, web.LOGIN_COOKIE).lower()
        response = sign_in(client, user_email, PASSWORD,
                           headers={"Origin": "https://billing.acme.test"})
        assert response.status_code == 303
        assert "secure" in set_cookie_header(response, web.COOKIE).lower()
    finally:
        monkeypatch.undo()
        settings.get_settings.cache_clear()


def test_the_sixth_failed_sign_in_gets_429_with_retry_after(client: TestClient,
                                                           user_email: str) -> None:
    for _ in range(throttle.EMAIL_LIMIT.failures):
        assert sign_in(client, user_email, "wrong password!").status_code == 401

    refused = sign_in(client, user_email, "wrong password!")

    assert refused.status_code == 429
    window = int(throttle.EMAIL_LIMIT.window.total_seconds())
    assert window - 60 < int(refused.headers["retry-after"]) <= window  # the first one's expiry
    assert "Too many failed sign-in attempts" in refused.text
    # Even the right password waits: the limit is on guesses, not on wrong ones.
    assert sign_in(client, user_email, PASSWORD).status_code == 429
    assert web.COOKIE not in client.cookies


def test_the_email_limit_holds_across_addresses(user_email: str) -> None:
    for _ in range(throttle.EMAIL_LIMIT.failures):
        assert sign_in(browser_at(new_address()), user_email, "wrong password!").status_code == 401

    assert sign_in(browser_at(new_address()), user_email, PASSWORD).status_code == 429


def test_the_address_limit_blocks_that_address_only(account_id: str, make_uow,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The real limit (20) at 3, to spare the test 20 argon2 checks.
    monkeypatch.setattr(throttle, "ADDRESS_LIMIT",
                        dataclasses.replace(throttle.ADDRESS_LIMIT, failures=3))
    address = new_address()
    for i in range(throttle.ADDRESS_LIMIT.failures):  # a password spray: one guess per email
        assert sign_in(browser_at(address), f"u{i}-{account_id}@acme.test",
                       "wrong password!").status_code == 401
    email = f"ops-{account_id.lower()}@acme.test"
    accounts.create_console_user(account_id=account_id, email=email, password=PASSWORD,
                                 uow=make_uow())

    assert sign_in(browser_at(address), email, PASSWORD).status_code == 429
    assert sign_in(browser_at(new_address()), email, PASSWORD).status_code == 303
