"""Conditional-VAE twins: change what the protected attribute causes, keep the qualifications.

A conditional VAE models the free columns (neither protected nor held) given the condition
(protected attributes and held columns). A twin is made in three steps (Pearl's abduction,
action, prediction): encode the original to the posterior of z, set the protected value in the
condition, decode; the held columns are copied bit for bit (missing values included: a held
column's missing cells are a condition value of their own). Twins are *paired*: each posterior
draw of z is decoded with the record's own condition and with the target's, and only what differs
between the two decodes is carried into the twin (:mod:`.paired`), so a column the attribute does
not move keeps its value. ``k`` stochastic twins per record and target draw z from the posterior
and the abducted noise afresh, since for a categorical proxy the counterfactual is a distribution,
not a value.

Only what the attribute causes moves (:mod:`.structure`): a free column whose distribution does
not depend on the attribute given the held columns and the other protected attributes is kept as
it was, whether the user declared it (``causes=``) or a cross-fitted test found no dependence.
Two noise floors go beside every CVAE check: :meth:`CVAE.self_twins` runs the procedure with each
record's own protected values (reconstruction: paired twins give their originals back), and
:meth:`CVAE.null_twins` with the attribute's link to the data broken. Each protected attribute
has a *null shadow* fitted beside it: a copy of its values shuffled among the records of each
condition cell (other protected values, few-valued held columns), so the network learns what the
shadow "causes" from chance alone, exactly as it learns the attribute's effect plus chance; null
twins change the shadow and move the columns the attribute's twins move.

Layout follows CTGAN's TVAE (transformer, encoder, decoder, loss, fit/sample) in nanoGPT's style:
a config dataclass, short modules, a shape comment on each tensor line. Unlike TVAE the encoder is
kept, so an existing record can be re-encoded, and nothing touches global random state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from fairprobe.errors import InvalidSpec
from fairprobe.twins.base import TwinSet, group_labels
from fairprobe.twins.cvae import io, structure
from fairprobe.twins.cvae.device import Noise, resolve_device
from fairprobe.twins.cvae.model import CVAEConfig, net_from_weights, seeded_net, torch_cpu_settings, train
from fairprobe.twins.cvae.paired import decode_pair
from fairprobe.twins.cvae.sampling import latent_cells, restore
from fairprobe.twins.encoding import TableEncoder
from fairprobe.twins.flip import target_combinations

TWIN_BATCH = 65_536  # twins decoded at once: bounds memory on large tables
MIN_CELL_ROWS = 30  # a condition cell's latent summary needs at least this many rows; smaller cells use the prior
NULL_PREFIX = "__null"  # draw r of attribute A's null shadow is the condition column f"__null{r}__{A}"
# Null shadows per attribute: each is one draw of what chance differences make the network learn, and the
# null floor is the largest of them (each on its own share of the records), so a FAIL is demoted unless it
# clears most of chance's range, not one draw of it. Side runs on the hiring world, a noise column read by the
# model and every free column declared caused (8 seeds, 3 attributes, one a group of 2 %): 5 of 24 such
# artefacts FAILed with one draw, 1 of 24 with five; benchmarks/bench_cvae_noise_placebo.py --before: 0 of 25.
NULL_DRAWS = 5


def _keys(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One "a|b|c" string per row."""
    return group_labels(frame, columns).to_numpy(dtype=object)


class CVAE:
    """Twin generator backed by a conditional VAE; ``fit`` it, then use it as ``Probe(twins=...)``.

    Parameters
    ----------
    config : CVAEConfig, optional
        Sizes and training settings; keyword arguments override its fields.
    causes : dict, optional
        What each protected attribute causes, e.g. ``{"race": ["lsat", "ugpa"]}``, or a small DAG whose
        keys may be other columns (``{"sex": ["neighbourhood"], "neighbourhood": ["hobby"]}``); an
        attribute's twins move its descendants among the free columns and keep the rest. An attribute
        not named is learned: a free column moves when a cross-fitted test finds it depends on the
        attribute given the held columns and the other protected attributes (:mod:`.structure`).
    stochastic : bool
        True: ``k`` twins per record and target, z and the abducted noise drawn afresh for each.
        False: one deterministic twin (posterior mean, each abducted uniform at the middle of its
        range), for display.
    device : str or torch.device
        Where the network is fitted and twins are made: ``"cpu"`` (the default), ``"cuda"``, ``"cuda:N"``,
        ``"mps"``, a ``torch.device``, or ``"auto"`` (CUDA when available, else the CPU). Every random
        draw is made on the CPU from the seed and moved (:mod:`.device`), so a fitted generator makes the
        same twins on any device up to floating-point tolerance. The default is the CPU because a *fit*
        is not device-independent: the same seed trained on another device's arithmetic ends at other
        weights, hence another fingerprint and other twins, so a default that followed the machine would
        make a probe's verdict depend on where CI ran. Weights are saved from the CPU and load anywhere
        (:meth:`load`, :meth:`to`); the twins' ``info`` records ``device`` and ``fit_device``.

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
    from_cache_: str | None = None  # where a probe's fit was loaded from, when it came from the cache

    def __init__(self, config: CVAEConfig | None = None, *, causes: Mapping[str, Sequence[str]] | None = None,
                 stochastic: bool = True, progress: bool = False, device: str | torch.device = "cpu",
                 **overrides: Any) -> None:
        unknown = sorted(set(overrides) - set(asdict(CVAEConfig())))
        if unknown:
            raise InvalidSpec(f"unknown CVAE setting(s) {unknown}; settings: {', '.join(asdict(CVAEConfig()))}")
        self.config = CVAEConfig(**{**asdict(config or CVAEConfig()), **overrides})
        self.causes = structure.normalise_causes(causes)
        self.stochastic = stochastic
        self.progress = progress
        self.device = resolve_device(device)

    def to(self, device: str | torch.device) -> CVAE:
        """Make twins (and later fits) on ``device`` from now on (choices as ``device=``); returns ``self``."""
        self.device = resolve_device(device)
        if self.fitted:
            self.net_.to(self.device)
        return self

    def with_causes(self, causes: Mapping[str, Sequence[str]] | None) -> CVAE:
        """An unfitted copy with the same settings that moves what ``causes`` declares; a fitted generator
        is returned as it is when it was fitted with the same declaration, and refused otherwise."""
        wanted = structure.normalise_causes(causes)
        if self.fitted:
            if wanted != self.causes:
                raise InvalidSpec(f"this CVAE was fitted with causes={self.causes!r}, the probe declares "
                                  f"causes={wanted!r}: refit it (CVAE(causes=...).fit(...)) or drop causes=")
            return self
        return type(self)(self.config, causes=wanted, stochastic=self.stochastic, progress=self.progress,
                          device=self.device)

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
            raise InvalidSpec(f"CVAE.fit: columns not in data: {missing} (use columns of the data: "
                              f"{list(data.columns)})")
        free = [c for c in data.columns if c not in {*protected, *held, *exclude}]
        if not free:
            raise InvalidSpec("CVAE.fit: no free columns to model (every column is protected, held or excluded); "
                              "flip twins are exact here: use twins='flip'")
        min_rows = 10 * max(1, len(free))
        if len(data) < max(min_rows, 50):
            raise InvalidSpec(f"CVAE.fit: {len(data)} rows are too few to fit a generator for {len(free)} free "
                              f"columns; give at least {max(min_rows, 50)} rows, or use twins='flip'")
        clash = [c for c in data.columns if str(c).startswith(NULL_PREFIX)]
        if clash:
            raise InvalidSpec(f"CVAE.fit: column(s) {clash} clash with the null shadows the generator adds; rename them")
        cfg = self.config
        self.protected_, self.held_, self.free_ = protected, held, free
        self.derived_ = structure.functional_dependencies(data, free)
        self.structure_ = structure.build(data, protected=protected, held=held, free=free, derived=self.derived_,
                                          causes=self.causes, alpha=cfg.structure_alpha, seed=cfg.seed)
        self.dtypes_ = {c: str(data[c].dtype) for c in free}
        self.shadows_ = {p: [f"{NULL_PREFIX}{r}__{p}" for r in range(NULL_DRAWS)] for p in protected}
        self.cell_columns_ = self._cell_columns(data)
        shadowed = self._with_shadows(data, cfg.seed)
        shadows = [self.shadows_[p][r] for r in range(NULL_DRAWS) for p in protected]  # draw by draw
        self.free_encoder_ = TableEncoder.fit(data, [c for c in free if c not in self.derived_])
        self.cond_encoder_ = TableEncoder.fit(shadowed, protected + shadows + held, categorical=protected + shadows)
        self.groups_ = {p: [c for c in code.categories] for p in protected
                        for code in self.cond_encoder_.columns if code.name == p}
        device = self.device
        x = torch.from_numpy(self.free_encoder_.transform(data)).to(device)  # (N, x_dim) moved once
        c = torch.from_numpy(self.cond_encoder_.transform(shadowed)).to(device)  # (N, c_dim)
        # The protected columns come first in the condition, one-hot (one indicator per value), then each draw
        # of their shadows, in the same order; each gets its own MMD block, as the protected values do. Measured
        # on the hiring world (5 seeds): with the shadows' blocks the flip rate is 1.1 points off on average (1.6
        # at worst), without them 1.6 (2.7); the blocks also leave z with little of the free columns (decoding
        # the posterior mean gives neighbourhood back for 40 % of records on 4 seeds of 5, against 98-100 %
        # without shadows), so twins rest on the abducted noise. That does not lower the latent leakage AUC:
        # read on posterior means shrunk to a spread of 0.01-0.15, it rose to 0.61-0.72 (0.53-0.63 without the
        # penalty), while a posterior draw, what the decoder gets, gives 0.49-0.53 (benchmarks/RESULTS.md).
        split = sum(code.width for code in self.cond_encoder_.columns if code.name in protected)
        group = c[:, : (1 + NULL_DRAWS) * split]  # (N, (1 + R) G)
        noise = Noise(cfg.seed, device)  # drawn on the CPU whatever the device
        n_numeric = sum(1 for code in self.free_encoder_.columns if code.kind == "numeric")
        with torch_cpu_settings(self.config.threads):
            # The decoder starts blind to the shadows too, as to the values they copy.
            self.net_ = seeded_net(x.shape[1], c.shape[1], n_numeric, cfg, self._categorical_spans(),
                                   (1 + NULL_DRAWS) * split, device)
            order = noise.permutation(len(x))
            n_val = max(1, int(len(x) * cfg.validation))
            val, rows = order[:n_val], order[n_val:]
            self.history_ = train(self.net_, self.free_encoder_, cfg, x, c, group, rows, val, noise,
                                  self._cell_weights(data, rows), progress=self.progress, split=split)
            self.latent_cells_, self.latent_mean_, self.latent_scale_ = self._latent_cells(data, x, c)
        self.fit_device_ = device.type
        self.fingerprint_ = self._fingerprint()
        return self

    def _state(self) -> dict[str, Any]:
        """Everything but the tensors, as plain JSON data; ``fit_device`` only for a fit made off the CPU."""
        return ({"format": io.FORMAT_VERSION, "config": asdict(self.config), "protected": self.protected_,
                "held": self.held_, "free": self.free_, "groups": self.groups_, "derived": self.derived_,
                "dtypes": self.dtypes_, "free_encoder": self.free_encoder_.to_dict(),
                "cond_encoder": self.cond_encoder_.to_dict(), "history": self.history_,
                "cell_columns": self.cell_columns_, "latent_cells": self.latent_cells_, "causes": self.causes,
                "structure": self.structure_.to_dict(), "shadows": self.shadows_}
                | ({"fit_device": self.fit_device_} if self.fit_device_ != "cpu" else {}))

    def _tensors(self) -> dict[str, torch.Tensor]:
        """The network's weights and the latent cells' summaries, on the CPU (saved and fingerprinted from there)."""
        return {**{k: v.detach().cpu() for k, v in self.net_.state_dict().items()},
                "latent_cells.mean": self.latent_mean_, "latent_cells.scale": self.latent_scale_}

    def _fingerprint(self) -> str:
        return io.fingerprint(self._state(), self._tensors())

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``PATH`` (safetensors weights) and ``PATH.json`` (config, encoding, structure, versions,
        fingerprint)."""
        self._check_fitted()
        return io.save(path, self._state(), self._tensors(), self.fingerprint_)

    @classmethod
    def load(cls, path: str | os.PathLike, *, stochastic: bool = True, device: str | torch.device = "cpu") -> CVAE:
        """Load a generator written by :meth:`save` onto ``device`` (as ``device=``); its fingerprint is checked."""
        device = resolve_device(device)  # before reading, and not taken for a damaged file below
        meta, weights = io.load(path)
        try:
            self = cls(CVAEConfig(**meta["config"]), causes=meta["causes"], stochastic=stochastic, device=device)
            self.protected_, self.held_, self.free_ = list(meta["protected"]), list(meta["held"]), list(meta["free"])
            self.groups_, self.history_ = meta["groups"], meta["history"]
            self.derived_, self.dtypes_ = meta["derived"], meta["dtypes"]
            self.free_encoder_ = TableEncoder.from_dict(meta["free_encoder"])
            self.cond_encoder_ = TableEncoder.from_dict(meta["cond_encoder"])
            self.cell_columns_, self.latent_cells_ = meta["cell_columns"], meta["latent_cells"]
            self.structure_ = structure.CausalStructure.from_dict(meta["structure"])
            self.shadows_ = {p: list(v) for p, v in meta["shadows"].items()}
            self.fit_device_ = str(meta.get("fit_device", "cpu"))
            expected = meta["fingerprint"]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidSpec(f"{io.damaged(Path(path))} (at {exc!r})") from None
        n_numeric = sum(1 for code in self.free_encoder_.columns if code.kind == "numeric")
        try:
            self.latent_mean_, self.latent_scale_ = weights.pop("latent_cells.mean"), weights.pop("latent_cells.scale")
        except KeyError as exc:
            raise InvalidSpec(f"could not read the CVAE weights in {str(path)!r} ({exc}); the file is damaged or "
                              "belongs to another configuration: refit it") from None
        self.net_ = net_from_weights(self.free_encoder_.width, self.cond_encoder_.width, n_numeric, self.config,
                                     self._categorical_spans(), weights, str(path))
        self.fingerprint_ = self._fingerprint()
        if self.fingerprint_ != expected:
            raise InvalidSpec(f"{str(path)!r} does not match the fingerprint in {io.sidecar(path).name}: the weights "
                              "or the encoding were changed after saving")
        self.net_.to(self.device)
        return self

    def _cell_columns(self, data: pd.DataFrame) -> list[str]:
        """Condition cells: the protected values and the held columns with few values."""
        return list(self.protected_) + [h for h in self.held_ if data[h].nunique() <= 20]

    def _cell_keys(self, frame: pd.DataFrame) -> np.ndarray:
        return _keys(frame, self.cell_columns_)

    def _with_shadows(self, frame: pd.DataFrame, seed: int) -> pd.DataFrame:
        """``frame`` plus each protected attribute's null shadow: its values shuffled among the rows of each
        cell of the other condition-cell columns, so the shadow keeps the attribute's group sizes and its
        ties to the other protected values and held cells, and has none to the free columns."""
        rng = np.random.default_rng((seed, 0x5AD0))
        shadows = {}
        for attribute, names in self.shadows_.items():
            others = [c for c in self.cell_columns_ if c != attribute]
            cell = pd.factorize(_keys(frame, others))[0] if others else np.zeros(len(frame), dtype=np.int64)
            values = frame[attribute].to_numpy(dtype=object)
            for shadow in names:
                # Two random orders that group rows by cell: row a of one order gets the value of row a of the other.
                into, out_of = (np.lexsort((rng.random(len(frame)), cell)) for _ in range(2))
                shuffled = np.empty_like(values)
                shuffled[into] = values[out_of]
                shadows[shadow] = shuffled
        return frame.assign(**shadows)

    def condition(self, frame: pd.DataFrame, *, seed: int = 0) -> np.ndarray:
        """The encoded condition of ``frame``'s rows (protected values, their null shadows drawn with ``seed``,
        held columns)."""
        return self.cond_encoder_.transform(self._with_shadows(frame, seed))

    def _latent_cells(self, data: pd.DataFrame, x: torch.Tensor, c: torch.Tensor):
        """Per condition cell of at least MIN_CELL_ROWS rows, the posterior's mean and covariance factor."""
        with torch.no_grad():
            mu, logvar = self.net_.encode(x, c)  # (N, d), (N, d)
        return latent_cells(mu.cpu(), logvar.cpu(), self._cell_keys(data), MIN_CELL_ROWS)

    def _cell_weights(self, data: pd.DataFrame, rows: torch.Tensor) -> torch.Tensor | None:
        """Sampling weights of the training rows when ``balance`` > 0: cells are the protected values and
        the held columns with few values."""
        if self.config.balance <= 0:
            return None
        columns = self._cell_columns(data)
        cell = pd.factorize(_keys(data, columns))[0][rows.cpu().numpy()]
        sizes = np.bincount(cell)
        return torch.from_numpy(sizes[cell].astype(np.float64) ** -self.config.balance)

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
            mu, _ = self.net_.encode(torch.from_numpy(self.free_encoder_.transform(data)).to(self.device),
                                     torch.from_numpy(self.condition(data)).to(self.device))
        return mu.cpu().numpy()

    def generate(self, data: pd.DataFrame, attributes: Sequence[str], *, held: Sequence[str] = (),
                 seed: int = 0, targets: pd.DataFrame | None = None) -> TwinSet:
        """Twins of every record for every other value (combination) of ``attributes``.

        Paired: each posterior draw of z is decoded with the record's own condition and with the
        target's, and only what differs between the two decodes is carried into the twin
        (:mod:`fairprobe.twins.cvae.paired`); held columns are copied bit for bit, and so are the free
        columns the attributes do not cause (``info["structure"]`` says which moved and why).
        """
        original, attributes = self._twin_inputs(data, attributes, held)
        shadowed = self._with_shadows(original, seed)
        return self._paired(original, shadowed, attributes, self._actions(shadowed, attributes, attributes, targets),
                            seed)

    def null_twins(self, data: pd.DataFrame, attributes: Sequence[str], *, held: Sequence[str] = (),
                   seed: int = 0, targets: pd.DataFrame | None = None) -> TwinSet:
        """Twins made by the same procedure with the attributes' link to the data broken: the null floor.

        Each attribute has NULL_DRAWS null shadows (its values shuffled among the records of each
        condition cell, fitted beside it); each record is given one draw (``info["null_draw"]``), whose
        shadow is set to every other value instead of the attribute, and the columns the attribute's
        twins move are carried over; the attributes themselves stay. What the model's decisions do on
        these twins is what the generator makes of chance differences between groups of the attribute's
        sizes: a probe reports it per draw beside every CVAE check (``details["null_noise_floor"]``,
        the largest draw) and a FAIL that it could explain is INCONCLUSIVE.

        Examples
        --------
        >>> import fairprobe as fp
        >>> world = fp.worlds.hiring(n=400, seed=0)
        >>> cvae = CVAE(epochs=2, k=2).fit(world.data, protected=["sex"], held=list(world.held), exclude=["hired"])
        >>> null = cvae.null_twins(world.data.iloc[:5], ["sex"], held=list(world.held), seed=0)
        >>> len(null), bool((null.twins["sex"] == world.data["sex"].iloc[null.source].to_numpy()).all())
        (10, True)
        """
        original, attributes = self._twin_inputs(data, attributes, held)
        shadowed = self._with_shadows(original, seed)
        draw = np.random.default_rng((seed, 0xD4A)).integers(0, NULL_DRAWS, len(original))  # (N,) a draw per record
        actions = []
        for r in range(NULL_DRAWS):
            records = np.flatnonzero(draw == r)
            for rows, acted in self._actions(shadowed.iloc[records], attributes, [self.shadows_[a][r] for a in attributes],
                                             shadowed if targets is None else targets):
                actions.append((records[rows], acted))
        twinset = self._paired(original, shadowed, attributes, actions, seed)
        twinset.info.update(null_twins=True, null_draws=NULL_DRAWS, null_draw=draw)
        return twinset

    def self_twins(self, data: pd.DataFrame, attributes: Sequence[str], *, held: Sequence[str] = (),
                   seed: int = 0) -> TwinSet:
        """Twins made by the same procedure with each record's own protected values: the self noise floor.

        Paired twins give their originals back here by construction (the two decodes are equal);
        anything they change is noise that :meth:`generate` would also add, and a check reports
        it beside its flip rate (``details["noise_floor"]``). One twin per record (z drawn once).

        Examples
        --------
        >>> import fairprobe as fp
        >>> world = fp.worlds.hiring(n=400, seed=0)
        >>> cvae = CVAE(epochs=2, k=2).fit(world.data, protected=["sex"], held=list(world.held), exclude=["hired"])
        >>> same = cvae.self_twins(world.data.iloc[:5], ["sex"], held=list(world.held), seed=0)
        >>> len(same), same.twins.equals(world.data.iloc[same.source].reset_index(drop=True))
        (5, True)
        """
        original, attributes = self._twin_inputs(data, attributes, held)
        shadowed = self._with_shadows(original, seed)
        # One draw per record: they give the originals back by construction, and one draw runs the whole path
        # (k = 10 draws cost as much as the twins: 3.6 s on Adult train).
        twinset = self._paired(original, shadowed, attributes, [(np.arange(len(original)), shadowed.copy())], seed,
                               draws=1)
        twinset.info["self_twins"] = True
        return twinset

    def _actions(self, shadowed: pd.DataFrame, attributes: list[str], columns: list[str],
                 targets: pd.DataFrame | None) -> list[tuple[np.ndarray, pd.DataFrame]]:
        """For each combination of ``attributes``' values in ``targets`` (default: the records): the records
        whose ``columns`` (the attributes, or their shadows) hold another one, with ``columns`` set to it."""
        combos = target_combinations(shadowed if targets is None else targets, attributes)
        actions = []
        for _, target in combos.iterrows():
            rows = np.flatnonzero(~(shadowed[columns] == target.to_numpy()).all(axis=1).to_numpy())
            if len(rows):
                acted = shadowed.iloc[rows].copy()
                for column, attribute in zip(columns, attributes):
                    acted[column] = target[attribute]
                actions.append((rows, acted))
        return actions

    def _twin_inputs(self, data: pd.DataFrame, attributes: Sequence[str], held: Sequence[str],
                     ) -> tuple[pd.DataFrame, list[str]]:
        """The records (index reset) and attributes, checked against what the generator was fitted with."""
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
        return original, attributes

    def _paired(self, original: pd.DataFrame, shadowed: pd.DataFrame, attributes: list[str],
                actions: list[tuple[np.ndarray, pd.DataFrame]], seed: int, draws: int | None = None) -> TwinSet:
        """``k`` (or ``draws``) paired twins of ``original.iloc[rows]`` for each (rows, acted) action, sorted by
        original; ``shadowed`` is ``original`` with the null shadows the actions were made from."""
        k = (self.config.k if draws is None else draws) if self.stochastic else 1
        device = self.device
        # Drawn on the CPU and moved, so the twins do not depend on the device. The deterministic twin decodes
        # the posterior mean and reads every abducted uniform at its middle.
        noise = Noise(seed, device) if self.stochastic else None
        moved = self.structure_.moved(attributes)
        keep = frozenset(c for c in self.free_ if c not in moved)
        x = torch.from_numpy(self.free_encoder_.transform(original)).to(device)  # (N, x_dim) moved once
        c = torch.from_numpy(self.cond_encoder_.transform(shadowed)).to(device)  # (N, c_dim)
        numeric = original[[code.name for code in self.free_encoder_.columns
                            if code.kind == "numeric" and code.name not in keep]]  # shifted
        sources: list[np.ndarray] = []
        values: dict[str, list[np.ndarray]] = {column: [] for column in [*attributes, *moved]}
        with torch.no_grad(), torch_cpu_settings(self.config.threads):
            mu, logvar = self.net_.encode(x, c)  # (N, d), (N, d)
            for rows, acted in actions:
                c_cf = torch.from_numpy(self.cond_encoder_.transform(acted)).to(device)  # (R, c_dim)
                for begin in range(0, k * len(rows), TWIN_BATCH):
                    draw = np.arange(begin, min(begin + TWIN_BATCH, k * len(rows))) % len(rows)  # (B,) into rows
                    at = torch.from_numpy(rows[draw]).to(device)  # (B,) into original
                    z = mu[at]  # (B, d)
                    if noise is not None:
                        z = z + noise.normal(z.shape) * torch.exp(0.5 * logvar[at])  # (B, d)
                    # Two calls of the same shape, so equal conditions give bit-equal decodes.
                    out_self = self.net_.decode(z, c[at])  # (B, x_dim)
                    out_cf = self.net_.decode(z, c_cf[torch.from_numpy(draw).to(device)])  # (B, x_dim)
                    decoded = decode_pair(self.net_, self.free_encoder_, self.derived_,
                                          numeric.iloc[rows[draw]], x[at], out_self, out_cf, noise, keep)
                    sources.append(rows[draw])
                    for attribute in attributes:
                        values[attribute].append(acted[attribute].to_numpy(dtype=object)[draw])
                    for column in moved:
                        values[column].append(decoded[column].to_numpy(dtype=object))
        # One take of the originals in twin order, then the changed columns: building a frame per batch
        # and reordering the concatenation cost more than decoding on Adult (325,000 twins).
        source = np.concatenate(sources)
        order = np.argsort(source, kind="stable")
        twins = original.iloc[source[order]].reset_index(drop=True)
        for column, parts in values.items():
            twins[column] = restore(pd.Series(np.concatenate(parts)[order]), original[column].dtype)
        return TwinSet(original=original, twins=twins, source=source[order],
                       attributes=tuple(attributes), valid=np.ones(len(source), dtype=bool), generator=self.name,
                       info={"k": k, "stochastic": self.stochastic, "generative": True, "paired": True,
                             "fingerprint": self.fingerprint_, "config": asdict(self.config),
                             "device": str(device), "fit_device": self.fit_device_,
                             "structure": self.structure_.report(attributes)})

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
        from fairprobe.twins.cvae.sampling import sample

        self._check_fitted()
        return sample(self, n, seed=seed, conditions=conditions, latent=latent)

    def _categorical_spans(self) -> list[tuple[int, int]]:
        return [(start, stop) for code, start, stop in self.free_encoder_.spans() if code.kind == "categorical"]
