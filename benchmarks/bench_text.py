"""Text twins: rewriter profiles per second and validation pairs per second, on the hiring world's profiles.

Usage: python benchmarks/bench_text.py [PROFILES]
"""

from __future__ import annotations

import platform
import sys
import time

import fairprobe as fp
from fairprobe.twins.text import Person, RenderedTwinGenerator, Rewriter, pick_name, render_table, validate


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

    # From tables to text: render the originals, then flip twins rendered and validated.
    template = ("{{ name }} is a software developer with {{ years_experience }} years of experience and a "
                "{{ degree }} degree. {{ He }} scored {{ skills_score }} on the assessment. "
                "{{ He }} lives in {{ neighbourhood|title }} and enjoys {{ hobby }} in {{ his }} spare time.")
    start = time.perf_counter()
    table = render_table(world.data, template)
    render_s = time.perf_counter() - start
    held = ["years_experience", "degree", "skills_score", "certifications"]
    start = time.perf_counter()
    rendered = RenderedTwinGenerator("flip", template).generate(table, ["sex"], held=held, seed=0)
    rendered_s = time.perf_counter() - start
    print(f"{'render a profile (template)':28s} {render_s:8.3f} {n / render_s:12,.0f}")
    print(f"{'rendered flip twin + checks':28s} {rendered_s:8.3f} {len(rendered) / rendered_s:12,.0f}")
    print(f"rendered twins rejected: {int((~rendered.valid).sum())} of {len(rendered)}")

    try:
        from fairprobe.twins.text import MaskedSimilarity

        sim = MaskedSimilarity()
        m = min(n, 500)
        damaged = [t.replace("software developer", "software developer at Google", 1) for t in twins[:m]]
        sim.embed(["warm up"])
        start = time.perf_counter()
        sims = sim([r["profile"] for r in rows[:m]], damaged, list(zip(people[:m], targets[:m])))
        sim_s = time.perf_counter() - start
        print(f"{'masked similarity (MiniLM)':28s} {sim_s:8.3f} {m / sim_s:12,.0f}   "
              f"(damaged twins: max {sims.max():.3f}, all below 0.985: {bool((sims < 0.985).all())})")
    except ImportError as exc:
        print(f"masked similarity not measured: {exc}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
