"""Benchmark: every dashboard metric with Portico's Polars functions, pandas and DuckDB SQL.

    .venv/bin/python bench/analytics.py [--sizes 1000000 10000000] [--seed 7]

For each size a synthetic history (analytics.synthetic) is written to Parquet once.
Each engine then runs in its own subprocess: it loads the same columns into memory,
computes every metric, and reports its wall times and peak RSS (``ru_maxrss``: native
allocations included, which tracemalloc cannot see). The results are checked equal
(integers exactly, rates to 1e-9) and printed as a table with ratios to Polars.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SUB_COLUMNS = ["seq", "type", "created", "customer", "subscription", "currency", "mrr",
               "previous_mrr", "feedback", "comment"]
FLOW_COLUMNS = ["seq", "flow", "step", "created", "customer", "subscription", "configuration",
                "reason", "offer",
                "offer_type", "experiment", "variant", "holdout", "mrr", "currency"]
CHURN_WINDOW_DAYS = 30
EXPERIMENT = "exp_offer_test"

# metric -> (key columns, compared columns)
CHECKS: dict[str, tuple[list[str], list[str]]] = {
    "mrr": (["period", "currency"], ["mrr", "customers", "subscriptions"]),
    "movements": (["period", "currency"],
                  ["mrr_start", "new", "expansion", "contraction", "churn", "reactivation",
                   "net", "mrr", "new_customers", "churned_customers",
                   "reactivated_customers"]),
    "churn": (["period", "currency"],
              ["customers_start", "churned_customers", "logo_churn_rate", "mrr_start",
               "churned_mrr", "contraction_mrr", "expansion_mrr", "gross_revenue_churn_rate",
               "net_revenue_churn_rate"]),
    "cohorts": (["currency", "cohort", "age"],
                ["customers", "mrr", "customer_retention", "revenue_retention"]),
    "reasons": (["currency", "reason"], ["cancellations", "share", "lost_mrr", "mrr_share"]),
    "reason_trend": (["period", "currency", "reason"], ["cancellations", "lost_mrr"]),
    "comments": (["created", "subscription"], ["reason", "comment", "lost_mrr"]),
    "offers": (["offer", "offer_type", "currency"],
               ["shown", "accepted", "save_rate", "mrr_saved", "revenue_saved",
                "saved_churned", "saved_churn_rate"]),
    "variants": (["experiment", "variant", "currency"],
                 ["shown", "accepted", "save_rate", "mrr_saved", "revenue_saved",
                  "saved_churned", "saved_churn_rate"]),
    "experiment": (["variant"], ["exposures", "conversions"]),
}


# ---- Portico (Polars) -----------------------------------------------------------------------

def run_polars(data: Path) -> dict[str, pl.DataFrame]:
    from analytics import metrics
    from analytics.experiments import experiment_readout
    from analytics.synthetic import EXPERIMENT_WEIGHTS

    subs = pl.read_parquet(data / "subscriptions.parquet", columns=SUB_COLUMNS).lazy()
    flows = pl.read_parquet(data / "flows.parquet", columns=FLOW_COLUMNS).lazy()
    _mark("loaded")
    queries = {
        "mrr": metrics.mrr(subs),
        "movements": metrics.mrr_movements(subs),
        "churn": metrics.churn_rates(subs),
        "cohorts": metrics.cohort_retention(subs),
        "reasons": metrics.cancellation_reasons(subs),
        "reason_trend": metrics.cancellation_reason_trend(subs),
        "comments": metrics.cancellation_comments(subs),
        "offers": metrics.deflection(flows, subs, churn_window_days=CHURN_WINDOW_DAYS),
        "variants": metrics.deflection(flows, subs, by=("experiment", "variant"),
                                       churn_window_days=CHURN_WINDOW_DAYS),
        "experiment": experiment_readout(flows, experiment=EXPERIMENT,
                                         weights=EXPERIMENT_WEIGHTS, control="var_control"),
    }
    return dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))


# ---- pandas -----------------------------------------------------------------------------------

def run_pandas(data: Path) -> dict[str, pl.DataFrame]:
    import numpy as np
    import pandas as pd

    s = pd.read_parquet(data / "subscriptions.parquet", columns=SUB_COLUMNS)
    f = pd.read_parquet(data / "flows.parquet", columns=FLOW_COLUMNS)
    _mark("loaded")

    def month(col: pd.Series) -> np.ndarray:
        return col.dt.tz_localize(None).values.astype("datetime64[M]").astype("datetime64[ns]")

    ch = s.loc[s["mrr"] != s["previous_mrr"], ["customer", "currency", "created", "mrr",
                                               "previous_mrr"]]
    ch = pd.DataFrame({
        "customer": ch["customer"], "currency": ch["currency"], "period": month(ch["created"]),
        "delta": ch["mrr"] - ch["previous_mrr"],
        "active_delta": (ch["mrr"] > 0).astype("int64") - (ch["previous_mrr"] > 0).astype("int64"),
    })
    pc = ch.groupby(["customer", "currency", "period"], sort=True).agg(
        delta=("delta", "sum"), subscriptions_delta=("active_delta", "sum")).reset_index()
    keys = [pc["customer"], pc["currency"]]
    pc["level"] = pc.groupby(keys, sort=False)["delta"].cumsum()
    pc["previous"] = pc["level"] - pc["delta"]
    positive = (pc["level"] > 0).astype("int64")
    pc["was_paying"] = (positive.groupby(keys, sort=False).cumsum() - positive) > 0
    level, prev, paid = pc["level"], pc["previous"], pc["was_paying"]
    starts = (prev == 0) & (level > 0)
    churned = (prev > 0) & (level == 0)
    pc["new"] = np.where(starts & ~paid, level, 0)
    pc["expansion"] = np.where((prev > 0) & (level > prev), level - prev, 0)
    pc["contraction"] = np.where((level > 0) & (level < prev), level - prev, 0)
    pc["churn"] = np.where(churned, -prev, 0)
    pc["reactivation"] = np.where(starts & paid, level, 0)
    pc["new_customers"] = (starts & ~paid).astype("int64")
    pc["churned_customers"] = churned.astype("int64")
    pc["reactivated_customers"] = (starts & paid).astype("int64")
    pc["customers_delta"] = starts.astype("int64") - churned.astype("int64")
    sums = ["new", "expansion", "contraction", "churn", "reactivation", "delta",
            "new_customers", "churned_customers", "reactivated_customers", "customers_delta",
            "subscriptions_delta"]
    agg = pc.groupby(["period", "currency"])[sums].sum()
    first = np.datetime64(s["created"].min().tz_localize(None), "M")
    last = np.datetime64(s["created"].max().tz_localize(None), "M")
    periods = pd.date_range(str(first), str(last), freq="MS")
    currencies = sorted(s["currency"].unique())
    grid = pd.MultiIndex.from_product([periods, currencies], names=["period", "currency"])
    t = agg.reindex(grid, fill_value=0).reset_index().rename(columns={"delta": "net"})
    by_currency = t.groupby("currency", sort=False)
    t["mrr"] = by_currency["net"].cumsum()
    t["customers"] = by_currency["customers_delta"].cumsum()
    t["subscriptions"] = by_currency["subscriptions_delta"].cumsum()
    t["mrr_start"] = t["mrr"] - t["net"]
    t["customers_start"] = t["customers"] - t["customers_delta"]
    churn = pd.DataFrame({
        "period": t["period"], "currency": t["currency"],
        "customers_start": t["customers_start"], "churned_customers": t["churned_customers"],
        "logo_churn_rate": (t["churned_customers"] / t["customers_start"]).where(
            t["customers_start"] > 0),
        "mrr_start": t["mrr_start"], "churned_mrr": -t["churn"],
        "contraction_mrr": -t["contraction"], "expansion_mrr": t["expansion"],
        "gross_revenue_churn_rate": ((-t["churn"] - t["contraction"]) / t["mrr_start"]).where(
            t["mrr_start"] > 0),
        "net_revenue_churn_rate": ((-t["churn"] - t["contraction"] - t["expansion"])
                                   / t["mrr_start"]).where(t["mrr_start"] > 0),
    })

    # cohorts
    cohort = pc.loc[pc["level"] > 0].groupby(["customer", "currency"])["period"].min().rename(
        "cohort")
    cc = pc.join(cohort, on=["customer", "currency"], how="inner").groupby(
        ["currency", "cohort", "period"])[["delta", "customers_delta"]].sum()
    pairs = cc.reset_index()[["currency", "cohort"]].drop_duplicates()
    cg = pairs.merge(pd.DataFrame({"period": periods}), how="cross")
    cg = cg[cg["period"] >= cg["cohort"]]
    cg = cg.merge(cc.reset_index(), on=["currency", "cohort", "period"], how="left").fillna(
        {"delta": 0, "customers_delta": 0}).sort_values(["currency", "cohort", "period"])
    gc = cg.groupby(["currency", "cohort"], sort=False)
    cg["mrr"] = gc["delta"].cumsum().astype("int64")
    cg["customers"] = gc["customers_delta"].cumsum().astype("int64")
    cg["age"] = gc.cumcount()
    base = gc[["customers", "mrr"]].transform("first")
    cg["customer_retention"] = cg["customers"] / base["customers"]
    cg["revenue_retention"] = (cg["mrr"] / base["mrr"]).where(base["mrr"] > 0)

    # cancellations
    d = s.loc[(s["type"] == "customer.subscription.deleted") & (s["previous_mrr"] > 0)]
    d = pd.DataFrame({"created": d["created"], "subscription": d["subscription"],
                      "currency": d["currency"],
                      "reason": d["feedback"].astype("object").fillna("unknown"),
                      "comment": d["comment"], "lost_mrr": d["previous_mrr"],
                      "period": month(d["created"])})
    reasons = d.groupby(["currency", "reason"]).agg(
        cancellations=("lost_mrr", "size"), lost_mrr=("lost_mrr", "sum")).reset_index()
    totals = reasons.groupby("currency")[["cancellations", "lost_mrr"]].transform("sum")
    reasons["share"] = reasons["cancellations"] / totals["cancellations"]
    reasons["mrr_share"] = reasons["lost_mrr"] / totals["lost_mrr"]
    trend = d.groupby(["period", "currency", "reason"]).agg(
        cancellations=("lost_mrr", "size"), lost_mrr=("lost_mrr", "sum")).reset_index()
    comments = d.loc[d["comment"].notna() & (d["comment"] != ""),
                     ["created", "subscription", "reason", "comment", "lost_mrr"]]

    # flows
    f = f.assign(shown=f["step"] == "offer_presented", accepted=f["step"] == "offer_accepted",
                 completed=f["step"] == "completed")
    f["accepted_at"] = f["created"].where(f["accepted"])
    per = f.groupby("flow", sort=False).agg(
        subscription=("subscription", "first"), offer=("offer", "first"),
        offer_type=("offer_type", "first"), experiment=("experiment", "first"),
        variant=("variant", "first"), currency=("currency", "first"), mrr=("mrr", "first"),
        shown=("shown", "any"), accepted=("accepted", "any"), completed=("completed", "any"),
        accepted_at=("accepted_at", "min")).reset_index()
    ended = s.loc[s["type"] == "customer.subscription.deleted", ["subscription", "created"]]
    saved = per.loc[per["accepted"], ["flow", "subscription", "accepted_at"]].merge(
        ended, on="subscription")
    saved = saved.loc[saved["created"] > saved["accepted_at"]]
    per = per.merge(saved.groupby("flow")["created"].min().rename("churned_at"), on="flow",
                    how="left")
    as_of = max(f["created"].max(), s["created"].max())
    kept_until = per["churned_at"].fillna(as_of).clip(upper=as_of)
    kept = ((kept_until - per["accepted_at"]).dt.total_seconds().fillna(0)
            .clip(lower=0).astype("int64"))
    year = 365 * 86_400
    per["revenue_saved"] = np.where(per["accepted"],
                                    (2 * per["mrr"] * kept * 12 + year) // (2 * year), 0)
    window = pd.Timedelta(days=CHURN_WINDOW_DAYS)
    per["saved_churned"] = per["churned_at"].notna() & (
        per["churned_at"] <= per["accepted_at"] + window)
    per["mrr_saved"] = per["mrr"].where(per["accepted"], 0)

    def deflection(keys: list[str]) -> pd.DataFrame:
        out = per.loc[per["shown"]].groupby([*keys, "currency"], dropna=False).agg(
            shown=("flow", "size"), accepted=("accepted", "sum"), mrr_saved=("mrr_saved", "sum"),
            revenue_saved=("revenue_saved", "sum"),
            saved_churned=("saved_churned", "sum")).reset_index()
        out["save_rate"] = out["accepted"] / out["shown"]
        out["saved_churn_rate"] = (out["saved_churned"] / out["accepted"]).where(
            out["accepted"] > 0)
        return out

    exp = per.loc[(per["experiment"] == EXPERIMENT) & per["variant"].notna()]
    experiment = exp.assign(converted=~exp["completed"]).groupby("variant").agg(
        exposures=("flow", "size"), conversions=("converted", "sum")).reset_index()
    frames = {"mrr": t, "movements": t.rename(columns={}), "churn": churn, "cohorts": cg,
              "reasons": reasons, "reason_trend": trend, "comments": comments,
              "offers": deflection(["offer", "offer_type"]),
              "variants": deflection(["experiment", "variant"]), "experiment": experiment}
    return {name: pl.from_pandas(frame[[*CHECKS[name][0], *CHECKS[name][1]]].reset_index(
        drop=True)) for name, frame in frames.items()}


# ---- DuckDB -----------------------------------------------------------------------------------

DUCKDB_SQL = {
    "levels": """
        CREATE TEMP TABLE pc AS
        WITH g AS (
            SELECT customer, currency, date_trunc('month', created) AS period,
                   sum(mrr - previous_mrr)::BIGINT AS delta,
                   sum((mrr > 0)::INT - (previous_mrr > 0)::INT)::BIGINT AS subscriptions_delta
            FROM s WHERE mrr <> previous_mrr GROUP BY ALL),
        l AS (
            SELECT *, sum(delta) OVER (PARTITION BY customer, currency ORDER BY period
                                       ROWS UNBOUNDED PRECEDING)::BIGINT AS level FROM g),
        w AS (
            SELECT *, level - delta AS previous,
                   coalesce(sum((level > 0)::INT) OVER (
                       PARTITION BY customer, currency ORDER BY period
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) > 0 AS was_paying
            FROM l)
        SELECT *,
            CASE WHEN previous = 0 AND level > 0 AND NOT was_paying THEN level ELSE 0 END AS new,
            CASE WHEN previous > 0 AND level > previous THEN level - previous ELSE 0 END AS expansion,
            CASE WHEN level > 0 AND level < previous THEN level - previous ELSE 0 END AS contraction,
            CASE WHEN previous > 0 AND level = 0 THEN -previous ELSE 0 END AS churn,
            CASE WHEN previous = 0 AND level > 0 AND was_paying THEN level ELSE 0 END AS reactivation,
            (previous = 0 AND level > 0 AND NOT was_paying)::INT AS is_new,
            (previous > 0 AND level = 0)::INT AS is_churned,
            (previous = 0 AND level > 0 AND was_paying)::INT AS is_reactivated,
            (previous = 0 AND level > 0)::INT - (previous > 0 AND level = 0)::INT AS customers_delta
        FROM w""",
    "periods": """
        CREATE TEMP TABLE periods AS
        SELECT unnest(generate_series(date_trunc('month', min(created)),
                                      date_trunc('month', max(created)), INTERVAL 1 MONTH))
               AS period FROM s""",
    "table": """
        CREATE TEMP TABLE t AS
        WITH mv AS (
            SELECT period, currency, sum(new)::BIGINT AS new, sum(expansion)::BIGINT AS expansion,
                   sum(contraction)::BIGINT AS contraction, sum(churn)::BIGINT AS churn,
                   sum(reactivation)::BIGINT AS reactivation, sum(delta)::BIGINT AS net,
                   sum(is_new)::BIGINT AS new_customers,
                   sum(is_churned)::BIGINT AS churned_customers,
                   sum(is_reactivated)::BIGINT AS reactivated_customers,
                   sum(customers_delta)::BIGINT AS customers_delta,
                   sum(subscriptions_delta)::BIGINT AS subscriptions_delta
            FROM pc GROUP BY ALL),
        grid AS (SELECT period, currency FROM periods CROSS JOIN (SELECT DISTINCT currency FROM s)),
        j AS (
            SELECT g.period, g.currency,
                   coalesce(new, 0) AS new, coalesce(expansion, 0) AS expansion,
                   coalesce(contraction, 0) AS contraction, coalesce(churn, 0) AS churn,
                   coalesce(reactivation, 0) AS reactivation, coalesce(net, 0) AS net,
                   coalesce(new_customers, 0) AS new_customers,
                   coalesce(churned_customers, 0) AS churned_customers,
                   coalesce(reactivated_customers, 0) AS reactivated_customers,
                   coalesce(customers_delta, 0) AS customers_delta,
                   coalesce(subscriptions_delta, 0) AS subscriptions_delta
            FROM grid g LEFT JOIN mv USING (period, currency)),
        c AS (
            SELECT *,
                sum(net) OVER w::BIGINT AS mrr,
                sum(customers_delta) OVER w::BIGINT AS customers,
                sum(subscriptions_delta) OVER w::BIGINT AS subscriptions
            FROM j WINDOW w AS (PARTITION BY currency ORDER BY period ROWS UNBOUNDED PRECEDING))
        SELECT *, mrr - net AS mrr_start, customers - customers_delta AS customers_start FROM c""",
    "mrr": "SELECT period, currency, mrr, customers, subscriptions FROM t",
    "movements": "SELECT * FROM t",
    "churn": """
        SELECT period, currency, customers_start, churned_customers,
            CASE WHEN customers_start > 0 THEN churned_customers / customers_start END
                AS logo_churn_rate,
            mrr_start, -churn AS churned_mrr, -contraction AS contraction_mrr,
            expansion AS expansion_mrr,
            CASE WHEN mrr_start > 0 THEN (-churn - contraction) / mrr_start END
                AS gross_revenue_churn_rate,
            CASE WHEN mrr_start > 0 THEN (-churn - contraction - expansion) / mrr_start END
                AS net_revenue_churn_rate
        FROM t""",
    "cohorts": """
        WITH first AS (
            SELECT customer, currency, min(period) AS cohort FROM pc WHERE level > 0 GROUP BY ALL),
        cc AS (
            SELECT currency, cohort, period, sum(delta)::BIGINT AS delta,
                   sum(customers_delta)::BIGINT AS customers_delta
            FROM pc JOIN first USING (customer, currency) GROUP BY ALL),
        grid AS (
            SELECT p.currency, p.cohort, periods.period
            FROM (SELECT DISTINCT currency, cohort FROM cc) p JOIN periods
              ON periods.period >= p.cohort),
        j AS (
            SELECT grid.currency, grid.cohort, grid.period,
                   sum(coalesce(delta, 0)) OVER w::BIGINT AS mrr,
                   sum(coalesce(customers_delta, 0)) OVER w::BIGINT AS customers,
                   (row_number() OVER w) - 1 AS age
            FROM grid LEFT JOIN cc USING (currency, cohort, period)
            WINDOW w AS (PARTITION BY grid.currency, grid.cohort ORDER BY grid.period
                         ROWS UNBOUNDED PRECEDING))
        SELECT currency, cohort, age, customers, mrr,
               customers / first_value(customers) OVER c AS customer_retention,
               CASE WHEN first_value(mrr) OVER c > 0 THEN mrr / first_value(mrr) OVER c END
                   AS revenue_retention
        FROM j WINDOW c AS (PARTITION BY currency, cohort ORDER BY age)""",
    "cancellations": """
        CREATE TEMP TABLE d AS
        SELECT created, date_trunc('month', created) AS period, subscription, currency,
               coalesce(feedback, 'unknown') AS reason, comment, previous_mrr AS lost_mrr
        FROM s WHERE type = 'customer.subscription.deleted' AND previous_mrr > 0""",
    "reasons": """
        WITH r AS (SELECT currency, reason, count(*) AS cancellations,
                          sum(lost_mrr)::BIGINT AS lost_mrr FROM d GROUP BY ALL)
        SELECT *, cancellations / sum(cancellations) OVER (PARTITION BY currency) AS share,
               lost_mrr / sum(lost_mrr) OVER (PARTITION BY currency) AS mrr_share FROM r""",
    "reason_trend": """
        SELECT period, currency, reason, count(*) AS cancellations,
               sum(lost_mrr)::BIGINT AS lost_mrr FROM d GROUP BY ALL""",
    "comments": """
        SELECT created, subscription, reason, comment, lost_mrr FROM d
        WHERE comment IS NOT NULL AND comment <> ''""",
    "per_flow": """
        CREATE TEMP TABLE per AS
        WITH p AS (
            SELECT flow,
                first(subscription ORDER BY seq) FILTER (WHERE subscription IS NOT NULL)
                    AS subscription,
                first(offer ORDER BY seq) FILTER (WHERE offer IS NOT NULL) AS offer,
                first(offer_type ORDER BY seq) FILTER (WHERE offer_type IS NOT NULL) AS offer_type,
                first(experiment ORDER BY seq) FILTER (WHERE experiment IS NOT NULL) AS experiment,
                first(variant ORDER BY seq) FILTER (WHERE variant IS NOT NULL) AS variant,
                first(currency ORDER BY seq) FILTER (WHERE currency IS NOT NULL) AS currency,
                first(mrr ORDER BY seq) FILTER (WHERE mrr IS NOT NULL) AS mrr,
                bool_or(step = 'offer_presented') AS shown,
                bool_or(step = 'offer_accepted') AS accepted,
                bool_or(step = 'completed') AS completed,
                min(created) FILTER (WHERE step = 'offer_accepted') AS accepted_at
            FROM f GROUP BY flow),
        later AS (
            SELECT p.flow, min(s.created) AS churned_at FROM p
            JOIN s ON s.subscription = p.subscription
                AND s.type = 'customer.subscription.deleted' AND s.created > p.accepted_at
            WHERE p.accepted GROUP BY p.flow),
        as_of AS (SELECT greatest((SELECT max(created) FROM f), (SELECT max(created) FROM s))
                  AS as_of)
        SELECT p.*, churned_at,
            CASE WHEN accepted THEN
                (2 * mrr * greatest(0, epoch(least(coalesce(churned_at, as_of), as_of))::BIGINT
                                       - epoch(accepted_at)::BIGINT) * 12 + 31536000)
                // (2 * 31536000) ELSE 0 END AS revenue_saved,
            coalesce(churned_at <= accepted_at + INTERVAL {window} DAY, false) AS saved_churned
        FROM p LEFT JOIN later USING (flow) CROSS JOIN as_of""",
    "deflection": """
        SELECT {keys}, currency, count(*) AS shown, sum(accepted::INT)::BIGINT AS accepted,
            sum(accepted::INT) / count(*) AS save_rate,
            sum(CASE WHEN accepted THEN mrr ELSE 0 END)::BIGINT AS mrr_saved,
            sum(revenue_saved)::BIGINT AS revenue_saved,
            sum(saved_churned::INT)::BIGINT AS saved_churned,
            CASE WHEN sum(accepted::INT) > 0
                 THEN sum(saved_churned::INT) / sum(accepted::INT) END AS saved_churn_rate
        FROM per WHERE shown GROUP BY ALL""",
    "experiment": """
        SELECT variant, count(*) AS exposures, sum((NOT completed)::INT)::BIGINT AS conversions
        FROM per WHERE experiment = '{experiment}' AND variant IS NOT NULL GROUP BY ALL""",
}


def run_duckdb(data: Path) -> dict[str, pl.DataFrame]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE s AS SELECT {', '.join(SUB_COLUMNS)} "
                f"FROM read_parquet('{data / 'subscriptions.parquet'}')")
    con.execute(f"CREATE TABLE f AS SELECT {', '.join(FLOW_COLUMNS)} "
                f"FROM read_parquet('{data / 'flows.parquet'}')")
    _mark("loaded")
    for step in ("levels", "periods", "table", "cancellations"):
        con.execute(DUCKDB_SQL[step])
    con.execute(DUCKDB_SQL["per_flow"].format(window=CHURN_WINDOW_DAYS))
    out = {name: con.sql(DUCKDB_SQL[name]).pl() for name in
           ("mrr", "movements", "churn", "cohorts", "reasons", "reason_trend", "comments")}
    out["offers"] = con.sql(DUCKDB_SQL["deflection"].format(keys="offer, offer_type")).pl()
    out["variants"] = con.sql(DUCKDB_SQL["deflection"].format(keys="experiment, variant")).pl()
    out["experiment"] = con.sql(DUCKDB_SQL["experiment"].format(experiment=EXPERIMENT)).pl()
    return out


# ---- harness ----------------------------------------------------------------------------------

ENGINES = {"polars": run_polars, "pandas": run_pandas, "duckdb": run_duckdb}
_MARKS: dict[str, float] = {}


def _mark(name: str) -> None:
    _MARKS[name] = time.perf_counter()


def child(engine: str, data: Path, out: Path) -> None:
    """Run one engine, write its results as Parquet and its figures as JSON."""
    _mark("start")
    results = ENGINES[engine](data)
    _mark("done")
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in results.items():
        frame.write_parquet(out / f"{name}.parquet")
    figures = {"load_s": _MARKS["loaded"] - _MARKS["start"],
               "compute_s": _MARKS["done"] - _MARKS["loaded"],
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    (out / "figures.json").write_text(json.dumps(figures))


def _normalized(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    keys, values = CHECKS[name]
    frame = frame.select(*keys, *values)
    casts = {}
    for column, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            casts[column] = (pl.col(column).dt.replace_time_zone(None) if dtype.time_zone is None
                             else pl.col(column).dt.convert_time_zone("UTC")
                             .dt.replace_time_zone(None)).dt.cast_time_unit("us")
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            casts[column] = pl.col(column).cast(pl.String)
        elif dtype.is_integer() or dtype == pl.Boolean:
            casts[column] = pl.col(column).cast(pl.Int64)
        elif dtype.is_float() or isinstance(dtype, pl.Decimal):
            casts[column] = pl.col(column).cast(pl.Float64).fill_nan(None)
    return frame.with_columns(**casts).sort(keys, nulls_last=True)


def compare(reference: Path, other: Path) -> list[str]:
    from polars.testing import assert_frame_equal

    problems = []
    for name in CHECKS:
        want = _normalized(pl.read_parquet(reference / f"{name}.parquet"), name)
        got = _normalized(pl.read_parquet(other / f"{name}.parquet"), name)
        try:
            assert_frame_equal(got, want, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-12)
        except AssertionError as error:
            problems.append(f"{name}: {str(error).splitlines()[0]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES))
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "DATA", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    failed = False
    rows = []
    with tempfile.TemporaryDirectory(prefix="portico-bench-") as tmp:
        for size in args.sizes:
            data = Path(tmp) / f"data-{size}"
            data.mkdir()
            generate = (
                "import sys; from pathlib import Path; from analytics.synthetic import generate\n"
                f"h = generate(n_events={size}, seed={args.seed}); d = Path(sys.argv[1])\n"
                "h.subscriptions.write_parquet(d / 'subscriptions.parquet')\n"
                "h.flows.write_parquet(d / 'flows.parquet')\n"
                "print(h.subscriptions.height + h.flows.height)")
            started = time.perf_counter()
            events = int(subprocess.run([sys.executable, "-c", generate, str(data)], cwd=ROOT,
                                        check=True, capture_output=True, text=True).stdout)
            print(f"{events:,} events generated in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
            figures = {}
            for engine in args.engines:
                out = Path(tmp) / f"out-{size}-{engine}"
                subprocess.run([sys.executable, __file__, "--child", engine, str(data), str(out)],
                               cwd=ROOT, check=True)
                figures[engine] = json.loads((out / "figures.json").read_text())
                if engine != "polars" and "polars" in args.engines:
                    problems = compare(Path(tmp) / f"out-{size}-polars", out)
                    figures[engine]["equal"] = not problems
                    for problem in problems:
                        failed = True
                        print(f"  {engine} differs from Portico at {size:,}: {problem}",
                              file=sys.stderr)
                else:
                    figures[engine]["equal"] = True
            rows.append((events, figures))
    base = "polars"
    print()
    print(f"{'events':>12}  {'engine':<16} {'load s':>7} {'metrics s':>10} {'× Portico':>10} "
          f"{'peak RSS MB':>12} {'× Portico':>10}  results")
    for events, figures in rows:
        for engine, f in figures.items():
            name = "Portico (Polars)" if engine == "polars" else engine
            ratio_t = f["compute_s"] / figures[base]["compute_s"] if base in figures else 1
            ratio_m = f["peak_rss_mb"] / figures[base]["peak_rss_mb"] if base in figures else 1
            print(f"{events:>12,}  {name:<16} {f['load_s']:>7.2f} {f['compute_s']:>10.2f} "
                  f"{ratio_t:>10.2f} {f['peak_rss_mb']:>12,.0f} {ratio_m:>10.2f}  "
                  f"{'equal' if f['equal'] else 'DIFFER'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
