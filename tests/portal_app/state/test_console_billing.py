"""The console's Billing panel State: the provider the signed-in account uses, and the
import of its Stripe portal configurations."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe
from sqlmodel import select

from portal_app.accounts.stripe_link import connect_stripe
from portal_app.db import UnitOfWork
from portal_app.portal.models import PortalConfiguration
from portal_app.settings import get_settings
from portal_app.state import console as console_state
from portal_app.state.console_billing import BillingState
from portal_app.web.console_sign_in import COOKIE
from tests.portal_app.state.test_console_state import redirects_to_login, run, sign_in, state_of

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture(autouse=True)
def _test_database(monkeypatch: pytest.MonkeyPatch, make_uow: UowFactory) -> None:
    monkeypatch.setattr(console_state, "unit_of_work", make_uow)


def _panel(account_id: str, make_uow: UowFactory, *, user: str = "ops") -> BillingState:
    token = sign_in(account_id, make_uow, f"{user}-{account_id.lower()}@acme.test")
    state = state_of(BillingState, cookie=f"{COOKIE}={token}", path="/console")
    assert not redirects_to_login(run(BillingState.load, state))
    return state


def test_a_ledger_account_shows_the_portico_ledger(account_id: str, make_uow: UowFactory
                                                   ) -> None:
    state = _panel(account_id, make_uow)
    assert state.loaded and not state.through_stripe
    assert state.key_hint == state.webhook_url == ""


def test_a_stripe_backed_account_shows_its_key_hint_address_and_webhook_url(
        stripe_backed_account_id: str, stripe_side: object,
        make_uow: UowFactory) -> None:
    state = _panel(stripe_backed_account_id, make_uow)
    assert state.through_stripe and not state.has_webhook_secret
    assert state.key_hint.startswith("sk_test_…") and len(state.key_hint) == 13
    assert state.api_base == stripe_side.url  # type: ignore[attr-defined]
    assert state.webhook_url == (f"{get_settings().public_url}/webhooks/stripe/"
                                 f"{stripe_backed_account_id}")
    connect_stripe(stripe_backed_account_id, secret_key="sk_test_0123456789abcdef",
                   webhook_secret="whsec_0123456789abcdef", uow=make_uow())
    state = _panel(stripe_backed_account_id, make_uow, user="again")
    assert state.has_webhook_secret and state.key_hint == "sk_test_…cdef"
    assert state.api_base == "https://api.stripe.com"


def test_import_configurations_from_the_panel(
        stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
        make_uow: UowFactory) -> None:
    stripe_side_client.v1.billing_portal.configurations.create(
        {"features": {"invoice_history": {"enabled": True}}})
    state = _panel(stripe_backed_account_id, make_uow)
    results = run(BillingState.import_configurations, state)
    assert "Imported 1 configuration(s) from Stripe: 1 new" in str(results)
    assert not state.importing
    with make_uow() as uow:
        assert len(uow.session.exec(select(PortalConfiguration).where(
            PortalConfiguration.account_id == stripe_backed_account_id)).all()) == 1


def test_a_ledger_account_is_told_there_is_nothing_to_import(
        account_id: str, make_uow: UowFactory) -> None:
    state = _panel(account_id, make_uow)
    assert "bills on Portico's ledger" in str(run(BillingState.import_configurations, state))


def test_no_sign_in_no_panel(make_uow: UowFactory) -> None:
    state = state_of(BillingState, path="/console")
    assert redirects_to_login(run(BillingState.load, state))
    assert not state.loaded
