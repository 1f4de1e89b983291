"""Synthetic rows (``CVAE.sample``) and their pieces: decoding every free column afresh from one decoder output
(what the fidelity report's self-consistency decode also uses) and the latent cells ``sample`` draws z from.

Twins do not: they decode the posterior of a real record twice and carry over only what the
protected value changes (:mod:`.paired`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from fairprobe.errors import InvalidSpec
from fairprobe.twins.cvae.device import Noise
from fairprobe.twins.cvae.model import CVAENet, torch_cpu_settings
from fairprobe.twins.cvae.structure import _key
from fairprobe.twins.encoding import MISSING, TableEncoder


def decode(net: CVAENet, encoder: TableEncoder, derived: dict[str, dict[str, Any]], out: torch.Tensor,
           noise: Noise | None) -> dict[str, pd.Series]:
    """Every free column from one decoder output: numbers from the Gaussian, indicators and categories drawn, with
    ``noise`` (drawn on the CPU, moved to ``out``'s device); without it the means and the likeliest values.
    Derived columns by lookup."""
    columns, numeric = {}, 0
    drawn = torch.zeros_like(out)  # (R, x_dim): one-hots of the categories drawn so far
    for code, start, stop in encoder.spans():
        if code.kind == "numeric":
            mean = out[:, start]  # (R,)
            if noise is not None:
                mean = mean + noise.normal(mean.shape) * net.log_sigma[numeric].exp()
            numeric += 1
            flags = {}
            for offset, flag in enumerate(code.flags, start=1):
                logit = out[:, start + offset]  # (R,)
                if noise is not None:  # draw the indicator, as categories are drawn
                    logit = torch.logit(noise.uniform(logit.shape)) + logit
                flags[flag] = logit.cpu().numpy()
            columns[code.name] = encoder.inverse_numeric(code, mean.cpu().numpy(), flags)
        else:
            logits = out[:, start:stop] + net.autoregressive(drawn, start, stop)  # (R, categories)
            if noise is not None:
                index = noise.choice(F.softmax(logits, dim=1), 1)[:, 0]  # (R,)
            else:
                index = logits.argmax(dim=1)  # (R,)
            drawn[torch.arange(len(index), device=index.device), start + index] = 1.0
            values = np.asarray(code.categories, dtype=object)[index.cpu().numpy()]
            columns[code.name] = pd.Series(values).where(values != MISSING)
    for column, rule in derived.items():
        lookup = {_key(a): b for a, b in rule["map"]}
        columns[column] = columns[rule["from"]].map(lambda v, lookup=lookup: lookup.get(_key(v)))
    return columns


def sample(cvae: Any, n: int, *, seed: int, conditions: pd.DataFrame | None, latent: str) -> pd.DataFrame:
    """``n`` synthetic rows of the fitted generator ``cvae`` (what :meth:`CVAE.sample` documents), made on its
    device from draws made on the CPU."""
    if conditions is None:
        raise InvalidSpec("sample needs conditions= (rows holding the protected and held columns): the "
                          "generator keeps no training rows")
    if latent not in ("cells", "prior"):
        from fairprobe.errors import unknown_choice

        raise unknown_choice("latent", latent, ["cells", "prior"])
    require = [c for c in [*cvae.protected_, *cvae.held_] if c not in conditions.columns]
    if require:
        raise InvalidSpec(f"sample: conditions= lacks the column(s) {require}; it needs the protected and held "
                          f"columns {[*cvae.protected_, *cvae.held_]}")
    rng = np.random.default_rng(seed)
    base = conditions.iloc[rng.integers(0, len(conditions), n)].reset_index(drop=True)
    noise = Noise(seed, cvae.device)
    with torch.no_grad(), torch_cpu_settings(cvae.config.threads):
        z = noise.normal((n, cvae.config.latent_dim))  # (n, d)
        if latent == "cells" and cvae.latent_cells_:
            z = from_cells(z, cvae._cell_keys(base), cvae.latent_cells_, cvae.latent_mean_, cvae.latent_scale_)
        cond = torch.from_numpy(cvae.condition(base, seed=seed)).to(cvae.device)  # (n, c_dim)
        decoded = decode(cvae.net_, cvae.free_encoder_, cvae.derived_, cvae.net_.decode(z, cond),
                         noise if cvae.stochastic else None)
    out = base[[*cvae.protected_, *cvae.held_]].copy()
    for column in cvae.free_:
        out[column] = restore(decoded[column], cvae.dtypes_[column]).to_numpy()
    return out


def latent_cells(mu: torch.Tensor, logvar: torch.Tensor, keys: np.ndarray, min_rows: int,
                 ) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """Per condition cell (``keys``: one per row) of at least ``min_rows`` rows, the mean and a Cholesky
    factor of the covariance of the posterior (aggregate statistics, no row kept): where ``sample`` draws z."""
    names, means, scales = [], [], []
    eye = torch.eye(mu.shape[1])  # (d, d)
    for key in sorted(set(keys)):
        rows = torch.from_numpy(np.flatnonzero(keys == key))
        if len(rows) < min_rows:
            continue
        m = mu[rows]  # (R, d)
        cov = torch.cov(m.T) + torch.diag(logvar[rows].exp().mean(0)) + 1e-4 * eye  # (d, d)
        names.append(key)
        means.append(m.mean(0))
        scales.append(torch.linalg.cholesky(cov))
    if not names:
        return [], torch.zeros((0, mu.shape[1])), torch.zeros((0, mu.shape[1], mu.shape[1]))
    return names, torch.stack(means), torch.stack(scales)  # (K,), (K, d), (K, d, d)


def from_cells(z: torch.Tensor, keys: np.ndarray, names: list[str], mean: torch.Tensor, scale: torch.Tensor,
               ) -> torch.Tensor:
    """Standard-normal draws ``z`` moved into their row's latent cell (rows of unknown cells keep the prior)."""
    index = {key: i for i, key in enumerate(names)}
    cell = np.array([index.get(k, -1) for k in keys])
    known = torch.from_numpy(np.flatnonzero(cell >= 0))
    k = torch.from_numpy(cell[known.numpy()])
    mean, scale, known, k = mean.to(z.device), scale.to(z.device), known.to(z.device), k.to(z.device)
    z = z.clone()
    z[known] = mean[k] + (scale[k] @ z[known].unsqueeze(-1)).squeeze(-1)  # (m, d)
    return z


def restore(values: pd.Series, dtype: Any) -> pd.Series:
    """Decoded values in the original column's dtype where they fit it (missing cells may not)."""
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values
