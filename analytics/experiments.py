"""Experiment read-outs a statistician would sign: per-variant rates, tests, SRM, verdict.

An experiment's *exposures* are the cancellation flows assigned to a variant (any
flow event carrying the experiment and variant); a *conversion* is, by default, a
retained customer: an exposed flow that did not end in a cancellation
(``metric="retained"``, comparable between offer variants and a no-offer control),
or an accepted offer (``metric="accepted"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import polars as pl

from analytics.stats import chi2_sf, two_proportion_test, wilson_interval

Metric = Literal["retained", "accepted"]

_OUTPUT = pl.Struct({
    "rate": pl.Float64(), "rate_low": pl.Float64(), "rate_high": pl.Float64(),
    "diff": pl.Float64(), "diff_low": pl.Float64(), "diff_high": pl.Float64(),
    "z": pl.Float64(), "p_value": pl.Float64(), "srm_p_value": pl.Float64(),
    "significant": pl.Boolean(), "verdict": pl.String(),
})


def experiment_exposures(
    flows: pl.LazyFrame, *, experiment: str, metric: Metric = "retained"
) -> pl.LazyFrame:
    """One row per exposed flow of ``experiment``: ``flow``, ``variant``, ``converted``.

    Examples
    --------
    >>> frame = pl.LazyFrame({"flow": ["cf_1", "cf_1", "cf_2"], "experiment": ["exp_1"] * 3,
    ...     "variant": ["var_a", "var_a", "var_b"], "step": ["started", "completed", "started"]})
    >>> experiment_exposures(frame, experiment="exp_1").collect()["converted"].to_list()
    [False, True]
    """
    outcome = (
        (pl.col("step") == "offer_accepted").any() if metric == "accepted"
        else ~(pl.col("step") == "completed").any()
    )
    return (
        flows.filter(pl.col("experiment") == experiment)
        .group_by("flow")
        .agg(pl.col("variant").drop_nulls().first(), outcome.alias("converted"))
        .filter(pl.col("variant").is_not_null())
        .sort("flow")
    )


def experiment_readout(
    flows: pl.LazyFrame,
    *,
    experiment: str,
    weights: Mapping[str, float],
    control: str,
    metric: Metric = "retained",
    confidence: float = 0.95,
    min_exposures: int = 200,
    srm_threshold: float = 0.001,
) -> pl.LazyFrame:
    """Per variant: exposures, conversions, rate with a Wilson interval, test against control.

    Parameters
    ----------
    flows
        The flow frame (:data:`analytics.ingest.FLOW_SCHEMA`).
    experiment
        The experiment id.
    weights
        The configured split, variant id -> weight (any positive scale).
    control
        The variant the others are compared with.
    metric
        ``"retained"`` (flow not completed) or ``"accepted"`` (offer taken).
    confidence
        For the intervals; the test's significance level is ``1 - confidence``
        divided by the number of comparisons with control (Bonferroni).
    min_exposures
        Below this many exposures in a variant or the control no winner is called.
    srm_threshold
        A sample-ratio-mismatch chi-square p-value below this voids the read-out.

    Returns
    -------
    LazyFrame
        ``variant``, ``weight``, ``exposures``, ``conversions`` (Int64), ``rate``,
        ``rate_low``, ``rate_high``, ``diff`` (rate − control's), ``diff_low``,
        ``diff_high`` (Wald interval), ``z``, ``p_value`` (pooled two-proportion
        z-test, two-sided), ``srm_p_value`` (same on every row), ``significant``
        and ``verdict`` (plain words), in the order of ``weights``.

    Examples
    --------
    >>> frame = pl.LazyFrame({"flow": [f"cf_{i}" for i in range(4)],
    ...     "experiment": ["exp_1"] * 4, "variant": ["var_a", "var_b"] * 2,
    ...     "step": ["completed", "started", "completed", "completed"]})
    >>> readout = experiment_readout(frame, experiment="exp_1",
    ...     weights={"var_a": 1, "var_b": 1}, control="var_a").collect()
    >>> readout["conversions"].to_list()
    [0, 1]
    >>> readout["verdict"][1]
    'Too early to call: 2 exposures here and 2 in control; at least 200 each are needed.'
    """
    if control not in weights:
        raise ValueError(f"control {control!r} is not one of the weighted variants")
    total_weight = _total_weight(weights)
    configured = pl.LazyFrame({
        "variant": list(weights),
        "weight": [w / total_weight for w in weights.values()],
        "order": list(range(len(weights))),
    })
    counts = experiment_exposures(flows, experiment=experiment, metric=metric).group_by(
        "variant").agg(pl.len().cast(pl.Int64).alias("exposures"),
                       pl.col("converted").sum().cast(pl.Int64).alias("conversions"))
    table = configured.join(counts, on="variant", how="left").with_columns(
        pl.col("exposures", "conversions").fill_null(0))
    expected = pl.col("weight") * pl.col("exposures").sum()
    # As sample_ratio_mismatch: a variant weighted 0 adds nothing while it has no exposures,
    # and any exposure makes the mismatch certain; no exposures at all: no test (NaN).
    term = (pl.when(expected > 0).then((pl.col("exposures") - expected) ** 2 / expected)
            .when(pl.col("exposures") == 0).then(0.0).otherwise(math.inf))
    is_control = pl.col("variant") == control
    table = table.with_columns(
        pl.when(pl.col("exposures").sum() > 0).then(term.sum()).otherwise(math.nan)
        .alias("srm_chi2"),
        pl.col("exposures").filter(is_control).first().alias("control_exposures"),
        pl.col("conversions").filter(is_control).first().alias("control_conversions"),
        is_control.alias("is_control"),
    )
    comparisons = max(1, len(weights) - 1)

    def read_out(rows: pl.Series) -> pl.Series:
        return _read_out(rows, confidence=confidence, min_exposures=min_exposures,
                         srm_threshold=srm_threshold, comparisons=comparisons, df=comparisons)

    inputs = pl.struct("variant", "exposures", "conversions", "control_exposures",
                       "control_conversions", "is_control", "srm_chi2")
    return table.sort("order").with_columns(
        inputs.map_batches(read_out, return_dtype=_OUTPUT).alias("out")
    ).unnest("out").select(
        "variant", "weight", "exposures", "conversions", "rate", "rate_low", "rate_high",
        "diff", "diff_low", "diff_high", "z", "p_value", "srm_p_value", "significant", "verdict",
    )


def _read_out(rows: pl.Series, *, confidence: float, min_exposures: int, srm_threshold: float,
              comparisons: int, df: int) -> pl.Series:
    out: list[dict[str, Any]] = []
    for row in rows.to_list():
        n, x = row["exposures"], row["conversions"]
        cn, cx = row["control_exposures"], row["control_conversions"]
        srm_p = chi2_sf(row["srm_chi2"], df) if not math.isnan(row["srm_chi2"]) else math.nan
        low, high = wilson_interval(x, n, confidence=confidence)
        if row["is_control"]:
            diff = d_low = d_high = z = p = math.nan
        else:
            diff, d_low, d_high, z, p = two_proportion_test(cx, cn, x, n, confidence=confidence)
        alpha = (1 - confidence) / comparisons
        significant = not row["is_control"] and not math.isnan(p) and p < alpha
        out.append({
            "rate": x / n if n else math.nan, "rate_low": low, "rate_high": high,
            "diff": diff, "diff_low": d_low, "diff_high": d_high, "z": z, "p_value": p,
            "srm_p_value": srm_p,
            "significant": bool(significant and srm_p >= srm_threshold
                                and min(n, cn) >= min_exposures),
            "verdict": _verdict(row, srm_p=srm_p, p=p, diff=diff, d_low=d_low, d_high=d_high,
                                alpha=alpha, confidence=confidence,
                                min_exposures=min_exposures, srm_threshold=srm_threshold),
        })
    return pl.Series(out, dtype=_OUTPUT)


def _verdict(row: dict[str, Any], *, srm_p: float, p: float, diff: float, d_low: float,
             d_high: float, alpha: float, confidence: float, min_exposures: int,
             srm_threshold: float) -> str:
    if not math.isnan(srm_p) and srm_p < srm_threshold:
        return (f"Sample ratio mismatch (p = {srm_p:.2g}): exposures do not match the "
                "configured weights, so assignment or logging is broken. No conclusion.")
    if row["is_control"]:
        return "Control: the other variants are compared with it."
    n, cn = row["exposures"], row["control_exposures"]
    needed = max(min_exposures, 1)  # nothing is ever called on no exposures
    if min(n, cn) < needed:
        return (f"Too early to call: {n} exposures here and {cn} in control; "
                f"at least {needed} each are needed.")
    points = f"{diff * 100:+.1f} points ({confidence:.0%} CI {d_low * 100:+.1f} to " \
             f"{d_high * 100:+.1f}), p = {p:.2g}"
    if math.isnan(p):
        return "No difference can be measured: every flow had the same outcome."
    if p < alpha:
        better = "better" if diff > 0 else "worse"
        return f"Significantly {better} than control: {points}."
    return (f"No significant difference from control: {points}; "
            f"the test needs p < {alpha:.2g}.")


def sample_ratio_mismatch(exposures: Mapping[str, int], weights: Mapping[str, float]) -> float:
    """The chi-square p-value of observed exposures against the configured weights.

    NaN with no exposures (nothing to test); 1.0 for a single variant (nothing can
    mismatch); 0.0 when a variant weighted 0 has exposures. Raises ValueError when
    the weights are not positive in sum.

    Examples
    --------
    >>> round(sample_ratio_mismatch({"a": 500, "b": 500}, {"a": 1, "b": 1}), 3)
    1.0
    >>> round(sample_ratio_mismatch({"a": 550, "b": 450}, {"a": 1, "b": 1}), 4)
    0.0016
    >>> sample_ratio_mismatch({}, {"a": 1, "b": 1})
    nan
    """
    weight_sum = _total_weight(weights)
    total = sum(exposures.get(v, 0) for v in weights)
    if total == 0:
        return math.nan
    statistic = 0.0
    for variant, weight in weights.items():
        observed, expected = exposures.get(variant, 0), total * weight / weight_sum
        if expected > 0:
            statistic += (observed - expected) ** 2 / expected
        elif observed:
            statistic = math.inf
    return chi2_sf(statistic, max(1, len(weights) - 1))


def _total_weight(weights: Mapping[str, float]) -> float:
    total = sum(weights.values())
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative with a positive sum")
    return total
