"""Intervals pinned to independent implementations, not only to coverage (a too-wide interval keeps coverage):
the paired bootstrap of compare, and exact n_to_decide values in both copies (invariance, group metrics)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from fairprobe import checks
from fairprobe.checks.compare import BOOTSTRAP, no_worse_group_metric
from fairprobe.checks.invariance import invariance
from fairprobe.predictions import Predictions
from fairprobe.twins import FlipGenerator

GRID = np.geomspace(1.0, 10_000.0, 500)  # n_to_decide's documented grid: factors 2 % apart up to 10,000


def _first_decided(decided, n):
    """The smallest grid size at which ``decided(f)`` holds, as n_to_decide defines it."""
    for f in GRID:
        if decided(f):
            return int(math.ceil(n * f))
    return None


# ------------------------------------------------------------------ the paired bootstrap against a plain one


def _selection_gap(groups, decisions):
    rates = [decisions[groups == g].mean() for g in np.unique(groups)]
    return max(rates) - min(rates)


def test_paired_bootstrap_bounds_equal_a_plain_record_resampling_bootstrap():
    rng = np.random.default_rng(11)
    n = 2000
    g = rng.choice(np.array(["a", "b", "c"]), n)
    u = rng.random(n)
    base = u < pd.Series(g).map({"a": 0.40, "b": 0.36, "c": 0.38}).to_numpy()
    cand = u < pd.Series(g).map({"a": 0.43, "b": 0.33, "c": 0.38}).to_numpy()
    result = no_worse_group_metric(None, cand, base, pd.Series(g), metric="demographic_parity", max_increase=0.01,
                                   alpha=0.05, seed=3)
    # Reference: resample the records themselves (20,000 replicates, another generator), percentile bounds at
    # alpha on each side (one-sided bounds, as the check's docstring says).
    ref = np.random.default_rng(99)
    codes = pd.factorize(g, sort=True)[0]
    diffs = []
    for _ in range(20):
        idx = ref.integers(0, n, size=(1000, n))
        c, b, k = cand[idx], base[idx], codes[idx]
        per = []
        for decisions in (c, b):
            rates = np.stack([(decisions & (k == j)).sum(1) / (k == j).sum(1) for j in range(3)], axis=1)
            per.append(rates.max(1) - rates.min(1))
        diffs.append(per[0] - per[1])
    diffs = np.concatenate(diffs)
    lower, upper = np.quantile(diffs, 0.05), np.quantile(diffs, 0.95)
    assert result.statistic == pytest.approx(_selection_gap(g, cand) - _selection_gap(g, base), abs=1e-12)
    sd = diffs.std()
    # Monte Carlo error of a 5 % quantile from 4,000 replicates is about 0.035 sd; alpha/2 would move each bound
    # by about 0.3 sd outwards.
    assert result.interval[0] == pytest.approx(lower, abs=0.12 * sd)
    assert result.interval[1] == pytest.approx(upper, abs=0.12 * sd)
    assert BOOTSTRAP == 4000 and "4000 replicates" in result.method


# ------------------------------------------------------------------ n_to_decide, invariance copy


def _cp(k, n, alpha):
    lower = sps.beta.ppf(alpha, k, n - k + 1) if k > 0 else 0.0
    upper = sps.beta.ppf(1 - alpha, k + 1, n - k) if k < n else 1.0
    return lower, upper


@pytest.mark.parametrize("flips, bound", [(0, 0.004), (6, 0.015), (12, 0.02), (17, 0.02)])
def test_invariance_n_to_decide_is_the_first_grid_size_whose_clopper_pearson_bounds_decide(flips, bound):
    n = 600
    frame = pd.DataFrame({"sex": ["female", "male"] * (n // 2), "x": np.arange(n)})
    ts = FlipGenerator().generate(frame, ["sex"], held=["x"], seed=0)
    original = Predictions(decision=frame["x"].to_numpy() % 2 == 0, score=None)
    twin_decision = ts.twins["x"].to_numpy() % 2 == 0
    twin_decision[:flips] = ~twin_decision[:flips]  # the first ``flips`` records' twins flip
    result = invariance(ts, original, Predictions(decision=twin_decision, score=None), max_flip_rate=bound)
    assert result.verdict == "inconclusive"

    def decided(f):
        lo, hi = _cp(flips * f, n * f, 0.05)
        return hi <= bound or lo > bound

    assert result.n_to_decide == _first_decided(decided, n), result.n_to_decide
    assert (result.n_to_decide is None) == (flips == 12)  # 12 of 600 sits on a 2 % bound: never decided


# ------------------------------------------------------------------ n_to_decide, group-metrics copy (Bonferroni)


def _newcombe(k1, n1, k2, n2, alpha):
    z = sps.norm.ppf(1 - alpha)

    def wilson(k, n):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return p, max(centre - half, 0.0), min(centre + half, 1.0)

    (p1, l1, u1), (p2, l2, u2) = wilson(k1, n1), wilson(k2, n2)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def _records(cells):
    g, y, pred = [], [], []
    for name, (pos, tp, neg, fp) in cells.items():
        g += [name] * (pos + neg)
        y += [True] * pos + [False] * neg
        pred += [True] * tp + [False] * (pos - tp) + [True] * fp + [False] * (neg - fp)
    return pd.Series(g), np.array(y), np.array(pred)


@pytest.mark.parametrize("cells, bound", [
    # three groups, two rates: m = 3 pairs x 2 rates = 6. A TPR gap of 0.14 at a bound of 0.08 (decides FAIL).
    ({"a": (60, 42, 60, 6), "b": (60, 34, 60, 7), "c": (60, 38, 60, 6)}, 0.08),
    # all gaps small: decides PASS with more data
    ({"a": (60, 40, 60, 6), "b": (60, 39, 60, 7), "c": (60, 41, 60, 6)}, 0.15),
])
def test_group_n_to_decide_is_the_first_grid_size_whose_newcombe_bounds_decide(cells, bound):
    g, y, pred = _records(cells)
    result = checks.equalized_odds(y, pred, g, max_gap=bound)
    assert result.verdict == "inconclusive"
    rates = [(c[1], c[0]) for c in cells.values()], [(c[3], c[2]) for c in cells.values()]  # (k, n): TPR, FPR
    m = 3 * 2

    def decided(f):
        passing, failing = True, False
        for per_group in rates:
            for (k1, n1), (k2, n2) in [(per_group[i], per_group[j]) for i, j in ((0, 1), (0, 2), (1, 2))]:
                lo, hi = _newcombe(k1 * f, n1 * f, k2 * f, n2 * f, 0.05)
                lo_m, hi_m = _newcombe(k1 * f, n1 * f, k2 * f, n2 * f, 0.05 / m)
                passing &= lo >= -bound and hi <= bound
                failing |= lo_m > bound or hi_m < -bound
        return passing or failing

    assert result.n_to_decide == _first_decided(decided, len(g))


def test_newcombe_paired_reproduces_the_published_example():
    # Bentur et al. (2009), in Fagerland, Lydersen and Laake (2017), chapter 8: the paired table [[1, 1], [7, 12]],
    # Newcombe's hybrid score interval (method 10) at 95 % two-sided: (-0.5069, -0.0256).
    from fairprobe.checks.compare import newcombe_paired

    lower, upper = newcombe_paired(1, 1, 7, 12, alpha=0.025)
    assert (round(lower, 4), round(upper, 4)) == (-0.5069, -0.0256)
