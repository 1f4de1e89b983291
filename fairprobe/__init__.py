"""fairprobe: counterfactual-fairness stress tests for ML models, as a pytest plugin.

>>> import fairprobe as fp
>>> sorted(fp.worlds.hiring(n=50, seed=0).data["sex"].unique())
['female', 'male']
"""

from fairprobe import adapters, checks, settings, stats, strategies, twins, worlds
from fairprobe.checks import CheckResult
from fairprobe.errors import (AdapterError, FairnessViolation, FairprobeError, FairprobeWarning, InvalidSpec,
                              MissingDependency)
from fairprobe.evidence import Evidence, verify
from fairprobe.probe import Probe
from fairprobe.spec import ProbeSpec
from fairprobe.twins import TwinSet

__version__ = "0.1.0"

__all__ = [
    "AdapterError",
    "CheckResult",
    "Evidence",
    "FairnessViolation",
    "FairprobeError",
    "FairprobeWarning",
    "InvalidSpec",
    "MissingDependency",
    "Probe",
    "ProbeSpec",
    "TwinSet",
    "adapters",
    "checks",
    "settings",
    "stats",
    "strategies",
    "twins",
    "verify",
    "worlds",
]
