"""Fitting a CVAE inside a probe, or loading the same fit from the cache folder (``.fairprobe_cache/``)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from fairprobe.errors import FairprobeWarning, InvalidSpec
from fairprobe.twins.cvae import io
from fairprobe.twins.cvae.generator import CVAE


def cache_key(cvae: CVAE, data_sha256: str, protected: Sequence[str], held: Sequence[str],
              exclude: Sequence[str]) -> str:
    """What a fitted generator depends on: the data, the column roles, the declared causes, the config, the kind of
    device it is fitted on (another device's arithmetic ends at other weights) and this version."""
    return io.cache_key(asdict(cvae.config), data_sha256, protected, held, exclude, cvae.causes,
                        fit_device=cvae.device.type)


def fit_cached(cvae: CVAE, data: pd.DataFrame, *, data_sha256: str, protected: Sequence[str],
               held: Sequence[str], exclude: Sequence[str], cache_dir: str | os.PathLike | None) -> CVAE:
    """Fit ``cvae`` on ``data``, or load the same fit from ``cache_dir`` when one is there."""
    if cache_dir is None:
        return cvae.fit(data, protected=protected, held=held, exclude=exclude)
    path = Path(cache_dir) / f"cvae-{cache_key(cvae, data_sha256, protected, held, exclude)}.safetensors"
    if path.is_file():
        try:
            loaded = CVAE.load(path, stochastic=cvae.stochastic, device=cvae.device)
        except (InvalidSpec, OSError):
            pass  # a damaged or stale cache entry is a miss: refit and overwrite it
        else:
            loaded.from_cache_ = str(path)
            return loaded
    cvae.fit(data, protected=protected, held=held, exclude=exclude)
    try:
        cvae.save(path)
    except InvalidSpec as exc:  # the cache only saves time: the fit stands, and the next run fits again
        warnings.warn(f"the fitted generator is not kept in the cache folder ({exc}); set fairprobe_cache (ini) or "
                      f"cache_dir to a folder that can be written", FairprobeWarning, stacklevel=2)
    return cvae
