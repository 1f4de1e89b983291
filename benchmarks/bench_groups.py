"""What issue #22's and #15's fixes cost: the proxy scan of many-valued columns, a scikit-learn model's own
predict() beside its scores, and the kind of each value in an object column's row hash.

Each row is timed against a baseline run in the same process (the old behaviour, emulated), so the ratio
holds on a loaded machine. Usage: python benchmarks/bench_groups.py [REPEATS]
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import fairprobe as fp
from fairprobe import proxies
from fairprobe.data import column_hash

DATA = Path(os.environ.get("FAIRPROBE_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def old_scan():
    """The scan as it was before the fix (commit a420cb1's fairprobe/proxies.py, read with git): a column with
    more values than half its rows skipped, no word scan, one fold loop per group. None without git."""
    import subprocess
    import types

    root = Path(__file__).resolve().parents[1]
    try:
        source = subprocess.run(["git", "show", "a420cb1:fairprobe/proxies.py"], cwd=root, capture_output=True,
                                text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("proxies_before")
    exec(compile(source, "proxies_before.py", "exec"), module.__dict__)
    return module


def compas() -> pd.DataFrame:
    df = pd.read_csv(DATA / "compas_two_years.csv")
    keep = (df["days_b_screening_arrest"].between(-30, 30) & (df["is_recid"] != -1)
            & (df["c_charge_degree"] != "O") & (df["score_text"] != "N/A"))
    return df[keep].reset_index(drop=True)


def adult_with_names(rows: int) -> pd.DataFrame:
    """Adult train resampled to ``rows``, with a surname (about 8,000 values, drawn by race), a full name and an id."""
    rng = np.random.default_rng(0)
    df = pd.read_csv(DATA / "adult_train.csv").sample(rows, replace=True, random_state=0).reset_index(drop=True)
    first = rng.integers(0, 2000, rows).astype(str)
    last = df["race"].str[:2] + rng.integers(0, 1600, rows).astype(str)
    return df.assign(surname=last, name=np.char.add(np.char.add(first.astype(str), " "), last.to_numpy(dtype=str)),
                     applicant_id=np.arange(rows).astype(str))


def main(repeats: int = 3) -> None:
    warnings.simplefilter("ignore")
    print(f"# {platform.machine()}, Python {platform.python_version()}, median of {repeats}; old = the code before "
          "the fix (the proxy scan: commit a420cb1's module; decisions: the score at 0.5 alone; hashes: pandas' "
          "alone), timed in the same process")
    print(f"{'case':64s} {'new s':>8s} {'old s':>8s} {'new/old':>8s}")

    # 1. the proxy scan, at Probe construction
    before = old_scan()
    tables = [("COMPAS, 6,172 rows, 52 columns, race and sex", compas(), ["race", "sex"]),
              ("Adult + surname, name, id, 50,000 rows, sex and race", adult_with_names(50_000), ["sex", "race"])]
    for label, frame, protected in tables:
        columns = [c for c in frame.columns if c not in protected]
        groups = {a: frame[a].to_numpy() for a in protected}
        new = timed(lambda: proxies.scan(frame, groups, columns), repeats)
        if before is None:
            print(f"{'proxy scan: ' + label:64s} {new:8.3f}   (no git: no baseline)")
        else:
            old = timed(lambda: before.scan(frame, groups, columns), repeats)
            print(f"{'proxy scan: ' + label:64s} {new:8.3f} {old:8.3f} {new / old:7.2f}x")
        skipped = sum(1 for row in (before.scan(frame, groups, columns) if before else []) if row["auc"] is None)
        print(f"{'  columns x attributes the old scan skipped: ' + str(skipped):64s}")
        probe = timed(lambda: fp.Probe(data=frame, model=lambda d: np.ones(len(d), bool), protected=protected,
                                       features=columns), repeats)
        print(f"{'  fp.Probe(...) as a whole, new scan':64s} {probe:8.3f}")

    # 2. a scikit-learn model's decisions: predict() beside predict_proba (new) against predict_proba alone (old)
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    adult = pd.read_csv(DATA / "adult_train.csv").dropna().reset_index(drop=True)
    numeric = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
    categorical = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]
    X, y = adult[numeric + categorical], adult["income"] == ">50K"
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric))
    models = {"LogisticRegression pipeline": make_pipeline(encode, LogisticRegression(max_iter=2000)).fit(X, y),
              "HistGradientBoosting pipeline": make_pipeline(
                  make_column_transformer((OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
                                          remainder="passthrough"),
                  HistGradientBoostingClassifier(max_iter=100, random_state=0)).fit(X, y)}
    for name, model in models.items():
        new = timed(lambda: fp.adapters.SklearnAdapter(model).predict(X), repeats)
        old = timed(lambda: fp.adapters.SklearnAdapter(model, threshold=0.5).predict(X), repeats)
        print(f"{'decisions of a ' + name + f', {len(X):,} rows':64s} {new:8.3f} {old:8.3f} {new / old:7.2f}x")

    # 3. the kind of each value in an object column's hash (strings take the old path)
    rng = np.random.default_rng(1)
    n = 1_000_000
    text = pd.Series(rng.choice(["alpha", "beta", "gamma"], n), dtype=object)
    mixed = pd.Series(np.where(rng.random(n) < 0.5, rng.integers(0, 50, n), rng.integers(0, 50, n).astype(str)),
                      dtype=object)
    mixed[::2] = rng.integers(0, 50, n // 2)  # ints beside strings of the same digits
    def old_hash(column):
        codes, uniques = pd.factorize(column)
        return pd.util.hash_array(np.asarray(uniques, dtype=object))[codes]

    for label, column in (("strings", text), ("ints and strings of digits", mixed)):
        new = timed(lambda: column_hash(column), repeats)
        old = timed(lambda: old_hash(column), repeats)
        print(f"{'column_hash, 1,000,000 rows of ' + label:64s} {new:8.3f} {old:8.3f} {new / old:7.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
