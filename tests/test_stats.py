"""Confidence bounds against references, their coverage, and the verdicts' error rates.

Simulations use fixed seeds. A bound at level alpha should miss at most alpha of the time; the
tests allow Monte-Carlo error of three standard errors (stated in each test) on top of alpha.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from fairprobe import checks, stats

ALPHA = 0.05


def mc_slack(rate: float, reps: int) -> float:
    return 3 * math.sqrt(rate * (1 - rate) / reps)


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (17, 299), (0, 299), (250, 1000)])
def test_clopper_pearson_matches_scipy_exact_interval(k, n):
    lo, hi = stats.clopper_pearson(k, n, ALPHA)
    ref = binomtest(k, n).proportion_ci(confidence_level=1 - 2 * ALPHA, method="exact")
    assert float(lo) == pytest.approx(ref.low, abs=1e-9)
    assert float(hi) == pytest.approx(ref.high, abs=1e-9)


def test_zero_flips_in_299_records_certify_one_percent():
    assert float(stats.clopper_pearson(0, 299, 0.05)[1]) < 0.01
    assert float(stats.clopper_pearson(0, 298, 0.05)[1]) > 0.01


@pytest.mark.parametrize("k,n", [(0, 20), (7, 20), (45, 100), (999, 1000)])
def test_wilson_matches_scipy(k, n):
    lo, hi = stats.wilson(k, n, ALPHA)
    ref = binomtest(k, n).proportion_ci(confidence_level=1 - 2 * ALPHA, method="wilson")
    assert (float(lo), float(hi)) == pytest.approx((ref.low, ref.high), abs=1e-9)


def test_newcombe_reproduces_the_papers_example():
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, example (a): 56/70 - 48/80.
    lo, hi = stats.newcombe_difference(56, 70, 48, 80, 0.025)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.0524, 0.3339)


def test_empty_groups_get_vacuous_bounds():
    assert tuple(map(float, stats.wilson(0, 0))) == (0.0, 1.0)
    assert tuple(map(float, stats.newcombe_difference(0, 0, 3, 10))) == (-1.0, 1.0)
    lo, hi = stats.mover_ratio(3, 10, 0, 0)
    assert float(lo) == 0.0 and math.isinf(float(hi))


@pytest.mark.parametrize("p1,n1,p2,n2", [(0.3, 200, 0.4, 200), (0.6, 120, 0.5, 400), (0.1, 500, 0.12, 500)])
def test_one_sided_coverage_of_difference_and_ratio(p1, n1, p2, n2):
    reps = 20_000
    rng = np.random.default_rng(12)
    k1, k2 = rng.binomial(n1, p1, reps), rng.binomial(n2, p2, reps)
    for method, truth in ((stats.newcombe_difference, p1 - p2), (stats.mover_ratio, p1 / p2)):
        lo, hi = method(k1, n1, k2, n2, ALPHA)
        # each side misses at most alpha, plus Monte-Carlo error (3 SE) and 1 point for the score approximation
        assert np.mean(truth < lo) <= ALPHA + 0.01 + mc_slack(ALPHA, reps)
        assert np.mean(truth > hi) <= ALPHA + 0.01 + mc_slack(ALPHA, reps)


def test_invariance_verdict_error_rates_at_the_bound():
    """False FAIL just below the bound and false PASS just above it stay at or under alpha."""
    bound, n, reps = 0.05, 800, 50_000
    rng = np.random.default_rng(3)
    for p, wrong in ((0.045, stats.FAIL), (0.055, stats.PASS)):
        k = rng.binomial(n, p, reps)
        lo, hi = stats.clopper_pearson(k, n, ALPHA)
        verdicts = np.where(hi < bound, stats.PASS, np.where(lo > bound, stats.FAIL, stats.INCONCLUSIVE))
        rate = np.mean(verdicts == wrong)
        assert rate <= ALPHA + mc_slack(ALPHA, reps), (p, wrong, rate)


def _simulate_equalized_odds(gap: float, reps: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    n = 1200
    groups = pd.Series(np.repeat(["a", "b"], n // 2))
    verdicts = []
    for _ in range(reps):
        y = rng.random(n) < 0.5
        tpr = np.where(groups == "a", 0.7, 0.7 - gap)
        pred = np.where(y, rng.random(n) < tpr, rng.random(n) < 0.2)
        verdicts.append(checks.equalized_odds(y, pred, groups, max_gap=0.1).verdict)
    return pd.Series(verdicts).value_counts(normalize=True)


def test_equalized_odds_false_fail_and_false_pass_rates():
    """At a true TPR gap of 0.09 (bound 0.1), FAIL at most alpha; at 0.11, PASS at most alpha."""
    reps = 1000
    below = _simulate_equalized_odds(0.09, reps, seed=5)
    above = _simulate_equalized_odds(0.11, reps, seed=6)
    assert below.get("fail", 0.0) <= ALPHA + mc_slack(ALPHA, reps)
    assert above.get("pass", 0.0) <= ALPHA + mc_slack(ALPHA, reps)
    # and the check is not vacuous: far from the bound it decides
    far = _simulate_equalized_odds(0.3, 50, seed=7)
    assert far.get("fail", 0.0) == 1.0


def test_demographic_parity_ratio_false_pass_rate():
    """True selection-rate ratio 0.78 against min_ratio 0.8: PASS at most alpha (+3 SE)."""
    reps, n = 1000, 4000
    rng = np.random.default_rng(9)
    groups = pd.Series(np.repeat(["a", "b"], n // 2))
    p = np.where(groups == "a", 0.5, 0.39)
    passes = sum(checks.demographic_parity(rng.random(n) < p, groups, min_ratio=0.8).verdict == "pass"
                 for _ in range(reps))
    assert passes / reps <= ALPHA + mc_slack(ALPHA, reps)


def test_decide_and_n_to_decide():
    assert stats.decide(0.0, 0.02, low=-math.inf, high=0.01) == stats.INCONCLUSIVE
    # 3 flips in 300 records with a 2% bound: undecided now, decided with more records at that rate
    def undecided(k, n, bound):
        def at(f):
            lo, hi = stats.clopper_pearson(k * f, n * f, 0.05)
            return ~(hi < bound) & ~(lo > bound)
        return at

    needed = stats.n_to_decide(undecided(3, 300, 0.02), 300)
    assert needed is not None and 300 < needed < 3000
    assert not undecided(3, 300, 0.02)(np.array([needed / 300]))[0]
    assert undecided(3, 300, 0.02)(np.array([0.97 * needed / 300]))[0]
    # an estimate sitting on the bound is never decided
    assert stats.n_to_decide(undecided(2, 100, 0.02), 100) is None


def test_empirical_bernstein_covers_a_skewed_bounded_mean():
    """Shares of flipped twins (values in [0, 1], mostly 0): each side misses at most alpha (+3 SE)."""
    reps, n = 2000, 400
    rng = np.random.default_rng(11)
    values = np.where(rng.random((reps, n)) < 0.1, rng.integers(1, 11, (reps, n)) / 10, 0.0)
    truth = 0.1 * 0.55
    lo, hi = stats.bernstein_bounds(values.mean(axis=1), values.var(axis=1, ddof=1), n, ALPHA)
    assert np.mean(truth < lo) <= ALPHA + mc_slack(ALPHA, reps)
    assert np.mean(truth > hi) <= ALPHA + mc_slack(ALPHA, reps)
    assert np.all(hi - lo < 0.15)  # conservative, yet not vacuous at this n
    single = stats.empirical_bernstein(values[0], ALPHA)
    assert (float(single[0]), float(single[1])) == (float(lo[0]), float(hi[0]))


def test_empirical_bernstein_is_maurer_pontils_bound_exactly():
    # Theorem 4 of Maurer & Pontil (2009): the range term is 7 ln(2/alpha) / (3 (n - 1)), not 3 n.
    values = np.array([0.0, 0.1, 0.3, 0.0, 1.0, 0.2, 0.0, 0.5])
    n, alpha = len(values), 0.05
    log_term = np.log(2 / alpha)
    half = np.sqrt(2 * values.var(ddof=1) * log_term / n) + 7 * log_term / (3 * (n - 1))
    lower, upper = stats.empirical_bernstein(values, alpha)
    assert float(upper) == pytest.approx(min(1.0, values.mean() + half), rel=1e-12)
    lower, upper = stats.bernstein_bounds(0.5, 0.01, 400, alpha)
    half = np.sqrt(2 * 0.01 * log_term / 400) + 7 * log_term / (3 * 399)
    assert (float(lower), float(upper)) == (pytest.approx(0.5 - half, rel=1e-12), pytest.approx(0.5 + half, rel=1e-12))


def test_combine_needs_every_gate_to_pass():
    from fairprobe.verdicts import FAIL, INCONCLUSIVE, PASS, combine

    assert combine([PASS, PASS]) == PASS
    assert combine([PASS, FAIL]) == FAIL and combine([FAIL, PASS]) == FAIL
    assert combine([PASS, INCONCLUSIVE]) == INCONCLUSIVE and combine([INCONCLUSIVE, PASS]) == INCONCLUSIVE
    assert combine([INCONCLUSIVE, FAIL]) == FAIL


def _sequential_verdicts(p: float, bound: float, reps: int, limit: int, seed: int) -> list[str]:
    """Simulate Bernoulli(p) flip streams looked at on the sequential schedule; the verdict of each stream."""
    rng = np.random.default_rng(seed)
    looks = stats.sequential_looks(limit)
    sizes = np.diff(np.r_[0, looks])
    counts = np.cumsum(rng.binomial(sizes, p, size=(reps, len(sizes))), axis=1)  # (reps, looks)
    threshold = np.log(1 / 0.05)
    verdict = np.full(reps, "inconclusive", dtype=object)
    for j, n in enumerate(looks):
        open_ = verdict == "inconclusive"
        batch = np.c_[n - counts[:, j], counts[:, j]]  # (reps, 2): zeros and ones so far
        passes = stats.betting_log_capital([0.0, 1.0], bound, side="down", counts=batch) >= threshold
        fails = stats.betting_log_capital([0.0, 1.0], bound, side="up", counts=batch) >= threshold
        verdict[open_ & passes] = "pass"
        verdict[open_ & ~passes & fails] = "fail"
    return list(verdict)


@pytest.mark.parametrize("wrong", ["pass", "fail"])
def test_sequential_decisions_keep_false_verdicts_under_alpha_at_the_bound(wrong):
    # The true flip rate sits on the bound (1 %), looked at 32 times up to 3,000 records: a PASS and a FAIL
    # are both wrong there. Rate checked: each at most alpha (0.05) + 3 standard errors over 5,000 seeded
    # streams (measured: 2.4 % false PASS, 0.3 % false FAIL over 20,000).
    reps = 5000
    verdicts = _sequential_verdicts(0.01, 0.01, reps, 3000, seed=11 if wrong == "pass" else 12)
    rate = verdicts.count(wrong) / reps
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / reps), rate


def test_sequential_decisions_stop_early_when_the_answer_is_clear():
    assert set(_sequential_verdicts(0.0, 0.01, 50, 3000, seed=1)) == {"pass"}
    assert set(_sequential_verdicts(0.3, 0.01, 50, 3000, seed=2)) == {"fail"}
    # A spotless record decides PASS at a 1 % bound after 380 records; the fixed-sample design needs 299.
    assert str(stats.sequential_decide([0.0], 0.01, counts=[380])) == "pass"
    assert str(stats.sequential_decide([0.0], 0.01, counts=[280])) == "inconclusive"


def test_betting_bounds_cover_the_mean_at_every_look():
    # Anytime validity: the true mean stays inside the upper bound at every look of a stream (the bound
    # excludes m exactly when the capital against "mean >= m" reaches 1/alpha), in at least 1 - alpha of
    # seeded streams. Rate checked: misses <= 0.05 + 3 SE over 400 streams of skewed shares in [0, 1].
    rng = np.random.default_rng(5)
    reps, misses, mean = 400, 0, 0.5 / 8.5
    for _ in range(reps):
        values = rng.beta(0.5, 8, size=600)
        if any(stats.betting_log_capital(values[:n], mean, side="down") >= np.log(20) for n in (20, 60, 150, 300, 600)):
            misses += 1
    assert misses / reps <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / reps)
    lower, upper = stats.betting_bounds(values, 0.05)
    assert lower < values.mean() < upper
    assert stats.betting_log_capital(values, upper + 1e-3, side="down") >= np.log(20)  # the bound is where it crosses


@pytest.mark.parametrize("a,b", [(0, 0), (9, 1), (1, 9), (5, 5), (30, 12), (0, 7), (120, 95), (3, 4)])
def test_mcnemar_exact_equals_scipys_binomial_test(a, b):
    from scipy.stats import binomtest

    expected = 1.0 if a + b == 0 else binomtest(a, a + b, 0.5).pvalue
    assert stats.mcnemar_exact(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(("fn", "args"), [
    (stats.clopper_pearson, ([0, 3, 10], [10, 10, 10])),
    (stats.wilson, ([0, 3, 10], [10, 12, 10])),
    (stats.newcombe_difference, ([0, 3, 10], [10, 12, 10], [5, 5, 1], [10, 10, 20])),
    (stats.mover_ratio, ([1, 3, 10], [10, 12, 10], [5, 5, 1], [10, 10, 20])),
    (stats.bernstein_bounds, ([0.1, 0.2, 0.5], [0.09, 0.16, 0.25], [50, 100, 400])),
])
def test_the_interval_functions_broadcast_as_the_module_says(fn, args):
    """The module docstring names these as broadcasting: arrays in, each element as its scalars would give."""
    lower, upper = fn(*(np.asarray(a) for a in args))
    assert np.shape(lower) == np.shape(upper) == (3,)
    for i in range(3):
        lo, hi = fn(*(a[i] for a in args))
        assert (float(lower[i]), float(upper[i])) == (float(lo), float(hi))
