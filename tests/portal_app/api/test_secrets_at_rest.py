"""Nothing secret is stored in plaintext: after a realistic flow, no table holds a secret.

A merchant's backend creates a customer and a portal session through the ``stripe`` SDK
(which sends an Idempotency-Key with every POST), the customer opens the link in a
browser, an operator signs in to the console. Then every text, JSON and binary value of
every table is searched for each secret that went by.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import stripe
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal_app.accounts import services as accounts
from portal_app.db import UnitOfWork
from portal_app.routes import CONSOLE_LOGIN
from portal_app.web import console_sign_in, portal_links
from tests.portal_app.stored_secrets import stored_occurrences

MakeUow = Callable[[], UnitOfWork]
PASSWORD = "a long console passphrase"


def test_no_table_holds_a_key_token_cookie_or_password(
        client: stripe.StripeClient, api_key: str, account_id: str, make_uow: MakeUow) -> None:
    customer = client.v1.customers.create({"email": "rest@example.com"})
    session = client.v1.billing_portal.sessions.create(
        {"customer": customer.id, "return_url": "https://acme.test/account"},
        {"idempotency_key": "portal-for-rest"})
    token = session.url.rsplit("/", 1)[1]

    browser = TestClient(Starlette(routes=portal_links.routes(make_uow)), follow_redirects=False)
    opened = browser.get(session.url[session.url.index("/p/"):])
    assert opened.status_code == 303
    browser_secret = browser.cookies.get(portal_links.COOKIE_NAME)

    email = f"ops-{account_id.lower()}@acme.test"
    accounts.create_console_user(account_id=account_id, email=email, password=PASSWORD,
                                 uow=make_uow())
    console = TestClient(Starlette(routes=console_sign_in.ROUTES), follow_redirects=False)
    form = console.get(CONSOLE_LOGIN)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    signed_in = console.post(CONSOLE_LOGIN, headers={"Origin": "http://testserver"},
                             data={"email": email, "password": PASSWORD, "next": "",
                                   "csrf_token": csrf.group(1)})
    assert signed_in.status_code == 303
    console_cookie = console.cookies.get(console_sign_in.COOKIE)

    secrets = {"API key": api_key, "portal token": token, "portal link": session.url,
               "portal cookie": browser_secret, "console cookie": console_cookie,
               "console password": PASSWORD, "idempotency key": "portal-for-rest"}
    assert all(secrets.values()), secrets
    assert stored_occurrences(make_uow, secrets.values()) == []
    # The search does reach the rows the flow wrote.
    assert stored_occurrences(make_uow, [customer.id, email, "https://acme.test/account"])
