"""The overview's subscription cards: a usage-based item's usage and cost so far."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from portal_app.billing.customers import create_customer
from portal_app.billing.models import (
    Invoice,
)
from portal_app.billing.provider import ItemSpec
from portal_app.billing.renewals import advance_clock
from portal_app.billing.subscriptions import create_subscription
from portal_app.clock import FrozenClock, from_unix, to_unix
from portal_app.portal.models import PortalSession
from portal_app.views import subscriptions
from tests.conftest import START
from tests.portal_app.portal.helpers import (
    Shop,
    UowFactory,
    metered_addon,
    report_usage,
    session_for,
)
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)


def usage_line(session: PortalSession, sub_id: str, make_uow: UowFactory, locale: str = "en"
               ) -> subscriptions.ItemLine:
    card = next(c for c in subscriptions.subscription_cards(session, locale=locale, uow=make_uow())
                if c.id == sub_id)
    return next(line for line in card.item_lines if line.product_name == "API access")


def test_a_metered_item_shows_its_usage_and_amount_so_far(
        shop: Shop, make_uow: UowFactory, clock: FrozenClock) -> None:
    calls = metered_addon(shop, make_uow)
    sub = create_subscription(account_id=shop.account_id, uow=make_uow(),
                                      customer=shop.customer,
                                      items=[ItemSpec(shop.starter_month.id),
                                             ItemSpec(calls.id)])
    other = create_customer(account_id=shop.account_id, uow=make_uow(),
                                    email="bob@example.test").id
    clock.set(START + timedelta(days=2))
    report_usage(shop, make_uow, 1000)
    report_usage(shop, make_uow, 234)
    report_usage(shop, make_uow, 5000, customer=other)  # someone else's usage
    session = session_for(shop, make_uow)

    line = usage_line(session, sub.id, make_uow)
    assert line.detail == "€0.05 per unit · billed on usage"
    assert line.usage == "1,234 API calls this period · €61.70 so far"
    card = next(c for c in subscriptions.subscription_cards(session, locale="en", uow=make_uow())
                if c.id == sub.id)
    assert (card.amount, card.interval) == ("€10.00", "per month")  # usage comes on top
    german = usage_line(session, sub.id, make_uow, locale="de")
    assert german.usage == "1.234 API calls in diesem Zeitraum · bisher 61,70\xa0€"
    assert german.detail == "0,05\xa0€ pro Einheit · nach Nutzung abgerechnet"

    # The renewal bills it; the new period starts from nothing.
    advance_clock(clock, from_unix(to_unix(sub.current_period_end)) + timedelta(hours=1),
                          account_id=shop.account_id, uow_factory=make_uow)
    assert usage_line(session, sub.id, make_uow).usage == (
        "0 API calls this period · €0.00 so far")
    with make_uow() as uow:
        latest = uow.session.exec(select(Invoice).where(Invoice.subscription_id == sub.id)
                                  .order_by(col(Invoice.created).desc())).first()
        assert latest is not None and latest.total == 1000 + 6170


def test_usage_without_a_unit_label_and_during_a_trial(
        shop: Shop, make_uow: UowFactory, clock: FrozenClock) -> None:
    calls = metered_addon(shop, make_uow, unit_label=None)
    sub = create_subscription(account_id=shop.account_id, uow=make_uow(),
                                      customer=shop.customer,
                                      items=[ItemSpec(calls.id)], trial_period_days=14)
    report_usage(shop, make_uow, 42)
    session = session_for(shop, make_uow)
    assert usage_line(session, sub.id, make_uow).usage == (
        "Usage this period: 42 · free during the trial")
    clock.set(START + timedelta(days=14, hours=1))
    advance_clock(clock, clock(), account_id=shop.account_id, uow_factory=make_uow)
    report_usage(shop, make_uow, 8)
    assert usage_line(session, sub.id, make_uow).usage == "Usage this period: 8 · €0.40 so far"
