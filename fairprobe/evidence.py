"""The evidence bundle: what was tested, on what, with which seed, what came out, and a manifest.

A bundle is one folder under the report directory, written whole or not at all (built in a
temporary folder, then renamed into place):

- ``evidence.json``: schema-versioned record of the run (environment, git commit, settings, every
  check with its numbers, fingerprints of data and model, query counts, counterexamples);
- ``report.html``: the same, readable, self-contained (no scripts, no external files);
- ``counterexamples.csv``: the worst twin pairs, one changed column per line;
- ``MANIFEST.sha256``: SHA-256 of each file above; ``fairprobe verify DIR`` checks it.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from fairprobe.errors import InvalidSpec

SCHEMA_VERSION = "1.0"
MANIFEST = "MANIFEST.sha256"
FILES = ("evidence.json", "report.html", "counterexamples.csv")
PACKAGES = ("fairprobe", "numpy", "pandas", "scipy", "scikit-learn", "fairlearn", "pytest", "pytest-xdist",
            "hypothesis", "torch", "transformers", "skops", "jinja2")


def environment() -> dict[str, Any]:
    """Python, platform and the versions of the packages that shape the results (without importing them)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "platform": platform.platform(), "machine": platform.machine(), "packages": versions}


def git_info(path: str | os.PathLike = ".") -> dict[str, Any] | None:
    """The commit checked out at ``path`` and whether the work tree had changes; None outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True,
                                timeout=10)
        if commit.returncode != 0:
            return None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=path,
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


@dataclass
class Evidence:
    """Checks gathered during a run, and the settings they ran under; ``write`` makes the bundle.

    Examples
    --------
    >>> import tempfile, fairprobe as fp
    >>> world = fp.worlds.hiring(n=400, seed=0)
    >>> probe = fp.Probe(data=world.data, model=lambda df: df["skills_score"] > 50,
    ...                  protected="sex", label="hired", held=["skills_score"])
    >>> evidence = fp.Evidence(seed=0, alpha=0.05, mode="detect")
    >>> evidence.add(probe.invariance("sex", max_flip_rate=0.02))
    >>> bundle = evidence.write(tempfile.mkdtemp())
    >>> fp.verify(bundle)
    []
    """

    seed: int = 0
    alpha: float = 0.05
    mode: str = "detect"
    command: list[str] | None = None
    root: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    tests: dict[str, str] = field(default_factory=dict)
    exit_status: int | None = None

    def add(self, result: Any, *, test: str | None = None) -> None:
        """Add a CheckResult (or its ``to_dict()``), optionally with the test that ran it."""
        data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
        self.records.append({"test": test, **data})

    def set_outcome(self, test: str, outcome: str) -> None:
        """Record how a test ended (passed, failed, xfailed, inconclusive, ...)."""
        self.tests[test] = outcome

    def ordered(self) -> list[dict[str, Any]]:
        """Records by test id (stable within a test), so serial and xdist runs list them alike."""
        return sorted(self.records, key=lambda r: r.get("test") or "")

    def counts(self) -> dict[str, int]:
        return dict(Counter(r["verdict"] for r in self.records))

    def to_dict(self) -> dict[str, Any]:
        checks = [{**r, "test_outcome": self.tests.get(r["test"]) if r.get("test") else None}
                  for r in self.ordered()]
        return {
            "schema": "fairprobe-evidence",
            "schema_version": SCHEMA_VERSION,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "environment": environment(),
            "git": git_info(self.root or "."),
            "command": self.command,
            "settings": {"seed": self.seed, "alpha": self.alpha, "mode": self.mode},
            "summary": {"checks": len(checks), "verdicts": self.counts(),
                        "fails_build": sum(1 for r in checks if r.get("fails_build")),
                        "model_queries": _total_queries(checks), "tests": dict(Counter(self.tests.values())),
                        "exit_status": self.exit_status},
            "checks": checks,
        }

    def write(self, directory: str | os.PathLike) -> Path:
        """Write the bundle into a new folder under ``directory``, atomically; return its path."""
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidSpec(f"cannot create the report directory {str(directory)!r}: {exc}") from None
        document = self.to_dict()
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        name = f"fairprobe-{stamp}-{uuid.uuid4().hex[:6]}"
        files = {
            "evidence.json": json.dumps(document, indent=2, sort_keys=False, allow_nan=False).encode(),
            "report.html": render_html(document).encode(),
            "counterexamples.csv": _counterexamples_csv(document["checks"]).encode(),
        }
        manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {fname}\n" for fname, data in files.items())
        tmp = directory / f".{name}.partial"
        tmp.mkdir()
        try:
            for fname, data in {**files, MANIFEST: manifest.encode()}.items():
                with open(tmp / fname, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            final = directory / name
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _write_atomic(directory / "LATEST", f"{name}\n".encode())
        return final


def manifest_digest(bundle: str | os.PathLike) -> str:
    """SHA-256 of a bundle's manifest: quote it in a CI log so the bundle can be checked later."""
    return hashlib.sha256((Path(bundle) / MANIFEST).read_bytes()).hexdigest()


def verify(bundle: str | os.PathLike) -> list[str]:
    """Problems found in a bundle: files changed, missing or added since it was written. [] if none."""
    bundle = Path(bundle)
    if not (bundle / MANIFEST).is_file():
        return [f"{bundle}: no {MANIFEST} here; is this a fairprobe evidence folder?"]
    problems, listed = [], set()
    for number, line in enumerate((bundle / MANIFEST).read_text().splitlines(), 1):
        digest, sep, fname = line.partition("  ")
        if not sep or len(digest) != 64 or "/" in fname or fname in ("", ".", ".."):
            problems.append(f"{MANIFEST} line {number} is malformed: {line!r}")
            continue
        listed.add(fname)
        path = bundle / fname
        if not path.is_file():
            problems.append(f"{fname}: listed in the manifest but missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{fname}: changed since it was written (SHA-256 differs from the manifest)")
    for extra in sorted(p.name for p in bundle.iterdir() if p.name not in listed | {MANIFEST}):
        problems.append(f"{extra}: not in the manifest (added after the bundle was written)")
    if "evidence.json" in listed and not problems:
        try:
            document = json.loads((bundle / "evidence.json").read_text())
            if document.get("schema") != "fairprobe-evidence":
                problems.append("evidence.json is not a fairprobe evidence document")
        except json.JSONDecodeError as exc:
            problems.append(f"evidence.json does not parse: {exc}")
    return problems


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _total_queries(checks: list[dict[str, Any]]) -> int:
    # Queries are cumulative per model; the last count seen for each model is its total.
    last: dict[str, int] = {}
    for record in checks:
        context = record.get("context", {})
        key = f"{context.get('probe')}:{(context.get('model') or {}).get('sha256')}:{context.get('data_sha256')}"
        last[key] = max(last.get(key, 0), int(context.get("queries") or 0))
    return sum(last.values())


def _counterexamples_csv(checks: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["test", "check", "attributes", "row", "column", "original", "twin", "original_score",
                     "twin_score", "original_decision", "twin_decision"])
    for record in checks:
        for ex in record.get("counterexamples", []):
            for column, (before, after) in ex["changes"].items():
                writer.writerow([record.get("test") or "", record["check"], "|".join(record["attributes"]),
                                 ex["row"], column, before, after, ex.get("original_score"),
                                 ex.get("twin_score"), ex["original_decision"], ex["twin_decision"]])
    return out.getvalue()


def render_html(document: dict[str, Any]) -> str:
    """The self-contained HTML page for an evidence document."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fairprobe", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.globals["plot"] = _interval_plot
    return env.get_template("report.html.j2").render(doc=document)


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def _interval_plot(record: dict[str, Any]) -> str:
    """An inline SVG: the interval as a bar, the estimate as a dot, the bound as a red line."""
    lo, hi = (v if isinstance(v, (int, float)) else None for v in record["interval"])
    stat, bound = record.get("statistic"), record["bound"]
    finite = [v for v in (lo, hi, stat, bound) if isinstance(v, (int, float))]
    top = max(1.0 if record["comparison"] == ">" else 0.0, *(v * 1.15 for v in finite)) or 1.0
    width, pad = 360, 10
    x = lambda v: pad + (width - 2 * pad) * max(0.0, min(v, top)) / top  # noqa: E731
    colour = {"pass": "#1a7f37", "fail": "#cf222e"}.get(record["verdict"], "#9a6700")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="34" role="img" '
             f'aria-label="interval and bound">',
             f'<line x1="{pad}" y1="24" x2="{width - pad}" y2="24" stroke="#bbb"/>',
             f'<text x="{pad}" y="33" font-size="8" fill="#666">0</text>',
             f'<text x="{width - pad - 22}" y="33" font-size="8" fill="#666">{top:.3g}</text>']
    if lo is not None and hi is not None:
        parts.append(f'<rect x="{x(lo):.1f}" y="10" width="{max(x(hi) - x(lo), 1.5):.1f}" height="8" '
                     f'fill="{colour}" opacity="0.45"/>')
    if isinstance(stat, (int, float)):
        parts.append(f'<circle cx="{x(stat):.1f}" cy="14" r="3.5" fill="{colour}"/>')
    parts.append(f'<line x1="{x(bound):.1f}" y1="4" x2="{x(bound):.1f}" y2="26" stroke="#cf222e" '
                 f'stroke-dasharray="3,2"/><text x="{x(bound) + 3:.1f}" y="8" font-size="8" fill="#cf222e">'
                 f'bound {bound:.3g}</text></svg>')
    return "".join(parts)
