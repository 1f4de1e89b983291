"""Models behind a serving endpoint: MLflow's scoring protocol, the Open Inference (KServe v2) protocol,
and any JSON endpoint given a request and a response mapping.

Each adapter sends batches of rows as JSON through httpx (``pip install 'fairprobe[http]'``), several
requests in flight at once, retried on timeouts, 429 and 5xx (honouring Retry-After), with rows
counted and cached as for a local model; see :class:`~fairprobe.adapters.endpoint.EndpointAdapter`
for the options they share and for how credentials stay out of the evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import numpy as np
import pandas as pd

from fairprobe.adapters.endpoint import (
    EndpointAdapter,
    _BadAnswer,
    _json_values,
    _pick,
    _rows,
    _with_path,
)
from fairprobe.errors import AdapterError, InvalidSpec, shorten, unknown_choice

_PLACEHOLDERS = ("$records", "$split", "$columns", "$rows")


class MLflowEndpoint(EndpointAdapter):
    """A model served with MLflow's scoring protocol (``mlflow models serve``, MLflow deployments).

    Rows go to ``/invocations`` as ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}``
    and the answer's ``predictions`` are read as decisions or scores (a model saved with
    ``pyfunc_predict_fn="predict_proba"`` answers class probabilities). The server's MLflow version
    (``/version``) and the ``model`` and ``version`` labels you give are recorded.

    Parameters
    ----------
    url : str
        The server (``http://host:5000``) or its ``.../invocations`` address.
    output : str, optional
        The column of a model that answers a table (or a dict) holding the score or decision.
    model, version : str, optional
        The model's registered name and version, recorded in the evidence (the scoring server does not
        know them).
    **options
        See :class:`EndpointAdapter`: threshold, positive_label, columns, batch_size, max_concurrency,
        timeout, retries, backoff, token_env, ...

    Examples
    --------
    A stand-in scoring server on 127.0.0.1 (a real one is ``mlflow models serve -m MODEL``):

    >>> import json, threading
    >>> from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    >>> class Scoring(BaseHTTPRequestHandler):
    ...     def do_POST(self):
    ...         rows = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["dataframe_split"]["data"]
    ...         body = json.dumps({"predictions": [[0.2, 0.8] if x > 1 else [0.9, 0.1] for x, in rows]}).encode()
    ...         self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
    ...         self.wfile.write(body)
    ...     def log_message(self, *args): pass
    >>> server = ThreadingHTTPServer(("127.0.0.1", 0), Scoring)
    >>> threading.Thread(target=server.serve_forever, daemon=True).start()
    >>> endpoint = MLflowEndpoint(f"http://127.0.0.1:{server.server_port}", retries=0)
    >>> answers = endpoint.predict(pd.DataFrame({"x": [0, 2, 2]}))
    >>> answers.decision.tolist(), answers.score.tolist(), endpoint.queries
    ([False, True, True], [0.1, 0.8, 0.8], 2)
    >>> endpoint.close(); server.shutdown(); server.server_close()
    """

    kind = "mlflow-endpoint"
    protocol = "MLflow scoring"

    def __init__(self, url: str, *, output: str | None = None, model: str | None = None,
                 version: str | None = None, **options: Any) -> None:
        super().__init__(url, **options)
        self.output, self.model, self.version = output, model, version
        self._base = _with_path(self._url, urlsplit(self._url).path.removesuffix("/invocations"))

    def _infer_url(self) -> str:
        return _with_path(self._base, urlsplit(self._base).path + "/invocations")

    def _request_body(self, frame: pd.DataFrame) -> tuple[Any, Any]:
        columns = [_json_values(frame[c]) for c in frame.columns]
        return {"dataframe_split": {"columns": [str(c) for c in frame.columns], "data": list(zip(*columns))}}, None

    def _read(self, response: Any, n: int, token: Any) -> Any:
        data = self._json(response)
        if isinstance(data, dict) and "predictions" in data:
            data = data["predictions"]
        elif not isinstance(data, list):  # MLflow 1.x answered a bare list
            keys = shorten(data) if isinstance(data, dict) else repr(data)[:80]
            raise _BadAnswer(f"an answer without 'predictions' (keys: {keys})")
        return _rows(_pick(data, self.output, self.url), n)

    def _describe(self) -> dict[str, Any]:
        server = self._send("GET", _with_path(self._base, urlsplit(self._base).path + "/version"), None,
                            lambda r: r.text.strip().strip('"'), "for the server's version")
        return {"model_name": self.model, "model_version": self.version, "server": f"mlflow {server}"}


class KServeV2(EndpointAdapter):
    """A model served with the Open Inference (KServe v2) protocol: KServe, MLServer, Triton.

    Rows go to ``/v2/models/{model}[/versions/{version}]/infer`` as tensors: with ``inputs="columns"``
    one tensor per column, named after it, of shape ``[n, 1]`` (BOOL, INT64, FP64 or BYTES by the
    column's type: what KServe's ``InferRequest.as_dataframe`` and MLServer's pandas codec read); with
    ``inputs="matrix"`` one numeric tensor ``input_name`` of shape ``[n, k]`` (KServe's sklearn server).
    The answer's ``output`` tensor (default: the only one, else the one named like a probability) holds
    the score, probabilities or labels. The model's metadata (``/v2/models/{model}``) and the server's
    (``/v2``) are recorded; the answer must echo the request's ``id``.

    Parameters
    ----------
    url : str
        The server, e.g. ``http://host:8080``.
    model : str
        The model's name on the server.
    version : str, optional
        A version to ask for (default: the one the server picks).
    output : str, optional
        The output tensor that holds the score or decision; asked for by name.
    inputs : {"columns", "matrix"}
        One tensor per column, or one ``[n, k]`` tensor of the numeric columns.
    input_name : str
        The matrix tensor's name.
    **options
        See :class:`EndpointAdapter`.

    Examples
    --------
    A stand-in v2 server on 127.0.0.1 whose model scores column ``x``:

    >>> import json, threading
    >>> from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    >>> class V2(BaseHTTPRequestHandler):
    ...     def do_POST(self):
    ...         request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
    ...         x = next(t for t in request["inputs"] if t["name"] == "x")["data"]
    ...         score = {"name": "probability", "shape": [len(x)], "datatype": "FP64", "data": [v / 4 for v in x]}
    ...         body = json.dumps({"model_name": "screener", "id": request["id"], "outputs": [score]}).encode()
    ...         self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
    ...         self.wfile.write(body)
    ...     def log_message(self, *args): pass
    >>> server = ThreadingHTTPServer(("127.0.0.1", 0), V2)
    >>> threading.Thread(target=server.serve_forever, daemon=True).start()
    >>> endpoint = KServeV2(f"http://127.0.0.1:{server.server_port}", model="screener", output="probability")
    >>> endpoint.predict(pd.DataFrame({"x": [1, 3], "sex": ["f", "m"]})).score.tolist()
    [0.25, 0.75]
    >>> endpoint.close(); server.shutdown(); server.server_close()
    """

    kind = "kserve-v2-endpoint"
    protocol = "Open Inference (v2)"

    def __init__(self, url: str, *, model: str, version: str | None = None, output: str | None = None,
                 inputs: Literal["columns", "matrix"] = "columns", input_name: str = "input-0", **options: Any) -> None:
        super().__init__(url, **options)
        if not isinstance(model, str) or not model:
            raise InvalidSpec(f"model must be the model's name on the server; got {model!r}")
        if "/v2/" in urlsplit(self._url).path + "/":
            raise InvalidSpec(f"url must be the server's address (e.g. http://host:8080), without /v2/...; got "
                              f"{self.url!r}; model= names the model")
        if inputs not in ("columns", "matrix"):
            raise unknown_choice("inputs", inputs, ["columns", "matrix"])
        self.model, self.version, self.output, self.inputs, self.input_name = model, version, output, inputs, input_name
        route = f"/v2/models/{quote(model, safe='')}" + (f"/versions/{quote(str(version), safe='')}" if version else "")
        self._model_url = _with_path(self._url, urlsplit(self._url).path + route)
        self._served_versions: set[str] = set()

    def _infer_url(self) -> str:
        return _with_path(self._model_url, urlsplit(self._model_url).path + "/infer")

    def _request_body(self, frame: pd.DataFrame) -> tuple[Any, Any]:
        n, request_id = len(frame), f"fairprobe-{next(self._ids)}"
        if self.inputs == "columns":
            tensors = [{"name": str(c), "shape": [n, 1], "datatype": _v2_datatype(frame[c]),
                        "data": _json_values(frame[c])} for c in frame.columns]
        else:
            kinds = {frame[c].dtype.kind for c in frame.columns}
            if not kinds <= set("biuf") or frame.isna().any().any():
                raise InvalidSpec(f"inputs='matrix' sends one numeric tensor, but the rows hold non-numeric or "
                                  f"missing values (columns {shorten(frame.columns, 8)}); use inputs='columns'")
            float32 = all(frame[c].dtype == np.float32 for c in frame.columns)
            matrix = frame.to_numpy(dtype=np.float32 if float32 else np.float64)
            tensors = [{"name": self.input_name, "shape": [n, frame.shape[1]],
                        "datatype": "FP32" if float32 else "FP64", "data": matrix.ravel().tolist()}]
        body: dict[str, Any] = {"id": request_id, "inputs": tensors}
        if self.output:
            body["outputs"] = [{"name": self.output}]
        return body, request_id

    def _read(self, response: Any, n: int, token: Any) -> Any:
        data = self._json(response)
        if not isinstance(data, dict) or not isinstance(data.get("outputs"), list):
            raise _BadAnswer("an answer without an 'outputs' list")
        if data.get("id") not in (None, token):
            raise _BadAnswer(f"the answer to request {data.get('id')!r} for request {token!r}")
        if data.get("model_version"):
            self._served_versions.add(str(data["model_version"]))
        outputs = {o.get("name"): o for o in data["outputs"] if isinstance(o, dict)}
        name = self.output
        if name is None:
            named = [k for k in outputs if "prob" in str(k).lower()]
            name = next(iter(outputs)) if len(outputs) == 1 else (named[0] if len(named) == 1 else None)
        if name not in outputs:
            raise AdapterError(f"model {self.model!r} at {self.url} returned the outputs {shorten(outputs)}"
                               f"{'' if self.output is None else f', not {self.output!r}'}; pass output= naming the "
                               "one that holds the score or the decision")
        return _rows(read_v2_tensor(outputs[name]), n)

    def _describe(self) -> dict[str, Any]:
        meta = self._send("GET", self._model_url, None, self._json, "for the model's metadata")
        server = self._send("GET", _with_path(self._url, urlsplit(self._url).path + "/v2"), None, self._json,
                            "for the server's metadata")
        meta = meta if isinstance(meta, dict) else {}
        server = server if isinstance(server, dict) else {}
        versions = self.version or ",".join(sorted(self._served_versions)) or ",".join(meta.get("versions") or [])
        return {"model_name": meta.get("name", self.model), "model_version": versions or None,
                "platform": meta.get("platform") or None,
                "inputs": [t.get("name") for t in meta.get("inputs") or [] if isinstance(t, dict)] or None,
                "outputs": [t.get("name") for t in meta.get("outputs") or [] if isinstance(t, dict)] or None,
                "server": " ".join(str(server[k]) for k in ("name", "version") if server.get(k)) or None}


_V2_TYPES = {"BOOL": bool, "BYTES": object, "FP16": np.float64, "FP32": np.float64, "FP64": np.float64,
             "BF16": np.float64, **{f"{s}INT{b}": np.int64 for s in ("", "U") for b in (8, 16, 32, 64)}}


def _v2_datatype(series: pd.Series) -> str:
    kind = series.dtype.kind
    if kind == "f":
        return "FP32" if series.dtype == np.float32 else "FP64"
    return {"b": "BOOL", "i": "INT64", "u": "UINT64"}.get(kind, "BYTES")


def read_v2_tensor(tensor: dict[str, Any]) -> np.ndarray:
    """An Open Inference response tensor as an array of its ``shape`` (data flat in row-major order, or nested).

    Examples
    --------
    The protocol's published example answer:

    >>> read_v2_tensor({"name": "output0", "shape": [3, 2], "datatype": "FP32",
    ...                 "data": [1.0, 1.1, 2.0, 2.1, 3.0, 3.1]}).tolist()
    [[1.0, 1.1], [2.0, 2.1], [3.0, 3.1]]
    """
    datatype, shape = str(tensor.get("datatype", "")).upper(), tensor.get("shape")
    if datatype not in _V2_TYPES or not isinstance(shape, list):
        raise _BadAnswer(f"output {tensor.get('name')!r} has datatype {datatype!r} and shape {shape!r}")
    try:
        flat = np.asarray(tensor.get("data"), dtype=_V2_TYPES[datatype]).ravel()
        return flat.reshape([int(d) for d in shape])
    except (TypeError, ValueError):
        raise _BadAnswer(f"output {tensor.get('name')!r} declares shape {shape}, which its data do not fill") from None


class HTTPEndpoint(EndpointAdapter):
    """Any JSON endpoint: a request template the rows are put into, and a path to the answers.

    ``request`` is a JSON template in which one string stands for the batch: ``"$records"`` (a list of
    ``{column: value}``), ``"$rows"`` (a list of value lists), ``"$columns"`` (``{column: [values]}``) or
    ``"$split"`` (``{"columns": [...], "data": [[...]]}``), e.g. the default ``{"instances": "$records"}``
    (TensorFlow Serving, KServe v1, Vertex AI); or a function ``frame -> JSON``. ``response`` is a path
    into the answer: keys and list positions separated by dots, ``*`` for every item of a list (the
    default ``"predictions"``, ``"outputs.0.data"``, ``"results.*.score"``; ``""`` for the answer itself);
    or a function ``answer -> values``. ``metadata`` is a path (or URL) whose answer is recorded.

    Examples
    --------
    >>> import json, threading
    >>> from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    >>> class Score(BaseHTTPRequestHandler):
    ...     def do_POST(self):
    ...         rows = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["applicants"]
    ...         body = json.dumps({"results": [{"hire": r["years"] > 4} for r in rows]}).encode()
    ...         self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
    ...         self.wfile.write(body)
    ...     def log_message(self, *args): pass
    >>> server = ThreadingHTTPServer(("127.0.0.1", 0), Score)
    >>> threading.Thread(target=server.serve_forever, daemon=True).start()
    >>> endpoint = HTTPEndpoint(f"http://127.0.0.1:{server.server_port}/score",
    ...                         request={"applicants": "$records"}, response="results.*.hire")
    >>> endpoint.predict(pd.DataFrame({"years": [2, 7]})).decision.tolist()
    [False, True]
    >>> endpoint.close(); server.shutdown(); server.server_close()
    """

    kind = "json-endpoint"
    protocol = "JSON"

    def __init__(self, url: str, *, request: Any = None, response: str | Callable[[Any], Any] = "predictions",
                 metadata: str | None = None, model: str | None = None, version: str | None = None,
                 **options: Any) -> None:
        super().__init__(url, **options)
        self.request = {"instances": "$records"} if request is None else request
        if not callable(self.request):
            found = _placeholders(self.request)
            if len(found) != 1:
                raise InvalidSpec(f"request must be a JSON template holding exactly one of {', '.join(_PLACEHOLDERS)} "
                                  f"where the rows go (e.g. {{'instances': '$records'}}), or a function; got "
                                  f"{self.request!r}")
        if not callable(response) and not isinstance(response, str):
            raise InvalidSpec(f"response must be a path into the answer (e.g. 'predictions' or 'results.*.score') "
                              f"or a function; got {response!r}")
        self.response, self.metadata, self.model, self.version = response, metadata, model, version

    def _request_body(self, frame: pd.DataFrame) -> tuple[Any, Any]:
        if callable(self.request):
            return self.request(frame), None
        names = [str(c) for c in frame.columns]
        columns = [_json_values(frame[c]) for c in frame.columns]
        batches = {"$rows": lambda: list(zip(*columns)),
                   "$records": lambda: [dict(zip(names, row)) for row in zip(*columns)],
                   "$columns": lambda: dict(zip(names, columns)),
                   "$split": lambda: {"columns": names, "data": list(zip(*columns))}}
        return _fill(self.request, batches), None

    def _read(self, response: Any, n: int, token: Any) -> Any:
        data = self._json(response)
        if callable(self.response):
            try:
                values = self.response(data)
            except (KeyError, IndexError, TypeError) as exc:
                raise _BadAnswer(f"the response function raised {type(exc).__name__}: {exc}") from None
        else:
            values = _follow(data, self.response, self.url)
        if isinstance(values, tuple):
            values = list(values)
        return _rows(values, n)

    def _describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"model_name": self.model, "model_version": self.version,
                                     "request": getattr(self.request, "__qualname__", self.request),
                                     "response": getattr(self.response, "__qualname__", self.response)}
        if self.metadata:
            target = self.metadata if "://" in self.metadata else _with_path(self._url, "/" + self.metadata.lstrip("/"))
            described["metadata"] = self._send("GET", target, None, lambda r: self._scrub(r.text.strip()[:2000]),
                                               "for the model's metadata")
        return described


def _placeholders(template: Any) -> list[str]:
    if isinstance(template, str):
        return [template] if template in _PLACEHOLDERS else []
    if isinstance(template, dict):
        return [p for v in template.values() for p in _placeholders(v)]
    if isinstance(template, list):
        return [p for v in template for p in _placeholders(v)]
    return []


def _fill(template: Any, batches: dict[str, Callable[[], Any]]) -> Any:
    if isinstance(template, str) and template in batches:
        return batches[template]()
    if isinstance(template, dict):
        return {k: _fill(v, batches) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, batches) for v in template]
    return template


def _follow(data: Any, path: str, url: str) -> Any:
    """The values at ``path`` (``a.0.b``, ``*`` mapping over a list) in a JSON answer."""
    steps = [s for s in path.split(".") if s] if path else []
    for i, step in enumerate(steps):
        where = ".".join(steps[: i + 1])
        if step == "*":
            if not isinstance(data, list):
                raise AdapterError(f"{url} answered a {type(data).__name__} at {where!r} where response= expects "
                                   "a list")
            rest = ".".join(steps[i + 1:])
            head = [_follow(data[0], rest, url)] if data else []  # a wrong path fails here, at once
            try:
                return head + [_follow(item, rest, url) for item in data[1:]]
            except AdapterError as exc:
                raise _BadAnswer(str(exc)) from None  # only later items lack it: a garbled answer, retried
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and step.lstrip("-").isdigit() and -len(data) <= int(step) < len(data):
            data = data[int(step)]
        else:
            keys = f" (keys: {shorten(data)})" if isinstance(data, dict) else f" (a {type(data).__name__})"
            raise AdapterError(f"{url} answered without {where!r}{keys}; set response= to the path of the "
                               "predictions, e.g. 'predictions' or 'results.*.score'")
    return data
