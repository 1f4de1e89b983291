"""An independent judge of text twins on external corpora: it knows the ground truth and shares no code with
fairprobe's rewriter, name finder or validator.

- Bloomberg's resumes are templates with one ``{name}`` placeholder: a twin is faithful exactly when it is
  the template filled with another name in the same letter case (no other character changed, the
  first name changed); "unchanged", "old name left" and "changed outside the name" say how others fail.
- DataTurks resumes carry the candidate's name as an annotated entity: a twin is faithful when it
  differs, no word of the annotated name (3 letters or more) is left anywhere (inside links too; a word
  hyphen-joined to another or followed by another capitalised word, "Al-Ameen PU College", is another
  proper name's), every changed whitespace-separated token held a word of that name, or is a pronoun or a role
  word ("girl") swapped for the other sex's (whose it is, no judge without reading can tell: ``pronouns_swapped``
  and ``roles_swapped`` list them so a reader can check them by hand); a dropped middle name is allowed.
"""

from __future__ import annotations

import difflib
import re

FAITHFUL, UNCHANGED, OLD_LEFT, OUTSIDE = "faithful", "unchanged", "old name left", "changed outside the name"


def judge_template(template: str, inserted: str, twin: str) -> str:
    """The verdict on ``twin`` of ``template.format(name=inserted)``."""
    original = template.replace("{name}", inserted)
    if twin == original:
        return UNCHANGED
    head, tail = template.split("{name}")
    if twin.startswith(head) and twin.endswith(tail) and len(twin) >= len(head) + len(tail):
        name = twin[len(head):len(twin) - len(tail)]
        if "\n" not in name and name.isupper() == inserted.isupper() and name.split()[:1] != inserted.split()[:1] \
                and re.fullmatch(r"[^\W\d_][\w'’ .-]*", name):
            return FAITHFUL
        if set(name.split()) & set(inserted.split()):
            return OLD_LEFT
    # the old name may also be left elsewhere, but what decides is that text outside the name changed
    if twin.startswith(head) and inserted.split()[0] in twin[len(head):len(head) + len(inserted) + 40]:
        return OLD_LEFT
    return OUTSIDE


_PRONOUN = {"he": "she", "she": "he", "him": "her", "his": "her", "her": "his", "himself": "herself",
            "herself": "himself", "he's": "she's", "she's": "he's", "he'll": "she'll", "she'll": "he'll"}
# Role words of one sex and their counterparts, written here (not fairprobe's lexicon): a swap of one for the
# other is the candidate's own word ("I am a girl") or someone else's; like a pronoun, read by hand.
_ROLE = {"girl": "boy", "woman": "man", "women": "men", "mother": "father", "wife": "husband", "daughter": "son",
         "sister": "brother", "lady": "gentleman", "mom": "dad", "actress": "actor", "hostess": "host",
         "waitress": "waiter", "chairwoman": "chairman", "businesswoman": "businessman", "sorority": "fraternity"}
_ROLE.update({v: k for k, v in list(_ROLE.items())})


def _bare(token: str) -> str:
    return token.lower().strip(".,;:!?()\"'’")


def pronouns_swapped(original: str, twin: str) -> int:
    """How many whitespace tokens of ``original`` are pronouns that ``twin`` changes."""
    a, b = original.split(), twin.split()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return sum(1 for op, i0, i1, j0, j1 in matcher.get_opcodes() if op == "replace"
               for x in a[i0:i1] if x.lower().strip(".,;:") in _PRONOUN)


def roles_swapped(original: str, twin: str) -> list[str]:
    """The role words of ``original`` that ``twin`` turns into their counterparts ("girl -> boy"), to read by hand."""
    a, b = original.split(), twin.split()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [f"{x} -> {y}" for op, i0, i1, j0, j1 in matcher.get_opcodes() if op == "replace" and i1 - i0 == j1 - j0
            for x, y in zip(a[i0:i1], b[j0:j1]) if _ROLE.get(_bare(x)) == _bare(y)]


def _words(name: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]+", name.lower()) if len(w) >= 3]


def judge_annotated(original: str, name: str, twin: str, *, keep_surname: bool = False) -> str:
    """The verdict on ``twin`` of an ``original`` whose candidate is ``name`` (the annotated entity);
    ``keep_surname``: a sex twin that keeps the race keeps the surname (the annotated name's last word)."""
    if twin == original:
        return UNCHANGED
    words = _words(name)
    if keep_surname and len(name.split()) > 1:
        words = [w for w in words if w not in _words(name.split()[-1])]
    low = twin.lower()
    for w in words:
        for match in re.finditer(rf"(?<![^\W\d_]){re.escape(w)}(?![^\W\d_])", low):
            # a word of the name inside another proper name is not the candidate: "Al-Ameen PU College"
            joined = twin[match.start() - 1:match.start()] == "-" and twin[match.start() - 2:match.start() - 1].isalpha()
            other = re.match(r" [A-Z][A-Za-z]", twin[match.end():match.end() + 3]) and not any(
                twin[match.end() + 1:].lower().startswith(x) for x in words)
            if not (joined or other):
                return OLD_LEFT
    parts = set(re.findall(r"[^\W\d_]+", name.lower()))
    a, b = original.split(), twin.split()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i0, i1, j0, j1 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op != "replace":
            return OUTSIDE
        for k, token in enumerate(a[i0:i1]):
            low_token = token.lower()
            swapped = i1 - i0 == j1 - j0 and _ROLE.get(_bare(token)) == _bare(b[j0 + k])  # read by hand
            if not (set(re.findall(r"[^\W\d_]+", low_token)) & parts or any(
                    len(p) >= 3 and p in low_token for p in parts)  # "behance.net/sharanadla"
                    or low_token.strip(".,;:") in _PRONOUN or swapped):
                return OUTSIDE
    return FAITHFUL


__all__ = ["FAITHFUL", "OLD_LEFT", "OUTSIDE", "UNCHANGED", "judge_annotated", "judge_template", "pronouns_swapped",
           "roles_swapped"]
