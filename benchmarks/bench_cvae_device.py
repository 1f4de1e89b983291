"""The CVAE on a device: fit time, twins per second, and how far the device's twins are from the CPU's.

On the hiring world (``fp.worlds.hiring``, embedded: nothing to download) of ``--rows`` rows plus a numeric
free column that sex moves, a tenth missing (commute_km, as in tests/test_cvae_device.py); protected sex
and race, the examples' held columns, label excluded:

1. fit ``CVAE(device=DEVICE)`` (timed, after an untimed fit of 2,000 rows that pays the imports and the
   device's start; the structure test and encoding on the CPU included, as a user pays them), with the
   optimizer steps, epochs and peak memory;
2. sex twins of the first ``--twin-rows`` rows on DEVICE (timed, twins/s), after one small warm-up call;
3. the same fitted generator moved to the CPU (``cvae.to("cpu")``) makes the twins of the same rows with the
   same seed (timed): the agreement per free column is the share of twin cells equal (categories) or within
   1e-3 of the column's interquartile range (numbers), with the largest numeric difference
   (tests/test_cvae_device.py allows 0.1 % of a column's cells to differ);
4. with ``--cpu-fit``, the same fit on the CPU too (timed), and how far its twins are from the device fit's:
   a fit is not device-independent (another device's arithmetic, amplified by training, ends at other
   weights), so this is a measure, not a check.

A GPU session runs, as one script (about 1-3 minutes on an H100/H200 at 1 M rows, plus the CPU fit):

    PYTHONPATH=. python benchmarks/bench_cvae_device.py --rows 1000000 --device cuda --cpu-fit --threads 16

Here (no GPU): ``PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/bench_cvae_device.py --rows 50000
--device cpu --twin-rows 5000``. ``--json PATH`` also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "probes"))
from _models import HELD

import fairprobe as fp
from fairprobe.twins.cvae import CVAE


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def agreement(a: pd.DataFrame, b: pd.DataFrame, data: pd.DataFrame, columns: list[str]) -> dict[str, dict]:
    """Per column: the share of twin cells that agree (numbers within 1e-3 of the column's IQR) and the largest
    numeric difference."""
    out = {}
    for column in columns:
        if pd.api.types.is_numeric_dtype(data[column]) and not pd.api.types.is_bool_dtype(data[column]):
            x, y = a[column].to_numpy(dtype=float), b[column].to_numpy(dtype=float)
            spread = float(np.subtract(*np.nanpercentile(data[column].to_numpy(dtype=float), [75, 25]))) or 1.0
            both = ~(np.isnan(x) | np.isnan(y))
            same = (np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= 1e-3 * spread)
            out[column] = {"agree": float(same.mean()),
                           "max_abs_diff": float(np.abs(x - y)[both].max()) if both.any() else 0.0}
        else:
            out[column] = {"agree": float((a[column].astype(str).to_numpy() == b[column].astype(str).to_numpy()).mean())}
    return out


def timed_twins(cvae: CVAE, rows: pd.DataFrame, seed: int) -> tuple[object, float]:
    cvae.generate(rows.iloc[:200], ["sex"], held=HELD, seed=seed)  # warm-up: kernels, allocator
    sync(cvae.device)
    start = time.perf_counter()
    twins = cvae.generate(rows, ["sex"], held=HELD, seed=seed)
    sync(cvae.device)
    return twins, time.perf_counter() - start


def with_numeric(data: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The hiring world's free columns are categorical: add a numeric one that sex moves (a tenth missing)."""
    rng = np.random.default_rng((seed, 1))
    km = rng.gamma(2.0, 6.0, len(data)) + 6.0 * (data["sex"] == "male")
    return data.assign(commute_km=np.where(np.arange(len(data)) % 10 == 0, np.nan, km.round(1)))


def fit(device: str, data: pd.DataFrame, threads: int, seed: int, **config: int) -> tuple[CVAE, float]:
    cvae = CVAE(device=device, threads=threads, seed=seed, **config)
    if cvae.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(cvae.device)
    start = time.perf_counter()
    cvae.fit(data, protected=["sex", "race"], held=HELD, exclude=["hired"])
    sync(cvae.device)
    return cvae, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--device", default="cuda", help="cpu, cuda, cuda:N, mps or auto")
    parser.add_argument("--twin-rows", type=int, default=100_000, help="records whose sex twins are timed")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (CVAE threads=)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpu-fit", action="store_true", help="also fit on the CPU and compare")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()

    start = time.perf_counter()
    data = with_numeric(fp.worlds.hiring(n=args.rows, seed=args.seed).data, args.seed)
    made = time.perf_counter() - start
    fit(args.device, data.iloc[:2000], args.threads, args.seed, epochs=1)  # warm-up: imports, CUDA context
    rows = data.iloc[: min(args.twin_rows, len(data))]
    report: dict = {"machine": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "torch": torch.__version__, "rows": len(data),
                    "twin_rows": len(rows), "threads": args.threads, "data_s": round(made, 2)}

    cvae, fit_s = fit(args.device, data, args.threads, args.seed)
    device = cvae.device
    report.update(device=str(device), device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else
                  platform.processor() or "cpu", fit_s=round(fit_s, 2), epochs=len(cvae.history_),
                  steps=len(cvae.history_) * -(-int(len(data) * (1 - cvae.config.validation)) // cvae.config.batch_size),
                  final_validation_loss=cvae.history_[-1]["validation"], fingerprint=cvae.fingerprint_[:16])
    if device.type == "cuda":
        report["fit_peak_gpu_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 3)
    print(f"fit {len(data):,} rows on {device} ({report['device_name']}): {fit_s:.1f} s, "
          f"{report['epochs']} epoch(s), about {report['steps']:,} steps", flush=True)

    twins, twin_s = timed_twins(cvae, rows, args.seed)
    report.update(twins=len(twins), twins_s=round(twin_s, 3), twins_per_s=round(len(twins) / twin_s))
    print(f"twins on {device}: {len(twins):,} in {twin_s:.2f} s = {len(twins) / twin_s:,.0f}/s", flush=True)

    cvae.to("cpu")
    cpu_twins, cpu_s = timed_twins(cvae, rows, args.seed)
    report.update(cpu_twins_s=round(cpu_s, 3), cpu_twins_per_s=round(len(cpu_twins) / cpu_s))
    same_fit = agreement(twins.twins, cpu_twins.twins, data, cvae.free_)
    report["cpu_vs_device_twins_same_fit"] = same_fit
    print(f"the same fit's twins on the CPU: {cpu_s:.2f} s = {len(cpu_twins) / cpu_s:,.0f}/s; "
          f"same source order: {bool(np.array_equal(twins.source, cpu_twins.source))}")
    for column, figures in same_fit.items():
        print(f"  {column:18s} agree {figures['agree']:.5f}"
              + (f"  max |diff| {figures['max_abs_diff']:.3g}" if "max_abs_diff" in figures else ""))

    if args.cpu_fit:
        cpu_cvae, cpu_fit_s = fit("cpu", data, args.threads, args.seed)
        report.update(cpu_fit_s=round(cpu_fit_s, 2), cpu_fit_epochs=len(cpu_cvae.history_),
                      cpu_fit_validation_loss=cpu_cvae.history_[-1]["validation"],
                      same_fingerprint=cpu_cvae.fingerprint_ == cvae.fingerprint_)
        other = cpu_cvae.generate(rows, ["sex"], held=HELD, seed=args.seed)
        report["cpu_fit_vs_device_fit_twins"] = agreement(twins.twins, other.twins, data, cvae.free_)
        report["fit_speedup"] = round(cpu_fit_s / fit_s, 2)
        print(f"fit on the CPU: {cpu_fit_s:.1f} s (CPU / {device} = {cpu_fit_s / fit_s:.2f}); "
              f"same fingerprint: {report['same_fingerprint']}; validation loss {report['cpu_fit_validation_loss']:.4f} "
              f"against {report['final_validation_loss']:.4f}")
        for column, figures in report["cpu_fit_vs_device_fit_twins"].items():
            print(f"  {column:18s} twins of the two fits agree {figures['agree']:.5f}")
    report["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
