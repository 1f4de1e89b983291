"""Does this checkout make the same text twins as another one? Twin texts, valid flags and the generator's info
(rejection reasons, residual report, per-group figures) on Bloomberg's resumes for sex, race and sex x race twins,
and the validator's verdicts on damaged twins (a pronoun, a lexicon word, a number, a proper name added or changed,
the twin left unchanged), compared with the other checkout's, imported as ``fairprobe_before``.

Usage::

    python benchmarks/same_text_twins.py DIR [--names N] [--damaged-only]

``DIR``: the other checkout (e.g. ``git worktree add /tmp/before main``); ``--names``: names per race x sex group
(default 10). Prints IDENTICAL or DIFFERENT, and the number of damaged cases whose verdicts differ. Speed-only
changes must leave everything identical.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_text_corpora import HERE, bloomberg, import_renamed  # noqa: E402

DAMAGES = [lambda t: t + " She leads her team.", lambda t: t + " He leads his team.",
           lambda t: t.replace(" and ", " and she ", 1), lambda t: t.replace("Manager", "Manageress", 1),
           lambda t: t + "\nMember, Society of Women Engineers; Mr. X", lambda t: t.replace("2019", "2018", 1),
           lambda t: t, lambda t: t.replace("He ", "She ", 1), lambda t: "Women's Leadership Forum chair. " + t,
           lambda t: t + " A proud mother of two and wife of one; the chairwoman."]


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    import fairprobe as fp
    import fairprobe.twins.text  # noqa: F401

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("--names", type=int, default=10)
    parser.add_argument("--damaged-only", action="store_true")
    args = parser.parse_args(argv)
    before = import_renamed(args.before)
    templates, rows = bloomberg(HERE / "data" / "bloomberg", args.names)
    table = pd.DataFrame({"profile": [templates[r["template"]].replace("{name}", r["name"]) for r in rows],
                          "sex": [r["sex"] for r in rows], "race": [r["race"] for r in rows]})
    bad = 0
    for attributes in ([] if args.damaged_only else (["sex"], ["race"], ["sex", "race"])):
        a = fp.twins.text.TextTwinGenerator("profile").generate(table, attributes, seed=0)
        b = before.twins.text.TextTwinGenerator("profile").generate(table, attributes, seed=0)
        same = [bool((a.twins["profile"].values == b.twins["profile"].values).all()), bool((a.valid == b.valid).all()),
                json.dumps(a.info, sort_keys=True, default=str) == json.dumps(b.info, sort_keys=True, default=str)]
        print(f"{'+'.join(attributes)}: {len(a.twins)} twins; texts, valid flags, info the same: {same}; accepted "
              f"{a.info['accepted']} / {b.info['accepted']}")
        bad += not all(same)
    modules = sys.modules
    validate_a = modules["fairprobe.twins.text.validate"].validate
    validate_b = modules["fairprobe_before.twins.text.validate"].validate
    person_a, person_b = modules["fairprobe.twins.text.signals"].Person, modules["fairprobe_before.twins.text.signals"].Person
    find = modules["fairprobe.twins.text.names"].find_person
    twins = fp.twins.text.TextTwinGenerator("profile").generate(table, ["sex"], seed=0)
    cases = rejected = differ = 0
    for i in random.Random(0).sample(range(len(twins.twins)), min(300, len(twins.twins))):
        original, twin = twins.original["profile"][twins.source[i]], twins.twins["profile"][i]
        old, new = find(original), find(twin)
        if old is None or new is None:
            continue
        for damage in DAMAGES:
            damaged = damage(twin)
            for sexes in (("female", "male"), ("male", "female")):
                ra = [str(r) for r in validate_a(original, damaged, person_a(old.first, old.last, sexes[0], "white"),
                                                 person_a(new.first, new.last, sexes[1], "white"))]
                rb = [str(r) for r in validate_b(original, damaged, person_b(old.first, old.last, sexes[0], "white"),
                                                 person_b(new.first, new.last, sexes[1], "white"))]
                cases, rejected, differ = cases + 1, rejected + bool(ra), differ + (ra != rb)
    print(f"validator on damaged twins: {cases} cases, {rejected} rejected, {differ} with other verdicts")
    print("IDENTICAL" if not bad and not differ else "DIFFERENT")
    return 1 if bad or differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
