"""The local provider beyond the contract: test clocks only, and no row left by a decline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_app.billing.provider import ItemSpec
from portal_app.billing.providers.local import LocalBillingProvider
from portal_app.clock import FrozenClock
from portal_app.errors import CardDeclined, InvalidRequest
from tests.portal_app.billing.helpers import MakeUow, count_rows


@pytest.fixture
def provider(account_id: str, clock: FrozenClock, make_uow: MakeUow) -> LocalBillingProvider:
    return LocalBillingProvider(account_id=account_id, clock=clock, uow_factory=make_uow)


def test_only_a_test_clock_advances(account_id: str, make_uow: MakeUow) -> None:
    live = LocalBillingProvider(account_id=account_id,
                                clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
                                uow_factory=make_uow)
    with pytest.raises(InvalidRequest):
        live.advance_clock(datetime(2027, 1, 1, tzinfo=UTC))


def test_a_declined_card_leaves_no_row(provider: LocalBillingProvider, account_id: str,
                                       make_uow: MakeUow) -> None:
    ada = provider.create_customer(email="ada@example.com", payment_method="pm_card_visa")
    before = count_rows(make_uow, account_id)
    with pytest.raises(CardDeclined):
        provider.attach_payment_method("pm_card_chargeDeclined", customer_id=ada["id"])
    assert count_rows(make_uow, account_id) == before


def test_a_declined_first_charge_leaves_no_row(provider: LocalBillingProvider,
                                               account_id: str, make_uow: MakeUow) -> None:
    product = provider.create_product(name="Pro")
    price = provider.create_price(product=product["id"], currency="eur", unit_amount=1500,
                                  interval="month")
    failing = provider.create_customer(email="c@x.test",
                                       payment_method="pm_card_chargeCustomerFail")
    before = count_rows(make_uow, account_id)
    with pytest.raises(CardDeclined):
        provider.create_subscription(customer=failing["id"], items=[ItemSpec(price["id"])])
    assert count_rows(make_uow, account_id) == before
