"""Adapters put the model under test behind one interface: batched, counted and cached.

Every adapter answers ``predict(frame) -> Predictions`` (a decision per row, and a score where the
model gives one). It scores in batches, counts the rows it sends to the model (``queries``) and
never sends the same row twice: a twin identical to its original on the model's columns costs
nothing. Identity is a 64-bit hash of the row's values.
"""

from __future__ import annotations

import hashlib
import inspect
import pickle
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairprobe.data import row_hashes
from fairprobe.errors import AdapterError, InvalidSpec, MissingDependency, shorten, unknown_choice
from fairprobe.validation import check_count, check_threshold

__all__ = [
    "Adapter",
    "CallableAdapter",
    "LLMDecisionAdapter",
    "TextClassificationAdapter",
    "Predictions",
    "SklearnAdapter",
    "as_adapter",
    "load_model",
]


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


def _positive_column(classes: Sequence[Any], positive_label: Any, name: str) -> int:
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


class CallableAdapter(Adapter):
    """Any callable ``f(DataFrame) -> array``, read as decisions or scores.

    The output may be booleans or 0/1 (decisions), floats in [0, 1] (scores, decided at
    ``threshold``, default 0.5), any floats with an explicit ``threshold``, class labels (strings,
    or integers other than 0/1) compared with ``positive_label``, or an (n, 2) array of class
    probabilities whose column 1 is the favourable class. Floats are always scores: they are never
    compared with ``positive_label``, which names the favourable class of the label and of class
    outputs (a probe's ``positive_label="good"`` for a label column of good/bad, with a model that
    returns P(good), is read right). NaN or infinite scores are refused.

    Examples
    --------
    >>> import pandas as pd
    >>> adapter = CallableAdapter(lambda df: (df["x"] > 1).to_numpy())
    >>> adapter.predict(pd.DataFrame({"x": [0, 2, 2]})).decision.tolist(), adapter.queries
    ([False, True, True], 2)
    """

    def __init__(self, fn: Callable[[pd.DataFrame], Any], *, threshold: float | None = None,
                 positive_label: Any = None, name: str | None = None, batch_size: int = 8192,
                 texts: bool = False) -> None:
        if not callable(fn):
            raise InvalidSpec(f"model must be callable; got {type(fn).__name__}")
        super().__init__(batch_size=batch_size)
        self.texts = texts
        self.fn = fn
        self.threshold = check_threshold(threshold)
        self.positive_label = positive_label
        self.name = str(name or getattr(fn, "__qualname__", type(fn).__name__))

    def _predict_batch(self, frame):
        out = self.fn(_texts(frame) if self.texts else frame)
        return outputs_to_predictions(out, n=len(frame), threshold=self.threshold,
                                      positive_label=self.positive_label, name=self.name)

    @property
    def decision_threshold(self) -> float | None:
        return 0.5 if self.threshold is None else self.threshold

    def fingerprint(self):
        try:
            source = inspect.getsource(self.fn)
            kind = "callable-source"
        except (OSError, TypeError):
            source = f"{getattr(self.fn, '__module__', '')}.{self.name}"
            kind = "callable-name"
        return {"kind": kind, "description": self.name,
                "sha256": hashlib.sha256(source.encode()).hexdigest()}


Method = Literal["auto", "predict_proba", "decision_function", "predict"]


class SklearnAdapter(Adapter):
    """A fitted scikit-learn classifier or pipeline.

    ``method="auto"`` uses ``predict_proba`` (score = probability of ``positive_label``, decided at
    ``threshold``, default 0.5), else ``decision_function`` (default threshold 0), else ``predict``.
    Columns are sent in the order of ``feature_names_in_`` when the model was fitted on a DataFrame.
    """

    def __init__(self, estimator: Any, *, method: Method = "auto", threshold: float | None = None,
                 positive_label: Any = None, batch_size: int = 8192, fingerprint: dict | None = None,
                 texts: bool = False) -> None:
        super().__init__(batch_size=batch_size)
        self.texts = texts
        if not hasattr(estimator, "predict"):
            raise InvalidSpec(f"model {type(estimator).__name__} has no predict method; "
                              "pass a fitted scikit-learn estimator, a callable or an adapter")
        if method not in ("auto", "predict_proba", "decision_function", "predict"):
            raise unknown_choice("method", method, ["auto", "predict_proba", "decision_function", "predict"])
        self.estimator = estimator
        self.name = type(estimator).__name__
        if method == "auto":
            method = next(m for m in ("predict_proba", "decision_function", "predict") if hasattr(estimator, m))
        elif not hasattr(estimator, method):
            raise InvalidSpec(f"model {self.name} has no method {method!r}")
        self.method = method
        self.threshold = check_threshold(threshold)
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            from sklearn.exceptions import NotFittedError
            try:
                from sklearn.utils.validation import check_is_fitted
                check_is_fitted(estimator)
            except NotFittedError:
                raise AdapterError(f"model {self.name} is not fitted; fit it before probing") from None
            except TypeError:
                pass
            if threshold is None:
                raise AdapterError(f"model {self.name} has no classes_ (a regressor?); pass threshold= to "
                                   "turn its output into decisions")
            self.method, self._positive = "predict", None
        else:
            self._positive = _positive_column(classes, positive_label, self.name)
            if len(classes) != 2 and self.method == "decision_function":
                self.method = "predict"
        self.classes_ = classes
        self.positive_label = None if classes is None or self._positive is None else list(classes)[self._positive]
        names = getattr(estimator, "feature_names_in_", None)
        self.feature_names = [str(c) for c in names] if names is not None else None
        self._fingerprint = fingerprint

    @property
    def decision_threshold(self) -> float | None:
        if self.threshold is not None:
            return self.threshold
        return 0.0 if self.method == "decision_function" else 0.5

    def _predict_batch(self, frame):
        if self.texts:
            X = _texts(frame)
        else:
            X = frame if self.feature_names is not None else frame.to_numpy()
        if self.classes_ is None:
            out = np.asarray(self.estimator.predict(X), dtype=float)
            return out >= self.threshold, out
        if self.method == "predict_proba":
            score = np.asarray(self.estimator.predict_proba(X))[:, self._positive]
            return score >= (0.5 if self.threshold is None else self.threshold), score
        if self.method == "decision_function":
            score = np.asarray(self.estimator.decision_function(X), dtype=float)
            if self._positive == 0:
                score = -score
            return score > (0.0 if self.threshold is None else self.threshold), score
        return np.asarray(self.estimator.predict(X)) == self.positive_label, None

    def fingerprint(self):
        if self._fingerprint is not None:
            return dict(self._fingerprint)
        try:
            digest = hashlib.sha256(pickle.dumps(self.estimator, protocol=4)).hexdigest()
            kind = "sklearn-pickle-bytes"
        except Exception:  # an estimator holding an unpicklable object: fall back to its parameters
            digest = hashlib.sha256(repr(self.estimator).encode()).hexdigest()
            kind = "sklearn-repr"
        return {"kind": kind, "description": repr(self.estimator)[:200], "sha256": digest}


class TextClassificationAdapter(Adapter):
    """A transformers ``pipeline("text-classification")``: the score is the probability of ``positive_label``.

    The pipeline is called with ``top_k=None`` (every label's score) and truncation, in batches.
    """

    def __init__(self, pipe: Any, *, positive_label: str, threshold: float = 0.5, batch_size: int = 32) -> None:
        super().__init__(batch_size=batch_size)
        if not callable(pipe) or getattr(pipe, "task", None) not in ("text-classification", "sentiment-analysis"):
            raise InvalidSpec(f"expected a transformers pipeline('text-classification'); got {type(pipe).__name__}")
        labels = list(getattr(pipe.model.config, "id2label", {}).values())
        if positive_label is None or (labels and positive_label not in labels):
            raise InvalidSpec(f"positive_label must name one of the pipeline's labels {labels}; got {positive_label!r}")
        self.pipe, self.positive_label, self.texts = pipe, positive_label, True
        self.threshold = check_threshold(threshold)
        self.name = f"text-classification pipeline ({getattr(pipe.model.config, 'name_or_path', '') or 'model'})"

    def fingerprint(self):
        digest = hashlib.sha256()
        for name, tensor in sorted(self.pipe.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return {"kind": "transformers-pipeline", "description": self.name, "sha256": digest.hexdigest()}

    def _predict_batch(self, frame):
        out = self.pipe(_texts(frame), top_k=None, truncation=True, batch_size=self.batch_size)
        score = np.array([next(d["score"] for d in item if d["label"] == self.positive_label) for item in out])
        return score >= self.threshold, score


class LLMDecisionAdapter(Adapter):
    """A language model as the model under test: it reads each record through a prompt and says yes or no.

    The score is P(yes) / (P(yes) + P(no)) from the first reply token's log-probabilities when the
    backend gives them; otherwise the share of "yes" among ``samples`` sampled answers (the method
    used is counted in ``methods``). ``template`` is formatted with ``text=`` (the text column, in a
    text probe) or with the row's columns, e.g. ``"{text} Should we invite this candidate to an
    interview? Answer yes or no."``.
    """

    def __init__(self, backend: Any, template: str, *, yes: str = "yes", no: str = "no", samples: int = 5,
                 threshold: float = 0.5, texts: bool = True, batch_size: int = 64) -> None:
        super().__init__(batch_size=batch_size)
        self.backend, self.template, self.yes, self.no = backend, template, yes.lower(), no.lower()
        self.samples, self.texts = check_count("samples", samples), texts
        self.threshold = check_threshold(threshold)
        self.methods: dict[str, int] = {"logprobs": 0, "sampled": 0}
        self.name = f"LLM screener ({backend.describe().get('model', 'model')})"

    def fingerprint(self):
        payload = repr((self.backend.describe(), self.template, self.yes, self.no, self.samples)).encode()
        return {"kind": "llm-decision", "description": f"{self.name}: {self.template[:120]}",
                "sha256": hashlib.sha256(payload).hexdigest()}

    def _answer(self, prompt: str) -> float:
        messages = [{"role": "user", "content": prompt}]
        logprobs = self.backend.token_logprobs(messages) if hasattr(self.backend, "token_logprobs") else None
        if logprobs:
            p_yes = sum(np.exp(v) for k, v in logprobs.items() if k.strip().lower() == self.yes)
            p_no = sum(np.exp(v) for k, v in logprobs.items() if k.strip().lower() == self.no)
            if p_yes + p_no > 0:
                self.methods["logprobs"] += 1
                return float(p_yes / (p_yes + p_no))
        answers = [self.backend.chat(messages, max_tokens=3, temperature=1.0, seed=i) for i in range(self.samples)]
        self.methods["sampled"] += 1
        return float(np.mean([a.strip().lower().startswith(self.yes) for a in answers]))

    def _predict_batch(self, frame):
        if self.texts:
            prompts = [self.template.format(text=t) for t in _texts(frame)]
        else:
            prompts = [self.template.format(**row) for row in frame.to_dict(orient="records")]
        score = np.array([self._answer(p) for p in prompts])
        return score >= self.threshold, score


def _texts(frame: pd.DataFrame) -> list[str]:
    """A text model's input: the one text column as a list of strings."""
    if frame.shape[1] != 1:
        raise InvalidSpec(f"a text model reads one text column; the probe sends {list(frame.columns)}")
    return frame.iloc[:, 0].astype(str).tolist()


def as_adapter(model: Any, *, threshold: float | None = None, positive_label: Any = None,
               texts: bool = False) -> Adapter:
    """Wrap ``model`` in the adapter that fits it: an Adapter as is, an estimator, or a callable.

    With ``texts=True`` the model receives a list of strings (the probe's text column)."""
    if isinstance(model, Adapter):
        return model
    if type(model).__name__.endswith("Pipeline") and hasattr(model, "task"):
        return TextClassificationAdapter(model, positive_label=positive_label,
                                         threshold=0.5 if threshold is None else threshold)
    if model is None:
        raise InvalidSpec("model is required: a fitted scikit-learn estimator, a callable or an adapter")
    if hasattr(model, "predict") and (hasattr(model, "fit") or hasattr(model, "classes_")):
        return SklearnAdapter(model, threshold=threshold, positive_label=positive_label, texts=texts)
    if isinstance(model, (str, Path)):
        raise InvalidSpec(f"model {str(model)!r} is a path; load it with fairprobe.adapters.load_model(path)")
    if callable(model):
        return CallableAdapter(model, threshold=threshold, positive_label=positive_label, texts=texts)
    raise InvalidSpec(f"model must be a fitted scikit-learn estimator, a callable or a fairprobe adapter; "
                      f"got {type(model).__name__}")


def load_model(path: str | Path, *, trust: bool | Sequence[str] = False, **adapter_options: Any) -> SklearnAdapter:
    """Load a scikit-learn model from a file and wrap it in a :class:`SklearnAdapter`.

    ``.skops`` files load safely: types outside skops' trusted set must be named in ``trust``
    (a list) or accepted with ``trust=True``. Pickle and joblib files run code when loaded, so they
    load only with ``trust=True``, and with a warning. The file's SHA-256 becomes the model's
    fingerprint in the evidence.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidSpec(f"model file not found: {str(path)!r}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    suffix = path.suffix.lower()
    if suffix == ".skops":
        try:
            import skops.io as sio
        except ImportError as exc:
            raise MissingDependency("skops", "skops", "loading .skops model files") from exc
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:  # skops raises zipfile, JSON and type errors for a damaged file
            raise AdapterError(f"model file {str(path)!r} is not a readable .skops file ({type(exc).__name__}: {exc}); "
                               "save the model again with skops.io.dump") from None
        accepted = untrusted if trust is True else list(trust or [])
        refused = [t for t in untrusted if t not in accepted]
        if refused:
            raise AdapterError(
                f"model file {str(path)!r} holds types that skops does not trust by default: "
                f"{shorten(refused)}; if you trust this file, pass trust=[...] naming them (or trust=True)"
            )
        try:
            estimator = sio.load(path, trusted=accepted)
        except Exception as exc:
            raise AdapterError(f"model file {str(path)!r} could not be loaded by skops ({type(exc).__name__}: "
                               f"{exc}); save the model again with skops.io.dump") from None
    elif suffix in (".joblib", ".pkl", ".pickle"):
        if trust is not True:
            raise AdapterError(
                f"model file {str(path)!r} is a pickle: loading it runs code from the file. "
                "Pass trust=True only for a file you made or trust, or save the model with skops"
            )
        warnings.warn(f"loading pickle file {str(path)!r} runs code from it; only load files you trust",
                      UserWarning, stacklevel=2)
        try:
            if suffix == ".joblib":
                import joblib
                estimator = joblib.load(path)
            else:
                with path.open("rb") as fh:
                    estimator = pickle.load(fh)
        except Exception as exc:  # a damaged pickle raises anything from EOFError to UnpicklingError
            raise AdapterError(f"model file {str(path)!r} could not be unpickled ({type(exc).__name__}: {exc}); "
                               "the file is damaged or was written by other library versions") from None
    else:
        raise InvalidSpec(f"model file {str(path)!r} has an unknown type {suffix!r}; "
                          "use .skops (safe), or .joblib / .pkl with trust=True")
    fingerprint = {"kind": "file", "description": path.name, "sha256": digest}
    return SklearnAdapter(estimator, fingerprint=fingerprint, **adapter_options)
