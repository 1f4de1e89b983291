"""From tables to text: tabular twins (flip, CVAE) rendered into profiles whose only differences carry the group."""

import re

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe.twins import lexicons
from fairprobe.twins.text import RenderedTwinGenerator, TemplateRenderer, render_table

HELD = ["years_experience", "degree", "skills_score", "certifications"]
TEMPLATE = ("{{ name }} is a software developer with {{ years_experience }} years of experience and a "
            "{{ degree }} degree. {{ He }} scored {{ skills_score }} on the assessment and holds {{ certifications }} "
            "certifications. {% if career_gap %}{{ He }} took a career break. {% endif %}"
            "{{ He }} lives in {{ neighbourhood|title }} and enjoys {{ hobby }} in {{ his }} spare time.")


@pytest.fixture(scope="module")
def world():
    return fp.worlds.hiring(n=1500, seed=7, proxy_bias=2.0)


@pytest.fixture(scope="module")
def table(world):
    return render_table(world.data, TEMPLATE)


def skills_reader(texts):
    return np.array([float(re.search(r"scored ([\d.]+)", t).group(1)) / 100 for t in texts])


def neighbourhood_reader(texts):
    """Reads qualifications and the neighbourhood, never the name or pronouns: discriminates by proxy."""
    bonus = {"Northside": 0.15, "Riverside": 0.05, "Hillcrest": -0.05, "Eastgate": -0.15}
    return np.clip([float(re.search(r"scored ([\d.]+)", t).group(1)) / 100
                    + bonus[re.search(r"lives in (\w+)", t).group(1)] for t in texts], 0, 1)


def test_flip_twins_rendered_carry_the_group_in_the_name_and_nothing_else(table):
    twins = RenderedTwinGenerator("flip", TEMPLATE).generate(table, ["sex", "race"], held=HELD, seed=0)
    assert twins.valid.all(), twins.info["rejection_reasons"]
    assert twins.generator == "flip+template" and len(twins) == 7 * len(table)
    for j in range(0, len(twins), 211):
        twin, source = twins.twins.iloc[j], table.iloc[twins.source[j]]
        signal = lexicons.signal(twin["first_name"])
        assert (signal["sex"], signal["race"]) == (twin["sex"], twin["race"])
        assert lexicons.signal(twin["last_name"])["race"] == twin["race"]
        assert twin["profile"] == TemplateRenderer(TEMPLATE)(twin.to_dict())
        # the same facts, in the same words
        assert re.findall(r"\d+(?:\.\d+)?", twin["profile"]) == re.findall(r"\d+(?:\.\d+)?", source["profile"])


def test_a_renderer_that_states_facts_differently_by_group_is_rejected(table):
    """A renderer that rounds women's scores: every affected twin (and only those) is rejected."""
    honest = TemplateRenderer(TEMPLATE)

    def sloppy(row):
        text = honest(row)
        return text if row["sex"] == "female" else text.replace(f"scored {row['skills_score']:g}",
                                                                f"scored {round(row['skills_score'])}")

    twins = RenderedTwinGenerator("flip", sloppy).generate(table, ["sex"], held=HELD, seed=0)
    changed = (table["skills_score"] != table["skills_score"].round()).to_numpy()[twins.source]
    to_male = (twins.twins["sex"] == "male").to_numpy()
    assert (~twins.valid == (changed & to_male)).all()
    assert twins.info["rejected"] == int((changed & to_male).sum()) > 500
    # counted per reason: a rounded score can also collide with another held number in the same text
    assert twins.info["rejection_reasons"]["held fact stated differently"] >= twins.info["rejected"]


def test_cvae_twins_rendered_catch_a_text_screener_that_reads_the_neighbourhood(table):
    """Flip-rendered twins keep the neighbourhood: they see nothing. CVAE-rendered twins move it with race."""
    args = dict(data=table, model=neighbourhood_reader, protected=["sex", "race"], held=HELD, label="hired",
                text="profile", seed=0)
    flip = fp.Probe(twins=RenderedTwinGenerator("flip", TEMPLATE), **args).invariance("race", max_flip_rate=0.02)
    assert flip.verdict == "pass" and flip.statistic == 0
    cvae = fp.Probe(twins=RenderedTwinGenerator(fp.twins.CVAE(epochs=30, k=2), TEMPLATE), **args)
    result = cvae.invariance("race", max_flip_rate=0.02)
    assert result.verdict == "fail" and result.statistic > 0.05
    info = result.details["generator_info"]
    assert info["base_generator"] == "cvae" and info["rejected"] == 0, info["rejection_reasons"]
    assert "fidelity" in info  # the CVAE's fidelity report comes along
    twins = cvae.twins("race")
    assert (twins.twins[HELD].to_numpy() == twins.original[HELD].to_numpy()[twins.source]).all()
    fair = fp.Probe(twins=cvae.generator, **{**args, "model": skills_reader}).invariance("race", max_flip_rate=0.01,
                                                                                      max_score_change=1e-9)
    assert fair.verdict == "pass" and fair.statistic == 0


def test_tables_without_names_get_names_from_the_lexicon():
    adult_like = pd.DataFrame({"sex": ["Female", "Male", "Female"], "race": ["Black", "White", "Asian-Pac-Islander"],
                               "hours": [40, 38, 45]})
    out = render_table(adult_like, "{{ name }} works {{ hours }} hours a week.")
    for _, row in out.iterrows():
        first, last = lexicons.signal(row["first_name"]), lexicons.signal(row["last_name"])
        assert first["sex"] == row["sex"].lower() and first["race"] == last["race"]
    assert out["profile"][2].endswith("works 45 hours a week.") and lexicons.signal(out["first_name"][2])["race"] == "asian"
    with pytest.raises(fp.InvalidSpec, match=r"race value 'Other' has no names in the lexicon .*groups=\{'Other': \.\.\.\}"):
        render_table(adult_like.assign(race="Other"), "{{ name }}")
    with pytest.raises(fp.InvalidSpec, match=r"the profile template uses a value the row lacks: 'salary' is undefined"):
        render_table(adult_like, "{{ name }} earns {{ salary }}")
    with pytest.raises(fp.InvalidSpec, match="the profile template does not parse"):
        TemplateRenderer("{{ name ")
    with pytest.raises(fp.InvalidSpec, match=r"Write the originals' profiles first"):
        RenderedTwinGenerator("flip", "{{ name }}").generate(adult_like, ["sex"])


class FactWriter:
    """A small deterministic language model: it writes a profile from the facts in the prompt, in its own
    words, and forgets the assessment score for the names in ``forget``."""

    def __init__(self, forget=()):
        self.forget, self.calls = set(forget), 0

    def describe(self):
        return {"backend": "fact-writer", "forget": sorted(self.forget)}

    def chat(self, messages, *, max_tokens=512, temperature=0.0, seed=0):
        self.calls += 1
        user = messages[-1]["content"]
        name = re.search(r"profile of (.+?) for a job", user).group(1)
        pronoun = re.search(r"Use (\w+) /", user).group(1).capitalize()
        facts = dict(re.findall(r"- (.+?): (.+)", user))
        text = (f"Meet {name}, who brings {facts['years experience']} years of experience and a "
                f"{facts['degree']} degree.")
        if name.split()[0] not in self.forget:
            text += f" {pronoun} scored {facts['skills score']} on our assessment."
        return text + f" {pronoun} lives in {facts['neighbourhood'].title()}."


def test_llm_rendered_twins_are_checked_for_every_held_fact(world):
    columns = ["years_experience", "degree", "skills_score", "neighbourhood"]
    data = world.data.head(60)
    forget = {lexicons.first_names("male", r)[i] for r in fp.worlds.RACES for i in range(2)}
    model = FactWriter(forget)
    renderer = fp.twins.text.LLMRenderer(model, columns)
    table = render_table(data, renderer)
    assert model.calls == 60 and table["profile"][0].startswith(f"Meet {data['first_name'][0]} {data['last_name'][0]}")
    twins = RenderedTwinGenerator("flip", renderer).generate(table, ["sex"], held=HELD, seed=0)
    # a pair is rejected exactly when either text forgot the score: stated in one only, or in neither
    original_forgot = np.isin(table["first_name"].to_numpy()[twins.source], list(forget))
    twin_forgot = np.isin(twins.twins["first_name"].to_numpy(), list(forget))
    assert (~twins.valid == (original_forgot | twin_forgot)).all() and 0 < (~twins.valid).sum() < len(twins)
    assert set(twins.info["rejection_reasons"]) <= {"held fact stated differently", "held fact missing"}
    assert twins.info["pairs_checked"] == "held facts, names, pronouns"
    assert twins.info["renderer"]["renderer"] == "llm" and "State every fact" in twins.info["renderer"]["prompt"]
    with pytest.raises(fp.InvalidSpec, match=r"LLMRenderer: the row lacks the column\(s\) \['salary'\]"):
        render_table(data, fp.twins.text.LLMRenderer(model, ["salary"]))


def test_smollm2_renders_a_row_offline_and_its_pair_is_checked(world):
    """SmolLM2-135M writes two short profiles; whatever it writes, the pair is checked, not trusted."""
    pytest.importorskip("transformers", reason="needs the [text] extra")
    from fairprobe.llm import TransformersChat

    renderer = fp.twins.text.LLMRenderer(TransformersChat.smollm2(), ["years_experience", "degree"], max_tokens=60)
    table = render_table(world.data.head(1), renderer)
    twins = RenderedTwinGenerator("flip", renderer).generate(table, ["sex"], held=HELD, seed=0, targets=world.data)
    assert len(twins) == 1 and renderer.stats["model calls"] == 2
    assert bool(twins.valid[0]) == (twins.info["rejection_reasons"] == {})
    assert twins.twins["first_name"][0] in twins.twins["profile"][0] or not twins.valid[0]
