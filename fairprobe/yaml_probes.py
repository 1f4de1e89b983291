"""Declarative probes: ``probe_*.yaml`` files collected as pytest items, one item per check.

A compliance team can add a probe without writing Python::

    name: resume screener
    data: ${FAIRPROBE_DATASETS}/adult_test.csv        # CSV or Parquet, relative to this file; or a world:
    # data: {world: hiring, n: 6000, seed: 2}         #   the embedded hiring world
    model: models/screener.skops                      # .skops (trust: [...] for its extra types), or
    # model: my_package.models:screener               #   a Python object, "module:attribute"
    protected: [sex, race]
    held: [education, hours_per_week]
    label: income
    label_positive: ">50K"                            # the label's favourable value; the model's class: model_positive
    twins: flip                                       # flip | cvae | a saved .safetensors generator
    checks:
      - invariance: sex
        max_flip_rate: 0.01
      - equalized_odds: [sex, race]
        max_gap: 0.1
      - demographic_parity: race
        min_ratio: 0.8

Errors name the file and the line. The items record their checks like any probe (evidence,
JUnit properties, the summary table); a failing check reads as the same violation report.
Modelled on pytest's ``doc/en/example/nonpython`` (``pytest.File``, ``pytest.Item``,
``repr_failure``, ``reportinfo``).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fairprobe.errors import closest, FairnessViolation, FairprobeError, given, InvalidSpec
from fairprobe.spec import PARTITION_SETTINGS, PROBE_SETTINGS

# every setting of a Probe (fairprobe.spec names them once), and what only a file needs
PROBE_KEYS = {"data", "model", "trust", "checks", *PROBE_SETTINGS, *PARTITION_SETTINGS}
SPECIAL = ("twins", "derived")  # read from the file's own form (a path relative to it, 'module:function's)
REQUIRED = ("data", "model", "protected", "checks")
CHECKS = {"invariance": "invariance", "equalized_odds": "equalized_odds", "demographic_parity": "demographic_parity"}


def check_options(kind: str) -> set[str]:
    """The options a check takes in a probe file: the keyword options of the Probe's method (named there only)."""
    import inspect

    from fairprobe.probe import Probe

    parameters = inspect.signature(getattr(Probe, CHECKS[kind])).parameters.values()
    return {p.name for p in parameters if p.kind is p.KEYWORD_ONLY}


class YamlProbeError(FairprobeError):
    """A probe file is not usable as written; the message names the file and the line."""


MAX_FILE_BYTES = 1_000_000  # a probe file is a page of settings; a bigger one is a mistake or an attack
MAX_NODES = 100_000  # nodes after aliases are expanded: caps "billion laughs" files, which expand exponentially


def load(path: Path) -> tuple[dict[str, Any], dict[tuple[Any, ...], int]]:
    """The probe file as data, and the line of every key and item (by path) for error messages.

    A key repeated in one mapping is an error naming both lines (the later would silently win); a file over
    1 MB, aliases that expand to more than 100,000 nodes or refer to themselves are errors too."""
    import yaml

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlProbeError(f"{path}: the probe file is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,}; "
                                 "a probe file holds settings: put data in a CSV or Parquet file named by data:")
        text = path.read_text(encoding="utf-8")
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                data = None
            else:
                _check_size(node, path)
                _check_duplicates(node, path, set())
                data = loader.construct_document(node)
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlProbeError(f"{path}: cannot read the probe file ({exc})") from None
    except RecursionError:
        raise YamlProbeError(f"{path}: the file nests too deep to read; a probe file's settings are a few levels "
                             "deep") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise YamlProbeError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise YamlProbeError(f"{path}:1: a probe file is a mapping of settings (data:, model:, protected:, "
                             f"checks:, ...); got {given(data)}")
    lines: dict[tuple[Any, ...], int] = {}
    _walk(node, (), lines)
    return data, lines


def _check_size(root: Any, path: Path) -> None:
    """Count the nodes the document expands to (an alias counts its whole target again), without expanding it;
    a node that contains itself through an alias is an error."""
    import yaml

    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise YamlProbeError(f"{path}:{node.start_mark.line + 1}: an alias refers to the node that contains it "
                                 "(a recursive alias); a probe file's settings must be finite")
        open_.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            children = [c for pair in node.value for c in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise YamlProbeError(f"{path}:{node.start_mark.line + 1}: the file's aliases expand to more than "
                                     f"{MAX_NODES:,} values (an alias bomb?); write the settings out without "
                                     "nested aliases")
        open_.discard(key)
        sizes[key] = total
        return total

    stack_limit = sys.getrecursionlimit()
    try:
        size(root)
    except RecursionError:
        raise YamlProbeError(f"{path}: the file nests deeper than {stack_limit} levels; a probe file's settings "
                             "are a few levels deep") from None


def _check_duplicates(node: Any, path: Path, seen: set[int]) -> None:
    """A key given twice in one mapping: an error naming both lines (YAML loaders let the later one win)."""
    import yaml

    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                name = (key.tag, key.value)
                line = key.start_mark.line + 1
                if name in first:
                    raise YamlProbeError(f"{path}:{line}: the key {key.value!r} is given twice in one mapping (lines "
                                         f"{first[name]} and {line}); YAML would keep only the later value: keep "
                                         "one of them")
                first[name] = line
            _check_duplicates(key, path, seen)
            _check_duplicates(value, path, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicates(item, path, seen)


def _walk(node: Any, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _walk(value, (*path, key.value), lines)
            where = (*path, key.value)  # a name: mypy reads d[(*a, b)] as 3.11 syntax
            lines[where] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _walk(value, (*path, i), lines)


def _named(message: str, keys: list[Any]) -> Any:
    """The key an error message names first (``alpha must be ...`` -> ``alpha``), or None: the line to point at."""
    found = [(m.start(), k) for k in keys if (m := re.search(rf"(?<![\w.]){re.escape(str(k))}(?!\w)", message))]
    return min(found, key=lambda hit: hit[0])[1] if found else None


class ProbeFile(pytest.File):
    """A ``probe_*.yaml`` file: validated when collected, its probe built once for all its checks."""

    def collect(self) -> Iterator[pytest.Item]:
        self.data, self.lines = load(self.path)
        self._validate()
        self._probe: Any = None
        for i, check in enumerate(self.data["checks"]):
            kind = next(k for k in check if k in CHECKS)
            attributes = check[kind]
            label = attributes if isinstance(attributes, str) else "|".join(map(str, attributes))
            yield CheckItem.from_parent(self, name=f"{kind}[{label}]", index=i, kind=kind)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, YamlProbeError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def where(self, *path: Any) -> str:
        """``file:line`` of a key or item (or of the nearest enclosing one)."""
        while path and path not in self.lines:
            path = path[:-1]
        return f"{self.path}:{self.lines.get(path, 1)}"

    def fail(self, message: str, *path: Any) -> YamlProbeError:
        return YamlProbeError(f"{self.where(*path)}: {message}")

    def _validate(self) -> None:
        data = self.data
        for key in data:
            if key not in PROBE_KEYS:
                hint = closest(str(key), PROBE_KEYS)
                raise self.fail(f"unknown setting {key!r}" + (f"; did you mean {hint!r}?" if hint else "")
                                + f" (settings: {', '.join(sorted(PROBE_KEYS))})", key)
        for key in REQUIRED:
            if key not in data:
                raise self.fail(f"the probe needs {key}: (required: {', '.join(REQUIRED)})")
        checks = data["checks"]
        if not isinstance(checks, list) or not checks:
            raise self.fail("checks: must be a list of checks, e.g. '- invariance: sex' with 'max_flip_rate: 0.01'",
                            "checks")
        for i, check in enumerate(checks):
            if not isinstance(check, dict):
                raise self.fail(f"each check is a mapping such as '- invariance: sex'; got {check!r}", "checks", i)
            kinds = [k for k in check if k in CHECKS]
            if len(kinds) != 1:
                raise self.fail(f"a check names exactly one of {', '.join(CHECKS)} (got {sorted(map(str, check))})",
                                "checks", i)
            kind = kinds[0]
            target = check[kind]
            if not (isinstance(target, str) and target) and not (
                    isinstance(target, list) and target and all(isinstance(a, str) for a in target)):
                raise self.fail(f"{kind}: names a protected attribute or a list of them, e.g. '- {kind}: sex' or "
                                f"'- {kind}: [sex, race]'; got {target!r}", "checks", i, kind)
            options = check_options(kind)
            for option in check:
                if option != kind and option not in options:
                    hint = closest(str(option), options)
                    raise self.fail(f"unknown option {option!r} for {kind}" + (f"; did you mean {hint!r}?" if hint else "")
                                    + f" (options: {', '.join(sorted(options))})", "checks", i, option)

    def probe(self) -> Any:
        """The Probe, built on first use (a failing build is reported by every check of the file)."""
        if self._probe is None:
            self._probe = self._build()
        return self._probe

    def _build(self) -> Any:
        from fairprobe.probe import Probe

        data = self.data
        options: dict[str, Any] = {k: data[k] for k in (*PROBE_SETTINGS, *PARTITION_SETTINGS)
                                   if k in data and k not in SPECIAL}
        options.setdefault("name", self.path.stem)
        try:
            frame = self._data(data["data"])
            model = self._model(data["model"], data.get("trust", False))
            if "twins" in data:
                twins = data["twins"]
                if not isinstance(twins, str):
                    raise self.fail(f"twins: is flip, cvae or a saved .safetensors generator; got {twins!r}", "twins")
                options["twins"] = str(self._relative(twins)) if str(twins).endswith(".safetensors") else twins
            if "derived" in data:
                if not isinstance(data["derived"], dict):
                    raise self.fail(f"derived: maps each column to a Python function 'module:attribute' that "
                                    f"recomputes it in a twin; got {data['derived']!r}", "derived")
                options["derived"] = {column: self._import(spec, "derived", column)
                                      for column, spec in dict(data["derived"]).items()}
            return Probe(data=frame, model=model, **options)
        except YamlProbeError:
            raise
        except FairprobeError as exc:
            key = _named(str(exc), [k for k in data if k != "checks"])
            if key is None and "twin" in str(exc) and "twins" in data:
                key = "twins"  # "unknown twin generator 'x'"
            raise self.fail(str(exc), *((key,) if key else ())) from None

    def _relative(self, value: Any) -> Path:
        path = Path(os.path.expandvars(str(value)))
        return path if path.is_absolute() else self.path.parent / path

    def _data(self, spec: Any) -> Any:
        from fairprobe import worlds

        if isinstance(spec, dict):
            if spec.get("world") != "hiring":
                raise self.fail(f"data: a mapping names an embedded world, e.g. {{world: hiring, n: 6000, seed: 2}}; "
                                f"got {spec!r}", "data")
            options = {k: v for k, v in spec.items() if k != "world"}
            try:
                return worlds.hiring(**options).data
            except TypeError as exc:
                raise self.fail(f"data: {exc}", "data") from None
            except FairprobeError as exc:
                key = _named(str(exc), list(options))
                raise self.fail(f"data: {exc}", "data", *((key,) if key else ())) from None
        from fairprobe.data import load_table

        if not isinstance(spec, str):
            raise self.fail(f"data: must name a CSV or Parquet file (a path, relative to this file) or an embedded "
                            f"world ({{world: hiring, n: 6000}}); got {type(spec).__name__} {spec!r}", "data")
        return load_table(self._relative(spec))

    def _model(self, spec: Any, trust: Any) -> Any:
        from fairprobe.adapters import load_model

        if not isinstance(spec, str):
            raise self.fail(f"model: must name a model file (.skops, ...) or a Python object 'module:attribute'; got "
                            f"{type(spec).__name__} {spec!r}", "model")
        if not isinstance(trust, (bool, list)):
            raise self.fail(f"trust: is a list of the extra types the .skops file may hold (or true/false); got "
                            f"{trust!r}", "trust")
        text = spec
        if ":" in text and Path(os.path.expandvars(text)).suffix.lower() not in (".skops", ".pkl", ".joblib", ".pickle"):
            return self._import(text, "model")
        return load_model(self._relative(text), trust=trust)

    def _import(self, spec: Any, *path: Any) -> Any:
        module_name, _, attribute = str(spec).partition(":")
        if not module_name or not attribute:
            raise self.fail(f"{spec!r} is not a Python reference 'module:attribute'", *path)
        folder = str(self.path.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)  # as pytest does for test modules (rootdir-relative imports)
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise self.fail(f"cannot import {spec!r}: {exc}", *path) from None


class CheckItem(pytest.Item):
    """One check of a probe file."""

    def __init__(self, *, index: int, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index, self.kind = index, kind

    @property
    def file(self) -> ProbeFile:
        return self.parent  # type: ignore[return-value]

    def runtest(self) -> None:
        spec = dict(self.file.data["checks"][self.index])
        attributes = spec.pop(self.kind)
        try:
            probe = self.file.probe()
        except Exception as exc:
            # No probe, so no check ran: the check this item declares is an ERROR in the evidence all the same.
            from fairprobe import settings
            from fairprobe.result import CheckError

            settings.record(CheckError.of(exc, check=self.kind, attributes=attributes, options=spec,
                                          mode=spec.get("mode", self.file.data.get("mode")),
                                          context={"probe": self.file.data.get("name") or self.path.stem}))
            raise
        method = getattr(probe, CHECKS[self.kind])
        try:
            result = method(attributes, **spec)
        except FairprobeError as exc:
            option = _named(str(exc), list(spec))
            raise self.file.fail(str(exc), "checks", self.index, *((option,) if option else ())) from None
        if result.fails_build:
            raise FairnessViolation(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, FairnessViolation):
            return f"{self.file.where('checks', self.index)}\n{excinfo.value}"
        if isinstance(excinfo.value, (YamlProbeError, InvalidSpec)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.file.lines.get(("checks", self.index), 1) - 1, self.name
