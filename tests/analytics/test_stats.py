"""The tail functions and intervals against scipy.stats on many random inputs."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats

from analytics.stats import (
    chi2_sf,
    normal_ppf,
    normal_sf,
    two_proportion_test,
    wilson_interval,
)

RNG = random.Random(20260131)


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


def test_normal_tails_and_quantiles() -> None:
    for _ in range(2_000):
        z = RNG.uniform(-12, 12)
        assert _close(normal_sf(z), stats.norm.sf(z), 1e-12)
        p = 10 ** RNG.uniform(-15, 0) * 0.999
        assert _close(normal_ppf(p), stats.norm.ppf(p), 1e-12)
    with pytest.raises(ValueError):
        normal_ppf(1.0)


def test_chi_square_survival() -> None:
    for _ in range(3_000):
        df = RNG.randint(1, 30)
        x = RNG.choice([RNG.uniform(0, 5), RNG.uniform(0, 80), 10 ** RNG.uniform(-4, 2.5)])
        assert _close(chi2_sf(x, df), stats.chi2.sf(x, df), 1e-9), (x, df)


def test_wilson_interval() -> None:
    for _ in range(2_000):
        n = RNG.randint(1, 100_000)
        x = RNG.randint(0, n)
        confidence = RNG.choice([0.8, 0.9, 0.95, 0.99])
        low, high = wilson_interval(x, n, confidence=confidence)
        # the Wilson interval inverts the score test: its ends have |z| = z_crit
        result = stats.binomtest(x, n).proportion_ci(confidence_level=confidence,
                                                     method="wilson")
        assert low == pytest.approx(result.low, rel=1e-9, abs=1e-12)
        assert high == pytest.approx(result.high, rel=1e-9, abs=1e-12)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_two_proportion_test_matches_scipy_on_random_tables() -> None:
    for _ in range(2_000):
        na, nb = RNG.randint(2, 50_000), RNG.randint(2, 50_000)
        xa, xb = RNG.randint(0, na), RNG.randint(0, nb)
        diff, low, high, z, p = two_proportion_test(xa, na, xb, nb)
        pooled = (xa + xb) / (na + nb)
        if pooled in (0.0, 1.0):
            assert math.isnan(z) and math.isnan(p)
            continue
        # the pooled z-test is the Pearson chi-square test of the 2x2 table (no correction)
        table = [[xa, na - xa], [xb, nb - xb]]
        chi2, expected_p, _, _ = stats.chi2_contingency(table, correction=False)
        assert z * z == pytest.approx(chi2, rel=1e-9)
        assert p == pytest.approx(expected_p, rel=1e-7, abs=1e-300)
        assert diff == pytest.approx(xb / nb - xa / na)
        se = math.sqrt((xa / na) * (1 - xa / na) / na + (xb / nb) * (1 - xb / nb) / nb)
        assert high - low == pytest.approx(2 * stats.norm.ppf(0.975) * se, rel=1e-12)


# --- degenerate inputs: no trials, one trial, everyone alike ------------------------------

Z95 = stats.norm.ppf(0.975)


def test_wilson_interval_of_zero_one_and_two_trials() -> None:
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    assert all(math.isnan(v) for v in wilson_interval(3, -1))
    # one trial: the ends are 0 and z²/(1+z²), or 1/(1+z²) and 1, exactly
    assert wilson_interval(0, 1) == (0.0, pytest.approx(Z95**2 / (1 + Z95**2), rel=1e-12))
    assert wilson_interval(1, 1) == (pytest.approx(1 / (1 + Z95**2), rel=1e-12), 1.0)
    for n in (1, 2, 3):
        for x in range(n + 1):
            low, high = wilson_interval(x, n)
            ci = stats.binomtest(x, n).proportion_ci(method="wilson")
            assert (low, high) == (pytest.approx(ci.low, abs=1e-12),
                                   pytest.approx(ci.high, abs=1e-12))
            assert 0.0 <= low <= x / n <= high <= 1.0


def test_wilson_interval_stays_within_zero_and_one() -> None:
    # all successes: the upper end is 1 in exact arithmetic, 1.0000000000000002 in floats
    # for some n (80 %: n = 5, 12, 13...); it is clamped, as is the lower end of none
    for confidence in (0.8, 0.9, 0.95, 0.99):
        for n in range(1, 200):
            assert wilson_interval(n, n, confidence=confidence)[1] == 1.0
            assert wilson_interval(0, n, confidence=confidence)[0] == 0.0


@pytest.mark.parametrize(("xa", "na", "xb", "nb"), [
    (0, 0, 0, 0), (0, 0, 1, 1), (1, 1, 0, 0), (0, 0, 3, 10), (3, 10, 0, -1)])
def test_two_proportion_test_without_trials_is_undefined(xa: int, na: int, xb: int,
                                                         nb: int) -> None:
    assert all(math.isnan(v) for v in two_proportion_test(xa, na, xb, nb))


@pytest.mark.parametrize(("xa", "na", "xb", "nb"), [(0, 5, 0, 7), (5, 5, 7, 7), (0, 1, 0, 1),
                                                    (1, 1, 1, 1)])
def test_everyone_alike_has_no_difference_and_no_test(xa: int, na: int, xb: int,
                                                      nb: int) -> None:
    # pooled 0 % or 100 %: the difference is exactly 0 with a zero-width interval; the
    # pooled standard error is 0, so z and p are undefined (NaN), never a ZeroDivisionError
    diff, low, high, z, p = two_proportion_test(xa, na, xb, nb)
    assert (diff, low, high) == (0.0, 0.0, 0.0)
    assert math.isnan(z) and math.isnan(p)


def test_one_trial_each() -> None:
    # 0 of 1 against 1 of 1: pooled 1/2, so z = 1 / sqrt(1/4 * 2) = sqrt(2); the Wald
    # standard error is 0 (each arm is certain), so the interval is the point itself
    diff, low, high, z, p = two_proportion_test(0, 1, 1, 1)
    assert (diff, low, high) == (1.0, 1.0, 1.0)
    assert z == pytest.approx(math.sqrt(2), rel=1e-12)
    chi2, expected_p, _, _ = stats.chi2_contingency([[0, 1], [1, 0]], correction=False)
    assert z * z == pytest.approx(chi2) and p == pytest.approx(expected_p, rel=1e-9)
    assert two_proportion_test(1, 1, 0, 1)[:4] == (-1.0, -1.0, -1.0,
                                                   pytest.approx(-math.sqrt(2), rel=1e-12))


def test_tails_at_the_ends() -> None:
    assert chi2_sf(0.0, 1) == 1.0 and chi2_sf(-1.0, 2) == 1.0
    assert chi2_sf(math.inf, 1) == 0.0 and chi2_sf(math.inf, 3) == 0.0
    assert math.isnan(chi2_sf(math.nan, 1))
    for df in (0, -1):
        with pytest.raises(ValueError, match="df must be positive"):
            chi2_sf(1.0, df)
    assert normal_sf(0.0) == 0.5 and normal_sf(math.inf) == 0.0 and normal_sf(-math.inf) == 1.0
    assert normal_ppf(0.5) == 0.0
    for p in (0.0, 1.0, -0.1, 1.1, 1.5, 2.0):
        with pytest.raises(ValueError, match="p must be in"):
            normal_ppf(p)
