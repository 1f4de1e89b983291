"""The Adapter protocol: the model under test behind one interface, batched, counted and cached.

Every adapter answers ``predict(frame) -> Predictions`` (a decision per row, and a score where the
model gives one). It scores in batches, counts the rows it sends to the model (``queries``) and
never sends the same row twice: a twin identical to its original on the model's columns costs
nothing. Identity is a 64-bit hash of the row's values. This module also holds the rules that read
a model's raw output (scores, probabilities, labels) as decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.data import row_hashes
from fairprobe.errors import (
    AdapterError,
    InvalidSpec,
    shorten,
)


@dataclass(frozen=True)
class Predictions:
    """Decisions (True = the favourable outcome) and, where the model gives them, scores.

    ``threshold`` is where a score became a favourable decision, when the adapter decided that way.
    """

    decision: np.ndarray
    score: np.ndarray | None
    threshold: float | None = None

    def __len__(self) -> int:
        return len(self.decision)


class Adapter:
    """Base class: batching, query counting, the row cache and output validation.

    Subclasses implement ``_predict_batch(frame) -> (decision, score or None)``.
    """

    name = "model"
    feature_names: list[str] | None = None

    def __init__(self, *, batch_size: int = 8192) -> None:
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise InvalidSpec(f"batch_size must be a positive whole number; got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.queries = 0
        self.calls = 0
        self._keys = np.empty(0, dtype=np.uint64)
        self._decision = np.empty(0, dtype=bool)
        self._score = np.empty(0, dtype=float)
        self._has_scores: bool | None = None

    def _predict_batch(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def fingerprint(self) -> dict[str, str]:
        """What identifies the model in the evidence: a kind, a description and a SHA-256."""
        return {"kind": type(self).__name__, "description": self.name, "sha256": ""}

    def predict(self, frame: pd.DataFrame) -> Predictions:
        """Decisions and scores for every row of ``frame``, querying the model only for new rows."""
        keys = row_hashes(frame)
        known = pd.Index(self._keys).get_indexer(keys) if len(self._keys) else np.full(len(keys), -1)
        new_keys, first = np.unique(keys[known < 0], return_index=True)
        if len(new_keys):
            positions = np.flatnonzero(known < 0)[first]
            decision, score = self._score_rows(frame.iloc[positions])
            self._keys = np.concatenate([self._keys, new_keys])
            self._decision = np.concatenate([self._decision, decision])
            self._score = np.concatenate([self._score, score])
            known = pd.Index(self._keys).get_indexer(keys)
        return Predictions(
            decision=self._decision[known],
            score=self._score[known] if self._has_scores else None,
            threshold=self.decision_threshold if self._has_scores else None,
        )

    @property
    def decision_threshold(self) -> float | None:
        """Where a score becomes the favourable decision (None when the model gives decisions)."""
        return getattr(self, "threshold", None)

    def _score_rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        decisions: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for start in range(0, len(frame), self.batch_size):
            batch = frame.iloc[start : start + self.batch_size]
            try:
                decision, score = self._predict_batch(batch)
            except (AdapterError, InvalidSpec):
                raise
            except Exception as exc:
                raise AdapterError(
                    f"the model under test ({self.name}) raised {type(exc).__name__}: {exc} "
                    f"while scoring a batch of {len(batch)} rows with columns {shorten(batch.columns, 10)}"
                ) from exc
            self.calls += 1
            self.queries += len(batch)
            if score is not None:
                score = self._check_output(score, len(batch), "scores").astype(float)
            decision = self._check_output(decision, len(batch), "decisions").astype(bool)
            has_scores = score is not None
            if self._has_scores is not None and has_scores != self._has_scores:
                raise AdapterError(f"the model under test ({self.name}) gave scores for some batches only")
            self._has_scores = has_scores
            decisions.append(decision)
            scores.append(score if score is not None else np.full(len(batch), np.nan))
        return np.concatenate(decisions), np.concatenate(scores)

    def _check_output(self, values: Any, expected: int, what: str) -> np.ndarray:
        array = np.asarray(values)
        if array.ndim != 1 or len(array) != expected:
            raise AdapterError(
                f"the model under test ({self.name}) returned {what} of shape {array.shape} for "
                f"{expected} rows; it must return one value per row"
            )
        if array.dtype.kind == "f":
            _check_finite(array, self.name)
        return array


def positive_column(classes: Sequence[Any], positive_label: Any, name: str) -> int:
    classes = [c.item() if isinstance(c, np.generic) else c for c in classes]
    if positive_label is None:
        if len(classes) == 2 and all(isinstance(c, (bool, np.bool_, int, np.integer)) for c in classes) \
                and {int(c) for c in classes} == {0, 1}:
            return [int(c) for c in classes].index(1)
        raise AdapterError(
            f"the model under test ({name}) has classes {classes}; pass positive_label= to say which "
            "class is the favourable decision"
        )
    matches = [i for i, c in enumerate(classes) if c == positive_label]
    if not matches:
        raise AdapterError(
            f"positive_label {positive_label!r} is not a class of the model under test ({name}); "
            f"its classes are {classes}"
        )
    return matches[0]


def outputs_to_predictions(out: Any, *, n: int, threshold: float | None, positive_label: Any,
                           name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a model's raw output as decisions and scores (see CallableAdapter for the rules).

    Scores are never compared with ``positive_label``: it names the favourable class of labels
    (strings, or integers other than 0/1), while floats are scores decided at the threshold.
    """
    if isinstance(out, (pd.Series, pd.DataFrame)):
        out = out.to_numpy()
    array = np.asarray(out)
    if array.ndim == 2 and array.shape[1] == 2:
        array = _favourable_probability(array, name)
    elif array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) != n:
        raise AdapterError(
            f"the model under test ({name}) returned an output of shape {array.shape} for {n} rows; "
            "it must return one decision or score per row (or an (n, 2) array of class probabilities)"
        )
    if array.dtype.kind == "b":
        return array, None
    if array.dtype.kind == "f":
        _check_finite(array, name)
        if threshold is None:
            if array.min() < 0 or array.max() > 1:
                raise AdapterError(
                    f"the model under test ({name}) returned scores outside [0, 1] "
                    f"(min {array.min():.4g}, max {array.max():.4g}); pass threshold= to say where the "
                    "favourable decision starts"
                )
            threshold = 0.5
        return array >= threshold, array
    if array.dtype.kind in "iu":
        zero_one = bool(np.isin(array, (0, 1)).all())
        if positive_label is not None and (not zero_one or isinstance(positive_label, (int, np.integer))):
            return array == positive_label, None  # class labels such as 1 = good, 2 = bad
        if not zero_one:
            raise AdapterError(
                f"the model under test ({name}) returned integers other than 0/1 "
                f"({shorten(np.unique(array)[:8])}); pass positive_label= to say which is favourable"
            )
        return array.astype(bool), None
    if positive_label is not None:
        return np.asarray(array == positive_label, dtype=bool), None
    raise AdapterError(
        f"the model under test ({name}) returned values of type {array.dtype} "
        f"({shorten(pd.unique(array)[:6])}); pass positive_label= to say which value is favourable"
    )


def _favourable_probability(array: np.ndarray, name: str) -> np.ndarray:
    """Column 1 of an (n, 2) array of class probabilities, as scikit-learn's predict_proba orders 0/1 classes."""
    if array.dtype.kind not in "fiu":
        raise AdapterError(f"the model under test ({name}) returned an (n, 2) array of {array.dtype}; an (n, 2) "
                           "output must hold class probabilities (column 1 = the favourable class)")
    array = array.astype(float)
    _check_finite(array, name)
    sums = array.sum(axis=1)
    if (array < 0).any() or (array > 1).any() or not np.allclose(sums, 1.0, atol=1e-3):
        raise AdapterError(f"the model under test ({name}) returned an (n, 2) array whose rows are not probabilities "
                           f"(row sums from {sums.min():.4g} to {sums.max():.4g}); return one score per row "
                           "(the favourable class's) or probabilities whose column 1 is the favourable class")
    return array[:, 1]


def _check_finite(array: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        kinds = sorted({"NaN" if np.isnan(v) else ("+inf" if v > 0 else "-inf") for v in array.ravel()[bad.ravel()]})
        raise AdapterError(
            f"the model under test ({name}) returned {'/'.join(kinds)} scores for {int(bad.any(axis=-1).sum())} of "
            f"{len(array)} rows (first at batch position {first // (array.size // len(array))}); check its inputs "
            "for missing or extreme values"
        )


def text_column(frame: pd.DataFrame) -> list[str]:
    """A text model's input: the one text column as a list of strings."""
    if frame.shape[1] != 1:
        raise InvalidSpec(f"a text model reads one text column; the probe sends {list(frame.columns)}")
    return frame.iloc[:, 0].astype(str).tolist()


