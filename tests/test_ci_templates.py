"""The CI templates in docs/ci run as written: their probe and verify commands are executed here."""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TEMPLATES = Path(__file__).resolve().parents[1] / "docs" / "ci"

PROBE = '''
import fairprobe as fp

world = fp.worlds.hiring(n=800, seed=2)
probe = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected=["sex"],
                 label="hired", features=["sex", "skills_score"])

def test_sex_invariance():
    probe.assert_invariant("sex", max_flip_rate=0.02)
'''


def _commands(name: str) -> list[str]:
    """The template's shell lines that run fairprobe or pytest (installing is the platform's job)."""
    document = yaml.safe_load((TEMPLATES / name).read_text())
    lines: list[str] = []
    if "jobs" in document:  # GitHub Actions
        for job in document["jobs"].values():
            for step in job["steps"]:
                lines += [line for line in str(step.get("run", "")).splitlines()]
    else:  # GitLab CI
        for job in document.values():
            for key in ("before_script", "script", "after_script"):
                lines += list(job.get(key, []))
    return [line.split("  #")[0].strip() for line in lines
            if line.strip().startswith(("pytest", "fairprobe"))]


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_template_commands_gate_and_verify(name, tmp_path):
    commands = _commands(name)
    assert [c.split()[0] for c in commands] == ["pytest", "fairprobe"]
    (tmp_path / "probes").mkdir()
    (tmp_path / "probes" / "test_gate.py").write_text(PROBE)
    bin_dir = Path(sys.executable).parent
    for command in commands:
        argv = shlex.split(command)
        argv[0] = str(bin_dir / argv[0])
        done = subprocess.run([*argv, *(["-p", "no:cacheprovider"] if argv[0].endswith("pytest") else [])],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    assert (tmp_path / "reports" / "junit.xml").is_file()
    assert (tmp_path / "reports" / "LATEST").is_file()


def test_the_gate_fails_on_a_violation(tmp_path):
    command = _commands("github-actions.yml")[0]
    (tmp_path / "probes").mkdir()
    (tmp_path / "probes" / "test_gate.py").write_text(PROBE.replace('(df["skills_score"] > 50)', '(df["sex"] == "male")'))
    argv = shlex.split(command)
    argv[0] = str(Path(sys.executable).parent / argv[0])
    done = subprocess.run([*argv, "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "FairnessViolation: FAIL  invariance of the decision to sex" in done.stdout
