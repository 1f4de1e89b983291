"""Group metrics against fairlearn on cases where each rate is the worst in turn, and one definition of the
rates for the verdict and for the table shown."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (MetricFrame, demographic_parity_difference, equalized_odds_difference,
                               false_positive_rate, selection_rate, true_positive_rate)

from fairprobe.checks import group_metrics as gm


def _records(cells):
    """Records from {group: (positives, true positives, negatives, false positives)}."""
    g, y, pred = [], [], []
    for name, (pos, tp, neg, fp) in cells.items():
        g += [name] * (pos + neg)
        y += [True] * pos + [False] * neg
        pred += [True] * tp + [False] * (pos - tp) + [True] * fp + [False] * (neg - fp)
    return pd.Series(g), np.array(y), np.array(pred)


# In each case a different rate has the largest gap; the negatives are few beside the positives in some
# groups, so a rate over all records (not over the negatives, or not over the positives) differs from it.
CASES = {
    "FPR worst": {"a": (600, 420, 200, 20), "b": (300, 200, 500, 150)},   # TPR .70/.67, FPR .10/.30
    "TPR worst": {"a": (200, 180, 600, 60), "b": (500, 250, 300, 36)},    # TPR .90/.50, FPR .10/.12
    "FPR worst, three groups": {"a": (400, 300, 100, 5), "b": (100, 70, 400, 60), "c": (250, 180, 250, 90)},
}


@pytest.mark.parametrize("case", CASES)
def test_equalized_odds_equals_fairlearn_where_each_rate_is_the_worst(case):
    g, y, pred = _records(CASES[case])
    result = gm.equalized_odds(y, pred, g, max_gap=0.05)
    assert result.statistic == pytest.approx(equalized_odds_difference(y, pred, sensitive_features=g), abs=1e-12)
    worst = result.details["worst_pair"]["rate"]
    assert worst == ("FPR" if case.startswith("FPR") else "TPR")
    frame = MetricFrame(metrics={"TPR": true_positive_rate, "FPR": false_positive_rate,
                                 "selection_rate": selection_rate},
                        y_true=y, y_pred=pred, sensitive_features=g).by_group
    for row in result.groups:  # the table shown: fairlearn's rates
        for rate in ("TPR", "FPR", "selection_rate"):
            assert row[rate] == pytest.approx(frame.loc[row["group"], rate], abs=1e-12)
    shown = {row["group"]: row for row in result.groups}
    for pair in result.pairs:  # the rates that decide are the rates shown
        a, b = shown[pair["group_a"]], shown[pair["group_b"]]
        assert pair["estimate"] == pytest.approx(a[pair["rate"]] - b[pair["rate"]], abs=1e-12)


def test_demographic_parity_table_and_verdict_agree_with_fairlearn():
    g, y, pred = _records(CASES["FPR worst, three groups"])
    result = gm.demographic_parity(pred, g, max_gap=0.05)
    assert result.statistic == pytest.approx(demographic_parity_difference(y, pred, sensitive_features=g), abs=1e-12)
    shown = {row["group"]: row["selection_rate"] for row in result.groups}
    for pair in result.pairs:
        assert pair["estimate"] == pytest.approx(shown[pair["group_a"]] - shown[pair["group_b"]], abs=1e-12)


def test_min_group_size_excludes_below_and_keeps_a_group_of_exactly_that_size():
    cells = {"a": (300, 210, 300, 30), "b": (300, 200, 300, 40), "c": (50, 10, 49, 40)}
    g, y, pred = _records(cells)
    at_49 = gm.equalized_odds(y, pred, g, max_gap=0.1, min_group_size=49)
    at_50 = gm.equalized_odds(y, pred, g, max_gap=0.1, min_group_size=50)
    status = {row["group"]: row["status"] for row in at_49.groups}
    assert status["c"] == "included"  # 49 negatives, min_group_size=49: not too small
    assert {row["group"]: row["status"] for row in at_50.groups}["c"] == "excluded: too small"
    assert any("'c' excluded from the verdict" in note for note in at_50.details["notes"])
    assert not any("'c' excluded" in note for note in at_49.details["notes"])
    dp = gm.demographic_parity(pred, g, max_gap=0.1, min_group_size=99)  # group c has 99 records
    assert {row["group"]: row["status"] for row in dp.groups}["c"] == "included"
    dp = gm.demographic_parity(pred, g, max_gap=0.1, min_group_size=100)
    assert {row["group"]: row["status"] for row in dp.groups}["c"] == "excluded: too small"


def test_a_group_check_on_decisions_that_are_all_the_same_says_so():
    g = pd.Series(["a", "b"] * 300)
    y = np.arange(600) % 3 == 0
    for decisions, what in ((np.zeros(600, bool), "unfavourable"), (np.ones(600, bool), "favourable")):
        for result in (gm.demographic_parity(decisions, g, max_gap=0.1),
                       gm.equalized_odds(y, decisions, g, max_gap=0.1)):
            assert any(w.startswith(f"degenerate: every decision is {what}") for w in result.warnings)
        assert gm.demographic_parity(decisions, g, max_gap=0.1, mode="certify").verdict == "inconclusive"
    mixed = gm.demographic_parity(np.arange(600) % 2 == 0, g, max_gap=0.1)
    assert not any(w.startswith("degenerate") for w in mixed.warnings)
