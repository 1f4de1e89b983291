"""Every fast path of the harness (issue #18) against the full computation on the same data.

Flip twins carry their layout (each original's and each twin's row of the few combinations): group codes, twin
pairs and twin row hashes come from it; a one-twin-per-record count skips a sort; a probe's targets come from its
group codes. Each is compared here with what the general code computes, and a whole check with the fast paths
taken out gives the same statistics, intervals, verdicts and worst pairs.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import fields, replace

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe import proxies
from fairprobe.checks import counts as counts_module
from fairprobe.data import row_hashes
from fairprobe.predictions import Predictions
from fairprobe.twins import FlipGenerator
from fairprobe.twins import flip as flip_module
from fairprobe.twins.base import group_codes


def _table(n: int, seed: int, kind: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n)
    race = rng.choice(["white", "black", "a|b", "a\\b"], n, p=[0.5, 0.2, 0.2, 0.1])
    frame = pd.DataFrame({"sex": sex, "race": race, "x": rng.integers(0, 5, n), "z": rng.random(n).round(1)})
    if kind == "categorical":
        frame["race"] = frame["race"].astype("category")
    elif kind == "missing":
        frame.loc[rng.random(n) < 0.1, "race"] = None
    elif kind == "numeric":
        frame["race"] = rng.integers(0, 3, n)
    elif kind == "object":
        frame["race"] = frame["race"].astype(object)
    return frame


KINDS = ["strings", "categorical", "missing", "numeric", "object"]
ATTRIBUTES = [["sex"], ["race"], ["sex", "race"], ["race", "sex"]]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attributes", ATTRIBUTES)
def test_flip_layout_group_codes_equal_the_stacked_frames(kind, attributes):
    frame = _table(400, 1, kind)
    twinset = FlipGenerator().generate(frame, attributes, seed=0)
    assert twinset.layout is not None
    fast = twinset.group_codes()
    both = pd.concat([twinset.original[attributes], twinset.twins[attributes]], ignore_index=True)
    codes, names = group_codes(both, attributes)
    assert fast[2] == names
    np.testing.assert_array_equal(fast[0], codes[: len(twinset.original)])
    np.testing.assert_array_equal(fast[1], codes[len(twinset.original):])
    if kind == "object" and "race" in attributes:  # values that could name groups otherwise: the layout declines, the full path runs
        assert twinset.layout.group_codes(twinset) is None


def test_a_layout_does_not_describe_twins_replaced_after():
    frame = _table(200, 2, "strings")
    twinset = FlipGenerator().generate(frame, ["race"], seed=0)
    changed = twinset.twins.copy()
    changed["race"] = "white"
    other = replace(twinset, twins=changed)
    assert other.layout.group_codes(other) is None  # the frames it was made with only
    both = pd.concat([other.original[["race"]], changed[["race"]]], ignore_index=True)
    assert other.group_codes()[2] == group_codes(both, ["race"])[1]


@pytest.mark.parametrize("count", [1, 2, 3, 5])
@pytest.mark.parametrize("missing", [False, True])
def test_twin_pairs_equal_the_masked_grid(count, missing):
    rng = np.random.default_rng(count)
    codes = rng.integers(0, count, 300)
    if missing:
        codes[rng.random(300) < 0.2] = -1
    record, combo = flip_module._pairs(codes, count)
    grid_record, grid_combo = np.repeat(np.arange(300), count), np.tile(np.arange(count), 300)
    keep = grid_combo != codes[grid_record]
    np.testing.assert_array_equal(record, grid_record[keep])
    np.testing.assert_array_equal(combo, grid_combo[keep])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attributes", ATTRIBUTES)
def test_twin_row_keys_from_the_layout_equal_full_hashes(kind, attributes):
    frame = _table(300, 3, kind)
    features = ["x", *attributes, "z"]
    twinset = FlipGenerator().generate(frame, attributes, seed=0)
    keys = flip_module.twin_row_keys(twinset, np.arange(len(frame)), frame, features, row_hashes(frame[features]))
    np.testing.assert_array_equal(keys, row_hashes(twinset.twins[features]))


@pytest.mark.parametrize("seed", range(4))
def test_one_twin_a_record_counts_equal_the_sorted_histograms(seed):
    frame = _table(500, seed, "strings")
    twinset = FlipGenerator().generate(frame, ["sex", "race"], seed=0)
    rng = np.random.default_rng(seed)
    original = Predictions(rng.random(len(frame)) < 0.5, None)
    twin = Predictions(rng.random(len(twinset)) < 0.5, None)
    valid = twinset.valid.copy()
    valid[rng.random(len(valid)) < 0.3] = False  # rejected twins, and records left with none
    twinset = replace(twinset, valid=valid)
    counts = counts_module.count_invariance(twinset, original, twin)
    # The general computation: each record's value, np.unique over the records, and over each group's.
    src = twinset.source[valid]
    changed = original.decision[src] != twin.decision[valid]
    hits = np.bincount(src[changed], minlength=len(frame))
    has = np.bincount(src, minlength=len(frame)) > 0
    per_record = (hits > 0).astype(float)
    expected = Counter({float(v): int(c) for v, c in zip(*np.unique(per_record[has], return_counts=True))})
    assert counts.values == expected and list(counts.values) == list(expected)
    from_codes, _, names = twinset.group_codes()
    groups = {names[g]: Counter({float(v): int(c) for v, c in zip(*np.unique(per_record[has & (from_codes == g)],
                                                                               return_counts=True))})
              for g in np.unique(from_codes[has])}
    assert list(counts.groups) == list(groups)
    for name, (records, flipped, values) in counts.groups.items():
        assert values == groups[name] and list(values) == list(groups[name])
        assert records == sum(groups[name].values()) and flipped == groups[name].get(1.0, 0)


def _full_targets(self, attrs):
    key = ("targets", *attrs)
    if key not in self._target_cache:
        self._target_cache[key] = self._grouped_data[list(attrs)].drop_duplicates().reset_index(drop=True)
    return self._target_cache[key]


def _without_layout(generate):
    def run(self, *args, **kwargs):
        return replace(generate(self, *args, **kwargs), layout=None)
    return run


def _result(data, model, attributes, features):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe = fp.Probe(data=data, model=model, protected=["sex", "race"], label="hired", features=features, seed=0)
        result = probe.invariance(attributes, max_flip_rate=0.01, max_score_change=0.05)
    return result, probe.queries


def _comparable(result):
    """Every field of a result but its context (two probes differ in their ids)."""
    return {f.name: getattr(result, f.name) for f in fields(result) if f.name != "context"}


@pytest.mark.parametrize("attributes", [["sex"], ["race"], ["sex", "race"]])
@pytest.mark.parametrize("duplicates", [False, True])
def test_a_check_with_the_fast_paths_equals_one_without(monkeypatch, attributes, duplicates):
    world = fp.worlds.hiring(n=3000, seed=5, direct_bias=1.0)
    data = world.data
    if duplicates:  # repeated rows: the row cache answers them
        data = data.sample(len(data), replace=True, random_state=1).reset_index(drop=True)
    features = ["sex", "race", "years_experience", "skills_score"]

    def model(frame):
        score = 0.4 * (frame["sex"] == "male") + frame["skills_score"] / 100 + 0.05 * (frame["race"] == "white")
        return np.clip(score.to_numpy(dtype=float), 0, 1)

    fast, fast_queries = _result(data, model, attributes, features)
    monkeypatch.setattr(fp.Probe, "_targets", _full_targets)
    monkeypatch.setattr(FlipGenerator, "generate", _without_layout(FlipGenerator.generate))
    monkeypatch.setattr(flip_module, "_pairs", _grid_pairs)
    full, full_queries = _result(data, model, attributes, features)
    assert fast.verdict == full.verdict
    assert fast.statistic == full.statistic and fast.interval == full.interval
    assert fast.counterexamples == full.counterexamples
    assert repr(_comparable(fast)) == repr(_comparable(full))  # groups, pairs, details, warnings: every figure
    assert fast_queries == full_queries
    assert fast.counterexamples  # the model reads sex: there are pairs to show


def _grid_pairs(codes, count):
    n = len(codes)
    record, combo = np.repeat(np.arange(n), count), np.tile(np.arange(count), n)
    keep = combo != codes[record]
    return record[keep], combo[keep]


def _reference_scan(frame, groups, columns, *, seed=0, max_rows=proxies.MAX_ROWS):
    """The proxy scan as it was: each column and each attribute's groups taken by ``iloc`` for every pair."""
    rng = np.random.default_rng((seed, 0x9F0B))
    rows = np.arange(len(frame))
    if len(frame) > max_rows:
        rows = np.sort(rng.choice(len(frame), max_rows, replace=False))
    fold = rng.integers(0, proxies.FOLDS, len(rows))
    out = []
    for column in columns:
        values = frame[column].iloc[rows]
        codes, note = proxies._codes(values)
        words = proxies._words(values, codes) if note.startswith("categorical") else None
        if words is not None:
            note += "; and word by word (most rows hold a value of their own)"
        rows_in = None
        for attribute, labels in groups.items():
            if codes is None:
                out.append({"column": column, "attribute": attribute, "auc": None, "pure_share": None,
                            "encodes": False, "note": note})
                continue
            sampled = labels.iloc[rows] if isinstance(labels, pd.Series) else np.asarray(labels, dtype=object)[rows]
            group_codes, _ = pd.factorize(sampled)
            if rows_in is None:
                rows_in = proxies._fold_table(codes, fold)
            auc = max((proxies._oof_auc(codes, group_codes == g, fold, rows_in) for g in range(group_codes.max() + 1)),
                      default=0.5)
            if words is not None:
                auc = max([auc, *(proxies._word_auc(*words, group_codes == g, fold)
                                  for g in range(group_codes.max() + 1))])
            pure = proxies._pure_share(codes, group_codes)
            out.append({"column": column, "attribute": attribute, "auc": round(float(auc), 4),
                        "pure_share": round(float(pure), 4), "encodes": bool(auc >= proxies.AUC_ENCODES or
                                                                             pure >= proxies.PURE_ENCODES),
                        "note": note})
    return out


@pytest.mark.parametrize("max_rows", [50_000, 700])
@pytest.mark.parametrize("as_series", [True, False])
def test_the_proxy_scan_equals_the_scan_by_iloc(max_rows, as_series):
    rng = np.random.default_rng(11)
    n = 3000
    sex = rng.choice(["female", "male"], n)
    race = rng.choice(["white", "black", "asian"], n)
    frame = pd.DataFrame({
        "title": np.where(sex == "female", "Ms", "Mr"), "x": rng.random(n), "k": rng.integers(0, 4, n),
        "zip": np.where(race == "black", "z1", rng.choice(["z2", "z3", "z4"], n)),
        "name": [f"{a} {b}" for a, b in zip(rng.choice(["Ann", "Bob", "Cy", "Di"], n), rng.integers(0, 2000, n))],
        "cat": pd.Categorical(rng.choice(["a", "b", None], n)), "sex": sex, "race": race,
    }, index=rng.permutation(n) + 100)  # an index of labels, not positions
    frame.loc[frame.index[rng.random(n) < 0.05], "zip"] = None
    groups = {"sex": frame["sex"], "race": frame["race"]} if as_series else {"sex": sex, "race": race}
    columns = ["title", "x", "k", "zip", "name", "cat"]
    fast = proxies.scan(frame, groups, columns, seed=3, max_rows=max_rows)
    assert fast == _reference_scan(frame, groups, columns, seed=3, max_rows=max_rows)
    assert any(row["encodes"] for row in fast)  # the scan found the title and the zip: it exercised something


class _Backend:
    """A language model stand-in: P(yes) from the prompt's length; no yes/no at all for some prompts (sampled)."""

    def __init__(self, batched: bool) -> None:
        self.calls = []
        if batched:
            self.token_logprobs_many = self._many

    def describe(self):
        return {"model": "stand-in"}

    def token_logprobs(self, messages, *, top=20):
        self.calls.append(1)
        text = messages[0]["content"]
        if "silent" in text:
            return {"maybe": -0.1}
        return {"yes": -0.01 * (len(text) % 50), "No": -0.02 * (len(text) % 30), "?": -3.0}

    def _many(self, conversations, *, top=20):
        out = [self.token_logprobs(m) for m in conversations]
        self.calls[-len(conversations):] = [len(conversations)]
        return out

    def chat(self, messages, *, max_tokens=3, temperature=1.0, seed=0):
        return "yes" if (seed + len(messages[0]["content"])) % 3 else "no"


def test_the_llm_screener_reads_batched_next_token_probabilities_as_one_at_a_time():
    from fairprobe.adapters import LLMDecisionAdapter

    texts = [f"candidate {i} " * (i % 7 + 1) + ("silent" if i % 5 == 0 else "") for i in range(40)]
    frame = pd.DataFrame({"profile": texts})
    alone, batched = _Backend(batched=False), _Backend(batched=True)
    one = LLMDecisionAdapter(alone, "{text} Invite?", batch_size=16)
    many = LLMDecisionAdapter(batched, "{text} Invite?", batch_size=16)
    a, b = one.predict(frame), many.predict(frame)
    np.testing.assert_array_equal(a.decision, b.decision)
    np.testing.assert_array_equal(a.score, b.score)
    assert one.methods == many.methods == {"logprobs": 32, "sampled": 8}
    assert len(batched.calls) < len(alone.calls)  # one call a batch of prompts
