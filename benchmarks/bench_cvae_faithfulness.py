"""How faithful CVAE twins are on the hiring world, against its true counterfactuals.

A screener that never reads sex but reads proxies (neighbourhood, career gap, hobby) is probed
with sex twins. For each seed the table gives the true counterfactual flip rate, the flip rate
each generator estimates, and the per-record decision agreement with the truth (1 - |estimated
flip probability - true flip|, averaged over records), for:

- flip twins (the protected column only);
- majority rule: every proxy set to the target group's most common value;
- rank rule: each proxy's record-level rank kept within the group (a randomized probability
  integral transform, categories ordered by how much likelier they are in the target group);
- CVAE twins with k=10, without and with an MMD penalty on the latent, with the latent leakage
  (AUC predicting sex from z; 0.5 means none).

Usage: python benchmarks/bench_cvae_faithfulness.py [SEEDS]
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import fairprobe as fp
from fairprobe.twins.cvae import CVAE, fidelity_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "probes"))
from _models import HELD, train  # noqa: E402

PROXIES = ["neighbourhood", "career_gap", "hobby"]
FREE = ["first_name", "last_name", *PROXIES]
COLUMNS = [*PROXIES, *HELD]
K = 10


def majority_twins(data: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    twins = data.copy()
    twins["sex"] = np.where(data["sex"] == "male", "female", "male")
    for column in FREE:
        modes = data.groupby("sex")[column].agg(lambda s: s.mode().iloc[0])
        twins[column] = twins["sex"].map(modes).astype(data[column].dtype)
    return twins, np.arange(len(data))


def rank_twins(data: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    parts, sources = [], []
    target = np.where(data["sex"] == "male", "female", "male")
    for _ in range(K):
        twins = data.copy()
        twins["sex"] = target
        for column in FREE:
            for src, dst in (("female", "male"), ("male", "female")):
                rows = (data["sex"] == src).to_numpy()
                p_src = data.loc[data["sex"] == src, column].value_counts(normalize=True)
                p_dst = data.loc[data["sex"] == dst, column].value_counts(normalize=True)
                cats = p_src.index.union(p_dst.index)
                p_src, p_dst = p_src.reindex(cats, fill_value=0), p_dst.reindex(cats, fill_value=0)
                order = (np.log(p_dst + 1e-9) - np.log(p_src + 1e-9)).sort_values().index
                cdf_src = p_src.reindex(order).cumsum().to_numpy()
                cdf_dst = p_dst.reindex(order).cumsum().to_numpy()
                position = pd.Index(order).get_indexer(data.loc[rows, column])
                low = np.where(position > 0, cdf_src[np.maximum(position - 1, 0)], 0.0)
                u = low + rng.random(rows.sum()) * (cdf_src[position] - low)
                twins.loc[rows, column] = np.asarray(order)[np.minimum(np.searchsorted(cdf_dst, u), len(order) - 1)]
            twins[column] = twins[column].astype(data[column].dtype)
        parts.append(twins)
        sources.append(np.arange(len(data)))
    return pd.concat(parts, ignore_index=True), np.concatenate(sources)


def estimate(model, data, twins, source, truth) -> tuple[float, float]:
    flipped = model.predict(twins[COLUMNS]) != model.predict(data[COLUMNS])[source]
    p = np.bincount(source, weights=flipped, minlength=len(data)) / np.bincount(source, minlength=len(data))
    return float(p.mean()), float(1 - np.abs(p - truth).mean())


def main(seeds: int = 5) -> None:
    model = train(COLUMNS, proxy_bias=2.0)
    rows = []
    for seed in range(seeds):
        world = fp.worlds.hiring(n=4000, seed=300 + seed, proxy_bias=2.0)
        data = world.data
        other = np.where(data["sex"] == "male", "female", "male")
        cf = pd.concat([world.counterfactual(data.index[other == v], sex=v) for v in ("male", "female")]).loc[data.index]
        truth = (model.predict(cf[COLUMNS]) != model.predict(data[COLUMNS])).astype(float)
        flip = data.assign(sex=other)
        results = {"truth": (truth.mean(), 1.0), "flip": estimate(model, data, flip, np.arange(len(data)), truth),
                   "majority": estimate(model, data, *majority_twins(data), truth),
                   "rank": estimate(model, data, *rank_twins(data, np.random.default_rng(seed)), truth)}
        for penalty in (0.0, 1.0):
            start = time.perf_counter()
            cvae = CVAE(seed=seed, penalty=penalty).fit(data, protected=["sex", "race"], held=HELD, exclude=["hired"])
            fit_s = time.perf_counter() - start
            ts = cvae.generate(data, ["sex"], held=HELD, seed=seed)
            leak = fidelity_report(cvae, ts, seed=seed)["latent_leakage_auc"]["sex"]
            results[f"cvae penalty={penalty:g}"] = (*estimate(model, data, ts.twins, ts.source, truth), leak, fit_s)
        for name, values in results.items():
            rows.append({"seed": seed, "generator": name, "flip rate": values[0],
                         "error": values[0] - results["truth"][0], "agreement": values[1],
                         "leakage AUC": values[2] if len(values) > 2 else None,
                         "fit s": values[3] if len(values) > 3 else None})
    table = pd.DataFrame(rows)
    print(f"# CVAE faithfulness on the hiring world (4,000 records, proxy_bias=2, sex twins, k={K}); "
          f"{platform.machine()}, Python {platform.python_version()}, {seeds} seeds")
    with pd.option_context("display.width", 160, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
        summary = table.groupby("generator", sort=False).agg(
            mean_abs_error=("error", lambda e: e.abs().mean()), max_abs_error=("error", lambda e: e.abs().max()),
            agreement=("agreement", "mean"), leakage=("leakage AUC", "mean"), fit_s=("fit s", "mean"))
        print("\n# over seeds")
        print(summary.to_string())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
