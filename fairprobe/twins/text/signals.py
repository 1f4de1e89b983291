"""What signals sex in a profile, and where: pronouns, the swap lexicon with its context rules, titles,
age cues, and the residual signals no swap can remove (package data in :mod:`fairprobe.twins.lexicons`).

The rewriter, the validator, the masking and the residual audit all read these, so a word the
rewriter swaps is exactly a word the validator checks.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

from fairprobe.twins import lexicons
from fairprobe.twins.text.spans import Prefilter, rx

FEMALE, MALE = "female", "male"
OTHER_SEX = {FEMALE: MALE, MALE: FEMALE}


@dataclass(frozen=True)
class Person:
    """Whose profile it is: the name and the protected values it signals (``middle``: a middle name or initial)."""

    first: str
    last: str
    sex: str
    race: str
    age: int | None = None
    middle: str = ""


PRONOUNS = {FEMALE: frozenset({"she", "her", "hers", "herself"}), MALE: frozenset({"he", "him", "his", "himself"})}
# "he'll", "she'd", "he's", "she's", "he's been": the contraction follows the pronoun unchanged.
CONTRACTION = r"['’](?:ll|d|s|re|ve|m)"
MONTHS = frozenset("january february march april may june july august september october november december jan feb "
                   "mar apr jun jul aug sep sept oct nov dec".split())
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
US_STATE_CODES = frozenset("AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
                           "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC".split())
# Places that are also first names or surnames ("Austin, TX", "based in Charlotte", "Jackson, MS"): a name there is
# the place, not the person.
PLACES = frozenset("""austin dallas houston jackson charlotte madison tyler florence georgia virginia carolina sydney
paris adelaide victoria chelsea phoenix denver orlando savannah aurora cleveland lincoln raleigh jordan india china
camden kent kingston logan preston salem sharon trenton warren york chester clinton franklin hamilton lafayette
marion milton monroe mason quincy richmond shelby troy vernon washington wesley winston beverly brooklyn dakota
eugene helena irving jackie lansing montgomery nashville peoria regina reno roswell santiago hudson london berlin
dublin brighton""".split())
# Words that make a header line a heading or a job title, not a name ("Personal Information", "Senior Analyst").
HEADING_WORDS = frozenset("""resume résumé curriculum vitae cv bio biography profile summary experience experiences
education skills skill contact contacts information info personal professional work employment history objective
objectives references reference projects project certifications certification certificates languages achievements
awards publications details career qualifications qualification background overview about key core competencies
technical interests hobbies activities volunteer volunteering training courses accomplishments highlights expertise
strengths declaration address phone email mobile tel telephone date birth nationality name full page cover letter
application statement portfolio academic academics employment internship internships research teaching service
leadership memberships affiliations additional other relevant selected honors honours responsibilities duties
role roles job jobs position positions company companies present current linkedin github website http https www
""".split())
ROLE_WORDS = frozenset("""engineer engineering developer manager analyst specialist associate consultant director
assistant intern officer executive administrator architect designer scientist nurse teacher accountant coordinator
supervisor representative lead senior junior head chief president vice technician programmer tester trainee fresher
student graduate professor lecturer researcher owner founder partner clerk cashier agent advisor adviser counselor
counsellor recruiter generalist auditor attorney lawyer paralegal editor writer sales marketing finance financial hr
human resources operations software data store retail customer support services service business development
product project program programme team staff member""".split())
ORG_WORDS = frozenset("""inc inc. llc ltd ltd. corp corp. corporation company co co. group bank university college
school institute technologies technology solutions systems services consulting labs lab hospital foundation
association society club center centre department agency academy limited pvt plc gmbh ag sa holdings partners
enterprises industries international global capital insurance securities""".split())
TO_MALE = {"she": "he", "herself": "himself", "hers": "his"}
TO_FEMALE = {"he": "she", "him": "her", "himself": "herself"}
# After an object pronoun ("gave it to her for ...") rather than a possessive one ("her team").
FOLLOWERS_OF_OBJECT = frozenset({
    "to", "for", "with", "by", "at", "from", "about", "on", "in", "into", "as", "than", "and", "or", "but", "a",
    "an", "the", "this", "that", "these", "those", "when", "while", "because", "if", "so", "up", "out", "over",
    "after", "before", "during", "through", "of", "again", "too", "back", "once", "twice", "since", "until",
    "every", "each", "all", "both", "last", "first", "here", "there", "today", "now", "then", "yet", "already"})
# Adjectives read after "her": "calls her dependable." (object) against "her dependable code" (possessive).
ADJECTIVES = frozenset({
    "happy", "proud", "busy", "ready", "great", "smart", "brilliant", "talented", "dedicated", "competent",
    "efficient", "thorough", "honest", "calm", "kind", "fair", "tough", "invaluable", "indispensable", "sharp",
    "quick", "diligent", "meticulous", "resourceful", "trustworthy", "dependable", "reliable", "capable",
    "outstanding", "exceptional", "excellent", "organised", "organized", "creative", "confident", "curious"})
NOT_ADVERBS = frozenset({"family", "only", "supply", "assembly", "ally", "rally", "anomaly", "monopoly", "italy",
                         "july", "early", "daily", "weekly", "monthly", "quarterly", "yearly", "holly", "emily",
                         "lily", "kelly", "molly", "sally", "butterfly", "reply", "apply", "fly", "belly"})
TOKEN = re.compile(r"\w+(?:[.'’-]\w+)*\.?|[^\w\s]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
AGE_CUE = re.compile(r"\b(?P<years>\d{1,3})(?=[- ]years?[- ]old\b)"
                     r"|(?<=\b[Aa]ged )(?P<aged>\d{1,3})\b|(?<=\b[Aa]ge: )(?P<age>\d{1,3})\b"
                     r"|(?<=\b[Aa]ge )(?P<age2>\d{1,3})\b|(?<=\b[Bb]orn in )(?P<born>\d{4})\b")
# "is a proud", "as a single", "I'm a", "became an": the words before a noun that describes the subject.
_COPULA = re.compile(r"(?:\b(?:is|was|am|are|be|been|being|became|become|becomes|as)|['’]m)\s+"
                     r"(?:(?:a|an|the|one)\s+)?((?:[a-z][\w-]*\s+){0,3})$", re.IGNORECASE)
_LINE_START = re.compile(r"(?:^|[\n•|;!?]\s*|[.:]\s+|\s[-–—]\s+)((?:[A-Za-z][\w-]*\s+){0,2})$")
_AND = re.compile(r"\s+(?:and|or|&)\s+(?:(?:a|an)\s+)?((?:[a-z][\w-]*\s+){0,3})$", re.IGNORECASE)
_APPOSITIVE = re.compile(r",\s+(?:a|an)\s+((?:[a-z][\w-]*\s+){0,3})$", re.IGNORECASE)
# Words that, before a role noun, make it someone else's ("her daughter", "my mother", "the team's host").
OWNERS = frozenset({"her", "his", "my", "their", "our", "your", "its", "of", "and", "with", "for", "to", "the",
                    "whose", "by", "from"})


def case_like(word: str, model: str) -> str:
    """``word`` in ``model``'s case: UPPER, Title or as it is."""
    if model.isupper() and len(model) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


class Pair(NamedTuple):
    female: str
    male: str
    to_male: str
    to_female: str
    kind: str


@cache
def pairs() -> tuple[Pair, ...]:
    return tuple(Pair(p["female"], p["male"], p["to_male"], p["to_female"], p["kind"]) for p in lexicons.gender_pairs())


@cache
def swaps(target: str) -> dict[str, tuple[str, str]]:
    """Lower-cased word of the other sex -> (its counterpart, scope) for a twin of sex ``target``."""
    out: dict[str, tuple[str, str]] = {}
    for p in pairs():
        old, new, scope = (p.female, p.male, p.to_male) if target == MALE else (p.male, p.female, p.to_female)
        if scope and old.lower() not in out:
            out[old.lower()] = (new, scope)
    return out


def trie_pattern(words: list[str] | set[str] | frozenset[str]) -> str:
    """A regex matching any of ``words``, as a trie: one pass tries each character once, not each word (3x faster)."""
    root: dict = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(node[ch]) for ch in sorted(k for k in node if k)]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


@cache
def words_pattern(target: str) -> re.Pattern:
    """Pronouns and lexicon words of the sex a ``target`` twin no longer has, longest first, with a possessive
    (or, after a pronoun, a contraction: "she'll")."""
    old = OTHER_SEX[target]
    body = trie_pattern(set(swaps(target)) | PRONOUNS[old]).replace(r"\ ", r"\s+")
    return re.compile(rf"(?<![\w@./'’-])(?P<w>{body})(?:(?P<contr>{CONTRACTION})(?!\w)|(?P<pos>['’]s|['’](?=\s|$|[^\w])))?"
                      rf"(?![\w'’-])", re.IGNORECASE)


@cache
def words_prefilter(target: str) -> Prefilter:
    """:func:`words_pattern`'s words: a text that holds none of them has no match (most texts)."""
    return Prefilter(set(swaps(target)) | PRONOUNS[OTHER_SEX[target]])


def has_words(text: str, target: str) -> bool:
    """Whether :func:`words_pattern` (``target``) matches in ``text``; most texts are ruled out by their words."""
    return words_prefilter(target).may_match(text) and words_pattern(target).search(text) is not None


@cache
def title_words() -> frozenset[str]:
    return frozenset(w for p in pairs() if p.kind == "title" for w in (p.female, p.male))


# Words that, between a line's start and a role noun, show the noun is not the line's subject ("He grew host
# revenue", "Managed host onboarding"): pronouns, determiners and verbs in the past tense.
NOT_MODIFIERS = OWNERS | frozenset({"he", "she", "i", "we", "they", "you", "it", "this", "that", "these",
                                    "those", "grew", "led", "ran", "built", "made", "won", "taught", "drove", "met",
                                    "hired", "trained", "supported", "helped", "mentored", "served", "became"})


def _adjectives_ok(run: str) -> bool:
    return not any(w.lower() in OWNERS for w in run.split())


def _line_modifiers_ok(run: str) -> bool:
    return not any(w.lower() in NOT_MODIFIERS or (w.lower().endswith("ed") and len(w) > 4) for w in run.split())


def about_subject(text: str, start: int, end: int) -> bool:
    """Whether the role noun at ``text[start:end]`` describes the profile's subject.

    "Emily is a proud mother of two", "Worked as a hostess", a line that starts "Stay-at-home mom",
    ", a mother of two," do; "her daughter's school", "reported to the chairwoman" do not.
    """
    before = text[max(0, start - 60):start]
    for pattern in (_COPULA, _APPOSITIVE):
        match = pattern.search(before)
        if match and _adjectives_ok(match.group(1)):
            return True
    match = _LINE_START.search(before)
    if match and _line_modifiers_ok(match.group(1)):
        return True
    match = _AND.search(before)  # "a single mother and a stay-at-home mom": the first noun's context decides
    if match and _adjectives_ok(match.group(1)):
        head = rx(r"([\w-]+)\s*$").search(before[:match.start()])
        if head is None:
            return False
        return about_subject(text, start - len(before) + head.start(1), start - len(before) + head.end(1))
    return False


# A word of a proper name: capitalised, after a space (not at a sentence start) or before a capitalised word.
_CAP_BEFORE = re.compile(r"(?:^|(?<=[^\w'’.-]))([A-Z][\w'’.&-]*)[ \t]+$")
_CAP_AFTER = re.compile(r"(?:['’]s?)?[ \t]+(?:(?:of|for|in|and|&|the|de|at|on)[ \t]+)?([A-Z][\w'’&-]*)")
_SENTENCE_END = re.compile(r"(?:^|[.!?:;•|*#>\n(\[-]|\s[-–—])\s*$")
HONORIFICS = frozenset({"majesty", "majesty's", "excellency", "highness", "holiness", "honour", "honor", "royal",
                        "grace", "lordship", "ladyship"})
GENDERED_IN_NAMES = {FEMALE: frozenset("women women's womens woman woman's womans girls girls' girl girl's ladies "
                                       "ladies' lady sorority sororities sisterhood mahila kanya".split()),
                     MALE: frozenset("men men's mens man's boys boys' boy boy's gentlemen gentlemen's fraternity "
                                     "fraternities brotherhood".split())}


def in_proper_name(text: str, start: int, end: int) -> bool:
    """Whether the word at ``text[start:end]`` belongs to a proper name ("Women's Leadership Forum", "Convent
    Girls' High School", "Alpha Kappa Alpha Sorority", "Kappa Delta sorority", "Women in Finance").

    A capitalised word followed by a capitalised word (across "of", "for", "in", "and", "&", "the"), or
    preceded by a capitalised word that does not start the sentence, is in a proper name; so is a
    lower-case word right after a capitalised word that does not start the sentence.
    """
    before = text[max(0, start - 40):start]
    prev = _CAP_BEFORE.search(before)
    prev_in_name = prev is not None and not _SENTENCE_END.search(before[:prev.start(1)]) and not \
        prev.group(1).endswith(("'s", "’s", ",")) and prev.group(1).lower() not in HEADING_WORDS
    if not text[start:start + 1].isupper():
        return prev_in_name
    after = _CAP_AFTER.match(text, end)
    numbered = rx(r"[ \t]*\d").match(text[end:end + 3])  # "Prince 2 Practitioner": PRINCE2, a certificate
    return prev_in_name or bool(after and after.group(1).lower() not in {"i"}) or bool(numbered)


# Idioms and labels whose gendered word or pronoun is nobody's or a relative's, never the subject's: "Mother tongue:
# Telugu", "Father's name: Ramesh" (Indian resumes), "every man for himself", "no man's land", "man-hours".
IDIOMS = ("mother tongue", "mother of all", "mother nature", "mother ship", "mother company", "mother board",
          "father name", "father's name", "mother name", "mother's name", "husband name", "husband's name",
          "wife name", "wife's name", "mother's maiden name", "father's occupation", "mother's occupation",
          "every man for himself", "every woman for herself", "no man is an island", "no man's land",
          "man in the middle", "man hours", "man hour", "man days", "man day", "man months", "man month",
          "man years", "man year", "old wives' tale", "old wives' tales", "old wives tale", "old wives tales",
          "man of the match", "woman of the match", "founding fathers", "big brother", "son of a gun",
          "boys will be boys")
_IDIOM = re.compile(r"(?<![\w'’-])(?:" + "|".join(
    r"[\s-]+".join(re.escape(w).replace("'", "['’]") for w in idiom.split())
    for idiom in sorted(IDIOMS, key=len, reverse=True)) + r")(?![\w'’])", re.IGNORECASE)


def in_idiom(text: str, start: int, end: int) -> bool:
    """Whether the word at ``text[start:end]`` is inside one of :data:`IDIOMS` ("Mother tongue", "every man for
    himself"): not the subject's, never swapped."""
    for match in _IDIOM.finditer(text, max(0, start - 40), min(len(text), end + 60)):  # idioms are shorter
        if match.start() <= start and end <= match.end():
            return True
    return False


def with_counterpart(text: str, start: int, end: int, counterpart: str) -> bool:
    """Whether the word at ``text[start:end]`` stands beside its other-sex counterpart ("men's and women's
    watches", "boys and girls"): a phrase of both sexes, not the subject's."""
    window = text[max(0, start - 30):end + 30].lower()
    c = re.escape(counterpart.lower())
    # the counterpart is a word of the lexicon (package data, a few hundred): its two patterns are kept compiled
    return bool(rx(rf"\b{c}(?:['’]s?)?\s*(?:and|or|&|/|,)\s*\S*$").search(text[max(0, start - 30):start].lower())
                or rx(rf"(?:['’]s?)?\s*(?:and|or|&|/|,)\s*{c}\b").match(text[end:end + 30].lower())) and bool(window)


_CAP_RUN = re.compile(r"(?<![\w'’])[A-Z][\w'’&.-]*(?:[ \t]+(?:(?:of|for|in|&|the)[ \t]+)?[A-Z][\w'’&.-]*)*"
                      r"(?:[ \t]+(?:sorority|fraternity|sororities|fraternities)\b)?")


_PREPOSITIONS = frozenset("in at on from with for by to of as".split())


# Every place a word of GENDERED_IN_NAMES may stand as a whole word (a superset: "Women.Inc" too), so that only
# the capitalised runs around one are read word by word.
_GENDERED_HINT = re.compile(r"(?<![\w'’])(?:" + trie_pattern(GENDERED_IN_NAMES[FEMALE] | GENDERED_IN_NAMES[MALE]) +
                            r")\.*(?![\w'’&-])", re.IGNORECASE)
_GENDERED_WORDS = Prefilter(GENDERED_IN_NAMES[FEMALE] | GENDERED_IN_NAMES[MALE])


def gendered_proper_names(text: str) -> list[tuple[int, int, str]]:
    """(start, end, sex) of each proper name of two or more words that holds a gendered word ("Women in
    Finance", "Convent Girls' High School"): residual signals, never swapped."""
    if not _GENDERED_WORDS.may_match(text):
        return []
    hints = [m.start() for m in _GENDERED_WORDS.finditer(_GENDERED_HINT, text)]
    if not hints:
        return []
    out = []
    for match in _CAP_RUN.finditer(text):
        k = bisect.bisect_left(hints, match.start())
        if k == len(hints) or hints[k] >= match.end():
            continue  # no gendered word in this run
        start, words = match.start(), match.group().split()
        if len(words) > 2 and words[1] in ("of", "for", "in", "the") and _SENTENCE_END.search(text[:start]):
            start = text.index(words[2], start)  # "Studied at the Women's ...": the sentence's first word is no part
            words = words[2:]
        if words and words[0].lower() in _PREPOSITIONS:
            start = text.index(words[1], start) if len(words) > 1 else match.end()
            words = words[1:]
        if len(words) < 2:
            continue
        lowered = {w.lower().rstrip(".,") for w in words}
        found = [sex for sex, gendered in GENDERED_IN_NAMES.items() if lowered & gendered]
        if len(found) == 1:  # "Boys & Girls Club" signals neither
            out.append((start, match.end(), found[0]))
    return out


@cache
def _subject_roles() -> frozenset[str]:
    return frozenset(w.lower() for p in pairs() if p.to_male == "subject" or p.to_female == "subject"
                     for w in (p.female, p.male) if " " not in w)


_ROLE_BEFORE = re.compile(r"([A-Za-z-]+)(?=[^.;:!?\n]{0,40}$)")


def coordinated(text: str, start: int) -> bool:
    """Whether the role noun starting at ``start`` is joined ("and", "or", "&", a comma) to an earlier role noun of
    either sex that describes the subject: "a proud father of 3 and husband of 1"."""
    before = text[max(0, start - 60):start]
    roles = _subject_roles()
    for match in _ROLE_BEFORE.finditer(before):
        word = match.group(1).lower()
        if word in roles:
            absolute = start - len(before) + match.start(1)
            between = text[absolute + len(word):start]
            if rx(r"\band\b|\bor\b|&|,").search(between) and about_subject(text, absolute, absolute + len(word)):
                return True
    return False


_WORDS_AFTER = re.compile(r"([^\w]*)(\w[\w'’-]*)")


def _is_modifier(word: str) -> bool:
    return word in ADJECTIVES or (len(word) > 4 and word.endswith(("ly", "able", "ible")) and word not in NOT_ADVERBS)


def object_position(text: str, end: int) -> bool:
    """Whether "her" / "his" ending at ``end`` stands alone (object "him", pronoun "hers") rather than before a noun.

    "promoted her quickly.", "found her reliable and", "gave her the award" -> alone; "her newly formed
    team", "her own company", "her code" -> before a noun.
    """
    position = end
    for _ in range(4):
        match = _WORDS_AFTER.match(text, position)
        if match is None or any(ch in match.group(1) for ch in ".,;:!?)\n"):
            return True
        word = match.group(2).lower()
        if word in FOLLOWERS_OF_OBJECT:
            return True
        if word == "own" or not _is_modifier(word):
            return False
        position = match.end()
    return False


class ResidualIndex:
    """The residual-signal phrases as two tries (acronyms case-sensitive, others not), for one C-level scan."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {}
        for row in lexicons.residual_signals():
            self.rows.setdefault(row["phrase"] if row["phrase"].isupper() else row["phrase"].lower(), []).append(row)
        upper = {p for p in self.rows if p.isupper()}
        other = {p for p in self.rows if not p.isupper()}
        edge = r"(?![\w])"
        self.upper = re.compile(rf"(?<![\w'’]){trie_pattern(upper)}{edge}") if upper else None
        self.other = re.compile(rf"(?<![\w'’])(?=(?-i:[A-Z])){trie_pattern(other)}{edge}", re.IGNORECASE) if other else None
        self.words = Prefilter(self.rows)  # any case: the acronyms' matches too

    def find(self, text: str) -> list[tuple[int, int, dict]]:
        """(start, end, row) of each residual signal in ``text``; acronyms match in capitals only."""
        found: list[tuple[int, int, str]] = []
        if not self.words.may_match(text):
            return []
        for pattern, key in ((self.upper, str), (self.other, str.lower)):
            if pattern is not None:
                found += [(m.start(), m.end(), key(m.group())) for m in self.words.finditer(pattern, text)
                          if m.group()[:1].isupper()]
        out: list[tuple[int, int, dict]] = []
        last_end = -1
        for start, end, phrase in sorted(found, key=lambda f: (f[0], -f[1])):
            if start < last_end:
                continue
            out += [(start, end, row) for row in self.rows[phrase]]  # a phrase may signal sex and race: both rows
            last_end = end
        return out


_CAPITALISED = re.compile(r"(?<![\w'’])[A-Z][\w.'’&-]*")


def _key(word: str) -> str:
    return word.rstrip(".'’-").lower()


@cache
def residual_index() -> ResidualIndex:
    return ResidualIndex()


@lru_cache(maxsize=1024)
def protected_phrases(text: str) -> tuple[tuple[tuple[int, int, dict], ...], tuple[tuple[int, int, str], ...]]:
    """The listed residual signals and the proper names with a gendered word in ``text``, found once for the
    rewriter (which leaves them alone) and the residual report (which counts them)."""
    return tuple(residual_index().find(text)), tuple(gendered_proper_names(text))


def age_cues(text: str) -> list[tuple[int, int, str, int]]:
    """(start, end, kind, value) of each explicit age cue; kind is "age" or "born" (a year)."""
    return [(m.start(), m.end(), "born" if m.lastgroup == "born" else "age", int(m.group()))
            for m in AGE_CUE.finditer(text)]


# Values a table may use for sex and race, read as the lexicon's groups (lower-cased first).
GROUP_ALIASES = {"f": FEMALE, "woman": FEMALE, "women": FEMALE, "m": MALE, "man": MALE, "men": MALE,
                 "asian-pac-islander": "asian", "asian or pacific islander": "asian", "api": "asian",
                 "african-american": "black", "african american": "black", "black or african american": "black",
                 "caucasian": "white", "latino": "hispanic", "latina": "hispanic", "latinx": "hispanic",
                 "hispanic or latino": "hispanic"}


def lexicon_group(value: object, kind: str, groups: dict | None = None) -> str:
    """The lexicon's group ("female", "black", ...) for a table's value ("Female", "F", "Black")."""
    from fairprobe.errors import InvalidSpec

    if groups and value in groups:
        return str(groups[value])
    key = str(value).strip().lower()
    key = GROUP_ALIASES.get(key, key)
    known = lexicons.sexes() if kind == "sex" else lexicons.races()
    if key not in known:
        raise InvalidSpec(f"{kind} value {value!r} has no names in the lexicon (it covers {sorted(known)}); map "
                          f"the table's values with groups={{{value!r}: ...}}, or leave such rows out")
    return key


def unknown_groups(values: object, kind: str, groups: dict | None = None) -> list:
    """The distinct values of a column that :func:`lexicon_group` cannot read."""
    known = lexicons.sexes() if kind == "sex" else lexicons.races()
    out = []
    for value in dict.fromkeys(values):  # type: ignore[call-overload]
        if groups and value in groups:
            continue
        key = str(value).strip().lower()
        if GROUP_ALIASES.get(key, key) not in known:
            out.append(value)
    return out
