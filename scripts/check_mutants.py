"""Deliberate bugs the test suite must kill (issue #8 listed the first ones; each once survived).

Each mutant replaces one line of the library, runs the tests that should catch it, and restores the
file. Exit status: the number of survivors. Run: .venv/bin/python scripts/check_mutants.py (the tests run
with the Python that runs this script).
"""
import subprocess
import sys
import pathlib
ROOT = pathlib.Path(__file__).resolve().parents[1]
MUTANTS = [
    ("fairprobe/checks/group_metrics.py", "m = len(names) * (len(names) - 1) // 2 * len(rates)",
     "m = len(names) * (len(names) - 1) // 2", "tests/test_checks.py tests/test_differential.py"),
    ("fairprobe/verdicts.py", "return PASS if all(v == PASS for v in verdicts) else INCONCLUSIVE",
     "return PASS if any(v == PASS for v in verdicts) else INCONCLUSIVE", "tests/test_stats.py tests/test_checks.py"),
    ("fairprobe/verdicts.py", "    if FAIL in verdicts:\n        return FAIL\n", "    if PASS in verdicts:\n        return PASS\n    if FAIL in verdicts:\n        return FAIL\n", "tests/test_stats.py tests/test_checks.py"),
    ("fairprobe/checks/counts.py", "return int(sum(c for v, c in self.values.items() if v > 0))",
     "return int(sum(c for v, c in self.values.items() if v >= 0))", "tests/test_checks.py"),
    ("fairprobe/adapters/local.py", "        return score >= self.threshold, score", "        return score > self.threshold, score",
     "tests/test_adapters.py tests/test_group_definitions.py"),
    ("fairprobe/adapters/base.py", "        return array >= threshold, array", "        return array > threshold, array", "tests/test_adapters.py"),
    ("fairprobe/checks/counts.py", "favoured = (a if votes_a > votes_b else b) if p < alpha else None",
     "favoured = (a if votes_a > votes_b else b) if p < 0.5 else None", "tests/test_verdicts.py"),
    ("fairprobe/stats.py", "7 * log_term / (3 * (n - 1))", "7 * log_term / (3 * n)", "tests/test_stats.py"),
    ("fairprobe/evidence/bundle.py", "            shutil.rmtree(tmp, ignore_errors=True)\n", "            pass\n", "tests/test_evidence.py"),
    # issue #22: each of these once gave a wrong group verdict without a word
    ("fairprobe/checks/group_metrics.py", "    return np.where(first, i, j), np.where(first, j, i)", "    return i, j",
     "tests/test_group_definitions.py"),
    ("fairprobe/stats.py", "    lower = np.where((a > 0) & np.isfinite(lower), np.maximum(lower, 0.0), 0.0)",
     "    lower = np.where((a > 0) & (b > 0) & np.isfinite(lower), np.maximum(lower, 0.0), 0.0)",
     "tests/test_group_definitions.py"),
    ("fairprobe/adapters/local.py", "            return np.asarray(self.estimator.predict(X)) == self.positive_label, score",
     "            return score >= 0.5, score", "tests/test_group_definitions.py"),
    ("fairprobe/adapters/base.py", "        return (~array if zero else array), None", "        return array, None",
     "tests/test_group_definitions.py"),
    ("fairprobe/twins/base.py", '    return "|".join(_escape(v) for v in values)', '    return "|".join(values)',
     "tests/test_group_definitions.py"),
    ("fairprobe/data.py", "        return hashed ^ (tags * _KIND_MIX)", "        return hashed", "tests/test_group_definitions.py"),
    # issue #15, section 2: a banded age beside other checks, the model's favourable class apart from the label's,
    # certify with a column that encodes the attribute, the scan of many-valued columns
    ("fairprobe/spec.py", "        present = {c: b for c, b in self.bands.items() if c in frame.columns}",
     "        present = dict(self.bands)", "tests/test_verdicts.py"),
    ("fairprobe/spec.py", "    return label_positive, model_positive", "    return label_positive, label_positive",
     "tests/test_group_definitions.py"),
    ("fairprobe/checks/invariance.py", "        if moved and kept == moved:", "        if moved:", "tests/test_verdicts.py"),
    ("fairprobe/checks/invariance.py", "        if moved and kept == moved:", "        if False:", "tests/test_verdicts.py"),
    ("fairprobe/proxies.py", '        return codes, f"categorical, {len(uniques)} values (group shares learned out of fold)"',
     '        return None, "not scanned: one value per row"',
     "tests/test_real_data_checks.py::test_a_many_valued_column_is_scanned_and_its_link_to_the_group_found"),
    ("fairprobe/proxies.py", "                auc = max([auc, *(_word_auc(", "                auc = max([auc, *(0 * _word_auc(",
     "tests/test_real_data_checks.py::test_a_many_valued_column_is_scanned_and_its_link_to_the_group_found"),
]
survivors = 0
for path, old, new, tests in MUTANTS:
    file = ROOT / path
    original = file.read_text()
    assert original.count(old) >= 1, (path, old)
    file.write_text(original.replace(old, new, 1))
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", *tests.split(), "-q", "-x",
                               "-p", "no:cacheprovider", "--fairprobe-no-evidence"], cwd=ROOT, capture_output=True, text=True)
    finally:
        file.write_text(original)
    killed = proc.returncode != 0
    survivors += not killed
    print(("KILLED  " if killed else "SURVIVED"), path, "|", new.strip()[:70])
sys.exit(survivors)
