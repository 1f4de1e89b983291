"""Checking a text twin, whoever wrote it: the original and the twin compared token by token, and every
changed span must be a change the twin was allowed to make.

Allowed: the candidate's name where it names the candidate (full, first or last name alone, "Ms.
Baker", "Baker, Emily", an initial, a nickname, in any case, and spelled inside an email address,
URL or handle), pronouns that are the candidate's (with their contraction: "she'll" -> "he'll"), the
swap lexicon's words where its context rules allow them (never inside a proper name), titles before
the candidate's name, and restated age cues. Anything else rejects the twin with a typed
:class:`Reason`: a number, a month, a place, another person's or an organisation's name, a pronoun
that is not the candidate's, a link rebuilt inconsistently, a word added or dropped.

The validator does not use the rewriter's name finder: it judges every change from the original's
text and the two names alone, and checks on its own that the renamed person is the profile's
candidate (named in the header, a "Name:" label, an introduction, a signature or a bio's opening),
so a finder that took an employer or a co-author for the candidate is caught.
"""

from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from operator import ne

from fairprobe.twins.text.align import aligned, twin_lowered, twin_runs
from fairprobe.twins.text.context import candidate_position, candidate_word, header_names_other, link_canon
from fairprobe.twins.text.spans import iter_part_spans, lowered, remember_lowered, rx
from fairprobe.twins.text.signals import (
    FEMALE, MALE, MONTHS, PLACES, PRONOUNS, Person, about_subject, age_cues, case_like, coordinated,
    has_words, in_idiom, in_proper_name, pairs, swaps, with_counterpart)


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
    MONTH = "a month or date changed"
    PLACE = "a place changed"
    OTHER_NAME = "another person's or an organisation's name changed"
    NOT_CANDIDATE = "the renamed person is not the profile's candidate"
    PRONOUN_NOT_CANDIDATE = "a pronoun that is not the candidate's changed"
    PROPER_NAME = "a gendered word inside a proper name changed"
    LINK = "an email address or URL changed inconsistently"
    UNCHANGED = "twin identical to its original"
    SEX_UNKNOWN = "the profile's sex is unknown"


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


_LINKISH = re.compile(r"[@/]|\.(?:com|org|net|io|dev|me|in|co|edu|info|ai|app)\b")
_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=1024)
def _titles() -> dict[str, frozenset[str]]:
    by_sex: dict[str, set[str]] = {FEMALE: set(), MALE: set()}
    for p in pairs():
        if p.kind == "title":
            by_sex[FEMALE].add(p.female.rstrip(".").lower())
            by_sex[MALE].add(p.male.rstrip(".").lower())
    return {k: frozenset(v) for k, v in by_sex.items()}


@lru_cache(maxsize=4096)
def _name_words(first: str, last: str, middle: str) -> frozenset[str]:
    words = rx(r"\w+(?:['’]\w+)*").findall(f"{first} {middle} {last}")
    return frozenset(w.lower() for w in words)


def _style(token: str) -> str:
    return "upper" if token.isupper() and len(token) > 1 else "title" if token[:1].isupper() else "lower"


def _split_possessive(token: str) -> tuple[str, str]:
    for suffix in ("'s", "’s", "'", "’"):
        if token.endswith(suffix) and len(token) > len(suffix):
            return token[:-len(suffix)], suffix
    return token, ""


class _Pair:
    """The original and the twin with the two people: everything a change is judged by."""

    def __init__(self, original: str, twin: str, old: Person, new: Person) -> None:
        self.original, self.twin, self.old, self.new = original, twin, old, new
        self.sex_changed = new.sex != old.sex and new.sex in (FEMALE, MALE) and old.sex in (FEMALE, MALE)
        self.old_words = _name_words(old.first, old.last, old.middle)
        self.new_words = _name_words(new.first, new.last, new.middle)
        self.target_words = swaps(new.sex) if self.sex_changed else {}

    def explain(self, a: list[tuple[str, int, int]], b: list[tuple[str, int, int]], text_a: str, text_b: str
                ) -> Rejection | None:
        """None if the chunk ``a`` of the original became ``b`` by allowed changes only, else why not."""
        if len(a) >= 2 and self.target_words:
            joined_a, joined_b = " ".join(t for t, _, _ in a), " ".join(t for t, _, _ in b)
            entry = self.target_words.get(_split_possessive(joined_a)[0].lower())
            if entry is not None and _split_possessive(joined_b)[0] == case_like(entry[0], joined_a):
                why = self._lexicon(a[-1][0], b[-1][0], text_a, a[-1][1], a[-1][2])
                return None if why is False else why  # type: ignore[return-value]
        if len(a) == len(b):
            for (o, s, e), (n, _, _) in zip(a, b):
                if o != n:
                    why = self._unit(o, n, text_a, s, e)
                    if why is not None:
                        return why
            return None
        joined_a, joined_b = " ".join(t for t, _, _ in a), " ".join(t for t, _, _ in b)
        if a and b and all(t.lower() in self.old_words or not t[0].isalnum() for t, _, _ in a) and \
                all(t.lower() in self.new_words or not t[0].isalnum() for t, _, _ in b) and \
                _style(a[0][0]) == _style(b[0][0]) and candidate_word(text_a, a[0][1], a[-1][2], self.old):
            return None  # a name of another length: "Maria de la Cruz" -> "Greg Walsh"
        entry = self.target_words.get(joined_a.lower())
        if entry is not None and joined_b == case_like(entry[0], joined_a):
            return None  # "air hostess" -> "air steward"
        return self._classify(a, b, text_a)

    def _unit(self, o: str, n: str, text: str, start: int, end: int) -> Rejection | None:
        old, new = self.old, self.new
        lo, ln = o.lower(), n.lower()
        if _LINKISH.search(o) and _LINKISH.search(n):
            canon_o, canon_n = link_canon(o, old), link_canon(n, new)
            if canon_o == canon_n and canon_o != o.lower():
                return None
            return Rejection(Reason.LINK, f"{o!r} -> {n!r}")
        bare_o, pos_o = _split_possessive(o)
        bare_n, pos_n = _split_possessive(n)
        if bare_o.lower() in self.old_words and bare_n.lower() in self.new_words and pos_o == pos_n:
            if _style(bare_o) != _style(bare_n):
                return Rejection(Reason.EDITS, f"name in another case: {o!r} -> {n!r}")
            if candidate_word(text, start, start + len(bare_o), old):
                return None
            return self._not_candidate(o, n, text, start, start + len(bare_o))
        if self._nickname(bare_o, bare_n, text, start):
            return None
        if self.sex_changed:
            titles = _titles()
            if lo.rstrip(".") in titles[old.sex] and ln.rstrip(".") in titles[new.sex]:
                following = rx(r"[.\s]+([\w'’-]+)").match(text[end:end + 40])
                if following and _split_possessive(following.group(1))[0].lower() in self.old_words:
                    return None
                return Rejection(Reason.EDITS, f"a title not before the candidate's name: {o!r} -> {n!r}")
            why = self._pronoun(o, n, text, start, end)
            if why is not False:
                return why  # type: ignore[return-value]
            why = self._lexicon(o, n, text, start, end)
            if why is not False:
                return why  # type: ignore[return-value]
        return self._classify([(o, start, end)], [(n, 0, 0)], text)

    def _nickname(self, o: str, n: str, text: str, start: int) -> bool:
        """ "Em Walsh" -> "Greg Baker": a prefix of the first name, before the surname."""
        first = self.old.first.lower()
        return (2 <= len(o) < len(first) and first.startswith(o.lower()) and n.lower() == self.new.first.lower()
                and bool(re.match(rf"\s+{re.escape(self.old.last)}\b", text[start + len(o):start + len(o) + 60],
                                  re.IGNORECASE)))

    def _pronoun(self, o: str, n: str, text: str, start: int, end: int) -> Rejection | bool | None:
        old_sex, new_sex = self.old.sex, self.new.sex
        match_o = rx(r"(\w+?)((?:['’](?:ll|d|s|re|ve|m))?)").fullmatch(o)
        match_n = rx(r"(\w+?)((?:['’](?:ll|d|s|re|ve|m))?)").fullmatch(n)
        if not match_o or match_o.group(1).lower() not in PRONOUNS[old_sex]:
            return False
        if not match_n or match_n.group(1).lower() not in PRONOUNS[new_sex] or match_o.group(2) != match_n.group(2) \
                or case_like(match_n.group(1).lower(), match_o.group(1)) != match_n.group(1):
            return Rejection(Reason.EDITS, f"pronoun {o!r} -> {n!r}")
        allowed = {"she": {"he"}, "he": {"she"}, "her": {"him", "his"}, "hers": {"his"}, "his": {"her", "hers"},
                   "him": {"her"}, "herself": {"himself"}, "himself": {"herself"}}
        if match_n.group(1).lower() not in allowed[match_o.group(1).lower()]:
            return Rejection(Reason.EDITS, f"pronoun {o!r} -> {n!r}")
        from fairprobe.twins.text.context import pronoun_of_candidate

        if not pronoun_of_candidate(text, start, start + len(match_o.group(1))) or \
                in_idiom(text, start, start + len(match_o.group(1))):
            return Rejection(Reason.PRONOUN_NOT_CANDIDATE, f"{o!r} -> {n!r} in {_around(text, start, end)!r}")
        return None

    def _lexicon(self, o: str, n: str, text: str, start: int, end: int) -> Rejection | bool | None:
        bare_o, pos_o = _split_possessive(o)
        entry = self.target_words.get(bare_o.lower())
        for phrase, (new_phrase, phrase_scope) in _phrases(self.new.sex).get(bare_o.lower(), ()):
            head = phrase[:len(phrase) - len(bare_o)]
            if text[max(0, start - len(head)):start].lower() == head:  # "prom queen", "air hostess"
                entry = (new_phrase.split()[-1], phrase_scope)
                start -= len(head)
                break
        if entry is None:
            return False
        new_word, scope = entry
        bare_n, pos_n = _split_possessive(n)
        if bare_n != case_like(new_word, bare_o) or bool(pos_o) != bool(pos_n):
            return Rejection(Reason.EDITS, f"{o!r} -> {n!r}")
        if scope != "title" and in_proper_name(text, start, start + len(bare_o)):
            return Rejection(Reason.PROPER_NAME, f"{o!r} -> {n!r} in {_around(text, start, end)!r}")
        if scope != "title" and with_counterpart(text, start, start + len(bare_o), new_word):
            return Rejection(Reason.EDITS, f"{o!r} -> {n!r} beside its counterpart: a phrase of both sexes")
        if in_idiom(text, start, start + len(bare_o)):
            return Rejection(Reason.EDITS, f"{o!r} -> {n!r} in an idiom or a relative's label: "
                                           f"{_around(text, start, end)!r}")
        if scope == "possessive" and not pos_o:
            return Rejection(Reason.EDITS, f"{o!r} -> {n!r}: not a group the person belongs to")
        if scope == "subject" and (pos_o or not (about_subject(text, start, start + len(bare_o)) or
                                               coordinated(text, start))):
            return Rejection(Reason.EDITS, f"{o!r} -> {n!r}: someone else's role")
        return None

    def _not_candidate(self, o: str, n: str, text: str, start: int, end: int) -> Rejection:
        around = _around(text, start, end)
        after, before = text[end:end + 12], text[max(0, start - 12):start]
        if o.lower() in MONTHS or rx(r"[ \t]*[-–/]?[ \t]*['’]?\d").match(after) or rx(r"\d[ \t,/-]*$").search(before):
            return Rejection(Reason.MONTH, f"{o!r} -> {n!r} in {around!r}")
        if o.lower() in PLACES or rx(r",[ \t]*(?:[A-Z]{2}\b|[A-Z][a-z]+)").match(after):
            return Rejection(Reason.PLACE, f"{o!r} -> {n!r} in {around!r}")
        return Rejection(Reason.OTHER_NAME, f"{o!r} -> {n!r} in {around!r}")

    def _classify(self, a: list[tuple[str, int, int]], b: list[tuple[str, int, int]], text: str) -> Rejection:
        """The reason for a change no rule allows: numbers, a month, a place, a capitalised term, or an edit."""
        removed = [t for t, _, _ in a if _DIGIT.search(t)]
        added = [t for t, _, _ in b if _DIGIT.search(t)]
        if removed or added:
            return Rejection(Reason.NUMBERS, ", ".join(part for part in (
                f"removed {' '.join(removed)}" if removed else "", f"added {' '.join(added)}" if added else "") if part))
        joined_a, joined_b = " ".join(t for t, _, _ in a), " ".join(t for t, _, _ in b)
        if not a or not b:  # words dropped or added: a sentence, a skill, a clause
            return Rejection(Reason.EDITS, f"{'delete' if a else 'insert'} {(joined_a or joined_b).lower()!r}")
        for token, start, end in a:
            low = token.lower()
            if low in MONTHS:
                return Rejection(Reason.MONTH, f"{joined_a!r} -> {joined_b!r}")
            if low in self.old_words:
                return self._not_candidate(token, joined_b, text, start, end)
            if low in PLACES and token[:1].isupper():
                return Rejection(Reason.PLACE, f"{joined_a!r} -> {joined_b!r}")
            if token[:1].isupper() and token.lower() not in PRONOUNS[FEMALE] | PRONOUNS[MALE]:
                return Rejection(Reason.TERMS, f"lost {joined_a}" + (f", gained {joined_b}" if joined_b else ""))
        op = "replace" if a and b else "delete" if a else "insert"
        return Rejection(Reason.EDITS, f"{op} {joined_a.lower()!r} -> {joined_b.lower()!r}")


@lru_cache(maxsize=4)
def _phrases(target: str) -> dict[str, list[tuple[str, tuple[str, str]]]]:
    """Multi-word lexicon entries by their last word ("queen" -> "prom queen", "homecoming queen")."""
    out: dict[str, list[tuple[str, tuple[str, str]]]] = {}
    for phrase, entry in swaps(target).items():
        if " " in phrase:
            out.setdefault(phrase.split()[-1], []).append((phrase, entry))
    return out


def _around(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 20):end + 20].split())


def _lower_cached(text: str) -> str:
    """``text.lower()``, from :func:`lowered`'s cache where it has it."""
    low = lowered(text)
    return text.lower() if low is None else low


def _diff(pair: _Pair, original: str, twin: str) -> tuple[list[Rejection], int, int, list[str]]:
    """Token-level comparison, line by line (unchanged lines cost one string comparison); with the characters of
    the allowed changes on each side, and the twin's changed lines (every other line of the twin is the original's)."""
    lines_a, lines_b = original.split("\n"), twin.split("\n")
    if len(lines_a) == len(lines_b):
        blocks = [(i, i + 1, i, i + 1) for i in compress(range(len(lines_a)), map(ne, lines_a, lines_b))]
        if len(twin) > 100:  # the validator and the residual scan lower the twin
            low = twin_lowered(original, lines_a, lines_b, [a0 for a0, _, _, _ in blocks])
            if low is not None:
                remember_lowered(twin, low)
    else:
        matcher = difflib.SequenceMatcher(a=lines_a, b=lines_b, autojunk=False)
        blocks = [(a0, a1, b0, b1) for op, a0, a1, b0, b1 in matcher.get_opcodes() if op != "equal"]
    out: list[Rejection] = []
    allowed_a = allowed_b = 0
    offset = line = 0  # where line ``line`` of the original starts; blocks come in order
    changed_lines = ["\n".join(lines_b[b0:b1]) for _, _, b0, b1 in blocks]
    for a0, a1, b0, b1 in blocks:
        text_a, text_b = "\n".join(lines_a[a0:a1]), "\n".join(lines_b[b0:b1])
        tokens_a, tokens_b, ops = aligned(text_a, text_b)  # the pieces both lines start and end with may be left out
        # judge each change in the context of the whole original, so a name at a line start sees the line before
        offset += sum(map(len, lines_a[line:a0])) + (a0 - line)
        line = a0
        tokens_a = [(t, s + offset, e + offset) for t, s, e in tokens_a]
        if text_a.count("\n") != text_b.count("\n") or [t for t, _, _ in tokens_a] == [t for t, _, _ in tokens_b]:
            out.append(Rejection(Reason.EDITS, f"whitespace or line breaks changed near {_around(text_a, 0, 0)!r}"))
            continue
        for op, i0, i1, j0, j1 in ops:
            chunk_a, chunk_b = tokens_a[i0:i1], tokens_b[j0:j1]
            if op == "equal":
                if any(x[0] != y[0] for x, y in zip(chunk_a, chunk_b)):  # same words, another case
                    changed = [(x, y) for x, y in zip(chunk_a, chunk_b) if x[0] != y[0]]
                    why = pair.explain([c[0] for c in changed], [c[1] for c in changed], original, text_b)
                    if why:
                        out.append(why)
                continue
            why = pair.explain(chunk_a, chunk_b, original, text_b)
            if why is not None:
                out.append(why)
            else:
                allowed_a += sum(len(t) for t, _, _ in chunk_a)
                allowed_b += sum(len(t) for t, _, _ in chunk_b)
        if len(out) >= 3:
            break
    return out, allowed_a, allowed_b, changed_lines


_LINK_RUN = re.compile(r"[^\s<>()\[\]|,;\"']*(?:@|/|www\.|\.(?:com|org|net|io|dev|me|in|co|edu|info|ai|app)\b)"
                       r"[^\s<>()\[\]|,;\"']*")


@lru_cache(maxsize=256)
def _link_runs(text: str) -> tuple[str, ...]:
    """The whitespace-separated pieces of ``text`` that hold an email address, a URL or a domain."""
    return tuple(run for piece in text.split() if ("@" in piece or "/" in piece or "." in piece)
                 for run in _LINK_RUN.findall(piece))


def _old_name_left(pair: _Pair, original: str, twin: str) -> list[str]:
    """Forms of the old name in ``twin`` that name the candidate: a name part where it is the candidate (not
    "Austin, TX", "Baker Hughes"), one spelled inside a link, or a nickname prefix before the surname."""
    old, new = pair.old, pair.new
    left: list[str] = []
    kept = {p.lower() for p in (new.first, new.last, new.middle) if p}
    twin_lower = _lower_cached(twin)
    for part in (old.first, old.last):
        if not part or part.lower() in kept:
            continue
        mixed = (old, Person(old.first, new.last, "", ""), Person(new.first, old.last, "", ""))  # "Hui Schmidt"
        for start, end in iter_part_spans(twin, part):  # most often the first is the candidate, or none is
            remnant = twin[end:end + 1] == "/" or twin[max(0, start - 2):start] in (
                "-\n", "r/")  # a link the extraction wrapped: "indeed.com/r/Jay-\nMadhavi/1e7d..."
            if remnant or (twin[start:start + 1].isupper() and any(candidate_word(twin, start, end, p) for p in mixed)):
                left.append(part)
                break
        else:
            if len(part) > 2 and part.lower() in twin_lower:
                low = re.compile(rf"(?<![a-z]){re.escape(part.lower())}")
                count_t = sum(len(low.findall(run.lower())) for run in _link_runs(twin))
                count_o = sum(len(low.findall(link_canon(run, old))) for run in _link_runs(original))
                if count_t > count_o:
                    left.append(f"{part} (email or URL)")
    if old.first and len(old.first) > 3 and old.first.lower() not in kept and old.last:
        stop = {"an", "as", "at", "be", "by", "do", "he", "if", "in", "is"}
        first = old.first.lower()
        wanted = {first[:k] for k in range(len(first) - 1, 1, -1)} - kept - stop
        wanted = {n for n in wanted if not new.first.lower().startswith(n)}

        def found(text: str, names: set[str]) -> list[str]:
            """Nickname prefixes right before one of the surnames ``names``: "Em Walsh"."""
            out, lowered = [], _lower_cached(text)
            for name in names:
                position = lowered.find(name)
                while position > 0:
                    # a space right before and no word character after, or no match: most places the surname's
                    # letters stand are inside a word (the pattern is searched only where both hold)
                    after = lowered[position + len(name):position + len(name) + 1]
                    before = rx(r"([\w'’-]+)\s+$").search(text[max(0, position - 30):position]) if \
                        text[position - 1].isspace() and not (after.isalnum() or after == "_") else None
                    if before and before.group(1).lower() in wanted:
                        out.append(before.group(1))
                    position = lowered.find(name, position + 1)
            return out

        baseline = len(found(original, {new.last.lower()})) if new.last.lower() != old.last.lower() else 0
        nicknames = found(twin, {old.last.lower(), new.last.lower()}) if wanted else []
        if len(nicknames) > baseline:
            left.append(f"{nicknames[0]} (nickname)")
    return left


def _remaining_signals(pair: _Pair, twin: str, runs: frozenset[bytes] | None = None) -> list[Rejection]:
    """Pronouns and lexicon words of the old sex that are still the candidate's in the twin."""
    from fairprobe.twins.text.rewrite import word_edits

    pronouns, words = [], []
    for start, end, _ in word_edits(twin, pair.new.sex, pair.new, runs=runs):
        word = twin[start:end]
        bare = rx(r"\w+").match(word)
        if bare and bare.group().lower() in PRONOUNS[pair.old.sex]:
            pronouns.append(bare.group().lower())
        else:
            words.append(word)
    out = []
    if pronouns:
        out.append(Rejection(Reason.PRONOUNS, ", ".join(sorted(set(pronouns)))))
    if words:
        out.append(Rejection(Reason.OLD_SEX_WORDS, ", ".join(words)))
    return out


def _mask_cues(text: str, cues: list[tuple[int, int, str, int]]) -> str:
    for start, stop, _, _ in reversed(cues):
        text = text[:start] + "AGE" + text[stop:]
    return text


def validate(original: str, twin: str, old: Person, new: Person, *, length_ratio: tuple[float, float] = (0.9, 1.1),
             profile: bool = True) -> list[Rejection]:
    """Why ``twin`` is not a faithful twin of ``original`` (an empty list when it is).

    Every changed token must be an allowed change (see the module's documentation); a change that is
    not rejects the twin with a typed :class:`Reason` (at most three per twin). Then: no form of the
    old name left where it names the candidate (any case, a nickname, inside an email address or URL),
    the new name present, no pronoun or lexicon word of the old sex left about the subject, and the
    length (names aside) within ``length_ratio``. With ``profile`` (a whole profile, not a piece of
    one), also: a twin identical to its original is rejected, and the renamed person must be the
    profile's candidate.

    Examples
    --------
    >>> old, new = Person("Emily", "Walsh", "female", "white"), Person("Greg", "Baker", "male", "white")
    >>> [str(r) for r in validate("Emily Walsh has 5 years at Acme.", "Greg Baker has 6 years at Acme.", old, new)]
    ['numbers differ: removed 5, added 6']
    >>> validate("Emily Walsh\\nindeed.com/r/Emily-Walsh/3f2a\\nShe'll lead.", "Greg Baker\\nindeed.com/r/Greg-Baker/3f2a\\n"
    ...          "He'll lead.", old, new)
    []
    >>> austin = Person("Austin", "Oconnell", "male", "white")
    >>> [r.reason.name for r in validate("AUSTIN OCONNELL\\nAustin, TX", "GREG BAKER\\nGreg, TX", austin,
    ...                                  Person("Greg", "Baker", "male", "white"))][0]
    'PLACE'
    >>> sorted(r.reason.name for r in validate("EMILY WALSH leads. She codes.", "EMILY WALSH leads. He codes.", old, new))
    ['NEW_NAME', 'OLD_NAME']
    """
    reasons: list[Rejection] = []
    # a name the text never states (a table's name columns) leaves nothing in the text to rename
    # whether the old name's parts stand in the text, and (below) whether one names the candidate: read lazily, as
    # both most often end at the first place (a surname of one letter stands hundreds of times in a resume)
    parts = [p for p in (old.first, old.last) if p]
    named = any(next(iter_part_spans(original, p), None) is not None for p in parts)
    if profile and twin == original:
        if (named and (old.first, old.last) != (new.first, new.last)) or (
                new.sex != old.sex and new.sex in (FEMALE, MALE) and has_words(original, new.sex)):
            reasons.append(Rejection(Reason.UNCHANGED, "no change was made"))
        elif not (old.first or old.last) and (new.sex != old.sex or new.race != old.race):
            # no name known: the profile may state one that nobody found ("Ramya. P"), which the twin keeps
            reasons.append(Rejection(Reason.UNCHANGED, "no change was made, and no name was found to tell whether "
                                                       "the profile states one"))
        # else a name known and not in the text, no word of the old sex: vacuous, not defective (the check says so)
    if old.age is not None and new.age is not None and old.age != new.age:
        old_cues, new_cues = age_cues(original), age_cues(twin)
        want = [(kind, value - (new.age - old.age) if kind == "born" else new.age) for _, _, kind, value in old_cues]
        got = [(kind, value) for _, _, kind, value in new_cues]
        if got != want:
            reasons.append(Rejection(Reason.AGE, f"expected {want}, found {got}"))
        original, twin = _mask_cues(original, old_cues), _mask_cues(twin, new_cues)
    pair = _Pair(original, twin, old, new)
    renamed = (old.first, old.last) != (new.first, new.last) and named
    if profile and renamed:
        if not candidate_position(original, old):
            reasons.append(Rejection(Reason.NOT_CANDIDATE, f"{old.first} {old.last!s} is not named in the profile's "
                                                           "header, a Name: label, an introduction, a signature or "
                                                           "the opening of a bio"))
        other = header_names_other(original, old)
        if other:
            reasons.append(Rejection(Reason.NOT_CANDIDATE, f"the header names {other!r}, not {old.first} {old.last}"))
    changes, allowed_a, allowed_b, changed = _diff(pair, original, twin)
    reasons += changes
    if renamed:
        left = _old_name_left(pair, original, twin)
        if left:
            reasons.append(Rejection(Reason.OLD_NAME, ", ".join(left)))
        had = any(candidate_word(original, start, end, old) for part in parts
                  for start, end in iter_part_spans(original, part))
        has = any(twin[start:start + 1].isupper() for part in (new.first, new.last) if part
                  for start, _ in iter_part_spans(twin, part))
        if had and not has:
            reasons.append(Rejection(Reason.NEW_NAME, repr(new.first)))
    if pair.sex_changed:
        reasons += _remaining_signals(pair, twin, twin_runs(original, twin, changed))
    ratio = (len(twin) - allowed_b + 1) / (len(original) - allowed_a + 1)  # the allowed changes aside
    if not length_ratio[0] <= ratio <= length_ratio[1]:
        reasons.append(Rejection(Reason.LENGTH, f"by a factor {ratio:.2f} (allowed {length_ratio[0]}-{length_ratio[1]})"))
    return reasons


__all__ = ["Reason", "Rejection", "validate"]
