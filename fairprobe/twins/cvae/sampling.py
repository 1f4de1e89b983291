"""Synthetic rows' pieces: decoding every free column afresh from one decoder output (what ``CVAE.sample``
and the fidelity report's self-consistency decode use) and the latent cells ``CVAE.sample`` draws z from.

Twins do not: they decode the posterior of a real record twice and carry over only what the
protected value changes (:mod:`.paired`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from fairprobe.twins.cvae.model import CVAENet
from fairprobe.twins.cvae.structure import _key
from fairprobe.twins.encoding import MISSING, TableEncoder


def decode(net: CVAENet, encoder: TableEncoder, derived: dict[str, dict[str, Any]], out: torch.Tensor,
           generator: torch.Generator | None, *, stochastic: bool) -> dict[str, pd.Series]:
    """Every free column from one decoder output: numbers from the Gaussian (its mean if not ``stochastic``),
    indicators and categories drawn (the likeliest if not ``stochastic``), derived columns by lookup."""
    columns, numeric = {}, 0
    drawn = torch.zeros_like(out)  # (R, x_dim): one-hots of the categories drawn so far
    for code, start, stop in encoder.spans():
        if code.kind == "numeric":
            mean = out[:, start]  # (R,)
            if stochastic:
                mean = mean + torch.randn(mean.shape, generator=generator) * net.log_sigma[numeric].exp()
            numeric += 1
            flags = {}
            for offset, flag in enumerate(code.flags, start=1):
                logit = out[:, start + offset]  # (R,)
                if stochastic:  # draw the indicator, as categories are drawn
                    logit = torch.logit(torch.rand(logit.shape, generator=generator)) + logit
                flags[flag] = logit.numpy()
            columns[code.name] = encoder.inverse_numeric(code, mean.numpy(), flags)
        else:
            logits = out[:, start:stop] + net.autoregressive(drawn, start, stop)  # (R, categories)
            if stochastic:
                index = torch.multinomial(F.softmax(logits, dim=1), 1, generator=generator)[:, 0]  # (R,)
            else:
                index = logits.argmax(dim=1)  # (R,)
            drawn[torch.arange(len(index)), start + index] = 1.0
            values = np.asarray(code.categories, dtype=object)[index.numpy()]
            columns[code.name] = pd.Series(values).where(values != MISSING)
    for column, rule in derived.items():
        lookup = {_key(a): b for a, b in rule["map"]}
        columns[column] = columns[rule["from"]].map(lambda v, lookup=lookup: lookup.get(_key(v)))
    return columns


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
    z = z.clone()
    z[known] = mean[k] + (scale[k] @ z[known].unsqueeze(-1)).squeeze(-1)  # (m, d)
    return z


def restore(values: pd.Series, dtype: Any) -> pd.Series:
    """Decoded values in the original column's dtype where they fit it (missing cells may not)."""
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values
