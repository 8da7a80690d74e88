"""``portico stripe-backfill`` against the second Portico acting as Stripe, and localstripe.

The second Portico's clock is the test's frozen clock, so history can be made 60 days
before the test's now (older than the 30 days Stripe lists events for) and the backfill must synthesize
what the dashboard needs of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import polars as pl
import pytest
import stripe
from sqlalchemy.engine import Engine
from sqlmodel import select

from portal_app import cli
from portal_app.accounts import services as accounts
from portal_app.accounts.stripe_link import connect_stripe
from portal_app.billing.providers import StripeCalls
from portal_app.billing.providers.stripe.client import RetryPolicy
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.events.analytics_source import load_history
from portal_app.events.backfill import SYNTHESIZED, backfill
from portal_app.events.models import Event, StripeBackfillCursor, StripeObject
from portal_app.events.snapshots import retrieve_snapshot
from portal_app.testing.localstripe import LocalStripe
from tests.conftest import START
from tests.portal_app.web.test_stripe_webhooks import subscribe

NOW = START + timedelta(days=60)


class Interrupted(Exception):
    """Stands for Ctrl-C in the middle of a run."""


def events_of(make_uow: Callable[[], UnitOfWork], account: str) -> list[Event]:
    with make_uow() as uow:
        return list(uow.session.exec(select(Event).where(Event.account_id == account)))


def test_backfill_builds_history_resumes_after_an_interruption_and_synthesizes_the_past(
    stripe_backed_account_id: str,
    stripe_side_client: stripe.StripeClient,
    clock: FrozenClock,
    make_uow: Callable[[], UnitOfWork],
) -> None:
    account = stripe_backed_account_id
    # 60 days before NOW (the clock starts at START and never runs back): one
    # subscription still running, one that ended 50 days before NOW.
    old = subscribe(stripe_side_client)
    ended = subscribe(stripe_side_client)
    clock.set(NOW - timedelta(days=50))
    stripe_side_client.v1.subscriptions.cancel(ended.id)
    # Within the last 30 days: a new subscription, and the old one canceled.
    clock.set(NOW - timedelta(days=3))
    recent = subscribe(stripe_side_client)
    stripe_side_client.v1.subscriptions.cancel(old.id)
    clock.set(NOW)
    listed = {
        e.id
        for e in stripe_side_client.v1.events.list(
            {"limit": 100, "created": {"gte": int((NOW - timedelta(days=30)).timestamp())}}
        ).data
    }

    pages: list[tuple[str, int]] = []

    def interrupt_in_subscriptions(name: str, count: int) -> None:
        pages.append((name, count))
        if name == "subscriptions" and len([p for p in pages if p[0] == name]) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        backfill(
            account,
            uow_factory=make_uow,
            clock=clock,
            page_size=1,
            progress=interrupt_in_subscriptions,
        )
    with make_uow() as uow:
        cursors = {
            c.list_name: c
            for c in uow.session.exec(
                select(StripeBackfillCursor).where(StripeBackfillCursor.account_id == account)
            )
        }
    assert cursors["customers"].done and cursors["customers"].count == 3
    assert not cursors["subscriptions"].done and cursors["subscriptions"].count == 2
    assert events_of(make_uow, account) == []

    resumed: list[tuple[str, int]] = []
    result = backfill(
        account,
        uow_factory=make_uow,
        clock=clock,
        page_size=2,
        progress=lambda name, count: resumed.append((name, count)),
    )
    assert result.resumed
    assert "customers" not in {name for name, _ in resumed}  # done before the interruption
    assert result.objects["subscriptions"] == 1  # the third: two were stored before
    assert result.events_inserted == len(listed) and result.events_skipped == 0
    stored = events_of(make_uow, account)
    real = {e.id for e in stored if e.origin != SYNTHESIZED}
    assert real == listed
    synthesized = {(e.type, e.object_id): e for e in stored if e.origin == SYNTHESIZED}
    # created: the two old ones (the recent one's is listed); deleted: the one that ended
    # 50 days ago (the old one's cancellation is listed).
    assert set(synthesized) == {
        ("customer.subscription.created", old.id),
        ("customer.subscription.created", ended.id),
        ("customer.subscription.deleted", ended.id),
    }
    assert synthesized[("customer.subscription.created", old.id)].created == START
    assert synthesized[("customer.subscription.created", old.id)].data_object["status"] == "active"
    assert synthesized[("customer.subscription.deleted", ended.id)].created == NOW - timedelta(
        days=50
    )
    assert result.synthesized == 3
    for sub in (old, ended, recent):
        snapshot = retrieve_snapshot(account, sub.id, uow=make_uow())
        assert snapshot is not None
        assert snapshot["status"] == ("active" if sub is recent else "canceled")
    with make_uow() as uow:
        assert (
            uow.session.exec(
                select(StripeBackfillCursor).where(StripeBackfillCursor.account_id == account)
            ).first()
            is None
        )
        invoices = uow.session.exec(
            select(StripeObject.id).where(
                StripeObject.account_id == account, StripeObject.type == "invoice"
            )
        ).all()
        assert len(invoices) == 3

    # The dashboard's history reaches back to the first subscription, 60 days ago.
    history = load_history(account, uow=make_uow())
    created = history.subscriptions.filter(pl.col("type") == "customer.subscription.created")
    assert created["created"].min() == START
    assert set(created["subscription"]) == {old.id, ended.id, recent.id}

    # A run after a finished one starts afresh and stores nothing twice.
    again = backfill(account, uow_factory=make_uow, clock=clock)
    assert not again.resumed
    assert again.events_inserted == 0 and again.events_skipped == len(listed)
    assert again.synthesized == 0
    assert len(events_of(make_uow, account)) == len(stored)


def test_backfill_refuses_an_account_on_the_local_ledger(
    account_id: str, make_uow: Callable[[], UnitOfWork]
) -> None:
    with pytest.raises(InvalidRequest, match="does not bill with Stripe"):
        backfill(account_id, uow_factory=make_uow)


def test_backfill_from_localstripe(
    localstripe: LocalStripe,
    localstripe_client: stripe.StripeClient,
    make_uow: Callable[[], UnitOfWork],
) -> None:
    """localstripe: customers, subscriptions on plans, invoices and events, paged."""
    client = localstripe_client
    customer = client.v1.customers.create({"email": "ls@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    client.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": pm.id}})
    product = client.v1.products.create({"name": "Basic"})
    plan = client.v1.plans.create(
        {"product": product.id, "amount": 1200, "currency": "usd", "interval": "month"}
    )
    subscription = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"plan": plan.id}]}
    )
    account = accounts.create_account(
        business_name="On localstripe", email="ls-merchant@example.com", uow=make_uow()
    ).id
    connect_stripe(
        account, secret_key="sk_test_localstripe", api_base=localstripe.url, uow=make_uow()
    )
    calls = StripeCalls(client, account_id=account, retry=RetryPolicy(sleep=lambda _: None))
    # Its events are on the real clock; the window is 30 days before now.
    result = backfill(account, uow_factory=make_uow, calls=calls, page_size=50)
    assert result.objects["customers"] >= 1 and result.objects["subscriptions"] >= 1
    snapshot = retrieve_snapshot(account, subscription.id, uow=make_uow())
    assert snapshot is not None and snapshot["customer"] == customer.id
    assert retrieve_snapshot(account, customer.id, uow=make_uow()) is not None
    assert result.events_inserted >= 1
    again = backfill(account, uow_factory=make_uow, calls=calls, page_size=50)
    assert again.events_inserted == 0


def test_the_cli_runs_the_backfill_with_a_progress_bar_on_stderr(
    stripe_backed_account_id: str,
    stripe_side_client: stripe.StripeClient,
    database: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    customer = stripe_side_client.v1.customers.create({"email": "cli@example.com"})
    url = database.url.render_as_string(hide_password=False)
    code = cli.main(
        ["--database-url", url, "stripe-backfill", "--account", stripe_backed_account_id]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert f"Backfilled {stripe_backed_account_id}: 1 customers" in out
    assert "customers: " in err and "1 objects" in err  # tqdm's bar
    assert (
        retrieve_snapshot(stripe_backed_account_id, customer.id, uow=UnitOfWork(database))
        is not None
    )
    assert cli.main(["--database-url", url, "stripe-backfill", "--account", "acct_nope"]) == 1
    assert "No such account" in capsys.readouterr().err
