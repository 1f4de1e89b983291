"""Does this checkout make the same text twins as another one? Twin texts, valid flags and the generator's info
(rejection reasons, residual report, per-group figures) on Bloomberg's resumes for sex, race and sex x race twins,
and the validator's verdicts on damaged twins (a pronoun, a lexicon word, a number, a proper name added or changed,
the twin left unchanged), compared with the other checkout's, imported as ``fairprobe_before``.

Usage::

    python benchmarks/same_text_twins.py DIR [--names N] [--damaged-only] [--dataturks traindata.json testdata.json]

``DIR``: the other checkout (e.g. ``git worktree add /tmp/before main``); ``--names``: names per race x sex group
(default 10); ``--dataturks``: also the DataTurks resumes (see bench_text_corpora.py): their sex, race and sex x
race twins (three seeds, so other names) and the validator on their damaged twins. Prints IDENTICAL or DIFFERENT,
and the number of damaged cases whose verdicts differ. Speed-only changes must leave everything identical.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_text_corpora import HERE, bloomberg, dataturks, import_renamed

DAMAGES = [lambda t: t + " She leads her team.", lambda t: t + " He leads his team.",
           lambda t: t.replace(" and ", " and she ", 1), lambda t: t.replace("Manager", "Manageress", 1),
           lambda t: t + "\nMember, Society of Women Engineers; Mr. X", lambda t: t.replace("2019", "2018", 1),
           lambda t: t, lambda t: t.replace("He ", "She ", 1), lambda t: "Women's Leadership Forum chair. " + t,
           lambda t: t + " A proud mother of two and wife of one; the chairwoman.",
           # edits whose token diff the matcher must align: a word for another of the line, one repeated, two swapped
           lambda t: t.replace(" the ", " a ", 1), lambda t: t.replace(" in ", " in in ", 1),
           lambda t: t.replace(" of ", " the ", 1), lambda t: _swap_words(t), lambda t: _upper_line(t),
           # letters whose lower case is longer or read from the context, on a changed line (the twin's lower
           # case is built from its original's and its changed lines')
           lambda t: t.replace(" the ", " İthe ", 1), lambda t: t.replace(" of ", " ΟΔΟΣ of ", 1)]


def _swap_words(text: str) -> str:
    """The first two words of the first line with four or more, swapped."""
    lines = text.split("\n")
    for k, line in enumerate(lines):
        words = line.split(" ")
        if len(words) >= 4:
            words[0], words[1] = words[1], words[0]
            lines[k] = " ".join(words)
            break
    return "\n".join(lines)


def _upper_line(text: str) -> str:
    """The third line in capitals."""
    lines = text.split("\n")
    if len(lines) > 2:
        lines[2] = lines[2].upper()
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    import fairprobe as fp
    import fairprobe.twins.text

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("--names", type=int, default=10)
    parser.add_argument("--damaged-only", action="store_true")
    parser.add_argument("--dataturks", type=Path, nargs="*", default=[])
    args = parser.parse_args(argv)
    before = import_renamed(args.before)
    templates, rows = bloomberg(HERE / "data" / "bloomberg", args.names)
    table = pd.DataFrame({"profile": [templates[r["template"]].replace("{name}", r["name"]) for r in rows],
                          "sex": [r["sex"] for r in rows], "race": [r["race"] for r in rows]})
    corpora = [("Bloomberg", table, None, (0,))]
    if args.dataturks:
        import numpy as np

        items = dataturks(args.dataturks)
        resumes = pd.DataFrame({"profile": [i["profile"] for i in items], "race": "asian",
                                "sex": np.random.default_rng(0).choice(["female", "male"], size=len(items))})
        corpora.append(("DataTurks", resumes, pd.DataFrame({"race": ["white", "black", "hispanic"]}), (0, 1, 2)))
    bad = 0
    for corpus, data, race_targets, seeds in corpora:
        for attributes in ([] if args.damaged_only else (["sex"], ["race"], ["sex", "race"])):
            for seed in seeds:
                targets = race_targets if attributes == ["race"] else None
                a = fp.twins.text.TextTwinGenerator("profile").generate(data, attributes, seed=seed, targets=targets)
                b = before.twins.text.TextTwinGenerator("profile").generate(data, attributes, seed=seed,
                                                                            targets=targets)
                same = [bool((a.twins["profile"].values == b.twins["profile"].values).all()),
                        bool((a.valid == b.valid).all()),
                        json.dumps(a.info, sort_keys=True, default=str) == json.dumps(b.info, sort_keys=True,
                                                                                      default=str)]
                print(f"{corpus} {'+'.join(attributes)} seed {seed}: {len(a.twins)} twins; texts, valid flags, info "
                      f"the same: {same}; accepted {a.info['accepted']} / {b.info['accepted']}")
                bad += not all(same)
    differ = 0
    for corpus, data, _, _ in corpora:
        differ += damaged(fp, corpus, data)
    print("IDENTICAL" if not bad and not differ else "DIFFERENT")
    return 1 if bad or differ else 0


def damaged(fp, corpus: str, table) -> int:
    """The validator's verdicts (reasons and details) on damaged sex twins of ``table``, this checkout's against
    the other's: how many differ."""
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
    print(f"{corpus}, validator on damaged twins: {cases} cases, {rejected} rejected, {differ} with other verdicts")
    return differ


if __name__ == "__main__":
    raise SystemExit(main())
