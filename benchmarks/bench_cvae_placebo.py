"""The noise floor of CVAE twins on Adult: a fair coin as the protected attribute, beside the real sex effect.

A coin independent of every column is added to Adult rows and declared protected with sex and
race; its true counterfactual changes nothing, so every flipped twin is noise. A logistic
regression (trained on all of Adult train) reads age, education_num, hours_per_week,
capital_gain, marital_status, relationship and workclass; held columns: education,
education_num, hours_per_week, occupation, age (occupation has missing values). Per seed (a new
sample of rows, a new coin and a new fit), for each configuration:

- coin: share of coin twins flipped (k = 10 per record); target at most 0.01;
- coin, resampled: the same fit's twins made the way they were before pairing (z from the
  posterior, decoded with the target condition, every free column sampled afresh);
- coin changed: share of coin twins with any column the model reads changed;
- sex: share of sex twins flipped (no known truth; the real effect beside the noise);
- self floor: the self-twin flip share (each record's own values, the same procedure), which
  a probe reports as ``details["noise_floor"]``.

Usage: python benchmarks/bench_cvae_placebo.py [SEEDS] [ROWS]
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fairprobe.twins.cvae import CVAE
from fairprobe.twins.cvae.device import Noise
from fairprobe.twins.cvae.model import torch_cpu_settings
from fairprobe.twins.cvae.sampling import decode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cvae_adult import ADULT_CONFIG

DATA = Path(os.environ.get("FAIRPROBE_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
HELD = ["education", "education_num", "hours_per_week", "occupation", "age"]
READS = ["age", "education_num", "hours_per_week", "capital_gain", "marital_status", "relationship", "workclass"]
CATEGORICAL = ["marital_status", "relationship", "workclass"]
CONFIGS = {"default": {}, "adult benchmark": {**ADULT_CONFIG, "threads": 1}}


def screener(train: pd.DataFrame):
    numeric = [c for c in READS if c not in CATEGORICAL]
    categorical = make_pipeline(SimpleImputer(strategy="constant", fill_value="?"), OneHotEncoder(handle_unknown="ignore"))
    model = make_pipeline(make_column_transformer((categorical, CATEGORICAL), (StandardScaler(), numeric)),
                          LogisticRegression(max_iter=2000))
    return model.fit(train[READS], train["income"])


def resampled(cvae: CVAE, data: pd.DataFrame, attribute: str, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Twins as made before pairing: posterior z, target condition, every free column drawn afresh."""
    noise = Noise(seed)
    groups = sorted(data[attribute].unique())
    acted = data.assign(**{attribute: [groups[(groups.index(v) + 1) % len(groups)] for v in data[attribute]]})
    x = torch.from_numpy(cvae.free_encoder_.transform(data))
    with torch.no_grad(), torch_cpu_settings(1):
        mu, logvar = cvae.net_.encode(x, torch.from_numpy(cvae.condition(data, seed=seed)))
        cond = torch.from_numpy(cvae.condition(acted, seed=seed))
        parts = []
        for _ in range(cvae.config.k):
            z = mu + noise.normal(mu.shape) * torch.exp(0.5 * logvar)
            decoded = decode(cvae.net_, cvae.free_encoder_, cvae.derived_, cvae.net_.decode(z, cond), noise)
            parts.append(acted.assign(**{c: decoded[c].to_numpy() for c in cvae.free_}))
    return pd.concat(parts, ignore_index=True), np.tile(np.arange(len(data)), cvae.config.k)


def share_flipped(model, data: pd.DataFrame, twins: pd.DataFrame, source: np.ndarray) -> float:
    return float((model.predict(twins[READS]) != model.predict(data[READS])[source]).mean())


def main(seeds: int = 5, rows: int = 4000) -> None:
    train = pd.read_csv(DATA / "adult_train.csv").drop(columns=["fnlwgt"])
    model = screener(train)
    results = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        data = train.iloc[np.sort(rng.choice(len(train), rows, replace=False))].reset_index(drop=True)
        data["coin"] = np.where(rng.random(rows) < 0.5, "heads", "tails")
        for name, config in CONFIGS.items():
            start = time.perf_counter()
            cvae = CVAE(**{**config, "seed": seed}).fit(data, protected=["sex", "race", "coin"], held=HELD,
                                                        exclude=["income"])
            fit_s = time.perf_counter() - start
            coin = cvae.generate(data, ["coin"], held=HELD, seed=seed)
            sex = cvae.generate(data, ["sex"], held=HELD, seed=seed)
            floor = cvae.self_twins(data, ["coin"], held=HELD, seed=seed)
            read = [c for c in READS if c in cvae.free_]
            changed = (coin.twins[read].astype(str).to_numpy() != data[read].astype(str).to_numpy()[coin.source])
            results.append({"seed": seed, "config": name, "coin": share_flipped(model, data, coin.twins, coin.source),
                            "coin, resampled": share_flipped(model, data, *resampled(cvae, data, "coin", seed)),
                            "coin changed": float(changed.any(axis=1).mean()),
                            "sex": share_flipped(model, data, sex.twins, sex.source),
                            "self floor": share_flipped(model, data, floor.twins, floor.source),
                            "fit s": fit_s, "epochs": len(cvae.history_)})
            print(results[-1], flush=True)
    table = pd.DataFrame(results)
    print(f"\n# Adult placebo: a fair coin as protected attribute ({rows:,} rows per seed, protected sex, race, coin; "
          f"k = 10); {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"torch {torch.__version__}, 1 thread")
    with pd.option_context("display.width", 160, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
        print("\n# over seeds (max of the coin's share: the target is at most 0.01 on every seed)")
        print(table.groupby("config", sort=False).agg(
            coin_mean=("coin", "mean"), coin_max=("coin", "max"), resampled_mean=("coin, resampled", "mean"),
            sex_mean=("sex", "mean"), self_floor_max=("self floor", "max"), fit_s=("fit s", "mean")).to_string())


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
