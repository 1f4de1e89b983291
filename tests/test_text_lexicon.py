"""The swap lexicon and its context rules, one test per entry and per rule; the residual-signal list, one per
phrase; the provenance of every list."""

import hashlib
from importlib import resources

import pytest

from fairprobe.twins import lexicons
from fairprobe.twins.text import Person, Rewriter, residual_signals, swap_words, validate

EMILY = Person("Emily", "Walsh", "female", "white")
EMILY_AS_MALE = Person("Emily", "Walsh", "male", "white")  # swap_words leaves names alone
PAIRS = [p for p in lexicons.gender_pairs() if p["kind"] != "title"]
TITLES = [p for p in lexicons.gender_pairs() if p["kind"] == "title"]


def _possessive(word):
    return f"{word}'" if word.endswith("s") else f"{word}'s"


def _sentence(word, scope):
    """A sentence in which ``word`` is in the scope that lets it be swapped."""
    if scope == "possessive":
        return f"Emily captained the {_possessive(word)} team."
    if scope == "always":
        return f"Emily joined the {word} in 2010."
    return f"Emily is a {word} at heart." if not word.endswith("s") or word in ("actress", "hostess", "princess",
                                                                             "heiress", "stewardess", "waitress",
                                                                             "headmistress", "masseuse") \
        else f"Emily and Anna are {word} at heart."


def _expected(sentence, old_word, new_word, scope):
    if scope == "possessive":
        return sentence.replace(_possessive(old_word), _possessive(new_word))
    return sentence.replace(f" {old_word} ", f" {new_word} ")


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p['female']}-{p['male']}")
def test_each_pair_is_swapped_in_its_scope_both_ways(pair):
    for old_word, new_word, scope, target in ((pair["female"], pair["male"], pair["to_male"], "male"),
                                              (pair["male"], pair["female"], pair["to_female"], "female")):
        if not scope:  # this direction is done by another row ("dad" becomes "mom", not "mum")
            continue
        sentence = _sentence(old_word, scope)
        twin = swap_words(sentence, target)
        assert twin == _expected(sentence, old_word, new_word, scope), (sentence, twin)
        old, new = (EMILY, EMILY_AS_MALE) if target == "male" else (EMILY_AS_MALE, EMILY)
        # the validator accepts the swap and rejects the old word left about the subject
        assert validate(sentence, twin, old, new) == []
        assert any(r.reason.value == "words of the old sex about the subject remain"
                   for r in validate(sentence, sentence, old, new)), sentence


@pytest.mark.parametrize("pair", [p for p in PAIRS if p["to_male"] == "subject"], ids=lambda p: p["female"])
def test_each_subject_word_about_someone_else_stays(pair):
    """ "her daughter's school" keeps the daughter: only the pronoun changes."""
    sentence = f"Emily drove her {pair['female']}'s team to the game."
    assert swap_words(sentence, "male") == f"Emily drove his {pair['female']}'s team to the game."
    sentence = f"Emily reported to the {pair['female']} of the board."
    assert swap_words(sentence, "male") == sentence


@pytest.mark.parametrize("pair", TITLES, ids=lambda p: p["female"])
def test_each_title_follows_the_subject_only(pair):
    old, new = Person("Emily", "Walsh", "female", "white"), Person("Greg", "Baker", "male", "white")
    text = f"{pair['female']} Walsh leads. Dear {pair['female']} Garcia."
    assert Rewriter().rewrite(text, old, new) == f"{pair['male']} Baker leads. Dear {pair['female']} Garcia."
    if pair["to_female"]:
        assert Rewriter().rewrite(f"{pair['male']} Baker leads.", new, old) == f"{pair['female']} Walsh leads."


@pytest.mark.parametrize("text,expected", [
    # object "her" before an adjective or adverb, possessive before a noun (issue 9's grammar case)
    ("Her manager calls her dependable. We found her reliable and promoted her quickly.",
     "His manager calls him dependable. We found him reliable and promoted him quickly."),
    ("She runs her own company and her newly formed team.", "He runs his own company and his newly formed team."),
    ("We gave her the award; the award went to her.", "We gave him the award; the award went to him."),
    ("She thanked her family.", "He thanked his family."),
    ("She did it herself; the idea was hers.", "He did it himself; the idea was his."),
    # words between the article and the noun
    ("Emily is a proud mother of two.", "Emily is a proud father of two."),
    ("I am a single mother and a stay-at-home mom.", "I am a single father and a stay-at-home dad."),
    ("Emily, a mother of two, leads.", "Emily, a father of two, leads."),
    # a line that starts with the role describes the subject
    ("EXPERIENCE\nHostess, Olive Garden, 2015\nStay-at-home mom, 2016", "EXPERIENCE\nHost, Olive Garden, 2015\n"
                                                                      "Stay-at-home dad, 2016"),
    ("Matthew is a policewoman.", "Matthew is a policeman."),
    ("She worked as a hostess and a stewardess.", "He worked as a host and a steward."),
    # someone else's role stays
    ("She picked up her daughter's school books.", "He picked up his daughter's school books."),
    ("She reported to the chairwoman.", "He reported to the chairwoman."),
    # possessive groups, with the apostrophe that the new word needs
    ("She captained the women's chess team and the girls' robotics club.",
     "He captained the men's chess team and the boys' robotics club."),
    ("Winner of the ladies' doubles.", "Winner of the gentlemen's doubles."),
    ("Member of the Kappa Delta sorority; returned after maternity leave.",
     "Member of the Kappa Delta sorority; returned after paternity leave."),
    # residual signals are never swapped (they are flagged)
    ("Miss Iowa 2012; Society of Women Engineers; BA in Women's Studies; IEEE Women in Engineering.",
     "Miss Iowa 2012; Society of Women Engineers; BA in Women's Studies; IEEE Women in Engineering."),
])
def test_context_rules_to_male(text, expected):
    assert swap_words(text, "male") == expected


@pytest.mark.parametrize("text,expected", [
    ("His team trusts him.", "Her team trusts her."),
    ("The laptop is his.", "The laptop is hers."),
    ("He coached the men's team and the boys' club.", "She coached the women's team and the girls' club."),
    ("Member of the gentlemen's club.", "Member of the ladies' club."),
    ("He grew host revenue and managed the hosts.", "She grew host revenue and managed the hosts."),
    ("He is a proud dad of three.", "She is a proud mom of three."),
])
def test_context_rules_to_female(text, expected):
    assert swap_words(text, "female") == expected


@pytest.mark.parametrize("row", lexicons.residual_signals(), ids=lambda r: r["phrase"])
def test_each_residual_signal_is_kept_and_flagged_in_the_twin_that_changes_its_attribute(row):
    group = row["group"]
    sex = group if row["attribute"] == "sex" else "female"
    race = group if row["attribute"] == "race" else "white"
    old = Person("Emily", "Walsh", sex, race)
    new = Person("Emily", "Walsh", "male" if sex == "female" else "female", race) if row["attribute"] == "sex" \
        else Person("Emily", "Walsh", sex, "asian" if race != "asian" else "white")
    text = f"Emily Walsh is an alumna of {row['phrase']}, class of 2012."
    twin = Rewriter().rewrite(text, old, new)
    assert row["phrase"] in twin
    assert [p for p, _ in residual_signals(twin, old, new)] == [row["phrase"]]
    # a twin that does not change that attribute has no residual signal
    assert residual_signals(twin, old, old) == []


def test_every_list_has_provenance_and_matches_its_hash():
    meta = lexicons.text_provenance()
    assert set(meta["outputs"]) == {"gender_pairs.csv", "residual_signals.csv"}
    assert meta["shipped_sha256"] == meta["outputs"]  # the files shipped are the files built
    for name, source in meta["sources"].items():
        assert source["licence"], name
        assert name in ("fairprobe", "fairprobe-intl") or source["sha256"], name
    sources = {s for p in lexicons.gender_pairs() for s in p["sources"].split()}
    assert sources <= set(meta["sources"]) and {"bolukbasi2016", "lu2018-cds"} <= sources
    assert {r["source"] for r in lexicons.residual_signals()} <= set(meta["sources"])
    assert sum(r["kind"] == "hbcu" and r["source"] == "hbcu-list" for r in lexicons.residual_signals()) == 90
    raw = resources.files("fairprobe.twins.lexicons").joinpath("gender_pairs.csv").read_bytes()
    assert meta["outputs"]["gender_pairs.csv"] == hashlib.sha256(raw).hexdigest()


def test_census_first_names_carry_their_sex_share():
    names = lexicons.census_first_names()
    assert len(names) > 5000 and names["Emily"] > 0.99 and names["Gregory"] < 0.01
    assert 0.1 < names["Casey"] < 0.9  # a name of either sex keeps its share
