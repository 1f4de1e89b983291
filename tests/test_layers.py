"""The package's imports run downwards: each module leans only on the layers below it (issue #19).

Read from the source with ``ast``, so every import counts: at module level, inside functions (lazy
imports) and under ``if TYPE_CHECKING:``. Importing ``fairprobe.a.b`` also runs ``fairprobe/a/__init__.py``,
so a module depends on the packages above what it imports, as Python runs them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fairprobe"

# The layer order of shared/DESIGN.md's flow, lowest first. A module may import its own layer and the
# layers below it, never one above; within a layer the imports must not form a circle. A module not
# listed takes its package's layer (``fairprobe.twins.text.names`` -> ``fairprobe.twins``).
LAYERS: list[tuple[str, list[str]]] = [
    ("ground: errors and the verdict vocabulary", ["fairprobe.errors", "fairprobe.verdicts"]),
    ("values: checked options, tables, statistics, answers, results, settings", [
        "fairprobe.validation", "fairprobe.data", "fairprobe.stats", "fairprobe.predictions", "fairprobe.result",
        "fairprobe.settings", "fairprobe.redact", "fairprobe.proxies"]),
    ("twins, language models and adapters", [
        "fairprobe.twins", "fairprobe.llm", "fairprobe.adapters"]),
    ("the spec, worlds and checks", ["fairprobe.spec", "fairprobe.worlds", "fairprobe.checks"]),
    ("engines", ["fairprobe.engines"]),
    ("probes and gates", ["fairprobe.gates", "fairprobe.base_probe", "fairprobe.partitioned", "fairprobe.probe",
                          "fairprobe.strategies"]),
    ("evidence and the plugin's session", ["fairprobe.evidence", "fairprobe.session", "fairprobe.yaml_probes"]),
    ("the command line, the plugin and the public API", ["fairprobe.cli", "fairprobe", "_fairprobe_pytestplugin"]),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    found["_fairprobe_pytestplugin"] = ROOT / "_fairprobe_pytestplugin.py"
    return found


def _imported(name: str, path: Path, known: set[str]) -> set[str]:
    """Every fairprobe module that importing ``name`` makes Python run, read from its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # ``from pkg import submodule`` runs the submodule, else pkg's names
                submodule = f"{module}.{alias.name}"
                targets.add(submodule if submodule in known else module)
    runs: set[str] = set()
    for target in targets:
        if not (target == "fairprobe" or target.startswith("fairprobe.")):
            continue
        parts = target.split(".")
        # the module itself and every package above it, except the root (whose __init__ is the public API,
        # run by any import of the package and allowed to import everything)
        for i in range(2, len(parts) + 1):
            candidate = ".".join(parts[:i])
            # a package that holds ``name`` is already running when ``name`` runs: not a dependency of it
            if candidate in known and not name.startswith(candidate + "."):
                runs.add(candidate)
        if target == "fairprobe" and name != "fairprobe":
            runs.add("fairprobe")
    runs.discard(name)
    return runs


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: _imported(name, path, known) for name, path in found.items()}


def layer_of(name: str) -> int:
    best, depth = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = name == prefix or (prefix != "fairprobe" and name.startswith(prefix + "."))
            if matches and len(prefix) > depth:
                best, depth = index, len(prefix)
    if best is None:
        raise AssertionError(f"module {name!r} has no layer: add it (or its package) to LAYERS in {__file__}")
    return best


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    problems = []
    for name, targets in sorted(edges.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(name):
                problems.append(f"{name} (layer {layer_of(name)}: {LAYERS[layer_of(name)][0]}) imports {target} "
                                f"(layer {layer_of(target)}: {LAYERS[layer_of(target)][0]})")
    return problems


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer() -> None:
    for name in modules():
        layer_of(name)


def test_no_import_runs_up_a_layer() -> None:
    problems = upward_imports(graph())
    assert not problems, "imports that run up the layers:\n  " + "\n  ".join(problems)


def test_no_import_circles() -> None:
    # the root's __init__ re-exports the API and is run by every import of the package: left out of circles
    edges = {name: {t for t in targets if t != "fairprobe"} for name, targets in graph().items()}
    found = circles(edges)
    assert not found, "import circles:\n  " + "\n  ".join(" <-> ".join(c) for c in found)


def test_the_checker_sees_lazy_and_type_only_imports(tmp_path: Path) -> None:
    # The contract reads imports inside functions and under TYPE_CHECKING; a checker blind to them would
    # pass a package with a circle hidden in a lazy import.
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from fairprobe.probe import Probe\n"
        "def f():\n    from fairprobe.evidence import bundle\n"
        "from . import stats\n"
    )
    path = tmp_path / "fairprobe" / "errors.py"
    path.parent.mkdir()
    path.write_text(source)
    known = {"fairprobe.probe", "fairprobe.evidence", "fairprobe.evidence.bundle", "fairprobe.stats"}
    assert _imported("fairprobe.errors", path, known) == known


def test_the_checker_finds_an_upward_import_and_a_circle() -> None:
    edges = {"fairprobe.errors": {"fairprobe.result"}, "fairprobe.result": {"fairprobe.errors"}}
    assert upward_imports(edges) and circles(edges) == [["fairprobe.errors", "fairprobe.result"]]


def test_modules_stay_about_500_lines() -> None:
    # one job a module (STYLE.md); a module past this is split by job, not trimmed of its docstrings
    long = {m: n for m, p in modules().items() if (n := len(p.read_text().splitlines())) > 520}
    assert not long, f"modules over about 500 lines: {long}"
