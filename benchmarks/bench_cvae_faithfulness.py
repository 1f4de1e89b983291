"""How faithful CVAE twins are on the hiring world, against its true counterfactuals.

A screener that never reads sex but reads proxies (neighbourhood, career gap, hobby) is probed
with sex twins. For each seed the table gives the true counterfactual flip rate, the flip rate
each generator estimates, and the per-record decision agreement with the truth (1 - |estimated
flip probability - true flip|, averaged over records), for:

- flip twins (the protected column only);
- majority rule: every proxy set to the target group's most common value;
- rank rule: each proxy's record-level rank kept within the group (a randomized probability
  integral transform, categories ordered by how much likelier they are in the target group);
- CVAE twins with k=10, paired (each posterior draw of z decoded with the record's own condition
  and the target's, only the difference carried over), with the latent leakage (AUC predicting
  sex from z; 0.5 means none) and how much of the proxies z holds ("neighbourhood from z": the
  share of records whose neighbourhood the posterior mean decodes back, the fidelity report's
  self-consistency): the default configuration; the same without the MMD penalty on
  the latent (the leakage lever); the same fit's twins made as before pairing (every free column
  resampled from the target decode); the Adult benchmark's configuration
  (benchmarks/bench_cvae_adult.py), which must make faithful twins too.

Usage: python benchmarks/bench_cvae_faithfulness.py [SEEDS]
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import fairprobe as fp
from fairprobe.twins.cvae import CVAE, fidelity_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "probes"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _models import HELD, train
from bench_cvae_adult import ADULT_CONFIG
from bench_cvae_placebo import resampled

CVAE_CONFIGS = {"cvae default": {}, "cvae default, penalty=0": {"penalty": 0.0},
                "cvae adult benchmark": {**ADULT_CONFIG, "threads": 1}}

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
        for name, config in CVAE_CONFIGS.items():
            start = time.perf_counter()
            cvae = CVAE(**{**config, "seed": seed}).fit(data, protected=["sex", "race"], held=HELD, exclude=["hired"])
            fit_s = time.perf_counter() - start
            ts = cvae.generate(data, ["sex"], held=HELD, seed=seed)
            report = fidelity_report(cvae, ts, seed=seed)
            leak = report["latent_leakage_auc"]["sex"]
            # decoding the posterior mean with the record's own condition: how much of the proxies z holds
            held_in_z = report["self_consistency"]["neighbourhood"]["reproduced"]
            results[name] = (*estimate(model, data, ts.twins, ts.source, truth), leak, fit_s, held_in_z)
            if name == "cvae default":
                results["cvae default, resampled"] = (*estimate(model, data, *resampled(cvae, data, "sex", seed), truth),
                                                      leak, fit_s, held_in_z)
        for name, values in results.items():
            rows.append({"seed": seed, "generator": name, "flip rate": values[0],
                         "error": values[0] - results["truth"][0], "agreement": values[1],
                         "leakage AUC": values[2] if len(values) > 2 else None,
                         "neighbourhood from z": values[4] if len(values) > 4 else None,
                         "fit s": values[3] if len(values) > 3 else None})
    table = pd.DataFrame(rows)
    print(f"# CVAE faithfulness on the hiring world (4,000 records, proxy_bias=2, sex twins, k={K}); "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, 1 torch thread, "
          f"{seeds} seeds")
    with pd.option_context("display.width", 160, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
        summary = table.groupby("generator", sort=False).agg(
            mean_abs_error=("error", lambda e: e.abs().mean()), max_abs_error=("error", lambda e: e.abs().max()),
            agreement=("agreement", "mean"), leakage=("leakage AUC", "mean"),
            neighbourhood_from_z=("neighbourhood from z", "mean"), fit_s=("fit s", "mean"))
        print("\n# over seeds")
        print(summary.to_string())

    examples()


def examples() -> None:
    """The example probes' proxy screener (probes/test_proxy_screener.py) on its own audit data."""
    import torch
    from _models import PAYLOAD, audit_data
    from _models import PROXIES as READS

    model = train([*READS, *HELD], receives=PAYLOAD, proxy_bias=2.0)
    world = fp.worlds.hiring(n=4000, seed=2, proxy_bias=2.0)
    assert world.data.equals(audit_data(4000, proxy_bias=2.0))
    data = world.data
    other = np.where(data["sex"] == "male", "female", "male")
    cf = pd.concat([world.counterfactual(data.index[other == v], sex=v) for v in ("male", "female")]).loc[data.index]
    lines = [f"truth {float((model.predict(cf[PAYLOAD]) != model.predict(data[PAYLOAD])).mean()):.4f}"]
    for name, config in CVAE_CONFIGS.items():
        probe = fp.Probe(data=data, model=model, protected=["sex", "race"], label="hired", held=HELD,
                         twins=CVAE(**config), seed=0)
        result = probe.invariance("sex", max_flip_rate=0.01)
        lines.append(f"{name} {result.statistic:.4f} (noise floor {result.details['noise_floor']['statistic']:.4f})")
    print(f"\n# the examples' proxy screener (audit data: world seed 2, 4,000 records), through fp.Probe; torch "
          f"{torch.__version__}, 1 thread\n" + "\n".join(lines))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
