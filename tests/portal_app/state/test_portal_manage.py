"""The management States: handlers called as the browser would, ids crafted by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portal_app.billing.customers import create_customer
from portal_app.billing.models import ScheduleStatus, Subscription, SubscriptionStatus
from portal_app.db import UnitOfWork
from portal_app.portal import sessions
from portal_app.state.portal_cancel import CancelState
from portal_app.state.portal_manage import ManageState, PauseState, UpdateState
from portal_app.web.portal_links import COOKIE_NAME
from tests.portal_app.portal.helpers import (
    Shop,
    features,
    item_of,
    merchant_schedule,
    price,
    schedule_status,
)
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)
from tests.portal_app.state.handlers import handler_state

UowFactory = Callable[[], UnitOfWork]


pytestmark = pytest.mark.usefixtures("portal_database")


def browser(shop: Shop, make_uow: UowFactory, *, customer: str | None = None,
            flow_data: dict[str, Any] | None = None, **overrides: Any) -> str:
    """A cookie header of a browser that opened a new session's link."""
    from portal_app.portal import configurations

    config = configurations.create_configuration({"features": features(shop, **overrides)},
                                                 account_id=shop.account_id, uow=make_uow())
    url = sessions.create_session(account_id=shop.account_id, uow=make_uow(),
                                  customer=customer or shop.customer, configuration=config.id,
                                  locale="en", flow_data=flow_data).url
    secret = sessions.open_session(url.rsplit("/", 1)[1], browser_secret=None,
                                   uow=make_uow()).browser_secret
    return f"{COOKIE_NAME}={secret}"


def state_of(cls: type, cookie: str, subscription: str = "") -> Any:
    return handler_state(cls, cookie, query={"subscription": subscription} if subscription
                         else None)


def status_of(make_uow: UowFactory, sub_id: str) -> Subscription:
    with make_uow() as uow:
        return uow.session.get(Subscription, sub_id)


def test_overview_cards_carry_the_actions(shop: Shop, make_uow: UowFactory) -> None:
    state = state_of(ManageState, browser(shop, make_uow))

    ManageState.load.fn(state)

    assert state.view == "ready"
    [card] = state.cards
    assert card.id == shop.sub.id and card.can_update and card.can_cancel


def test_another_customers_subscription_is_refused(shop: Shop, make_uow: UowFactory) -> None:
    stranger = create_customer(account_id=shop.account_id, uow=make_uow()).id
    cookie = browser(shop, make_uow, customer=stranger)

    cancel = state_of(CancelState, cookie, shop.sub.id)
    CancelState.load.fn(cancel)
    assert cancel.step == "unavailable"
    cancel.subscription_id = shop.sub.id  # a crafted event, past the page
    list(CancelState.confirm.fn(cancel, cancel.action_nonce))
    assert cancel.error

    pause = state_of(PauseState, cookie, shop.sub.id)
    pause.subscription_id, pause.choice = shop.sub.id, "indefinite"
    PauseState.confirm.fn(pause, pause.action_nonce)
    assert pause.error

    update = state_of(UpdateState, cookie, shop.sub.id)
    update.subscription_id, update.item_id = shop.sub.id, item_of(shop, make_uow).id
    update.price_id, update.quantity = shop.growth_month.id, 5
    UpdateState.review.fn(update)
    assert update.step != "preview" and update.error

    overview = state_of(ManageState, cookie)
    ManageState.reactivate.fn(overview, shop.sub.id, overview.action_nonce)
    assert overview.banner_kind == "error"

    sub = status_of(make_uow, shop.sub.id)
    assert sub.status == SubscriptionStatus.active and not sub.cancel_at_period_end
    assert not sub.pause_collection
    assert item_of(shop, make_uow).quantity == 2


def test_a_forged_cookie_does_nothing(shop: Shop, make_uow: UowFactory) -> None:
    browser(shop, make_uow)
    state = state_of(CancelState, f"{COOKIE_NAME}=forged", shop.sub.id)
    state.subscription_id = shop.sub.id

    list(CancelState.confirm.fn(state, state.action_nonce))

    assert state.view == "expired"
    assert status_of(make_uow, shop.sub.id).canceled_at is None


def test_update_choose_preview_confirm(shop: Shop, make_uow: UowFactory) -> None:
    state = state_of(UpdateState, browser(shop, make_uow), shop.sub.id)

    UpdateState.load.fn(state)
    assert state.step == "choose" and state.quantity == 2
    assert [o.product_name for o in state.shown_options] == ["Starter", "Growth"]
    UpdateState.set_interval.fn(state, "year")
    assert [o.amount for o in state.shown_options] == ["€100.00", "€300.00"]
    UpdateState.set_interval.fn(state, "month")
    UpdateState.choose_price.fn(state, shop.growth_month.id)
    UpdateState.increase.fn(state)
    UpdateState.review.fn(state)
    assert state.step == "preview", state.error
    assert state.preview.new_plan == "3 × Growth"

    result = UpdateState.confirm.fn(state, state.action_nonce)

    assert result is not None  # back to the overview
    assert state.banner == "Your plan was updated."
    item = item_of(shop, make_uow)
    assert (item.price_id, item.quantity) == (shop.growth_month.id, 3)


def test_quantity_stepper_keeps_to_the_bounds(shop: Shop, make_uow: UowFactory) -> None:
    state = state_of(UpdateState, browser(shop, make_uow), shop.sub.id)
    UpdateState.load.fn(state)
    for _ in range(5):
        UpdateState.decrease.fn(state)
    assert state.quantity == 1 and not state.can_decrease
    for _ in range(20):
        UpdateState.increase.fn(state)
    assert state.quantity == 10 and not state.can_increase


def test_cancel_flow_steps_and_reactivate(shop: Shop, make_uow: UowFactory) -> None:
    cookie = browser(shop, make_uow)
    state = state_of(CancelState, cookie, shop.sub.id)
    CancelState.load.fn(state)
    assert state.step == "choose"
    list(CancelState.proceed.fn(state, state.action_nonce))
    assert state.step == "confirm"

    list(CancelState.confirm.fn(state, state.action_nonce))

    assert status_of(make_uow, shop.sub.id).cancel_at_period_end
    overview = state_of(ManageState, cookie)
    ManageState.load.fn(overview)
    assert overview.cards[0].can_reactivate
    ManageState.reactivate.fn(overview, shop.sub.id, overview.action_nonce)
    assert overview.banner == "Your subscription will continue."
    assert not status_of(make_uow, shop.sub.id).cancel_at_period_end


def test_a_merchants_schedule_survives_the_customers_handlers(
        shop: Shop, make_uow: UowFactory) -> None:
    """"Cancel scheduled change", and cancel then "Don't cancel", called as the browser
    would (the id crafted by hand): the merchant's schedule stays in place."""
    full = price(shop.account_id, make_uow, product=shop.starter_month.product_id,
                 amount=2000)
    schedule_id = merchant_schedule(shop, make_uow, full)
    cookie = browser(shop, make_uow)
    overview = state_of(ManageState, cookie)
    ManageState.load.fn(overview)
    assert not overview.cards[0].can_cancel_scheduled_change

    ManageState.cancel_scheduled_change.fn(overview, shop.sub.id, overview.action_nonce)

    assert overview.banner_kind == "error"
    cancel = state_of(CancelState, cookie, shop.sub.id)
    CancelState.load.fn(cancel)
    list(CancelState.proceed.fn(cancel, cancel.action_nonce))
    list(CancelState.confirm.fn(cancel, cancel.action_nonce))
    assert status_of(make_uow, shop.sub.id).cancel_at_period_end
    ManageState.reactivate.fn(overview, shop.sub.id, overview.action_nonce)
    assert overview.banner == "Your subscription will continue."
    assert schedule_status(make_uow, schedule_id) == ScheduleStatus.active


def test_deep_link_after_completion_redirect(shop: Shop, make_uow: UowFactory) -> None:
    cookie = browser(shop, make_uow, subscription_cancel={"mode": "immediately"}, flow_data={
        "type": "subscription_cancel", "subscription_cancel": {"subscription": shop.sub.id},
        "after_completion": {"type": "redirect",
                             "redirect": {"return_url": "https://acme.test/bye"}}})
    state = state_of(CancelState, cookie, shop.sub.id)
    CancelState.load.fn(state)
    list(CancelState.proceed.fn(state, state.action_nonce))

    result = list(CancelState.confirm.fn(state, state.action_nonce))

    assert "https://acme.test/bye" in str(result)
    assert status_of(make_uow, shop.sub.id).status == SubscriptionStatus.canceled


def test_pause_and_resume(shop: Shop, make_uow: UowFactory) -> None:
    cookie = browser(shop, make_uow, flow_data={
        "type": "subscription_pause", "subscription_pause": {"subscription": shop.sub.id},
        "after_completion": {"type": "hosted_confirmation",
                             "hosted_confirmation": {"custom_message": "Enjoy the break"}}})
    state = state_of(PauseState, cookie, shop.sub.id)
    PauseState.load.fn(state)
    assert state.choice == "indefinite"

    PauseState.confirm.fn(state, state.action_nonce)

    assert state.done_message == "Enjoy the break"
    assert state.done_title == "Your subscription is paused."
    overview = state_of(ManageState, cookie)
    ManageState.load.fn(overview)
    assert overview.cards[0].can_resume
    ManageState.resume.fn(overview, shop.sub.id, overview.action_nonce)
    assert not status_of(make_uow, shop.sub.id).pause_collection
