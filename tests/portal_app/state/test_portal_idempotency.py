"""A retried click never applies twice: each portal action is named by the click.

The page holds a nonce (``action_nonce``) that its buttons send with their event; the
handler runs its service call inside ``action_scope(session:handler:nonce)``, so the
Stripe writes of one click carry idempotency keys derived from that name. The same click
sent again (a double click, a websocket re-send after its answer was lost) carries the
same nonce and gets Stripe's first answer back; a new click, made after the page showed
the outcome, carries a new nonce and is a new action.

The Stripe-backed tests run on a Portico account billing through "Stripe" (the second
Portico of ``tests/stripe_world.py``) and count what happened there. A click re-sent
after its answer was lost reaches a page as it was *before* the first run (that run's
changes to the page never arrived): such a page is a second State prepared the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal_app.accounts.stripe_link import connect_stripe
from portal_app.billing.provider import ItemSpec
from portal_app.billing.providers import action_scope, billing_provider
from portal_app.billing.providers.stripe import StripeCalls
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.portal import configurations, sessions
from portal_app.routes import portal_invoice_pay
from portal_app.state.portal import NONCE_MAX_LENGTH, PortalState, action_name
from portal_app.state.portal_details import DetailsState
from portal_app.state.portal_manage import ManageState, PauseState
from portal_app.state.portal_pay import PayState
from portal_app.state.portal_payment_methods import MethodsState
from portal_app.web.portal_links import COOKIE_NAME
from tests.conftest import START
from tests.embedded_server import EmbeddedServer
from tests.portal_app.billing.contract.conftest import open_provider
from tests.portal_app.billing.helpers import events_of
from tests.portal_app.portal.helpers import Shop
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)
from tests.portal_app.state.handlers import handler_state
from tests.portal_app.state.test_portal_manage import browser as ledger_browser
from tests.stripe_world import StripeSide

UowFactory = Callable[[], UnitOfWork]
S = TypeVar("S", bound=PortalState)

pytestmark = pytest.mark.usefixtures("portal_database")

FEATURES = {
    "payment_method_update": {"enabled": True},
    "customer_update": {"enabled": True, "allowed_updates": ["name", "tax_id"]},
    "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
    "subscription_pause": {"enabled": True},
}
CARD = {"number": "4242 4242 4242 4242", "expiry": "12 / 30", "cvc": "123", "name": "Ada"}


# --- the name of an action, and the keys it derives -------------------------------------


def keys_of(name: str | None, *, what: str = "customers.tax_ids.create:cus_1",
            params: dict[str, Any] | None = None) -> str:
    """The key a fresh request (a new StripeCalls) gives its first write, in action ``name``
    (None: outside any action)."""
    calls = StripeCalls(stripe.StripeClient("sk_test_unused"), account_id="acct_1")
    params = params if params is not None else {"type": "eu_vat", "value": "DE136695976"}
    if name is None:
        return calls.idempotency_key(what, params)
    with action_scope(name):
        return calls.idempotency_key(what, params)


def test_the_same_click_derives_the_same_keys() -> None:
    click = action_name("bps_1", "DetailsState.add_tax_id", "n-1")
    assert click == "bps_1:DetailsState.add_tax_id:n-1"
    assert keys_of(click) == keys_of(action_name("bps_1", "DetailsState.add_tax_id", "n-1"))
    # Within one request the same write twice still gets two keys (two tax IDs asked for).
    calls = StripeCalls(stripe.StripeClient("sk_test_unused"), account_id="acct_1")
    with action_scope(click):
        twice = {calls.idempotency_key("customers.tax_ids.create:cus_1", {}) for _ in "ab"}
    assert len(twice) == 2


def test_another_click_handler_session_or_call_derives_other_keys() -> None:
    first = keys_of(action_name("bps_1", "DetailsState.add_tax_id", "n-1"))
    others = [
        keys_of(action_name("bps_1", "DetailsState.add_tax_id", "n-2")),  # a new click
        keys_of(action_name("bps_1", "DetailsState.remove_tax_id", "n-1")),  # another button
        keys_of(action_name("bps_2", "DetailsState.add_tax_id", "n-1")),  # another session
        keys_of(action_name("bps_1", "DetailsState.add_tax_id", "n-1"),
                params={"type": "eu_vat", "value": "FR40303265045"}),  # another number
        keys_of(action_name("bps_1", "DetailsState.add_tax_id", "n-1"),
                what="customers.tax_ids.create:cus_2"),  # another customer
        keys_of(None), keys_of(None),  # outside any action: a fresh key each time
    ]
    assert len({first, *others}) == 1 + len(others)


def test_a_click_without_a_nonce_is_an_action_of_its_own() -> None:
    assert action_name("bps_1", "PayState.pay", "") != action_name("bps_1", "PayState.pay", "")
    long = action_name("bps_1", "PayState.pay", "x" * 1000)
    assert long == "bps_1:PayState.pay:" + "x" * NONCE_MAX_LENGTH


# --- the page's nonce -------------------------------------------------------------------


def test_the_nonce_is_new_on_every_load_and_after_every_outcome(shop: Shop,
                                                                 make_uow: UowFactory) -> None:
    cookie = ledger_browser(shop, make_uow, customer_update={
        "enabled": True, "allowed_updates": ["tax_id"]})
    state = handler_state(DetailsState, cookie, path="/portal/details")
    DetailsState.load.fn(state)
    loaded = state.action_nonce
    assert len(loaded) >= 16
    DetailsState.load.fn(state)
    assert state.action_nonce not in ("", loaded)

    seen = {state.action_nonce}
    DetailsState.choose_tax_type.fn(state, "eu_vat")
    DetailsState.set_tax_value.fn(state, "DE136695977")  # a wrong check digit: refused
    DetailsState.add_tax_id.fn(state, state.action_nonce)
    assert state.tax_error and state.action_nonce not in seen
    seen.add(state.action_nonce)
    DetailsState.set_tax_value.fn(state, "DE136695976")
    DetailsState.add_tax_id.fn(state, state.action_nonce)
    assert len(state.tax_ids) == 1 and state.action_nonce not in seen
    seen.add(state.action_nonce)
    DetailsState.set_tax_value.fn(state, "")  # stopped on the page: no action, same nonce
    DetailsState.add_tax_id.fn(state, state.action_nonce)
    assert state.tax_error and state.action_nonce in seen


def test_a_lapsed_session_names_no_action(shop: Shop, make_uow: UowFactory) -> None:
    state = handler_state(ManageState, f"{COOKIE_NAME}=forged")
    state.action_nonce = "n-1"
    ManageState.reactivate.fn(state, shop.sub.id, "n-1")
    assert state.view == "expired" and state.action_nonce == "n-1"


# --- on a Stripe-backed account ----------------------------------------------------------


@dataclass
class StripeShop:
    """A Portico account billing through "Stripe", and its customer there."""

    account_id: str
    customer: str  # ids on "Stripe"
    sub: str


@pytest.fixture
def stripe_shop(stripe_backed_account_id: str, make_uow: UowFactory) -> StripeShop:
    billing = billing_provider(stripe_backed_account_id, uow=make_uow())
    product = billing.create_product(name="Pro")
    price = billing.create_price(product=product["id"], currency="eur", unit_amount=1500,
                                 interval="month")
    ada = billing.create_customer(email="ada@example.com", payment_method="pm_card_visa")
    sub = billing.create_subscription(customer=ada["id"], items=[ItemSpec(price["id"], 2)])
    return StripeShop(stripe_backed_account_id, ada["id"], sub["id"])


def stripe_browser(shop: StripeShop, make_uow: UowFactory) -> str:
    """The cookie of a browser that opened a new portal session of the shop's customer."""
    config = configurations.create_configuration({"features": FEATURES},
                                                 account_id=shop.account_id, uow=make_uow())
    url = sessions.create_session(account_id=shop.account_id, uow=make_uow(),
                                  customer=shop.customer, configuration=config.id,
                                  locale="en").url
    secret = sessions.open_session(url.rsplit("/", 1)[1], browser_secret=None,
                                   uow=make_uow()).browser_secret
    return f"{COOKIE_NAME}={secret}"


def add_form(cookie: str) -> MethodsState:
    """The add-a-card page, filled in."""
    state = handler_state(MethodsState, cookie, path="/portal/payment-methods/add",
                          user_agent="Mozilla/5.0 (pytest)")
    MethodsState.load_add.fn(state)
    for key, value in CARD.items():
        MethodsState.set_field.fn(state, key, value)
    return state


def tax_form(cookie: str, value: str = "DE136695976") -> DetailsState:
    """The details page with a German VAT number typed in."""
    state = handler_state(DetailsState, cookie, path="/portal/details")
    DetailsState.load.fn(state)
    DetailsState.choose_tax_type.fn(state, "eu_vat")
    DetailsState.set_tax_value.fn(state, value)
    return state


def twice(form: Callable[[str], S], cookie: str) -> tuple[S, S, str]:
    """A page, the same page as it was when its click is re-sent (prepared the same way),
    and the nonce the click carries."""
    page, resent = form(cookie), form(cookie)
    return page, resent, page.action_nonce


def cards_on_stripe(client: stripe.StripeClient, shop: StripeShop) -> list[str]:
    return [pm.id for pm in client.v1.payment_methods.list(
        {"customer": shop.customer, "type": "card", "limit": 100}).data]


def tax_ids_on_stripe(client: stripe.StripeClient, shop: StripeShop) -> list[str]:
    return [t.value or "" for t in client.v1.customers.tax_ids.list(
        shop.customer, {"limit": 100}).data]


def test_a_card_added_by_a_resent_click_is_added_once(
        stripe_shop: StripeShop, make_uow: UowFactory,
        stripe_side_client: stripe.StripeClient) -> None:
    cookie = stripe_browser(stripe_shop, make_uow)
    page, resent, click = twice(add_form, cookie)

    list(MethodsState.submit.fn(page, click))
    assert page.banner == "Your payment method was added.", page.error
    list(MethodsState.submit.fn(resent, click))  # the same click, its answer lost

    assert resent.error == "" and resent.banner == "Your payment method was added."
    assert len(cards_on_stripe(stripe_side_client, stripe_shop)) == 2  # Ada's first, one new
    # The page showed the outcome: the next click is a new action, and adds another card.
    again = add_form(cookie)
    assert again.action_nonce != click
    list(MethodsState.submit.fn(again, again.action_nonce))
    assert len(cards_on_stripe(stripe_side_client, stripe_shop)) == 3


def test_a_tax_id_added_by_a_double_click_is_added_once(
        stripe_shop: StripeShop, make_uow: UowFactory,
        stripe_side_client: stripe.StripeClient) -> None:
    cookie = stripe_browser(stripe_shop, make_uow)
    page, resent, click = twice(tax_form, cookie)

    DetailsState.add_tax_id.fn(page, click)
    DetailsState.add_tax_id.fn(resent, click)

    assert (page.tax_error, resent.tax_error) == ("", "")
    assert [row.id for row in resent.tax_ids] == [row.id for row in page.tax_ids]
    assert tax_ids_on_stripe(stripe_side_client, stripe_shop) == ["DE136695976"]
    # Two clicks (each page as it was, each with its own nonce): two tax IDs.
    other, second = tax_form(cookie), tax_form(cookie)
    DetailsState.add_tax_id.fn(other, other.action_nonce)
    DetailsState.add_tax_id.fn(second, second.action_nonce)
    assert tax_ids_on_stripe(stripe_side_client, stripe_shop) == ["DE136695976"] * 3


def test_a_pause_confirmed_by_a_double_click_updates_the_subscription_once(
        stripe_shop: StripeShop, make_uow: UowFactory, stripe_side: StripeSide,
        stripe_account: tuple[str, str]) -> None:
    def pause_form(cookie: str) -> PauseState:
        state = handler_state(PauseState, cookie, query={"subscription": stripe_shop.sub})
        PauseState.load.fn(state)
        assert state.step == "choose", state.error
        return state

    page, resent, click = twice(pause_form, stripe_browser(stripe_shop, make_uow))

    PauseState.confirm.fn(page, click)
    # The same click again. (A paused subscription offers no pause, so the portal's own
    # rule stops this one before any write too: the whole path applies once.)
    PauseState.confirm.fn(resent, click)

    assert page.banner == "Your subscription is paused."
    updates = [e for e in events_of(stripe_side.uow, stripe_account[0],
                                    object_id=stripe_shop.sub)
               if e.type == "customer.subscription.updated"]
    assert [sorted(e.previous_attributes or {}) for e in updates] == [["pause_collection"]]


# --- a lost answer: "Stripe" applied the write, the portal never heard back ---------------


class LosingProxy(EmbeddedServer):
    """Forwards to "Stripe"; while ``losing``, its POST answers are lost (a 502 instead)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.losing = False
        self.forwarded: list[str] = []  # the Idempotency-Key of every POST forwarded
        super().__init__(Starlette(routes=[
            Route("/ready", lambda _: Response("ok")),
            Route("/v1/{path:path}", self.forward, methods=["GET", "POST", "DELETE"]),
        ]), ready_path="/ready")

    async def forward(self, request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("authorization", "content-type", "idempotency-key",
                                    "stripe-version")}
        async with httpx.AsyncClient() as client:
            answer = await client.request(request.method, self.upstream + request.url.path,
                                          params=request.query_params,
                                          content=await request.body(), headers=headers)
        if request.method == "POST":
            self.forwarded.append(request.headers.get("idempotency-key") or "")
            if self.losing:
                return JSONResponse({"error": {"type": "api_error",
                                               "message": "Bad gateway."}}, status_code=502)
        return Response(answer.content, status_code=answer.status_code,
                        media_type="application/json")


@pytest.fixture
def losing_proxy(stripe_side: StripeSide) -> Iterator[LosingProxy]:
    proxy = LosingProxy(stripe_side.url)
    proxy.start()
    yield proxy
    proxy.stop()


def test_try_again_after_a_lost_answer_is_the_same_action(
        stripe_shop: StripeShop, make_uow: UowFactory, stripe_account: tuple[str, str],
        stripe_side_client: stripe.StripeClient, losing_proxy: LosingProxy) -> None:
    cookie = stripe_browser(stripe_shop, make_uow)
    connect_stripe(stripe_shop.account_id, secret_key=stripe_account[1],
                   api_base=losing_proxy.url, uow=make_uow())
    page = tax_form(cookie)
    click = page.action_nonce

    losing_proxy.losing = True
    DetailsState.add_tax_id.fn(page, click)
    assert page.tax_error == "Something went wrong. Please try again."
    # "Stripe" did add it; the outcome is unknown to the page, so "try again" is this action.
    assert tax_ids_on_stripe(stripe_side_client, stripe_shop) == ["DE136695976"]
    assert page.action_nonce == click
    losing_proxy.losing = False
    DetailsState.add_tax_id.fn(page, page.action_nonce)

    assert page.tax_error == "" and [row.value for row in page.tax_ids] == ["DE136695976"]
    assert tax_ids_on_stripe(stripe_side_client, stripe_shop) == ["DE136695976"]
    assert len(set(losing_proxy.forwarded)) == 1  # every attempt: one key
    assert page.action_nonce != click  # now it has an outcome






@pytest.mark.usefixtures("stripe_account")  # "Stripe"'s clock is this test's
def test_a_declined_payment_is_tried_once_per_click(
        account_id: str, make_uow: UowFactory, clock: FrozenClock, stripe_side: StripeSide
        ) -> None:
    # A renewal declined on "Stripe": a test clock advanced past the period end.
    billing = open_provider("stripe", account_id=account_id, clock=clock, make_uow=make_uow,
                            stripe_side=stripe_side)
    product = billing.create_product(name="Pro")
    price = billing.create_price(product=product["id"], currency="eur", unit_amount=1500,
                                 interval="month")
    ada = billing.create_customer(email="ada@example.com", payment_method="pm_card_visa")
    sub = billing.create_subscription(customer=ada["id"], items=[ItemSpec(price["id"])])
    failing = billing.attach_payment_method("pm_card_chargeCustomerFail",
                                            customer_id=ada["id"])["id"]
    billing.set_default_payment_method(failing, customer_id=ada["id"])
    billing.advance_clock(START + timedelta(days=29))
    invoice = billing.retrieve_subscription(sub["id"], customer_id=ada["id"])["latest_invoice"]

    def pay_page(cookie: str) -> PayState:
        state = handler_state(PayState, cookie, path=portal_invoice_pay(invoice),
                              query={"invoice": invoice})
        PayState.load.fn(state)
        assert (state.status, state.selected) == ("open", failing)
        return state

    def attempts() -> int:
        return int(billing.retrieve_invoice(invoice, customer_id=ada["id"])["attempt_count"])

    cookie = stripe_browser(StripeShop(account_id, ada["id"], sub["id"]), make_uow)
    page, resent, click = twice(pay_page, cookie)
    tried = attempts()
    PayState.pay.fn(page, click)
    PayState.pay.fn(resent, click)  # the same click: Stripe's first answer again

    assert page.error == resent.error == "Your card was declined."
    assert attempts() == tried + 1
    again = pay_page(cookie)  # the decline was shown: trying again is a new action
    PayState.pay.fn(again, again.action_nonce)
    assert attempts() == tried + 2
