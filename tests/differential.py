"""Reference implementations nobody here wrote, and generated tables, for the differential tests (issue #22).

Used by ``tests/test_differential.py`` (hypothesis, derandomized, in ``make test``) and by
``scripts/differential_run.py`` (the same comparisons on many more seeded cases, with a count of cases and
mismatches). Every reference figure comes from fairlearn, aif360, statsmodels or scipy, or from a formula
as its paper prints it; fairprobe's own functions are only what is compared.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALPHA = 0.05


@dataclass(frozen=True)
class Table:
    """Per-group counts, as rows: n, selected, positives, true positives; and the group names."""

    names: tuple[str, ...]
    n: tuple[int, ...]
    selected: tuple[int, ...]
    positives: tuple[int, ...]
    true_positives: tuple[int, ...]
    seed: int

    def rows(self) -> pd.DataFrame:
        """One row per record (group, y_true, y_pred), in a seeded shuffled order."""
        parts = []
        for name, n, k, pos, tp in zip(self.names, self.n, self.selected, self.positives, self.true_positives):
            fp = k - tp
            y_true = np.r_[np.ones(pos, bool), np.zeros(n - pos, bool)]
            y_pred = np.r_[np.arange(pos) < tp, np.arange(n - pos) < fp]
            parts.append(pd.DataFrame({"g": name, "y_true": y_true, "y_pred": y_pred}))
        frame = pd.concat(parts, ignore_index=True)
        order = np.random.default_rng(self.seed).permutation(len(frame))
        return frame.iloc[order].reset_index(drop=True)

    def renamed(self, names: tuple[str, ...], seed: int) -> Table:
        return Table(names, self.n, self.selected, self.positives, self.true_positives, seed)


def draw_table(rng: np.random.Generator, names: tuple[str, ...] | None = None) -> Table:
    """A table of 2-5 groups of 1-150 records, each group drawn as one of: any rate, never selected, always
    selected, a handful of selections (1-3), no positives, no negatives."""
    m = int(rng.integers(2, 6))
    n_, k_, pos_, tp_ = [], [], [], []
    for _ in range(m):
        n = int(rng.integers(1, 151))
        kind = rng.choice(["any", "any", "never", "always", "handful", "no positives", "no negatives"])
        k = {"never": 0, "always": n, "handful": min(n, int(rng.integers(1, 4)))}.get(kind, int(rng.integers(0, n + 1)))
        pos = {"no positives": 0, "no negatives": n}.get(kind, int(rng.integers(0, n + 1)))
        low, high = max(0, k - (n - pos)), min(k, pos)
        n_.append(n), k_.append(k), pos_.append(pos), tp_.append(int(rng.integers(low, high + 1)))
    if names is None:
        names = tuple(f"g{i}" for i in range(m))
    return Table(tuple(names[:m]), tuple(n_), tuple(k_), tuple(pos_), tuple(tp_), int(rng.integers(0, 2**31)))


# ----------------------------------------------------------------------- bounds as the references give them


def wilson(k, n, alpha=ALPHA):
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return 0.0, 1.0
    return proportion_confint(k, n, alpha=2 * alpha, method="wilson")


def newcombe(k1, n1, k2, n2, alpha=ALPHA):
    """statsmodels' Newcombe (method 10) two-sided at 2 alpha: each side one-sided at alpha."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    if n1 == 0 or n2 == 0:
        return -1.0, 1.0
    return confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff", alpha=2 * alpha)


def mover_r(k1, n1, k2, n2, alpha=ALPHA):
    """Donner & Zou (2012), eq. for the ratio p1/p2 as printed, on statsmodels' Wilson bounds: the lower bound
    is the root of B L^2 - 2 p1 p2 L + A = 0 nearest p1/p2 (the printed quotient where B > 0; the positive root
    where B <= 0); U = (p1 p2 + sqrt((p1 p2)^2 - C D)) / D, infinite where D = 0."""
    if n1 == 0 or n2 == 0:
        return 0.0, math.inf
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1, alpha), wilson(k2, n2, alpha)
    prod = p1 * p2
    a, b = l1 * (2 * p1 - l1), u2 * (2 * p2 - u2)
    c, d = u1 * (2 * p1 - u1), l2 * (2 * p2 - l2)
    if a <= 0:
        lower = 0.0
    elif b > 0:
        lower = (prod - math.sqrt(max(prod**2 - a * b, 0.0))) / b
    elif b == 0:
        lower = a / (2 * prod)
    else:  # B < 0: the roots have opposite signs; the positive one
        lower = (prod - math.sqrt(prod**2 - a * b)) / b
    upper = math.inf if d <= 0 else (prod + math.sqrt(max(prod**2 - c * d, 0.0))) / d
    return max(lower, 0.0), upper


def clopper_pearson(k, n, alpha=ALPHA):
    from scipy.stats import binomtest

    interval = binomtest(k, n).proportion_ci(confidence_level=1 - 2 * alpha, method="exact")
    return interval.low, interval.high


# ----------------------------------------------------------------------- group checks from the references


def fairlearn_figures(rows: pd.DataFrame, *, functions: bool = True) -> dict:
    """Per-group rates (fairlearn's MetricFrame; fairlearn's true_positive_rate reads a group without positives
    as 0) and fairlearn's DP difference, DP ratio and EO difference: from its functions
    (``demographic_parity_difference`` ...), or with ``functions=False`` from the MetricFrame's ``difference()``
    and ``ratio()``, which those functions call (one frame instead of five: 0.15 s a table, not 0.35 s)."""
    from fairlearn.metrics import (MetricFrame, demographic_parity_difference, demographic_parity_ratio,
                                   equalized_odds_difference, false_positive_rate, selection_rate,
                                   true_positive_rate)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = MetricFrame(metrics={"selection_rate": selection_rate, "TPR": true_positive_rate,
                                     "FPR": false_positive_rate},
                            y_true=rows["y_true"], y_pred=rows["y_pred"], sensitive_features=rows["g"])
        figures = {"by_group": frame.by_group}
        if functions:
            args = (rows["y_true"], rows["y_pred"])
            figures.update(dp_difference=demographic_parity_difference(*args, sensitive_features=rows["g"]),
                           dp_ratio=demographic_parity_ratio(*args, sensitive_features=rows["g"]),
                           eo_difference=equalized_odds_difference(*args, sensitive_features=rows["g"]))
        else:
            difference, ratio = frame.difference(), frame.ratio()
            figures.update(dp_difference=difference["selection_rate"], dp_ratio=ratio["selection_rate"],
                           eo_difference=max(difference["TPR"], difference["FPR"]))
    return figures


def aif360_pairs(rows: pd.DataFrame) -> list[dict]:
    """aif360's ClassificationMetric for every pair of groups (unprivileged = the first): disparate impact,
    statistical parity difference, TPR and FPR differences."""
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    names = sorted(rows["g"].unique())
    code = {name: i for i, name in enumerate(names)}
    out = []
    for a, b in itertools.combinations(names, 2):
        pair = rows[rows["g"].isin([a, b])]
        truth = pd.DataFrame({"g": pair["g"].map(code).astype(float), "y": pair["y_true"].astype(float)})
        pred = truth.assign(y=pair["y_pred"].astype(float).to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dt = BinaryLabelDataset(df=truth, label_names=["y"], protected_attribute_names=["g"])
            dp = BinaryLabelDataset(df=pred, label_names=["y"], protected_attribute_names=["g"])
            metric = ClassificationMetric(dt, dp, unprivileged_groups=[{"g": code[a]}],
                                          privileged_groups=[{"g": code[b]}])
            out.append({"a": a, "b": b, "di": metric.disparate_impact(),
                        "spd": metric.statistical_parity_difference(),
                        "tpr_diff": metric.true_positive_rate_difference(),
                        "fpr_diff": metric.false_positive_rate_difference()})
    return out


def reference_verdict(table: Table, *, kind: str, bound: float, rates: tuple[str, ...]) -> tuple[str, float, tuple]:
    """The verdict, statistic and interval as the README defines them, from the reference bounds: every pair
    inside (low, high) at alpha: PASS; one pair outside at alpha/m: FAIL; else INCONCLUSIVE. The statistic is the
    worst pair's (largest gap; smallest min(r, 1/r)), the interval that pair's, clipped to [0, ...] / [..., 1]."""
    counts = {"selection_rate": (table.selected, table.n),
              "TPR": (table.true_positives, table.positives),
              "FPR": (tuple(k - tp for k, tp in zip(table.selected, table.true_positives)),
                      tuple(n - p for n, p in zip(table.n, table.positives)))}
    low, high = (-bound, bound) if kind == "gap" else (bound, 1 / bound)
    m = len(table.names) * (len(table.names) - 1) // 2 * len(rates)
    method = newcombe if kind == "gap" else mover_r
    passing, failing, candidates = True, False, []
    for rate in rates:
        k, n = counts[rate]
        for i, j in itertools.combinations(range(len(n)), 2):
            p_i = k[i] / n[i] if n[i] else None
            p_j = k[j] / n[j] if n[j] else None
            # each pair the way round that makes a gap >= 0 and a ratio <= 1 (either way when equal)
            if p_i is not None and p_j is not None and ((kind == "gap") == (p_i < p_j)):
                i, j, p_i, p_j = j, i, p_j, p_i
            lo_a, up_a = method(k[i], n[i], k[j], n[j], ALPHA)
            lo_m, up_m = method(k[i], n[i], k[j], n[j], ALPHA / m)
            passing &= lo_a > low and up_a < high
            failing |= lo_m > high or up_m < low
            if p_i is not None and p_j is not None:
                estimate = p_i - p_j if kind == "gap" else (p_i / p_j if p_j else None)
                if estimate is not None:
                    if kind == "gap":
                        lo, up = (0.0, max(up_a, -lo_a)) if lo_a < 0 else (lo_a, up_a)
                    else:
                        lo, up = (min(lo_a, 1 / up_a), 1.0) if up_a > 1 else (lo_a, up_a)
                    candidates.append((estimate, lo, up))
    verdict = "pass" if passing else "fail" if failing else "inconclusive"
    if not candidates:
        return verdict, math.nan, (math.nan, math.nan)
    # ties between pairs: the more pessimistic interval
    if kind == "gap":
        estimate, lower, upper = max(candidates, key=lambda c: (c[0], round(c[2], 12), -round(c[1], 12)))
    else:
        estimate, lower, upper = min(candidates, key=lambda c: (c[0], round(c[1], 12), -round(c[2], 12)))
    return verdict, estimate, (lower, upper)


# ----------------------------------------------------------------------- model outputs, read by hand


def read_by_hand(kind: str, values: np.ndarray, favourable, threshold: float | None):
    """The decisions README's rules give for an output kind and a favourable class, or "refused"."""
    zero = favourable is not None and not isinstance(favourable, str) and favourable == 0
    if threshold is not None and kind not in ("float", "proba2"):
        return "refused"  # a threshold decides scores; decisions and labels given with one are refused
    if kind in ("bool", "int01"):
        return values == 0 if zero else values == 1
    if kind in ("float", "proba2"):
        if zero:
            return "refused"
        score = values[:, 1] if kind == "proba2" else values
        return score >= (0.5 if threshold is None else threshold)
    if kind == "int12":
        return "refused" if favourable is None or isinstance(favourable, str) else values == favourable
    if kind == "str":
        return "refused" if favourable is None else values == favourable
    raise ValueError(kind)


def records_from_cells(cells):
    """Records from {group: (positives, true positives, negatives, false positives)}: (groups, labels, decisions)."""
    g, y, pred = [], [], []
    for name, (pos, tp, neg, fp) in cells.items():
        g += [name] * (pos + neg)
        y += [True] * pos + [False] * neg
        pred += [True] * tp + [False] * (pos - tp) + [True] * fp + [False] * (neg - fp)
    return pd.Series(g), np.array(y), np.array(pred)
