"""Aligning a changed line of a text twin with its original, token by token, as ``difflib`` does; and the twin's
lower case and word runs read from its original's (read once, for the rewrite too) and its changed lines'.

The validator compares the two token lists with ``difflib.SequenceMatcher`` (lower-cased tokens, no junk). On a
resume a changed line is often a paragraph with one pronoun or name changed, and tokenising and matching it whole
was the largest part of the validator's time (issue 16). Two shortcuts give exactly the same tokens and opcodes:

- tokens never span whitespace, and the tokenizer looks at most one character past a token, so a line's tokens are
  its whitespace-separated pieces' tokens: the pieces the two lines share at their start and end need not be
  tokenised again (:func:`aligned` tokenises the pieces between them);
- where the lines keep one length in tokens and no changed token stands anywhere else in the other line,
  ``difflib``'s opcodes are the runs of positions where they differ and agree (:func:`opcodes`).

Anything else goes to the tokenizer and the matcher whole. ``tests/test_text_validate_diff.py`` compares both.
"""

from __future__ import annotations

import difflib
import re

from fairprobe.twins.text.spans import NON_SPACE, ascii_runs, lower_as_re, lowered, piece_start, word_runs

# Links first (one token each), then words with inner apostrophes ("he'll", "O'Brien", "women's", "girls'").
TOKEN = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]|]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
                   r"|[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|dev|me|in|co|edu|info|ai|app)\b(?:/[^\s<>\"'()\[\]|]*)?"
                   r"|(?<![\w.])@[A-Za-z][\w.-]*\w|\w+(?:['’]\w+)*(?:['’](?!\w))?|[^\w\s]")

Token = tuple[str, int, int]
Opcode = tuple[str, int, int, int, int]


def tokens(text: str, shift: int = 0) -> list[Token]:
    """(token, start, end) of each token of ``text``, positions moved by ``shift``."""
    return [(m.group(), m.start() + shift, m.end() + shift) for m in TOKEN.finditer(text)]


def _runs(differ: list[int], n: int) -> list[Opcode]:
    """The opcodes of two lists of length ``n`` that differ exactly at the (sorted) positions ``differ``."""
    out: list[Opcode] = []
    position = run = 0
    while run < len(differ):
        start = differ[run]
        while run + 1 < len(differ) and differ[run + 1] == differ[run] + 1:
            run += 1
        stop = differ[run] + 1
        if start > position:
            out.append(("equal", position, start, position, start))
        out.append(("replace", start, stop, start, stop))
        position = stop
        run += 1
    if position < n:
        out.append(("equal", position, n, position, n))
    return out


def opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """``difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()``, without the matcher where the answer is
    sure: ``a`` and ``b`` of one length, and no token at a position where they differ standing anywhere in the other
    list ("emily" -> "greg", "she" -> "he" in a line without "he"). No matching block can then hold such a position,
    so the longest block that starts earliest is always at the same place in both (a block ``a[i:i+k]`` free of them
    is also ``b[i:i+k]``, and one ``b[j:j+k]`` with ``j < i`` is also ``a[j:j+k]``): the matcher keeps every other
    position in place, and its opcodes are the runs of positions where the lists differ ("replace") and agree
    ("equal")."""
    n = len(a)
    if n == len(b):
        differ = [k for k in range(n) if a[k] != b[k]]
        if not differ:
            return [("equal", 0, n, 0, n)] if n else []
        in_a, in_b = set(a), set(b)
        if all(a[k] not in in_b and b[k] not in in_a for k in differ):
            return _runs(differ, n)
    return list(difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes())


def _common_prefix(x: str, y: str, limit: int) -> int:
    """The length of the longest common start of ``x`` and ``y``, at most ``limit`` (by halving: slices, no loop
    over characters)."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if x[lo:mid] == y[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(x: str, y: str, limit: int) -> int:
    lo, hi = 0, limit
    nx, ny = len(x), len(y)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if x[nx - mid:nx - lo] == y[ny - mid:ny - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _piece_end(text: str, position: int, ceiling: int) -> int:
    """Where the piece that holds ``position`` ends (a whitespace or ``ceiling``)."""
    run = NON_SPACE.match(text, position, ceiling)  # \S* always matches
    return run.end() if run is not None else position


def _holds_token(text: str, low: str, word: str, start: int, end: int) -> bool:
    """Whether a token of ``text[start:end]`` (a run of whole pieces) is ``word`` lower-cased: each place its letters
    stand, the piece there tokenised."""
    position = low.find(word, start, end)
    while position >= 0:
        left, right = piece_start(text, position, start), _piece_end(text, position, end)
        if any(t.lower() == word for t, _, _ in tokens(text[left:right])):
            return True
        position = low.find(word, right, end)
    return False


def aligned(text_a: str, text_b: str) -> tuple[list[Token], list[Token], list[Opcode]]:
    """Tokens of ``text_a`` and ``text_b`` and ``difflib``'s opcodes between their lower-cased forms, where the
    opcodes' "equal" runs hold every token outside the lists: the lists may leave out the pieces the two texts share
    at their start and end (the same tokens, in place), never anything that differs."""
    fast = _middle(text_a, text_b) if "\n" not in text_a and "\n" not in text_b else None
    if fast is not None:
        return fast
    tokens_a, tokens_b = tokens(text_a), tokens(text_b)
    return tokens_a, tokens_b, opcodes([t.lower() for t, _, _ in tokens_a], [t.lower() for t, _, _ in tokens_b])


def _middle(x: str, y: str) -> tuple[list[Token], list[Token], list[Opcode]] | None:
    """:func:`aligned` for two lines, the pieces they share at both ends left out; None where that is not sure."""
    low_x = lower_as_re(x)  # where the shared pieces are searched for a changed token (they are the same in y)
    if low_x is None or lower_as_re(y) is None:
        return None
    limit = min(len(x), len(y))
    start = _common_prefix(x, y, limit)
    suffix = _common_suffix(x, y, limit - start)
    start = piece_start(x, start)  # back to the start of a piece
    end_x = _piece_end(x, len(x) - suffix, len(x))  # on to the end of one
    end_y = end_x + len(y) - len(x)
    tokens_a, tokens_b = tokens(x[start:end_x], start), tokens(y[start:end_y], start)
    a, b = [t.lower() for t, _, _ in tokens_a], [t.lower() for t, _, _ in tokens_b]
    if len(a) != len(b):
        return None
    differ = [k for k in range(len(a)) if a[k] != b[k]]
    if not differ:
        return tokens_a, tokens_b, [("equal", 0, len(a), 0, len(a))] if a else []
    in_a, in_b = set(a), set(b)
    for k in differ:  # a changed token may stand nowhere else in the other line, the shared pieces included
        for word, others in ((a[k], in_b), (b[k], in_a)):
            if word in others or _holds_token(x, low_x, word, 0, start) or \
                    _holds_token(x, low_x, word, end_x, len(x)):
                return None
    return tokens_a, tokens_b, _runs(differ, len(a))


def twin_lowered(original: str, lines_a: list[str], lines_b: list[str], changed: list[int]) -> str | None:
    """``lower_as_re(twin)`` (see :func:`~fairprobe.twins.text.spans.lowered`) for a twin whose lines ``lines_b``
    are its original's ``lines_a`` but at the indices ``changed``, built from the original's lower case (cached:
    the rewrite and the name choice read it) and the changed lines': lowering a resume cost ~24 us, most of it
    for a text with a character outside ASCII.

    Why it is the same: a text ``lower_as_re`` accepts holds no character whose lower case is longer ("İ") nor
    the capital sigma, whose lower case is the only one ``str.lower`` reads from the context (a final sigma);
    every other character is lowered on its own, to one character. So where the original and each changed line
    are accepted, the twin (the original's text between the changed lines, and the changed lines, joined by the
    same line breaks) is accepted too, and its lower case is the original's lower case between the changed lines
    and the changed lines' lower case, at the same places. Where the original or a changed line is not accepted,
    None: the caller lowers the twin itself (it may still be accepted, e.g. when the line that held "İ" changed).
    ``tests/test_text_validate_diff.py`` compares it with ``lower_as_re`` on generated twins."""
    low = lowered(original)
    if low is None:
        return None
    pieces: list[str] = []
    start = position = line = 0  # where line ``line`` of the original starts; the copy of the original from ``start``
    for index in changed:
        position += sum(map(len, lines_a[line:index])) + (index - line)
        line = index
        piece = lower_as_re(lines_b[index])
        if piece is None:
            return None
        pieces += [low[start:position], piece]
        start = position + len(lines_a[index])
    pieces.append(low[start:])
    return "".join(pieces)


def twin_runs(original: str, twin: str, changed: list[str]) -> frozenset[bytes] | None:
    """A set that holds the twin's word runs (:func:`~fairprobe.twins.text.spans.word_runs`): the original's (read
    once, for the rewrite too) and those of the twin's changed lines; None where lower-casing changes a length."""
    runs = word_runs(original)
    if runs is None or lowered(twin) is None:
        return None
    return runs | ascii_runs("\n".join(changed).lower())


__all__ = ["TOKEN", "aligned", "opcodes", "tokens", "twin_lowered", "twin_runs"]
