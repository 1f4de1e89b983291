"""The evidence bundle: what was tested, on what, what came out, and a manifest that proves it whole.

A bundle is one folder under the report directory, written whole or not at all (built in a hidden
``.partial`` folder, then renamed into place). ``evidence.json`` lists every file the bundle holds,
and ``MANIFEST.sha256`` must list exactly those, so a deleted file is caught even when its manifest
line was deleted with it. An interrupted session writes its bundle too, marked ``incomplete`` (in
evidence.json and in the folder's name): it never becomes ``LATEST`` and ``fairprobe verify``
reports it. The manifest's own SHA-256, printed by the run, anchors the bundle: ``fairprobe verify
--expect DIGEST`` catches a bundle rewritten with a recomputed manifest, and so does an Ed25519
signature over the manifest (``Evidence(sign_key=...)``, ``fairprobe verify --key PUB``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from fairprobe.errors import InvalidSpec
from fairprobe.errors import given as describe_given
from fairprobe.evidence.gate import KNOWN_VERDICTS, gate

SCHEMA_VERSION = "2.1"
MANIFEST = "MANIFEST.sha256"
SIGNATURE = "MANIFEST.sha256.sig"
EVIDENCE, REPORT, COUNTEREXAMPLES = "evidence.json", "report.html", "counterexamples.csv"
IMPACT_RATIOS, ATTESTATION, BOM = "impact_ratios.csv", "attestation.intoto.json", "bom.cdx.json"
# Every bundle of a schema version holds at least these; evidence.json names the rest (the optional BOM).
REQUIRED = {"1.0": (EVIDENCE, REPORT, COUNTEREXAMPLES),
            "2.0": (EVIDENCE, REPORT, COUNTEREXAMPLES, IMPACT_RATIOS, ATTESTATION),
            "2.1": (EVIDENCE, REPORT, COUNTEREXAMPLES, IMPACT_RATIOS, ATTESTATION)}
FILES = REQUIRED[SCHEMA_VERSION]
# A .partial folder whose writer cannot be asked (another machine) is stale after this long.
STALE_AFTER_S = 600
PACKAGES = ("fairprobe", "numpy", "pandas", "scipy", "scikit-learn", "fairlearn", "pytest", "pytest-xdist",
            "hypothesis", "torch", "transformers", "skops", "jinja2", "cryptography", "cyclonedx-python-lib")
_PARTIAL = re.compile(r"^\.(fairprobe-[\w\-]+?)(?:\.([0-9a-f]{8})\.(\d+))?\.partial$")
# The temporary file of a LATEST update: .LATEST.<host>.<pid>.<random>.tmp (older writers: .LATEST.<random>.tmp).
_LATEST_TMP = re.compile(r"^\.LATEST\.(?:([0-9a-f]{8})\.(\d+)\.)?[0-9a-f]{6}\.tmp$")
_LINE = re.compile(r"^([0-9a-f]{64})  ([^/\\\x00-\x1f\x7f]+)$")


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

    Parameters
    ----------
    seed, alpha, mode : the session's defaults, recorded in the settings.
    command : list of str, optional
        The command line; values that look like secrets are masked before anything is written.
    root : str, optional
        Where to look for the git commit.
    collected, ran : int, optional
        Tests collected and tests that ran (set by the plugin).
    incomplete : bool, default False
        The session was interrupted or ran fewer tests than it collected: the bundle is written,
        marked incomplete, and never becomes ``LATEST``.
    redact : sequence of str
        Columns whose values in the counterexamples are replaced by a keyed hash (a comma-separated
        string is accepted too); the index's name, or ``"index"``, hashes the rows' labels. A check whose
        ``context["redact"]`` lists columns (a probe's own ``redact=``) has those hashed as well, and
        ``context["redact_text"]`` turns text masking on. A column that no check's data holds (as a column
        or as the index) is an error at ``write``: a misspelt name would leave the values it meant in clear.
    redact_key : bytes, optional
        The HMAC key of those hashes; None: a random key per Evidence (recorded only as "random").
    redact_text : bool, default False
        Also mask names, e-mail addresses and phone numbers in text values.
    max_counterexamples : int, optional
        At most this many counterexamples per check in the bundle (0: none).
    sign_key : path, optional
        An Ed25519 private key (PEM, as made by ``fairprobe keygen``): the manifest is signed.
    prepared_by, prepared_for : str, optional
        Shown in the report's sign-off block (blank lines to fill in otherwise).

    Examples
    --------
    >>> import tempfile, fairprobe as fp
    >>> world = fp.worlds.hiring(n=400, seed=0)
    >>> probe = fp.Probe(data=world.data, model=lambda df: df["skills_score"] > 50,
    ...                  protected="sex", label="hired", held=["skills_score"], features=["sex", "skills_score"])
    >>> evidence = fp.Evidence(seed=0, alpha=0.05, mode="detect", redact=["first_name"])
    >>> evidence.add(probe.invariance("sex", max_flip_rate=0.02))
    >>> bundle = evidence.write(tempfile.mkdtemp())
    >>> fp.verify(bundle)
    []
    >>> sorted(p.name for p in bundle.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['MANIFEST.sha256', 'attestation.intoto.json', 'bom.cdx.json', 'counterexamples.csv', 'evidence.json',
     'impact_ratios.csv', 'report.html']
    """

    seed: int = 0
    alpha: float = 0.05
    mode: str = "detect"
    command: list[str] | None = None
    root: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    tests: dict[str, str] = field(default_factory=dict)
    exit_status: int | None = None
    collected: int | None = None
    ran: int | None = None
    incomplete: bool = False
    redact: Sequence[str] = ()
    redact_key: bytes | None = None
    redact_text: bool = False
    max_counterexamples: int | None = None
    sign_key: str | os.PathLike | None = None
    prepared_by: str | None = None
    prepared_for: str | None = None
    _random_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), init=False, repr=False)

    def __post_init__(self) -> None:
        from fairprobe.validation import check_alpha, check_flag, check_mode, check_seed

        self.seed, self.alpha = check_seed(self.seed), check_alpha(self.alpha)
        self.mode = str(check_mode(self.mode))
        self.redact_text, self.incomplete = check_flag("redact_text", self.redact_text), check_flag(
            "incomplete", self.incomplete)
        if isinstance(self.command, str):
            import shlex

            try:  # one string is a command line: split as a shell would, so the rule masks each option's value
                self.command = shlex.split(self.command)
            except ValueError:
                self.command = self.command.split()
        if self.command is not None and (not isinstance(self.command, (list, tuple))
                                         or not all(isinstance(a, str) for a in self.command)):
            raise InvalidSpec(f"command= is the command line as a list of strings (sys.argv) or one string; got "
                              f"{type(self.command).__name__}")
        if self.command is not None:
            self.command = list(self.command)
        if isinstance(self.redact, str):
            self.redact = [c.strip() for c in self.redact.split(",") if c.strip()]
        if not all(isinstance(c, str) and c for c in self.redact):
            raise InvalidSpec(f"redact= takes column names, e.g. redact=['first_name', 'email']; got {self.redact!r}")
        self.redact = list(self.redact)
        if isinstance(self.redact_key, str):
            self.redact_key = self.redact_key.encode("utf-8")
        if self.redact_key is not None and (not isinstance(self.redact_key, bytes) or len(self.redact_key) < 16):
            given = (f"{len(self.redact_key)} bytes" if isinstance(self.redact_key, bytes)
                     else type(self.redact_key).__name__)
            raise InvalidSpec("redact_key= must be bytes, at least 16 of them (e.g. secrets.token_bytes(32)), or None "
                              f"for a random key per bundle; got {given}")
        if self.max_counterexamples is not None and (isinstance(self.max_counterexamples, bool) or not isinstance(
                self.max_counterexamples, int) or self.max_counterexamples < 0):
            raise InvalidSpec("max_counterexamples= must be a whole number >= 0 (0: none) or None (all); got "
                              f"{self.max_counterexamples!r}")

    def add(self, result: Any, *, test: str | None = None) -> None:
        """Add a CheckResult (or its ``to_dict()``), optionally with the test that ran it."""
        data = result.to_dict() if hasattr(result, "to_dict") else result
        if not isinstance(data, Mapping) or str(data.get("verdict")) not in KNOWN_VERDICTS:
            given = (f"a mapping with verdict {data.get('verdict')!r}" if isinstance(data, Mapping)
                     else describe_given(result))
            raise InvalidSpec(f"Evidence.add takes a check's result (what probe.invariance(...) returns) or its "
                              f"to_dict(), whose verdict is one of {', '.join(KNOWN_VERDICTS)}; got {given}")
        data = dict(data)
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
        """The evidence document (as evidence.json holds it, before ``files`` and ``signature`` are added):
        counterexamples redacted and limited, secrets in the command masked."""
        from fairprobe.redact import key_id, mask_command, mask_secrets, redact_counterexamples

        key = self.redact_key or self._random_key
        self.check_redaction()
        checks = []
        for r in self.ordered():
            record = {**r, "test_outcome": self.tests.get(r["test"]) if r.get("test") else None}
            examples = list(record.get("counterexamples") or [])
            if self.max_counterexamples is not None and len(examples) > self.max_counterexamples:
                record["counterexamples_omitted"] = len(examples) - self.max_counterexamples
                examples = examples[: self.max_counterexamples]
            context = record.get("context") or {}
            # A probe's own redaction (Probe(redact=...), recorded in the check's context) adds to the session's.
            columns = [*self.redact, *(c for c in context.get("redact") or () if isinstance(c, str))]
            if context.get("data_index") is not None and context["data_index"] in columns:
                columns.append("index")
            text = self.redact_text or bool(context.get("redact_text"))
            if columns or text:
                examples = redact_counterexamples(examples, columns, key=key, text=text)
            record["counterexamples"] = examples
            if isinstance(record.get("error"), dict):
                record["error"] = masked_error(record["error"])
            model = (record.get("context") or {}).get("model")
            if isinstance(model, dict) and isinstance(model.get("description"), str):
                record["context"] = {**record["context"],
                                     "model": {**model, "description": mask_secrets(model["description"])}}
            checks.append(record)
        session = {"complete": not self.incomplete, "collected": self.collected, "ran": self.ran,
                   "exit_status": self.exit_status}
        return {
            "schema": "fairprobe-evidence",
            "schema_version": SCHEMA_VERSION,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "incomplete": bool(self.incomplete),
            "environment": environment(),
            "git": git_info(self.root or "."),
            "command": mask_command(self.command),
            "settings": {"seed": self.seed, "alpha": self.alpha, "mode": self.mode},
            "session": session,
            "gate": gate(checks, mode=self.mode, incomplete=self.incomplete, collected=self.collected, ran=self.ran),
            "summary": {"checks": len(checks), "verdicts": self.counts(),
                        "fails_build": sum(1 for r in checks if r.get("fails_build")),
                        "model_queries": _total_queries(checks), "tests": dict(Counter(self.tests.values())),
                        "exit_status": self.exit_status},
            "redaction": {"columns": list(self.redact), "text": self.redact_text,
                          "key": "given" if self.redact_key else "random",
                          "key_id": key_id(self.redact_key) if self.redact_key else None,
                          "method": "HMAC-SHA256, first 12 hex digits",
                          "max_counterexamples": self.max_counterexamples, "command": "secret-looking values masked"},
            "signoff": {"prepared_by": self.prepared_by, "prepared_for": self.prepared_for},
            "checks": checks,
        }

    def check_redaction(self) -> None:
        """Every column named in ``redact`` is a column or the index of some check's data (as the checks record
        them); else InvalidSpec naming it, before a file is written."""
        from fairprobe.errors import closest

        known: set[str] = set()
        recorded = False
        for record in self.records:
            context = record.get("context") or {}
            if isinstance(context.get("data_columns"), list):
                recorded = True
                known.update(map(str, context["data_columns"]))
                if context.get("data_index") is not None:
                    known.add(str(context["data_index"]))
        unknown = [c for c in self.redact if c not in known and c not in ("text", "index")]
        if recorded and unknown:
            hints = [f"{c!r} -> {closest(c, sorted(known))!r}" for c in unknown if closest(c, sorted(known))]
            raise InvalidSpec(
                f"redaction names {', '.join(map(repr, unknown))}, which no checked data holds as a column or index"
                + (f" (did you mean {'; '.join(hints)}?)" if hints else "")
                + f"; the values meant to be hashed would stay in clear, so nothing is written. Columns: "
                f"{', '.join(sorted(known)[:20])}{' ...' if len(known) > 20 else ''}")

    def write(self, directory: str | os.PathLike) -> Path:
        """Write the bundle into a new folder under ``directory``, atomically; return its path.

        Leftover ``.partial`` folders and ``.LATEST.*.tmp`` files of writes that died (their process is
        gone, or they are older than 10 minutes) are removed first. ``LATEST`` names the new folder unless
        the session was incomplete: its new content is written (and synced) before the bundle is renamed
        into place, and the rename and LATEST's replacement run with Ctrl-C held back, so an interrupt
        leaves either no new bundle or the new bundle named by LATEST, never a complete bundle orphaned
        (issue #17). When LATEST cannot be written (a full disk), the bundle is still put in place and
        the error names it.
        """
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidSpec(f"cannot create the report directory {str(directory)!r}: {exc}") from None
        signer = None
        if self.sign_key is not None:
            from fairprobe.evidence.signing import load_signer

            signer = load_signer(self.sign_key)
        clean_partials(directory)
        files = _bundle_files(self.to_dict(), signer)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        name = f"fairprobe-{stamp}-{uuid.uuid4().hex[:6]}" + ("-incomplete" if self.incomplete else "")
        tmp = directory / f".{name}.{_host_id()}.{os.getpid()}.partial"
        tmp.mkdir()
        final = directory / name
        latest: Path | None = None
        latest_error: OSError | None = None
        try:
            for fname, data in files.items():
                with open(tmp / fname, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            if not self.incomplete:
                try:
                    latest = _write_temporary(directory / "LATEST", f"{name}\n".encode())
                except OSError as exc:  # a full disk: the bundle still goes in place, and the error says so
                    latest_error = exc
            with _interrupts_held():
                os.rename(tmp, final)
                if latest is not None:
                    try:
                        os.replace(latest, directory / "LATEST")
                    except OSError as exc:
                        latest_error = exc
                    else:
                        latest = None
        finally:
            if tmp.exists():  # not renamed: the write failed or was interrupted
                shutil.rmtree(tmp, ignore_errors=True)
            if latest is not None:
                latest.unlink(missing_ok=True)
        _fsync_dir(directory)
        if latest_error is not None:
            raise InvalidSpec(f"the bundle {final} is complete, but {directory / 'LATEST'} could not be updated "
                              f"({latest_error.strerror or latest_error}); LATEST still names an older bundle: "
                              f"check this one by its path (fairprobe verify {final})")
        return final


def masked_error(error: dict[str, Any]) -> dict[str, Any]:
    """A check's error with secret-looking values in its message masked (an endpoint's URL with a token in it)."""
    from fairprobe.redact import mask_secrets

    message = error.get("message")
    return {**error, "message": mask_secrets(message)} if isinstance(message, str) else error


def _bundle_files(document: dict[str, Any], signer: Any) -> dict[str, bytes]:
    """Every file of the bundle, in writing order, the manifest (and signature) last."""
    from fairprobe.evidence import exports
    from fairprobe.evidence.report import render_html

    payload: dict[str, bytes] = {COUNTEREXAMPLES: exports.counterexamples_csv(document["checks"]).encode(),
                                 IMPACT_RATIOS: exports.impact_ratio_csv(document["checks"]).encode()}
    bom, note = exports.cyclonedx_bom(document)
    if bom is not None:
        payload[BOM] = bom.encode()
    document["exports"] = {"cyclonedx": BOM if bom is not None else None, "cyclonedx_note": note,
                           "in_toto": ATTESTATION, "impact_ratios": IMPACT_RATIOS}
    document["files"] = sorted([EVIDENCE, REPORT, ATTESTATION, *payload])
    if signer is not None:
        document["signature"] = signer.describe(SIGNATURE)
    evidence = json.dumps(document, indent=2, allow_nan=False).encode()
    payload[EVIDENCE] = evidence
    payload[REPORT] = render_html(document, evidence_sha256=hashlib.sha256(evidence).hexdigest()).encode()
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in payload.items()}
    payload[ATTESTATION] = exports.in_toto_statement(document, digests).encode()
    manifest = "".join(f"{hashlib.sha256(payload[n]).hexdigest()}  {n}\n" for n in sorted(payload)).encode()
    files = {**payload, MANIFEST: manifest}
    if signer is not None:
        files[SIGNATURE] = signer.sign(manifest)
    return files


def clean_partials(directory: Path, *, now: float | None = None) -> list[Path]:
    """Remove the ``.partial`` folders and ``.LATEST.*.tmp`` files of writes that died (killed mid-write);
    return what was removed.

    One is stale when the process that made it (named in it) no longer runs on this machine, or when it
    is older than ``STALE_AFTER_S`` (a writer elsewhere, or a name without one). A write still in
    progress keeps its files.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return removed
    for path in entries:
        folder, tmp = _PARTIAL.match(path.name), _LATEST_TMP.match(path.name)
        if path.is_symlink() or not ((folder and path.is_dir()) or (tmp and path.is_file())):
            continue
        host, pid = folder.group(2, 3) if folder else tmp.group(1, 2)  # type: ignore[union-attr]
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue
        dead = host == _host_id() and pid is not None and not _running(int(pid))
        if dead or age > STALE_AFTER_S:
            if folder:
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def manifest_digest(bundle: str | os.PathLike) -> str:
    """SHA-256 of a bundle's manifest: quote it in a CI log so the bundle can be checked later
    (``fairprobe verify --expect DIGEST``)."""
    return hashlib.sha256((Path(bundle) / MANIFEST).read_bytes()).hexdigest()


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a platform that cannot tell: assume it runs
    return True


def _host_id() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the folder holding it is synced (POSIX); elsewhere this is a no-op.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temporary(path: Path, data: bytes) -> Path:
    """``data`` written and synced beside ``path`` under a temporary name (removed again if writing fails)."""
    tmp = path.with_name(f".{path.name}.{_host_id()}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C held back for the duration and delivered right after (on the main thread, where Python runs signal
    handlers; elsewhere no interrupt can arrive)."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)  # now, through the handler that was in place


def _total_queries(checks: list[dict[str, Any]]) -> int:
    # Queries are cumulative per probe object; the last count seen for each is its total.
    last: dict[str, int] = {}
    for record in checks:
        context = record.get("context", {})
        probe = context.get("probe_id") or context.get("probe")
        key = f"{probe}:{(context.get('model') or {}).get('sha256')}:{context.get('data_sha256')}"
        last[key] = max(last.get(key, 0), int(context.get("queries") or 0))
    return sum(last.values())
