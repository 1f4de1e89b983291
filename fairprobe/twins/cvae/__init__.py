"""Conditional-VAE twins (PyTorch, loaded only when used).

- :mod:`.model`: configuration, network and training loop;
- :mod:`.structure`: which free columns each protected attribute causes (declared or tested);
- :mod:`.generator`: :class:`CVAE`, fit and twins (abduction, action, prediction), null and self twins;
- :mod:`.paired`: carrying into a twin only what the protected value changes;
- :mod:`.sampling`: decoding every free column afresh (synthetic rows);
- :mod:`.io`: safetensors + JSON save/load of a state and tensors; :mod:`.cache`: the fit cache;
- :mod:`.fidelity`: the fidelity and privacy report kept in the evidence.
"""

from fairprobe.errors import MissingDependency

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise MissingDependency("torch", "cvae", "conditional-VAE twins") from exc

from fairprobe.twins.cvae.cache import cache_key, fit_cached
from fairprobe.twins.cvae.fidelity import fidelity_report
from fairprobe.twins.cvae.generator import CVAE, MIN_CELL_ROWS
from fairprobe.twins.cvae.io import FORMAT_VERSION
from fairprobe.twins.cvae.model import CVAEConfig
from fairprobe.twins.cvae.structure import CausalStructure

__all__ = ["CVAE", "FORMAT_VERSION", "MIN_CELL_ROWS", "CVAEConfig", "CausalStructure", "cache_key",
           "fidelity_report", "fit_cached"]
