"""Confidence bounds for rates, gaps and ratios, and the verdicts decided from them.

Every bound here is one-sided at ``alpha``: a lower bound L with P(true < L) <= alpha and an upper
bound U with P(true > U) <= alpha (exactly for Clopper-Pearson, approximately for the score
methods). A check passes when the whole interval lies inside the acceptable region, fails when it
lies outside, and is inconclusive otherwise: never a verdict from the point estimate alone.
The interval functions for counts (:func:`clopper_pearson`, :func:`wilson`, :func:`newcombe_difference`,
:func:`mover_ratio`, :func:`bernstein_bounds`) take scalars or numpy arrays and broadcast; the others take one
sample of values (:func:`empirical_bernstein`, :func:`betting_bounds`, :func:`betting_log_capital`,
:func:`sequential_decide`) or scalars (:func:`decide`, :func:`decide_pairs`, :func:`mcnemar_exact`,
:func:`n_to_decide`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import special as _sp

from fairprobe.verdicts import FAIL, INCONCLUSIVE, PASS, Verdict

Numbers = float | np.ndarray  # a scalar or an array of them (ints are floats to the type checker)
# (lower, upper): numpy floats for scalar inputs, arrays shaped like the broadcast inputs otherwise; typed Any so
# that a caller may hold either in a float
Bounds = tuple[Any, Any]
Values = Sequence[float] | np.ndarray  # one sample of values in [0, 1]


def clopper_pearson(k: Numbers, n: Numbers, alpha: float = 0.05) -> Bounds:
    """Exact one-sided bounds (L, U) for a binomial rate, each at level ``alpha``.

    Examples
    --------
    >>> L, U = clopper_pearson(0, 299, alpha=0.05)
    >>> float(L), round(float(U), 5)
    (0.0, 0.00997)
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        # betaincinv is the beta quantile without scipy.stats' per-call overhead (100x faster here).
        lower = np.where(k > 0, _sp.betaincinv(k, n - k + 1, alpha), 0.0)
        upper = np.where(k < n, _sp.betaincinv(k + 1, n - k, 1 - alpha), 1.0)
    lower = np.where(n > 0, lower, 0.0)
    upper = np.where(n > 0, upper, 1.0)
    return lower, upper


def wilson(k: Numbers, n: Numbers, alpha: float = 0.05) -> Bounds:
    """Wilson score one-sided bounds (L, U) for a binomial rate, each at level ``alpha``.

    An empty group (n = 0) gets the vacuous interval (0, 1).

    Examples
    --------
    >>> L, U = wilson(40, 100, alpha=0.025)
    >>> round(float(L), 3), round(float(U), 3)
    (0.309, 0.498)
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _sp.ndtri(1 - alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        lower = np.clip(centre - half, 0.0, 1.0)
        upper = np.clip(centre + half, 0.0, 1.0)
    empty = n <= 0
    return np.where(empty, 0.0, lower), np.where(empty, 1.0, upper)


def _two_rates(k1: Numbers, n1: Numbers, k2: Numbers, n2: Numbers,
               alpha: float) -> tuple[Any, ...]:
    """Each rate with its Wilson bounds, and where either rate is undefined (an empty group)."""
    k1, n1, k2, n2 = (np.asarray(a, dtype=float) for a in (k1, n1, k2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1 = np.where(n1 > 0, k1 / n1, np.nan)
        p2 = np.where(n2 > 0, k2 / n2, np.nan)
    return (p1, *wilson(k1, n1, alpha)), (p2, *wilson(k2, n2, alpha)), (n1 <= 0) | (n2 <= 0)


def newcombe_difference(k1: Numbers, n1: Numbers, k2: Numbers, n2: Numbers,
                        alpha: float = 0.05) -> Bounds:
    """Bounds (L, U) for p1 - p2 by Newcombe's hybrid score method (1998, method 10).

    Each bound is one-sided at ``alpha``; built from Wilson bounds at the same level.

    Examples
    --------
    >>> L, U = newcombe_difference(56, 70, 48, 80, alpha=0.025)
    >>> round(float(L), 4), round(float(U), 4)
    (0.0524, 0.3339)
    """
    (p1, l1, u1), (p2, l2, u2), undefined = _two_rates(k1, n1, k2, n2, alpha)
    d = p1 - p2
    lower = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return np.where(undefined, -1.0, lower), np.where(undefined, 1.0, upper)


def mover_ratio(k1: Numbers, n1: Numbers, k2: Numbers, n2: Numbers,
                alpha: float = 0.05) -> Bounds:
    """Bounds (L, U) for p1 / p2 by the MOVER-R method (Donner & Zou 2012) on Wilson bounds.

    Each bound is one-sided at ``alpha``. With A = l1 (2 p1 - l1) and B = u2 (2 p2 - u2), the paper's
    lower bound is the root of B L^2 - 2 p1 p2 L + A = 0 nearest p1 / p2, written here as
    A / (p1 p2 + sqrt((p1 p2)^2 - A B)): the same number where B > 0, and the positive root where
    B <= 0 (a rate p2 near 0, whose upper bound exceeds 2 p2), which the quotient form loses. It is
    1 / U of the pair taken the other way round, so a ratio's bounds do not depend on which group is
    named first. U is infinite when p2's lower bound is 0.

    Examples
    --------
    >>> L, U = mover_ratio(30, 100, 40, 100, alpha=0.025)
    >>> round(float(L), 3), round(float(U), 3)
    (0.512, 1.095)
    >>> L, U = mover_ratio(50, 100, 1, 40)  # p2 = 1/40: u2 > 2 p2, and the lower bound is the positive root
    >>> round(float(L), 3), round(float(U), 2)
    (4.697, 89.67)
    """
    (p1, l1, u1), (p2, l2, u2), undefined = _two_rates(k1, n1, k2, n2, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        prod = p1 * p2
        a = l1 * (2 * p1 - l1)  # >= 0, and 0 only where l1 = 0 (then so is the lower bound)
        b = u2 * (2 * p2 - u2)  # may be negative: p2's upper bound above twice p2
        lower = a / (prod + np.sqrt(np.maximum(prod**2 - a * b, 0.0)))
        c = u1 * (2 * p1 - u1)
        d = l2 * (2 * p2 - l2)  # >= 0, and 0 only where l2 = 0: no finite upper bound
        upper = (prod + np.sqrt(np.maximum(prod**2 - c * d, 0.0))) / d
    lower = np.where((a > 0) & np.isfinite(lower), np.maximum(lower, 0.0), 0.0)
    upper = np.where((d > 0) & np.isfinite(upper), upper, np.inf)
    return np.where(undefined, 0.0, lower), np.where(undefined, np.inf, upper)


def empirical_bernstein(values: Values, alpha: float = 0.05) -> Bounds:
    """One-sided bounds (L, U) for the mean of values in [0, 1], each at level ``alpha``.

    Maurer & Pontil (2009), Theorem 4: with probability at least 1 - alpha,
    E[X] <= mean + sqrt(2 V ln(2/alpha) / n) + 7 ln(2/alpha) / (3 (n - 1)), V the sample variance;
    the same below. Valid for any distribution on [0, 1] (for a share of flipped twins, which is
    not binomial).

    Examples
    --------
    >>> L, U = empirical_bernstein(np.r_[np.zeros(900), np.full(100, 0.5)], alpha=0.05)
    >>> round(float(L), 4), round(float(U), 4)
    (0.0285, 0.0715)
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    return bernstein_bounds(values.mean(), values.var(ddof=1) if n > 1 else 0.25, n, alpha)


def bernstein_bounds(mean: Numbers, variance: Numbers, n: Numbers, alpha: float = 0.05) -> Bounds:
    """Empirical-Bernstein bounds from a mean, a sample variance and n (broadcasts over n)."""
    n = np.asarray(n, dtype=float)
    log_term = math.log(2 / alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.sqrt(2 * variance * log_term / n) + 7 * log_term / (3 * (n - 1))
    half = np.where(n > 1, half, 1.0)
    return np.clip(mean - half, 0.0, 1.0), np.clip(mean + half, 0.0, 1.0)


def mcnemar_exact(favour_first: int, favour_second: int) -> float:
    """Two-sided exact McNemar p-value: are discordant pairs split evenly between the groups?

    Examples
    --------
    >>> round(mcnemar_exact(9, 1), 4)
    0.0215
    """
    total = int(favour_first) + int(favour_second)
    if total == 0:
        return 1.0
    # The exact two-sided binomial test at p = 1/2 (scipy.stats.binomtest's value, tested against it):
    # twice the smaller tail, P(X <= m) = I_{1/2}(n - m, m + 1). scipy.stats itself takes a second to import.
    smaller = min(int(favour_first), int(favour_second))
    if 2 * smaller == total:
        return 1.0
    return float(min(1.0, 2 * _sp.betainc(total - smaller, smaller + 1, 0.5)))


def decide(lower: float, upper: float, *, low: float, high: float) -> Verdict:
    """PASS when (lower, upper) lies inside [low, high], FAIL when wholly outside it, else INCONCLUSIVE.

    The acceptable region is closed: a statistic equal to its bound is acceptable (a flip rate of
    exactly ``max_flip_rate``, a ratio of exactly ``min_ratio``, a candidate exactly as fair as its
    baseline at ``max_increase=0``). So an upper bound equal to ``high`` (or a lower bound equal to
    ``low``) still PASSes, and FAIL needs the interval strictly beyond the bound.

    Examples
    --------
    >>> str(decide(0.0, 0.009, low=-math.inf, high=0.01))
    'pass'
    >>> str(decide(0.02, 0.05, low=-math.inf, high=0.01))
    'fail'
    >>> str(decide(0.0, 0.0, low=-math.inf, high=0.0)), str(decide(0.0, 0.1, low=-math.inf, high=0.0))
    ('pass', 'inconclusive')
    """
    if lower >= low and upper <= high:
        return PASS
    if lower > high or upper < low:
        return FAIL
    return INCONCLUSIVE


def decide_pairs(bounds_at_alpha: Sequence[Any], bounds_at_alpha_m: Sequence[Any], *, low: float, high: float) -> Verdict:
    """Verdict over m pairwise statistics.

    PASS needs every pair's interval (at alpha) inside [low, high] (closed, as in :func:`decide`): an
    intersection-union test, which needs no correction. FAIL needs one pair's interval at alpha/m
    (Bonferroni) strictly outside.
    """
    (lo_a, up_a), (lo_m, up_m) = bounds_at_alpha, bounds_at_alpha_m
    lo_a, up_a, lo_m, up_m = (np.asarray(a, dtype=float) for a in (lo_a, up_a, lo_m, up_m))
    if lo_a.size and np.all(lo_a >= low) and np.all(up_a <= high):
        return PASS
    if np.any((lo_m > high) | (up_m < low)):
        return FAIL
    return INCONCLUSIVE


def n_to_decide(undecided: Callable[[np.ndarray], np.ndarray], n: int, *, limit: float = 10_000.0,
                steps: int = 500) -> int | None:
    """Smallest sample size that would decide, if the observed rates held as the sample grew.

    ``undecided(scales)`` says, for each factor in ``scales`` by which every count is multiplied,
    whether the verdict would still be INCONCLUSIVE. Factors are tried on a geometric grid up to
    ``limit`` (2% apart). Returns None when even ``limit`` times the data would not decide (the
    estimate sits on the bound).
    """
    scales = np.geomspace(1.0, limit, steps)
    still_open = np.asarray(undecided(scales), dtype=bool)
    if still_open[-1]:
        return None
    return math.ceil(n * scales[int(np.argmax(~still_open))])


# --------------------------------------------------------------------------- anytime-valid (sequential) bounds

# A mixture of betting test martingales (Waudby-Smith & Ramdas 2023, "Estimating means of bounded random
# variables by betting"), with a fixed grid of bets, so the mixture is predictable and the bound holds at
# every look (Ville's inequality), however often one looks and whenever one stops. Half the weight is on the
# largest bet: it makes a spotless record (no flip) decide almost as fast as the fixed-sample design
# (about 370 records for a 1 % bound at alpha = 0.05, against 299).
BETS = np.array([1.0, 0.5, 0.25, 0.1, 0.05, 0.02])
BET_WEIGHTS = np.array([0.5, 0.1, 0.1, 0.1, 0.1, 0.1])


def _value_counts(values: Values, counts: Values | None = None) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=float)
    if values.size and (values.min() < 0 or values.max() > 1 or not np.isfinite(values).all()):
        raise ValueError("betting bounds need values in [0, 1]")
    if counts is not None:
        return values, np.asarray(counts, dtype=float)
    return np.unique(values, return_counts=True)


def betting_log_capital(values: Values, m: Numbers, *, side: str,
                        counts: Values | None = None) -> np.ndarray:
    """Log of the mixture capital against ``mean <= m`` (side "up") or ``mean >= m`` (side "down").

    ``values`` are per-record values in [0, 1] seen so far, in any order (the bets are fixed, so the
    capital depends on the counts only; ``counts=`` gives them directly, one per value, or a batch of
    count vectors of shape (R, V) at a scalar ``m``); ``m`` broadcasts. Capital at least 1/alpha rejects.
    """
    v, c = _value_counts(values, counts)
    if c.ndim == 2:  # a batch of count vectors (R, V), e.g. simulated streams, at one m
        c = c[:, None, :]  # (R, 1, V)
    m = np.asarray(m, dtype=float)[..., None, None]  # (..., 1, 1)
    if side == "up":
        lam = BETS[:, None] / np.maximum(m, 1e-12)  # (..., J, 1): 1 + lam (v - m) >= 0 for v >= 0
        factor = 1 + lam * (v - m)
    elif side == "down":
        lam = BETS[:, None] / np.maximum(1 - m, 1e-12)  # 1 + lam (m - v) >= 0 for v <= 1
        factor = 1 + lam * (m - v)
    else:
        raise ValueError(f"side must be 'up' or 'down'; got {side!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(c > 0, c * np.log(np.maximum(factor, 0.0)), 0.0)  # a value never seen bets nothing
    per_bet = terms.sum(axis=-1)  # (..., J)
    return _sp.logsumexp(per_bet + np.log(BET_WEIGHTS), axis=-1)


def betting_bounds(values: Values, alpha: float = 0.05, *,
                   counts: Values | None = None) -> tuple[float, float]:
    """Anytime-valid one-sided bounds (L, U) for the mean of values in [0, 1], each at level ``alpha``.

    Examples
    --------
    >>> L, U = betting_bounds(np.zeros(400), alpha=0.05)
    >>> float(L), round(float(U), 4)
    (0.0, 0.009)
    """
    threshold = math.log(1 / alpha)
    v, c = _value_counts(values, counts)
    if not c.sum():
        return 0.0, 1.0

    def crossing(side: str) -> float:
        # K_up(m) falls with m and K_down(m) rises with it: narrow a grid around where it crosses 1/alpha.
        lo, hi = 0.0, 1.0
        for _ in range(4):  # 32 points a round: 32**-4 of the unit interval at the end
            grid = np.linspace(lo, hi, 33)
            rejects = betting_log_capital(v, grid, side=side, counts=c) >= threshold
            if side == "up":  # rejected below the lower bound
                last = int(np.flatnonzero(rejects)[-1]) if rejects.any() else 0
                lo, hi = grid[last], grid[min(last + 1, 32)]
            else:  # rejected above the upper bound
                first = int(np.flatnonzero(rejects)[0]) if rejects.any() else 32
                lo, hi = grid[max(first - 1, 0)], grid[first]
        return lo if side == "up" else hi

    lower = crossing("up") if betting_log_capital(v, 0.0, side="up", counts=c) >= threshold else 0.0
    upper = crossing("down") if betting_log_capital(v, 1.0, side="down", counts=c) >= threshold else 1.0
    return float(lower), float(upper)


def sequential_decide(values: Values, bound: float, alpha: float = 0.05, *,
                      counts: Values | None = None) -> Verdict:
    """PASS once the data reject ``mean >= bound``, FAIL once they reject ``mean <= bound`` (each at alpha,
    valid at every look), INCONCLUSIVE until then.

    Examples
    --------
    >>> str(sequential_decide([0.0], 0.01, counts=[400])), str(sequential_decide([0.0, 1.0], 0.01, counts=[6, 4]))
    ('pass', 'fail')
    """
    threshold = math.log(1 / alpha)
    if betting_log_capital(values, bound, side="down", counts=counts) >= threshold:
        return PASS
    if betting_log_capital(values, bound, side="up", counts=counts) >= threshold:
        return FAIL
    return INCONCLUSIVE


def sequential_looks(limit: int) -> np.ndarray:
    """Records scored by each look of a sequential check: 10, 30, 80, 180, then every 100 more, up to ``limit``.

    Small first looks let a clear violation stop after a handful of records; later looks of 100 keep the
    overhead of looking small where a PASS needs a few hundred records.
    """
    looks = [10, 30, 80, 180]
    while looks[-1] < limit:
        looks.append(looks[-1] + 100)
    return np.unique(np.minimum(np.asarray(looks), limit))
