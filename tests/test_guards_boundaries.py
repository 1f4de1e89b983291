"""Verdicts at the bound: the acceptable region is closed (PASS at an upper bound equal to the bound)."""

import math

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe import stats
from fairprobe.checks.compare import no_worse_group_metric


def test_decide_passes_at_the_bound_and_fails_only_strictly_beyond_it():
    assert stats.decide(0.0, 0.0, low=-math.inf, high=0.0) == "pass"
    assert stats.decide(0.005, 0.01, low=-math.inf, high=0.01) == "pass"
    assert stats.decide(0.01, 0.02, low=-math.inf, high=0.01) == "inconclusive"  # lower on the bound: may be at it
    assert stats.decide(0.0101, 0.02, low=-math.inf, high=0.01) == "fail"
    assert stats.decide(0.8, 0.9, low=0.8, high=math.inf) == "pass"  # a ratio of exactly min_ratio is acceptable
    assert stats.decide(0.7, 0.8, low=0.8, high=math.inf) == "inconclusive"
    assert stats.decide(0.7, 0.7999, low=0.8, high=math.inf) == "fail"


def test_decide_pairs_uses_the_same_closed_rule():
    at = (np.array([0.0, -0.1]), np.array([0.05, 0.05]))
    assert stats.decide_pairs(at, at, low=-0.05, high=0.05) == "inconclusive"  # -0.1 below low
    inside = (np.array([-0.05, 0.0]), np.array([0.05, 0.05]))
    assert stats.decide_pairs(inside, inside, low=-0.05, high=0.05) == "pass"
    beyond = (np.array([0.0, 0.05]), np.array([0.05, 0.1]))
    assert stats.decide_pairs(beyond, beyond, low=-0.05, high=0.05) == "inconclusive"  # lower on the bound


@pytest.mark.parametrize("metric", ["demographic_parity", "equalized_odds"])
def test_a_candidate_exactly_as_fair_as_the_baseline_passes_at_max_increase_zero(metric):
    rng = np.random.default_rng(3)
    n = 3000
    groups = pd.Series(rng.choice(["a", "b"], n))
    y = rng.random(n) < 0.4
    decisions = rng.random(n) < np.where(groups == "a", 0.5, 0.4)
    result = no_worse_group_metric(y, decisions.copy(), decisions.copy(), groups, metric=metric, max_increase=0.0)
    assert result.interval == (0.0, 0.0)
    assert result.verdict == "pass"


def test_probe_compare_with_its_default_bound_passes_an_equal_candidate():
    world = fp.worlds.hiring(n=2000, seed=2)

    def production(frame):
        return (frame["skills_score"] > 50).to_numpy()

    same = fp.Probe(data=world.data, model=lambda f: (f["skills_score"] > 50).to_numpy(), protected=["sex"],
                    label="hired", features=["sex", "race", "skills_score"])
    tie = same.compare(production, "sex", check="demographic_parity")  # default max_increase=0.0
    assert tie.bound == 0.0 and tie.interval == (0.0, 0.0) and tie.verdict == "pass"
    # A candidate that is worse on the gap, by however little, cannot pass at 0.
    worse = fp.Probe(data=world.data, protected=["sex"], label="hired", features=["sex", "race", "skills_score"],
                     model=lambda f: ((f["skills_score"] > 50) | ((f["sex"] == "male") & (f["skills_score"] > 49)))
                     .to_numpy())
    assert worse.compare(production, "sex", check="demographic_parity").verdict != "pass"
