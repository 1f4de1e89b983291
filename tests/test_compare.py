"""A candidate against the model in production: paired differences on the same records and twins."""

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe.checks.compare import newcombe_paired, no_worse_group_metric

FEATURES = ["sex", "race", "skills_score"]


@pytest.fixture(scope="module")
def world():
    return fp.worlds.hiring(n=4000, seed=2)


def production(frame):
    return (frame["skills_score"] > 50).to_numpy()


def favours_men(frame):
    return ((frame["skills_score"] > 50) | ((frame["sex"] == "male") & (frame["skills_score"] > 48))).to_numpy()


@pytest.mark.parametrize("check", ["invariance", "equalized_odds", "demographic_parity"])
def test_a_worse_candidate_fails_and_an_equal_one_passes(world, check):
    worse = fp.Probe(data=world.data, model=favours_men, protected=["sex"], label="hired", features=FEATURES)
    result = worse.compare(production, "sex", check=check, max_increase=0.01)
    assert result.verdict == "fail" and result.interval[0] > 0.01
    assert result.context["baseline_model"]["description"] == "production"  # both fingerprints in the evidence
    assert result.context["model"]["description"] == "favours_men"
    same = fp.Probe(data=world.data, model=lambda f: (f["skills_score"] > 50).to_numpy(), protected=["sex"],
                    label="hired", features=FEATURES)
    tie = same.compare(production, "sex", check=check, max_increase=0.01)
    assert tie.verdict == "pass" and tie.statistic == 0.0


def test_a_better_candidate_passes_against_a_biased_baseline(world):
    better = fp.Probe(data=world.data, model=production, protected=["sex"], features=FEATURES)
    result = better.compare(favours_men, "sex", max_increase=0.0)
    assert result.verdict == "pass" and result.interval[1] < 0
    with pytest.raises(fp.FairnessViolation, match="no worse than the baseline: invariance across sex"):
        fp.Probe(data=world.data, model=favours_men, protected=["sex"], features=FEATURES).assert_no_worse_than(
            production, "sex", max_increase=0.01)


def test_bad_comparisons_are_named(world):
    probe = fp.Probe(data=world.data, model=production, protected=["sex"], features=FEATURES)
    with pytest.raises(fp.InvalidSpec, match=r"max_increase must be a number in \[0, 1\)"):
        probe.compare(favours_men, "sex", max_increase=-0.1)
    with pytest.raises(fp.InvalidSpec, match="unknown check to compare 'parity'"):
        probe.compare(favours_men, "sex", check="parity")
    with pytest.raises(fp.InvalidSpec, match="comparing equalized odds needs ground truth"):
        probe.compare(favours_men, "sex", check="equalized_odds")


@pytest.mark.parametrize("cells", [(0.01, 0.02, 0.01), (0.0, 0.05, 0.05), (0.2, 0.1, 0.05)])
def test_newcombe_paired_bounds_keep_one_sided_coverage(cells):
    # Rate checked: each one-sided bound misses the true paired difference in at most alpha (0.05) + 3 SE of
    # 3,000 seeded tables of 300 pairs.
    rng = np.random.default_rng(4)
    both, first, second = cells
    truth, reps = first - second, 3000
    draws = rng.multinomial(300, [both, first, second, 1 - both - first - second], size=reps)
    bounds = np.array([newcombe_paired(*row, alpha=0.05) for row in draws])
    limit = 0.05 + 3 * np.sqrt(0.05 * 0.95 / reps)
    assert (bounds[:, 0] > truth).mean() <= limit
    assert (bounds[:, 1] < truth).mean() <= limit


def test_paired_bootstrap_bounds_keep_one_sided_coverage():
    # Two models that share most decisions; the true difference of their selection-rate gaps is known from
    # the population. Rate checked: misses of each bound <= alpha + 3 SE over 300 seeded samples of 2,000.
    rng = np.random.default_rng(8)
    reps, n, misses_low, misses_high = 300, 2000, 0, 0
    p_group = {"a": 0.5, "b": 0.5}
    sel_base = {"a": 0.40, "b": 0.35}
    sel_cand = {"a": 0.42, "b": 0.33}  # candidate gap 0.09 vs baseline 0.05: difference 0.04
    for _ in range(reps):
        g = rng.choice(list(p_group), n)
        u = rng.random(n)
        base = u < pd.Series(g).map(sel_base).to_numpy()
        cand = u < pd.Series(g).map(sel_cand).to_numpy()
        result = no_worse_group_metric(None, cand, base, pd.Series(g), metric="demographic_parity",
                                       max_increase=0.01, seed=int(rng.integers(1000)))
        misses_low += result.interval[0] > 0.04
        misses_high += result.interval[1] < 0.04
    limit = 0.05 + 3 * np.sqrt(0.05 * 0.95 / reps)
    assert misses_low / reps <= limit and misses_high / reps <= limit
