"""The ``fairprobe`` command: run probe suites, check an evidence bundle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fairprobe", description="Counterfactual-fairness probes for ML models.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run probe files with pytest and write evidence",
                         description="Run probe files with pytest; any option not listed here goes to pytest.")
    run.add_argument("paths", nargs="*", default=["probes"], help="probe files or folders (default: probes)")
    run.add_argument("--report", default="reports", help="evidence directory (default: reports)")
    verify = sub.add_parser("verify", help="check that an evidence bundle is unchanged since it was written")
    verify.add_argument("bundle", nargs="?", help="bundle folder, or a report directory (checks its LATEST)")
    args, extra = parser.parse_known_args(argv)
    if args.command == "run":
        import pytest

        missing = [p for p in args.paths if not Path(p).exists()]
        if missing:
            parser.error(f"no such probe file or folder: {', '.join(missing)}")
        return int(pytest.main([*args.paths, "--fairprobe-report", args.report, *extra]))
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return _verify(args.bundle or "reports")


def _verify(path: str) -> int:
    from fairprobe.evidence import MANIFEST, manifest_digest, verify

    bundle = Path(path)
    if not (bundle / MANIFEST).exists() and (bundle / "LATEST").is_file():
        bundle = bundle / (bundle / "LATEST").read_text().strip()
    problems = verify(bundle)
    if problems:
        for problem in problems:
            print(f"FAILED {problem}", file=sys.stderr)
        return 1
    print(f"OK {bundle}: every file matches its manifest (manifest sha256 {manifest_digest(bundle)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
