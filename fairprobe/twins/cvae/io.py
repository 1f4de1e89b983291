"""Saving and loading a fitted CVAE's parts: safetensors weights plus a JSON sidecar, never a pickle.

``PATH`` holds the tensors (network and latent cells); ``PATH.json`` the state (configuration,
column encodings, causal structure, training history), package versions and a SHA-256
fingerprint over both, checked on load so that a changed weight or encoding is refused.

Plain functions over a state dict and a dict of tensors: this module knows nothing of the
generator, which builds its state, calls :func:`save` and rebuilds itself from :func:`load`
(issue #19: generator and io imported each other).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from fairprobe.errors import InvalidSpec

# 2: point-mass indicators and derived columns; 3: autoregressive term; 4: latent cells; 5: paired twins;
# 6: causal structure and null shadows of the protected attributes
FORMAT_VERSION = 6


def fingerprint(state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over the state and every tensor: what identifies a fitted generator in the evidence."""
    digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode())
    for name, tensor in sorted(tensors.items()):
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def check_writable(path: str | os.PathLike) -> Path:
    """``path`` as a Path, after making sure a generator can be written there (its folder made, a file created
    and removed): checked before a fit, not after it."""
    import tempfile

    path = Path(path)
    if path.is_dir():
        raise InvalidSpec(f"cannot save the CVAE to {str(path)!r}: it is a folder; give a file name such as "
                          f"{str(path / 'generator.safetensors')!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".fairprobe-write-check-"):
            pass
    except OSError as exc:
        raise InvalidSpec(f"cannot save the CVAE to {str(path)!r}: its folder {str(path.parent)!r} cannot be written "
                          f"({exc.strerror or exc}); choose another place") from None
    return path


def save(path: str | os.PathLike, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor],
         fingerprint: str) -> Path:
    """Write ``PATH`` (safetensors weights) and ``PATH.json``; both land whole or not at all."""
    from importlib import metadata

    from safetensors.torch import save_file

    path = check_writable(path)
    meta = {**state, "format": FORMAT_VERSION, "fingerprint": fingerprint,
            "versions": {p: metadata.version(p) for p in ("fairprobe", "torch", "safetensors")}}
    tmp_weights, tmp_meta = path.with_name(path.name + ".tmp"), path.with_name(path.name + ".json.tmp")
    try:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp_weights))
        tmp_meta.write_text(json.dumps(meta, indent=1, default=str))
        os.replace(tmp_weights, path)
        os.replace(tmp_meta, path.with_name(path.name + ".json"))
    except OSError as exc:
        raise InvalidSpec(f"cannot save the CVAE to {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        tmp_weights.unlink(missing_ok=True)
        tmp_meta.unlink(missing_ok=True)
    return path


MAX_SIDECAR_BYTES = 64 * 2**20  # the JSON description (config, encoders, history): kilobytes to a few MB


def damaged(path: Path) -> str:
    """The message for a sidecar that cannot be read back."""
    return (f"the CVAE sidecar {str(sidecar(path))!r} is damaged or not a fairprobe CVAE description; "
            "refit the generator (fairprobe fit ... --out PATH)")


def sidecar(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".json")


def load(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The state and the tensors written by :func:`save`; a missing, damaged or older file is refused."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    meta_path = sidecar(path)
    if not path.is_file() or not meta_path.is_file():
        raise InvalidSpec(f"no saved CVAE at {str(path)!r} (expected it and {meta_path.name} beside it)")
    size = meta_path.stat().st_size
    if size > MAX_SIDECAR_BYTES:
        raise InvalidSpec(f"{damaged(path)} (it is {size:,} bytes; a CVAE description is at most "
                          f"{MAX_SIDECAR_BYTES:,})")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidSpec(f"{damaged(path)} ({exc})") from None
    if not isinstance(meta, dict):
        raise InvalidSpec(damaged(path))
    if meta.get("format") != FORMAT_VERSION:
        raise InvalidSpec(f"{str(path)!r} was saved in CVAE format {meta.get('format')}; this fairprobe reads "
                          f"format {FORMAT_VERSION}: refit it")
    try:
        weights = load_file(str(path))
    except (SafetensorError, RuntimeError, OSError) as exc:
        raise InvalidSpec(f"could not read the CVAE weights in {str(path)!r} ({exc}); the file is damaged or "
                          "belongs to another configuration: refit it") from None
    return meta, weights


def cache_key(config: Mapping[str, Any], data_sha256: str, protected: Sequence[str], held: Sequence[str],
              exclude: Sequence[str], causes: Mapping[str, Sequence[str]] | None = None, *,
              fit_device: str = "cpu") -> str:
    """What a fitted generator depends on: the data, the column roles, the declared causes, the config, the kind of
    device it is fitted on (named only when not the CPU, so a CPU fit keeps the key it had), this version and the
    code that fits (:func:`fit_code_digest`: a fit cached by other code, e.g. an edited checkout, is never reused)."""
    from importlib import metadata

    payload = {"data": data_sha256, "protected": list(protected), "held": list(held), "exclude": list(exclude),
               "causes": None if causes is None else {k: list(v) for k, v in causes.items()},
               "config": dict(config), "format": FORMAT_VERSION, "fairprobe": metadata.version("fairprobe"),
               "torch": torch.__version__, "code": fit_code_digest()} | (
                   {"fit_device": fit_device} if fit_device != "cpu" else {})
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=1)
def fit_code_digest() -> str:
    """SHA-256 of the source of the CVAE package and the table encoding it fits on (what decides a fit's weights)."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in [*sorted(here.glob("*.py")), here.parent / "encoding.py"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
