"""The deterministic rewriter: names, pronouns, the swap lexicon (with its context rules), titles, age cues."""

from __future__ import annotations

import re
import zlib
from functools import cache, lru_cache

from fairprobe.twins import lexicons
from fairprobe.twins.text.names import find_person, name_edits, name_mentions, replace_names, splice
from fairprobe.twins.text.spans import rx
from fairprobe.twins.text.signals import (
    FEMALE, MALE, OTHER_SEX, PRONOUNS, TO_FEMALE, TO_MALE, Person, about_subject, age_cues, case_like,
    coordinated, in_idiom, in_proper_name, object_position, protected_phrases, with_counterpart, swaps,
    words_pattern, words_prefilter)


@cache
def _census_by_sex(sex: str) -> tuple[str, ...]:
    """Census first names that signal ``sex`` strongly (P >= 0.98), most common first (file order is alphabetical)."""
    names = lexicons.census_first_names()
    return tuple(sorted(n for n, p in names.items() if p is not None and (p >= 0.98 if sex == FEMALE else p <= 0.02)))


def pick_name(person: Person, sex: str, race: str | None, *, seed: int = 0, shift: int = 0) -> Person:
    """A name signalling (sex, race), at the same rank in its list as the person's own name where possible.

    Names come from :mod:`fairprobe.twins.lexicons` (each one's signal checked against census data).
    With ``race`` None (an audit of sex alone, the person's race unknown), the surname stays and the
    first name is a census first name of ``sex``, chosen by a stable hash of the old name. ``shift`` moves
    to the next names in the lists (for a choice that clashes with another name in the text).

    Examples
    --------
    >>> pick_name(Person("Emily", "Walsh", "female", "white"), "male", "white")
    Person(first='Greg', last='Walsh', sex='male', race='white', age=None, middle='')
    """
    fallback = zlib.crc32(f"{person.first} {person.last}".encode()) + seed  # stable across runs
    if race is None:
        if sex == person.sex:
            return Person(person.first, person.last, sex, person.race)
        own = lexicons.signal(person.first)
        if own is not None and own["part"] == "first" and own["race"] in lexicons.races():
            firsts: tuple[str, ...] = lexicons.first_names(sex, own["race"])
            i = lexicons.first_names(own["sex"], own["race"]).index(person.first) if own["sex"] else fallback
        else:
            firsts, i = _census_by_sex(sex), fallback
        return Person(firsts[(i + shift) % len(firsts)], person.last, sex, person.race)
    firsts, lasts = lexicons.first_names(sex, race), lexicons.surnames(race)
    own_firsts = lexicons.first_names(person.sex, person.race) if (person.sex in lexicons.sexes()
                                                                   and person.race in lexicons.races()) else ()
    own_lasts = lexicons.surnames(person.race) if person.race in lexicons.races() else ()
    i = own_firsts.index(person.first) if person.first in own_firsts else fallback % len(firsts)
    j = own_lasts.index(person.last) if person.last in own_lasts else fallback % len(lasts)
    last = person.last if race == person.race else lasts[(j + shift) % len(lasts)]
    first = person.first if (sex, race) == (person.sex, person.race) else firsts[(i + shift) % len(firsts)]
    return Person(first, last, sex, race)


def _protected_spans(text: str) -> list[tuple[int, int]]:
    listed, named = protected_phrases(text)
    return [(a, b) for a, b, _ in listed] + [(a, b) for a, b, _ in named]


# "he or she", "his/her", "(s)he", "s/he": a pronoun of anyone, not the candidate's.
GENERIC_BODY = (r"\b(?:he|him|his|she|her|hers)\s*(?:/|\bor\b)\s*(?:he|him|his|she|her|hers)\b|"
                r"\(s\)he|\bs/he\b|\bhe/she\b")
# The look-ahead only states what every match starts with, "h", "s" or "(" in any case ("ſ" too, as "s" matches it
# under re.IGNORECASE; no other letter matches "h"): the same matches, and each other position is passed over at
# once instead of trying every branch there (227 -> 61 us a DataTurks resume). tests/test_text_lexicon.py compares.
_GENERIC = re.compile(rf"(?=[hs(])(?:{GENERIC_BODY})", re.IGNORECASE)


def _surname_pronoun(text: str, start: int, end: int) -> bool:
    """A capitalised "He", "Her" used as a surname: "J. He", "Kaiming He", "He, K." in an author list."""
    word = text[start:end]
    if not word[:1].isupper():
        return False
    before = text[max(0, start - 30):start]
    if rx(r"(?:^|[\s(,;])(?:[A-Z]\.){1,3}(?:-[A-Z]\.)?\s*$").search(before):
        return True
    previous = rx(r"([A-Z][a-z]+)[ \t]+$").search(before)
    if previous and not rx(r"(?:^|[.!?:;•|*#>\n(\[]|\s[-–—])\s*[A-Z][a-z]+[ \t]+$").search(before):
        return True  # "Kaiming He" mid-sentence
    return bool(rx(r",\s*(?:[A-Z]\.){1,3}(?:[,;\s]|$)").match(text[end:end + 12]))


def word_edits(text: str, target: str, subject: Person | None = None, *, lexicon: bool = True,
               runs: frozenset[bytes] | None = None) -> list[tuple[int, int, str]]:
    """(start, end, replacement) for each pronoun and lexicon word of the other sex that is the subject's.

    Pronouns change with their contraction ("she'll" -> "he'll") and the case the context needs ("her"
    -> "him" or "his"), except a surname ("J. He"), a pronoun of anyone ("he or she", "his/her") and an
    honorific ("Her Majesty's"); lexicon words change only where the lexicon's context rules say they
    describe the subject, with coordinated role nouns alike ("father of 3 and husband of 1"), and never
    inside a proper name ("Women's Leadership Forum") or a residual signal. ``runs``: a set that holds the
    text's :func:`~fairprobe.twins.text.spans.word_runs`, when the caller has one (it spares reading them).
    """
    words = words_prefilter(target)
    if not words.may_match(text, runs):
        return []  # none of the words' first words in the text: no match (most texts)
    table = swaps(target)
    matches = words.finditer(words_pattern(target), text, runs)
    if not matches:
        return []
    has_caps = any(c.isupper() for c in text[1:])
    protected: list[tuple[int, int]] | None = None if has_caps else []  # found when a word first needs them
    generic: list[tuple[int, int]] | None = None  # found when a pronoun first needs them
    titled = {p for p in (subject.first, subject.last) if p} if subject else set()
    pronouns = TO_MALE if target == MALE else TO_FEMALE
    edits: list[tuple[int, int, str]] = []
    for match in matches:
        start, end = match.span("w")
        word, pos, contr = match.group("w"), match.group("pos") or "", match.group("contr") or ""
        lower = word.lower()
        if lower in PRONOUNS[OTHER_SEX[target]]:
            if generic is None:
                generic = [(m.start(), m.end()) for m in _GENERIC.finditer(text)]
            if any(a <= start < b for a, b in generic) or _surname_pronoun(text, start, end) or \
                    rx(r"\s+(?:Majesty|Excellency|Highness|Holiness|Royal|Grace|Honou?r)\b", re.IGNORECASE).match(
                        text[end:end + 14]) or in_idiom(text, start, end):
                continue
            if lower in ("her", "his"):
                new = ("him" if object_position(text, end) else "his") if target == MALE else \
                    ("hers" if object_position(text, end) else "her")
            else:
                new = pronouns[lower]
            edits.append((start, end, case_like(new, word)))
            continue
        pos = pos or contr
        entry = table.get(" ".join(lower.split()))
        if entry is None or (not lexicon and entry[1] != "title"):
            continue
        new, scope = entry
        if scope != "title" and has_caps and in_proper_name(text, start, end):
            continue  # "Women's Leadership Forum", "Alpha Kappa Alpha Sorority": a residual signal, never swapped
        if scope != "title" and with_counterpart(text, start, end, new):
            continue  # "men's and women's watches": both sexes, not the subject's
        if in_idiom(text, start, end):
            continue  # "Mother tongue: Telugu", "Father's name: Ramesh", "no man's land"
        if scope == "possessive" and not pos:
            continue
        if scope == "subject":
            if pos or not (about_subject(text, start, end) or coordinated(text, start)):
                continue
        if scope == "title":
            following = rx(r"\s+([\w'’-]+)").match(text[end:end + 40])
            if not following or rx(r"['’]s?$").sub("", following.group(1)) not in titled:
                continue
        if protected is None:
            protected = _protected_spans(text)
        if any(a <= start < b for a, b in protected):
            continue  # a residual signal ("Society of Women Engineers") or a proper name: left as it is
        if pos:
            pos = ("'" if new.endswith("s") else pos) if pos[-1] in "sS" else (pos if new.endswith("s") else pos + "s")
        edits.append((start, match.end(), case_like(new, word) + pos))
    return edits


@lru_cache(maxsize=2048)
def _cached_word_edits(text: str, target: str, first: str, last: str, lexicon: bool) -> tuple:
    return tuple(word_edits(text, target, Person(first, last, "", ""), lexicon=lexicon))


def swap_words(text: str, target: str, subject: Person | None = None, *, lexicon: bool = True) -> str:
    """Pronouns and lexicon words of the other sex turned to ``target``'s where the context says they are the
    subject's ("her" reads the next words to become "him" or "his"); residual-signal phrases and proper
    names are left alone.

    Examples
    --------
    >>> swap_words("Her manager calls her dependable. She captained the women's chess team.", MALE)
    "His manager calls him dependable. He captained the men's chess team."
    >>> swap_words("She'll lead; co-authored with J. He. Father of 3 and husband of 1.", FEMALE)
    "She'll lead; co-authored with J. He. Mother of 3 and wife of 1."
    >>> swap_words("He'd chair the Men's Leadership Forum. He hosts; he or she may apply.", FEMALE)
    "She'd chair the Men's Leadership Forum. She hosts; he or she may apply."
    """
    return splice(text, word_edits(text, target, subject, lexicon=lexicon))


def swap_age(text: str, old: Person, new: Person) -> str:
    """Restate explicit ages as ``new.age`` and shift birth years by the same amount."""
    assert old.age is not None and new.age is not None
    shift = new.age - old.age
    parts, end = [], 0
    for start, stop, kind, value in age_cues(text):
        parts.append(text[end:start])
        parts.append(str(value - shift) if kind == "born" else str(new.age))
        end = stop
    return "".join(parts) + text[end:]


class Rewriter:
    """The deterministic rewriter: names in every form, pronouns, the swap lexicon, titles, explicit age cues.

    Names are replaced wherever they occur (full, first alone, "Ms. Baker", possessives, all capitals,
    nicknames, "Baker, Emily", email addresses, profile URLs and handles, rebuilt from the new name).
    Gendered words are swapped where the lexicon's context rules say they are the subject's ("captained
    the women's chess team", "is a proud mother of two", "Worked as a hostess"), not where they are
    someone else's ("her daughter's school"). Residual signals (women's colleges, HBCUs, identity-based
    associations) are left as they are and reported by the generator.

    Examples
    --------
    >>> old = Person("Emily", "Walsh", "female", "white")
    >>> new = Person("Jermaine", "Washington", "male", "black")
    >>> Rewriter().rewrite("Emily Walsh is a chairwoman. Her team trusts her. Ms. Walsh leads.", old, new)
    'Jermaine Washington is a chairman. His team trusts him. Mr. Washington leads.'
    >>> Rewriter().rewrite("EMILY WALSH. A proud mother of two; member of the Kappa Delta sorority.", old, new)
    'JERMAINE WASHINGTON. A proud father of two; member of the Kappa Delta sorority.'
    """

    name = "rewrite"

    def __init__(self, *, lexicon: bool = True) -> None:
        # lexicon=False swaps names, pronouns and titles only: the rewriter before the swap lexicon, kept to
        # measure what the lexicon adds (benchmarks/bench_text.py).
        self.lexicon = lexicon

    def rewrite(self, text: str, old: Person, new: Person) -> str:
        edits = name_edits(text, old, new)
        if new.sex != old.sex and new.sex in (FEMALE, MALE):
            # titles follow the subject's names as they stand in the original ("Ms. Walsh" -> "Mr. Walsh")
            edits += _cached_word_edits(text, new.sex, old.first, old.last, self.lexicon)
        if old.age is not None and new.age is not None and old.age != new.age:
            shift = new.age - old.age
            edits += [(a, b, str(value - shift) if kind == "born" else str(new.age))
                      for a, b, kind, value in age_cues(text)]
        return splice(text, edits) if edits else text


__all__ = ["FEMALE", "MALE", "OTHER_SEX", "Person", "Rewriter", "find_person", "name_mentions", "pick_name",
           "replace_names", "swap_age", "swap_words"]
