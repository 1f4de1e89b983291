"""The HTTP path's overhead: a scikit-learn pipeline scored in-process against the same pipeline behind
MLflow's own scoring server (``mlflow models serve --env-manager local``, a separate process on the same
machine), through MLflowEndpoint and through HTTPEndpoint, by batch size and requests in flight.

Every run scores N distinct hiring records with a fresh adapter (an empty row cache); medians of the
repeats. The client and the server share this machine's cores, so the figures are an upper bound on the
overhead a probe pays against a server of its own.

Usage: python benchmarks/bench_http.py [--rows 100000] [--repeats 3] [--batch-sizes 256,1000,4000]
                                       [--concurrency 1,2,4]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import httpx
import mlflow
import mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import fairprobe as fp
from fairprobe.adapters import HTTPEndpoint, MLflowEndpoint, SklearnAdapter

COLUMNS = ["sex", "race", "degree", "years_experience", "skills_score"]


def serve(model_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``mlflow models serve`` on a free 127.0.0.1 port; returns the process and its URL once it answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir),
                                "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
                               stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"mlflow models serve exited:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("mlflow models serve did not answer within 120 s")


def timed(make, rows, repeats: int) -> tuple[float, float]:
    """Median wall and client-CPU seconds to score ``rows`` with a fresh adapter from ``make()``."""
    walls, cpus = [], []
    for _ in range(repeats):
        adapter = make()
        start, cpu = time.perf_counter(), time.process_time()
        adapter.predict(rows)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)  # this process only, all its threads: not the server's
        assert adapter.queries == len(rows)
        getattr(adapter, "close", lambda: None)()
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", default="256,1000,4000")
    parser.add_argument("--concurrency", default="1,2,4")
    args = parser.parse_args()
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    concurrency = [int(c) for c in args.concurrency.split(",")]

    world = fp.worlds.hiring(n=2 * args.rows, seed=21, direct_bias=1.0)
    rows = world.data[COLUMNS].drop_duplicates().iloc[: args.rows]  # distinct: the row cache answers repeats
    encode = ColumnTransformer([("groups", OneHotEncoder(), ["sex", "race", "degree"])], remainder=StandardScaler())
    pipeline = make_pipeline(encode, LogisticRegression(max_iter=500)).fit(world.data[COLUMNS], world.data["hired"])

    with tempfile.TemporaryDirectory() as folder:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signature = infer_signature(rows, pipeline.predict_proba(rows))
        model_dir = Path(folder) / "screener"
        mlflow.sklearn.save_model(pipeline, str(model_dir), pyfunc_predict_fn="predict_proba", signature=signature,
                                  pip_requirements=["scikit-learn"])
        started = time.perf_counter()
        process, url = serve(model_dir, Path(folder) / "server.log")
        start_s = time.perf_counter() - started
        try:
            print(f"# {len(rows):,} hiring records x {len(COLUMNS)} columns, OneHot+StandardScaler+LogisticRegression; "
                  f"median of {args.repeats}; {platform.machine()}, {os.cpu_count()} cores, Python "
                  f"{platform.python_version()}, mlflow {mlflow.__version__} (server start {start_s:.1f} s), "
                  f"httpx {httpx.__version__}")
            print(f"{'path':32s} {'batch':>6s} {'in flight':>9s} {'seconds':>8s} {'rows/s':>10s} {'vs in-process':>14s} "
                  f"{'µs/row added':>13s} {'client CPU s':>13s}")
            local = {}
            for batch in batch_sizes:
                seconds, cpu = timed(lambda b=batch: SklearnAdapter(pipeline, batch_size=b), rows, args.repeats)
                local[batch] = seconds
                print(f"{'in-process SklearnAdapter':32s} {batch:6d} {'-':>9s} {seconds:8.3f} "
                      f"{len(rows) / seconds:10,.0f} {'1.0x':>14s} {'-':>13s} {cpu:13.3f}")
            paths = {
                "MLflowEndpoint (dataframe_split)": lambda b, c: MLflowEndpoint(url, batch_size=b, max_concurrency=c),
                "HTTPEndpoint (dataframe_records)": lambda b, c: HTTPEndpoint(
                    url + "/invocations", request={"dataframe_records": "$records"}, batch_size=b, max_concurrency=c),
            }
            for name, make in paths.items():
                for batch in batch_sizes:
                    for flight in concurrency:
                        seconds, cpu = timed(lambda m=make, b=batch, c=flight: m(b, c), rows, args.repeats)
                        added = 1e6 * (seconds - local[batch]) / len(rows)
                        print(f"{name:32s} {batch:6d} {flight:9d} {seconds:8.3f} {len(rows) / seconds:10,.0f} "
                              f"{seconds / local[batch]:13.1f}x {added:13.1f} {cpu:13.3f}")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
