"""Wall time of a default ``twins="cvae"`` probe on Adult train, through the public API.

The probe a user writes: 32,561 rows, protected sex and race, held education, education_num,
hours_per_week, occupation (1,843 rows missing) and age, label income, one invariance check
(sex) of a logistic regression. Each repetition runs in a fresh interpreter (torch imported and
the CVAE fitted inside the timing, nothing cached on disk), timed as:

- fit: the probe fits its CVAE (``probe.generator``; torch's import included);
- twins: sex twins, self-twins and null twins for the two noise floors, the fidelity report
  (``probe.twins``);
- check: the model's answers for twins, self-twins and null twins and the verdict (``probe.invariance``);
- total: from ``fp.Probe(...)`` to the result (the model's own training is not timed);
- internal fit: ``CVAE().fit`` on the same table in the same process afterwards (warm).

Usage: python benchmarks/bench_cvae_speed.py [REPETITIONS]
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(os.environ.get("FAIRPROBE_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
HELD = ["education", "education_num", "hours_per_week", "occupation", "age"]


def one() -> dict[str, float]:
    """One timed probe, in this process."""
    import pandas as pd
    from bench_cvae_placebo import screener

    import fairprobe as fp

    data = pd.read_csv(DATA / "adult_train.csv")
    model = screener(data.drop(columns=["fnlwgt"]))
    with fp.settings.using(cache_dir=None):
        start = time.perf_counter()
        probe = fp.Probe(data=data, model=model, protected=["sex", "race"], held=HELD, twins="cvae", label="income",
                         positive_label=">50K")
        made = time.perf_counter()
        generator = probe.generator
        fitted = time.perf_counter()
        probe.twins("sex")
        twinned = time.perf_counter()
        result = probe.invariance("sex", max_flip_rate=0.05)
        checked = time.perf_counter()
    from fairprobe.twins.cvae import CVAE

    start_fit = time.perf_counter()
    CVAE().fit(probe.spec.grouped(probe.spec.data), protected=["sex", "race"], held=HELD, exclude=["income"])
    internal = time.perf_counter() - start_fit
    return {"setup s": made - start, "fit s": fitted - made, "twins s": twinned - fitted, "check s": checked - twinned,
            "total s": checked - start, "internal fit s": internal, "epochs": len(generator.history_),
            "share flipped": result.statistic, "noise floor": result.details["noise_floor"]["statistic"],
            **({"null floor": result.details["null_noise_floor"]["statistic"],
                "moved": ",".join(result.details["generator_info"]["structure"]["moved"])}
               if "null_noise_floor" in result.details else {})}


def main(repetitions: int = 3) -> None:
    import pandas as pd
    import torch

    load = os.getloadavg()[0]
    rows = []
    for _ in range(repetitions):
        out = subprocess.run([sys.executable, __file__, "--one"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(f"\n# default twins='cvae' probe on Adult train (32,561 rows), one invariance check; {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}, 1 thread; "
          f"load average before: {load:.1f}, after: {os.getloadavg()[0]:.1f} (another developer shares the cores)")
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
        print("\n# median")
        print(table.median(numeric_only=True).to_frame("median").T.to_string(index=False))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import warnings

        warnings.simplefilter("ignore")
        print(json.dumps(one()))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
