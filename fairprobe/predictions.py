"""The model's answers for a batch of rows: decisions, scores where the model gives them, and row hashes.

A plain value of a low floor: the adapters produce it and the checks count it, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Predictions:
    """Decisions (True = the favourable outcome) and, where the model gives them, scores.

    ``threshold`` is where a score became a favourable decision, when the adapter decided that way.
    """

    decision: np.ndarray
    score: np.ndarray | None
    threshold: float | None = None
    keys: np.ndarray | None = None  # the rows' hashes over the columns the model read, when the adapter made them

    def __len__(self) -> int:
        return len(self.decision)


def answers_for_valid(predict: Callable[[Any], Predictions], rows: Any, valid: np.ndarray) -> Predictions:
    """``predict``'s answers for the ``valid`` rows of ``rows`` (a frame), placed at their positions: the
    others (rejected twins, never sent to a model) read as unfavourable, with NaN scores and zero keys."""
    decision = np.zeros(len(valid), dtype=bool)
    if not valid.any():
        return Predictions(decision, None)
    answers = predict(rows[valid])
    decision[valid] = answers.decision
    score = keys = None
    if answers.score is not None:
        score = np.full(len(valid), np.nan)
        score[valid] = answers.score
    if answers.keys is not None:
        keys = np.zeros(len(valid), dtype=np.uint64)
        keys[valid] = answers.keys
    return Predictions(decision, score, answers.threshold, keys)
