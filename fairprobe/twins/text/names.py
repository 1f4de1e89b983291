"""Finding a person's name in a profile and every mention of it: header lines, "Ms. Baker", possessives,
ALL-CAPS headers, nicknames ("Em Walsh"), "Baker, Emily", email addresses, profile URLs and handles.

:func:`find_person` (from :mod:`~fairprobe.twins.text.candidate`) reads who the profile is about;
:func:`name_mentions` finds each mention of that person, and no other: a first name that is also a
month, a place or part of an employer's name ("August 2010", "Austin, TX", "J.P. Morgan Chase") is
left alone there; :func:`replace_names` rewrites the mentions for another person, rebuilding email
addresses, URLs (``indeed.com/r/First-Last/...``, LinkedIn, GitHub, a personal domain) and handles
from the new name.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

from fairprobe.twins.text.candidate import find_person  # noqa: F401 - imported from here by text, generator, rewrite
from fairprobe.twins.text.spans import MentionForms, link_spelled, lowered, piece_start, rx
from fairprobe.twins.text.signals import MONTHS, PLACES, PRONOUNS, US_STATE_CODES, WEEKDAYS, Person, title_words, trie_pattern

TITLES = ("Ms.", "Mrs.", "Miss", "Mr.", "Dr.", "Prof.", "Ms", "Mrs", "Mr", "Dr")


class Mention(NamedTuple):
    """One mention of the person: where it is, its kind, and the text."""

    start: int
    end: int
    kind: str  # full, reversed, nickname, first, last, titled, email, url, handle
    text: str


_LINKS = re.compile(r"(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
                    r"|(?P<url>(?:https?://)?(?:www\.)?(?:[\w-]+\.)+(?:com|org|net|io|dev|me|in|co|edu|info|ai|app|"
                    r"page|site|xyz|uk|ca|de|us|tech|blog)(?:/(?:[\w.%~+]|-\n?)+)*/?(?:[?#][^\s)\]>\"']*)?)"
                    r"|(?<![\w.])(?P<handle>@[A-Za-z][\w.-]*\w)")


_PIECE = re.compile(r"\S+")
# Where _LINKS can match: at "@", or in a piece with a dot before a top-level domain.
_LINK_HINT = re.compile(r"@|\.(?:com|org|net|io|dev|me|in|co|edu|info|ai|app|page|site|xyz|uk|ca|de|us|tech|blog)")
_DOMAIN = re.compile(r"(?:com|org|net|io|dev|me|in|co|edu|info|ai|app|page|site|xyz|uk|ca|de|us|tech|blog)")


def _hint_starts(text: str) -> list[int]:
    """Where ``_LINK_HINT.finditer(text)`` matches, by ``str.find``: each "@", each "." before a domain (its
    matches cannot overlap). The scan by the pattern read every character (20 us a resume)."""
    out = []
    position = text.find("@")
    while position >= 0:
        out.append(position)
        position = text.find("@", position + 1)
    position, domain = text.find("."), _DOMAIN.match
    while position >= 0:
        if domain(text, position + 1):
            out.append(position)
        position = text.find(".", position + 1)
    return sorted(out)


@lru_cache(maxsize=256)
def _links(text: str) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, kind, value) of each match of ``_LINKS.finditer(text)``, found by running it only on the
    whitespace-separated pieces that hold "@" or a dot before a domain (with the lines a link wrapped onto
    after a hyphen): a match can start nowhere else, and scanning a whole resume cost 0.7 ms."""
    out = []
    cursor, n = 0, len(text)
    for hint in _hint_starts(text):
        if hint < cursor:
            continue
        start = piece_start(text, hint)
        end = hint
        piece = _PIECE.match(text, end)  # a hint is no whitespace: a piece starts there
        end = piece.end() if piece else end + 1
        while end < n and text[end] == "\n" and text[end - 1] == "-":  # "indeed.com/r/Jay-\nMadhavi/1e7d"
            end += 1
            more = _PIECE.match(text, end)
            if more is None:
                break
            end = more.end()
        for match in _LINKS.finditer(text, max(start, cursor), end):
            out.append((match.start(), match.end(), match.lastgroup or "", match.group()))
        cursor = end
    return tuple(out)


@lru_cache(maxsize=256)
def _mention_patterns(first: str, last: str, middle: str) -> tuple[re.Pattern, re.Pattern]:
    """An anchor pattern (any name part, nickname prefix or title) and the multi-word forms matched at an anchor:
    the definition :class:`~fairprobe.twins.text.spans.MentionForms` follows without compiling them."""
    f, s = re.escape(first), re.escape(last)
    nicks = [first[:k] for k in range(len(first) - 1, 1, -1)] if len(first) > 3 else []
    titles = sorted(title_words() | {"Dr.", "Prof.", "Dr"}, key=len, reverse=True)
    anchor = re.compile(rf"(?<![\w@./'’-])(?:{trie_pattern({first, last, *nicks, *titles, first[:1] + '.'} - {'', '.'})})"
                        rf"(?!\w)", re.IGNORECASE)
    mid = rf"(?:\s+(?:{re.escape(middle)}|[A-Z]\.))?" if middle else r"(?:\s+[A-Z]\.)?"
    forms = [rf"(?P<full>{f}{mid}\s+{s})" if first else None, rf"(?P<reversed>{s},\s+{f})" if first and last else None,
             rf"(?P<initial>{re.escape(first[:1])}\.[ \t]*{s})" if first and last else None,
             rf"(?P<nickname>(?:{'|'.join(map(re.escape, nicks))})\s+{s})" if nicks and last else None,
             rf"(?P<titled>(?:{'|'.join(map(re.escape, titles))})\s+{s})" if last else None]
    multi = re.compile("(?:" + "|".join(p for p in forms if p) + r")(?!\w)", re.IGNORECASE)
    return anchor, multi


def _cased(word: str) -> bool:
    """Title case or all capitals: a name, not the common word ("baker", "rose")."""
    return word[:1].isupper()


def _names_in(token: str, person: Person) -> bool:
    low = token.lower()
    letters = lambda w: rx(r"[^a-z]").sub("", w.lower())  # noqa: E731  (O'Brien -> obrien)
    if any(len(p) > 2 and (p.lower() in low or letters(p) in low) for p in (person.first, person.last)):
        return True
    if not (person.first and person.last):
        return False
    initial, surname = person.first[0].lower(), letters(person.last)
    for joined in (initial + surname, *(initial + sep + surname for sep in "._-")):  # "ebaker", "e.baker"
        position = low.find(joined)
        while position >= 0:
            if position == 0 or not "a" <= low[position - 1] <= "z":
                return True
            position = low.find(joined, position + 1)
    return False


def name_mentions(text: str, person: Person) -> list[Mention]:
    """Every mention of ``person`` in ``text``, in order.

    Examples
    --------
    >>> p = Person("Emily", "Baker", "female", "white")
    >>> [m.kind for m in name_mentions("EMILY BAKER (ebaker@x.org). Ms. Baker's team; Emily leads.", p)]
    ['full', 'email', 'titled', 'first']
    """
    if not person.first and not person.last:
        return []
    out: list[Mention] = []
    if "@" in text or "/" in text:
        for start, end, kind, value in _links(text):
            if _names_in(value.split("@")[0] if kind == "email" else value, person):
                out.append(Mention(start, end, kind, value))
    links = [(m.start, m.end) for m in out]
    first, last = person.first.lower(), person.last.lower()
    consumed = -1
    for start, stop, kind, end in _anchors_and_forms(text, person):
        if start < consumed or any(a <= start < b for a, b in links):
            continue
        if kind and (_cased(text[start:end]) or kind in ("full", "reversed")):
            out.append(Mention(start, end, kind, text[start:end]))
            consumed = end
            continue
        token = text[start:stop]
        kind = "first" if token.lower() == first else "last" if token.lower() == last else ""
        if kind and _cased(token) and _alone(text, start, stop, kind, person):
            out.append(Mention(start, stop, kind, token))
    return sorted(out)


@lru_cache(maxsize=1024)
def _forms_of(first: str, last: str, middle: str) -> MentionForms:
    return MentionForms(first, last, middle, _titles_longest_first())


@cache
def _titles_longest_first() -> tuple[str, ...]:
    return tuple(sorted(title_words() | {"Dr.", "Prof.", "Dr"}, key=len, reverse=True))


def _anchors_and_forms(text: str, person: Person) -> list[tuple[int, int, str, int]]:
    """(start, end) of each anchor (a name part, a nickname, a title, an initial), with the kind and end of the
    multi-word form that matches there ("" and -1 if none): by string search (:mod:`.spans`); by the
    person's own regex only for a text or name whose lower case has another length, or no surname."""
    forms = _forms_of(person.first, person.last, person.middle)
    low = lowered(text)
    if forms.ok and person.last and low is not None:
        out = []
        for start, stop in forms.anchors(text, low):
            form = forms.form_at(text, low, start)
            out.append((start, stop, *form) if form else (start, stop, "", -1))
        return out
    anchor, multi = _mention_patterns(person.first, person.last, person.middle)
    out = []
    for match in anchor.finditer(text):
        found = multi.match(text, match.start())
        out.append((match.start(), match.end(), found.lastgroup or "", found.end()) if found else
                   (match.start(), match.end(), "", -1))
    return out


# Capitalised words that follow a first name without being a surname ("Emily Software Engineer" never
# occurs, but a header such as "Grace Hopper Celebration" or "Will Lead" must not read as a person).
NOT_SURNAMES = frozenset("""I The A An And Of In At On For To With Resume Curriculum Vitae CV Profile Summary
Experience Education Skills Contact Email Phone Address Objective References Reference Software Engineer
Developer Manager Senior Junior Lead Data Scientist Analyst Designer Nurse Teacher Professor University College
School Institute Inc LLC Ltd Corp Company Street Avenue Road January February March April May June July August
September October November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday Hopper Celebration
Scholarship Award Foundation Society Association Club Team Group Center Centre Hospital Bank Dear Sincerely
Regards Best Thank Thanks LinkedIn GitHub Python Java SQL Excel Microsoft Google Amazon Apple Reach Call Ask Meet Hi
Hello Attn Via By From About""".split())
_DATE_BEFORE = re.compile(r"(?:\d[\s,.-]*|\b(?:in|since|until|till|from|by|through|during|to|of|before|after|-|–)\s+)$",
                          re.IGNORECASE)
_PLACE_BEFORE = re.compile(r"\b(?:in|at|from|near|to|of|based|across|around|outside|downtown|greater|visit|visited)\s+$",
                           re.IGNORECASE)
_INITIALS_BEFORE = re.compile(r"(?:^|[\s(,;])(?:[A-Z]\.){1,3}(?:-[A-Z]\.)?\s*$")
_STOPWORDS = frozenset("a an as at be by do go he if in is it me my no of on or so to up us we am".split())


def _alone(text: str, start: int, end: int, kind: str, person: Person | None = None) -> bool:
    """A bare surname or first name that is the person: not part of another capitalised name ("Baker Hughes",
    "Jack Baker", "J.P. Morgan Chase"), not a month or date ("August 2010", "in May"), not a place ("Austin,
    TX", "based in Austin"), and not a surname too short or too common to stand alone ("K", "He", "Li")."""
    word = text[start:end]
    low = word.lower()
    if kind == "last" and (len(word) <= 2 or low in _STOPWORDS or low in PRONOUNS["female"] | PRONOUNS["male"]):
        return False
    after = text[end:end + 30]
    before = text[max(0, start - 32):start]
    if rx(r"[ \t]*[-–/]?[ \t]*['’]?\d").match(after) or rx(r"\d[ \t,/-]*$").search(before):
        return False  # a date ("August 2010", "15 August") or a number beside the word
    if (low in MONTHS or low in WEEKDAYS) and _DATE_BEFORE.search(before):
        return False
    if rx(r",[ \t]*(?:[A-Z]{2}\b|[A-Z][a-z]+)").match(after) and kind == "first":
        return False  # "Austin, TX", "Austin, Texas"
    if rx(r",[ \t]*([A-Z]{2})\b").match(after) and after[2:4] in US_STATE_CODES:
        return False
    if low in PLACES and _PLACE_BEFORE.search(before):
        return False
    listed = rx(r"([A-Z][\w'’-]*),[ \t]*\Z").search(before)
    if listed and (person is None or listed.group(1).lower() not in {person.first.lower(), person.last.lower()}):
        return False  # "Redmond, Washington", "Seattle, Washington": a place, or someone else in a list
    if _INITIALS_BEFORE.search(before):
        return False  # "J.P. Morgan", "T.-J. Lin", "D. Whitfield": an initial that is not the person's
    following = rx(r"[ \t]+([A-Z][\w'’-]*)").match(after)
    if following and following.group(1) not in NOT_SURNAMES:
        return False
    previous = rx(r"([A-Z][\w'’.&-]*)[ \t]+$").search(before)
    if previous:  # "JPMorgan Chase", "Jack Baker": another name; "Contact Emily", "Ms. Walsh": the person
        return previous.group(1) in NOT_SURNAMES or previous.group(1).rstrip(".") in {"Dr", "Prof", "Mr", "Ms", "Mrs",
                                                                                        "Miss"}
    return True


# (template, whether it holds an initial, its first part, separator, second part): "{f}.{l}" is f + "." + l
_TEMPLATES = tuple((t, "i}" in t, a, sep, b) for t, a, sep, b in (
    *((f"{{{a}}}{sep}{{{b}}}", a, sep, b) for sep in ("", ".", "_", "-")
      for a, b in (("f", "l"), ("l", "f"), ("fi", "l"), ("f", "li"))), ("{f}", "f", "", ""), ("{l}", "l", "", "")))


def _forms(person: Person) -> list[tuple[str, str]]:
    """(template, spelling) pairs, longest first, a whole part before an initial, then by template: how a link
    spells a name ("{f}.{l}" -> "emily.baker"). A spelling is kept where it has 3 characters or more and starts
    and ends with none of "._-". The sort key holds the template, and each template is there once, so sorting
    the keys with the pairs appended orders the pairs as sorting them by the key alone would."""
    f, l = person.first.lower(), rx(r"[^a-z-]").sub("", person.last.lower())
    part = {"f": f, "l": l, "fi": f[:1], "li": l[:1], "": ""}
    keyed = []
    for template, initial, a, sep, b in _TEMPLATES:
        w = part[a] + sep + part[b]
        if len(w) >= 3 and w.strip("._-") == w:
            keyed.append((-len(w), initial, template, w))
    keyed.sort()
    return [(t, w) for _, _, t, w in keyed]


@lru_cache(maxsize=4096)
def _link_forms(first: str, last: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """The spellings of a name in links, longest first, and the template of each."""
    forms = _forms(Person(first, last, "", ""))
    spelled = {w: t for t, w in reversed(forms)}  # the longest template wins for a spelling
    return tuple(w for _, w in forms), spelled


def _styled(new: str, model: str, parts: list[str]) -> str:
    """``new`` in the case of ``model``: lower, UPPER, or each name part capitalised (EmilyBaker -> GregWalsh)."""
    if model.islower():
        return new.lower()
    if model.isupper() and len(model) > 1:
        return new.upper()
    out = new
    for part in parts:
        if part:
            out = out.replace(part.lower(), part[:1].upper() + part[1:].lower(), 1)
    return out


def _rebuild(value: str, old: Person, new: Person) -> str:
    """An email address, URL or handle with every spelling of the old name replaced by the new one's, case kept
    ("indeed.com/r/Emily-Baker/3f2a" -> "indeed.com/r/Greg-Walsh/3f2a", "emilybaker.dev" -> "gregwalsh.dev")."""
    spellings, spelled = _link_forms(old.first, old.last)
    f, l = new.first.lower(), rx(r"[^a-z-]").sub("", new.last.lower())
    parts, end = [], 0
    for start, stop in link_spelled(value, spellings):
        found = value[start:stop]
        template = spelled[found.lower()]
        parts += [value[end:start], _styled(template.format(f=f, l=l, fi=f[:1], li=l[:1]), found, [f, l])]
        end = stop
    return "".join(parts) + value[end:]


def name_edits(text: str, old: Person, new: Person) -> list[tuple[int, int, str]]:
    """(start, end, replacement) for each mention of ``old`` in ``text``: ``new``'s name in the same form and case."""
    if (old.first, old.last) == (new.first, new.last):
        return []
    out = []
    for m in _cached_mentions(text, old.first, old.last, old.middle):
        if m.kind == "full":
            middle = rx(r"\s+([A-Z]\.)\s+").search(m.text)
            replacement = f"{new.first} {middle.group(1)} {new.last}" if middle else f"{new.first} {new.last}"
        elif m.kind == "reversed":
            replacement = f"{new.last}, {new.first}"
        elif m.kind == "nickname":
            replacement = f"{new.first} {new.last}"
        elif m.kind == "titled":  # the surname only: a sex twin changes the title itself ("Ms." -> "Mr.")
            surname = m.text[len(m.text) - len(old.last):]
            out.append((m.end - len(old.last), m.end, new.last.upper() if surname.isupper() and len(surname) > 1
                        else new.last))
            continue
        elif m.kind == "first":
            replacement = new.first
        elif m.kind == "last":
            replacement = new.last
        elif m.kind == "initial":
            replacement = f"{new.first[:1]}. {new.last}"
        else:
            replacement = _rebuild(m.text, old, new)
        if m.kind in ("full", "reversed", "first", "last", "nickname", "initial"):
            replacement = _case_words(replacement, m.text)
        out.append((m.start, m.end, replacement))
    return out


@lru_cache(maxsize=2048)
def _cached_mentions(text: str, first: str, last: str, middle: str) -> tuple[Mention, ...]:
    return tuple(name_mentions(text, Person(first, last, "", "", middle=middle)))


def _case_words(new: str, old: str) -> str:
    """``new`` word by word in the case of ``old``'s words: "kimaya sonawane" -> "greg walsh", "Vamsi krishna"
    -> "Greg walsh", "EMILY BAKER" -> "GREG WALSH"."""
    if old.isupper() and len(old) > 1:
        return new.upper()
    olds, news = old.split(), new.split()
    if len(olds) != len(news):
        return new.lower() if old.islower() else new
    out = []
    for o, n in zip(olds, news):
        out.append(n.upper() if o.isupper() and len(o) > 1 else n.lower() if o.islower() else n)
    return " ".join(out)


def splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with the (start, end, replacement) ``edits`` applied; an edit overlapping an earlier one is dropped."""
    parts, end = [], 0
    for start, stop, replacement in sorted(edits):
        if start < end:
            continue
        parts.append(text[end:start])
        parts.append(replacement)
        end = stop
    return "".join(parts) + text[end:]


def replace_names(text: str, old: Person, new: Person) -> str:
    """``text`` with every mention of ``old`` replaced by ``new``'s name in the same form and case.

    Examples
    --------
    >>> old, new = Person("Emily", "Baker", "female", "white"), Person("Greg", "Walsh", "male", "white")
    >>> replace_names("EMILY BAKER | emily.baker@mail.com | linkedin.com/in/emilybaker. Ms. Baker's code.", old, new)
    "GREG WALSH | greg.walsh@mail.com | linkedin.com/in/gregwalsh. Ms. Walsh's code."
    >>> replace_names("Emily Baker\\nindeed.com/r/Emily-Baker/3f2a9c | Austin, TX | August 2010", old, new)
    'Greg Walsh\\nindeed.com/r/Greg-Walsh/3f2a9c | Austin, TX | August 2010'
    """
    return splice(text, name_edits(text, old, new))
