"""The test authorization page in Chromium, without JavaScript: a 3-D Secure card is
authorized and the browser lands on the merchant's return URL (another origin, which the
page's Content-Security-Policy lets the form redirect to), with Stripe's parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from portal_app.billing import customers, setup_intents
from portal_app.billing.models import SetupIntent
from portal_app.db import UnitOfWork
from portal_app.web.app import SecurityHeaders
from portal_app.web.test_authorization import TestAuthorizationPage
from tests.embedded_server import EmbeddedServer

pytestmark = pytest.mark.browser


def _done(request: Request) -> PlainTextResponse:
    return PlainTextResponse("back at the shop")


@pytest.fixture
def served(make_uow: Callable[[], UnitOfWork]) -> Iterator[int]:
    """The page (and a stand-in shop page at /done) on a free loopback port."""
    server = EmbeddedServer(SecurityHeaders(Starlette(routes=[
        *TestAuthorizationPage(make_uow).routes(), Route("/done", _done)])), ready_path="/done")
    server.start()
    yield server.port
    server.stop()


def test_authorize_without_javascript(browser: Any, served: int, account_id: str,
                                      make_uow: Callable[[], UnitOfWork]) -> None:
    customer = customers.create_customer(account_id=account_id, uow=make_uow())
    return_url = f"http://localhost:{served}/done"  # another origin than the page's
    si = setup_intents.create_setup_intent(
        account_id=account_id, uow=make_uow(), customer_id=customer.id,
        payment_method_data={"type": "card", "card": {
            "number": "4000000000003220", "exp_month": "12", "exp_year": "2031",
            "cvc": "123"}}, confirm=True, return_url=return_url)
    path = urlsplit((si.next_action or {})["redirect_to_url"]["url"]).path
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        page.goto(f"http://127.0.0.1:{served}{path}")
        assert page.get_by_role("button", name="Authorize test payment").is_visible()
        page.get_by_role("button", name="Authorize test payment").click()
        page.wait_for_url(f"{return_url}?*")
        query = parse_qs(urlsplit(page.url).query)
        assert query["setup_intent"] == [si.id] and query["redirect_status"] == ["succeeded"]
        assert page.content().find("back at the shop") > 0
    finally:
        context.close()
    assert refused == []
    with make_uow() as uow:
        assert uow.get(SetupIntent, si.id, account_id=account_id).status == "succeeded"
