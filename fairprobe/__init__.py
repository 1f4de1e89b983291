"""fairprobe: counterfactual-fairness stress tests for ML models, as a pytest plugin.

The public API is re-exported here and loaded on first use, so ``import fairprobe`` (and the
pytest plugin, which imports it only inside its hooks) costs almost nothing until a probe runs.

>>> import fairprobe as fp
>>> sorted(fp.worlds.hiring(n=50, seed=0).data["sex"].unique())
['female', 'male']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_SUBMODULES = ("adapters", "checks", "engines", "evidence", "proxies", "settings", "stats", "strategies", "twins",
               "worlds")
_NAMES = {
    "AdapterError": "fairprobe.errors",
    "FairnessViolation": "fairprobe.errors",
    "FairprobeError": "fairprobe.errors",
    "FairprobeWarning": "fairprobe.errors",
    "InvalidSpec": "fairprobe.errors",
    "MissingDependency": "fairprobe.errors",
    "CheckResult": "fairprobe.result",
    "CheckError": "fairprobe.result",
    "Evidence": "fairprobe.evidence",
    "verify": "fairprobe.evidence",
    "Probe": "fairprobe.probe",
    "PartitionedProbe": "fairprobe.partitioned",
    "ProbeSpec": "fairprobe.spec",
    "TwinSet": "fairprobe.twins.base",
    "CheckSpec": "fairprobe.gates",
    "invariant": "fairprobe.gates",
    "equalized_odds": "fairprobe.gates",
    "demographic_parity": "fairprobe.gates",
    "soft_assertions": "fairprobe.gates",
    "parametrize_checks": "fairprobe.gates",
    "Verdict": "fairprobe.verdicts",
    "Mode": "fairprobe.verdicts",
    "Secret": "fairprobe.redact",
}

__all__ = sorted([*_SUBMODULES, *_NAMES])  # noqa: PLE0605 - one list: the lazy-import tables above

if TYPE_CHECKING:  # the names as the type checker should see them
    from fairprobe import (adapters, checks, engines, evidence, proxies, settings, stats, strategies,  # noqa: F401
                           twins, worlds)
    from fairprobe.result import CheckError, CheckResult  # noqa: F401
    from fairprobe.errors import (AdapterError, FairnessViolation, FairprobeError, FairprobeWarning,  # noqa: F401
                                  InvalidSpec, MissingDependency)
    from fairprobe.evidence import Evidence, verify  # noqa: F401
    from fairprobe.gates import (CheckSpec, demographic_parity, equalized_odds, invariant,  # noqa: F401
                                 parametrize_checks, soft_assertions)
    from fairprobe.partitioned import PartitionedProbe  # noqa: F401
    from fairprobe.probe import Probe  # noqa: F401
    from fairprobe.redact import Secret  # noqa: F401
    from fairprobe.spec import ProbeSpec  # noqa: F401
    from fairprobe.twins.base import TwinSet  # noqa: F401
    from fairprobe.verdicts import Mode, Verdict  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"fairprobe.{name}")
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'fairprobe' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
