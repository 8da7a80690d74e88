"""The demo merchant: a year of deterministic billing history, made by advancing the clock.

``seed_demo`` creates "Northwind Analytics" with a console user and an API key, both
secrets generated then (or the key from ``PORTICO_DEMO_SECRET_KEY``) and stored only as
digests, a portal configuration (every feature, the payment method types limited by a
payment method configuration), three products priced monthly and yearly in USD and EUR, two coupons, and about fifty customers who
sign up across the last 365 days. A :class:`FrozenClock` starts a year ago and
:func:`portal_app.billing.renewals.advance_clock` carries it to now between sign-ups,
cancellations and card changes, so every renewal, failed charge, trial end and
cancellation happened through the ledger and left its invoices and events.
Four showcase customers (:mod:`portal_app.seed_wallets`) carry full billing and
shipping details, tax IDs and wallets of several payment method types, saved
through setup intents: mandates for bank debits, the test authorization for PayPal.

Every choice comes from one seeded random generator and is relative to the
start of the history, so two seeds with the same ``now`` build the same
history (ids and mandate references aside, which are random by design).
"""

from __future__ import annotations

import random
import secrets
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col, select

import portal_app.models  # noqa: F401  (registers every table, for delete_account)
from portal_app.accounts import services as accounts
from portal_app.accounts.models import ConsoleUser
from portal_app.accounts.stripe_link import bills_through_stripe
from portal_app.billing import (
    authorizations,
    cancellations,
    catalog,
    coupons,
    customers,
    mandates,
    meters,
    payment_method_configurations,
    payment_methods,
    renewals,
    setup_intents,
    subscriptions,
    tax_ids,
)
from portal_app.billing.models import (
    Customer,
    Interval,
    Invoice,
    Price,
    Subscription,
    SubscriptionStatus,
)
from portal_app.billing.payment_objects import CONFIGURABLE_TYPES
from portal_app.billing.provider import ItemSpec
from portal_app.clock import FrozenClock, as_utc, utc_now
from portal_app.db import UnitOfWork, get_engine
from portal_app.errors import AuthenticationFailed, InvalidRequest
from portal_app.events.models import Event
from portal_app.periods import shift
from portal_app.portal import configurations, sessions
from portal_app.portal.configurations import CANCELLATION_REASONS, CUSTOMER_UPDATES
from portal_app.seed_stripe import StripeDemo, connect_demo, first_customer
from portal_app.seed_wallets import (
    FEATURED_EMAIL,
    ONLINE_ACCEPTANCE,
    RETURN_URL,
    SHOWCASE,
    Method,
    card_params,
)
from portal_app.settings import get_settings

DEMO_BUSINESS = "Northwind Analytics"
DEMO_EMAIL = "demo@portico.test"
USAGE_EVENT = "api_request"  # the featured customer's metered add-on counts these
RANDOM_SEED = 20260131
HISTORY = timedelta(days=365)
TRIAL_DAYS = 14

# name, description, monthly {currency: minor units}; yearly is ten months' price.
CATALOG: tuple[tuple[str, str, dict[str, int]], ...] = (
    ("Starter", "Dashboards for one team", {"usd": 1900, "eur": 1800}),
    ("Growth", "Shared workspaces, alerts and exports", {"usd": 4900, "eur": 4500}),
    ("Scale", "SSO, audit log and priority support", {"usd": 14900, "eur": 13900}),
)

NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (("Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia",
            "James", "Isabella", "Henry", "Mia", "Lucas", "Harper", "Theo"),
           ("Carter", "Brooks", "Hayes", "Morgan", "Reed", "Foster", "Bennett", "Parker",
            "Sullivan", "Griffin", "Walsh", "Hughes", "Porter", "Quinn")),
    "de": (("Lena", "Jonas", "Hannah", "Lukas", "Marie", "Felix", "Sophie", "Maximilian",
            "Jürgen", "Anja", "Tobias", "Katrin"),
           ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann",
            "Schäfer", "Koch", "Richter", "Wolf", "Krüger")),
    "fr": (("Camille", "Louis", "Chloé", "Hugo", "Léa", "Gabriel", "Manon", "Jules", "Zoé",
            "Étienne", "Inès", "Mathis"),
           ("Martin", "Bernard", "Dubois", "Durand", "Lefèvre", "Moreau", "Laurent", "Girard",
            "Roux", "Fontaine", "Chevalier", "Lambert")),
}
# city, postal code, country, state (where the country's addresses have one)
CITIES: dict[str, tuple[tuple[str, str, str, str | None], ...]] = {
    "en": (("Portland", "97205", "US", "OR"), ("Austin", "78701", "US", "TX"),
           ("Boston", "02110", "US", "MA"), ("Denver", "80202", "US", "CO"),
           ("Seattle", "98101", "US", "WA")),
    "de": (("Berlin", "10115", "DE", None), ("Hamburg", "20095", "DE", None),
           ("München", "80331", "DE", None), ("Köln", "50667", "DE", None)),
    "fr": (("Paris", "75002", "FR", None), ("Lyon", "69002", "FR", None),
           ("Bordeaux", "33000", "FR", None), ("Nantes", "44000", "FR", None)),
}
# The cards the drawn customers sign up with, and how often.
CARDS = {"pm_card_visa": 52, "pm_card_mastercard": 26, "pm_card_amex": 10,
         "pm_card_discover": 5, "pm_card_jcb": 3, "pm_card_unionpay": 2, "pm_card_diners": 2}
# What customers may add in the portal (its payment method configuration): the types of
# a merchant selling in the US, Europe and Australia; the Korean wallets stay off.
PORTAL_TYPES = ("card", "link", "us_bank_account", "sepa_debit", "bacs_debit",
                "au_becs_debit", "acss_debit", "paypal", "cashapp", "amazon_pay",
                "revolut_pay")
COMMENTS = ("We moved the reporting in-house.", "Too pricey for our team size right now.",
            "Missing a Snowflake connector.", "Project ended.", None, None, None)

Fate = Literal["active", "trialing", "past_due", "failed", "canceled", "cancels_later"]

# How the drawn customers end up (the four showcase customers make fifty, active).
FATES: tuple[tuple[Fate, int], ...] = (
    ("trialing", 5),       # signed up in the last two weeks, still in the trial
    ("past_due", 4),       # renewal declined recently (one trial ended without a card)
    ("failed", 1),         # retries failed for a whole period: canceled for non-payment
    ("canceled", 9),       # canceled by the customer, now or at period end, with feedback
    ("cancels_later", 2),  # cancellation scheduled for the end of the current period
    ("active", 25),        # paying; some started with a trial, some carry a coupon
)


@dataclass
class Plan:
    """Everything decided in advance about one demo customer."""

    index: int
    name: str
    email: str
    locale: str
    currency: str
    address: dict[str, Any]
    product: int
    interval: Interval
    card: str | None
    fate: Fate
    signup: datetime
    trial: bool = False
    coupon: int | None = None
    cancel_at: datetime | None = None
    cancel_at_period_end: bool = True
    feedback: str | None = None
    comment: str | None = None
    switch_card_at: datetime | None = None
    phone: str | None = None
    shipping: dict[str, Any] | None = None
    methods: tuple[Method, ...] = ()  # saved at or after sign-up (cards with their expiry)
    tax_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DemoSecrets:
    """The demo's API key and console password: they exist here, once, and then only as digests."""

    secret_key: str
    console_password: str


@dataclass
class SeedResult:
    """What ``seed_demo`` did (``secrets`` when it made the account)."""

    account_id: str
    created: bool
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    secrets: DemoSecrets | None = None
    stripe: StripeDemo | None = None  # PORTICO_BILLING=stripe: what connecting it did


@dataclass(frozen=True)
class DemoInfo:
    """What a person needs to try the demo (the secrets only as hints: they are not kept)."""

    key_hints: list[str]
    console_url: str
    console_email: str
    portal_url: str | None  # None: a Stripe-backed demo whose Stripe has no customer yet
    portal_customer: str
    portal_expires_in: timedelta


# --- planning ----------------------------------------------------------------------------


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _renewals(anchor: datetime, interval: Interval, until: datetime) -> list[datetime]:
    """Every period boundary after ``anchor`` up to ``until``."""
    out = []
    step = 1
    while (boundary := shift(anchor, interval, step)) <= until:
        out.append(boundary)
        step += 1
    return out


def plan_customers(*, start: datetime, now: datetime, seed: int = RANDOM_SEED) -> list[Plan]:
    """The demo's customers and what happens to each, decided from ``seed`` alone."""
    rng = random.Random(seed)
    day = timedelta(days=1)
    plans: list[Plan] = []
    used_emails: set[str] = set()

    def person(locale: str) -> tuple[str, str, dict[str, Any]]:
        firsts, lasts = NAMES[locale]
        while True:
            first, last = rng.choice(firsts), rng.choice(lasts)
            email = f"{_ascii(first)}.{_ascii(last)}@example.{'com' if locale == 'en' else locale}"
            if email not in used_emails:
                used_emails.add(email)
                break
        city, postal, country, state = rng.choice(CITIES[locale])
        address = {"city": city, "country": country, "line1": f"{rng.randint(1, 240)} Main St"
                   if locale == "en" else f"Hauptstraße {rng.randint(1, 90)}" if locale == "de"
                   else f"{rng.randint(1, 90)} rue de la République",
                   "line2": None, "postal_code": postal, "state": state}
        return f"{first} {last}", email, address

    def between(lo: datetime, hi: datetime, *, skew: float = 1.0) -> datetime:
        # skew < 1 leans towards ``hi``: sign-ups grow over the year.
        seconds = (hi - lo).total_seconds() * rng.random() ** skew
        return (lo + timedelta(seconds=seconds)).replace(second=0, microsecond=0)

    fates = [fate for fate, count in FATES for _ in range(count)]
    rng.shuffle(fates)
    past_due_without_card = fates.index("past_due")
    for index, fate in enumerate(fates):
        locale = rng.choices(("en", "de", "fr"), weights=(50, 25, 25))[0]
        name, email, address = person(locale)
        plan = Plan(
            index=index, name=name, email=email, locale=locale,
            currency="usd" if locale == "en" else "eur", address=address,
            product=rng.choices((0, 1, 2), weights=(45, 38, 17))[0],
            interval=Interval.year if rng.random() < 0.2 else Interval.month,
            card=rng.choices(tuple(CARDS), weights=tuple(CARDS.values()))[0],
            fate=fate, signup=start,
        )
        if fate == "trialing":
            plan.trial = True
            plan.signup = between(now - 12 * day, now - day / 4)
        elif fate == "past_due" and index == past_due_without_card:
            # A trial that ended without a card on file: the first charge had nothing to use.
            plan.trial, plan.card, plan.interval = True, None, Interval.month
            plan.signup = between(now - 27 * day, now - 16 * day)
        elif fate in ("past_due", "failed"):
            plan.interval = Interval.month
            plan.signup = between(start + day, now - 150 * day, skew=0.8)
            renewals = _renewals(plan.signup, Interval.month, now)
            # The card starts declining just before the last renewal (past_due), or one
            # renewal earlier so that the retries also fail (failed: canceled).
            before = renewals[-1] if fate == "past_due" else renewals[-2]
            plan.switch_card_at = before - 3 * day
        elif fate == "canceled":
            plan.signup = between(start + day, now - 120 * day, skew=0.9)
            plan.cancel_at_period_end = rng.random() < 0.6
            if plan.cancel_at_period_end:
                plan.interval = Interval.month
            latest = now - (40 * day if plan.cancel_at_period_end else day)
            plan.cancel_at = between(plan.signup + 20 * day, latest)
        elif fate == "cancels_later":
            plan.interval = Interval.month
            plan.signup = between(start + day, now - 40 * day)
            renewals = _renewals(plan.signup, Interval.month, now)
            plan.cancel_at = renewals[-1] + day  # within the current period
        else:
            plan.trial = rng.random() < 0.3
            plan.signup = between(start + day, now - 16 * day, skew=0.7)
            if rng.random() < 0.18:
                plan.coupon = rng.choice((0, 1))
        if plan.cancel_at is not None:
            plan.feedback = rng.choices(CANCELLATION_REASONS,
                                        weights=(30, 18, 14, 16, 4, 6, 4, 8))[0]
            plan.comment = rng.choice(COMMENTS)
        plans.append(plan)
    # The showcase, first of them the customer `portico demo-info` opens the portal for.
    for show in SHOWCASE:
        plans.append(Plan(
            index=len(plans), name=show.name, email=show.email, locale=show.locale,
            currency=show.currency, address=show.address, product=show.product,
            interval=Interval.month, card=show.card, fate="active",
            signup=(start + show.signup_days * day).replace(hour=9, minute=30),
            phone=show.phone, shipping=show.shipping, tax_ids=show.tax_ids,
            methods=tuple(replace(m, params=card_params(m.params["number"], now=now,
                                                        months=m.expires_in))
                          if m.expires_in is not None else m for m in show.methods),
        ))
    plans.sort(key=lambda p: p.signup)
    return plans


# --- building ----------------------------------------------------------------------------


def find_demo_account(*, engine: Engine | None = None) -> str | None:
    """The demo account's id (the account of the demo console user), or None."""
    with UnitOfWork(engine or get_engine()) as uow:
        return uow.session.exec(
            select(ConsoleUser.account_id).where(ConsoleUser.email == DEMO_EMAIL)).first()


def new_demo_password() -> str:
    """A random console password (about 96 bits), easy to copy."""
    return secrets.token_urlsafe(12)


def rotate_demo_secrets(*, engine: Engine | None = None) -> DemoSecrets:
    """A new demo API key and console password; the previous key is revoked.

    The key is ``PORTICO_DEMO_SECRET_KEY`` when that is set (then only the other keys
    are revoked). Raises InvalidRequest when there is no demo account.
    """
    engine = engine or get_engine()
    account_id = find_demo_account(engine=engine)
    if account_id is None:
        raise InvalidRequest("There is no demo account yet: run `portico seed` first.")
    key = accounts.rotate_api_key(account_id=account_id, uow=UnitOfWork(engine),
                                  key=get_settings().demo_secret_key)
    password = new_demo_password()
    accounts.set_console_password(email=DEMO_EMAIL, password=password, uow=UnitOfWork(engine))
    return DemoSecrets(secret_key=key, console_password=password)


def seed_demo(*, engine: Engine | None = None, now: datetime | None = None,
              reset: bool = False, seed: int = RANDOM_SEED) -> SeedResult:
    """Create the demo merchant and its year of history, unless it exists already.

    ``now`` (default: the wall clock, to the hour) is where the history ends;
    ``reset`` deletes an existing demo account first. With ``PORTICO_BILLING=stripe``
    the demo bills through that Stripe account instead (:mod:`portal_app.seed_stripe`);
    an existing demo is connected to it, and one connected before is rebuilt on the
    ledger once the setting is gone.
    """
    engine = engine or get_engine()
    existing = find_demo_account(engine=engine)
    settings = get_settings()
    configured = settings.demo_secret_key
    through_stripe = existing is not None and bills_through_stripe(existing,
                                                                   uow=UnitOfWork(engine))
    if existing is not None and not reset and settings.billing == "stripe" and not through_stripe:
        return SeedResult(account_id=existing, created=False,
                          counts=demo_counts(existing, engine=engine),
                          stripe=connect_demo(existing, engine=engine))
    if settings.billing == "local" and through_stripe:
        reset = True  # PORTICO_BILLING is local again: the demo gets its ledger history
    if existing is not None and not reset and configured and not _owns_key(existing, configured,
                                                                             engine=engine):
        # PORTICO_DEMO_SECRET_KEY changed since the seed: it replaces the demo's keys.
        accounts.rotate_api_key(account_id=existing, uow=UnitOfWork(engine), key=configured)
    if existing is not None:
        if not reset:
            return SeedResult(account_id=existing, created=False,
                              counts=demo_counts(existing, engine=engine))
        delete_account(existing, engine=engine)
    began = time.perf_counter()
    now = as_utc(now or utc_now()).replace(minute=0, second=0, microsecond=0)
    start = now - HISTORY
    clock = FrozenClock(start)

    def uow() -> UnitOfWork:
        return UnitOfWork(engine, clock=clock)

    account = accounts.create_account(business_name=DEMO_BUSINESS, email="billing@northwind.example",
                                      uow=uow())
    account_id = account.id
    demo_secrets = DemoSecrets(
        secret_key=accounts.rotate_api_key(account_id=account_id, uow=uow(), key=configured),
        console_password=new_demo_password())
    accounts.create_console_user(account_id=account_id, email=DEMO_EMAIL,
                                 password=demo_secrets.console_password, uow=uow())
    if settings.billing == "stripe":
        return SeedResult(account_id=account_id, created=True, secrets=demo_secrets,
                          stripe=connect_demo(account_id, engine=engine),
                          seconds=time.perf_counter() - began,
                          counts=demo_counts(account_id, engine=engine))
    prices = _create_catalog(account_id=account_id, uow=uow)
    coupon_ids = [
        coupons.create_coupon(account_id=account_id, uow=uow(), name="Welcome: 20% off 3 months",
                              percent_off=20, duration="repeating", duration_in_months=3).id,
        coupons.create_coupon(account_id=account_id, uow=uow(), name="Partner: 10% off",
                              percent_off=10, duration="forever").id,
    ]
    _create_configuration(account_id=account_id, prices=prices, uow=uow)
    meter = meters.create_meter(account_id=account_id, uow=uow(), display_name="API requests",
                                event_name=USAGE_EVENT, formula="sum")

    plans = plan_customers(start=start, now=now, seed=seed)
    actions: list[tuple[datetime, int, str, Plan, Method | None]] = []
    for plan in plans:
        actions.append((plan.signup, 0, "signup", plan, None))
        if plan.switch_card_at is not None:
            actions.append((plan.switch_card_at, 1, "switch_card", plan, None))
        if plan.cancel_at is not None:
            actions.append((plan.cancel_at, 2, "cancel", plan, None))
        actions.extend((plan.signup + timedelta(days=m.after_days), 1, "save_method", plan, m)
                       for m in plan.methods if m.after_days)
    actions.sort(key=lambda a: (a[0], a[1], a[3].index))
    signed_up: dict[int, tuple[str, str]] = {}  # plan index -> (customer, subscription)
    for when, _, kind, plan, method in actions:
        if when > clock():
            renewals.advance_clock(clock, when, account_id=account_id, uow_factory=uow)
        if kind == "signup":
            addon = (_usage_addon(plan, meter_id=meter.id, account_id=account_id, uow=uow)
                     if plan.email == FEATURED_EMAIL else None)
            signed_up[plan.index] = _sign_up(plan, account_id=account_id, prices=prices,
                                             coupon_ids=coupon_ids, uow=uow, addon=addon)
        elif kind == "save_method" and method is not None:
            _save_method(method, signed_up[plan.index][0], account_id=account_id, uow=uow)
        elif kind == "switch_card":
            customer_id, _ = signed_up[plan.index]
            pm = payment_methods.attach_payment_method(
                "pm_card_chargeCustomerFail", customer_id=customer_id, account_id=account_id,
                uow=uow())
            customers.update_customer(customer_id, account_id=account_id, uow=uow(),
                                      default_payment_method=pm.id)
        else:
            _, subscription_id = signed_up[plan.index]
            cancellations.cancel_subscription(subscription_id, account_id=account_id, uow=uow(),
                                              at_period_end=plan.cancel_at_period_end,
                                              feedback=plan.feedback, comment=plan.comment)
    renewals.advance_clock(clock, now, account_id=account_id, uow_factory=uow)
    _report_usage(plans, signed_up, account_id=account_id, seed=seed, uow=uow)
    return SeedResult(account_id=account_id, created=True,
                      seconds=time.perf_counter() - began,
                      counts=demo_counts(account_id, engine=engine), secrets=demo_secrets)


def _owns_key(account_id: str, key: str, *, engine: Engine) -> bool:
    try:
        return accounts.authenticate_key(key, uow=UnitOfWork(engine)) == account_id
    except AuthenticationFailed:
        return False


def _create_catalog(*, account_id: str, uow: Callable[[], UnitOfWork]
                    ) -> dict[tuple[int, Interval, str], str]:
    """Three products, each monthly and yearly in USD and EUR: price ids by (product, interval, currency)."""
    prices: dict[tuple[int, Interval, str], str] = {}
    for index, (name, description, monthly) in enumerate(CATALOG):
        product = catalog.create_product(account_id=account_id, uow=uow(), name=name,
                                         description=description)
        for interval, months in ((Interval.month, 1), (Interval.year, 10)):
            for currency, amount in monthly.items():
                price = catalog.create_price(
                    account_id=account_id, uow=uow(), product=product.id, currency=currency,
                    unit_amount=amount * months, interval=interval.value,
                    nickname=f"{name} {interval.value}ly ({currency.upper()})",
                    lookup_key=f"{name.lower()}_{interval.value}ly_{currency}",
                )
                prices[(index, interval, currency)] = price.id
    return prices


def _create_configuration(*, account_id: str, prices: dict[tuple[int, Interval, str], str],
                          uow: Callable[[], UnitOfWork]) -> None:
    by_product: dict[str, list[str]] = {}
    with uow() as u:
        for price_id in prices.values():
            price = u.session.get(Price, price_id)
            assert price is not None
            by_product.setdefault(price.product_id, []).append(price.id)
    pmc = payment_method_configurations.create_configuration(
        account_id=account_id, uow=uow(), name="Northwind portal",
        preferences={type: "on" if type in PORTAL_TYPES else "off"
                     for type in CONFIGURABLE_TYPES})
    configurations.create_configuration({
        "business_profile": {
            "headline": "Northwind Analytics: manage your plan, cards and invoices",
            "privacy_policy_url": "https://northwind.example/privacy",
            "terms_of_service_url": "https://northwind.example/terms",
        },
        "default_return_url": "https://northwind.example/account",
        "features": {
            "invoice_history": {"enabled": True},
            "payment_method_update": {"enabled": True,
                                      "payment_method_configuration": pmc.id},
            "customer_update": {"enabled": True, "allowed_updates": list(CUSTOMER_UPDATES)},
            "subscription_cancel": {
                "enabled": True, "mode": "at_period_end",
                "cancellation_reason": {"enabled": True, "options": list(CANCELLATION_REASONS)},
            },
            "subscription_update": {
                "enabled": True, "default_allowed_updates": ["price"],
                "proration_behavior": "create_prorations",
                "products": [{"product": product, "prices": ids}
                             for product, ids in by_product.items()],
            },
        },
    }, account_id=account_id, uow=uow(), is_default=True)


def _usage_addon(plan: Plan, *, meter_id: str, account_id: str,
                 uow: Callable[[], UnitOfWork]) -> str:
    """A metered "API requests" price (1 cent each) in the plan's currency and interval."""
    product = catalog.create_product(account_id=account_id, uow=uow(), name="API requests",
                                     description="Pay as you go, billed at the end of each period",
                                     unit_label="API requests")
    return catalog.create_price(account_id=account_id, uow=uow(), product=product.id,
                                currency=plan.currency, unit_amount=1,
                                interval=plan.interval.value, usage_type="metered",
                                meter=meter_id).id


def _report_usage(plans: list[Plan], signed_up: dict[int, tuple[str, str]], *,
                  account_id: str, seed: int, uow: Callable[[], UnitOfWork]) -> None:
    """A few API requests a day this period for the featured customer's metered add-on."""
    featured = next((p for p in plans if p.email == FEATURED_EMAIL), None)
    if featured is None or featured.index not in signed_up:
        return
    customer_id, subscription_id = signed_up[featured.index]
    sub = subscriptions.retrieve_subscription(subscription_id, account_id=account_id, uow=uow())
    now = uow().clock()
    rng = random.Random(seed)
    day = max(sub.current_period_start, now - meters.PAST_LIMIT + timedelta(days=1))
    while day < now:
        meters.create_meter_event(account_id=account_id, uow=uow(), event_name=USAGE_EVENT,
                                  payload={"stripe_customer_id": customer_id,
                                           "value": str(rng.randint(20, 90))},
                                  timestamp=day, identifier=f"demo-{int(day.timestamp())}")
        day += timedelta(hours=rng.randint(5, 30))


def _sign_up(plan: Plan, *, account_id: str, prices: dict[tuple[int, Interval, str], str],
             coupon_ids: list[str], uow: Callable[[], UnitOfWork], addon: str | None = None
             ) -> tuple[str, str]:
    customer = customers.create_customer(
        account_id=account_id, uow=uow(), email=plan.email, name=plan.name,
        address=plan.address, preferred_locales=[plan.locale], payment_method=plan.card,
        metadata={"demo_plan": str(plan.index)}, phone=plan.phone, shipping=plan.shipping,
    )
    for method in plan.methods:
        if not method.after_days:  # the others come later (see ``seed_demo``)
            _save_method(method, customer.id, account_id=account_id, uow=uow)
    for type, value in plan.tax_ids:
        tax_ids.create_tax_id(customer.id, type=type, value=value, account_id=account_id,
                              uow=uow())
    subscription = subscriptions.create_subscription(
        account_id=account_id, uow=uow(), customer=customer.id,
        items=[ItemSpec(price=prices[(plan.product, plan.interval, plan.currency)]),
               *([ItemSpec(price=addon)] if addon else [])],
        trial_period_days=TRIAL_DAYS if plan.trial else None,
        coupon=coupon_ids[plan.coupon] if plan.coupon is not None else None,
    )
    return customer.id, subscription.id


def _save_method(method: Method, customer_id: str, *, account_id: str,
                 uow: Callable[[], UnitOfWork]) -> None:
    """Save ``method`` as a customer does in the portal: a setup intent, its mandate
    accepted (bank debits) or authorized on the test page (wallets)."""
    si = setup_intents.create_setup_intent(
        account_id=account_id, uow=uow(), customer_id=customer_id,
        payment_method_types=[method.type], confirm=True, return_url=RETURN_URL,
        payment_method_data={"type": method.type, method.type: method.params,
                             "billing_details": method.billing_details or {}},
        mandate_acceptance=ONLINE_ACCEPTANCE if method.type in mandates.MANDATE_TYPES
        else None)
    if si.status == setup_intents.REQUIRES_ACTION and si.next_action:
        token = si.next_action["redirect_to_url"]["url"].rsplit("/", 1)[1]
        authorizations.complete_authorization(token, succeed=True, account_id=account_id,
                                              uow=uow())
    if method.default:
        customers.update_customer(customer_id, account_id=account_id, uow=uow(),
                                  default_payment_method=si.payment_method_id)


# --- reading and resetting ---------------------------------------------------------------


def demo_counts(account_id: str, *, engine: Engine | None = None) -> dict[str, int]:
    """Customers, subscriptions by status, invoices and events of an account."""
    with UnitOfWork(engine or get_engine()) as uow:
        s = uow.session

        def count(model: Any) -> int:
            return s.exec(select(func.count()).where(model.account_id == account_id)).one()

        statuses = Counter({str(status): n for status, n in s.exec(
            select(Subscription.status, func.count())
            .where(Subscription.account_id == account_id).group_by(Subscription.status)
        ).all()})
        counts = {"customers": count(Customer), "subscriptions": count(Subscription),
                  "invoices": count(Invoice), "events": count(Event)}
        for status in SubscriptionStatus:
            if statuses[str(status)]:
                counts[f"subscriptions.{status}"] = statuses[str(status)]
        return counts


def delete_account(account_id: str, *, engine: Engine | None = None) -> None:
    """Delete an account and every row that belongs to it, children first."""
    engine = engine or get_engine()
    tables = SQLModel.metadata.sorted_tables
    owned = {t.name: t.c.account_id == account_id for t in tables if "account_id" in t.c}
    with engine.begin() as conn:
        for table in reversed(tables):
            if table.name == "account":
                conn.execute(delete(table).where(table.c.id == account_id))
            elif table.name in owned:
                conn.execute(delete(table).where(owned[table.name]))
            else:  # a child table: reach the account through an owned parent
                fk = next((fk for fk in table.foreign_keys if fk.column.table.name in owned),
                          None)
                if fk is None:
                    continue  # no account's rows (sign-in throttling)
                parent = fk.column.table
                conn.execute(delete(table).where(fk.parent.in_(
                    select(fk.column).where(owned[parent.name]))))


def featured_customer(account_id: str, *, engine: Engine | None = None) -> tuple[str, str]:
    """``(id, "Name <email>")`` of the demo customer to open the portal for.

    The featured customer while their subscription is active and not ending,
    else the earliest such customer. Raises InvalidRequest when there is none.
    """
    with UnitOfWork(engine or get_engine()) as uow:
        rows = uow.session.exec(
            select(Customer.id, Customer.name, Customer.email)
            .join(Subscription, col(Subscription.customer_id) == Customer.id)
            .where(Customer.account_id == account_id,
                   Subscription.status == SubscriptionStatus.active,
                   col(Subscription.cancel_at).is_(None))
            .order_by(col(Customer.created), col(Customer.id))
        ).all()
    if not rows:
        raise InvalidRequest("The demo account has no customer with an active subscription.")
    customer_id, name, email = next((r for r in rows if r[2] == FEATURED_EMAIL), rows[0])
    return customer_id, f"{name} <{email}>"


def demo_info(*, engine: Engine | None = None) -> DemoInfo:
    """The demo key, console login and a fresh portal link. Raises InvalidRequest."""
    engine = engine or get_engine()
    account_id = find_demo_account(engine=engine)
    if account_id is None:
        raise InvalidRequest("There is no demo account yet: run `portico seed` first.")
    if bills_through_stripe(account_id, uow=UnitOfWork(engine)):
        customer = first_customer(account_id, engine=engine)
    else:
        customer = featured_customer(account_id, engine=engine)
    portal_url = None
    if customer is not None:
        portal_url = sessions.create_session(account_id=account_id, uow=UnitOfWork(engine),
                                             customer=customer[0]).url
    settings = get_settings()
    return DemoInfo(key_hints=accounts.live_key_hints(account_id, uow=UnitOfWork(engine)),
                    console_url=f"{settings.public_url}/console", console_email=DEMO_EMAIL,
                    portal_url=portal_url,
                    portal_customer=customer[1] if customer else "none in Stripe yet",
                    portal_expires_in=sessions.OPEN_WITHIN)


def advance_demo_clock(to: datetime, *, engine: Engine | None = None) -> int:
    """Run the demo account's renewals, trial ends and cancellations due up to ``to``.

    Returns how many ran. Raises InvalidRequest (no demo account, or ``to`` in the past).
    """
    engine = engine or get_engine()
    account_id = find_demo_account(engine=engine)
    if account_id is None:
        raise InvalidRequest("There is no demo account yet: run `portico seed` first.")
    clock = FrozenClock(utc_now())
    to = as_utc(to)
    if to <= clock():
        raise InvalidRequest(f"{to:%Y-%m-%d %H:%M} UTC is not in the future.", param="to")
    return renewals.advance_clock(clock, to, account_id=account_id,
                                  uow_factory=lambda: UnitOfWork(engine, clock=clock))


__all__ = ["DEMO_EMAIL", "DemoInfo", "DemoSecrets", "SeedResult", "advance_demo_clock",
           "delete_account", "demo_counts", "demo_info", "find_demo_account", "plan_customers",
           "rotate_demo_secrets", "seed_demo"]
