"""Models that run in this process: any callable, scikit-learn estimators and pipelines (and files holding
them), and transformers text-classification pipelines."""

from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairprobe.adapters.base import (
    Adapter,
    positive_column,
    text_column,
    outputs_to_predictions,
)
from fairprobe.errors import (
    AdapterError,
    given,
    InvalidSpec,
    MissingDependency,
    shorten,
    unknown_choice,
)
from fairprobe.validation import check_threshold

# Rows per call of an in-process model: per-call overhead (a pipeline's column transformer) dominated at
# 8,192 rows (2 M rows cost 1.6x one call each way); 65,536 rows take a few MB and come within about 1.2x.
LOCAL_BATCH = 65_536


class CallableAdapter(Adapter):
    """Any callable ``f(DataFrame) -> array``, read as decisions or scores.

    The output may be booleans or 0/1 (decisions: True / 1 favourable, or False / 0 when
    ``positive_label`` is 0 or False), floats in [0, 1] (scores of the favourable decision, decided
    ``>= threshold``, default 0.5), any floats with an explicit ``threshold``, class labels (strings,
    or integers other than 0/1) compared with ``positive_label``, or an (n, 2) array of class
    probabilities whose column 1 is the favourable class. Floats are always scores: they are never
    compared with ``positive_label`` (a probe's ``positive_label="good"`` for a label column of
    good/bad, with a model that returns P(good), is read right); with a favourable class 0 they and
    (n, 2) arrays are refused, since nothing says whether they are P(0) or P(1). NaN or infinite
    scores are refused. The table of every case: README, "What the verdicts mean".

    Examples
    --------
    >>> import pandas as pd
    >>> adapter = CallableAdapter(lambda df: (df["x"] > 1).to_numpy())
    >>> adapter.predict(pd.DataFrame({"x": [0, 2, 2]})).decision.tolist(), adapter.queries
    ([False, True, True], 2)
    """

    def __init__(self, fn: Callable[[pd.DataFrame], Any], *, threshold: float | None = None,
                 positive_label: Any = None, name: str | None = None, batch_size: int = LOCAL_BATCH,
                 texts: bool = False) -> None:
        if not callable(fn):
            raise InvalidSpec(f"model must be callable; got {given(fn)}")
        super().__init__(batch_size=batch_size)
        self.texts = texts
        self.fn: Callable[..., Any] = fn
        self.threshold = check_threshold(threshold)
        self.positive_label = positive_label
        self.name = str(name or getattr(fn, "__qualname__", type(fn).__name__))

    def _predict_batch(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        out = self.fn(text_column(frame) if self.texts else frame)
        return outputs_to_predictions(out, n=len(frame), threshold=self.threshold,
                                      positive_label=self.positive_label, name=self.name)

    @property
    def decision_threshold(self) -> float | None:
        return 0.5 if self.threshold is None else self.threshold

    def fingerprint(self) -> dict[str, str]:
        """The callable's code and every object it reads, hashed (:func:`~fairprobe.adapters.identity.callable_identity`):
        a wrapper around three different models gives three fingerprints. ``method`` says how it was taken; when
        it could not be, ``sha256`` is empty and ``method`` names the object that stopped it."""
        from fairprobe.adapters.identity import callable_identity

        return {**callable_identity(self.fn, name=self.name), "description": self.name}


Method = Literal["auto", "predict_proba", "decision_function", "predict"]


class SklearnAdapter(Adapter):
    """A fitted scikit-learn classifier or pipeline.

    Scores come from ``predict_proba`` (the probability of ``positive_label``, the model's favourable class)
    or else ``decision_function`` (negated when the favourable class is ``classes_[0]``); ``method="predict"``
    (or a model with neither) gives decisions only. Without ``threshold`` the decisions are the model's own,
    ``predict(X) == positive_label`` (for most classifiers the argmax of ``predict_proba``, ties going to
    ``classes_[0]``), so an audit sees what the model ships; with ``threshold`` a score at or above it is
    favourable (``>=``, as scikit-learn's ``FixedThresholdClassifier``), for probabilities and decision
    functions alike. Columns are sent in the order of ``feature_names_in_`` when the model was fitted on a
    DataFrame.
    """

    def __init__(self, estimator: Any, *, method: Method = "auto", threshold: float | None = None,
                 positive_label: Any = None, batch_size: int = LOCAL_BATCH, fingerprint: dict | None = None,
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
            self._positive = positive_column(classes, positive_label, self.name)
            if len(classes) != 2 and self.method == "decision_function":
                self.method = "predict"
        self.classes_ = classes
        self.positive_label = None if classes is None or self._positive is None else list(classes)[self._positive]
        names = getattr(estimator, "feature_names_in_", None)
        self.feature_names = [str(c) for c in names] if names is not None else None
        self._fingerprint = fingerprint

    @property
    def decision_threshold(self) -> float | None:
        """The explicit threshold, else where predict() decides a binary model's score (0.5 for a probability,
        0 for a decision function); None for a model of more classes, whose argmax has no single threshold."""
        if self.threshold is not None:
            return self.threshold
        if self.classes_ is None or len(self.classes_) != 2:
            return None
        return 0.0 if self.method == "decision_function" else 0.5

    def _predict_batch(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        X: Any
        if self.texts:
            X = text_column(frame)
        else:
            X = frame if self.feature_names is not None else frame.to_numpy()
        if self.classes_ is None:
            out = np.asarray(self.estimator.predict(X), dtype=float)
            return out >= self.threshold, out
        if self.method == "predict":
            return np.asarray(self.estimator.predict(X)) == self.positive_label, None
        if self.method == "predict_proba":
            score = np.asarray(self.estimator.predict_proba(X), dtype=float)[:, self._positive]
        else:
            score = np.asarray(self.estimator.decision_function(X), dtype=float)
            if self._positive == 0:
                score = -score
        if self.threshold is None:
            # The model's own decisions: predict() takes the argmax with ties to classes_[0] (k-NN with an even k,
            # a forest's split vote), which "P(favourable) >= 0.5" reads the other way (issue #22).
            return np.asarray(self.estimator.predict(X)) == self.positive_label, score
        # One rule for a threshold, scikit-learn's FixedThresholdClassifier's: favourable when score >= threshold.
        return score >= self.threshold, score

    def fingerprint(self) -> dict[str, str]:
        if self._fingerprint is not None:
            return dict(self._fingerprint)
        try:
            digest = hashlib.sha256(pickle.dumps(self.estimator, protocol=4)).hexdigest()
            kind, method = "sklearn-pickle-bytes", "SHA-256 of the pickled estimator: its parameters and fitted state"
        except Exception:  # an estimator holding an unpicklable object: its parameters and state, walked
            from fairprobe.adapters.identity import callable_identity

            identity = callable_identity(self.estimator, name=self.name)
            kind = "sklearn-state" if identity["sha256"] else identity["kind"]
            digest, method = identity["sha256"], identity["method"]
        return {"kind": kind, "class": _class_name(self.estimator), "description": _describe(self.estimator),
                "sha256": digest, "method": method}


def _class_name(estimator: Any) -> str:
    kind = type(estimator)
    return f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"


def _describe(estimator: Any) -> str:
    """A model's identity for a reader: a pipeline as its steps (``ColumnTransformer -> LogisticRegression``),
    anything else as its class and the parameters it sets, never a repr cut mid-word."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return "Pipeline: " + " -> ".join(type(step).__name__ for _, step in steps)
    try:
        params = {k: v for k, v in estimator.get_params(deep=False).items() if v is not None}
    except Exception:  # not a scikit-learn estimator after all
        return type(estimator).__name__
    shown = ", ".join(f"{k}={v!r}" for k, v in list(params.items())[:6])
    return f"{type(estimator).__name__}({shown}{', ...' if len(params) > 6 else ''})"


class TextClassificationAdapter(Adapter):
    """A transformers ``pipeline("text-classification")``: the score is the probability of ``positive_label``.

    The pipeline is called with ``top_k=None`` (every label's score) and truncation, in batches.
    """

    def __init__(self, pipe: Any, *, positive_label: str, threshold: float = 0.5, batch_size: int = 32) -> None:
        super().__init__(batch_size=batch_size)
        if not callable(pipe) or getattr(pipe, "task", None) not in ("text-classification", "sentiment-analysis"):
            raise InvalidSpec(f"expected a transformers pipeline('text-classification'); got {given(pipe)}")
        labels = list(getattr(pipe.model.config, "id2label", {}).values())
        if positive_label is None or (labels and positive_label not in labels):
            raise InvalidSpec(f"positive_label must name one of the pipeline's labels {labels}; got {positive_label!r}")
        self.pipe, self.positive_label, self.texts = pipe, positive_label, True
        self.threshold = check_threshold(threshold)
        self.name = f"text-classification pipeline ({getattr(pipe.model.config, 'name_or_path', '') or 'model'})"

    def fingerprint(self) -> dict[str, str]:
        digest = hashlib.sha256()
        for name, tensor in sorted(self.pipe.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return {"kind": "transformers-pipeline", "description": self.name, "sha256": digest.hexdigest(),
                "method": "SHA-256 of the pipeline model's weights (its state dict)"}

    def _predict_batch(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        out = self.pipe(text_column(frame), top_k=None, truncation=True, batch_size=self.batch_size)
        score = np.array([next(d["score"] for d in item if d["label"] == self.positive_label) for item in out])
        return score >= self.threshold, score


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
                      f"got {given(model)}")


def load_model(path: str | Path, *, trust: bool | Sequence[str] = False, **adapter_options: Any) -> SklearnAdapter:
    """Load a scikit-learn model from a file and wrap it in a :class:`SklearnAdapter`.

    ``.skops`` files load safely: types outside skops' trusted set must be named in ``trust``
    (a list) or accepted with ``trust=True``. Pickle and joblib files run code when loaded, so they
    load only with ``trust=True``, and with a warning. The file's SHA-256 becomes the model's
    fingerprint in the evidence.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidSpec(f"load_model takes a model file's path (.skops, .pkl, .joblib); got {given(path)}")
    path = Path(path)
    if not path.is_file():
        raise InvalidSpec(f"model file not found: {str(path)!r} (working directory: {os.getcwd()}); give the path "
                          f"of a .skops, .pkl or .joblib file")
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
    fingerprint = {"kind": "file", "description": path.name, "sha256": digest,
                   "method": "SHA-256 of the model file's bytes"}
    return SklearnAdapter(estimator, fingerprint=fingerprint, **adapter_options)
