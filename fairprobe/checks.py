"""The checks: invariance under twins, equalized odds, demographic parity -> CheckResult.

Metric definitions follow fairlearn (``true_positive_rate``, ``false_positive_rate``,
``selection_rate``, ``equalized_odds_difference``, ``demographic_parity_difference`` and
``_ratio``); the counting is a vectorized group-by, since fairlearn's MetricFrame is ~35x slower
on a million rows (benchmarks/bench_metrics.py), and the tests compare both on the same data.
What fairlearn lacks is added here: confidence intervals and a verdict.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairprobe import stats
from fairprobe.adapters import Predictions
from fairprobe.data import plain
from fairprobe.errors import InvalidSpec
from fairprobe.stats import FAIL, INCONCLUSIVE, PASS, Verdict
from fairprobe.twins.base import TwinSet, group_labels

Mode = Literal["detect", "certify"]
MODES = ("detect", "certify")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: statistic, interval, bound, verdict and what supports them.

    ``interval`` holds the one-sided lower and upper bounds, each at level ``alpha``. ``verdict``
    is ``"pass"`` when the interval lies inside the acceptable region, ``"fail"`` when outside it
    and ``"inconclusive"`` otherwise; ``n_to_decide`` says how many records would decide an
    inconclusive check if the observed rates held.
    """

    check: str
    attributes: tuple[str, ...]
    statistic: float
    statistic_name: str
    interval: tuple[float, float]
    bound: float
    comparison: Literal["<", ">"]
    verdict: Verdict
    alpha: float
    n: int
    method: str
    mode: Mode = "detect"
    n_to_decide: int | None = None
    groups: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    counterexamples: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def fails_build(self) -> bool:
        """True when this result fails a test: a FAIL, or an INCONCLUSIVE in certify mode."""
        return self.verdict == FAIL or (self.verdict == INCONCLUSIVE and self.mode == "certify")

    @property
    def title(self) -> str:
        what = {"invariance": "invariance of the decision to",
                "equalized_odds": "equalized odds across",
                "demographic_parity": "demographic parity across"}.get(self.check, self.check)
        twins = self.context.get("twins")
        return f"{what} {' x '.join(self.attributes)}" + (f" ({twins} twins)" if twins else "")

    def with_context(self, **context: Any) -> CheckResult:
        """A copy with more context (model, data fingerprint, queries, seed) for the evidence."""
        return replace(self, context={**self.context, **context})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (no numpy types), as written into the evidence."""
        return plain(asdict(self) | {"fails_build": self.fails_build, "title": self.title})

    def summary(self) -> str:
        """One line: verdict, check, statistic, interval and bound."""
        lo, hi = self.interval
        return (f"{self.verdict.upper()} {self.title}: {self.statistic_name} {_fmt(self.statistic)} "
                f"[{_fmt(lo)}, {_fmt(hi)}] bound {self.comparison} {_fmt(self.bound)} (n={self.n})")

    def report(self) -> str:
        """The readable account used as a violation message: a short table, groups, worst pairs."""
        lo, hi = self.interval
        conf = f"one-sided {1 - self.alpha:.0%} bounds, {self.method}"
        lines = [
            f"{self.verdict.upper()}  {self.title}",
            f"  statistic  {self.statistic_name} = {_fmt(self.statistic)}",
            f"  interval   [{_fmt(lo)}, {_fmt(hi)}]  ({conf})",
            f"  bound      {self.statistic_name} {self.comparison} {_fmt(self.bound)}",
            f"  n          {self.n}",
            f"  verdict    {self.verdict.upper()} in {self.mode} mode: {self._reason()}",
        ]
        for name, gate in self.details.get("gates", {}).items():
            glo, ghi = gate["interval"]
            lines.append(f"  also       {name} = {_fmt(gate['statistic'])} [{_fmt(glo)}, {_fmt(ghi)}] "
                         f"bound {gate['comparison']} {_fmt(gate['bound'])}: {gate['verdict'].upper()}")
        if self.groups:
            lines.append("  groups:")
            lines.extend("    " + row for row in _table(self.groups))
        if self.check == "invariance":
            for d in self.pairs:
                discordant = d["favour_a"] + d["favour_b"]
                who = f"{d['favoured']} favoured" if d["favoured"] else "no group favoured"
                lines.append(f"  direction  {d['group_a']} vs {d['group_b']}: {who} ({d['favour_a']} vs "
                             f"{d['favour_b']} of {discordant} discordant twin pairs, exact McNemar "
                             f"p={_fmt(d['mcnemar_p'])})")
            change = self.details.get("score_change")
            if change:
                lines.append(f"  scores     twin - original: median {_fmt(change['median'])}, 1%..99% "
                             f"[{_fmt(change['q01'])}, {_fmt(change['q99'])}], max |change| {_fmt(change['max_abs'])}")
        if self.pairs and self.check != "invariance":
            worst = sorted(self.pairs, key=lambda p: -abs(p.get("estimate", 0) or 0))[:6]
            lines.append("  pairs (worst first):")
            lines.extend("    " + row for row in _table(worst))
        for note in self.details.get("notes", []):
            lines.append(f"  note: {note}")
        if self.counterexamples:
            lines.append(f"  worst twin pairs ({len(self.counterexamples)}):")
            for ex in self.counterexamples:
                lines.append("    " + _describe_pair(ex))
        return "\n".join(lines)

    def _reason(self) -> str:
        lo, hi = self.interval
        single = self.check == "invariance"
        if self.verdict == PASS:
            return (f"the upper bound {_fmt(hi)} is below {_fmt(self.bound)}" if single
                    else "every pairwise interval lies inside the bound")
        if self.verdict == FAIL:
            return (f"the lower bound {_fmt(lo)} is above {_fmt(self.bound)}" if single and lo > self.bound
                    else "an interval lies wholly outside the bound")
        more = f"; about {self.n_to_decide} records would decide it" if self.n_to_decide else \
            "; the estimate sits on the bound, more data alone will not decide it"
        return "an interval straddles the bound" + more


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """FAIL if any gate fails, PASS if all pass, INCONCLUSIVE otherwise."""
    if FAIL in verdicts:
        return FAIL
    return PASS if all(v == PASS for v in verdicts) else INCONCLUSIVE


def check_mode(mode: Any) -> Mode:
    if mode not in MODES:
        from fairprobe.errors import unknown_choice
        raise unknown_choice("mode", mode, MODES)
    return mode


def check_alpha(alpha: Any) -> float:
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 < alpha < 0.5:
        raise InvalidSpec(f"alpha must be a number between 0 and 0.5 (e.g. 0.05); got {alpha!r}")
    return float(alpha)


def _check_bound(name: str, value: Any, low: float, high: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low < value <= high:
        raise InvalidSpec(f"{name} must be a number in ({low}, {high}]; got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- invariance


def invariance(
    twinset: TwinSet,
    original: Predictions,
    twin: Predictions,
    *,
    max_flip_rate: float,
    max_score_change: float | None = None,
    max_score_change_rate: float | None = None,
    alpha: float = 0.05,
    mode: Mode = "detect",
    n_counterexamples: int = 5,
) -> CheckResult:
    """Check that decisions do not change between records and their twins.

    One trial per original record: did any of its valid twins get a different decision? The rate
    of such records is bounded with exact Clopper-Pearson bounds (zero flips in 299 records
    certify a 1% bound at alpha = 0.05). With scores and ``max_score_change`` (tau), the rate of
    records with a twin whose score moved by more than tau is a second gate, bounded by
    ``max_score_change_rate`` (default: ``max_flip_rate``).

    Parameters
    ----------
    twinset : TwinSet
        The records and their twins.
    original, twin : Predictions
        The model's answers for ``twinset.original`` and ``twinset.twins``, row for row.
    max_flip_rate : float
        The largest acceptable share of records whose decision changes.
    max_score_change : float, optional
        tau: a score change larger than this counts as a change.
    max_score_change_rate : float, optional
        The largest acceptable share of records with a score change above tau.
    alpha : float
        Level of each one-sided bound.
    mode : {"detect", "certify"}
        Whether an inconclusive result fails the build (certify) or not (detect).

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from fairprobe.twins import FlipGenerator
    >>> df = pd.DataFrame({"sex": ["f", "m"] * 200, "x": np.arange(400)})
    >>> ts = FlipGenerator().generate(df, ["sex"], held=["x"], seed=0)
    >>> same = Predictions(decision=(df["x"] > 100).to_numpy(), score=None)
    >>> twin = Predictions(decision=(ts.twins["x"] > 100).to_numpy(), score=None)
    >>> invariance(ts, same, twin, max_flip_rate=0.01).verdict
    'pass'
    """
    max_flip_rate = _check_bound("max_flip_rate", max_flip_rate, 0.0, 1.0)
    alpha, mode = check_alpha(alpha), check_mode(mode)
    n_records = len(twinset.original)
    valid = twinset.valid
    src = twinset.source[valid]
    orig_dec = original.decision[src]
    twin_dec = twin.decision[valid]
    changed = orig_dec != twin_dec
    has_valid = np.bincount(src, minlength=n_records) > 0
    flipped = np.bincount(src[changed], minlength=n_records) > 0
    n, k = int(has_valid.sum()), int(flipped.sum())
    if n == 0:
        raise InvalidSpec("no valid twins to check: the twin generator rejected every twin")
    any_lo, any_hi = stats.clopper_pearson(k, n, alpha)
    # Several stochastic twins per record and target (CVAE): the statistic is each record's share of
    # flipped twins, a mean of values in [0, 1], bounded by empirical Bernstein; the any-twin rate
    # (which grows with k) is reported beside it.
    per_twin = int(twinset.info.get("k", 1)) > 1
    if per_twin:
        share = (np.bincount(src[changed], minlength=n_records) / np.maximum(np.bincount(src, minlength=n_records), 1))[has_valid]
        statistic, share_var = float(share.mean()), float(share.var(ddof=1)) if n > 1 else 0.25
        lo, hi = stats.bernstein_bounds(statistic, share_var, n, alpha)
        method, statistic_name = "empirical Bernstein", "share of twins flipped"
    else:
        statistic, lo, hi = k / n, any_lo, any_hi
        method, statistic_name = "Clopper-Pearson", "flip rate"
    verdict = stats.decide(float(lo), float(hi), low=-math.inf, high=max_flip_rate)
    gates: dict[str, Any] = {}
    verdicts = [verdict]

    from_groups = group_labels(twinset.original, twinset.attributes).to_numpy()
    to_groups = group_labels(twinset.twins, twinset.attributes).to_numpy()[valid]
    groups = _invariance_groups(from_groups, has_valid, flipped)
    if per_twin:
        for row in groups:
            in_g = (from_groups == row["group"])[has_valid]
            row["share_of_twins_flipped"] = float(share[in_g].mean()) if in_g.any() else None
    direction = _direction(from_groups[src], to_groups, orig_dec, twin_dec, alpha)

    delta = None
    if original.score is not None and twin.score is not None:
        delta = twin.score[valid] - original.score[src]
    details: dict[str, Any] = {
        "records": n_records,
        "records_with_valid_twins": n,
        "flipped_records": k,
        "twins": int(len(twinset)),
        "valid_twins": int(valid.sum()),
        "changed_twins": int(changed.sum()),
        "twin_flip_rate": float(changed.mean()) if len(changed) else 0.0,
        "any_twin_flip_rate": {"statistic": k / n, "interval": [float(any_lo), float(any_hi)],
                               "method": "Clopper-Pearson"},
        "direction": direction,
        "generator": twinset.generator,
        "generator_info": twinset.info,
    }
    if delta is not None:
        details["score_change"] = _distribution(delta)
    if max_score_change is not None:
        if delta is None:
            raise InvalidSpec("max_score_change needs a model that gives scores (predict_proba, "
                              "decision_function or a callable returning floats); this one gives decisions only")
        tau = _check_bound("max_score_change", max_score_change, 0.0, math.inf)
        rate_bound = max_flip_rate if max_score_change_rate is None else \
            _check_bound("max_score_change_rate", max_score_change_rate, 0.0, 1.0)
        moved = np.bincount(src[np.abs(delta) > tau], minlength=n_records) > 0
        k2 = int(moved.sum())
        lo2, hi2 = stats.clopper_pearson(k2, n, alpha)
        v2 = stats.decide(float(lo2), float(hi2), low=-math.inf, high=rate_bound)
        gates[f"rate of |score change| > {tau:g}"] = {
            "statistic": k2 / n, "interval": [float(lo2), float(hi2)], "bound": rate_bound,
            "comparison": "<", "verdict": v2, "count": k2, "tau": tau,
        }
        verdicts.append(v2)
    details["gates"] = gates

    def undecided(f: np.ndarray) -> np.ndarray:
        passing, failing = np.ones(len(f), bool), np.zeros(len(f), bool)
        if per_twin:
            l, u = stats.bernstein_bounds(statistic, share_var, n * f, alpha)
            passing &= u < max_flip_rate
            failing |= l > max_flip_rate
        gates_at = [] if per_twin else [(k, max_flip_rate)]
        for count, bound in gates_at + [(g["count"], g["bound"]) for g in gates.values()]:
            l, u = stats.clopper_pearson(count * f, n * f, alpha)
            passing &= u < bound
            failing |= l > bound
        return ~passing & ~failing

    final = combine(verdicts)
    return CheckResult(
        check="invariance",
        attributes=tuple(twinset.attributes),
        statistic=statistic,
        statistic_name=statistic_name,
        interval=(float(lo), float(hi)),
        bound=max_flip_rate,
        comparison="<",
        verdict=final,
        alpha=alpha,
        n=n,
        method=method,
        mode=mode,
        n_to_decide=stats.n_to_decide(undecided, n) if final == INCONCLUSIVE else None,
        groups=groups,
        pairs=direction,
        details=details,
        counterexamples=_counterexamples(twinset, original, twin, valid, n_counterexamples),
        context={"twins": twinset.generator},
    )


def _invariance_groups(from_groups, has_valid, flipped) -> list[dict[str, Any]]:
    rows = []
    for g in sorted(pd.unique(from_groups)):
        in_g = from_groups == g
        n = int((in_g & has_valid).sum())
        k = int((in_g & flipped).sum())
        rows.append({"group": g, "records": n, "any_twin_flipped": k, "flip_rate": k / n if n else None})
    return rows


def _direction(from_g, to_g, orig_dec, twin_dec, alpha) -> list[dict[str, Any]]:
    """Per pair of groups, which one the discordant twin pairs favour (exact McNemar)."""
    rows = []
    labels = sorted(set(from_g) | set(to_g))
    for a, b in itertools.combinations(labels, 2):
        ab = (from_g == a) & (to_g == b)
        ba = (from_g == b) & (to_g == a)
        favour_a = int((ab & orig_dec & ~twin_dec).sum() + (ba & ~orig_dec & twin_dec).sum())
        favour_b = int((ab & ~orig_dec & twin_dec).sum() + (ba & orig_dec & ~twin_dec).sum())
        if favour_a + favour_b == 0:
            continue
        p = stats.mcnemar_exact(favour_a, favour_b)
        favoured = (a if favour_a > favour_b else b) if p < alpha else None
        rows.append({"group_a": a, "group_b": b, "favour_a": favour_a, "favour_b": favour_b,
                     "mcnemar_p": p, "favoured": favoured})
    return rows


def _distribution(delta: np.ndarray) -> dict[str, float]:
    if len(delta) == 0:
        return {}
    q = np.quantile(delta, [0.01, 0.1, 0.5, 0.9, 0.99])
    return {"mean": float(delta.mean()), "mean_abs": float(np.abs(delta).mean()),
            "max_abs": float(np.abs(delta).max()), "q01": float(q[0]), "q10": float(q[1]),
            "median": float(q[2]), "q90": float(q[3]), "q99": float(q[4])}


def _counterexamples(twinset, original, twin, valid, limit) -> list[dict[str, Any]]:
    if limit <= 0:
        return []
    idx = np.flatnonzero(valid)
    src = twinset.source[idx]
    changed = original.decision[src] != twin.decision[idx]
    if original.score is not None and twin.score is not None:
        size = np.abs(twin.score[idx] - original.score[src])
    else:
        size = np.zeros(len(idx))
    # Decision changes first, then the largest score moves; ties keep record order.
    order = np.lexsort((np.arange(len(idx)), -size, ~changed))
    chosen = [i for i in order if changed[i] or size[i] > 0][:limit]
    out = []
    for i in chosen:
        t, s = idx[i], twinset.source[idx[i]]
        before = twinset.original.iloc[s]
        after = twinset.twins.iloc[t]
        diff = {str(c): [plain(before[c]), plain(after[c])] for c in twinset.twins.columns
                if not _same(before[c], after[c])}
        out.append({
            "row": int(s),
            "changes": diff,
            "original_decision": bool(original.decision[s]),
            "twin_decision": bool(twin.decision[t]),
            "original_score": None if original.score is None else float(original.score[s]),
            "twin_score": None if twin.score is None else float(twin.score[t]),
        })
    return out


def _same(a, b) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b)


# --------------------------------------------------------------------------- group metrics


def group_counts(groups: pd.Series, y_pred: np.ndarray, y_true: np.ndarray | None = None) -> pd.DataFrame:
    """Per-group counts with one bincount pass: n, selected, and with labels positives, TP, FP."""
    codes, labels = pd.factorize(pd.Series(groups).reset_index(drop=True), sort=True)
    if (codes < 0).any():
        raise InvalidSpec(f"the protected attribute has {int((codes < 0).sum())} missing values; "
                          "fill them (e.g. with 'unknown') or drop those rows")
    m = len(labels)
    y_pred = np.asarray(y_pred, dtype=bool)
    table = {"n": np.bincount(codes, minlength=m),
             "selected": np.bincount(codes, weights=y_pred, minlength=m).astype(int)}
    if y_true is not None:
        y_true = np.asarray(y_true, dtype=bool)
        table["positives"] = np.bincount(codes, weights=y_true, minlength=m).astype(int)
        table["negatives"] = table["n"] - table["positives"]
        table["true_positives"] = np.bincount(codes, weights=y_true & y_pred, minlength=m).astype(int)
        table["false_positives"] = np.bincount(codes, weights=~y_true & y_pred, minlength=m).astype(int)
    return pd.DataFrame(table, index=pd.Index([str(x) for x in labels], name="group"))


def _rate(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, k / np.maximum(n, 1), np.nan)


def _pairwise(
    names: list[str], rates: dict[str, tuple[np.ndarray, np.ndarray]], *, kind: Literal["gap", "ratio"],
    alpha: float, low: float, high: float,
) -> tuple[list[dict[str, Any]], Verdict, int]:
    """Intervals for every pair of groups and every rate; the verdict over all of them."""
    i, j = (np.asarray(x, dtype=int) for x in zip(*itertools.combinations(range(len(names)), 2)))
    m = len(i) * len(rates)
    method = stats.newcombe_difference if kind == "gap" else stats.mover_ratio
    rows, at_a, at_m = [], ([], []), ([], [])
    for rate_name, (k, n) in rates.items():
        k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
        la, ua = method(k[i], n[i], k[j], n[j], alpha)
        lm, um = method(k[i], n[i], k[j], n[j], alpha / m)
        p_i, p_j = _rate(k[i], n[i]), _rate(k[j], n[j])
        with np.errstate(invalid="ignore", divide="ignore"):
            est = p_i - p_j if kind == "gap" else p_i / p_j
        for acc, (lo, up) in ((at_a, (la, ua)), (at_m, (lm, um))):
            acc[0].append(lo)
            acc[1].append(up)
        for t in range(len(i)):
            defined = n[i[t]] > 0 and n[j[t]] > 0
            rows.append({"rate": rate_name, "group_a": names[i[t]], "group_b": names[j[t]],
                         "estimate": float(est[t]) if np.isfinite(est[t]) else None,
                         "lower": float(la[t]), "upper": float(ua[t]),
                         "lower_corrected": float(lm[t]), "upper_corrected": float(um[t]),
                         "verdict": stats.decide(float(la[t]), float(ua[t]), low=low, high=high)
                         if defined else "undefined"})
    verdict = stats.decide_pairs(*(tuple(np.concatenate(part) for part in acc) for acc in (at_a, at_m)),
                                 low=low, high=high)
    return rows, verdict, m


def _undecided_at_scales(rates, kind, alpha, low, high):
    groups = len(next(iter(rates.values()))[0])
    i, j = (np.asarray(x, dtype=int) for x in zip(*itertools.combinations(range(groups), 2)))
    m = len(i) * len(rates)
    method = stats.newcombe_difference if kind == "gap" else stats.mover_ratio

    def undecided(f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=float)[:, None]
        passing, failing = np.ones(len(f), bool), np.zeros(len(f), bool)
        for k, n in rates.values():
            k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
            la, ua = method(k[i] * f, n[i] * f, k[j] * f, n[j] * f, alpha)
            lm, um = method(k[i] * f, n[i] * f, k[j] * f, n[j] * f, alpha / m)
            passing &= np.all((la > low) & (ua < high), axis=1)
            failing |= np.any((lm > high) | (um < low), axis=1)
        return ~passing & ~failing
    return undecided


def _headline(rows: list[dict[str, Any]], kind: Literal["gap", "ratio"]) -> dict[str, Any] | None:
    """The pair with the largest disparity (largest |gap|, or smallest ratio), oriented."""
    defined = [r for r in rows if r["estimate"] is not None]
    if not defined:
        return None
    if kind == "gap":
        worst = max(defined, key=lambda r: abs(r["estimate"]))
        if worst["estimate"] < 0:
            return {**worst, "estimate": -worst["estimate"], "lower": -worst["upper"], "upper": -worst["lower"],
                    "group_a": worst["group_b"], "group_b": worst["group_a"]}
        return worst
    worst = min(defined, key=lambda r: min(r["estimate"], 1 / r["estimate"]) if r["estimate"] else 0)
    if worst["estimate"] and worst["estimate"] > 1:
        flip = lambda x: 1 / x if x else math.inf  # noqa: E731
        return {**worst, "estimate": 1 / worst["estimate"], "lower": flip(worst["upper"]),
                "upper": flip(worst["lower"]), "group_a": worst["group_b"], "group_b": worst["group_a"]}
    return worst


def _small_groups(table: pd.DataFrame, min_group_size: int | None, denominators: Sequence[str]) -> tuple[pd.DataFrame, list[str], list[str]]:
    notes, excluded = [], []
    if min_group_size is not None:
        small = table[(table[list(denominators)] < min_group_size).any(axis=1)]
        for name, row in small.iterrows():
            sizes = ", ".join(f"{d}={int(row[d])}" for d in denominators)
            notes.append(f"group {name!r} excluded from the verdict: too small ({sizes} < {min_group_size})")
            excluded.append(str(name))
        table = table.drop(index=small.index)
    for name, row in table.iterrows():
        for d in denominators:
            if row[d] == 0:
                notes.append(f"group {name!r} has no {d}: its rate is undefined, so the check cannot pass")
    return table, notes, excluded


def _group_rows(table: pd.DataFrame, excluded: list[str], rates: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    rows = []
    for name, row in table.iterrows():
        out: dict[str, Any] = {"group": str(name)}
        out.update({c: int(row[c]) for c in table.columns})
        for rate_name, (num, den) in rates.items():
            out[rate_name] = float(row[num] / row[den]) if row[den] else None
        out["status"] = "excluded: too small" if str(name) in excluded else "included"
        rows.append(out)
    return rows


def equalized_odds(
    y_true: Any,
    y_pred: Any,
    groups: pd.Series,
    *,
    max_gap: float,
    alpha: float = 0.05,
    mode: Mode = "detect",
    min_group_size: int | None = None,
    attributes: Sequence[str] = ("group",),
) -> CheckResult:
    """Check that true- and false-positive rates differ by less than ``max_gap`` between groups.

    Rates are fairlearn's ``true_positive_rate`` and ``false_positive_rate`` per group; the
    statistic is fairlearn's ``equalized_odds_difference`` (the larger of the TPR and FPR
    max-min gaps). Each pairwise gap gets Newcombe hybrid-score bounds. PASS needs every pair of
    both rates inside (-max_gap, max_gap) at ``alpha``; FAIL needs one pair outside at alpha/m
    (Bonferroni over the m comparisons). A group with no positives (or negatives) has an undefined
    rate: it is reported, and the check cannot pass. Groups smaller than ``min_group_size``
    (positives or negatives) are excluded from the verdict and reported as such.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> g = pd.Series(rng.choice(["a", "b"], 4000))
    >>> y = rng.random(4000) < 0.5
    >>> pred = np.where(rng.random(4000) < 0.9, y, ~y)
    >>> equalized_odds(y, pred, g, max_gap=0.1).verdict
    'pass'
    """
    max_gap = _check_bound("max_gap", max_gap, 0.0, 1.0)
    alpha, mode = check_alpha(alpha), check_mode(mode)
    y_true, y_pred = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    table = group_counts(groups, y_pred, y_true)
    used, notes, excluded = _small_groups(table, min_group_size, ["positives", "negatives"])
    rates = {"TPR": (used["true_positives"].to_numpy(), used["positives"].to_numpy()),
             "FPR": (used["false_positives"].to_numpy(), used["negatives"].to_numpy())}
    return _group_check(
        "equalized_odds", attributes, table, used, excluded, notes, rates,
        rate_columns={"TPR": ("true_positives", "positives"), "FPR": ("false_positives", "negatives"),
                      "selection_rate": ("selected", "n")},
        kind="gap", bound=max_gap, alpha=alpha, mode=mode, statistic_name="equalized-odds gap",
    )


def demographic_parity(
    y_pred: Any,
    groups: pd.Series,
    *,
    max_gap: float | None = None,
    min_ratio: float | None = None,
    alpha: float = 0.05,
    mode: Mode = "detect",
    min_group_size: int | None = None,
    attributes: Sequence[str] = ("group",),
) -> CheckResult:
    """Check selection rates across groups: their gap below ``max_gap``, their ratio above ``min_ratio``.

    ``min_ratio=0.8`` is the four-fifths rule. The statistics are fairlearn's
    ``demographic_parity_difference`` and ``demographic_parity_ratio``; pairwise gaps get Newcombe
    bounds and pairwise ratios MOVER-R bounds (Donner & Zou 2012). With both bounds given, both
    gates must pass.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> g = pd.Series(["a"] * 500 + ["b"] * 500)
    >>> pred = np.r_[np.arange(500) < 250, np.arange(500) < 100]
    >>> demographic_parity(pred, g, min_ratio=0.8).verdict
    'fail'
    """
    if max_gap is None and min_ratio is None:
        raise InvalidSpec("demographic parity needs max_gap= (selection-rate gap) or min_ratio= "
                          "(e.g. 0.8 for the four-fifths rule)")
    alpha, mode = check_alpha(alpha), check_mode(mode)
    table = group_counts(groups, np.asarray(y_pred, dtype=bool))
    used, notes, excluded = _small_groups(table, min_group_size, ["n"])
    rates = {"selection_rate": (used["selected"].to_numpy(), used["n"].to_numpy())}
    common = dict(rate_columns={"selection_rate": ("selected", "n")}, alpha=alpha, mode=mode)
    results = []
    if min_ratio is not None:
        min_ratio = _check_bound("min_ratio", min_ratio, 0.0, 1.0)
        results.append(_group_check("demographic_parity", attributes, table, used, excluded, notes, rates,
                                    kind="ratio", bound=min_ratio, statistic_name="selection-rate ratio",
                                    **common))
    if max_gap is not None:
        max_gap = _check_bound("max_gap", max_gap, 0.0, 1.0)
        results.append(_group_check("demographic_parity", attributes, table, used, excluded, notes, rates,
                                    kind="gap", bound=max_gap, statistic_name="selection-rate gap", **common))
    if len(results) == 1:
        return results[0]
    first, second = results
    gate = {"statistic": second.statistic, "interval": list(second.interval), "bound": second.bound,
            "comparison": second.comparison, "verdict": second.verdict}
    final = combine([first.verdict, second.verdict])
    return replace(first, verdict=final, pairs=first.pairs + second.pairs,
                   n_to_decide=max(filter(None, [first.n_to_decide, second.n_to_decide]), default=None)
                   if final == INCONCLUSIVE else None,
                   details={**first.details, "gates": {second.statistic_name: gate}})


def _group_check(check, attributes, table, used, excluded, notes, rates, *, rate_columns, kind, bound,
                 alpha, mode, statistic_name) -> CheckResult:
    low, high = (-bound, bound) if kind == "gap" else (bound, 1 / bound)
    names = [str(x) for x in used.index]
    if len(names) < 2:
        raise InvalidSpec(
            f"{check} needs at least two groups of {' x '.join(attributes)} to compare; found "
            f"{len(table)} ({', '.join(map(str, table.index))})"
            + (f", of which {len(excluded)} below min_group_size" if excluded else "")
        )
    rows, verdict, m = _pairwise(names, rates, kind=kind, alpha=alpha, low=low, high=high)
    # The worst pair's estimate is fairlearn's statistic: the largest max-min gap over the rates,
    # or the smallest min/max ratio (the tests check both against fairlearn).
    head = _headline(rows, kind)
    statistic, interval = (math.nan, (math.nan, math.nan)) if head is None else \
        (head["estimate"], (head["lower"], head["upper"]))
    n_total = int(used["n"].sum())
    return CheckResult(
        check=check,
        attributes=tuple(attributes),
        statistic=statistic,
        statistic_name=statistic_name,
        interval=(float(interval[0]), float(interval[1])),
        bound=bound,
        comparison="<" if kind == "gap" else ">",
        verdict=verdict,
        alpha=alpha,
        n=n_total,
        method="Newcombe hybrid score" if kind == "gap" else "MOVER-R on Wilson",
        mode=mode,
        n_to_decide=stats.n_to_decide(_undecided_at_scales(rates, kind, alpha, low, high), n_total)
        if verdict == INCONCLUSIVE else None,
        groups=_group_rows(table, excluded, rate_columns),
        pairs=rows,
        details={"comparisons": m, "correction": "Bonferroni for FAIL, none for PASS (intersection-union)",
                 "worst_pair": head, "notes": notes, "gates": {}},
    )


# --------------------------------------------------------------------------- formatting


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
        return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"
    return str(x)


def _table(rows: list[dict[str, Any]], limit: int = 12) -> list[str]:
    rows = rows[:limit]
    cols = [c for c in rows[0] if not c.endswith("_corrected")]
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
    return [line(cols)] + [line(r) for r in cells]


def _text_diff(a: str, b: str) -> str:
    """The word-level edits between two texts: ``She -> He; her -> his``."""
    import difflib

    x, y = a.split(), b.split()
    edits = [f"{' '.join(x[i0:i1]) or '(nothing)'} -> {' '.join(y[j0:j1]) or '(nothing)'}"
             for op, i0, i1, j0, j1 in difflib.SequenceMatcher(a=x, b=y, autojunk=False).get_opcodes() if op != "equal"]
    return "[" + "; ".join(edits) + "]"


def _describe_pair(ex: dict[str, Any]) -> str:
    changes = ", ".join(
        f"{c}: {_text_diff(a, b)}" if isinstance(a, str) and isinstance(b, str) and max(len(a), len(b)) > 60
        else f"{c}: {a} -> {b}" for c, (a, b) in ex["changes"].items())
    yes = lambda d: "yes" if d else "no"  # noqa: E731
    score = ""
    if ex.get("original_score") is not None:
        score = f"  score {_fmt(ex['original_score'])} -> {_fmt(ex['twin_score'])}"
    return f"row {ex['row']}: {changes}{score}  decision {yes(ex['original_decision'])} -> {yes(ex['twin_decision'])}"
