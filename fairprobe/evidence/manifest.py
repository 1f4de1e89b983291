"""Checking a bundle against its manifest: ``verify`` reports every problem as a sentence, never raises.

What it checks, in order: the folder and the manifest are there and readable; every manifest line
is well formed (UTF-8, ``<64 hex>  <file name>``, no name twice); every listed file is a plain file
with that SHA-256; nothing else lies in the folder; the manifest lists every file a bundle of its
schema must hold and exactly the files ``evidence.json`` names; the session was complete; the
signature (when the bundle was signed, or ``key``, ``key_sha256`` or ``require_signature`` is given);
the manifest's digest (``expect``).

What it cannot catch without an anchor: a bundle whose files were edited and whose manifest was then
recomputed is consistent in itself. The manifest digest recorded elsewhere (``expect``, printed at
the end of the run and kept in the JUnit XML) or a signature checked with a trusted public key
(``key``, or its SHA-256 pinned with ``key_sha256``) catches it. A signature checked only against the
key the bundle itself names proves nothing about who wrote it: a forger strips it (the bundle then
reads as unsigned, which ``require_signature`` refuses) or re-signs with a key of their own (which
``key`` and ``key_sha256`` refuse).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from fairprobe.errors import given, InvalidSpec
from fairprobe.evidence.bundle import _LINE, EVIDENCE, MANIFEST, REQUIRED, SCHEMA_VERSION, SIGNATURE

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def verify(bundle: str | os.PathLike, *, expect: str | None = None, key: str | os.PathLike | None = None,
           key_sha256: str | None = None, require_signature: bool = False) -> list[str]:
    """Problems found in a bundle: files changed, missing or added, an incomplete session, a bad signature,
    a manifest other than the one expected. [] when there are none.

    Parameters
    ----------
    bundle : path
        The bundle folder (the one holding ``MANIFEST.sha256``).
    expect : str, optional
        The manifest's SHA-256 as recorded elsewhere (the run prints it; the JUnit XML keeps it).
    key : path, optional
        A trusted Ed25519 public key (PEM): the bundle must be signed, and signed with it.
    key_sha256 : str, optional
        The SHA-256 of the trusted public key (64 hex digits, as ``fairprobe keygen`` and ``verify`` print
        it): the bundle must be signed with the key it names, and that key must be this one.
    require_signature : bool, default False
        The bundle must be signed (an unsigned bundle, or one whose signature was stripped, is a problem).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> verify(Path(tempfile.mkdtemp()) / "nowhere")  # doctest: +ELLIPSIS
    ['.../nowhere: no such folder; give the path of an evidence bundle ...']
    """
    if not isinstance(bundle, (str, os.PathLike)):
        raise InvalidSpec(f"verify takes the path of an evidence bundle (a folder holding MANIFEST.sha256); got "
                          f"{given(bundle)}")
    bundle = Path(bundle)
    try:
        return _verify(bundle, expect, key, key_sha256, require_signature)
    except Exception as exc:  # verify promises sentences, never a traceback: anything unforeseen becomes one
        return [f"{bundle}: could not be checked ({type(exc).__name__}: {exc})"]


def _verify(bundle: Path, expect: str | None, key: str | os.PathLike | None, key_sha256: str | None,
            require_signature: bool) -> list[str]:
    if not bundle.exists():
        return [f"{bundle}: no such folder; give the path of an evidence bundle (a folder holding {MANIFEST}) "
                "or of the report directory"]
    if not bundle.is_dir():
        return [f"{bundle}: is a file, not an evidence bundle; give the bundle's folder (it holds {MANIFEST})"]
    path = bundle / MANIFEST
    if not path.exists():
        return [f"{bundle}: no {MANIFEST} here, so not a fairprobe evidence bundle; give the path of a bundle (a "
                f"folder holding {MANIFEST}) or of the report directory"]
    if not path.is_file():
        return [f"{MANIFEST}: is not a plain file (a folder or a link stands in its place)"]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [f"{MANIFEST}: cannot be read ({exc.strerror or exc})"]
    entries, problems = parse_manifest(raw)
    document, doc_problems = _document(bundle, entries)
    problems += _files(bundle, entries, signed=bool(document and document.get("signature")))
    problems += doc_problems
    version = str(document.get("schema_version", SCHEMA_VERSION)) if document else SCHEMA_VERSION
    required = REQUIRED.get(version, REQUIRED[SCHEMA_VERSION])
    missing = [name for name in required if name not in entries]
    if missing:
        problems.append(f"the manifest does not list {', '.join(missing)}, which every bundle holds (it must list "
                        f"{', '.join(required)}): lines were removed or the manifest was replaced")
    if document is not None:
        problems += _against_document(document, entries, required)
    problems += _signature(bundle, raw, document, key, key_sha256, require_signature)
    if expect is not None:
        wanted = expect.strip().lower()
        actual = hashlib.sha256(raw).hexdigest()
        if not _HEX64.match(wanted):
            problems.append(f"--expect must be the manifest's SHA-256 (64 hex digits, as the run printed it); got "
                            f"{expect!r}")
        elif wanted != actual:
            problems.append(f"{MANIFEST}: its SHA-256 is {actual}, not the expected {wanted}: the bundle was "
                            "rewritten after its digest was recorded, or it is another run's bundle")
    return problems


def parse_manifest(raw: bytes) -> tuple[dict[str, str], list[str]]:
    """The manifest's ``{file name: sha256}`` and the problems of its lines.

    Examples
    --------
    >>> parse_manifest(b"0" * 64 + b"  evidence.json\\n")
    ({'evidence.json': '0000000000000000000000000000000000000000000000000000000000000000'}, [])
    >>> parse_manifest(b"\\xff\\n")[1]
    ['MANIFEST.sha256 line 1 is not UTF-8 text (byte 0xff at position 1): the manifest was damaged or edited']
    """
    entries: dict[str, str] = {}
    problems: list[str] = []
    if not raw.strip():
        return entries, [f"{MANIFEST} is empty: a manifest lists every file of its bundle"]
    lines = raw.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    else:
        problems.append(f"{MANIFEST} does not end with a line break: it was cut short or edited")
    for number, line in enumerate(lines, 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{MANIFEST} line {number} is not UTF-8 text (byte 0x{line[exc.start]:02x} at position "
                            f"{exc.start + 1}): the manifest was damaged or edited")
            continue
        match = _LINE.match(text)
        if not match or match.group(2) in (".", "..") or match.group(2).strip() != match.group(2):
            problems.append(f"{MANIFEST} line {number} is malformed: {text[:100]!r} (expected '<64 hex digits>  "
                            "<file name>')")
            continue
        digest, name = match.groups()
        if name in (MANIFEST, SIGNATURE):
            problems.append(f"{MANIFEST} line {number} lists {name}, which a manifest never lists")
        elif name in entries:
            problems.append(f"{MANIFEST} line {number} lists {name} a second time")
        else:
            entries[name] = digest
    return entries, problems


def _files(bundle: Path, entries: dict[str, str], *, signed: bool) -> list[str]:
    problems = []
    for name, digest in entries.items():
        path = bundle / name
        if path.is_symlink():
            problems.append(f"{name}: is a symbolic link; a bundle holds plain files only")
        elif not path.exists():
            problems.append(f"{name}: listed in the manifest but missing")
        elif not path.is_file():
            problems.append(f"{name}: listed in the manifest as a file, but a folder stands in its place")
        else:
            try:
                actual = _sha256(path)
            except OSError as exc:
                problems.append(f"{name}: cannot be read ({exc.strerror or exc})")
                continue
            if actual != digest:
                problems.append(f"{name}: changed since it was written (SHA-256 differs from the manifest)")
    for extra in sorted(p.name for p in bundle.iterdir()):
        if extra in entries or extra == MANIFEST or (extra == SIGNATURE and signed):
            continue
        if extra == SIGNATURE:
            problems.append(f"{SIGNATURE}: a signature file, but evidence.json records no signature")
        else:
            problems.append(f"{extra}: not in the manifest (added after the bundle was written)")
    return problems


def _document(bundle: Path, entries: dict[str, str]) -> tuple[dict[str, Any] | None, list[str]]:
    path = bundle / EVIDENCE
    if not path.is_file() or path.is_symlink():
        return None, []
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        return None, [f"{EVIDENCE}: cannot be read ({exc.strerror or exc})"]
    except UnicodeDecodeError as exc:
        return None, [f"{EVIDENCE} is not UTF-8 text (a damaged byte at position {exc.start + 1})"]
    except json.JSONDecodeError as exc:
        return None, [f"{EVIDENCE} does not parse as JSON: {exc}"]
    if not isinstance(document, dict) or document.get("schema") != "fairprobe-evidence":
        return None, [f"{EVIDENCE} is not a fairprobe evidence document (its 'schema' is not 'fairprobe-evidence')"]
    version = str(document.get("schema_version"))
    if version not in REQUIRED:
        return None, [f"{EVIDENCE} has schema_version {version!r}, which this fairprobe does not know (it reads "
                      f"{', '.join(REQUIRED)}): check it with the fairprobe that wrote it, or a newer one"]
    return document, []


def _against_document(document: dict[str, Any], entries: dict[str, str], required: tuple[str, ...]) -> list[str]:
    problems = []
    files = document.get("files")
    if files is None and document.get("schema_version") == "1.0":
        files = list(required)  # version 1.0 bundles held the required files only
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return [f"{EVIDENCE} does not list the bundle's files (its 'files' is missing or not a list of names)"]
    for name in sorted(set(files) - set(entries)):
        if name not in required:  # a required file missing from the manifest is reported already
            problems.append(f"{name}: evidence.json lists it as part of the bundle, but the manifest does not (a file "
                            "and its manifest line were removed)")
    for name in sorted(set(entries) - set(files)):
        problems.append(f"{name}: in the manifest, but not among the files evidence.json lists (added with a "
                        "manifest line after the bundle was written)")
    if document.get("incomplete"):
        session = document.get("session") or {}
        ran, collected = session.get("ran"), session.get("collected")
        counts = f"{ran} of {collected} tests ran" if ran is not None and collected else "not every test ran"
        status = session.get("exit_status")
        problems.append(f"incomplete: {counts} (the session was interrupted"
                        + (f", pytest exit status {status})" if status is not None else ")")
                        + "; this bundle does not cover the whole suite: rerun it to completion")
    return problems


def _signature(bundle: Path, manifest: bytes, document: dict[str, Any] | None, key: str | os.PathLike | None,
               key_sha256: str | None, require_signature: bool) -> list[str]:
    from fairprobe.errors import FairprobeError

    pinned = None
    if key_sha256 is not None:
        pinned = str(key_sha256).strip().lower()
        if not _HEX64.match(pinned):
            return [f"--key-sha256 must be the public key's SHA-256 (64 hex digits, as fairprobe keygen and verify "
                    f"print it); got {key_sha256!r}"]
    recorded = (document or {}).get("signature")
    wanted = [flag for flag, given in (("--key", key is not None), ("--key-sha256", pinned is not None),
                                       ("--require-signature", require_signature)) if given]
    if recorded is None and not wanted:
        return []
    path = bundle / SIGNATURE
    if recorded is None:
        # A signature file without its record is reported by _files; evidence.json says the bundle is unsigned.
        return [f"the bundle is not signed (evidence.json records no signature), but {' and '.join(wanted)} was "
                "given: it cannot be the signed bundle you expect (a stripped signature reads as this)"]
    if not path.is_file():
        return [f"{SIGNATURE}: the bundle was signed but its signature is missing"]
    from fairprobe.evidence import signing

    try:
        named = base64.b64decode(str(recorded.get("public_key", "")), validate=True)
        public = signing.load_public_key(key) if key is not None else named
        valid = signing.signature_valid(manifest, path.read_bytes(), public)
    except (FairprobeError, ValueError, OSError) as exc:
        return [f"{SIGNATURE}: cannot be checked: {exc}"]
    if pinned is not None and signing.key_id(public) != pinned:
        return [f"{SIGNATURE}: signed with key sha256 {signing.key_id(public)}, not the pinned {pinned} "
                "(--key-sha256): another key signed this bundle"]
    if valid:
        return []
    if key is not None:
        theirs = (recorded or {}).get("public_key_sha256", "unknown")
        return [f"{SIGNATURE}: the signature does not verify with {key} (key sha256 {signing.key_id(public)[:16]}; "
                f"the bundle names key {str(theirs)[:16]}): the manifest was changed after signing, or another key "
                "signed it"]
    return [f"{SIGNATURE}: the signature does not match the manifest (changed after signing)"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
