"""Text twins: the rewriter, the validator (with a seeded corruption test) and text probes."""

import re
from collections import Counter

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


# --------------------------------------------------------------------------- resumes as people write them

from fairprobe.twins.text import Rewriter as _Rewriter, find_person  # noqa: E402
from fairprobe.twins.text.samples import labelled_resumes  # noqa: E402


@pytest.fixture(scope="module")
def resumes():
    return labelled_resumes(240, seed=5)


def _people(resumes, twins, j):
    """(old, new) for twin ``j`` of the labelled set: the truth for the original, the twin's own name for the twin."""
    src = resumes.iloc[twins.source[j]]
    old = Person(src["first_name"], src["last_name"], src["sex"], src["race"])
    found = find_person(twins.twins["profile"][j])
    new = Person(found.first, found.last, twins.twins["sex"][j], twins.twins["race"][j])
    return src["profile"], old, new


NEW_CORRUPTIONS = {
    # each puts back a signal of the original person, or drops a qualification, in an otherwise good twin
    "old name in a capitals header": lambda t, old, new: t.replace(f"{new.first} {new.last}".upper(),
                                                                   f"{old.first} {old.last}".upper(), 1),
    "old name in the email address": lambda t, old, new: t.replace(new.first.lower(), old.first.lower(), 1),
    "nickname of the old name": lambda t, old, new: t.replace(f"{new.first} {new.last}",
                                                              f"{old.first[:3]} {new.last}", 1),
    "old-sex lexicon word put back": lambda t, old, new: t.replace(
        *(("men's", "women's") if old.sex == "female" else ("women's", "men's")), 1).replace(
        *(("fraternity", "sorority") if old.sex == "female" else ("sorority", "fraternity")), 1).replace(
        *(("father", "mother") if old.sex == "female" else ("mother", "father")), 1).replace(
        *(("paternity", "maternity") if old.sex == "female" else ("maternity", "paternity")), 1),
    "residual signal dropped": lambda t, old, new: t.replace("Wellesley College", "a college", 1).replace(
        "Society of Women Engineers", "a society", 1).replace("Kappa Delta ", "", 1).replace(
        "Morehouse College", "a college", 1),
    "skill dropped": lambda t, old, new: t.replace("Python, ", "", 1).replace("SQL, ", "", 1).replace(
        ", Excel", "", 1).replace(", Java", "", 1).replace(", Tableau", "", 1).replace(", Figma", "", 1),
    "employer changed": lambda t, old, new: t.replace(" at ", " at Google and ", 1),
    "number changed": lambda t, old, new: re.sub(r"\d+", lambda m: str(int(m.group()) + 1), t, count=1),
}


def test_seeded_corruptions_of_the_new_signal_kinds_are_all_rejected(resumes):
    """Zero damaged twins accepted: every corruption that changes a twin of the 240 labelled resumes (sex and race
    twins, names found in the text) is rejected; and the undamaged twins are all accepted."""
    data = resumes[["profile", "sex", "race"]]
    twins = TextTwinGenerator("profile").generate(data, ["sex", "race"], seed=0)
    assert twins.valid.all(), twins.info["rejection_reasons"]
    tried, accepted, applied = 0, 0, Counter()
    for j in range(0, len(twins), 3):
        original, old, new = _people(resumes, twins, j)
        twin = twins.twins["profile"][j]
        assert validate(original, twin, old, new) == []
        for name, corrupt in NEW_CORRUPTIONS.items():
            damaged = corrupt(twin, old, new)
            if damaged == twin or (name == "old-sex lexicon word put back" and old.sex == new.sex):
                continue
            tried += 1
            applied[name] += 1
            accepted += not validate(original, damaged, old, new)
    assert accepted == 0
    assert tried > 1000 and all(applied[name] >= 15 for name in NEW_CORRUPTIONS), applied


def test_names_found_in_the_text_f_m_values_and_race_none():
    """The data a user has: no name columns, sex as F/M, no race column (a sex-only audit)."""
    frame = pd.DataFrame({"profile": ["EMILY WALSH\nemily.walsh@mail.com\nHer manager calls her dependable. "
                                      "She captained the women's chess team.",
                                      "Greg Baker leads. He is a proud father of two."], "sex": ["F", "M"]})
    twins = TextTwinGenerator("profile", race=None).generate(frame, ["sex"], seed=0)
    assert twins.valid.all(), twins.info["rejection_reasons"]
    assert twins.twins["sex"].tolist() == ["M", "F"]  # the table's own values
    assert twins.twins["profile"][0].endswith("His manager calls him dependable. He captained the men's chess team.")
    assert twins.twins["profile"][0].split("\n")[0].endswith(" WALSH")  # race None: the surname stays
    assert "is a proud mother of two" in twins.twins["profile"][1]
    assert twins.info["names"]["source"] == "found in the text"
    # the same table with a race column the user did not declare works too (the column is simply absent)
    assert TextTwinGenerator("profile").generate(frame, ["sex"]).valid.all()


def test_race_twins_without_a_sex_column_keep_the_sex_read_from_the_pronouns():
    frame = pd.DataFrame({"profile": ["Lakisha Washington codes. She ships.", "Greg Baker leads. He ships."],
                          "race": ["black", "white"]})
    twins = TextTwinGenerator("profile", sex=None).generate(frame, ["race"], seed=0)
    assert twins.valid.all()
    firsts = [t.split()[0] for t in twins.twins["profile"]]
    assert fp.twins.lexicons.signal(firsts[0])["sex"] == "female" and fp.twins.lexicons.signal(firsts[1])["sex"] == "male"


def test_group_values_are_mapped_and_unknown_ones_named_with_the_fix():
    frame = pd.DataFrame({"profile": ["Mei Chen codes. She ships.", "Greg Baker leads. He ships."],
                          "sex": ["W", "Man"], "race": ["Asian-Pac-Islander", "Other"]})
    with pytest.raises(fp.InvalidSpec, match=r"sex value\(s\) \['W'\] of column 'sex' name no group of the name "
                                             r"lexicon \(\['female', 'male'\]\); map them with groups=\{'W': 'female'"):
        TextTwinGenerator("profile").generate(frame, ["sex"])
    with pytest.raises(fp.InvalidSpec, match=r"race value\(s\) \['Other'\] of column 'race'.*groups="):
        TextTwinGenerator("profile", groups={"W": "female"}).generate(frame, ["race"])
    twins = TextTwinGenerator("profile", groups={"W": "female", "Other": "white"}).generate(frame, ["sex"])
    assert twins.valid.all() and twins.twins["sex"].tolist() == ["Man", "W"]


def test_residual_signals_are_flagged_by_default_and_rejected_on_request(resumes):
    data = resumes[["profile", "sex", "race"]]
    flagged = TextTwinGenerator("profile").generate(data, ["sex"], seed=0)
    residual = flagged.info["residual"]
    assert flagged.valid.all() and residual["mode"] == "flag" and residual["twins"] > 10
    assert residual["share"] == pytest.approx(residual["twins"] / len(flagged))
    assert "Wellesley College" in residual["signals"] or "Spelman College" in residual["signals"]
    rejected = TextTwinGenerator("profile", residual="reject").generate(data, ["sex"], seed=0)
    assert int((~rejected.valid).sum()) == residual["twins"] == rejected.info["rejection_reasons"]["residual signal"]
    with pytest.raises(fp.InvalidSpec, match="residual"):
        TextTwinGenerator("profile", residual="drop")


def test_rejections_are_typed():
    from fairprobe.twins.text import Reason

    reasons = validate("Emily Walsh has 5 years.", "Greg Baker has 6 years.", EMILY, Person("Greg", "Baker", "male",
                                                                                              "white"))
    assert [r.reason for r in reasons] == [Reason.NUMBERS]
    assert reasons[0].detail == "removed 5, added 6"


def womens_reader(texts):
    """The pattern reported in 2018 of an experimental resume screener: it marks down "women's"."""
    return np.array([0.45 + 0.02 * min(int(re.search(r"(\d+) years", t).group(1)), 15)
                     - 0.4 * ("women's" in t.lower()) for t in texts])


def test_a_screener_that_marks_down_womens_is_caught_only_with_the_swap_lexicon(resumes):
    data = resumes[["profile", "sex", "race", "hired"]]
    args = dict(data=data, model=womens_reader, protected=["sex", "race"], text="profile", label="hired")
    caught = fp.Probe(twins="rewrite", **args).invariance("sex", max_flip_rate=0.01)
    assert caught.verdict == "fail" and caught.details["generator_info"]["accepted"] == len(data)
    # before the lexicon, the twin of "women's chess team" kept it: now such a twin is rejected, not scored clean
    before = fp.Probe(twins=TextTwinGenerator("profile", rewriter=_Rewriter(lexicon=False)), **args).invariance(
        "sex", max_flip_rate=0.01)
    assert before.statistic == 0
    assert before.details["generator_info"]["rejection_reasons"]["words of the old sex about the subject remain"] > 0
