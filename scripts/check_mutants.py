"""Deliberate bugs the test suite must kill (issue #8 listed the first ones; each once survived).

Each mutant replaces one line of the library, runs the tests that should catch it, and restores the
file. Exit status: the number of survivors. Run: .venv/bin/python scripts/check_mutants.py
"""
import subprocess, sys, pathlib
ROOT = pathlib.Path(__file__).resolve().parents[1]
MUTANTS = [
    ("fairprobe/checks/group_metrics.py", "m = len(i) * len(rates)", "m = len(i)", "tests/test_checks.py"),
    ("fairprobe/verdicts.py", "return PASS if all(v == PASS for v in verdicts) else INCONCLUSIVE",
     "return PASS if any(v == PASS for v in verdicts) else INCONCLUSIVE", "tests/test_stats.py tests/test_checks.py"),
    ("fairprobe/verdicts.py", "    if FAIL in verdicts:\n        return FAIL\n", "    if PASS in verdicts:\n        return PASS\n    if FAIL in verdicts:\n        return FAIL\n", "tests/test_stats.py tests/test_checks.py"),
    ("fairprobe/checks/invariance.py", '"k": int(flipped.sum())', '"k": int(changed.sum())', "tests/test_checks.py"),
    ("fairprobe/adapters.py", "return score >= (0.5 if self.threshold is None else self.threshold), score",
     "return score > (0.5 if self.threshold is None else self.threshold), score", "tests/test_adapters.py"),
    ("fairprobe/adapters.py", "        return array >= threshold, array", "        return array > threshold, array", "tests/test_adapters.py"),
    ("fairprobe/checks/invariance.py", "favoured = (a if votes_a > votes_b else b) if p < alpha else None",
     "favoured = (a if votes_a > votes_b else b) if p < 0.5 else None", "tests/test_verdicts.py"),
    ("fairprobe/stats.py", "7 * log_term / (3 * (n - 1))", "7 * log_term / (3 * n)", "tests/test_stats.py"),
    ("fairprobe/evidence/bundle.py", "            shutil.rmtree(tmp, ignore_errors=True)\n", "            pass\n", "tests/test_evidence.py"),
]
survivors = 0
for path, old, new, tests in MUTANTS:
    file = ROOT / path
    original = file.read_text()
    assert original.count(old) >= 1, (path, old)
    file.write_text(original.replace(old, new, 1))
    try:
        proc = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "pytest", *tests.split(), "-q", "-x",
                               "-p", "no:cacheprovider", "--fairprobe-no-evidence"], cwd=ROOT, capture_output=True, text=True)
    finally:
        file.write_text(original)
    killed = proc.returncode != 0
    survivors += not killed
    print(("KILLED  " if killed else "SURVIVED"), path, "|", new.strip()[:70])
sys.exit(survivors)
