"""The test authorization page over HTTP (Starlette's TestClient, real database): shown,
authorized or failed once, back to the return URL with Stripe's query parameters."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal_app.billing import customers, setup_intents
from portal_app.billing.models import PaymentMethod, SetupIntent
from portal_app.db import UnitOfWork
from portal_app.web.test_authorization import TestAuthorizationPage

ORIGIN = {"Origin": "http://testserver"}
RETURN_URL = "https://shop.example/billing?step=2"
THREE_D_SECURE = {"type": "card", "card": {"number": "4000000000003220", "exp_month": "12",
                                           "exp_year": "2031", "cvc": "123"}}
PAYPAL = {"type": "paypal", "paypal": {}, "billing_details": {"email": "payer@example.com"}}


@pytest.fixture
def browser(make_uow: Callable[[], UnitOfWork]) -> TestClient:
    return TestClient(Starlette(routes=TestAuthorizationPage(make_uow).routes()),
                      follow_redirects=False)


def pending(account_id: str, make_uow: Callable[[], UnitOfWork],
            data: dict = THREE_D_SECURE) -> tuple[SetupIntent, str]:
    """A setup intent waiting on the test page, and the page's path."""
    customer = customers.create_customer(account_id=account_id, uow=make_uow(),
                                         email="ada@example.com")
    si = setup_intents.create_setup_intent(
        account_id=account_id, uow=make_uow(), customer_id=customer.id,
        payment_method_types=[data["type"]], payment_method_data=data, confirm=True,
        return_url=RETURN_URL)
    assert si.status == "requires_action" and si.next_action
    return si, urlsplit(si.next_action["redirect_to_url"]["url"]).path


def reload(make_uow: Callable[[], UnitOfWork], si: SetupIntent) -> SetupIntent:
    with make_uow() as uow:
        return uow.get(SetupIntent, si.id, account_id=si.account_id)


def test_the_page_names_the_merchant_and_the_method(
        browser: TestClient, account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    _, path = pending(account_id, make_uow)
    page = browser.get(path)
    assert page.status_code == 200
    html = page.text
    assert "Acme Cloud" in html and "3220" in html and "Test mode" in html
    assert 'value="authorize"' in html and 'value="fail"' in html
    assert "Authorize test payment" in html and "Fail test payment" in html
    assert "<script" not in html  # works without JavaScript, and the CSP allows none
    policy = page.headers["content-security-policy"]
    assert "form-action 'self' https://shop.example" in policy
    assert "frame-ancestors 'none'" in policy and "script-src" not in policy
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "same-origin"


def test_authorize_returns_with_stripes_parameters(
        browser: TestClient, account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    si, path = pending(account_id, make_uow)
    done = browser.post(path, data={"outcome": "authorize"}, headers=ORIGIN)
    assert done.status_code == 303
    back = urlsplit(done.headers["location"])
    query = parse_qs(back.query)
    assert f"{back.scheme}://{back.netloc}{back.path}" == "https://shop.example/billing"
    assert query["step"] == ["2"] and query["setup_intent"] == [si.id]
    assert query["redirect_status"] == ["succeeded"]
    with make_uow() as uow:
        assert query["setup_intent_client_secret"] == [setup_intents.client_secret(si, uow=uow)]
    after = reload(make_uow, si)
    assert after.status == "succeeded"
    with make_uow() as uow:
        assert uow.get(PaymentMethod, si.payment_method_id,
                       account_id=account_id).customer_id == si.customer_id
    # One time only.
    again = browser.post(path, data={"outcome": "fail"}, headers=ORIGIN)
    assert again.status_code == 409
    assert browser.get(path).status_code == 409
    assert reload(make_uow, si).status == "succeeded"


def test_fail_leaves_the_intent_waiting(browser: TestClient, account_id: str,
                                        make_uow: Callable[[], UnitOfWork]) -> None:
    si, path = pending(account_id, make_uow)
    done = browser.post(path, data={"outcome": "fail"}, headers=ORIGIN)
    assert parse_qs(urlsplit(done.headers["location"]).query)["redirect_status"] == ["failed"]
    after = reload(make_uow, si)
    assert after.status == "requires_payment_method" and after.payment_method_id is None
    assert after.last_setup_error["code"] == "setup_intent_authentication_failure"


def test_a_wallet_is_filled_in_once_authorized(
        browser: TestClient, account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    si, path = pending(account_id, make_uow, PAYPAL)
    assert "PayPal" in browser.get(path).text
    browser.post(path, data={"outcome": "authorize"}, headers=ORIGIN)
    with make_uow() as uow:
        pm = uow.get(PaymentMethod, si.payment_method_id, account_id=account_id)
    assert pm.customer_id == si.customer_id and pm.details["payer_email"] == "payer@example.com"


def test_forged_or_foreign_requests_change_nothing(
        browser: TestClient, account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    si, path = pending(account_id, make_uow)
    cross = browser.post(path, data={"outcome": "authorize"},
                         headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert browser.post(path, data={"outcome": "authorize"}).status_code == 403  # no Origin
    assert browser.post(path, data={"outcome": "maybe"}, headers=ORIGIN).status_code == 400
    token = path.rsplit("/", 1)[1]
    guessed = path[: -len(token)] + token[:-3] + "abc"
    assert browser.get(guessed).status_code == 404
    assert browser.post(guessed, data={"outcome": "authorize"}, headers=ORIGIN
                        ).status_code == 404
    foreign = re.sub(r"/test/authorize/[^/]+/", "/test/authorize/acct_other/", path)
    assert browser.get(foreign).status_code == 404
    assert browser.post(foreign, data={"outcome": "authorize"}, headers=ORIGIN
                        ).status_code == 404
    assert reload(make_uow, si).status == "requires_action"


def test_the_page_speaks_the_browsers_language(
        browser: TestClient, account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    _, path = pending(account_id, make_uow)
    german = browser.get(path, headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    assert 'lang="de-DE"' in german and "Testzahlung autorisieren" in german
    arabic = browser.get(path, headers={"Accept-Language": "ar"}).text
    assert 'dir="rtl"' in arabic
