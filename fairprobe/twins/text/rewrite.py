"""The deterministic rewriter: names, pronouns, the swap lexicon (with its context rules), titles, age cues."""

from __future__ import annotations

import re
import zlib
from functools import cache

from fairprobe.twins import lexicons
from fairprobe.twins.text.names import find_person, name_mentions, replace_names
from fairprobe.twins.text.signals import (
    FEMALE, MALE, OTHER_SEX, TO_FEMALE, TO_MALE, Person, about_subject, age_cues, case_like, object_position,
    residual_index, swaps, words_pattern)


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
    return [(a, b) for a, b, _ in residual_index().find(text)]


def swap_words(text: str, target: str, subject: Person | None = None, *, lexicon: bool = True) -> str:
    """Pronouns and lexicon words of the other sex turned to ``target``'s where the context says they are the
    subject's ("her" reads the next words to become "him" or "his"); residual-signal phrases are left alone.

    Examples
    --------
    >>> swap_words("Her manager calls her dependable. She captained the women's team.", MALE)
    "His manager calls him dependable. He captained the men's team."
    """
    pattern, table = words_pattern(target), swaps(target)
    protected = _protected_spans(text) if any(c.isupper() for c in text[1:]) else []
    titled = {p for p in (subject.first, subject.last) if p} if subject else set()

    def swap(match: re.Match) -> str:
        start, end = match.span("w")
        if protected and any(a <= start < b for a, b in protected):
            return match.group()
        word, pos = match.group("w"), match.group("pos") or ""
        lower = word.lower()
        if lower in ("her", "his") and lower != ("his" if target == MALE else "her"):
            new = ("him" if object_position(text, end) else "his") if target == MALE else \
                ("hers" if object_position(text, end) else "her")
            return case_like(new, word) + pos
        new_pronoun = (TO_MALE if target == MALE else TO_FEMALE).get(lower)
        if new_pronoun:
            return case_like(new_pronoun, word) + pos
        entry = table.get(" ".join(lower.split()))
        if entry is None or (not lexicon and entry[1] != "title"):
            return match.group()
        new, scope = entry
        if scope == "possessive" and not pos:
            return match.group()
        if scope == "subject" and (pos or not about_subject(text, start, end)):
            return match.group()
        if scope == "title":
            following = re.match(r"\s+([\w'’-]+)", text[end:end + 40])
            if not following or following.group(1).rstrip("'’s") not in titled:
                return match.group()
        if pos:
            pos = ("'" if new.endswith("s") else pos) if pos[-1] in "sS" else (pos if new.endswith("s") else pos + "s")
        return case_like(new, word) + pos

    return pattern.sub(swap, text)


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
    'JERMAINE WASHINGTON. A proud father of two; member of the Kappa Delta fraternity.'
    """

    name = "rewrite"

    def __init__(self, *, lexicon: bool = True) -> None:
        # lexicon=False swaps names, pronouns and titles only: the rewriter before the swap lexicon, kept to
        # measure what the lexicon adds (benchmarks/bench_text.py).
        self.lexicon = lexicon

    def rewrite(self, text: str, old: Person, new: Person) -> str:
        text = replace_names(text, old, new)
        if new.sex != old.sex and new.sex in (FEMALE, MALE):
            text = swap_words(text, new.sex, new, lexicon=self.lexicon)
        if old.age is not None and new.age is not None and old.age != new.age:
            text = swap_age(text, old, new)
        return text


__all__ = ["FEMALE", "MALE", "OTHER_SEX", "Person", "Rewriter", "find_person", "name_mentions", "pick_name",
           "replace_names", "swap_age", "swap_words"]
