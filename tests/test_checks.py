"""Checks against fairlearn on the same data, and the invariance check on known twins."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)

import fairprobe as fp
from fairprobe import checks
from fairprobe.adapters import Predictions
from fairprobe.twins import FlipGenerator


@pytest.fixture(scope="module")
def labelled():
    rng = np.random.default_rng(42)
    n = 5000
    sex = rng.choice(["female", "male"], n, p=[0.45, 0.55])
    race = rng.choice(["white", "black", "asian"], n, p=[0.6, 0.25, 0.15])
    y = rng.random(n) < np.where(sex == "male", 0.5, 0.4)
    pred = np.where(y, rng.random(n) < np.where(race == "black", 0.6, 0.75), rng.random(n) < 0.2)
    return pd.DataFrame({"sex": sex, "race": race, "y": y, "pred": pred})


def _by_group(result):
    return {g["group"]: g for g in result.groups}


@pytest.mark.parametrize("attributes", [["sex"], ["race"], ["sex", "race"]])
def test_equalized_odds_rates_equal_fairlearn(labelled, attributes):
    groups = fp.twins.group_labels(labelled, attributes)
    result = checks.equalized_odds(labelled["y"], labelled["pred"], groups, max_gap=0.1, attributes=attributes)
    frame = MetricFrame(metrics={"tpr": true_positive_rate, "fpr": false_positive_rate, "sel": selection_rate},
                        y_true=labelled["y"], y_pred=labelled["pred"],
                        sensitive_features=labelled[attributes])
    ours = _by_group(result)
    for key, row in frame.by_group.iterrows():
        name = "|".join(key) if isinstance(key, tuple) else key
        assert ours[name]["TPR"] == pytest.approx(row["tpr"], abs=1e-12)
        assert ours[name]["FPR"] == pytest.approx(row["fpr"], abs=1e-12)
        assert ours[name]["selection_rate"] == pytest.approx(row["sel"], abs=1e-12)
    reference = equalized_odds_difference(labelled["y"], labelled["pred"],
                                          sensitive_features=labelled[attributes])
    assert result.statistic == pytest.approx(reference, abs=1e-12)


def test_demographic_parity_equals_fairlearn(labelled):
    groups = labelled["race"]
    gap = checks.demographic_parity(labelled["pred"], groups, max_gap=0.1)
    ratio = checks.demographic_parity(labelled["pred"], groups, min_ratio=0.8)
    ref_gap = demographic_parity_difference(labelled["y"], labelled["pred"], sensitive_features=groups)
    ref_ratio = demographic_parity_ratio(labelled["y"], labelled["pred"], sensitive_features=groups)
    assert gap.statistic == pytest.approx(ref_gap, abs=1e-12)
    assert ratio.statistic == pytest.approx(ref_ratio, abs=1e-12)


def test_equalized_odds_catches_a_tpr_gap_and_names_the_pair(labelled):
    result = checks.equalized_odds(labelled["y"], labelled["pred"], labelled["race"], max_gap=0.05)
    assert result.verdict == "fail"
    worst = result.details["worst_pair"]
    assert worst["rate"] == "TPR" and "black" in (worst["group_a"], worst["group_b"])
    assert result.interval[0] > 0.05  # oriented as a positive gap, lower bound beyond the bound


def test_interval_of_a_passing_check_is_inside_the_bound(labelled):
    result = checks.equalized_odds(labelled["y"], labelled["pred"], labelled["sex"], max_gap=0.1)
    assert result.verdict == "pass"
    assert all(-0.1 < p["lower"] and p["upper"] < 0.1 for p in result.pairs)


def test_small_group_is_reported_not_dropped():
    rng = np.random.default_rng(0)
    groups = pd.Series(["a"] * 2000 + ["b"] * 2000 + ["tiny"] * 6)
    y = rng.random(len(groups)) < 0.5
    result = checks.equalized_odds(y, y, groups, max_gap=0.05)
    assert result.verdict == "inconclusive"  # the tiny group's rates cannot be pinned down
    assert "tiny" in _by_group(result)
    excluded = checks.equalized_odds(y, y, groups, max_gap=0.05, min_group_size=30)
    assert excluded.verdict == "pass"
    assert _by_group(excluded)["tiny"]["status"] == "excluded: too small"
    assert any("'tiny' excluded" in note for note in excluded.details["notes"])
    assert "tiny" in excluded.report()


def test_group_without_positives_has_undefined_tpr_and_cannot_pass():
    groups = pd.Series(["a"] * 500 + ["b"] * 500)
    y = np.r_[np.ones(250, bool), np.zeros(250, bool), np.zeros(500, bool)]
    result = checks.equalized_odds(y, y, groups, max_gap=0.2)
    assert _by_group(result)["b"]["TPR"] is None
    assert result.verdict != "pass"
    assert any("has no positives" in note for note in result.details["notes"])


def test_inconclusive_result_says_how_many_records_would_decide():
    rng = np.random.default_rng(1)
    groups = pd.Series(rng.choice(["a", "b"], 300))
    pred = rng.random(300) < 0.5
    result = checks.demographic_parity(pred, groups, max_gap=0.08)
    assert result.verdict == "inconclusive"
    assert result.n_to_decide is not None and result.n_to_decide > 300
    assert "would decide it" in result.report()


def test_demographic_parity_with_both_gates_needs_both():
    groups = pd.Series(["a"] * 3000 + ["b"] * 3000)
    pred = np.r_[np.arange(3000) < 300, np.arange(3000) < 180]  # 10% vs 6%: gap 0.04, ratio 0.6
    both = checks.demographic_parity(pred, groups, max_gap=0.1, min_ratio=0.8)
    assert both.verdict == "fail"
    assert checks.demographic_parity(pred, groups, max_gap=0.1).verdict == "pass"
    gate = both.details["gates"]["selection-rate gap"]
    assert gate["verdict"] == "pass"


# ------------------------------------------------------------------ invariance


@pytest.fixture(scope="module")
def twins():
    df = pd.DataFrame({"sex": ["f", "m"] * 300, "x": np.arange(600)})
    return df, FlipGenerator().generate(df, ["sex"], held=["x"], seed=0)


def _predict(frame, favour_m: bool):
    score = frame["x"].to_numpy() / 600 + np.where((frame["sex"] == "m") & favour_m, 0.3, 0.0)
    return Predictions(decision=score >= 0.5, score=score)


def test_invariance_counts_flipped_records_and_direction(twins):
    df, ts = twins
    result = checks.invariance(ts, _predict(df, True), _predict(ts.twins, True), max_flip_rate=0.01)
    # records with x/600 in [0.2, 0.5) flip: 180 of 600
    assert result.details["flipped_records"] == 180 and result.n == 600
    assert result.verdict == "fail"
    assert result.interval[0] < 0.3 < result.interval[1]
    direction = result.pairs[0]
    assert direction["favoured"] == "m" and direction["favour_a"] == 0 and direction["favour_b"] == 180
    assert len(result.counterexamples) == 5
    assert all(ex["changes"].keys() == {"sex"} for ex in result.counterexamples)
    assert all(ex["original_decision"] != ex["twin_decision"] for ex in result.counterexamples)


def test_invariance_passes_a_model_blind_to_the_attribute(twins):
    df, ts = twins
    result = checks.invariance(ts, _predict(df, False), _predict(ts.twins, False), max_flip_rate=0.01)
    assert result.verdict == "pass" and result.statistic == 0 and result.counterexamples == []


def test_score_change_gate(twins):
    df, ts = twins

    def nudge(frame):
        score = frame["x"].to_numpy() / 600 + np.where(frame["sex"] == "m", 0.05, 0.0)
        return Predictions(decision=np.zeros(len(frame), bool), score=score)  # decisions never change

    result = checks.invariance(ts, nudge(df), nudge(ts.twins), max_flip_rate=0.01, max_score_change=0.01)
    assert result.statistic == 0
    gate = result.details["gates"]["rate of |score change| > 0.01"]
    assert gate["statistic"] == 1.0 and gate["verdict"] == "fail"
    assert result.verdict == "fail"
    loose = checks.invariance(ts, nudge(df), nudge(ts.twins), max_flip_rate=0.01, max_score_change=0.1)
    assert loose.verdict == "pass"
    assert result.details["score_change"]["max_abs"] == pytest.approx(0.05)


def test_invalid_twins_are_not_scored(twins):
    df, ts = twins
    from dataclasses import replace

    half = replace(ts, valid=np.arange(len(ts)) % 2 == 0)
    result = checks.invariance(half, _predict(df, True), _predict(ts.twins, True), max_flip_rate=0.01)
    assert result.n == 300 and result.details["valid_twins"] == 300


def test_certify_mode_fails_the_build_on_inconclusive(twins):
    df, ts = twins
    few = checks.invariance(ts, _predict(df, False), _predict(ts.twins, False), max_flip_rate=0.004)
    assert few.verdict == "inconclusive" and not few.fails_build  # 0 of 600 cannot certify 0.4 %
    strict = checks.invariance(ts, _predict(df, False), _predict(ts.twins, False), max_flip_rate=0.004,
                               mode="certify")
    assert strict.fails_build
    assert 600 < strict.n_to_decide < 800  # 0 flips need n with 0.996^n < 0.05: 748


def test_bonferroni_divides_alpha_by_pairs_times_rates():
    # Two groups, two rates (TPR and FPR): m = 2 comparisons, so a FAIL needs the pair outside at alpha / 2.
    from fairprobe import stats

    n = 400
    groups = pd.Series(["a"] * n + ["b"] * n)
    y = np.tile(np.r_[np.ones(200, bool), np.zeros(200, bool)], 2)
    pred = np.r_[np.arange(200) < 108, np.zeros(200, bool), np.arange(200) < 80, np.zeros(200, bool)]
    result = checks.equalized_odds(y, pred, groups, max_gap=0.05)
    assert result.details["comparisons"] == 2
    tpr = next(p for p in result.pairs if p["rate"] == "TPR")
    lower_m, _ = stats.newcombe_difference(108, 200, 80, 200, 0.05 / 2)
    lower_1, _ = stats.newcombe_difference(108, 200, 80, 200, 0.05)
    assert tpr["lower_corrected"] == pytest.approx(float(lower_m), abs=1e-12)
    # The TPR gap (0.14) is beyond 0.05 at alpha (lower bound 0.058) but not at alpha / 2 (0.042): not yet a FAIL.
    assert float(lower_1) > 0.05 > float(lower_m)
    assert result.verdict == "inconclusive"


def test_invariance_counts_records_not_twins():
    # Race with four values: three twins per record; the model flips only for twins sent to "asian".
    df = pd.DataFrame({"race": ["white", "black", "hispanic", "asian"] * 100, "x": np.arange(400)})
    ts = FlipGenerator().generate(df, ["race"], held=["x"], seed=0)
    assert len(ts) == 3 * len(df)
    decide = lambda frame: Predictions((frame["race"] == "asian").to_numpy(), None)  # noqa: E731
    result = checks.invariance(ts, decide(df), decide(ts.twins), max_flip_rate=0.5)
    # Every non-asian record has exactly one flipped twin (to asian); every asian record flips in all three.
    assert result.statistic == 1.0
    assert result.details["flipped_records"] == 400 and result.details["changed_twins"] == 300 + 300
    only_white = lambda frame: Predictions(((frame["race"] == "white") & (frame["x"] < 40)).to_numpy(), None)  # noqa: E731
    result = checks.invariance(ts, only_white(df), only_white(ts.twins), max_flip_rate=0.5)
    # Records 0..39: the 10 white ones flip in all 3 twins; the 30 others flip in their twin to white.
    assert result.details["flipped_records"] == 40 and result.statistic == pytest.approx(40 / 400)


def test_a_failing_score_gate_fails_a_passing_flip_gate(twins):
    df, ts = twins
    nudge = lambda frame: Predictions((frame["x"] > 10**6).to_numpy(), np.where(frame["sex"] == "m", 0.2, 0.1))  # noqa: E731
    result = checks.invariance(ts, nudge(df), nudge(ts.twins), max_flip_rate=0.01, max_score_change=0.05)
    assert result.details["gates"]["rate of |score change| > 0.05"]["verdict"] == "fail"
    assert result.verdict == "fail"
