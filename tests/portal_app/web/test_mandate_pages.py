"""A mandate's hosted page over HTTP: the mandate text naming the merchant as creditor."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal_app.billing import customers, setup_intents
from portal_app.billing.models import Mandate
from portal_app.db import UnitOfWork
from portal_app.web.mandate_pages import MandatePage

ONLINE = {"type": "online", "online": {"ip_address": "198.51.100.4", "user_agent": "UA/1"}}


def sepa_mandate(account_id: str, make_uow: Callable[[], UnitOfWork]) -> tuple[Mandate, str]:
    customer = customers.create_customer(account_id=account_id, uow=make_uow())
    si = setup_intents.create_setup_intent(
        account_id=account_id, uow=make_uow(), customer_id=customer.id,
        payment_method_types=["sepa_debit"], confirm=True, mandate_acceptance=ONLINE,
        payment_method_data={"type": "sepa_debit", "sepa_debit": {
            "iban": "DE89370400440532013000"}, "billing_details": {"name": "Ada Lovelace"}})
    with make_uow() as uow:
        mandate = uow.get(Mandate, si.mandate_id, account_id=account_id)
    return mandate, urlsplit(mandate.method_details["url"]).path


def test_the_page_shows_the_mandate(account_id: str,
                                    make_uow: Callable[[], UnitOfWork]) -> None:
    mandate, path = sepa_mandate(account_id, make_uow)
    browser = TestClient(Starlette(routes=MandatePage(make_uow).routes()))
    page = browser.get(path)
    assert page.status_code == 200
    html = page.text
    assert "Direct Debit mandate" in html and "you authorise (A) Acme Cloud" in html
    assert mandate.method_details["reference"] in html
    assert "IBAN •••• 3000" in html and "Ada Lovelace" in html and "Active" in html
    assert "DE89370400440532013000" not in html
    assert "<script" not in html and page.headers["cache-control"] == "private, no-store"
    german = browser.get(path, headers={"Accept-Language": "de"}).text
    assert "Lastschriftmandat" in german and "ermächtigen Sie (A) Acme Cloud" in german


def test_a_wrong_link_is_one_404(account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    mandate, path = sepa_mandate(account_id, make_uow)
    browser = TestClient(Starlette(routes=MandatePage(make_uow).routes()))
    wrong_mac = path[:-3] + "abc"
    other_account = path.replace(account_id, "acct_nobody")
    other_mandate = path.replace(mandate.id, "mandate_nope")
    bodies = {browser.get(p).text for p in (wrong_mac, other_account, other_mandate)}
    assert [browser.get(p).status_code for p in (wrong_mac, other_account, other_mandate)] == [
        404, 404, 404]
    assert len(bodies) == 1
