"""Conditional-VAE twins: change what the protected attribute causes, keep the qualifications.

A conditional VAE models the free columns (neither protected nor held) given the condition
(protected attributes and held columns). A twin is made in three steps (Pearl's abduction,
action, prediction): encode the original to the posterior of z, set the protected value in the
condition, decode; the held columns are copied bit for bit. ``k`` stochastic twins per record and
target draw z from the posterior and the categories from the decoder's softmax, since for a
categorical proxy the counterfactual is a distribution, not a value (../shared/notes: posterior
means with argmax decoding collapse every twin to the target group's majority value).

Layout follows CTGAN's TVAE (transformer, encoder, decoder, loss, fit/sample) in nanoGPT's style:
a config dataclass, short modules, a shape comment on each tensor line. Unlike TVAE the encoder is
kept, so an existing record can be re-encoded, and nothing touches global random state.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairprobe.errors import InvalidSpec, MissingDependency
from fairprobe.twins.base import TwinSet, group_labels
from fairprobe.twins.encoding import MISSING, TableEncoder
from fairprobe.twins.flip import target_combinations

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise MissingDependency("torch", "cvae", "conditional-VAE twins") from exc

FORMAT_VERSION = 4  # 2: point-mass indicators and derived columns; 3: autoregressive term; 4: latent cells
MIN_CELL_ROWS = 30  # a condition cell's latent summary needs at least this many rows; smaller cells use the prior


@dataclass(frozen=True)
class CVAEConfig:
    """Sizes and training settings of the conditional VAE."""

    latent_dim: int = 8
    hidden: int = 128
    epochs: int = 80
    batch_size: int = 256
    lr: float = 2e-3
    # KL weight. 0.5-2 kept sampled column shapes best (../shared/notes), but twins decode the posterior,
    # not the prior: at 1.0 z collapsed and twins lost their proxies (flip-rate error 19 points on the
    # hiring world), at 0.3 the error was under 1 point (tests/test_cvae.py).
    beta: float = 0.3
    penalty: float = 0.0  # MMD weight between protected groups' sampled latents
    patience: int = 8
    validation: float = 0.15
    k: int = 10  # stochastic twins per record and target value
    autoregressive: bool = True
    # Draw training rows with weight (size of their condition cell) ** -balance: rare cells (women
    # earning >50K in Adult) get more steps; P(free | condition) is unchanged by it. 0 = uniform.
    balance: float = 0.0
    # torch threads while fitting and decoding. One by default: under contention (pytest -n 2, two fits
    # at once) more threads cost 10-30x (../shared/notes); an idle machine may take its cores.
    threads: int = 1
    seed: int = 0


class _Net(nn.Module):
    def __init__(self, x_dim: int, c_dim: int, n_numeric: int, cfg: CVAEConfig,
                 categorical: list[tuple[int, int]]) -> None:
        super().__init__()
        h, d = cfg.hidden, cfg.latent_dim
        self.encoder = nn.Sequential(nn.Linear(x_dim + c_dim, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.mu = nn.Linear(h, d)
        self.logvar = nn.Linear(h, d)
        self.decoder = nn.Sequential(nn.Linear(d + c_dim, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(),
                                     nn.Linear(h, x_dim))
        self.log_sigma = nn.Parameter(torch.full((max(n_numeric, 1),), -1.0))
        # Autoregressive term: each categorical column's logits also read the categories drawn for the
        # categorical columns before it (../shared/notes: +0.01-0.02 on pair trends).
        mask = torch.zeros(x_dim, x_dim)  # (out, in)
        for j, (start, stop) in enumerate(categorical):
            for before_start, before_stop in categorical[:j]:
                mask[start:stop, before_start:before_stop] = 1.0
        self.register_buffer("ar_mask", mask if cfg.autoregressive else torch.zeros(x_dim, x_dim), persistent=False)
        self.ar = nn.Linear(x_dim, x_dim, bias=False)
        nn.init.zeros_(self.ar.weight)
        self.categorical = categorical

    def encode(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(torch.cat([x, c], dim=1))  # (B, h)
        return self.mu(hidden), self.logvar(hidden).clamp(-10, 5)  # (B, d), (B, d)

    def decode(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, c], dim=1))  # (B, x_dim): numeric means, flags and category logits

    def autoregressive(self, onehots: torch.Tensor) -> torch.Tensor:
        return F.linear(onehots, self.ar.weight * self.ar_mask)  # (B, x_dim), zero outside categorical logits


def _keys(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One "a|b|c" string per row."""
    return group_labels(frame, columns).to_numpy(dtype=object)


@contextlib.contextmanager
def _torch_cpu_settings(threads: int = 1):
    """Few threads and flush-to-zero while training (../shared/notes: 10-30x slower otherwise)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        torch.set_flush_denormal(False)


def _mmd(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared MMD with an RBF kernel at the median-free bandwidth of the latent dimension."""
    x = torch.cat([a, b])  # (A+B, d)
    dist = torch.cdist(x, x).pow(2)  # (A+B, A+B)
    kernel = torch.exp(-dist / (2 * a.shape[1]))
    n = len(a)
    return kernel[:n, :n].mean() + kernel[n:, n:].mean() - 2 * kernel[:n, n:].mean()


class CVAE:
    """Twin generator backed by a conditional VAE; ``fit`` it, then use it as ``Probe(twins=...)``.

    Parameters
    ----------
    config : CVAEConfig, optional
        Sizes and training settings; keyword arguments override its fields.
    stochastic : bool
        True: ``k`` twins per record and target, z from the posterior and categories sampled.
        False: one deterministic twin (posterior mean, most likely category), for display.

    Examples
    --------
    >>> import fairprobe as fp
    >>> world = fp.worlds.hiring(n=400, seed=0)
    >>> cvae = CVAE(epochs=2, k=2).fit(world.data, protected=["sex"], held=list(world.held), exclude=["hired"])
    >>> twins = cvae.generate(world.data.iloc[:5], ["sex"], held=list(world.held), seed=0)
    >>> len(twins), bool((twins.twins["years_experience"].to_numpy() == world.data["years_experience"].to_numpy()[twins.source]).all())
    (10, True)
    """

    name = "cvae"

    def __init__(self, config: CVAEConfig | None = None, *, stochastic: bool = True, progress: bool = False,
                 **overrides: Any) -> None:
        try:
            self.config = CVAEConfig(**{**asdict(config or CVAEConfig()), **overrides})
        except TypeError as exc:
            raise InvalidSpec(f"unknown CVAE setting: {exc}; settings: {', '.join(asdict(CVAEConfig()))}") from None
        threads = self.config.threads
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise InvalidSpec(f"threads must be a whole number of at least 1 (torch threads); got {threads!r}")
        self.stochastic = stochastic
        self.progress = progress

    # ------------------------------------------------------------------ fitting

    def fit(self, data: pd.DataFrame, *, protected: Sequence[str], held: Sequence[str],
            exclude: Sequence[str] = ()) -> CVAE:
        """Fit on ``data``: free columns are all but ``protected``, ``held`` and ``exclude``."""
        protected, held = list(protected), list(held)
        overlap = set(protected) & set(held)
        if overlap:
            raise InvalidSpec(f"column {sorted(overlap)[0]!r} is both protected and held; a twin changes protected "
                              "columns and keeps held ones")
        missing = [c for c in [*protected, *held, *exclude] if c not in data.columns]
        if missing:
            raise InvalidSpec(f"CVAE.fit: columns not in data: {missing} (columns: {list(data.columns)})")
        free = [c for c in data.columns if c not in {*protected, *held, *exclude}]
        if not free:
            raise InvalidSpec("CVAE.fit: no free columns to model (every column is protected, held or excluded); "
                              "flip twins are exact here: use twins='flip'")
        min_rows = 10 * max(1, len(free))
        if len(data) < max(min_rows, 50):
            raise InvalidSpec(f"CVAE.fit: {len(data)} rows are too few to fit a generator for {len(free)} free "
                              f"columns; give at least {max(min_rows, 50)} rows, or use twins='flip'")
        cfg = self.config
        self.protected_, self.held_, self.free_ = protected, held, free
        self.derived_ = _functional_dependencies(data, free)
        self.dtypes_ = {c: str(data[c].dtype) for c in free}
        self.free_encoder_ = TableEncoder.fit(data, [c for c in free if c not in self.derived_])
        self.cond_encoder_ = TableEncoder.fit(data, protected + held, categorical=protected)
        self.groups_ = {p: [c for c in code.categories] for p in protected
                        for code in self.cond_encoder_.columns if code.name == p}
        x = torch.from_numpy(self.free_encoder_.transform(data))  # (N, x_dim)
        c = torch.from_numpy(self.cond_encoder_.transform(data))  # (N, c_dim)
        group = torch.from_numpy(pd.factorize(_keys(data, protected))[0])  # (N,)
        generator = torch.Generator().manual_seed(cfg.seed)
        n_numeric = sum(1 for code in self.free_encoder_.columns if code.kind == "numeric")
        with _torch_cpu_settings(self.config.threads):
            with torch.random.fork_rng(devices=[]):  # seeded parameter init, global state left as it was
                torch.manual_seed(cfg.seed)
                self.net_ = _Net(x.shape[1], c.shape[1], n_numeric, cfg, self._categorical_spans())
            order = torch.randperm(len(x), generator=generator)
            n_val = max(1, int(len(x) * cfg.validation))
            val, train = order[:n_val], order[n_val:]
            self.history_ = self._train(x, c, group, train, val, generator, self._cell_weights(data, train))
            self.cell_columns_ = self._cell_columns(data)
            self.latent_cells_, self.latent_mean_, self.latent_scale_ = self._latent_cells(data, x, c)
        self.fingerprint_ = self._fingerprint()
        return self

    def _cell_columns(self, data: pd.DataFrame) -> list[str]:
        """Condition cells: the protected values and the held columns with few values."""
        return list(self.protected_) + [h for h in self.held_ if data[h].nunique() <= 20]

    def _cell_keys(self, frame: pd.DataFrame) -> np.ndarray:
        return _keys(frame, self.cell_columns_)

    def _latent_cells(self, data: pd.DataFrame, x: torch.Tensor, c: torch.Tensor):
        """Per condition cell, the mean and a Cholesky factor of the covariance of the posterior (aggregate
        statistics of at least MIN_CELL_ROWS rows, no row kept): where ``sample`` draws z from."""
        with torch.no_grad():
            mu, logvar = self.net_.encode(x, c)  # (N, d), (N, d)
        keys = self._cell_keys(data)
        names, means, scales = [], [], []
        eye = torch.eye(mu.shape[1])  # (d, d)
        for key in sorted(set(keys)):
            rows = torch.from_numpy(np.flatnonzero(keys == key))
            if len(rows) < MIN_CELL_ROWS:
                continue
            m = mu[rows]  # (R, d)
            cov = torch.cov(m.T) + torch.diag(logvar[rows].exp().mean(0)) + 1e-4 * eye  # (d, d)
            names.append(key)
            means.append(m.mean(0))
            scales.append(torch.linalg.cholesky(cov))
        if not names:
            return [], torch.zeros((0, mu.shape[1])), torch.zeros((0, mu.shape[1], mu.shape[1]))
        return names, torch.stack(means), torch.stack(scales)  # (K,), (K, d), (K, d, d)

    def _cell_weights(self, data: pd.DataFrame, train: torch.Tensor) -> torch.Tensor | None:
        """Sampling weights of the training rows when ``balance`` > 0: cells are the protected values and
        the held columns with few values."""
        if self.config.balance <= 0:
            return None
        columns = self._cell_columns(data)
        cell = pd.factorize(_keys(data, columns))[0][train.numpy()]
        sizes = np.bincount(cell)
        return torch.from_numpy(sizes[cell].astype(np.float64) ** -self.config.balance)

    def _train(self, x, c, group, train, val, generator, weights=None) -> list[dict[str, float]]:
        cfg = self.config
        optimiser = torch.optim.Adam(self.net_.parameters(), lr=cfg.lr)
        best, best_state, waited, history = float("inf"), None, 0, []
        epochs = range(cfg.epochs)
        if self.progress:
            with contextlib.suppress(ImportError):
                from tqdm.auto import tqdm
                epochs = tqdm(epochs, desc="fitting CVAE", unit="epoch")
        for epoch in epochs:
            self.net_.train()
            if weights is None:
                perm = train[torch.randperm(len(train), generator=generator)]
            else:
                perm = train[torch.multinomial(weights, len(train), replacement=True, generator=generator)]
            total = 0.0
            for start in range(0, len(perm), cfg.batch_size):
                idx = perm[start : start + cfg.batch_size]
                loss = self._loss(x[idx], c[idx], group[idx], generator)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(idx)
            self.net_.eval()
            with torch.no_grad():
                val_loss = float(self._loss(x[val], c[val], group[val], generator, penalty=False))
            history.append({"epoch": epoch, "train": total / len(train), "validation": val_loss})
            if val_loss < best - 1e-4:
                best, best_state, waited = val_loss, copy.deepcopy(self.net_.state_dict()), 0
            else:
                waited += 1
                if waited >= cfg.patience:
                    break
        if best_state is not None:
            self.net_.load_state_dict(best_state)
        self.net_.eval()
        return history

    def _loss(self, x, c, group, generator, *, penalty: bool = True) -> torch.Tensor:
        mu, logvar = self.net_.encode(x, c)  # (B, d), (B, d)
        eps = torch.randn(mu.shape, generator=generator)  # (B, d)
        z = mu + eps * torch.exp(0.5 * logvar)  # (B, d)
        out = self.net_.decode(z, c) + self.net_.autoregressive(x)  # (B, x_dim), teacher forcing
        recon = self._reconstruction(out, x)  # (B,)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)  # (B,)
        loss = (recon + self.config.beta * kl).mean()
        if penalty and self.config.penalty > 0:
            groups = torch.unique(group)
            for g in groups:
                inside = group == g
                if 1 < inside.sum() < len(group) - 1:
                    loss = loss + self.config.penalty * _mmd(z[inside], z[~inside]) / len(groups)
        return loss

    def _reconstruction(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        terms, numeric = [], 0
        for code, start, stop in self.free_encoder_.spans():
            if code.kind == "numeric":
                log_sigma = self.net_.log_sigma[numeric]
                numeric += 1
                terms.append(0.5 * ((x[:, start] - out[:, start]) / log_sigma.exp()).pow(2) + log_sigma)  # (B,)
                for offset, _ in enumerate(code.flags, start=1):
                    terms.append(F.binary_cross_entropy_with_logits(out[:, start + offset], x[:, start + offset],
                                                                    reduction="none"))  # (B,)
            else:
                target = x[:, start:stop].argmax(dim=1)  # (B,)
                terms.append(F.cross_entropy(out[:, start:stop], target, reduction="none"))
        return torch.stack(terms, dim=1).sum(dim=1)  # (B,)

    # ------------------------------------------------------------------ twins

    @property
    def fitted(self) -> bool:
        return hasattr(self, "net_")

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise InvalidSpec("this CVAE is not fitted: call fit(data, protected=..., held=...) or CVAE.load(path)")

    def latent(self, data: pd.DataFrame) -> np.ndarray:
        """Posterior means of z for ``data`` (for leakage checks and plots)."""
        self._check_fitted()
        with torch.no_grad():
            mu, _ = self.net_.encode(torch.from_numpy(self.free_encoder_.transform(data)),
                                     torch.from_numpy(self.cond_encoder_.transform(data)))
        return mu.numpy()

    def generate(self, data: pd.DataFrame, attributes: Sequence[str], *, held: Sequence[str] = (),
                 seed: int = 0, targets: pd.DataFrame | None = None) -> TwinSet:
        """Twins of every record for every other value (combination) of ``attributes``."""
        self._check_fitted()
        attributes = list(attributes)
        unknown = [a for a in attributes if a not in self.protected_]
        if unknown:
            raise InvalidSpec(f"the CVAE was fitted with protected={self.protected_}; it cannot change {unknown}")
        if list(held) and set(held) != set(self.held_):
            raise InvalidSpec(f"the CVAE was fitted with held={self.held_}, the probe holds {list(held)}; "
                              "fit it with the probe's held columns")
        original = data.reset_index(drop=True)
        for attribute in attributes:
            unseen = set(original[attribute].astype(object)) - set(self.groups_[attribute])
            if unseen:
                raise InvalidSpec(f"protected value(s) {sorted(map(str, unseen))} of {attribute!r} were never seen "
                                  f"when the CVAE was fitted (seen: {self.groups_[attribute]}); refit on data "
                                  "that includes them")
        combos = target_combinations(original if targets is None else targets, attributes)
        k = self.config.k if self.stochastic else 1
        generator = torch.Generator().manual_seed(seed)
        x = torch.from_numpy(self.free_encoder_.transform(original))  # (N, x_dim)
        with torch.no_grad(), _torch_cpu_settings(self.config.threads):
            mu, logvar = self.net_.encode(x, torch.from_numpy(self.cond_encoder_.transform(original)))  # (N, d)
            parts, sources = [], []
            for _, target in combos.iterrows():
                rows = np.flatnonzero(~(original[attributes] == target.to_numpy()).all(axis=1).to_numpy())
                if not len(rows):
                    continue
                acted = original.iloc[rows].copy()
                for attribute in attributes:
                    acted[attribute] = target[attribute]
                cond = torch.from_numpy(self.cond_encoder_.transform(acted))  # (R, c_dim)
                for _ in range(k):
                    z = mu[rows]  # (R, d)
                    if self.stochastic:
                        z = z + torch.randn(z.shape, generator=generator) * torch.exp(0.5 * logvar[rows])
                    decoded = self._decode(self.net_.decode(z, cond), generator)
                    twin = acted.reset_index(drop=True)
                    for column in self.free_:
                        twin[column] = _restore(decoded[column], original[column].dtype)
                    parts.append(twin)
                    sources.append(rows)
        twins = pd.concat(parts, ignore_index=True)
        for column in original.columns:
            if column not in self.free_:
                twins[column] = twins[column].astype(original[column].dtype)
        source = np.concatenate(sources)
        order = np.argsort(source, kind="stable")
        return TwinSet(original=original, twins=twins.iloc[order].reset_index(drop=True), source=source[order],
                       attributes=tuple(attributes), valid=np.ones(len(source), dtype=bool), generator=self.name,
                       info={"k": k, "stochastic": self.stochastic, "fingerprint": self.fingerprint_,
                             "config": asdict(self.config)})

    def sample(self, n: int, *, seed: int = 0, conditions: pd.DataFrame | None = None,
               latent: Literal["cells", "prior"] = "cells") -> pd.DataFrame:
        """``n`` synthetic rows: conditions drawn from the given rows, z from the latent cells or the prior.

        For measuring the generator (column shapes, pair trends, train-on-synthetic) rather than
        for twins, which decode the posterior of a real record instead. ``latent="cells"`` draws z
        from a Gaussian fitted to the posteriors of the row's condition cell (its protected values
        and few-valued held columns; the prior for cells under 30 rows): the aggregate posterior of
        a rare cell (women earning >50K in Adult) sits away from the prior's centre, and drawing it
        from the prior blurs that cell (benchmarks/RESULTS.md). ``latent="prior"``: N(0, I).
        """
        self._check_fitted()
        if conditions is None:
            raise InvalidSpec("sample needs conditions= (rows holding the protected and held columns): the "
                              "generator keeps no training rows")
        if latent not in ("cells", "prior"):
            from fairprobe.errors import unknown_choice

            raise unknown_choice("latent", latent, ["cells", "prior"])
        require = [c for c in [*self.protected_, *self.held_] if c not in conditions.columns]
        if require:
            raise InvalidSpec(f"sample: conditions= lacks the column(s) {require}; it needs the protected and held "
                              f"columns {[*self.protected_, *self.held_]}")
        rng = np.random.default_rng(seed)
        base = conditions.iloc[rng.integers(0, len(conditions), n)].reset_index(drop=True)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad(), _torch_cpu_settings(self.config.threads):
            z = torch.randn((n, self.config.latent_dim), generator=generator)  # (n, d)
            if latent == "cells" and self.latent_cells_:
                index = {key: i for i, key in enumerate(self.latent_cells_)}
                cell = np.array([index.get(k, -1) for k in self._cell_keys(base)])
                known = torch.from_numpy(np.flatnonzero(cell >= 0))
                k = torch.from_numpy(cell[known.numpy()])
                z[known] = self.latent_mean_[k] + (self.latent_scale_[k] @ z[known].unsqueeze(-1)).squeeze(-1)  # (m, d)
            cond = torch.from_numpy(self.cond_encoder_.transform(base))  # (n, c_dim)
            decoded = self._decode(self.net_.decode(z, cond), generator)
        out = base[[*self.protected_, *self.held_]].copy()
        for column in self.free_:
            out[column] = _restore(decoded[column], self.dtypes_[column]).to_numpy()
        return out

    def _categorical_spans(self) -> list[tuple[int, int]]:
        return [(start, stop) for code, start, stop in self.free_encoder_.spans() if code.kind == "categorical"]

    def _decode(self, out: torch.Tensor, generator: torch.Generator | None) -> dict[str, pd.Series]:
        columns, numeric = {}, 0
        drawn = torch.zeros_like(out)  # (R, x_dim): one-hots of the categories drawn so far
        for code, start, stop in self.free_encoder_.spans():
            if code.kind == "numeric":
                mean = out[:, start]  # (R,)
                if self.stochastic:
                    mean = mean + torch.randn(mean.shape, generator=generator) * self.net_.log_sigma[numeric].exp()
                numeric += 1
                flags = {}
                for offset, flag in enumerate(code.flags, start=1):
                    logit = out[:, start + offset]  # (R,)
                    if self.stochastic:  # draw the indicator, as categories are drawn
                        logit = torch.logit(torch.rand(logit.shape, generator=generator)) + logit
                    flags[flag] = logit.numpy()
                columns[code.name] = self.free_encoder_.inverse_numeric(code, mean.numpy(), flags)
            else:
                logits = out[:, start:stop] + self.net_.autoregressive(drawn)[:, start:stop]  # (R, categories)
                if self.stochastic:
                    index = torch.multinomial(F.softmax(logits, dim=1), 1, generator=generator)[:, 0]  # (R,)
                else:
                    index = logits.argmax(dim=1)  # (R,)
                drawn[torch.arange(len(index)), start + index] = 1.0
                values = np.asarray(code.categories, dtype=object)[index.numpy()]
                columns[code.name] = pd.Series(values).where(values != MISSING)
        for column, rule in self.derived_.items():
            lookup = {_key(a): b for a, b in rule["map"]}
            columns[column] = columns[rule["from"]].map(lambda v: lookup.get(_key(v)))
        return columns

    # ------------------------------------------------------------------ persistence

    def _state(self) -> dict[str, Any]:
        return {"format": FORMAT_VERSION, "config": asdict(self.config), "protected": self.protected_,
                "held": self.held_, "free": self.free_, "groups": self.groups_,
                "derived": self.derived_, "dtypes": self.dtypes_,
                "free_encoder": self.free_encoder_.to_dict(), "cond_encoder": self.cond_encoder_.to_dict(),
                "history": self.history_, "cell_columns": self.cell_columns_, "latent_cells": self.latent_cells_}

    def _tensors(self) -> dict[str, torch.Tensor]:
        return {**self.net_.state_dict(), "latent_cells.mean": self.latent_mean_,
                "latent_cells.scale": self.latent_scale_}

    def _fingerprint(self) -> str:
        digest = hashlib.sha256(json.dumps(self._state(), sort_keys=True, default=str).encode())
        for name, tensor in sorted(self._tensors().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``PATH`` (safetensors weights) and ``PATH.json`` (config, encoding, versions, fingerprint)."""
        from importlib import metadata

        from safetensors.torch import save_file

        self._check_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {**self._state(), "fingerprint": self.fingerprint_,
                "versions": {p: metadata.version(p) for p in ("fairprobe", "torch", "safetensors")}}
        tmp_weights, tmp_meta = path.with_name(path.name + ".tmp"), path.with_name(path.name + ".json.tmp")
        save_file({k: v.contiguous() for k, v in self._tensors().items()}, str(tmp_weights))
        tmp_meta.write_text(json.dumps(meta, indent=1, default=str))
        os.replace(tmp_weights, path)
        os.replace(tmp_meta, path.with_name(path.name + ".json"))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, stochastic: bool = True) -> CVAE:
        """Load a generator written by :meth:`save`; its fingerprint is checked."""
        from safetensors.torch import load_file

        path = Path(path)
        meta_path = path.with_name(path.name + ".json")
        if not path.is_file() or not meta_path.is_file():
            raise InvalidSpec(f"no saved CVAE at {str(path)!r} (expected it and {meta_path.name} beside it)")
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise InvalidSpec(f"{str(path)!r} was saved in CVAE format {meta.get('format')}; this fairprobe reads "
                              f"format {FORMAT_VERSION}: refit it")
        self = cls(CVAEConfig(**meta["config"]), stochastic=stochastic)
        self.protected_, self.held_, self.free_ = meta["protected"], meta["held"], meta["free"]
        self.groups_, self.history_ = meta["groups"], meta["history"]
        self.derived_, self.dtypes_ = meta["derived"], meta["dtypes"]
        self.free_encoder_ = TableEncoder.from_dict(meta["free_encoder"])
        self.cond_encoder_ = TableEncoder.from_dict(meta["cond_encoder"])
        n_numeric = sum(1 for code in self.free_encoder_.columns if code.kind == "numeric")
        self.net_ = _Net(self.free_encoder_.width, self.cond_encoder_.width, n_numeric, self.config,
                         self._categorical_spans())
        from safetensors import SafetensorError

        self.cell_columns_, self.latent_cells_ = meta["cell_columns"], meta["latent_cells"]
        try:
            tensors = load_file(str(path))
            self.latent_mean_, self.latent_scale_ = tensors.pop("latent_cells.mean"), tensors.pop("latent_cells.scale")
            self.net_.load_state_dict(tensors)
        except (SafetensorError, RuntimeError, KeyError) as exc:
            raise InvalidSpec(f"could not read the CVAE weights in {str(path)!r} ({exc}); the file is damaged or "
                              "belongs to another configuration: refit it") from None
        self.net_.eval()
        self.fingerprint_ = self._fingerprint()
        if self.fingerprint_ != meta["fingerprint"]:
            raise InvalidSpec(f"{str(path)!r} does not match the fingerprint in {meta_path.name}: the weights or "
                              "the encoding were changed after saving")
        return self


def _key(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else \
        (value.item() if isinstance(value, np.generic) else value)


def _functional_dependencies(data: pd.DataFrame, free: list[str]) -> dict[str, dict[str, Any]]:
    """Free columns that are an exact function of an earlier categorical free column (Adult's
    education_num of education): rebuilt by lookup instead of modelled (../shared/notes: +0.03 on
    pair trends), so a twin never pairs a degree with the wrong number of school years."""
    derived: dict[str, dict[str, Any]] = {}
    limit = min(200, len(data) // 20)
    for i, source in enumerate(free):
        if source in derived or not 1 < data[source].nunique(dropna=False) <= limit:
            continue
        for target in free[i + 1:]:
            if target in derived or data[target].nunique(dropna=False) > data[source].nunique(dropna=False):
                continue
            pairs = data[[source, target]].drop_duplicates()
            if pairs[source].duplicated().any():
                continue
            derived[target] = {"from": source, "map": [[_key(a), _key(b)] for a, b in pairs.itertuples(index=False)]}
    return derived


def _restore(values: pd.Series, dtype: Any) -> pd.Series:
    """Decoded values in the original column's dtype where they fit it (missing cells may not)."""
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values


# ---------------------------------------------------------------------- fitting inside a probe


def cache_key(cvae: CVAE, data_sha256: str, protected: Sequence[str], held: Sequence[str],
              exclude: Sequence[str]) -> str:
    """What a fitted generator depends on: the data, the column roles, the config and this version."""
    from importlib import metadata

    payload = {"data": data_sha256, "protected": list(protected), "held": list(held), "exclude": list(exclude),
               "config": asdict(cvae.config), "format": FORMAT_VERSION, "fairprobe": metadata.version("fairprobe"),
               "torch": torch.__version__}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def fit_cached(cvae: CVAE, data: pd.DataFrame, *, data_sha256: str, protected: Sequence[str],
               held: Sequence[str], exclude: Sequence[str], cache_dir: str | os.PathLike | None) -> CVAE:
    """Fit ``cvae`` on ``data``, or load the same fit from ``cache_dir`` when one is there."""
    if cache_dir is None:
        return cvae.fit(data, protected=protected, held=held, exclude=exclude)
    path = Path(cache_dir) / f"cvae-{cache_key(cvae, data_sha256, protected, held, exclude)}.safetensors"
    if path.is_file():
        from safetensors import SafetensorError

        try:
            loaded = CVAE.load(path, stochastic=cvae.stochastic)
        except (InvalidSpec, SafetensorError, OSError, ValueError, KeyError, RuntimeError):
            pass  # a damaged or stale cache entry is a miss: refit and overwrite it
        else:
            loaded.from_cache_ = str(path)
            return loaded
    cvae.fit(data, protected=protected, held=held, exclude=exclude)
    cvae.save(path)
    return cvae


# ---------------------------------------------------------------------- fidelity and privacy


def fidelity_report(cvae: CVAE, twinset: TwinSet, *, seed: int = 0, max_rows: int = 4000) -> dict[str, Any]:
    """How realistic and how faithful the twins are, and how much they reveal; kept in the evidence.

    - per free column and target group: KS (numeric) or total variation (categorical) between the
      twins sent to the group and the real rows of that group nearest to them in the held columns;
    - self-twin consistency: decoding each original with its own protected values (posterior mean,
      most likely category), the share of categorical cells reproduced and the mean absolute error
      of numeric cells in normal-score units;
    - latent leakage: AUC of a logistic regression predicting each protected attribute from the
      posterior mean of z on a held-out half (0.5 means z carries none);
    - correlation difference: mean absolute difference between the correlation matrices of the
      encoded free columns, twins against their held-matched real rows, per target group;
    - exact copies: the share of twins whose free columns equal a real row's, beside the same share
      for real rows against the other real rows (a baseline: tables have natural duplicates);
    - distance to the closest record (DCR) on the encoded free columns, median, twins against a
      real half, beside a real holdout half's.
    """
    from scipy.stats import ks_2samp
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    original, twins, free = twinset.original, twinset.twins, cvae.free_
    attrs = list(twinset.attributes)
    report: dict[str, Any] = {"columns": {}, "method": "twins vs held-matched real rows of the target group"}
    held_codes = TableEncoder([c for c in cvae.cond_encoder_.columns if c.name in cvae.held_])
    real_group = _keys(original, attrs)
    twin_group = _keys(twins, attrs)
    for group in np.unique(twin_group):
        sent = np.flatnonzero(twin_group == group)
        real = np.flatnonzero(real_group == group)
        if len(real) < 5 or not len(sent):
            continue
        sent = rng.choice(sent, min(len(sent), max_rows), replace=False)
        if held_codes.columns:
            nn_index = NearestNeighbors(n_neighbors=1).fit(held_codes.transform(original.iloc[real]))
            matched = real[nn_index.kneighbors(held_codes.transform(twins.iloc[sent]), return_distance=False)[:, 0]]
        else:
            matched = rng.choice(real, len(sent))
        for code in cvae.free_encoder_.columns:
            a, b = twins[code.name].iloc[sent], original[code.name].iloc[matched]
            if code.kind == "numeric":
                distance = float(ks_2samp(a.dropna(), b.dropna()).statistic) if a.notna().any() and b.notna().any() else None
                kind = "KS"
            else:
                pa = a.astype(str).value_counts(normalize=True)
                pb = b.astype(str).value_counts(normalize=True)
                distance, kind = float(0.5 * pa.sub(pb, fill_value=0).abs().sum()), "TV"
            report["columns"].setdefault(code.name, {"distance": kind, "by_group": {}})["by_group"][group] = distance
        # Correlation difference: the encoded free columns' correlation matrices, twins against matched rows.
        a_enc = cvae.free_encoder_.transform(twins.iloc[sent])
        b_enc = cvae.free_encoder_.transform(original.iloc[matched])
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = np.abs(np.corrcoef(a_enc, rowvar=False) - np.corrcoef(b_enc, rowvar=False))
        upper = diff[np.triu_indices_from(diff, k=1)]
        report.setdefault("correlation_difference", {})[group] = float(np.nanmean(upper)) if np.isfinite(upper).any() else None
    for column in report["columns"].values():
        values = [v for v in column["by_group"].values() if v is not None]
        column["worst"] = max(values) if values else None

    sample = original.iloc[rng.choice(len(original), min(len(original), max_rows), replace=False)]
    deterministic = CVAE(cvae.config, stochastic=False)
    deterministic.__dict__.update({k: v for k, v in cvae.__dict__.items() if k.endswith("_")})
    with torch.no_grad():
        x = torch.from_numpy(cvae.free_encoder_.transform(sample))
        mu, _ = cvae.net_.encode(x, torch.from_numpy(cvae.cond_encoder_.transform(sample)))
        decoded = deterministic._decode(cvae.net_.decode(mu, torch.from_numpy(cvae.cond_encoder_.transform(sample))), None)
    consistency = {}
    for code in cvae.free_encoder_.columns:
        truth = sample[code.name].reset_index(drop=True)
        if code.kind == "numeric":
            enc = TableEncoder([code])
            consistency[code.name] = {"mean_abs_error_score": float(np.nanmean(np.abs(
                enc.transform(pd.DataFrame({code.name: decoded[code.name]}))[:, 0] - enc.transform(sample)[:, 0])))}
        else:
            same = (decoded[code.name].astype(str).to_numpy() == truth.astype(str).to_numpy()).mean()
            consistency[code.name] = {"reproduced": float(same)}
    report["self_consistency"] = consistency

    z = cvae.latent(sample)
    leakage = {}
    half = rng.permutation(len(sample))
    fit_rows, test_rows = half[: len(half) // 2], half[len(half) // 2 :]
    for attribute in cvae.protected_:
        labels = sample[attribute].astype(str).to_numpy()
        aucs = []
        for value in np.unique(labels):
            y = labels == value
            if y[fit_rows].all() or not y[fit_rows].any() or y[test_rows].all() or not y[test_rows].any():
                continue
            clf = LogisticRegression(max_iter=500).fit(z[fit_rows], y[fit_rows])
            aucs.append(roc_auc_score(y[test_rows], clf.predict_proba(z[test_rows])[:, 1]))
            if len(np.unique(labels)) == 2:
                break
        leakage[attribute] = float(np.mean(aucs)) if aucs else None
    report["latent_leakage_auc"] = leakage

    from fairprobe.data import row_hashes

    real_keys = row_hashes(original[free].astype(str))
    twin_keys = row_hashes(twins[free].iloc[rng.choice(len(twins), min(len(twins), 20 * max_rows), replace=False)].astype(str))
    halves = rng.permutation(len(original))
    first, second = real_keys[halves[: len(halves) // 2]], real_keys[halves[len(halves) // 2 :]]
    report["exact_copies"] = {"twins": float(np.isin(twin_keys, real_keys).mean()),
                              "real_baseline": float(np.isin(second, first).mean())}
    # Distance to the closest real record on the encoded free columns (median), against the same
    # distance from one real half to the other: twins much closer than real rows are copying.
    half_a = original.iloc[halves[: len(halves) // 2][:max_rows]]
    half_b = original.iloc[halves[len(halves) // 2 :][:max_rows]]
    index = NearestNeighbors(n_neighbors=1).fit(cvae.free_encoder_.transform(half_a))
    twin_rows = twins.iloc[rng.choice(len(twins), min(len(twins), max_rows), replace=False)]
    report["distance_to_closest_record"] = {
        "twins_median": float(np.median(index.kneighbors(cvae.free_encoder_.transform(twin_rows))[0])),
        "real_holdout_median": float(np.median(index.kneighbors(cvae.free_encoder_.transform(half_b))[0])),
    }
    return report
