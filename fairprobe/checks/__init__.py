"""The checks: invariance under twins, equalized odds, demographic parity; each returns a CheckResult.

- :mod:`fairprobe.result`: the result type and how it reads;
- :mod:`fairprobe.checks.invariance`: decisions between records and their twins;
- :mod:`fairprobe.checks.group_metrics`: TPR/FPR gaps and selection rates across groups.
"""

from fairprobe.checks.group_metrics import demographic_parity, equalized_odds, group_counts
from fairprobe.checks.invariance import invariance
from fairprobe.result import CheckResult
from fairprobe.validation import check_alpha, check_mode
from fairprobe.verdicts import CheckKind, Mode, Verdict, combine

MODES = tuple(m.value for m in Mode)

__all__ = ["MODES", "CheckKind", "CheckResult", "Mode", "Verdict", "check_alpha", "check_mode", "combine",
           "demographic_parity", "equalized_odds", "group_counts", "invariance"]
