"""Deliberate bugs the test suite must kill: a maintained list of realistic one-line mutants.

Each mutant replaces one exact piece of the library (it must occur exactly once: a mutant whose code moved or
changed cannot be placed, and the script says so and fails, so the list cannot go stale without a word), runs
the tests named beside it (files that ``make test`` runs, without the ``slow`` marker), and restores the file.
The targets are the tests expected to catch the bug; a kill by them is a kill by ``make test``.

Targets: the statistical core (stats, verdicts), the checks (invariance, counts, group metrics, compare,
sequential), the twin generators (flip, bands, CVAE paired decoding), the evidence verifier and redaction, and
the adapters' row cache and HTTP reading. Mutants that cannot change any result are listed in ``EQUIVALENT``
with the argument; benchmarks/MUTANTS.md holds the last score and every survivor.

Usage (``make mutants``)::

    python scripts/check_mutants.py            # every mutant; exit status 1 on a survivor or a misplaced mutant
    python scripts/check_mutants.py --place    # only check that every mutant can be placed (seconds)
    python scripts/check_mutants.py --only stats-wilson-z compare-bootstrap-two-sided
    python scripts/check_mutants.py --list

Run it from a clean checkout: it rewrites library files while it runs (restored after each mutant, also on
Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import time
from typing import NamedTuple

ROOT = pathlib.Path(__file__).resolve().parents[1]


class Mutant(NamedTuple):
    id: str
    path: str
    old: str
    new: str
    tests: str  # space-separated test files or node ids


M = Mutant
MUTANTS: list[Mutant] = [
    # ------------------------------------------------------------------ statistical core: stats.py, verdicts.py
    M("stats-decide-open-pass", "fairprobe/stats.py", "if lower >= low and upper <= high:",
      "if lower > low and upper < high:", "tests/test_guards_boundaries.py"),
    M("stats-decide-fail-at-bound", "fairprobe/stats.py", "if lower > high or upper < low:",
      "if lower >= high or upper <= low:", "tests/test_guards_boundaries.py"),
    M("stats-decide-pairs-open", "fairprobe/stats.py", "np.all(lo_a >= low) and np.all(up_a <= high)",
      "np.all(lo_a > low) and np.all(up_a < high)", "tests/test_guards_boundaries.py"),
    M("stats-decide-pairs-fail-at-alpha", "fairprobe/stats.py", "if np.any((lo_m > high) | (up_m < low)):",
      "if np.any((lo_a > high) | (up_a < low)):", "tests/test_stats.py tests/test_checks.py"),
    M("stats-wilson-z-two-sided", "fairprobe/stats.py", "    z = _sp.ndtri(1 - alpha)\n",
      "    z = _sp.ndtri(1 - alpha / 2)\n", "tests/test_stats.py"),
    M("stats-wilson-centre", "fairprobe/stats.py", "centre = (p + z * z / (2 * n)) / denom",
      "centre = p", "tests/test_stats.py"),
    M("stats-cp-lower-alpha", "fairprobe/stats.py", "lower = np.where(k > 0, _sp.betaincinv(k, n - k + 1, alpha), 0.0)",
      "lower = np.where(k > 0, _sp.betaincinv(k, n - k + 1, alpha / 2), 0.0)", "tests/test_stats.py"),
    M("stats-cp-upper-shape", "fairprobe/stats.py", "upper = np.where(k < n, _sp.betaincinv(k + 1, n - k, 1 - alpha), 1.0)",
      "upper = np.where(k < n, _sp.betaincinv(k + 1, n - k + 1, 1 - alpha), 1.0)", "tests/test_stats.py"),
    M("stats-newcombe-upper", "fairprobe/stats.py", "upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)",
      "upper = d + np.sqrt((u1 - p1) ** 2 + (u2 - p2) ** 2)", "tests/test_stats.py"),
    M("stats-newcombe-empty", "fairprobe/stats.py", "return np.where(undefined, -1.0, lower), np.where(undefined, 1.0, upper)",
      "return lower, upper", "tests/test_stats.py tests/test_checks.py"),
    M("stats-mover-lower-root", "fairprobe/stats.py",
      "    lower = np.where((a > 0) & np.isfinite(lower), np.maximum(lower, 0.0), 0.0)",
      "    lower = np.where((a > 0) & (b > 0) & np.isfinite(lower), np.maximum(lower, 0.0), 0.0)",
      "tests/test_group_definitions.py"),
    M("stats-mover-upper-d", "fairprobe/stats.py", "upper = (prod + np.sqrt(np.maximum(prod**2 - c * d, 0.0))) / d",
      "upper = (prod + np.sqrt(np.maximum(prod**2 - c * d, 0.0))) / c", "tests/test_stats.py tests/test_group_definitions.py"),
    M("stats-bernstein-n", "fairprobe/stats.py", "7 * log_term / (3 * (n - 1))", "7 * log_term / (3 * n)",
      "tests/test_stats.py"),
    M("stats-bernstein-log", "fairprobe/stats.py", "    log_term = math.log(2 / alpha)\n", "    log_term = math.log(1 / alpha)\n",
      "tests/test_stats.py"),
    M("stats-n-to-decide-off-by-one", "fairprobe/stats.py",
      "return math.ceil(n * scales[int(np.argmax(~still_open))])",
      "return math.ceil(n * scales[int(np.argmax(~still_open))]) + 1", "tests/test_guards_intervals.py"),
    M("stats-n-to-decide-none", "fairprobe/stats.py", "    if still_open[-1]:\n        return None",
      "    if still_open[0]:\n        return None", "tests/test_stats.py tests/test_guards_intervals.py"),
    M("stats-mcnemar-tail", "fairprobe/stats.py", "2 * _sp.betainc(total - smaller, smaller + 1, 0.5)",
      "_sp.betainc(total - smaller, smaller + 1, 0.5)", "tests/test_stats.py"),
    M("stats-betting-pass-side", "fairprobe/stats.py",
      '    if betting_log_capital(values, bound, side="down", counts=counts) >= threshold:\n        return PASS',
      '    if betting_log_capital(values, bound, side="up", counts=counts) >= threshold:\n        return PASS',
      "tests/test_stats.py"),
    M("stats-betting-threshold", "fairprobe/stats.py",
      '    threshold = math.log(1 / alpha)\n    if betting_log_capital(values, bound, side="down"',
      '    threshold = math.log(0.5 / alpha)\n    if betting_log_capital(values, bound, side="down"',
      "tests/test_guards_sequential.py"),
    M("stats-looks", "fairprobe/stats.py", "        looks.append(looks[-1] + 100)", "        looks.append(looks[-1] + 1000)",
      "tests/test_guards_sequential.py"),
    M("verdicts-combine-any", "fairprobe/verdicts.py",
      "return PASS if all(v == PASS for v in verdicts) else INCONCLUSIVE",
      "return PASS if any(v == PASS for v in verdicts) else INCONCLUSIVE", "tests/test_stats.py tests/test_checks.py"),
    M("verdicts-combine-fail-last", "fairprobe/verdicts.py", "    if FAIL in verdicts:\n        return FAIL\n",
      "    if PASS in verdicts:\n        return PASS\n    if FAIL in verdicts:\n        return FAIL\n",
      "tests/test_stats.py tests/test_checks.py"),
    M("result-certify", "fairprobe/result.py",
      "return self.verdict == FAIL or (self.verdict == INCONCLUSIVE and self.mode == Mode.CERTIFY)",
      "return self.verdict == FAIL", "tests/test_guards_adapters.py"),
    M("gates-check-fail-only", "fairprobe/gates.py", "    if result.fails_build and not defer(result):",
      '    if result.verdict == "fail" and not defer(result):', "tests/test_guards_adapters.py"),
    # ------------------------------------------------------------------ checks: invariance, counts, sequential
    M("counts-flipped-zero", "fairprobe/checks/counts.py", "return int(sum(c for v, c in self.values.items() if v > 0))",
      "return int(sum(c for v, c in self.values.items() if v >= 0))", "tests/test_checks.py"),
    M("counts-tau-inclusive", "fairprobe/checks/counts.py", "moved, _ = twinset.per_record(np.abs(delta) > tau,",
      "moved, _ = twinset.per_record(np.abs(delta) >= tau,", "tests/test_guards_options.py"),
    M("counts-direction-alpha", "fairprobe/checks/counts.py",
      "favoured = (a if votes_a > votes_b else b) if p < alpha else None",
      "favoured = (a if votes_a > votes_b else b) if p < 0.5 else None", "tests/test_verdicts.py"),
    M("counts-merge-identical", "fairprobe/checks/counts.py",
      '"changed_twins", "identical_twins", "originals_positive",', '"changed_twins", "originals_positive",',
      "tests/test_guards_partitions.py"),
    M("counts-merge-delta-sum", "fairprobe/checks/counts.py",
      '"checked_positive", "twins_positive", "deltas", "delta_sum", "delta_abs_sum"):',
      '"checked_positive", "twins_positive", "deltas", "delta_abs_sum"):', "tests/test_guards_partitions.py"),
    M("counts-merge-histogram", "fairprobe/checks/counts.py", "out.histogram = self.histogram + other.histogram",
      "out.histogram = self.histogram", "tests/test_guards_partitions.py"),
    M("counts-merge-groups", "fairprobe/checks/counts.py", "out.groups = {g: [a + b", "out.groups = {g: [a",
      "tests/test_guards_partitions.py"),
    M("counts-merge-encoding", "fairprobe/checks/counts.py", "out.encoding = {key: [a + b", "out.encoding = {key: [a",
      "tests/test_guards_partitions.py"),
    M("counts-merge-examples", "fairprobe/checks/counts.py",
      "out.examples = pick_examples(self.examples + other.examples, n_examples)",
      "out.examples = pick_examples(self.examples, n_examples)", "tests/test_guards_partitions.py"),
    M("counts-merge-delta-min", "fairprobe/checks/counts.py",
      "out.delta_min, out.delta_max = min(self.delta_min, other.delta_min), max(self.delta_max, other.delta_max)",
      "out.delta_min, out.delta_max = self.delta_min, max(self.delta_max, other.delta_max)",
      "tests/test_guards_partitions.py"),
    M("counts-merge-moved-first-term", "fairprobe/checks/counts.py", "out.moved = self.moved + other.moved",
      "out.moved = Counter()", "tests/test_guards_partitions.py"),
    M("invariance-n-to-decide-open", "fairprobe/checks/invariance.py", "passing &= up_f <= bound",
      "passing &= up_f < bound", "tests/test_guards_intervals.py"),
    M("job-partition-seed", "fairprobe/engines/job.py",
      "seed = int(np.random.SeedSequence([self.seed, part.index]).generate_state(1, np.uint64)[0] >> np.uint64(1))",
      "seed = self.seed", "tests/test_guards_partitions.py"),
    M("job-merge-tables", "fairprobe/engines/job.py", "table = pd.concat(parts).groupby(level=0, sort=True).sum()",
      "table = pd.concat(parts).groupby(level=0, sort=True).max()", "tests/test_guards_partitions.py"),
    M("invariance-score-rate-ignored", "fairprobe/checks/invariance.py",
      "rate_bound = max_flip_rate if max_score_change_rate is None else \\",
      "rate_bound = max_flip_rate if True else \\", "tests/test_guards_options.py"),
    M("invariance-degenerate-all-originals", "fairprobe/checks/invariance.py",
      "positive = counts.checked_positive + counts.twins_positive",
      "positive = counts.originals_positive + counts.twins_positive", "tests/test_guards_options.py"),
    M("invariance-encoding-any", "fairprobe/checks/invariance.py", "        if moved and kept == moved:",
      "        if moved:", "tests/test_verdicts.py"),
    M("invariance-encoding-never", "fairprobe/checks/invariance.py", "        if moved and kept == moved:",
      "        if False:", "tests/test_verdicts.py"),
    M("invariance-cp-statistic", "fairprobe/checks/invariance.py", "        statistic, lo, hi = k / n, any_lo, any_hi",
      "        statistic, lo, hi = k / counts.records, any_lo, any_hi", "tests/test_guards_options.py"),
    M("sequential-any-gate", "fairprobe/checks/sequential.py", 'all(v == "pass" for v in verdicts)',
      'any(v == "pass" for v in verdicts)', "tests/test_guards_options.py"),
    M("sequential-score-rate", "fairprobe/checks/sequential.py",
      "rate_bound = max_flip_rate if max_score_change_rate is None else max_score_change_rate",
      "rate_bound = max_flip_rate", "tests/test_guards_options.py"),
    # ------------------------------------------------------------------ checks: group metrics and compare
    M("group-fpr-over-all", "fairprobe/checks/group_metrics.py", '"FPR": ("false_positives", "negatives")}',
      '"FPR": ("false_positives", "n")}', "tests/test_guards_group_metrics.py"),
    M("group-tpr-over-all", "fairprobe/checks/group_metrics.py", '"TPR": ("true_positives", "positives"),',
      '"TPR": ("true_positives", "n"),', "tests/test_guards_group_metrics.py"),
    M("group-negatives", "fairprobe/checks/group_metrics.py", 'table["negatives"] = table["n"] - table["positives"]',
      'table["negatives"] = table["n"]', "tests/test_guards_group_metrics.py"),
    M("group-min-size-off-by-one", "fairprobe/checks/group_metrics.py",
      "(table[list(denominators)] < min_group_size)", "(table[list(denominators)] <= min_group_size)",
      "tests/test_guards_group_metrics.py"),
    # the Bonferroni divisor, written once: the verdict and n_to_decide both read it
    M("group-bonferroni-rates", "fairprobe/checks/group_metrics.py",
      "m = len(names) * (len(names) - 1) // 2 * len(rates)", "m = len(names) * (len(names) - 1) // 2",
      "tests/test_checks.py tests/test_guards_intervals.py"),
    M("group-pairs-by-name", "fairprobe/checks/group_metrics.py",
      "    return np.where(first, i, j), np.where(first, j, i)", "    return i, j", "tests/test_group_definitions.py"),
    M("group-headline-smallest-gap", "fairprobe/checks/group_metrics.py",
      '        return max(folded, key=lambda r: (r["estimate"],', '        return min(folded, key=lambda r: (r["estimate"],',
      "tests/test_checks.py tests/test_guards_group_metrics.py"),
    M("group-degenerate-silent", "fairprobe/checks/group_metrics.py", "    if 0.0 < positive < 1.0:",
      "    if True:", "tests/test_guards_group_metrics.py"),
    M("compare-bootstrap-two-sided", "fairprobe/checks/compare.py",
      "(float(np.quantile(finite, alpha)), float(np.quantile(finite, 1 - alpha)))",
      "(float(np.quantile(finite, alpha / 2)), float(np.quantile(finite, 1 - alpha / 2)))",
      "tests/test_guards_intervals.py"),
    M("compare-gap-axes", "fairprobe/checks/compare.py", "    for axis in (3, 4):", "    for axis in (4, 3):",
      "tests/test_compare.py"),
    M("compare-newcombe-phi", "fairprobe/checks/compare.py", "phi = (max(product - n / 2, 0.0) if product > 0 else product) / math.sqrt(denominator)",
      "phi = product / math.sqrt(denominator)", "tests/test_guards_intervals.py"),
    # ------------------------------------------------------------------ twin generators
    M("flip-keeps-own", "fairprobe/twins/flip.py", "        return record, step + (step >= codes[record])",
      "        return record, step + (step > codes[record])", "tests/test_checks.py tests/test_fast_paths.py"),
    M("flip-two-keeps-own", "fairprobe/twins/flip.py", "            return np.arange(n), (1 - codes).astype(np.int64)",
      "            return np.arange(n), codes.astype(np.int64)", "tests/test_checks.py tests/test_fast_paths.py"),
    M("flip-mask-keeps-own", "fairprobe/twins/flip.py", "    keep = combo != codes[record]\n", "    keep = combo >= 0\n",
      "tests/test_checks.py tests/test_fast_paths.py"),
    M("bands-upper-rank", "fairprobe/twins/bands.py", "q[rows] = (low + high) / (2 * len(inside))",
      "q[rows] = high / len(inside)", "tests/test_guards_bands.py"),
    M("bands-rounded-rank", "fairprobe/twins/bands.py",
      "position = np.clip(np.ceil(q[rows] * len(inside)).astype(int) - 1, 0, len(inside) - 1)",
      "position = np.clip(np.round(q[rows] * len(inside)).astype(int) - 1, 0, len(inside) - 1)",
      "tests/test_guards_bands.py"),
    M("group-key-unescaped", "fairprobe/twins/base.py", '    return "|".join(_escape(v) for v in values)',
      '    return "|".join(values)', "tests/test_group_definitions.py"),
    M("cvae-shift-sign", "fairprobe/twins/cvae/paired.py",
      "shift = (out_cf[:, 0] - out_self[:, 0]).cpu().double().numpy()  # (R,)",
      "shift = (out_self[:, 0] - out_cf[:, 0]).cpu().double().numpy()  # (R,)", "tests/test_guards_cvae_shift.py"),
    M("cvae-shift-half", "fairprobe/twins/cvae/paired.py",
      "shift = (out_cf[:, 0] - out_self[:, 0]).cpu().double().numpy()  # (R,)",
      "shift = 0.5 * (out_cf[:, 0] - out_self[:, 0]).cpu().double().numpy()  # (R,)", "tests/test_guards_cvae_shift.py"),
    M("cvae-flag-no-change", "fairprobe/twins/cvae/paired.py",
      "    return torch.where(logit_self == logit_cf, observed > 0.5, flag)  # (R,) no change without a change",
      "    return flag", "tests/test_cvae.py"),
    M("cvae-category-swapped", "fairprobe/twins/cvae/paired.py",
      "cf = abduct_category(index, logits_self, logits_cf, noise)  # (R,)",
      "cf = abduct_category(index, logits_cf, logits_self, noise)  # (R,)",
      "tests/test_cvae.py::test_cvae_flip_rate_matches_the_true_counterfactual"),
    # ------------------------------------------------------------------ evidence verifier and redaction
    M("manifest-first-mebibyte", "fairprobe/evidence/manifest.py",
      '        for block in iter(lambda: fh.read(1 << 20), b""):\n            digest.update(block)',
      "        digest.update(fh.read(1 << 20))", "tests/test_bundle_integrity.py"),
    M("manifest-stray-signature", "fairprobe/evidence/manifest.py",
      "if extra in entries or extra == MANIFEST or (extra == SIGNATURE and signed):",
      "if extra in entries or extra == MANIFEST or extra == SIGNATURE:", "tests/test_guards_evidence.py"),
    M("manifest-extra-files", "fairprobe/evidence/manifest.py",
      '            problems.append(f"{extra}: not in the manifest (added after the bundle was written)")',
      "            pass", "tests/test_evidence.py"),
    M("manifest-digest-ignored", "fairprobe/evidence/manifest.py", "            if actual != digest:",
      "            if actual != digest and False:", "tests/test_evidence.py"),
    M("manifest-expect-ignored", "fairprobe/evidence/manifest.py", "        elif wanted != actual:",
      "        elif False:", "tests/test_evidence.py"),
    M("manifest-duplicate-line", "fairprobe/evidence/manifest.py", "        elif name in entries:",
      "        elif False:", "tests/test_evidence.py"),
    M("bundle-partial-left", "fairprobe/evidence/bundle.py", "            shutil.rmtree(tmp, ignore_errors=True)\n",
      "            pass\n", "tests/test_evidence.py"),
    M("redact-twice", "fairprobe/redact.py", "redacted[column] = [v if _hashed(v) else keyed_hash(v, key) for v in pair]",
      "redacted[column] = [keyed_hash(v, key) for v in pair]", "tests/test_guards_evidence.py"),
    M("redact-index-twice", "fairprobe/redact.py",
      'ex = {**ex, "row": ex["row"] if _hashed(ex["row"]) else keyed_hash(ex["row"], key)}',
      'ex = {**ex, "row": keyed_hash(ex["row"], key)}', "tests/test_guards_evidence.py"),
    M("redact-prefix-is-hash", "fairprobe/redact.py", "    return isinstance(value, str) and _HASH.fullmatch(value) is not None",
      '    return isinstance(value, str) and value.startswith("h:")', "tests/test_guards_evidence.py"),
    # ------------------------------------------------------------------ adapters: row cache, thresholds, HTTP
    M("cache-repeated-unseen", "fairprobe/adapters/base.py", "np.r_[True, inverse[1:] > peak[:-1]]",
      "np.r_[True, inverse[1:] >= peak[:-1]]", "tests/test_guards_adapters.py"),
    M("cache-slot", "fairprobe/adapters/base.py", "                known[unseen] = slot[inverse]",
      "                known[unseen] = slot[np.sort(inverse)]", "tests/test_guards_adapters.py tests/test_adapters.py"),
    M("cache-threshold-strict", "fairprobe/adapters/base.py", "        return array >= threshold, array",
      "        return array > threshold, array", "tests/test_adapters.py"),
    M("cache-zero-label", "fairprobe/adapters/base.py", "        return (~array if zero else array), None",
      "        return array, None", "tests/test_group_definitions.py"),
    M("local-threshold-strict", "fairprobe/adapters/local.py", "        return score >= self.threshold, score\n\n    def fingerprint",
      "        return score > self.threshold, score\n\n    def fingerprint", "tests/test_adapters.py tests/test_group_definitions.py"),
    M("local-positive-label", "fairprobe/adapters/local.py",
      "            return np.asarray(self.estimator.predict(X)) == self.positive_label, score",
      "            return score >= 0.5, score", "tests/test_group_definitions.py"),
    M("row-hash-kinds", "fairprobe/data.py", "        return hashed ^ (tags * _KIND_MIX)", "        return hashed",
      "tests/test_group_definitions.py"),
    M("kserve-id-ignored", "fairprobe/adapters/http.py", 'if data.get("id") not in (None, token):', "if False:",
      "tests/test_guards_adapters.py"),
    M("retry-after-sign", "fairprobe/adapters/endpoint.py",
      "seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()",
      "seconds = time.time() - email.utils.parsedate_to_datetime(value).timestamp()", "tests/test_guards_adapters.py"),
    M("batch-off-by-one", "fairprobe/adapters/base.py",
      "yield start, self._run_batch(frame.iloc[start : start + self.batch_size])",
      "yield start, self._run_batch(frame.iloc[start : start + self.batch_size - 1])", "tests/test_adapters.py"),
    M("bands-inner-edge-down", "fairprobe/twins/bands.py",
      'index = np.searchsorted(np.asarray(self.edges), x, side="right") - 1',
      'index = np.searchsorted(np.asarray(self.edges), x, side="left") - 1',
      "tests/test_guards_more.py tests/test_group_definitions.py tests/test_guards_bands.py"),
    M("bands-top-edge-outside", "fairprobe/twins/bands.py",
      "        index = np.where(x == self.edges[-1], len(self.edges) - 2, index)\n", "",
      "tests/test_guards_more.py tests/test_group_definitions.py tests/test_guards_bands.py"),
    # the per-record values of every invariance statistic (counts, null floor, compare, sequential): one definition
    M("twins-rows-unordered", "fairprobe/twins/base.py",
      '        return keep[np.argsort(new_position[self.source[keep]], kind="stable")]', "        return keep",
      "tests/test_twinset.py tests/test_guards_sequential.py"),
    M("twins-per-record-shares-as-any", "fairprobe/twins/base.py", 'if share and int(self.info.get("k", 1)) > 1:',
      "if False:", "tests/test_twinset.py tests/test_guards_more.py tests/test_compare.py tests/test_guards_options.py"),
    M("twins-per-record-share-flag-ignored", "fairprobe/twins/base.py", "        if share and int(self.info",
      "        if int(self.info", "tests/test_twinset.py"),
    M("compare-odds-tpr-only", "fairprobe/checks/compare.py", "                out.append(np.max(spread, axis=1))",
      "                out.append(spread[:, 1])", "tests/test_guards_more.py tests/test_compare.py tests/test_guards_boundaries.py"),
    M("invariance-bernstein-twins", "fairprobe/checks/invariance.py",
      '        lo, hi = stats.bernstein_bounds(mean, variance, n, alpha)\n        method = "empirical Bernstein"',
      '        lo, hi = stats.bernstein_bounds(mean, variance, n * counts.k, alpha)\n        method = "empirical Bernstein"',
      "tests/test_guards_more.py tests/test_checks.py tests/test_counts.py"),
    M("group-ratio-one-sided", "fairprobe/checks/group_metrics.py",
      'low, high = (-bound, bound) if kind == "gap" else (bound, 1 / bound)',
      'low, high = (-bound, bound) if kind == "gap" else (bound, math.inf)',
      "tests/test_guards_more.py tests/test_checks.py tests/test_group_definitions.py tests/test_differential.py"),
    M("group-undefined-rate-silent", "fairprobe/checks/group_metrics.py", "            if row[d] == 0:",
      "            if False:", "tests/test_checks.py"),
    M("manifest-lists-signature", "fairprobe/evidence/manifest.py", "        if name in (MANIFEST, SIGNATURE):",
      "        if name == MANIFEST:", "tests/test_guards_more.py tests/test_evidence.py tests/test_bundle_integrity.py"),
    M("manifest-files-vs-document", "fairprobe/evidence/manifest.py",
      "    for name in sorted(set(entries) - set(files)):", "    for name in sorted(set(entries) - set(files) - set(entries)):",
      "tests/test_evidence.py"),
    M("signature-mismatch-accepted", "fairprobe/evidence/manifest.py",
      '    return [f"{SIGNATURE}: the signature does not match the manifest (changed after signing)"]', "    return []",
      "tests/test_evidence.py tests/test_bundle_integrity.py"),
    M("probe-min-group-size-ignored", "fairprobe/base_probe.py", '        return check_count("min_group_size", given)',
      "        return self.spec.min_group_size", "tests/test_guards_more.py tests/test_probe.py tests/test_checks.py"),
    # what every probe does, in memory or over partitions (base_probe, issue #21 section 5)
    M("probe-flip-note-dropped", "fairprobe/base_probe.py", "        if note:\n            result = replace(",
      "        if False:\n            result = replace(", "tests/test_probe_parity.py"),
    M("probe-scalars-unchecked", "fairprobe/base_probe.py",
      "        require_scalars(data, [c for c in features if c != self.spec.text])\n", "",
      "tests/test_probe_parity.py tests/test_bad_inputs.py"),
    M("partition-scalars-unchecked", "fairprobe/engines/job.py", "        require_scalars(frame, self.features)\n", "",
      "tests/test_probe_parity.py"),
    M("partitioned-threshold-note-dropped", "fairprobe/partitioned.py", "attributes=attrs, threshold_note=note, **options)",
      "attributes=attrs, **options)", "tests/test_probe_parity.py"),
    M("data-missing-unequal", "fairprobe/data.py", "    out = a_missing & b_missing\n",
      "    out = a_missing & b_missing & False\n", "tests/test_counts.py"),
    M("probe-unknown-setting-ignored", "fairprobe/spec.py", 'if name not in known and name not in ("data", "model"):',
      "if False:", "tests/test_probe_parity.py"),
    M("partitioned-setting-dropped", "fairprobe/partitioned.py", "for k, v in settings.items() if k in SPEC_SETTINGS}",
      'for k, v in settings.items() if k in SPEC_SETTINGS and k != "seed"}', "tests/test_probe_parity.py"),
    # ------------------------------------------------------------------ spec, proxies (issues #15, #22)
    M("spec-bands-absent-column", "fairprobe/spec.py",
      "        present = {c: b for c, b in self.bands.items() if c in frame.columns}", "        present = dict(self.bands)",
      "tests/test_verdicts.py"),
    M("spec-model-positive", "fairprobe/spec.py", "    return label_positive, model_positive",
      "    return label_positive, label_positive", "tests/test_group_definitions.py"),
    M("proxies-many-valued", "fairprobe/proxies.py",
      '        return codes, f"categorical, {len(uniques)} values (group shares learned out of fold)"',
      '        return None, "not scanned: one value per row"',
      "tests/test_real_data_checks.py::test_a_many_valued_column_is_scanned_and_its_link_to_the_group_found"),
    M("proxies-word-auc", "fairprobe/proxies.py", "                auc = max([auc, *(_word_auc(",
      "                auc = max([auc, *(0 * _word_auc(",
      "tests/test_real_data_checks.py::test_a_many_valued_column_is_scanned_and_its_link_to_the_group_found"),
]

# Mutants that cannot change what fairprobe computes or says, with the argument (kept, so nobody re-adds them as
# gaps). Each is still placed, so it goes stale as loudly as the others.
EQUIVALENT: dict[str, str] = {
    "counts-merge-moved-first-term": "the loop right after it sets every tau of either side to the sum of both, "
                                     "whatever the first line left in out.moved",
    "invariance-n-to-decide-open": "n_to_decide's grid scales counts by non-round factors: a Clopper-Pearson "
                                   "bound exactly equal to the bound there has probability 0 (stats.decide's "
                                   "closed rule, which does meet exact ties, is guarded by test_guards_boundaries)",
}


def place(mutant: Mutant) -> str | None:
    """The problem when ``mutant`` cannot be placed (its code occurs not exactly once), else None."""
    file = ROOT / mutant.path
    if not file.is_file():
        return f"{mutant.id}: {mutant.path} does not exist"
    count = file.read_text().count(mutant.old)
    if count != 1:
        return f"{mutant.id}: its code occurs {count} times in {mutant.path} (exactly once needed): {mutant.old[:70]!r}"
    missing = [t for t in mutant.tests.split() if not (ROOT / t.split("::")[0]).exists()]
    if missing:
        return f"{mutant.id}: its tests {missing} do not exist"
    return None


def run(mutant: Mutant) -> tuple[bool, float, str]:
    """Apply, run its tests, restore: (killed, seconds, the last line pytest printed)."""
    file = ROOT / mutant.path
    original = file.read_text()
    file.write_text(original.replace(mutant.old, mutant.new, 1))
    started = time.monotonic()
    try:
        env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
        proc = subprocess.run([sys.executable, "-m", "pytest", *mutant.tests.split(), "-q", "-x", "-p", "no:cacheprovider",
                               "-p", "no:randomly", "--fairprobe-no-evidence"], cwd=ROOT, capture_output=True,
                              text=True, env=env)
    finally:
        file.write_text(original)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    # exit 1: a test failed (killed); 0: survived; anything else (an error while collecting, a crash) also fails
    # the run, which is what a user would see.
    return proc.returncode != 0, time.monotonic() - started, (lines[-1] if lines else proc.stderr.strip()[-200:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--place", action="store_true", help="only check that every mutant can be placed")
    parser.add_argument("--list", action="store_true", help="list the mutants")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run these mutants only")
    args = parser.parse_args(argv)
    ids = [m.id for m in MUTANTS]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    unknown = sorted(set(args.only or []) - set(ids)) + sorted(set(EQUIVALENT) - set(ids))
    problems = [f"duplicate mutant id {i}" for i in duplicates] + [f"unknown mutant id {i}" for i in unknown]
    problems += [p for p in (place(m) for m in MUTANTS) if p]
    if problems:
        print("\n".join(["CANNOT PLACE (update scripts/check_mutants.py):", *problems]))
        return 2
    if args.list:
        for m in MUTANTS:
            print(f"{m.id:40s} {m.path}  ->  {m.new.strip()[:60]}")
        return 0
    if args.place:
        print(f"all {len(MUTANTS)} mutants placed")
        return 0
    chosen = [m for m in MUTANTS if not args.only or m.id in args.only]
    survivors, killed = [], 0
    for m in chosen:
        dead, seconds, last = run(m)
        killed += dead
        status = "KILLED  " if dead else ("EQUIV   " if m.id in EQUIVALENT else "SURVIVED")
        if not dead and m.id not in EQUIVALENT:
            survivors.append(m.id)
        print(f"{status} {m.id:40s} {seconds:6.1f}s  {last[:90]}", flush=True)
    equivalent = sum(1 for m in chosen if m.id in EQUIVALENT)
    counted = len(chosen) - equivalent
    score = 100.0 * killed / counted if counted else 100.0
    print(f"\n{killed} of {counted} non-equivalent mutants killed ({score:.1f} %); {equivalent} equivalent; "
          f"survivors: {', '.join(survivors) or 'none'}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
