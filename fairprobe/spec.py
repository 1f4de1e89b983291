"""ProbeSpec: what to test, validated once, before any model is queried."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairprobe import settings
from fairprobe.data import as_column_list, binary_outcome, load_table, require_columns
from fairprobe.errors import InvalidSpec, shorten
from fairprobe.twins import TwinGenerator, resolve_generator


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
    positive_label: Any
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

    @classmethod
    def build(
        cls,
        data: Any,
        *,
        protected: str | Sequence[str],
        held: str | Sequence[str] | None = None,
        label: str | None = None,
        positive_label: Any = None,
        features: Sequence[str] | None = None,
        twins: Any = "flip",
        seed: int | None = None,
        alpha: float | None = None,
        mode: str | None = None,
        min_group_size: int | None = None,
        max_records: int | None = None,
        name: str | None = None,
        text: str | None = None,
    ) -> ProbeSpec:
        frame = load_table(data)
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
        for column in protected_cols:
            _check_protected(frame, column)
        for column in held_cols:
            missing = int(frame[column].isna().sum())
            if missing:
                raise InvalidSpec(
                    f"held column {column!r} has {missing} missing values (of {len(frame)} rows); a held "
                    "column must be identical in every twin, so fill or drop those rows first"
                )
        y_true = None
        if label is not None:
            if not isinstance(label, str):
                raise InvalidSpec(f"label must be a column name; got {label!r}")
            require_columns(frame, [label], role="label")
            if label in protected_cols or label in held_cols:
                raise InvalidSpec(f"label column {label!r} cannot also be protected or held")
            y_true = binary_outcome(frame[label], positive_label=positive_label, what=f"label column {label!r}")
        feature_cols = None
        if features is not None:
            feature_cols = as_column_list(features, role="features")
            require_columns(frame, feature_cols, role="feature")
            if label is not None and label in feature_cols:
                raise InvalidSpec(f"features include the label column {label!r}; the model must not see "
                                  "the ground truth")
        if min_group_size is not None and (not isinstance(min_group_size, int) or min_group_size < 1):
            raise InvalidSpec(f"min_group_size must be a positive whole number; got {min_group_size!r}")
        if max_records is not None and (not isinstance(max_records, int) or max_records < 1):
            raise InvalidSpec(f"max_records must be a positive whole number; got {max_records!r}")
        if text is not None:
            require_columns(frame, [text], role="text")
            if text in protected_cols or text in held_cols:
                raise InvalidSpec(f"text column {text!r} cannot also be protected or held")
            if feature_cols is None:
                feature_cols = [text]
            if twins == "rewrite":
                from fairprobe.twins.text import TextTwinGenerator

                twins = TextTwinGenerator(text)
        elif twins == "rewrite":
            raise InvalidSpec("twins='rewrite' rewrites a text column: pass text= (the column holding the profiles)")
        settings.validate(seed=seed, alpha=alpha, mode=mode)
        return cls(
            data=frame, protected=tuple(protected_cols), held=tuple(held_cols), label=label,
            positive_label=positive_label, features=None if feature_cols is None else tuple(feature_cols),
            twins=resolve_generator(twins), seed=seed, alpha=alpha, mode=mode,
            min_group_size=min_group_size, max_records=max_records, name=name, text=text, y_true=y_true,
        )

    def attributes(self, attributes: str | Sequence[str], *, what: str) -> tuple[str, ...]:
        """Validate the attribute(s) a check names: they must be among the protected columns."""
        names = as_column_list(attributes, role=f"{what} attribute")
        if not names:
            raise InvalidSpec(f"{what} needs a protected attribute, e.g. '{self.protected[0]}'")
        for name in names:
            if name not in self.protected:
                from fairprobe.errors import closest
                hint = closest(name, self.protected)
                did_you_mean = f"; did you mean {hint!r}?" if hint else ""
                raise InvalidSpec(f"{what}: {name!r} is not a protected attribute of this probe{did_you_mean} "
                                  f"(protected: {', '.join(self.protected)})")
        return tuple(names)


def _check_protected(frame: pd.DataFrame, column: str) -> None:
    values = frame[column]
    missing = int(values.isna().sum())
    if missing:
        raise InvalidSpec(f"protected column {column!r} has {missing} missing values; fill them with an "
                          "explicit value (e.g. 'unknown') or drop those rows")
    seen = pd.unique(values)
    if len(seen) < 2:
        raise InvalidSpec(f"protected column {column!r} has a single value ({seen[0]!r}) in {len(frame)} "
                          "rows; there is nothing to compare: use data that holds at least two groups")
    if len(seen) > 50:
        raise InvalidSpec(f"protected column {column!r} has {len(seen)} distinct values "
                          f"({shorten(seen[:5])}, ...); bin it first (e.g. age into bands)")
