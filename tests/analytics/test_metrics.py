"""Metrics on a hand-computed history, and against the pure-Python reference on random ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics import metrics
from analytics.ingest import FLOW_SCHEMA, SUBSCRIPTION_SCHEMA
from tests.analytics import reference
from tests.analytics.reference import Ev

UTC_US = pl.Datetime("us", "UTC")


def _month(m: int) -> datetime:
    return datetime(2026, m, 1, tzinfo=UTC)


def _frame(events: list[Ev], products: list[str] | None = None) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "seq": [e.seq for e in events],
            "type": [e.type for e in events],
            "created": [e.created for e in events],
            "customer": [e.customer for e in events],
            "subscription": [e.subscription for e in events],
            "currency": [e.currency for e in events],
            "product": products or ["prod_a"] * len(events),
            "mrr": [e.mrr for e in events],
            "feedback": [e.feedback for e in events],
            "comment": [None] * len(events),
        },
        schema_overrides={"created": UTC_US, "mrr": pl.Int64, "seq": pl.Int64,
                          "feedback": pl.String, "comment": pl.String},
    )


def _d(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


# a: 1000 in Jan, upgraded to 1500 in Feb, canceled in Apr, back with a new subscription in May
# b: 2000 in Jan, downgraded to 1200 in Mar;  c: trial in Feb (0), paying 500 from Mar
HAND = [
    Ev(_d(1, 5), 1, "cus_a", "sub_a", "usd", 1000, "customer.subscription.created"),
    Ev(_d(1, 20), 2, "cus_b", "sub_b", "usd", 2000, "customer.subscription.created"),
    Ev(_d(2, 10), 3, "cus_a", "sub_a", "usd", 1500),
    Ev(_d(2, 15), 4, "cus_c", "sub_c", "usd", 0, "customer.subscription.created"),
    Ev(_d(3, 1), 5, "cus_b", "sub_b", "usd", 1200),
    Ev(_d(3, 15), 6, "cus_c", "sub_c", "usd", 500),
    Ev(_d(4, 2), 7, "cus_a", "sub_a", "usd", 0, "customer.subscription.deleted", "too_expensive"),
    Ev(_d(5, 3), 8, "cus_a", "sub_a2", "usd", 800, "customer.subscription.created"),
]


def test_mrr_movements_of_a_hand_computed_history() -> None:
    got = metrics.mrr_movements(_frame(HAND)).collect()
    expected = pl.DataFrame(
        {
            "period": [_month(m) for m in range(1, 6)],
            "currency": ["usd"] * 5,
            "mrr_start": [0, 3000, 3500, 3200, 1700],
            "new": [3000, 0, 500, 0, 0],
            "expansion": [0, 500, 0, 0, 0],
            "contraction": [0, 0, -800, 0, 0],
            "churn": [0, 0, 0, -1500, 0],
            "reactivation": [0, 0, 0, 0, 800],
            "net": [3000, 500, -300, -1500, 800],
            "mrr": [3000, 3500, 3200, 1700, 2500],
            "new_customers": [2, 0, 1, 0, 0],
            "churned_customers": [0, 0, 0, 1, 0],
            "reactivated_customers": [0, 0, 0, 0, 1],
        },
        schema_overrides={"period": UTC_US},
    )
    assert_frame_equal(got, expected)


def test_mrr_customers_and_date_range() -> None:
    got = metrics.mrr(_frame(HAND), start=_d(2, 1), end=_d(7, 1)).collect()
    expected = pl.DataFrame(
        {
            "period": [_month(m) for m in range(2, 8)],
            "currency": ["usd"] * 6,
            "mrr": [3500, 3200, 1700, 2500, 2500, 2500],
            "customers": [2, 3, 2, 3, 3, 3],
            "subscriptions": [2, 3, 2, 3, 3, 3],
        },
        schema_overrides={"period": UTC_US},
    )
    assert_frame_equal(got, expected)


def test_churn_rates() -> None:
    got = metrics.churn_rates(_frame(HAND)).collect()
    assert got["logo_churn_rate"].to_list() == [None, 0.0, 0.0, 1 / 3, 0.0]
    assert got["gross_revenue_churn_rate"].to_list() == [None, 0.0, 800 / 3500, 1500 / 3200, 0.0]
    assert got["net_revenue_churn_rate"].to_list() == [None, -500 / 3000, 800 / 3500,
                                                       1500 / 3200, 0.0]
    assert got.row(3, named=True)["churned_mrr"] == 1500


def test_cohort_retention() -> None:
    got = metrics.cohort_retention(_frame(HAND)).collect()
    expected = pl.DataFrame(
        {
            "currency": ["usd"] * 8,
            "cohort": [_month(1)] * 5 + [_month(3)] * 3,
            "age": [0, 1, 2, 3, 4, 0, 1, 2],
            "customers": [2, 2, 2, 1, 2, 1, 1, 1],
            "mrr": [3000, 3500, 2700, 1200, 2000, 500, 500, 500],
            "customer_retention": [1.0, 1.0, 1.0, 0.5, 1.0, 1.0, 1.0, 1.0],
            "revenue_retention": [1.0, 3500 / 3000, 0.9, 0.4, 2000 / 3000, 1.0, 1.0, 1.0],
        },
        schema_overrides={"cohort": UTC_US},
    )
    assert_frame_equal(got, expected)


def test_cancellation_reasons_trend_and_comments() -> None:
    events = [*HAND,
              Ev(_d(5, 9), 9, "cus_b", "sub_b", "usd", 0, "customer.subscription.deleted", None),
              Ev(_d(5, 10), 10, "cus_c", "sub_c", "usd", 0, "customer.subscription.deleted",
                 "unused")]
    frame = _frame(events).with_columns(
        pl.when(pl.col("seq") == 10).then(pl.lit("Never logged in")).alias("comment"))
    reasons = metrics.cancellation_reasons(frame).collect()
    assert reasons.select("reason", "cancellations", "lost_mrr").rows() == [
        ("too_expensive", 1, 1500), ("unknown", 1, 1200), ("unused", 1, 500)]
    assert reasons["mrr_share"].to_list() == [1500 / 3200, 1200 / 3200, 500 / 3200]
    may = metrics.cancellation_reasons(frame, start=_d(5, 1)).collect()
    assert may["reason"].to_list() == ["unknown", "unused"]
    trend = metrics.cancellation_reason_trend(frame).collect()
    assert trend.select("period", "reason", "cancellations").rows() == [
        (_month(4), "too_expensive", 1), (_month(5), "unknown", 1), (_month(5), "unused", 1)]
    comments = metrics.cancellation_comments(frame).collect()
    assert comments.select("customer", "comment", "lost_mrr").rows() == [
        ("cus_c", "Never logged in", 500)]


def test_a_canceled_trial_is_not_churn() -> None:
    events = [Ev(_d(1, 1), 1, "cus_t", "sub_t", "usd", 0, "customer.subscription.created"),
              Ev(_d(1, 9), 2, "cus_t", "sub_t", "usd", 0, "customer.subscription.deleted",
                 "unused")]
    assert metrics.cancellations(_frame(events)).collect().height == 0
    assert metrics.mrr_movements(_frame(events)).collect()["churn"].to_list() == [0]


def test_segment_by_product_turns_a_move_into_churn_and_new() -> None:
    events = [Ev(_d(1, 5), 1, "cus_a", "sub_a", "usd", 1000),
              Ev(_d(2, 5), 2, "cus_a", "sub_a", "usd", 3000)]
    frame = _frame(events, products=["prod_basic", "prod_pro"])
    basic = metrics.mrr_movements(metrics.segment(frame, products=["prod_basic"])).collect()
    assert basic.select("new", "churn", "mrr").rows() == [(1000, 0, 1000), (0, -1000, 0)]
    pro = metrics.mrr_movements(metrics.segment(frame, products=["prod_pro"])).collect()
    assert pro.select("new", "mrr").rows() == [(0, 0), (3000, 3000)]
    everything = metrics.mrr_movements(metrics.segment(frame)).collect()
    assert everything.select("new", "expansion").rows() == [(1000, 0), (0, 2000)]


def test_currencies_stay_apart_or_are_converted() -> None:
    events = [Ev(_d(1, 5), 1, "cus_a", "sub_a", "usd", 1000),
              Ev(_d(1, 6), 2, "cus_b", "sub_b", "eur", 1000)]
    apart = metrics.mrr(_frame(events)).collect()
    assert apart.select("currency", "mrr").rows() == [("eur", 1000), ("usd", 1000)]
    rates = pl.DataFrame({"currency": ["eur"], "rate": [1.0855]})
    converted = metrics.mrr(metrics.convert_currency(_frame(events), rates=rates, to="usd"))
    assert converted.collect().select("currency", "mrr").rows() == [("usd", 2086)]


def _flows() -> pl.LazyFrame:
    rows = [  # flow, step, day, offer, variant
        ("cf_1", "started", 1, None, "var_a"), ("cf_1", "offer_presented", 1, "offer_c", "var_a"),
        ("cf_1", "offer_accepted", 1, "offer_c", "var_a"),
        ("cf_2", "started", 2, None, "var_a"), ("cf_2", "offer_presented", 2, "offer_c", "var_a"),
        ("cf_2", "offer_declined", 2, "offer_c", "var_a"), ("cf_2", "completed", 2, None, "var_a"),
        ("cf_3", "started", 3, None, "var_b"), ("cf_3", "completed", 3, None, "var_b"),
        ("cf_4", "started", 4, None, "var_a"), ("cf_4", "offer_presented", 4, "offer_c", "var_a"),
        ("cf_4", "offer_accepted", 4, "offer_c", "var_a"),
    ]
    subscription = {"cf_1": "sub_1", "cf_2": "sub_2", "cf_3": "sub_3", "cf_4": "sub_4"}
    mrr = {"cf_1": 3650, "cf_2": 1000, "cf_3": 2000, "cf_4": 1200}
    return pl.LazyFrame(
        {
            "seq": list(range(len(rows))),
            "flow": [r[0] for r in rows],
            "step": [r[1] for r in rows],
            "created": [datetime(2026, 3, r[2], tzinfo=UTC) for r in rows],
            "customer": ["cus_" + subscription[r[0]][4:] for r in rows],
            "subscription": [subscription[r[0]] for r in rows],
            "configuration": ["bpc_1"] * len(rows),
            "reason": ["too_expensive"] * len(rows),
            "offer": [r[3] for r in rows],
            "offer_type": ["coupon" if r[3] else None for r in rows],
            "experiment": ["exp_1"] * len(rows),
            "variant": [r[4] for r in rows],
            "holdout": [False] * len(rows),
            "mrr": [mrr[r[0]] for r in rows],
            "currency": ["usd"] * len(rows),
        },
        schema_overrides={"created": UTC_US},
    )


def test_deflection_per_offer_and_later_churn_of_saves() -> None:
    # sub_1 (saved on Mar 1) ends on Mar 11: a save lost within 30 days; sub_4 stays
    subscriptions = _frame([
        Ev(datetime(2026, 1, 1, tzinfo=UTC), 1, "cus_1", "sub_1", "usd", 3650),
        Ev(datetime(2026, 3, 11, tzinfo=UTC), 2, "cus_1", "sub_1", "usd", 0,
           "customer.subscription.deleted", "too_expensive"),
        Ev(datetime(2026, 1, 1, tzinfo=UTC), 3, "cus_4", "sub_4", "usd", 1200),
    ])
    as_of = datetime(2026, 4, 3, tzinfo=UTC)
    got = metrics.deflection(_flows(), subscriptions, as_of=as_of).collect()
    assert got.select("offer", "shown", "accepted", "save_rate", "mrr_saved",
                      "saved_churned", "saved_churn_rate").rows() == [
        ("offer_c", 3, 2, 2 / 3, 4850, 1, 0.5)]
    # revenue saved: sub_1 kept 10 days of 3650/month, sub_4 30 days of 1200/month
    assert got["revenue_saved"][0] == round(3650 * 10 * 12 / 365) + round(1200 * 30 * 12 / 365)
    per_variant = metrics.deflection(_flows(), subscriptions, by=("experiment", "variant"),
                                     as_of=as_of, churn_window_days=5).collect()
    assert per_variant.select("variant", "shown", "accepted", "saved_churned").rows() == [
        ("var_a", 3, 2, 0)]
    outcomes = metrics.flow_outcomes(_flows(), subscriptions, as_of=as_of).collect()
    assert outcomes.select("flow", "shown", "accepted", "completed").rows() == [
        ("cf_1", True, True, False), ("cf_2", True, False, True),
        ("cf_3", False, False, True), ("cf_4", True, True, False)]
    assert metrics.filter_flows(_flows(), configurations=["bpc_2"]).collect().height == 0
    plans = _frame(
        [Ev(datetime(2026, 1, 1, tzinfo=UTC), 1, "cus_1", "sub_1", "usd", 3650),
         Ev(datetime(2026, 3, 2, tzinfo=UTC), 2, "cus_1", "sub_1", "usd", 5000),
         Ev(datetime(2026, 1, 1, tzinfo=UTC), 3, "cus_2", "sub_2", "usd", 1000)],
        products=["prod_basic", "prod_pro", "prod_pro"])
    pro = metrics.filter_flows(_flows(), products=["prod_pro"], subscriptions=plans).collect()
    # cf_1 ran on Mar 1, before sub_1 moved to Pro on Mar 2
    assert pro["flow"].unique(maintain_order=True).to_list() == ["cf_2"]


# ---- random histories against the reference ------------------------------------------------

BASE = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn) -> list[Ev]:
    raw = []
    for s in range(draw(st.integers(1, 7))):
        customer = draw(st.sampled_from(["cus_1", "cus_2", "cus_3", "cus_4"]))
        currency = draw(st.sampled_from(["usd", "eur"]))
        times = sorted(draw(st.lists(st.integers(0, 200 * 24), min_size=1, max_size=5)))
        for i, hour in enumerate(times):
            mrr = draw(st.sampled_from([0, 0, 100, 250, 999, 5000]))
            deleted = i == len(times) - 1 and draw(st.booleans())
            raw.append((BASE + timedelta(hours=hour), draw(st.integers(0, 3)), customer,
                        f"sub_{s}", currency, 0 if deleted else mrr,
                        "customer.subscription.deleted" if deleted
                        else "customer.subscription.updated",
                        draw(st.sampled_from([None, "unused", "too_expensive"]))))
    # seq follows time (ties broken by the drawn number, then by subscription order)
    raw.sort(key=lambda r: (r[0], r[1]))
    return [Ev(r[0], seq, r[2], r[3], r[4], r[5], r[6], r[7]) for seq, r in enumerate(raw)]


def _sort_rows(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    return sorted(rows, key=lambda r: tuple(r[k] for k in keys))


@settings(max_examples=150, deadline=None)
@given(histories())
def test_movements_mrr_and_churn_match_the_reference(events: list[Ev]) -> None:
    expected = reference.table(events)
    frame = _frame(events)
    movements = metrics.mrr_movements(frame).collect().to_dicts()
    columns = ("mrr_start", *metrics.MOVEMENTS, "net", "mrr", "new_customers",
               "churned_customers", "reactivated_customers")
    assert [{k: r[k] for k in ("period", "currency", *columns)} for r in movements] == [
        {k: r[k] for k in ("period", "currency", *columns)} for r in expected]
    for row in movements:
        assert sum(row[m] for m in metrics.MOVEMENTS) == row["net"] == row["mrr"] - row["mrr_start"]
    levels = metrics.mrr(frame).collect().to_dicts()
    assert [(r["mrr"], r["customers"], r["subscriptions"]) for r in levels] == [
        (r["mrr"], r["customers"], r["subscriptions"]) for r in expected]
    rates = metrics.churn_rates(frame).collect().to_dicts()
    for got, want in zip(rates, expected, strict=True):
        start = want["customers_start"]
        assert got["logo_churn_rate"] == (want["churned_customers"] / start if start else None)
        lost = -want["churn"] - want["contraction"]
        assert got["gross_revenue_churn_rate"] == (
            lost / want["mrr_start"] if want["mrr_start"] else None)
        assert got["net_revenue_churn_rate"] == (
            (lost - want["expansion"]) / want["mrr_start"] if want["mrr_start"] else None)


@settings(max_examples=100, deadline=None)
@given(histories())
def test_cohorts_and_reasons_match_the_reference(events: list[Ev]) -> None:
    got = metrics.cohort_retention(_frame(events)).collect().to_dicts()
    assert got == reference.cohorts(events)
    reasons = metrics.cancellation_reasons(_frame(events)).collect()
    assert {(r["currency"], r["reason"]): (r["cancellations"], r["lost_mrr"])
            for r in reasons.to_dicts()} == reference.reasons(events)


PATTERNS = [["started"], ["started", "completed"], ["started", "abandoned"],
            ["started", "offer_presented", "offer_accepted"],
            ["started", "offer_presented", "offer_declined", "completed"]]


@st.composite
def flow_histories(draw: st.DrawFn) -> tuple[list[dict], list[Ev]]:
    flows, subs = [], []
    seq = 0
    for i in range(draw(st.integers(1, 8))):
        start = BASE + timedelta(minutes=draw(st.integers(0, 90 * 24 * 60)))
        offer = draw(st.sampled_from(["offer_a", "offer_b"]))
        currency = draw(st.sampled_from(["usd", "eur"]))
        mrr = draw(st.integers(1, 100_000))
        subscription = f"sub_{draw(st.integers(0, 4))}"
        for j, step in enumerate(draw(st.sampled_from(PATTERNS))):
            flows.append({"flow": f"cf_{i}", "step": step, "seq": seq,
                          "created": start + timedelta(seconds=30 * j),
                          "subscription": subscription, "currency": currency, "mrr": mrr,
                          "offer": offer if step.startswith("offer") else None})
            seq += 1
    for s in range(5):
        subs.append(Ev(BASE - timedelta(days=1), 2 * s, f"cus_{s}", f"sub_{s}", "usd", 100))
        if draw(st.booleans()):
            when = BASE + timedelta(minutes=draw(st.integers(0, 120 * 24 * 60)))
            subs.append(Ev(when, 2 * s + 1, f"cus_{s}", f"sub_{s}", "usd", 0,
                           "customer.subscription.deleted"))
    return flows, subs


@settings(max_examples=100, deadline=None)
@given(flow_histories(), st.integers(1, 60))
def test_deflection_matches_the_reference(history, window_days: int) -> None:
    flows, subs = history
    frame = pl.LazyFrame(
        {"seq": [f["seq"] for f in flows], "flow": [f["flow"] for f in flows],
         "step": [f["step"] for f in flows], "created": [f["created"] for f in flows],
         "customer": ["cus_x"] * len(flows), "subscription": [f["subscription"] for f in flows],
         "configuration": ["bpc_1"] * len(flows), "reason": [None] * len(flows),
         "offer": [f["offer"] for f in flows],
         "offer_type": [None if f["offer"] is None else "coupon" for f in flows],
         "experiment": [None] * len(flows), "variant": [None] * len(flows),
         "holdout": [False] * len(flows), "mrr": [f["mrr"] for f in flows],
         "currency": [f["currency"] for f in flows]},
        schema_overrides={"created": UTC_US, "reason": pl.String, "experiment": pl.String,
                          "variant": pl.String, "offer": pl.String, "offer_type": pl.String})
    as_of = max([f["created"] for f in flows] + [e.created for e in subs])
    got = metrics.deflection(frame, _frame(subs), churn_window_days=window_days).collect()
    ended = [(e.subscription, e.created) for e in subs if e.type.endswith("deleted")]
    expected = reference.deflection(flows, ended, window_days=window_days, as_of=as_of)
    columns = ("shown", "accepted", "mrr_saved", "revenue_saved", "saved_churned")
    assert {(r["offer"], r["currency"]): {c: r[c] for c in columns}
            for r in got.to_dicts()} == expected


# --- empty input: every metric returns an empty frame of its documented schema -----------

S = pl.String()
I64 = pl.Int64()
F64 = pl.Float64()
BOOL = pl.Boolean()
REASON = pl.Categorical()  # the ingest frame's ``feedback``


def _no_subscriptions() -> pl.LazyFrame:
    return pl.LazyFrame(schema=SUBSCRIPTION_SCHEMA)


def _no_flows() -> pl.LazyFrame:
    return pl.LazyFrame(schema=FLOW_SCHEMA)


def _assert_empty(got: pl.LazyFrame, schema: dict[str, pl.DataType]) -> None:
    assert_frame_equal(got.collect(), pl.DataFrame(schema=schema))


def test_segment_of_nothing_is_empty() -> None:
    _assert_empty(metrics.segment(_no_subscriptions(), currencies=["usd"], products=["prod_a"]),
                  SUBSCRIPTION_SCHEMA)


def test_convert_currency_of_nothing_is_empty() -> None:
    rates = pl.DataFrame({"currency": ["eur"], "rate": [1.085]})
    _assert_empty(metrics.convert_currency(_no_subscriptions(), rates=rates, to="usd"),
                  SUBSCRIPTION_SCHEMA)


def test_mrr_of_nothing_is_empty() -> None:
    schema = {"period": UTC_US, "currency": S, "mrr": I64, "customers": I64,
              "subscriptions": I64}
    _assert_empty(metrics.mrr(_no_subscriptions()), schema)
    # ``end`` extends a series to periods without events, but there is no series
    _assert_empty(metrics.mrr(_no_subscriptions(), start=_month(1), end=_month(3)), schema)


def test_mrr_movements_of_nothing_is_empty() -> None:
    _assert_empty(
        metrics.mrr_movements(_no_subscriptions(), freq="1w", end=_month(3)),
        {"period": UTC_US, "currency": S, "mrr_start": I64,
         **dict.fromkeys(metrics.MOVEMENTS, I64), "net": I64, "mrr": I64,
         "new_customers": I64, "churned_customers": I64, "reactivated_customers": I64})


def test_churn_rates_of_nothing_is_empty() -> None:
    _assert_empty(
        metrics.churn_rates(_no_subscriptions()),
        {"period": UTC_US, "currency": S, "customers_start": I64, "churned_customers": I64,
         "logo_churn_rate": F64, "mrr_start": I64, "churned_mrr": I64,
         "contraction_mrr": I64, "expansion_mrr": I64, "gross_revenue_churn_rate": F64,
         "net_revenue_churn_rate": F64})


def test_cohort_retention_of_nothing_is_empty() -> None:
    _assert_empty(
        metrics.cohort_retention(_no_subscriptions(), end=_month(3)),
        {"currency": S, "cohort": UTC_US, "age": I64, "customers": I64, "mrr": I64,
         "customer_retention": F64, "revenue_retention": F64})


CANCELLATION = {"created": UTC_US, "customer": S, "subscription": S, "currency": S,
                "reason": REASON, "comment": S, "lost_mrr": I64}


def test_cancellations_of_nothing_is_empty() -> None:
    _assert_empty(metrics.cancellations(_no_subscriptions()), CANCELLATION)


def test_cancellation_reasons_of_nothing_is_empty() -> None:
    _assert_empty(
        metrics.cancellation_reasons(_no_subscriptions(), start=_month(1), end=_month(3)),
        {"currency": S, "reason": REASON, "cancellations": I64, "share": F64,
         "lost_mrr": I64, "mrr_share": F64})


def test_cancellation_reason_trend_of_nothing_is_empty() -> None:
    _assert_empty(
        metrics.cancellation_reason_trend(_no_subscriptions()),
        {"period": UTC_US, "currency": S, "reason": REASON, "cancellations": I64,
         "lost_mrr": I64})


def test_cancellation_comments_of_nothing_is_empty() -> None:
    _assert_empty(metrics.cancellation_comments(_no_subscriptions()), CANCELLATION)


def test_flow_outcomes_of_nothing_is_empty() -> None:
    schema = {"flow": S, "started": UTC_US, "customer": S, "subscription": S,
              "configuration": S, "reason": S, "offer": S, "offer_type": S, "experiment": S,
              "variant": S, "currency": S, "holdout": BOOL, "mrr": I64, "shown": BOOL,
              "accepted": BOOL, "completed": BOOL, "accepted_at": UTC_US,
              "churned_at": UTC_US, "revenue_saved": I64, "churned_within_window": BOOL}
    _assert_empty(metrics.flow_outcomes(_no_flows(), _no_subscriptions()), schema)
    _assert_empty(metrics.flow_outcomes(_no_flows(), _no_subscriptions(), as_of=_month(3)),
                  schema)


def test_deflection_of_nothing_is_empty() -> None:
    counts = {"shown": I64, "accepted": I64, "save_rate": F64, "mrr_saved": I64,
              "revenue_saved": I64, "saved_churned": I64, "saved_churn_rate": F64}
    _assert_empty(metrics.deflection(_no_flows(), _no_subscriptions()),
                  {"offer": S, "offer_type": S, "currency": S, **counts})
    _assert_empty(metrics.deflection(_no_flows(), _no_subscriptions(),
                                     by=("experiment", "variant")),
                  {"experiment": S, "variant": S, "currency": S, **counts})


def test_filter_flows_of_nothing_is_empty() -> None:
    _assert_empty(metrics.filter_flows(_no_flows(), currencies=["usd"], configurations=["bpc_1"],
                                       products=["prod_a"], subscriptions=_no_subscriptions()),
                  FLOW_SCHEMA)
