"""Issue #22: group verdicts that agree with the field's definitions, whatever the groups are called.

Each test is one of the issue's repros, asserting the right answer (it gave the wrong one before the fix).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe import stats


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def selection_probe(groups, selected, **options):
    df = pd.DataFrame({"g": groups, "x": selected})
    return quiet(fp.Probe, data=df, model=lambda d: d["x"].to_numpy(), protected="g", **options)


# ----------------------------------------------------------------------- 1. a never-selected group


def test_a_never_selected_group_makes_the_four_fifths_ratio_zero_and_fails():
    from fairlearn.metrics import demographic_parity_ratio

    groups = ["a"] * 100 + ["b"] * 100 + ["c"] * 100
    selected = np.r_[np.arange(100) < 50, np.arange(100) < 50, np.zeros(100, bool)]
    result = quiet(selection_probe(groups, selected).demographic_parity, "g", min_ratio=0.8)
    # It said 1.0 (0.79, 1.0) INCONCLUSIVE: the pairs with c were "undefined" and skipped by the headline.
    assert result.statistic == demographic_parity_ratio(selected, selected, sensitive_features=groups) == 0.0
    assert result.verdict == "fail" and result.interval == pytest.approx((0.0, 0.05339), abs=1e-5)
    assert any("group 'c' has no favourable decision (0 of 100)" in note for note in result.details["notes"])


@pytest.mark.parametrize("never", ["b", "0"])
def test_two_groups_one_never_selected_fail_whatever_the_name(never):
    # a = 300/1000 and b = 0/1000: nan and INCONCLUSIVE as "b", FAIL as "0", before the fix.
    groups = ["a"] * 1000 + [never] * 1000
    selected = np.r_[np.arange(1000) < 300, np.zeros(1000, bool)]
    result = quiet(selection_probe(groups, selected).demographic_parity, "g", min_ratio=0.8)
    assert result.statistic == 0.0 and result.verdict == "fail"
    assert result.details["worst_pair"]["group_a"] == never  # the lower rate is the ratio's numerator


def test_groups_that_are_all_never_selected_have_no_ratio_and_say_so():
    # 0/0 is undefined (fairlearn: nan); every decision unfavourable is the degenerate warning, never a PASS.
    result = quiet(selection_probe(["a"] * 50 + ["b"] * 50, np.zeros(100, bool)).demographic_parity, "g",
                   min_ratio=0.8)
    assert np.isnan(result.statistic) and result.verdict == "inconclusive"
    assert any(w.startswith("degenerate: every decision is unfavourable") for w in result.warnings)


# ----------------------------------------------------------------------- 2. MOVER-R's lower bound


@pytest.mark.parametrize("first,second", [("a", "b"), ("b", "a")])
def test_a_handful_of_selections_fails_four_fifths_whichever_name_sorts_first(first, second):
    # 50/100 against 1/40 (ratio 0.05): (0.0, 1.0) INCONCLUSIVE or (0.011, 0.213) FAIL by the names' order.
    groups = [first] * 100 + [second] * 40
    selected = np.r_[np.arange(100) < 50, np.arange(40) < 1]
    result = quiet(selection_probe(groups, selected).demographic_parity, "g", min_ratio=0.8)
    assert result.statistic == pytest.approx(0.05)
    assert result.interval == pytest.approx((0.0111522, 0.2128840), abs=1e-6)
    assert result.verdict == "fail"


def test_mover_lower_bound_is_the_positive_root_and_one_over_the_reversed_upper_bound():
    # Donner & Zou's quadratic B L^2 - 2 p1 p2 L + A = 0; where B = u2 (2 p2 - u2) <= 0 it has one positive
    # root, which the code replaced by 0. Checked against the quadratic itself and against 1 / U reversed.
    rng = np.random.default_rng(22)
    n1, n2 = rng.integers(1, 300, 4000), rng.integers(1, 300, 4000)
    k1, k2 = rng.binomial(n1, rng.random(4000)), rng.binomial(n2, rng.random(4000) ** 3)  # many small p2
    lower, _ = stats.mover_ratio(k1, n1, k2, n2, 0.05)
    _, upper_reversed = stats.mover_ratio(k2, n2, k1, n1, 0.05)
    p1, p2 = k1 / n1, k2 / n2
    l1, _ = stats.wilson(k1, n1, 0.05)
    _, u2 = stats.wilson(k2, n2, 0.05)
    a, b = l1 * (2 * p1 - l1), u2 * (2 * p2 - u2)
    assert (b <= 0).sum() > 100  # the case that was replaced by 0
    finite = np.isfinite(upper_reversed) & (k1 > 0)
    np.testing.assert_allclose(lower[finite], 1 / upper_reversed[finite], rtol=1e-9)
    root = lower[finite & (b <= 0)]
    assert (root > 0).all()
    np.testing.assert_allclose((b * lower**2 - 2 * p1 * p2 * lower + a)[finite], 0, atol=1e-9)
    assert (lower[k1 == 0] == 0).all()


# ----------------------------------------------------------------------- 3. a scikit-learn model's own decisions


@pytest.fixture(scope="module")
def six_hundred():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600), "g": rng.choice(["f", "m"], 600)})
    y = (X["a"] + 0.7 * X["b"] + rng.normal(scale=0.8, size=600) > 0).astype(int)
    return X, y


def test_without_a_threshold_the_decisions_are_the_models_predict(six_hundred):
    from fairlearn.metrics import demographic_parity_difference
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier

    X, y = six_hundred
    knn = KNeighborsClassifier(n_neighbors=4).fit(X[["a", "b"]], y)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[["a", "b"]], y)
    for model in (knn, forest):
        answers = fp.adapters.SklearnAdapter(model).predict(X[["a", "b"]])
        np.testing.assert_array_equal(answers.decision, model.predict(X[["a", "b"]]) == 1)
        assert ((answers.score >= 0.5) != answers.decision).sum() >= 5  # the ties ">= 0.5" read the other way
    probe = quiet(fp.Probe, data=X.assign(y=y), model=knn, protected="g", label="y")
    result = quiet(probe.demographic_parity, "g", max_gap=0.1)
    assert result.statistic == pytest.approx(
        demographic_parity_difference(y, knn.predict(X[["a", "b"]]), sensitive_features=X["g"]))


@pytest.mark.parametrize("positive", [1, 0])
@pytest.mark.parametrize("response", ["predict_proba", "decision_function"])
def test_an_explicit_threshold_is_fixed_threshold_classifiers_rule(six_hundred, positive, response):
    # One rule, ">=", for probabilities and decision functions alike (decision_function was decided ">").
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import FixedThresholdClassifier

    X, y = six_hundred
    base = LogisticRegression().fit(X[["a", "b"]], y)
    scores = base.predict_proba(X[["a", "b"]])[:, positive] if response == "predict_proba" else \
        base.decision_function(X[["a", "b"]]) * (1 if positive == 1 else -1)
    for threshold in (float(np.sort(scores)[300]), 0.3 if response == "predict_proba" else 0.4):  # a tie, and not
        reference = FixedThresholdClassifier(base, threshold=threshold, pos_label=positive,
                                             response_method=response).fit(X[["a", "b"]], y)
        adapter = fp.adapters.SklearnAdapter(base, method=response, threshold=threshold, positive_label=positive)
        answers = adapter.predict(X[["a", "b"]])
        np.testing.assert_array_equal(answers.decision, reference.predict(X[["a", "b"]]) == positive)
    assert (scores == np.sort(scores)[300]).any()


# ----------------------------------------------------------------------- 4. positive_label across output kinds


@pytest.mark.parametrize("positive", [0, False])
def test_a_favourable_zero_reads_booleans_as_it_reads_integers(positive):
    # The same answers as ints or as bools gave selection rates 0.29 or 0.71 with positive_label=0.
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"g": rng.choice(["f", "m"], 700), "x": rng.random(700) < 0.71})
    rates = {}
    for kind, model in (("ints", lambda d: d["x"].to_numpy().astype(int)), ("bools", lambda d: d["x"].to_numpy())):
        probe = quiet(fp.Probe, data=df, model=model, protected="g", positive_label=positive, features=["x"])
        rates[kind] = probe.predictions.decision.mean()
    assert rates["ints"] == rates["bools"] == pytest.approx(1 - df["x"].mean())


@pytest.mark.parametrize("output", ["two columns", "scores"])
def test_probabilities_with_a_favourable_zero_are_refused(output):
    df = pd.DataFrame({"g": ["f", "m"] * 20, "x": np.linspace(0, 1, 40)})
    model = (lambda d: np.c_[1 - d["x"], d["x"]]) if output == "two columns" else (lambda d: d["x"].to_numpy())
    probe = quiet(fp.Probe, data=df, model=model, protected="g", model_positive=0, features=["x"])
    message = r"an \(n, 2\) array, read as probabilities" if output == "two columns" else r"returned scores \(floats\)"
    with pytest.raises(fp.AdapterError, match=message + r".*favourable class is 0.*label_positive="):
        probe.predictions
    # Favourable class 1 (the default), the same outputs are read: column 1, or the score itself.
    assert quiet(fp.Probe, data=df, model=model, protected="g", features=["x"]).predictions.decision.sum() == 20


# ----------------------------------------------------------------------- 5. group names that collide


def test_intersection_names_never_collide_and_every_group_keeps_its_records():
    df = pd.DataFrame({"a": ["x|y", "x"] * 200, "b": ["z", "y|z"] * 200, "v": np.arange(400) % 7})
    model = lambda d: ((d["v"] > 3) | (d["a"] == "x")).to_numpy()  # noqa: E731
    probe = quiet(fp.Probe, data=df, model=model, protected=["a", "b"], features=["a", "b", "v"])
    parity = quiet(probe.demographic_parity, ["a", "b"], max_gap=0.1)
    names = [g["group"] for g in parity.groups]
    assert len(set(names)) == 2 and sorted(names) == ["x\\|y|z", "x|y\\|z"]
    invariance = quiet(probe.invariance, ["a", "b"], max_flip_rate=0.01)
    assert sum(g["records"] for g in invariance.groups) == 400  # one group overwrote the other: 200
    assert {g["group"] for g in invariance.groups} == set(names)
    from fairprobe.evidence.exports import impact_ratio_rows

    rows = impact_ratio_rows([parity.to_dict()])
    marginal = {r["category"]: r["applicants"] for r in rows if r["attributes"] == "a"}
    assert marginal == {"x|y": 200, "x": 200}


# ----------------------------------------------------------------------- 6. 1 and "1" in one column


def test_rows_differing_only_in_1_and_the_string_1_get_their_own_answers():
    df = pd.DataFrame({"g": ["f", "m"] * 50, "c": pd.Series([1, "1"] * 50, dtype=object)})
    model = lambda d: np.array([0.5 if isinstance(v, str) else 0.0 for v in d["c"]])  # noqa: E731
    probe = quiet(fp.Probe, data=df, model=model, protected="g", features=["c"])
    answers = probe.predictions
    np.testing.assert_array_equal(answers.score, model(df))  # the second row was answered 0.0 from the cache
    assert probe.queries == 2
    for pair in ([True, 1], [1.5, "1.5"], [None, "None"]):
        hashes = fp.data.column_hash(pd.Series(pair, dtype=object))
        assert hashes[0] != hashes[1], pair
