"""Session-wide defaults (seed, alpha, mode, redaction) and the sink that records every check run.

The pytest plugin sets both; a script or notebook can use :func:`using` and :func:`collecting`.
Anything given explicitly to a Probe or a check wins over these defaults.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from fairprobe.errors import InvalidSpec, unknown_choice
from fairprobe.validation import check_alpha, check_mode, check_redact, check_seed
from fairprobe.verdicts import Mode

if TYPE_CHECKING:
    from fairprobe.result import CheckError, CheckResult

    Recorded = CheckResult | CheckError


@dataclass(frozen=True)
class Settings:
    """Defaults for checks that do not set their own."""

    seed: int = 0
    alpha: float = 0.05
    mode: Mode = Mode.DETECT
    cache_dir: str | None = None  # where fitted generators are kept between runs (None: not kept)
    # Columns hashed in every check's counterexamples before anything shows them (pytest's --fairprobe-redact):
    # the violation text, the terminal, the JUnit XML and the evidence ("text": names in text masked too).
    redact: tuple[str, ...] = ()


_settings: ContextVar[Settings] = ContextVar("fairprobe_settings", default=Settings())  # noqa: B039 - frozen
_sink: ContextVar[Callable[[Recorded], None] | None] = ContextVar("fairprobe_sink", default=None)


def current() -> Settings:
    """The defaults in force."""
    return _settings.get()


def validate(**values: Any) -> dict[str, Any]:
    """Check seed, alpha and mode values, raising InvalidSpec with a fix for a bad one."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if key == "alpha":
            out[key] = check_alpha(value)
        elif key == "mode":
            out[key] = check_mode(value)
        elif key == "cache_dir":
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise InvalidSpec(f"cache_dir must be a folder's path or None; got {type(value).__name__} {value!r}")
            out[key] = None if value is None else str(value)
        elif key == "seed":
            out[key] = check_seed(value)
        elif key == "redact":
            out[key] = check_redact(value)
        else:
            raise unknown_choice("setting", key, ["seed", "alpha", "mode", "cache_dir", "redact"])
    return out


def set_defaults(**values: Any) -> Any:
    """Replace the defaults; returns a token for :func:`reset`."""
    return _settings.set(replace(current(), **validate(**values)))


def reset(token: Any) -> None:
    _settings.reset(token)


@contextlib.contextmanager
def using(**values: Any) -> Iterator[Settings]:
    """Temporarily change the defaults: ``with fairprobe.settings.using(mode="certify"): ...``."""
    token = set_defaults(**values)
    try:
        yield current()
    finally:
        _settings.reset(token)


def record(result: Recorded) -> None:
    """Hand a finished check to whoever is recording (the pytest plugin, or :func:`collecting`): its result, or
    the :class:`~fairprobe.result.CheckError` of a check that raised."""
    sink = _sink.get()
    if sink is not None:
        sink(result)


@contextlib.contextmanager
def recording_to(sink: Callable[[Recorded], None]) -> Iterator[None]:
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


@contextlib.contextmanager
def collecting() -> Iterator[list[Recorded]]:
    """Collect every check run inside the block: ``with collecting() as results: ...``; a check that raised is
    there too, as a :class:`~fairprobe.result.CheckError` (verdict ERROR). Whoever was recording around the
    block (the pytest plugin, an outer ``collecting``) still receives every check."""
    results: list[Recorded] = []
    outer = _sink.get()  # whoever records around the block (the pytest plugin) still gets every check

    def sink(result: Recorded) -> None:
        results.append(result)
        if outer is not None:
            outer(result)

    with recording_to(sink):
        yield results
