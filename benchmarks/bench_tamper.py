"""How much tampering ``fairprobe verify`` detects: random byte flips, deletions, additions, renames and
manifest edits on copies of real bundles, each checked by plain verify, by verify with the recorded
manifest digest (``--expect``) and, on a signed bundle, by plain verify, ``--require-signature``, the
trusted key pinned by its fingerprint (``--key-sha256``) and the trusted public key (``--key``).

Prints one row per kind of tampering: how many trials, how many each check detected, and whether
the kind is detectable without an anchor (a digest recorded elsewhere, or a signature checked with a
trusted key). Verify must never raise; the last line counts exceptions.

Usage: python benchmarks/bench_tamper.py [TRIALS_PER_KIND] [SEED]   (default 25 trials, seed 0)
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

import fairprobe as fp
from fairprobe.evidence import MANIFEST, SIGNATURE

Tamper = Callable[[Path, np.random.Generator], None]


def _files(b: Path, *, manifest: bool = False) -> list[Path]:
    return sorted(p for p in b.iterdir() if manifest or p.name not in (MANIFEST, SIGNATURE))


def _pick(rng: np.random.Generator, items: list) -> object:
    return items[int(rng.integers(len(items)))]


def _flip(path: Path, rng: np.random.Generator) -> None:
    data = bytearray(path.read_bytes())
    i = int(rng.integers(len(data)))
    data[i] ^= int(rng.integers(1, 256))
    path.write_bytes(bytes(data))


def _lines(b: Path) -> list[str]:
    return (b / MANIFEST).read_text().splitlines(keepends=True)


def _write_lines(b: Path, lines: list[str]) -> None:
    (b / MANIFEST).write_text("".join(lines))


def _recompute(b: Path) -> None:
    names = [p.name for p in _files(b)]
    (b / MANIFEST).write_text("".join(f"{hashlib.sha256((b / n).read_bytes()).hexdigest()}  {n}\n" for n in names))


def _edit_evidence(b: Path, change: Callable[[dict], None]) -> None:
    document = json.loads((b / "evidence.json").read_text())
    change(document)
    (b / "evidence.json").write_text(json.dumps(document, indent=2))


def _name(rng: np.random.Generator) -> str:
    return "".join(_pick(rng, list("abcdefghijklmnopqrstuvwxyz0123456789_")) for _ in range(8)) + \
        str(_pick(rng, [".txt", ".json", ".html", ".csv", ""]))


def _delete_with_line(b: Path, rng: np.random.Generator) -> None:
    victim = _pick(rng, _files(b))
    victim.unlink()
    _write_lines(b, [line for line in _lines(b) if not line.rstrip("\n").endswith(f"  {victim.name}")])


def _add_with_line(b: Path, rng: np.random.Generator) -> None:
    name, data = _name(rng), rng.bytes(int(rng.integers(1, 200)))
    (b / name).write_bytes(data)
    with open(b / MANIFEST, "a") as fh:
        fh.write(f"{hashlib.sha256(data).hexdigest()}  {name}\n")


def _rename_with_line(b: Path, rng: np.random.Generator) -> None:
    victim, new = _pick(rng, _files(b)), _name(rng)
    victim.rename(b / new)
    _write_lines(b, [line.replace(f"  {victim.name}\n", f"  {new}\n") for line in _lines(b)])


def _manifest_edit(b: Path, rng: np.random.Generator) -> None:
    lines = _lines(b)
    how = int(rng.integers(8))
    i = int(rng.integers(len(lines)))
    if how == 0:
        del lines[i]                                                  # a line removed
    elif how == 1:
        lines.insert(i, lines[i])                                     # a line duplicated
    elif how == 2:
        j = int(rng.integers(len(lines)))                             # two digests swapped
        a, b_ = lines[i].split("  ", 1), lines[j].split("  ", 1)
        if i == j:
            j = (i + 1) % len(lines)
            b_ = lines[j].split("  ", 1)
        lines[i], lines[j] = f"{b_[0]}  {a[1]}", f"{a[0]}  {b_[1]}"
    elif how == 3:
        lines = ["".join(lines)[: int(rng.integers(len("".join(lines))))]]  # cut short
    elif how == 4:
        lines = []                                                    # emptied
    elif how == 5:
        digest, rest = lines[i].split("  ", 1)                        # one hex digit changed
        k = int(rng.integers(64))
        lines[i] = digest[:k] + ("0" if digest[k] != "0" else "1") + digest[k + 1:] + "  " + rest
    elif how == 6:
        lines.append(f"{rng.bytes(32).hex()}  {_name(rng)}\n")          # a line for a file that is not there
    else:
        lines = [line.replace("\n", "\r\n") for line in lines]        # line endings converted
    _write_lines(b, lines)


def _forge(b: Path, rng: np.random.Generator) -> None:
    """Edit what a check says, then recompute the manifest: consistent in itself."""
    def change(document: dict) -> None:
        check = _pick(rng, document["checks"])
        check["verdict"] = "pass" if check["verdict"] != "pass" else "fail"
        check["statistic"] = float(rng.random())
    _edit_evidence(b, change)
    _recompute(b)


def _forge_deletion(b: Path, rng: np.random.Generator) -> None:
    """Delete a file, remove it from evidence.json's file list, recompute the manifest."""
    victim = _pick(rng, [p for p in _files(b) if p.name not in fp.evidence.REQUIRED["2.0"]] or _files(b)[:1])
    victim.unlink()
    _edit_evidence(b, lambda d: d.__setitem__("files", [f for f in d["files"] if f != victim.name]))
    _recompute(b)


def _strip_signature(b: Path, rng: np.random.Generator) -> None:
    """On a signed bundle: forge, drop the signature and its record, recompute the manifest."""
    _edit_evidence(b, lambda d: d.pop("signature", None))
    (b / SIGNATURE).unlink(missing_ok=True)
    _forge(b, rng)


def _resign(b: Path, rng: np.random.Generator, *, forger: object) -> None:
    """On a signed bundle: forge, record the forger's key, recompute the manifest and sign it with that key."""
    _edit_evidence(b, lambda d: d.__setitem__("signature", forger.describe(SIGNATURE)))
    _forge(b, rng)
    (b / SIGNATURE).write_bytes(forger.sign((b / MANIFEST).read_bytes()))


def _stray_signature(b: Path, rng: np.random.Generator, *, signer: object) -> None:
    """On an unsigned bundle: add a signature file, valid for its manifest, by the trusted key (or random bytes)."""
    data = signer.sign((b / MANIFEST).read_bytes()) if rng.random() < 0.5 else rng.bytes(64)
    (b / SIGNATURE).write_bytes(data)


def _swap(b: Path, rng: np.random.Generator, *, other: Path) -> None:
    """Replace the bundle with another run's complete, untouched bundle."""
    for p in _files(b, manifest=True):
        p.unlink()
    for p in _files(other, manifest=True):
        shutil.copy2(p, b / p.name)


def kinds(other: Path) -> list[tuple[str, Tamper, bool]]:
    """(name, tamper, detectable without an anchor)."""
    return [
        ("byte flip in a file", lambda b, r: _flip(_pick(r, _files(b)), r), True),
        ("byte flip in the manifest", lambda b, r: _flip(b / MANIFEST, r), True),
        ("file deleted", lambda b, r: _pick(r, _files(b, manifest=True)).unlink(), True),
        ("file deleted with its manifest line", _delete_with_line, True),
        ("file added", lambda b, r: (b / _name(r)).write_bytes(r.bytes(int(r.integers(1, 200)))), True),
        ("file added with a manifest line", _add_with_line, True),
        ("file renamed", lambda b, r: _pick(r, _files(b)).rename(b / _name(r)), True),
        ("file renamed with its manifest line", _rename_with_line, True),
        ("manifest edited (8 ways)", _manifest_edit, True),
        ("evidence edited, manifest recomputed", _forge, False),
        ("file deleted and unlisted, manifest recomputed", _forge_deletion, False),
        ("bundle swapped for another run's", lambda b, r: _swap(b, r, other=other), False),
    ]


def build(root: Path, key: Path | None) -> tuple[Path, Path]:
    """Two real bundles of the hiring world (the second is another run), signed with ``key`` if given."""
    warnings.simplefilter("ignore")
    world = fp.worlds.hiring(n=600, seed=0)
    probe = fp.Probe(data=world.data, model=lambda df: ((df["skills_score"] > 50) | (df["sex"] == "male")).to_numpy(),
                     protected=["sex", "race"], label="hired", held=["skills_score"], name="bench")
    results = [probe.invariance("sex", max_flip_rate=0.01), probe.demographic_parity(["sex", "race"], min_ratio=0.8)]
    out = []
    for run in range(2):
        evidence = fp.Evidence(seed=run, sign_key=key, collected=2, ran=2)
        for r in results:
            evidence.add(r, test=f"bench.py::test_{run}")
        out.append(evidence.write(root / f"run{run}"))
    return out[0], out[1]


def main(trials: int = 25, seed: int = 0) -> None:
    from fairprobe.evidence import signing

    rng = np.random.default_rng(seed)
    work = Path(tempfile.mkdtemp(prefix="fairprobe-tamper-"))
    private, public = fp.evidence.keygen(work / "keys")
    forger_private, _ = fp.evidence.keygen(work / "keys", name="forger")
    pin = signing.key_id(signing.load_public_key(public))
    trusted, forger = signing.load_signer(private), signing.load_signer(forger_private)
    plain, plain_other = build(work / "plain", None)
    signed, signed_other = build(work / "signed", private)
    extra_signed = {"signature stripped, evidence edited, manifest recomputed": _strip_signature,
                    "re-signed with another key, evidence edited": lambda b, r: _resign(b, r, forger=forger)}
    extra_plain = {"signature file added to an unsigned bundle": lambda b, r: _stray_signature(b, r, signer=trusted)}
    unsigned_kinds = {name: fn for name, fn, _ in kinds(plain_other)} | extra_plain
    signed_kinds = {name: fn for name, fn, _ in kinds(signed_other)} | extra_signed
    needs_anchor = {name: not detectable for name, _, detectable in kinds(plain_other)} | {
        "signature stripped, evidence edited, manifest recomputed": True,
        "re-signed with another key, evidence edited": True, "signature file added to an unsigned bundle": False}
    checks = {"verify": lambda c, d: fp.verify(c), "expect": lambda c, d: fp.verify(c, expect=d),
              "signed": lambda c, d: fp.verify(c), "require": lambda c, d: fp.verify(c, require_signature=True),
              "pinned": lambda c, d: fp.verify(c, key_sha256=pin), "key": lambda c, d: fp.verify(c, key=public)}
    raised, rows, copies = 0, [], 0
    for name in needs_anchor:
        found = dict.fromkeys(checks, 0)
        n_plain = n_signed = 0
        for _ in range(trials):
            for base, tampers in ((plain, unsigned_kinds), (signed, signed_kinds)):
                if name not in tampers:
                    continue
                copy = work / f"copy-{copies}"
                copies += 1
                shutil.copytree(base, copy)
                digest = fp.evidence.manifest_digest(base)
                tampers[name](copy, rng)
                used = ("verify", "expect") if base == plain else ("signed", "require", "pinned", "key")
                if base == plain:
                    n_plain += 1
                else:
                    n_signed += 1
                for check in used:
                    try:
                        found[check] += bool(checks[check](copy, digest))
                    except Exception:  # verify must never raise: count it
                        raised += 1
                shutil.rmtree(copy)
        rows.append((name, n_plain, n_signed, found, needs_anchor[name]))
    shutil.rmtree(work, ignore_errors=True)
    print(f"# fairprobe verify against random tampering of real bundles; {trials} trials per kind on an unsigned and "
          f"a signed bundle, seed {seed}; {platform.machine()}, Python {platform.python_version()}")
    print("| tampering | verify | verify --expect | signed: verify | signed: --require-signature | "
          "signed: --key-sha256 | signed: --key | needs an anchor |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")

    def cell(k: int, n: int) -> str:
        return "–" if not n else f"{k}/{n} ({100 * k / n:.0f} %)"

    for name, n_plain, n_signed, f, anchor in rows:
        print(f"| {name} | {cell(f['verify'], n_plain)} | {cell(f['expect'], n_plain)} | {cell(f['signed'], n_signed)} "
              f"| {cell(f['require'], n_signed)} | {cell(f['pinned'], n_signed)} | {cell(f['key'], n_signed)} | "
              f"{'yes' if anchor else 'no'} |")
    print(f"\n{copies} tampered copies; verify raised {raised} times")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
