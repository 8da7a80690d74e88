"""The demo seed: deterministic, idempotent, every subscription status, a year of events.

Each test database here is its own SQLite file, migrated with Alembic, so the
demo account (which owns the one demo secret key) never meets the shared test
database.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from portal_app import seed
from portal_app.accounts import services as accounts
from portal_app.accounts.models import ApiKey, ConsoleUser
from portal_app.billing import meters
from portal_app.billing.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    Price,
    Subscription,
    SubscriptionItem,
)
from portal_app.db import UnitOfWork, get_engine
from portal_app.errors import AuthenticationFailed
from portal_app.events.models import Event
from portal_app.migrate import upgrade
from portal_app.portal.configurations import default_configuration
from portal_app.settings import get_settings

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def fresh_engine(directory: Path) -> Engine:
    url = f"sqlite:///{directory / 'portico.db'}"
    upgrade(url)
    return get_engine(url)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, seed.SeedResult]:
    engine = fresh_engine(tmp_path_factory.mktemp("seed-a"))
    return engine, seed.seed_demo(engine=engine, now=NOW)


def story(engine: Engine, account_id: str) -> list[tuple]:
    """Each customer's email, locale, and subscription status, currency and invoice count."""
    with UnitOfWork(engine) as uow:
        rows = uow.session.exec(
            select(Customer.email, Customer.preferred_locales, Subscription.status,
                   Subscription.currency, func.count(col(Invoice.id)))
            .join(Subscription, col(Subscription.customer_id) == Customer.id)
            .join(Invoice, col(Invoice.subscription_id) == Subscription.id, isouter=True)
            .where(Customer.account_id == account_id)
            .group_by(Customer.email, Customer.preferred_locales, Subscription.status,
                      Subscription.currency)
        ).all()
    return sorted((email, tuple(locales), str(status), currency, n)
                  for email, locales, status, currency, n in rows)


def test_seed_builds_a_year_of_history(seeded: tuple[Engine, seed.SeedResult]) -> None:
    engine, result = seeded
    counts = result.counts
    assert result.created
    assert counts["customers"] == 50
    for status in ("trialing", "active", "past_due", "canceled"):
        assert counts[f"subscriptions.{status}"] >= 1, status
    assert counts["subscriptions.active"] > counts["subscriptions.canceled"]
    assert counts["invoices"] > 150  # renewals, not just first invoices
    assert result.seconds < 30
    with UnitOfWork(engine) as uow:
        s = uow.session
        currencies = set(s.exec(select(Price.currency).where(
            Price.account_id == result.account_id)).all())
        intervals = set(s.exec(select(Price.interval).where(
            Price.account_id == result.account_id)).all())
        paid_months = {created.strftime("%Y-%m") for created in s.exec(
            select(Event.created).where(Event.account_id == result.account_id,
                                        Event.type == "invoice.paid")).all()}
        failed = s.exec(select(func.count()).where(
            Event.account_id == result.account_id,
            Event.type == "invoice.payment_failed")).one()
        reasons = Counter(sub.cancellation_details.get("reason") for sub in s.exec(
            select(Subscription).where(Subscription.account_id == result.account_id,
                                       Subscription.status == "canceled")).all())
        open_invoices = s.exec(select(func.count()).where(
            Invoice.account_id == result.account_id,
            Invoice.status == InvoiceStatus.open)).one()
        latest = s.exec(select(func.max(Event.created)).where(
            Event.account_id == result.account_id)).one()
    assert currencies == {"usd", "eur"}
    assert {str(i) for i in intervals} == {"month", "year"}
    # Paid invoices in every month of the year the history covers.
    assert len(paid_months) >= 12
    assert failed >= counts["subscriptions.past_due"] and open_invoices >= 1
    assert reasons["cancellation_requested"] >= 1 and reasons["payment_failed"] >= 1
    # The history ends at ``now``: nothing happens after it.
    assert NOW - timedelta(days=1) < latest.replace(tzinfo=UTC) <= NOW


def test_seed_configures_the_portal(seeded: tuple[Engine, seed.SeedResult]) -> None:
    engine, result = seeded
    config = default_configuration(account_id=result.account_id, uow=UnitOfWork(engine))
    assert "Northwind" in config.business_profile["headline"]
    features = config.features
    assert all(features[name]["enabled"] for name in (
        "invoice_history", "payment_method_update", "customer_update", "subscription_cancel",
        "subscription_update"))
    assert features["subscription_cancel"]["cancellation_reason"]["options"]
    assert len(features["subscription_update"]["products"]) == 3


def test_seed_is_deterministic_and_resets(seeded: tuple[Engine, seed.SeedResult],
                                          tmp_path: Path) -> None:
    engine, first = seeded
    other = fresh_engine(tmp_path)
    second = seed.seed_demo(engine=other, now=NOW)
    assert second.counts == first.counts
    assert story(other, second.account_id) == story(engine, first.account_id)
    # Ids are random by design, never replayed.
    assert second.account_id != first.account_id

    seed.demo_info(engine=other)  # leaves a portal session behind, also to be deleted
    third = seed.seed_demo(engine=other, now=NOW, reset=True)
    assert third.created and third.account_id != second.account_id
    assert third.counts == first.counts
    assert seed.demo_counts(second.account_id, engine=other)["customers"] == 0
    with UnitOfWork(other) as uow:
        assert uow.session.exec(select(func.count()).select_from(Customer)).one() == 50


def test_seed_is_idempotent(seeded: tuple[Engine, seed.SeedResult]) -> None:
    engine, first = seeded
    again = seed.seed_demo(engine=engine, now=NOW)
    assert not again.created
    assert again.account_id == first.account_id
    assert again.counts == first.counts


def test_plan_is_a_pure_function_of_the_seed() -> None:
    start = NOW - seed.HISTORY
    a = seed.plan_customers(start=start, now=NOW)
    assert a == seed.plan_customers(start=start, now=NOW)
    assert a != seed.plan_customers(start=start, now=NOW, seed=7)
    assert all(start < p.signup < NOW for p in a)
    assert len({p.email for p in a}) == len(a)
    assert {p.locale for p in a} == {"en", "de", "fr"}


def test_seed_adopts_a_changed_demo_key(seeded: tuple[Engine, seed.SeedResult],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    engine, first = seeded
    configured = "sk_test_rotated_demo_key_0123456789"
    monkeypatch.setenv("PORTICO_DEMO_SECRET_KEY", configured)
    get_settings.cache_clear()
    try:
        again = seed.seed_demo(engine=engine, now=NOW)
        assert not again.created and again.account_id == first.account_id
        assert seed.find_demo_account(engine=engine) == first.account_id
        # The configured key works; the one the first seed generated is revoked.
        assert accounts.authenticate_key(configured, uow=UnitOfWork(engine)) == first.account_id
        assert first.secrets is not None
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate_key(first.secrets.secret_key, uow=UnitOfWork(engine))
        # Rotating keeps the configured key (the operator's) and changes the password.
        rotated = seed.rotate_demo_secrets(engine=engine)
        assert rotated.secret_key == configured
        assert accounts.authenticate_key(configured, uow=UnitOfWork(engine)) == first.account_id
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert seed.find_demo_account(engine=engine) == first.account_id


def test_demo_secrets_are_generated_and_stored_only_as_digests(
        seeded: tuple[Engine, seed.SeedResult], tmp_path: Path) -> None:
    engine, first = seeded
    other = fresh_engine(tmp_path)
    second = seed.seed_demo(engine=other, now=NOW)
    assert first.secrets is not None and second.secrets is not None
    # Every seed makes its own: no key or password anyone could read in the source.
    assert first.secrets.secret_key != second.secrets.secret_key
    assert first.secrets.console_password != second.secrets.console_password
    assert second.secrets.secret_key.startswith("sk_test_")
    assert len(second.secrets.secret_key) >= 40 and len(second.secrets.console_password) >= 16
    for retired in ("sk_test_portico_demo_0123456789abcdef", "northwind-demo"):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate_key(retired, uow=UnitOfWork(other))
        with pytest.raises(AuthenticationFailed):
            accounts.sign_in(email=seed.DEMO_EMAIL, password=retired, uow=UnitOfWork(other))
    assert accounts.authenticate_key(second.secrets.secret_key,
                                     uow=UnitOfWork(other)) == second.account_id
    accounts.sign_in(email=seed.DEMO_EMAIL, password=second.secrets.console_password,
                     uow=UnitOfWork(other))
    with UnitOfWork(other) as uow:
        stored = " ".join(str(row.model_dump()) for model in (ApiKey, ConsoleUser)
                          for row in uow.session.exec(select(model)).all())
    assert second.secrets.secret_key not in stored
    assert second.secrets.console_password not in stored
    # demo-info shows only the key's hint; --rotate revokes the key and sets a new password.
    key = second.secrets.secret_key
    assert seed.demo_info(engine=other).key_hints == [f"{key[:8]}…{key[-4:]}"]
    rotated = seed.rotate_demo_secrets(engine=other)
    assert rotated.secret_key != key
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_key(key, uow=UnitOfWork(other))
    assert accounts.authenticate_key(rotated.secret_key,
                                     uow=UnitOfWork(other)) == second.account_id
    with pytest.raises(AuthenticationFailed):
        accounts.sign_in(email=seed.DEMO_EMAIL, password=second.secrets.console_password,
                         uow=UnitOfWork(other))
    accounts.sign_in(email=seed.DEMO_EMAIL, password=rotated.console_password,
                     uow=UnitOfWork(other))


def test_the_featured_customer_has_a_metered_add_on_with_usage(
        seeded: tuple[Engine, seed.SeedResult]) -> None:
    engine, result = seeded
    customer_id, _label = seed.featured_customer(result.account_id, engine=engine)
    with UnitOfWork(engine) as uow:
        sub = uow.session.exec(select(Subscription).where(
            Subscription.customer_id == customer_id)).one()
        metered = uow.session.exec(
            select(SubscriptionItem, Price)
            .join(Price, col(Price.id) == SubscriptionItem.price_id)
            .where(SubscriptionItem.subscription_id == sub.id,
                   Price.usage_type == "metered")).one()
        usage = meters.current_usage(sub, *metered, uow=uow)
    assert metered[1].meter_id is not None
    assert usage.quantity > 0 and usage.amount == usage.quantity * metered[1].unit_amount
