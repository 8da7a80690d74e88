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
