"""A wide, realistic table (issue #18): Adult resampled to N rows (14 columns, strings), equalized odds by sex x race.

fairprobe: ``fp.Probe(...)`` (validation, proxy scan) + the first ``equalized_odds`` check (the model's answers,
the data's fingerprint and row hashes, the group codes) and, apart, a later check on the same probe. Beside them,
in the same process and on the same decisions: fairlearn's ``equalized_odds_difference`` and aif360's
``ClassificationMetric`` (one per group of sex x race, the largest TPR and FPR gaps), each from the raw table.
The statistic of all three is printed, and must be one number. Medians of the repeats.

Usage: python benchmarks/bench_wide.py [ROWS] [--repeats R] [--attributes sex,race]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings

import numpy as np
import pandas as pd

ADULT = os.environ.get("FAIRPROBE_ADULT", "../shared/datasets/adult_train.csv")
FEATURES = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
            "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country"]


def model(frame: pd.DataFrame) -> np.ndarray:
    """A cheap model reading two columns (and nothing protected)."""
    return ((frame["education_num"] > 12) | (frame["hours_per_week"] > 50)).to_numpy()


def fairprobe_run(data: pd.DataFrame, attributes: list[str]) -> dict[str, float]:
    import fairprobe as fp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        probe = fp.Probe(data=data, model=model, protected=["sex", "race"], label="income", label_positive=">50K")
        built = time.perf_counter()
        first = probe.equalized_odds(attributes, max_gap=0.05)
        checked = time.perf_counter()
        later = probe.equalized_odds(attributes, max_gap=0.05)
        end = time.perf_counter()
    assert first.statistic == later.statistic
    return {"construct": built - start, "first": checked - built, "later": end - checked,
            "statistic": first.statistic}


def fairlearn_run(data: pd.DataFrame, attributes: list[str]) -> dict[str, float]:
    from fairlearn.metrics import equalized_odds_difference

    start = time.perf_counter()
    y_true = (data["income"] == ">50K").to_numpy()
    value = equalized_odds_difference(y_true, model(data), sensitive_features=data[attributes])
    return {"seconds": time.perf_counter() - start, "statistic": float(value)}


def aif360_run(data: pd.DataFrame, attributes: list[str]) -> dict[str, float]:
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coded = pd.DataFrame({a: pd.factorize(data[a])[0].astype(float) for a in attributes})
        coded["y"] = (data["income"] == ">50K").to_numpy(dtype=float)
        truth = BinaryLabelDataset(df=coded, label_names=["y"], protected_attribute_names=attributes)
        pred = truth.copy()
        pred.labels = model(data).astype(float).reshape(-1, 1)
        groups = coded[attributes].drop_duplicates().to_dict("records")
        tpr, fpr = [], []
        for i, group in enumerate(groups):  # each group as the "privileged" one (the other side is not read)
            other = groups[(i + 1) % len(groups)]
            metric = ClassificationMetric(truth, pred, unprivileged_groups=[other], privileged_groups=[group])
            tpr.append(metric.true_positive_rate(privileged=True))
            fpr.append(metric.false_positive_rate(privileged=True))
    value = max(np.nanmax(tpr) - np.nanmin(tpr), np.nanmax(fpr) - np.nanmin(fpr))
    return {"seconds": time.perf_counter() - start, "statistic": float(value)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--attributes", default="sex,race")
    args = parser.parse_args()
    attributes = args.attributes.split(",")
    import fairprobe as fp

    adult = pd.read_csv(ADULT)
    data = adult.sample(args.rows, replace=True, random_state=0).reset_index(drop=True)
    fairprobe_run(adult.head(2000), attributes)  # warm-up: imports and first calls
    fairlearn_run(adult.head(2000), attributes)
    aif360_run(adult.head(2000), attributes)
    runs = [(fairprobe_run(data, attributes), fairlearn_run(data, attributes), aif360_run(data, attributes))
            for _ in range(args.repeats)]
    med = {k: statistics.median(r[0][k] for r in runs) for k in ("construct", "first", "later")}
    fairlearn = statistics.median(r[1]["seconds"] for r in runs)
    aif = statistics.median(r[2]["seconds"] for r in runs)
    statistic = {"fairprobe": runs[0][0]["statistic"], "fairlearn": runs[0][1]["statistic"],
                 "aif360": runs[0][2]["statistic"]}
    first = med["construct"] + med["first"]
    print(f"# Adult resampled to {args.rows:,} rows x {len(adult.columns)} columns, equalized odds by "
          f"{' x '.join(attributes)}; {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, pandas {pd.__version__}, fairprobe from {os.path.dirname(fp.__file__)}; "
          f"load {os.getloadavg()[0]:.2f}; medians of {args.repeats}")
    print(f"statistic: {statistic}")
    print(f"{'case':58s} {'seconds':>8s} {'fairlearn / it':>15s} {'aif360 / it':>12s}")
    for name, seconds in (("fp.Probe(...) itself", med["construct"]),
                          ("first equalized_odds check", med["first"]),
                          ("fp.Probe(...) + first check", first),
                          ("later equalized_odds check", med["later"]),
                          ("fairlearn equalized_odds_difference", fairlearn),
                          ("aif360 ClassificationMetric per group", aif)):
        print(f"{name:58s} {seconds:8.3f} {fairlearn / seconds:14.1f}x {aif / seconds:11.1f}x")


if __name__ == "__main__":
    main()
