"""The proxy scan: which columns the model reads also tell the protected attribute?

Run at Probe construction on the columns the model reads. For each column and protected
attribute it measures:

- ``auc``: how well the column alone predicts the attribute: a one-column model fitted
  out-of-fold (5 folds; categories by their smoothed group shares, numbers by quantile bins) and
  scored by ROC AUC, one group against the rest, the largest over groups (0.5: no information;
  1.0: the column determines the group);
- ``pure_share``: the share of rows whose value (seen at least twice) occurs with one group only.

A column of many values (surnames, zip codes: 3,465 surnames over COMPAS's 6,172 rows) is scanned the same
way: its values' group shares are learned out of fold, so a value seen in one fold only carries no
information (an identifier scores 0.5) and a repeated surname carries what it tells. Short text of several
words where most rows hold a value of their own (a full name) is also scanned word by word: each row
scored by the mean out-of-fold log-odds of its words. Longer free text is not scanned here (text twins
check names and pronouns); the row's ``note`` says how each column was read.

A column with ``auc >= 0.95``, or whose repeated values are all pure and cover 90 % of rows,
**encodes** the attribute. Flip twins change the attribute and leave such a column as it was
(German credit's ``status_sex`` still says "male : single" in a female twin), so the model still
sees the original group and the measured flip rate is too low. The fix is ``derived=`` (recompute
the column in every twin) or generative twins (``twins="cvae"``) that move the proxies too.
The scan works on a seeded sample of at most ``max_rows`` rows, so it costs the same on a million.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

AUC_ENCODES = 0.95
AUC_ASSOCIATED = 0.65  # worth a note beside a flip-twin check: the column goes with the attribute
PURE_ENCODES = 0.90
MAX_ROWS = 50_000
FOLDS = 5
BINS = 20
SMOOTHING = 1.0  # pseudo-rows of the overall share added to each category's share (an m-estimate)
MAX_WORDS = 8  # mean words a row at most for the word-by-word scan (names, titles; not free text)


def scan(frame: pd.DataFrame, groups: dict[str, Any], columns: Sequence[str], *, seed: int = 0,
         max_rows: int = MAX_ROWS) -> list[dict[str, Any]]:
    """One row per (column, attribute): ``column, attribute, auc, pure_share, encodes, note``.

    ``groups`` maps each protected attribute to one group label per row of ``frame`` (an array or Series).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sex = rng.choice(["f", "m"], 2000)
    >>> df = pd.DataFrame({"title": np.where(sex == "f", "Ms", "Mr"), "x": rng.random(2000)})
    >>> rows = scan(df, {"sex": sex}, ["title", "x"])
    >>> [(r["column"], r["encodes"]) for r in rows]
    [('title', True), ('x', False)]
    """
    rng = np.random.default_rng((seed, 0x9F0B))  # its own stream: folds must not echo a data generator's seed
    rows = np.arange(len(frame))
    if len(frame) > max_rows:
        rows = np.sort(rng.choice(len(frame), max_rows, replace=False))
    fold = rng.integers(0, FOLDS, len(rows))
    # Each attribute's sampled groups once, not once per column (a million rows of text: 0.4 s of the scan).
    sampled_groups = {}
    for attribute, labels in groups.items():
        sampled = _take(labels, rows) if isinstance(labels, pd.Series) else np.asarray(labels, dtype=object)[rows]
        sampled_groups[attribute] = pd.factorize(sampled)[0]
    out: list[dict[str, Any]] = []
    for column in columns:
        values = _take(frame[column], rows)
        codes, note = _codes(values)
        words = _words(values, codes) if note.startswith("categorical") else None
        if words is not None:
            note += "; and word by word (most rows hold a value of their own)"
        rows_in = None
        for attribute in groups:
            if codes is None:
                out.append({"column": column, "attribute": attribute, "auc": None, "pure_share": None,
                            "encodes": False, "note": note})
                continue
            group_codes = sampled_groups[attribute]
            if rows_in is None:
                rows_in = _fold_table(codes, fold)
            auc = max((_oof_auc(codes, group_codes == g, fold, rows_in) for g in range(group_codes.max() + 1)),
                      default=0.5)
            if words is not None:
                auc = max([auc, *(_word_auc(*words, group_codes == g, fold) for g in range(group_codes.max() + 1))])
            pure = _pure_share(codes, group_codes)
            encodes = bool(auc >= AUC_ENCODES or pure >= PURE_ENCODES)
            out.append({"column": column, "attribute": attribute, "auc": round(float(auc), 4),
                        "pure_share": round(float(pure), 4), "encodes": encodes, "note": note})
    return out


def _take(series: pd.Series, rows: np.ndarray) -> pd.Series:
    """``series.iloc[rows]`` by its array's own take (Arrow text: a quarter of the time of ``iloc``)."""
    return pd.Series(series.array.take(rows), index=series.index[rows], name=series.name, copy=False)


def _codes(values: pd.Series) -> tuple[np.ndarray | None, str]:
    """Integer codes for a column: categories as they are, numbers in quantile bins; None for text."""
    n = len(values)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        x = values.to_numpy(dtype=float, na_value=np.nan)
        distinct = pd.unique(x[~np.isnan(x)])
        if len(distinct) > BINS:
            edges = np.unique(np.nanquantile(x, np.linspace(0, 1, BINS + 1)[1:-1]))
            codes = np.searchsorted(edges, x, side="right")
            return np.where(np.isnan(x), len(edges) + 1, codes), f"numeric, {len(edges) + 1} quantile bins"
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
    if n > 100 and len(uniques) > 0.5 * n:
        present = values.dropna()
        words = present.iloc[:1000].astype(str).str.count(r"\S+").mean() if len(present) else 0.0  # a sample
        if words > MAX_WORDS:
            return None, (f"not scanned: free text ({words:.0f} words a row on average); text twins check its names "
                          "and pronouns")
        return codes, f"categorical, {len(uniques)} values (group shares learned out of fold)"
    return codes, "categorical"


def _words(values: pd.Series, codes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int] | None:
    """For short text where most rows hold a value of their own (a full name): each word occurrence's row and
    word code, and the number of rows; None for other columns (whose values repeat, or that are not text)."""
    if codes is None or len(codes) <= 100:
        return None
    sizes = np.bincount(codes)
    if (sizes[codes] == 1).mean() <= 0.5 or pd.api.types.infer_dtype(values, skipna=True) != "string":
        return None
    # Words of letters, two or more a row (names), judged on a few rows first: dates, case numbers and
    # identifiers are words of digits, one value per row, and cost a word scan for nothing.
    head = values.dropna().iloc[:200].str.findall(r"[^\W\d_]{2,}").map(len)
    if not len(head) or (head >= 2).mean() < 0.5:
        return None
    split = values.reset_index(drop=True).str.lower().str.findall(r"[^\W\d_]+")
    exploded = split.explode().dropna()
    word_codes, _ = pd.factorize(exploded.to_numpy(dtype=object))
    return exploded.index.to_numpy(dtype=np.int64), word_codes, len(values)


def _word_auc(rows: np.ndarray, words: np.ndarray, n: int, y: np.ndarray, fold: np.ndarray) -> float:
    """Cross-fitted AUC of rows scored by the mean log-odds of ``y`` over their words, each word's share learned
    on the other folds (smoothed as in :func:`_oof_auc`); at least 0.5."""
    if y.all() or not y.any():
        return 0.5
    m = int(words.max()) + 1 if len(words) else 1
    word_fold = fold[rows]
    positive = y[rows].astype(float)
    total = np.bincount(word_fold * m + words, minlength=FOLDS * m).reshape(FOLDS, m)
    hits = np.bincount(word_fold * m + words, weights=positive, minlength=FOLDS * m).reshape(FOLDS, m)
    aucs = []
    for f in range(FOLDS):
        inside = fold == f
        if not y[inside].any() or y[inside].all():
            continue
        n_out, k_out = total.sum(axis=0) - total[f], hits.sum(axis=0) - hits[f]
        prior = k_out.sum() / max(n_out.sum(), 1)
        share = (k_out + SMOOTHING * prior) / (n_out + SMOOTHING)
        logit = np.log(share) - np.log1p(-share)
        mine = word_fold == f
        score = np.bincount(rows[mine], weights=logit[words[mine]], minlength=n)
        count = np.bincount(rows[mine], minlength=n)
        score = np.where(count > 0, score / np.maximum(count, 1), np.log(prior) - np.log1p(-prior))[inside]
        levels, level = np.unique(score, return_inverse=True)
        positives = np.bincount(level, weights=y[inside], minlength=len(levels))
        negatives = np.bincount(level, weights=~y[inside], minlength=len(levels))
        aucs.append(_auc_of_table(levels, positives, negatives))
    return max(float(np.mean(aucs)), 0.5) if aucs else 0.5


def _oof_auc(codes: np.ndarray, y: np.ndarray, fold: np.ndarray,
             rows_in: np.ndarray | None = None) -> float:
    """Cross-fitted ROC AUC of smoothed category shares of ``y``: each fold is scored by shares learned on
    the other folds, and the folds' AUCs are averaged (pooling them would rank rows of one category by
    their fold, against their own label). At least 0.5: the encoding's direction is learned, so an AUC
    below 0.5 is noise, not information.

    Every row of a category in a fold gets the same score, so the whole computation runs on a
    (fold, category) table: no row is ranked. ``rows_in`` is that table's row counts, when the caller
    scores several ``y`` on one column (:func:`_fold_table`)."""
    if y.all() or not y.any():
        return 0.5
    m = int(codes.max()) + 1
    if rows_in is None:
        rows_in = _fold_table(codes, fold)
    hits_in = np.bincount(fold * m + codes, weights=y, minlength=FOLDS * m).reshape(FOLDS, m)
    n_out = rows_in.sum(axis=0) - rows_in  # (folds, categories): rows of each category in the other folds
    k_out = hits_in.sum(axis=0) - hits_in
    prior = k_out.sum(axis=1) / np.maximum(n_out.sum(axis=1), 1)  # (folds,)
    score = (k_out + SMOOTHING * prior[:, None]) / (n_out + SMOOTHING)
    aucs = []
    for f in range(FOLDS):
        present = rows_in[f] > 0  # a many-valued column: most values are absent from a fold
        positives = hits_in[f, present]
        negatives = rows_in[f, present] - positives
        if not positives.any() or not negatives.any():
            continue
        aucs.append(_auc_of_table(score[f, present], positives, negatives))
    return max(float(np.mean(aucs)), 0.5) if aucs else 0.5


def _fold_table(codes: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Rows per (fold, category)."""
    m = int(codes.max()) + 1
    return np.bincount(fold * m + codes, minlength=FOLDS * m).reshape(FOLDS, m)


def _auc_of_table(score: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> float:
    """Mann-Whitney AUC of rows that share a score per category (``positives`` and ``negatives`` counted
    per category), ties counted half: equal to scikit-learn's roc_auc_score on the rows themselves."""
    levels, level = np.unique(score, return_inverse=True)
    pos = np.bincount(level, weights=positives, minlength=len(levels))
    neg = np.bincount(level, weights=negatives, minlength=len(levels))
    below = np.cumsum(neg) - neg  # negatives with a strictly lower score, for each level
    return float((pos * (below + neg / 2)).sum() / (pos.sum() * neg.sum()))


def _pure_share(codes: np.ndarray, group_codes: np.ndarray) -> float:
    """Share of rows whose value is seen at least twice and always with the same group."""
    m, g = int(codes.max()) + 1, int(group_codes.max()) + 1
    table = np.bincount(codes * g + group_codes, minlength=m * g).reshape(m, g)
    size = table.sum(axis=1)
    pure = ((table > 0).sum(axis=1) == 1) & (size >= 2)
    return float(size[pure].sum() / len(codes))


def encoding_columns(table: list[dict[str, Any]], attribute: str) -> list[dict[str, Any]]:
    """The scan's rows that encode ``attribute``."""
    return [row for row in table if row["attribute"] == attribute and row["encodes"]]


def _binned_by(column: str, row: dict[str, Any], data: pd.DataFrame, grouped: pd.DataFrame) -> bool:
    """Whether a protected attribute is a binning of this numeric column (age_group of age)."""
    values = data[column]
    return bool(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
                and row["pure_share"] is not None and row["pure_share"] >= 0.99
                and values.nunique() > 2 * len(pd.unique(grouped[row["attribute"]])))


def flip_note(table: list[dict[str, Any]], spec: Any, attrs: Sequence[str]) -> str | None:
    """With flip twins, the columns the model reads that go with the attribute (but do not encode it)."""
    if getattr(spec.twins, "name", None) != "flip":
        return None
    rows = [r for r in table if r["attribute"] in attrs and not r["encodes"] and r["auc"] is not None
            and r["auc"] >= AUC_ASSOCIATED and r["column"] not in spec.held and r["column"] not in spec.derived]
    if not rows:
        return None
    listed = ", ".join(f"{r['column']} (AUC {r['auc']:.2f} for {r['attribute']})"
                       for r in sorted(rows, key=lambda r: -r["auc"])[:6])
    return (f"flip twins test direct use of {' x '.join(attrs)} only: columns the model reads that go with it keep "
            f"their values in every twin ({listed}); if the attribute causes them, test them with twins='cvae'")


def warnings_for(table: list[dict[str, Any]], spec: Any, grouped: pd.DataFrame, *,
                 inferred: bool) -> dict[str, list[str]]:
    """Per protected attribute, a sentence for each column the model reads that encodes it and that the twins
    leave as it was (flip twins: any such column; every generator: a held one). ``inferred``: the columns the
    model reads were not named, so it may read them."""
    flip = getattr(spec.twins, "name", None) == "flip"
    reads = ("the model may read it (it is sent every column but the label; pass features= to name the columns it "
             "reads)") if inferred else "the model reads it"
    out: dict[str, list[str]] = {}
    for attribute in spec.protected:
        for row in encoding_columns(table, attribute):
            column = row["column"]
            if column in spec.derived:
                continue
            how = f"out-of-fold AUC {row['auc']:.2f}, {row['pure_share']:.0%} of rows in values seen with one group only"
            if column in spec.held:
                out.setdefault(attribute, []).append(
                    f"held column {column!r} encodes {attribute!r} ({how}) and {reads}; twins keep held "
                    f"columns identical, so the model still sees the original group: if {column!r} is not a "
                    f"qualification, do not hold it (or recompute it with derived={{{column!r}: ...}})")
            elif flip and _binned_by(column, row, spec.data, grouped):
                out.setdefault(attribute, []).append(
                    f"{attribute!r} looks like bands of the numeric column {column!r} ({how}), and {reads}; flip "
                    f"twins change {attribute!r} and leave {column!r} as it was, so the model sees no change: "
                    f"protect the raw column instead, protected=[{column!r}, ...] with bands={{{column!r}: "
                    "[edges]}, so that twins move it into the target band (and derive "
                    f"{attribute!r} from it with derived=)")
            elif flip:
                out.setdefault(attribute, []).append(
                    f"column {column!r} encodes {attribute!r} ({how}) and {reads}; flip twins change "
                    f"{attribute!r} and leave {column!r} as it was, so the model still sees the original group and "
                    f"the flip rate is underestimated: recompute it in every twin with derived={{{column!r}: "
                    f"function of the row}}, leave it out of features=, or use twins='cvae' to move it with "
                    "the attribute")
    return out
