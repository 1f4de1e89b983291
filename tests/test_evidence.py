"""Evidence bundles: written whole, verifiable, and tamper-evident."""

import json
import os

import pytest

import fairprobe as fp
from fairprobe import evidence as ev
from fairprobe.cli import main


@pytest.fixture(scope="module")
def results():
    world = fp.worlds.hiring(n=800, seed=5)
    probe = fp.Probe(data=world.data, model=lambda df: (df["sex"] == "male").to_numpy() | (df["skills_score"] > 60),
                     protected=["sex"], label="hired", held=["skills_score"])
    return [probe.invariance("sex", max_flip_rate=0.01), probe.equalized_odds("sex", max_gap=0.05)]


@pytest.fixture
def bundle(tmp_path, results):
    evidence = fp.Evidence(seed=0, alpha=0.05, mode="detect")
    for r in results:
        evidence.add(r, test="tests/x.py::test_y")
    evidence.set_outcome("tests/x.py::test_y", "failed")
    return evidence.write(tmp_path / "reports")


def test_bundle_holds_the_files_and_a_manifest(bundle):
    assert sorted(p.name for p in bundle.iterdir()) == ["MANIFEST.sha256", "counterexamples.csv", "evidence.json",
                                                        "report.html"]
    assert (bundle.parent / "LATEST").read_text().strip() == bundle.name
    assert fp.verify(bundle) == []
    doc = json.loads((bundle / "evidence.json").read_text())
    assert doc["schema"] == "fairprobe-evidence" and doc["summary"]["verdicts"] == {"fail": 2}
    assert doc["checks"][0]["test_outcome"] == "failed"
    csv = (bundle / "counterexamples.csv").read_text().splitlines()
    assert csv[0].startswith("test,check,attributes,row,column,original,twin")
    assert len(csv) == 6 and all(",sex," in line for line in csv[1:])


def test_git_commit_is_recorded_inside_a_checkout_only(tmp_path, results):
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"],
                   cwd=repo, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    inside = fp.Evidence(root=str(repo)).to_dict()["git"]
    assert inside == {"commit": head, "dirty": False}
    outside = tmp_path / "plain"
    outside.mkdir()
    assert fp.Evidence(root=str(outside)).to_dict()["git"] is None


def test_html_report_is_self_contained(bundle):
    html = (bundle / "report.html").read_text()
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "invariance of the decision to sex" in html and "<svg" in html


@pytest.mark.parametrize("tamper,problem", [
    (lambda b: (b / "evidence.json").write_text((b / "evidence.json").read_text().replace('"fail"', '"pass"')),
     "evidence.json: changed since it was written"),
    (lambda b: (b / "report.html").unlink(), "report.html: listed in the manifest but missing"),
    (lambda b: (b / "extra.txt").write_text("x"), "extra.txt: not in the manifest"),
    (lambda b: (b / "MANIFEST.sha256").write_text("nonsense\n"), "MANIFEST.sha256 line 1 is malformed"),
])
def test_verify_finds_tampering(bundle, tamper, problem, capsys):
    tamper(bundle)
    problems = fp.verify(bundle)
    assert any(problem in p for p in problems), problems
    assert main(["verify", str(bundle)]) == 1
    assert problem in capsys.readouterr().err


def test_cli_verify_accepts_the_report_directory(bundle, capsys):
    assert main(["verify", str(bundle.parent)]) == 0
    assert f"OK {bundle}" in capsys.readouterr().out


def test_a_failed_write_leaves_nothing_behind(tmp_path, results, monkeypatch):
    evidence = fp.Evidence()
    evidence.add(results[0])
    synced = []

    def fsync_then_fail(fd):
        synced.append(fd)
        if len(synced) == 2:  # the second file of the bundle: the partial folder already holds one
            raise OSError("disk full")

    monkeypatch.setattr(ev.os, "fsync", fsync_then_fail)
    with pytest.raises(OSError, match="disk full"):
        evidence.write(tmp_path)
    assert len(synced) == 2  # the failure came mid-bundle, after a file was written
    assert os.listdir(tmp_path) == []


def test_unwritable_report_directory_is_a_clear_error(tmp_path, results):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    evidence = fp.Evidence()
    evidence.add(results[0])
    with pytest.raises(fp.InvalidSpec, match="cannot create the report directory"):
        evidence.write(blocker / "reports")


def test_collecting_outside_pytest(results):
    world = fp.worlds.hiring(n=300, seed=1)
    probe = fp.Probe(data=world.data, model=lambda df: df["skills_score"] > 50, protected="sex")
    with fp.settings.collecting() as seen, fp.settings.using(mode="certify", alpha=0.1):
        result = probe.invariance("sex", max_flip_rate=0.05)
    assert seen == [result] and result.mode == "certify" and result.alpha == 0.1
