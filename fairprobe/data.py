"""Loading and validating tables: every problem with the data is named before any work starts."""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.errors import closest, given, InvalidSpec, MissingDependency, shorten


def load_table(data: Any, *, what: str = "data") -> pd.DataFrame:
    """Return ``data`` as a DataFrame: a DataFrame as is, or a CSV or Parquet file read from disk.

    Examples
    --------
    >>> import pandas as pd
    >>> load_table(pd.DataFrame({"a": [1, 2]})).shape
    (2, 1)
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, (str, os.PathLike)):
        frame = _read_file(Path(data), what)
    else:
        hint = ("; a Ray Dataset is probed where it sits: fp.Probe(data=dataset, ..., engine='ray')"
                if type(data).__module__.startswith("ray.data") else "")
        raise InvalidSpec(
            f"{what} must be a pandas DataFrame or the path of a CSV or Parquet file; "
            f"got {given(data)}{hint}"
        )
    if frame.shape[0] == 0:
        raise InvalidSpec(f"{what} is empty (0 rows, columns: {shorten(frame.columns)}); "
                          "a probe needs at least one record")
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()].unique()
        raise InvalidSpec(f"{what} has duplicated column names: {shorten(dup)}; rename them first")
    return frame


def _read_file(path: Path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise InvalidSpec(f"{what} file not found: {str(path)!r} (working directory: {os.getcwd()}); give the path "
                          f"of an existing CSV or Parquet file, or a DataFrame")
    if not path.is_file():
        raise InvalidSpec(f"{what} path {str(path)!r} is a folder, not a file; give the path of a CSV or Parquet "
                          "file inside it")
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith((".parquet", ".pq")):
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise MissingDependency("pyarrow", "parquet", "reading Parquet files") from exc
        return pd.read_parquet(path)
    if suffix.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
        try:
            return pd.read_csv(path, sep="\t" if ".tsv" in suffix else ",")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InvalidSpec(f"could not read {what} file {str(path)!r} as CSV: {exc}") from None
    raise InvalidSpec(f"{what} file {str(path)!r} has an unknown type {path.suffix!r}; "
                      "use a .csv or .parquet file, or pass a DataFrame")


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, role: str) -> None:
    """Raise InvalidSpec naming the closest match when a column in ``columns`` is missing."""
    for column in columns:
        if column not in frame.columns:
            hint = closest(str(column), frame.columns)
            did_you_mean = f"; did you mean {hint!r}?" if hint else ""
            raise InvalidSpec(
                f"{role} column {column!r} not found in data{did_you_mean} "
                f"(use one of the columns: {shorten(frame.columns, 12)})"
            )


def require_scalars(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise InvalidSpec when a column holds lists, dicts or sets: fairprobe needs one value per cell."""
    for column in columns:
        series = frame[column]
        if series.dtype != object or pd.api.types.infer_dtype(series, skipna=True) not in ("mixed", "unknown-array"):
            continue
        bad = series.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray)))
        if bad.any():
            first = series[bad].iloc[0]
            raise InvalidSpec(
                f"column {column!r} holds {type(first).__name__} values in {int(bad.sum())} rows (first: {first!r} at "
                f"row {series.index[bad.to_numpy()][0]!r}); fairprobe needs one scalar per cell: join the items into "
                "a string or spread them over columns")


def as_column_list(value: str | Sequence[str] | None, *, role: str) -> list[str]:
    """Accept one column name or a sequence of names; reject anything else clearly."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise InvalidSpec(f"{role} must be a column name or a list of column names; "
                          f"got {given(value)}") from None
    for name in names:
        if not isinstance(name, str):
            raise InvalidSpec(f"{role} must hold column names (strings); got {name!r}")
    if len(set(names)) != len(names):
        raise InvalidSpec(f"{role} lists a column twice: {names}")
    return names


def binary_outcome(values: pd.Series | np.ndarray, *, positive_label: Any, what: str,
                   setting: str = "positive_label") -> np.ndarray:
    """Turn a two-valued column into a boolean array: True where it equals the positive label.

    With ``positive_label=None`` the values must be 0/1 or booleans. ``setting`` is the name the user gave
    the favourable value by, for messages.
    """
    series = pd.Series(values)
    if series.isna().any():
        raise InvalidSpec(f"{what} has {int(series.isna().sum())} missing values; "
                          "drop or fill those rows first")
    seen = pd.unique(series)
    if positive_label is None:
        if len(seen) > 2 or not all(_is_zero_one(v) for v in seen):
            raise InvalidSpec(
                f"{what} has values {_sample_values(seen)}, not 0/1 or True/False; "
                "pass label_positive= to say which value is the favourable outcome (positive_label= sets it and "
                "the model's favourable class at once)"
            )
        return series.astype(bool).to_numpy()
    if not (series == positive_label).any():
        hint = closest(str(positive_label), seen)
        did_you_mean = f"; did you mean {hint!r}?" if hint else ""
        raise InvalidSpec(f"{setting} {positive_label!r} never occurs in {what}{did_you_mean} "
                          f"(values: {_sample_values(seen)})")
    if len(seen) > 2:
        raise InvalidSpec(f"{what} has {len(seen)} distinct values ({_sample_values(seen)}); "
                          "a binary outcome is needed: map it to two values first")
    return (series == positive_label).to_numpy()


def _is_zero_one(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_, int, np.integer, float, np.floating)) and value in (0, 1)


def _sample_values(values: Any) -> str:
    return shorten(sorted(repr(v.item() if isinstance(v, np.generic) else v) for v in values), 6)


def fingerprint_frame(frame: pd.DataFrame, *, folded: np.ndarray | None = None) -> str:
    """SHA-256 over column names, dtypes and every value: the same table gives the same digest.

    ``folded``, when given, is ``row_hashes(frame)`` made already (a probe hashes each column of its
    data once, for this digest and for its row cache).
    """
    digest = hashlib.sha256()
    for name, dtype in frame.dtypes.items():
        digest.update(f"{name}\x1f{dtype}\x1e".encode())
    digest.update((row_hashes(frame) if folded is None else folded).tobytes())
    return digest.hexdigest()


_NA_HASH = np.uint64(0x9E3779B97F4A7C15)


def _position_weight(position: int) -> np.uint64:
    """An odd 64-bit multiplier for the column at ``position`` (splitmix64 of the position, made odd)."""
    z = (position + 1) * 0x9E3779B97F4A7C15 % 2**64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 % 2**64
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB % 2**64
    return np.uint64((z ^ (z >> 31)) | 1)


def column_hash(column: pd.Series) -> np.ndarray:
    """One 64-bit hash per value of ``column`` (not its index): a value hashes alike in every frame.

    Numbers are hashed as they are; any other column is factorized and only its distinct values
    hashed (pandas' ``hash_pandas_object`` hashed every string of a million-row column through
    Arrow: 0.4 s a frame against 0.1 s this way). pandas hashes an object value through its text, so
    ``1`` and ``"1"`` (or ``True`` and ``"True"``) would share a hash, and the row cache one answer
    (issue #22): a value that is not a string gets its kind (number, boolean, or its type) mixed in.

    Examples
    --------
    >>> h = column_hash(pd.Series([1, "1", True, "True", 1.0], dtype=object))
    >>> len(set(h[:4].tolist())), bool(h[0] == h[4])      # 1.0 == 1, as pandas and Python read them
    (4, True)
    """
    if pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype):
        values = column.to_numpy(dtype=float, na_value=np.nan) if column.hasnans else column.to_numpy()
        return pd.util.hash_array(np.asarray(values)).astype(np.uint64, copy=False)
    inferred = pd.api.types.infer_dtype(column, skipna=True)
    if inferred in ("mixed", "mixed-integer") and not isinstance(column.dtype, pd.CategoricalDtype):
        # Python's 1 == True == 1.0: factorize would merge them before any hash. Factorize (value, kind) pairs.
        values = column.to_numpy(dtype=object)
        # one Python step a row (the value's type), then a handful of types to kinds: 0.13 s a million rows
        type_codes, types = pd.factorize(np.fromiter(map(type, values), dtype=object, count=len(values)))
        kind_codes = pd.factorize(np.asarray([_kind_of_type(t) for t in types], dtype=object))[0][type_codes]
        value_codes, _ = pd.factorize(values, use_na_sentinel=True)
        pair = np.where(value_codes < 0, -1, value_codes.astype(np.int64) * (int(kind_codes.max()) + 1) + kind_codes)
        codes, firsts = pd.factorize(pair, use_na_sentinel=False)
        present = firsts >= 0
        first_row = np.zeros(len(firsts), dtype=np.int64)
        first_row[codes[::-1]] = np.arange(len(codes))[::-1]  # the first row of each code
        distinct = values[first_row]
        codes = np.where(firsts[codes] < 0, -1, codes)
        hashed = np.zeros(len(distinct), np.uint64)
        if present.any():
            hashed[present] = _hash_with_kinds(distinct[present])
        return np.append(hashed, _NA_HASH).astype(np.uint64)[codes]
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    if not len(distinct):
        hashed = np.zeros(0, np.uint64)
    elif inferred in ("string", "empty"):
        hashed = pd.util.hash_array(distinct)
    else:
        hashed = _hash_with_kinds(distinct)
    table = np.append(hashed, _NA_HASH).astype(np.uint64)
    return table[codes]  # the sentinel -1 reads the last entry: missing values hash as _NA_HASH


_KIND_MIX = np.uint64(0xC2B2AE3D27D4EB4F)


def _kind(value: Any) -> str:
    """A value's kind for hashing: "" for text, "number" (1, 1.0 and np.int64(1) compare equal), "bool", else
    its type."""
    return _kind_of_type(type(value))


def _kind_of_type(kind: type) -> str:
    if issubclass(kind, (str, np.str_)):
        return ""
    if issubclass(kind, (bool, np.bool_)):
        return "bool"
    if issubclass(kind, (int, float, np.integer, np.floating)):
        return "number"
    return f"{kind.__module__}.{kind.__qualname__}"


def _hash_with_kinds(values: np.ndarray) -> np.ndarray:
    """Hashes of distinct object values, each value's kind (:func:`_kind`) mixed in (text gets none, so strings
    hash as pandas hashes them); a number is hashed as a float, so ``1`` and ``1.0`` (one value to pandas'
    factorize, whichever comes first) hash alike in every frame."""
    kinds = np.array([_kind(v) for v in values], dtype=object)
    normal = np.array([float(v) if k == "number" else v for v, k in zip(values, kinds)], dtype=object)
    hashed = pd.util.hash_array(normal, categorize=False).astype(np.uint64)
    tags = np.where(kinds == "", np.uint64(0), pd.util.hash_array(kinds).astype(np.uint64))
    with np.errstate(over="ignore"):
        return hashed ^ (tags * _KIND_MIX)


def fold_hashes(hashes: Sequence[np.ndarray], rows: int) -> np.ndarray:
    """Row hashes from column hashes: the sum of each column's hash times an odd weight for its position
    (mod 2**64). Linear on purpose: a twin that differs from its original in some columns only gets its
    hash from the original's, those columns' hashes and their weights (:func:`replace_columns`)."""
    out = np.zeros(rows, dtype=np.uint64)
    for position, hashed in enumerate(hashes):
        fold_into(out, hashed, position)
    return out


def fold_into(out: np.ndarray, hashed: np.ndarray, position: int) -> None:
    """Add the column ``hashed`` at ``position`` to the row hashes ``out``, in place."""
    with np.errstate(over="ignore"):
        out += hashed * _position_weight(position)


def replace_columns(keys: np.ndarray, changes: Sequence[tuple[int, np.ndarray, np.ndarray]]) -> np.ndarray:
    """Row hashes after replacing some columns: ``changes`` holds ``(position, old hashes, new hashes)``."""
    out = keys.copy()
    with np.errstate(over="ignore"):
        for position, old, new in changes:
            out += (new - old) * _position_weight(position)
    return out


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row over its values (not its index): equal rows, equal hashes.

    Each column is hashed by :func:`column_hash` and the columns folded by :func:`fold_hashes`, so the
    hashes of a twin and of its original can be compared.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1.0, 2.0, None], "s": ["f", "m", "f"]})
    >>> b = pd.DataFrame({"x": [2.0, 1.0], "s": ["m", "f"]})
    >>> row_hashes(a)[:2].tolist() == row_hashes(b)[::-1].tolist(), bool(row_hashes(a)[0] == row_hashes(a)[2])
    (True, False)
    >>> bool((row_hashes(a[["s", "x"]]) != row_hashes(a)).all())  # the columns' order counts
    True
    """
    return fold_hashes([column_hash(column) for _, column in frame.items()], len(frame))


def fingerprint_and_keys(data: pd.DataFrame, features: Sequence[str]) -> tuple[str, np.ndarray]:
    """The data's fingerprint and its rows' hashes over ``features`` (the model's columns), from one pass that
    hashes each column once and folds it into both (hashing a million rows twice cost 0.2 s)."""
    where = {name: position for position, name in enumerate(features)}
    every, read = np.zeros(len(data), dtype=np.uint64), np.zeros(len(data), dtype=np.uint64)
    for position, (name, column) in enumerate(data.items()):
        hashed = column_hash(column)
        fold_into(every, hashed, position)
        if name in where:
            fold_into(read, hashed, where[name])
    return fingerprint_frame(data, folded=every), read


def same_value(a: Any, b: Any) -> bool:
    """Equal values, a missing value equal to a missing value (and never ``bool(pd.NA)``, which raises).

    >>> same_value(float("nan"), None), same_value(pd.NA, 1), same_value(2, 2.0)
    (True, False, True)
    """
    a_missing, b_missing = bool(pd.isna(a)), bool(pd.isna(b))
    return a_missing and b_missing if a_missing or b_missing else bool(a == b)


def same_values(a: Any, b: Any) -> np.ndarray:
    """Element-wise :func:`same_value` of two equally long sequences (pandas' ``pd.NA`` included, where ``==``
    raises in an object array).

    >>> same_values([1, float("nan"), pd.NA, "x"], [1.0, None, "y", pd.NA]).tolist()
    [True, True, False, False]
    """
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    a_missing, b_missing = pd.isna(a), pd.isna(b)
    out = a_missing & b_missing
    present = ~a_missing & ~b_missing
    out[present] = a[present] == b[present]
    return out


def plain(value: Any) -> Any:
    """Numpy and pandas scalars to Python ones, recursively; NaN to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else (None if math.isnan(value) else ("inf" if value > 0 else "-inf"))
    if isinstance(value, Enum):
        return plain(value.value)
    if value is None or isinstance(value, (str, int)):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)
