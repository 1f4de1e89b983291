"""Invariance: do decisions stay the same between each record and its counterfactual twins?"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairprobe import stats
from fairprobe.adapters import Predictions
from fairprobe.checks.result import CheckResult, fmt, not_certifiable
from fairprobe.data import plain, row_hashes
from fairprobe.errors import InvalidSpec
from fairprobe.twins.base import TwinSet
from fairprobe.validation import check_alpha, check_bound, check_mode
from fairprobe.verdicts import INCONCLUSIVE, CheckKind, Mode, combine

PARTLY_VACUOUS = 0.10  # a share of identical twins at or above this is worth a sentence


def invariance(
    twinset: TwinSet,
    original: Predictions,
    twin: Predictions,
    *,
    max_flip_rate: float,
    max_score_change: float | None = None,
    max_score_change_rate: float | None = None,
    alpha: float = 0.05,
    mode: Mode | str = "detect",
    features: Sequence[str] | None = None,
    noise_floor: tuple[TwinSet, Predictions] | None = None,
    n_counterexamples: int = 5,
    sequential: dict[str, Any] | None = None,
) -> CheckResult:
    """Check that decisions do not change between records and their twins.

    One trial per original record: did any of its valid twins get a different decision? The rate
    of such records is bounded with exact Clopper-Pearson bounds (zero flips in 299 records
    certify a 1% bound at alpha = 0.05). With scores and ``max_score_change`` (tau), the rate of
    records with a twin whose score moved by more than tau is a second gate, bounded by
    ``max_score_change_rate`` (default: ``max_flip_rate``).

    The result also says what the check exercised: the share of valid twins identical to their
    original on the columns the model reads (``features``) and the share of favourable decisions.
    All twins identical (vacuous) or all decisions equal (degenerate) adds a warning, and in
    certify mode such a PASS is INCONCLUSIVE: nothing was certified.

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
        The largest acceptable share of records with a score change above tau (needs
        ``max_score_change``).
    alpha : float
        Level of each one-sided bound.
    mode : {"detect", "certify"}
        Whether an inconclusive result fails the build (certify) or not (detect).
    features : list of str, optional
        The columns the model reads (default: every column of the twins).
    noise_floor : (TwinSet, Predictions), optional
        Self-twins (made by the same procedure with each record's own protected value) and the
        model's answers for them: their flip statistic is reported as the generator's noise floor.
    sequential : dict, optional
        The records were drawn by a sequential design that may have stopped early (what it did:
        looks, budget, why it stopped). Bounds and verdicts then come from an anytime-valid betting
        confidence sequence (:func:`fairprobe.stats.betting_bounds`), valid whenever the design stopped.

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
    >>> str(invariance(ts, same, twin, max_flip_rate=0.01).verdict)
    'pass'

    A model that reads only ``x`` cannot see what flip twins of ``sex`` change: that PASS is vacuous.

    >>> result = invariance(ts, same, twin, max_flip_rate=0.01, features=["x"])
    >>> str(result.verdict), result.warnings[0][:40]
    ('pass', 'vacuous: every valid twin is identical t')
    >>> str(invariance(ts, same, twin, max_flip_rate=0.01, features=["x"], mode="certify").verdict)
    'inconclusive'
    """
    max_flip_rate = check_bound("max_flip_rate", max_flip_rate, 0.0, 1.0)
    alpha, mode = check_alpha(alpha), check_mode(mode)
    if max_score_change_rate is not None and max_score_change is None:
        raise InvalidSpec("max_score_change_rate bounds the share of records whose score moves by more than "
                          "max_score_change; pass max_score_change= too (e.g. max_score_change=0.05)")
    columns = list(twinset.twins.columns) if features is None else list(features)
    valid = twinset.valid
    src = twinset.source[valid]
    if not valid.any():
        raise InvalidSpec("no valid twins to check: the twin generator rejected every twin")
    counted = _count(twinset, original, twin)
    n, k = counted["n"], counted["k"]
    any_lo, any_hi = stats.clopper_pearson(k, n, alpha)
    per_twin = counted["per_twin"]
    if sequential is not None:
        per_record = counted["share"] if per_twin else counted["flipped"][counted["has_valid"]].astype(float)
        statistic = float(per_record.mean())
        lo, hi = stats.betting_bounds(per_record, alpha)
        method = "betting confidence sequence (anytime-valid)"
        statistic_name = "share of twins flipped" if per_twin else "flip rate"
    elif per_twin:
        # Several stochastic twins per record and target (CVAE): the statistic is each record's share of
        # flipped twins, a mean of values in [0, 1], bounded by empirical Bernstein; the any-twin rate
        # (which grows with k) is reported beside it.
        share = counted["share"]
        statistic, share_var = float(share.mean()), float(share.var(ddof=1)) if n > 1 else 0.25
        lo, hi = stats.bernstein_bounds(statistic, share_var, n, alpha)
        method, statistic_name = "empirical Bernstein", "share of twins flipped"
    else:
        statistic, lo, hi = k / n, any_lo, any_hi
        method, statistic_name = "Clopper-Pearson", "flip rate"
    if sequential is not None:
        verdicts = [stats.sequential_decide(per_record, max_flip_rate, alpha)]
    else:
        verdicts = [stats.decide(float(lo), float(hi), low=-math.inf, high=max_flip_rate)]

    from_codes, to_codes, names = twinset.group_codes()
    groups = _invariance_groups(from_codes, names, counted["has_valid"], counted["flipped"])
    if per_twin:
        for code, row in zip(sorted(set(from_codes.tolist())), groups):
            in_g = (from_codes == code)[counted["has_valid"]]
            row["share_of_twins_flipped"] = float(share[in_g].mean()) if in_g.any() else None
    orig_dec, twin_dec = original.decision[src], twin.decision[valid]
    direction = _direction(src, from_codes[src], to_codes[valid], names, orig_dec, twin_dec, alpha)

    delta = None
    if original.score is not None and twin.score is not None:
        delta = twin.score[valid] - original.score[src]
    exercised = _exercised(twinset, original, twin, columns)
    details: dict[str, Any] = {
        "records": len(twinset.original),
        "records_with_valid_twins": n,
        "flipped_records": k,
        "twins": int(len(twinset)),
        "valid_twins": int(valid.sum()),
        "changed_twins": counted["changed_twins"],
        "twin_flip_rate": counted["changed_twins"] / int(valid.sum()),
        "any_twin_flip_rate": {"statistic": k / n, "interval": [float(any_lo), float(any_hi)],
                               "method": "Clopper-Pearson"},
        "direction": direction,
        "exercised": exercised,
        "generator": twinset.generator,
        "generator_info": twinset.info,
    }
    if delta is not None:
        details["score_change"] = _distribution(delta)
    gates: dict[str, Any] = {}
    if max_score_change is not None:
        if delta is None:
            raise InvalidSpec("max_score_change needs a model that gives scores (predict_proba, "
                              "decision_function or a callable returning floats); this one gives decisions only")
        tau = check_bound("max_score_change", max_score_change, 0.0, math.inf)
        rate_bound = max_flip_rate if max_score_change_rate is None else \
            check_bound("max_score_change_rate", max_score_change_rate, 0.0, 1.0)
        moved = np.bincount(src[np.abs(delta) > tau], minlength=len(twinset.original)) > 0
        k2 = int(moved[counted["has_valid"]].sum())
        if sequential is not None:
            lo2, hi2 = stats.betting_bounds(moved[counted["has_valid"]].astype(float), alpha)
            v2 = stats.sequential_decide(moved[counted["has_valid"]].astype(float), rate_bound, alpha)
        else:
            lo2, hi2 = stats.clopper_pearson(k2, n, alpha)
            v2 = stats.decide(float(lo2), float(hi2), low=-math.inf, high=rate_bound)
        gates[f"rate of |score change| > {tau:g}"] = {
            "statistic": k2 / n, "interval": [float(lo2), float(hi2)], "bound": rate_bound,
            "comparison": "<", "verdict": v2, "count": k2, "tau": tau,
        }
        verdicts.append(v2)
    details["gates"] = gates
    warnings, emptiness = _warnings(exercised, original, twin, valid, src, score_gate=bool(gates))
    if noise_floor is not None:
        self_twins, self_answers = noise_floor
        details["noise_floor"] = floor = _noise_floor(self_twins, original, self_answers, alpha=alpha)
        if floor["statistic"] >= max_flip_rate / 2:
            warnings.append(
                f"noise floor: the generator's self-twins (each record's own protected value) already give "
                f"{floor['statistic_name']} {fmt(floor['statistic'])}, at least half the bound {fmt(max_flip_rate)}; "
                "part of the measured flips may be reconstruction noise rather than the attribute")

    def undecided(f: np.ndarray) -> np.ndarray:
        passing, failing = np.ones(len(f), bool), np.zeros(len(f), bool)
        if per_twin:
            low_f, up_f = stats.bernstein_bounds(statistic, share_var, n * f, alpha)
            passing &= up_f < max_flip_rate
            failing |= low_f > max_flip_rate
        gates_at = [] if per_twin else [(k, max_flip_rate)]
        for count, bound in gates_at + [(g["count"], g["bound"]) for g in gates.values()]:
            low_f, up_f = stats.clopper_pearson(count * f, n * f, alpha)
            passing &= up_f < bound
            failing |= low_f > bound
        return ~passing & ~failing

    final, not_certified = not_certifiable(combine(verdicts), mode, emptiness)
    if not_certified:
        details["not_certified"] = not_certified
    if sequential is not None:
        details["sequential"] = sequential
    return CheckResult(
        check=CheckKind.INVARIANCE,
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
        n_to_decide=stats.n_to_decide(undecided, n) if final == INCONCLUSIVE and not not_certified
        and sequential is None else None,
        groups=groups,
        pairs=direction,
        details=details,
        counterexamples=_counterexamples(twinset, original, twin, valid, n_counterexamples),
        context={"twins": twinset.generator},
        warnings=warnings,
    )


def _count(twinset: TwinSet, original: Predictions, twin: Predictions) -> dict[str, Any]:
    """Per record: has it a valid twin, did any flip, what share flipped; counts that sum across partitions."""
    n_records = len(twinset.original)
    valid = twinset.valid
    src = twinset.source[valid]
    changed = original.decision[src] != twin.decision[valid]
    twins_per_record = np.bincount(src, minlength=n_records)
    flipped_per_record = np.bincount(src[changed], minlength=n_records)
    has_valid = twins_per_record > 0
    flipped = flipped_per_record > 0
    return {"n": int(has_valid.sum()), "k": int(flipped.sum()), "has_valid": has_valid, "flipped": flipped,
            "changed_twins": int(changed.sum()),
            "per_twin": int(twinset.info.get("k", 1)) > 1,
            "share": (flipped_per_record / np.maximum(twins_per_record, 1))[has_valid]}


def _exercised(twinset: TwinSet, original: Predictions, twin: Predictions, columns: list[str]) -> dict[str, Any]:
    """What the check could see: twins identical to their original on the model's columns, and decisions."""
    valid = twinset.valid
    src = twinset.source[valid]
    missing = [c for c in columns if c not in twinset.twins.columns]
    if missing:
        raise InvalidSpec(f"features {missing} are not columns of the twins (columns: {list(twinset.twins.columns)})")
    same = row_hashes(twinset.twins.loc[valid, columns]) == row_hashes(twinset.original[columns])[src]
    decisions = np.concatenate([original.decision, twin.decision[valid]])
    # Generative twins (CVAE) may leave the model's columns unchanged because the counterfactual itself does
    # not move them: that is a faithful twin, not a blind spot, so only the wholly vacuous case warns for them.
    return {"columns": columns, "generative": bool(twinset.info.get("generative", False)),
            "identical_twins": int(same.sum()), "identical_share": float(same.mean()),
            "positive_share": float(decisions.mean()),
            "positive_share_original": float(original.decision.mean()),
            "positive_share_twins": float(twin.decision[valid].mean())}


def _warnings(exercised: dict[str, Any], original: Predictions, twin: Predictions, valid: np.ndarray,
              src: np.ndarray, *, score_gate: bool = False) -> tuple[list[str], list[str]]:
    """Sentences for the reader, and the reasons (if any) that the check exercised nothing."""
    warnings: list[str] = []
    emptiness: list[str] = []
    share = exercised["identical_share"]
    columns = ", ".join(exercised["columns"][:8]) + (", ..." if len(exercised["columns"]) > 8 else "")
    if share == 1.0:
        emptiness.append("every twin is identical to its original on the model's columns")
        warnings.append(
            f"vacuous: every valid twin is identical to its original on the columns the model reads ({columns}), "
            "so the model could not see what the twins changed and no flip was possible; twin the columns the "
            "model reads (a raw column behind a binned protected attribute: bands=; a column derived from the "
            "protected one: derived=) or send the changed columns to the model (features=)")
    elif share >= PARTLY_VACUOUS and not exercised["generative"]:
        warnings.append(
            f"partly vacuous: {share:.0%} of valid twins are identical to their original on the columns the model "
            f"reads ({columns}); the model could not see any change in them, so the flip rate covers the other "
            f"{1 - share:.0%} only")
    decisions = np.concatenate([original.decision[src], twin.decision[valid]])
    if decisions.all() or not decisions.any():
        what = "favourable" if decisions.all() else "unfavourable"
        if score_gate:  # the score gate still measures how the twins move the scores
            warnings.append(f"degenerate decisions: every decision, for originals and twins, is {what}"
                            f"{threshold_note(original, twin)}; no decision could flip, so only the score gate "
                            "measured anything")
        else:
            emptiness.append(f"every decision is {what}")
            warnings.append(f"degenerate: every decision, for originals and twins, is {what}"
                            f"{threshold_note(original, twin)}; a model that answers the same for everyone cannot "
                            "flip, so invariance says nothing about it")
    return warnings, emptiness


def threshold_note(*answers: Predictions) -> str:
    """Why every decision may be equal: the threshold lies outside the scores the model returned."""
    scores = [a.score for a in answers if a.score is not None and len(a.score)]
    threshold = next((a.threshold for a in answers if a.threshold is not None), None)
    if not scores or threshold is None:
        return ""
    values = np.concatenate(scores)
    values = values[np.isfinite(values)]
    if not len(values):
        return ""
    low, high = float(values.min()), float(values.max())
    if threshold > high or threshold <= low:
        side = "above" if threshold > high else "at or below"
        return (f" (the threshold {threshold:g} is {side} every score the model returned, {low:.4g} to {high:.4g}: "
                "pass a threshold inside that range)")
    return ""


def _noise_floor(self_twins: TwinSet, original: Predictions, answers: Predictions, *, alpha: float) -> dict[str, Any]:
    """The flip statistic of self-twins: what the generator changes when the protected value does not."""
    if len(self_twins.original) != len(original):
        raise InvalidSpec("noise_floor: the self-twins must be made from the same records as the twins")
    counted = _count(self_twins, original, answers)
    n = counted["n"]
    if counted["per_twin"]:
        statistic = float(counted["share"].mean())
        variance = float(counted["share"].var(ddof=1)) if n > 1 else 0.25
        lo, hi = stats.bernstein_bounds(statistic, variance, n, alpha)
        name = "share of twins flipped"
    else:
        statistic = counted["k"] / n
        lo, hi = stats.clopper_pearson(counted["k"], n, alpha)
        name = "flip rate"
    return {"statistic": statistic, "statistic_name": name, "interval": [float(lo), float(hi)], "records": n,
            "flipped_records": counted["k"], "changed_twins": counted["changed_twins"],
            "what": "self-twins: the same procedure with each record's own protected value"}


def _invariance_groups(from_codes: np.ndarray, names: list[str], has_valid: np.ndarray,
                       flipped: np.ndarray) -> list[dict[str, Any]]:
    """Per group of originals (in name order): records with a valid twin, and those that flipped."""
    size = len(names)
    records = np.bincount(from_codes[has_valid], minlength=size)
    hits = np.bincount(from_codes[has_valid & flipped], minlength=size)
    present = np.unique(from_codes)
    return [{"group": names[g], "records": int(records[g]), "any_twin_flipped": int(hits[g]),
             "flip_rate": hits[g] / records[g] if records[g] else None} for g in present]


def _direction(src: np.ndarray, from_g: np.ndarray, to_g: np.ndarray, names: list[str], orig_dec: np.ndarray,
               twin_dec: np.ndarray, alpha: float) -> list[dict[str, Any]]:
    """Per pair of groups, which one the records favour: an exact sign test on records, not on twins.

    A record votes for group a when most of its discordant twins between a and b favour a (ties do
    not vote); k twins of one record are one vote, so the p-value treats records as the independent
    units they are (k stochastic twins of one record are not k independent pairs).
    """
    rows = []
    # Only discordant twins vote; there are few of them, so the loop over group pairs runs on those only.
    discordant = orig_dec != twin_dec
    src, from_g, to_g = src[discordant], from_g[discordant], to_g[discordant]
    orig_dec, twin_dec = orig_dec[discordant], twin_dec[discordant]
    size = int(src.max()) + 1 if len(src) else 0
    present = np.union1d(from_g, to_g)
    for a, b in itertools.combinations(present.tolist(), 2):
        ab = (from_g == a) & (to_g == b)
        ba = (from_g == b) & (to_g == a)
        fa = (ab & orig_dec & ~twin_dec) | (ba & ~orig_dec & twin_dec)
        fb = (ab & ~orig_dec & twin_dec) | (ba & orig_dec & ~twin_dec)
        if not (fa.any() or fb.any()):
            continue
        per_a, per_b = np.bincount(src[fa], minlength=size), np.bincount(src[fb], minlength=size)
        votes_a, votes_b = int((per_a > per_b).sum()), int((per_b > per_a).sum())
        p = stats.mcnemar_exact(votes_a, votes_b)
        favoured = (names[a] if votes_a > votes_b else names[b]) if p < alpha else None
        rows.append({"group_a": names[a], "group_b": names[b], "favour_a": votes_a, "favour_b": votes_b,
                     "discordant_twins": int(fa.sum() + fb.sum()), "p_value": p, "favoured": favoured,
                     "unit": "records"})
    return rows


def _distribution(delta: np.ndarray) -> dict[str, float]:
    delta = delta[np.isfinite(delta)]
    if len(delta) == 0:
        return {}
    q = np.quantile(delta, [0.01, 0.1, 0.5, 0.9, 0.99])
    return {"mean": float(delta.mean()), "mean_abs": float(np.abs(delta).mean()),
            "max_abs": float(np.abs(delta).max()), "q01": float(q[0]), "q10": float(q[1]),
            "median": float(q[2]), "q90": float(q[3]), "q99": float(q[4])}


def _counterexamples(twinset: TwinSet, original: Predictions, twin: Predictions, valid: np.ndarray,
                     limit: int) -> list[dict[str, Any]]:
    if limit <= 0:
        return []
    idx = np.flatnonzero(valid)
    src = twinset.source[idx]
    changed = original.decision[src] != twin.decision[idx]
    if original.score is not None and twin.score is not None:
        size = np.nan_to_num(np.abs(twin.score[idx] - original.score[src]))
    else:
        size = np.zeros(len(idx))
    # Decision changes first, then the largest score moves; ties keep record order.
    worth = np.flatnonzero(changed | (size > 0))
    order = worth[np.lexsort((worth, -size[worth], ~changed[worth]))]
    chosen = order[:limit]
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


def _same(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b)
