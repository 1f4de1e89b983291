"""Saving, loading and caching a fitted CVAE: safetensors weights plus a JSON sidecar, never a pickle.

``PATH`` holds the tensors (network and latent cells); ``PATH.json`` the configuration, the
column encodings, the training history, package versions and a SHA-256 fingerprint over both,
checked on load so that a changed weight or encoding is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

from fairprobe.errors import InvalidSpec

if TYPE_CHECKING:
    from fairprobe.twins.cvae.generator import CVAE

# 2: point-mass indicators and derived columns; 3: autoregressive term; 4: latent cells; 5: paired twins
FORMAT_VERSION = 5


def state(cvae: CVAE) -> dict[str, Any]:
    """Everything but the tensors, as plain JSON data."""
    return {"format": FORMAT_VERSION, "config": asdict(cvae.config), "protected": cvae.protected_,
            "held": cvae.held_, "free": cvae.free_, "groups": cvae.groups_,
            "derived": cvae.derived_, "dtypes": cvae.dtypes_,
            "free_encoder": cvae.free_encoder_.to_dict(), "cond_encoder": cvae.cond_encoder_.to_dict(),
            "history": cvae.history_, "cell_columns": cvae.cell_columns_, "latent_cells": cvae.latent_cells_}


def tensors(cvae: CVAE) -> dict[str, torch.Tensor]:
    """The network's weights and the latent cells' summaries."""
    return {**cvae.net_.state_dict(), "latent_cells.mean": cvae.latent_mean_, "latent_cells.scale": cvae.latent_scale_}


def fingerprint(cvae: CVAE) -> str:
    """SHA-256 over the state and every tensor: what identifies a fitted generator in the evidence."""
    digest = hashlib.sha256(json.dumps(state(cvae), sort_keys=True, default=str).encode())
    for name, tensor in sorted(tensors(cvae).items()):
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def save(cvae: CVAE, path: str | os.PathLike) -> Path:
    """Write ``PATH`` (safetensors weights) and ``PATH.json``; both land whole or not at all."""
    from importlib import metadata

    from safetensors.torch import save_file

    path = Path(path)
    if path.is_dir():
        raise InvalidSpec(f"cannot save the CVAE to {str(path)!r}: it is a folder; give a file name such as "
                          f"{str(path / 'generator.safetensors')!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {**state(cvae), "fingerprint": cvae.fingerprint_,
            "versions": {p: metadata.version(p) for p in ("fairprobe", "torch", "safetensors")}}
    tmp_weights, tmp_meta = path.with_name(path.name + ".tmp"), path.with_name(path.name + ".json.tmp")
    try:
        save_file({k: v.contiguous() for k, v in tensors(cvae).items()}, str(tmp_weights))
        tmp_meta.write_text(json.dumps(meta, indent=1, default=str))
        os.replace(tmp_weights, path)
        os.replace(tmp_meta, path.with_name(path.name + ".json"))
    finally:
        tmp_weights.unlink(missing_ok=True)
        tmp_meta.unlink(missing_ok=True)
    return path


def load(path: str | os.PathLike, *, stochastic: bool = True) -> CVAE:
    """Load a generator written by :func:`save`; a damaged file or sidecar is refused with the fix."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from fairprobe.twins.cvae.generator import CVAE
    from fairprobe.twins.cvae.model import CVAEConfig, CVAENet
    from fairprobe.twins.encoding import TableEncoder

    path = Path(path)
    meta_path = path.with_name(path.name + ".json")
    if not path.is_file() or not meta_path.is_file():
        raise InvalidSpec(f"no saved CVAE at {str(path)!r} (expected it and {meta_path.name} beside it)")
    damaged = (f"the CVAE sidecar {str(meta_path)!r} is damaged or not a fairprobe CVAE description; "
               "refit the generator (fairprobe fit ... --out PATH)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidSpec(f"{damaged} ({exc})") from None
    if not isinstance(meta, dict):
        raise InvalidSpec(damaged)
    if meta.get("format") != FORMAT_VERSION:
        raise InvalidSpec(f"{str(path)!r} was saved in CVAE format {meta.get('format')}; this fairprobe reads "
                          f"format {FORMAT_VERSION}: refit it")
    try:
        self = CVAE(CVAEConfig(**meta["config"]), stochastic=stochastic)
        self.protected_, self.held_, self.free_ = list(meta["protected"]), list(meta["held"]), list(meta["free"])
        self.groups_, self.history_ = meta["groups"], meta["history"]
        self.derived_, self.dtypes_ = meta["derived"], meta["dtypes"]
        self.free_encoder_ = TableEncoder.from_dict(meta["free_encoder"])
        self.cond_encoder_ = TableEncoder.from_dict(meta["cond_encoder"])
        self.cell_columns_, self.latent_cells_ = meta["cell_columns"], meta["latent_cells"]
        expected = meta["fingerprint"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidSpec(f"{damaged} (at {exc!r})") from None
    n_numeric = sum(1 for code in self.free_encoder_.columns if code.kind == "numeric")
    self.net_ = CVAENet(self.free_encoder_.width, self.cond_encoder_.width, n_numeric, self.config,
                        self._categorical_spans())
    try:
        weights = load_file(str(path))
        self.latent_mean_, self.latent_scale_ = weights.pop("latent_cells.mean"), weights.pop("latent_cells.scale")
        self.net_.load_state_dict(weights)
    except (SafetensorError, RuntimeError, KeyError, OSError) as exc:
        raise InvalidSpec(f"could not read the CVAE weights in {str(path)!r} ({exc}); the file is damaged or "
                          "belongs to another configuration: refit it") from None
    self.net_.eval()
    self.fingerprint_ = fingerprint(self)
    if self.fingerprint_ != expected:
        raise InvalidSpec(f"{str(path)!r} does not match the fingerprint in {meta_path.name}: the weights or "
                          "the encoding were changed after saving")
    return self


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
        try:
            loaded = load(path, stochastic=cvae.stochastic)
        except (InvalidSpec, OSError):
            pass  # a damaged or stale cache entry is a miss: refit and overwrite it
        else:
            loaded.from_cache_ = str(path)
            return loaded
    cvae.fit(data, protected=protected, held=held, exclude=exclude)
    save(cvae, path)
    return cvae
