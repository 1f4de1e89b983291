"""Adapters: scikit-learn methods, callables, loading from files, batching, counting and caching."""

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

import fairprobe as fp
from fairprobe.adapters import CallableAdapter, SklearnAdapter, as_adapter, load_model


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    y = np.where(X["a"] + 0.5 * X["b"] > 0, "yes", "no")
    return X, y


def test_sklearn_predict_proba_with_string_classes(frame):
    X, y = frame
    model = LogisticRegression().fit(X, y)
    adapter = SklearnAdapter(model, positive_label="yes")
    out = adapter.predict(X)
    expected = model.predict_proba(X)[:, list(model.classes_).index("yes")]
    np.testing.assert_allclose(out.score, expected)
    np.testing.assert_array_equal(out.decision, expected >= 0.5)
    strict = SklearnAdapter(model, positive_label="yes", threshold=0.9).predict(X)
    assert strict.decision.sum() < out.decision.sum()


def test_sklearn_positive_label_can_be_the_first_class(frame):
    X, y = frame
    model = LinearSVC().fit(X, y)
    yes = SklearnAdapter(model, positive_label="yes").predict(X)
    no = SklearnAdapter(model, positive_label="no").predict(X)
    assert SklearnAdapter(model, positive_label="no").method == "decision_function"
    np.testing.assert_allclose(yes.score, -no.score)
    np.testing.assert_array_equal(yes.decision, model.predict(X) == "yes")


def test_sklearn_predict_only(frame):
    X, y = frame
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    adapter = SklearnAdapter(model, method="predict", positive_label="yes")
    out = adapter.predict(X)
    assert out.score is None
    np.testing.assert_array_equal(out.decision, model.predict(X) == "yes")


def test_pipeline_fitted_on_a_dataframe_gets_its_columns_in_order(frame):
    X, y = frame
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y == "yes")
    adapter = as_adapter(model)
    assert adapter.feature_names == ["a", "b"]
    assert adapter.positive_label == 1 or adapter.positive_label is True
    np.testing.assert_array_equal(adapter.predict(X[["a", "b"]]).decision, model.predict(X))


def test_batches_counts_and_cache(frame):
    X, _ = frame
    seen = []

    def model(df):
        seen.append(len(df))
        return (df["a"] > 0).to_numpy()

    adapter = CallableAdapter(model, batch_size=64)
    adapter.predict(X)
    assert adapter.queries == 400 and adapter.calls == 7 and max(seen) == 64
    # the same rows again, and a frame repeating them, cost nothing
    again = adapter.predict(pd.concat([X, X.iloc[:10]]))
    assert adapter.queries == 400 and len(again) == 410
    changed = X.iloc[:5].assign(b=X["b"].iloc[:5] + 1)
    adapter.predict(changed)
    assert adapter.queries == 405


def test_probe_does_not_requery_twins_equal_to_originals():
    world = fp.worlds.hiring(n=500, seed=3)
    calls = []

    def model(df):
        calls.append(len(df))
        return (df["skills_score"] > 50).to_numpy()

    probe = fp.Probe(data=world.data, model=model, protected=["sex", "race"], label="hired",
                     features=["skills_score", "years_experience"])
    probe.invariance(["sex", "race"], max_flip_rate=0.01)
    # twins differ only in protected columns, which this model does not read: no extra queries
    assert probe.queries == len(world.data.drop_duplicates(["skills_score", "years_experience"]))
    assert sum(calls) == probe.queries


PATTERN = np.array([True, False, True, False])
PROBA = np.array([0.9, 0.1, 0.5, 0.49])


@pytest.mark.parametrize("output,has_score", [
    (lambda x: PATTERN[x], False),
    (lambda x: PATTERN[x].astype(int), False),
    (lambda x: PROBA[x], True),
    (lambda x: np.c_[1 - PROBA[x], PROBA[x]], True),
    (lambda x: pd.Series(PROBA[x]), True),
])
def test_callable_outputs(output, has_score):
    adapter = CallableAdapter(lambda df: output(df["x"].to_numpy()))
    out = adapter.predict(pd.DataFrame({"x": range(4)}))
    assert out.decision.tolist() == PATTERN.tolist()
    assert (out.score is not None) == has_score


def test_callable_with_labels_and_threshold():
    labels = CallableAdapter(lambda df: np.array(["hire", "reject"])[df["x"].to_numpy() % 2], positive_label="hire")
    assert labels.predict(pd.DataFrame({"x": range(4)})).decision.tolist() == [True, False, True, False]
    logits = CallableAdapter(lambda df: df["x"].to_numpy() * 2.0 - 3, threshold=0.0)
    assert logits.predict(pd.DataFrame({"x": range(4)})).decision.tolist() == [False, False, True, True]


def test_fingerprints_identify_the_model(frame):
    X, y = frame
    a = SklearnAdapter(LogisticRegression().fit(X, y), positive_label="yes").fingerprint()
    b = SklearnAdapter(LogisticRegression(C=0.01).fit(X, y), positive_label="yes").fingerprint()
    assert len(a["sha256"]) == 64 and a["sha256"] != b["sha256"]
    f = CallableAdapter(lambda df: df["a"] > 0).fingerprint()
    g = CallableAdapter(lambda df: df["a"] > 1).fingerprint()
    assert f["sha256"] != g["sha256"]


def test_load_skops_safely(tmp_path, frame):
    X, y = frame
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    adapter = load_model(path, positive_label="yes")
    np.testing.assert_allclose(adapter.predict(X).score, model.predict_proba(X)[:, 1])
    assert adapter.fingerprint()["kind"] == "file" and adapter.fingerprint()["description"] == "model.skops"


def shifted_log(X):
    return np.log1p(np.abs(X))


def test_skops_file_with_untrusted_types_needs_trust(tmp_path, frame):
    from sklearn.preprocessing import FunctionTransformer

    X, y = frame
    model = make_pipeline(FunctionTransformer(shifted_log, validate=False), LogisticRegression())
    model.fit(X.abs(), y)
    path = tmp_path / "custom.skops"
    sio.dump(model, path)
    with pytest.raises(fp.AdapterError, match=r"types that skops does not trust by default: .*shifted_log.*trust="):
        load_model(path, positive_label="yes")
    trusted = load_model(path, trust=True, positive_label="yes")
    np.testing.assert_allclose(trusted.predict(X.abs()).score, model.predict_proba(X.abs())[:, 1])


def test_pickle_needs_trust_and_warns(tmp_path, frame):
    X, y = frame
    path = tmp_path / "model.joblib"
    joblib.dump(LogisticRegression().fit(X, y), path)
    with pytest.raises(fp.AdapterError, match=r"is a pickle: loading it runs code.*trust=True"):
        load_model(path, positive_label="yes")
    with pytest.warns(UserWarning, match="runs code from it"):
        adapter = load_model(path, trust=True, positive_label="yes")
    assert len(adapter.predict(X)) == len(X)


def test_a_score_exactly_at_the_threshold_is_favourable_and_without_one_the_model_decides():
    # predict_proba gives exactly 0.5 for a balanced prior. Without a threshold the decisions are the model's own
    # predict(), whose argmax sends the tie to classes_[0] (issue #22: they used to be read ">= 0.5", the other
    # way); with threshold=0.5, ">=" makes it favourable, as scikit-learn's FixedThresholdClassifier does.
    from sklearn.dummy import DummyClassifier

    X = pd.DataFrame({"x": np.arange(10)})
    model = DummyClassifier(strategy="prior").fit(X, [0, 1] * 5)
    answers = fp.adapters.SklearnAdapter(model).predict(X)
    assert (answers.score == 0.5).all() and not answers.decision.any() and not model.predict(X).any()
    assert fp.adapters.SklearnAdapter(model, threshold=0.5).predict(X).decision.all()
    assert fp.adapters.CallableAdapter(lambda f: np.full(len(f), 0.7), threshold=0.7).predict(X).decision.all()
    assert not fp.adapters.CallableAdapter(lambda f: np.full(len(f), 0.7), threshold=0.71).predict(X).decision.any()
