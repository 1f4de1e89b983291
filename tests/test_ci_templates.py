"""The CI templates in docs/ci are what a user copies into their own repository. Their commands are run here as
the CI platform runs them, in a temporary "user repository" (a requirements.txt, a probe file with a tiny model):

- the install step runs as written, in a fresh virtual environment, against a wheel built from this tree (pip
  pointed at a folder holding only that wheel, as a user's pip is pointed at PyPI; fairprobe's own dependencies
  are the running interpreter's, made visible without fairprobe). So the template's ``pip install`` line, the
  extras it names, the ``fairprobe`` command and the pytest plugin's entry point are those of the package a
  user gets, not of this checkout (building the wheel and installing it take a few seconds, once per template);
- then the probe and verify commands: on GitHub each ``run:`` step in its own ``bash -e`` (a step after a failed
  one only with ``if: always()``; ``continue-on-error`` steps do not fail the job), on GitLab ``before_script``
  and ``script`` in one shell with ``set -eo pipefail`` and ``after_script`` in another whose status is ignored,
  as their runners do.

On a fair model the job passes, on a biased one it fails (with its evidence checked), a bundle rewritten after the
run (manifest recomputed) makes the verify step fail, and a run that wrote no bundle fails it. No wall-clock limit:
a slow machine makes these slower, never red."""

import os
import re
import shutil
import site
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
TEMPLATE_NAMES = ["github-actions.yml", "gitlab-ci.yml"]

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

# What the runners do with the keys the templates use; a template that adds another makes the tests say so.
GITHUB_STEP_KEYS = {"name", "uses", "with", "run", "if", "continue-on-error", "env"}
GITLAB_JOB_KEYS = {"image", "stage", "before_script", "script", "after_script", "artifacts", "allow_failure"}


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


@pytest.fixture(scope="module")
def wheel_and_dependencies(tmp_path_factory):
    """A wheel built from this tree, and a folder showing the running interpreter's packages without fairprobe."""
    work = tmp_path_factory.mktemp("ci-wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "_fairprobe_pytestplugin.py"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "fairprobe", source / "fairprobe", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = work / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(wheels), str(source)], check=True, capture_output=True, text=True)
    dependencies = work / "dependencies"
    dependencies.mkdir()
    for folder in site.getsitepackages():
        for entry in Path(folder).iterdir():
            hidden = entry.name.startswith(("fairprobe", "_fairprobe", "__editable__")) or entry.suffix == ".pth"
            if not hidden and not (dependencies / entry.name).exists():
                (dependencies / entry.name).symlink_to(entry)
    return wheels, dependencies


def _shim(path, python, code):
    path.write_text(f"#!{python}\nimport sys\n{code}\nsys.exit(main())\n")
    path.chmod(0o755)


@pytest.fixture(scope="module")
def installed(wheel_and_dependencies, tmp_path_factory):
    """Per template: the environment its job runs in, after its install step ran as written."""
    wheels, dependencies = wheel_and_dependencies
    environments = {}
    for name in TEMPLATE_NAMES:
        venv = tmp_path_factory.mktemp("ci-venv")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                                  "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        (Path(purelib) / "dependencies.pth").write_text(f"{dependencies}\n")
        # pip and pytest as commands of this environment (their modules come from the dependencies folder)
        python = venv / "bin" / "python"
        _shim(venv / "bin" / "pip", python, "from pip._internal.cli.main import main")
        _shim(venv / "bin" / "pytest", python, "from pytest import main")
        env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(PATH=str(venv / "bin") + os.pathsep + os.environ.get("PATH", ""), VIRTUAL_ENV=str(venv),
                   PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels), PIP_DISABLE_PIP_VERSION_CHECK="1",
                   PYTEST_ADDOPTS="-p no:cacheprovider -p no:randomly")
        folder = tmp_path_factory.mktemp("ci-install")
        (folder / "requirements.txt").write_text("pandas\n")
        done = subprocess.run(["bash", "-e", "-c", "\n".join(_install_lines(name))], cwd=folder, env=env,
                              capture_output=True, text=True)
        environments[name] = (env, done, venv)
    return environments


def run_template(name, env, folder, probe=None, *, check_only=False, steps=None):
    """Run the template's commands after its install step in ``folder``: (the job's exit status, its output).
    ``check_only``: only the commands from the evidence check on, on what an earlier run left in ``folder``;
    ``steps``: GitHub steps to run in place of the template's (its signed variant)."""
    (folder / "requirements.txt").write_text("pandas\n")
    if probe is not None:
        (folder / "probes").mkdir()
        (folder / "probes" / "test_gate.py").write_text(probe)
    if name == "github-actions.yml":
        failed, output = False, ""
        for step in steps or _github():
            assert set(step) <= GITHUB_STEP_KEYS, set(step) - GITHUB_STEP_KEYS
            assert step.get("if", "success()") in ("success()", "always()"), step["if"]
            if "run" not in step or step.get("name") == "Install":
                continue
            if failed and step.get("if") != "always()":
                continue
            if check_only and "fairprobe verify" not in step["run"]:
                continue
            # GitHub's default shell for run: bash -e {0}
            done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=folder, capture_output=True, text=True,
                                  env={**env, **step.get("env", {})})
            output += done.stdout + done.stderr
            failed = failed or (done.returncode != 0 and not step.get("continue-on-error", False))
        return int(failed), output
    job = _gitlab()
    assert set(job) <= GITLAB_JOB_KEYS, set(job) - GITLAB_JOB_KEYS
    lines = list(job["script"])
    if check_only:
        lines = ["probes=0", *lines[next(i for i, line in enumerate(lines) if line.startswith("digest=")):]]
    # GitLab's runner: before_script (run once by the fixture) and script in one bash with errexit and pipefail,
    # then after_script in a shell of its own, whose status does not count
    done = subprocess.run(["bash", "-c", "set -eo pipefail\n" + "\n".join(lines)], cwd=folder, capture_output=True,
                          text=True, env=env)
    output = done.stdout + done.stderr
    if job.get("after_script"):
        after = subprocess.run(["bash", "-c", "set -eo pipefail\n" + "\n".join(job["after_script"])], cwd=folder,
                               capture_output=True, text=True, env=env)
        output += after.stdout + after.stderr
    status = 0 if job.get("allow_failure") else done.returncode
    return status, output


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
def test_the_install_step_as_written_installs_the_wheel(name, installed, tmp_path):
    env, done, venv = installed[name]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Successfully installed fairprobe-" in done.stdout
    where = subprocess.run(["python", "-c", "import fairprobe, _fairprobe_pytestplugin, shutil; "
                            "print(fairprobe.__file__, _fairprobe_pytestplugin.__file__, shutil.which('fairprobe'))"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(path).is_relative_to(venv) for path in where), (where, venv)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_a_fair_model_passes_and_a_bundle_rewritten_after_the_run_fails_the_job(name, installed, tmp_path):
    env = installed[name][0]
    status, output = run_template(name, env, tmp_path, PROBE)
    assert status == 0, output[-3000:]
    digest = re.search(r"^manifest sha256 ([0-9a-f]{64})$", output, re.M).group(1)
    reports = tmp_path / "reports"
    bundle = reports / (reports / "LATEST").read_text().strip()
    assert fp.evidence.manifest_digest(bundle) == digest
    assert (reports / "junit.xml").is_file()
    subprocess.run([sys.executable, "-c", TAMPER], cwd=tmp_path, check=True)
    assert fp.verify(bundle) == []  # consistent in itself: only the printed digest catches it
    tampered_status, tampered_output = run_template(name, env, tmp_path, check_only=True)
    assert tampered_status != 0, tampered_output
    assert "FAILED MANIFEST.sha256: its SHA-256 is" in tampered_output
    assert f"not the expected {digest}" in tampered_output
    assert f"OK reports/{bundle.name}" in output and "matches --expect" in output


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_a_violation_fails_the_job_and_the_evidence_is_still_checked(name, installed, tmp_path):
    status, output = run_template(name, installed[name][0], tmp_path, BIASED)
    assert status != 0
    assert "FairnessViolation: FAIL  invariance of the decision to sex" in output
    assert "matches --expect" in output  # the check ran after the failed probes, and the bundle is intact


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_a_run_that_wrote_no_bundle_fails_the_check(name, installed, tmp_path):
    status, output = run_template(name, installed[name][0], tmp_path, BROKEN)
    assert status != 0
    assert "ModuleNotFoundError" in output and "FAILED reports: no MANIFEST.sha256 here" in output


def _signed_github_steps(secret, fingerprint):
    """The GitHub template changed as its comment on signed evidence says."""
    comment = (TEMPLATES / "github-actions.yml").read_text()
    write_key = """printf '%s\\n' "$FAIRPROBE_SIGNING_KEY" > signing.key"""
    for said in ("fairprobe keygen keys", "keys/fairprobe-signing.key as the secret FAIRPROBE_SIGNING_KEY",
                 f"# {write_key}\n", "add --fairprobe-sign signing.key to its pytest line",
                 'replace --expect "$digest" with\n      # --key-sha256 <that key sha256>'):
        assert said in comment, said
    steps = []
    for step in _github():
        step = dict(step)
        if "pytest probes" in step.get("run", ""):
            step["env"] = {"FAIRPROBE_SIGNING_KEY": secret}
            step["run"] = write_key + "\n" + step["run"].replace("pytest probes", "pytest probes --fairprobe-sign signing.key")
        if "fairprobe verify" in step.get("run", ""):
            assert '--expect "$digest"' in step["run"]
            step["run"] = step["run"].replace('--expect "$digest"', f"--key-sha256 {fingerprint}")
        steps.append(step)
    return steps


def test_the_signed_variant_its_comment_describes_pins_the_key(installed, tmp_path):
    pytest.importorskip("cryptography")
    env = installed["github-actions.yml"][0]
    keys = subprocess.run(["fairprobe", "keygen", "keys"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=True).stdout
    fingerprint = re.search(r"^key sha256 ([0-9a-f]{64})$", keys, re.M).group(1)
    steps = _signed_github_steps((tmp_path / "keys" / "fairprobe-signing.key").read_text(), fingerprint)
    status, output = run_template("github-actions.yml", env, tmp_path, PROBE, steps=steps)
    assert status == 0, output[-3000:]
    assert f"signed with the pinned key sha256 {fingerprint}" in output
    reports = tmp_path / "reports"
    bundle = reports / (reports / "LATEST").read_text().strip()
    assert (bundle / "MANIFEST.sha256.sig").is_file()
    check = [step for step in steps if "fairprobe verify" in step.get("run", "")]
    # a bundle rewritten after the run (manifest recomputed): its signature no longer holds
    subprocess.run([sys.executable, "-c", TAMPER], cwd=tmp_path, check=True)
    status, output = run_template("github-actions.yml", env, tmp_path, check_only=True, steps=check)
    assert status != 0, output
    assert "FAILED" in output and "signature" in output, output
    # and with the signature removed as well: the pinned key refuses an unsigned bundle
    (bundle / "MANIFEST.sha256.sig").unlink()
    status, output = run_template("github-actions.yml", env, tmp_path, check_only=True, steps=check)
    assert status != 0 and "signature is missing" in output, output


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
