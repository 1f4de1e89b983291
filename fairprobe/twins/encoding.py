"""Mixed-type table encoding for the conditional VAE: numbers to normal scores, categories to one-hot.

Numeric columns go through an empirical quantile transform to standard-normal scores (robust to
skewed and multimodal columns, and invertible); a numeric column with missing values gets an
indicator column, and its missing cells come back as missing; a numeric column with a point mass
(Adult's capital_gain is 0 in 92 % of rows) gets an indicator for it, and the quantile transform
covers the other values only: blurred into the transform, the mass swallowed the rare large values
that predict income best (train-on-synthetic accuracy 2.8 points below real, 0.5 without them). Categorical and boolean columns
(and numeric ones with few distinct values) are one-hot, with missing as a category of its own.
The encoding is plain data (``to_dict`` / ``from_dict``), saved as JSON beside the weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from fairprobe.errors import InvalidSpec, shorten

MISSING = "__missing__"
MAX_CATEGORIES = 200
N_QUANTILES = 1000
SPIKE_SHARE = 0.2  # a single value holding this share of a numeric column is modelled as a point mass


@dataclass
class ColumnCode:
    """How one column is encoded: its kind, its width in the matrix and what inverts it."""

    name: str
    kind: str  # "numeric" or "categorical"
    dtype: str
    categories: list[Any] = field(default_factory=list)
    quantiles: list[float] = field(default_factory=list)
    has_missing: bool = False
    integer: bool = False
    spike: float | None = None
    # The fewest decimals (up to 6) that write every observed value: paired twins shift a value and
    # round it back to them, so a shift too small to show in the data keeps the value (None: no rounding).
    decimals: int | None = None

    @property
    def flags(self) -> list[str]:
        """The binary indicator columns after a numeric column's score, in order."""
        return (["missing"] if self.has_missing else []) + (["spike"] if self.spike is not None else [])

    @property
    def width(self) -> int:
        return len(self.categories) if self.kind == "categorical" else 1 + len(self.flags)


@dataclass
class TableEncoder:
    """Fitted encoding of a set of columns; ``transform`` gives a float32 matrix, ``inverse`` a frame."""

    columns: list[ColumnCode] = field(default_factory=list)

    @classmethod
    def fit(cls, frame: pd.DataFrame, names: list[str], *, categorical: Sequence[str] = ()) -> TableEncoder:
        """Encode ``names``; those in ``categorical`` one-hot whatever their dtype (protected columns)."""
        return cls([_fit_column(frame[name], force_categorical=name in categorical) for name in names])

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns)

    def spans(self) -> list[tuple[ColumnCode, int, int]]:
        """(column, start, stop) of each column's block in the encoded matrix."""
        out, start = [], 0
        for code in self.columns:
            out.append((code, start, start + code.width))
            start += code.width
        return out

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = [_transform_column(code, frame[code.name]) for code in self.columns]
        if not blocks:
            return np.zeros((len(frame), 0), dtype=np.float32)
        return np.concatenate(blocks, axis=1).astype(np.float32)

    def inverse_numeric(self, code: ColumnCode, score: np.ndarray, flags: dict[str, np.ndarray]) -> pd.Series:
        """Normal scores back to values through the stored quantiles; the point mass and missing cells
        where their indicators (logits) are positive."""
        values = self.inverse_score(code, score)
        if code.integer:
            values = np.round(values)
        if code.spike is not None:
            values = np.where(flags["spike"] > 0, code.spike, values)
        series = pd.Series(values)
        if code.has_missing:
            series = series.where(flags["missing"] <= 0)
        return series

    @staticmethod
    def inverse_score(code: ColumnCode, score: np.ndarray) -> np.ndarray:
        """Normal scores back to values through the stored quantiles (not rounded, no indicators)."""
        q = np.asarray(code.quantiles)
        return np.interp(special.ndtr(score), np.linspace(0, 1, len(q)), q)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.__dict__ for c in self.columns]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableEncoder:
        return cls([ColumnCode(**c) for c in data["columns"]])


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _fit_column(series: pd.Series, *, force_categorical: bool = False) -> ColumnCode:
    name, dtype = str(series.name), str(series.dtype)
    observed = series.dropna()
    if _is_numeric(series) and observed.nunique() > 15 and not force_categorical:
        values = observed.to_numpy(dtype=float)
        integer = bool(np.all(np.mod(values, 1) == 0))
        counts = observed.value_counts(normalize=True)
        spike = float(counts.index[0]) if counts.iloc[0] >= SPIKE_SHARE else None
        rest = values[values != spike] if spike is not None else values
        quantiles = np.quantile(rest, np.linspace(0, 1, min(N_QUANTILES, len(rest))))
        return ColumnCode(name, "numeric", dtype, quantiles=[float(q) for q in quantiles],
                          has_missing=bool(series.isna().any()), integer=integer, spike=spike,
                          decimals=_decimals(values))
    if not (_is_numeric(series) or pd.api.types.is_bool_dtype(series) or pd.api.types.is_object_dtype(series)
            or isinstance(series.dtype, (pd.CategoricalDtype, pd.StringDtype)) or pd.api.types.is_string_dtype(series)):
        raise InvalidSpec(f"column {name!r} has dtype {dtype}, which the CVAE cannot encode; use numbers, "
                          "strings, booleans or categories (convert dates to numbers first)")
    categories = sorted((_plain(v) for v in observed.unique()), key=lambda v: (str(type(v)), v))
    if len(categories) > MAX_CATEGORIES:
        raise InvalidSpec(f"column {name!r} has {len(categories)} distinct values ({shorten(categories[:5])}, ...); "
                          f"the CVAE encodes at most {MAX_CATEGORIES} categories: group rare values, or hold or "
                          "drop the column")
    if series.isna().any():
        categories.append(MISSING)
    return ColumnCode(name, "categorical", dtype, categories=categories)


def _decimals(values: np.ndarray) -> int | None:
    """The fewest decimals (0-6) that write every value (to float precision); None when none do."""
    scale = np.maximum(1.0, np.abs(values))
    for decimals in range(7):
        if np.all(np.abs(np.round(values, decimals) - values) <= 1e-9 * scale):
            return decimals
    return None


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _transform_column(code: ColumnCode, series: pd.Series) -> np.ndarray:
    if code.kind == "numeric":
        q = np.asarray(code.quantiles)
        values = series.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        filled = np.where(missing, np.median(q), values)
        # The midpoint of tied quantiles keeps a spike (e.g. capital_gain = 0) at one score.
        u = (np.searchsorted(q, filled, side="left") + np.searchsorted(q, filled, side="right")) / (2 * len(q))
        score = special.ndtri(np.clip(u, 0.5 / len(q), 1 - 0.5 / len(q)))
        blocks = [score[:, None]]
        if code.has_missing:
            blocks.append(missing[:, None].astype(float))
        if code.spike is not None:
            at_spike = ~missing & (filled == code.spike)
            blocks[0] = np.where(at_spike, 0.0, score)[:, None]
            blocks.append(at_spike[:, None].astype(float))
        return np.concatenate(blocks, axis=1)
    # Look up each distinct value once (a row-wise map took 1.9 s on 325,000 twins).
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    keys = np.asarray([_plain(v) for v in uniques] + [MISSING], dtype=object)  # missing is code -1: the last key
    index = pd.Index(code.categories).get_indexer(keys)[codes]
    if (index < 0).any():
        unseen = pd.unique(keys[codes[index < 0]])
        raise InvalidSpec(f"column {code.name!r} has values never seen when the CVAE was fitted: "
                          f"{shorten(unseen)}; refit on data that includes them")
    onehot = np.zeros((len(series), len(code.categories)))
    onehot[np.arange(len(series)), index] = 1.0
    return onehot
