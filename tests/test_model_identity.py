"""Model identity (issue #15): a callable was fingerprinted by its source text, so three German credit models
behind one wrapper shared one fingerprint and ``fairprobe diff`` saw no model change. Now the fingerprint is of
what decides (the code and every object it reads), the evidence says how it was taken, and where it cannot be
taken the probe says so and identifies the model by its answers."""

import json
import pickle
import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import fairprobe as fp
from fairprobe.adapters.identity import callable_identity
from fairprobe.cli import diff_lines, main


@pytest.fixture(scope="module")
def german(datasets):
    data = pd.read_csv(datasets / "german_credit.csv")
    features = pd.get_dummies(data.drop(columns=["credit", "sex"]), dtype=float)
    return data, features, (data["credit"] == "good").astype(int)


def wrap(clf, columns):
    """The wrapper of the issue: one function around whichever model it is given."""
    def predict(frame):
        encoded = pd.get_dummies(frame.drop(columns=["credit", "sex"], errors="ignore"), dtype=float)
        return clf.predict_proba(encoded.reindex(columns=columns, fill_value=0.0))[:, 1]
    return predict


def fit(kind, features, label):
    warnings.simplefilter("ignore")  # lbfgs convergence on unscaled German credit
    if kind == "forest":
        return RandomForestClassifier(n_estimators=30, random_state=0).fit(features, label)
    return LogisticRegression(C={"lr": 1.0, "lr-strong": 0.01}[kind], max_iter=300).fit(features, label)


def probe_of(model, data):
    return fp.Probe(data=data, model=model, protected=["sex"], label="credit", positive_label="good",
                    features=[c for c in data.columns if c != "credit"])


def test_three_models_behind_one_wrapper_get_three_fingerprints_and_a_refit_the_same(german):
    data, features, label = german
    columns = list(features.columns)
    fingerprints = {}
    for kind in ("lr", "lr-strong", "forest"):
        probe = probe_of(wrap(fit(kind, features, label), columns), data)
        probe.invariance("sex", max_flip_rate=0.05)
        fingerprints[kind] = probe.model_fingerprint
    assert len({f["sha256"] for f in fingerprints.values()}) == 3
    first = fingerprints["lr"]
    assert first["kind"] == "callable-references" and len(first["sha256"]) == 64
    assert first["method"].startswith("SHA-256 of the callable's compiled code and of every object it reads")
    assert first["reads"] == ["clf (sklearn.LogisticRegression)", "columns (builtins.list)"]
    # The same model refitted the same way is the same model.
    again = probe_of(wrap(fit("lr", features, label), columns), data).model_fingerprint
    assert again["sha256"] == first["sha256"]
    # The wrapper's source text alone would have given all four one hash (what the evidence recorded before).
    assert len({callable_identity(wrap(m, columns))["sha256"] for m in (fit("lr", features, label),
                                                                         fit("forest", features, label))}) == 2


def test_fairprobe_diff_sees_the_model_behind_the_wrapper_change(german, tmp_path, capsys):
    data, features, label = german
    bundles = []
    for kind in ("lr", "lr-strong"):
        evidence = fp.Evidence()
        evidence.add(probe_of(wrap(fit(kind, features, label), list(features.columns)), data)
                     .invariance("sex", max_flip_rate=0.05), test="test_credit.py::test_sex")
        bundles.append(evidence.write(tmp_path / kind))
    assert main(["diff", str(bundles[0]), str(bundles[1])]) == 1
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("model:")]
    assert len(lines) == 1 and "test_credit.py::test_sex" in lines[0] and " -> " in lines[0]
    document = json.loads((bundles[0] / "evidence.json").read_text())
    assert document["checks"][0]["context"]["model"]["method"].startswith("SHA-256 of the callable's compiled code")
    assert "SHA-256 of the callable&#39;s compiled code" in (bundles[0] / "report.html").read_text()


MODEL = None


def reads_a_global(frame):
    return MODEL.predict_proba(frame[["x"]])[:, 1]


class Screener:
    """A wrapper class: the model is an attribute of the instance."""

    def __init__(self, clf):
        self.clf = clf

    def __call__(self, frame):
        return self.clf.predict_proba(frame[["x"]])[:, 1]


def test_globals_instances_and_partials_are_followed():
    global MODEL
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200)})
    a = LogisticRegression().fit(frame, frame["x"] > 0)
    b = LogisticRegression().fit(frame, frame["x"] > 0.5)
    MODEL = a
    first = callable_identity(reads_a_global)
    MODEL = b
    second = callable_identity(reads_a_global)
    assert first["sha256"] != second["sha256"] and first["reads"] == ["MODEL (sklearn.LogisticRegression)"]
    assert callable_identity(Screener(a))["sha256"] != callable_identity(Screener(b))["sha256"]
    assert callable_identity(Screener(a))["sha256"] == callable_identity(Screener(pickle.loads(pickle.dumps(a))))["sha256"]
    assert callable_identity(a.predict_proba)["sha256"] != callable_identity(b.predict_proba)["sha256"]


def test_an_identity_that_cannot_be_taken_says_so_and_the_answers_stand_in(tmp_path):
    world = fp.worlds.hiring(n=500, seed=2)
    connection = sqlite3.connect(":memory:")

    def scored_in_a_database(frame):
        connection.execute("select 1")
        return (frame["skills_score"] > 50).to_numpy()

    adapter = fp.adapters.CallableAdapter(scored_in_a_database)
    identity = adapter.fingerprint()
    assert identity["kind"] == "callable-unidentified" and identity["sha256"] == ""
    assert "reads connection (sqlite3.Connection), whose state cannot be read" in identity["method"]
    probe = fp.Probe(data=world.data, model=scored_in_a_database, protected=["sex"],
                     features=["sex", "skills_score"])
    assert probe.model_fingerprint["sha256"] == ""  # nothing asked yet: not taken, and said so
    result = probe.invariance("sex", max_flip_rate=0.05)
    model = result.context["model"]
    assert model["kind"] == "answers" and model["sha256"] == model["answers_sha256"]
    assert model["method"].startswith("SHA-256 of the model's decisions and scores on the probe's 500 records")
    assert "sqlite3.Connection" in model["method"]


def test_one_fingerprint_with_other_answers_on_the_same_records_is_named_by_diff(tmp_path):
    # A wrapper that loads its model from a file on every call: the file changed, the code did not.
    world = fp.worlds.hiring(n=400, seed=3)
    path = tmp_path / "threshold.txt"

    def from_file(frame):
        return (frame["skills_score"] > float(path.read_text())).to_numpy()

    documents = []
    for threshold in ("50", "60"):
        path.write_text(threshold)
        probe = fp.Probe(data=world.data, model=from_file, protected=["sex"], features=["sex", "skills_score"])
        evidence = fp.Evidence()
        evidence.add(probe.invariance("sex", max_flip_rate=0.05), test="t")
        documents.append(evidence.to_dict())
    models = [d["checks"][0]["context"]["model"] for d in documents]
    assert models[0]["sha256"] == models[1]["sha256"] and models[0]["answers_sha256"] != models[1]["answers_sha256"]
    lines = [line for line in diff_lines(*documents) if line.startswith("model")]
    assert len(lines) == 1 and lines[0].startswith("model answers: t [unnamed probe] invariance of the decision to sex")
    assert "answered the same records differently" in lines[0]


def test_diff_of_an_old_bundle_says_the_fingerprint_was_taken_another_way():
    check = {"test": "t", "check": "invariance", "title": "invariance of the decision to sex", "verdict": "pass",
             "statistic": 0.0, "interval": [0.0, 0.01], "bound": 0.05, "comparison": "<", "n": 300,
             "statistic_name": "flip rate"}
    old = {"checks": [{**check, "context": {"model": {"kind": "callable-source", "sha256": "a" * 64}}}]}
    new = {"checks": [{**check, "context": {"model": {"kind": "callable-references", "sha256": "b" * 64}}}]}
    assert diff_lines(old, new) == [
        "model: t [unnamed probe] invariance of the decision to sex: aaaaaaaaaaaaaaaa -> bbbbbbbbbbbbbbbb (fingerprint "
        "taken another way, callable-source -> callable-references: a changed fingerprint need not mean a changed "
        "model)"]
    unknown = {"checks": [{**check, "context": {"model": {"kind": "MyAdapter", "sha256": "", "method": "not taken"}}}]}
    assert diff_lines(unknown, unknown) == [
        "model: t [unnamed probe] invariance of the decision to sex: its identity was not taken in either bundle (not "
        "taken), so no one can tell whether the model changed"]


def test_library_code_is_named_with_its_version_and_the_model_given_is_always_walked(monkeypatch):
    import sklearn
    from sklearn.utils import check_array

    from fairprobe.adapters import identity

    def model(frame):
        return check_array(frame).sum(axis=1) > 0

    before = callable_identity(model)["sha256"]
    monkeypatch.setattr(sklearn, "__version__", "0.0-other")
    identity._version.cache_clear()
    assert callable_identity(model)["sha256"] != before  # a new release of the library is another model
    monkeypatch.undo()
    identity._version.cache_clear()
    assert callable_identity(model)["sha256"] == before
    # A model written inside a library's namespace (here fairprobe's) is still walked: what it reads decides.
    namespace = {"__name__": "fairprobe.models", "scale": {"w": 2.0}}
    exec("def model(frame):\n    return frame['x'] * scale['w'] > 1\n", namespace)
    first = callable_identity(namespace["model"])
    namespace["scale"] = {"w": 3.0}
    assert callable_identity(namespace["model"])["sha256"] != first["sha256"]
    assert first["reads"] == ["scale (builtins.dict)"]
