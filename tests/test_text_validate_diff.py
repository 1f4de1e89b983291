"""The validator's token alignment (fairprobe.twins.text.validate._opcodes) is difflib's: its shortcut for lines of
one length whose changed tokens stand nowhere in the other line gives exactly difflib.SequenceMatcher's opcodes, and
every other pair goes to the matcher."""

import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairprobe.twins.text.align import aligned, opcodes, tokens


def matcher(a, b):
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()


TOKENS = st.sampled_from(["a", "b", "c", "d", "emily", "greg", "she", "he", ",", "."])


@settings(max_examples=1500, deadline=None)
@given(st.lists(TOKENS, max_size=12), st.data())
def test_the_alignment_is_difflibs_for_substitutions(a, data):
    """Lines of one length with tokens changed in place (the shape of a twin's line), from a small vocabulary so that
    changed tokens often stand elsewhere in the line too."""
    b = list(a)
    for k in data.draw(st.lists(st.integers(0, max(len(a) - 1, 0)), max_size=4)) if a else []:
        b[k] = data.draw(TOKENS)
    assert opcodes(a, b) == matcher(a, b), (a, b)


@settings(max_examples=500, deadline=None)
@given(st.lists(TOKENS, max_size=10), st.lists(TOKENS, max_size=10))
def test_the_alignment_is_difflibs_for_any_two_lines(a, b):
    assert opcodes(a, b) == matcher(a, b), (a, b)


@pytest.mark.parametrize("a, b", [
    (["emily", "walsh", "leads", "."], ["greg", "baker", "leads", "."]),
    (["she", "said", "she", "codes"], ["he", "said", "he", "codes"]),
    (["x", "emily", "y", "walsh"], ["x", "greg", "y", "baker"]),
])
def test_a_line_whose_changed_tokens_stand_nowhere_else_needs_no_matcher(monkeypatch, a, b):
    """The shortcut is taken (the matcher is not built) where it is sure, and its answer is the matcher's."""
    expected = matcher(a, b)
    monkeypatch.setattr(difflib, "SequenceMatcher", None)
    assert opcodes(a, b) == expected


def test_a_changed_token_that_stands_elsewhere_goes_to_the_matcher():
    """"u v v" -> "v v v": difflib aligns the two "v v" blocks one place apart (a delete and an insert, not a
    replace); the shortcut would have said replace."""
    a, b = ["u", "v", "v"], ["v", "v", "v"]
    assert opcodes(a, b) == matcher(a, b) == [("delete", 0, 1, 0, 0), ("equal", 1, 3, 0, 2), ("insert", 3, 3, 2, 3)]


def _changes(tokens_a, tokens_b, ops):
    """What the validator judges: each non-equal chunk, and the tokens of equal chunks that differ in case."""
    out = []
    for op, i0, i1, j0, j1 in ops:
        chunk_a, chunk_b = tokens_a[i0:i1], tokens_b[j0:j1]
        if op == "equal":
            out += [("case", x, y) for x, y in zip(chunk_a, chunk_b) if x[0] != y[0]]
        else:
            out.append((op, chunk_a, chunk_b))
    return out, [t for t, _, _ in tokens_a] == [t for t, _, _ in tokens_b]


def _whole(text_a, text_b):
    tokens_a, tokens_b = tokens(text_a), tokens(text_b)
    return tokens_a, tokens_b, matcher([t.lower() for t, _, _ in tokens_a], [t.lower() for t, _, _ in tokens_b])


WORDS = ["Emily", "EMILY", "Greg", "she", "She", "he", "He", "her", "his", "the", "Walsh", "walsh", "x", "leads",
         "emily.walsh@x.org", "greg.walsh@x.org", "indeed.com/r/Emily-Walsh/3f2a", "indeed.com/r/Greg-Walsh/3f2a",
         "he'll", "she'll", "women's", "men's", ",", ".", "(", ")", "•", "é", "İ", "ı", "2019", "-", "'", "’", "@x"]
GAPS = [" ", "  ", "\t", "", " | ", "\u00a0"]


@st.composite
def line_pairs(draw):
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12))
    gaps = draw(st.lists(st.sampled_from(GAPS), min_size=len(words), max_size=len(words)))
    other = list(words)
    for k in draw(st.lists(st.integers(0, len(words) - 1), max_size=3)):
        other[k] = draw(st.sampled_from(WORDS))
    other_gaps = list(gaps) if draw(st.booleans()) else draw(st.lists(st.sampled_from(GAPS), min_size=len(words),
                                                                      max_size=len(words)))
    return ("".join(g + w for g, w in zip(gaps, words)), "".join(g + w for g, w in zip(other_gaps, other)))


@settings(max_examples=2000, deadline=None)
@given(line_pairs())
def test_the_aligned_line_is_judged_as_the_whole_line(pair):
    """aligned() leaves out the pieces both lines share at their ends: the chunks the validator judges (and whether
    the tokens are the same) are those of the whole lines, tokenised and matched whole."""
    text_a, text_b = pair
    assert _changes(*aligned(text_a, text_b)) == _changes(*_whole(text_a, text_b)), pair


def test_a_long_line_with_one_word_changed_is_tokenised_only_around_it():
    words = " ".join(f"word{k}" for k in range(200))
    text_a, text_b = f"{words} She leads. {words}", f"{words} He leads. {words}"
    tokens_a, tokens_b, ops = aligned(text_a, text_b)
    assert [t for t, _, _ in tokens_a] == ["She"] and [t for t, _, _ in tokens_b] == ["He"]
    assert _changes(tokens_a, tokens_b, ops) == _changes(*_whole(text_a, text_b))


def test_words_of_the_old_sex_on_a_changed_line_are_found():
    """The validator reads the twin's words from its original's and its changed lines': a pronoun or lexicon word of
    the old sex that only a changed line holds is still found (here the original holds none)."""
    from fairprobe.twins.text import Person, validate

    emily, greg = Person("Emily", "Walsh", "female", "white"), Person("Greg", "Walsh", "male", "white")
    original = "EMILY WALSH\nemily.walsh@mail.com\nCodes in Python.\nLeads the data team."
    for twin, word in (("GREG WALSH\ngreg.walsh@mail.com\nCodes in Python. She codes.\nLeads the data team.", "she"),
                       ("GREG WALSH\ngreg.walsh@mail.com\nCodes in Python.\nLeads the data team; a proud mother.",
                        "mother")):
        reasons = {r.reason.name: str(r) for r in validate(original, twin, emily, greg)}
        assert "PRONOUNS" in reasons or "OLD_SEX_WORDS" in reasons, reasons
        assert word in (reasons.get("PRONOUNS", "") + reasons.get("OLD_SEX_WORDS", "")).lower()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["she", "Her", "women's", "mother", "Ms", "MS", "x", "the", "é", "-", "'", "\n", "."]),
                max_size=10),
       st.lists(st.sampled_from([b"she", b"her", b"women", b"mother", b"ms", b"zz"]), max_size=4))
def test_a_prefilter_given_more_words_than_the_text_holds_finds_the_same(words, extra):
    """Prefilter.may_match and finditer given a set that holds the text's word runs (and more) answer as they do
    reading the text's own."""
    from fairprobe.twins.text.signals import FEMALE, MALE, words_pattern, words_prefilter
    from fairprobe.twins.text.spans import word_runs

    text = " ".join(words)
    runs = word_runs(text)
    more = None if runs is None else runs | frozenset(extra)
    for target in (FEMALE, MALE):
        prefilter, pattern = words_prefilter(target), words_pattern(target)
        assert prefilter.may_match(text, more) or not prefilter.may_match(text)
        assert [m.span() for m in prefilter.finditer(pattern, text, more)] == [m.span() for m in pattern.finditer(text)]


LINE_PIECES = st.sampled_from(["Emily", "WALSH", "she", " ", "-", "é", "Ä", "İ", "Σ", "ΟΔΟΣ", "ı", "ß", "ǅ", "x", "\t",
                               "K", "ſ"])


@st.composite
def twins_by_line(draw):
    """An original of a few lines (letters whose lower case is longer, read from the context, or matched by more
    than one letter among them) and a twin with some lines changed."""
    lines_a = draw(st.lists(st.lists(LINE_PIECES, max_size=8).map("".join), min_size=1, max_size=8))
    lines_b = list(lines_a)
    for k in draw(st.lists(st.integers(0, len(lines_a) - 1), max_size=4)):
        lines_b[k] = draw(st.lists(LINE_PIECES, max_size=8).map("".join))
    return lines_a, lines_b


@settings(max_examples=3000, deadline=None)
@given(twins_by_line())
def test_the_twins_lower_case_built_from_its_originals_is_its_own(pair):
    """align.twin_lowered (the original's lower case between the changed lines, the changed lines' own) is
    lower_as_re of the twin wherever it gives one: the validator puts it in lowered()'s cache."""
    from fairprobe.twins.text.spans import lower_as_re
    from fairprobe.twins.text.align import twin_lowered

    lines_a, lines_b = pair
    original, twin = "\n".join(lines_a), "\n".join(lines_b)
    changed = [k for k in range(len(lines_a)) if lines_a[k] != lines_b[k]]
    built = twin_lowered(original, lines_a, lines_b, changed)
    if built is not None:
        assert built == lower_as_re(twin), (original, twin)
    else:  # given up only where the original or a changed line is not lowered as re.IGNORECASE compares
        assert lower_as_re(original) is None or any(lower_as_re(lines_b[k]) is None for k in changed)


def test_the_validator_reads_the_twin_in_its_own_lower_case():
    """A twin whose lower case the validator builds (a long resume, lines changed) is judged by its own: a
    nickname of the old name left, which only the twin's lower case shows, is still found; and lowered() gives the
    twin's own lower case after the validation."""
    from fairprobe.twins.text import Person, validate
    from fairprobe.twins.text.spans import lower_as_re, lowered

    emily, greg = Person("Emily", "Walsh", "female", "white"), Person("Greg", "Walsh", "male", "white")
    body = "\n".join(f"Built pipeline {k} in Python for the data team." for k in range(12))
    original = f"EMILY WALSH\nemily.walsh@mail.com\n{body}\nEmily Walsh, Seattle"
    twin = f"GREG WALSH\ngreg.walsh@mail.com\n{body}\nGreg Walsh, Seattle\nEm Walsh wrote it."
    assert "(nickname)" in " ".join(str(r) for r in validate(original, twin, emily, greg))
    twin = f"GREG WALSH\ngreg.walsh@mail.com\n{body}\nGreg Walsh, Seattle, Em WALSH"
    assert any("Em (nickname)" in str(r) for r in validate(original, twin, emily, greg))
    assert lowered(twin) == lower_as_re(twin) == twin.lower()


def test_a_nickname_before_a_longer_word_that_starts_with_the_surname_is_no_old_name_left():
    """"Em Walshire" (a firm, kept as it was) is not a nickname of Emily Walsh left in the twin: the surname must end
    where the word ends. The check on the character after the surname is what tells them apart."""
    from fairprobe.twins.text import Person, validate

    emily, greg = Person("Emily", "Walsh", "female", "white"), Person("Greg", "Walsh", "male", "white")
    original = "EMILY WALSH\nemily.walsh@mail.com\nAnalyst at Em Walshire Partners, 2019-2023.\nEmily Walsh, Seattle"
    twin = "GREG WALSH\ngreg.walsh@mail.com\nAnalyst at Em Walshire Partners, 2019-2023.\nGreg Walsh, Seattle"
    assert not [r for r in validate(original, twin, emily, greg) if "nickname" in str(r)]
    left = twin + "\nEm Walsh wrote it."
    assert any("Em (nickname)" in str(r) for r in validate(original, left, emily, greg))


def test_a_later_place_of_the_old_name_that_names_the_candidate_counts():
    """The validator reads where the old name stands lazily, stopping at the first place that names the candidate:
    first places that do not ("Austin, TX", "Oconnell Hughes") must not end the reading; nor, for the new name,
    a first place in lower case (an email address)."""
    from fairprobe.twins.text import Person, validate

    austin, greg = Person("Austin", "Oconnell", "male", "white"), Person("Greg", "Baker", "male", "white")
    original = "Resume\nAustin, TX 78701\nOconnell Hughes Inc.\nAUSTIN OCONNELL\nBuilt pipelines."
    twin = "Resume\nAustin, TX 78701\nOconnell Hughes Inc.\nAUSTIN OCONNELL\nBuilt pipelines!"
    assert "NEW_NAME" in {r.reason.name for r in validate(original, twin, austin, greg)}
    original = "austin.oconnell@mail.com\nResume\nAUSTIN OCONNELL\nBuilt pipelines."
    twin = "greg.baker@mail.com\nResume\nGREG BAKER\nBuilt pipelines."
    assert not validate(original, twin, austin, greg)
