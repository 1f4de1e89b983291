"""What identifies a Python callable as a model: its code and every object it reads, hashed; never its source text.

The hash of a wrapper's source said nothing of the model behind it: three German credit models behind one
``def predict(df): return clf.predict_proba(encode(df))[:, 1]`` shared one fingerprint (one of them failing
at 9.2 %), and ``fairprobe diff`` saw no model change (issue #15). :func:`callable_identity` hashes what
decides instead: the function's compiled code, its default arguments, the objects in its closure cells and
the globals its code loads (``module.attribute`` chains followed to the object), each followed recursively:
an estimator's parameters and fitted state, arrays, tables, tensors, nested functions and containers.
Library code (numpy, pandas, scikit-learn, the standard library) is named with its package's version, not
walked; an object whose
state cannot be read (an open connection, a C object that does not pickle) makes the identity
unavailable, and says which object, rather than hashing something that does not decide.
:func:`answers_identity` is the other way a probe takes it: the SHA-256 of the model's answers on the
probe's records.
"""

from __future__ import annotations

import dis
import functools
import hashlib
import io
import logging
import pickle
import sys
import sysconfig
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.predictions import Predictions

KIND = "callable-references"
UNIDENTIFIED = "callable-unidentified"
METHOD = ("SHA-256 of the callable's compiled code and of every object it reads (closure cells, globals, default "
          "arguments), followed recursively: an estimator's parameters and fitted state, arrays, tables; library "
          "code by name. Not its source text")
MAX_NODES = 5_000_000  # objects visited before giving up (a vocabulary of millions of words is fine)
MAX_DEPTH = 60
_LIBRARY_ROOTS = ("fairprobe",)  # our own code decides nothing about the model


class _Opaque(Exception):
    """An object whose state cannot be read, or a graph too large to walk."""


def callable_identity(fn: Callable[..., Any], *, name: str | None = None) -> dict[str, Any]:
    """The fingerprint of a callable model: ``kind``, ``sha256``, ``method`` (how it was taken) and ``reads``.

    ``kind`` is ``"callable-references"`` with the SHA-256 of the code and what it reads, or
    ``"callable-unidentified"`` with an empty ``sha256`` and a ``method`` naming the object whose state could
    not be read (a probe then identifies the model by its answers, :func:`answers_identity`).

    Examples
    --------
    >>> import numpy as np
    >>> def wrap(weights):
    ...     return lambda df: df.to_numpy() @ weights > 0
    >>> a, b = callable_identity(wrap(np.array([1.0, 2.0]))), callable_identity(wrap(np.array([1.0, -2.0])))
    >>> a["kind"], a["sha256"] == b["sha256"], a["sha256"] == callable_identity(wrap(np.array([1.0, 2.0])))["sha256"]
    ('callable-references', False, True)
    >>> a["reads"]
    ['weights (numpy.ndarray)']
    """
    walker = _Walker()
    label = name or getattr(fn, "__qualname__", type(fn).__name__)
    try:
        walker.feed(fn, 0)
    except _Opaque as why:
        return {"kind": UNIDENTIFIED, "sha256": "", "reads": walker.reads[:12],
                "method": (f"not taken: {label} reads {why}, whose state cannot be read, so no hash of the callable "
                           "would tell this model from another; pass the estimator itself (model=clf), an adapter "
                           "with a fingerprint, or model_version= to name it")}
    return {"kind": KIND, "sha256": walker.hash.hexdigest(), "method": METHOD, "reads": walker.reads[:12]}


def answers_identity(predictions: Predictions, *, data_sha256: str, rows: int) -> dict[str, str]:
    """The SHA-256 of a model's answers (decisions, scores and the threshold) on a probe's records.

    Two models that answer every record alike are one model for an audit of these records; two that
    differ on one record are two. It depends on the records too, so it compares models on the same data only.
    """
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(predictions.decision, dtype=np.uint8).tobytes())
    if predictions.score is not None:
        digest.update(b"score")
        digest.update(np.ascontiguousarray(predictions.score, dtype=np.float64).tobytes())
    digest.update(repr(predictions.threshold).encode())
    return {"answers_sha256": digest.hexdigest(),
            "answers_on": f"the model's decisions and scores on the probe's {rows} records (data sha256 "
                          f"{data_sha256[:16]})"}


@functools.lru_cache(maxsize=None)
def _library_paths() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(sorted({p for key in ("stdlib", "platstdlib", "purelib", "platlib") if (p := paths.get(key))}))


@functools.lru_cache(maxsize=4096)
def _is_library(module: str | None) -> bool:
    """Code of an installed package or the standard library (named, never walked); user code is walked."""
    if not module:
        return True
    root = module.split(".", 1)[0]
    if root in _LIBRARY_ROOTS or root in sys.builtin_module_names:
        return True
    loaded = sys.modules.get(root)
    path = getattr(loaded, "__file__", None)
    if loaded is None or path is None:
        return loaded is not None  # a namespace or built-in module: library; unknown: walk it
    return path.startswith(_library_paths()) or "site-packages" in path or "dist-packages" in path


@functools.lru_cache(maxsize=1024)
def _version(module: str | None) -> str:
    """``@version`` of the package a module belongs to, from its ``__version__`` ('' when it has none, as the
    standard library): a function of an installed package is named, not walked, so a new release of it must still
    change the fingerprint."""
    version = getattr(sys.modules.get((module or "").split(".", 1)[0]), "__version__", None)
    return f"@{version}" if isinstance(version, str) else ""


def _type_name(obj: Any) -> str:
    kind = type(obj)
    return f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"


def _describe(value: Any) -> str:
    """What an object a callable reads is, for a reader: ``sklearn.LogisticRegression``, ``function``."""
    if isinstance(value, types.FunctionType):
        return "function"
    if isinstance(value, type):
        return f"class {value.__qualname__}"
    return _type_name(value)


def _loaded_globals(code: types.CodeType) -> list[tuple[str, tuple[str, ...]]]:
    """The globals a code object (and the code nested in it) loads, each with the attributes read off it."""
    found: list[tuple[str, tuple[str, ...]]] = []
    instructions = list(dis.get_instructions(code))
    for i, ins in enumerate(instructions):
        if ins.opname not in ("LOAD_GLOBAL", "LOAD_NAME"):
            continue
        chain = []
        for follow in instructions[i + 1:]:
            if follow.opname not in ("LOAD_ATTR", "LOAD_METHOD"):
                break
            chain.append(str(follow.argval))
        found.append((str(ins.argval), tuple(chain)))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.extend(_loaded_globals(const))
    return found


class _Walker:
    """Feeds a canonical serialisation of an object graph into one SHA-256."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.seen: dict[int, int] = {}
        self.keep: list[Any] = []  # objects made while walking stay alive, so their ids are not reused
        self.nodes = 0
        self.reads: list[str] = []

    def tag(self, text: str) -> None:
        self.hash.update(text.encode("utf-8", "surrogatepass") + b"\x00")

    def feed(self, obj: Any, depth: int, where: str = "") -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise _Opaque(f"{where or 'an object'} (an object graph too large to walk)")
        if obj is None or isinstance(obj, (bool, int, float, complex, str)):
            self.tag(f"{type(obj).__name__}:{obj!r}")
            return
        if isinstance(obj, (bytes, bytearray)):
            self.tag(f"bytes:{len(obj)}")
            self.hash.update(bytes(obj))
            return
        if isinstance(obj, np.generic):
            self.tag(f"np:{obj.dtype.str}")
            self.hash.update(obj.tobytes())
            return
        key = id(obj)
        if key in self.seen:
            self.tag(f"ref:{self.seen[key]}")
            return
        self.seen[key] = len(self.seen)
        self.keep.append(obj)
        if isinstance(obj, np.ndarray):
            self._array(obj, depth, where)
        elif isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
            self._table(obj, where)
        elif isinstance(obj, (list, tuple)):
            self.tag(f"{type(obj).__name__}:{len(obj)}")
            for i, item in enumerate(obj):
                self.feed(item, depth + 1, f"{where}[{i}]")
        elif isinstance(obj, (dict, types.MappingProxyType)):
            self.tag(f"dict:{len(obj)}")
            for k, v in sorted(obj.items(), key=lambda kv: repr(kv[0])):
                self.feed(k, depth + 1, where)
                self.feed(v, depth + 1, f"{where}[{k!r}]")
        elif isinstance(obj, (set, frozenset)):
            self.tag(f"set:{len(obj)}")
            for item in sorted(obj, key=repr):
                self.feed(item, depth + 1, where)
        elif isinstance(obj, types.ModuleType):
            self.tag(f"module:{obj.__name__}")
        elif isinstance(obj, types.FunctionType):
            self._function(obj, depth, where)
        elif isinstance(obj, types.MethodType):
            self.tag("method")
            self.feed(obj.__func__, depth + 1, where)
            self.feed(obj.__self__, depth + 1, f"{where}.__self__")
        elif isinstance(obj, functools.partial):
            self.tag("partial")
            for part in (obj.func, obj.args, obj.keywords):
                self.feed(part, depth + 1, where)
        elif isinstance(obj, types.CodeType):
            self._code(obj, depth)
        elif isinstance(obj, type):
            self._class(obj, depth)
        elif isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType, np.ufunc)) or \
                type(obj).__name__ in ("method-wrapper", "wrapper_descriptor", "method_descriptor"):
            self.tag(f"builtin:{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', obj)}")
        elif isinstance(obj, (logging.Logger, logging.Handler, io.IOBase)) or \
                type(obj).__module__ in ("_thread", "threading"):
            self.tag(f"inert:{_type_name(obj)}")  # logging, locks and streams decide no prediction
        elif "torch" in sys.modules and isinstance(obj, sys.modules["torch"].Tensor):
            self._tensor(obj)
        else:
            self._object(obj, depth, where)

    def _array(self, array: np.ndarray, depth: int, where: str) -> None:
        self.tag(f"ndarray:{array.dtype.str}:{array.shape}")
        if array.dtype.kind != "O":
            self.hash.update(np.ascontiguousarray(array).tobytes())
            return
        for item in array.ravel(order="C"):
            self.feed(item, depth + 1, where)

    def _table(self, table: Any, where: str) -> None:
        self.tag(f"{type(table).__name__}:{table.shape}")
        if isinstance(table, pd.DataFrame):
            self.tag(repr([(str(c), str(t)) for c, t in table.dtypes.items()]))
        try:
            hashed = pd.util.hash_pandas_object(table, index=True) if not isinstance(table, pd.Index) else \
                pd.util.hash_pandas_object(pd.Series(table), index=False)
        except TypeError:
            raise _Opaque(f"{where or 'a table'} (a table of unhashable values)") from None
        self.hash.update(np.asarray(hashed).tobytes())

    def _tensor(self, tensor: Any) -> None:
        import torch

        flat = tensor.detach().cpu().contiguous().reshape(-1)
        self.tag(f"tensor:{flat.dtype}:{tuple(tensor.shape)}")
        self.hash.update(flat.view(torch.uint8).numpy().tobytes())

    def _function(self, fn: types.FunctionType, depth: int, where: str) -> None:
        module = getattr(fn, "__module__", None)
        if depth > 0 and _is_library(module):  # the model given is walked wherever it was written
            self.tag(f"function:{module}.{fn.__qualname__}{_version(module)}")
            return
        self.tag("function")
        self._code(fn.__code__, depth)
        self.feed(fn.__defaults__, depth + 1, f"{where}defaults")
        self.feed(fn.__kwdefaults__, depth + 1, f"{where}defaults")
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
            self.tag(f"cell:{name}")
            try:
                value = cell.cell_contents
            except ValueError:  # a cell not yet filled
                self.tag("empty")
                continue
            if depth == 0:
                self.reads.append(f"{name} ({_describe(value)})")
            self.feed(value, depth + 1, name)
        namespace = fn.__globals__
        builtins = namespace.get("__builtins__", {})
        for name, chain in dict.fromkeys(_loaded_globals(fn.__code__)):
            if name in namespace:
                value = namespace[name]
            elif (isinstance(builtins, dict) and name in builtins) or hasattr(builtins, name):
                continue  # a builtin such as len: the same in every run of this Python
            else:
                continue  # not defined: the code would fail on it, nothing to hash
            label = name
            for attribute in chain:  # module.attribute chains lead to the object the code uses
                if not isinstance(value, types.ModuleType) or not hasattr(value, attribute):
                    break
                value, label = getattr(value, attribute), f"{label}.{attribute}"
            self.tag(f"global:{label}")
            library = isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type, np.ufunc)) and \
                _is_library(getattr(value, "__module__", None))
            if depth == 0 and not isinstance(value, types.ModuleType) and not library:  # pd.get_dummies: named only
                self.reads.append(f"{label} ({_describe(value)})")
            self.feed(value, depth + 1, label)

    def _code(self, code: types.CodeType, depth: int) -> None:
        self.tag(f"code:{code.co_argcount}:{code.co_flags}:{code.co_names}:{code.co_varnames}")
        self.hash.update(code.co_code)
        for const in code.co_consts:
            self.feed(const, depth + 1, "a constant")

    def _class(self, cls: type, depth: int) -> None:
        self.tag(f"class:{cls.__module__}.{cls.__qualname__}")
        if _is_library(cls.__module__):
            self.tag(_version(cls.__module__))
            return
        for name, member in sorted(vars(cls).items()):
            if isinstance(member, (types.FunctionType, staticmethod, classmethod, property)):
                self.tag(f"member:{name}")
                target = getattr(member, "__func__", None) or getattr(member, "fget", None) or member
                self.feed(target, depth + 1, f"{cls.__qualname__}.{name}")

    def _object(self, obj: Any, depth: int, where: str) -> None:
        self.feed(type(obj), depth + 1, where)
        state = getattr(obj, "__dict__", None)
        slots = [s for klass in type(obj).__mro__ for s in getattr(klass, "__slots__", ()) if isinstance(s, str)]
        if state is not None or slots:
            self.tag(f"object:{_type_name(obj)}")
            if state is not None:
                self.feed(dict(state), depth + 1, where)
            for slot in slots:
                if slot not in ("__dict__", "__weakref__") and hasattr(obj, slot):
                    self.feed(getattr(obj, slot), depth + 1, f"{where}.{slot}")
            return
        try:  # a C object without a __dict__ (a fitted tree, a random generator): its pickled state
            data = pickle.dumps(obj, protocol=4)
        except Exception:
            raise _Opaque(f"{where or 'an object'} ({_type_name(obj)})") from None
        self.tag(f"pickled:{_type_name(obj)}:{len(data)}")
        self.hash.update(data)
