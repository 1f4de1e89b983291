"""The CI templates in docs/ci are what a user copies into their own repository: they install fairprobe as a
dependency, and their probe and verify commands are run here as the CI platform runs them (a step after a
failed one only with ``if: always()`` on GitHub; GitLab's script in one shell, as its runner does), on a fair
model, a biased one, a bundle rewritten after the run and a run that wrote no bundle."""

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

import fairprobe as fp

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "docs" / "ci"

PROBE = '''
import fairprobe as fp

world = fp.worlds.hiring(n=800, seed=2)
probe = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected=["sex"],
                 label="hired", features=["sex", "skills_score"])

def test_sex_invariance():
    probe.assert_invariant("sex", max_flip_rate=0.02)
'''
BIASED = PROBE.replace('(df["skills_score"] > 50)', '(df["sex"] == "male")')
BROKEN = "import nothing_of_the_kind\n"

# What a forger does between the two steps: change a verdict and recompute the manifest (consistent in itself).
TAMPER = '''
import hashlib, json, pathlib
reports = pathlib.Path("reports")
bundle = reports / (reports / "LATEST").read_text().strip()
document = json.loads((bundle / "evidence.json").read_text())
document["checks"][0]["verdict"] = "pass"
(bundle / "evidence.json").write_text(json.dumps(document))
names = sorted(p.name for p in bundle.iterdir() if p.name != "MANIFEST.sha256")
(bundle / "MANIFEST.sha256").write_text("".join(
    f"{hashlib.sha256((bundle / n).read_bytes()).hexdigest()}  {n}\\n" for n in names))
'''


def _github():
    return yaml.safe_load((TEMPLATES / "github-actions.yml").read_text())["jobs"]["fairness"]["steps"]


def _gitlab():
    return yaml.safe_load((TEMPLATES / "gitlab-ci.yml").read_text())["fairness"]


def _install_lines(name):
    if name == "github-actions.yml":
        lines = [line for step in _github() if step.get("name") == "Install" for line in step["run"].splitlines()]
    else:
        lines = _gitlab()["before_script"]
    return [line.split("  #")[0].strip() for line in lines if line.strip()]


def _environment():
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "PYTEST_ADDOPTS": "-p no:cacheprovider -p no:randomly"}


def run_template(name, folder, probe=None, *, check_only=False):
    """Run the template's probe and verify commands in ``folder``: (the job's exit status, its output).
    ``check_only``: only the commands from the check on, on what an earlier run left in ``folder``."""
    if probe is not None:
        (folder / "probes").mkdir()
        (folder / "probes" / "test_gate.py").write_text(probe)
    if name == "github-actions.yml":
        failed, output = False, ""
        for step in _github():
            if "run" not in step or step.get("name") == "Install":
                continue
            if failed and step.get("if") != "always()":
                continue
            if check_only and "fairprobe verify" not in step["run"]:
                continue
            # GitHub's default shell for run: bash -e {0}
            done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=folder, capture_output=True, text=True,
                                  env=_environment(), timeout=600)
            output += done.stdout + done.stderr
            failed = failed or done.returncode != 0
        return int(failed), output
    lines = list(_gitlab()["script"])
    if check_only:
        lines = ["probes=0", *lines[next(i for i, line in enumerate(lines) if line.startswith("digest=")):]]
    # GitLab's runner runs the script lines in one bash with errexit and pipefail
    done = subprocess.run(["bash", "-c", "set -eo pipefail\n" + "\n".join(lines)], cwd=folder, capture_output=True,
                          text=True, env=_environment(), timeout=600)
    return done.returncode, done.stdout + done.stderr


TEMPLATE_NAMES = ["github-actions.yml", "gitlab-ci.yml"]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_fairprobe_is_installed_as_a_dependency_not_from_a_checkout(name):
    lines = _install_lines(name)
    extras = set(metadata.metadata("fairprobe").get_all("Provides-Extra") or ())
    found = []
    for line in lines:
        assert line.startswith("pip install "), line
        assert " -e " not in f" {line} " and not re.search(r"\s\.(\s|$|\[)|\s\"\.\[", line), line
        for arg in line.split()[2:]:
            if arg.startswith("-"):
                assert arg == "-r", line  # a requirements file of the user's project, nothing else
                continue
            if arg == "requirements.txt":
                continue
            requirement = Requirement(arg.strip("\"'"))
            assert requirement.name == "fairprobe" and requirement.extras <= extras, (arg, extras)
            assert requirement.specifier.contains(fp.__version__), (arg, fp.__version__)
            found.append(requirement)
    assert len(found) == 1


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_a_fair_model_passes_and_a_bundle_rewritten_after_the_run_fails_the_job(name, tmp_path):
    status, output = run_template(name, tmp_path, PROBE)
    assert status == 0, output[-3000:]
    digest = re.search(r"^manifest sha256 ([0-9a-f]{64})$", output, re.M).group(1)
    reports = tmp_path / "reports"
    bundle = reports / (reports / "LATEST").read_text().strip()
    assert fp.evidence.manifest_digest(bundle) == digest
    assert f"OK reports/{bundle.name}" in output and "matches --expect" in output
    assert (reports / "junit.xml").is_file()
    subprocess.run([sys.executable, "-c", TAMPER], cwd=tmp_path, check=True)
    assert fp.verify(bundle) == []  # consistent in itself: only the printed digest catches it
    status, output = run_template(name, tmp_path, check_only=True)
    assert status != 0
    assert "FAILED MANIFEST.sha256: its SHA-256 is" in output and f"not the expected {digest}" in output


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_a_violation_fails_the_job_and_the_evidence_is_still_checked(name, tmp_path):
    status, output = run_template(name, tmp_path, BIASED)
    assert status != 0
    assert "FairnessViolation: FAIL  invariance of the decision to sex" in output
    assert "matches --expect" in output  # the check ran after the failed probes, and the bundle is intact


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_a_run_that_wrote_no_bundle_fails_the_check(name, tmp_path):
    status, output = run_template(name, tmp_path, BROKEN)
    assert status != 0
    assert "ModuleNotFoundError" in output and "FAILED reports: no MANIFEST.sha256 here" in output


def test_on_gitlab_the_check_is_in_the_script_whose_status_fails_the_job():
    job = _gitlab()
    assert not any("fairprobe" in line for line in job.get("after_script", []))
    script = job["script"]
    verify = next(i for i, line in enumerate(script) if line.startswith("fairprobe verify"))
    probes = next(i for i, line in enumerate(script) if line.startswith("pytest"))
    assert probes < verify < len(script) - 1 and script[-1] == "exit $probes"


def test_the_readme_shows_the_github_template_as_it_is_copied():
    template = (TEMPLATES / "github-actions.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    assert f"```yaml\n{template}```" in readme
