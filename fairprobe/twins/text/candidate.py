"""Who a profile is about: the candidate, read from where a profile names its own person.

The header (the first lines, markup and labels such as "Name:" removed), the contact block, "My
name is ...", the signature under a sign-off, or the subject that opens a bio ("Sophie Martin is a
..."). A header that is only a name is read as the name even when its first name is on no list
("**DAQUAN WARE**"): the lists in :mod:`fairprobe.twins.lexicons` lack many names of some groups, and
a finder that needs them fails those groups. People named elsewhere (co-authors, a PI, references,
addressees) and employers or places are never taken for the candidate; when no such place names
anyone, there is no candidate (None), never a guess.
"""

from __future__ import annotations

import re
from functools import cache

from fairprobe.twins import lexicons
from fairprobe.twins.text.signals import HEADING_WORDS, MONTHS, ORG_WORDS, PLACES, ROLE_WORDS, Person
from fairprobe.twins.text.spans import rx

PARTICLES = frozenset("van von de da del della di la le du dos das ter ten bin ibn al el st. st".split())
TITLES_BEFORE = re.compile(r"^(?:Dr|Prof|Mr|Mrs|Ms|Miss|Mx|Sir|Dame|Rev|Engr?)\.?\s+", re.IGNORECASE)
SUFFIXES = re.compile(r"(?:,?\s+(?:Jr|Sr|II|III|IV|PhD|Ph\.D|MD|MBA|MSc|BSc|CPA|PE|RN|PMP|CFA|Esq)\.?)+\s*$")
_WORD = re.compile(r"^(?:[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*|[^\W\d_]\.(?:-?[^\W\d_]\.)*)$")
_MARKUP = re.compile(r"^[\s#*_>~=`|•·\-–—\[\](){}]+|[\s#*_>~=`|•·\-–—\[\](){}:]+$")
_LABEL = re.compile(r"^(?:(?:full|candidate(?:'s)?|applicant(?:'s)?|legal)\s+)?name\s*[:：\-–—]\s*", re.IGNORECASE)
_OF = re.compile(r"^(?:resume|résumé|curriculum vitae|cv|profile|bio|biography|about|speaker|presenter|author|"
                 r"candidate|applicant)\s*(?:of|for|[:：\-–—|])\s*", re.IGNORECASE)
_INTRO = re.compile(r"\b(?:[Mm]y name is|[Mm]y name's|I am|I'm|I’m|[Tt]his is)\s+")
_SIGN_OFF = re.compile(r"^\s*(?:sincerely|best regards|kind regards|warm regards|regards|best|thank you|thanks|"
                       r"yours truly|yours sincerely|yours faithfully|respectfully|warmly|cheers|with gratitude)"
                       r"[,.!]?\s*$", re.IGNORECASE)
_SUBJECT_VERB = re.compile(r"\s*(?:\([^)\n]{0,40}\)\s*)?(?:,\s+(?:a|an|the|PhD|MD)\b|\s+(?:is|was|has|had|leads|led|"
                           r"serves|served|joined|works|worked|holds|held|received|brings|specializes|specialises|"
                           r"focuses|currently|manages|managed|founded|teaches|taught|writes|wrote|earned|studied|"
                           r"graduated|began|started|helps|heads|directs|oversees|runs|builds|designs|develops)\b)")
_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z]{2,})[._-]([A-Za-z]{2,})\d*@[\w-]+(?:\.[\w-]+)+")
HEADER_LINES = 8


@cache
def _known_first() -> frozenset[str]:
    table = set(lexicons.first_name_table())
    table |= {n for s in lexicons.sexes() for r in lexicons.races() for n in lexicons.first_names(s, r)}
    return frozenset(table)


@cache
def _known_last() -> frozenset[str]:
    return frozenset(lexicons.surname_table()) | {n for r in lexicons.races() for n in lexicons.surnames(r)}


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def known_first_name(word: str) -> bool:
    """A first name of the census or Tzioumis lists ("Maria-Elena": its first part)."""
    return _cap(word.split("-")[0]) in _known_first()


def _plain(word: str) -> str:
    return word.lower().rstrip(".,:;")


def name_words(line: str, *, unknown_ok: bool) -> list[str] | None:
    """The words of ``line`` if it reads as a personal name (2 to 5 words, each a capitalised or capital-letter
    word, an initial or a particle; no heading, job-title, organisation, month or place word), else None.
    ``unknown_ok``: the first word need not be a known first name (a header that is only a name)."""
    words = line.split()
    if not 2 <= len(words) <= 5 or any(not _WORD.match(w) for w in words):
        return None
    core = [w for w in words if w not in PARTICLES]  # "de", "van"; but "Das" is a surname
    if len(core) < 2 or not all(w[:1].isupper() for w in core):
        return None
    if any(_plain(w) in HEADING_WORDS or _plain(w) in ROLE_WORDS or _plain(w) in ORG_WORDS or
           (_plain(w) in MONTHS and (k > 0 or not unknown_ok)) for k, w in enumerate(core)):  # "MAY ZHANG" is a name
        return None
    if not unknown_ok and (len(core[0]) == 1 or (core[0].endswith(".") and len(core[0]) <= 3 and len(core) == 2)):
        return None  # "J. Smith" in running text: an author's initial, not how a profile names its own person
    if all(w.isupper() for w in core) and all(len(w) <= 3 for w in core):
        return None  # "IT HR", "USA NY": acronyms
    if not unknown_ok and not known_first_name(core[0]):
        return None
    if not unknown_ok and _plain(core[0]) in PLACES and _plain(core[-1]) not in _known_last_lower():
        return None
    return words


@cache
def _known_last_lower() -> frozenset[str]:
    return frozenset(n.lower() for n in _known_last())


def _person(words: list[str]) -> Person:
    norm = lambda w: w.title() if w.isupper() and len(w) > 1 else w  # noqa: E731  (EMILY -> Emily, O'CONNOR -> O'Connor)
    words = [norm(w) for w in words]
    if len(words[0].rstrip(".")) == 1 and len(words) == 2:  # "B. Gokul", "R Arunravi": an initial, then the name
        return Person(words[0].rstrip("."), words[1], "", "")
    first = words[0]
    rest = words[1:]
    # the surname: the last word with any particles before it ("Ludwig van Beethoven", "Maria de la Cruz")
    k = len(rest) - 1
    while k > 0 and rest[k - 1].lower() in PARTICLES:
        k -= 1
    last, middle = " ".join(rest[k:]), " ".join(rest[:k])
    return Person(first, last, "", "", middle=middle)


def _clean(line: str) -> str:
    line = _MARKUP.sub("", line.strip())
    line = rx(r"\*\*|__|\*|`").sub("", line).strip()
    return _MARKUP.sub("", line).strip()


def _from_line(line: str, *, first_line: bool) -> Person | None:
    """The person a header line names: a label ("Name: X"), "Resume of X", the whole line, or its first part
    before a separator ("Mei Chen | Data Scientist", "Jose Garcia - Welder", "Maria-Elena Rodriguez, MBA")."""
    line = _clean(line)
    labelled = _LABEL.match(line) or _OF.match(line)
    if labelled:
        line = line[labelled.end():]
    line = TITLES_BEFORE.sub("", SUFFIXES.sub("", line)).strip()
    reversed_ = rx(r"^([^\W\d_][\w'’-]+),\s+([^\W\d_][\w'’-]+)(?:\s+([^\W\d_]\.?))?$").match(line)
    if reversed_ and known_first_name(reversed_.group(2)) and reversed_.group(1).lower() not in PLACES and \
            _plain(reversed_.group(1)) not in HEADING_WORDS:
        person = _person([reversed_.group(2), reversed_.group(1)])
        return Person(person.first, person.last, "", "", middle=reversed_.group(3) or "")
    words = name_words(line, unknown_ok=True)
    if not words and (labelled or first_line) and rx(r"[^\W\d_.]+(?:\.?[ \t]+[^\W\d_.]+){1,3}").fullmatch(line):
        words = name_words(line.title(), unknown_ok=True)  # "kimaya sonawane", "Tapan kumar Nayak"
        words = line.replace(".", ". ").split() if words else None
    if words and (labelled or first_line or known_first_name(words[0])):
        return _person(words)
    for part in rx(r"\s+[|•·/]\s+|\s+[-–—]\s+|,\s+").split(line):
        part = TITLES_BEFORE.sub("", SUFFIXES.sub("", _clean(part))).strip()
        words = name_words(part, unknown_ok=bool(labelled))
        if words:
            return _person(words)
        if any(_plain(w) in ROLE_WORDS or _plain(w) in ORG_WORDS for w in part.split()):
            return None  # "Senior Analyst, Morgan Stanley": after a job title comes an employer, not a name
    return None


def header_lines(text: str, count: int = HEADER_LINES) -> list[str]:
    """The first ``count`` lines of ``text`` that hold a letter."""
    out = []
    for line in text.splitlines():
        if any(map(str.isalpha, line)):
            out.append(line)
            if len(out) == count:
                break
    return out


def find_person(text: str) -> Person | None:
    """Who ``text`` is about: the name its header, "Name:" label, introduction, signature or opening subject
    gives, else the ``first.last@`` of an email address; None when nothing names the candidate.

    ``sex`` and ``race`` are left empty.

    Examples
    --------
    >>> find_person("**DAQUAN WARE**\\n\\n**Analyst** - *Morgan Stanley*").last
    'Ware'
    >>> find_person("Personal Information\\n---\\nName: Latonya Booker\\n").first
    'Latonya'
    >>> find_person("Dear Ms. Garcia,\\nI am applying.\\nSincerely,\\nGreg Walsh").last
    'Walsh'
    >>> find_person("Sophie Martin is a data engineer at Acme. She works with Julia and Ravi.").first
    'Sophie'
    >>> find_person("Experienced welder. Worked at Morgan Stanley with Dr. John Smith.") is None
    True
    """
    lines = header_lines(text)
    top = True  # no line but headings so far: the next line is where the header begins
    for line in lines:
        if _clean(line).lower().startswith("dear"):
            break
        # the line a header begins with is read as a name even when its words are on no list
        person = _from_line(line, first_line=top)
        if person:
            return person
        if top:
            words = _leading_name(TITLES_BEFORE.sub("", _clean(line)), unknown_ok=True, subject=True)
            if words:
                return _person(words)
        top = top and _is_heading(line)
    for match in _INTRO.finditer(text):
        words = _leading_name(text[match.end():match.end() + 80], unknown_ok=False)
        if words:
            return _person(words)
    all_lines = text.splitlines()
    for i, line in enumerate(all_lines):
        if _SIGN_OFF.match(line):
            for following in all_lines[i + 1:i + 3]:
                person = _from_line(following, first_line=True) if following.strip() else None
                if person:
                    return person
    email = _EMAIL.search(text)
    if email and known_first_name(email.group(1)) and not _EMAIL.search(text, email.end()):
        return Person(email.group(1).capitalize(), email.group(2).capitalize(), "", "")
    return None


def _is_heading(line: str) -> bool:
    """A line of heading words only ("**RESUME**", "[Personal Information]", "I. PERSONAL INFORMATION", "Profile")."""
    words = [_plain(w) for w in rx(r"[^\W\d_]+").findall(_clean(line))]
    return bool(words) and all(w in HEADING_WORDS or w in ("i", "ii", "iii", "of", "and", "the", "my") for w in words)


_LEADING = re.compile(r"[ \t]*([^\W\d_][\w'’-]*\.?)")


def _leading_name(text: str, *, unknown_ok: bool, subject: bool = False) -> list[str] | None:
    """The name that starts ``text`` (2 to 4 words), followed by a verb of a subject when ``subject``."""
    words: list[str] = []
    ends: list[int] = []
    position = 0
    while len(words) < 4:
        match = _LEADING.match(text, position)
        if not match:
            break
        word = match.group(1)
        if word.endswith(".") and len(word) > 2:  # a sentence ends here: "My name is Allison Schmidt. I ..."
            words.append(word[:-1])
            ends.append(match.end() - 1)
            break
        words.append(word)
        ends.append(match.end())
        position = match.end()
    while len(words) >= 2:
        candidate = name_words(" ".join(words), unknown_ok=unknown_ok)
        rest = text[ends[len(words) - 1]:]
        opens = bool(_SUBJECT_VERB.match(rest) or (known_first_name(words[0]) and rx(r"[ \t]+[a-z]").match(rest)))
        if candidate and (opens if subject else not rest[:1].isalpha()):
            return candidate
        words = words[:-1]
    return None


__all__ = ["find_person", "header_lines", "known_first_name", "name_words"]
