"""Model identity (issue #15): what a callable's fingerprint tells apart, and what taking it costs.

1. German credit (public, UCI): three models (logistic regression at C=1 and C=0.01, a random forest) behind one
   wrapper function, probed on sex: each one's verdict, the fingerprint the evidence recorded before (the
   SHA-256 of the wrapper's source text) and the one it records now (the code and every object it reads),
   and whether a refit of the same model gives the same one.
2. The cost of taking the identity of a wrapper around models of growing size (Adult train), beside the
   SHA-256 of the pickled estimator (what a scikit-learn model passed directly costs) and the first
   invariance check through fp.Probe, in the same process (ratios; seconds are of this machine only).

Usage: python benchmarks/bench_identity.py
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
import platform
import time
import warnings

import numpy as np
import pandas as pd

DATASETS = os.environ.get("FAIRPROBE_DATASETS", "../shared/datasets")


def wrap(clf, columns):
    def predict(frame):
        encoded = pd.get_dummies(frame.drop(columns=["credit", "income"], errors="ignore"), dtype=float)
        return clf.predict_proba(encoded.reindex(columns=columns, fill_value=0.0))[:, 1]
    return predict


def german() -> None:
    import fairprobe as fp
    from fairprobe.adapters.identity import callable_identity
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    data = pd.read_csv(f"{DATASETS}/german_credit.csv")
    features = pd.get_dummies(data.drop(columns=["credit"]), dtype=float)  # sex read: flip twins can move it
    label = (data["credit"] == "good").astype(int)
    makers = {"logistic C=1": lambda: LogisticRegression(max_iter=300).fit(features, label),
              "logistic C=0.01": lambda: LogisticRegression(C=0.01, max_iter=300).fit(features, label),
              "random forest": lambda: RandomForestClassifier(n_estimators=100, random_state=0).fit(features, label)}
    print(f"# German credit, 1,000 rows: three models behind one wrapper; {platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"{'model':18s} {'sex flip rate':>14s} {'verdict':>13s}  {'source-text sha256':18s} {'fingerprint now':18s} "
          "refit gives the same")
    for name, make in makers.items():
        model = wrap(make(), list(features.columns))
        probe = fp.Probe(data=data, model=model, protected=["sex"], label="credit", positive_label="good",
                         features=[c for c in data.columns if c != "credit"])
        result = probe.invariance("sex", max_flip_rate=0.02)
        source = hashlib.sha256(inspect.getsource(model).encode()).hexdigest()
        now = probe.model_fingerprint["sha256"]
        refit = callable_identity(wrap(make(), list(features.columns)))["sha256"] == now
        print(f"{name:18s} {result.statistic:14.3f} {str(result.verdict).upper() + (' !' if result.warnings else ''):>13s}  {source[:16]:18s} "
              f"{now[:16]:18s} {refit}")


def cost() -> None:
    import fairprobe as fp
    from fairprobe.adapters.identity import callable_identity
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    adult = pd.read_csv(f"{DATASETS}/adult_train.csv")
    features = pd.get_dummies(adult.drop(columns=["income"]), dtype=float).fillna(0.0)
    label = (adult["income"] == ">50K").astype(int)
    print(f"\n# the cost of a wrapper's identity (Adult train, {len(adult):,} rows, {features.shape[1]} encoded columns)")
    print(f"{'model behind the wrapper':34s} {'identity s':>10s} {'pickle sha s':>12s} {'first check s':>13s} "
          f"{'identity / check':>16s}")
    models = {"logistic regression": LogisticRegression(max_iter=200),
              "hist gradient boosting": HistGradientBoostingClassifier(random_state=0),
              "random forest, 100 trees": RandomForestClassifier(n_estimators=100, min_samples_leaf=5, random_state=0,
                                                                 n_jobs=1)}
    for name, clf in models.items():
        clf.fit(features, label)
        model = wrap(clf, list(features.columns))
        start = time.perf_counter()
        callable_identity(model)
        identity = time.perf_counter() - start
        start = time.perf_counter()
        hashlib.sha256(pickle.dumps(clf, protocol=4)).hexdigest()
        pickled = time.perf_counter() - start
        probe = fp.Probe(data=adult, model=model, protected=["sex"], label="income", positive_label=">50K",
                         features=[c for c in adult.columns if c != "income"])
        start = time.perf_counter()
        probe.invariance("sex", max_flip_rate=0.02)  # takes the identity once more, in _finish
        check = time.perf_counter() - start
        print(f"{name:34s} {identity:10.3f} {pickled:12.3f} {check:13.3f} {identity / check:16.3f}")


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    np.random.seed(0)
    german()
    cost()
