"""The Probe API end to end, outside pytest's plugin machinery."""

import pandas as pd
import pytest

import fairprobe as fp

HELD = ["years_experience", "degree", "skills_score", "certifications"]


@pytest.fixture(scope="module")
def world():
    return fp.worlds.hiring(n=1200, seed=8, direct_bias=1.0)


def reads_sex(df):
    return (0.3 * (df["sex"] == "male").to_numpy() + df["skills_score"].to_numpy() / 100) / 1.3


def test_results_without_raising_and_assertions_that_raise(world):
    probe = fp.Probe(data=world.data, model=reads_sex, protected=["sex", "race"], label="hired", held=HELD)
    result = probe.invariance("sex", max_flip_rate=0.01)
    assert isinstance(result, fp.CheckResult) and result.verdict == "fail"
    with pytest.raises(fp.FairnessViolation) as info:
        probe.assert_invariant("sex", max_flip_rate=0.01)
    assert info.value.result.verdict == "fail"
    assert str(info.value).startswith("FAIL  invariance of the decision to sex (flip twins)")
    assert probe.assert_invariant("race", max_flip_rate=0.01).verdict == "pass"


def test_intersectional_twins_cover_every_other_combination(world):
    probe = fp.Probe(data=world.data, model=reads_sex, protected=["sex", "race"], held=HELD)
    twins = probe.twins(["sex", "race"])
    assert len(twins) == 7 * len(world.data)
    assert (twins.twins[HELD].to_numpy() == world.data[HELD].to_numpy()[twins.source]).all()
    pairs = set(zip(twins.from_.astype(str).agg("|".join, axis=1), twins.to.astype(str).agg("|".join, axis=1)))
    assert len(pairs) == 8 * 7


def test_model_queries_are_counted_once_per_distinct_row(world):
    probe = fp.Probe(data=world.data, model=reads_sex, protected=["sex", "race"], label="hired", held=HELD)
    probe.equalized_odds("sex", max_gap=0.1)
    first = probe.queries
    assert first == len(world.data)
    probe.demographic_parity("race", min_ratio=0.8)
    assert probe.queries == first  # originals are cached
    result = probe.invariance("sex", max_flip_rate=0.01)
    assert probe.queries == 2 * len(world.data)  # one new twin per record
    assert result.context["queries"] == probe.queries


def test_max_records_samples_with_the_seed_and_rows_keep_their_labels(world):
    data = world.data.set_index(world.data.index + 10_000)
    a = fp.Probe(data=data, model=reads_sex, protected="sex", max_records=300, seed=1)
    b = fp.Probe(data=data, model=reads_sex, protected="sex", max_records=300, seed=1)
    c = fp.Probe(data=data, model=reads_sex, protected="sex", max_records=300, seed=2)
    ra, rb, rc = (p.invariance("sex", max_flip_rate=0.01) for p in (a, b, c))
    assert ra.n == 300 and ra.to_dict() | {"context": None} == rb.to_dict() | {"context": None}
    assert ra.counterexamples != rc.counterexamples
    assert all(ex["row"] >= 10_000 for ex in ra.counterexamples)
    row = ra.counterexamples[0]["row"]
    assert data.loc[row, "sex"] == ra.counterexamples[0]["changes"]["sex"][0]


def test_sklearn_pipeline_reading_proxies_only_passes_flip_twins():
    """Flip twins are blind to proxies: the documented limit that CVAE twins will lift."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    w = fp.worlds.hiring(n=3000, seed=9, proxy_bias=2.0)
    cols = ["neighbourhood", "career_gap", *HELD]
    model = make_pipeline(make_column_transformer((OneHotEncoder(), ["neighbourhood", "degree"]),
                                                  remainder="passthrough"),
                          LogisticRegression(max_iter=2000)).fit(w.data[cols], w.data["hired"])
    probe = fp.Probe(data=w.data, model=model, protected=["sex", "race"], label="hired", held=HELD)
    assert probe.features == cols
    assert probe.invariance("sex", max_flip_rate=0.01).verdict == "pass"
    truth = model.predict(w.counterfactual(sex="male")[cols]) != model.predict(w.data[cols])
    assert truth[w.data["sex"] == "female"].mean() > 0.05  # yet the decisions do move with sex


@pytest.mark.parametrize("attributes", [("sex",), ("sex", "race")])
def test_flip_twins_leave_the_records_as_they_were(attributes):
    # Binary flip twins share the records' columns (a shallow copy); writing the flipped column must not
    # reach the records the probe holds (the originals would then read as their own twins).
    world = fp.worlds.hiring(n=400, seed=3)
    before = world.data.copy(deep=True)
    probe = fp.Probe(data=world.data, model=lambda f: (f["sex"] == "male").to_numpy(), protected=["sex", "race"])
    twinset = probe.twins(list(attributes))
    pd.testing.assert_frame_equal(world.data, before)
    pd.testing.assert_frame_equal(twinset.original, before.reset_index(drop=True))
    assert (twinset.twins["sex"].to_numpy() != twinset.original["sex"].to_numpy()[twinset.source]).any()
