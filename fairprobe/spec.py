"""ProbeSpec: what to test, validated once, before any model is queried.

Besides the column roles it holds two things that keep twins honest:

- ``bands``: a numeric protected attribute read in bands (groups are the bands, twins move the raw
  value into the target band), so a model reading the raw value sees the change;
- ``derived``: columns computed from others (``age_group`` from ``age``, ``status_sex`` from
  ``sex``), recomputed in every twin so that a twin never pairs ``sex=female`` with a column that
  still says "male".

Twin generators work on the **grouped view** of the data (banded columns replaced by their band
labels); :meth:`ProbeSpec.restore` turns their twins back into rows the model reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from fairprobe import settings
from fairprobe.data import (
    as_column_list,
    binary_outcome,
    load_table,
    require_columns,
    require_scalars,
    same_values,
)
from fairprobe.errors import closest, given, InvalidSpec, shorten
from fairprobe.twins import TwinGenerator, TwinSet, group_labels, resolve_generator
from fairprobe.twins.bands import Bands, build_bands
from fairprobe.twins.base import group_codes
from fairprobe.validation import check_optional_count

MAX_GROUPS = 50  # a protected column with more distinct values needs bands

# A probe's settings, named once (issue #21): ``fp.Probe(data, model, **settings)`` takes each (its signature is
# compared with this in tests/test_probe_parity.py), a partitioned probe (``engine=``) each but NOT_PARTITIONED
# (refused by name) and PARTITION_SETTINGS too, and a ``probe_*.yaml`` file has a key for each.
PROBE_SETTINGS = ("protected", "label", "held", "twins", "causes", "features", "seed", "alpha", "mode",
                  "positive_label", "threshold", "min_group_size", "max_records", "name", "label_positive",
                  "model_positive", "text", "derived", "bands", "redact", "model_version", "engine")
PARTITION_SETTINGS = ("partition_rows", "ray_address")
NOT_PARTITIONED = ("causes", "max_records", "text", "bands", "redact")
# the settings a probe keeps beside its ProbeSpec (the model's adapter, the evidence, the engine); the others
# are ProbeSpec.build's keywords
NOT_IN_SPEC = ("causes", "threshold", "redact", "model_version", "engine")
SPEC_SETTINGS = tuple(name for name in PROBE_SETTINGS if name not in NOT_IN_SPEC)


def check_settings(given: Mapping[str, Any], *, engine: Any) -> None:
    """Refuse a keyword that is no probe setting (naming the closest), and partition settings without ``engine=``."""
    known = (*PROBE_SETTINGS, *PARTITION_SETTINGS)
    for name in given:
        if name not in known and name not in ("data", "model"):
            hint = closest(str(name), known)
            raise InvalidSpec(f"Probe has no setting {name!r}" + (f"; did you mean {hint!r}?" if hint else "")
                              + f" (settings: {', '.join(known)})")
    if engine is None:
        for name in PARTITION_SETTINGS:
            if given.get(name) is not None:
                raise InvalidSpec(f"{name}= is a setting of a probe over partitions of the records; pass "
                                  f"engine='local' (or 'ray') too, or leave {name}= out")


@dataclass(frozen=True, eq=False)
class ProbeSpec:
    """The data, the protected, held and label columns, the twins and the statistical settings.

    Build it with :meth:`ProbeSpec.build`, which validates everything and names what is wrong.
    ``seed``, ``alpha`` and ``mode`` may be None: the session defaults then apply (set by the
    pytest options ``--fairprobe-seed`` and friends).
    """

    data: pd.DataFrame
    protected: tuple[str, ...]
    held: tuple[str, ...]
    label: str | None
    label_positive: Any
    features: tuple[str, ...] | None
    twins: TwinGenerator
    seed: int | None = None
    alpha: float | None = None
    mode: str | None = None
    min_group_size: int | None = None
    max_records: int | None = None
    name: str | None = None
    text: str | None = None
    y_true: np.ndarray | None = field(default=None, repr=False)
    derived: dict[str, Callable[[pd.DataFrame], Any]] = field(default_factory=dict, repr=False)
    bands: dict[str, Bands] = field(default_factory=dict)
    model_positive: Any = None

    @property
    def positive_label(self) -> Any:
        """The label's favourable value (``label_positive``; the name before the label's and the model's were
        separated)."""
        return self.label_positive

    @classmethod
    def build(
        cls,
        data: Any,
        *,
        protected: str | Sequence[str],
        held: str | Sequence[str] | None = None,
        label: str | None = None,
        positive_label: Any = None,
        label_positive: Any = None,
        model_positive: Any = None,
        features: Sequence[str] | None = None,
        twins: Any = "flip",
        seed: int | None = None,
        alpha: float | None = None,
        mode: str | None = None,
        min_group_size: int | None = None,
        max_records: int | None = None,
        name: str | None = None,
        text: str | None = None,
        derived: Mapping[str, Callable[[pd.DataFrame], Any]] | None = None,
        bands: Mapping[str, Sequence[float]] | None = None,
    ) -> ProbeSpec:
        frame = load_table(data)
        label_positive, model_positive = favourable_values(positive_label, label_positive, model_positive)
        protected_cols = as_column_list(protected, role="protected")
        if not protected_cols:
            raise InvalidSpec("protected must name at least one column (e.g. protected=['sex'])")
        held_cols = as_column_list(held, role="held")
        require_columns(frame, protected_cols, role="protected")
        require_columns(frame, held_cols, role="held")
        both = [c for c in held_cols if c in protected_cols]
        if both:
            raise InvalidSpec(f"column {both[0]!r} is both protected and held; a twin changes protected "
                              "columns and keeps held ones, so a column can be only one of them")
        require_scalars(frame, [*protected_cols, *held_cols])
        banded = build_bands(bands, frame, protected_cols)
        for column in protected_cols:
            _check_protected(frame, column, banded=column in banded)
        # Missing values in held columns are values: kept identical in every twin (a CVAE condition cell of their own).
        y_true = None
        if label is not None:
            if not isinstance(label, str):
                raise InvalidSpec(f"label must be a column name; got {label!r}")
            require_columns(frame, [label], role="label")
            require_scalars(frame, [label])
            if label in protected_cols or label in held_cols:
                raise InvalidSpec(f"label column {label!r} cannot also be protected or held")
            y_true = binary_outcome(frame[label], positive_label=label_positive, what=f"label column {label!r}",
                                    setting="label_positive" if positive_label is None else "positive_label")
        feature_cols = None
        if features is not None:
            feature_cols = as_column_list(features, role="features")
            require_columns(frame, feature_cols, role="feature")
            if label is not None and label in feature_cols:
                raise InvalidSpec(f"features include the label column {label!r}; the model must not see "
                                  "the ground truth")
        min_group_size = check_optional_count("min_group_size", min_group_size)
        max_records = check_optional_count("max_records", max_records)
        if text is not None:
            require_columns(frame, [text], role="text")
            if text in protected_cols or text in held_cols:
                raise InvalidSpec(f"text column {text!r} cannot also be protected or held")
            _check_text(frame, text)
            if feature_cols is None:
                feature_cols = [text]
            if isinstance(twins, str) and twins == "rewrite":
                from fairprobe.twins.text import TextTwinGenerator

                twins = TextTwinGenerator(text)
        elif isinstance(twins, str) and twins == "rewrite":
            raise InvalidSpec("twins='rewrite' rewrites a text column: pass text= (the column holding the profiles)")
        derived_fns = _check_derived(derived, frame, protected_cols, held_cols, label)
        settings.validate(seed=seed, alpha=alpha, mode=mode)
        return cls(
            data=frame, protected=tuple(protected_cols), held=tuple(held_cols), label=label,
            label_positive=label_positive, features=None if feature_cols is None else tuple(feature_cols),
            twins=resolve_generator(twins), seed=seed, alpha=alpha, mode=mode,
            min_group_size=min_group_size, max_records=max_records, name=name, text=text, y_true=y_true,
            derived=derived_fns, bands=banded, model_positive=model_positive,
        )

    def attributes(self, attributes: str | Sequence[str], *, what: str) -> tuple[str, ...]:
        """Validate the attribute(s) a check names: they must be among the protected columns."""
        names = as_column_list(attributes, role=f"{what} attribute")
        if not names:
            raise InvalidSpec(f"{what} needs a protected attribute, e.g. '{self.protected[0]}'")
        for name in names:
            if name not in self.protected:
                hint = closest(name, self.protected)
                did_you_mean = f"; did you mean {hint!r}?" if hint else ""
                raise InvalidSpec(f"{what}: {name!r} is not a protected attribute of this probe{did_you_mean} "
                                  f"(use one of the protected attributes: {', '.join(self.protected)}, or add it to "
                                  f"protected=)")
        return tuple(names)

    # ------------------------------------------------------------------ the grouped view

    def grouped(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with each banded column replaced by its band label: what twin generators see."""
        present = {c: b for c, b in self.bands.items() if c in frame.columns}
        if not present:
            return frame
        view = frame.copy()
        # Only the banded columns ``frame`` holds: a check of sex reads the sex column alone, with age banded
        # (issue #15: a KeyError 'age' from every check but age's).
        for column, bands in present.items():
            view[column] = bands.label(frame[column]).astype(object)
        return view

    def group_labels(self, frame: pd.DataFrame, attributes: Sequence[str]) -> pd.Series:
        """One group label per row of ``frame`` (bands for banded attributes)."""
        return group_labels(self.grouped(frame[list(attributes)]) if self.bands else frame, attributes)

    def group_codes(self, frame: pd.DataFrame, attributes: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """One integer group code per row of ``frame`` and the groups' names (bands for banded attributes)."""
        columns = frame[list(attributes)]
        return group_codes(self.grouped(columns) if self.bands else columns, attributes)

    def restore(self, twinset: TwinSet, records: pd.DataFrame) -> TwinSet:
        """Twins made on the grouped view, as rows the model reads: raw values moved into their target
        bands (other banded columns copied from the original), derived columns recomputed."""
        if not self.bands and not self.derived:
            return twinset
        records = records.reset_index(drop=True)
        labels = (twinset.original_groups(), twinset.twin_groups())
        twins = twinset.twins.copy()
        for column, bands in self.bands.items():
            raw = records[column].to_numpy()[twinset.source]
            if column in twinset.attributes:
                target = bands.index_of(twins[column].to_numpy())
                moved = bands.move(raw, target, self.data[column])
                twins[column] = moved.astype(records[column].dtype)  # type: ignore[arg-type] # an extension dtype too
            else:
                twins[column] = raw
        twins = self.recompute(twins)
        return replace(twinset, original=records, twins=twins, labels=labels)

    def recompute(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with every derived column recomputed from its function."""
        return recompute_derived(frame, self.derived, {c: self.data[c].dtype for c in self.derived})


def favourable_values(positive_label: Any, label_positive: Any, model_positive: Any) -> tuple[Any, Any]:
    """The label's favourable value and the model's favourable class, from a probe's three settings.

    ``positive_label=`` is both at once (the meaning it always had); ``label_positive=`` and
    ``model_positive=`` set one each, for a model trained on 0/1 probed against a label of ``>50K`` / ``<=50K``
    (``label_positive=">50K"``; the model's favourable class stays its default, 1).

    Examples
    --------
    >>> favourable_values("good", None, None), favourable_values(None, ">50K", None)
    (('good', 'good'), ('>50K', None))
    """
    if positive_label is not None and (label_positive is not None or model_positive is not None):
        raise InvalidSpec(
            f"positive_label={positive_label!r} sets both the label's favourable value and the model's favourable "
            f"class; pass it alone, or instead label_positive= (the label's) and model_positive= (the model's); got "
            f"also label_positive={label_positive!r}, model_positive={model_positive!r}")
    if positive_label is not None:
        return positive_label, positive_label
    return label_positive, model_positive


def _check_protected(frame: pd.DataFrame, column: str, *, banded: bool) -> None:
    values = frame[column]
    missing = int(values.isna().sum())
    if missing:
        raise InvalidSpec(f"protected column {column!r} has {missing} missing values; fill them with an "
                          "explicit value (e.g. 'unknown') or drop those rows")
    if banded:
        return
    seen = pd.unique(values)
    if len(seen) < 2:
        raise InvalidSpec(f"protected column {column!r} has a single value ({seen[0]!r}) in {len(frame)} "
                          "rows; there is nothing to compare: use data that holds at least two groups")
    as_text = pd.Series([str(v) for v in seen])
    if as_text.duplicated().any():
        clash = [repr(v) for v, dup in zip(seen, as_text.duplicated(keep=False)) if dup][:4]
        raise InvalidSpec(f"protected column {column!r} mixes types whose values read alike ({', '.join(clash)}), "
                          "so its groups would merge; convert the column to one type first "
                          f"(e.g. df[{column!r}] = df[{column!r}].astype(str))")
    if len(seen) > MAX_GROUPS:
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        fix = (f"pass bands={{{column!r}: [edges]}} (e.g. [0, 40, 65, 120] for age): groups are then the bands, and "
               "twins move the raw value into the target band") if numeric else "group rare values first"
        raise InvalidSpec(f"protected column {column!r} has {len(seen)} distinct values ({shorten(seen[:5])}, ...); "
                          f"{fix}")


def _check_text(frame: pd.DataFrame, column: str) -> None:
    values = frame[column]
    missing = int(values.isna().sum())
    if missing:
        raise InvalidSpec(f"text column {column!r} has {missing} missing values (first at row "
                          f"{values.index[values.isna().to_numpy()][0]!r}); a text model would receive them as "
                          "'nan': fill them (e.g. with '') or drop those rows")
    not_text = values.map(lambda v: not isinstance(v, str))
    if not_text.any():
        first = values[not_text].iloc[0]
        raise InvalidSpec(f"text column {column!r} holds {int(not_text.sum())} values that are not strings "
                          f"(e.g. {first!r} of type {type(first).__name__}); convert them with .astype(str) first")


def _check_derived(derived: Mapping[str, Callable[[pd.DataFrame], Any]] | None, frame: pd.DataFrame,
                   protected: list[str], held: list[str], label: str | None) -> dict[str, Callable[[pd.DataFrame], Any]]:
    """Each derived column exists, is not protected, held or the label, and its function reproduces it."""
    if derived is None:
        return {}
    if not isinstance(derived, Mapping):
        raise InvalidSpec("derived must map a column to a function of the row frame, e.g. "
                          "derived={'age_group': lambda df: pd.cut(df['age'], [17, 24, 120])}; "
                          f"got {given(derived)}")
    out = {}
    for column, fn in derived.items():
        require_columns(frame, [column], role="derived")
        if column in protected or column in held or column == label:
            role = "protected" if column in protected else "held" if column in held else "the label"
            raise InvalidSpec(f"derived column {column!r} is also {role}; a derived column is recomputed in every "
                              "twin from the columns it depends on, so it cannot have another role")
        if not callable(fn):
            raise InvalidSpec(f"derived[{column!r}] must be a function DataFrame -> values; got {given(fn)}")
        check_reproduces(column, fn, frame)
        out[column] = fn
    return out


def check_reproduces(column: str, fn: Callable[[pd.DataFrame], Any], frame: pd.DataFrame, *, offset: int = 0) -> None:
    """Refuse a derived function that does not give ``frame``'s own column (``offset``: the position of
    ``frame``'s first row in the whole data, for a partition)."""
    values = _call_derived(column, fn, frame.copy())
    original = frame[column].reset_index(drop=True)
    mismatch = ~same_values(values, original)
    if mismatch.any():
        row = int(np.flatnonzero(mismatch)[0])
        where = f"row {frame.index[row]!r}" if not offset else f"record {offset + row}"
        raise InvalidSpec(
            f"derived[{column!r}] does not reproduce the data's column on {int(mismatch.sum())} of {len(frame)} rows "
            f"({where}: the data says {original.iloc[row]!r}, the function gives "
            f"{values.iloc[row]!r}); fix the function so that twins get the value the data would hold")


def recompute_derived(frame: pd.DataFrame, derived: Mapping[str, Callable[[pd.DataFrame], Any]],
                      dtypes: Mapping[str, Any]) -> pd.DataFrame:
    """``frame`` with every derived column recomputed from its function, in the data's dtype where it fits."""
    for column, fn in derived.items():
        values = _call_derived(column, fn, frame)
        try:
            frame[column] = values.astype(dtypes[column])
        except (TypeError, ValueError):
            frame[column] = values
    return frame


def _call_derived(column: str, fn: Callable[[pd.DataFrame], Any], frame: pd.DataFrame) -> pd.Series:
    try:
        values = fn(frame)
    except Exception as exc:
        raise InvalidSpec(f"derived[{column!r}] raised {type(exc).__name__}: {exc}") from exc
    values = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, pd.Series) else values.to_numpy())
    if len(values) != len(frame):
        raise InvalidSpec(f"derived[{column!r}] returned {len(values)} values for {len(frame)} rows; it must return "
                          "one value per row")
    return values.infer_objects()
