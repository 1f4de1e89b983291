"""Checking a text twin, whoever wrote it: every qualification kept, only protected signals changed."""

from __future__ import annotations

import difflib
import enum
import re
from functools import cache
from collections import Counter
from dataclasses import dataclass

from fairprobe.twins.text.names import name_mentions
from fairprobe.twins.text.signals import (
    FEMALE, MALE, NUMBER, PRONOUNS, TOKEN, Person, about_subject, age_cues, pairs, residual_index, title_words,
    words_pattern)


class Reason(str, enum.Enum):
    """Why a twin was rejected; the value is the short label counted in the evidence."""

    AGE = "age cues not restated"
    NUMBERS = "numbers differ"
    TERMS = "capitalised terms differ"
    OLD_NAME = "old name still present"
    NEW_NAME = "new name missing"
    PRONOUNS = "pronouns of the old sex remain"
    OLD_SEX_WORDS = "words of the old sex about the subject remain"
    LENGTH = "length changed"
    EDITS = "edits beyond protected signals"
    RESIDUAL = "residual signal"
    NO_NAME = "no name found"
    HELD_CHANGED = "held column changed"
    HELD_DIFFERS = "held fact stated differently"
    HELD_MISSING = "held fact missing"


@dataclass(frozen=True)
class Rejection:
    """One reason a twin is not faithful: a typed :class:`Reason` and the details.

    Examples
    --------
    >>> r = Rejection(Reason.NUMBERS, "removed 5, added 6")
    >>> r.reason.value, str(r)
    ('numbers differ', 'numbers differ: removed 5, added 6')
    """

    reason: Reason
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}" if self.detail else self.reason.value

    def __contains__(self, text: str) -> bool:
        return text in str(self)

    def startswith(self, prefix: str) -> bool:
        return str(self).startswith(prefix)


def _mask_cues(text: str, cues: list[tuple[int, int, str, int]]) -> str:
    for start, stop, _, _ in reversed(cues):
        text = text[:start] + "AGE" + text[stop:]
    return text


def _mask_names(text: str, person: Person, mentions: list | None = None) -> str:
    for m in reversed(name_mentions(text, person) if mentions is None else mentions):
        text = text[:m.start] + ("NAMEMAIL" if m.kind in ("email", "url", "handle") else "NAME") + text[m.end:]
    return text


_SIGNAL_WORDS: frozenset[str] | None = None


def _signal_words() -> frozenset[str]:
    global _SIGNAL_WORDS
    if _SIGNAL_WORDS is None:
        words = {w.lower() for p in pairs() for pair in (p.female, p.male) for w in pair.split()}
        _SIGNAL_WORDS = frozenset(words | PRONOUNS[FEMALE] | PRONOUNS[MALE] | {"a", "an", "name", "namemail", "'s",
                                                                                "s", "'", "’"})
    return _SIGNAL_WORDS


@cache
def _allowed_words() -> frozenset[str]:
    return _signal_words() | {t.lower() for t in title_words()}


def old_sex_words(text: str, old_sex: str) -> list[str]:
    """Lexicon words of ``old_sex`` still about the subject in ``text`` (by the rewriter's own context rules)."""
    if old_sex not in (FEMALE, MALE):
        return []
    target = MALE if old_sex == FEMALE else FEMALE
    protected = [(a, b) for a, b, _ in residual_index().find(text)]
    out = []
    from fairprobe.twins.text.signals import swaps

    table = swaps(target)
    for match in words_pattern(target).finditer(text):
        start, end = match.span("w")
        lower = " ".join(match.group("w").lower().split())
        if lower in PRONOUNS[old_sex] or any(a <= start < b for a, b in protected):
            continue
        entry = table.get(lower)
        if entry is None:
            continue
        _, scope = entry
        pos = match.group("pos")
        if scope == "always" or (scope == "possessive" and pos) or (
                scope == "subject" and not pos and about_subject(text, start, end)):
            out.append(match.group("w"))
    return out


def validate(original: str, twin: str, old: Person, new: Person, *, length_ratio: tuple[float, float] = (0.9, 1.1)
             ) -> list[Rejection]:
    """Why ``twin`` is not a faithful twin of ``original`` (an empty list when it is).

    Checks: the multiset of numbers (outside restated age cues) and of capitalised terms (employers,
    schools, degrees, skills) once names are masked; no form of the old name left (any case, a
    nickname, an email address or URL), the new one present; pronouns and lexicon words about the
    subject of the target sex; length within ``length_ratio``; and a word-level diff holding only
    protected-signal edits.

    Examples
    --------
    >>> old, new = Person("Emily", "Walsh", "female", "white"), Person("Greg", "Baker", "male", "white")
    >>> [str(r) for r in validate("Emily Walsh has 5 years at Acme.", "Greg Baker has 6 years at Acme.", old, new)]
    ['numbers differ: removed 5, added 6', "edits beyond protected signals: replace '5' -> '6'"]
    >>> sorted(r.reason.value for r in validate("EMILY WALSH leads. She codes.", "EMILY WALSH leads. He codes.", old, new))
    ['capitalised terms differ', 'edits beyond protected signals', 'length changed', 'new name missing', 'old name still present']
    """
    reasons: list[Rejection] = []
    if old.age is not None and new.age is not None and old.age != new.age:
        old_cues, new_cues = age_cues(original), age_cues(twin)
        want = [(kind, value - (new.age - old.age) if kind == "born" else new.age) for _, _, kind, value in old_cues]
        got = [(kind, value) for _, _, kind, value in new_cues]
        if got != want:
            reasons.append(Rejection(Reason.AGE, f"expected {want}, found {got}"))
        original, twin = _mask_cues(original, old_cues), _mask_cues(twin, new_cues)
    renamed = (old.first, old.last) != (new.first, new.last)
    old_mentions = name_mentions(original, old)
    new_mentions = name_mentions(twin, new if renamed else old)
    masked_original = _mask_names(original, old, old_mentions)
    masked_twin = _mask_names(twin, new, new_mentions)
    before, after = Counter(NUMBER.findall(masked_original)), Counter(NUMBER.findall(masked_twin))
    if before != after:
        removed, added = before - after, after - before
        reasons.append(Rejection(Reason.NUMBERS, ", ".join(part for part in (
            f"removed {' '.join(removed.elements())}" if removed else "",
            f"added {' '.join(added.elements())}" if added else "") if part)))
    old_tokens, new_tokens = TOKEN.findall(masked_original), TOKEN.findall(masked_twin)
    titles, allowed = title_words(), _allowed_words()
    old_lower, new_lower = [t.lower() for t in old_tokens], [t.lower() for t in new_tokens]
    # Per token: is it a protected signal (a name placeholder, pronoun, lexicon word or title, possessive or not)?
    old_signal = [_bare(t) in allowed for t in old_lower]
    new_signal = [_bare(t) in allowed for t in new_lower]

    def terms(tokens: list[str], signal: list[bool]) -> Counter:
        return Counter(t for t, sig in zip(tokens, signal) if t[:1].isupper() and not sig and t not in titles
                       and not NUMBER.fullmatch(t))

    old_terms, new_terms = terms(old_tokens, old_signal), terms(new_tokens, new_signal)
    if old_terms != new_terms:
        lost, gained = old_terms - new_terms, new_terms - old_terms
        reasons.append(Rejection(Reason.TERMS, ", ".join(filter(None, [
            f"lost {', '.join(lost)}" if lost else "", f"gained {', '.join(gained)}" if gained else ""]))))
    if renamed:
        left = _old_name_left(masked_original, twin, old, new)
        if left:
            reasons.append(Rejection(Reason.OLD_NAME, ", ".join(left)))
        if old_mentions and not new_mentions:
            reasons.append(Rejection(Reason.NEW_NAME, repr(new.first)))
    if new.sex != old.sex and new.sex in (FEMALE, MALE) and old.sex in (FEMALE, MALE):
        wrong = sorted({t.lower() for t in TOKEN.findall(twin)} & PRONOUNS[old.sex] - PRONOUNS[new.sex])
        if wrong:
            reasons.append(Rejection(Reason.PRONOUNS, ", ".join(wrong)))
        words = old_sex_words(twin, old.sex)
        if words:
            reasons.append(Rejection(Reason.OLD_SEX_WORDS, ", ".join(words)))
    # Lengths without names and signal words: "sorority" for "fraternity" is no edit, a dropped sentence is.
    kept = lambda tokens, signal: sum(len(t) + 1 for t, sig in zip(tokens, signal) if not sig)  # noqa: E731
    ratio = kept(new_tokens, new_signal) / max(kept(old_tokens, old_signal), 1)
    if not length_ratio[0] <= ratio <= length_ratio[1]:
        reasons.append(Rejection(Reason.LENGTH, f"by a factor {ratio:.2f} (allowed {length_ratio[0]}-{length_ratio[1]})"))
    matcher = difflib.SequenceMatcher(a=old_lower, b=new_lower, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op != "equal" and not (all(old_signal[a0:a1]) and all(new_signal[b0:b1])):
            reasons.append(Rejection(Reason.EDITS, f"{op} {' '.join(old_lower[a0:a1])!r} -> "
                                                   f"{' '.join(new_lower[b0:b1])!r}"))
            break
    return reasons


def _bare(token: str) -> str:
    """A token without its possessive ending or final stop: "women's" -> "women", "girls'." -> "girls"."""
    bare = token.rstrip(".")
    if bare.endswith(("'s", "’s")):
        bare = bare[:-2]
    elif bare.endswith(("'", "’")):
        bare = bare[:-1]
    return bare or token


_STOP = frozenset({"an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my", "no", "of",
                   "on", "or", "so", "to", "up", "us", "we", "am", "al", "ad", "and", "the", "are", "can", "our"})


_LINK = re.compile(r"[\w.+-]*@[\w.-]+|[\w.-]+/[\w./-]+|(?<![\w.])@[\w.-]+")
_LETTERS = re.compile(r"[^\W\d_]+")


def _old_name_left(masked_original: str, twin: str, old: Person, new: Person) -> list[str]:
    """Forms of the old name in ``twin`` beyond those the original has outside its mentions ("Baker Hughes"):
    the name in any case, inside an email address or URL, or a nickname prefix ("Em Walsh")."""
    left: list[str] = []
    new_parts = {p.lower() for p in (new.first, new.last) if p}
    words_o, words_t = _LETTERS.findall(masked_original), _LETTERS.findall(twin)
    lower_o, lower_t = Counter(w.lower() for w in words_o), Counter(w.lower() for w in words_t)
    for part in (old.first, old.last):
        low = part.lower()
        if not part or low in new_parts:
            continue
        pieces = _LETTERS.findall(low)  # "Smith-Larson" is two words in running text
        if pieces and min(lower_t[p] - lower_o[p] for p in pieces) > 0:
            left.append(part)
        elif len(part) > 2 and not any(low in p for p in new_parts) and ("@" in twin or "/" in twin):
            count = lambda text, low=low: sum(low in t.lower() for t in _LINK.findall(text))  # noqa: E731
            if count(twin) > count(masked_original):
                left.append(f"{part} (email or URL)")
    if old.first and len(old.first) > 3 and old.first.lower() not in new_parts:
        surnames = {p.lower() for p in (old.last, new.last) if p}
        pairs_o = Counter(zip((w.lower() for w in words_o), (w.lower() for w in words_o[1:])))
        pairs_t = Counter(zip((w.lower() for w in words_t), (w.lower() for w in words_t[1:])))
        exact_o, exact_t = Counter(words_o), Counter(words_t)
        names = {p.lower() for p in (old.last, new.first, new.last, old.middle, new.middle) if p}
        for k in range(len(old.first) - 1, 1, -1):
            nick = old.first[:k]
            if nick.lower() in _STOP or new.first.lower().startswith(nick.lower()) or nick.lower() in names:
                continue  # "Chen" is a prefix of Cheng Chen's first name and also his surname
            after_name = any(pairs_t[(nick.lower(), s)] > pairs_o[(nick.lower(), s)] for s in surnames)
            if after_name or (k > 2 and exact_t[nick] > exact_o[nick]):
                left.append(f"{nick} (nickname)")
                break
    return left


__all__ = ["Reason", "Rejection", "old_sex_words", "validate"]
