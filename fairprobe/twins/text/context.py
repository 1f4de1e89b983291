"""The validator's own reading of context, written apart from the rewriter's name finder so that the finder's
errors are not repeated: where a word names the candidate, whether the renamed person is the profile's
candidate, whether a pronoun is the candidate's, and how a link spells a name.
"""

from __future__ import annotations

import re
from functools import lru_cache

from fairprobe.twins import lexicons
from fairprobe.twins.text.spans import iter_full_name_spans, rx
from fairprobe.twins.text.signals import (
    HEADING_WORDS, MONTHS, ORG_WORDS, PLACES, PRONOUNS, ROLE_WORDS, US_STATE_CODES, WEEKDAYS, Person)

_TITLE = r"(?:Ms|Mrs|Miss|Mr|Mx|Dr|Prof|Sir|Dame)\.?"
_SENTENCE_START = re.compile(r"(?:^|(?<![A-Z])\.|[!?:;•|>\n(\[]|\s[-–—])[\s*_#]*$")  # not after an initial: "J.P. Morgan"
# Capitalised words that may stand next to a bare name without being part of another name.
_FREE_NEIGHBOURS = frozenset("""i the a an and of in at on for to with dear hi hello thanks thank contact email call
reach ask meet about by from via cc attn regards sincerely best""".split())
_DATE_WORDS = re.compile(r"(?:\b(?:in|since|until|till|from|by|through|during|to|of|before|after)|[-–])\s+$",
                         re.IGNORECASE)
_PLACE_WORDS = re.compile(r"\b(?:in|at|from|near|to|based|across|around|outside|downtown|greater|visit(?:ed)?)\s+$",
                          re.IGNORECASE)
_INITIALS = re.compile(r"(?:^|[\s(,;])(?:[A-Z]\.){1,3}(?:-[A-Z]\.)?\s*$")


def candidate_word(text: str, start: int, end: int, person: Person) -> bool:
    """Whether the name word at ``text[start:end]`` names ``person`` there.

    Yes inside the full name ("Emily Walsh", "Walsh, Emily", "Ms. Walsh", "E. Walsh", "Em Walsh"); alone,
    only where it is capitalised and no month, date, place or other name claims it: not "August 2010",
    "in May", "Austin, TX", "based in Austin", "J.P. Morgan Chase", "Baker Hughes", "Jack Baker".
    """
    word = text[start:end]
    low = word.lower().rstrip("'’s") if word.lower().endswith(("'s", "’s")) else word.lower()
    first, last = person.first.lower(), person.last.lower()
    after, before = text[end:end + 60], text[max(0, start - 60):start]
    if person.first and person.last:
        next_words = [w.strip(",.;:!?*_()[]'’").lower() for w in after.split()[:2]]
        prev_words = [w.strip(",;:!?*_()[]'’").lower() for w in before.split()[-2:]]
        if low == first and last in [w.removesuffix("'s") for w in next_words]:
            return True  # "Emily Walsh", "Emily R. Walsh"
        if low == last and prev_words and any(
                w.rstrip(".") in (first, first[:1]) or (len(w) >= 2 and first.startswith(w)) or
                rx(_TITLE.lower()).fullmatch(w) for w in prev_words[-1:] + (prev_words[-2:-1] if len(prev_words) == 2
                                                                         else [])):
            return True  # "Emily Walsh", "E. Walsh", "Em Walsh", "Ms. Walsh"
        if low == last and after.lstrip().startswith(",") and next_words[:1] == [first]:
            return True  # "Walsh, Emily"
        if low == first and before.rstrip().endswith(",") and prev_words[-1:] == [last + ","[:0]]:
            return True
        line_after, line_before = after.split("\n", 1)[0], before.rsplit("\n", 1)[-1]
        if (low == first and _between_names(line_after.split()[:4], last)) or \
                (low == last and _between_names(line_before.split()[-4:][::-1], first)):
            return True  # "Akila Sulfa Sulthan Mohideen", "Darshan M G": the full name with middle names
        initial = rx(r"(?:^|[\s(])([A-Za-z])\.?[ \t]+$").search(before)
        if low == first and initial and initial.group(1).lower() == last[:1] and not word.isupper():
            return True  # "( G Tejasri)": the surname's initial before the given name, as Indian resumes sign
    if before.endswith("-\n") and "/" in before.rsplit("\n", 2)[-2] and after[:1] in "/-":
        return True  # the rest of a link the text extraction wrapped: "indeed.com/r/Jay-\nMadhavi/1e7d..."
    if not word[:1].isupper():
        return False
    if low == last and (len(low) <= 2 or low in PRONOUNS["female"] | PRONOUNS["male"]):
        return False
    if rx(r"[ \t]*[-–/]?[ \t]*['’]?\d").match(after) or rx(r"\d[ \t,/-]*$").search(before):
        return False
    if (low in MONTHS or low in WEEKDAYS) and _DATE_WORDS.search(before):
        return False
    if rx(r",[ \t]*(?:[A-Z]{2}\b|[A-Z][a-z]+)").match(after) and (low == first or after[2:4] in US_STATE_CODES):
        return False
    if low in PLACES and _PLACE_WORDS.search(before):
        return False
    listed = rx(r"([A-Z][\w'’-]*),[ \t]*\Z").search(before)
    if listed and listed.group(1).lower() not in (first, last):
        return False  # after "Redmond, ": a place (or a list of other names)
    if _INITIALS.search(before):
        return False
    following = rx(r"[ \t]+([A-Z][\w'’&-]*)").match(after)
    if following and following.group(1).lower() not in _FREE_NEIGHBOURS and \
            following.group(1).lower() not in MONTHS:
        return False
    previous = rx(r"([A-Z][\w'’.&-]*)[ \t]+$").search(before)
    if previous and previous.group(1).rstrip(".").lower() not in _FREE_NEIGHBOURS and \
            not rx(_TITLE).fullmatch(previous.group(1)):
        return False  # "JPMorgan Chase", "Jack Baker", "Hyderabad Walsh"; "Contact Emily", "Ms. Walsh" pass
    return True


def _between_names(words: list[str], other: str) -> bool:
    """Whether ``other`` (the other part of the name) is among ``words`` (read away from the name word), with
    only capitalised words or initials before it: middle names ("Sulfa Sulthan", "M")."""
    for k, w in enumerate(words):
        bare = w.strip(",.;:!?*_()[]'’").removesuffix("'s").lower()
        if k and bare in (other, other.rstrip(".")) and bare:
            return True
        if not (w.strip("()[]")[:1].isupper() and w.strip("()[],.;:").isalpha()):
            return False
    return False


def _clean(line: str) -> str:
    line = rx(r"\*\*|__|\*|`|#+|\[|\]|^[\s>|•·\-–—=]+|[\s|•·\-–—=:]+$").sub(" ", line)
    return " ".join(line.split())


_LABEL = re.compile(r"^(?:(?:full|candidate|applicant|legal)\s+)?name\s*[:：\-–—]\s*", re.IGNORECASE)
_INTRO = re.compile(r"(?:name is|name's|I am|I'm|I’m|this is|name\s*[:：])\s*$", re.IGNORECASE)
_SIGN_OFF = re.compile(r"^\s*(?:sincerely|best regards|kind regards|warm regards|regards|best|thank you|thanks|"
                       r"yours truly|yours sincerely|yours faithfully|respectfully|warmly|cheers|with gratitude)"
                       r"[,.!]?\s*$", re.IGNORECASE | re.MULTILINE)
_OPENING_VERB = re.compile(r"\s*(?:\([^)\n]{0,40}\)\s*)?(?:,|\s+(?:is|was|has|had|leads|led|serves|served|joined|"
                           r"works|worked|holds|held|received|brings|specializes|specialises|focuses|currently|"
                           r"manages|managed|founded|teaches|taught|writes|wrote|earned|studied|graduated|began|"
                           r"started|helps|heads|directs|oversees|runs|builds|designs|develops)\b)")


_NOT_NAME_WORDS = HEADING_WORDS | ROLE_WORDS | ORG_WORDS | MONTHS


def _letter_lines(text: str, count: int) -> list[tuple[int, str]]:
    """(start, line) of the first ``count`` lines of ``text`` that hold a letter (the rest of the text unsplit)."""
    out: list[tuple[int, str]] = []
    position = 0
    while len(out) < count and position <= len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        line = text[position:end]
        if any(map(str.isalpha, line)):
            out.append((position, line))
        position = end + 1
    return out


_LEAD_IN = re.compile(r"^(?:(?:full\s+|candidate\s+|applicant\s+)?name|resume(?:\s+of)?|résumé(?:\s+of)?|curriculum vitae|"
                      r"cv|profile|bio|about(?:\s+me)?|speaker|presenter|author|candidate|applicant|contact)?\s*"
                      r"[:：\-–—|]?\s*(?:(?:Dr|Prof|Mr|Mrs|Ms|Miss|Mx)\.?\s+)?$", re.IGNORECASE)


def _vocabulary(word: str) -> bool:
    low = word.lower().rstrip(".")
    return low in HEADING_WORDS or low in ROLE_WORDS or low in ORG_WORDS or low in MONTHS


@lru_cache(maxsize=2048)
def candidate_position(text: str, person: Person) -> bool:
    """Whether ``person``'s full name stands where a profile names its own person: alone (markup, a label such
    as "Name:" or "Resume of" and a separator aside) on one of its first three lines with letters, after "My
    name is", under a sign-off, or opening the text before a verb; else whether an email address spells it.
    A "name" made of heading, job-title, organisation or month words ("Personal Information") is none."""
    if person.first and person.last and all(_vocabulary(w) for w in f"{person.first} {person.last}".split()):
        return False
    header = _letter_lines(text, 3)
    sign_offs: list[int] | None = None  # found when the header does not name the person (the scan costs 40 us)
    for start, stop in iter_full_name_spans(text, person.first, person.last, person.middle):  # stops at the first
        for k, (position, line) in enumerate(header):
            if position <= start < position + len(line):
                lead = _clean(text[position:start])
                rest = text[stop:position + len(line)]
                if _LEAD_IN.match(lead) and rx(r"^[\s*_#\]|•·,(\-–—:]*(?:$|[|•·,(\-–—]|[A-Z]{2,4}\b)").match(rest):
                    return True
                if k == 0 and not lead and rx(r"^\s+[a-z]").match(rest):
                    return True  # a bio's opening subject: "Lakisha Washington codes."
        before = text[max(0, start - 30):start]
        if _INTRO.search(before):
            return True
        if sign_offs is None:
            sign_offs = [m.end() for m in _SIGN_OFF.finditer(text)]
        if any(0 <= start - s <= 60 and "\n" not in text[s:start].strip("\n ") for s in sign_offs):
            return True
        if _SENTENCE_START.search(before) and _OPENING_VERB.match(text, stop) and start < len(text) // 3 \
                and (start == 0 or text[:start].strip() == "" or "\n" in before):
            return True
    if person.first and person.last and "@" in text:  # (?<![a-z])FIRST[._-]?LAST\d*@, no regex per person
        f, l, low = person.first.lower(), rx(r"[^a-z]").sub("", person.last.lower()), text.lower()
        for spelled in (f + l, f + "." + l, f + "_" + l, f + "-" + l):
            position = low.find(spelled)
            while position >= 0:
                end = position + len(spelled)
                while end < len(low) and low[end].isdecimal():
                    end += 1
                if low[end:end + 1] == "@" and (position == 0 or not "a" <= low[position - 1] <= "z"):
                    return True
                position = low.find(spelled, position + 1)
    return False


@lru_cache(maxsize=2048)
def header_names_other(text: str, person: Person) -> str | None:
    """The name the profile's first line gives, when that line is only a name and not ``person``'s."""
    lines = _letter_lines(text, 8)
    if not lines:
        return None
    names = {p.lower() for p in (person.first, person.last) if p}
    for _, candidate in lines:
        if "name" not in candidate.lower():
            continue  # no label: _clean only removes markup, it joins no letters
        cleaned = _clean(candidate)
        if _LABEL.match(cleaned):  # "Name: Latonya Booker" names the candidate, whatever else the header says
            value = _LABEL.sub("", cleaned)
            if value and not {w.lower().rstrip(".") for w in value.split()} & names:
                return value
    line = _LABEL.sub("", _clean(lines[0][1]))
    line = rx(rf"^{_TITLE}\s+").sub("", line)
    words = line.split()
    if not 2 <= len(words) <= 4 or not all(rx(r"[^\W\d_][^\W\d_'’-]*\.?").fullmatch(w) and w[:1].isupper()
                                           for w in words):
        return None
    if any(w.lower().rstrip(".") in _NOT_NAME_WORDS for w in words):
        return None
    first = words[0][:1].upper() + words[0][1:].lower()
    last = words[-1][:1].upper() + words[-1][1:].lower()
    if first not in lexicons.first_name_table() and last not in lexicons.surname_table():
        return None
    if {w.lower().rstrip(".") for w in words} & names:
        return None
    return line


def pronoun_of_candidate(text: str, start: int, end: int) -> bool:
    """Whether the pronoun at ``text[start:end]`` can be the candidate's: not a surname ("J. He", "Kaiming He",
    "He, K."), not a pronoun of anyone ("he or she", "his/her"), not an honorific ("Her Majesty")."""
    word = text[start:end]
    before, after = text[max(0, start - 30):start], text[end:end + 16]
    if rx(r"(?:\b(?:he|him|his|she|her|hers)\s*(?:/|\bor\b)\s*|\(s\)|\bs/)$", re.IGNORECASE).search(before) or \
            rx(r"\s*(?:/|\bor\b)\s*(?:he|him|his|she|her|hers)\b", re.IGNORECASE).match(after):
        return False
    if rx(r"\s+(?:Majesty|Excellency|Highness|Holiness|Royal|Grace|Honou?r)\b", re.IGNORECASE).match(after):
        return False
    if word[:1].isupper():
        if _INITIALS.search(before) or rx(r",\s*(?:[A-Z]\.){1,3}(?:[,;\s]|$)").match(after):
            return False
        previous = rx(r"([A-Z][a-z]+)[ \t]+$").search(before)
        if previous and not _SENTENCE_START.search(("\n" if start <= 30 else "x") + before[:previous.start(1)]):
            return False
    return True


_RUNS = re.compile(r"([a-z]+)")


@lru_cache(maxsize=8192)
def link_canon(link: str, person: Person) -> str:
    """``link`` lower-cased with the spellings of ``person``'s name replaced by placeholders, so the same link
    for two people compares equal ("emily.walsh@x.org" and "greg.baker@x.org" -> "<f>.<l>@x.org" alike).

    Spellings: first and last name joined or apart ("emilywalsh", "walsh-emily"), an initial and the other
    part ("ewalsh", "emilyw"), and a part alone of three letters or more; no regex per person, so a new
    name costs nothing to compile.
    """
    f, l, whole, spellings = _canon_parts(person.first, person.last)
    lowered = link.lower()
    for spelled, letters in whole:
        lowered = lowered.replace(spelled, letters)
    if not f or not l:
        return lowered
    pieces = _RUNS.split(lowered)  # separators at even indices, letter runs at odd ones
    runs = list(pieces)
    fl, lf, fi_l, f_li = f + l, l + f, f[:1] + l, f + l[:1]
    for k in range(1, len(pieces), 2):
        run = runs[k]
        if run not in spellings:
            continue
        if run in (fl, lf):
            pieces[k] = "<f><l>" if run == fl else "<l><f>"
        elif run == fi_l and len(l) >= 2:
            pieces[k] = "<fi><l>"
        elif run == f_li and len(f) >= 3:
            pieces[k] = "<f><li>"
        elif run == f and (len(f) >= 3 or _next_run(runs, k) == l):
            pieces[k] = "<f>"
        elif run == l and (len(l) >= 3 or _previous_run(runs, k) == f):
            pieces[k] = "<l>"
        elif run == f[:1] and _next_run(runs, k) == l:
            pieces[k] = "<fi>"  # "e.walsh"
        elif run == l[:1] and _previous_run(runs, k) == f:
            pieces[k] = "<li>"  # "emily.w"
    return "".join(pieces)


@lru_cache(maxsize=4096)
def _canon_parts(first: str, last: str) -> tuple[str, str, tuple[tuple[str, str], ...], frozenset[str]]:
    """For :func:`link_canon`, once a name: its parts' letters, the spellings of a part with other characters
    ("smith-larson", "o'brien") and their letters, in the order they are replaced, and the runs a placeholder may
    stand for (a run that is none of them stays as it is)."""
    f = rx(r"[^a-z]").sub("", first.lower())
    l = rx(r"[^a-z]").sub("", last.lower())
    whole: list[tuple[str, str]] = []
    for raw in (first.lower(), last.lower()):
        if rx(r"[^a-z]").search(raw) and len(raw) > 3:  # "smith-larson", "o'brien" spelled whole in a link
            for spelled in {raw, raw.replace("'", "").replace("’", ""), raw.replace(" ", "")}:
                whole.append((spelled, rx(r"[^a-z]").sub("", spelled)))
    return f, l, tuple(whole), frozenset({f + l, l + f, f[:1] + l, f + l[:1], f, l, f[:1], l[:1]})


def _next_run(pieces: list[str], k: int) -> str:
    return pieces[k + 2] if k + 2 < len(pieces) and pieces[k + 1] in (".", "-", "_", "") else ""


def _previous_run(pieces: list[str], k: int) -> str:
    return pieces[k - 2] if k >= 2 and pieces[k - 1] in (".", "-", "_", "") else ""


__all__ = ["candidate_position", "candidate_word", "header_names_other", "link_canon", "pronoun_of_candidate"]
