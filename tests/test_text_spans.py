"""Name search without a regex per name (fairprobe.twins.text.spans) finds exactly what the regexes it replaces
found: each function is compared with its pattern, written out here, on hand-written profiles and on texts
hypothesis builds from names, separators, initials, titles, links and look-alike words."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairprobe.twins.text import Person, name_mentions
from fairprobe.twins.text.names import _link_forms, _mention_patterns, _rebuild
from fairprobe.twins.text.spans import full_name_spans, link_spelled, part_spans

PEOPLE = [("Emily", "Walsh", ""), ("Jörg", "Lehmann", ""), ("Al", "Li", ""), ("Maria", "de la Cruz", "Elena"),
          ("Shanice", "O'Neal", "R."), ("May", "Zhang", ""), ("Austin", "Smith-Jones", ""), ("İlker", "Kaya", "")]


def part_regex(part):
    return re.compile(rf"(?<![\w'’-]){re.escape(part)}(?![\w'’-]|['’]\w\w)", re.IGNORECASE)


def full_regex(first, last, middle):
    mid = rf"(?:\s+(?:{re.escape(middle)}|[A-Z]\.?))?" if middle else r"(?:\s+[A-Z]\.?)?"
    return re.compile(rf"(?<![\w'’-])(?:{re.escape(first)}{mid}\s+{re.escape(last)}|{re.escape(last)},\s*"
                      rf"{re.escape(first)})(?![\w'’-]|['’]\w\w)", re.IGNORECASE)


def mentions_by_regex(text, person):
    """name_mentions' anchor and form loop as it was, with the person's own regexes."""
    anchor, multi = _mention_patterns.__wrapped__(person.first, person.last, person.middle)
    out = []
    for match in anchor.finditer(text):
        form = multi.match(text, match.start())
        out.append((match.start(), match.end(), form.lastgroup if form else "", form.end() if form else -1))
    return out


def links_by_regex(value, first, last):
    spellings, _ = _link_forms(first, last)
    body = "|".join(re.escape(w) for w in spellings)
    return [m.span() for m in re.finditer(rf"(?<![a-z])(?:{body})(?![a-z])", value, re.IGNORECASE)]


def _texts(first, last, middle):
    words = [first, last, first.upper(), last.lower(), middle, first[:2], first[:-1], f"{first[:1]}.", "Ms.", "Dr",
             "Mr", "Prof.", "Emily", "Walshe", "'s", "’s", "-", ",", ", ", ".", "  ", "\n", " ", "\t", "@x.org", "/",
             "2019", "_", "K", "\u212a", "ı", "ſ", "Σ",  # letters whose case re matches beyond str.lower
             f"{first.lower()}.{last.lower()}", f"{first[:1].lower()}{last.lower()}"]
    return st.lists(st.sampled_from([w for w in words if w]), max_size=14).map(lambda ws: "".join(
        w if w in "-,.'’/_\n\t" or w.startswith(("@", "'", "’")) else f" {w}" for w in ws))


@st.composite
def person_and_text(draw):
    first, last, middle = draw(st.sampled_from(PEOPLE))
    return Person(first, last, "", "", middle=middle), draw(_texts(first, last, middle))


HANDWRITTEN = [
    "EMILY WALSH\nemily.walsh@mail.com | linkedin.com/in/emilywalsh\nMs. Walsh's team; Em Walsh; Walsh, Emily; E. Walsh.",
    "Walsh,Emily R. -- emily r walsh -- Emily  R.  Walsh -- Emily Walshe -- Emily-Walsh -- O'Emily Walsh",
    "Speaker: Jörg Lehmann\nJÖRG LEHMANN leads. jörg.lehmann@tu.de, Dr. Lehmann, J. Lehmann, Jö Lehmann",
    "Maria Elena de la Cruz\nMARIA E. DE LA CRUZ; de la Cruz, Maria; Prof. de la Cruz; mdelacruz@x.org",
    "İLKER KAYA\nilker.kaya@x.com; İlker Kaya's code; Dr. Kaya",
    "May Zhang\nMay 2019 - present; in May; MAY ZHANG; Zhang, May; M. Zhang",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(person_and_text())
def test_part_and_full_name_spans_are_the_regexes_matches(case):
    person, text = case
    for part in (person.first, person.last, person.middle):
        if part:
            assert part_spans(text, part) == [m.span() for m in part_regex(part).finditer(text)]
    expected = [m.span() for m in full_regex(person.first, person.last, person.middle).finditer(text)]
    assert full_name_spans(text, person.first, person.last, person.middle) == expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(person_and_text())
def test_mention_anchors_and_forms_are_the_regexes_matches(case):
    from fairprobe.twins.text.names import _anchors_and_forms

    person, text = case
    assert _anchors_and_forms(text, person) == mentions_by_regex(text, person)


@settings(max_examples=300, deadline=None)
@given(person_and_text())
def test_link_spellings_are_the_regexes_matches(case):
    person, text = case
    value = text.replace(" ", "").lower() + "@x.org"
    spellings, _ = _link_forms(person.first, person.last)
    assert link_spelled(value, spellings) == links_by_regex(value, person.first, person.last)


def test_hand_written_profiles_give_the_same_mentions_spans_and_links():
    for text in HANDWRITTEN:
        for first, last, middle in PEOPLE:
            person = Person(first, last, "", "", middle=middle)
            from fairprobe.twins.text.names import _anchors_and_forms

            assert _anchors_and_forms(text, person) == mentions_by_regex(text, person), (text, person)
            assert full_name_spans(text, first, last, middle) == [
                m.span() for m in full_regex(first, last, middle).finditer(text)]
            for part in (first, last):
                assert part_spans(text, part) == [m.span() for m in part_regex(part).finditer(text)]
    emily = Person("Emily", "Walsh", "female", "white")
    kinds = [m.kind for m in name_mentions(HANDWRITTEN[0], emily)]
    assert kinds == ["full", "email", "url", "titled", "nickname", "reversed", "initial"], kinds
    assert _rebuild("indeed.com/r/Emily-Walsh/3f2a", emily, Person("Greg", "Baker", "male", "white")) == \
        "indeed.com/r/Greg-Baker/3f2a"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["emily.walsh@x.org", "@emily_w", "x.company", "linkedin.com/in/emily-", "\n",
                                 "walsh/", " ", "-\n", "www.emilywalsh.dev", "Emily", "(", ")", "a@b", ".", "https://",
                                 "indeed.com/r/Emily-", "Walsh/3f2a?isid=x", "\t", "@", "ai.", "co.uk"]), max_size=16))
def test_links_are_found_where_the_whole_text_scan_finds_them(pieces):
    from fairprobe.twins.text.names import _LINK_HINT, _LINKS, _hint_starts, _links

    text = "".join(pieces)
    assert _hint_starts(text) == [m.start() for m in _LINK_HINT.finditer(text)]
    assert list(_links.__wrapped__(text)) == [(m.start(), m.end(), m.lastgroup, m.group()) for m in
                                              _LINKS.finditer(text)]


def _prefiltered():
    """Each pattern that a Prefilter spares a scan, with that Prefilter, and words to build texts from."""
    from fairprobe.twins.text.names import _forms_of
    from fairprobe.twins.text.signals import (_GENDERED_HINT, _GENDERED_WORDS, FEMALE, MALE, residual_index,
                                              words_pattern, words_prefilter)

    index, forms = residual_index(), _forms_of("Emily", "Walsh", "")
    out = [(words_pattern(t), words_prefilter(t)) for t in (FEMALE, MALE)]
    out += [(p, index.words) for p in (index.upper, index.other) if p is not None]
    out += [(_GENDERED_HINT, _GENDERED_WORDS), (forms.title_anchor, forms.title_words)]
    return out


PHRASES = ["she", "He", "HER", "hers", "himself", "women's", "Women’s", "girls'", "ladies", "chairwoman", "mother",
           "Society of Women Engineers", "Wellesley College", "HBCU", "Spelman College", "Mr.", "Ms", "Mrs.", "Dr",
           "Alpha Kappa Alpha", "sorority", "Kaur", "stay-at-home mom", "Women in Finance", "Lady", "Sir"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PHRASES + ["Shell", "ashes", "hero", "mothers", "Man", "x", "'s", "’", "-", ".", "\n",
                                           "ı", "\u212a", "İ", "ſ", "é", "•", "_", "2019", "(", ")"]), max_size=10),
       st.lists(st.sampled_from(["upper", "lower", "title", "same"]), min_size=10, max_size=10),
       st.lists(st.sampled_from([" ", "", "\t", "-", "’", "'", "é", "_"]), min_size=10, max_size=10))
def test_a_text_the_prefilter_rules_out_has_no_match(words, cases, gaps):
    """Prefilter.may_match is False only where its pattern finds nothing: the scans it spares find nothing."""
    text = "".join(gap + (getattr(w, case)() if case != "same" else w) for w, case, gap in zip(words, cases, gaps))
    for pattern, prefilter in _prefiltered():
        assert prefilter.may_match(text) or pattern.search(text) is None, (text, pattern.pattern[:80])


def test_the_prefilter_rules_out_texts_without_the_words():
    """It spares scans: a text without any of the words (or with them inside longer words) is ruled out."""
    from fairprobe.twins.text.signals import MALE, words_prefilter

    words = words_prefilter(MALE)  # a male twin: the female words
    assert not words.may_match("Shell; ashes; HERO; motherboard; Sherlock")
    assert words.may_match("Shell; SHE’ll; ashes") and words.may_match("the women's team")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["Ms", "MS", "ms.", "Mrs.", "MRS", "Mr", "Dr", "dr.", "Prof.", "Sir", "miss", "Madam",
                                 "x", "@", ".", "/", "'", "’", "-", " ", "\n", "_", "é", "2", "Programs", "Misses"]),
                max_size=12))
def test_titles_by_string_search_are_the_title_anchors_matches(pieces):
    """MentionForms._titles gives the title anchor regex's matches (leftmost, longest title first, whole words)."""
    from fairprobe.twins.text.names import _forms_of
    from fairprobe.twins.text.spans import lowered

    text, forms = "".join(pieces), _forms_of("Emily", "Walsh", "")
    assert forms._titles(text, lowered(text)) == {m.start(): m.end() for m in forms.title_anchor.finditer(text)}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PHRASES + ["Shell", "ashes", "hero", "mothers", "Man", "x", "'s", "’", "-", ".", "\n",
                                           "ı", "\u212a", "İ", "ſ", "é", "•", "_", "2019", "(", ")", "@", "/"]),
                max_size=10),
       st.lists(st.sampled_from(["upper", "lower", "title", "same"]), min_size=10, max_size=10),
       st.lists(st.sampled_from([" ", "", "\t", "-", "’", "'", "é", "_", "."]), min_size=10, max_size=10))
def test_prefiltered_matches_are_the_whole_scans_matches(words, cases, gaps):
    """Prefilter.finditer, which tries its pattern only where a phrase's first word stands whole, gives the matches
    of the pattern's scan of the whole text."""
    text = "".join(gap + (getattr(w, case)() if case != "same" else w) for w, case, gap in zip(words, cases, gaps))
    for pattern, prefilter in _prefiltered():
        expected = [(m.span(), m.groupdict()) for m in pattern.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in prefilter.finditer(pattern, text)] == expected, (text, pattern.pattern[:80])


def test_prefiltered_matches_on_a_resume():
    """The same on a resume's lines, where most words' letters stand inside other words ("Ms" in "systems")."""
    from fairprobe.twins.text.signals import FEMALE, MALE, residual_index, words_pattern, words_prefilter

    text = ("Ms. Priya Kaur\nMS Office, MS-Excel; systems, programs; She led the women's team at Spelman College.\n"
            "He'll chair the Men's forum; his/her; HER Majesty; Society of Women Engineers; man-hours; mothers\n"
            "NSBE, nsbe, ANSBE, SHPE-member, CSSA/AAUW\n")
    index = residual_index()
    for pattern, prefilter in [(words_pattern(t), words_prefilter(t)) for t in (FEMALE, MALE)] + [
            (p, index.words) for p in (index.upper, index.other) if p is not None]:
        found = [m.span() for m in prefilter.finditer(pattern, text)]
        assert found and found == [m.span() for m in pattern.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["Greg", "GREG", "greg", "Gregory", "xgreg", "greg2", "2greg", "_greg", "greg_", "é",
                                 "ı", "İ", "\u212a", " ", ".", "-", "’", "\n", "progress", "Ann", "planning", "ANN"]),
                max_size=10),
       st.sampled_from(["Greg", "Ann", "Kim", "José"]))
def test_a_fresh_name_clashes_where_the_regex_finds_it(pieces, name):
    """generator._names_a_word (string search) answers as the pattern it replaces."""
    from fairprobe.twins.text.generator import _names_a_word
    from fairprobe.twins.text.spans import lowered

    text = "".join(pieces)
    expected = re.search(rf"(?<![^\W\d_]){re.escape(name)}(?![^\W\d_])", text, re.IGNORECASE) is not None
    assert _names_a_word(text, lowered(text), name) == expected, (text, name)



LINK_PIECES = ["e", "w", "ew", "em", "ily", "da", "zhang", "\u212a", "ı", "ſ", "K", ".", "-", "_", "/", "@", "3f2a",
               "1", "é", "indeed.com/r/", "?isid="]


@st.composite
def person_and_link(draw):
    """A person and a link of their names' pieces (any case, cut anywhere) among other letters and separators."""
    first, last, _ = draw(st.sampled_from(PEOPLE + [("Ijas", "Nizamuddin", ""), ("Kaya", "Kim", ""),
                                                    ("Örjan", "Lind", ""), ("Em", "Wu", "")]))
    own = [first, last, first.lower(), last.upper(), first[:1], last[:1], first[:-1], last[1:]]
    pieces = draw(st.lists(st.sampled_from(own * 4 + [".", "-", "_"] * 4 + LINK_PIECES), max_size=10))
    return first, last, "".join(pieces)


@settings(max_examples=3000, deadline=None)
@given(person_and_link())
def test_link_spellings_in_any_case_are_the_regexes_matches(case):
    """link_spelled tries at each run of letters only the spellings that start with that whole run: links in any
    case, with the Kelvin sign (lower case "k"), "ı" and "ſ" (other letters under re.IGNORECASE), names that start
    with a letter outside ASCII."""
    first, last, value = case
    spellings, _ = _link_forms(first, last)
    assert link_spelled(value, spellings) == links_by_regex(value, first, last), value


GENERIC_PIECES = ["he", "He", "HE", "she", "SHE", "ſhe", "him", "hım", "his", "Hers", "her", "or", "OR", "Or", "/", "(s)",
                  "(S)", "(ſ)", "s/", "S/", " ", "  ", "\n", "\t", "x", "the", "shore", "(", ")", "é", "İ", "K", "_", "1"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(GENERIC_PIECES), max_size=14))
def test_generic_pronoun_scan_with_its_look_ahead_is_the_plain_patterns(pieces):
    """The rewrite's scan for "he or she", "his/her", "(s)he", "s/he" starts with a look-ahead for the first letters
    a match can have (any case, "ſ" too): the same matches as the pattern without it."""
    from fairprobe.twins.text.rewrite import _GENERIC, GENERIC_BODY

    text = "".join(pieces)
    plain = re.compile(GENERIC_BODY, re.IGNORECASE)
    assert [m.span() for m in _GENERIC.finditer(text)] == [m.span() for m in plain.finditer(text)], text


def forms_as_written(first, last):
    """names._forms as it was: every template filled, filtered, sorted by the key."""
    f, l = first.lower(), re.sub(r"[^a-z-]", "", last.lower())
    out = []
    for sep in ("", ".", "_", "-"):
        out += [(f"{{f}}{sep}{{l}}", f"{f}{sep}{l}"), (f"{{l}}{sep}{{f}}", f"{l}{sep}{f}"),
                (f"{{fi}}{sep}{{l}}", f"{f[:1]}{sep}{l}"), (f"{{f}}{sep}{{li}}", f"{f}{sep}{l[:1]}")]
    out += [("{f}", f), ("{l}", l)]
    return sorted({(t, w) for t, w in out if len(w.strip("._-")) >= 3 and w.strip("._-") == w},
                  key=lambda tw: (-len(tw[1]), "i}" in tw[0], tw[0]))


NAME_LETTERS = st.text(alphabet="abzAEMILY-'._ İıſΣσςßǅKé", max_size=8)


@settings(max_examples=3000, deadline=None)
@given(NAME_LETTERS, NAME_LETTERS, st.lists(NAME_LETTERS, max_size=5))
def test_link_forms_and_their_lower_case_check_are_the_written_out_ones(first, last, words):
    """_forms (templates filled from a table, keys sorted with the pairs appended) is the written-out version, and
    _lower_already (one call on the spellings joined) is every spelling's own check: names and words with
    letters whose lower case is longer ("İ"), read in context ("Σ"), or matched beyond it ("ı", "ſ", "K")."""
    from fairprobe.twins.text.names import _forms
    from fairprobe.twins.text.spans import _lower_already, lower_as_re

    assert _forms(Person(first, last, "", "")) == forms_as_written(first, last)
    for spellings in (tuple(w for _, w in forms_as_written(first, last)), tuple(words)):
        assert _lower_already.__wrapped__(spellings) == all(lower_as_re(w) == w for w in spellings), spellings
