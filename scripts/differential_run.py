"""The differential tests of tests/test_differential.py on many more seeded cases, with a count of cases and
mismatches (issue #22's closing figure). Each case is one generated table (or one model output) compared with
fairlearn, aif360, statsmodels / scipy / the printed MOVER-R, and with itself renamed and reordered.

    .venv/bin/python scripts/differential_run.py --tables 2000 --aif360 300 --outputs 2000 [--only renamed]

Prints one line per comparison (cases, mismatches, seconds) and each mismatch's table.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import differential
import test_differential as t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--aif360", type=int, default=300)
    parser.add_argument("--outputs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--only", default="", help="run the comparisons whose name holds this text")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(args.seed)
    tables = [differential.draw_table(rng) for _ in range(args.tables)]
    pools = [tuple(rng.permutation(t.NAME_POOL)) for _ in range(args.tables)]
    kinds = list(itertools.product(t.OUTPUTS, t.FAVOURABLE, [None, 0.3, 0.5, 0.7]))
    outputs = [(*kinds[i % len(kinds)], int(rng.integers(0, 2**31))) for i in range(args.outputs)]
    runs = [
        ("fairlearn MetricFrame: rates, DP difference and ratio, EO difference", tables,
         lambda table: t.check_against_fairlearn(table, functions=False)),
        ("statsmodels Newcombe, Wilson; scipy Clopper-Pearson; printed MOVER-R; verdicts", tables,
         t.test_every_pairwise_bound_and_verdict_equals_the_references.hypothesis.inner_test),
        ("renamed and reordered groups: statistic, interval, verdict, n to decide", list(zip(tables, pools)),
         lambda case: t.test_renaming_or_reordering_groups_changes_no_statistic_interval_or_verdict.hypothesis
         .inner_test(case[0], case[1], int(case[0].seed))),
        ("aif360 ClassificationMetric, every pair", tables[: args.aif360],
         t.test_pairwise_figures_equal_aif360s.hypothesis.inner_test),
        ("output kinds x favourable class x threshold (README's reading, fairlearn DP)", outputs,
         lambda case: t.test_every_output_kind_is_read_as_the_readme_says.hypothesis.inner_test(*case)),
    ]
    total = mismatched = 0
    print(f"{'comparison':<82} {'cases':>6} {'mismatches':>10} {'seconds':>8}")
    for name, cases, check in runs:
        if args.only not in name:
            continue
        start, bad = time.perf_counter(), []
        for case in cases:
            try:
                check(case)
            except AssertionError:
                bad.append((case, traceback.format_exc(limit=1)))
        total, mismatched = total + len(cases), mismatched + len(bad)
        print(f"{name:<82} {len(cases):>6} {len(bad):>10} {time.perf_counter() - start:>8.1f}")
        for case, trace in bad[:5]:
            print(f"    mismatch: {case!r}\n    {trace.strip().splitlines()[-1]}")
    print(f"{'all':<82} {total:>6} {mismatched:>10}")
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
