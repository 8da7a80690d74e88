"""The demo seed: deterministic, idempotent, every subscription status, a year of events,
and the showcase of issue 11 (wallets of several types, mandates, tax IDs, full addresses).

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

from portal_app import seed, seed_wallets
from portal_app.accounts import services as accounts
from portal_app.accounts.models import ApiKey, ConsoleUser
from portal_app.addresses import validate_address
from portal_app.billing import meters
from portal_app.billing.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    Mandate,
    PaymentMethod,
    PendingAuthorization,
    Price,
    SetupIntent,
    Subscription,
    SubscriptionItem,
    TaxId,
)
from portal_app.billing.providers import billing_provider
from portal_app.billing.tax_id_types import check_tax_id
from portal_app.db import UnitOfWork, get_engine
from portal_app.errors import AuthenticationFailed
from portal_app.events.models import Event
from portal_app.migrate import upgrade
from portal_app.portal.configurations import CUSTOMER_UPDATES, default_configuration
from portal_app.portal.payment_method_actions import allowed_types
from portal_app.settings import get_settings
from portal_app.views.payment_methods import method_view

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
            select(  # type: ignore[call-overload]  # sqlmodel types at most four columns
                Customer.email, Customer.preferred_locales, Subscription.status,
                Subscription.currency, func.count(col(Invoice.id)))
            .join(Subscription, col(Subscription.customer_id) == Customer.id)
            .join(Invoice, col(Invoice.subscription_id) == Subscription.id, isouter=True)
            .where(Customer.account_id == account_id)
            .group_by(Customer.email, Customer.preferred_locales, Subscription.status,
                      Subscription.currency)
        ).all()
    return sorted((email, tuple(locales), str(status), currency, n)
                  for email, locales, status, currency, n in rows)


def wallets(engine: Engine, account_id: str) -> list[tuple]:
    """Each customer's email with their methods (type, brand, last4, expiry, default,
    mandate status) and tax IDs: what the showcase shows, ids aside."""
    with UnitOfWork(engine) as uow:
        s = uow.session
        rows = s.exec(select(Customer, PaymentMethod)
                      .join(PaymentMethod, col(PaymentMethod.customer_id) == Customer.id)
                      .where(Customer.account_id == account_id)).all()
        mandates = {m.payment_method_id: m.status for m in s.exec(
            select(Mandate).where(Mandate.account_id == account_id)).all()}
        taxes = {(c.email, t.type, t.value) for c, t in s.exec(
            select(Customer, TaxId).join(TaxId, col(TaxId.customer_id) == Customer.id)
            .where(Customer.account_id == account_id)).all()}
    methods = {(c.email, pm.type, pm.brand, pm.last4, pm.exp_month, pm.exp_year,
                c.default_payment_method == pm.id, mandates.get(pm.id)) for c, pm in rows}
    return sorted(methods, key=str) + sorted(taxes)


def by_email(engine: Engine, account_id: str, email: str) -> Customer:
    with UnitOfWork(engine) as uow:
        return uow.session.exec(select(Customer).where(Customer.account_id == account_id,
                                                       Customer.email == email)).one()


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
    # Billing details: every detail Stripe lets a customer edit, tax IDs included.
    assert sorted(features["customer_update"]["allowed_updates"]) == sorted(CUSTOMER_UPDATES)
    assert {"shipping", "tax_id"} <= set(features["customer_update"]["allowed_updates"])
    # Payment methods: a configuration limits what can be added (PayPal on, Korean wallets off).
    assert features["payment_method_update"]["payment_method_configuration"].startswith("pmc_")
    with UnitOfWork(engine) as uow:
        offered = allowed_types(features, billing=billing_provider(result.account_id, uow=uow))
    assert {"card", "sepa_debit", "us_bank_account", "paypal", "link"} <= set(offered)
    assert "kakao_pay" not in offered and "nz_bank_account" not in offered


def test_seed_is_deterministic_and_resets(seeded: tuple[Engine, seed.SeedResult],
                                          tmp_path: Path) -> None:
    engine, first = seeded
    other = fresh_engine(tmp_path)
    second = seed.seed_demo(engine=other, now=NOW)
    assert second.counts == first.counts
    assert story(other, second.account_id) == story(engine, first.account_id)
    assert wallets(other, second.account_id) == wallets(engine, first.account_id)
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


def test_the_featured_customer_shows_a_wallet_of_every_kind(
        seeded: tuple[Engine, seed.SeedResult]) -> None:
    engine, result = seeded
    customer_id, _label = seed.featured_customer(result.account_id, engine=engine)
    # As the portal's payment methods page shows them, at the end of the history.
    with UnitOfWork(engine) as uow:
        billing = billing_provider(result.account_id, uow=uow)
        default = billing.retrieve_customer(customer_id)["invoice_settings"][
            "default_payment_method"]
        views = [method_view(pm, default_id=default, locale="en", now=NOW)
                 for pm in billing.list_payment_methods(customer_id)]
        intents = uow.session.exec(select(SetupIntent).where(
            SetupIntent.customer_id == customer_id)).all()
        authorized = uow.session.exec(select(PendingAuthorization).where(
            PendingAuthorization.account_id == result.account_id,
            col(PendingAuthorization.object_id).in_([si.id for si in intents]))).all()
        mandates = uow.session.exec(select(Mandate).where(
            Mandate.customer_id == customer_id)).all()
    shown = {v.title: v for v in views}
    assert {v.type for v in views} == {"card", "us_bank_account", "paypal"}
    assert shown["Visa •••• 4242"].is_default and not shown["Visa •••• 4242"].badge
    assert shown["Mastercard •••• 4444"].badge == "Expires soon"
    assert shown["American Express •••• 0005"].badge == "Expired"  # kept, a year later
    assert shown["STRIPE TEST BANK •••• 6789"].type == "us_bank_account"
    assert shown["PayPal"].detail == "ada.w@paypal.example"  # filled in by the wallet
    # Saved as a customer saves them: setup intents, the ACH one under a mandate, the
    # PayPal one authorized on the test page.
    assert {si.status for si in intents} == {"succeeded"} and len(intents) == 4
    assert [a.status for a in authorized] == ["succeeded"]
    assert [(m.status, m.customer_acceptance["type"]) for m in mandates] == [
        ("active", "online")]
    # Saved over the year, so the page lists them in the same order at every seed.
    assert [v.title for v in views] == [
        "PayPal", "STRIPE TEST BANK •••• 6789", "Mastercard •••• 4444",
        "American Express •••• 0005", "Visa •••• 4242"]


def test_the_showcase_has_debits_tax_ids_and_full_addresses(
        seeded: tuple[Engine, seed.SeedResult]) -> None:
    engine, result = seeded
    account_id = result.account_id
    with UnitOfWork(engine) as uow:
        s = uow.session
        attached = s.exec(select(PaymentMethod).where(
            PaymentMethod.account_id == account_id,
            col(PaymentMethod.customer_id).is_not(None))).all()
        tax_ids = s.exec(select(TaxId).where(TaxId.account_id == account_id)).all()
        every = s.exec(select(Customer).where(Customer.account_id == account_id)).all()
    assert {pm.type for pm in attached} >= {"card", "sepa_debit", "us_bank_account", "paypal",
                                            "bacs_debit", "au_becs_debit"}
    assert {pm.brand for pm in attached if pm.type == "card"} >= {
        "visa", "mastercard", "amex", "discover", "jcb", "unionpay", "diners"}
    # The SEPA customer pays by debit under a mandate with its reference and page.
    sepa = next(pm for pm in attached if pm.type == "sepa_debit")
    debtor = by_email(engine, account_id, "katrin.hoffmann@hoffmann-weber.example")
    assert sepa.customer_id == debtor.id and debtor.default_payment_method == sepa.id
    with UnitOfWork(engine) as uow:
        mandate = uow.session.exec(select(Mandate).where(
            Mandate.payment_method_id == sepa.id)).one()
        paid_by_debit = uow.session.exec(select(func.count()).where(
            Invoice.payment_method_id == sepa.id, Invoice.status == InvoiceStatus.paid)).one()
    assert mandate.status == "active" and len(mandate.method_details["reference"]) == 16
    assert "/mandates/" in mandate.method_details["url"]
    # Every bank debit was saved under a mandate the customer accepted.
    with UnitOfWork(engine) as uow:
        mandated = set(uow.session.exec(select(Mandate.payment_method_id).where(
            Mandate.account_id == account_id, Mandate.status == "active")).all())
    debits = {pm.id for pm in attached if pm.type.endswith(("_debit", "_bank_account"))}
    assert len(debits) == 4 and debits <= mandated
    assert paid_by_debit >= 6  # it signed up in the history's second month
    # Tax IDs of three kinds, each a real number (the ledger checked its check digit).
    assert {(t.type, t.country) for t in tax_ids} >= {
        ("eu_vat", "DE"), ("gb_vat", "GB"), ("au_abn", "AU")}
    assert all(check_tax_id(t.type, t.value) == t.value for t in tax_ids)
    # Saved before the first invoice: every invoice of theirs names them (PDF included).
    with UnitOfWork(engine) as uow:
        invoices = billing_provider(account_id, uow=uow).list_invoices(debtor.id)
    assert invoices and all(inv["customer_tax_ids"] == [{"type": "eu_vat",
                                                         "value": "DE136695976"}]
                            for inv in invoices)
    assert all(inv["customer_shipping"]["address"]["city"] == "Hamburg" for inv in invoices)
    # Every address (billing and shipping) is one the billing details form accepts.
    for customer in every:
        assert validate_address(customer.address or {}, "en") == {}, customer.email
        if customer.shipping:
            assert customer.shipping["name"]
            assert validate_address(customer.shipping["address"], "en") == {}, customer.email
    showcase = [c for c in every if c.email in {sc.email for sc in seed_wallets.SHOWCASE}]
    assert len(showcase) == len(seed_wallets.SHOWCASE) and all(c.phone for c in showcase)
    assert sum(1 for c in showcase if c.shipping) >= 3
    assert {(c.address or {}).get("country") for c in showcase} == {"US", "DE", "GB", "AU"}


def test_the_past_due_customers_are_kept(seeded: tuple[Engine, seed.SeedResult]) -> None:
    engine, result = seeded
    assert result.counts["subscriptions.past_due"] == dict(seed.FATES)["past_due"]
    with UnitOfWork(engine) as uow:
        unpaid = uow.session.exec(
            select(Subscription.id, Invoice.attempt_count, Invoice.last_decline_code)
            .join(Invoice, col(Invoice.subscription_id) == Subscription.id)
            .where(Subscription.account_id == result.account_id,
                   Subscription.status == "past_due",
                   Invoice.status == InvoiceStatus.open)).all()
    # Each one's renewal failed: a declined card, or (a trial's end) no card at all.
    assert len({sub for sub, _, _ in unpaid}) == dict(seed.FATES)["past_due"]
    assert all(attempts >= 1 for _, attempts, _ in unpaid)
    assert {code for _, _, code in unpaid} == {"generic_decline", "payment_method_missing"}


def test_card_params_count_months_from_the_end_of_history() -> None:
    assert seed_wallets.card_params("4242424242424242", months=-2, now=NOW)[
        "exp_month"] == 4
    soon = seed_wallets.card_params("4242424242424242", months=7, now=NOW)
    assert (soon["exp_month"], soon["exp_year"]) == (1, 2027)
    assert seed_wallets.card_params("378282246310005", months=0, now=NOW)["cvc"] == "7373"
