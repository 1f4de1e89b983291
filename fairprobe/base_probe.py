"""What every probe shares, in memory or over partitions: the model behind its adapter, the columns it reads,
the proxy scan, settings, and how a finished check is recorded. :class:`~fairprobe.probe.Probe` and
:class:`~fairprobe.partitioned.PartitionedProbe` differ only in how they get the model's answers and twins.
"""

from __future__ import annotations

import abc
import functools
import inspect
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any, TypeVar

import pandas as pd

from fairprobe import gates, proxies, settings
from fairprobe.adapters import Adapter, as_adapter
from fairprobe.data import require_scalars
from fairprobe.errors import FairnessViolation, FairprobeWarning, InvalidSpec, closest, shorten, user_stacklevel
from fairprobe.redact import INDEX
from fairprobe.result import CheckError, CheckResult
from fairprobe.spec import ProbeSpec
from fairprobe.validation import check_count
from fairprobe.verdicts import CheckKind

_Method = TypeVar("_Method", bound=Callable[..., Any])
_RECORDED = "_fairprobe_recorded"  # set on an exception once its CheckError is recorded (nested checks)


def raise_first(errors: Sequence[BaseException], *, checks: int | None = None) -> None:
    """Raise the first of the errors of several checks (each already recorded), noting how many other checks
    raised (``checks``: how many errored in all, when one error stopped several)."""
    __tracebackhide__ = True
    if not errors:
        return
    others = (len(errors) if checks is None else checks) - 1
    if others > 0 and hasattr(errors[0], "add_note"):
        errors[0].add_note(f"fairprobe: {others} other check{'s' if others > 1 else ''} of this run raised too; "
                           "each is an ERROR in the evidence")
    raise errors[0]


def records_errors(kind: CheckKind, *, attributes_at: int = 0) -> Callable[[_Method], _Method]:
    """A check method that, when it raises, records a :class:`~fairprobe.result.CheckError` (verdict ERROR) for
    the evidence before the exception goes on to the caller: a check that errors never drops out of the bundle.
    ``attributes_at``: the position of the attributes among the method's arguments."""

    def wrap(method: _Method) -> _Method:
        parameters = inspect.signature(method).parameters
        known = [n for n, p in parameters.items() if n != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
        takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        required = [n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY and p.default is p.empty]

        @functools.wraps(method)
        def checked(self: BaseProbe, *args: Any, **options: Any) -> Any:
            __tracebackhide__ = True
            try:
                unknown = [] if takes_any else [o for o in options if o not in known]
                if unknown:
                    hint = closest(unknown[0], known)
                    raise InvalidSpec(f"{kind} has no option {unknown[0]!r}" + (f"; did you mean {hint!r}?" if hint
                                                                                else "")
                                      + f" (options: {', '.join(k for k in known if k not in ('attribute', 'attributes'))}"
                                      + "; use one of them)")
                missing = [r for r in required if r not in options]
                if missing:
                    raise InvalidSpec(f"{kind} needs {', '.join(f'{m}=' for m in missing)} (the bound it checks), e.g. "
                                      f"probe.{kind}('sex', {missing[0]}=...)")
                return method(self, *args, **options)
            except FairnessViolation:
                raise
            except Exception as exc:
                attributes = args[attributes_at] if len(args) > attributes_at else \
                    options.get("attributes", options.get("attribute", ()))
                self._record_error(exc, kind, attributes, options)
                raise

        return checked  # type: ignore[return-value]

    return wrap


class BaseProbe(gates.AssertForms, metaclass=abc.ABCMeta):
    """The plumbing of a probe; subclasses hold the records (or their partitions) and run the checks."""

    spec: ProbeSpec
    features: list[str]
    redact: list[str]
    proxy_scan: list[dict[str, Any]]
    proxy_warnings: dict[str, list[str]]
    # the checks, each with its own keyword-only options (see Probe)
    invariance: Callable[..., CheckResult]
    equalized_odds: Callable[..., CheckResult]
    demographic_parity: Callable[..., CheckResult]

    @property
    @abc.abstractmethod
    def data_fingerprint(self) -> str:
        """The SHA-256 of the records the checks ran on."""

    @property
    @abc.abstractmethod
    def data_rows(self) -> int:
        """How many records the probe has."""

    def _adopt_model(self, model: Any, *, threshold: float | None, positive_label: Any, texts: bool,
                     model_version: str | None) -> None:
        """The model behind its adapter, and what identifies this probe in the evidence."""
        if isinstance(model, Adapter) and threshold is not None:
            raise InvalidSpec(f"threshold={threshold!r} is a setting of the adapter; the model given is already an "
                              f"adapter ({type(model).__name__}), so set it there: {type(model).__name__}(..., "
                              "threshold=...)")
        self.adapter: Adapter = as_adapter(model, threshold=threshold, positive_label=positive_label, texts=texts)
        # Queries are counted per probe object: two probes sharing a name and a model are two counts.
        self.id = uuid.uuid4().hex
        self.model_version = None if model_version is None else str(model_version)

    def _scan_proxies(self, data: pd.DataFrame, grouped: pd.DataFrame) -> None:
        """The proxy scan of the columns the model reads (on ``data``, the records or a sample of them), and
        the warnings it gives, issued once at construction."""
        self.proxy_scan = proxies.scan(
            data, {a: grouped[a] for a in self.spec.protected},
            [c for c in self.features if c not in self.spec.protected], seed=self._setting("seed", None))
        inferred = self.spec.features is None and self.adapter.feature_names is None
        self.proxy_warnings = proxies.warnings_for(self.proxy_scan, self.spec, grouped, inferred=inferred)
        for sentences in self.proxy_warnings.values():
            for sentence in sentences:
                warnings.warn(FairprobeWarning(sentence), stacklevel=user_stacklevel())

    def _encoding(self, attrs: tuple[str, ...]) -> dict[tuple[str, str], float | None]:
        """``{(column, attribute): AUC}`` for the columns the model reads that the proxy scan found to encode one of
        ``attrs``: the certify rule of invariance checks (twins that leave them as they were certify nothing)."""
        return {(row["column"], row["attribute"]): row["auc"] for row in self.proxy_scan
                if row["encodes"] and row["attribute"] in attrs}

    def _resolve_features(self, data: pd.DataFrame) -> list[str]:
        """The columns sent to the model: ``features=``, else what a fitted model was fitted on, else every
        column of ``data`` but the label; each must hold one scalar per cell in ``data`` (the text column aside)."""
        features = self._features(data)
        require_scalars(data, [c for c in features if c != self.spec.text])
        return features

    def _features(self, data: pd.DataFrame) -> list[str]:
        wanted = self.adapter.feature_names
        if self.spec.features is not None:
            if wanted is not None and list(self.spec.features) != list(wanted):
                raise InvalidSpec(f"features={list(self.spec.features)} but the model was fitted on {list(wanted)} "
                                  "and receives those columns in that order; leave features= out for a fitted "
                                  "scikit-learn model, or pass exactly its columns")
            return list(self.spec.features)
        if wanted is not None:
            missing = [c for c in wanted if c not in data.columns]
            if missing:
                raise InvalidSpec(f"the model was fitted on columns that the data lacks: {shorten(missing)} "
                                  f"(data columns: {shorten(data.columns, 12)})")
            if self.spec.label in wanted:
                raise InvalidSpec(f"the model reads the label column {self.spec.label!r}; the model must "
                                  "not see the ground truth")
            return list(wanted)
        return [c for c in data.columns if c != self.spec.label]

    def _with_proxy_findings(self, result: CheckResult, attrs: tuple[str, ...]) -> CheckResult:
        """An invariance result with the proxy scan's warnings for ``attrs`` and, with flip twins, its note on the
        columns the model reads that go with them (the twins keep their values)."""
        for name in attrs:
            result = result.with_warnings(*self.proxy_warnings.get(name, []))
        note = proxies.flip_note(self.proxy_scan, self.spec, attrs)
        if note:
            result = replace(result, details={**result.details, "notes": [*result.details.get("notes", []), note]})
        return result

    def _require_label(self, what: str = "equalized odds") -> None:
        if self.spec.label is None:
            raise InvalidSpec(f"{what} needs ground truth: pass label= (the outcome column) to the Probe")

    def _min_group_size(self, given: Any) -> int | None:
        if given is None:
            return self.spec.min_group_size
        return check_count("min_group_size", given)

    def _setting(self, name: str, given: Any) -> Any:
        if given is not None:
            return settings.validate(**{name: given})[name]
        spec_value = getattr(self.spec, name)
        return spec_value if spec_value is not None else getattr(settings.current(), name)

    @cached_property
    def _adapter_fingerprint(self) -> dict[str, Any]:
        return self.adapter.fingerprint()

    @property
    def model_fingerprint(self) -> dict[str, Any]:
        """What identifies the model in the evidence (``kind``, ``sha256``, ``method``: how it was taken)."""
        return self._adapter_fingerprint

    @property
    def queries(self) -> int:
        """Rows sent to the model so far (repeated rows are answered from the cache)."""
        return self.adapter.queries

    def _context(self) -> dict[str, Any]:
        """What the evidence records of this probe beside every result."""
        return dict(
            probe=self.spec.name, probe_id=self.id, protected=list(self.spec.protected), held=list(self.spec.held),
            label=self.spec.label, features=list(self.features), seed=self._setting("seed", None),
            data_sha256=self.data_fingerprint, data_rows=self.data_rows, model=self.model_fingerprint,
            queries=self.queries, derived=sorted(self.spec.derived),
            # the cut that turns the model's scores into decisions is part of the rule being tested
            decision_threshold=self.adapter.threshold_applied,
            bands={c: list(b.edges) for c, b in self.spec.bands.items()}, proxy_scan=self.proxy_scan,
            # what redaction may name (the evidence refuses a redacted column no check's data has)
            data_columns=[str(c) for c in self.spec.data.columns], data_index=_index_name(self.spec.data),
            **({"model_version": self.model_version} if self.model_version else {}))

    def _redaction(self) -> list[str]:
        """The columns hashed in this probe's results: its own ``redact=`` and the session's
        (``--fairprobe-redact``) that its records hold; the index's name stands for ``"index"`` (the rows).
        A session column these records lack is left to the evidence, which refuses one that no check's
        data holds."""
        index = _index_name(self.spec.data)
        known = {*map(str, self.spec.data.columns), "text", INDEX, *([index] if index else [])}
        columns = list(dict.fromkeys([*self.redact, *(c for c in settings.current().redact if c in known)]))
        if index in columns and INDEX not in columns:
            columns.append(INDEX)
        return columns

    def _finish(self, result: CheckResult) -> CheckResult:
        """A finished check: its context added, redacted, its warnings issued, recorded for the evidence."""
        result = result.with_context(**self._context())
        columns = self._redaction()
        if columns and result.counterexamples:
            from fairprobe.redact import redact_result

            result = redact_result(result, columns)
        for sentence in result.warnings:
            warnings.warn(FairprobeWarning(f"{result.title}: {sentence}"), stacklevel=user_stacklevel())
        settings.record(result)
        return result

    def _record_error(self, exc: BaseException, kind: CheckKind | str, attributes: Any,
                      options: dict[str, Any]) -> None:
        """Record the CheckError of a check that raised ``exc`` (once, however many check methods it crossed)."""
        if getattr(exc, _RECORDED, False):
            return
        self._record_errors(exc, [(kind, attributes, options)])

    def _record_errors(self, exc: BaseException, checks: list[tuple[Any, Any, dict[str, Any]]]) -> None:
        """Record one CheckError per ``(kind, attributes, options)`` for ``exc``, then mark it recorded."""
        context = self._error_context()
        for kind, attributes, options in checks:
            mode = alpha = None
            try:
                mode, alpha = self._setting("mode", options.get("mode")), self._setting("alpha", options.get("alpha"))
            except Exception:  # the bad setting may be the very error
                pass
            settings.record(CheckError.of(exc, check=kind, attributes=attributes, options=options, mode=mode,
                                          alpha=alpha, context=context))
        try:
            setattr(exc, _RECORDED, True)
        except AttributeError:  # an exception type without a __dict__: it may be recorded twice, never lost
            pass

    def _error_context(self) -> dict[str, Any]:
        """As much of the probe's context as can be had when a check raised (the model or data may be the cause)."""
        try:
            return self._context()
        except Exception:
            context: dict[str, Any] = {"probe": self.spec.name, "probe_id": self.id,
                                       "protected": list(self.spec.protected), "held": list(self.spec.held),
                                       "label": self.spec.label}
            try:
                context["model"] = self.model_fingerprint
            except Exception:
                pass
            return context

    def run(self, *checks: gates.CheckSpec) -> list[CheckResult]:
        """Run every stated check (``fp.invariant(...)``, ``fp.equalized_odds(...)``, ...) without raising on a
        verdict. A check that raises is recorded as an ERROR and the others still run; then the first error is
        raised."""
        gates.require_specs(checks)
        results, errors = [], []
        for check in checks:
            try:
                results.append(check.run(self))
            except FairnessViolation:
                raise
            except Exception as exc:
                self._record_error(exc, check.kind, check.attributes, check.options)
                errors.append(exc)
        raise_first(errors)
        return results


def _index_name(data: pd.DataFrame) -> str | None:
    """The name of the records' index (an SSN, a customer id), or None for an unnamed one."""
    name = data.index.name
    return None if name is None else str(name)
