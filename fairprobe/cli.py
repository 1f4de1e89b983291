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
    fit = sub.add_parser("fit", help="fit a conditional-VAE twin generator ahead of time",
                         description="Fit a CVAE on a table and save it (weights + JSON); point a probe at it "
                                     "with Probe(twins='PATH').")
    fit.add_argument("data", help="CSV or Parquet file")
    fit.add_argument("--protected", nargs="+", required=True, help="protected columns")
    fit.add_argument("--held", nargs="*", default=[], help="held columns (qualifications)")
    fit.add_argument("--exclude", nargs="*", default=[], help="columns left out of the model (e.g. the label)")
    fit.add_argument("--out", required=True, help="where to write the .safetensors file")
    fit.add_argument("--epochs", type=int, default=None)
    fit.add_argument("--seed", type=int, default=0)
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
    if args.command == "fit":
        return _fit(args)
    return _verify(args.bundle or "reports")


def _fit(args: argparse.Namespace) -> int:
    from fairprobe.data import load_table
    from fairprobe.errors import FairprobeError

    try:
        from fairprobe.twins.cvae import CVAE

        data = load_table(args.data)
        options = {"seed": args.seed} | ({"epochs": args.epochs} if args.epochs is not None else {})
        cvae = CVAE(progress=True, **options).fit(data, protected=args.protected, held=args.held,
                                                  exclude=args.exclude)
        path = cvae.save(args.out)
    except FairprobeError as exc:
        print(f"fairprobe fit: {exc}", file=sys.stderr)
        return 2
    print(f"saved {path} and {path.name}.json ({len(cvae.history_)} epochs, fingerprint {cvae.fingerprint_[:16]})")
    return 0


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
