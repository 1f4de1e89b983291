"""Validators for the options users pass: each names what is wrong, what was given and the fix.

Shared by settings, checks, probes and twin generators (``settings`` imports this, not the checks).
Numpy scalars are numbers like any other: ``np.int64(3)`` is a valid seed, ``np.float32(0.05)`` a
valid alpha.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any, TypeVar, cast

from fairprobe.errors import InvalidSpec, closest, given, unknown_choice
from fairprobe.verdicts import Mode

MAX_SEED = 2**63 - 1  # torch and numpy both take seeds up to this size

_Function = TypeVar("_Function", bound=Callable[..., Any])


def checked_arguments(what: str) -> Callable[[_Function], _Function]:
    """A public function (or ``__init__``) whose unknown keyword, surplus positional argument, missing or twice
    given argument raises an :class:`InvalidSpec` naming it and the valid ones, not Python's TypeError
    (``hiring(bogus=1)``, ``Probe(data, model, protectd="sex")``)."""

    def wrap(function: _Function) -> _Function:
        signature = inspect.signature(function)
        parameters = list(signature.parameters.values())
        method = bool(parameters) and parameters[0].name == "self"
        own = parameters[1:] if method else parameters
        names = [p.name for p in own if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        positional = [p.name for p in own if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        any_keyword = any(p.kind is p.VAR_KEYWORD for p in own)
        any_positional = any(p.kind is p.VAR_POSITIONAL for p in own)

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            unknown = [] if any_keyword else [k for k in kwargs if k not in names]
            if unknown:
                hint = closest(unknown[0], names)
                raise InvalidSpec(f"{what} has no option {unknown[0]!r}" + (f"; did you mean {hint!r}?" if hint else "")
                                  + f" (options: {', '.join(names)}; use one of them)")
            values = args[1:] if method else args
            if not any_positional and len(values) > len(positional):
                by_name = [n for n in names if n not in positional]
                raise InvalidSpec(f"{what} takes {len(positional)} positional argument{'s' * (len(positional) != 1)}"
                                  f" ({', '.join(positional) or 'none'}); got {len(values)}: "
                                  f"{', '.join(map(given, values))}; pass the others by name, e.g. {by_name[0]}=...")
            try:
                signature.bind(*args, **kwargs)
            except TypeError as error:
                named = [n for n in names if f"'{n}'" in str(error)]
                fix = ("pass each once" if not named else f"pass {named[0]}=..." if "missing" in str(error)
                       else f"pass {named[0]}= once")
                raise InvalidSpec(f"{what}: {error}; {fix} (options: {', '.join(names)})") from None
            return function(*args, **kwargs)

        return cast(_Function, checked)

    return wrap


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_flag(name: str, value: Any) -> bool:
    """True or False (a numpy bool too); never a string such as ``'false'`` or ``'no'``, which would read as true."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise InvalidSpec(f"{name} must be True or False (in YAML: true or false, unquoted); got {value!r}")


def check_mode(mode: Any) -> Mode:
    """``"detect"`` or ``"certify"`` as a :class:`Mode`."""
    try:
        return Mode(mode)
    except ValueError:
        raise unknown_choice("mode", mode, [m.value for m in Mode]) from None


def check_alpha(alpha: Any) -> float:
    """The level of each one-sided bound: a number strictly between 0 and 0.5."""
    if not _is_real(alpha) or not 0 < float(alpha) < 0.5:
        raise InvalidSpec(f"alpha must be a number between 0 and 0.5 (e.g. 0.05); got {alpha!r}")
    return float(alpha)


def check_redact(columns: Any) -> tuple[str, ...]:
    """Column names to redact: a sequence of names or one comma-separated string (``"first_name,last_name"``)."""
    if isinstance(columns, str):
        columns = [c.strip() for c in columns.split(",") if c.strip()]
    if not isinstance(columns, (list, tuple)) or not all(isinstance(c, str) and c.strip() for c in columns):
        raise InvalidSpec(f"redact takes column names, e.g. ['first_name', 'email'] or 'first_name,email'; got "
                          f"{columns!r}")
    return tuple(dict.fromkeys(c.strip() for c in columns))


def check_seed(seed: Any, *, name: str = "seed") -> int:
    """A whole number in [0, 2**63 - 1]."""
    if not _is_whole(seed) or not 0 <= int(seed) <= MAX_SEED:
        raise InvalidSpec(f"{name} must be a whole number from 0 to 2**63 - 1; got {seed!r}")
    return int(seed)


def check_bound(name: str, value: Any, low: float, high: float) -> float:
    """A number in (low, high]: the bound of a check, e.g. ``max_flip_rate`` in (0, 1]."""
    if not _is_real(value) or math.isnan(float(value)) or not low < float(value) <= high:
        raise InvalidSpec(f"{name} must be a number in ({low:g}, {high:g}]; got {value!r}")
    return float(value)


def check_count(name: str, value: Any, *, minimum: int = 1) -> int:
    """A whole number of at least ``minimum``."""
    if not _is_whole(value) or int(value) < minimum:
        raise InvalidSpec(f"{name} must be a whole number of at least {minimum}; got {value!r}")
    return int(value)


def check_optional_count(name: str, value: Any, *, minimum: int = 1) -> int | None:
    """None, or a whole number of at least ``minimum``."""
    return None if value is None else check_count(name, value, minimum=minimum)


def check_threshold(threshold: Any) -> float | None:
    """Where a score becomes a favourable decision: a finite number, or None for the default."""
    if threshold is None:
        return None
    if not _is_real(threshold) or not math.isfinite(float(threshold)):
        raise InvalidSpec(f"threshold must be a finite number (where a score becomes the favourable decision, "
                          f"e.g. 0.5 for probabilities); got {threshold!r}")
    return float(threshold)
