"""Text twins: rewriter profiles per second and validation pairs per second, on the hiring world's profiles.

Usage: python benchmarks/bench_text.py [PROFILES]
"""

from __future__ import annotations

import platform
import sys
import time

import fairprobe as fp
from fairprobe.twins.text import Person, Rewriter, pick_name, validate


def main(n: int = 5000) -> None:
    world = fp.worlds.hiring(n=n, seed=0)
    rows = world.data.assign(profile=world.profiles()).to_dict(orient="records")
    people = [Person(r["first_name"], r["last_name"], r["sex"], r["race"]) for r in rows]
    targets = [pick_name(p, "male" if p.sex == "female" else "female", p.race) for p in people]
    rewriter = Rewriter()

    start = time.perf_counter()
    twins = [rewriter.rewrite(r["profile"], old, new) for r, old, new in zip(rows, people, targets)]
    rewrite_s = time.perf_counter() - start

    start = time.perf_counter()
    rejected = sum(bool(validate(r["profile"], t, old, new)) for r, t, old, new in zip(rows, twins, people, targets))
    validate_s = time.perf_counter() - start

    print(f"# text twins on {n:,} hiring-world profiles (sex twins); {platform.machine()}, Python "
          f"{platform.python_version()}, one process")
    print(f"{'step':28s} {'seconds':>8s} {'per second':>12s}")
    print(f"{'rewrite (names, pronouns)':28s} {rewrite_s:8.3f} {n / rewrite_s:12,.0f}")
    print(f"{'validate a pair':28s} {validate_s:8.3f} {n / validate_s:12,.0f}")
    print(f"rejected by validation: {rejected} of {n}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
