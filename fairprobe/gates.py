"""Gates that run every check: state several checks, run them all, record them all, then fail once.

In certify mode the first INCONCLUSIVE assertion used to stop a test, so the checks after it never
ran and never reached the evidence. ``probe.assert_all(...)`` and :func:`soft_assertions` run every
check first and raise one :class:`~fairprobe.errors.FairnessViolation` naming all that fail.

Examples
--------
>>> import fairprobe as fp
>>> world = fp.worlds.hiring(n=600, seed=1)
>>> probe = fp.Probe(data=world.data, model=lambda df: (df["sex"] == "male").to_numpy(), protected=["sex"],
...                  label="hired", features=["sex", "skills_score"])
>>> try:
...     probe.assert_all(fp.invariant("sex", max_flip_rate=0.01), fp.demographic_parity("sex", min_ratio=0.8))
... except fp.FairnessViolation as violation:
...     print(len(violation.results), "checks fail the build")
2 checks fail the build
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from fairprobe.errors import FairnessViolation, given, InvalidSpec
from fairprobe.verdicts import CheckKind

if TYPE_CHECKING:
    from fairprobe.result import CheckResult

_soft: ContextVar[list[CheckResult] | None] = ContextVar("fairprobe_soft_assertions", default=None)


@dataclass(frozen=True)
class CheckSpec:
    """A check stated before it runs: its kind, the attribute(s) and its options."""

    kind: CheckKind
    attributes: str | tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)

    def run(self, probe: _Checks) -> CheckResult:
        """Run on ``probe`` (a :class:`~fairprobe.probe.Probe`) without raising; the result is recorded like any
        other check."""
        method = getattr(probe, str(self.kind))
        return method(self.attributes if isinstance(self.attributes, str) else list(self.attributes), **self.options)


def _spec(kind: CheckKind, attributes: str | Sequence[str], options: dict[str, Any]) -> CheckSpec:
    if not isinstance(attributes, str):
        try:
            attributes = tuple(attributes)
        except TypeError:
            raise InvalidSpec(f"{kind} needs a protected attribute or a list of them; got {attributes!r}") from None
    return CheckSpec(kind, attributes, dict(options))


def invariant(attribute: str | Sequence[str], **options: Any) -> CheckSpec:
    """Invariance under twins, stated for :meth:`Probe.assert_all` (options as :meth:`Probe.invariance`)."""
    return _spec(CheckKind.INVARIANCE, attribute, options)


def equalized_odds(attributes: str | Sequence[str], **options: Any) -> CheckSpec:
    """Equalized odds, stated for :meth:`Probe.assert_all` (options as :meth:`Probe.equalized_odds`)."""
    return _spec(CheckKind.EQUALIZED_ODDS, attributes, options)


def demographic_parity(attributes: str | Sequence[str], **options: Any) -> CheckSpec:
    """Demographic parity, stated for :meth:`Probe.assert_all` (options as :meth:`Probe.demographic_parity`)."""
    return _spec(CheckKind.DEMOGRAPHIC_PARITY, attributes, options)


def check_id(spec: CheckSpec) -> str:
    """The id of a stated check in a pytest item's name: ``invariance[sex|race]``, as a YAML probe's items read."""
    attributes = spec.attributes if isinstance(spec.attributes, str) else "|".join(map(str, spec.attributes))
    return f"{spec.kind}[{attributes}]"


def parametrize_checks(*checks: CheckSpec, argname: str = "check") -> Any:
    """One pytest item per check, as scikit-learn's ``parametrize_with_checks`` gives estimators.

    ``probe.assert_all(...)`` runs every check in one test, so JUnit XML shows one row for all of them; a test
    decorated with ``@fp.parametrize_checks(...)`` becomes one item per stated check, with an id such as
    ``test_screener[invariance[sex|race]]``, selectable with ``-k`` (``-k "invariance and race"``), and each
    item's check is its own entry in the evidence and its own row in JUnit XML. The test receives the stated
    check as ``check`` (or ``argname``) and runs it, usually with ``probe.assert_all(check)``.

    Parameters
    ----------
    *checks : CheckSpec
        Checks stated with :func:`invariant`, :func:`equalized_odds` or :func:`demographic_parity`.
    argname : str
        The name of the test's argument that receives each check.

    Returns
    -------
    MarkDecorator
        ``pytest.mark.parametrize`` over the checks, with readable ids (a repeated id gets ``#2``, ``#3``).

    Examples
    --------
    >>> import fairprobe as fp
    >>> mark = fp.parametrize_checks(fp.invariant("sex", max_flip_rate=0.01),
    ...                              fp.demographic_parity(["sex", "race"], min_ratio=0.8),
    ...                              fp.invariant("sex", max_flip_rate=0.05))
    >>> mark.kwargs["ids"]
    ['invariance[sex]', 'demographic_parity[sex|race]', 'invariance[sex]#2']
    """
    import pytest

    if not checks:
        raise InvalidSpec("parametrize_checks needs at least one check, e.g. "
                          "fp.parametrize_checks(fp.invariant('sex', max_flip_rate=0.01))")
    if len(checks) == 1 and isinstance(checks[0], (list, tuple)):
        checks = tuple(checks[0])  # a list of checks given as one argument
    require_specs(checks, what="parametrize_checks")
    ids: list[str] = []
    for spec in checks:
        base = check_id(spec)
        ids.append(base if base not in ids else f"{base}#{sum(i == base or i.startswith(base + '#') for i in ids) + 1}")
    return pytest.mark.parametrize(argname, list(checks), ids=ids)


def require_specs(checks: Sequence[Any], what: str = "run and assert_all") -> None:
    """Refuse anything but stated checks (``fp.invariant(...)``, ...) given to ``run`` or ``assert_all``, and
    refuse none at all: a gate that ran no check would pass having shown nothing."""
    if not checks:
        raise InvalidSpec(f"{what} need{'s' if ' ' not in what else ''} at least one check, e.g. "
                          "probe.assert_all(fp.invariant('sex', max_flip_rate=0.01)); got none, and a gate with no "
                          "checks would pass having shown nothing")
    for check in checks:
        if not isinstance(check, CheckSpec):
            raise InvalidSpec(f"{what} take{'s' if ' ' not in what else ''} checks stated with fp.invariant(...), "
                              f"fp.equalized_odds(...) or fp.demographic_parity(...); got {given(check)}")


def raise_failures(results: Sequence[CheckResult]) -> None:
    """Raise one FairnessViolation for every result that fails the build (none: return)."""
    __tracebackhide__ = True
    failing = [r for r in results if r.fails_build]
    if failing:
        raise FairnessViolation(failing[0] if len(failing) == 1 else failing)


def defer(result: CheckResult) -> bool:
    """Inside :func:`soft_assertions`, keep a failing result for the end of the block; True if kept."""
    pending = _soft.get()
    if pending is None:
        return False
    pending.append(result)
    return True


@contextlib.contextmanager
def soft_assertions() -> Iterator[list[CheckResult]]:
    """Run every ``assert_*`` inside the block; raise one FairnessViolation for all that failed at its end.

    Examples
    --------
    >>> import fairprobe as fp
    >>> world = fp.worlds.hiring(n=600, seed=1)
    >>> probe = fp.Probe(data=world.data, model=lambda df: (df["sex"] == "male").to_numpy(), protected=["sex"],
    ...                  features=["sex", "skills_score"])
    >>> try:
    ...     with fp.soft_assertions():
    ...         first = probe.assert_invariant("sex", max_flip_rate=0.01)
    ...         second = probe.assert_demographic_parity("sex", min_ratio=0.8)
    ... except fp.FairnessViolation as violation:
    ...     print([str(r.check) for r in violation.results])
    ['invariance', 'demographic_parity']
    """
    __tracebackhide__ = True
    pending: list[CheckResult] = []
    token = _soft.set(pending)
    try:
        yield pending
    finally:
        _soft.reset(token)
    raise_failures(pending)


def check(result: CheckResult) -> CheckResult:
    """``result``, after raising :class:`FairnessViolation` when it fails the build (unless deferred by
    :func:`soft_assertions`): what every ``assert_*`` form does with its check."""
    __tracebackhide__ = True
    if result.fails_build and not defer(result):
        raise FairnessViolation(result)
    return result


class _Checks(Protocol):
    # read-only callables rather than methods: each probe's checks take their own keyword-only options
    def run(self, *checks: CheckSpec) -> list[CheckResult]: ...

    @property
    def invariance(self) -> Callable[..., CheckResult]: ...

    @property
    def equalized_odds(self) -> Callable[..., CheckResult]: ...

    @property
    def demographic_parity(self) -> Callable[..., CheckResult]: ...


class AssertForms:
    """The ``assert_*`` forms of a probe's checks, shared by :class:`~fairprobe.probe.Probe` and the
    partitioned probe: each runs the check as its plain form does and raises when it fails the build."""

    def assert_all(self: _Checks, *checks: CheckSpec) -> list[CheckResult]:
        """Run every check, record every result, then raise one FairnessViolation naming all that fail the build.

        Unlike a sequence of ``assert_*`` calls, a failing (or, in certify mode, inconclusive) check does
        not stop the ones after it: all of them reach the evidence.
        """
        __tracebackhide__ = True
        results = self.run(*checks)
        raise_failures(results)
        return results

    def assert_invariant(self: _Checks, attribute: str | Sequence[str], **options: Any) -> CheckResult:
        """Like ``invariance``, raising :class:`FairnessViolation` when the result fails the build."""
        __tracebackhide__ = True
        return check(self.invariance(attribute, **options))

    def assert_equalized_odds(self: _Checks, attributes: str | Sequence[str], **options: Any) -> CheckResult:
        """Like ``equalized_odds``, raising :class:`FairnessViolation` when the result fails the build."""
        __tracebackhide__ = True
        return check(self.equalized_odds(attributes, **options))

    def assert_demographic_parity(self: _Checks, attributes: str | Sequence[str], **options: Any) -> CheckResult:
        """Like ``demographic_parity``, raising :class:`FairnessViolation` when the result fails the build."""
        __tracebackhide__ = True
        return check(self.demographic_parity(attributes, **options))
