"""The floors pyproject.toml declares are the versions the second test environment runs (issue #21).

`make test-pandas2` installs through constraints-pandas2.txt; pytest and pluggy are pinned there at the floors the
project declares. A floor lowered without its pin (or a pin moved without its floor) would declare a version that
nothing tests.
"""

import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself needs tomli below 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {(r := Requirement(line)).name.lower(): r for line in project["dependencies"]}


def pinned() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints-pandas2.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line)
            assert match, f"constraints-pandas2.txt: not a name==version pin: {line!r}"
            pins[match[1].lower()] = Version(match[2])
    return pins


def floor(requirement: Requirement) -> Version:
    floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    assert len(floors) == 1, f"pyproject.toml: {requirement} should declare one floor (>=)"
    return floors[0]


@pytest.mark.parametrize("package", ["pytest", "pluggy"])
def test_the_declared_floor_is_the_version_the_second_environment_runs(package):
    requirement, pins = declared()[package], pinned()
    assert package in pins, f"constraints-pandas2.txt does not pin {package}: its declared floor is never tested"
    assert floor(requirement) == pins[package], (
        f"pyproject.toml declares {requirement} but make test-pandas2 runs {package}=={pins[package]}: move both")


def test_every_pin_of_the_second_environment_is_allowed_by_the_declared_requirements():
    requirements = declared()
    for package, version in pinned().items():
        if package in requirements:
            assert requirements[package].specifier.contains(version, prereleases=True), (
                f"constraints-pandas2.txt pins {package}=={version}, which pyproject.toml's "
                f"{requirements[package]} excludes")


def test_the_second_environment_installs_through_the_pins_and_ci_runs_it():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"\$\(VENV2\)/bin/python -m pip install [^\n]*-c constraints-pandas2\.txt", makefile)
    assert "make test-pandas2" in (ROOT / ".ci" / "run").read_text().splitlines()
