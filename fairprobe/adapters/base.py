"""The Adapter protocol: the model under test behind one interface, batched, counted and cached.

Every adapter answers ``predict(frame) -> Predictions`` (a decision per row, and a score where the
model gives one). It scores in batches, counts the rows it sends to the model (``queries``) and
never sends the same row twice: a twin identical to its original on the model's columns costs
nothing. Identity is a 64-bit hash of the row's values. This module also holds the rules that read
a model's raw output (scores, probabilities, labels) as decisions.

``queries`` always equals the number of distinct rows the adapter holds answers for: a batch is
counted when its answer arrives and passes validation, and then kept, even when another batch of
the same call fails. An adapter whose ``max_concurrency`` is above 1 (an endpoint) has that many
batches in flight at once, on threads; the counting is the same.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.data import row_hashes
from fairprobe.errors import AdapterError, InvalidSpec, shorten
from fairprobe.predictions import Predictions


class Adapter:
    """Base class: batching, query counting, the row cache and output validation.

    Subclasses implement ``_predict_batch(frame) -> (decision, score or None)``. With
    ``max_concurrency`` above 1, ``_predict_batch`` is called from that many threads at once, so it
    must be thread-safe (an HTTP client is; most in-process models gain nothing and keep 1).
    """

    name = "model"
    feature_names: list[str] | None = None
    max_concurrency = 1

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

    def fresh(self) -> Adapter:
        """A copy with an empty row cache and zero counts: one per partition of a partitioned probe, so
        memory stays bounded however many records pass (the model itself is shared, not copied)."""
        other = copy.copy(self)
        other.queries, other.calls = 0, 0
        other._keys = np.empty(0, dtype=np.uint64)
        other._decision = np.empty(0, dtype=bool)
        other._score = np.empty(0, dtype=float)
        return other

    def fingerprint(self) -> dict[str, str]:
        """What identifies the model in the evidence: a kind, a description, a SHA-256 (empty: not taken) and the
        ``method`` that took it (a probe then identifies the model by its answers on the records)."""
        return {"kind": type(self).__name__, "description": self.name, "sha256": "",
                "method": f"not taken: the adapter {type(self).__name__} gives no fingerprint (override "
                          "fingerprint() to give one)"}

    def predict(self, frame: pd.DataFrame, *, keys: np.ndarray | None = None) -> Predictions:
        """Decisions and scores for every row of ``frame``, querying the model only for new rows.

        ``keys``, when the caller has them, are ``row_hashes(frame)`` made another way (a probe derives
        its twins' hashes from their originals'); they must be equal to what ``row_hashes`` would give.
        When a batch fails, the batches answered before the error are kept (and counted), so a second
        call sends only the rows still unanswered.
        """
        if keys is None:
            keys = row_hashes(frame)
        elif len(keys) != len(frame):
            raise ValueError(f"{len(keys)} row hashes for {len(frame)} rows")
        known = (pd.Index(self._keys).get_indexer(keys)  # type: ignore[arg-type] # pandas takes any array-like
                 if len(self._keys) else np.full(len(keys), -1))
        unseen = np.flatnonzero(known < 0)
        # The new keys in order of first appearance (a hash table, no sort), and the first row of each:
        # code k first appears where the codes before it peaked at k - 1.
        inverse, new_keys = pd.factorize(keys[unseen])
        new_keys = np.asarray(new_keys, dtype=np.uint64)
        if len(new_keys):
            peak = np.maximum.accumulate(inverse)
            positions = unseen[np.flatnonzero(np.r_[True, inverse[1:] > peak[:-1]])]
            rows = frame if len(positions) == len(frame) else frame.iloc[positions]
            decision, score, answered, error = self._score_rows(rows)
            if answered.any():
                start = len(self._keys)
                self._keys = np.concatenate([self._keys, new_keys[answered]])
                self._decision = np.concatenate([self._decision, decision[answered]])
                self._score = np.concatenate([self._score, score[answered]])
                # Where each new key landed in the cache, without rebuilding an index over all of it.
                slot = np.full(len(new_keys), -1)
                slot[answered] = start + np.arange(int(answered.sum()))
                known[unseen] = slot[inverse]
            if error is not None:
                raise error
        return Predictions(
            decision=self._decision[known],
            score=self._score[known] if self._has_scores else None,
            threshold=self.threshold_applied,
            keys=keys,
        )

    @property
    def decision_threshold(self) -> float | None:
        """Where a score becomes the favourable decision (None when the model gives decisions)."""
        return getattr(self, "threshold", None)

    @property
    def threshold_applied(self) -> float | None:
        """The threshold that has turned this model's scores into decisions: None before any answer, and when the
        model answers with decisions (a threshold then decides nothing)."""
        return self.decision_threshold if self._has_scores else None

    def _score_rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, Exception | None]:
        """Decisions, scores, which rows were answered, and the first error (None when every batch was)."""
        n = len(frame)
        decision, score = np.zeros(n, dtype=bool), np.full(n, np.nan)
        answered = np.zeros(n, dtype=bool)
        error: Exception | None = None
        stop = threading.Event()
        for start, outcome in self._run_batches(frame, stop):
            if isinstance(outcome, Exception):
                error = error or outcome
                stop.set()
                continue
            batch_decision, batch_score = outcome
            end = start + len(batch_decision)
            has_scores = batch_score is not None
            if self._has_scores is not None and has_scores != self._has_scores:
                error = error or AdapterError(f"the model under test ({self.name}) gave scores for some batches only")
                stop.set()
                continue
            self._has_scores = has_scores
            decision[start:end] = batch_decision
            if batch_score is not None:
                score[start:end] = batch_score
            answered[start:end] = True
            self.calls += 1
            self.queries += end - start
        return decision, score, answered, error

    def _run_batches(self, frame: pd.DataFrame, stop: threading.Event) -> Iterator[tuple[int, Any]]:
        """``(start, answer or exception)`` for each batch sent, in order; nothing more is sent once ``stop`` is set."""
        starts = range(0, len(frame), self.batch_size)
        if self.max_concurrency <= 1 or len(starts) <= 1:
            for start in starts:
                if stop.is_set():
                    return
                yield start, self._run_batch(frame.iloc[start : start + self.batch_size])
            return
        # A window of 2 x max_concurrency batches keeps every worker busy while the answers are read in
        # order, without holding every batch of a large frame in memory at once.
        pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="fairprobe-adapter")
        window: deque[tuple[int, Future]] = deque()
        try:
            queued = iter(starts)
            for start in queued:
                window.append((start, pool.submit(self._run_batch, frame.iloc[start : start + self.batch_size])))
                if len(window) < 2 * self.max_concurrency:
                    continue
                yield window[0][0], window.popleft()[1].result()
                if stop.is_set():
                    break
            while window:
                start, future = window.popleft()
                if stop.is_set():
                    future.cancel()  # only succeeds before it starts: never sent, so never counted
                if not future.cancelled():
                    yield start, future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _run_batch(self, batch: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None] | Exception:
        """One batch's validated answer, or the error it raised (returned, so other threads' answers are kept)."""
        try:
            decision, score = self._predict_batch(batch)
            if score is not None:
                score = self._check_output(score, len(batch), "scores").astype(float)
            return self._check_output(decision, len(batch), "decisions").astype(bool), score
        except (AdapterError, InvalidSpec) as exc:
            return exc
        except Exception as exc:
            wrapped = AdapterError(
                f"the model under test ({self.name}) raised {type(exc).__name__}: {exc} "
                f"while scoring a batch of {len(batch)} rows with columns {shorten(batch.columns, 10)}"
            )
            wrapped.__cause__ = exc
            return wrapped

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
    """The position of the model's favourable class among its ``classes_`` (``positive_label``: that class; None
    for 1 of 0/1 classes)."""
    classes = [c.item() if isinstance(c, np.generic) else c for c in classes]
    if positive_label is None:
        if len(classes) == 2 and all(isinstance(c, (bool, np.bool_, int, np.integer)) for c in classes) \
                and {int(c) for c in classes} == {0, 1}:
            return [int(c) for c in classes].index(1)
        raise AdapterError(
            f"the model under test ({name}) has classes {classes}; pass positive_label= (or model_positive= on a "
            "Probe) to say which class is the favourable decision"
        )
    matches = [i for i, c in enumerate(classes) if c == positive_label]
    if not matches:
        hint = ""
        if isinstance(positive_label, str) and {str(c) for c in classes} <= {"0", "1", "True", "False"}:
            hint = (f"; if {positive_label!r} is the label's favourable value and the model was trained on 0/1, pass "
                    f"label_positive={positive_label!r} to the Probe (the model's favourable class is then 1, or "
                    "model_positive=)")
        raise AdapterError(
            f"positive_label {positive_label!r} is not a class of the model under test ({name}); "
            f"its classes are {classes}{hint}"
        )
    return matches[0]


def is_zero(value: Any) -> bool:
    """Whether a favourable class is 0 / False (so 0/1 and boolean outputs are read the other way round)."""
    return isinstance(value, (bool, np.bool_, int, np.integer, float, np.floating)) and value == 0


def outputs_to_predictions(out: Any, *, n: int, threshold: float | None, positive_label: Any,
                           name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a model's raw output as decisions and scores (see CallableAdapter for the rules).

    ``positive_label`` is the model's favourable class. Booleans and 0/1 integers are decisions: True / 1 is
    favourable, or False / 0 when the favourable class is 0 (or False); any other favourable class (a string
    such as "good") leaves them as they are. Floats are scores of the favourable decision, decided at the
    threshold (``>=``) and never compared with it; with the favourable class 0 they are refused, since
    nothing says whether they are P(0) or P(1); an (n, 2) array of class probabilities likewise (column 1 is
    read as the favourable class). Strings and other integers are compared with it.
    """
    if isinstance(out, (pd.Series, pd.DataFrame)):
        out = out.to_numpy()
    array = np.asarray(out)
    zero = is_zero(positive_label)
    if array.ndim == 2 and array.shape[1] == 2:
        if zero:
            raise AdapterError(
                f"the model under test ({name}) returned an (n, 2) array, read as probabilities of classes 0 and 1 "
                f"with column 1 the favourable class, but the favourable class is {positive_label!r}: return the "
                "favourable class's probability as one column (e.g. proba[:, 0]) and leave model_positive= at its "
                "default (on a Probe: label_positive= for the label's favourable value)")
        array = _favourable_probability(array, name)
    elif array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) != n:
        raise AdapterError(
            f"the model under test ({name}) returned an output of shape {array.shape} for {n} rows; "
            "it must return one decision or score per row (or an (n, 2) array of class probabilities)"
        )
    if threshold is not None and array.dtype.kind not in "fc":
        kind = "booleans" if array.dtype.kind == "b" else f"{array.dtype} values"
        raise AdapterError(
            f"the model under test ({name}) returned decisions ({kind}), but threshold={threshold!r} was given: a "
            "threshold decides scores and cannot move a decision already made. Drop threshold=, or return the "
            "favourable decision's score (a float, e.g. predict_proba(X)[:, 1])")
    if array.dtype.kind == "b":
        return (~array if zero else array), None
    if array.dtype.kind == "f":
        _check_finite(array, name)
        if zero:
            raise AdapterError(
                f"the model under test ({name}) returned scores (floats), which are read as the favourable "
                f"decision's score, but the favourable class is {positive_label!r}: nothing says whether they are "
                "P(0) or P(1). Return the favourable decision's score (e.g. 1 - P(1)) and leave model_positive= at "
                "its default (on a Probe: label_positive= for the label's favourable value), or return decisions")
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
        if zero_one and (positive_label is None or zero or not isinstance(positive_label, (int, np.integer))):
            return (array == 0 if zero else array.astype(bool)), None
        if positive_label is not None and isinstance(positive_label, (int, np.integer)):
            return array == positive_label, None  # class labels such as 1 = good, 2 = bad
        raise AdapterError(
            f"the model under test ({name}) returned integers other than 0/1 "
            f"({shorten(np.unique(array)[:8])}); pass positive_label= (model_positive= on a Probe) naming the "
            "favourable one" + ("" if positive_label is None else f" (got {positive_label!r}, not an integer)")
        )
    if positive_label is not None:
        return np.asarray(array == positive_label, dtype=bool), None
    raise AdapterError(
        f"the model under test ({name}) returned values of type {array.dtype} "
        f"({shorten(pd.unique(array)[:6])}); pass positive_label= (model_positive= on a Probe) to say which value "
        "is favourable"
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


