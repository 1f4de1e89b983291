"""Text twins: rewriter speed beside the previous rewriter (same run, same profiles), names found in the text
(recall and precision on labelled resumes), qualification tokens changed, residual signals before and after
the swap lexicon, the list-free audit, validation and rendering speed.

Usage: python benchmarks/bench_text.py [PROFILES] [LABELLED]

The previous rewriter is read from git (``git show HEAD~N:fairprobe/twins/text.py``, the last commit that has
the single-module version) or from $FAIRPROBE_OLD_TEXT; without either, that row is left out.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fairprobe as fp
from fairprobe.twins.text import (
    Person, RenderedTwinGenerator, ResidualAudit, Rewriter, TextTwinGenerator, find_person, name_mentions, pick_name,
    render_table, validate)
from fairprobe.twins.text.samples import handwritten_resumes, labelled_resumes

ROOT = Path(__file__).resolve().parents[1]


def _old_module():
    """The single-module fairprobe/twins/text.py from before the package split, loaded under another name."""
    path = os.environ.get("FAIRPROBE_OLD_TEXT")
    if path is None:
        try:
            rev = subprocess.run(["git", "log", "-1", "--format=%H", "--", "fairprobe/twins/text.py"], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout.strip()
            source = subprocess.run(["git", "show", f"{rev}:fairprobe/twins/text.py"], cwd=ROOT, capture_output=True,
                                    text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        if "class Rewriter" not in source:  # the last commit touching it deleted it: take its parent
            source = subprocess.run(["git", "show", f"{rev}~1:fairprobe/twins/text.py"], cwd=ROOT,
                                    capture_output=True, text=True).stdout
        if "class Rewriter" not in source:
            return None
        handle = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
        handle.write(source)
        handle.close()
        path = handle.name
    spec = importlib.util.spec_from_file_location("fairprobe_old_text", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["fairprobe_old_text"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _best_rate(fn, n: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n / best


def speed(n: int) -> None:
    world = fp.worlds.hiring(n=n, seed=0)
    rows = world.data.assign(profile=world.profiles()).to_dict(orient="records")
    people = [Person(r["first_name"], r["last_name"], r["sex"], r["race"]) for r in rows]
    targets = [pick_name(p, "male" if p.sex == "female" else "female", p.race) for p in people]
    print(f"# rewriter speed on {n:,} hiring-world profiles (sex twins), one process, best of 3; "
          f"{platform.machine()}, Python {platform.python_version()}")
    print(f"{'rewriter':44s} {'profiles/s':>11s}")
    old = _old_module()
    if old is not None:
        o_people = [old.Person(p.first, p.last, p.sex, p.race) for p in people]
        o_targets = [old.Person(p.first, p.last, p.sex, p.race) for p in targets]
        o_rewriter = old.Rewriter()
        rate = _best_rate(lambda: [o_rewriter.rewrite(r["profile"], a, b) for r, a, b in
                                   zip(rows, o_people, o_targets)], n)
        print(f"{'previous (names, pronouns, roles)':44s} {rate:11,.0f}")
    new = Rewriter()
    rate = _best_rate(lambda: [new.rewrite(r["profile"], a, b) for r, a, b in zip(rows, people, targets)], n)
    print(f"{'new (names in every form, pronouns, lexicon)':44s} {rate:11,.0f}")
    if old is not None:
        same = sum(new.rewrite(r["profile"], a, b) == o_rewriter.rewrite(r["profile"], x, y)
                   for r, a, b, x, y in zip(rows, people, targets, o_people, o_targets))
        print(f"identical twins, new vs previous: {same:,} of {n:,}")
    twins = [new.rewrite(r["profile"], a, b) for r, a, b in zip(rows, people, targets)]
    rate = _best_rate(lambda: [validate(r["profile"], t, a, b) for r, t, a, b in zip(rows, twins, people, targets)], n, 1)
    print(f"{'validate a pair':44s} {rate:11,.0f}")
    texts = [r["profile"] for r in rows]
    rate = _best_rate(lambda: [find_person(t) for t in texts], n, 1)
    print(f"{'find the person in the text':44s} {rate:11,.0f}")

    template = ("{{ name }} is a software developer with {{ years_experience }} years of experience and a "
                "{{ degree }} degree. {{ He }} scored {{ skills_score }} on the assessment. "
                "{{ He }} lives in {{ neighbourhood|title }} and enjoys {{ hobby }} in {{ his }} spare time.")
    start = time.perf_counter()
    table = render_table(world.data, template)
    render_s = time.perf_counter() - start
    start = time.perf_counter()
    rendered = RenderedTwinGenerator("flip", template).generate(
        table, ["sex"], held=["years_experience", "degree", "skills_score", "certifications"], seed=0)
    print(f"{'render a profile (template)':44s} {n / render_s:11,.0f}")
    print(f"{'rendered flip twin + checks':44s} {len(rendered) / (time.perf_counter() - start):11,.0f}")
    try:
        from fairprobe.twins.text import MaskedSimilarity

        sim, m = MaskedSimilarity(), min(n, 300)
        damaged = [t.replace("software developer", "software developer at Google", 1) for t in twins[:m]]
        sim.embed(["warm up"])
        start = time.perf_counter()
        sims = sim(texts[:m], damaged, list(zip(people[:m], targets[:m])))
        print(f"{'masked similarity (MiniLM), damaged twins':44s} {m / (time.perf_counter() - start):11,.0f}   "
              f"(max {sims.max():.3f}; all below 0.985: {bool((sims < 0.985).all())})")
    except ImportError as exc:
        print(f"masked similarity not measured: {exc}")


def labelled(m: int) -> None:
    table = labelled_resumes(m, seed=11)
    print(f"\n# names found in the text: {m} labelled resumes (seed 11; formats: resume with header and contact "
          f"block, third-person bio, cover letter, resume with references)")
    counts = {}
    for fmt in ("resume", "bio", "cover", "references", "all"):
        part = table if fmt == "all" else table[table["format"] == fmt]
        tp = fp_ = fn = 0
        for _, row in part.iterrows():
            person = find_person(row["profile"])
            truth = {(a, b) for a, b, _ in row["mentions"]}
            found = {(x.start, x.end) for x in name_mentions(row["profile"], person)} if person else set()
            tp, fp_, fn = tp + len(found & truth), fp_ + len(found - truth), fn + len(truth - found)
        counts[fmt] = (len(part), tp + fn, tp / max(tp + fn, 1), tp / max(tp + fp_, 1))
    tp = fp_ = fn = 0
    for text, spans in handwritten_resumes():
        person = find_person(text)
        found = {(x.start, x.end) for x in name_mentions(text, person)} if person else set()
        tp, fp_, fn = tp + len(found & set(spans)), fp_ + len(found - set(spans)), fn + len(set(spans) - found)
    counts["hand-written"] = (len(handwritten_resumes()), tp + fn, tp / max(tp + fn, 1), tp / max(tp + fp_, 1))
    print(f"{'format':11s} {'profiles':>8s} {'mentions':>8s} {'recall':>7s} {'precision':>9s}")
    for fmt, (k, mentions, recall, precision) in counts.items():
        print(f"{fmt:11s} {k:8d} {mentions:8d} {recall:7.4f} {precision:9.4f}")

    data = table[["profile", "sex", "race"]]
    print("\n# twins of the same resumes, names found in the text (no name columns)")
    print(f"{'rewriter':15s} {'attributes':11s} {'twins':>6s} {'accepted':>8s} {'quals changed':>13s} "
          f"{'residual (lists)':>16s} {'audit: read as original':>24s}")
    for label, rewriter in (("before lexicon", Rewriter(lexicon=False)), ("with lexicon", Rewriter())):
        for attributes in (["sex"], ["race"]):
            twins = TextTwinGenerator("profile", rewriter=rewriter).generate(data, attributes, seed=0)
            changed = sum(table["profile"][i].count(q) != twins.twins["profile"][j].count(q)
                          for j, i in enumerate(twins.source) for q in table["qualifications"][i])
            audit = "-"
            if attributes == ["sex"]:
                olds = [Person(table["first_name"][i], table["last_name"][i], table["sex"][i], table["race"][i])
                        for i in twins.source]
                news = []
                for t, s, o in zip(twins.twins["profile"], twins.twins["sex"], olds):
                    found = find_person(t) or Person("", "", "", "")
                    news.append(Person(found.first, found.last, s, o.race))
                result = ResidualAudit(mask="names").run([data["profile"][i] for i in twins.source],
                                                         list(twins.twins["profile"]), olds, news,
                                                         attributes=["sex"], sex_col="sex")["sex"]
                audit = f"{result['share_read_as_original']:.3f} (AUC {result['auc']:.2f})"
            print(f"{label:15s} {'+'.join(attributes):11s} {len(twins):6d} {twins.info['accepted']:8d} {changed:13d} "
                  f"{twins.info['residual']['share']:16.3f} {audit:>24s}")
            if label == "before lexicon" and twins.info["rejection_reasons"]:
                print(f"{'':15s} rejected: {twins.info['rejection_reasons']}")
    people = [Person(f, l, s, r) for f, l, s, r in table[["first_name", "last_name", "sex", "race"]].itertuples(
        index=False)]
    for mask in ("names", "lexicon"):
        audit = ResidualAudit(mask=mask).fit(table["profile"], table["sex"], people)
        print(f"audit classifier, {mask + ' masked':15s} AUC {audit.auc_:.3f}; top words (female): "
              f"{', '.join(audit.top_words_['female'][:10])}")


if __name__ == "__main__":
    speed(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
    labelled_count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    if labelled_count > 0:  # 0: the speed table only
        labelled(labelled_count)
