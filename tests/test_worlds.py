"""The hiring world: reproducible, consistent, monotone in its noise, and its knobs do what they say."""

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe import worlds


def test_same_seed_same_world_and_another_seed_another():
    a, b = worlds.hiring(n=500, seed=3), worlds.hiring(n=500, seed=3)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert not a.data.equals(worlds.hiring(n=500, seed=4).data)


def test_counterfactual_with_factual_values_reproduces_the_data():
    w = worlds.hiring(n=1000, seed=1, direct_bias=1.0, proxy_bias=0.5, label_bias=0.2)
    same = w.counterfactual()
    pd.testing.assert_frame_equal(same, w.data)


def test_counterfactual_keeps_held_columns_and_recomputes_proxies():
    w = worlds.hiring(n=2000, seed=2)
    cf = w.counterfactual(sex="male", race="black")
    assert (cf["sex"] == "male").all() and (cf["race"] == "black").all()
    pd.testing.assert_frame_equal(cf[list(w.held)], w.data[list(w.held)])
    changed = w.data["race"] != "black"
    assert (cf.loc[changed, "last_name"].isin(worlds.LAST_NAMES["black"])).all()
    assert (cf["first_name"].isin(worlds.FIRST_NAMES[("male", "black")])).all()


def test_proxies_are_monotone_in_their_noise():
    w = worlds.hiring(n=5000, seed=3)
    women = w.data.index[w.data["sex"] == "female"]
    cf = w.counterfactual(women, sex="male")
    # same noise, lower threshold for men: a man has a gap only if the woman he would have been had one
    assert (~cf["career_gap"] | w.data.loc[women, "career_gap"]).all()
    assert cf["career_gap"].mean() < w.data.loc[women, "career_gap"].mean()
    white = w.data.index[w.data["race"] == "white"]
    order = {name: i for i, name in enumerate(worlds.NEIGHBOURHOODS)}
    before = w.data.loc[white, "neighbourhood"].map(order)
    after = w.counterfactual(white, race="black")["neighbourhood"].map(order)
    assert (after >= before).all()  # black cut points sit later: a record keeps its rank, moves later or stays
    rank_u = w.noise.loc[white, "u_neighbourhood"].rank()
    assert np.corrcoef(rank_u, after)[0, 1] > 0.8


def test_direct_bias_favours_men_in_the_recorded_label():
    fair = worlds.hiring(n=20_000, seed=4).data
    biased = worlds.hiring(n=20_000, seed=4, direct_bias=1.0).data
    gap = lambda d: d.groupby("sex")["hired"].mean().diff().iloc[-1]  # noqa: E731
    assert abs(gap(fair)) < 0.03
    assert gap(biased) > 0.15


def test_proxy_bias_penalises_a_career_gap_and_label_bias_drops_qualified_women():
    base = worlds.hiring(n=20_000, seed=5).data
    proxy = worlds.hiring(n=20_000, seed=5, proxy_bias=1.0).data
    rate = lambda d: d.groupby("career_gap")["hired"].mean()  # noqa: E731
    assert rate(proxy)[True] < rate(base)[True] - 0.1
    labelled = worlds.hiring(n=20_000, seed=5, label_bias=0.5)
    women = labelled.data["sex"] == "female"
    men_white = (labelled.data["sex"] == "male") & (labelled.data["race"] == "white")
    assert labelled.data.loc[men_white, "hired"].mean() == pytest.approx(base.loc[men_white, "hired"].mean())
    assert labelled.data.loc[women, "hired"].mean() < 0.6 * base.loc[women, "hired"].mean()


def test_world_errors():
    w = worlds.hiring(n=10, seed=0)
    with pytest.raises(fp.InvalidSpec, match=r"'age' is not a protected attribute of this world"):
        w.counterfactual(age=30)
    with pytest.raises(fp.InvalidSpec, match=r"sex='other' is not a value of sex \(values: female, male\)"):
        w.counterfactual(sex="other")
    with pytest.raises(fp.InvalidSpec, match=r"label_bias must be a share in \[0, 1\]"):
        worlds.hiring(label_bias=2)
