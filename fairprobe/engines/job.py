"""The work done where a partition sits: twin it, score it, count it.

A :class:`PartitionJob` is picklable and sent once to each worker (the model inside its adapter, the
twin generator, the checks to count). For every partition it returns small counts
(:class:`fairprobe.checks.counts.InvarianceCounts`, a CVAE's noise floors as the same counts of its
self-twins and :class:`~fairprobe.checks.counts.NullCounts` of its null twins, per-group tables) that
the driver merges: the records never travel back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.adapters import Adapter, Predictions
from fairprobe.checks.counts import count_invariance, count_null
from fairprobe.checks.group_metrics import group_counts
from fairprobe.data import binary_outcome, require_scalars, row_hashes
from fairprobe.engines.partitions import Partition
from fairprobe.spec import check_reproduces, recompute_derived
from fairprobe.twins.base import TwinSet, group_codes
from fairprobe.verdicts import CheckKind


@dataclass(frozen=True)
class CountRequest:
    """One check to count: its key in the results, its kind, the attributes, and (invariance) the score taus."""

    key: str
    kind: CheckKind
    attributes: tuple[str, ...]
    taus: tuple[float, ...] = ()
    watch: tuple[tuple[str, str], ...] = ()  # (column, attribute): columns that encode an attribute


@dataclass
class PartitionResult:
    """What a partition gives back: counts per request, the model queries it made, its data digest."""

    index: int
    counts: dict[str, Any] = field(default_factory=dict)
    queries: int = 0
    calls: int = 0
    digest: str = ""
    scores: tuple[float, float] = (float("inf"), -float("inf"))  # the range of the records' finite scores


@dataclass
class PartitionJob:
    """Everything a worker needs for one pass: the model, the generator, the column roles, the requests."""

    adapter: Adapter
    generator: Any
    features: list[str]
    held: list[str]
    label: str | None
    positive_label: Any
    targets: dict[tuple[str, ...], pd.DataFrame]
    requests: list[CountRequest]
    seed: int
    n_examples: int = 5
    derived: dict[str, Any] = field(default_factory=dict)  # column -> function, recomputed in every twin
    derived_dtypes: dict[str, Any] = field(default_factory=dict)

    def run(self, part: Partition) -> PartitionResult:
        frame = part.read()
        # as an in-memory probe checks the whole data: derived columns reproduce, the model's columns are scalars
        for column, fn in self.derived.items():
            check_reproduces(column, fn, frame, offset=part.offset)
        require_scalars(frame, self.features)
        adapter = self.adapter.fresh()  # an empty cache per partition: memory stays bounded
        original = adapter.predict(frame[self.features])
        out = PartitionResult(index=part.index,
                              digest=hashlib.sha256(row_hashes(frame).tobytes()).hexdigest())
        finite = np.zeros(0) if original.score is None else original.score[np.isfinite(original.score)]
        if len(finite):
            out.scores = (float(finite.min()), float(finite.max()))
        y_true = None
        for request in self.requests:
            if request.kind == CheckKind.INVARIANCE:
                out.counts[request.key] = self._invariance(frame, part, request, adapter, original)
            else:
                if request.kind == CheckKind.EQUALIZED_ODDS and y_true is None:
                    y_true = binary_outcome(frame[self.label], positive_label=self.positive_label,
                                            what=f"label column {self.label!r}")
                codes = group_codes(frame, request.attributes)
                out.counts[request.key] = group_counts(
                    codes, original.decision, y_true if request.kind == CheckKind.EQUALIZED_ODDS else None)
        out.queries, out.calls = adapter.queries, adapter.calls
        return out

    def _invariance(self, frame: pd.DataFrame, part: Partition, request: CountRequest, adapter: Adapter,
                    original: Predictions) -> dict[str, Any]:
        """The twins' counts (``"twins"``) and, for a generator that makes them (CVAE), both noise floors' on
        this partition: self-twins (``"self"``) and null twins (``"null"``), as an in-memory probe has them."""
        # Each partition draws its own noise (a stochastic generator), from the seed and its index, so that
        # any engine running the same partitions draws the same twins.
        seed = int(np.random.SeedSequence([self.seed, part.index]).generate_state(1, np.uint64)[0] >> np.uint64(1))
        attrs, targets = list(request.attributes), self.targets[request.attributes]
        twinset = self._derived(self.generator.generate(frame, attrs, held=self.held, seed=seed, targets=targets))
        out: dict[str, Any] = {"twins": count_invariance(twinset, original, self._answers(twinset, adapter),
                                                         features=self.features, taus=request.taus,
                                                         n_examples=self.n_examples, offset=part.offset,
                                                         watch=request.watch)}
        if hasattr(self.generator, "null_twins"):
            made = self._derived(self.generator.self_twins(frame, attrs, held=self.held, seed=seed))
            out["self"] = count_invariance(made, original, self._answers(made, adapter), features=self.features,
                                           n_examples=0)
            made = self._derived(self.generator.null_twins(frame, attrs, held=self.held, seed=seed, targets=targets))
            out["null"] = count_null(made, original, self._answers(made, adapter))
        return out

    def _derived(self, twinset: TwinSet) -> TwinSet:
        """The twins with the derived columns recomputed from what they changed."""
        if not self.derived:
            return twinset
        return replace(twinset, twins=recompute_derived(twinset.twins.copy(), self.derived, self.derived_dtypes))

    def _answers(self, twinset: TwinSet, adapter: Adapter) -> Predictions:
        """The model's answers for every twin (an invalid twin's decision is False, its score NaN)."""
        valid = twinset.valid
        decision = np.zeros(len(twinset), dtype=bool)
        score = None
        answers = adapter.predict(twinset.twins.loc[valid, self.features])
        decision[valid] = answers.decision
        if answers.score is not None:
            score = np.full(len(twinset), np.nan)
            score[valid] = answers.score
        return Predictions(decision, score, answers.threshold)


def merge(results: list[PartitionResult], requests: list[CountRequest], *, n_examples: int = 5) -> dict[str, Any]:
    """The counts of all partitions for each request, and the totals (queries, the data's digest)."""
    ordered = sorted(results, key=lambda r: r.index)
    merged: dict[str, Any] = {}
    for request in requests:
        parts = [r.counts[request.key] for r in ordered]
        if request.kind == CheckKind.INVARIANCE:  # the twins' counts, and the noise floors' where made
            total: dict[str, Any] = dict(parts[0])
            for counts in parts[1:]:
                for name, value in counts.items():
                    if name == "null":
                        total[name] = total[name].merge(value)
                    else:
                        total[name] = total[name].merge(value, n_examples=n_examples)
            merged[request.key] = total
        else:
            table = pd.concat(parts).groupby(level=0, sort=True).sum()
            merged[request.key] = table.astype(int)
    digest = hashlib.sha256("".join(r.digest for r in ordered).encode()).hexdigest()
    merged["_queries"] = sum(r.queries for r in ordered)
    merged["_calls"] = sum(r.calls for r in ordered)
    merged["_digest"] = digest
    merged["_scores"] = (min(r.scores[0] for r in ordered), max(r.scores[1] for r in ordered))
    return merged
