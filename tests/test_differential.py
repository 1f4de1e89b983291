"""Differential and metamorphic tests (issue #22): fairprobe's group figures against fairlearn, aif360,
statsmodels and scipy on generated tables, the README's reading of every output kind, and renaming or
reordering groups, which must change no statistic, interval or verdict.

The tables (tests/differential.py) hold never-selected and always-selected groups, groups with a handful
of selections, groups without positives or negatives, and 2-5 groups of 1-150 records. Hypothesis runs
derandomized (a fixed sequence of examples), so a run is repeatable; ``scripts/differential_run.py`` runs
the same comparisons on many more seeded tables and prints the case count and mismatches.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fairprobe as fp
from fairprobe import checks, stats

from differential import (ALPHA, aif360_pairs, clopper_pearson, draw_table, fairlearn_figures, mover_r, newcombe,
                          read_by_hand, reference_verdict, wilson)

def fixed(examples: int) -> settings:
    """Derandomized: the same examples every run, none stored between runs."""
    return settings(derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                    max_examples=examples)
tables = st.integers(0, 2**32 - 1).map(lambda seed: draw_table(np.random.default_rng(seed)))
# Names that sort in other orders, that look like numbers, and that hold the intersection separator.
NAME_POOL = ("a", "b", "0", "10", "9", "Z", "x|y", "y|z", "é", " b", "None", "nan", "B", "1.0")


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def group_checks(rows, *, attributes=("g",)):
    """fairprobe's three group statistics on the rows: DP ratio, DP gap, EO gap (detect mode)."""
    groups = rows["g"].reset_index(drop=True)
    return {"ratio": quiet(checks.demographic_parity, rows["y_pred"], groups, min_ratio=0.8, attributes=attributes),
            "gap": quiet(checks.demographic_parity, rows["y_pred"], groups, max_gap=0.1, attributes=attributes),
            "eo": quiet(checks.equalized_odds, rows["y_true"], rows["y_pred"], groups, max_gap=0.1,
                        attributes=attributes)}


def same(a, b, tol=1e-9):
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# ----------------------------------------------------------------------- fairlearn


@fixed(45)
@given(tables)
def test_group_rates_and_statistics_equal_fairlearns_metric_frame(table):
    check_against_fairlearn(table, functions=False)


@fixed(12)
@given(tables)
def test_group_statistics_equal_fairlearns_dp_and_eo_functions(table):
    check_against_fairlearn(table, functions=True)


def check_against_fairlearn(table, *, functions):
    rows = table.rows()
    ours = group_checks(rows)
    theirs = fairlearn_figures(rows, functions=functions)
    by_group = theirs["by_group"]
    for result, rates in ((ours["gap"], ["selection_rate"]), (ours["eo"], ["TPR", "FPR", "selection_rate"])):
        for row in result.groups:
            for rate in rates:
                expected = by_group.loc[row["group"], rate]
                undefined = (rate == "TPR" and row["positives"] == 0) or (rate == "FPR" and row["negatives"] == 0)
                if undefined:
                    # Deliberately not fairlearn: it reads a TPR without positives as 0; fairprobe says undefined.
                    assert row[rate] is None and expected == 0.0
                else:
                    assert same(row[rate], expected), (row["group"], rate)
    assert same(ours["gap"].statistic, theirs["dp_difference"])
    assert same(ours["ratio"].statistic, theirs["dp_ratio"])  # 0 where a group is never selected; nan where all
    if all(p > 0 for p in table.positives) and all(p < n for p, n in zip(table.positives, table.n)):
        assert same(ours["eo"].statistic, theirs["eo_difference"])
    else:  # the largest gap over the rates that are defined, and a check that cannot pass
        defined = by_group[["TPR", "FPR"]].copy()
        defined.loc[[p == 0 for p in table.positives], "TPR"] = np.nan
        defined.loc[[p == n for p, n in zip(table.positives, table.n)], "FPR"] = np.nan
        comparable = defined.loc[:, defined.count() >= 2]  # a rate defined in one group only has no gap
        spread = (comparable.max() - comparable.min()).max() if comparable.shape[1] else math.nan
        assert same(ours["eo"].statistic, spread)
        assert ours["eo"].verdict != "pass"


# ----------------------------------------------------------------------- aif360


@fixed(15)
@given(tables)
def test_pairwise_figures_equal_aif360s(table):
    rows = table.rows()
    ours = group_checks(rows)
    pairs = aif360_pairs(rows)
    folded = [0.0 if di == math.inf else (min(di, 1 / di) if di > 0 else 0.0) for di in (p["di"] for p in pairs)
              if not math.isnan(di)]
    assert same(ours["ratio"].statistic, min(folded) if folded else math.nan)
    assert same(ours["gap"].statistic, max(abs(p["spd"]) for p in pairs))
    eo = [abs(p[k]) for p in pairs for k in ("tpr_diff", "fpr_diff") if not math.isnan(p[k])]
    if all(p > 0 for p in table.positives) and all(p < n for p, n in zip(table.positives, table.n)):
        assert same(ours["eo"].statistic, max(eo))
    # each pair's estimate, as fairprobe orders it, is aif360's (or its reciprocal / negation)
    spd = {(p["a"], p["b"]): p["spd"] for p in pairs}
    for row in ours["gap"].pairs:
        key = (row["group_a"], row["group_b"])
        expected = spd[key] if key in spd else -spd[key[::-1]]
        assert same(row["estimate"], expected)


# ----------------------------------------------------------------------- statsmodels, scipy, the printed MOVER-R


@fixed(50)
@given(tables)
def test_every_pairwise_bound_and_verdict_equals_the_references(table):
    rows = table.rows()
    ours = group_checks(rows)
    counts = {name: (k, n) for name, k, n in zip(table.names, table.selected, table.n)}
    m = len(table.names) * (len(table.names) - 1) // 2
    for kind, method in (("gap", newcombe), ("ratio", mover_r)):
        for row in ours[kind].pairs:
            (k1, n1), (k2, n2) = counts[row["group_a"]], counts[row["group_b"]]
            lo, up = method(k1, n1, k2, n2, ALPHA)
            lo_m, up_m = method(k1, n1, k2, n2, ALPHA / m)
            assert same(row["lower"], lo) and same(row["upper"], up), (kind, row)
            assert same(row["lower_corrected"], lo_m) and same(row["upper_corrected"], up_m), (kind, row)
    for key, kind, bound, rates in (("ratio", "ratio", 0.8, ("selection_rate",)),
                                    ("gap", "gap", 0.1, ("selection_rate",)),
                                    ("eo", "gap", 0.1, ("TPR", "FPR"))):
        verdict, statistic, interval = reference_verdict(table, kind=kind, bound=bound, rates=rates)
        assert ours[key].verdict == verdict, key
        assert same(ours[key].statistic, statistic), key
        assert same(ours[key].interval[0], interval[0]) and same(ours[key].interval[1], interval[1]), key
    for k, n in zip(table.selected, table.n):
        assert np.allclose(stats.wilson(k, n, ALPHA), wilson(k, n, ALPHA), atol=1e-12)
        assert np.allclose(stats.clopper_pearson(k, n, ALPHA), clopper_pearson(k, n, ALPHA), atol=1e-9)


@pytest.mark.parametrize("favour_a,favour_b", [(0, 0), (9, 1), (1, 9), (30, 12), (250, 260)])
def test_mcnemar_equals_scipys_exact_binomial_test(favour_a, favour_b):
    from scipy.stats import binomtest

    expected = 1.0 if favour_a + favour_b == 0 else binomtest(favour_a, favour_a + favour_b, 0.5).pvalue
    assert stats.mcnemar_exact(favour_a, favour_b) == pytest.approx(expected, abs=1e-12)


# ----------------------------------------------------------------------- every output kind, favourable 0 and 1


OUTPUTS = ("bool", "int01", "float", "proba2", "int12", "str")
FAVOURABLE = (None, 0, 1, False, True, "yes", 2)


def _output(kind, rng, n, threshold):
    """An output of ``kind`` for n rows, with ties at the threshold (or at 0.5) among the scores."""
    if kind == "bool":
        return rng.random(n) < 0.6
    if kind == "int01":
        return (rng.random(n) < 0.6).astype(int)
    if kind == "int12":
        return rng.integers(1, 3, n)
    if kind == "str":
        return np.where(rng.random(n) < 0.6, "yes", "no").astype(object)
    score = np.round(rng.random(n), 1)  # 0.5 and every tenth: ties at the usual thresholds
    score[: n // 5] = 0.5 if threshold is None else threshold
    return np.c_[1 - score, score] if kind == "proba2" else score


@fixed(60)
@given(st.sampled_from(OUTPUTS), st.sampled_from(FAVOURABLE), st.sampled_from([None, 0.3, 0.5, 0.7]),
       st.integers(0, 2**31))
def test_every_output_kind_is_read_as_the_readme_says(kind, favourable, threshold, seed):
    if (kind in ("bool", "int01") and favourable == 2) or (kind == "str" and favourable in (2, True)):
        favourable = 1  # values the kind cannot hold: not a reading, a mistake the tests below name
    rng = np.random.default_rng(seed)
    n = 200
    data = pd.DataFrame({"g": rng.choice(["f", "m", "x"], n), "i": np.arange(n)})
    out = _output(kind, rng, n, threshold)
    model = lambda d: out[d["i"].to_numpy()]  # noqa: E731
    expected = read_by_hand(kind, out, favourable, threshold)
    probe = quiet(fp.Probe, data=data, model=model, protected="g", features=["i"], threshold=threshold,
                  model_positive=favourable)
    if isinstance(expected, str):
        with pytest.raises(fp.AdapterError):
            probe.predictions
        return
    np.testing.assert_array_equal(probe.predictions.decision, expected)
    from fairlearn.metrics import demographic_parity_difference

    assert same(quiet(probe.demographic_parity, "g", max_gap=0.1).statistic,
                demographic_parity_difference(expected, expected, sensitive_features=data["g"]))


@pytest.mark.parametrize("positive", [0, 1])
@pytest.mark.parametrize("threshold", [None, 0.5, 0.75])
def test_scikit_learn_outputs_equal_predict_and_fixed_threshold_classifier(positive, threshold):
    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(7)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    y = (X["a"] + rng.normal(size=400) > 0).astype(int)
    model = KNeighborsClassifier(n_neighbors=4).fit(X, y)  # probabilities in quarters: ties at 0.5 and 0.75
    answers = fp.adapters.SklearnAdapter(model, threshold=threshold, positive_label=positive).predict(X)
    if threshold is None:
        reference = model.predict(X) == positive
    else:
        reference = FixedThresholdClassifier(model, threshold=threshold, pos_label=positive).fit(X, y).predict(X) \
            == positive
    np.testing.assert_array_equal(answers.decision, reference)
    assert (answers.score == (0.5 if threshold is None else threshold)).any()  # ties were exercised


# ----------------------------------------------------------------------- renaming and reordering groups


def _figures(result):
    return (result.statistic, result.interval, str(result.verdict), result.n_to_decide)


@fixed(60)
@given(tables, st.permutations(NAME_POOL), st.integers(0, 2**31))
def test_renaming_or_reordering_groups_changes_no_statistic_interval_or_verdict(table, pool, seed):
    renamed = table.renamed(tuple(pool[: len(table.names)]), seed)
    first, second = group_checks(table.rows()), group_checks(renamed.rows())
    for key in first:
        a, b = _figures(first[key]), _figures(second[key])
        assert a[2:] == b[2:], key
        assert same(a[0], b[0], 1e-12) and all(same(x, y, 1e-12) for x, y in zip(a[1], b[1])), key
    # the worst pair is the same pair under its new names, or one with the very same counts of that rate
    for key in first:
        worst_a, worst_b = first[key].details["worst_pair"], second[key].details["worst_pair"]
        assert (worst_a is None) == (worst_b is None), key
        if worst_a is not None:
            assert worst_a["rate"] == worst_b["rate"], key
            pair_a = [_rate_counts(table, worst_a["rate"], worst_a[side]) for side in ("group_a", "group_b")]
            pair_b = [_rate_counts(renamed, worst_b["rate"], worst_b[side]) for side in ("group_a", "group_b")]
            assert pair_a == pair_b, key


def _rate_counts(table, rate, name):
    """(k, n) of ``rate`` for the group called ``name``."""
    g = table.names.index(name)
    n, k, pos, tp = table.n[g], table.selected[g], table.positives[g], table.true_positives[g]
    return {"selection_rate": (k, n), "TPR": (tp, pos), "FPR": (k - tp, n - pos)}[rate]


@fixed(12)
@given(st.permutations(NAME_POOL), st.integers(0, 2**31))
def test_renaming_groups_changes_no_invariance_figure(pool, seed):
    rng = np.random.default_rng(seed)
    n = 300
    levels = pool[:3]
    codes = rng.integers(0, 3, n)
    x = rng.random(n)
    # A model that favours the first level a little: some flips, a direction to find.
    model = lambda d: (d["x"] + 0.2 * (d["g"] == d["first"]) > 0.6).to_numpy()  # noqa: E731
    results = []
    for names in (levels, tuple(reversed(levels))):
        data = pd.DataFrame({"g": np.asarray(names, dtype=object)[codes], "x": x, "first": names[0]})
        probe = quiet(fp.Probe, data=data, model=model, protected="g", features=["g", "x", "first"], seed=0)
        results.append((quiet(probe.invariance, "g", max_flip_rate=0.05), dict(zip(names, levels))))
    (r1, m1), (r2, m2) = results
    assert _figures(r1)[:3] == _figures(r2)[:3]
    assert {m1[g["group"]]: g["records"] for g in r1.groups} == {m2[g["group"]]: g["records"] for g in r2.groups}
    favoured = [{(m[d["group_a"]], m[d["group_b"]]): m.get(d["favoured"]) for d in r.pairs} for r, m in results]
    assert {frozenset(k): v for k, v in favoured[0].items()} == {frozenset(k): v for k, v in favoured[1].items()}
