"""Flip twins: only the protected columns change (ceteris paribus)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fairprobe.data import column_hash, replace_columns, row_hashes
from fairprobe.twins.base import FlipLayout, TwinSet


class FlipGenerator:
    """Twins that differ from their original only in the protected attributes.

    Each record gets one twin for every other combination of the attributes' values that occurs
    in ``targets`` (default: the data itself; for one attribute, every other value). Flip twins catch a model that reads the
    protected column; they are blind to proxies (a neighbourhood, a name) that travel with it.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": ["f", "m", "f"], "x": [1, 2, 3]})
    >>> ts = FlipGenerator().generate(df, ["sex"], held=["x"], seed=0)
    >>> ts.twins["sex"].tolist(), ts.source.tolist()
    (['m', 'f', 'm'], [0, 1, 2])
    """

    name = "flip"

    def generate(
        self, data: pd.DataFrame, attributes: Sequence[str], *, held: Sequence[str] = (), seed: int = 0,
        targets: pd.DataFrame | None = None,
    ) -> TwinSet:
        attributes = list(attributes)
        original = data.reset_index(drop=True)
        combos = target_combinations(original if targets is None else targets, attributes)
        codes = _combo_codes(original, combos, attributes)
        n = len(original)
        record, combo = _pairs(codes, len(combos))
        # One twin per record (a binary attribute): the twins are the records themselves, not taken row by
        # row (a shallow copy: pandas copies a column on write, so the records stay as they are).
        twins = original.copy(deep=False) if len(record) == n and (record == np.arange(n)).all() else \
            original.iloc[record].reset_index(drop=True)
        for attribute in attributes:
            # Taken from the few combinations' own array: no Python object per twin.
            values = combos[attribute].array.take(combo)
            twins[attribute] = pd.Series(values, dtype=original[attribute].dtype, copy=False)
        return TwinSet(
            original=original,
            twins=twins,
            source=record,
            attributes=tuple(attributes),
            valid=np.ones(len(record), dtype=bool),
            generator=self.name,
            info={"combinations": len(combos)},
            layout=FlipLayout(original=original, twins=twins, combos=combos, from_combo=codes, to_combo=combo),
        )


def _pairs(codes: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Twin (record i, combination c) for every combination c other than the record's own (``codes[i]``, -1
    when it has none among the ``count``), records in order and each record's combinations in order."""
    n = len(codes)
    if n and count > 1 and codes.min() >= 0:
        # Every record has its own combination: count - 1 twins each, the own one skipped by arithmetic
        # (the same pairs as the mask below, without the n x count arrays).
        if count == 2:
            return np.arange(n), (1 - codes).astype(np.int64)
        record = np.repeat(np.arange(n), count - 1)
        step = np.tile(np.arange(count - 1), n)
        return record, step + (step >= codes[record])
    record = np.repeat(np.arange(n), count)
    combo = np.tile(np.arange(count), n)
    keep = combo != codes[record]
    return record[keep], combo[keep]


def target_combinations(frame: pd.DataFrame, attributes: list[str]) -> pd.DataFrame:
    """The combinations of the attributes' values that twins are made for: those in ``frame``."""
    return frame[attributes].drop_duplicates().sort_values(attributes).reset_index(drop=True)


def _combo_codes(frame: pd.DataFrame, combos: pd.DataFrame, attributes: list[str]) -> np.ndarray:
    """For each row of ``frame``, the index of its combination in ``combos`` (-1 when absent).

    Columns are factorized together with the combinations and their codes combined arithmetically:
    a join of a million rows on string columns took half a second, this a tenth of it.
    """
    key_frame = np.zeros(len(frame), dtype=np.int64)
    key_combo = np.zeros(len(combos), dtype=np.int64)
    for attribute in attributes:
        both = pd.concat([combos[attribute], frame[attribute]], ignore_index=True)
        codes, levels = pd.factorize(both, use_na_sentinel=False)
        size = max(len(levels), 1)
        key_combo = key_combo * size + codes[: len(combos)]
        key_frame = key_frame * size + codes[len(combos):]
    return pd.Index(key_combo).get_indexer(key_frame)  # type: ignore[arg-type] # pandas takes any array-like


def twin_row_keys(twinset: TwinSet, positions: np.ndarray, data: pd.DataFrame, features: Sequence[str],
                  original_keys: np.ndarray, *, sample: int = 512) -> np.ndarray | None:
    """Row hashes of flip twins from their originals': only the protected columns changed, so each twin's
    hash is its original's with those columns' hashes replaced (the fold is linear). ``positions`` are where
    the twinset's originals sit in ``data``; ``original_keys`` the data's row hashes over ``features``.

    None for twins of another generator, and whenever a seeded sample of twins hashed in full disagrees
    (then the caller hashes every twin in full).
    """
    if twinset.generator != "flip" or not len(twinset):
        return None
    features = list(features)
    source = positions[twinset.source]
    changes = []
    layout = twinset.layout if twinset.layout is not None and twinset.layout.twins is twinset.twins else None
    for attribute in twinset.attributes:
        if attribute in features:
            column = twinset.twins[attribute]
            if layout is not None and column.dtype != object and layout.combos[attribute].dtype == column.dtype:
                # The twins' values are the few combinations' values, taken: hash those few (the same hashes).
                new = column_hash(layout.combos[attribute])[layout.to_combo]
            else:
                new = column_hash(column)
            if layout is not None and layout.original is twinset.original and \
                    isinstance(column.dtype, pd.StringDtype) and layout.combos[attribute].dtype == column.dtype:
                # Text: an original's value is its combination's (equal strings, equal hashes; numbers are not
                # taken this way, since 0.0 and -0.0 are one value to the combinations and two to the hash).
                old = column_hash(layout.combos[attribute])[layout.from_combo[twinset.source]]
            else:
                old = column_hash(data[attribute])[source]
            changes.append((features.index(attribute), old, new))
    keys = replace_columns(original_keys[source], changes)
    rng = np.random.default_rng(len(twinset))
    checked = rng.choice(len(twinset), min(sample, len(twinset)), replace=False)
    if not (row_hashes(twinset.twins[features].iloc[checked]) == keys[checked]).all():
        return None
    return keys
