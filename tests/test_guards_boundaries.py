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


# ----------------------------------------------------------------------- the printed sign follows the closed rule

def _at_the_bound(comparison, interval, verdict, bound=None):
    from fairprobe.result import CheckResult
    from fairprobe.verdicts import CheckKind

    if bound is None:
        bound = interval[1] if comparison == "<" else interval[0]
    return CheckResult(check=CheckKind.INVARIANCE, attributes=("sex",), statistic=interval[0], statistic_name="flip rate",
                       interval=interval, bound=bound, comparison=comparison, verdict=verdict, alpha=0.05, n=60,
                       method="Clopper-Pearson")


def test_a_pass_at_the_bound_prints_the_bound_as_inclusive_everywhere():
    """PASS at an upper bound equal to the bound: every text says <= (never <, which the verdict would contradict)
    and the reason does not call the upper bound "below" it."""
    from fairprobe.session import _cells, property_value

    result = _at_the_bound("<", (0.0, 0.05), "pass")
    assert "bound <= 0.05 (n=60)" in result.summary()
    report = result.report()
    assert "  bound      flip rate <= 0.05\n" in report
    assert "verdict    PASS in detect mode: the upper bound 0.05 is at 0.05" in report
    record = result.to_dict() | {"test": None, "test_outcome": None}
    assert record["comparison"] == "<"  # the record keeps the side; only the text shows the closed rule
    assert " bound=<=0.05 " in property_value(record)
    assert _cells(record, str)[2] == "<= 0.05"
    html = fp.evidence.render_html(fp.Evidence().to_dict() | {"checks": [record]})
    assert "&lt;= 0.05" in html and "&lt; 0.05" not in html
    ratio = _at_the_bound(">", (0.8, 0.95), "pass")  # a minimum (min_ratio): a ratio equal to it passes
    assert "bound >= 0.8 (n=60)" in ratio.summary() and "  bound      flip rate >= 0.8\n" in ratio.report()
    assert "the upper bound 0.04 is below 0.05" in _at_the_bound("<", (0.0, 0.04), "pass", bound=0.05).report()
