"""Options of the invariance check that a wrong line would silently ignore: max_score_change_rate, a score
change exactly equal to tau, a sequential check with a score gate, a degenerate check where some records have
no valid twin."""

from dataclasses import replace

import numpy as np
import pandas as pd

from fairprobe.checks.invariance import invariance
from fairprobe.checks.sequential import sequential_invariance
from fairprobe.predictions import Predictions
from fairprobe.twins import FlipGenerator

N = 1000


def _twins(n=N):
    frame = pd.DataFrame({"sex": ["female", "male"] * (n // 2), "x": np.arange(n)})
    return FlipGenerator().generate(frame, ["sex"], held=["x"], seed=0)


def _scores(frame: pd.DataFrame, moved_every: int, move: float) -> np.ndarray:
    """0.25 or 0.75 by x (never crossing 0.5 when moved by less than 0.25); men in every ``moved_every``-th
    pair of records get ``move`` added."""
    base = np.where(frame["x"].to_numpy() % 2 == 0, 0.25, 0.75)
    pair = frame["x"].to_numpy() // 2
    bump = (frame["sex"].to_numpy() == "male") & (pair % moved_every == 0)
    return base + np.where(bump, move, 0.0)


def _answers(frame: pd.DataFrame, moved_every: int, move: float) -> Predictions:
    score = _scores(frame, moved_every, move)
    return Predictions(decision=score > 0.5, score=score, threshold=0.5)


def test_max_score_change_rate_bounds_the_score_gate_apart_from_max_flip_rate():
    ts = _twins()
    original, twin = _answers(ts.original, 20, 0.125), _answers(ts.twins, 20, 0.125)  # 5 % of records move 0.125
    loose = invariance(ts, original, twin, max_flip_rate=0.01, max_score_change=0.1, max_score_change_rate=0.2)
    gate = next(iter(loose.details["gates"].values()))
    assert gate["count"] == N // 20 and gate["bound"] == 0.2 and gate["verdict"] == "pass"
    assert loose.verdict == "pass"
    strict = invariance(ts, original, twin, max_flip_rate=0.2, max_score_change=0.1, max_score_change_rate=0.01)
    assert next(iter(strict.details["gates"].values()))["verdict"] == "fail" and strict.verdict == "fail"


def test_a_score_change_exactly_equal_to_tau_does_not_count():
    ts = _twins()
    original, twin = _answers(ts.original, 1, 0.125), _answers(ts.twins, 1, 0.125)  # every record moves 0.125
    at = invariance(ts, original, twin, max_flip_rate=0.01, max_score_change=0.125)  # exact in binary
    assert next(iter(at.details["gates"].values()))["count"] == 0
    below = invariance(ts, original, twin, max_flip_rate=0.01, max_score_change=0.124)
    assert next(iter(below.details["gates"].values()))["count"] == N


def test_a_sequential_check_does_not_stop_while_its_score_gate_is_open():
    # No decision ever flips (the flip gate passes after a few hundred records), but 1 % of records move their
    # score past tau at a bound of 1 %: the score gate stays open, so the check must go on to its budget.
    ts = _twins(2000)

    def records(positions):
        return ts.original.iloc[positions]

    result = sequential_invariance(
        ts, records, lambda rows: _answers(rows, 100, 0.125), seed=0, threshold=0.5, features=["sex", "x"],
        max_flip_rate=0.01, max_score_change=0.1, max_score_change_rate=0.01, alpha=0.05, mode="detect",
        budget=1500)
    info = result.details["generator_info"].get("sequential") or result.details.get("sequential")
    assert info["records_used"] == 1500 and "budget" in info["stopped"], info
    assert result.verdict == "inconclusive"
    # The score gate is bounded by max_score_change_rate, not max_flip_rate: 5 % of records moved passes at 20 %.
    loose = sequential_invariance(
        ts, records, lambda rows: _answers(rows, 20, 0.125), seed=0, threshold=0.5, features=["sex", "x"],
        max_flip_rate=0.01, max_score_change=0.1, max_score_change_rate=0.2, alpha=0.05, mode="detect",
        budget=1500)
    assert loose.verdict == "pass"


def test_degenerate_where_records_without_a_valid_twin_are_the_only_favourable_ones():
    # Every record that has a valid twin is unfavourable, and so is every twin; the only favourable decisions
    # are of records whose twins were all rejected: the check exercised nothing and must say so.
    ts = _twins()
    favourable = ts.original["x"].to_numpy() < 100
    ts = replace(ts, valid=~favourable[ts.source])
    original = Predictions(decision=favourable, score=None)
    twin = Predictions(decision=np.zeros(len(ts), dtype=bool), score=None)
    result = invariance(ts, original, twin, max_flip_rate=0.01)
    assert result.details["records_with_valid_twins"] == N - 100
    assert any(w.startswith("degenerate: every decision, for originals and twins, is unfavourable")
               for w in result.warnings), result.warnings
    assert invariance(ts, original, twin, max_flip_rate=0.01, mode="certify").verdict == "inconclusive"


def test_the_flip_rate_is_over_records_with_a_valid_twin():
    ts = _twins()
    lacking = ts.original["x"].to_numpy() < 200  # 200 records whose twins were all rejected
    ts = replace(ts, valid=~lacking[ts.source])
    original = Predictions(decision=ts.original["x"].to_numpy() % 2 == 0, score=None)
    twin_decision = ts.twins["x"].to_numpy() % 2 == 0
    twin_decision[ts.source >= N - 8] ^= True  # the last 8 records' twins flip
    result = invariance(ts, original, Predictions(decision=twin_decision, score=None), max_flip_rate=0.05)
    assert result.n == N - 200 and result.details["flipped_records"] == 8
    assert result.statistic == 8 / (N - 200)
