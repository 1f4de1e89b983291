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
    with pytest.raises(fp.InvalidSpec, match=r"sex='other' is not a value of sex \(use one of: female, male\)"):
        w.counterfactual(sex="other")
    with pytest.raises(fp.InvalidSpec, match=r"label_bias must be a share in \[0, 1\]"):
        worlds.hiring(label_bias=2)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: worlds.hiring(bogus=1),
     r"^hiring\(\) has no option 'bogus' \(options: n, seed, direct_bias, proxy_bias, label_bias; use one of "
     r"them\)$"),
    (lambda: worlds.hiring(sed=1), r"^hiring\(\) has no option 'sed'; did you mean 'seed'\? \(options: n, seed,"),
    (lambda: worlds.hiring(100, 3), r"^hiring\(\) takes 1 positional argument \(n\); got 2: int 100, int 3; pass the others "
                                    r"by name, e.g. seed=\.\.\.$"),
    (lambda: worlds.hiring(100, n=5), r"^hiring\(\): multiple values for argument 'n'; pass n= once \(options: n, seed,"),
    (lambda: worlds.hiring(n=-5), r"^hiring\(\): n must be a positive whole number of applicants, e.g. n=1000; "
                                  r"got -5$"),
    (lambda: worlds.hiring(n="10"), r"n must be a positive whole number .*; got '10'$"),
    (lambda: worlds.hiring(n=10.0), r"n must be a positive whole number .*; got 10\.0$"),
    (lambda: worlds.hiring(n=True), r"n must be a positive whole number .*; got True$"),
    (lambda: worlds.hiring(seed="x"), r"^hiring\(\): seed must be a whole number from 0 to 2\*\*63 - 1; got 'x'$"),
    (lambda: worlds.hiring(seed=-1), r"seed must be a whole number from 0 .*; got -1$"),
    (lambda: worlds.hiring(seed=1.5), r"seed must be a whole number from 0 .*; got 1\.5$"),
    (lambda: worlds.hiring(direct_bias="x"), r"^hiring\(\): direct_bias must be a finite number of logits, e.g. "
                                             r"direct_bias=1\.0 \(0: none\); got 'x'$"),
    (lambda: worlds.hiring(proxy_bias=float("inf")), r"proxy_bias must be a finite number .*; got inf$"),
    (lambda: worlds.hiring(label_bias=1.5), r"^hiring\(\): label_bias must be a share in \[0, 1\], e.g. "
                                            r"label_bias=0\.2 \(0: none\); got 1\.5$"),
    (lambda: worlds.hiring(label_bias=True), r"label_bias must be a share in \[0, 1\].*; got True$"),
    (lambda: worlds.hiring(n=5).counterfactual(sx="male"),
     r"^counterfactual: 'sx' is not a protected attribute of this world; did you mean 'sex'\? \(use one of: sex, "
     r"race, e.g. sex='male'\)$"),
    (lambda: worlds.hiring(n=5).counterfactual(sex="men"), r"sex='men' is not a value of sex \(use one of: female, "
                                                           r"male\)$"),
    (lambda: worlds.hiring(n=5).counterfactual([3, 99], sex="male"),
     r"^counterfactual: rows \[99\] are not index labels of this world's data \(pass labels from "
     r"world.data.index, 0 to 4, or none for all\)$"),
])
def test_a_bad_argument_to_a_world_is_a_clear_error_naming_it_and_the_fix(call, message):
    with pytest.raises(fp.InvalidSpec, match=message):
        call()


def test_the_world_keeps_its_signature_and_takes_numpy_numbers():
    import inspect
    assert list(inspect.signature(worlds.hiring).parameters) == ["n", "seed", "direct_bias", "proxy_bias",
                                                                  "label_bias"]
    a = worlds.hiring(np.int64(50), seed=np.int64(3), direct_bias=np.float64(1.0), label_bias=np.float32(0.25))
    b = worlds.hiring(50, seed=3, direct_bias=1.0, label_bias=0.25)
    pd.testing.assert_frame_equal(a.data, b.data)
    mask = a.data["sex"] == "female"
    pd.testing.assert_frame_equal(a.counterfactual(mask, sex="male"), a.counterfactual(a.data.index[mask], sex="male"))
    assert len(a.counterfactual(slice(0, 9), sex="male")) == 10
