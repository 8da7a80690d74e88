"""Experiment read-outs: counts, intervals and tests against scipy, SRM, honest verdicts."""

from __future__ import annotations

import random

import polars as pl
import pytest
from scipy import stats

from analytics.experiments import experiment_exposures, experiment_readout, sample_ratio_mismatch


def _flows(counts: dict[str, tuple[int, int]], *, experiment: str = "exp_1") -> pl.LazyFrame:
    """Flows per variant: (exposures, retained); the others complete their cancellation."""
    flow, variant, step = [], [], []
    for name, (exposed, retained) in counts.items():
        for i in range(exposed):
            flow_id = f"cf_{name}_{i}"
            flow.append(flow_id), variant.append(name), step.append("started")
            if i >= retained:
                flow.append(flow_id), variant.append(None), step.append("completed")
    return pl.LazyFrame({"flow": flow, "experiment": [experiment] * len(flow),
                         "variant": variant, "step": step}, schema_overrides={"variant": pl.String})


WEIGHTS = {"var_control": 0.5, "var_coupon": 0.25, "var_pause": 0.25}


def test_readout_counts_intervals_and_tests_match_scipy() -> None:
    counts = {"var_control": (2000, 100), "var_coupon": (1000, 300), "var_pause": (990, 68)}
    got = experiment_readout(_flows(counts), experiment="exp_1", weights=WEIGHTS,
                             control="var_control").collect()
    assert got["variant"].to_list() == list(WEIGHTS)
    assert got["exposures"].to_list() == [2000, 1000, 990]
    assert got["conversions"].to_list() == [100, 300, 68]
    srm = stats.chisquare([2000, 1000, 990], [3990 * w for w in WEIGHTS.values()]).pvalue
    assert got["srm_p_value"].to_list() == pytest.approx([srm] * 3, rel=1e-9)
    for row in got.iter_rows(named=True):
        n, x = row["exposures"], row["conversions"]
        ci = stats.binomtest(x, n).proportion_ci(0.95, method="wilson")
        assert (row["rate_low"], row["rate_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
        if row["variant"] == "var_control":
            assert row["verdict"].startswith("Control")
            continue
        table = [[100, 1900], [x, n - x]]
        p = stats.chi2_contingency(table, correction=False).pvalue
        assert row["p_value"] == pytest.approx(p, rel=1e-7)
    coupon, pause = got.row(1, named=True), got.row(2, named=True)
    assert coupon["significant"] and coupon["verdict"].startswith("Significantly better")
    assert "+25.0 points" in coupon["verdict"]
    # 6.9 % vs 5 %: p ≈ 0.037 > 0.05 / 2 comparisons (Bonferroni): no winner called
    assert not pause["significant"]
    assert pause["verdict"].startswith("No significant difference")


def test_no_winner_below_the_minimum_sample() -> None:
    counts = {"var_control": (100, 5), "var_coupon": (50, 40), "var_pause": (50, 30)}
    got = experiment_readout(_flows(counts), experiment="exp_1", weights=WEIGHTS,
                             control="var_control", min_exposures=200).collect()
    assert got["p_value"][1] < 1e-6  # a huge effect, and still
    assert not got["significant"].any()
    assert got["verdict"][1].startswith("Too early to call: 50 exposures here and 100 in control")


def test_sample_ratio_mismatch_voids_the_readout() -> None:
    counts = {"var_control": (2000, 100), "var_coupon": (1400, 420), "var_pause": (1000, 200)}
    got = experiment_readout(_flows(counts), experiment="exp_1", weights=WEIGHTS,
                             control="var_control").collect()
    assert got["srm_p_value"][0] < 0.001
    assert not got["significant"].any()
    assert all(v.startswith("Sample ratio mismatch") for v in got["verdict"])


def test_variant_without_exposures_and_other_experiments_are_ignored() -> None:
    flows = pl.concat([_flows({"var_control": (10, 1)}), _flows({"var_x": (5, 5)},
                                                               experiment="exp_2")])
    got = experiment_readout(flows, experiment="exp_1", weights={"var_control": 1, "var_b": 1},
                             control="var_control").collect()
    assert got.select("variant", "exposures", "conversions").rows() == [
        ("var_control", 10, 1), ("var_b", 0, 0)]
    with pytest.raises(ValueError):
        experiment_readout(flows, experiment="exp_1", weights={"var_b": 1}, control="var_a")


def test_accepted_metric_counts_offer_acceptances() -> None:
    flows = pl.LazyFrame({
        "flow": ["cf_1", "cf_1", "cf_1", "cf_2", "cf_2", "cf_3"],
        "experiment": ["exp_1"] * 6,
        "variant": ["var_a", None, None, "var_a", None, "var_a"],
        "step": ["started", "offer_presented", "offer_accepted", "started", "completed",
                 "abandoned"],
    }, schema_overrides={"variant": pl.String})
    accepted = experiment_exposures(flows, experiment="exp_1", metric="accepted").collect()
    retained = experiment_exposures(flows, experiment="exp_1").collect()
    assert accepted["converted"].to_list() == [True, False, False]
    assert retained["converted"].to_list() == [True, False, True]


def test_srm_and_z_on_many_random_tables() -> None:
    rng = random.Random(7)
    for _ in range(40):
        k = rng.randint(2, 4)
        weights = {f"v{i}": rng.uniform(0.5, 3) for i in range(k)}
        counts = {v: (n, rng.randint(0, n)) for v in weights for n in [rng.randint(20, 600)]}
        got = experiment_readout(_flows(counts), experiment="exp_1", weights=weights,
                                 control="v0", min_exposures=1).collect()
        total = sum(n for n, _ in counts.values())
        expected = [total * w / sum(weights.values()) for w in weights.values()]
        srm = stats.chisquare([n for n, _ in counts.values()], expected).pvalue
        assert got["srm_p_value"][0] == pytest.approx(srm, rel=1e-8, abs=1e-300)
        assert sample_ratio_mismatch({v: n for v, (n, _) in counts.items()},
                                     weights) == pytest.approx(srm, rel=1e-8, abs=1e-300)
        n0, x0 = counts["v0"]
        for row in got.iter_rows(named=True):
            if row["variant"] == "v0" or row["p_value"] != row["p_value"]:
                continue
            n, x = row["exposures"], row["conversions"]
            p = stats.chi2_contingency([[x0, n0 - x0], [x, n - x]], correction=False).pvalue
            assert row["p_value"] == pytest.approx(p, rel=1e-7, abs=1e-300)
