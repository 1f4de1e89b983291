"""Hypothesis search for discriminatory twin pairs: it finds one, shrinks it, and replays it."""

import pytest
from hypothesis import given, settings

import fairprobe as fp
from fairprobe.strategies import TwinPair, assert_pair_invariant, twin_pairs

HELD = ["years_experience", "skills_score"]


@pytest.fixture(scope="module")
def world():
    return fp.worlds.hiring(n=500, seed=0)


def discriminates(df):
    """Women need 10 more skill points than men."""
    return (df["skills_score"] > 50 + 10 * (df["sex"] == "female")).to_numpy()


def test_search_finds_and_shrinks_a_discriminatory_pair(world, tmp_path):
    data = world.data[["sex", "race", "degree", *HELD, "hired"]]
    probe = fp.Probe(data=data, model=discriminates, protected=["sex"], held=HELD, label="hired")
    found = []

    @settings(max_examples=100, database=None, derandomize=True, deadline=None)
    @given(twin_pairs(probe, "sex"))
    def search(pair):
        try:
            assert_pair_invariant(probe, pair)
        except AssertionError:
            found.append(pair)
            raise

    with pytest.raises(AssertionError, match=r"decision changed with sex: sex: '(female|male)' -> '(male|female)'; held "
                                              r"years_experience=0, skills_score=5\d"):
        search()
    minimal = found[-1]  # hypothesis replays the shrunk example last
    skills = float(minimal.original["skills_score"].iloc[0])
    assert 50 < skills <= 60  # only that band discriminates; shrinking lands in it
    assert minimal.original["years_experience"].iloc[0] == world.data["years_experience"].min()
    path = minimal.save(tmp_path / "regressions" / "sex.json")
    replay = TwinPair.load(path)
    with pytest.raises(AssertionError, match="decision changed with sex"):
        assert_pair_invariant(probe, replay)


def test_fair_model_survives_the_search(world):
    probe = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected=["sex", "race"],
                     held=HELD)

    @settings(max_examples=50, database=None, derandomize=True, deadline=None)
    @given(twin_pairs(probe, ["sex", "race"], source="data"))
    def search(pair):
        assert len(pair.twins) == 7
        assert_pair_invariant(probe, pair)

    search()


def test_bad_source(world):
    probe = fp.Probe(data=world.data, model=discriminates, protected=["sex"])
    with pytest.raises(fp.InvalidSpec, match="source must be 'synthetic' or 'data'"):
        twin_pairs(probe, "sex", source="both")
