"""Conditional-VAE twins (PyTorch, loaded only when used).

- :mod:`.model`: configuration, network and training loop;
- :mod:`.generator`: :class:`CVAE`, fit and twins (abduction, action, prediction);
- :mod:`.io`: safetensors + JSON save/load, the fit cache;
- :mod:`.fidelity`: the fidelity and privacy report kept in the evidence.
"""

from fairprobe.errors import MissingDependency

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise MissingDependency("torch", "cvae", "conditional-VAE twins") from exc

from fairprobe.twins.cvae.fidelity import fidelity_report
from fairprobe.twins.cvae.generator import CVAE, MIN_CELL_ROWS
from fairprobe.twins.cvae.io import FORMAT_VERSION, cache_key, fit_cached
from fairprobe.twins.cvae.model import CVAEConfig

__all__ = ["CVAE", "FORMAT_VERSION", "MIN_CELL_ROWS", "CVAEConfig", "cache_key", "fidelity_report", "fit_cached"]
