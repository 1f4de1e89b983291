"""Where a person's name stands in a text, found by plain string search instead of a regex made for each name.

A regex per name costs its compilation (0.2-3 ms in CPython) for each new name, which was most of the time
of text twins on corpora where every profile has its own name (issue 16), and it evicts the fixed patterns
of the other modules from ``re``'s cache. Each function here gives exactly the matches of the pattern its
documentation names, any case, by searching the lower-cased text; a text or a name whose lower-casing
changes its length ("İ") goes to that pattern itself. ``tests/test_text_spans.py`` compares the two.

:class:`Prefilter` spares the fixed word patterns of the other modules (pronouns and the swap lexicon, the
residual signals, titles) their scan of a text that holds none of their words, from the text's words read once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cache, lru_cache


@cache
def rx(pattern: str, flags: int = 0) -> re.Pattern:
    """``re.compile(pattern, flags)`` for a pattern written in the code, compiled once a process: no lookup in
    ``re``'s cache at each call, and no compiling again after ``re.purge()``. Never for a pattern built from data (a
    name): this cache keeps what it compiles."""
    return re.compile(pattern, flags)


NON_SPACE = re.compile(r"\S*")


def piece_start(text: str, position: int, floor: int = 0) -> int:
    """Where the run of non-whitespace that holds ``position`` starts (``position`` itself after a whitespace), not
    before ``floor``: from the last space, tab or newline before it when no other whitespace stands between, else
    character by character."""
    candidate = max(text.rfind(" ", floor, position), text.rfind("\t", floor, position),
                    text.rfind("\n", floor, position)) + 1
    candidate = max(candidate, floor)
    run = NON_SPACE.match(text, candidate, position)  # \S* always matches
    if run is not None and run.end() == position:  # no other whitespace between
        return candidate
    while position > floor and not text[position - 1].isspace():
        position -= 1
    return position


_CI_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\u0131\u017f\u212a")  # [A-Z] under re.I


def word_char(ch: str) -> bool:
    """What ``\\w`` matches."""
    return ch.isalnum() or ch == "_"


@lru_cache(maxsize=1)
def _special() -> frozenset[str]:
    """Letters that ``re.IGNORECASE`` matches beyond their lower case ("ı" matches "i"; "ſ", "s"), and the
    capital sigma that ``str.lower`` makes final ("ς")."""
    from re._casefix import _EXTRA_CASES  # the table re's compiler reads

    return frozenset(chr(c) for c in _EXTRA_CASES if c > 127) | {"\u03a3"}


def lowered(text: str) -> str | None:
    """``text`` lower-cased, or None where that is not what ``re.IGNORECASE`` compares: lower-casing changes its
    length ("İ"), or it holds a letter with extra case matches ("ı"). Whole texts are cached; names, words and
    links are lowered at once, so they do not push the texts out of the cache."""
    return lower_as_re(text) if len(text) <= 100 else _lowered_text(text)


def lower_as_re(text: str) -> str | None:
    """:func:`lowered`, not cached: for a line or a word, which would push the texts out of its cache."""
    low = text.lower()
    if text.isascii():
        return low
    return low if len(low) == len(text) and not _special_re().search(text) else None


_SEED: list[tuple[str, str | None]] = []  # what remember_lowered puts in the cache, for the call it makes


def _lower_text(text: str) -> str | None:
    return _SEED[0][1] if _SEED and _SEED[0][0] is text else lower_as_re(text)


_lowered_text = lru_cache(maxsize=512)(_lower_text)  # as many texts as word_runs keeps


def remember_lowered(text: str, low: str | None) -> None:
    """Put ``low`` in :func:`lowered`'s cache for ``text`` (unless it holds it already). ``low`` must be
    ``lower_as_re(text)``, built by a caller that knows it cheaper: the validator builds a twin's from its
    original's, cached, and the twin's changed lines."""
    if len(text) <= 100:
        return
    _SEED.append((text, low))
    try:
        _lowered_text(text)
    finally:
        _SEED.clear()


@lru_cache(maxsize=1)
def _special_re() -> re.Pattern:
    """A character class of :func:`_special`: one C-level scan, not a set lookup per character."""
    return re.compile("[" + "".join(sorted(re.escape(c) for c in _special())) + "]")


_WORD_RUN = re.compile(r"\w+")
# bytes.translate table: ASCII letters, digits and "_" kept, every other byte a space
_ASCII_WORDS = bytes(c if chr(c).isalnum() or c == 95 else 32 for c in range(128)) + b" " * 128


@lru_cache(maxsize=512)
def word_runs(text: str) -> frozenset[bytes] | None:
    """The ASCII ``\\w+`` runs of ``text`` lower-cased (a non-ASCII character splits a run), or None where
    lower-casing is not what ``re.IGNORECASE`` compares (see :func:`lowered`). Every ASCII word that stands in
    ``text`` as a whole ``\\w+`` run, in any case, is among them."""
    low = lowered(text)
    if low is None:
        return None
    return ascii_runs(low)


def ascii_runs(low: str) -> frozenset[bytes]:
    """:func:`word_runs` of a text already lower-cased."""
    return frozenset(low.encode("ascii", "replace").translate(_ASCII_WORDS).split())


class Prefilter:
    """Which texts a pattern may match, from the words they hold: a pattern, any case, whose every match is one of
    ``phrases`` with each ``\\w+`` run of it standing whole (no word character right before or after the match;
    the phrases' own runs are separated by non-word characters), can match only a text that holds every run of
    one phrase. Computed once per text (:func:`word_runs`), it spares most texts the pattern's scan; a text it
    passes goes to the pattern. Phrases that are not ASCII or do not start with a word disable it.

    Examples
    --------
    >>> words = Prefilter(["she", "her", "women's college"])
    >>> [words.may_match(t) for t in ("SHE leads", "Shell; ashes; hero", "Women’s College", "women's club")]
    [True, False, True, False]
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        index: dict[bytes, list[frozenset[bytes]]] | None = {}
        for phrase in phrases:
            low = phrase.lower()
            runs = _WORD_RUN.findall(low)
            if index is None or not low.isascii() or not _WORD_RUN.match(low):
                index = None
                continue
            index.setdefault(runs[0].encode(), []).append(frozenset(r.encode() for r in runs))
        self.index = index
        self.heads = frozenset(index) if index is not None else frozenset()

    def may_match(self, text: str, runs: frozenset[bytes] | None = None) -> bool:
        """False only where no match can be in ``text``. ``runs``: :func:`word_runs` of the text, or any set that
        holds them (a twin's: its original's and its changed lines')."""
        index = self.index
        if index is None:
            return True
        runs = word_runs(text) if runs is None else runs
        if runs is None:
            return True
        return any(need <= runs for head in self.heads & runs for need in index[head])

    def finditer(self, pattern: re.Pattern, text: str, runs: frozenset[bytes] | None = None) -> list[re.Match]:
        """``list(pattern.finditer(text))`` for a pattern as the class describes, found by trying ``pattern`` only
        where the first word of a phrase the text holds stands whole: a scan of the whole text by a pattern
        with a lookbehind and a trie costs 40-100 ns a character (0.15-0.35 ms a DataTurks resume).

        Examples
        --------
        >>> words = Prefilter(["she", "her"])
        >>> pattern = re.compile(r"(?<!\\w)(?:she|her)(?!\\w)", re.IGNORECASE)
        >>> [m.span() for m in words.finditer(pattern, "Her shell; SHE, her.")]
        [(0, 3), (11, 14), (16, 19)]
        """
        index = self.index
        runs = (word_runs(text) if runs is None else runs) if index is not None else None
        low = lowered(text) if runs is not None else None
        if index is None or runs is None or low is None:
            return list(pattern.finditer(text))
        starts: set[int] = set()
        n = len(text)
        for head in self.heads & runs:
            if not any(need <= runs for need in index[head]):
                continue
            word = head.decode()
            for position in _occurrences(low, word):
                stop = position + len(word)
                if (position == 0 or not word_char(text[position - 1])) and (stop >= n or not word_char(text[stop])):
                    starts.add(position)
        out: list[re.Match] = []
        end = 0
        for position in sorted(starts):
            if position < end:
                continue
            match = pattern.match(text, position)
            if match is not None:
                out.append(match)
                end = match.end()
        return out


def _occurrences(low: str, needle: str) -> Iterator[int]:
    """Every position of ``needle`` in ``low``, overlapping ones included."""
    position = low.find(needle)
    while position >= 0:
        yield position
        position = low.find(needle, position + 1)


def _ws_end(text: str, position: int) -> int:
    """The end of the run of whitespace (``\\s``) that starts at ``position``."""
    n = len(text)
    while position < n and text[position].isspace():
        position += 1
    return position


def _free_after(text: str, end: int) -> bool:
    """``(?![\\w'’-]|['’]\\w\\w)`` at ``end``: no word, apostrophe or hyphen follows."""
    return end >= len(text) or not (word_char(text[end]) or text[end] in "'’-")


def _free_before(text: str, start: int, marks: str = "'’-") -> bool:
    """``(?<![\\w...])`` at ``start``, the marks given."""
    return start == 0 or not (word_char(text[start - 1]) or text[start - 1] in marks)


@lru_cache(maxsize=256)
def _part_regex(part: str) -> re.Pattern:
    return re.compile(rf"(?<![\w'’-]){re.escape(part)}(?![\w'’-]|['’]\w\w)", re.IGNORECASE)


def part_spans(text: str, part: str) -> list[tuple[int, int]]:
    """The spans of ``(?<![\\w'’-])PART(?![\\w'’-]|['’]\\w\\w)`` in ``text``, any case: ``part`` as a word of its own.

    Examples
    --------
    >>> part_spans("Walsh, Emily (emily.walsh@x.org); EMILY's code; Emily-Jane; EMILY.", "Emily")
    [(7, 12), (14, 19), (60, 65)]
    """
    return list(iter_part_spans(text, part))


def iter_part_spans(text: str, part: str) -> Iterator[tuple[int, int]]:
    """:func:`part_spans` one at a time, for a reader that may stop early: the validator asks whether the old
    name stands in a text at all, and whether one place names the candidate (most often the header, the first
    place); a surname of one letter ("P") stands hundreds of times in a resume."""
    if not part:
        return
    low, needle = lowered(text), lowered(part)
    if low is None or needle is None:
        yield from (m.span() for m in _part_regex(part).finditer(text))
        return
    end, size, n = 0, len(needle), len(text)
    position = low.find(needle)
    while position >= 0:  # _free_before and _free_after inline: most places a name's letters stand are in words
        stop = position + size
        if position >= end:
            before = text[position - 1] if position else ""
            after = text[stop] if stop < n else ""
            if not (before and (before.isalnum() or before in "_'’-")) and \
                    not (after and (after.isalnum() or after in "_'’-")):
                yield position, stop
                end = stop
        position = low.find(needle, position + 1)


@lru_cache(maxsize=256)
def _full_regex(first: str, last: str, middle: str) -> re.Pattern:
    mid = rf"(?:\s+(?:{re.escape(middle)}|[A-Z]\.?))?" if middle else r"(?:\s+[A-Z]\.?)?"
    return re.compile(rf"(?<![\w'’-])(?:{re.escape(first)}{mid}\s+{re.escape(last)}|{re.escape(last)},\s*"
                      rf"{re.escape(first)})(?![\w'’-]|['’]\w\w)", re.IGNORECASE)


def _after_first(text: str, low: str, stop: int, last: str, middle: str, initial_dot: str) -> int:
    """Where ``FIRST(?:\\s+(?:MIDDLE|[A-Z]<dot>))?\\s+LAST`` ends, FIRST ending at ``stop``, with the end's
    lookahead (``initial_dot``: "\\.?" or "\\."); -1 when it does not match."""
    gap = _ws_end(text, stop)
    if gap == stop:
        return -1
    tries = []
    if middle and low.startswith(middle, gap):
        tries.append(gap + len(middle))
    if gap < len(text) and text[gap] in _CI_LETTERS:
        if gap + 1 < len(text) and text[gap + 1] == ".":
            tries.append(gap + 2)
        if initial_dot == "optional":
            tries.append(gap + 1)
    for after_middle in tries:
        at = _ws_end(text, after_middle)
        if at > after_middle and low.startswith(last, at) and _free_after(text, at + len(last)):
            return at + len(last)
    if low.startswith(last, gap) and _free_after(text, gap + len(last)):
        return gap + len(last)
    return -1


def full_name_spans(text: str, first: str, last: str, middle: str = "") -> list[tuple[int, int]]:
    """The spans of ``FIRST(?:\\s+(?:MIDDLE|[A-Z]\\.?))?\\s+LAST|LAST,\\s*FIRST``, any case, standing alone
    (``(?<![\\w'’-])`` before, ``(?![\\w'’-]|['’]\\w\\w)`` after): the full name, "Emily R. Walsh", "Walsh, Emily".

    Examples
    --------
    >>> full_name_spans("EMILY R WALSH; Walsh,Emily; Emily Walshe; emily  walsh", "Emily", "Walsh")
    [(0, 13), (15, 26), (42, 54)]
    """
    return list(iter_full_name_spans(text, first, last, middle))


def iter_full_name_spans(text: str, first: str, last: str, middle: str = "") -> Iterator[tuple[int, int]]:
    """:func:`full_name_spans` one at a time, for a reader that may stop at the first."""
    low = lowered(text)
    f, s, m = lowered(first), lowered(last), lowered(middle)
    if low is None or f is None or s is None or m is None or not first or not last:
        yield from (match.span() for match in _full_regex(first, last, middle).finditer(text))
        return
    starts = sorted({*_occurrences(low, f), *_occurrences(low, s)})
    end = 0
    for start in starts:
        if start < end or not _free_before(text, start):
            continue
        stop = -1
        if low.startswith(f, start):
            stop = _after_first(text, low, start + len(f), s, m, "optional")
        if stop < 0 and low.startswith(s, start):
            comma = start + len(s)
            if comma < len(text) and text[comma] == ",":
                at = _ws_end(text, comma + 1)
                if low.startswith(f, at) and _free_after(text, at + len(f)):
                    stop = at + len(f)
        if stop >= 0:
            yield start, stop
            end = stop


@lru_cache(maxsize=1024)
def _by_head(spellings: tuple[str, ...]) -> dict[str, list[str]]:
    """The spellings by their first letter, each list in the spellings' order (the order they are tried in)."""
    out: dict[str, list[str]] = {}
    for w in spellings:
        if w:
            out.setdefault(w[:1], []).append(w)
    return out


@lru_cache(maxsize=1024)
def _lower_already(spellings: tuple[str, ...]) -> bool:
    """``all(lower_as_re(w) == w for w in spellings)``, by one call on the spellings joined: either side holds
    exactly when every character is its own lower case and none is in :func:`_special` (the capital sigma, the
    only letter ``str.lower`` reads in context, among them), so that each is lowered alone, to itself."""
    joined = "".join(spellings)
    return lower_as_re(joined) == joined


def link_spelled(value: str, spellings: Sequence[str]) -> list[tuple[int, int]]:
    """The spans of ``(?<![a-z])(?:S1|S2|...)(?![a-z])`` in ``value``, any case, the ``spellings`` (lower case)
    tried in their order at each position: how an email address, URL or handle spells a name."""
    low = lowered(value)
    if low is None or not _lower_already(tuple(spellings)):
        body = "|".join(re.escape(w) for w in spellings)
        return [m.span() for m in re.finditer(rf"(?<![a-z])(?:{body})(?![a-z])", value, re.IGNORECASE)]
    out: list[tuple[int, int]] = []
    position, n = 0, len(value)
    by_head = _by_head(tuple(spellings))
    # the positions a spelling may start at (its first letter there), left to right; the others are passed over
    for start in sorted({p for head in by_head for p in _occurrences(low, head)}):
        if start < position or (start > 0 and value[start - 1] in _CI_LETTERS):
            continue
        for spelling in by_head[low[start]]:
            stop = start + len(spelling)
            if spelling and low.startswith(spelling, start) and (stop >= n or value[stop] not in _CI_LETTERS):
                out.append((start, stop))
                position = stop
                break
    return out


@cache
def _title_forms(titles: tuple[str, ...]) -> tuple[list[str], re.Pattern, Prefilter]:
    """The titles lower-cased, and their anchor pattern and prefilter."""
    lowered_titles = [t.lower() for t in titles]
    unique = tuple(sorted(set(lowered_titles)))
    return lowered_titles, _title_anchor(unique), _title_prefilter(unique)


@cache  # the titles of the lexicon: one pattern a process
def _title_anchor(titles: tuple[str, ...]) -> re.Pattern:
    """``(?<![\\w@./'’-])(?:TITLES)(?!\\w)``, any case, the longest title first."""
    body = "|".join(re.escape(t) for t in sorted(titles, key=len, reverse=True))
    return re.compile(rf"(?<![\w@./'’-])(?:{body})(?!\w)", re.IGNORECASE)


@cache
def _title_prefilter(titles: tuple[str, ...]) -> Prefilter:
    return Prefilter(titles)


class MentionForms:
    """The name anchors and multi-word forms of ``names.name_mentions`` for one person, without a regex per
    name: anchors are ``(?<![\\w@./'’-])(?:FIRST|LAST|NICKNAMES|TITLES|F\\.)(?!\\w)`` (the longest that fits at
    each position); forms are matched at an anchor, in this order: full ("Emily R. Walsh"), reversed ("Walsh,
    Emily"), initial ("E. Walsh"), nickname ("Em Walsh"), titled ("Ms. Walsh"), each followed by ``(?!\\w)``."""

    def __init__(self, first: str, last: str, middle: str, titles: Sequence[str]) -> None:
        self.first, self.last, self.middle = first.lower(), last.lower(), middle.lower()
        self.nicks = [self.first[:k] for k in range(len(first) - 1, 1, -1)] if len(first) > 3 else []
        # the same for everyone: compiled and sorted once a process
        self.titles, self.title_anchor, self.title_words = _title_forms(tuple(titles))
        words = {self.first, self.last, *self.nicks, self.first[:1] + "."} - {"", "."}
        self.words = sorted(words, key=len, reverse=True)
        self.whole = {w for w in self.words if w.isascii() and _WORD_RUN.fullmatch(w)}  # found by word_runs
        self.ok = all(lowered(part) is not None for part in (first, last, middle))

    def anchors(self, text: str, low: str) -> list[tuple[int, int]]:
        """Non-overlapping anchor spans, leftmost first; at one position the longest word that ends a word."""
        best = self._titles(text, low) if self.title_words.may_match(text) else {}
        runs = word_runs(text)
        for word in self.words:
            if runs is not None and word in self.whole and word.encode() not in runs:
                continue  # an anchor stands whole (no word character either side): not among the text's words
            size, n = len(word), len(text)
            position = low.find(word)
            while position >= 0:  # _free_before and word_char inline: most places are inside other words
                stop = position + size
                before = text[position - 1] if position else " "
                if best.get(position, -1) < stop and not (before.isalnum() or before in "_@./'’-") and \
                        (stop >= n or not (text[stop].isalnum() or text[stop] == "_")):
                    best[position] = stop
                position = low.find(word, position + 1)
        out, end = [], 0
        for position in sorted(best):
            if position >= end:
                out.append((position, best[position]))
                end = best[position]
        return out

    def _titles(self, text: str, low: str) -> dict[int, int]:
        """start -> end of each match of the title anchor (at each position the first title of the anchor's order
        that ends a word, non-overlapping, leftmost first), the anchor tried only where a title stands whole."""
        return {m.start(): m.end() for m in self.title_words.finditer(self.title_anchor, text)}

    def form_at(self, text: str, low: str, start: int) -> tuple[str, int] | None:
        """(kind, end) of the first form that matches at ``start``, or None."""
        first, last, n = self.first, self.last, len(text)

        def ends(position: int) -> bool:
            return position >= n or not word_char(text[position])

        def then_last(position: int, gap_needed: bool = True) -> int:
            gap = _ws_end(text, position)
            if (gap_needed and gap == position) or not low.startswith(last, gap) or not ends(gap + len(last)):
                return -1
            return gap + len(last)

        if first and low.startswith(first, start):
            stop = start + len(first)
            gap = _ws_end(text, stop)
            if gap > stop:
                tries = []
                if self.middle and low.startswith(self.middle, gap):
                    tries.append(gap + len(self.middle))
                if gap + 1 < n and text[gap] in _CI_LETTERS and text[gap + 1] == ".":
                    tries.append(gap + 2)
                for position in tries + [stop]:
                    end = then_last(position)
                    if end >= 0:
                        return "full", end
        if first and last and low.startswith(last, start):
            comma = start + len(last)
            if comma < n and text[comma] == ",":
                gap = _ws_end(text, comma + 1)
                if gap > comma + 1 and low.startswith(first, gap) and ends(gap + len(first)):
                    return "reversed", gap + len(first)
        if first and last and low.startswith(first[:1], start) and start + 1 < n and text[start + 1] == ".":
            gap = start + 2
            while gap < n and text[gap] in " \t":
                gap += 1
            if low.startswith(last, gap) and ends(gap + len(last)):
                return "initial", gap + len(last)
        if last:
            for nick in self.nicks:
                if low.startswith(nick, start):
                    end = then_last(start + len(nick))
                    if end >= 0:
                        return "nickname", end
            for title in self.titles:
                if low.startswith(title, start):
                    end = then_last(start + len(title))
                    if end >= 0:
                        return "titled", end
        return None


__all__ = ["NON_SPACE", "MentionForms", "Prefilter", "ascii_runs", "full_name_spans", "iter_full_name_spans",
           "iter_part_spans", "link_spelled", "lower_as_re", "lowered", "part_spans", "piece_start", "remember_lowered",
           "rx", "word_char", "word_runs"]
