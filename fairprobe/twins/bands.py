"""A numeric protected attribute read in bands (age [18, 40), [40, 65), [65, 100]).

Groups are the bands; a twin moves the raw value into the target band at the same within-band
quantile (a 25-year-old, at the 30th percentile of the [18, 40) band, becomes the 30th percentile of
the [40, 65) band), so a model that reads the raw value sees it change. Binning the column and
twinning the bins instead leaves the raw value as it was: a vacuous check.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairprobe.errors import given, InvalidSpec


@dataclass(frozen=True)
class Bands:
    """Band edges for one numeric column: ``[e0, e1), [e1, e2), ..., [e(m-1), em]``.

    Examples
    --------
    >>> bands = Bands("age", (18, 40, 65, 100))
    >>> bands.label(pd.Series([18, 39, 40, 100])).tolist()
    ['[18, 40)', '[18, 40)', '[40, 65)', '[65, 100]']
    """

    column: str
    edges: tuple[float, ...]

    @classmethod
    def build(cls, column: str, edges: Sequence[float]) -> Bands:
        """Validate the edges: at least three increasing finite numbers (two bands)."""
        try:
            values = [e for e in edges]
        except TypeError:
            raise InvalidSpec(f"bands[{column!r}] must be a list of band edges such as [0, 40, 65, 120]; "
                              f"got {edges!r}") from None
        if len(values) < 3 or not all(isinstance(e, numbers.Real) and not isinstance(e, bool)
                                      and math.isfinite(float(e)) for e in values):
            raise InvalidSpec(f"bands[{column!r}] needs at least three finite edges (two bands), e.g. "
                              f"[0, 40, 65, 120]; got {list(values)!r}")
        if any(b <= a for a, b in itertools.pairwise(values)):
            raise InvalidSpec(f"bands[{column!r}] edges must increase; got {list(values)!r}")
        return cls(column, tuple(float(e) for e in values))

    @property
    def names(self) -> list[str]:
        """One label per band in interval notation, which says which edge it holds: ``"[18, 40)"`` holds 18 and
        not 40, and the last band holds its upper edge, ``"[65, 100]"`` ("18-40" left a reader to guess where a
        40-year-old went)."""
        last = len(self.edges) - 2
        return [f"[{_edge(a)}, {_edge(b)}{']' if i == last else ')'}"
                for i, (a, b) in enumerate(zip(self.edges, self.edges[1:]))]

    def codes(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """The band index of each value (the last band includes its upper edge); -1 outside every band."""
        x = np.asarray(values, dtype=float)
        index = np.searchsorted(np.asarray(self.edges), x, side="right") - 1
        index = np.where(x == self.edges[-1], len(self.edges) - 2, index)
        return np.where((x >= self.edges[0]) & (x <= self.edges[-1]), index, -1)

    def index_of(self, labels: np.ndarray) -> np.ndarray:
        """The band index of each band label."""
        index = pd.Index(self.names).get_indexer(pd.Series(labels, dtype=object))
        if (index < 0).any():
            raise InvalidSpec(f"{self.column!r}: unknown band label(s) {sorted(set(np.asarray(labels)[index < 0]))}; "
                              f"the bands are {self.names}")
        return index

    def label(self, values: pd.Series) -> pd.Series:
        """The band label of each value."""
        codes = self.codes(values)
        return pd.Series(np.asarray(self.names, dtype=object)[codes], index=values.index, name=values.name)

    def check(self, values: pd.Series) -> None:
        """Every value must be a number inside the bands."""
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise InvalidSpec(f"bands apply to a numeric protected column; {self.column!r} has dtype {values.dtype} "
                              "(values such as " + ", ".join(map(repr, pd.unique(values)[:3])) + ")")
        outside = self.codes(values) < 0
        if outside.any():
            bad = values[outside]
            raise InvalidSpec(f"{int(outside.sum())} rows have {self.column!r} outside the bands "
                              f"[{_edge(self.edges[0])}, {_edge(self.edges[-1])}] (for example {bad.tolist()[0]!r}); "
                              "widen the first or last edge, or drop those rows")

    def move(self, values: np.ndarray, target: np.ndarray, reference: pd.Series) -> np.ndarray:
        """Move each value into its target band (an index) at the same within-band quantile.

        Quantiles are read from ``reference`` (the probe's data) band by band, as mid-ranks; the
        moved value is an observed value of the target band (so an integer age stays an integer),
        or the band's linear interpolation where the data hold no value in it.
        """
        values = np.asarray(values, dtype=float)
        source = self.codes(values)
        ref = np.asarray(reference, dtype=float)
        ref_codes = self.codes(ref)
        sorted_by_band = [np.sort(ref[ref_codes == b]) for b in range(len(self.edges) - 1)]
        q = np.empty(len(values))
        for b, inside in enumerate(sorted_by_band):
            rows = source == b
            if not rows.any():
                continue
            if len(inside):
                low = np.searchsorted(inside, values[rows], side="left")
                high = np.searchsorted(inside, values[rows], side="right")
                q[rows] = (low + high) / (2 * len(inside))
            else:
                q[rows] = (values[rows] - self.edges[b]) / (self.edges[b + 1] - self.edges[b])
        out = np.empty(len(values))
        for b, inside in enumerate(sorted_by_band):
            rows = target == b
            if not rows.any():
                continue
            if len(inside):
                position = np.clip(np.ceil(q[rows] * len(inside)).astype(int) - 1, 0, len(inside) - 1)
                out[rows] = inside[position]
            else:
                out[rows] = self.edges[b] + np.clip(q[rows], 0, 1) * (self.edges[b + 1] - self.edges[b])
        return out


def build_bands(bands: Mapping[str, Sequence[float]] | None, frame: pd.DataFrame,
                protected: Sequence[str]) -> dict[str, Bands]:
    """Validate ``bands=`` against the data and the protected columns."""
    if bands is None:
        return {}
    if not isinstance(bands, Mapping):
        raise InvalidSpec(f"bands must map a protected column to its edges, e.g. bands={{'age': [0, 40, 65, 120]}}; "
                          f"got {given(bands)}")
    out = {}
    for column, edges in bands.items():
        if column not in protected:
            raise InvalidSpec(f"bands: {column!r} is not a protected column (protected: {', '.join(protected)}); "
                              "bands tell how to group a numeric protected attribute")
        out[column] = Bands.build(column, edges)
        out[column].check(frame[column])
    return out


def _edge(value: float) -> str:
    return f"{value:g}"
