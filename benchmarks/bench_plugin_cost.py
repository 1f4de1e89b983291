"""What installing fairprobe costs a project that runs pytest: `pytest --help` and a probe-free run,
with the plugin and with `-p no:fairprobe`, in an empty folder (medians of 7 runs, alternating).

Usage: python benchmarks/bench_plugin_cost.py
"""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def main(runs: int = 7) -> None:
    folder = Path(tempfile.mkdtemp())
    (folder / "test_plain.py").write_text("def test_x():\n    assert True\n")
    cases = {"pytest --help": ["--help"], "pytest (one plain test)": ["-q", "-p", "no:cacheprovider", "test_plain.py"]}
    print(f"# cost of the installed plugin, {runs} runs each, medians; {platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"{'command':28s} {'with fairprobe':>15s} {'-p no:fairprobe':>16s} {'added':>8s}")
    for name, args in cases.items():
        with_plugin, without = [], []
        for _ in range(runs):
            with_plugin.append(timed([sys.executable, "-m", "pytest", *args], folder))
            without.append(timed([sys.executable, "-m", "pytest", *args, "-p", "no:fairprobe"], folder))
        a, b = statistics.median(with_plugin), statistics.median(without)
        print(f"{name:28s} {a:14.2f}s {b:15.2f}s {a - b:7.2f}s")


if __name__ == "__main__":
    main()
