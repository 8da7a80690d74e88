"""Two merchants with one of every object, and a snapshot of what each of them owns.

The isolation matrices (``api/test_isolation.py``, ``state/test_isolation.py``) act as
merchant A (its API key, its console sign-in, its customer's portal session) on merchant
B's objects, and on the objects of A's *other* customer. :func:`build_merchant` is the
table of "how to make a valid object of each kind": every id it makes is registered under
its kind in :attr:`Merchant.ids`, so the matrices can tell which value of a request or
of a State is an id, and which object of the victim replaces it.

Every visible string of merchant B contains :data:`MARKER`: a page or response of A that
shows it has leaked B's data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, Table, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from portal_app.accounts import services as accounts
from portal_app.billing import (
    catalog,
    coupons,
    customers,
    meters,
    payment_intents,
    payment_methods,
    schedules,
    test_clocks,
)
from portal_app.billing import payment_method_configurations as pm_configurations
from portal_app.billing import setup_intents as setup_intent_ledger
from portal_app.billing import tax_ids as tax_id_ledger
from portal_app.billing.models import Invoice, InvoiceStatus, SubscriptionItem
from portal_app.billing.provider import ItemSpec
from portal_app.billing.subscriptions import create_subscription
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork
from portal_app.events.models import Event
from portal_app.portal import configurations, sessions
from portal_app.portal.models import PortalSession
from portal_app.retention import experiments, flows, offers, policies
from portal_app.retention.experiments import VariantSpec
from portal_app.web.console_sign_in import COOKIE as CONSOLE_COOKIE
from portal_app.web.portal_links import COOKIE_NAME as PORTAL_COOKIE
from portal_app.webhooks import endpoints as webhook_endpoints
from portal_app.webhooks.models import WebhookDelivery
from tests.conftest import START

UowFactory = Callable[[], UnitOfWork]

MARKER = "Bravo"  # in every name and email of the victim merchant
PASSWORD = "isolation-pass-1"

# Test card tokens are Stripe's public constants, not objects of any account.
PUBLIC_TOKENS = frozenset({"pm_card_visa", "pm_card_mastercard"})

# What an id of ours looks like (prefix_random): a value of this shape in a request
# that is no object of the world is a reference the matrix cannot classify.
ID_SHAPE = re.compile(r"^[a-z]{2,6}(_[a-z]{2,6})?_[0-9A-Za-z]{14,}$")


@dataclass
class Holder:
    """One customer of a merchant and everything that is only theirs."""

    customer: str
    payment_method: str  # attached, the default
    subscription: str  # active, monthly, one item
    subscription_item: str
    invoice: str  # the subscription's first (paid) invoice
    payment_intent: str  # the intent that collected it (named after it)
    scheduled_subscription: str  # a second subscription, managed by ...
    subscription_schedule: str
    session: str  # a portal session of this customer, opened in a browser ...
    portal_cookie: str  # ... which holds this Cookie header
    flow: str  # a cancel flow started in that session
    confirm_cookie: str  # a browser on a subscription_update_confirm link (to other_price)
    tax_id: str  # a tax ID of the customer
    setup_intent: str  # a PayPal setup waiting for its authorization
    open_setup_intent: str  # a card setup not confirmed yet (requires_confirmation)
    mandate: str  # a SEPA mandate, accepted online


@dataclass
class Merchant:
    """One merchant account with one object of every kind (two customers' worth)."""

    name: str
    account_id: str
    api_key: str
    console_cookie: str
    product: str
    price: str  # monthly, in the configuration
    other_price: str  # the same product, yearly: what a plan change picks
    meter: str
    metered_price: str
    loose_payment_method: str  # tokenized, attached to nobody
    coupon: str
    promotion_code: str
    promotion_code_code: str  # what a customer types
    configuration: str
    offer: str  # in the configuration's policy and the experiment
    spare_offer: str  # in use nowhere (it can be deleted)
    experiment: str  # a draft
    variant: str
    event: str
    test_clock: str  # a test clock (no customer on it)
    payment_method_configuration: str  # the account's default
    webhook_endpoint: str  # listening to every event, since before the first
    webhook_delivery: str  # of ``event`` to that endpoint, pending
    holders: list[Holder] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # id -> attribute (see ATTRIBUTES)

    @property
    def first(self) -> Holder:
        return self.holders[0]

    def same_as(self, attribute: str, *, holder: int = 0) -> str:
        """This merchant's object in the role ``attribute`` (of ``holders[holder]`` for a
        customer's object)."""
        if attribute in HOLDER_KINDS:
            return str(getattr(self.holders[holder], attribute))
        return str(getattr(self, attribute))


ACCOUNT_KINDS = ("product", "price", "other_price", "meter", "metered_price",
                 "loose_payment_method", "coupon", "promotion_code", "promotion_code_code",
                 "configuration", "offer", "spare_offer", "experiment", "variant", "event",
                 "test_clock", "payment_method_configuration", "webhook_endpoint",
                 "webhook_delivery")
HOLDER_KINDS = ("customer", "payment_method", "subscription", "subscription_item", "invoice",
                "payment_intent",
                "scheduled_subscription", "subscription_schedule", "session", "flow", "tax_id",
                "setup_intent", "open_setup_intent", "mandate")
# The object kind of each attribute (two prices are both "price", and so on).
KIND_OF = {"other_price": "price", "spare_offer": "offer", "metered_price": "price",
           "loose_payment_method": "payment_method",
           "scheduled_subscription": "subscription", "open_setup_intent": "setup_intent"}


def kind_of(attribute: str) -> str:
    return KIND_OF.get(attribute, attribute)


def _features(product: str, prices: list[str]) -> dict[str, Any]:
    return {
        "subscription_update": {
            "enabled": True, "default_allowed_updates": ["price", "quantity", "promotion_code"],
            "proration_behavior": "create_prorations",
            "products": [{"product": product, "prices": prices}],
        },
        "subscription_cancel": {
            "enabled": True, "mode": "at_period_end",
            "cancellation_reason": {"enabled": True,
                                    "options": ["too_expensive", "unused", "other"]},
        },
        "subscription_pause": {"enabled": True},
        "payment_method_update": {"enabled": True},
        "invoice_history": {"enabled": True},
        "customer_update": {"enabled": True, "allowed_updates": [
            "email", "address", "shipping", "phone", "name", "tax_id"]},
    }


def _browser(make_uow: UowFactory, *, account_id: str, customer: str, configuration: str,
             flow_data: dict[str, Any] | None = None) -> tuple[PortalSession, str]:
    """A new portal session of ``customer``, opened: the session and the browser's Cookie."""
    created = sessions.create_session(account_id=account_id, uow=make_uow(), customer=customer,
                                      configuration=configuration, locale="en",
                                      flow_data=flow_data)
    secret = sessions.open_session(created.url.rsplit("/", 1)[1], browser_secret=None,
                                   uow=make_uow()).browser_secret
    return created.session, f"{PORTAL_COOKIE}={secret}"


def _holder(make_uow: UowFactory, *, account_id: str, name: str, n: int, price: str,
            other_price: str, configuration: str) -> Holder:
    customer = customers.create_customer(
        account_id=account_id, uow=make_uow(), email=f"{name.lower()}{n}@{name.lower()}.test",
        name=f"{name} customer {n}").id
    card = payment_methods.attach_payment_method("pm_card_visa", customer_id=customer,
                                                 account_id=account_id, uow=make_uow()).id
    customers.update_customer(customer, account_id=account_id, uow=make_uow(),
                              default_payment_method=card)
    sub = create_subscription(account_id=account_id, uow=make_uow(), customer=customer,
                              items=[ItemSpec(price, 2)]).id
    scheduled = create_subscription(account_id=account_id, uow=make_uow(), customer=customer,
                                    items=[ItemSpec(price, 1)]).id
    schedule = schedules.create_subscription_schedule(account_id=account_id, uow=make_uow(),
                                                      from_subscription=scheduled).id
    with make_uow() as uow:
        item = uow.session.scalars(select(SubscriptionItem.id).where(
            SubscriptionItem.subscription_id == sub)).one()
        invoice = uow.session.scalars(select(Invoice.id).where(
            Invoice.subscription_id == sub)).first()
    session, cookie = _browser(make_uow, account_id=account_id, customer=customer,
                               configuration=configuration)
    flow = flows.start_flow(session, sub, uow=make_uow()).flow.id
    _, confirm_cookie = _browser(
        make_uow, account_id=account_id, customer=customer, configuration=configuration,
        flow_data={"type": "subscription_update_confirm", "subscription_update_confirm": {
            "subscription": sub, "items": [{"id": item, "price": other_price}]}})
    return Holder(customer=customer, payment_method=card, subscription=sub,
                  subscription_item=item, invoice=invoice,
                  payment_intent=payment_intents.payment_intent_id(invoice),
                  scheduled_subscription=scheduled,
                  subscription_schedule=schedule, session=session.id, portal_cookie=cookie,
                  flow=flow, confirm_cookie=confirm_cookie,
                  tax_id=tax_id_ledger.create_tax_id(customer, type="us_ein", value="12-3456789",
                                                     account_id=account_id, uow=make_uow()).id,
                  setup_intent=setup_intent_ledger.create_setup_intent(
                      account_id=account_id, uow=make_uow(), customer_id=customer,
                      payment_method_data={"type": "paypal", "paypal": {}}, confirm=True,
                      return_url="https://example.test/back").id,
                  open_setup_intent=setup_intent_ledger.create_setup_intent(
                      account_id=account_id, uow=make_uow(), customer_id=customer,
                      payment_method=card).id,
                  mandate=setup_intent_ledger.create_setup_intent(
                      account_id=account_id, uow=make_uow(), customer_id=customer,
                      payment_method_data={"type": "sepa_debit", "sepa_debit": {
                          "iban": "DE89370400440532013000"}}, confirm=True,
                      payment_method_types=["sepa_debit"], mandate_acceptance={
                          "type": "online", "online": {"ip_address": "203.0.113.1",
                                                       "user_agent": f"{name} browser"}}
                  ).mandate_id or "")


def build_merchant(make_uow: UowFactory, name: str, *, customers_: int = 1,
                   console: bool = True) -> Merchant:
    """A merchant named ``name`` with one object of every kind and ``customers_`` customers
    (and with ``console``, a console user signed in: two argon2 hashes, slow)."""
    account_id = accounts.create_account(business_name=f"{name} Co",
                                         email=f"billing@{name.lower()}.test",
                                         uow=make_uow()).id
    api_key = accounts.create_api_key(account_id=account_id, uow=make_uow())
    hook = webhook_endpoints.create_endpoint(
        account_id=account_id, uow=make_uow(), url=f"https://hooks.{name.lower()}.test/",
        enabled_events=["*"]).endpoint.id
    token = ""
    if console:
        email = f"ops-{account_id.lower()}@{name.lower()}.test"
        accounts.create_console_user(account_id=account_id, email=email, password=PASSWORD,
                                     uow=make_uow())
        token = accounts.sign_in(email=email, password=PASSWORD, uow=make_uow()).token
    product = catalog.create_product(account_id=account_id, uow=make_uow(),
                                     name=f"{name} plan").id
    price = catalog.create_price(account_id=account_id, uow=make_uow(), currency="eur",
                                 unit_amount=1000, product=product, interval="month",
                                 nickname=f"{name} monthly",
                                 lookup_key=f"{name.lower()}_monthly").id
    other_price = catalog.create_price(account_id=account_id, uow=make_uow(), currency="eur",
                                       unit_amount=10000, product=product, interval="year",
                                       nickname=f"{name} yearly").id
    event_name = f"{name.lower()}_calls"
    meter = meters.create_meter(account_id=account_id, uow=make_uow(),
                                display_name=f"{name} calls", event_name=event_name,
                                formula="sum").id
    metered = catalog.create_price(account_id=account_id, uow=make_uow(), currency="eur",
                                   unit_amount=5, product=product, interval="month",
                                   usage_type="metered", meter=meter).id
    loose = payment_methods.create_payment_method(account_id=account_id, uow=make_uow(),
                                                  card={"token": "pm_card_visa"}).id
    coupon = coupons.create_coupon(account_id=account_id, uow=make_uow(), percent_off=10,
                                   duration="forever", name=f"{name} ten").id
    code = f"{name.upper()}10"
    promo = coupons.create_promotion_code(account_id=account_id, uow=make_uow(),
                                          coupon=coupon, code=code).id
    config = configurations.create_configuration(
        {"features": _features(product, [price, other_price]),
         "business_profile": {"headline": f"{name} billing"}},
        account_id=account_id, uow=make_uow()).id
    offer = offers.create_offer(account_id=account_id, uow=make_uow(), type="coupon",
                                name=f"{name} stay offer", coupon=coupon,
                                reasons=["too_expensive"]).id
    spare = offers.create_offer(account_id=account_id, uow=make_uow(), type="price_change",
                                name=f"{name} yearly offer", price=other_price).id
    policies.set_policy(config, account_id=account_id, uow=make_uow(),
                        offers={"too_expensive": offer})
    exp = experiments.create_experiment(
        account_id=account_id, uow=make_uow(), name=f"{name} experiment",
        configuration=config,
        variants=[VariantSpec(name="control"),
                  VariantSpec(name="treatment", offers={"too_expensive": offer})])
    with make_uow() as uow:
        variant = experiments.render_experiment(exp, uow)["variants"][0]["id"]
    holders = [_holder(make_uow, account_id=account_id, name=name, n=n, price=price,
                       other_price=other_price, configuration=config)
               for n in range(customers_)]
    meters.create_meter_event(account_id=account_id, uow=make_uow(), event_name=event_name,
                              payload={"stripe_customer_id": holders[0].customer, "value": "3"},
                              identifier=f"{name.lower()}-usage-1")
    with make_uow() as uow:
        event = uow.session.scalars(select(Event.id).where(Event.account_id == account_id)
                                    .order_by(col(Event.seq))).first()
        delivery = uow.session.scalars(select(WebhookDelivery.id).where(
            WebhookDelivery.event_id == event)).one()
    merchant = Merchant(
        name=name, account_id=account_id, api_key=api_key,
        console_cookie=f"{CONSOLE_COOKIE}={token}", product=product, price=price,
        other_price=other_price, meter=meter, metered_price=metered,
        loose_payment_method=loose, coupon=coupon, promotion_code=promo,
        promotion_code_code=code, configuration=config, offer=offer, spare_offer=spare,
        experiment=exp.id,
        variant=variant, event=event, holders=holders,
        test_clock=test_clocks.create_test_clock(account_id=account_id, uow=make_uow(),
                                                 frozen_time=START, name=f"{name} clock").id,
        payment_method_configuration=pm_configurations.create_configuration(
            account_id=account_id, uow=make_uow(), name=f"{name} methods").id,
        webhook_endpoint=hook, webhook_delivery=delivery)
    for attribute in ACCOUNT_KINDS:
        merchant.ids[str(getattr(merchant, attribute))] = attribute
    for holder in holders:
        for attribute in HOLDER_KINDS:
            merchant.ids[str(getattr(holder, attribute))] = attribute
    return merchant


def reopen_first_invoice(m: Merchant, make_uow: UowFactory) -> None:
    """The first customer's first invoice open again, as after a declined renewal (what
    paying, voiding and writing off act on)."""
    with make_uow() as uow:
        invoice = uow.session.get(Invoice, m.first.invoice)
        assert invoice is not None
        invoice.status, invoice.paid_at = InvoiceStatus.open, None
        invoice.amount_paid, invoice.amount_remaining = 0, invoice.amount_due
        uow.add(invoice)
        uow.commit()


def draft_first_invoice(m: Merchant, make_uow: UowFactory) -> None:
    """The first customer's first invoice a draft again (what finalizing acts on)."""
    reopen_first_invoice(m, make_uow)
    with make_uow() as uow:
        invoice = uow.session.get(Invoice, m.first.invoice)
        assert invoice is not None
        invoice.status, invoice.number, invoice.finalized_at = InvoiceStatus.draft, None, None
        uow.add(invoice)
        uow.commit()


def victim_merchant(engine: Engine) -> Merchant:
    """Merchant B, the victim: the same world, on a frozen clock of its own (a matrix
    builds it once and checks after every call that it stays as it is)."""
    clock = FrozenClock(START)
    return build_merchant(lambda: UnitOfWork(engine, clock=clock), MARKER, console=False)


def fake_merchant() -> Merchant:
    """A merchant with made-up ids and no rows: enough to read what a matrix would send."""
    values = {a: f"{kind_of(a)[:5]}_{a.replace('_', '')[:10]}0000000000000000"
              for a in (*ACCOUNT_KINDS, *HOLDER_KINDS)}
    values["promotion_code_code"] = "FAKE10"
    holder = Holder(**{a: values[a] for a in HOLDER_KINDS}, portal_cookie="",
                    confirm_cookie="")
    merchant = Merchant(name="Fake", account_id="acct_fake", api_key="", console_cookie="",
                        holders=[holder, holder], **{a: values[a] for a in ACCOUNT_KINDS})
    merchant.ids = {v: a for a, v in values.items()}
    return merchant


def missing_like(object_id: str) -> str:
    """An id of the same shape as ``object_id`` that names no object."""
    prefix, sep, rest = object_id.rpartition("_")
    return f"{prefix}{sep}{'Z' * len(rest)}" if sep else "Z" * len(object_id)


# --- what a merchant owns ----------------------------------------------------------------

# What any call may touch without changing anything: using a session slides its idle
# window (so these columns are never compared) ...
USE_MARKS = {"portal_session": frozenset({"last_activity_at"}),
             "console_session": frozenset({"expires_at"})}
# ... and, for the acting merchant only, idempotency records (Stripe keeps the outcome of
# a request that started executing). Never the victim's.
ACTOR_BOOKKEEPING = frozenset({"idempotency_record"})

_TABLES: list[Table] = []


def _tables(engine: Engine) -> list[Table]:
    """Every table of the migrated database (reflected once: new tables included)."""
    if not _TABLES:
        metadata = MetaData()
        metadata.reflect(engine)
        _TABLES.extend(metadata.sorted_tables)
    return _TABLES


def _owner_query(table: Table, owned: dict[str, dict[Any, str]]) -> tuple[Any, Any] | None:
    """A query of ``table``'s rows with the column that says whose they are, or None."""
    if table.name == "account":
        return select(table).where(table.c.id.in_(set(owned["account"]))), table.c.id
    if "account_id" in table.c:
        return select(table).where(table.c.account_id.in_(set(owned["account"]))), \
            table.c.account_id
    for fk in table.foreign_keys:
        parent = fk.column.table.name
        if parent in owned and fk.column.name == "id":
            return select(table).where(fk.parent.in_(set(owned[parent]))), fk.parent
    return None


Snapshot = dict[str, dict[str, list[tuple[str, ...]]]]  # account -> table -> rows


def snapshot(engine: Engine, account_ids: Iterable[str]) -> Snapshot:
    """Every row each account owns (directly or through a parent row), table by table."""
    # table -> {row id -> owning account}, to follow foreign keys down to child rows
    owned: dict[str, dict[Any, str]] = {"account": {a: a for a in account_ids}}
    out: Snapshot = {a: {} for a in owned["account"]}
    with engine.connect() as conn:
        for table in _tables(engine):
            found = _owner_query(table, owned)
            if found is None:
                continue
            query, owner_column = found
            parent = owned["account"] if owner_column.table.name == "account" or \
                owner_column.name == "account_id" else next(
                    owned[fk.column.table.name] for fk in table.foreign_keys
                    if fk.parent is owner_column)
            rows = conn.execute(query).all()
            ids: dict[Any, str] = {}
            kept = [c.name for c in table.c if c.name not in USE_MARKS.get(table.name, ())]
            for row in rows:
                account = parent[row._mapping[owner_column.name]]
                out[account].setdefault(table.name, []).append(
                    tuple(str(row._mapping[c]) for c in kept))
                if "id" in table.c:
                    ids[row._mapping["id"]] = account
            if table.name != "account":
                owned[table.name] = ids
    for tables in out.values():
        for rows_ in tables.values():
            rows_.sort()
    return out


def changed(before: dict[str, list[tuple[str, ...]]], after: dict[str, list[tuple[str, ...]]],
            *, skip: frozenset[str] = frozenset()) -> dict[str, tuple[int, int]]:
    """The tables whose rows differ: (rows before, rows after)."""
    return {name: (len(before.get(name, [])), len(after.get(name, [])))
            for name in sorted(set(before) | set(after))
            if name not in skip and before.get(name) != after.get(name)}


def watch(engine: Engine, actor: str, victims: Iterable[str]) -> Callable[[], dict[str, Any]]:
    """Snapshot now; the returned function says what changed since (empty: nothing): any row
    of a victim, any row of the actor but its bookkeeping."""
    accounts_ = [actor, *victims]
    before = snapshot(engine, accounts_)

    def differences() -> dict[str, Any]:
        after = snapshot(engine, accounts_)
        out: dict[str, Any] = {}
        for account in accounts_:
            skip = ACTOR_BOOKKEEPING if account == actor else frozenset()
            if diff := changed(before[account], after[account], skip=skip):
                out["actor" if account == actor else account] = diff
        return out

    return differences


def has_session(make_uow: UowFactory, session_id: str) -> bool:
    with make_uow() as uow:
        return uow.session.get(PortalSession, session_id) is not None
