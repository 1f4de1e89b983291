"""The vocabulary of a result: verdicts, modes and check kinds, each a type rather than a bare string.

Each is a ``str`` enum, so ``result.verdict == "pass"`` and JSON keep working, while a typo in
code is caught by mypy and a wrong value by the enum itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class _Word(str, Enum):
    """A str enum that prints and formats as its value (``f"{Verdict.PASS}"`` is ``pass``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Verdict(_Word):
    """What a check concluded from its confidence interval; ERROR: none, the check raised before it reached one
    (a :class:`~fairprobe.result.CheckError` in the evidence, which no gate passes)."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


class Mode(_Word):
    """detect: only FAIL fails a test; certify: INCONCLUSIVE fails too (release gates)."""

    DETECT = "detect"
    CERTIFY = "certify"


class CheckKind(_Word):
    """Which check produced a result."""

    INVARIANCE = "invariance"
    EQUALIZED_ODDS = "equalized_odds"
    DEMOGRAPHIC_PARITY = "demographic_parity"
    NO_WORSE_THAN = "no_worse_than"


PASS, FAIL, INCONCLUSIVE, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.ERROR


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """Several gates on one check: FAIL if any gate fails, PASS only if every gate passes.

    Examples
    --------
    >>> str(combine([PASS, INCONCLUSIVE])), str(combine([PASS, FAIL])), str(combine([PASS, PASS]))
    ('inconclusive', 'fail', 'pass')
    """
    verdicts = [Verdict(v) for v in verdicts]
    if not verdicts:
        raise ValueError("combine needs at least one verdict")
    if ERROR in verdicts:
        raise ValueError("combine takes the verdicts of gates that ran; an ERROR is no verdict to combine")
    if FAIL in verdicts:
        return FAIL
    return PASS if all(v == PASS for v in verdicts) else INCONCLUSIVE


def sign(comparison: str | None) -> str:
    """The bound's sign as a reader sees it. The acceptable region is closed (``stats.decide``: PASS when the upper
    bound is <= a maximum, or the lower bound >= a minimum), so a record's side ``"<"`` (bounded above) reads
    ``"<="`` and ``">"`` (bounded below) reads ``">="``; FAIL needs the interval strictly beyond.

    >>> sign("<"), sign(">")
    ('<=', '>=')
    """
    return {"<": "<=", ">": ">="}.get(str(comparison or ""), str(comparison or ""))
