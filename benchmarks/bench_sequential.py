"""Records and model queries a sequential invariance check uses, against the fixed-sample design.

Three screeners on the hiring world (6,000 applicants, flip twins of sex, bound 1 %): one that never
changes with sex (invariant), one that favours men (clearly violating), and one whose decision flips
for about 1 % of applicants (near the bound). Both designs run through the public API
(``probe.invariance(..., sequential=True)`` against the default) on fresh probes, so the query counts
are what a user pays. Usage: python benchmarks/bench_sequential.py
"""

from __future__ import annotations

import platform
import time
import warnings

import numpy as np
import pandas as pd

import fairprobe as fp

N = 6000
BOUND = 0.01


def screeners(data: pd.DataFrame) -> dict:
    u = np.random.default_rng(9).random(len(data))
    lucky = pd.Series(u, index=data.index)
    return {
        "invariant": lambda f: (f["skills_score"] > 50).to_numpy(),
        "clearly violating": lambda f: ((f["skills_score"] > 50) | (f["sex"] == "male")).to_numpy(),
        "near the bound": lambda f: ((f["skills_score"] > 50) | ((f["sex"] == "male") & (lucky[f.index] < 0.02))).to_numpy(),
    }


def main() -> None:
    warnings.simplefilter("ignore", fp.FairprobeWarning)
    world = fp.worlds.hiring(n=N, seed=2)
    rows = []
    for name, model in screeners(world.data).items():
        for design, options in (("fixed sample", {}), ("sequential", {"sequential": True}),
                                ("sequential, budget 1000", {"sequential": True, "budget": 1000})):
            probe = fp.Probe(data=world.data, model=model, protected=["sex"], features=["sex", "race", "skills_score"])
            start = time.perf_counter()
            result = probe.invariance("sex", max_flip_rate=BOUND, **options)
            rows.append({"screener": name, "design": design, "verdict": str(result.verdict).upper(),
                         "flip rate": result.statistic, "interval": f"[{result.interval[0]:.4f}, {result.interval[1]:.4f}]",
                         "records": result.n, "model queries": probe.queries,
                         "seconds": time.perf_counter() - start})
    table = pd.DataFrame(rows)
    print(f"# sequential vs fixed-sample invariance, hiring world {N:,} records, flip twins of sex, bound {BOUND:.0%}, "
          f"alpha 0.05; {platform.machine()}, Python {platform.python_version()}")
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
