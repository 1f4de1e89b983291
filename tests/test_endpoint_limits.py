"""Endpoints that answer too much or never answer (issue #17): a size cap with a clear error, and a dead
endpoint that fails the session once, fast, instead of once per test."""

import gzip
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe.adapters import MLflowEndpoint

httpx = pytest.importorskip("httpx")

ROWS = pd.DataFrame({"x": np.arange(40)})  # 40 distinct rows: none answered from the cache


class Server:
    """A 127.0.0.1 server whose POST answer is ``body(n_rows)`` bytes, sent as ``how``: with a Content-Length,
    chunked, or gzip-compressed."""

    def __init__(self, body, how="length"):
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(handler):
                self.requests += 1
                rows = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))["dataframe_split"]["data"]
                data = body(len(rows))
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                if how == "gzip":
                    data = gzip.compress(data)
                    handler.send_header("Content-Encoding", "gzip")
                if how == "chunked":
                    handler.send_header("Transfer-Encoding", "chunked")
                    handler.end_headers()
                    for start in range(0, len(data), 4096):
                        part = data[start:start + 4096]
                        handler.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    handler.wfile.write(b"0\r\n\r\n")
                    return
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def scores(n):
    return json.dumps({"predictions": [0.25] * n}).encode()


def padded(n):
    # valid JSON with the right predictions, but 200 kB of padding: the answer is too large, not malformed
    return json.dumps({"predictions": [0.25] * n, "padding": "x" * 200_000}).encode()


@pytest.mark.parametrize("how", ["length", "chunked", "gzip"])
def test_an_answer_over_the_cap_is_refused_at_once_with_the_fix(how):
    server = Server(padded, how)
    try:
        adapter = MLflowEndpoint(server.url, max_response_bytes=50_000, retries=3, backoff=0.01)
        with pytest.raises(fp.AdapterError, match=r"answered more than max_response_bytes=50000 bytes to a batch of "
                                                  r"40 rows .*lower batch_size= \(raise max_response_bytes="):
            adapter.predict(ROWS)
        assert server.requests == 1 and adapter.queries == 0  # refused, not retried: the size is no transient fault
        generous = MLflowEndpoint(server.url, max_response_bytes=1_000_000)
        assert generous.predict(ROWS).score.tolist() == [0.25] * 40  # the same answer under a cap that fits
    finally:
        server.close()


@pytest.mark.parametrize("how", ["length", "chunked", "gzip"])
def test_answers_under_the_default_cap_read_as_before(how):
    server = Server(scores, how)
    try:
        adapter = MLflowEndpoint(server.url)
        assert adapter.max_response_bytes == 64 * 2**20
        assert adapter.predict(ROWS).score.tolist() == [0.25] * 40
    finally:
        server.close()


def test_the_cap_is_validated():
    with pytest.raises(fp.InvalidSpec, match="max_response_bytes"):
        MLflowEndpoint("http://127.0.0.1:9", max_response_bytes=0)


class Silent:
    """A port that accepts connections (the kernel's backlog) and never answers: a hung server."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self):
        self.sock.close()


def test_a_dead_endpoint_is_asked_once_per_session_not_once_per_call():
    silent = Silent()
    try:
        adapter = MLflowEndpoint(silent.url, timeout=0.3, retries=1, backoff=0.01, batch_size=5, max_concurrency=2)
        with pytest.raises(fp.AdapterError, match=r"failed 2 times .*no answer within 0.3 s"):
            adapter.predict(ROWS)
        # 8 batches, 2 in flight: the two in flight used their attempts; the rest were never sent
        assert adapter.usage.requests == 4, adapter.usage
        assert adapter.failed is not None and "no answer within 0.3 s" in adapter.failed
        for _ in range(3):  # every later test sharing the probe fails at once, with the first failure's reason
            with pytest.raises(fp.AdapterError, match=r"is not asked again .*failed earlier in this session "
                                                      r"\(.*no answer within 0.3 s"):
                adapter.predict(ROWS.iloc[:3])
        assert adapter.usage.requests == 4
    finally:
        silent.close()


def test_a_failure_on_a_metadata_route_does_not_end_the_session():
    server = Server(scores)  # answers POST only: /version is refused (501)
    try:
        adapter = MLflowEndpoint(server.url, retries=0)
        assert adapter.predict(ROWS).score.tolist() == [0.25] * 40
        assert "unavailable" in adapter.fingerprint().get("metadata", "")
        assert adapter.failed is None
        assert len(adapter.predict(ROWS.assign(x=ROWS["x"] + 10))) == 40  # still asked
    finally:
        server.close()


SESSION = '''
import os
import fairprobe as fp

world = fp.worlds.hiring(n=60, seed=1)
probe = fp.Probe(data=world.data, model=fp.adapters.MLflowEndpoint(os.environ["FP_SILENT_URL"], timeout=0.5,
                                                                    retries=1, backoff=0.01),
                 protected="sex", label="hired", features=["sex", "skills_score"])

def test_a():
    probe.invariance("sex", max_flip_rate=0.05)

def test_b():
    probe.demographic_parity("sex", max_gap=0.1)

def test_c():
    probe.invariance("sex", max_flip_rate=0.05)
'''


def test_tests_sharing_a_dead_endpoints_probe_fail_once_each_at_once(pytester, monkeypatch):
    silent = Silent()
    try:
        monkeypatch.setenv("FP_SILENT_URL", silent.url)
        pytester.makepyfile(test_dead=SESSION)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-no-evidence", "-p", "no:randomly")
        result.assert_outcomes(failed=3)
        errors = [line for line in result.stdout.lines if line.startswith("E   ") and "AdapterError" in line]
        assert len(errors) == 3, errors
        assert " failed 2 times " in errors[0] and "no answer within 0.5 s" in errors[0]
        assert all("is not asked again" in e and "failed earlier in this session" in e for e in errors[1:])
    finally:
        silent.close()
