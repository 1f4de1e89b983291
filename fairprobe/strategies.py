"""Hypothesis strategies that search for discriminatory twin pairs.

``twin_pairs(probe, "sex")`` draws a record with its twins; in a ``@given`` test,
``assert_pair_invariant(probe, pair)`` fails on a pair whose decisions differ, and hypothesis
shrinks the failure: a record is a real row of the data plus a few edits, so shrinking drops the
edits the failure does not need, moves to earlier rows and lowers each edited value toward the
smallest observed one that still fails. A found pair is plain data: ``pair.save(path)`` and
``TwinPair.load(path)`` replay it as a regression case without hypothesis, and it prints as a
column diff (what the twin changed, the decision and score that moved, the held values), never as
a DataFrame.

>>> import fairprobe as fp
>>> from hypothesis import given, settings
>>> world = fp.worlds.hiring(n=300, seed=0)
>>> probe = fp.Probe(data=world.data, model=lambda df: df["skills_score"] > 50, protected=["sex"],
...                  held=["skills_score"], label="hired", features=["sex", "skills_score"])
>>> @settings(max_examples=20, database=None, deadline=None)
... @given(twin_pairs(probe, "sex"))
... def test_pairs(pair):
...     assert_pair_invariant(probe, pair)
>>> test_pairs()
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.predictions import Predictions
from fairprobe.data import plain, same_value as _same
from fairprobe.errors import InvalidSpec
from fairprobe.validation import check_count

__all__ = ["TwinPair", "assert_pair_invariant", "twin_pairs"]

SOURCES = ("edited", "data")
# The name "synthetic" drew every column independently (issue #8: impossible records such as age 19
# with age_group "25+", and a shrinker that gave up); it now means the edited records that replaced it.
ALIASES = {"synthetic": "edited"}
DERIVED_PROBE_ROWS = 2_000  # rows used to find which columns a derived column reads
ORDER_ROWS = 10_000  # rows twinned and scored once, at the first draw, to put the rows whose twins flip first


@dataclass(frozen=True)
class TwinPair:
    """One record (a one-row frame) and its twins for ``attributes``.

    Attributes
    ----------
    original : DataFrame
        The record, one row shaped like the probe's data.
    twins : DataFrame
        Its valid twins, one row each.
    attributes : tuple of str
        The protected attributes the twins change.
    row : optional
        The index label of the data row the record was built from (None when it was not).
    edits : tuple of (column, value in the data row, value set)
        The edits made to that row (derived columns were recomputed after them).
    seed : int, optional
        The seed the twins were made with (None for a deterministic generator such as flip).

    Examples
    --------
    >>> import pandas as pd
    >>> pair = TwinPair(pd.DataFrame({"sex": ["male"], "x": [3]}), pd.DataFrame({"sex": ["female"], "x": [3]}),
    ...                 ("sex",), row=7, edits=(("x", 1, 3),))
    >>> print(repr(pair))
    TwinPair(sex; record: row 7 of the data, edited x 1 -> 3
        record -> twin 1 of 1:
            sex: 'male' -> 'female')
    """

    original: pd.DataFrame
    twins: pd.DataFrame
    attributes: tuple[str, ...]
    row: Any = None
    edits: tuple[tuple[str, Any, Any], ...] = ()
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"attributes": list(self.attributes),
                "original": plain(self.original.to_dict(orient="records")),
                "twins": plain(self.twins.to_dict(orient="records")),
                "dtypes": {c: str(t) for c, t in self.original.dtypes.items()},
                "row": plain(self.row), "edits": plain([list(e) for e in self.edits]), "seed": self.seed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TwinPair:
        def frame(rows):
            out = pd.DataFrame(rows, columns=list(data["dtypes"]))
            for column, dtype in data["dtypes"].items():
                try:
                    out[column] = out[column].astype(dtype)
                except (TypeError, ValueError):
                    pass
            return out

        # Files written before rows and edits were recorded lack those keys.
        edits = tuple(tuple(e) for e in data.get("edits", ()))
        return cls(frame(data["original"]), frame(data["twins"]), tuple(data["attributes"]), row=data.get("row"),
                   edits=edits, seed=data.get("seed"))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the pair as JSON (to replay it later as a regression case)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> TwinPair:
        """Read a pair written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    def __repr__(self) -> str:
        probe = getattr(self, "_probe", None)
        outcome = None
        if probe is not None:
            try:
                outcome = _outcome(probe, self)
            except Exception:
                outcome = None
        held = probe.spec.held if probe is not None else ()
        lines = _describe(self, outcome, held)
        return f"TwinPair({' x '.join(self.attributes)}; " + "\n    ".join(lines) + ")"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints a dataclass field by field (a DataFrame as "[1 rows x 23 columns]", issue #8)
        # unless the object has its own pretty printer.
        lines = repr(self).split("\n")
        printer.text(lines[0])
        for line in lines[1:]:
            printer.break_()
            printer.text(line)


def twin_pairs(probe: Any, attribute: str | Sequence[str], *, source: str = "edited", max_edits: int = 3) -> Any:
    """A hypothesis strategy of :class:`TwinPair` for ``probe`` and the protected ``attribute``(s).

    Parameters
    ----------
    probe : Probe
        The probe whose data, generator, bands and derived columns make the pairs.
    attribute : str or list of str
        The protected attribute(s) the twins change.
    source : {"edited", "data"}
        ``"edited"`` (the default): a real row of the data (drawn by position, the rows whose twins get
        another decision placed first, so that shrinking reaches the first such row by construction)
        plus up to ``max_edits`` edits, each setting one column to another value observed in that
        column among rows of the record's own protected groups (drawn by position in the sorted
        values, shrinking toward the smallest); derived columns are then recomputed. ``"data"``:
        real rows only.
        ``"edited"`` is the default because it searches best. Real rows alone find little that
        :meth:`Probe.invariance` (which twins every row) does not; edits reach combinations no
        real row holds (a PhD with four certifications), while the rest of the row stays as the
        data has it. Shrinking reads as a story: a real row, the edits the failure needs, the smallest
        values that fail (a local minimum: hypothesis does not try every row). It never builds an
        impossible record: every value is one the data holds for that group, and derived columns
        always agree with the columns they are computed from. Drawing each column independently
        (the former ``"synthetic"``, now a name for ``"edited"``) built records no one could have,
        and on German credit shrank for five minutes before giving up (issue #8).
    max_edits : int
        At most this many edits per record (0 gives real rows only).

    Returns
    -------
    SearchStrategy of TwinPair
        Pairs whose twins come from ``probe.make_twins`` (flip, or a fitted CVAE with a drawn seed;
        invalid twins are left out).

    Notes
    -----
    Edited columns are those the model reads (or that a derived column is computed from), other
    than derived ones, the label, a text column and protected columns (a banded protected column is
    edited within its band). A column that encodes a protected attribute (``status_sex`` for
    ``sex``) stays consistent with the record because edits come from rows of the same groups.

    Examples
    --------
    >>> import fairprobe as fp
    >>> from hypothesis import given, settings
    >>> world = fp.worlds.hiring(n=300, seed=0)
    >>> def model(df):
    ...     return (df["skills_score"] > 50 + 10 * (df["sex"] == "female")).to_numpy()
    >>> probe = fp.Probe(data=world.data, model=model, protected=["sex"], held=["skills_score"],
    ...                  features=["sex", "skills_score"])
    >>> @settings(database=None, deadline=None, derandomize=True)
    ... @given(twin_pairs(probe, "sex"))
    ... def search(pair):
    ...     assert_pair_invariant(probe, pair)
    >>> try:
    ...     search()
    ... except AssertionError as failure:
    ...     print(failure)
    decision changed with sex for 1 of 1 twins: False -> True
      record: row 1 of the data (unedited)
      record -> twin 1 of 1:
          sex: 'female' -> 'male'
          decision False -> True
      held: skills_score=51.6
    """
    from hypothesis import strategies as st

    attrs = probe.spec.attributes(attribute, what="twin_pairs")
    source = ALIASES.get(source, source) if isinstance(source, str) else source
    if source not in SOURCES:
        raise InvalidSpec(f"source must be 'edited' (a real row with a few edits, the default) or 'data' "
                          f"(real rows only); got {source!r}")
    max_edits = check_count("max_edits", max_edits, minimum=0)
    data = probe.spec.data
    index = data.index
    rows = data.reset_index(drop=True)
    built: list[_Domain] = []  # built at the first draw, not when a test module is imported
    # Flip twins do not use the seed: drawing one would only add a choice for hypothesis to shrink.
    seeded = getattr(probe.spec.twins, "name", None) != "flip"

    order: list[np.ndarray] = []  # rows whose twins flip first, also built at the first draw

    @st.composite
    def pairs(draw: Any) -> TwinPair:
        if not order:
            order.append(_flipping_first(probe, rows, attrs))
        position = int(order[0][draw(st.integers(0, len(rows) - 1))])
        record = rows.iloc[[position]].reset_index(drop=True)
        edits: list[tuple[str, Any, Any]] = []
        if source == "edited" and max_edits and not built:
            built.append(_Domain.build(probe))
        domain = built[0] if built else None
        if domain is not None and domain.columns:
            values = domain.values[domain.group[position]]
            edit = st.integers(0, len(domain.columns) - 1).flatmap(
                lambda j: st.tuples(st.just(j), st.integers(0, len(values[j]) - 1)))
            for j, k in sorted(draw(st.lists(edit, max_size=max_edits, unique_by=lambda e: e[0]))):
                column, new = domain.columns[j], values[j].iloc[[k]].reset_index(drop=True)
                old = record[column].iloc[0]
                if _same(old, new.iloc[0]):
                    continue  # an edit to the value the row holds changes nothing; leave it out of the report
                record[column] = new
                edits.append((column, plain(old), plain(new.iloc[0])))
            if edits:
                record = probe.spec.recompute(record)
        seed = draw(st.integers(0, 2**16)) if seeded else None
        twinset = probe.make_twins(record, attrs, seed=0 if seed is None else seed, fidelity=False)
        twins = twinset.twins if twinset.valid.all() else twinset.twins[twinset.valid].reset_index(drop=True)
        pair = TwinPair(record, twins, attrs, row=plain(index[position]), edits=tuple(edits), seed=seed)
        object.__setattr__(pair, "_probe", probe)  # so that the printed example shows the model's answers
        return pair

    return pairs()


def _flipping_first(probe: Any, rows: pd.DataFrame, attrs: tuple[str, ...]) -> np.ndarray:
    """Row positions in the order a drawn position maps to: the rows (of the first ``ORDER_ROWS``) whose twins,
    made with seed 0, get another decision, then the others, each in data order.

    So the simplest example hypothesis can draw (position 0, no edits, seed 0) is a failing pair whenever a real
    row fails, and shrinking reaches it by construction, whatever examples the generation phase happens to try
    (hypothesis mixes constants from every local module in ``sys.modules`` into what it draws, so the examples
    tried depend on what else the process imported; issue #21).
    """
    head = rows.iloc[:ORDER_ROWS].reset_index(drop=True)
    twinset = probe.make_twins(head, attrs, seed=0, fidelity=False)
    flipped = np.zeros(len(head), dtype=bool)
    valid = np.asarray(twinset.valid, dtype=bool)
    if valid.any():
        original = np.asarray(probe.predict(head).decision)
        source = np.asarray(twinset.source)[valid]
        twins = np.asarray(probe.predict(twinset.twins[valid].reset_index(drop=True)).decision)
        np.logical_or.at(flipped, source, twins != original[source])
    return np.concatenate([np.flatnonzero(flipped), np.flatnonzero(~flipped), np.arange(len(head), len(rows))])


@dataclass(frozen=True)
class _Domain:
    """The columns an edit may set and, per protected group, each one's observed values, sorted."""

    columns: tuple[str, ...]
    group: np.ndarray  # the group code of each data row
    values: list[list[pd.Series]]  # [group][column] -> sorted observed values, missing last

    @classmethod
    def build(cls, probe: Any) -> _Domain:
        spec = probe.spec
        data = spec.data.reset_index(drop=True)
        skip = {*spec.derived, spec.label, spec.text}
        candidates = [c for c in data.columns if c not in skip and (c not in spec.protected or c in spec.bands)]
        reads = set(probe.features) | _derived_inputs(spec, data, [c for c in candidates if c not in probe.features])
        columns = tuple(c for c in candidates if c in reads and data[c].nunique(dropna=False) > 1)
        # Values come from rows of the record's own groups (bands for a banded attribute), so an edit
        # never pairs sex=male with status_sex="female : ..." or moves age out of its band.
        group, uniques = pd.factorize(spec.group_labels(data, spec.protected))
        values = [[_sorted_values(data[c][group == g]) for c in columns] for g in range(len(uniques))]
        return cls(columns, group, values)


def _derived_inputs(spec: Any, data: pd.DataFrame, candidates: list[str]) -> set[str]:
    """Which of ``candidates`` a derived column reads: those whose rotation changes a derived value."""
    if not spec.derived or not candidates:
        return set()
    sample = data.head(DERIVED_PROBE_ROWS).reset_index(drop=True)
    derived = list(spec.derived)
    base = spec.recompute(sample.copy())[derived]
    rotate = np.roll(np.arange(len(sample)), 1)
    inputs = set()
    for column in candidates:
        moved = sample.copy()
        moved[column] = sample[column].iloc[rotate].reset_index(drop=True)
        if not spec.recompute(moved)[derived].equals(base):
            inputs.add(column)
    return inputs


def _sorted_values(column: pd.Series) -> pd.Series:
    """The distinct values of ``column`` in its dtype, smallest first, a missing value last."""
    distinct = column.drop_duplicates()
    try:
        ordered = distinct.sort_values(na_position="last", kind="stable")
    except TypeError:  # mixed types (numbers and text in one object column) have no order; group them by type
        ordered = distinct.iloc[sorted(range(len(distinct)), key=lambda i: (type(distinct.iloc[i]).__name__,
                                                                             str(distinct.iloc[i])))]
    return ordered.reset_index(drop=True)


def _outcome(probe: Any, pair: TwinPair) -> tuple[Any, Any] | None:
    """The model's answers for the record and its twins (through the probe's cache)."""
    if not len(pair.twins):
        return None
    # One call for the record and its twins: a one-row model call costs about as much as a batch
    # (an sklearn pipeline: ~20 ms), and a search makes one per example.
    both = probe.predict(pd.concat([pair.original, pair.twins], ignore_index=True))
    score = both.score
    original = Predictions(both.decision[:1], None if score is None else score[:1], both.threshold)
    twins = Predictions(both.decision[1:], None if score is None else score[1:], both.threshold)
    return original, twins


def _show(value: Any) -> str:
    return repr(plain(value))


def _describe(pair: TwinPair, outcome: tuple[Any, Any] | None, held: Sequence[str], *,
              max_twins: int = 3) -> list[str]:
    """The lines that describe a pair: the record, the twins that flipped (all twins without answers)
    as column diffs, the decisions and scores, and the held values."""
    lines = [_record_line(pair)]
    before = pair.original.iloc[0]
    if outcome is not None:
        original, twins = outcome
        flipped = np.flatnonzero(twins.decision != original.decision[0])
        shown = flipped if len(flipped) else np.arange(len(pair.twins))
    else:
        shown = np.arange(len(pair.twins))
    for i in shown[:max_twins]:
        twin = pair.twins.iloc[i]
        lines.append(f"record -> twin {i + 1} of {len(pair.twins)}:")
        diff = [c for c in pair.original.columns if not _same(before[c], twin[c])]
        lines.extend(f"    {c}: {_show(before[c])} -> {_show(twin[c])}" for c in diff)
        if not diff:
            lines.append("    (identical)")
        if outcome is not None:
            lines.append("    " + _answers(outcome, int(i)))
    if len(shown) > max_twins:
        lines.append(f"... and {len(shown) - max_twins} more twins")
    if not len(pair.twins):
        lines.append("(no valid twins)")
    if held:
        lines.append("held: " + ", ".join(f"{c}={_show(before[c])}" for c in held))
    return lines


def _record_line(pair: TwinPair) -> str:
    where = "a record not from the data" if pair.row is None else f"row {pair.row!r} of the data"
    if pair.row is not None and pair.edits:
        where += ", edited " + ", ".join(f"{c} {_show(old)} -> {_show(new)}" for c, old, new in pair.edits)
    elif pair.row is not None:
        where += " (unedited)"
    if pair.seed is not None:
        where += f"; twin seed {pair.seed}"
    return f"record: {where}"


def _answers(outcome: tuple[Any, Any], i: int) -> str:
    original, twins = outcome
    text = f"decision {bool(original.decision[0])} -> {bool(twins.decision[i])}"
    if original.score is not None and twins.score is not None:
        text += f", score {original.score[0]:.4g} -> {twins.score[i]:.4g}"
    return text


def assert_pair_invariant(probe: Any, pair: TwinPair) -> None:
    """Fail when a twin's decision differs from its original's, showing the pair as a column diff.

    Parameters
    ----------
    probe : Probe
        The probe whose model answers (through its cache).
    pair : TwinPair
        A drawn pair, or one loaded with :meth:`TwinPair.load`.

    Raises
    ------
    AssertionError
        When some twin's decision differs. The message names the attributes and how many twins
        flipped, then shows the record (the data row and the edits made to it), the columns that
        differ between the record and the first twin that flipped, the decision and score change,
        and the held values.

    Examples
    --------
    >>> import fairprobe as fp
    >>> world = fp.worlds.hiring(n=300, seed=0)
    >>> probe = fp.Probe(data=world.data, model=lambda df: (df["sex"] == "male").to_numpy(),
    ...                  protected=["sex"], held=["years_experience"], features=["sex", "years_experience"])
    >>> pair = TwinPair(world.data.iloc[[0]], world.data.iloc[[0]].assign(sex="female"), ("sex",), row=0)
    >>> assert_pair_invariant(probe, pair)
    Traceback (most recent call last):
    ...
    AssertionError: decision changed with sex for 1 of 1 twins: True -> False
      record: row 0 of the data (unedited)
      record -> twin 1 of 1:
          sex: 'male' -> 'female'
          decision True -> False
      held: years_experience=0
    """
    __tracebackhide__ = True
    outcome = _outcome(probe, pair)
    if outcome is None:
        return
    original, twins = outcome
    flipped = np.flatnonzero(twins.decision != original.decision[0])
    if len(flipped):
        first = int(flipped[0])
        head = (f"decision changed with {' x '.join(pair.attributes)} for {len(flipped)} of {len(pair.twins)} twins: "
                f"{bool(original.decision[0])} -> {bool(twins.decision[first])}")
        lines = _describe(pair, outcome, probe.spec.held)
        raise AssertionError(head + "\n" + "\n".join("  " + line for line in lines))
