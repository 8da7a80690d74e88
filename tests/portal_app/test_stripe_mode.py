"""Stripe-backed billing from the outside: PORTICO_BILLING=stripe for the demo seed, and
``portico stripe-connect`` / ``stripe-disconnect`` / ``stripe-import-configurations``.

"Stripe" is a second Portico (tests/stripe_world.py) reached over real HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import stripe
from sqlalchemy.engine import Engine
from sqlmodel import select

from portal_app import seed
from portal_app.accounts.billing_settings import billing_summary
from portal_app.accounts.stripe_link import bills_through_stripe, stripe_credentials
from portal_app.cli import main
from portal_app.db import UnitOfWork, get_engine
from portal_app.errors import InvalidRequest
from portal_app.migrate import upgrade
from portal_app.portal.models import PortalConfiguration, PortalSession
from portal_app.settings import billing_kind, get_settings
from tests.stripe_world import StripeSide


@pytest.fixture
def stripe_env(monkeypatch: pytest.MonkeyPatch, stripe_side: StripeSide,
               stripe_account: tuple[str, str]) -> Iterator[None]:
    """PORTICO_BILLING=stripe on this test's Stripe account."""
    monkeypatch.setenv("PORTICO_BILLING", "stripe")
    monkeypatch.setenv("STRIPE_SECRET_KEY", stripe_account[1])
    monkeypatch.setenv("STRIPE_API_BASE", stripe_side.url)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_demo_0123456789")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def demo_db(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    return get_engine(url)


def _configs(account_id: str, engine: Engine) -> list[PortalConfiguration]:
    with UnitOfWork(engine) as uow:
        return list(uow.session.exec(select(PortalConfiguration).where(
            PortalConfiguration.account_id == account_id)).all())


def test_portico_billing_reads_local_or_stripe_only() -> None:
    assert billing_kind("") == "local" and billing_kind(" Stripe ") == "stripe"
    with pytest.raises(ValueError, match="PORTICO_BILLING"):
        billing_kind("braintree")


def test_the_stripe_demo_bills_through_stripe_with_a_portal_of_its_prices(
        stripe_env: None, demo_db: Engine, stripe_side_client: stripe.StripeClient) -> None:
    product = stripe_side_client.v1.products.create({"name": "Team"})
    monthly = stripe_side_client.v1.prices.create({
        "product": product.id, "currency": "usd", "unit_amount": 2900,
        "recurring": {"interval": "month"}})
    stripe_side_client.v1.prices.create({"product": product.id, "currency": "usd",
                                         "unit_amount": 500})  # one-time: not offered
    result = seed.seed_demo(engine=demo_db)
    assert result.created and result.stripe is not None and result.secrets is not None
    assert bills_through_stripe(result.account_id, uow=UnitOfWork(demo_db))
    assert result.counts["customers"] == 0  # nothing seeded on the ledger
    summary = result.stripe.billing
    assert summary.through_stripe and summary.has_webhook_secret
    assert summary.webhook_url == (f"{get_settings().public_url}/webhooks/stripe/"
                                   f"{result.account_id}")
    [config] = _configs(result.account_id, demo_db)
    assert config.is_default and result.stripe.created_configuration == config.id
    assert config.features["subscription_update"]["products"] == [
        {"product": product.id, "prices": [monthly.id],
         "adjustable_quantity": {"enabled": False, "maximum": None, "minimum": 1}}]
    # demo-info opens the portal on a customer of the Stripe account.
    assert seed.demo_info(engine=demo_db).portal_url is None
    ada = stripe_side_client.v1.customers.create({"email": "ada@example.com", "name": "Ada"})
    info = seed.demo_info(engine=demo_db)
    assert info.portal_url is not None and info.portal_customer == "Ada <ada@example.com>"
    with UnitOfWork(demo_db) as uow:
        sessions = uow.session.exec(select(PortalSession).where(
            PortalSession.account_id == result.account_id)).all()
    assert [s.customer_id for s in sessions] == [ada.id]
    # Seeding again changes nothing.
    again = seed.seed_demo(engine=demo_db)
    assert not again.created and again.stripe is None
    assert len(_configs(result.account_id, demo_db)) == 1


def test_the_stripe_demo_imports_the_stripe_portal_configurations(
        stripe_env: None, demo_db: Engine, stripe_side_client: stripe.StripeClient) -> None:
    theirs = stripe_side_client.v1.billing_portal.configurations.create({
        "name": "From Stripe", "features": {"invoice_history": {"enabled": True}}})
    result = seed.seed_demo(engine=demo_db)
    assert result.stripe is not None and result.stripe.created_configuration is None
    [config] = _configs(result.account_id, demo_db)
    assert (config.imported_from, config.name, config.is_default) == (theirs.id,
                                                                      "From Stripe", True)


def test_a_stripe_demo_without_a_key_is_refused(
        monkeypatch: pytest.MonkeyPatch, demo_db: Engine) -> None:
    monkeypatch.setenv("PORTICO_BILLING", "stripe")
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(InvalidRequest, match="STRIPE_SECRET_KEY"):
            seed.seed_demo(engine=demo_db)
    finally:
        get_settings.cache_clear()


def test_stripe_connect_checks_the_key_with_stripe_and_prints_the_webhook_url(
        account_id: str, stripe_side: StripeSide, stripe_account: tuple[str, str],
        make_uow: Callable[[], UnitOfWork], capsys: pytest.CaptureFixture[str]) -> None:
    # A well-formed key Stripe does not know: refused, and the account stays on the ledger.
    assert main(["stripe-connect", "--account", account_id, "--secret-key",
                 "sk_test_notAKeyStripeKnows", "--api-base", stripe_side.url]) == 1
    assert "refused the key sk_test_…nows" in capsys.readouterr().err
    assert not bills_through_stripe(account_id, uow=make_uow())
    # A malformed one never reaches Stripe.
    assert main(["stripe-connect", "--account", account_id, "--secret-key", "pk_test_123",
                 "--api-base", stripe_side.url]) == 1
    assert "not a Stripe secret key" in capsys.readouterr().err

    assert main(["stripe-connect", "--account", account_id, "--secret-key", stripe_account[1],
                 "--api-base", stripe_side.url]) == 0
    out = capsys.readouterr().out
    assert f"{get_settings().public_url}/webhooks/stripe/{account_id}" in out
    assert "not set: pass --webhook-secret" in out
    assert f"({stripe_account[1][:8]}…{stripe_account[1][-4:]}, {stripe_side.url})" in out
    credentials = stripe_credentials(account_id, uow=make_uow())
    assert credentials is not None and credentials.secret_key == stripe_account[1]

    assert main(["stripe-disconnect", "--account", account_id]) == 0
    assert "Portico's ledger" in capsys.readouterr().out
    assert billing_summary(account_id, uow=make_uow()).kind == "local"
    assert stripe_credentials(account_id, uow=make_uow()) is None


def test_stripe_import_configurations_from_the_command_line(
        stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
        account_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    stripe_side_client.v1.billing_portal.configurations.create(
        {"features": {"invoice_history": {"enabled": True}}})
    command = ["stripe-import-configurations", "--account", stripe_backed_account_id]
    assert main(command) == 0
    assert "Imported 1 portal configuration(s) from Stripe: 1 new" in capsys.readouterr().out
    assert main(command) == 0
    assert "0 new, 0 updated, 1 unchanged" in capsys.readouterr().out
    assert main(["stripe-import-configurations", "--account", account_id]) == 1
    assert "bills on Portico's ledger" in capsys.readouterr().err
