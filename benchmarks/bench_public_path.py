"""What a user pays through the public API: group metrics on a million rows, and flip-twin invariance
against calling the model's predict_proba on the same rows directly.

1. Equalized odds and demographic parity through ``fp.Probe`` on 1,000,000 rows (by sex, and sex x race):
   the first check (which makes the probe's group codes and the data's fingerprint once) and a later one,
   beside ``fairprobe.checks`` on arrays and fairlearn's ``equalized_odds_difference`` in the same process.
2. Flip-twin invariance of a HistGradientBoosting pipeline on Adult rows resampled to N records, against
   ``predict_proba`` on the originals and the twins directly (the same rows a user would score by hand),
   on resampled rows (duplicates, as the issue measured: the row cache answers repeats) and on rows
   made distinct (every row new: the harness's own cost); peak memory of each in a fresh process.

Usage: python benchmarks/bench_public_path.py [--quick]
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

ADULT = "../shared/datasets/adult_train.csv"
COLUMNS = ["age", "workclass", "education_num", "marital_status", "occupation", "relationship", "race", "sex",
           "capital_gain", "hours_per_week"]
CATEGORICAL = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]


def group_metrics(rows: int = 1_000_000) -> None:
    import fairprobe as fp
    from fairlearn.metrics import equalized_odds_difference

    rng = np.random.default_rng(0)
    data = pd.DataFrame({"sex": rng.choice(["female", "male"], rows),
                         "race": rng.choice(["white", "black", "hispanic", "asian"], rows, p=[0.6, 0.15, 0.15, 0.1]),
                         "x": rng.random(rows)})
    data["y"] = rng.random(rows) < 0.4
    pred = np.where(data["y"], rng.random(rows) < 0.7, rng.random(rows) < 0.2)
    print(f"# group metrics on {rows:,} rows; {platform.machine()}, Python {platform.python_version()}")
    print(f"{'case':62s} {'seconds':>8s}")
    for attrs in (["sex"], ["sex", "race"]):
        name = " x ".join(attrs)
        start = time.perf_counter()
        probe = fp.Probe(data=data, model=lambda f: pred[f.index.to_numpy()], protected=["sex", "race"], label="y",
                         features=["x"])
        print(f"{'fp.Probe(...) itself (validation, proxy scan), ' + name:62s} {time.perf_counter() - start:8.3f}")
        start = time.perf_counter()
        probe.predictions  # the model's answers, once, as any check needs them (with the data's hashes)
        print(f"{'model answers, a free model (rows hashed, fingerprint), ' + name:62s} "
              f"{time.perf_counter() - start:8.3f}")
        for label, run in ((f"fp.Probe equalized_odds, {name}, first check", lambda: probe.equalized_odds(attrs, max_gap=0.05)),
                           (f"fp.Probe equalized_odds, {name}, later check", lambda: probe.equalized_odds(attrs, max_gap=0.05)),
                           (f"fp.Probe demographic_parity, {name}, later check",
                            lambda: probe.demographic_parity(attrs, min_ratio=0.8))):
            start = time.perf_counter()
            run()
            print(f"{label:62s} {time.perf_counter() - start:8.3f}")
        codes = fp.twins.group_codes(data, attrs)
        start = time.perf_counter()
        fp.checks.equalized_odds(data["y"], pred, codes, max_gap=0.05)
        print(f"{'fairprobe.checks.equalized_odds on arrays, ' + name:62s} {time.perf_counter() - start:8.3f}")
        start = time.perf_counter()
        equalized_odds_difference(data["y"], pred, sensitive_features=data[attrs])
        print(f"{'fairlearn equalized_odds_difference, ' + name:62s} {time.perf_counter() - start:8.3f}")


def _invariance_child(n: int, distinct: bool, mode: str) -> None:
    """One measurement in a fresh process, printed as JSON: wall seconds and peak RSS."""
    import resource

    warnings.simplefilter("ignore")
    import fairprobe as fp
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    adult = pd.read_csv(ADULT).dropna()
    model = make_pipeline(
        make_column_transformer((OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), CATEGORICAL),
                                remainder="passthrough"),
        HistGradientBoostingClassifier(max_iter=50, categorical_features=list(range(len(CATEGORICAL))), random_state=0),
    ).fit(adult[COLUMNS], adult["income"])
    rows = adult.sample(n, replace=True, random_state=0).reset_index(drop=True)
    features = list(COLUMNS)
    if distinct:
        rows["row_id"] = np.arange(n, dtype=float)  # a column the model ignores, so no two rows are equal
        features.append("row_id")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if mode == "raw":
        twins = rows.assign(sex=np.where(rows["sex"] == "Male", "Female", "Male"))
        model.predict_proba(rows[COLUMNS])
        model.predict_proba(twins[COLUMNS])
        queries = 2 * n
    else:
        def score(frame):
            return model.predict_proba(frame[COLUMNS])[:, 1]

        probe = fp.Probe(data=rows, model=score, protected=["sex"], label="income", positive_label=">50K",
                         features=features)
        probe.invariance("sex", max_flip_rate=0.01)
        queries = probe.queries
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mib": peak / 1024, "added_mib": (peak - before) / 1024,
                      "queries": queries}))


def invariance(sizes: list[int], repeats: int) -> None:
    print(f"\n# flip-twin invariance (sex) vs predict_proba on the same rows; HistGradientBoosting pipeline on Adult "
          f"rows resampled; medians of {repeats} runs, each in a fresh process; {platform.machine()}")
    print(f"{'records':>9s} {'rows':>9s} {'raw s':>7s} {'probe s':>8s} {'ratio':>6s} {'raw peak MiB':>13s} "
          f"{'probe peak MiB':>15s} {'probe queries':>14s}")
    for distinct in (False, True):
        for n in sizes:
            runs: dict[str, list[dict]] = {"raw": [], "probe": []}
            for _ in range(repeats):
                for mode in ("raw", "probe"):  # alternated, so a busy spell hits both
                    out = subprocess.run([sys.executable, __file__, "--child", str(n), str(int(distinct)), mode],
                                         capture_output=True, text=True, check=True)
                    runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
            raw = statistics.median(r["seconds"] for r in runs["raw"])
            probe = statistics.median(r["seconds"] for r in runs["probe"])
            print(f"{n:9,d} {'distinct' if distinct else 'resampled':>9s} {raw:7.2f} {probe:8.2f} {probe / raw:6.2f} "
                  f"{max(r['peak_mib'] for r in runs['raw']):13.0f} {max(r['peak_mib'] for r in runs['probe']):15.0f} "
                  f"{runs['probe'][0]['queries']:14,d}")


def harness(n: int = 1_000_000) -> None:
    """Where the harness's own time goes: flip-twin invariance over n distinct Adult rows with a free model
    (random scores), step by step through the public path, in this process."""
    import fairprobe as fp

    warnings.simplefilter("ignore")
    rows = pd.read_csv(ADULT).dropna().sample(n, replace=True, random_state=0).reset_index(drop=True)
    rows["row_id"] = np.arange(n, dtype=float)
    rng = np.random.default_rng(0)
    steps = []
    start = time.perf_counter()
    probe = fp.Probe(data=rows, model=lambda f: rng.random(len(f)), protected=["sex"], label="income",
                     positive_label=">50K", features=[*COLUMNS, "row_id"])
    steps.append(("fp.Probe(...) (validation, proxy scan)", time.perf_counter() - start))
    for label, step in (("hash the data (fingerprint, row keys)", lambda: probe._data_hashes),
                        ("answers for the records", lambda: probe.predictions),
                        ("flip twins", lambda: probe._twins(("sex",))),
                        ("invariance (twin keys, answers, counts, report)",
                         lambda: probe.invariance("sex", max_flip_rate=0.01))):
        start = time.perf_counter()
        step()
        steps.append((label, time.perf_counter() - start))
    print(f"\n# the harness's own time: flip-twin invariance of sex over {n:,} distinct Adult rows, a free model "
          f"(random scores); one run; {platform.machine()}")
    for label, seconds in steps:
        print(f"{label:62s} {seconds:8.3f}")
    print(f"{'total':62s} {sum(s for _, s in steps):8.3f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _invariance_child(int(sys.argv[2]), bool(int(sys.argv[3])), sys.argv[4])
    else:
        quick = "--quick" in sys.argv
        # Invariance first: a child's peak RSS (ru_maxrss) starts from its parent's at the fork, so the
        # parent must not have held the group metrics' million rows yet.
        invariance([10_000, 100_000] if quick else [10_000, 100_000, 1_000_000], 1 if quick else 3)
        group_metrics(100_000 if quick else 1_000_000)
        harness(100_000 if quick else 1_000_000)
