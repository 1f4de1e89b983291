"""Endpoints that answer too much or not at all (issue #17): the memory an oversized answer costs, and the time a
dead endpoint costs the tests that share it.

1. A 127.0.0.1 server answers one batch with SIZE_MB of valid JSON (the predictions plus padding). A fresh
   process predicts through MLflowEndpoint with the default cap (64 MiB) and with the cap raised above the
   answer (what every answer cost before the cap); each prints its peak RSS.
2. A port that accepts connections and never answers; an MLflowEndpoint with timeout=T s and retries=R is
   asked by 5 calls in a row, as 5 tests sharing one probe would: the time of each call.

Usage: python benchmarks/bench_http_limits.py [SIZE_MB] [T]   (default 300 MB, 1 s)
"""

from __future__ import annotations

import json
import platform
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHILD = """
import resource, sys, time
import pandas as pd
import fairprobe as fp
cap = int(sys.argv[2])
adapter = fp.adapters.MLflowEndpoint(sys.argv[1], retries=0, timeout=600, max_response_bytes=cap)
start = time.perf_counter()
try:
    adapter.predict(pd.DataFrame({"x": range(10)}))
    outcome = "read whole"
except fp.AdapterError as exc:
    outcome = "refused: " + str(exc).split(";")[0].split(" bytes ")[-1]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{peak:.0f}\\t{time.perf_counter() - start:.1f}\\t{outcome}")
"""


def big_server(size_mb: int) -> ThreadingHTTPServer:
    padding = size_mb * 2**20

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            rows = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["dataframe_split"]["data"]
            head = json.dumps({"predictions": [0.5] * len(rows)})[:-1].encode() + b', "padding": "'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(head) + padding + 2))
            self.end_headers()
            try:
                self.wfile.write(head)
                block = b"x" * 2**20
                for _ in range(size_mb):
                    self.wfile.write(block)
                self.wfile.write(b'"}')
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client refused the rest

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(size_mb: int, timeout: float) -> None:
    print(f"# {platform.machine()}, Python {platform.python_version()}; a 127.0.0.1 server; peak RSS of a fresh "
          "process (ru_maxrss), which includes importing fairprobe and pandas")
    server = big_server(size_mb)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"\n## one answer of {size_mb} MiB of JSON (predictions + padding)\n")
    print("| cap (max_response_bytes) | peak RSS, MiB | seconds | outcome |")
    print("| --- | ---: | ---: | --- |")
    for label, cap in (("default, 64 MiB", 64 * 2**20), (f"raised to {2 * size_mb} MiB (as before the cap)",
                                                         2 * size_mb * 2**20)):
        done = subprocess.run([sys.executable, "-c", CHILD, url, str(cap)], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"| {label} | - | - | child failed: {done.stderr.strip().splitlines()[-1:]} |")
            continue
        peak, seconds, outcome = done.stdout.strip().split("\t")
        print(f"| {label} | {peak} | {seconds} | {outcome} |")
    server.shutdown()
    server.server_close()

    import pandas as pd

    import fairprobe as fp

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    adapter = fp.adapters.MLflowEndpoint(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=timeout, retries=2,
                                         backoff=0.5)
    print(f"\n## a server that never answers: timeout={timeout:g} s, retries=2, backoff=0.5 s; 5 calls, as 5 tests "
          "sharing one probe\n")
    print("| call | seconds | requests sent so far | error |")
    print("| ---: | ---: | ---: | --- |")
    for call in range(1, 6):
        start = time.perf_counter()
        try:
            adapter.predict(pd.DataFrame({"x": range(call * 10, call * 10 + 10)}))
            error = "none"
        except fp.AdapterError as exc:
            error = str(exc)[:90].replace("|", "/") + "..."
        print(f"| {call} | {time.perf_counter() - start:.2f} | {adapter.usage.requests} | {error} |")
    silent.close()
    print("\n# with the defaults (timeout=30, retries=3, backoff=0.5) the first call costs 4 x 30 + 0.5 + 1 + 2 = "
          "123.5 s, and each later one nothing")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300, float(sys.argv[2]) if len(sys.argv) > 2 else 1.0)
