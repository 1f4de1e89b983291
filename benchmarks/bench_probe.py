"""The probe path on the hiring world: twin generation, model queries saved by the cache, check cost.

Prints a table; the baseline for the cache is the same model queried once per original and twin.
Usage: python benchmarks/bench_probe.py [RECORDS]
"""

from __future__ import annotations

import platform
import sys
import time

import fairprobe as fp
from fairprobe.twins import FlipGenerator

HELD = ["years_experience", "degree", "skills_score", "certifications"]


def main(n: int = 100_000) -> None:
    world = fp.worlds.hiring(n=n, seed=0, direct_bias=1.0)
    rows = []

    start = time.perf_counter()
    twins = FlipGenerator().generate(world.data, ["sex", "race"], held=HELD, seed=0)
    seconds = time.perf_counter() - start
    rows.append(("flip twins, sex x race", f"{len(twins):,} twins", seconds, f"{len(twins) / seconds:,.0f} twins/s"))

    def reads_sex(df):
        return ((df["sex"] == "male") & (df["skills_score"] > 45) | (df["skills_score"] > 60)).to_numpy()

    def qualifications_only(df):
        return (df["skills_score"] > 55).to_numpy()

    # A model that reads only the held columns (as a scikit-learn model fitted on them would declare)
    # sees every twin as its original: the cache answers them all.
    for name, model, features in (("model reads sex", reads_sex, None),
                                  ("model reads held columns only", qualifications_only, HELD)):
        probe = fp.Probe(data=world.data, model=model, protected=["sex", "race"], label="hired", held=HELD,
                         features=features)
        start = time.perf_counter()
        probe.invariance(["sex", "race"], max_flip_rate=0.01)
        probe.equalized_odds(["sex", "race"], max_gap=0.05)
        probe.demographic_parity(["sex", "race"], min_ratio=0.8)
        seconds = time.perf_counter() - start
        naive = n + len(probe.twins(["sex", "race"]))
        rows.append((f"3 checks, {name}", f"{probe.queries:,} queries (naive {naive:,}, "
                     f"{naive / probe.queries:.1f}x fewer)", seconds, f"{n / seconds:,.0f} records/s"))

    print(f"# probe path on {n:,} hiring records; {platform.machine()}, Python {platform.python_version()}")
    print(f"{'step':42s} {'size':48s} {'seconds':>8s}  rate")
    for step, size, seconds, rate in rows:
        print(f"{step:42s} {size:48s} {seconds:8.3f}  {rate}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
