"""Records beyond one machine's comfort: 10 M records probed in memory, streamed from Parquet, and on Ray.

The hiring world, 10,000,000 applicants written once to a Parquet file (row groups of 250,000), a
rule-based screener (so that the harness, not the model, is measured), flip twins of sex: invariance
and equalized odds in one pass. Each configuration runs in a fresh process; the table gives wall
time and the driver's peak resident memory (for Ray, the workers' memory is theirs, not the driver's).

- in memory: ``fp.Probe(data=frame)`` on the whole table, read from the same file;
- local engine: ``fp.Probe(data=path, engine="local")``, one partition of 250,000 records at a time;
- ray engine: ``fp.Probe(data=path, engine="ray")`` on a local Ray cluster of 2 CPUs (``ray.init``
  counted in the wall time, as a user pays it).

Usage: python benchmarks/bench_engines.py [RECORDS]
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HELD = ["years_experience", "degree", "skills_score", "certifications"]
FEATURES = ["sex", "race", "skills_score", "years_experience"]
CACHE = Path("/tmp/fairprobe-bench-engines")


def screener(frame):
    return ((frame["skills_score"] > 55) | ((frame["sex"] == "male") & (frame["skills_score"] > 53))).to_numpy()


def data_file(n: int) -> Path:
    path = CACHE / f"hiring-{n}.parquet"
    if not path.exists():
        import pyarrow as pa
        import pyarrow.parquet as pq

        import fairprobe as fp

        CACHE.mkdir(parents=True, exist_ok=True)
        writer = None
        for start in range(0, n, 1_000_000):  # written a million at a time: the writer's memory stays small
            chunk = fp.worlds.hiring(n=min(1_000_000, n - start), seed=start).data
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            writer = writer or pq.ParquetWriter(path, table.schema)
            for offset in range(0, len(chunk), 250_000):
                writer.write_table(table.slice(offset, 250_000), row_group_size=250_000)
        assert writer is not None
        writer.close()
    return path


def child(path: str, mode: str) -> None:
    import resource
    import warnings

    import pandas as pd

    import fairprobe as fp

    warnings.simplefilter("ignore", fp.FairprobeWarning)
    start = time.perf_counter()
    if mode == "in memory":
        data = pd.read_parquet(path)
        probe = fp.Probe(data=data, model=screener, protected=["sex", "race"], label="hired", held=HELD,
                         features=FEATURES)
    else:
        if mode == "ray engine":
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        probe = fp.Probe(data=path, model=screener, protected=["sex", "race"], label="hired", held=HELD,
                         features=FEATURES, engine=mode.split()[0], partition_rows=250_000)
    results = probe.run(fp.invariant("sex", max_flip_rate=0.01), fp.equalized_odds("sex", max_gap=0.1))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "flip_rate": results[0].statistic,
                      "interval": list(results[0].interval), "verdict": str(results[0].verdict),
                      "eo_gap": results[1].statistic, "n": results[0].n}))


def main(n: int = 10_000_000) -> None:
    path = data_file(n)
    print(f"# {n:,} hiring records from {path.name} ({path.stat().st_size / 2**20:.0f} MiB Parquet); flip twins of "
          f"sex, invariance + equalized odds in one pass; {platform.machine()}, 2 cores, Python {platform.python_version()}")
    print(f"{'configuration':14s} {'seconds':>8s} {'driver peak MiB':>16s} {'flip rate':>10s} {'interval':>22s} "
          f"{'verdict':>8s} {'EO gap':>8s}")
    for mode in ("in memory", "local engine", "ray engine"):
        out = subprocess.run([sys.executable, __file__, "--child", str(path), mode], capture_output=True, text=True)
        if out.returncode:
            print(f"{mode:14s} failed: {out.stderr.strip().splitlines()[-1][:120]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{mode:14s} {r['seconds']:8.1f} {r['peak_mib']:16.0f} {r['flip_rate']:10.6f} "
              f"[{r['interval'][0]:.6f}, {r['interval'][1]:.6f}] {r['verdict']:>8s} {r['eo_gap']:8.5f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
