"""Partitions merged field by field against one pass, on a fixture where every field is non-zero; and every
partition drawing its own noise."""

import dataclasses
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from fairprobe.adapters.local import as_adapter
from fairprobe.checks.counts import InvarianceCounts, count_invariance, public_examples
from fairprobe.checks.group_metrics import group_counts
from fairprobe.engines.job import CountRequest, PartitionJob, PartitionResult, merge
from fairprobe.engines.partitions import partition_data
from fairprobe.predictions import Predictions
from fairprobe.twins import FlipGenerator
from fairprobe.verdicts import CheckKind

N = 1200


def _world():
    rng = np.random.default_rng(5)
    sex = rng.choice(["female", "male"], N)
    frame = pd.DataFrame({"sex": sex, "x": rng.normal(size=N), "title": np.where(sex == "male", "mr", "ms")})
    ts = FlipGenerator().generate(frame, ["sex"], held=["x", "title"], seed=0)
    twins = ts.twins.copy()
    keep = rng.random(len(twins)) < 0.2  # some twins keep the original sex: identical to it
    twins.loc[keep, "sex"] = ts.original["sex"].to_numpy()[ts.source][keep]
    valid = rng.random(len(twins)) > 0.1  # some twins rejected
    ts = dataclasses.replace(ts, twins=twins, valid=valid)

    def answers(rows):
        score = 1 / (1 + np.exp(-(rows["x"].to_numpy() + 0.6 * (rows["sex"].to_numpy() == "male"))))
        return Predictions(decision=score > 0.5, score=score, threshold=0.5)

    return ts, answers(ts.original), answers(ts.twins)


def _count(ts, original, twin, records, offset):
    part = ts.subset(records)
    sub = lambda p: Predictions(p.decision, p.score, p.threshold)  # noqa: E731
    rows = np.flatnonzero(np.isin(ts.source, records))
    rows = rows[np.argsort(ts.source[rows], kind="stable")]
    return count_invariance(part, sub(Predictions(original.decision[records], original.score[records], 0.5)),
                            sub(Predictions(twin.decision[rows], twin.score[rows], 0.5)), features=["sex", "x", "title"],
                            taus=(0.05, 0.1), n_examples=5, offset=offset, watch=[("title", "sex")])


def _equal(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-12)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, dict) and not isinstance(a, Counter):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and a and isinstance(a[0], dict):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def test_merged_invariance_counts_equal_one_pass_field_by_field():
    ts, original, twin = _world()
    whole = count_invariance(ts, original, twin, features=["sex", "x", "title"], taus=(0.05, 0.1), n_examples=5,
                             watch=[("title", "sex")])
    cut = [0, 400, 700, N]
    parts = [_count(ts, original, twin, np.arange(a, b), a) for a, b in zip(cut, cut[1:])]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    for f in dataclasses.fields(InvarianceCounts):
        value = getattr(whole, f.name)
        # the fixture itself: every field holds something a dropped field would lose
        empty = value is None or (np.size(value) == 0 if isinstance(value, np.ndarray) else
                                  (not value if not isinstance(value, (int, float)) else value == 0 and f.name != "k"))
        assert not empty or f.name == "k", f"fixture field {f.name} is empty"
        other = getattr(merged, f.name)
        if f.name == "examples":  # "_twin" is a position within the partition, used to order one record's twins
            value, other = public_examples(whole), public_examples(merged)
        assert _equal(value, other), f.name
    assert whole.moved[0.05] > whole.moved[0.1] > 0 and whole.encoding[("title", "sex")][1] > 0


def test_merged_group_tables_equal_one_pass():
    ts, original, _ = _world()
    rng = np.random.default_rng(2)
    y = rng.random(N) < 0.4
    groups = ts.original["sex"]
    whole = group_counts(groups, original.decision, y)
    cut = [0, 500, N]
    results = [PartitionResult(index=i, counts={"eo": group_counts(groups.iloc[a:b], original.decision[a:b], y[a:b])})
               for i, (a, b) in enumerate(zip(cut, cut[1:]))]
    merged = merge(results[::-1], [CountRequest("eo", CheckKind.EQUALIZED_ODDS, ("sex",))])["eo"]
    assert (whole.to_numpy() > 0).all()
    pd.testing.assert_frame_equal(merged, whole, check_dtype=False)


class _Recording(FlipGenerator):
    """Flip twins that remember the seed each call was given."""

    def __init__(self):
        super().__init__()
        self.seeds = []

    def generate(self, data, attributes, *, held=(), seed=0, targets=None):
        self.seeds.append(seed)
        return super().generate(data, attributes, held=held, seed=seed, targets=targets)


def test_every_partition_draws_its_own_noise_and_the_same_noise_on_a_rerun():
    frame = pd.DataFrame({"sex": ["female", "male"] * 300, "x": np.arange(600)})
    parts = partition_data(frame, rows=200)

    def job(generator, seed):
        return PartitionJob(adapter=as_adapter(lambda f: (f["x"] % 3 == 0).to_numpy()), generator=generator,
                            features=["sex", "x"], held=["x"], label=None, positive_label=None,
                            targets={("sex",): pd.DataFrame({"sex": ["female", "male"]})},
                            requests=[CountRequest("inv", CheckKind.INVARIANCE, ("sex",))], seed=seed)

    first, again, other = _Recording(), _Recording(), _Recording()
    for generator, seed in ((first, 7), (again, 7), (other, 8)):
        j = job(generator, seed)
        for part in parts:
            j.run(part)
    assert len(set(first.seeds)) == len(parts)  # a seed of its own for each partition
    assert first.seeds == again.seeds  # reproducible
    assert not set(first.seeds) & set(other.seeds)  # and it follows the probe's seed
