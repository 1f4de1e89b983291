"""Endpoint adapters against real servers on 127.0.0.1.

- MLflow's own scoring server: a scikit-learn pipeline saved with ``mlflow.sklearn.save_model`` and
  served by ``mlflow.pyfunc.scoring_server`` under uvicorn, in-process (what ``mlflow models serve
  --env-manager local`` runs in a subprocess).
- An Open Inference (v2) server: KServe's ``ModelServer`` with a custom model when the ``kserve``
  package is installed (kserve 0.21 pins pandas<3, so it is not in the test extra: the second test
  environment, ``make test-pandas2``, installs it and fails if it cannot import it), and a small v2
  server written here, checked against the published examples of KServe's documentation.
- A fault-injecting proxy in front of them that counts the rows of every request it sees and answers
  some with 500, 429 + Retry-After, JSON cut short, a missing prediction, or no answer in time.
"""

import json
import os
import pickle
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import fairprobe as fp
from fairprobe.adapters import HTTPEndpoint, KServeV2, MLflowEndpoint, SklearnAdapter
from fairprobe.adapters.endpoint import redact_url
from fairprobe.adapters.http import read_v2_tensor

httpx = pytest.importorskip("httpx")

COLUMNS = ["sex", "race", "degree", "years_experience", "skills_score"]
V2_TYPES = {"BOOL": bool, "BYTES": object, "FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "UINT32": np.uint32}


@pytest.fixture(scope="module")
def world():
    return fp.worlds.hiring(n=400, seed=11, direct_bias=2.5)


@pytest.fixture(scope="module")
def pipeline(world):
    encode = ColumnTransformer([("groups", OneHotEncoder(), ["sex", "race", "degree"])], remainder=StandardScaler())
    return make_pipeline(encode, LogisticRegression(max_iter=500)).fit(world.data[COLUMNS], world.data["hired"])


@pytest.fixture(scope="module")
def rows(world):
    return world.data[COLUMNS].drop_duplicates().iloc[:300].reset_index(drop=True)


class JSONServer:
    """A threaded HTTP server on an ephemeral 127.0.0.1 port; ``handle(method, path, headers, body)`` answers."""

    def __init__(self, handle):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, body = handle(method, self.path, dict(self.headers), self.rfile.read(length))
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(status, payload, **headers):
    return status, headers, payload if isinstance(payload, bytes) else json.dumps(payload).encode()


class V2Server(JSONServer):
    """The Open Inference protocol's REST routes: health, server and model metadata, infer.

    ``models`` maps a name to ``(predict, metadata)``; ``predict`` takes the decoded input tensors by name
    and returns output tensors by name. Tensor data may be flat (row-major) or nested, as the spec allows.
    """

    def __init__(self, models, *, token=None, strict=True):
        self.models, self.token, self.strict, self.requests, self.paths = models, token, strict, [], []
        super().__init__(self.handle)

    def handle(self, method, path, headers, body):
        self.paths.append(path)
        if self.token and headers.get("Authorization") != f"Bearer {self.token}":
            return reply(401, {"error": "missing or wrong token"})
        route = path.split("?")[0].rstrip("/").split("/")[1:]  # ["v2", "models", name, ...]
        if route == ["v2"]:
            return reply(200, {"name": "fairprobe-test-v2", "version": "1.0", "extensions": []})
        if route in (["v2", "health", "ready"], ["v2", "health", "live"]):
            return reply(200, {"live": True, "ready": True})
        if len(route) < 3 or route[1] != "models" or route[2] not in self.models:
            return reply(404, {"error": f"no route {path}"})
        predict, metadata = self.models[route[2]]
        if method == "GET":
            return reply(200, {"name": route[2], "platform": "sklearn", **metadata})
        request = json.loads(body)
        self.requests.append(request)
        try:
            inputs = {t["name"]: np.asarray(t["data"], dtype=V2_TYPES[t["datatype"]]).reshape(t["shape"])
                      for t in request["inputs"]}
        except (KeyError, ValueError) as exc:
            return reply(400, {"error": f"bad input: {exc}"})
        outputs = predict(inputs)
        wanted = [o["name"] for o in request.get("outputs") or []] or list(outputs)
        if any(name not in outputs for name in wanted):
            if self.strict:  # as Triton does; KServe's custom models answer what predict returned
                return reply(400, {"error": f"unexpected inference output {wanted} for model {route[2]}"})
            wanted = list(outputs)
        tensors = [{"name": name, "shape": list(outputs[name].shape), "parameters": None,
                    "datatype": {"f": "FP64", "i": "INT64", "b": "BOOL"}[outputs[name].dtype.kind],
                    "data": outputs[name].ravel().tolist()} for name in wanted]
        return reply(200, {"model_name": route[2], "model_version": metadata.get("versions", [None])[0],
                           "id": request.get("id"), "parameters": None, "outputs": tensors})


def screener_model(pipeline):
    def predict(inputs):
        frame = pd.DataFrame({name: values.ravel() for name, values in inputs.items()})[COLUMNS]
        p = pipeline.predict_proba(frame)[:, 1]
        return {"probability": p, "label": (p >= 0.5).astype(np.int64)}
    return predict, {"versions": ["3"], "inputs": [{"name": c, "datatype": "BYTES", "shape": [-1, 1]} for c in COLUMNS],
                     "outputs": [{"name": "probability", "datatype": "FP64", "shape": [-1]}]}


class FaultProxy(JSONServer):
    """Forwards to ``upstream``, counting the rows of each POST; ``script`` faults the next POSTs in turn."""

    def __init__(self, upstream, *, delay=1.5):
        self.upstream, self.delay, self.script = upstream, delay, []
        self.rows, self.faulted, self.arrivals = [], [], []
        self.lock = threading.Lock()
        super().__init__(self.handle)

    def handle(self, method, path, headers, body):
        if method == "GET":
            return self.forward(method, path, body, headers)
        with self.lock:
            fault = self.script.pop(0) if self.script else "ok"
            self.rows.append(count_rows(json.loads(body)))
            self.arrivals.append(time.monotonic())
            if fault != "ok":
                self.faulted.append(self.rows[-1])
        if fault in ("500", "400"):
            return reply(int(fault), {"error": "bad input" if fault == "400" else "internal error"})
        if fault.startswith("429"):
            return reply(429, {"error": "slow down"}, **{"Retry-After": fault.partition(":")[2] or "0"})
        if fault == "timeout":
            time.sleep(self.delay)  # beyond the client's timeout: it has given up and will ask again
        status, extra, answer = self.forward(method, path, body, headers)
        if fault == "malformed":
            answer = answer[: len(answer) // 2]
        if fault == "short":
            answer = json.dumps(drop_last_prediction(json.loads(answer))).encode()
        return status, extra, answer

    def forward(self, method, path, body, headers):
        request = urllib.request.Request(self.upstream + path, data=body if method == "POST" else None, method=method,
                                         headers={k: v for k, v in headers.items() if k.lower() in
                                                  ("content-type", "authorization")})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, {}, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {}, exc.read()


def count_rows(request):
    if "dataframe_split" in request:
        return len(request["dataframe_split"]["data"])
    if "dataframe_records" in request:
        return len(request["dataframe_records"])
    return request["inputs"][0]["shape"][0]


def drop_last_prediction(answer):
    if "predictions" in answer:
        answer["predictions"] = answer["predictions"][:-1]
    for tensor in answer.get("outputs", []):
        per_row = int(np.prod(tensor["shape"][1:]))
        tensor["shape"][0] -= 1
        tensor["data"] = tensor["data"][: len(tensor["data"]) - per_row]
    return answer


@pytest.fixture(scope="module")
def mlflow_server(pipeline, world, tmp_path_factory):
    """MLflow's scoring server for the pipeline saved as an MLflow model (predict_proba as its pyfunc)."""
    pytest.importorskip("mlflow.pyfunc.scoring_server", reason="mlflow(-skinny) is not installed")
    uvicorn = pytest.importorskip("uvicorn")
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from mlflow.pyfunc import scoring_server

    path = tmp_path_factory.mktemp("mlflow") / "screener"
    X = world.data[COLUMNS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's hint that integer columns cannot hold missing values
        signature = infer_signature(X, pipeline.predict_proba(X))
    # pip_requirements given: MLflow would otherwise load the model in a subprocess to infer them (10 s)
    mlflow.sklearn.save_model(pipeline, str(path), pyfunc_predict_fn="predict_proba", pip_requirements=["scikit-learn"],
                              signature=signature)
    app = scoring_server.init(mlflow.pyfunc.load_model(str(path)))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "MLflow's scoring server did not start within 60 s"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def v2_server(pipeline):
    server = V2Server({"screener": screener_model(pipeline)})
    yield server
    server.close()


@pytest.fixture(params=["mlflow", "v2", "json", "kserve"])
def upstream(request):
    """A protocol, the URL of a real server speaking it, and how to build its adapter."""
    if request.param == "kserve":
        url = request.getfixturevalue("kserve_server")
        return "kserve", url, lambda u, **kw: KServeV2(u, model="screener", **kw)
    if request.param == "v2":
        url = request.getfixturevalue("v2_server").url
        return "v2", url, lambda u, **kw: KServeV2(u, model="screener", output="probability", **kw)
    url = request.getfixturevalue("mlflow_server")
    if request.param == "mlflow":
        return "mlflow", url, lambda u, **kw: MLflowEndpoint(u, model="screener", version="7", **kw)
    return "json", url, lambda u, **kw: HTTPEndpoint(u + "/invocations", request={"dataframe_records": "$records"},
                                                      response="predictions", **kw)


@pytest.fixture
def proxy(upstream):
    server = FaultProxy(upstream[1])
    yield server
    server.close()


def test_each_endpoint_answers_as_the_model_in_process(upstream, pipeline, rows):
    name, url, make = upstream
    with make(url, columns=COLUMNS, batch_size=64) as adapter:
        answers = adapter.predict(rows)
    expected = SklearnAdapter(pipeline).predict(rows)
    np.testing.assert_array_equal(answers.decision, expected.decision)
    np.testing.assert_allclose(answers.score, expected.score, rtol=0, atol=1e-12)  # JSON floats round-trip exactly
    assert adapter.queries == len(rows) and adapter.calls == 5
    assert adapter.usage.requests == 5 and adapter.usage.retries == 0


def test_faults_are_retried_and_no_record_is_lost_or_counted_twice(upstream, proxy, pipeline, rows):
    name, _, make = upstream
    proxy.script = ["500", "429", "malformed", "timeout", "short"]
    # 2 s leaves a loaded CI machine room to answer a good request in time: only the injected faults retry
    proxy.delay = 2.5
    adapter = make(proxy.url, columns=COLUMNS, batch_size=50, max_concurrency=2, timeout=2.0, backoff=0.01, retries=5)
    answers = adapter.predict(rows)
    np.testing.assert_array_equal(answers.decision, SklearnAdapter(pipeline).predict(rows).decision)
    assert adapter.queries == len(rows) and adapter.calls == len(rows) // 50
    assert adapter.usage.retries == 5 and adapter.usage.failures == 0
    # every row reached the server once, plus the rows of each faulted request (each a full batch)
    assert proxy.faulted == [50] * 5 and sum(proxy.rows) == len(rows) + 5 * 50
    again = adapter.predict(rows.iloc[::-1])  # cached: nothing is sent
    assert sum(proxy.rows) == len(rows) + 5 * 50 and adapter.queries == len(rows)
    np.testing.assert_array_equal(again.decision, answers.decision[::-1])


@pytest.mark.parametrize("fault,message", [
    ("500", r"failed 3 times to a batch of 50 rows .*; last: HTTP 500 \(.*internal error.*\)\. Check that the endpoint"),
    ("timeout", r"failed 3 times .*; last: no answer within 1 s \(timeout=\)"),
    ("short", r"failed 3 times .*; last: the endpoint returned 49 predictions for 50 rows"),
    ("malformed", r"failed 3 times .*; last: an answer that is not JSON"),
])
def test_retries_run_out_with_a_clear_error_and_answered_rows_are_kept(upstream, proxy, rows, fault, message):
    name, _, make = upstream
    proxy.delay = 1.5
    proxy.script = ["ok"] + [fault] * 3
    timeout = 1.0 if fault == "timeout" else 10.0  # a short timeout only where one is expected
    adapter = make(proxy.url, columns=COLUMNS, batch_size=50, max_concurrency=1, timeout=timeout, backoff=0.01, retries=2)
    data = rows.iloc[:100]
    with pytest.raises(fp.AdapterError, match=message):
        adapter.predict(data)
    assert adapter.queries == 50 and adapter.usage.failures == 1  # the first batch was answered and is kept
    sent = list(proxy.rows)
    with pytest.raises(fp.AdapterError, match=r"is not asked again .* it failed earlier in this session"):
        adapter.predict(data)  # a test sharing the probe fails at once: nothing is sent (issue #17)
    assert proxy.rows == sent and adapter.failed is not None
    adapter.close()  # forgets the failure: the endpoint is healthy again, and only the unanswered rows are sent
    adapter.predict(data)
    assert adapter.queries == 100 and proxy.rows == [50, 50, 50, 50, 50]


def test_a_client_error_fails_at_once(upstream, proxy, rows):
    name, _, make = upstream
    proxy.script = ["400"]
    adapter = make(proxy.url, columns=COLUMNS, batch_size=50, backoff=0.01)
    with pytest.raises(fp.AdapterError, match=r"answered HTTP 400 to a batch of 50 rows \(columns sex, race, "
                                              r".*bad input.*check that the columns sent"):
        adapter.predict(rows.iloc[:50])
    assert proxy.rows == [50] and adapter.queries == 0


def test_retry_after_is_honoured(v2_server, rows):
    proxy = FaultProxy(v2_server.url)
    try:
        proxy.script = ["429:1"]
        adapter = KServeV2(proxy.url, model="screener", columns=COLUMNS, backoff=0.01, max_backoff=5)
        adapter.predict(rows.iloc[:10])
        assert len(proxy.arrivals) == 2 and proxy.arrivals[1] - proxy.arrivals[0] >= 0.95  # not the 0.01 s backoff
    finally:
        proxy.close()


def test_requests_in_flight_are_bounded(pipeline, rows, in_flight):
    predict, metadata = screener_model(pipeline)
    slow = in_flight(predict, together=3)  # the first three requests meet at a barrier: no timing assumed
    server = V2Server({"screener": (slow, metadata)})
    try:
        adapter = KServeV2(server.url, model="screener", columns=COLUMNS, batch_size=20, max_concurrency=3)
        answers = adapter.predict(rows.iloc[:240])
        assert slow.most == 3 and adapter.calls == 12 and len(server.requests) == 12
        np.testing.assert_array_equal(answers.decision, SklearnAdapter(pipeline).predict(rows.iloc[:240]).decision)
    finally:
        server.close()


@pytest.fixture(scope="module")
def kserve_server(pipeline, tmp_path_factory):
    """KServe's own ModelServer, in a subprocess, serving the pipeline as a custom model (if kserve installs)."""
    if os.environ.get("FAIRPROBE_REQUIRE_KSERVE"):  # the second test environment (make test-pandas2) must run these
        import kserve  # noqa: F401
    pytest.importorskip("kserve", reason="kserve is not installed here (it pins pandas<3): make test-pandas2 runs it")
    import joblib

    folder = tmp_path_factory.mktemp("kserve")
    joblib.dump(pipeline, folder / "screener.joblib")
    script = folder / "serve.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import joblib
        from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer

        class Screener(Model):
            def __init__(self):
                super().__init__("screener")
                self.pipeline = joblib.load(sys.argv[1])
                self.ready = True

            async def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
                frame = payload.as_dataframe()[{COLUMNS!r}]
                p = self.pipeline.predict_proba(frame)[:, 1]
                return InferResponse(model_name=self.name, response_id=payload.id, infer_outputs=[
                    InferOutput(name="probability", shape=[len(p)], datatype="FP64", data=p.tolist())])

        ModelServer(http_port=int(sys.argv[2]), enable_grpc=False).start([Screener()])
    """))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (folder / "server.log").open("w")  # a file, not a pipe: a full pipe would stall the server
    process = subprocess.Popen([sys.executable, str(script), str(folder / "screener.joblib"), str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    if process.poll() is not None:
        pytest.fail(f"KServe's ModelServer exited: {(folder / 'server.log').read_text()[-2000:]}")
    yield url
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.mark.parametrize("kind", ["mlflow", "v2", "json", "kserve"])
def test_a_probe_over_each_endpoint_gives_the_in_process_verdict(request, kind, world, pipeline):
    if kind == "kserve":
        adapter = KServeV2(request.getfixturevalue("kserve_server"), model="screener", columns=COLUMNS)
    elif kind == "v2":
        adapter = KServeV2(request.getfixturevalue("v2_server").url, model="screener", output="probability",
                           columns=COLUMNS)
    else:
        url = request.getfixturevalue("mlflow_server")
        adapter = MLflowEndpoint(url, columns=COLUMNS, model="screener", version="7") if kind == "mlflow" else \
            HTTPEndpoint(url + "/invocations", request={"dataframe_split": "$split"}, columns=COLUMNS)
    local = fp.Probe(data=world.data, model=pipeline, protected=["sex"], label="hired", seed=0)
    remote = fp.Probe(data=world.data, model=adapter, protected=["sex"], label="hired", seed=0)
    assert remote.features == local.features == COLUMNS
    expected, result = local.invariance("sex", max_flip_rate=0.01), remote.invariance("sex", max_flip_rate=0.01)
    assert str(result.verdict) == str(expected.verdict) == "fail"  # the model learned the planted bias
    assert (result.statistic, result.interval, result.n) == (expected.statistic, expected.interval, expected.n)
    assert result.context["queries"] == expected.context["queries"]
    model = result.context["model"]
    assert model["kind"] == adapter.kind and model["url"] == adapter.url and len(model["sha256"]) == 64
    if kind == "kserve":
        assert model["model_name"] == "screener" and model["server"].startswith("kserve ")


def test_the_endpoint_identity_comes_from_its_metadata_routes(mlflow_server, v2_server):
    import mlflow

    mlflow_identity = MLflowEndpoint(mlflow_server + "/invocations", model="screener", version="7").fingerprint()
    assert mlflow_identity["server"] == f"mlflow {mlflow.__version__}"
    assert (mlflow_identity["model_name"], mlflow_identity["version"]) == ("screener", "7")
    assert mlflow_identity["url"] == mlflow_server + "/invocations"
    v2 = KServeV2(v2_server.url, model="screener").fingerprint()
    assert (v2["model_name"], v2["model_version"], v2["platform"]) == ("screener", "3", "sklearn")
    assert v2["server"] == "fairprobe-test-v2 1.0" and json.loads(v2["outputs"]) == ["probability"]
    assert KServeV2(v2_server.url, model="screener").fingerprint()["sha256"] == v2["sha256"]
    gone = MLflowEndpoint("http://127.0.0.1:9/invocations", retries=0, timeout=0.5).fingerprint()
    assert gone["metadata"].startswith("unavailable: http://127.0.0.1:9/invocations failed once for the server's version")


def test_credentials_come_from_the_environment_and_are_never_recorded(pipeline, world, monkeypatch):
    server = V2Server({"screener": screener_model(pipeline)}, token="s3cret-token")
    try:
        url = server.url + "/?api_key=s3cret-query&region=eu"
        adapter = KServeV2(url, model="screener", columns=COLUMNS, token_env="FP_TEST_TOKEN", retries=0)
        monkeypatch.delenv("FP_TEST_TOKEN", raising=False)
        with pytest.raises(fp.AdapterError, match=r"needs the token in the environment variable FP_TEST_TOKEN"):
            adapter.predict(world.data[COLUMNS].iloc[:5])
        monkeypatch.setenv("FP_TEST_TOKEN", "wrong")
        with pytest.raises(fp.AdapterError, match=r"HTTP 401 .*check the token in the environment variable FP_TEST_TOKEN"):
            adapter.predict(world.data[COLUMNS].iloc[:5])
        monkeypatch.setenv("FP_TEST_TOKEN", "s3cret-token")
        probe = fp.Probe(data=world.data, model=adapter, protected=["sex"], label="hired")
        result = probe.invariance("sex", max_flip_rate=0.01)
        assert all("api_key=s3cret-query" in p for p in server.paths)  # the query key is sent
        recorded = repr(adapter) + json.dumps(adapter.fingerprint()) + json.dumps(result.context, default=str)
        assert "s3cret" not in recorded
        assert adapter.url == f"{server.url}?api_key=***&region=eu" and "FP_TEST_TOKEN" in repr(adapter)
        assert "s3cret" not in repr(pickle.loads(pickle.dumps(adapter)).fingerprint())
    finally:
        server.close()
    with pytest.raises(fp.InvalidSpec, match=r"headers Authorization carry credentials.*token_env='NAME'"):
        MLflowEndpoint("http://127.0.0.1:5000", headers={"Authorization": "Bearer x"})
    with pytest.raises(fp.InvalidSpec, match=r"carries credentials in the URL .* give them one way"):
        MLflowEndpoint("http://bob:pw@127.0.0.1:5000", token_env="FP_TEST_TOKEN")


def test_the_published_v2_examples():
    # KServe's documentation (sklearn v2 iris): this request, to a model served as sklearn-v2-iris,
    # is answered with output "predict" = [1, 1] (INT64, shape [2]).
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    iris = load_iris()
    svc = SVC(gamma="scale").fit(iris.data, iris.target)
    published = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32",
                             "data": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}]}
    server = V2Server({"sklearn-v2-iris": (lambda inputs: {"predict": svc.predict(inputs["input-0"])}, {})})
    try:
        answer = httpx.post(f"{server.url}/v2/models/sklearn-v2-iris/infer", json=published).json()
        assert answer["model_name"] == "sklearn-v2-iris"
        assert answer["outputs"] == [{"name": "predict", "shape": [2], "datatype": "INT64", "parameters": None,
                                      "data": [1, 1]}]
        # the adapter sends the same request (flat row-major data, as the spec allows) and reads the same answer
        frame = pd.DataFrame(published["inputs"][0]["data"], columns=iris.feature_names, dtype="float32")
        adapter = KServeV2(server.url, model="sklearn-v2-iris", inputs="matrix", positive_label=1)
        assert adapter.predict(frame).decision.tolist() == [True, True]
        sent = server.requests[-1]["inputs"][0]
        assert (sent["name"], sent["shape"], sent["datatype"]) == ("input-0", [2, 4], "FP32")
        np.testing.assert_allclose(sent["data"], np.ravel(published["inputs"][0]["data"]), rtol=1e-6)
    finally:
        server.close()
    # the protocol's own example answer: output0, a [3, 2] FP32 tensor sent flat
    tensor = {"name": "output0", "shape": [3, 2], "datatype": "FP32", "data": [1.0, 1.1, 2.0, 2.1, 3.0, 3.1]}
    np.testing.assert_allclose(read_v2_tensor(tensor), [[1.0, 1.1], [2.0, 2.1], [3.0, 3.1]])


def test_outputs_and_paths_that_do_not_exist_fail_at_once(v2_server, mlflow_server, pipeline, rows):
    strict = KServeV2(v2_server.url, model="screener", output="proba", columns=COLUMNS)
    with pytest.raises(fp.AdapterError, match=r"answered HTTP 400 .*unexpected inference output \['proba'\]"):
        strict.predict(rows.iloc[:5])
    lenient = V2Server({"screener": screener_model(pipeline)}, strict=False)  # answers every output it has
    try:
        adapter = KServeV2(lenient.url, model="screener", output="proba", columns=COLUMNS)
        with pytest.raises(fp.AdapterError, match=r"returned the outputs probability, label, not 'proba'; pass output="):
            adapter.predict(rows.iloc[:5])
        assert len(lenient.requests) == 1  # not retried: the name is wrong, not the network
        unnamed = KServeV2(lenient.url, model="screener", columns=COLUMNS)  # two outputs, one named like a probability
        np.testing.assert_array_equal(unnamed.predict(rows.iloc[:5]).score, pipeline.predict_proba(rows.iloc[:5])[:, 1])
        lenient.models["two"] = (lambda inputs: {"score": np.zeros(len(inputs["sex"])),
                                                 "label": np.zeros(len(inputs["sex"]), dtype=np.int64)}, {})
        with pytest.raises(fp.AdapterError, match=r"returned the outputs score, label; pass output="):
            KServeV2(lenient.url, model="two", columns=COLUMNS).predict(rows.iloc[:5])
    finally:
        lenient.close()
    wrong_path = HTTPEndpoint(mlflow_server + "/invocations", request={"dataframe_split": "$split"},
                              response="preds", columns=COLUMNS)
    with pytest.raises(fp.AdapterError, match=r"answered without 'preds' \(keys: predictions\); set response="):
        wrong_path.predict(rows.iloc[:5])
    missing = KServeV2(v2_server.url, model="nobody", columns=COLUMNS, retries=0)
    with pytest.raises(fp.AdapterError, match=r"answered HTTP 404 .*check the URL \(and the model name\)"):
        missing.predict(rows.iloc[:5])


@pytest.mark.parametrize("build,message", [
    (lambda: MLflowEndpoint("localhost:5000"), r"url must be an http:// or https:// address"),
    (lambda: MLflowEndpoint("http://h", max_concurrency=0), r"max_concurrency must be a whole number of at least 1"),
    (lambda: MLflowEndpoint("http://h", timeout=0), r"timeout must be a number of seconds above 0"),
    (lambda: MLflowEndpoint("http://h", token_env=""), r"token_env must name an environment variable"),
    (lambda: KServeV2("http://h/v2/models/m/infer", model="m"), r"without /v2/\.\.\.; got .*model= names the model"),
    (lambda: KServeV2("http://h", model="m", inputs="column"), r"unknown inputs 'column'; did you mean 'columns'"),
    (lambda: HTTPEndpoint("http://h", request={"rows": "$data"}), r"exactly one of \$records, \$split"),
    (lambda: HTTPEndpoint("http://h", response=3), r"response must be a path into the answer"),
])
def test_options_are_checked(build, message):
    with pytest.raises(fp.InvalidSpec, match=message):
        build()


def test_request_mappings_and_response_paths():
    seen = []

    def handle(method, path, headers, body):
        request = json.loads(body)
        seen.append(request)
        xs = request["batch"]["columns"]["x"]
        return reply(200, {"results": [{"p": 0.8 if x is None or x == 2 else 0.2} for x in xs], "model": "m"})

    server = JSONServer(handle)
    try:
        adapter = HTTPEndpoint(server.url + "/score?model=m", request={"batch": {"columns": "$columns", "v": 2}},
                               response="results.*.p")
        frame = pd.DataFrame({"x": [1.5, np.nan, 3.0], "s": ["a", None, "c"], "t": pd.to_datetime(["2024-01-02"] * 3)})
        answers = adapter.predict(frame)
        assert answers.decision.tolist() == [False, True, False] and answers.threshold == 0.5
        sent = seen[0]["batch"]  # the new rows in the cache's order: compare them as a set
        assert sent["v"] == 2 and list(sent["columns"]) == ["x", "s", "t"]
        day = "2024-01-02T00:00:00"
        assert sorted(zip(*sent["columns"].values()), key=str) == sorted([(1.5, "a", day), (None, None, day),
                                                                         (3.0, "c", day)], key=str)
        custom = HTTPEndpoint(server.url, request=lambda f: {"batch": {"columns": {"x": f["x"].tolist()}}},
                              response=lambda answer: [r["p"] for r in answer["results"]], threshold=0.5)
        assert custom.predict(pd.DataFrame({"x": [1, 2]})).score.tolist() == [0.2, 0.8]
    finally:
        server.close()


def test_redacted_urls():
    assert redact_url("https://u:p@host:8443/a/b?token=x&sig=y&model=m#frag") == \
        "https://host:8443/a/b?token=***&sig=***&model=m"
    assert redact_url("http://[::1]:8080/x?code=abc") == "http://[::1]:8080/x?code=***"
    adapter = MLflowEndpoint("http://user:pw@127.0.0.1:9/?key=k3y", retries=0, timeout=0.5)
    assert "pw" not in repr(adapter) and "k3y" not in json.dumps(adapter.fingerprint())


def test_an_adapter_survives_pickling(v2_server, pipeline, rows):
    adapter = KServeV2(v2_server.url, model="screener", output="probability", columns=COLUMNS)
    adapter.predict(rows.iloc[:10])
    copy = pickle.loads(pickle.dumps(adapter))
    assert copy.queries == 10 and copy.usage.requests == adapter.usage.requests
    np.testing.assert_array_equal(copy.predict(rows.iloc[:20]).decision,
                                  SklearnAdapter(pipeline).predict(rows.iloc[:20]).decision)
    assert copy.queries == 20


def test_the_base_keeps_answered_batches_when_one_fails_concurrently():
    """Adapter's concurrent path (max_concurrency > 1), without HTTP: a failing batch loses only its own rows."""
    lock, sent, state = threading.Lock(), [], {"fail": True}

    class Flaky(fp.adapters.CallableAdapter):
        max_concurrency = 3

    def model(frame):
        with lock:
            sent.append(len(frame))
        if state["fail"] and (frame["x"] == 130).any():
            raise ConnectionError("the model went away")
        time.sleep(0.01)
        return (frame["x"] % 2 == 0).to_numpy()

    adapter = Flaky(model, batch_size=20)
    frame = pd.DataFrame({"x": np.arange(1000)})
    with pytest.raises(fp.AdapterError, match=r"raised ConnectionError: the model went away while scoring a batch of 20"):
        adapter.predict(frame)
    # batches sent before the failure was seen were answered and kept; the rest were never sent
    assert adapter.queries == sum(sent) - 20 and adapter.calls == len(sent) - 1 and sum(sent) < 1000
    state["fail"] = False
    answers = adapter.predict(frame)
    assert answers.decision.tolist() == (np.arange(1000) % 2 == 0).tolist()
    assert adapter.queries == 1000 and sum(sent) == 1000 + 20  # only the failed batch was sent twice
