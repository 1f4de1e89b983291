"""Which free columns each protected attribute causes: declared by the user, or learned from the data.

A CVAE twin changes the protected attribute and carries into the twin what the attribute causes.
A free column whose distribution does not depend on the attribute given the columns a twin keeps
(the held columns and the other protected attributes) is not caused by it: a twin keeps it as it
was. Treating every free column as caused moved columns by chance differences between groups: a
model that reads only a pure-noise column failed at 5.2 % of law-school race twins (issue #15).

- **declared**: ``causes={"race": ["lsat", "ugpa"]}``, or a small DAG whose keys may be other
  columns too (``{"race": ["neighbourhood"], "neighbourhood": ["hobby"]}``): an attribute's twins
  move its descendants among the free columns, by paths that do not pass through a held column (a
  qualification stays as it is, and so does what only it would pass on). An attribute given
  with an empty list causes nothing; an attribute not named is learned.
- **learned** (the default): a cross-fitted generalised covariance measure test (Shah and Peters,
  "The hardness of conditional independence testing and the generalised covariance measure",
  Annals of Statistics 2020) of each free column against the attribute given the kept columns:
  the attribute's indicators and the column's features (normal scores of numbers, with a missing
  indicator; indicators of categories) are regressed on the kept columns (least squares on their
  indicators and quantile bins, 5 folds, each fold predicted by a fit on the others), and the
  residual blocks are tested for zero correlation with a score statistic (n times the sum of their
  squared canonical correlations, chi-square; scaled to its permutation moments where sparse
  indicators make the chi-square too liberal). A column moves when its Holm-adjusted p-value (over
  the attribute's free columns) is at most ``alpha`` (0.01): a column the attribute does not cause
  moved in 0-1 % of 200 seeded tables per column (tests/test_cvae_structure.py). A sandwich Wald
  statistic on the products (the GCM's own) was far too liberal with rare groups and categories
  (law-school race, a 20-category column: 100 % of noise columns moved).

The structure is plain data (``to_dict`` / ``from_dict``), saved with the generator and reported
in every CVAE check: which columns twins moved, and why (the test's figures, or the declaration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from fairprobe.errors import given, InvalidSpec

ALPHA = 0.01
FOLDS = 5
BINS = 10  # quantile bins of a numeric column the test conditions on
MIN_LEVEL_ROWS = 10  # rarer values are pooled into one level for the test
MAX_ROWS = 20_000  # the test runs on a seeded sample of at most this many rows
PERMUTATIONS = 50


@dataclass(frozen=True)
class CausalStructure:
    """Per protected attribute: how its caused columns were decided, which free columns its twins move,
    and (learned) the test's figures per column."""

    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    alpha: float = ALPHA

    def moved(self, attributes: Sequence[str]) -> list[str]:
        """The free columns twins of ``attributes`` move: what any of them causes."""
        out: list[str] = []
        for attribute in attributes:
            out += [c for c in self.attributes[attribute]["moved"] if c not in out]
        return out

    def report(self, attributes: Sequence[str]) -> dict[str, Any]:
        """What a check's evidence says: per attribute, the moved and kept columns and why."""
        return {"alpha": self.alpha, "test": TEST, "moved": self.moved(attributes),
                "attributes": {a: self.attributes[a] for a in attributes}}

    def to_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "attributes": self.attributes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CausalStructure:
        return cls(attributes={a: dict(v) for a, v in data["attributes"].items()}, alpha=float(data["alpha"]))


TEST = ("cross-fitted generalised covariance measure (Shah and Peters 2020): residuals of the attribute's "
        "indicators and of the column's features given the held columns and the other protected attributes "
        f"(least squares, {FOLDS} folds), score test of their correlation (n x sum of squared canonical "
        "correlations, chi-square); Holm over the attribute's free columns")


def build(data: pd.DataFrame, *, protected: Sequence[str], held: Sequence[str], free: Sequence[str],
          derived: Mapping[str, Mapping[str, Any]], causes: Mapping[str, Sequence[str]] | None = None,
          alpha: float = ALPHA, seed: int = 0) -> CausalStructure:
    """The structure of ``free`` columns for each protected attribute: declared where ``causes`` names it,
    learned otherwise. ``derived`` columns (rebuilt from another free column) follow their source."""
    from threadpoolctl import threadpool_limits

    graph = check_causes(causes, list(data.columns), protected=protected, held=held)
    modelled = [c for c in free if c not in derived]
    out: dict[str, dict[str, Any]] = {}
    # One BLAS thread: OpenBLAS's threads spin after a call and took the CPU from the training that follows
    # (a fit of Adult 9 s alone, 20 s after a two-thread test on two cores).
    with threadpool_limits(limits=1):
        for attribute in protected:
            out[attribute] = _attribute(data, attribute, protected, held, modelled, graph, alpha, seed)
    for attribute in protected:
        for column, rule in derived.items():  # a column rebuilt from another moves with it
            target = "moved" if rule["from"] in out[attribute]["moved"] else "kept"
            out[attribute][target] = [*out[attribute][target], column]
    return CausalStructure(out, alpha=alpha)


def _attribute(data: pd.DataFrame, attribute: str, protected: Sequence[str], held: Sequence[str],
               modelled: list[str], graph: dict[str, list[str]], alpha: float, seed: int) -> dict[str, Any]:
    """One attribute's moved and kept columns, declared or learned."""
    if attribute in graph:
        reach = descendants(graph, attribute, blocked=set(held))
        moved = [c for c in modelled if c in reach]
        return {"how": "declared", "moved": moved, "kept": [c for c in modelled if c not in moved],
                "declared": sorted(reach)}
    given = [*held, *[p for p in protected if p != attribute]]
    tests = dependence_tests(data, attribute, given, modelled, alpha=alpha, seed=seed)
    moved = [c for c in modelled if tests[c]["moved"]]
    return {"how": "learned", "moved": moved, "kept": [c for c in modelled if c not in moved], "tests": tests}


def functional_dependencies(data: pd.DataFrame, free: list[str]) -> dict[str, dict[str, Any]]:
    """Free columns that are an exact function of an earlier categorical free column (Adult's
    education_num of education): rebuilt by lookup instead of modelled (../shared/notes: +0.03 on
    pair trends), so a twin never pairs a degree with the wrong number of school years."""
    derived: dict[str, dict[str, Any]] = {}
    limit = min(200, len(data) // 20)
    for i, source in enumerate(free):
        if source in derived or not 1 < data[source].nunique(dropna=False) <= limit:
            continue
        for target in free[i + 1:]:
            if target in derived or data[target].nunique(dropna=False) > data[source].nunique(dropna=False):
                continue
            pairs = data[[source, target]].drop_duplicates()
            if pairs[source].duplicated().any():
                continue
            derived[target] = {"from": source, "map": [[_key(a), _key(b)] for a, b in pairs.itertuples(index=False)]}
    return derived


# ---------------------------------------------------------------------- declared


def normalise_causes(causes: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]] | None:
    """``causes=`` as {column: [columns]}, its shape checked (the columns are checked when fitting)."""
    if causes is None:
        return None
    if not isinstance(causes, Mapping):
        raise InvalidSpec(f"causes= maps a column to the columns it causes, e.g. {{'race': ['lsat', 'ugpa']}}; "
                          f"got {given(causes)}")
    out: dict[str, list[str]] = {}
    for cause, effects in causes.items():
        if isinstance(effects, str) or not isinstance(effects, Sequence):
            raise InvalidSpec(f"causes[{cause!r}] must be a list of columns, e.g. ['lsat', 'ugpa']; got {effects!r}")
        out[cause] = list(effects)
    return out


def check_causes(causes: Mapping[str, Sequence[str]] | None, columns: Sequence[str], *, protected: Sequence[str],
                 held: Sequence[str]) -> dict[str, list[str]]:
    """The declared graph as {cause: [effects]}, checked: known columns, no cycle, no protected effect."""
    causes = normalise_causes(causes)
    if causes is None:
        return {}
    graph: dict[str, list[str]] = {}
    known = set(columns)
    for cause, effects in causes.items():
        unknown = [c for c in [cause, *effects] if c not in known]
        if unknown:
            raise InvalidSpec(f"causes= names column(s) {unknown} that are not in the data (columns: "
                              f"{', '.join(map(str, columns))})")
        caused_protected = [e for e in effects if e in protected]
        if caused_protected:
            raise InvalidSpec(f"causes= says {cause!r} causes the protected attribute(s) {caused_protected}; a twin "
                              "sets each protected attribute itself: list only the columns an attribute changes")
        graph[cause] = list(effects)
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 1:
            cycle = path[path.index(node):] + [node]
            raise InvalidSpec(f"causes= has a cycle: {' -> '.join(cycle)}; a causal declaration must be acyclic")
        if state.get(node) == 2:
            return
        state[node] = 1
        for child in graph.get(node, []):
            visit(child, [*path, node])
        state[node] = 2
        order.append(node)

    for node in graph:
        visit(node, [])
    return graph


def descendants(graph: Mapping[str, Sequence[str]], start: str, *, blocked: set[str]) -> set[str]:
    """Every column reachable from ``start``; a ``blocked`` (held) column is reached but passes nothing on."""
    seen: set[str] = set()
    stack = list(graph.get(start, []))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node not in blocked:
            stack.extend(graph.get(node, []))
    return seen - blocked


# ---------------------------------------------------------------------- learned


def dependence_tests(data: pd.DataFrame, attribute: str, given: Sequence[str], columns: Sequence[str], *,
                     alpha: float = ALPHA, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Per column: does it depend on ``attribute`` given the ``given`` columns? Figures and the decision.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> group = rng.choice(["a", "b"], 3000)
    >>> df = pd.DataFrame({"group": group, "proxy": rng.normal(size=3000) + (group == "a"),
    ...                    "noise": rng.normal(size=3000)})
    >>> tests = dependence_tests(df, "group", [], ["proxy", "noise"])
    >>> tests["proxy"]["moved"], tests["noise"]["moved"]
    (True, False)
    """
    rng = np.random.default_rng((seed, 0x6C3))
    rows = np.arange(len(data)) if len(data) <= MAX_ROWS else np.sort(rng.choice(len(data), MAX_ROWS, replace=False))
    frame = data.iloc[rows]
    basis = np.hstack([np.ones((len(frame), 1))] + [_basis(frame[c]) for c in given])  # (n, p)
    d = _indicators(frame[attribute])  # (n, a)
    features = {c: _features(frame[c]) for c in columns}  # (n, q) each
    targets = np.hstack([d, *features.values()]) if features else d  # (n, a + sum q)
    residual = _cross_fitted_residuals(basis, targets, rng.integers(0, FOLDS, len(frame)))  # (n, a + sum q)
    r_d = residual[:, : d.shape[1]]
    out: dict[str, dict[str, Any]] = {}
    start = d.shape[1]
    for column, x in features.items():
        r_x = residual[:, start : start + x.shape[1]]
        start += x.shape[1]
        out[column] = _wald(r_d, r_x, _shares(d), _shares(x), rng)
    order = sorted(out, key=lambda c: out[c]["p_value"])
    running = 0.0
    for rank, column in enumerate(order):  # Holm's step-down adjustment
        running = max(running, min(1.0, (len(order) - rank) * out[column]["p_value"]))
        out[column]["p_adjusted"] = running
        out[column]["moved"] = bool(running <= alpha)
    return {c: out[c] for c in columns}


def _wald(r_d: np.ndarray, r_x: np.ndarray, shares_d: np.ndarray, shares_x: np.ndarray,
          rng: np.random.Generator) -> dict[str, Any]:
    """Score test that two residual blocks are uncorrelated: n times the sum of their squared canonical
    correlations, against chi-square with a * q degrees of freedom; where a pair of sparse indicators
    makes that approximation too liberal (expected co-occurrences under 5), against a chi-square scaled
    to the statistic's mean and variance over PERMUTATIONS shuffles of the rows (Satterthwaite)."""
    n = len(r_d)
    a, b = _whiten(r_d), _whiten(r_x)  # (n, a), (n, q)
    if a.shape[1] == 0 or b.shape[1] == 0:
        return {"statistic": 0.0, "df": 0, "p_value": 1.0, "partial_correlation": 0.0, "rows": n}
    cross = a.T @ b / n  # (a, q) correlations of the whitened blocks
    statistic, df = float(n * np.sum(cross**2)), a.shape[1] * b.shape[1]
    p_value = float(stats.chi2.sf(statistic, df))
    if (n * np.outer(shares_d, shares_x)).min(initial=np.inf) < 5:
        order = rng.permuted(np.tile(np.arange(n), (PERMUTATIONS, 1)), axis=1)  # (P, n)
        null = n * np.sum((np.swapaxes(a[order], 1, 2) @ b / n) ** 2, axis=(1, 2))  # (P,)
        mean, variance = float(null.mean()), float(null.var(ddof=1))
        if variance > 0:
            scale, nu = variance / (2 * mean), 2 * mean**2 / variance
            p_value = float(stats.chi2.sf(statistic / scale, nu))
    return {"statistic": statistic, "df": df, "p_value": p_value,
            "partial_correlation": float(np.abs(_correlations(r_d, r_x)).max(initial=0.0)), "rows": n}


def _whiten(r: np.ndarray) -> np.ndarray:
    """Centred columns rotated and scaled to unit variance, redundant directions dropped."""
    centred = r - r.mean(axis=0)
    values, vectors = np.linalg.eigh(np.atleast_2d(np.cov(centred, rowvar=False)))
    keep = values > max(values.max(initial=0.0), 0.0) * 1e-9
    return centred @ vectors[:, keep] / np.sqrt(values[keep])


def _correlations(r_d: np.ndarray, r_x: np.ndarray) -> np.ndarray:
    """Pairwise correlations of the residual columns: the partial correlations given the kept columns."""
    d, x = r_d - r_d.mean(axis=0), r_x - r_x.mean(axis=0)
    scale = np.sqrt(np.outer((d**2).sum(axis=0), (x**2).sum(axis=0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, (d.T @ x) / scale, 0.0)


def _shares(x: np.ndarray) -> np.ndarray:
    """Per feature column, the share of rows it marks if it is an indicator, else 1 (never sparse)."""
    indicator = np.all((x == 0) | (x == 1), axis=0)
    return np.where(indicator, x.mean(axis=0), 1.0)


def _cross_fitted_residuals(basis: np.ndarray, targets: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Targets minus their least-squares prediction from ``basis``, each fold predicted by the other folds' fit."""
    residual = np.empty_like(targets)
    ridge = 1e-6 * np.eye(basis.shape[1])
    for k in range(FOLDS):
        test = fold == k
        if not test.any():
            continue
        train = ~test
        gram = basis[train].T @ basis[train] + ridge * max(1, int(train.sum()))  # (p, p)
        coef = np.linalg.solve(gram, basis[train].T @ targets[train])  # (p, t)
        residual[test] = targets[test] - basis[test] @ coef
    return residual


def _levels(series: pd.Series) -> np.ndarray:
    """One string per row, values rarer than MIN_LEVEL_ROWS pooled into one level, missing a level of its own."""
    values = series.astype(object).where(series.notna(), "\x00missing").astype(str)
    counts = values.value_counts()
    rare = counts.index[counts < MIN_LEVEL_ROWS]
    return values.where(~values.isin(rare), "\x00rare").to_numpy()


def _onehot(levels: np.ndarray) -> np.ndarray:
    """Indicators of every level but the most common one."""
    names, codes = np.unique(levels, return_inverse=True)
    if len(names) < 2:
        return np.zeros((len(levels), 0))
    drop = np.bincount(codes).argmax()
    onehot = np.eye(len(names))[codes]
    return np.delete(onehot, drop, axis=1)


def _indicators(series: pd.Series) -> np.ndarray:
    return _onehot(_levels(series))


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _features(series: pd.Series) -> np.ndarray:
    """What the test reads of a free column: the normal score of numbers (missing: 0, plus an indicator),
    or indicators of categories."""
    if not _is_number(series) or series.nunique() <= BINS:
        return _indicators(series)
    values = series.to_numpy(dtype=float, na_value=np.nan)
    present = ~np.isnan(values)
    score = np.zeros(len(values))
    ranks = stats.rankdata(values[present])
    score[present] = special.ndtri((ranks - 0.5) / present.sum())
    out = [score[:, None]]
    if not present.all():
        out.append((~present).astype(float)[:, None])
    return np.hstack(out)


def _basis(series: pd.Series) -> np.ndarray:
    """What the test conditions on from a kept column: indicators of its values or of its quantile bins."""
    if not _is_number(series) or series.nunique() <= BINS:
        return _indicators(series)
    values = series.to_numpy(dtype=float, na_value=np.nan)
    edges = np.unique(np.nanquantile(values, np.linspace(0, 1, BINS + 1)[1:-1]))
    bins = np.where(np.isnan(values), -1, np.searchsorted(edges, values, side="right"))
    return _onehot(bins.astype(str))


def _key(value: Any) -> Any:
    """A cell value as plain JSON data (missing as None): how derived columns' lookups are keyed."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else \
        (value.item() if isinstance(value, np.generic) else value)
