"""The harness's own cost per scored row (issue #18): fp.Probe + flip invariance, default settings, a near-free model.

The records are N distinct rows (a ``row_id`` column the model reads makes every row new, so the row cache answers
nothing and every original and twin is scored). The model's own time is measured inside the probe (the callable
is timed) and beside it (the same callable on the originals and on twins made by hand); the harness cost is the
probe's wall time less the model's, per row the model scored. Medians of the repeats, in one process, after a
warm-up (imports and first calls are not counted).

Usage: python benchmarks/bench_harness.py [ROWS ...] [--repeats R] [--attributes sex,race] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import statistics
import time
import warnings

import numpy as np
import pandas as pd


def table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"sex": rng.choice(["female", "male"], n),
                         "race": rng.choice(["white", "black", "hispanic", "asian"], n, p=[0.6, 0.15, 0.15, 0.1]),
                         "age": rng.integers(18, 70, n), "score": rng.random(n),
                         "row_id": np.arange(n, dtype=float)})  # every row distinct
    data["y"] = rng.random(n) < 0.4
    return data


class Timed:
    """A near-free model (one comparison a row) that adds up its own time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.rows = 0

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        start = time.perf_counter()
        out = frame["score"].to_numpy() > 0.5
        self.seconds += time.perf_counter() - start
        self.rows += len(frame)
        return out


def once(data: pd.DataFrame, attributes: list[str], profile: cProfile.Profile | None = None) -> dict[str, float]:
    import fairprobe as fp

    model = Timed()
    if profile:
        profile.enable()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe = fp.Probe(data=data, model=model, protected=["sex", "race"], label="y")
        built = time.perf_counter()
        result = probe.invariance(attributes, max_flip_rate=0.01)
    end = time.perf_counter()
    if profile:
        profile.disable()
    # The same model on the same rows by hand: the originals, and twins made with numpy (no harness at all).
    raw = Timed()
    raw(data)
    for column in attributes:
        values = data[column].unique()
        for value in values[1:]:
            raw(data.assign(**{column: value}))
    assert probe.queries == model.rows, (probe.queries, model.rows)
    return {"construct": built - start, "check": end - built, "total": end - start, "model_in": model.seconds,
            "model_raw": raw.seconds, "rows": model.rows, "verdict": str(result.verdict)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="*", type=int, default=[1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--attributes", default="sex")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    attributes = args.attributes.split(",")
    import fairprobe as fp

    once(table(2000, 1), attributes)  # warm-up: imports, first calls
    print(f"# harness cost, fp.Probe + invariance({attributes}), near-free model, distinct rows; "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, pandas {pd.__version__}, "
          f"fairprobe from {os.path.dirname(fp.__file__)}; load {os.getloadavg()[0]:.2f}; medians of {args.repeats}")
    print(f"{'records':>10s} {'scored rows':>12s} {'Probe() s':>10s} {'check s':>8s} {'total s':>8s} "
          f"{'model in s':>10s} {'model raw s':>11s} {'harness us/row':>15s} {'x raw model':>12s}")
    for n in args.rows:
        data = table(n)
        runs = []
        for repeat in range(args.repeats):
            profile = cProfile.Profile() if args.profile and repeat == args.repeats - 1 else None
            runs.append(once(data, attributes, profile))
            if profile:
                pstats.Stats(profile).sort_stats("cumulative").print_stats(35)
        med = {k: statistics.median(r[k] for r in runs) for k in ("construct", "check", "total", "model_in",
                                                                  "model_raw")}
        rows = runs[0]["rows"]
        harness = statistics.median((r["total"] - r["model_in"]) / r["rows"] * 1e6 for r in runs)
        print(f"{n:>10,d} {rows:>12,d} {med['construct']:>10.3f} {med['check']:>8.3f} {med['total']:>8.3f} "
              f"{med['model_in']:>10.4f} {med['model_raw']:>11.4f} {harness:>15.3f} "
              f"{med['total'] / med['model_raw']:>12.0f}   ({runs[0]['verdict']}; load {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
