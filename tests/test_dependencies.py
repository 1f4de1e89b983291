"""What a plain ``pip install fairprobe`` gets must be enough for what runs without an extra: the modules every probe
loads, and the plugin's collection of YAML probe files (PyYAML was once only in the test extra, so a user's
``probe_*.yaml`` raised ModuleNotFoundError on a plain install)."""

from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# modules whose own imports belong to an extra (they load only when that extra's feature is used)
EXTRA_MODULES = ("fairprobe/twins/cvae/",)
# modules on the plugin's path: every import in them, also inside functions, must be a core dependency
PLUGIN_PATH = ("_fairprobe_pytestplugin.py", "fairprobe/yaml_probes.py", "fairprobe/session.py")


def _core() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
            for requirement in project["dependencies"]}


def _third_party(tree: ast.AST, *, top_level_only: bool) -> set[str]:
    nodes = tree.body if top_level_only and isinstance(tree, ast.Module) else ast.walk(tree)
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("fairprobe", "_fairprobe_pytestplugin")
            and n != "__future__"}


@functools.lru_cache(maxsize=1)
def _installed() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _distributions(module: str) -> set[str]:
    found = _installed().get(module)
    assert found, f"{module!r} is imported but no installed distribution provides it"
    return {d.lower().replace("_", "-") for d in found}


def test_every_module_level_import_outside_the_extras_is_a_core_dependency():
    core, missing = _core(), []
    for path in sorted((ROOT / "fairprobe").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(EXTRA_MODULES):
            continue
        for module in _third_party(ast.parse(path.read_text()), top_level_only=True):
            if not _distributions(module) & core:
                missing.append(f"{relative}: {module}")
    assert not missing, f"imported at module level but not in [project] dependencies: {missing}"


def test_what_the_plugin_imports_to_collect_probe_files_is_a_core_dependency():
    core, missing = _core(), []
    for relative in PLUGIN_PATH:
        for module in _third_party(ast.parse((ROOT / relative).read_text()), top_level_only=False):
            if not _distributions(module) & core:
                missing.append(f"{relative}: {module}")
    assert "pyyaml" in core and not missing, f"the plugin needs these, not in [project] dependencies: {missing}"
