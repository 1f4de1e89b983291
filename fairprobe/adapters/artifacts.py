"""The artifact that ships: an ONNX file run by onnxruntime, or a torch module, so that a CI gate tests
the exact file that will be deployed.

``ONNXModel`` feeds the columns to the graph's inputs (one tensor per column, as skl2onnx makes for a
pipeline fitted on a DataFrame, or one matrix) and reads the score from the output named; its
fingerprint is the file's SHA-256. ``TorchModel`` runs a module in ``torch.inference_mode()`` in
batches on the device given; its fingerprint is a SHA-256 over the state dict. onnxruntime and torch
are imported when an adapter is built, never by ``import fairprobe``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairprobe.adapters.base import Adapter, outputs_to_predictions
from fairprobe.errors import (
    AdapterError,
    given,
    InvalidSpec,
    MissingDependency,
    shorten,
    unknown_choice,
)
from fairprobe.validation import check_count, check_threshold

# onnxruntime's tensor types and the numpy types fed to them.
_ONNX_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
               "tensor(int32)": np.int32, "tensor(string)": object, "tensor(bool)": np.bool_,
               "tensor(float16)": np.float16, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8}


class ONNXModel(Adapter):
    """An ONNX model run by onnxruntime: the file that will be deployed, probed as it is.

    Parameters
    ----------
    path_or_session : path, bytes or onnxruntime.InferenceSession
        The ``.onnx`` file (its SHA-256 is the fingerprint), its bytes, or a session already made.
    inputs : dict or str, optional
        Which column feeds which graph input: ``{column: input_name}`` (columns mapped to the same
        input are stacked in the mapping's order), or one input name for every column. Default: a
        graph with one input gets every column as one matrix; a graph with several inputs gets one
        column per input, by name (as skl2onnx converts a pipeline fitted on a DataFrame), and those
        names become the columns the probe sends.
    output : str, optional
        The output holding the score or the decision. Default: the one named like a probability
        (skl2onnx's ``probabilities`` or ``output_probability``), else the only output.
    positive_label : optional
        The favourable class: the key of a ZipMap probability output (default 1), or the label
        compared with a label output.
    threshold : float, optional
        Where a score becomes the favourable decision (default 0.5).
    batch_size : int
        Rows per ``session.run``.
    providers : list of str, optional
        onnxruntime execution providers (default: the CPU one).

    Examples
    --------
    >>> from skl2onnx import to_onnx
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}, dtype="float32")
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> onnx_model = ONNXModel(to_onnx(model, X.to_numpy(), options={"zipmap": False}).SerializeToString())
    >>> onnx_model.predict(X).decision.tolist() == model.predict(X).astype(bool).tolist()
    True
    """

    def __init__(self, path_or_session: Any, *, inputs: Mapping[str, str] | str | None = None,
                 output: str | None = None, positive_label: Any = None, threshold: float | None = None,
                 batch_size: int = 8192, providers: Sequence[str] | None = None, name: str | None = None) -> None:
        super().__init__(batch_size=batch_size)
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MissingDependency("onnxruntime", "onnx", "ONNXModel") from exc
        self.threshold, self.positive_label = check_threshold(threshold), positive_label
        source = path_or_session
        self._file: str | None = None
        if isinstance(source, (str, Path)):
            path = Path(source)
            if not path.is_file():
                raise InvalidSpec(f"ONNX file not found: {str(path)!r} (working directory: {os.getcwd()}); give "
                                  f"the path of a .onnx file, or its bytes")
            source, self._file = path.read_bytes(), path.name
        if isinstance(source, (bytes, bytearray)):
            self._sha256, self._hash_kind = hashlib.sha256(source).hexdigest(), "onnx-file"
            try:
                self.session = ort.InferenceSession(bytes(source),
                                                    providers=list(providers or ["CPUExecutionProvider"]))
            except Exception as exc:  # onnxruntime raises its own Fail / InvalidGraph / InvalidProtobuf
                raise AdapterError(f"onnxruntime could not load the model {self._file or '(bytes)'}: {exc}") from None
        elif hasattr(source, "run") and hasattr(source, "get_inputs"):
            self.session = source
            self._sha256, self._hash_kind = _session_digest(source)
        else:
            raise InvalidSpec(f"path_or_session must be an .onnx path, its bytes or an onnxruntime.InferenceSession; "
                              f"got {given(source)}")
        self._graph_inputs = {i.name: i for i in self.session.get_inputs()}
        self._feeds = self._plan_inputs(inputs)
        self.output = self._pick_output(output)
        self._producer = str(getattr(self.session.get_modelmeta(), "producer_name", "") or "")
        self.name = str(name or self._file or f"ONNX model ({self._producer or 'in memory'})")

    def _plan_inputs(self, inputs: Mapping[str, str] | str | None) -> dict[str, list[str] | None]:
        """Input name -> the columns that feed it (None: every column the probe sends)."""
        names = list(self._graph_inputs)
        if inputs is None:
            if len(names) == 1:
                return {names[0]: None}
            self.feature_names = names
            return {n: [n] for n in names}
        if isinstance(inputs, str):
            inputs = {"*": inputs}
        if not isinstance(inputs, Mapping):
            raise InvalidSpec(f"inputs must map columns to the graph's inputs ({shorten(names)}); got {inputs!r}")
        unknown = sorted({v for v in inputs.values() if v not in self._graph_inputs})
        if unknown:
            raise InvalidSpec(f"inputs= names {shorten(unknown)}, which the graph lacks; its inputs are "
                              f"{shorten(names)}")
        unfed = [n for n in names if n not in inputs.values()]
        if unfed:
            raise InvalidSpec(f"the graph's inputs {shorten(unfed)} get no column; map a column to each in inputs=")
        if "*" in inputs:
            return {inputs["*"]: None}
        plan: dict[str, list[str] | None] = {n: [] for n in names}
        for column, input_name in inputs.items():
            plan[input_name].append(column)  # type: ignore[union-attr]
        self.feature_names = list(inputs)
        return plan

    def _pick_output(self, output: str | None) -> str:
        names = [o.name for o in self.session.get_outputs()]
        if output is not None:
            if output not in names:
                raise InvalidSpec(f"the graph has no output {output!r}; its outputs are {shorten(names)}")
            return output
        probability = [n for n in names if "prob" in n.lower()]
        if len(probability) == 1 or len(names) == 1:
            return probability[0] if probability else names[0]
        raise InvalidSpec(f"the graph has the outputs {shorten(names)}; pass output= naming the one that holds "
                          "the score")

    def _feed(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        feeds = {}
        for name, columns in self._feeds.items():
            spec = self._graph_inputs[name]
            dtype = _ONNX_TYPES.get(spec.type)
            if dtype is None:
                raise AdapterError(f"the graph's input {name!r} has type {spec.type}, which ONNXModel cannot feed "
                                   "from columns")
            part = frame if columns is None else frame[columns]
            try:
                values = part.to_numpy(dtype=dtype)
            except (TypeError, ValueError) as exc:
                raise AdapterError(f"columns {shorten(part.columns)} cannot feed the graph's input {name!r} "
                                   f"({spec.type}): {exc}") from None
            if dtype is object:
                values = values.astype(str).astype(object)
            feeds[name] = values.ravel() if len(spec.shape) == 1 else values  # (n,) or (n, k)
        return feeds

    def _predict_batch(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        out = self.session.run([self.output], self._feed(frame))[0]
        if isinstance(out, list) and (not out or isinstance(out[0], dict)):
            out = self._zipmap_score(out)  # skl2onnx's ZipMap: one {class: probability} per row
        return outputs_to_predictions(out, n=len(frame), threshold=self.threshold, positive_label=self.positive_label,
                                      name=self.name)

    def _zipmap_score(self, rows: list[dict[Any, float]]) -> np.ndarray:
        classes = list(rows[0]) if rows else []
        wanted = self.positive_label if self.positive_label is not None else 1
        if rows and wanted not in rows[0]:
            raise AdapterError(f"the output {self.output!r} holds the classes {shorten(classes)}; pass positive_label= "
                               "naming the favourable one")
        return np.array([row[wanted] for row in rows], dtype=float)

    @property
    def decision_threshold(self) -> float | None:
        return 0.5 if self.threshold is None else self.threshold

    def fingerprint(self) -> dict[str, str]:
        return {"kind": self._hash_kind, "class": "ONNX model", "description": f"{self.name} (output {self.output!r}"
                f"{', made by ' + self._producer if self._producer else ''})", "sha256": self._sha256,
                "method": "SHA-256 of the ONNX model's bytes" if self._hash_kind == "onnx-file" else
                "SHA-256 of the session's input and output signature only (onnxruntime kept no model bytes): two "
                "models of one signature share it"}


def _session_digest(session: Any) -> tuple[str, str]:
    """A session's SHA-256: of its model bytes or file when onnxruntime kept them, else of its signature."""
    data = getattr(session, "_model_bytes", None)
    path = getattr(session, "_model_path", None)
    if isinstance(data, (bytes, bytearray)) and data:
        return hashlib.sha256(bytes(data)).hexdigest(), "onnx-file"
    if path and Path(path).is_file():
        return hashlib.sha256(Path(path).read_bytes()).hexdigest(), "onnx-file"
    signature = repr([(i.name, i.type, i.shape) for i in [*session.get_inputs(), *session.get_outputs()]])
    return hashlib.sha256(signature.encode()).hexdigest(), "onnx-session-signature"


Output = Literal["logits", "probability"]


class TorchModel(Adapter):
    """A torch module as the model under test, run in ``torch.inference_mode()``, in batches, on ``device``.

    Parameters
    ----------
    module : torch.nn.Module
        The model; moved to ``device`` (in place, as ``module.to`` does) and run in eval mode (its
        own mode is restored after each batch).
    preprocess : callable, optional
        ``frame -> tensor or array``: the rows as the module's input. Default: the columns as one
        float32 matrix (every column must be numeric).
    output : {"logits", "probability"} or callable
        How to read the module's output as the favourable class's score: ``"logits"`` (a sigmoid for
        one column, a softmax for several), ``"probability"``, or ``f(output) -> scores``.
    positive_index : int
        The favourable class's column when the output has several.
    threshold : float, optional
        Where a score becomes the favourable decision (default 0.5).
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    batch_size : int
        Rows per forward pass.
    columns : list of str, optional
        The columns the module reads, in order (sent by a probe as its features).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(1, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.fill_(2.0), net.bias.fill_(-3.0)
    >>> model = TorchModel(net, preprocess=lambda df: torch.tensor(df[["x"]].to_numpy(), dtype=torch.float32))
    >>> model.predict(pd.DataFrame({"x": [0.0, 1.0, 2.0]})).decision.tolist()
    [False, False, True]
    """

    def __init__(self, module: Any, *, preprocess: Callable[[pd.DataFrame], Any] | None = None,
                 output: Output | Callable[[Any], Any] = "logits", positive_index: int = 1,
                 threshold: float | None = None, device: str = "cpu", batch_size: int = 4096,
                 columns: Sequence[str] | None = None, name: str | None = None) -> None:
        super().__init__(batch_size=batch_size)
        try:
            import torch
        except ImportError as exc:
            raise MissingDependency("torch", "torch", "TorchModel") from exc
        if not isinstance(module, torch.nn.Module):
            raise InvalidSpec(f"module must be a torch.nn.Module; got {given(module)}")
        if preprocess is not None and not callable(preprocess):
            raise InvalidSpec(f"preprocess must be a function frame -> tensor; got {given(preprocess)}")
        if not callable(output) and output not in ("logits", "probability"):
            raise unknown_choice("output", output, ["logits", "probability"])
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise InvalidSpec(f"device {device!r} is not a torch device (e.g. 'cpu', 'cuda', 'cuda:0'): "
                              f"{exc}") from None
        self.module = module.to(self.device)
        self.preprocess, self.output = preprocess, output
        self.positive_index = check_count("positive_index", positive_index, minimum=0)
        self.threshold = check_threshold(threshold)
        if columns is not None:
            self.feature_names = [str(c) for c in columns]
        self.name = str(name or type(module).__name__)

    @property
    def decision_threshold(self) -> float | None:
        return 0.5 if self.threshold is None else self.threshold

    def _to_tensor(self, frame: pd.DataFrame) -> Any:
        import torch

        if self.preprocess is None:
            numeric = [c for c in frame.columns if frame[c].dtype.kind in "biuf"]
            if len(numeric) != frame.shape[1]:
                raise InvalidSpec(f"TorchModel without preprocess= feeds the columns as one float matrix, but "
                                  f"{shorten([c for c in frame.columns if c not in numeric])} are not numeric; "
                                  "pass preprocess=frame -> tensor")
            x: Any = frame.to_numpy(dtype=np.float32)
        else:
            x = self.preprocess(frame)
        if not isinstance(x, torch.Tensor):
            x = np.asarray(x)
            # pandas' copy-on-write hands out read-only arrays, which torch warns about sharing
            x = torch.from_numpy(x if x.flags.writeable else x.copy())
        return x.to(self.device)

    def _predict_batch(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        import torch

        x = self._to_tensor(frame)
        training = self.module.training
        self.module.eval()
        try:
            with torch.inference_mode():
                out = self.module(x)  # (n,), (n, 1) or (n, classes)
                score = self._scores_of(out)
        finally:
            self.module.train(training)
        return outputs_to_predictions(score, n=len(frame), threshold=self.threshold, positive_label=None,
                                      name=self.name)

    def _scores_of(self, out: Any) -> np.ndarray:
        import torch

        if callable(self.output):
            result = self.output(out)
            result = result.detach().float().cpu().numpy() if isinstance(result, torch.Tensor) else result
            return np.asarray(result, dtype=float)
        if not isinstance(out, torch.Tensor):
            out = out["logits"] if isinstance(out, Mapping) else getattr(out, "logits", out)
        if not isinstance(out, torch.Tensor):
            raise AdapterError(f"{self.name} returned a {type(out).__name__}; pass output=function(output) -> scores")
        out = out.float()
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.ndim == 1:
            score = torch.sigmoid(out) if self.output == "logits" else out
        elif out.ndim == 2:
            if self.positive_index >= out.shape[1]:
                raise AdapterError(f"positive_index={self.positive_index} but {self.name} returns "
                                   f"{out.shape[1]} columns")
            score = (torch.softmax(out, dim=1) if self.output == "logits" else out)[:, self.positive_index]
        else:
            raise AdapterError(f"{self.name} returned an output of shape {tuple(out.shape)}; pass "
                               "output=function(output) -> one score per row")
        return score.double().cpu().numpy()

    def fingerprint(self) -> dict[str, str]:
        import torch

        digest = hashlib.sha256()
        for key, tensor in sorted(self.module.state_dict().items()):
            digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
            flat = tensor.detach().cpu().contiguous().reshape(-1)
            digest.update(flat.view(torch.uint8).numpy().tobytes())  # raw bytes: bfloat16 has no numpy type
        out = {"kind": "torch-state-dict", "class": f"torch module {type(self.module).__name__}",
               "description": f"{self.name} on {self.device}", "sha256": digest.hexdigest(),
               "method": "SHA-256 of the module's state dict (names, dtypes, shapes and raw bytes of every tensor)"}
        if self.preprocess is not None:
            from fairprobe.adapters.identity import callable_identity

            # What the preprocessing reads decides too (a fitted scaler, a vocabulary), not its source text.
            out["preprocess_sha256"] = callable_identity(self.preprocess)["sha256"]
        return out
