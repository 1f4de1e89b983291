"""Counts an invariance check is computed from: summable across partitions of the records.

Every figure of an invariance result (statistic, interval, verdict, groups, direction, what it
exercised, the score changes, the worst pairs) is computed from an :class:`InvarianceCounts`, and two
counts of disjoint sets of records merge into the counts of their union. So a probe split into
partitions (batches read from Parquet, workers of a distributed engine, the looks of a sequential
check) reaches the statistic, interval and verdict one pass over all records gives (DESIGN.md:
"counts").

- the statistic is a mean of per-record values (whether any twin flipped; with k stochastic twins
  per record, the share that flipped): kept as a histogram of those values, so Clopper-Pearson,
  empirical-Bernstein and betting bounds all read it exactly;
- the score changes are kept as a fixed-bin histogram (bins of 0.001 on [-1, 1]) with exact sums and
  extremes: quantiles are read to the bin;
- the worst twin pairs are the best few candidates of each partition by one total order (decision
  change, size of the score move, record position), so merging keeps the global best.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fairprobe import stats
from fairprobe.predictions import Predictions
from fairprobe.data import plain, row_hashes, same_values, same_value as _same
from fairprobe.errors import InvalidSpec
from fairprobe.twins.base import TwinSet

EDGES = np.linspace(-1.0, 1.0, 2001)  # score-change histogram: bins of 0.001; beyond [-1, 1] by the extremes


@dataclass
class InvarianceCounts:
    """Sufficient statistics of an invariance check over a set of records."""

    k: int = 1  # stochastic twins per record and target value
    records: int = 0
    values: Counter = field(default_factory=Counter)  # per record with a valid twin: flipped share -> records
    twins: int = 0
    valid_twins: int = 0
    changed_twins: int = 0
    identical_twins: int = 0
    originals_positive: int = 0  # favourable decisions of the originals (all records)
    checked_positive: int = 0  # ... of the originals with a valid twin
    twins_positive: int = 0  # ... of the valid twins
    moved: Counter = field(default_factory=Counter)  # tau -> records with a twin whose score moved more than tau
    groups: dict[str, list[Any]] = field(default_factory=dict)  # group -> [records, flipped, Counter of shares]
    direction: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (a, b) -> [for a, for b, twins]
    deltas: int = 0
    delta_sum: float = 0.0
    delta_abs_sum: float = 0.0
    delta_min: float = np.inf
    delta_max: float = -np.inf
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(len(EDGES) + 1, dtype=np.int64))
    score_min: float = np.inf
    score_max: float = -np.inf
    examples: list[dict[str, Any]] = field(default_factory=list)
    # (column, attribute) -> [valid twins whose attribute changed, of those the ones with the column unchanged]:
    # a column that encodes the attribute and that the twins leave as it was (the certify rule, issue #15)
    encoding: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Records with a valid twin."""
        return int(sum(self.values.values()))

    @property
    def flipped(self) -> int:
        """Records with at least one flipped twin."""
        return int(sum(c for v, c in self.values.items() if v > 0))

    def value_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The per-record values and how many records hold each, for the bounds."""
        items = sorted(self.values.items())
        return np.array([v for v, _ in items], dtype=float), np.array([c for _, c in items], dtype=float)

    def mean_and_variance(self) -> tuple[float, float]:
        values, counts = self.value_arrays()
        n = counts.sum()
        if n == 0:
            return 0.0, 0.25
        mean = float((values * counts).sum() / n)
        variance = float((counts * (values - mean) ** 2).sum() / (n - 1)) if n > 1 else 0.25
        return mean, variance

    def merge(self, other: InvarianceCounts, *, n_examples: int = 5) -> InvarianceCounts:
        """The counts of both sets of records (disjoint), as one pass over their union would give."""
        if self.k != other.k and self.n and other.n:
            raise ValueError(f"cannot merge counts of {self.k} and {other.k} twins per record")
        out = InvarianceCounts(k=max(self.k, other.k))
        for name in ("records", "twins", "valid_twins", "changed_twins", "identical_twins", "originals_positive",
                     "checked_positive", "twins_positive", "deltas", "delta_sum", "delta_abs_sum"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        out.values = self.values + other.values
        out.moved = self.moved + other.moved
        for tau in set(self.moved) | set(other.moved):  # Counter addition drops zero counts: keep every tau
            out.moved[tau] = self.moved.get(tau, 0) + other.moved.get(tau, 0)
        empty: list[Any] = [0, 0, Counter()]
        out.groups = {g: [a + b for a, b in zip(self.groups.get(g, empty), other.groups.get(g, empty))]
                      for g in set(self.groups) | set(other.groups)}
        out.direction = {p: [a + b for a, b in zip(self.direction.get(p, [0, 0, 0]), other.direction.get(p, [0, 0, 0]))]
                         for p in set(self.direction) | set(other.direction)}
        out.delta_min, out.delta_max = min(self.delta_min, other.delta_min), max(self.delta_max, other.delta_max)
        out.score_min, out.score_max = min(self.score_min, other.score_min), max(self.score_max, other.score_max)
        out.histogram = self.histogram + other.histogram
        out.encoding = {key: [a + b for a, b in zip(self.encoding.get(key, [0, 0]), other.encoding.get(key, [0, 0]))]
                        for key in set(self.encoding) | set(other.encoding)}
        out.examples = pick_examples(self.examples + other.examples, n_examples)
        return out


def count_invariance(twinset: TwinSet, original: Predictions, twin: Predictions, *, features: Sequence[str] | None = None,
                     taus: tuple[float, ...] = (), n_examples: int = 5, offset: int = 0,
                     watch: Sequence[tuple[str, str]] = ()) -> InvarianceCounts:
    """The counts of one set of records and their twins; ``offset`` is the position of its first record in
    the whole data (the order that breaks ties between the worst pairs, and their ``row``); ``watch`` holds
    (column, attribute) pairs whose column encodes the attribute: counted is how often a twin that changes
    the attribute leaves the column as it was."""
    columns = list(twinset.twins.columns) if features is None else list(features)
    missing = [c for c in columns if c not in twinset.twins.columns]
    if missing:
        raise InvalidSpec(f"features {missing} are not columns of the twins (columns: {list(twinset.twins.columns)})")
    n_records = len(twinset.original)
    valid = twinset.valid
    src = twinset.source[valid]
    orig_dec, twin_dec = original.decision[src], twin.decision[valid]
    changed = orig_dec != twin_dec
    per_record, has = twinset.per_record(changed)
    k = int(twinset.info.get("k", 1))
    counts = InvarianceCounts(k=k, records=n_records, twins=len(twinset), valid_twins=int(valid.sum()),
                              changed_twins=int(changed.sum()))
    if k == 1:  # each record's value is 0.0 or 1.0 (flipped or not): two counts, not a sort of a million floats
        flipped_records = int((has & (per_record > 0)).sum())
        counts.values = _zero_one(int(has.sum()) - flipped_records, flipped_records)
    else:
        counts.values = Counter(dict(zip(*np.unique(per_record[has], return_counts=True))))
        counts.values = Counter({float(v): int(c) for v, c in counts.values.items()})
    if original.keys is not None and twin.keys is not None and features is not None:
        # The adapter hashed the very columns the model read: reuse its hashes (a second pass cost 0.3 s a M rows).
        same = twin.keys[valid] == original.keys[src]
    else:
        same = row_hashes(twinset.twins.loc[valid, columns]) == row_hashes(twinset.original[columns])[src]
    counts.identical_twins = int(same.sum())
    counts.originals_positive = int(original.decision.sum())
    counts.checked_positive = int(original.decision[has].sum())
    counts.twins_positive = int(twin_dec.sum())

    from_codes, to_codes, names = twinset.group_codes()
    size = len(names)
    g_records = np.bincount(from_codes[has], minlength=size)
    g_flipped = np.bincount(from_codes[has & (per_record > 0)], minlength=size)
    # Shares per group as histograms, not float sums: sums in another order differ in the last bit, and a
    # split run must give exactly what one pass gives.
    if k == 1:  # a group's values are its records flipped (1.0) and not (0.0): from the two counts above
        counts.groups = {names[g]: [int(g_records[g]), int(g_flipped[g]),
                                    _zero_one(int(g_records[g] - g_flipped[g]), int(g_flipped[g]))]
                         for g in np.flatnonzero(g_records)}
    else:
        counts.groups = {names[g]: [int(g_records[g]), int(g_flipped[g]),
                                    Counter({float(v): int(c) for v, c in zip(*np.unique(
                                        per_record[has & (from_codes == g)], return_counts=True))})]
                         for g in np.unique(from_codes[has])}
    counts.direction = _votes(src, from_codes[src], to_codes[valid], names, orig_dec, twin_dec)

    if original.score is not None and twin.score is not None:
        delta = twin.score[valid] - original.score[src]
        finite = delta[np.isfinite(delta)]
        counts.deltas, counts.delta_sum, counts.delta_abs_sum = len(finite), float(finite.sum()), float(np.abs(finite).sum())
        if len(finite):
            counts.delta_min, counts.delta_max = float(finite.min()), float(finite.max())
        counts.histogram = np.bincount(np.searchsorted(EDGES, finite, side="right"), minlength=len(EDGES) + 1)
        for tau in taus:
            moved, _ = twinset.per_record(np.abs(delta) > tau, share=False)  # a record whose twin moved past tau
            counts.moved[float(tau)] = int(moved[has].sum())
        size_of_move = np.nan_to_num(np.abs(delta))
    else:
        size_of_move = np.zeros(len(src))
    scores = [a.score[np.isfinite(a.score)] for a in (original, twin) if a.score is not None]
    scores = [s for s in scores if len(s)]
    if scores:
        counts.score_min = float(min(s.min() for s in scores))
        counts.score_max = float(max(s.max() for s in scores))
    counts.examples = _examples(twinset, original, twin, valid, changed, size_of_move, n_examples, offset)
    for column, attribute in watch:
        if column in twinset.twins.columns and attribute in twinset.twins.columns:
            moved = ~same_values(twinset.original[attribute].to_numpy(dtype=object)[src],
                            twinset.twins[attribute].to_numpy(dtype=object)[valid])
            kept = same_values(twinset.original[column].to_numpy(dtype=object)[src],
                          twinset.twins[column].to_numpy(dtype=object)[valid])
            counts.encoding[(column, attribute)] = [int(moved.sum()), int((moved & kept).sum())]
    return counts


@dataclass
class NullCounts:
    """Null twins' flips (a CVAE's null noise floor), per null draw: each draw's per-record values (the share
    of a record's twins flipped; with one twin per record, whether it flipped) as a histogram, as
    :class:`InvarianceCounts` keeps them, and the flipped twins. Summable across partitions of the records."""

    k: int = 1
    draws: dict[int, Counter] = field(default_factory=dict)
    changed_twins: int = 0

    def merge(self, other: NullCounts) -> NullCounts:
        """The counts of both sets of records (disjoint), as one pass over their union would give."""
        draws = {r: self.draws.get(r, Counter()) + other.draws.get(r, Counter()) for r in {*self.draws, *other.draws}}
        return NullCounts(k=max(self.k, other.k), draws=draws, changed_twins=self.changed_twins + other.changed_twins)


def count_null(twinset: TwinSet, original: Predictions, answers: Predictions) -> NullCounts:
    """The null counts of null twins (``info["null_draw"]``: each record's draw) and the model's answers for them."""
    valid = twinset.valid
    source = twinset.source[valid]
    flipped = original.decision[source] != answers.decision[valid]
    per_record, has = twinset.per_record(flipped)
    k = int(twinset.info.get("k", 1))
    draw = np.asarray(twinset.info.get("null_draw", np.zeros(len(twinset.original), dtype=int)))
    draws = {}
    for r in np.unique(draw[has]):
        values, counts = np.unique(per_record[(draw == r) & has], return_counts=True)
        draws[int(r)] = Counter({float(v): int(c) for v, c in zip(values, counts)})
    return NullCounts(k=k, draws=draws, changed_twins=int(flipped.sum()))




def _votes(src: np.ndarray, from_g: np.ndarray, to_g: np.ndarray, names: list[str], orig_dec: np.ndarray,
           twin_dec: np.ndarray) -> dict[tuple[str, str], list[int]]:
    """Per pair of groups (by name, a < b): records whose discordant twins mostly favour a, mostly b, and the
    discordant twins. A record votes once however many twins it has (k twins of a record are not k pairs)."""
    discordant = orig_dec != twin_dec
    src, from_g, to_g = src[discordant], from_g[discordant], to_g[discordant]
    orig_dec, twin_dec = orig_dec[discordant], twin_dec[discordant]
    out: dict[tuple[str, str], list[int]] = {}
    if not len(src):
        return out
    size = int(src.max()) + 1
    for a, b in itertools.combinations(np.union1d(from_g, to_g).tolist(), 2):
        ab, ba = (from_g == a) & (to_g == b), (from_g == b) & (to_g == a)
        fa = (ab & orig_dec & ~twin_dec) | (ba & ~orig_dec & twin_dec)
        fb = (ab & ~orig_dec & twin_dec) | (ba & orig_dec & ~twin_dec)
        if not (fa.any() or fb.any()):
            continue
        per_a, per_b = np.bincount(src[fa], minlength=size), np.bincount(src[fb], minlength=size)
        first, second = sorted((names[a], names[b]))
        votes = [int((per_a > per_b).sum()), int((per_b > per_a).sum()), int(fa.sum() + fb.sum())]
        out[(first, second)] = votes if first == names[a] else [votes[1], votes[0], votes[2]]
    return out


def _zero_one(zeros: int, ones: int) -> Counter:
    """The histogram ``np.unique`` gives of values that are 0.0 or 1.0: only the values present, in order."""
    return Counter({v: c for v, c in ((0.0, zeros), (1.0, ones)) if c})


def direction_rows(counts: InvarianceCounts, alpha: float) -> list[dict[str, Any]]:
    """The direction table: per pair of groups, which one the records favour (exact sign test on records)."""
    rows = []
    for (a, b), (votes_a, votes_b, discordant) in sorted(counts.direction.items()):
        p = stats.mcnemar_exact(votes_a, votes_b)
        favoured = (a if votes_a > votes_b else b) if p < alpha else None
        rows.append({"group_a": a, "group_b": b, "favour_a": votes_a, "favour_b": votes_b,
                     "discordant_twins": discordant, "p_value": p, "favoured": favoured, "unit": "records"})
    return rows


def score_distribution(counts: InvarianceCounts) -> dict[str, float]:
    """Mean, mean |change|, max |change| (exact) and quantiles (to the bin) of the score changes."""
    if not counts.deltas:
        return {}
    cumulative = np.cumsum(counts.histogram)
    out = {"mean": counts.delta_sum / counts.deltas, "mean_abs": counts.delta_abs_sum / counts.deltas,
           "max_abs": max(abs(counts.delta_min), abs(counts.delta_max))}
    for name, q in (("q01", 0.01), ("q10", 0.1), ("median", 0.5), ("q90", 0.9), ("q99", 0.99)):
        index = int(np.searchsorted(cumulative, q * counts.deltas, side="left"))
        if index == 0:
            value = counts.delta_min  # below -1: only the extreme is known
        elif index >= len(EDGES):
            value = counts.delta_max
        else:
            value = float((EDGES[index - 1] + EDGES[index]) / 2)
        out[name] = float(min(max(value, counts.delta_min), counts.delta_max))
    return out


def _example_order(example: dict[str, Any]) -> tuple[Any, ...]:
    unchanged = example["original_decision"] == example["twin_decision"]
    return (unchanged, -example["_size"], example["row"], example["_twin"])


def _examples(twinset: TwinSet, original: Predictions, twin: Predictions, valid: np.ndarray, changed: np.ndarray,
              size: np.ndarray, limit: int, offset: int) -> list[dict[str, Any]]:
    """The worst pairs of these records: decision changes first, then the largest score moves, record order; at
    most one pair per record (its worst) until every record with one is shown, then the next worst pairs.

    With k twins per record (CVAE), the worst pairs were all one record's twins (issue #15)."""
    if limit <= 0:
        return []
    idx = np.flatnonzero(valid)
    src = twinset.source[idx]  # the record of each valid twin
    worth = np.flatnonzero(changed | (size > 0))
    # Each record's worst pair: among its changed pairs if it has one, the largest move, the first twin on ties.
    has_change = np.zeros(len(twinset.original), dtype=bool)
    has_change[src[worth[changed[worth]]]] = True
    contenders = worth[changed[worth] == has_change[src[worth]]]
    best = np.full(len(twinset.original), -np.inf)
    np.maximum.at(best, src[contenders], size[contenders])
    contenders = contenders[size[contenders] == best[src[contenders]]]
    _, first = np.unique(src[contenders], return_index=True)
    worst = contenders[first]
    chosen = _best(worst, src, changed, size, limit)
    if len(chosen) < limit:  # fewer records than the limit: then their other pairs, worst first
        rest = np.setdiff1d(worth, worst, assume_unique=True)
        chosen = np.concatenate([chosen, _best(rest, src, changed, size, limit - len(chosen))])
    out = []
    for i in chosen:
        t, s = idx[i], twinset.source[idx[i]]
        before, after = twinset.original.iloc[s], twinset.twins.iloc[t]
        diff = {str(c): [plain(before[c]), plain(after[c])] for c in twinset.twins.columns
                if not _same(before[c], after[c])}
        out.append({"row": int(offset + s), "changes": diff,
                    "original_decision": bool(original.decision[s]), "twin_decision": bool(twin.decision[t]),
                    "original_score": None if original.score is None else float(original.score[s]),
                    "twin_score": None if twin.score is None else float(twin.score[t]),
                    "_size": float(size[i]), "_twin": int(i)})
    return out


def _best(pairs: np.ndarray, src: np.ndarray, changed: np.ndarray, size: np.ndarray, limit: int) -> np.ndarray:
    """The ``limit`` worst of ``pairs`` in the examples' order (:func:`_example_order`). Only the pairs that can
    make the cut are sorted: every changed pair up to the limit and the largest moves (ties kept), so a million
    twins cost a partition, not a sort."""
    flipped, moved = pairs[changed[pairs]], pairs[~changed[pairs]]
    pool = np.concatenate([_largest(flipped, size, limit), _largest(moved, size, limit - len(flipped))])
    return pool[np.lexsort((pool, src[pool], -size[pool], ~changed[pool]))][:limit]


def pick_examples(examples: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The ``limit`` worst of several sets of examples (partitions of disjoint records), one per record first."""
    first: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    rows: set[Any] = set()
    for example in sorted(examples, key=_example_order):
        (rest if example["row"] in rows else first).append(example)
        rows.add(example["row"])
    return (first + rest)[:limit]


def _largest(pool: np.ndarray, size: np.ndarray, k: int) -> np.ndarray:
    """The members of ``pool`` whose ``size`` is among the ``k`` largest, every tie at the cut kept."""
    if k <= 0:
        return pool[:0]
    if len(pool) <= k:
        return pool
    cut = np.partition(size[pool], len(pool) - k)[len(pool) - k]
    return pool[size[pool] >= cut]


def public_examples(counts: InvarianceCounts) -> list[dict[str, Any]]:
    """The worst pairs without the keys used to order them."""
    return [{k: v for k, v in ex.items() if not k.startswith("_")} for ex in counts.examples]

