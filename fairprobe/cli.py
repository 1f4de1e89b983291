"""The ``fairprobe`` command: run probe suites, fit twin generators, check, compare and sign evidence bundles.

- ``fairprobe run [PATHS] [--report DIR] [pytest options]``
- ``fairprobe fit DATA --protected ... [--held ...] [--causes JSON] [--device cpu|cuda|auto] --out FILE``
- ``fairprobe verify [BUNDLE] [--expect SHA256] [--key PUB | --key-sha256 SHA256] [--require-signature]``:
  every problem a ``FAILED ...`` line on stderr and exit status 1; ``OK ...`` with the manifest's full
  SHA-256 and what anchors it otherwise (an unsigned bundle checked without ``--expect`` says UNSIGNED);
- ``fairprobe diff A B``: what changed between two bundles (exit status 1 when anything did, as diff);
- ``fairprobe keygen DIR``: an Ed25519 key pair to sign bundles with.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


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
    fit.add_argument("--device", default="cpu",
                     help="where to fit: cpu (default), cuda, cuda:N, mps, or auto (CUDA when available); a fit on "
                          "another device ends at other weights than the CPU's, and the file loads on any device")
    fit.add_argument("--causes", default=None, metavar="JSON",
                     help='what each protected attribute causes, e.g. \'{"race": ["lsat", "ugpa"], "sex": []}\' '
                          "(twins move those columns and keep the rest); default: learned from the data")
    verify = sub.add_parser("verify", help="check that an evidence bundle is complete and unchanged",
                            description="Check every file of a bundle against its manifest, the manifest against "
                                        "the files the bundle must hold, the session's completeness and, when "
                                        "given, the manifest's recorded digest and the signature.")
    verify.add_argument("bundle", nargs="?", help="bundle folder, or a report directory (checks its LATEST; "
                                                  "default: reports)")
    verify.add_argument("--expect", metavar="SHA256", help="the manifest's SHA-256 as recorded elsewhere (the run "
                                                           "prints it; the JUnit XML keeps it)")
    verify.add_argument("--key", metavar="PUB", help="a trusted Ed25519 public key (PEM): the bundle must be "
                                                     "signed with it")
    verify.add_argument("--key-sha256", metavar="SHA256", help="the trusted public key's SHA-256 (as keygen and "
                                                              "verify print it): the bundle must be signed with "
                                                              "that key")
    verify.add_argument("--require-signature", action="store_true",
                        help="fail an unsigned bundle (a stripped signature reads as unsigned)")
    diff = sub.add_parser("diff", help="what changed between two evidence bundles",
                          description="Compare two bundles: checks added or removed, verdicts, statistics and "
                                      "intervals, models. Exit status 1 when anything changed.")
    diff.add_argument("a", help="the earlier bundle (or a report directory: its LATEST)")
    diff.add_argument("b", help="the later bundle (or a report directory: its LATEST)")
    keygen = sub.add_parser("keygen", help="make an Ed25519 key pair to sign evidence bundles",
                            description="Write NAME.key (private: keep it in a CI secret) and NAME.pub (give it "
                                        "to auditors) into DIR. Sign with pytest --fairprobe-sign DIR/NAME.key; "
                                        "check with fairprobe verify --key DIR/NAME.pub.")
    keygen.add_argument("directory", help="folder for the two key files")
    keygen.add_argument("--name", default="fairprobe-signing", help="file name stem (default: fairprobe-signing)")
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
    if args.command == "diff":
        return _diff(args.a, args.b)
    if args.command == "keygen":
        return _keygen(args.directory, args.name)
    return _verify(args.bundle or "reports", expect=args.expect, key=args.key, key_sha256=args.key_sha256,
                   require_signature=args.require_signature)


def _fit(args: argparse.Namespace) -> int:
    from fairprobe.data import load_table
    from fairprobe.errors import FairprobeError

    try:
        from fairprobe.twins.cvae import CVAE
        from fairprobe.twins.cvae.io import check_writable

        check_writable(args.out)  # before the fit, which can take minutes
        cvae = CVAE(progress=True, causes=_causes(args.causes), device=args.device, seed=args.seed,
                    **({"epochs": args.epochs} if args.epochs is not None else {}))  # a bad device before the data
        cvae.fit(load_table(args.data), protected=args.protected, held=args.held, exclude=args.exclude)
        path = cvae.save(args.out)
    except FairprobeError as exc:
        print(f"fairprobe fit: {exc}", file=sys.stderr)
        return 2
    print(f"saved {path} and {path.name}.json ({len(cvae.history_)} epochs on {cvae.fit_device_}, "
          f"fingerprint {cvae.fingerprint_[:16]})")
    return 0


def _causes(text: str | None) -> Any:
    """``--causes`` read as JSON (its shape and columns are checked by the CVAE)."""
    from fairprobe.errors import InvalidSpec

    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSpec(f"--causes must be JSON mapping each attribute to the columns it causes, e.g. "
                          f"'{{\"race\": [\"lsat\", \"ugpa\"]}}'; got {text!r} ({exc.msg})") from None


def resolve(path: str | Path) -> tuple[Path, list[str], list[str]]:
    """A bundle folder from a bundle or report-directory path: (bundle, problems, notes)."""
    from fairprobe.evidence import MANIFEST

    path = Path(path)
    if not path.is_dir() or (path / MANIFEST).exists() or (path / "evidence.json").exists():
        return path, [], []
    latest = path / "LATEST"
    bundles = sorted(p.name for p in path.glob("fairprobe-*") if p.is_dir())
    if not latest.is_file():
        if bundles:
            return path, [f"{path}: a report directory without LATEST (no complete run was recorded); give one of "
                          f"its bundles: {', '.join(bundles[-3:])}"], []
        return path, [], []
    try:
        name = latest.read_bytes().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        return path, [f"{latest}: cannot be read as a bundle name ({exc}); give the bundle folder instead"], []
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        return path, [f"{latest} does not name a bundle folder (it holds {name[:80]!r}); give the bundle folder "
                      "instead"], []
    try:
        since = (path / name).stat().st_mtime_ns
        newer = [b for b in bundles if b != name and (path / b).stat().st_mtime_ns > since]
    except OSError:
        newer = []
    notes = [f"checking {path / name} (named by {latest})"]
    notes += [f"note: {b} is newer but incomplete (an interrupted session), so LATEST does not name it"
              for b in newer if b.endswith("-incomplete")]
    notes += [f"WARNING {path / b} is newer and complete, but LATEST names {name} (its update was interrupted or "
              f"failed): check the newer one by its path, fairprobe verify {path / b}"
              for b in newer if not b.endswith("-incomplete") and (path / b / MANIFEST).is_file()]
    return path / name, [], notes


def _verify(path: str, *, expect: str | None = None, key: str | None = None, key_sha256: str | None = None,
            require_signature: bool = False) -> int:
    from fairprobe.evidence import manifest_digest, verify

    bundle, problems, notes = resolve(path)
    if not problems:
        problems = verify(bundle, expect=expect, key=key, key_sha256=key_sha256, require_signature=require_signature)
    for note in notes:
        print(note, file=sys.stderr if note.startswith("WARNING") else sys.stdout)
    if problems:
        for problem in problems:
            print(f"FAILED {problem}", file=sys.stderr)
        return 1
    anchor = []
    if expect:
        anchor.append("matches --expect")
    document = _document(bundle)
    signature = document.get("signature") or {}
    if key:
        anchor.append(f"signature checked with {key}")
    elif key_sha256:
        anchor.append(f"signed with the pinned key sha256 {str(key_sha256).strip().lower()}")
    elif signature:
        anchor.append(f"signed by key sha256 {signature.get('public_key_sha256')}, the key the bundle names: pass "
                      "--key PUB or --key-sha256 to check who signed")
    else:
        anchor.append("UNSIGNED" + ("" if expect else ": nothing but a recorded digest ties it to its run; pass "
                                    "--expect DIGEST, or sign bundles (--fairprobe-sign) and pass --key or "
                                    "--require-signature"))
        if not expect:
            print(f"WARNING {bundle}: UNSIGNED and checked without --expect: a bundle rewritten with a recomputed "
                  "manifest passes this check", file=sys.stderr)
    session = document.get("session") or {}
    ran = f"{session['ran']} of {session['collected']} tests ran" if session.get("collected") else None
    print(f"OK {bundle}: complete, every file matches its manifest (manifest sha256 {manifest_digest(bundle)})"
          + (f"; {ran}" if ran else "") + f"; {'; '.join(anchor)}")
    return 0


def _keygen(directory: str, name: str) -> int:
    from fairprobe.errors import FairprobeError
    from fairprobe.evidence import keygen

    try:
        private, public = keygen(directory, name=name)
    except FairprobeError as exc:
        print(f"fairprobe keygen: {exc}", file=sys.stderr)
        return 2
    from fairprobe.evidence import signing

    fingerprint = signing.key_id(signing.load_public_key(public))
    print(f"wrote {private} (private: keep it secret, e.g. a CI secret) and {public} (public: give it to auditors)\n"
          f"key sha256 {fingerprint}\n"
          f"sign:   pytest --fairprobe-sign {private}\ncheck:  fairprobe verify BUNDLE --key {public}\n"
          f"   or:  fairprobe verify BUNDLE --key-sha256 {fingerprint}")
    return 0


def _document(bundle: Path) -> dict[str, Any]:
    try:
        document = json.loads((bundle / "evidence.json").read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return document if isinstance(document, dict) else {}


def _diff(a: str, b: str) -> int:
    from fairprobe.evidence import verify

    docs = []
    for given in (a, b):
        bundle, problems, _ = resolve(given)
        document = _document(bundle) if not problems else {}
        if document.get("schema") != "fairprobe-evidence":
            why = problems[0] if problems else (f"{bundle}: no readable evidence.json; give the path of an evidence "
                                                f"bundle (a folder holding evidence.json) or of the report directory")
            print(f"fairprobe diff: {why}", file=sys.stderr)
            return 2
        checks = document.get("checks")
        if not isinstance(checks, list) or not all(isinstance(c, dict) for c in checks):
            print(f"fairprobe diff: {bundle}: evidence.json is malformed (its checks are not a list of records); "
                  f"run fairprobe verify on it", file=sys.stderr)
            return 2
        for problem in verify(bundle):
            print(f"note: {bundle.name} does not verify: {problem}")
        docs.append((bundle, document))
    try:
        lines = diff_lines(docs[0][1], docs[1][1])
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        print(f"fairprobe diff: an evidence.json is malformed ({type(exc).__name__}: {exc}); run fairprobe verify "
              f"on {docs[0][0]} and {docs[1][0]}", file=sys.stderr)
        return 2
    print(f"fairprobe diff {docs[0][0]} -> {docs[1][0]}")
    for line in lines or ["no differences in the checks, their verdicts, statistics or models"]:
        print(f"  {line}")
    return 1 if lines else 0


def diff_lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed between two evidence documents, one sentence per change."""
    lines = []
    og, ng = (d.get("gate", {}).get("verdict") for d in (old, new))
    if og != ng:
        lines.append(f"gate: {og or '?'} -> {ng or '?'}")
    if old.get("settings") != new.get("settings"):
        lines.append(f"settings: {old.get('settings')} -> {new.get('settings')}")
    before, after = _keyed(old.get("checks", [])), _keyed(new.get("checks", []))
    for key in sorted(set(after) - set(before)):
        lines.append(f"added: {_name(key)}: {_state(after[key])}")
    for key in sorted(set(before) - set(after)):
        lines.append(f"removed: {_name(key)}: {_state(before[key])}")
    for key in sorted(set(before) & set(after)):
        x, y = before[key], after[key]
        if x["verdict"] != y["verdict"]:
            lines.append(f"verdict: {_name(key)}: {_state(x)} -> {_state(y)}")
        elif (x.get("statistic"), x.get("interval"), x.get("bound"), x.get("n")) != \
                (y.get("statistic"), y.get("interval"), y.get("bound"), y.get("n")):
            lines.append(f"statistic: {_name(key)}: {_state(x)} -> {_state(y)}")
        lines += model_lines(_name(key), x.get("context") or {}, y.get("context") or {})
    return lines


def model_lines(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed in a check's model between two bundles: its fingerprint, said with how each was taken (a
    fingerprint taken another way need not mean another model), an identity not taken (no one can tell), or
    other answers on the same records behind one fingerprint."""
    xm, ym = old.get("model") or {}, new.get("model") or {}
    a, b = str(xm.get("sha256") or ""), str(ym.get("sha256") or "")
    if not a or not b:
        which = "either bundle" if not a and not b else "the earlier bundle" if not a else "the later bundle"
        return [f"model: {name}: its identity was not taken in {which} "
                f"({(ym if not b else xm).get('method') or 'no fingerprint'}), so no one can tell whether the "
                "model changed"]
    if a != b:
        kinds = (str(xm.get("kind") or "?"), str(ym.get("kind") or "?"))
        how = "" if kinds[0] == kinds[1] else (f" (fingerprint taken another way, {kinds[0]} -> {kinds[1]}: a "
                                               "changed fingerprint need not mean a changed model)")
        return [f"model: {name}: {a[:16]} -> {b[:16]}{how}"]
    answers = (xm.get("answers_sha256"), ym.get("answers_sha256"))
    if all(answers) and answers[0] != answers[1] and old.get("data_sha256") == new.get("data_sha256"):
        return [f"model answers: {name}: the same fingerprint {a[:16]} answered the same records differently "
                f"({str(answers[0])[:16]} -> {str(answers[1])[:16]}): what decides is not all in the fingerprint"]
    return []


def _keyed(checks: list[dict[str, Any]]) -> dict[tuple[str, ...], dict[str, Any]]:
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for record in checks:
        base = (str(record.get("test") or "outside pytest"), str((record.get("context") or {}).get("probe") or ""),
                str(record.get("title") or record.get("check")))
        index = sum(1 for k in out if k[:3] == base)
        where = (*base, str(index))  # a name: mypy reads d[(*a, b)] as 3.11 syntax
        out[where] = record
    return out


def _name(key: tuple[str, ...]) -> str:
    test, probe, title, index = key
    return f"{test} [{probe or 'unnamed probe'}] {title}" + (f" (#{int(index) + 1})" if index != "0" else "")


def _state(record: dict[str, Any]) -> str:
    from fairprobe.result import fmt
    from fairprobe.verdicts import sign

    error = record.get("error")
    if isinstance(error, dict):
        return f"ERROR {error.get('type')}: {error.get('message')} (no verdict)"
    lo, hi = record.get("interval") or (None, None)
    return (f"{str(record.get('verdict')).upper()} {record.get('statistic_name', '')} {fmt(record.get('statistic'))} "
            f"[{fmt(lo)}, {fmt(hi)}] bound {sign(record.get('comparison'))} {fmt(record.get('bound'))} "
            f"n={record.get('n')}")


if __name__ == "__main__":
    sys.exit(main())
