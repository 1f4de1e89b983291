"""Is a candidate model no worse than the model in production? Paired differences on the same records.

Both models answer the same records and the same twins, so their statistics are paired: the
interval is for the paired difference (candidate - baseline), not for two independent rates.

- invariance: per record, whether (or the share of twins for which) each model's decision flips.
  With one twin per record the difference of two paired proportions gets Newcombe's hybrid score
  interval for paired data (Newcombe 1998, Statistics in Medicine 17: 2635-2650, method 10); with
  several stochastic twins per record (shares in [0, 1]) the per-record difference, in [-1, 1], gets
  empirical-Bernstein bounds.
- equalized odds and demographic parity: the difference of the two models' gap statistics, by a
  seeded paired bootstrap that resamples records jointly; since every statistic depends on the counts
  of (group, label, candidate decision, baseline decision) cells only, each replicate is one
  multinomial draw over those cells, as fast on a million records as on a thousand.

PASS when the upper bound of (candidate - baseline) is at or below ``max_increase``; FAIL when the
lower bound is strictly above it (each one-sided at alpha). At the bound the candidate passes: with the
default ``max_increase=0.0``, a candidate whose decisions equal the baseline's on every record gets the
bootstrap interval (0, 0) for a gap statistic and PASSes; for invariance, Newcombe's interval around a
difference of 0 stays wider than 0, so a tie there passes only with a ``max_increase`` above its width.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from fairprobe import stats
from fairprobe.predictions import Predictions
from fairprobe.checks.group_metrics import Groups, codes_of, group_counts
from fairprobe.result import CheckResult, fmt
from fairprobe.errors import InvalidSpec
from fairprobe.twins.base import TwinSet
from fairprobe.validation import check_alpha, check_mode
from fairprobe.verdicts import CheckKind, Mode

BOOTSTRAP = 4000


def check_increase(value: Any) -> float:
    """``max_increase``: how much worse the candidate may be, a number in [0, 1)."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool) \
            or not 0 <= float(value) < 1:
        raise InvalidSpec(f"max_increase must be a number in [0, 1) (how much the candidate's statistic may exceed "
                          f"the baseline's, e.g. 0.01); got {value!r}")
    return float(value)


def newcombe_paired(both: int, first_only: int, second_only: int, neither: int, alpha: float = 0.05) -> tuple[float, float]:
    """One-sided bounds (L, U) at ``alpha`` each for p1 - p2 of paired proportions (Newcombe 1998, method 10).

    ``both``: pairs where both events happened; ``first_only`` / ``second_only``: only one of them.

    Examples
    --------
    Bentur et al. (2009), airway hyper-responsiveness before and after stem cell transplantation
    (the paired table [[1, 1], [7, 12]] of Fagerland, Lydersen and Laake, chapter 8), two-sided 95 %:

    >>> L, U = newcombe_paired(1, 1, 7, 12, alpha=0.025)
    >>> round(L, 4), round(U, 4)
    (-0.5069, -0.0256)
    """
    a, b, c, d = (float(x) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    if n == 0:
        return -1.0, 1.0
    p1, p2 = (a + b) / n, (a + c) / n
    (l1, u1), (l2, u2) = (tuple(float(x) for x in stats.wilson(k, n, alpha)) for k in (a + b, a + c))
    denominator = (a + b) * (c + d) * (a + c) * (b + d)
    if denominator == 0:
        phi = 0.0
    else:
        # The continuity-corrected correlation of the paper: ad - bc shrunk by n/2 towards 0 when positive.
        product = a * d - b * c
        phi = (max(product - n / 2, 0.0) if product > 0 else product) / math.sqrt(denominator)
    delta = p1 - p2
    lower = delta - math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    upper = delta + math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return max(lower, -1.0), min(upper, 1.0)


def _per_record(twinset: TwinSet, original: Predictions, twin: Predictions) -> np.ndarray:
    """Per record with a valid twin: whether any twin flipped (k = 1) or the share that flipped (k > 1)."""
    valid = twinset.valid
    values, has = twinset.per_record(original.decision[twinset.source[valid]] != twin.decision[valid])
    return values[has]


def no_worse_invariance(twinset: TwinSet, candidate: tuple[Predictions, Predictions],
                        baseline: tuple[Predictions, Predictions], *, max_increase: float, alpha: float = 0.05,
                        mode: Mode | str = "detect") -> CheckResult:
    """Paired difference of flip rates (candidate - baseline) on the same twins, gated at ``max_increase``."""
    max_increase, alpha, mode = check_increase(max_increase), check_alpha(alpha), check_mode(mode)
    c = _per_record(twinset, *candidate)
    b = _per_record(twinset, *baseline)
    n = len(c)
    if n == 0:
        raise InvalidSpec("no valid twins to compare the models on: the twin generator rejected every twin")
    diff = c - b
    statistic = float(diff.mean())
    if int(twinset.info.get("k", 1)) > 1:
        lo, hi = stats.bernstein_bounds((statistic + 1) / 2, float(((diff + 1) / 2).var(ddof=1)) if n > 1 else 0.25,
                                        n, alpha)
        lower, upper = float(2 * lo - 1), float(2 * hi - 1)
        method = "empirical Bernstein on the per-record difference of shares"
        cells = None
    else:
        both, c_only = int(((c == 1) & (b == 1)).sum()), int(((c == 1) & (b == 0)).sum())
        b_only, neither = int(((c == 0) & (b == 1)).sum()), int(((c == 0) & (b == 0)).sum())
        lower, upper = newcombe_paired(both, c_only, b_only, neither, alpha)
        method = "Newcombe hybrid score for paired proportions"
        cells = {"both_flip": both, "candidate_only": c_only, "baseline_only": b_only, "neither": neither}
    verdict = stats.decide(lower, upper, low=-math.inf, high=max_increase)
    details = {"compared": "invariance", "candidate": float(c.mean()), "baseline": float(b.mean()),
               "paired_cells": cells, "generator": twinset.generator}
    return CheckResult(
        check=CheckKind.NO_WORSE_THAN, attributes=tuple(twinset.attributes),
        statistic=statistic, statistic_name="flip rate, candidate - baseline", interval=(lower, upper),
        bound=max_increase, comparison="<", verdict=verdict, alpha=alpha, n=n, method=method, mode=mode,
        groups=[{"model": "candidate", "flip_rate": float(c.mean())}, {"model": "baseline", "flip_rate": float(b.mean())}],
        details=details, context={"twins": twinset.generator},
    )


def no_worse_group_metric(y_true: np.ndarray | None, candidate: np.ndarray, baseline: np.ndarray, groups: Groups, *,
                          metric: Literal["equalized_odds", "demographic_parity"], max_increase: float,
                          alpha: float = 0.05, mode: Mode | str = "detect", seed: int = 0,
                          attributes: tuple[str, ...] = ("group",)) -> CheckResult:
    """Paired difference of gap statistics (candidate - baseline) on the same records, by a paired bootstrap.

    The gap is fairlearn's ``equalized_odds_difference`` (largest TPR or FPR gap) or
    ``demographic_parity_difference`` (largest selection-rate gap).
    """
    max_increase, alpha, mode = check_increase(max_increase), check_alpha(alpha), check_mode(mode)
    candidate, baseline = np.asarray(candidate, dtype=bool), np.asarray(baseline, dtype=bool)
    if metric == "equalized_odds" and y_true is None:
        raise InvalidSpec("comparing equalized odds needs ground truth: pass label= to the Probe")
    codes, names = codes_of(groups)
    g = len(names)
    y = np.zeros(len(codes), dtype=bool) if y_true is None else np.asarray(y_true, dtype=bool)
    # Cell index: group x label x candidate decision x baseline decision.
    cell = ((codes * 2 + y) * 2 + candidate) * 2 + baseline
    counts = np.bincount(cell, minlength=g * 8).astype(float)
    observed_c, observed_b = _gap(counts[None], g, metric)
    rng = np.random.default_rng((seed, 0xC0B))
    draws = rng.multinomial(int(counts.sum()), counts / counts.sum(), size=BOOTSTRAP).astype(float)
    boot_c, boot_b = _gap(draws, g, metric)
    diff = boot_c - boot_b
    statistic = float(observed_c[0] - observed_b[0])
    finite = diff[np.isfinite(diff)]
    lower, upper = (float(np.quantile(finite, alpha)), float(np.quantile(finite, 1 - alpha))) if len(finite) \
        else (-1.0, 1.0)
    verdict = stats.decide(lower, upper, low=-math.inf, high=max_increase)
    table = group_counts(groups, candidate, y_true if metric == "equalized_odds" else None)
    name = "equalized-odds gap" if metric == "equalized_odds" else "selection-rate gap"
    return CheckResult(
        check=CheckKind.NO_WORSE_THAN, attributes=tuple(attributes), statistic=statistic,
        statistic_name=f"{name}, candidate - baseline", interval=(lower, upper), bound=max_increase, comparison="<",
        verdict=verdict, alpha=alpha, n=len(codes),
        method=f"paired bootstrap ({BOOTSTRAP} replicates, percentile), seed {seed}", mode=mode,
        groups=[{"model": "candidate", name: float(observed_c[0])}, {"model": "baseline", name: float(observed_b[0])}],
        details={"compared": metric, "candidate": float(observed_c[0]), "baseline": float(observed_b[0]),
                 "groups": int(g), "candidate_groups": table.reset_index().to_dict(orient="records"),
                 "undefined_replicates": int(len(diff) - len(finite))},
    )


def _gap(counts: np.ndarray, g: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The gap statistic of the candidate and of the baseline for each row of cell counts (R, g * 8)."""
    cells = counts.reshape(len(counts), g, 2, 2, 2)  # (R, group, label, candidate, baseline)
    out = []
    for axis in (3, 4):  # candidate decisions sit on axis 3, baseline decisions on axis 4
        selected = cells.take(1, axis=axis).sum(axis=-1)  # (R, group, label): favourable decisions
        total = cells.sum(axis=(3, 4))  # (R, group, label)
        with np.errstate(invalid="ignore", divide="ignore"):
            if metric == "equalized_odds":
                rates = selected / total  # (R, group, label): FPR at label 0, TPR at label 1
                spread = np.nanmax(rates, axis=1) - np.nanmin(rates, axis=1)  # (R, label)
                out.append(np.max(spread, axis=1))
            else:
                rate = selected.sum(axis=2) / total.sum(axis=2)  # (R, group)
                out.append(np.nanmax(rate, axis=1) - np.nanmin(rate, axis=1))
    return out[0], out[1]


def describe(result: CheckResult) -> str:
    """One line for a comparison: candidate and baseline beside the difference."""
    d = result.details
    return (f"{d['compared']}: candidate {fmt(d['candidate'])} vs baseline {fmt(d['baseline'])}, difference "
            f"{fmt(result.statistic)} [{fmt(result.interval[0])}, {fmt(result.interval[1])}]")
