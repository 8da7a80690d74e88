"""The invoice history's view models: the session customer's issued invoices, paged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from portal_app.billing.provider import StripeObject
from portal_app.db import UnitOfWork
from portal_app.portal import configurations, sessions
from portal_app.views.invoices import (
    PAGE_SIZE,
    history_page,
    invoice_history_enabled,
    invoice_row,
    issued_invoices,
    load_invoice_history,
)
from portal_app.views.overview import load_overview
from tests.conftest import START
from tests.portal_app.views.test_overview import (
    portal_session,
    provider_of,
    subscribed_customer,
)

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def customer(account_id: str, make_uow: UowFactory) -> str:
    """A customer billed 23 times (the first invoice and 22 monthly renewals)."""
    customer, _ = subscribed_customer(account_id, make_uow)
    provider_of(account_id, make_uow).advance_clock(START + timedelta(days=22 * 30.5))
    return customer


def test_pages_of_ten_newest_first(account_id: str, customer: str,
                                   make_uow: UowFactory) -> None:
    session = portal_session(account_id, customer, make_uow)

    first = load_invoice_history(session, page=1, locale="en", uow=make_uow())
    assert (first.total, first.pages, first.range_text) == (23, 3, "1–10 of 23")
    assert len(first.rows) == PAGE_SIZE and (first.has_previous, first.has_next) == (False, True)
    numbers = [row.number for row in first.rows]
    assert numbers == sorted(numbers, reverse=True) and numbers[-1].endswith("-0014")
    row = first.rows[0]
    assert (row.amount, row.status, row.status_label, row.status_color) == \
        ("€19.99", "paid", "Paid", "green")
    [invoice] = [i for i in provider_of(account_id, make_uow).list_invoices(customer)
                 if i["id"] == row.id]
    # The documents open in the portal's language.
    assert row.hosted_url == invoice["hosted_invoice_url"] + "?locale=en"
    assert row.pdf_url == invoice["invoice_pdf"] + "?locale=en"

    last = load_invoice_history(session, page=3, locale="en", uow=make_uow())
    assert (last.range_text, len(last.rows), last.has_next, last.has_previous) == \
        ("21–23 of 23", 3, False, True)
    assert last.rows[-1].number.endswith("-0001")
    # A page number from the browser is clamped to the pages there are.
    assert load_invoice_history(session, page=99, locale="en", uow=make_uow()).page == 3
    assert load_invoice_history(session, page=-4, locale="en", uow=make_uow()).page == 1


def test_in_german(account_id: str, customer: str, make_uow: UowFactory) -> None:
    session = portal_session(account_id, customer, make_uow, locale="de")
    page = load_invoice_history(session, page=2, locale="de", uow=make_uow())
    assert page.range_text == "11–20 von 23"
    assert (page.rows[0].amount, page.rows[0].status_label) == ("19,99\xa0€", "Bezahlt")


def test_only_the_sessions_customer_and_no_drafts(account_id: str, customer: str,
                                                   make_uow: UowFactory) -> None:
    other, _ = subscribed_customer(account_id, make_uow)
    page = load_invoice_history(portal_session(account_id, other, make_uow), page=1,
                                locale="en", uow=make_uow())
    assert page.total == 1 and page.range_text == "1–1 of 1"
    invoices = [{"status": s, "created": 1, "number": n, "id": n}
                for s, n in [("draft", "3"), ("open", "2"), ("paid", "1")]]
    assert [i["number"] for i in issued_invoices(invoices)] == ["2", "1"]


def test_an_open_invoice_past_its_due_date_is_past_due(account_id: str, customer: str,
                                                       make_uow: UowFactory) -> None:
    [paid, *_] = provider_of(account_id, make_uow).list_invoices(customer)
    due = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    unpaid: StripeObject = {**paid, "status": "open", "due_date": due, "attempted": False,
                            "amount_paid": 0, "amount_remaining": paid["total"]}
    before = invoice_row(unpaid, locale="en", now=datetime(2026, 2, 1, tzinfo=UTC))
    after = invoice_row(unpaid, locale="en", now=datetime(2026, 3, 2, tzinfo=UTC))
    assert (before.status, before.status_label) == ("open", "Open")
    assert (after.status, after.status_label, after.status_color) == \
        ("past_due", "Past due", "red")
    assert after.pay_url == f"/portal/invoices/{paid['id']}/pay"
    assert invoice_row(paid, locale="en", now=START).pay_url == ""  # nothing to pay
    void = invoice_row({**paid, "status": "void"}, locale="fr", now=START)
    assert void.status_label == "Annulée"


def test_no_invoices() -> None:
    empty = history_page([], page=1, locale="en", now=START)
    assert (empty.total, empty.pages, empty.range_text, empty.rows) == (0, 1, "", [])


def test_hidden_when_the_configuration_turns_invoice_history_off(
        account_id: str, customer: str, make_uow: UowFactory) -> None:
    default = portal_session(account_id, customer, make_uow)  # the default: everything on
    config = configurations.create_configuration(
        {"features": {"invoice_history": {"enabled": False}}}, account_id=account_id,
        uow=make_uow())
    session = sessions.create_session(account_id=account_id, uow=make_uow(), customer=customer,
                                      configuration=config.id, locale="en").session
    history = load_invoice_history(session, page=1, locale="en", uow=make_uow())
    assert (history.enabled, history.rows) == (False, [])
    overview = load_overview(session, locale="en", uow=make_uow())
    assert (overview.invoice_history, overview.invoices) == (False, [])
    assert not invoice_history_enabled(config.features)
    shown = load_overview(default, locale="en", uow=make_uow())
    assert shown.invoice_history and shown.invoices[0].hosted_url.startswith("http")
