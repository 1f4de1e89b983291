"""Hypothesis strategies that search for discriminatory twin pairs.

``twin_pairs(probe, "sex")`` draws a record with its twins; in a ``@given`` test,
``assert_pair_invariant(probe, pair)`` fails on a pair whose decisions differ, and hypothesis
shrinks the failure to a minimal one (held values toward their smallest, categories toward the
first seen). A found pair is plain data: ``pair.save(path)`` and ``TwinPair.load(path)`` replay it
as a regression case without hypothesis.

>>> import fairprobe as fp
>>> from hypothesis import given, settings
>>> world = fp.worlds.hiring(n=300, seed=0)
>>> probe = fp.Probe(data=world.data, model=lambda df: df["skills_score"] > 50, protected=["sex"],
...                  held=["skills_score"], label="hired")
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

from fairprobe.data import plain
from fairprobe.errors import InvalidSpec


@dataclass(frozen=True)
class TwinPair:
    """One record (a one-row frame) and its twins for ``attributes``."""

    original: pd.DataFrame
    twins: pd.DataFrame
    attributes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"attributes": list(self.attributes),
                "original": plain(self.original.to_dict(orient="records")),
                "twins": plain(self.twins.to_dict(orient="records")),
                "dtypes": {c: str(t) for c, t in self.original.dtypes.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TwinPair:
        def frame(rows):
            out = pd.DataFrame(rows)
            for column, dtype in data["dtypes"].items():
                try:
                    out[column] = out[column].astype(dtype)
                except (TypeError, ValueError):
                    pass
            return out

        return cls(frame(data["original"]), frame(data["twins"]), tuple(data["attributes"]))

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
        return cls.from_dict(json.loads(Path(path).read_text()))


def twin_pairs(probe, attribute: str | Sequence[str], *, source: str = "synthetic"):
    """A strategy of :class:`TwinPair` for ``probe`` and the protected ``attribute``(s).

    ``source="synthetic"`` builds each record column by column from the values seen in the probe's
    data (numbers within their observed range, categories among those seen), so hypothesis can
    shrink it; ``source="data"`` draws the probe's real records. Twins come from the probe's twin
    generator (flip, or a fitted CVAE with a drawn seed).
    """
    from hypothesis import strategies as st

    attrs = probe.spec.attributes(attribute, what="twin_pairs")
    data = probe.spec.data
    if source == "data":
        records = st.integers(0, len(data) - 1).map(lambda i: data.iloc[[i]].reset_index(drop=True))
    elif source == "synthetic":
        records = st.fixed_dictionaries({c: _column_strategy(data[c]) for c in data.columns}).map(
            lambda row: _one_row(row, data))
    else:
        raise InvalidSpec(f"source must be 'synthetic' or 'data'; got {source!r}")
    generator = probe.generator

    @st.composite
    def pairs(draw):
        record = draw(records)
        seed = draw(st.integers(0, 2**16))
        twinset = generator.generate(record, list(attrs), held=list(probe.spec.held), seed=seed, targets=data)
        return TwinPair(record, twinset.twins, attrs)

    return pairs()


def _column_strategy(series: pd.Series):
    from hypothesis import strategies as st

    observed = series.dropna()
    if pd.api.types.is_bool_dtype(series):
        return st.booleans()
    if pd.api.types.is_integer_dtype(series):
        return st.integers(int(observed.min()), int(observed.max()))
    if pd.api.types.is_float_dtype(series):
        return st.floats(float(observed.min()), float(observed.max()), allow_nan=False)
    values = list(pd.unique(observed))
    return st.sampled_from([v.item() if isinstance(v, np.generic) else v for v in values])


def _one_row(row: dict[str, Any], like: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame([row])
    for column, dtype in like.dtypes.items():
        frame[column] = frame[column].astype(dtype)
    return frame


def assert_pair_invariant(probe, pair: TwinPair) -> None:
    """Fail (AssertionError) when a twin's decision differs from its original's, showing the column diff."""
    __tracebackhide__ = True
    original = probe.predict(pair.original)
    twins = probe.predict(pair.twins)
    changed = np.flatnonzero(twins.decision != original.decision[0])
    if len(changed):
        twin = pair.twins.iloc[changed[0]]
        before = pair.original.iloc[0]
        diff = ", ".join(f"{c}: {before[c]!r} -> {twin[c]!r}" for c in pair.original.columns
                         if not (pd.isna(before[c]) and pd.isna(twin[c])) and before[c] != twin[c])
        score = ""
        if original.score is not None:
            score = f" (score {original.score[0]:.4g} -> {twins.score[changed[0]]:.4g})"
        held = ", ".join(f"{c}={plain(before[c])!r}" for c in probe.spec.held)
        raise AssertionError(f"decision changed with {' x '.join(pair.attributes)}{score}: {diff}; held {held}")
