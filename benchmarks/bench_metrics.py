"""Equalized odds and demographic parity on large tables: fairprobe's counting against fairlearn.

Prints a table of median wall times over repeats, with the ratio to fairlearn measured in the same
process, and checks that both give the same statistic. Usage: python benchmarks/bench_metrics.py [ROWS]
"""

from __future__ import annotations

import platform
import statistics
import sys
import time

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, equalized_odds_difference, false_positive_rate, true_positive_rate

from fairprobe import checks


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main(rows: int = 1_000_000, repeats: int = 3) -> None:
    rng = np.random.default_rng(0)
    sex = pd.Series(rng.choice(["female", "male"], rows))
    race = pd.Series(rng.choice(["white", "black", "hispanic", "asian"], rows, p=[0.6, 0.15, 0.15, 0.1]))
    y = rng.random(rows) < 0.4
    pred = np.where(y, rng.random(rows) < 0.7, rng.random(rows) < 0.2)
    inter = sex + "|" + race
    cases = [
        ("fairlearn equalized_odds_difference, sex",
         lambda: equalized_odds_difference(y, pred, sensitive_features=sex)),
        ("fairprobe equalized_odds (with intervals), sex",
         lambda: checks.equalized_odds(y, pred, sex, max_gap=0.05).statistic),
        ("fairlearn equalized_odds_difference, sex x race",
         lambda: equalized_odds_difference(y, pred, sensitive_features=pd.DataFrame({"s": sex, "r": race}))),
        ("fairprobe equalized_odds (with intervals), sex x race",
         lambda: checks.equalized_odds(y, pred, inter, max_gap=0.05).statistic),
        ("fairlearn MetricFrame TPR+FPR, sex x race",
         lambda: MetricFrame(metrics={"tpr": true_positive_rate, "fpr": false_positive_rate}, y_true=y,
                             y_pred=pred, sensitive_features=pd.DataFrame({"s": sex, "r": race})).by_group),
    ]
    results = [(name, *timed(fn, repeats)) for name, fn in cases]
    print(f"# group metrics on {rows:,} rows, median of {repeats}; {platform.processor() or platform.machine()}, "
          f"{platform.python_version()}")
    print(f"{'case':55s} {'seconds':>9s} {'vs fairlearn':>13s}")
    for i, (name, seconds, _) in enumerate(results):
        baseline = results[i - 1][1] if name.startswith("fairprobe") else seconds
        print(f"{name:55s} {seconds:9.3f} {baseline / seconds:12.1f}x")
    for a, b in ((0, 1), (2, 3)):
        assert abs(results[a][2] - results[b][2]) < 1e-12, "fairprobe and fairlearn disagree"
    print("statistics identical to fairlearn's: yes")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
