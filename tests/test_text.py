"""Text twins: the rewriter, the validator (with a seeded corruption test) and text probes."""

import re

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe.twins.text import Person, Rewriter, TextTwinGenerator, pick_name, validate

EMILY = Person("Emily", "Walsh", "female", "white")
JERMAINE = Person("Jermaine", "Washington", "male", "black")


@pytest.mark.parametrize("text,expected", [
    ("We hired her in 2020.", "We hired him in 2020."),
    ("Her code is clean and her tests pass.", "His code is clean and his tests pass."),
    ("The award went to her.", "The award went to him."),
    ("She did it herself; the idea was hers.", "He did it himself; the idea was his."),
    ("Emily is a chairwoman at Acme.", "Jermaine is a chairman at Acme."),
    ("Her mother's company hired Ms. Walsh.", "His mother's company hired Mr. Washington."),
])
def test_rewriter_female_to_male(text, expected):
    assert Rewriter().rewrite(text, EMILY, JERMAINE) == expected


@pytest.mark.parametrize("text,expected", [
    ("His team trusts him.", "Her team trusts her."),
    ("The laptop is his.", "The laptop is hers."),
    ("He is a businessman and Mr. Washington knows it.", "She is a businesswoman and Ms. Walsh knows it."),
    ("Jermaine Washington, Jermaine and Washington.", "Emily Walsh, Emily and Walsh."),
])
def test_rewriter_male_to_female(text, expected):
    assert Rewriter().rewrite(text, JERMAINE, EMILY) == expected


def test_race_only_twin_keeps_pronouns_and_sex():
    new = pick_name(EMILY, "female", "black")
    assert new.sex == "female" and new.first in fp.worlds.FIRST_NAMES[("female", "black")]
    out = Rewriter().rewrite("Emily Walsh leads her team.", EMILY, new)
    assert out == f"{new.first} {new.last} leads her team."


@pytest.fixture(scope="module")
def profiles():
    world = fp.worlds.hiring(n=300, seed=4)
    return world.data.assign(profile=world.profiles())


def test_every_rewriter_twin_of_the_world_profiles_is_accepted(profiles):
    twins = TextTwinGenerator("profile").generate(profiles, ["sex", "race"], seed=0)
    assert len(twins) == 7 * len(profiles)
    assert twins.valid.all(), twins.info["rejection_reasons"]
    # names and pronouns follow the target; facts stay
    for i in range(0, len(twins), 97):
        twin, source = twins.twins.iloc[i], profiles.iloc[twins.source[i]]
        assert twin["first_name"] in fp.worlds.FIRST_NAMES[(twin["sex"], twin["race"])]
        assert re.findall(r"\d+(?:\.\d+)?", twin["profile"]) == re.findall(r"\d+(?:\.\d+)?", source["profile"])


CORRUPTIONS = {
    "drop a sentence": lambda t, rng: ". ".join(s for j, s in enumerate(t.split(". ")) if j != 1),
    "change a number": lambda t, rng: re.sub(r"\d+", lambda m: str(int(m.group()) + 1), t, count=1),
    "swap an employer": lambda t, rng: t.replace("software developer", "software developer at Google", 1),
    "leave an old pronoun": None,  # needs the original's pronoun, done below
}


def test_seeded_corruptions_are_all_rejected(profiles):
    """Zero accepted twins among deliberately damaged ones (4 corruptions x 300 profiles)."""
    rng = np.random.default_rng(0)
    twins = TextTwinGenerator("profile").generate(profiles, ["sex"], seed=0)
    accepted = 0
    for i in range(len(twins)):
        source = profiles.iloc[twins.source[i]]
        twin = twins.twins.iloc[i]
        old = Person(source["first_name"], source["last_name"], source["sex"], source["race"])
        new = Person(twin["first_name"], twin["last_name"], twin["sex"], twin["race"])
        assert validate(source["profile"], twin["profile"], old, new) == []
        damaged = [fn(twin["profile"], rng) for fn in CORRUPTIONS.values() if fn is not None]
        old_pronoun = "She" if source["sex"] == "female" else "He"
        new_pronoun = "He" if old_pronoun == "She" else "She"
        damaged.append(twin["profile"].replace(f"{new_pronoun} has", f"{old_pronoun} has", 1))
        for text in damaged:
            assert text != twin["profile"]
            accepted += not validate(source["profile"], text, old, new)
    assert accepted == 0


def test_old_name_left_behind_is_rejected():
    text = "Emily Walsh codes. Emily ships."
    bad = "Jermaine Washington codes. Emily ships."
    assert any("old name still present: Emily" in r for r in validate(text, bad, EMILY, JERMAINE))


def name_reader(texts):
    """A screener whose score moves with a male name or pronoun."""
    return np.array([0.45 + 0.2 * bool(re.search(r"\bHe\b", t)) + float(re.search(r"scored (\d+)", t).group(1)) / 1000
                     for t in texts])


def skills_reader(texts):
    return np.array([float(re.search(r"scored ([\d.]+)", t).group(1)) / 100 for t in texts])


def test_text_probe_catches_a_screener_that_reads_gender_and_passes_one_that_does_not(profiles):
    args = dict(data=profiles, protected=["sex", "race"], text="profile", twins="rewrite", label="hired")
    biased = fp.Probe(model=name_reader, **args).invariance("sex", max_flip_rate=0.01)
    assert biased.verdict == "fail"
    assert biased.details["generator_info"]["accepted"] == len(profiles)
    assert {p["favoured"] for p in biased.pairs} == {"male"}
    # worst pairs show the word-level edits of the text, not two whole profiles
    assert re.search(r"profile: \[\w+ -> \w+; (She -> He|He -> She); ", biased.report())
    fair = fp.Probe(model=skills_reader, **args)
    result = fair.invariance(["sex", "race"], max_flip_rate=0.02, max_score_change=0.001)
    assert result.verdict == "pass" and result.statistic == 0
    assert fair.queries == len(profiles) + 7 * len(profiles)  # every twin text is new


def test_text_errors(profiles):
    with pytest.raises(fp.InvalidSpec, match=r"twins='rewrite' rewrites a text column: pass text="):
        fp.Probe(data=profiles, model=skills_reader, protected="sex", twins="rewrite")
    with pytest.raises(fp.InvalidSpec, match=r"text column 'resume' not found in data; did you mean"):
        fp.Probe(data=profiles.rename(columns={"profile": "resumes"}), model=skills_reader, protected="sex",
                 text="resume", twins="rewrite")
    probe = fp.Probe(data=profiles, model=skills_reader, protected=["sex", "neighbourhood"], text="profile",
                     twins="rewrite")
    with pytest.raises(fp.InvalidSpec, match=r"they cannot change \['neighbourhood'\]"):
        probe.invariance("neighbourhood", max_flip_rate=0.01)


AGED = "Emily Walsh, a 34-year-old engineer born in 1990, is 34 years old. Age: 34. She has 12 years at Acme."


def test_age_cues_are_restated_and_birth_years_shifted():
    old, new = replace(EMILY, age=34), replace(EMILY, age=58)
    twin = Rewriter().rewrite(AGED, old, new)
    assert twin == ("Emily Walsh, a 58-year-old engineer born in 1966, is 58 years old. Age: 58. "
                    "She has 12 years at Acme.")
    assert validate(AGED, twin, old, new) == []
    # an age left behind, or a non-age number moved, is rejected
    assert validate(AGED, twin.replace("58 years old", "34 years old"), old, new)[0].startswith("age cues not restated")
    assert validate(AGED, twin.replace("12 years", "13 years"), old, new)[0].startswith("numbers differ")


def test_age_twins_from_a_table():
    frame = pd.DataFrame({"profile": [AGED, AGED.replace("34", "61").replace("1990", "1963")],
                          "first_name": "Emily", "last_name": "Walsh", "sex": "female", "race": "white",
                          "age_group": ["under 40", "40 and over"], "age": [34, 61]})
    gen = TextTwinGenerator("profile", age="age_group", ages={"under 40": 30, "40 and over": 58}, age_years="age")
    twins = gen.generate(frame, ["age_group"], seed=0)
    assert twins.valid.all(), twins.info["rejection_reasons"]
    assert twins.twins["age"].tolist() == [58, 30]
    assert "a 58-year-old engineer born in 1966" in twins.twins["profile"][0]
    assert "a 30-year-old engineer born in 1994" in twins.twins["profile"][1]
    assert twins.twins["first_name"].eq("Emily").all()  # sex and race unchanged: the name stays
    with pytest.raises(fp.InvalidSpec, match=r"ages= gives no age in years for the group\(s\) \['40 and over'\]"):
        TextTwinGenerator("profile", age="age_group", ages={"under 40": 30}).generate(frame, ["age_group"])
    with pytest.raises(fp.InvalidSpec, match="age twins need both age="):
        TextTwinGenerator("profile", age="age_group")
    with pytest.raises(fp.InvalidSpec, match="for age twins pass age= and ages="):
        TextTwinGenerator("profile").generate(frame, ["age_group"])


def test_masked_embedding_similarity_is_one_for_faithful_twins_and_lower_for_damaged_ones(profiles):
    """Secondary signal: 1.0 for the rewriter's twins; an added employer or a dropped sentence falls below
    the 0.985 flag; a changed number barely moves it (0.998-0.9997), which is why it is not the gate."""
    pytest.importorskip("transformers", reason="needs the [text] extra")
    from fairprobe.twins.text import MaskedSimilarity

    sim = MaskedSimilarity()
    subset = profiles.head(40)
    twins = TextTwinGenerator("profile", similarity=sim).generate(subset, ["sex"], seed=0)
    summary = twins.info["masked_similarity"]
    assert summary["n"] == 40 and summary["min"] == 1.0 and summary["below_threshold"] == 0
    originals = [subset["profile"].iloc[i] for i in twins.source]
    people = [(Person(*subset.iloc[i][["first_name", "last_name", "sex", "race"]]),
               Person(*twins.twins.iloc[j][["first_name", "last_name", "sex", "race"]]))
              for j, i in enumerate(twins.source)]
    rng = np.random.default_rng(0)
    for name, corrupt in CORRUPTIONS.items():
        if corrupt is None:
            continue
        sims = sim(originals, [corrupt(t, rng) for t in twins.twins["profile"]], people)
        assert (sims < 1 - 1e-4).all(), name
        if name == "change a number":
            assert np.median(sims) > sim.threshold
        else:
            assert (sims < sim.threshold).all(), (name, sims.max())
