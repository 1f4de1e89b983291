"""The mutation list stays placeable: a mutant whose code moved or changed fails here, in every test run, not
months later when someone runs ``make mutants``."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("check_mutants", ROOT / "scripts" / "check_mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_mutant_can_be_placed_exactly_once():
    script = _script()
    problems = [p for p in (script.place(m) for m in script.MUTANTS) if p]
    assert problems == [], "update scripts/check_mutants.py:\n" + "\n".join(problems)
    ids = [m.id for m in script.MUTANTS]
    assert len(ids) == len(set(ids)) and set(script.EQUIVALENT) <= set(ids)


def test_a_mutant_that_cannot_be_placed_is_refused_loudly(capsys):
    script = _script()
    stale = script.Mutant("stale", "fairprobe/stats.py", "code that is not there", "x", "tests/test_stats.py")
    assert "occurs 0 times" in script.place(stale)
    script.MUTANTS.append(stale)
    try:
        assert script.main(["--place"]) == 2
    finally:
        script.MUTANTS.pop()
    assert "CANNOT PLACE" in capsys.readouterr().out
