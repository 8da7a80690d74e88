"""A realistic synthetic merchant: 24 months of subscription and cancellation-flow events.

Deterministic by seed and vectorized (numpy + Polars, no per-event Python), so ten
million events take seconds. The history has growth and seasonality in signups, three
products × monthly/yearly × USD/EUR, trials, seat changes, upgrades and downgrades,
renewals (each a ``customer.subscription.updated``), churn with survey reasons and
comments, default retention offers per reason and, from month 12, an experiment with
known true retention rates per variant (:data:`EXPERIMENT_TRUE_RATES`).

:func:`generate` returns the flattened frames of :mod:`analytics.ingest` directly;
:func:`to_stripe_events` renders a (small) history as Stripe event objects, which
:func:`analytics.ingest.subscription_frame` and :func:`~analytics.ingest.flow_frame`
flatten back to the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from analytics.ingest import FLOW_SCHEMA, SUBSCRIPTION_SCHEMA

START = datetime(2024, 2, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
ACCOUNT = "acct_synthetic"
CONFIGURATION = "bpc_synthetic"
EXPERIMENT = "exp_offer_test"
EXPERIMENT_START = datetime(2025, 2, 1, tzinfo=UTC)
EXPERIMENT_WEIGHTS = {"var_control": 0.5, "var_coupon": 0.25, "var_pause": 0.25}
EXPERIMENT_TRUE_RATES = {"var_control": 0.05, "var_coupon": 0.30, "var_pause": 0.20}
"""Probability that an exposed customer stays (offer accepted, or control flow abandoned)."""
OFFERS = {  # id: (type, probability of acceptance outside the experiment)
    "offer_coupon_30": ("coupon", 0.30),
    "offer_pause_2": ("pause", 0.20),
}
COUPON_PERCENT_OFF = 30.0
COUPON_MONTHS = 3
PAUSE_MONTHS = 2
PRODUCTS = ["prod_starter", "prod_growth", "prod_scale"]
CURRENCIES = ["usd", "eur"]
INTERVALS = ["month", "year"]
MONTHLY_AMOUNTS = {"usd": [1900, 4900, 14900], "eur": [1700, 4500, 13900]}
REASONS = ["too_expensive", "missing_features", "switched_service", "unused",
           "customer_service", "too_complex", "low_quality", "other"]
REASON_WEIGHTS = [0.30, 0.16, 0.14, 0.16, 0.05, 0.07, 0.05, 0.07]
COMMENTS = ["Too pricey for a team our size.", "We need SSO.", "Moved to a competitor.",
            "We barely used it this quarter.", "Support was slow.", "Hard to set up.",
            "Reports were buggy.", "Company closed."]
_DAY = 86_400
_MONTH = 30.436875 * _DAY
_US = 1_000_000
_EVENTS_PER_CUSTOMER = 7.7  # measured on the default parameters; sizes the customer base


@dataclass(frozen=True)
class History:
    """A generated history: the two flattened frames and what renders them as Stripe JSON."""

    subscriptions: pl.DataFrame
    flows: pl.DataFrame
    prices: pl.DataFrame
    """``price``, ``product``, ``currency``, ``interval``, ``unit_amount``."""
    discounts: pl.DataFrame
    """``event``, ``percent_off``, ``start``, ``end`` (unix seconds): the coupon on a snapshot."""


def price_catalog() -> pl.DataFrame:
    """The 12 prices: 3 products × monthly/yearly × USD/EUR (yearly = 10 months)."""
    rows = []
    for currency in CURRENCIES:
        for p, product in enumerate(PRODUCTS):
            for interval in INTERVALS:
                amount = MONTHLY_AMOUNTS[currency][p] * (10 if interval == "year" else 1)
                rows.append((f"price_{product[5:]}_{interval}ly_{currency}", product, currency,
                             interval, amount))
    return pl.DataFrame(rows, schema=["price", "product", "currency", "interval", "unit_amount"],
                        orient="row")


def _ts(seconds: np.ndarray) -> pl.Series:
    return pl.Series((seconds * _US).astype(np.int64)).cast(pl.Datetime("us", "UTC"))


def generate(*, n_events: int = 100_000, seed: int = 0) -> History:
    """A merchant history of about ``n_events`` events (both frames together).

    Examples
    --------
    >>> history = generate(n_events=2_000, seed=1)
    >>> 1_500 < history.subscriptions.height + history.flows.height < 2_500
    True
    >>> history.subscriptions.equals(generate(n_events=2_000, seed=1).subscriptions)
    True
    """
    rng = np.random.default_rng(seed)
    n = max(1, round(n_events / _EVENTS_PER_CUSTOMER))
    t_start, t_end = START.timestamp(), END.timestamp()
    horizon_days = int((t_end - t_start) // _DAY)
    day = np.arange(horizon_days)
    # growth ~4 %/month, a December dip and a January/September bump
    month_of_year = ((day / 30.44) + 1) % 12
    weight = np.exp(0.04 * day / 30.44) * (1 + 0.25 * np.cos(2 * np.pi * (month_of_year - 0.5) / 12))
    signup = t_start + rng.choice(horizon_days, size=n, p=weight / weight.sum()) * _DAY \
        + rng.uniform(0, _DAY, n)
    currency = (rng.random(n) < 0.35).astype(np.int64)
    product = rng.choice(3, size=n, p=[0.5, 0.35, 0.15])
    yearly = rng.random(n) < np.array([0.15, 0.25, 0.4])[product]
    quantity = np.where(product == 2, rng.integers(1, 6, n), 1)
    trial = rng.random(n) < 0.3
    trial_converts = ~trial | (rng.random(n) < 0.75)
    paid_start = signup + trial * 14 * _DAY
    mean_life = np.where(yearly, 40.0, np.array([14.0, 20.0, 28.0])[product]) * _MONTH
    end = paid_start + rng.exponential(mean_life)
    ends = trial_converts & (end < t_end)
    # one plan change for some: up or down a product, or seats on Scale
    changes = trial_converts & (rng.random(n) < 0.35)
    change_at = paid_start + rng.uniform(0.1, 0.9, n) * (np.minimum(end, t_end) - paid_start)
    changes &= change_at < t_end
    step = np.where(rng.random(n) < 0.6, 1, -1)
    new_product = np.clip(product + step, 0, 2)
    new_quantity = np.where(new_product == 2, np.maximum(1, quantity + step), 1)

    # the cancellation flows: one per paying customer whose subscription ends
    flow = np.flatnonzero(ends)
    m = flow.size
    f_time = end[flow]
    reason = rng.choice(len(REASONS), size=m, p=REASON_WEIGHTS)
    in_experiment = f_time >= EXPERIMENT_START.timestamp()
    variants = list(EXPERIMENT_WEIGHTS)
    variant = rng.choice(len(variants), size=m, p=list(EXPERIMENT_WEIGHTS.values()))
    offer_ids = list(OFFERS)
    default_offer = np.select([reason == 0, reason == 3], [0, 1], -1)
    offer = np.where(in_experiment, np.array([-1, 0, 1])[variant], default_offer)
    p_stay = np.where(
        in_experiment, np.array([EXPERIMENT_TRUE_RATES[v] for v in variants])[variant],
        np.where(offer >= 0, np.array([OFFERS[o][1] for o in offer_ids])[np.maximum(offer, 0)], 0.0))
    stays = rng.random(m) < p_stay
    accepted = stays & (offer >= 0)
    abandoned = stays & (offer < 0)
    has_comment = rng.random(m) < 0.25
    # saved customers may leave later, without a second flow
    later_end = f_time + rng.exponential(7 * _MONTH, m)
    later_ends = stays & (later_end < t_end)
    final_end = np.where(stays, np.where(later_ends, later_end, np.inf),
                         f_time + rng.uniform(0, 30 * _DAY, m))
    sub_end = np.full(n, np.inf)
    sub_end[flow] = final_end
    sub_end[~trial_converts] = paid_start[~trial_converts]
    sub_end = np.where(sub_end < t_end, sub_end, np.inf)

    # state changes: (customer, time, kind, product, quantity, status, percent_off, flow idx)
    # kinds: 0 created, 1 activated (trial end), 2 plan changed, 3 discounted,
    # 4 discount ended, 5 paused, 6 resumed, 7 deleted, 8 renewed
    parts: list[dict[str, np.ndarray]] = []

    def add(who: np.ndarray, when: np.ndarray, kind: int, prod: np.ndarray, qty: np.ndarray,
            status: int, pct: float = 0.0, flow_index: np.ndarray | None = None) -> None:
        parts.append({
            "customer": who, "time": when, "kind": np.full(who.size, kind),
            "product": prod, "quantity": qty, "status": np.full(who.size, status),
            "percent_off": np.full(who.size, pct),
            "flow": np.full(who.size, -1) if flow_index is None else flow_index,
        })

    everyone = np.arange(n)
    add(everyone, signup, 0, product, quantity, 0)
    parts[-1]["status"] = np.where(trial, 1, 0)  # 0 active, 1 trialing, 2 paused, 3 canceled
    activated = np.flatnonzero(trial & trial_converts)
    add(activated, paid_start[activated], 1, product[activated], quantity[activated], 0)
    changed = np.flatnonzero(changes & (change_at < sub_end) & ~np.isin(everyone, flow[stays])
                             | (changes & ~ends))
    changed = changed[change_at[changed] < np.minimum(sub_end[changed], end[changed])]
    add(changed, change_at[changed], 2, new_product[changed], new_quantity[changed], 0)
    # the plan in force at the flow (after any change before it)
    plan_product = np.where(changes & (change_at < end), new_product, product)
    plan_quantity = np.where(changes & (change_at < end), new_quantity, quantity)
    flow_index = np.arange(m)
    coupon = np.flatnonzero(accepted & (offer == 0))
    pause = np.flatnonzero(accepted & (offer == 1))
    who = flow[coupon]
    add(who, f_time[coupon] + 1, 3, plan_product[who], plan_quantity[who], 0, COUPON_PERCENT_OFF,
        flow_index[coupon])
    back = coupon[f_time[coupon] + COUPON_MONTHS * _MONTH < np.minimum(final_end[coupon], t_end)]
    add(flow[back], f_time[back] + COUPON_MONTHS * _MONTH, 4, plan_product[flow[back]],
        plan_quantity[flow[back]], 0)
    who = flow[pause]
    add(who, f_time[pause] + 1, 5, plan_product[who], plan_quantity[who], 2, 0.0,
        flow_index[pause])
    back = pause[f_time[pause] + PAUSE_MONTHS * _MONTH < np.minimum(final_end[pause], t_end)]
    add(flow[back], f_time[back] + PAUSE_MONTHS * _MONTH, 6, plan_product[flow[back]],
        plan_quantity[flow[back]], 0)
    gone = np.flatnonzero(np.isfinite(sub_end))
    # a cancellation confirmed in a flow carries the flow as its origin
    cust_flow = np.full(n, -1)
    cust_flow[flow[~stays]] = flow_index[~stays]
    add(gone, sub_end[gone], 7, np.where(changes & (change_at < sub_end), new_product, product)[gone],
        np.where(changes & (change_at < sub_end), new_quantity, quantity)[gone], 3, 0.0,
        cust_flow[gone])
    cust_reason = np.full(n, -1)
    cust_reason[flow] = reason
    cust_comment = np.zeros(n, dtype=bool)
    cust_comment[flow] = has_comment
    states = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

    # renewals: one update per billing period between the paid start and the end
    period = np.where(yearly, 12 * _MONTH, _MONTH)
    last = np.minimum(sub_end, t_end)
    renewals = np.where(trial_converts, np.floor((last - paid_start) / period - 1e-9), 0)
    renewals = np.maximum(renewals, 0).astype(np.int64)
    r_customer = np.repeat(everyone, renewals)
    r_index = np.arange(r_customer.size) - np.repeat(np.cumsum(renewals) - renewals, renewals) + 1
    r_time = np.floor(paid_start[r_customer] + r_index * period[r_customer])

    state_frame = pl.DataFrame({
        "customer_index": states["customer"], "time": np.floor(states["time"]), "kind": states["kind"],
        "product_index": states["product"], "quantity": states["quantity"],
        "status_index": states["status"], "percent_off": states["percent_off"],
        "flow_index": states["flow"],
    }).filter(pl.col("time") < t_end)
    renewal_frame = pl.DataFrame({"customer_index": r_customer, "time": r_time}).sort("time")
    renewal_frame = renewal_frame.join_asof(
        state_frame.sort("time").drop("kind"), on="time", by="customer_index",
        strategy="backward", check_sortedness=False,
    ).with_columns(pl.lit(8, pl.Int64).alias("kind"), pl.lit(-1, pl.Int64).alias("flow_index"))
    events = pl.concat([state_frame, renewal_frame.select(state_frame.columns)]).with_columns(
        pl.col("percent_off").replace(0.0, None))
    flow_variant = np.where(in_experiment, variant, -1)
    subscriptions, discounts = _subscription_rows(events, currency, yearly, cust_reason,
                                                  cust_comment, flow_variant, seed)
    flows = _flow_rows(flow, f_time, reason, offer, offer_ids, in_experiment, variant, variants,
                       accepted, abandoned, has_comment, plan_product, plan_quantity, currency,
                       yearly, seed)
    return History(subscriptions=subscriptions, flows=flows, prices=price_catalog(),
                   discounts=discounts)


def _subscription_rows(events: pl.DataFrame, currency: np.ndarray, yearly: np.ndarray,
                       reason: np.ndarray, comment: np.ndarray,
                       flow_variant: np.ndarray, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    prices = price_catalog().with_row_index("price_index")
    idx = pl.col("customer_index")
    frame = events.sort("time", "customer_index", "kind")
    who = frame["customer_index"].to_numpy()
    flow_of = frame["flow_index"].to_numpy()
    variants = pl.Series([*EXPERIMENT_WEIGHTS, None], dtype=pl.String)
    deleted = frame["kind"].to_numpy() == 7
    feedback = np.where(deleted & (reason[who] >= 0), reason[who], len(REASONS))
    frame = frame.with_columns(
        pl.Series("currency_index", currency[who]),
        pl.Series("yearly", yearly[who]),
        pl.Series([*REASONS, None], dtype=pl.String).gather(feedback).alias("feedback"),
        pl.Series([*COMMENTS, None], dtype=pl.String)
        .gather(np.where(comment[who], feedback, len(REASONS))).alias("comment"),
        variants.gather(np.where(flow_of >= 0, flow_variant[flow_of], -1) % (variants.len()))
        .alias("variant"),
    )
    # price_index = currency * 6 + product * 2 + yearly (the catalog's order)
    frame = frame.with_columns(
        (pl.col("currency_index") * 6 + pl.col("product_index") * 2 + pl.col("yearly").cast(pl.Int64))
        .cast(pl.UInt32).alias("price_index"),
    ).join(prices, on="price_index", how="left")
    frame = frame.with_columns(pl.Series(["active", "trialing", "paused", "canceled"])
                               .gather(frame["status_index"].to_numpy()).alias("status"))
    numerator = pl.col("unit_amount") * pl.col("quantity")
    denominator = pl.when(pl.col("yearly")).then(12).otherwise(1)
    basis = (pl.col("percent_off") * 100).round().cast(pl.Int64)
    net_num = pl.when(basis.is_not_null()).then(numerator * (10_000 - basis)).otherwise(numerator)
    net_den = pl.when(basis.is_not_null()).then(denominator * 10_000).otherwise(denominator)
    mrr = (2 * net_num + net_den) // (2 * net_den)
    type_of = {0: "customer.subscription.created", 7: "customer.subscription.deleted"}
    frame = frame.with_row_index("seq").with_columns(
        pl.col("seq").cast(pl.Int64),
        pl.format("evt_{}s{}", pl.lit(seed), pl.col("seq").cast(pl.String).str.zfill(10))
        .alias("event"),
        pl.col("kind").replace_strict(type_of, default="customer.subscription.updated",
                                      return_dtype=pl.String).alias("type"),
        (pl.col("time") * _US).cast(pl.Int64).cast(pl.Datetime("us", "UTC")).alias("created"),
        pl.lit(ACCOUNT).alias("account"),
        pl.format("cus_{}", idx.cast(pl.String).str.zfill(8)).alias("customer"),
        pl.format("sub_{}", idx.cast(pl.String).str.zfill(8)).alias("subscription"),
    ).with_columns(
        pl.when(pl.col("status") == "active").then(mrr).otherwise(0).cast(pl.Int64).alias("mrr"),
        pl.col("yearly").replace_strict({True: "year", False: "month"}).alias("interval"),
        pl.lit(1, pl.Int64).alias("interval_count"),
        pl.col("quantity").cast(pl.Int64),
        pl.when(pl.col("kind") == 7).then(pl.lit("cancellation_requested")).alias("cancel_reason"),
        pl.when(pl.col("flow_index") >= 0).then(pl.lit(CONFIGURATION)).alias("configuration"),
        pl.when(pl.col("flow_index") >= 0)
        .then(pl.format("cflow_{}", pl.col("flow_index").cast(pl.String).str.zfill(8)))
        .alias("cancellation_flow"),
        pl.when(pl.col("variant").is_not_null()).then(pl.lit(EXPERIMENT)).alias("experiment"),
        pl.col("price").alias("price"),
    )
    discounts = frame.filter(pl.col("percent_off").is_not_null()).select(
        "event", "percent_off",
        (pl.col("created").dt.epoch("s") - 1).alias("start"),
        (pl.col("created").dt.epoch("s") + int(COUPON_MONTHS * _MONTH)).alias("end"))
    frame = frame.with_columns(
        pl.col("mrr").shift(1).over("customer_index", order_by="seq").fill_null(0)
        .alias("previous_mrr"),
        pl.col("product").shift(1).over("customer_index", order_by="seq")
        .alias("previous_product"),
    )
    return frame.select(list(SUBSCRIPTION_SCHEMA)).cast(pl.Schema(SUBSCRIPTION_SCHEMA)), discounts


def _flow_rows(flow: np.ndarray, f_time: np.ndarray, reason: np.ndarray, offer: np.ndarray,
               offer_ids: list[str], in_experiment: np.ndarray, variant: np.ndarray,
               variants: list[str], accepted: np.ndarray, abandoned: np.ndarray,
               has_comment: np.ndarray, plan_product: np.ndarray, plan_quantity: np.ndarray,
               currency: np.ndarray, yearly: np.ndarray, seed: int) -> pl.DataFrame:
    m = flow.size
    shown = offer >= 0
    # steps: 0 started, 1 offer_presented, 2 offer_accepted, 3 offer_declined, 4 completed,
    # 5 abandoned; each a few seconds after the previous
    rows_flow, rows_step = [np.arange(m)], [np.zeros(m, np.int64)]
    for mask, code in ((shown, 1), (accepted, 2), (shown & ~accepted, 3),
                       (~accepted & ~abandoned, 4), (abandoned, 5)):
        rows_flow.append(np.flatnonzero(mask))
        rows_step.append(np.full(int(mask.sum()), code))
    f = np.concatenate(rows_flow)
    s = np.concatenate(rows_step)
    order = np.lexsort((s, f_time[f]))
    f, s = f[order], s[order]
    steps = pl.Series(["started", "offer_presented", "offer_accepted", "offer_declined",
                       "completed", "abandoned"])
    reasons = pl.Series(REASONS)
    comments = pl.Series(COMMENTS)
    offers = pl.Series([*offer_ids, None])
    offer_types = pl.Series([*(OFFERS[o][0] for o in offer_ids), None])
    variant_names = pl.Series(variants)
    # the MRR at the flow's start: the plan in force (no discount, active)
    amounts = price_catalog()["unit_amount"].to_numpy()
    unit = amounts[currency[flow] * 6 + plan_product[flow] * 2 + yearly[flow]]
    num = unit * plan_quantity[flow]
    den = np.where(yearly[flow], 12, 1)
    mrr = (2 * num + den) // (2 * den)
    frame = pl.DataFrame({
        "flow_index": f, "step_index": s,
        "time": np.floor(f_time[f]) + s * 20.0,
        "customer_index": flow[f],
        "reason_index": reason[f],
        "offer_index": np.where(shown[f], offer[f], len(offer_ids)),
        "in_experiment": in_experiment[f],
        "variant_index": variant[f],
        "has_comment": has_comment[f],
        "mrr": mrr[f],
        "currency_index": currency[flow][f],
    })
    g = pl.col
    frame = frame.with_row_index("seq").select(
        g("seq").cast(pl.Int64),
        pl.format("evt_{}f{}", pl.lit(seed), g("seq").cast(pl.String).str.zfill(10))
        .alias("event"),
        g("step_index").map_batches(lambda x: steps.gather(x), return_dtype=pl.String).alias("step"),
        (g("time") * _US).cast(pl.Int64).cast(pl.Datetime("us", "UTC")).alias("created"),
        pl.lit(ACCOUNT).alias("account"),
        pl.format("cflow_{}", g("flow_index").cast(pl.String).str.zfill(8)).alias("flow"),
        pl.format("cus_{}", g("customer_index").cast(pl.String).str.zfill(8)).alias("customer"),
        pl.format("sub_{}", g("customer_index").cast(pl.String).str.zfill(8)).alias("subscription"),
        pl.lit(CONFIGURATION).alias("configuration"),
        pl.format("bps_{}", g("flow_index").cast(pl.String).str.zfill(8)).alias("portal_session"),
        g("reason_index").map_batches(lambda x: reasons.gather(x), return_dtype=pl.String)
        .alias("reason"),
        pl.when(g("has_comment")).then(
            g("reason_index").map_batches(lambda x: comments.gather(x), return_dtype=pl.String))
        .alias("comment"),
        g("offer_index").map_batches(lambda x: offers.gather(x), return_dtype=pl.String)
        .alias("offer"),
        g("offer_index").map_batches(lambda x: offer_types.gather(x), return_dtype=pl.String)
        .alias("offer_type"),
        pl.when(g("in_experiment")).then(pl.lit(EXPERIMENT)).alias("experiment"),
        pl.when(g("in_experiment")).then(
            g("variant_index").map_batches(lambda x: variant_names.gather(x),
                                           return_dtype=pl.String)).alias("variant"),
        pl.lit(False).alias("holdout"),
        g("mrr").cast(pl.Int64),
        g("currency_index").replace_strict({0: "usd", 1: "eur"}, return_dtype=pl.String)
        .alias("currency"),
    )
    return frame.select(list(FLOW_SCHEMA))


def to_stripe_events(history: History) -> list[dict[str, Any]]:
    """The history as Stripe event objects, oldest first, for the importer and the demo.

    Subscription events carry Stripe's subscription object (items with their price,
    the coupon as an expanded discount, ``cancellation_details``); flow events the
    ``portico.cancellation_flow`` object of the retention-events contract; an event
    caused by a flow also has Portico's ``origin`` and Stripe's ``context``. Meant for
    small histories (a Python loop per event).

    Examples
    --------
    >>> events = to_stripe_events(generate(n_events=300, seed=2))
    >>> events[0]["type"], events[0]["data"]["object"]["object"]
    ('customer.subscription.created', 'subscription')
    """
    prices = {row["price"]: row for row in history.prices.iter_rows(named=True)}
    discounts = {row["event"]: row for row in history.discounts.iter_rows(named=True)}
    out: list[tuple[int, int, int, dict[str, Any]]] = []
    for row in history.subscriptions.iter_rows(named=True):
        created = int(row["created"].timestamp())
        price = prices[row["price"]]
        discount = discounts.get(row["event"])
        subscription = {
            "id": row["subscription"], "object": "subscription", "customer": row["customer"],
            "status": row["status"], "currency": row["currency"],
            "items": {"object": "list", "data": [{
                "id": "si_" + row["subscription"][4:], "object": "subscription_item",
                "quantity": row["quantity"],
                "price": {"id": price["price"], "object": "price", "product": price["product"],
                          "currency": price["currency"], "unit_amount": price["unit_amount"],
                          "recurring": {"interval": price["interval"], "interval_count": 1,
                                        "usage_type": "licensed"}},
            }]},
            "discounts": [] if discount is None else [{
                "id": "di_" + row["event"][4:], "object": "discount",
                "start": discount["start"], "end": discount["end"],
                "source": {"type": "coupon", "coupon": {
                    "id": "coupon_save30", "object": "coupon",
                    "percent_off": discount["percent_off"], "amount_off": None,
                    "currency": None}},
            }],
            "cancellation_details": {"reason": row["cancel_reason"],
                                     "feedback": row["feedback"], "comment": row["comment"]},
        }
        event = _event(row["event"], row["type"], created, subscription)
        if row["cancellation_flow"] is not None:
            session = "bps_" + row["cancellation_flow"][6:]
            event["context"] = session
            event["origin"] = {"portal_session": session, "configuration": row["configuration"],
                               "cancellation_flow": row["cancellation_flow"],
                               "experiment": row["experiment"], "variant": row["variant"]}
        out.append((created, 0, row["seq"], event))
    for row in history.flows.iter_rows(named=True):
        created = int(row["created"].timestamp())
        flow = {
            "id": row["flow"], "object": "portico.cancellation_flow",
            "customer": row["customer"], "subscription": row["subscription"],
            "configuration": row["configuration"], "portal_session": row["portal_session"],
            "reason": row["reason"], "comment": row["comment"],
            "offer": None if row["offer"] is None else {"id": row["offer"],
                                                        "type": row["offer_type"]},
            "experiment": row["experiment"], "variant": row["variant"],
            "holdout": row["holdout"], "mrr": row["mrr"], "currency": row["currency"],
            "status": row["step"], "created": created,
        }
        event = _event(row["event"], "portico.cancellation_flow." + row["step"], created, flow)
        event["context"] = row["portal_session"]
        out.append((created, 1, row["seq"], event))
    out.sort(key=lambda item: item[:3])
    return [event for *_, event in out]


def _event(event_id: str, type: str, created: int, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "account": ACCOUNT,
            "api_version": "2026-10-28.endive", "created": created, "livemode": False,
            "pending_webhooks": 0, "request": {"id": None, "idempotency_key": None},
            "type": type, "data": {"object": obj, "previous_attributes": None}}
