"""Finding a person's name in a profile and every mention of it: header lines, "Ms. Baker", possessives,
ALL-CAPS headers, nicknames ("Em Walsh"), "Baker, Emily", email addresses, profile URLs and handles.

:func:`find_person` reads who the profile is about from the text alone (the 1990 census first names
in :mod:`fairprobe.twins.lexicons`, position and capitalisation); :func:`name_mentions` finds each
mention of a known person; :func:`replace_names` rewrites them for another person, rebuilding
email addresses and URLs from the new name.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

from fairprobe.twins import lexicons
from fairprobe.twins.text.signals import Person, title_words, trie_pattern

TITLES = ("Ms.", "Mrs.", "Miss", "Mr.", "Dr.", "Prof.", "Ms", "Mrs", "Mr", "Dr")
# Capitalised words that follow a first name without being a surname ("Emily Software Engineer" never
# occurs, but a header such as "Grace Hopper Celebration" or "Will Lead" must not read as a person).
NOT_SURNAMES = frozenset("""I The A An And Of In At On For To With Resume Curriculum Vitae CV Profile Summary
Experience Education Skills Contact Email Phone Address Objective References Reference Software Engineer
Developer Manager Senior Junior Lead Data Scientist Analyst Designer Nurse Teacher Professor University College
School Institute Inc LLC Ltd Corp Company Street Avenue Road January February March April May June July August
September October November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday Hopper Celebration
Scholarship Award Foundation Society Association Club Team Group Center Centre Hospital Bank Dear Sincerely
Regards Best Thank Thanks LinkedIn GitHub Python Java SQL Excel Microsoft Google Amazon Apple""".split())
SIGN_OFFS = re.compile(r"(?:Sincerely|Best regards|Kind regards|Regards|Best|Thank you|Thanks|Yours truly|"
                       r"Respectfully|Warmly|Cheers),?\s*\n\s*", re.IGNORECASE)
_NAME_WORD = r"(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]{2,}(?:-[A-Z]{2,})?)"
_SURNAME = r"(?:(?:Mc|Mac|O['’]|De|Di|Van |Le )?[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]{2,}(?:-[A-Z]{2,})?|O['’][A-Z]{2,})"
# Names never run across a line break ("Profile\nBrendan Sullivan" is a heading and a name).
_FULL = re.compile(rf"(?<![\w@./'’-])(?P<first>{_NAME_WORD})(?:[ \t]+(?P<middle>[A-Z]\.|{_NAME_WORD}))?"
                   rf"[ \t]+(?P<last>{_SURNAME})(?![\w@'’-]|\.\w)")
_REVERSED = re.compile(rf"^\s*(?P<last>{_SURNAME}),\s+(?P<first>{_NAME_WORD})\s*$", re.MULTILINE)
_EMAIL_LOCAL = re.compile(r"(?<![\w.+-])([a-z]+)[._]([a-z]+)\d*@", re.IGNORECASE)


class Mention(NamedTuple):
    """One mention of the person: where it is, its kind, and the text."""

    start: int
    end: int
    kind: str  # full, reversed, nickname, first, last, titled, email, url, handle
    text: str


@cache
def _first_names() -> frozenset[str]:
    # The census lists lack many Asian first names; the name lexicon's own first names fill that gap.
    lexicon = {n for s in lexicons.sexes() for r in lexicons.races() for n in lexicons.first_names(s, r)}
    return frozenset(lexicons.census_first_names()) | lexicon


def _is_first_name(word: str) -> bool:
    first = word.split("-")[0]  # "Maria-Elena": the first part carries the census signal
    return first[:1].upper() + first[1:].lower() in _first_names()


def _is_surname(word: str) -> bool:
    return word[:1].upper() + word[1:].lower() not in NOT_SURNAMES and word not in NOT_SURNAMES


def _person(first: str, last: str, middle: str = "") -> Person:
    norm = lambda w: w.title() if w.isupper() else w  # noqa: E731  (EMILY -> Emily, O'CONNOR -> O'Connor)
    return Person(norm(first), norm(last), "", "", middle=norm(middle) if middle and not middle.endswith(".")
                  else middle)


def find_person(text: str) -> Person | None:
    """Who ``text`` is about, read from the text: the name in the header line, else "My name is ...",
    else the name under a sign-off ("Sincerely,"), else the first full name that is not an addressee
    ("Dear Ms. Jones"), else an email address ``first.last@``. ``sex`` and ``race`` are left empty.

    Examples
    --------
    >>> find_person("EMILY R. BAKER\\nemily.baker@mail.com\\nSoftware engineer.").first
    'Emily'
    >>> find_person("Dear Ms. Garcia,\\nI am applying.\\nSincerely,\\nGreg Walsh").last
    'Walsh'
    >>> find_person("Baker, Emily\\nData analyst").last
    'Baker'
    """
    lines = text.lstrip().splitlines()
    header = lines[0] if lines else ""
    if not header.lower().startswith("dear"):
        match = _REVERSED.match(header)
        if match and _is_first_name(match["first"]) and _is_surname(match["last"]):
            return _person(match["first"], match["last"])
        # "Emily Baker", "Resume of Emily Baker", "Name: Emily Baker", "linkedin.com/in/x | Mei Chen"; a header
        # that is only a name may also hold a first name the lists lack ("Xiu Tran").
        candidate = _candidate(header[:100], addressee=False) or _candidate(header[:80], addressee=False,
                                                                            anchored=True)
        if candidate:
            return candidate
    for match in re.finditer(r"\b(?:[Mm]y name is|I am|I'm|I’m)\s+", text):
        candidate = _candidate(text[match.end():match.end() + 60], addressee=False, anchored=True)
        if candidate:
            return candidate
    for match in SIGN_OFFS.finditer(text):
        candidate = _candidate(text[match.end():match.end() + 60], addressee=False, anchored=True)
        if candidate:
            return candidate
    candidate = _candidate(text, addressee=True)
    if candidate:
        return candidate
    match = _EMAIL_LOCAL.search(text)
    if match and _is_first_name(match.group(1)) and len(match.group(2)) > 1:
        return _person(match.group(1).capitalize(), match.group(2).capitalize())
    return None


def _candidate(text: str, *, addressee: bool, anchored: bool = False) -> Person | None:
    """The first full name in ``text``; ``anchored``: it must start the text (a header, after "My name is")
    and then its first name need not be a known one."""
    position = 0
    while True:
        match = _FULL.search(text, position)
        if match is None:
            return None
        position = match.start() + 1  # "Contact Emily Baker": a rejected match may hide one a word later
        if anchored and text[:match.start()].strip():
            return None
        first, middle, last = match["first"], match["middle"] or "", match["last"]
        if not (_is_first_name(first) or (anchored and _is_surname(first))) or not _is_surname(last) or (
                middle and not middle.endswith(".") and not _is_first_name(middle)):
            continue
        before = text[max(0, match.start() - 12):match.start()]
        if addressee and re.search(r"(?:Dear|Attn:?|To:?|cc:?)\s+(?:\w+\.?\s+)?$", before, re.IGNORECASE):
            continue
        if addressee and re.search(r"\b(?:Dr|Prof|Mr|Mrs|Ms)\.?\s+$", before):
            continue  # references and addressees carry titles; the subject's own header does not
        return _person(first, last, middle)


_LINKS = re.compile(r"(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
                    r"|(?P<url>(?:https?://)?(?:www\.)?(?:linkedin\.com/in|github\.com|gitlab\.com|twitter\.com|x\.com)"
                    r"/[\w.-]+)|(?<![\w.])(?P<handle>@[A-Za-z][\w.-]*\w)")


@lru_cache(maxsize=4096)
def _mention_patterns(first: str, last: str, middle: str) -> tuple[re.Pattern, re.Pattern]:
    """An anchor pattern (any name part, nickname prefix or title) and the multi-word forms matched at an anchor."""
    f, s = re.escape(first), re.escape(last)
    nicks = [first[:k] for k in range(len(first) - 1, 1, -1)] if len(first) > 3 else []
    titles = sorted(title_words() | {"Dr.", "Prof.", "Dr"}, key=len, reverse=True)
    anchor = re.compile(rf"(?<![\w@./'’-])(?:{trie_pattern({first, last, *nicks, *titles} - {''})})(?!\w)",
                        re.IGNORECASE)
    mid = rf"(?:\s+(?:{re.escape(middle)}|[A-Z]\.))?" if middle else r"(?:\s+[A-Z]\.)?"
    forms = [rf"(?P<full>{f}{mid}\s+{s})" if first else None, rf"(?P<reversed>{s},\s+{f})" if first and last else None,
             rf"(?P<nickname>(?:{'|'.join(map(re.escape, nicks))})\s+{s})" if nicks and last else None,
             rf"(?P<titled>(?:{'|'.join(map(re.escape, titles))})\s+{s})" if last else None]
    multi = re.compile("(?:" + "|".join(p for p in forms if p) + r")(?!\w)", re.IGNORECASE)
    return anchor, multi


def _cased(word: str) -> bool:
    """Title case or all capitals: a name, not the common word ("baker", "rose")."""
    return word[:1].isupper()


def _names_in(token: str, person: Person) -> bool:
    low = token.lower()
    letters = lambda w: re.sub(r"[^a-z]", "", w.lower())  # noqa: E731  (O'Brien -> obrien)
    return any(len(p) > 2 and (p.lower() in low or letters(p) in low) for p in (person.first, person.last)) or bool(
        person.first and person.last and re.search(rf"(?<![a-z]){re.escape(person.first[0].lower())}[._-]?"
                                                   rf"{re.escape(letters(person.last))}", low))


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
        for match in _LINKS.finditer(text):
            kind, value = match.lastgroup or "", match.group()
            if _names_in(value.split("@")[0] if kind == "email" else value, person):
                out.append(Mention(match.start(), match.end(), kind, value))
    links = [(m.start, m.end) for m in out]
    anchor, multi = _mention_patterns(person.first, person.last, person.middle)
    first, last = person.first.lower(), person.last.lower()
    consumed = -1
    for match in anchor.finditer(text):
        start = match.start()
        if start < consumed or any(a <= start < b for a, b in links):
            continue
        form = multi.match(text, start)
        if form is not None and _cased(form.group()):
            out.append(Mention(start, form.end(), form.lastgroup or "", form.group()))
            consumed = form.end()
            continue
        token = match.group()
        kind = "first" if token.lower() == first else "last" if token.lower() == last else ""
        if kind and _cased(token) and _alone(text, start, match.end(), kind):
            out.append(Mention(start, match.end(), kind, token))
    return sorted(out)


def _alone(text: str, start: int, end: int, kind: str) -> bool:
    """A bare surname or first name that is not part of another capitalised name ("Baker Hughes", "Jack Baker")."""
    after = re.match(r"\s+([A-Z][\w'’-]*)", text[end:end + 30])
    if after and not re.match(r"\s*[.!?:;\n]", text[end:end + 2]) and after.group(1) not in NOT_SURNAMES:
        return False
    before = re.search(r"([A-Z][\w'’-]*)\s+$", text[max(0, start - 30):start])
    if kind == "last" and before and not re.search(r"[.!?:;\n]\s*[A-Z][\w'’-]*\s+$", text[max(0, start - 32):start]):
        return before.group(1) in NOT_SURNAMES
    return True


def _forms(person: Person) -> list[tuple[str, str]]:
    """(template, local part) pairs: how an email address or handle spells a name ("{f}.{l}" -> "emily.baker")."""
    f, l = person.first.lower(), re.sub(r"[^a-z-]", "", person.last.lower())
    out = []
    for sep in ("", ".", "_", "-"):
        out += [(f"{{f}}{sep}{{l}}", f"{f}{sep}{l}"), (f"{{l}}{sep}{{f}}", f"{l}{sep}{f}"),
                (f"{{fi}}{sep}{{l}}", f"{f[:1]}{sep}{l}"), (f"{{f}}{sep}{{li}}", f"{f}{sep}{l[:1]}")]
    return out + [("{f}", f), ("{l}", l)]


def _rebuild(value: str, old: Person, new: Person) -> str:
    """An email address, URL or handle with the old name's spelling replaced by the new one's, case kept."""
    match = re.match(r"^(.*?)([A-Za-z][\w.-]*?)(\d*)(@.*)?$", value.rsplit("/", 1)[-1] if "/" in value else value)
    head = value.rsplit("/", 1)[0] + "/" if "/" in value else ""
    if match is None:
        return value
    prefix, local, digits, domain = match.group(1), match.group(2), match.group(3), match.group(4) or ""
    f, l = new.first.lower(), re.sub(r"[^a-z-]", "", new.last.lower())
    for template, spelled in _forms(old):
        if spelled and local.lower() == spelled:
            rebuilt = template.format(f=f, l=l, fi=f[:1], li=l[:1])
            if not local.islower():  # LinkedIn URLs keep capitals: EmilyBaker -> GregWalsh
                rebuilt = template.format(f=new.first, l=new.last.replace(" ", ""), fi=new.first[:1],
                                          li=new.last[:1])
            return f"{head}{prefix}{rebuilt}{digits}{domain}"
    for a, b in ((old.first, new.first), (old.last, new.last)):  # a name inside a longer handle: "emilyb.codes"
        if a and len(a) > 2:
            local = re.sub(re.escape(a), b.lower(), local, flags=re.IGNORECASE)
    return f"{head}{prefix}{local}{digits}{domain}"


def replace_names(text: str, old: Person, new: Person) -> str:
    """``text`` with every mention of ``old`` replaced by ``new``'s name in the same form and case.

    Examples
    --------
    >>> old, new = Person("Emily", "Baker", "female", "white"), Person("Greg", "Walsh", "male", "white")
    >>> replace_names("EMILY BAKER | emily.baker@mail.com | linkedin.com/in/emilybaker. Ms. Baker's code.", old, new)
    "GREG WALSH | greg.walsh@mail.com | linkedin.com/in/gregwalsh. Ms. Walsh's code."
    """
    if (old.first, old.last) == (new.first, new.last):
        return text
    parts, end = [], 0
    for m in name_mentions(text, old):
        parts.append(text[end:m.start])
        if m.kind == "full":
            middle = re.search(r"\s+([A-Z]\.)\s+", m.text)
            replacement = f"{new.first} {middle.group(1)} {new.last}" if middle else f"{new.first} {new.last}"
        elif m.kind == "reversed":
            replacement = f"{new.last}, {new.first}"
        elif m.kind == "nickname":
            replacement = f"{new.first} {new.last}"
        elif m.kind == "titled":
            title = m.text[:len(m.text) - len(old.last)].rstrip()
            replacement = f"{title} {new.last}"
        elif m.kind == "first":
            replacement = new.first
        elif m.kind == "last":
            replacement = new.last
        else:
            replacement = _rebuild(m.text, old, new)
        parts.append(replacement.upper() if m.kind in ("full", "reversed", "first", "last", "nickname")
                     and m.text.isupper() and len(m.text) > 1 else replacement)
        end = m.end
    return "".join(parts) + text[end:]
