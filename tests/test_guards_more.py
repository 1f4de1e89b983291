"""Guards for the survivors of the second mutation round: band edges, several stochastic twins per record (compare,
sequential, the per-twin bound), the ratio's upper side, the equalized-odds gap of a comparison, a manifest that
lists the signature, and min_group_size given to one check."""

import json
import os
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import equalized_odds_difference

import fairprobe as fp
from fairprobe import stats
from fairprobe.checks import group_metrics as gm
from fairprobe.checks.compare import no_worse_group_metric, no_worse_invariance
from fairprobe.checks.invariance import invariance
from fairprobe.checks.sequential import sequential_invariance
from fairprobe.predictions import Predictions
from fairprobe.twins import FlipGenerator
from fairprobe.twins.bands import Bands
from fairprobe.twins.base import TwinSet


def test_band_codes_at_the_edges():
    bands = Bands.build("age", [0, 40, 80])
    assert bands.codes(np.array([0, 39.9, 40, 79.9, 80, -0.1, 80.1])).tolist() == [0, 0, 1, 1, 1, -1, -1]


N = 600


def _three_twins():
    """Three twins per record (as a stochastic generator makes them, k = 3), told apart by ``copy``."""
    frame = pd.DataFrame({"sex": ["female", "male"] * (N // 2), "x": np.arange(N), "copy": -1})
    one = FlipGenerator().generate(frame, ["sex"], held=["x", "copy"], seed=0)
    twins = pd.concat([one.twins.assign(copy=c) for c in range(3)], ignore_index=True)
    return TwinSet(original=one.original, twins=twins, source=np.tile(one.source, 3), attributes=("sex",),
                   valid=np.ones(3 * N, dtype=bool), generator="three", info={"k": 3})


def _flip_first_copy(rows, every=1):
    """Decisions by x; a record's first twin (copy 0) flips for every ``every``-th record."""
    base = rows["x"].to_numpy() % 2 == 0
    flip = (rows["copy"].to_numpy() == 0) & (rows["x"].to_numpy() % every == 0)
    return Predictions(decision=base ^ flip, score=None)


def test_several_twins_per_record_count_as_the_share_that_flipped():
    ts = _three_twins()
    result = invariance(ts, _flip_first_copy(ts.original), _flip_first_copy(ts.twins, 5), max_flip_rate=0.2)
    shares = np.where(np.arange(N) % 5 == 0, 1 / 3, 0.0)
    assert result.statistic == pytest.approx(shares.mean())
    assert result.interval == pytest.approx(tuple(float(b) for b in stats.empirical_bernstein(shares, 0.05)))
    baseline = (Predictions(decision=ts.original["x"].to_numpy() % 2 == 0, score=None),
                Predictions(decision=ts.twins["x"].to_numpy() % 2 == 0, score=None))
    compared = no_worse_invariance(ts, (_flip_first_copy(ts.original), _flip_first_copy(ts.twins, 5)), baseline,
                                   max_increase=0.1)
    assert compared.details["candidate"] == pytest.approx(shares.mean()) and compared.details["baseline"] == 0.0


def test_a_sequential_check_with_several_twins_decides_on_shares():
    # Every record has 1 of its 3 twins flipped: a share of 1/3, under a bound of 0.5 (PASS); read as "any twin
    # flipped" every record would count 1 and the check would stop at its first look with a FAIL.
    ts = _three_twins()
    result = sequential_invariance(ts, lambda positions: ts.original.iloc[positions], _flip_first_copy, seed=0,
                                   threshold=None, features=["sex", "x", "copy"], max_flip_rate=0.5,
                                   max_score_change=None, max_score_change_rate=None, alpha=0.05, mode="detect",
                                   budget=None)
    assert result.verdict == "pass" and result.statistic == pytest.approx(1 / 3)


def test_a_ratio_whose_upper_bound_exceeds_one_over_min_ratio_does_not_pass():
    # 85 % of a large group against 9 of 10: the ratio 0.94 has a lower bound above 0.8, but the small group's
    # rate may be as low as 0.6, so the other way round the ratio may be under 0.8: not a PASS.
    groups = pd.Series(["large"] * 10_000 + ["small"] * 10)
    decisions = np.r_[np.arange(10_000) < 8_500, np.arange(10) < 9]
    result = gm.demographic_parity(decisions, groups, min_ratio=0.8)
    pair = result.pairs[0]
    assert pair["lower"] >= 0.8 and pair["upper"] > 1 / 0.8
    assert result.verdict == "inconclusive"


def test_a_compared_equalized_odds_gap_is_fairlearns_on_both_rates():
    rng = np.random.default_rng(4)
    n = 4000
    g = pd.Series(rng.choice(["a", "b"], n))
    y = rng.random(n) < 0.5
    u = rng.random(n)
    tpr = np.where(g == "a", 0.8, 0.78)  # TPR gaps small; the candidate's FPR gap large
    base = np.where(y, u < tpr, u < 0.2)
    cand = np.where(y, u < tpr, u < np.where(g == "a", 0.1, 0.3))
    result = no_worse_group_metric(y, cand, base, g, metric="equalized_odds", max_increase=0.01)
    assert result.details["candidate"] == pytest.approx(equalized_odds_difference(y, cand, sensitive_features=g))
    assert result.details["baseline"] == pytest.approx(equalized_odds_difference(y, base, sensitive_features=g))
    assert result.verdict == "fail"


def test_a_manifest_that_lists_its_signature_is_refused(tmp_path):
    world = fp.worlds.hiring(n=300, seed=1)
    result = fp.Probe(data=world.data, model=lambda f: (f["skills_score"] > 50).to_numpy(), protected=["sex"],
                      features=["sex", "skills_score"]).invariance("sex", max_flip_rate=0.05)
    evidence = fp.Evidence(seed=0, collected=1, ran=1)
    evidence.add(result, test="tests/x.py::test_y")
    bundle = evidence.write(tmp_path)
    signature = os.urandom(64)
    (bundle / "MANIFEST.sha256.sig").write_bytes(signature)
    import hashlib

    with open(bundle / "MANIFEST.sha256", "a") as fh:
        fh.write(f"{hashlib.sha256(signature).hexdigest()}  MANIFEST.sha256.sig\n")
    problems = fp.verify(bundle)
    assert any("lists MANIFEST.sha256.sig, which a manifest never lists" in p for p in problems), problems


def test_min_group_size_given_to_one_check_applies_to_it():
    frame = pd.DataFrame({"group": ["a"] * 300 + ["b"] * 300 + ["c"] * 40,
                          "x": np.r_[np.arange(300), np.arange(300), np.arange(40)]})
    probe = fp.Probe(data=frame, model=lambda f: (f["x"] % 2 == 0).to_numpy(), protected=["group"],
                     features=["group", "x"])
    result = probe.demographic_parity("group", max_gap=0.1, min_group_size=50)
    assert {row["group"]: row["status"] for row in result.groups}["c"] == "excluded: too small"
    assert {row["group"]: row["status"] for row in probe.demographic_parity("group", max_gap=0.1).groups}["c"] \
        == "included"
