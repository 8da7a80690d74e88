"""Experiment read-outs: counts, intervals and tests against scipy, SRM, honest verdicts."""

from __future__ import annotations

import math
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


# --- degenerate read-outs: no exposures, one, everyone alike, a variant weighted 0 ---------


def test_a_readout_without_exposures_is_all_undefined_and_calls_nothing() -> None:
    empty = _flows({})
    for min_exposures in (0, 200):
        got = experiment_readout(empty, experiment="exp_1", weights=WEIGHTS,
                                 control="var_control", min_exposures=min_exposures).collect()
        assert got["exposures"].to_list() == [0, 0, 0]
        assert all(math.isnan(v) for column in ("rate", "rate_low", "diff", "p_value",
                                                 "srm_p_value") for v in got[column])
        assert not got["significant"].any()
        assert got["verdict"][1] == ("Too early to call: 0 exposures here and 0 in control; "
                                     f"at least {max(min_exposures, 1)} each are needed.")


def test_one_exposure_per_variant() -> None:
    got = experiment_readout(_flows({"a": (1, 1), "b": (1, 0)}), experiment="exp_1",
                             weights={"a": 1, "b": 1}, control="a", min_exposures=1).collect()
    assert got["rate"].to_list() == [1.0, 0.0]
    assert got["srm_p_value"].to_list() == [1.0, 1.0]
    row = got.row(1, named=True)
    assert (row["diff"], row["diff_low"], row["diff_high"]) == (-1.0, -1.0, -1.0)
    assert row["p_value"] == pytest.approx(
        stats.chi2_contingency([[1, 0], [0, 1]], correction=False).pvalue)
    assert not row["significant"]  # p = 0.157 > 0.05
    assert row["verdict"].startswith("No significant difference from control: -100.0 points")


@pytest.mark.parametrize("retained", [0, 1], ids=["pooled_0", "pooled_100"])
def test_everyone_alike_says_no_difference_can_be_measured(retained: int) -> None:
    counts = {"a": (300, 300 * retained), "b": (300, 300 * retained)}
    got = experiment_readout(_flows(counts), experiment="exp_1", weights={"a": 1, "b": 1},
                             control="a").collect()
    row = got.row(1, named=True)
    assert row["rate"] == float(retained) and row["diff"] == 0.0
    assert math.isnan(row["z"]) and math.isnan(row["p_value"]) and not row["significant"]
    assert row["verdict"] == "No difference can be measured: every flow had the same outcome."


def test_a_variant_weighted_zero() -> None:
    weights = {"a": 1, "b": 1, "off": 0}
    balanced = {"a": (50, 10), "b": (50, 20)}
    got = experiment_readout(_flows(balanced), experiment="exp_1", weights=weights,
                             control="a", min_exposures=1).collect()
    assert got["srm_p_value"].to_list() == [1.0] * 3  # no NaN from the empty 0-weight arm
    assert sample_ratio_mismatch({v: n for v, (n, _) in balanced.items()}, weights) == 1.0
    # any exposure of an arm weighted 0 is a certain mismatch
    leaked = {**balanced, "off": (1, 0)}
    got = experiment_readout(_flows(leaked), experiment="exp_1", weights=weights,
                             control="a", min_exposures=1).collect()
    assert got["srm_p_value"].to_list() == [0.0] * 3
    assert got["verdict"][1].startswith("Sample ratio mismatch")
    assert sample_ratio_mismatch({"a": 50, "b": 50, "off": 1}, weights) == 0.0


def test_sample_ratio_mismatch_at_the_edges() -> None:
    assert math.isnan(sample_ratio_mismatch({}, {"a": 1, "b": 1}))
    assert math.isnan(sample_ratio_mismatch({"a": 0, "b": 0}, {"a": 1, "b": 1}))
    assert sample_ratio_mismatch({"a": 7}, {"a": 1}) == 1.0  # one arm cannot mismatch
    assert sample_ratio_mismatch({"a": 1}, {"a": 1, "b": 1}) == pytest.approx(
        stats.chisquare([1, 0], [0.5, 0.5]).pvalue)
    for weights in ({"a": 0, "b": 0}, {"a": 2, "b": -1}):
        with pytest.raises(ValueError):
            sample_ratio_mismatch({"a": 1}, weights)
        with pytest.raises(ValueError):
            experiment_readout(_flows({"a": (1, 1)}), experiment="exp_1", weights=weights,
                               control="a")
