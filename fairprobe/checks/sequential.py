"""Sequential invariance: score records in a seeded order and stop as soon as the verdict is certain.

For slow models (an LLM screener, a remote endpoint) the fixed-sample design pays for every record.
Here records are scored look by look (:func:`fairprobe.stats.sequential_looks`), and after each look
an anytime-valid betting confidence sequence (:func:`fairprobe.stats.sequential_decide`) decides
PASS or FAIL once it can; otherwise the check stops INCONCLUSIVE at its budget. The bounds hold
whenever it stops, so false PASS and false FAIL stay at or under alpha.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from fairprobe import stats
from fairprobe.checks.invariance import invariance
from fairprobe.predictions import Predictions, answers_for_valid
from fairprobe.result import CheckResult
from fairprobe.twins.base import TwinSet
from fairprobe.validation import check_bound


def sequential_invariance(twinset: TwinSet, records: Callable[[np.ndarray], pd.DataFrame],
                          predict: Callable[[pd.DataFrame], Predictions], *, seed: int, threshold: float | None,
                          features: list[str], max_flip_rate: float, max_score_change: float | None,
                          max_score_change_rate: float | None, alpha: float, mode: str,
                          budget: int | None, floors: dict[str, TwinSet] | None = None,
                          encoding: dict[tuple[str, str], float | None] | None = None) -> CheckResult:
    """Score records batch by batch in a seeded order until every gate is decided or the budget is spent.

    ``records(positions)`` gives the original records at those positions of ``twinset`` as the model reads
    them, ``predict`` the model's answers for rows (through the probe's cache), ``threshold`` the adapter's
    decision threshold. A counterexample's ``row`` is the position of its record in ``twinset``. ``floors``
    (a generator's self-twins and null twins of the same records) are scored on the records the design used.
    """
    max_flip_rate = check_bound("max_flip_rate", max_flip_rate, 0.0, 1.0)
    rate_bound = max_flip_rate if max_score_change_rate is None else max_score_change_rate
    n = len(twinset.original)
    order = np.random.default_rng((seed, 0x5E9)).permutation(n)
    limit = n if budget is None else min(n, budget)
    by_record = np.argsort(twinset.source, kind="stable")
    starts = np.searchsorted(twinset.source[by_record], np.arange(n + 1))
    decision = np.zeros(n, dtype=bool)
    score = np.full(n, np.nan)
    twin_decision = np.zeros(len(twinset), dtype=bool)
    twin_score = np.full(len(twinset), np.nan)
    has_score, looks, done, stop = False, 0, 0, "every record was scored"
    for end in stats.sequential_looks(limit):
        batch = order[done:end]
        answers = predict(records(batch))
        decision[batch] = answers.decision
        twins = np.concatenate([by_record[starts[r]:starts[r + 1]] for r in batch])
        twins = twins[twinset.valid[twins]]
        twin_answers = predict(twinset.twins.iloc[twins])
        twin_decision[twins] = twin_answers.decision
        if answers.score is not None and twin_answers.score is not None:
            has_score = True
            score[batch], twin_score[twins] = answers.score, twin_answers.score
        done, looks = done + len(batch), looks + 1
        seen = order[:done]
        sub, rows = twinset.subset(seen), twinset.twin_rows(seen)
        flips = twin_decision[rows] != decision[seen][sub.source]
        verdicts = [stats.sequential_decide(_values(sub, flips), max_flip_rate, alpha)]
        if max_score_change is not None and has_score:
            moved = np.abs(twin_score[rows] - score[seen][sub.source]) > max_score_change
            verdicts.append(stats.sequential_decide(_values(sub, moved, share=False), rate_bound, alpha))
        if "fail" in verdicts or all(v == "pass" for v in verdicts):
            stop = "decided"
            break
    else:
        if limit < n:
            stop = f"the budget of {limit} records was spent"
    seen = order[:done]
    sub = twinset.subset(seen)
    rows = twinset.twin_rows(seen)
    original = Predictions(decision[seen], score[seen] if has_score else None, threshold)
    twin = Predictions(twin_decision[rows], twin_score[rows] if has_score else None, threshold)
    info = {"looks": looks, "schedule": "10, 30, 80, 180, then every 100 records", "records_used": int(done),
            "records_available": n,
            "budget": budget, "stopped": stop,
            "bets": "mixture of fixed betting fractions (Waudby-Smith & Ramdas 2023), Ville's inequality"}
    made = {}  # the noise floors (CVAE twins) on the records scored, the null draws subset with them
    for name, made_twins in (floors or {}).items():
        part = made_twins.subset(seen)
        if "null_draw" in part.info:
            part = replace(part, info={**part.info, "null_draw": np.asarray(part.info["null_draw"])[seen]})
        made[name] = (part, answers_for_valid(predict, part.twins, part.valid))
    result = invariance(sub, original, twin, max_flip_rate=max_flip_rate, max_score_change=max_score_change,
                        max_score_change_rate=max_score_change_rate, alpha=alpha, mode=mode,
                        features=features, sequential=info, noise_floor=made.get("self"),
                        null_floor=made.get("null"), encoding=encoding)
    for example in result.counterexamples:
        example["row"] = int(seen[example["row"]])
    return result


def _values(sub: TwinSet, changed: np.ndarray, *, share: bool = True) -> np.ndarray:
    """The per-record values (:meth:`TwinSet.per_record`) of the records with a valid twin, from ``changed``
    (one entry per twin of ``sub``, valid or not)."""
    values, has = sub.per_record(changed[sub.valid], share=share)
    return values[has]
