"""Invariance: do decisions stay the same between each record and its counterfactual twins?"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fairprobe import stats
from fairprobe.predictions import Predictions
from fairprobe.result import CheckResult, fmt, not_certifiable
from fairprobe.checks.counts import (InvarianceCounts, NullCounts, count_invariance, count_null, direction_rows,
                                     public_examples, score_distribution)
from fairprobe.errors import InvalidSpec
from fairprobe.twins.base import TwinSet
from fairprobe.validation import check_alpha, check_bound, check_mode
from fairprobe.verdicts import FAIL, INCONCLUSIVE, CheckKind, Mode, combine

PARTLY_VACUOUS = 0.10  # a share of identical twins at or above this is worth a sentence
# A kept column the model reads whose dependence test gave a p-value under this is worth a sentence: on
# law school's 4,359 probed rows, sex twins kept LSAT at p = 0.011-0.084 on 3 seeds of 5, where the paper's
# graph says sex causes it; a column the attribute does not cause gets the sentence in about 5 % of fits.
NEAR = 0.05


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
    null_floor: tuple[TwinSet, Predictions] | None = None,
    n_counterexamples: int = 5,
    sequential: dict[str, Any] | None = None,
    encoding: Mapping[tuple[str, str], float | None] | None = None,
) -> CheckResult:
    """Check that decisions do not change between records and their twins.

    One trial per original record: did any of its valid twins get a different decision? The rate
    of such records is bounded with exact Clopper-Pearson bounds (zero flips in 299 records
    certify a 1% bound at alpha = 0.05). With scores and ``max_score_change`` (tau), the rate of
    records with a twin whose score moved by more than tau is a second gate, bounded by
    ``max_score_change_rate`` (default: ``max_flip_rate``).

    The result also says what the check exercised: the share of valid twins identical to their
    original on the columns the model reads (``features``) and the shares of favourable decisions among the
    originals and among the valid twins (apart: the twins' share pooled in would hide the originals').
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
    null_floor : (TwinSet, Predictions), optional
        Null twins (the same procedure with the attribute's link to the data broken) and the model's
        answers for them: their flip statistic is the null noise floor, what the generator's chance
        differences between groups do to this model. A FAIL whose lower bound does not exceed the bound
        plus this floor is INCONCLUSIVE, with a sentence saying so.
    sequential : dict, optional
        The records were drawn by a sequential design that may have stopped early (what it did:
        looks, budget, why it stopped). Bounds and verdicts then come from an anytime-valid betting
        confidence sequence (:func:`fairprobe.stats.betting_bounds`), valid whenever the design stopped.
    encoding : dict, optional
        ``{(column, attribute): AUC}``: columns the model reads that encode a protected attribute (the
        probe's proxy scan). In certify mode, twins that change the attribute but leave such a column as it
        was in every twin certify nothing: the model still saw the original group, so a PASS is INCONCLUSIVE.

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
    if not twinset.valid.any():
        raise InvalidSpec("no valid twins to check: the twin generator rejected every twin")
    tau = None if max_score_change is None else check_bound("max_score_change", max_score_change, 0.0, math.inf)
    counts = count_invariance(twinset, original, twin, features=features, taus=() if tau is None else (tau,),
                              n_examples=n_counterexamples, watch=list(encoding or {}))
    floor = None
    if noise_floor is not None:
        self_twins, self_answers = noise_floor
        if len(self_twins.original) != len(original):
            raise InvalidSpec("noise_floor: the self-twins must be made from the same records as the twins")
        floor = count_invariance(self_twins, original, self_answers, features=features, n_examples=0)
    null = None
    if null_floor is not None:
        null_twins, null_answers = null_floor
        if len(null_twins.original) != len(original):
            raise InvalidSpec("null_floor: the null twins must be made from the same records as the twins")
        null = count_null(null_twins, original, null_answers)
    return from_counts(counts, attributes=tuple(twinset.attributes), generator=twinset.generator,
                       generator_info=twinset.info, columns=list(twinset.twins.columns) if features is None
                       else list(features), max_flip_rate=max_flip_rate, max_score_change=max_score_change,
                       max_score_change_rate=max_score_change_rate, alpha=alpha, mode=mode, floor=floor,
                       null=null, sequential=sequential, has_scores=original.score is not None and twin.score is not None,
                       threshold=original.threshold if original.threshold is not None else twin.threshold,
                       encoding=encoding)


def from_counts(counts: InvarianceCounts, *, attributes: tuple[str, ...], generator: str, generator_info: dict,
                columns: list[str], max_flip_rate: float, max_score_change: float | None = None,
                max_score_change_rate: float | None = None, alpha: float = 0.05, mode: Mode | str = "detect",
                floor: InvarianceCounts | None = None, null: NullCounts | None = None,
                sequential: dict[str, Any] | None = None, has_scores: bool = False,
                threshold: float | None = None,
                encoding: Mapping[tuple[str, str], float | None] | None = None) -> CheckResult:
    """The invariance result of ``counts`` (of one pass, or merged from partitions): see :func:`invariance`."""
    max_flip_rate = check_bound("max_flip_rate", max_flip_rate, 0.0, 1.0)
    alpha, mode = check_alpha(alpha), check_mode(mode)
    if max_score_change_rate is not None and max_score_change is None:
        raise InvalidSpec("max_score_change_rate bounds the share of records whose score moves by more than "
                          "max_score_change; pass max_score_change= too (e.g. max_score_change=0.05)")
    n, k = counts.n, counts.flipped
    if n == 0:
        raise InvalidSpec("no valid twins to check: the twin generator rejected every twin")
    any_lo, any_hi = stats.clopper_pearson(k, n, alpha)
    per_twin = counts.k > 1
    values, weights = counts.value_arrays()
    mean, variance = counts.mean_and_variance()
    statistic_name = "share of twins flipped" if per_twin else "flip rate"
    if sequential is not None:
        statistic = mean
        lo, hi = stats.betting_bounds(values, alpha, counts=weights)
        method = "betting confidence sequence (anytime-valid)"
        verdicts = [stats.sequential_decide(values, max_flip_rate, alpha, counts=weights)]
    elif per_twin:
        # Several stochastic twins per record and target (CVAE): the statistic is each record's share of
        # flipped twins, a mean of values in [0, 1], bounded by empirical Bernstein; the any-twin rate
        # (which grows with k) is reported beside it.
        statistic = mean
        lo, hi = stats.bernstein_bounds(mean, variance, n, alpha)
        method = "empirical Bernstein"
        verdicts = [stats.decide(float(lo), float(hi), low=-math.inf, high=max_flip_rate)]
    else:
        statistic, lo, hi = k / n, any_lo, any_hi
        method = "Clopper-Pearson"
        verdicts = [stats.decide(float(lo), float(hi), low=-math.inf, high=max_flip_rate)]

    groups = [{"group": g, "records": int(r), "any_twin_flipped": int(f), "flip_rate": f / r if r else None}
              | ({"share_of_twins_flipped": _mean(s) if r else None} if per_twin else {})
              for g, (r, f, s) in sorted(counts.groups.items())]
    direction = direction_rows(counts, alpha)
    exercised = {"columns": columns, "generative": bool(generator_info.get("generative", False)),
                 "identical_twins": counts.identical_twins,
                 "identical_share": counts.identical_twins / counts.valid_twins if counts.valid_twins else 0.0,
                 # Originals and twins apart: pooled, k twins per record outweigh the originals (issue #15: 6.0 %
                 # "favourable decisions" where 48.7 % of the originals were favourable).
                 "positive_share_original": counts.originals_positive / max(counts.records, 1),
                 "positive_share_twins": counts.twins_positive / max(counts.valid_twins, 1)}
    details: dict[str, Any] = {
        "records": counts.records,
        "records_with_valid_twins": n,
        "flipped_records": k,
        "twins": counts.twins,
        "valid_twins": counts.valid_twins,
        "changed_twins": counts.changed_twins,
        "twin_flip_rate": counts.changed_twins / counts.valid_twins,
        "any_twin_flip_rate": {"statistic": k / n, "interval": [float(any_lo), float(any_hi)],
                               "method": "Clopper-Pearson"},
        "direction": direction,
        "exercised": exercised,
        "generator": generator,
        "generator_info": generator_info,
    }
    if has_scores:
        details["score_change"] = score_distribution(counts)
    gates: dict[str, Any] = {}
    if max_score_change is not None:
        if not has_scores:
            raise InvalidSpec("max_score_change needs a model that gives scores (predict_proba, "
                              "decision_function or a callable returning floats); this one gives decisions only")
        tau = check_bound("max_score_change", max_score_change, 0.0, math.inf)
        rate_bound = max_flip_rate if max_score_change_rate is None else \
            check_bound("max_score_change_rate", max_score_change_rate, 0.0, 1.0)
        k2 = int(counts.moved.get(tau, 0))
        if sequential is not None:
            moved_counts = [n - k2, k2]
            lo2, hi2 = stats.betting_bounds([0.0, 1.0], alpha, counts=moved_counts)
            v2 = stats.sequential_decide([0.0, 1.0], rate_bound, alpha, counts=moved_counts)
        else:
            lo2, hi2 = stats.clopper_pearson(k2, n, alpha)
            v2 = stats.decide(float(lo2), float(hi2), low=-math.inf, high=rate_bound)
        gates[f"rate of |score change| > {tau:g}"] = {
            "statistic": k2 / n, "interval": [float(lo2), float(hi2)], "bound": rate_bound,
            "comparison": "<", "verdict": v2, "count": k2, "tau": tau,
        }
        verdicts.append(v2)
    details["gates"] = gates
    warnings, emptiness = _warnings(counts, exercised, score_gate=bool(gates), threshold=threshold)
    structure = generator_info.get("structure")
    if isinstance(structure, dict):
        emptiness = _structure_sentences(structure, columns, exercised["identical_share"] == 1.0, warnings, emptiness)
    residual = generator_info.get("residual")
    if isinstance(residual, dict) and residual.get("records"):
        details["residual"] = residual
        signals = sorted(residual.get("signals", {}).items(), key=lambda kv: -kv[1])[:5]
        named = ", ".join(f"{phrase!r} ({count})" for phrase, count in signals)
        what = ("were rejected" if residual.get("mode") == "reject" else
                "were scored all the same, so the flip rate may be underestimated")
        warnings.append(
            f"residual signals: {residual['records']} records ({residual.get('records_share', 0):.0%}) keep a sign of "
            f"their original group in their twins that no swap can remove without changing a qualification "
            f"({named}); those twins {what}")
    generator_warnings = generator_info.get("warnings")
    if isinstance(generator_warnings, list):  # e.g. text twins of one group mostly rejected or unchanged
        warnings.extend(str(w) for w in generator_warnings)
    if floor is not None:
        details["noise_floor"] = floor_figures = _noise_floor(floor, alpha=alpha)
        if floor_figures["statistic"] >= max_flip_rate / 2:
            warnings.append(
                f"noise floor: the generator's self-twins (each record's own protected value) already give "
                f"{floor_figures['statistic_name']} {fmt(floor_figures['statistic'])}, at least half the bound "
                f"{fmt(max_flip_rate)}; part of the measured flips may be reconstruction noise rather than the "
                "attribute")
    demoted = False
    if null is not None:
        details["null_noise_floor"] = null_figures = _null_floor(null, alpha=alpha)
        level = null_figures["statistic"]
        if verdicts[0] == FAIL and float(lo) <= max_flip_rate + level:
            verdicts[0], demoted = INCONCLUSIVE, True
            details["below_null_floor"] = sentence = (
                f"the lower bound {fmt(lo)} does not clear the bound {fmt(max_flip_rate)} plus the null noise floor "
                f"{fmt(level)} (null twins, the attribute's link to the data broken, already flip that share): "
                "this FAIL cannot be told from what the generator makes of chance differences between groups, so "
                "it is INCONCLUSIVE; declare what the attribute causes (causes=) or give more rows")
            warnings.append(f"null noise floor: {sentence}")
        elif level >= max_flip_rate / 2:
            warnings.append(
                f"null noise floor: null twins (the attribute's link to the data broken) already give "
                f"{null_figures['statistic_name']} {fmt(level)}, at least half the bound {fmt(max_flip_rate)}; "
                "flips up to that level may be generator artefacts rather than the attribute")

    def undecided(f: np.ndarray) -> np.ndarray:
        passing, failing = np.ones(len(f), bool), np.zeros(len(f), bool)
        if per_twin:
            low_f, up_f = stats.bernstein_bounds(statistic, variance, n * f, alpha)
            passing &= up_f <= max_flip_rate  # stats.decide's closed rule
            failing |= low_f > max_flip_rate
        gates_at = [] if per_twin else [(k, max_flip_rate)]
        for count, bound in gates_at + [(g["count"], g["bound"]) for g in gates.values()]:
            low_f, up_f = stats.clopper_pearson(count * f, n * f, alpha)
            passing &= up_f <= bound
            failing |= low_f > bound
        return ~passing & ~failing

    stale = _stale_encodings(counts, encoding or {})
    final, not_certified = not_certifiable(combine(verdicts), mode, emptiness + [reason for reason, _ in stale])
    if not_certified and stale:  # a PASS in certify mode that such twins cannot give
        warnings.extend(sentence for _, sentence in stale)
    if stale:
        details["stale_encodings"] = [reason for reason, _ in stale]
    if not_certified:
        details["not_certified"] = not_certified
    if sequential is not None:
        details["sequential"] = sequential
    # How many records would decide is asked only of a fixed-sample check that is still open; None from that
    # question (and only from it) means the estimate sits on the bound.
    ask = final == INCONCLUSIVE and not not_certified and sequential is None and not demoted
    needed = stats.n_to_decide(undecided, n) if ask else None
    if ask and needed is None:
        details["on_the_bound"] = True
    return CheckResult(
        check=CheckKind.INVARIANCE,
        attributes=tuple(attributes),
        statistic=float(statistic),
        statistic_name=statistic_name,
        interval=(float(lo), float(hi)),
        bound=max_flip_rate,
        comparison="<",
        verdict=final,
        alpha=alpha,
        n=n,
        method=method,
        mode=mode,
        n_to_decide=needed,
        groups=groups,
        pairs=direction,
        details=details,
        counterexamples=public_examples(counts),
        context={"twins": generator},
        warnings=warnings,
    )


def _warnings(counts: InvarianceCounts, exercised: dict[str, Any], *, score_gate: bool = False,
              threshold: float | None = None) -> tuple[list[str], list[str]]:
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
    checked = counts.n + counts.valid_twins
    positive = counts.checked_positive + counts.twins_positive
    if positive in (0, checked):
        what = "favourable" if positive == checked else "unfavourable"
        note = threshold_sentence(threshold, counts.score_min, counts.score_max)
        if score_gate:  # the score gate still measures how the twins move the scores
            warnings.append(f"degenerate decisions: every decision, for originals and twins, is {what}{note}; no "
                            "decision could flip, so only the score gate measured anything")
        else:
            emptiness.append(f"every decision is {what}")
            warnings.append(f"degenerate: every decision, for originals and twins, is {what}{note}; a model that "
                            "answers the same for everyone cannot flip, so invariance says nothing about it")
    return warnings, emptiness


def _stale_encodings(counts: InvarianceCounts,
                     encoding: Mapping[tuple[str, str], float | None]) -> list[tuple[str, str]]:
    """(reason, sentence) for each column that encodes an attribute and that every twin changing that attribute
    left as it was: such twins never showed the model the target group (German credit's status_sex)."""
    out = []
    for (column, attribute), auc in sorted(encoding.items()):
        moved, kept = counts.encoding.get((column, attribute), [0, 0])
        if moved and kept == moved:
            how = f" (out-of-fold AUC {auc:.2f})" if auc is not None else ""
            reason = (f"the twins leave {column!r}, which encodes {attribute!r}{how}, as it was in all {moved} twins "
                      f"that change {attribute!r}")
            out.append((reason, f"not certified: {reason}, so the model still saw each record's original group; "
                                f"recompute it in every twin with derived={{{column!r}: ...}}, leave it out of "
                                "features=, or use twins='cvae' to move it with the attribute"))
    return out


def threshold_note(*answers: Predictions) -> str:
    """Why every decision may be equal: the threshold lies outside the scores the model returned."""
    scores = [a.score[np.isfinite(a.score)] for a in answers if a.score is not None and len(a.score)]
    scores = [s for s in scores if len(s)]
    threshold = next((a.threshold for a in answers if a.threshold is not None), None)
    if not scores:
        return ""
    return threshold_sentence(threshold, float(min(s.min() for s in scores)), float(max(s.max() for s in scores)))


def threshold_sentence(threshold: float | None, low: float, high: float) -> str:
    """:func:`threshold_note` from the range of the scores (``low``, ``high``), as partitions count it."""
    if threshold is None or not np.isfinite(low) or not np.isfinite(high):
        return ""
    if threshold > high or threshold <= low:
        side = "above" if threshold > high else "at or below"
        return (f" (the threshold {threshold:g} is {side} every score the model returned, {low:.4g} to {high:.4g}: "
                "pass a threshold inside that range)")
    return ""


def _mean(histogram: Any) -> float:
    total = sum(histogram.values())
    return float(sum(v * c for v, c in sorted(histogram.items())) / total) if total else 0.0


NULL_WHAT = ("null twins: the same procedure with the attribute's link to the data broken (copies of the "
             "attribute shuffled among the records, fitted beside it, are changed instead), moving the same columns; "
             "the largest of its draws, each on its own share of the records")


def _noise_floor(counts: InvarianceCounts, *, alpha: float) -> dict[str, Any]:
    """The flip statistic of self-twins: what the generator changes when the protected value does not."""
    n = counts.n
    mean, variance = counts.mean_and_variance()
    if counts.k > 1:
        statistic, name = mean, "share of twins flipped"
        lo, hi = stats.bernstein_bounds(mean, variance, n, alpha)
    else:
        statistic, name = counts.flipped / n if n else 0.0, "flip rate"
        lo, hi = stats.clopper_pearson(counts.flipped, n, alpha)
    return {"statistic": float(statistic), "statistic_name": name, "interval": [float(lo), float(hi)], "records": n,
            "flipped_records": counts.flipped, "changed_twins": counts.changed_twins,
            "what": "self-twins: the same procedure with each record's own protected value"}


def _null_floor(counts: NullCounts, *, alpha: float) -> dict[str, Any]:
    """The flip statistic of null twins, per null draw; the floor is the largest draw's share, with that draw's
    bounds."""
    draws: list[dict[str, Any]] = []
    for r, histogram in sorted(counts.draws.items()):
        values, weights = (np.array(list(part), dtype=float) for part in zip(*sorted(histogram.items())))
        n = int(weights.sum())
        mean = float((values * weights).sum() / n)
        variance = float((weights * (values - mean) ** 2).sum() / (n - 1)) if n > 1 else 0.0
        lo, hi = stats.bernstein_bounds(mean, variance, n, alpha)
        draws.append({"draw": r, "statistic": mean, "interval": [float(lo), float(hi)], "records": n})
    worst = max(draws, key=lambda d: d["statistic"]) if draws else {"statistic": 0.0, "interval": [0.0, 0.0]}
    return {"statistic": worst["statistic"], "statistic_name": "share of twins flipped" if counts.k > 1 else "flip rate",
            "interval": worst["interval"], "records": sum(d["records"] for d in draws), "draws": draws,
            "changed_twins": counts.changed_twins, "what": NULL_WHAT}


def _structure_sentences(structure: dict[str, Any], columns: list[str], vacuous: bool, warnings: list[str],
                         emptiness: list[str]) -> list[str]:
    """What CVAE twins' causal structure means for this check: a model that reads only columns the attribute
    does not cause (and held ones), and kept columns the model reads that the test came near to moving.
    Returns the reasons the check exercised nothing (a declared structure certifies a model it leaves
    unchanged; a learned one does not)."""
    read = set(columns)
    attributes = structure.get("attributes", {})
    kept = [(a, c, info) for a, info in attributes.items() for c in info.get("kept", []) if c in read]
    if vacuous and kept:
        learned = sorted({c for a, c, info in kept if info.get("how") == "learned"})
        declared = sorted({c for a, c, info in kept if info.get("how") == "declared"})
        why = "; ".join(([f"a test found no dependence of {', '.join(learned)} on it (learned)"] if learned else [])
                        + ([f"causes= does not list {', '.join(declared)} (declared)"] if declared else []))
        warnings[:] = [w for w in warnings if not w.startswith("vacuous:")]
        warnings.append(
            f"the attribute causes none of the columns the model reads: {why}; twins moved "
            f"{', '.join(structure.get('moved', [])) or 'nothing'} and kept the rest, so its decisions cannot change "
            "and the PASS rests on that structure" + ("; declare causes= to certify it" if learned else ""))
        emptiness = [e for e in emptiness if not e.startswith("every twin is identical")]
        if learned:
            emptiness.append("the twins changed none of the model's columns (a learned structure kept them)")
    for attribute, column, info in kept:
        test = info.get("tests", {}).get(column)
        if test and test["p_value"] < NEAR:
            warnings.append(
                f"the model reads {column}, which {attribute} twins kept: the test of its dependence on {attribute} "
                f"given the held columns gave p = {fmt(test['p_value'])} ({fmt(test['p_adjusted'])} after Holm over "
                f"the free columns, level {fmt(structure.get('alpha'))}); if {attribute} causes {column}, declare it "
                f"(causes={{{attribute!r}: [{column!r}, ...]}})")
    return emptiness
