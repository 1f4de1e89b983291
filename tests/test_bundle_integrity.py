"""What anchors a bundle, and what becomes of LATEST when a write is cut short (issues #17 and #21): signatures
that must be there and must be the trusted key's, an interrupt or a full disk at the LATEST update, a folder's
verify that says which bundle it checked, and a manifest hash over the whole of a large file."""

import base64
import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import fairprobe as fp
from fairprobe.cli import main
from fairprobe.evidence import bundle as bundle_module
from fairprobe.evidence import signing


@pytest.fixture(scope="module")
def results():
    world = fp.worlds.hiring(n=500, seed=5)
    probe = fp.Probe(data=world.data, model=lambda df: (df["sex"] == "male").to_numpy() | (df["skills_score"] > 60),
                     protected=["sex"], label="hired", held=["skills_score"], name="biased screener")
    return [probe.invariance("sex", max_flip_rate=0.01)]


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    pytest.importorskip("cryptography")
    folder = tmp_path_factory.mktemp("keys")
    trusted = fp.evidence.keygen(folder, name="trusted")
    forger = fp.evidence.keygen(folder, name="forger")
    return trusted, forger


def make(results, path, **options):
    evidence = fp.Evidence(seed=0, collected=1, ran=1, **options)
    for r in results:
        evidence.add(r, test="tests/x.py::test_y")
    return evidence.write(path)


def edit(bundle, change):
    document = json.loads((bundle / "evidence.json").read_text())
    change(document)
    (bundle / "evidence.json").write_text(json.dumps(document, indent=2))


def recompute(bundle):
    names = sorted(p.name for p in bundle.iterdir() if p.name not in ("MANIFEST.sha256", "MANIFEST.sha256.sig"))
    (bundle / "MANIFEST.sha256").write_text(
        "".join(f"{hashlib.sha256((bundle / n).read_bytes()).hexdigest()}  {n}\n" for n in names))


def fingerprint(public):
    return signing.key_id(signing.load_public_key(public))


def run(capsys, *argv):
    status = main(["verify", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --------------------------------------------------------------------------- signatures


def test_an_unsigned_bundle_says_so_and_fails_where_a_signature_is_required(tmp_path, results, capsys):
    bundle = make(results, tmp_path)
    status, out, err = run(capsys, bundle)
    assert status == 0 and "UNSIGNED: nothing but a recorded digest ties it to its run" in out
    assert f"WARNING {bundle}: UNSIGNED and checked without --expect" in err
    status, out, err = run(capsys, bundle, "--require-signature")
    assert status == 1 and "FAILED the bundle is not signed (evidence.json records no signature), but " \
                           "--require-signature was given" in err
    status, out, err = run(capsys, bundle, "--expect", fp.evidence.manifest_digest(bundle))
    assert status == 0 and out.rstrip().endswith("matches --expect; UNSIGNED") and "WARNING" not in err


def test_a_stripped_signature_passes_only_a_check_that_asks_for_none(tmp_path, results, keys, capsys):
    (private, public), _ = keys
    bundle = make(results, tmp_path, sign_key=private)
    pin = fingerprint(public)
    assert run(capsys, bundle, "--key-sha256", pin)[0] == 0
    edit(bundle, lambda d: (d.pop("signature"), d["checks"][0].update(verdict="pass")))
    (bundle / "MANIFEST.sha256.sig").unlink()
    recompute(bundle)
    assert fp.verify(bundle) == []  # consistent in itself: without an anchor this is an unsigned bundle ...
    assert "UNSIGNED" in run(capsys, bundle)[1]  # ... and says so
    for anchor in (["--require-signature"], ["--key-sha256", pin], ["--key", public]):
        status, _, err = run(capsys, bundle, *anchor)
        assert status == 1 and "the bundle is not signed (evidence.json records no signature)" in err, anchor


def test_a_bundle_re_signed_with_another_key_fails_the_pinned_key(tmp_path, results, keys, capsys):
    (private, public), (forger_private, forger_public) = keys
    bundle = make(results, tmp_path, sign_key=private)
    forger = signing.load_signer(forger_private)
    edit(bundle, lambda d: (d.update(signature=forger.describe("MANIFEST.sha256.sig")),
                            d["checks"][0].update(verdict="pass")))
    recompute(bundle)
    (bundle / "MANIFEST.sha256.sig").write_bytes(forger.sign((bundle / "MANIFEST.sha256").read_bytes()))
    assert fp.verify(bundle) == [] and fp.verify(bundle, require_signature=True) == []  # signed, by someone
    status, out, _ = run(capsys, bundle)
    assert status == 0 and f"signed by key sha256 {fingerprint(forger_public)}, the key the bundle names" in out
    status, _, err = run(capsys, bundle, "--key-sha256", fingerprint(public).upper())
    assert status == 1 and (f"signed with key sha256 {fingerprint(forger_public)}, not the pinned "
                            f"{fingerprint(public)} (--key-sha256): another key signed this bundle") in err
    assert run(capsys, bundle, "--key", public)[0] == 1


def test_the_pinned_key_passes_its_own_bundle_and_keygen_prints_it(tmp_path, results, keys, capsys):
    (private, public), _ = keys
    bundle = make(results, tmp_path, sign_key=private)
    status, out, _ = run(capsys, bundle, "--key-sha256", fingerprint(public), "--require-signature")
    assert status == 0 and f"signed with the pinned key sha256 {fingerprint(public)}" in out
    status, _, err = run(capsys, bundle, "--key-sha256", "abc")
    assert status == 1 and "--key-sha256 must be the public key's SHA-256 (64 hex digits" in err
    assert main(["keygen", str(tmp_path / "k")]) == 0
    printed = capsys.readouterr().out
    assert f"key sha256 {fingerprint(tmp_path / 'k' / 'fairprobe-signing.pub')}" in printed
    assert "--key-sha256" in printed


def test_a_signature_file_on_an_unsigned_bundle_is_refused_even_when_valid(tmp_path, results, keys):
    (private, public), _ = keys
    bundle = make(results, tmp_path)
    # A valid signature by the trusted key, added after the run: evidence.json (which the manifest covers) says
    # the bundle was written unsigned, so the file is an addition, not part of the bundle.
    (bundle / "MANIFEST.sha256.sig").write_bytes(
        signing.load_signer(private).sign((bundle / "MANIFEST.sha256").read_bytes()))
    stray = "MANIFEST.sha256.sig: a signature file, but evidence.json records no signature"
    assert stray in fp.verify(bundle)
    assert stray in fp.verify(bundle, key=public)
    (bundle / "MANIFEST.sha256.sig").write_bytes(os.urandom(64))
    assert stray in fp.verify(bundle)


# --------------------------------------------------------------------------- the manifest's hashes


def test_a_change_beyond_the_first_mebibyte_of_a_file_is_caught(tmp_path, results):
    bundle = make(results, tmp_path)
    big = bundle / "counterexamples.csv"
    big.write_bytes(big.read_bytes() + b"x" * (3 * 2**20))  # a large file, listed with its full hash
    recompute(bundle)
    assert fp.verify(bundle) == []
    data = bytearray(big.read_bytes())
    data[2**20 + 2**19] ^= 0x01  # one bit, 1.5 MiB in
    big.write_bytes(bytes(data))
    assert fp.verify(bundle) == ["counterexamples.csv: changed since it was written (SHA-256 differs from the "
                                 "manifest)"]


# --------------------------------------------------------------------------- LATEST


def test_verify_of_a_report_folder_names_the_bundle_it_checked(tmp_path, results, capsys):
    reports = tmp_path / "reports"
    first = make(results, reports)
    second = make(results, reports)
    status, out, err = run(capsys, reports)
    assert status == 0 and f"checking {second} (named by {reports / 'LATEST'})" in out
    assert f"OK {second}" in out and first.name not in out + err


def _fail_fsync_of_latest(real):
    def fsync(fd):
        if ".LATEST." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)
    return fsync


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads the file behind a descriptor from /proc")
def test_a_full_disk_at_the_latest_update_keeps_the_bundle_and_says_where(tmp_path, results, monkeypatch, capsys):
    reports = tmp_path / "reports"
    older = make(results, reports)
    monkeypatch.setattr(bundle_module.os, "fsync", _fail_fsync_of_latest(os.fsync))
    with pytest.raises(fp.InvalidSpec, match=r"the bundle .*fairprobe-\S+ is complete, but .*LATEST could not be "
                                              r"updated \(No space left on device\); LATEST still names an older "
                                              r"bundle: check this one by its path"):
        make(results, reports)
    monkeypatch.undo()
    names = sorted(p.name for p in reports.iterdir())
    assert not [n for n in names if n.endswith(".tmp") or n.endswith(".partial")], names  # nothing left behind
    newer = next(reports / n for n in names if n.startswith("fairprobe-") and n != older.name)
    assert fp.verify(newer) == []  # the complete bundle is in place
    status, out, err = run(capsys, reports)
    assert status == 0 and f"checking {older} (named by {reports / 'LATEST'})" in out
    assert (f"WARNING {newer} is newer and complete, but LATEST names {older.name} (its update was interrupted or "
            f"failed): check the newer one by its path") in err


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread")
def test_an_interrupt_at_the_latest_update_waits_until_latest_names_the_new_bundle(tmp_path, results, monkeypatch):
    reports = tmp_path / "reports"
    older = make(results, reports)
    real_rename = os.rename

    def rename_then_interrupt(src, dst):
        real_rename(src, dst)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C right after the bundle is in place, before LATEST moves

    interrupted = []

    def handler(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        monkeypatch.setattr(bundle_module.os, "rename", rename_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            make(results, reports)
    finally:
        monkeypatch.undo()
        signal.signal(signal.SIGINT, previous)
    assert interrupted == [signal.SIGINT]  # delivered, once, after the critical section
    newer = [p for p in reports.iterdir() if p.name.startswith("fairprobe-") and p != older]
    assert len(newer) == 1 and (reports / "LATEST").read_text().strip() == newer[0].name
    assert fp.verify(newer[0]) == []
    assert not [p.name for p in reports.iterdir() if p.name.startswith(".")]


def test_stale_latest_temporaries_are_cleaned_on_the_next_write(tmp_path, results):
    reports = tmp_path / "reports"
    reports.mkdir()
    host = bundle_module._host_id()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    crashed = reports / f".LATEST.{host}.{dead}.abcdef.tmp"
    old = reports / ".LATEST.fedcba.tmp"  # written before temporaries named their process
    running = reports / f".LATEST.{host}.{os.getpid()}.123456.tmp"
    for path in (crashed, old, running):
        path.write_text("fairprobe-x\n")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    written = make(results, reports)
    assert not crashed.exists() and not old.exists()
    assert running.exists()  # a write in progress keeps its file
    assert (reports / "LATEST").read_text().strip() == written.name


def test_the_signature_record_names_the_key_that_verify_pins(tmp_path, results, keys):
    (private, public), _ = keys
    bundle = make(results, tmp_path, sign_key=private)
    recorded = json.loads((bundle / "evidence.json").read_text())["signature"]
    assert recorded["public_key_sha256"] == fingerprint(public)
    assert signing.key_id(base64.b64decode(recorded["public_key"])) == fingerprint(public)
