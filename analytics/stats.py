"""Exact tail functions and intervals for the experiment read-out (plain Python floats).

They run on per-variant frames of a few rows; :mod:`analytics.experiments` applies
them column-wise with ``map_batches``.
"""

from __future__ import annotations

import math

_SQRT2 = math.sqrt(2.0)


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z.

    Examples
    --------
    >>> round(normal_sf(1.959963984540054), 6)
    0.025
    """
    return 0.5 * math.erfc(z / _SQRT2)


def normal_ppf(p: float) -> float:
    """The standard normal quantile: z with P(Z <= z) = p, for 0 < p < 1.

    Acklam's rational approximation, polished by two Newton steps on ``erfc``
    (accurate to ~1e-15).

    Examples
    --------
    >>> round(normal_ppf(0.975), 9)
    1.959963985
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)
    low = 0.02425
    if p < low:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    elif p <= 1 - low:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (
            ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    else:
        q = math.sqrt(-2 * math.log(1 - p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    for _ in range(2):
        error = 0.5 * math.erfc(-x / _SQRT2) - p
        x -= error * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    return x


def _upper_gamma_regularized(a: float, x: float) -> float:
    # Q(a, x): series for x < a + 1, Lentz continued fraction otherwise (Numerical Recipes).
    if x <= 0:
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        for _ in range(10_000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(log_prefix) * h


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for a chi-square X with ``df`` degrees of freedom.

    Examples
    --------
    >>> round(chi2_sf(3.841458820694124, 1), 9)
    0.05
    """
    if df <= 0:
        raise ValueError("df must be positive")
    if x == math.inf:  # e.g. exposures of a variant weighted 0: as far off as can be
        return 0.0
    return _upper_gamma_regularized(df / 2, x / 2)


def wilson_interval(successes: int, trials: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ((nan, nan) with no trials).

    Examples
    --------
    >>> tuple(round(v, 4) for v in wilson_interval(30, 100))
    (0.2189, 0.3958)
    """
    if trials <= 0:
        return (math.nan, math.nan)
    z = normal_ppf(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # exactly 0 with no successes and 1 with all (floats land a hair off either way)
    return (0.0 if successes <= 0 else centre - half,
            1.0 if successes >= trials else centre + half)


def two_proportion_test(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, *,
    confidence: float = 0.95,
) -> tuple[float, float, float, float, float]:
    """Compare proportion b with a: difference, its Wald interval, pooled z and two-sided p.

    Returns ``(diff, low, high, z, p_value)`` with ``diff = p_b - p_a``; the test
    uses the pooled standard error (nan when undefined).

    Examples
    --------
    >>> [round(v, 4) for v in two_proportion_test(100, 1000, 130, 1000)]
    [0.03, 0.0021, 0.0579, 2.1027, 0.0355]
    """
    if trials_a <= 0 or trials_b <= 0:
        return (math.nan,) * 5
    pa, pb = successes_a / trials_a, successes_b / trials_b
    diff = pb - pa
    z_crit = normal_ppf(0.5 + confidence / 2)
    se = math.sqrt(pa * (1 - pa) / trials_a + pb * (1 - pb) / trials_b)
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    if se_pooled == 0:
        z, p_value = math.nan, math.nan
    else:
        z = diff / se_pooled
        p_value = min(1.0, 2 * normal_sf(abs(z)))
    return (diff, diff - z_crit * se, diff + z_crit * se, z, p_value)
