"""A probe over records that outgrow one machine (or its memory): partitioned, counted, merged.

``fp.Probe(data="applicants.parquet", ..., engine="local" | "ray")`` gives a :class:`PartitionedProbe`.
It never holds the records: each check is one pass over the partitions (Parquet row groups read with
bounded memory, or slices of a DataFrame), each partition twinned, scored and counted where it sits,
and the driver merges the counts. Flip twins give exactly the statistic, interval and verdict of an
in-memory :class:`~fairprobe.probe.Probe` on the same records; stochastic twins (a fitted CVAE) draw
their noise per partition, so local and Ray runs of the same partitions agree exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NoReturn

import pandas as pd

from fairprobe import gates
from fairprobe.checks.group_metrics import demographic_parity_from_table, equalized_odds_from_table
from fairprobe.checks.invariance import from_counts, threshold_sentence
from fairprobe.engines.job import CountRequest, PartitionJob, merge
from fairprobe.engines.partitions import DEFAULT_ROWS, partition_data, read_columns
from fairprobe.engines.run import check_engine, run
from fairprobe.errors import FairnessViolation, InvalidSpec
from fairprobe.base_probe import BaseProbe, raise_first
from fairprobe.result import CheckResult
from fairprobe.spec import NOT_PARTITIONED, SPEC_SETTINGS, ProbeSpec, check_settings
from fairprobe.validation import checked_arguments, check_bound
from fairprobe.verdicts import CheckKind


class PartitionedProbe(BaseProbe):
    """A :class:`~fairprobe.probe.Probe` over partitions of the records (``isinstance(p, fp.Probe)`` holds); see
    the module docstring.

    Parameters are Probe's (``twins`` is ``"flip"``, a fitted :class:`~fairprobe.twins.CVAE` or the path of a
    saved one; ``derived`` functions are recomputed in every twin and checked on every partition), plus ``engine`` (``"local"`` or ``"ray"``), ``partition_rows`` (records per partition) and
    ``ray_address`` (an existing cluster). The data is a DataFrame, the path of a Parquet file or a Ray
    Dataset (``ray.data.read_parquet(...)``, ...), whose blocks are the partitions, each twinned, scored
    and counted on the node that holds it.

    Examples
    --------
    >>> import fairprobe as fp
    >>> world = fp.worlds.hiring(n=3000, seed=1)
    >>> probe = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(),
    ...                  protected=["sex"], label="hired", features=["sex", "skills_score"],
    ...                  engine="local", partition_rows=1000)
    >>> result = probe.invariance("sex", max_flip_rate=0.01)
    >>> str(result.verdict), result.n, result.details["partitions"]
    ('pass', 3000, 3)
    """

    @checked_arguments("Probe(engine=...)")
    def __init__(self, data: Any, model: Any, *, engine: str = "local", partition_rows: int = DEFAULT_ROWS,
                 ray_address: str | None = None, **settings: Any) -> None:
        check_settings(settings, engine=engine)
        unsupported = sorted(k for k in NOT_PARTITIONED if settings.get(k) is not None)
        if unsupported:
            raise InvalidSpec(f"a partitioned probe (engine={engine!r}) does not take {unsupported} yet; use "
                              "an in-memory Probe (no engine=) for text, bands, redaction, max_records, causes")
        self.engine = check_engine(engine)
        self.ray_address = ray_address
        self.parts = partition_data(data, rows=partition_rows)
        sample = self.parts[0].read()
        twins = settings.get("twins", "flip")
        if isinstance(twins, str) and twins == "cvae":
            raise InvalidSpec("a partitioned probe needs a fitted generator: fit a CVAE first (fairprobe fit "
                              "sample.csv ... --out generator.safetensors, or fp.twins.CVAE().fit(sample, ...)) and "
                              "pass twins='generator.safetensors' or the fitted object")
        self.spec = ProbeSpec.build(sample, **{k: v for k, v in settings.items() if k in SPEC_SETTINGS})
        if type(self.spec.twins).__module__.startswith("fairprobe.twins.text"):
            raise InvalidSpec(f"a partitioned probe (engine={engine!r}) does not take text twins "
                              f"({type(self.spec.twins).__name__}) yet: their rejections and residual signals are "
                              "not merged over partitions; use an in-memory Probe (no engine=)")
        if getattr(self.spec.twins, "fitted", True) is False:
            raise InvalidSpec("the CVAE given as twins= is not fitted: fit it first (CVAE().fit(sample, ...))")
        self._adopt_model(model, threshold=settings.get("threshold"), positive_label=self.spec.model_positive,
                          texts=False, model_version=settings.get("model_version"))
        self.features = self._resolve_features(sample)
        self.redact: list[str] = []
        self.partition_queries = 0
        self.data_sha256: str | None = None
        self._combos: pd.DataFrame | None = None
        self._scores = (float("inf"), -float("inf"))  # the range of the model's scores on the records, per pass
        self._scan_proxies(sample, sample)

    # ------------------------------------------------------------------ plumbing

    @property
    def queries(self) -> int:
        """Rows sent to the model so far, summed over the partitions' adapters."""
        return self.partition_queries

    def _records_needed(self, what: str) -> NoReturn:
        raise InvalidSpec(f"{what} needs the records in memory; a partitioned probe (engine={self.engine!r}) never "
                          "holds them: use an in-memory Probe (no engine=) on the records, or a sample of them")

    @property
    def predictions(self) -> Any:
        self._records_needed("probe.predictions")

    def twins(self, attributes: str | Sequence[str]) -> Any:
        self._records_needed("probe.twins(...)")

    def make_twins(self, records: pd.DataFrame, attributes: str | Sequence[str], **options: Any) -> Any:
        self._records_needed("probe.make_twins(...)")

    def compare(self, baseline: Any, attributes: str | Sequence[str], **options: Any) -> CheckResult:
        self._records_needed("probe.compare(...)")

    def assert_no_worse_than(self, baseline: Any, attributes: str | Sequence[str], **options: Any) -> CheckResult:
        self._records_needed("probe.assert_no_worse_than(...)")

    def _targets(self, attrs: tuple[str, ...]) -> pd.DataFrame:
        """The combinations of the protected values in the whole data: one pass over those columns only."""
        if self._combos is None:
            seen = [frame.drop_duplicates() for frame in read_columns(self.parts, list(self.spec.protected))]
            self._combos = pd.concat(seen, ignore_index=True).drop_duplicates().reset_index(drop=True)
        return self._combos[list(attrs)].drop_duplicates().reset_index(drop=True)

    def _pass(self, requests: list[CountRequest]) -> dict[str, Any]:
        targets = {r.attributes: self._targets(r.attributes) for r in requests if r.kind == CheckKind.INVARIANCE}
        job = PartitionJob(adapter=self.adapter, generator=self.spec.twins, features=self.features,
                           held=list(self.spec.held), label=self.spec.label, positive_label=self.spec.label_positive,
                           targets=targets, requests=requests, seed=self._setting("seed", None),
                           derived=dict(self.spec.derived),
                           derived_dtypes={c: self.spec.data[c].dtype for c in self.spec.derived})
        options = {"address": self.ray_address} if self.engine == "ray" else {}
        merged = merge(run(self.engine, job, self.parts, **options), requests)
        self.partition_queries += merged["_queries"]
        self.data_sha256 = merged["_digest"]
        self._scores = merged["_scores"]
        return merged

    def _context(self) -> dict[str, Any]:
        # the partitions' adapters saw the scores, not this one: whether there were any comes from their range
        scored = self._scores[1] > -float("inf")
        return {**super()._context(), "engine": self.engine, "partitions": len(self.parts),
                "decision_threshold": self.adapter.decision_threshold if scored else None}

    @property
    def data_rows(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def data_fingerprint(self) -> str:
        if self.data_sha256 is None:
            raise InvalidSpec("a partitioned probe's data fingerprint is known after its first check's pass")
        return self.data_sha256

    # ------------------------------------------------------------------ checks

    def run(self, *checks: gates.CheckSpec) -> list[CheckResult]:
        """Run every stated check in one pass over the partitions (``fp.invariant(...)``, ...). A check that
        raises is recorded as an ERROR (a failed pass: every check of it) and the others still finish; then the
        first error is raised."""
        gates.require_specs(checks)
        errors: list[BaseException] = []

        def attempt(check: gates.CheckSpec, step: Any) -> Any:
            try:
                return step()
            except FairnessViolation:
                raise
            except Exception as exc:
                self._record_error(exc, check.kind, check.attributes, check.options)
                errors.append(exc)
                return None

        plans = [(check, attempt(check, lambda: self._plan(check, i))) for i, check in enumerate(checks)]  # noqa: B023 - called at once
        planned = [(check, plan) for check, plan in plans if plan is not None]
        merged: dict[str, Any] = {}
        if planned:
            try:
                merged = self._pass([plan[0] for _, plan in planned])
            except FairnessViolation:
                raise
            except Exception as exc:
                self._record_errors(exc, [(c.kind, c.attributes, c.options) for c, _ in planned])
                errors.extend([exc] * len(planned))
                planned = []
        results = [attempt(check, lambda: self._finish(finish(merged[request.key])))  # noqa: B023 - called at once
                   for check, (request, finish) in planned]
        raise_first(list(dict.fromkeys(errors)), checks=len(errors))
        return results

    def _plan(self, check: gates.CheckSpec, index: int) -> tuple[CountRequest, Any]:
        options = dict(check.options)
        attrs = self.spec.attributes(check.attributes, what=str(check.kind))
        alpha, mode = self._setting("alpha", options.pop("alpha", None)), self._setting("mode", options.pop("mode", None))
        key = f"{index}:{check.kind}"
        if check.kind == CheckKind.INVARIANCE:
            tau = options.get("max_score_change")
            if tau is not None:
                tau = check_bound("max_score_change", tau, 0.0, float("inf"))
            unknown = set(options) - {"max_flip_rate", "max_score_change", "max_score_change_rate"}
            if unknown:
                raise InvalidSpec(f"invariance on a partitioned probe takes max_flip_rate, max_score_change and "
                                  f"max_score_change_rate; got {sorted(unknown)}")
            if "max_flip_rate" not in options:
                raise InvalidSpec("invariance needs max_flip_rate= (e.g. 0.01)")
            encoding = self._encoding(attrs)

            def finish(counts: Any) -> CheckResult:  # the twins' counts, the noise floors' where made
                made, counts = counts, counts["twins"]
                result = from_counts(counts, attributes=attrs, generator=self.spec.twins.name,
                                     generator_info={"k": counts.k, "partitions": len(self.parts),
                                                     **self._generator_info(attrs)},
                                     columns=self.features, alpha=alpha, mode=mode, floor=made.get("self"),
                                     null=made.get("null"), has_scores=counts.score_max > -float("inf"),
                                     threshold=self.adapter.decision_threshold, encoding=encoding, **options)
                return _with_partitions(self._with_proxy_findings(result, attrs), len(self.parts))

            return CountRequest(key, check.kind, attrs, () if tau is None else (tau,), tuple(encoding)), finish
        min_group_size = self._min_group_size(options.pop("min_group_size", None))
        if check.kind == CheckKind.EQUALIZED_ODDS:
            self._require_label()
        from_table = equalized_odds_from_table if check.kind == CheckKind.EQUALIZED_ODDS else \
            demographic_parity_from_table

        def finish_table(counts: Any) -> CheckResult:  # the summed group table; why decisions may all be equal
            note = threshold_sentence(self.adapter.decision_threshold, *self._scores)
            return _with_partitions(from_table(counts, alpha=alpha, mode=mode, min_group_size=min_group_size,
                                               attributes=attrs, threshold_note=note, **options), len(self.parts))
        return CountRequest(key, check.kind, attrs), finish_table

    def _generator_info(self, attrs: tuple[str, ...]) -> dict[str, Any]:
        """What a fitted CVAE tells a check, as its twins' info does in memory: generative, its fingerprint,
        what its twins move and why."""
        generator: Any = self.spec.twins
        if not hasattr(generator, "structure_"):
            return {}
        return {"generative": True, "stochastic": generator.stochastic, "fingerprint": generator.fingerprint_,
                "structure": generator.structure_.report(attrs), "device": str(generator.device),
                "fit_device": generator.fit_device_}

    def invariance(self, attribute: str | Sequence[str], **options: Any) -> CheckResult:
        """Invariance under twins, in one pass (options as :meth:`Probe.invariance`; no sequential mode)."""
        return self.run(gates.invariant(attribute, **options))[0]

    def equalized_odds(self, attributes: str | Sequence[str], **options: Any) -> CheckResult:
        """Equalized odds from summed per-group counts (options as :meth:`Probe.equalized_odds`)."""
        return self.run(gates.equalized_odds(attributes, **options))[0]

    def demographic_parity(self, attributes: str | Sequence[str], **options: Any) -> CheckResult:
        """Demographic parity from summed per-group counts (options as :meth:`Probe.demographic_parity`)."""
        return self.run(gates.demographic_parity(attributes, **options))[0]


def _with_partitions(result: CheckResult, parts: int) -> CheckResult:
    return replace(result, details={**result.details, "partitions": parts})
