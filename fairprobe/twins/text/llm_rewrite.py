"""Language-model rewriting with validation, retries, a rule-based fallback and an on-disk replay cache.

Three modes: ``whole`` (the model rewrites the profile), ``sentence`` (one sentence at a time) and
``edit`` (the model lists edits, span -> replacement, which the harness applies to the original, so
no qualification can be dropped: an edit may only touch the name, pronouns, titles and words of
the swap lexicon; any other span it names is reported as a signal the lists lack, not applied).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from fairprobe.twins.text.rewrite import Rewriter
from fairprobe.twins.text.signals import FEMALE, MALE, PRONOUNS, Person, pairs, title_words
from fairprobe.twins.text.validate import validate

PROMPTS = {
    "system": "You edit text exactly as instructed. You change nothing that you are not asked to change.",
    "whole": ("Rewrite the profile below so that it is about {new_name} instead of {old_name}. Use {pronouns}."
              "{age_hint} Change only the name and the pronouns. Keep every other word, every number and every name of an "
              "employer, school, degree, skill or place exactly as it is. Reply with the rewritten profile only."
              "\n\nProfile:\n{text}"),
    "sentence": ("Rewrite this sentence so that it is about {new_name} instead of {old_name}. Use {pronouns}."
                 "{age_hint} Change only the name and the pronouns; keep every other word. Reply with the sentence only."
                 "\n\nSentence: {text}"),
    "edit": ("The profile below is about {old_name}, {old_desc}. We need the same profile about {new_name}, "
             "{new_desc} ({pronouns}).{age_hint} List every word or phrase in the profile that shows the person is "
             "{old_desc}: the name, pronouns, titles, gendered words, and anything else that reveals it. Give each "
             "one's replacement for {new_name}. Reply with a JSON list only, one object per edit with the exact "
             "text of the span, its replacement and the reason, as in this example."
             "\n\nProfile: Anna Lee is a waitress. Her manager praised her.\n"
             'Edits: [{{"span": "Anna Lee", "replacement": "Tom Lee", "reason": "name"}}, '
             '{{"span": "waitress", "replacement": "waiter", "reason": "gendered job title"}}, '
             '{{"span": "Her", "replacement": "His", "reason": "pronoun"}}, '
             '{{"span": "her", "replacement": "him", "reason": "pronoun"}}]'
             "\n\nProfile: {text}\nEdits:"),
}
PRONOUN_HINT = {FEMALE: "she / her / hers / herself", MALE: "he / him / his / himself"}
AGE_HINT = " Where the text states an age, state {new_age} instead of {old_age}; shift a birth year by {shift}."
MODES = ("whole", "sentence", "edit")
PREFILL = '[{"span": "'


def _age_hint(old: Person, new: Person) -> str:
    if old.age is None or new.age is None or old.age == new.age:
        return ""
    return AGE_HINT.format(new_age=new.age, old_age=old.age, shift=f"{old.age - new.age:+d} years")


def _describe(person: Person, other: Person) -> str:
    parts = []
    if person.sex != other.sex and person.sex in (FEMALE, MALE):
        parts.append("a woman" if person.sex == FEMALE else "a man")
    if person.race != other.race and person.race:
        parts.append(person.race.capitalize() if person.race != "white" else "white")
    return " and ".join(parts) or "the person"


def parse_edits(answer: str) -> list[dict[str, str]] | None:
    """The edits in a model's answer (the first JSON list of objects with span and replacement), or None.

    Examples
    --------
    >>> parse_edits('Sure: [{"span": "she", "replacement": "he", "reason": "pronoun"}] done')
    [{'span': 'she', 'replacement': 'he', 'reason': 'pronoun'}]
    >>> parse_edits('[{"span": "She", "replacement": "He"}, {"span": "her", "repl')  # cut by the token limit
    [{'span': 'She', 'replacement': 'He', 'reason': ''}]
    """
    start = answer.find("[")
    while start != -1:
        depth = 0
        for end in range(start, len(answer)):
            depth += {"[": 1, "]": -1}.get(answer[end], 0)
            if depth == 0:
                try:
                    data = json.loads(answer[start:end + 1])
                except ValueError:
                    break
                if isinstance(data, list) and all(isinstance(e, dict) and isinstance(e.get("span"), str)
                                                  and isinstance(e.get("replacement"), str) for e in data):
                    return [{"span": e["span"], "replacement": e["replacement"], "reason": str(e.get("reason", ""))}
                            for e in data]
                break
        start = answer.find("[", start + 1)
    # A small model often loops until the token limit cuts the list: keep its complete objects.
    first = answer.find("[")
    salvaged = []
    for piece in re.findall(r"\{[^{}]*\}", answer[first:] if first != -1 else ""):
        try:
            e = json.loads(piece)
        except ValueError:
            continue
        if isinstance(e, dict) and isinstance(e.get("span"), str) and isinstance(e.get("replacement"), str):
            salvaged.append({"span": e["span"], "replacement": e["replacement"], "reason": str(e.get("reason", ""))})
    return salvaged or None


def _vocabulary(old: Person, new: Person) -> set[str]:
    words = {w.lower() for p in pairs() for pair in (p.female, p.male) for w in pair.split()}
    words |= PRONOUNS[FEMALE] | PRONOUNS[MALE] | {t.lower() for t in title_words()} | {"a", "an"}
    return words | {p.lower() for person in (old, new) for p in (person.first, person.last, person.middle) if p}


def apply_edits(text: str, edits: list[dict[str, str]], old: Person, new: Person, stats: Counter) -> str:
    """``text`` with the edits that touch only protected signals applied; every other edit counted and refused.

    An edit applies to every whole-word occurrence of its span, or, when the model lists the same span
    several times ("her" -> "his", "her" -> "him"), to successive occurrences in order.
    """
    vocabulary = _vocabulary(old, new)
    by_span: dict[str, list[str]] = {}
    for edit in edits:
        span, replacement = edit["span"].strip(), edit["replacement"].strip()
        stats["edits proposed"] += 1
        words = re.findall(r"[\w'’.-]+", span.lower())
        if not span or span == replacement:
            stats["edits refused: empty or unchanged"] += 1
        elif not re.search(rf"(?<!\w){re.escape(span)}(?!\w)", text):
            stats["edits refused: span not in the profile"] += 1
        elif re.search(r"\d", span + replacement):
            stats["edits refused: touches a number"] += 1
        elif any(w.rstrip(".").removesuffix("'s").removesuffix("’s") not in vocabulary for w in words):
            stats["edits refused: outside the lexicon (reported)"] += 1
            stats[f"unlisted signal: {span}"] += 1
        elif any(w.rstrip(".").removesuffix("'s") not in vocabulary for w in re.findall(r"[\w'’.-]+",
                                                                                        replacement.lower())):
            stats["edits refused: replacement outside the lexicon"] += 1
        else:
            by_span.setdefault(span, []).append(replacement)
    for span, replacements in sorted(by_span.items(), key=lambda kv: -len(kv[0])):
        count = iter(range(10**6))

        def one(match: re.Match, replacements: list[str] = replacements, count: Any = count) -> str:
            k = next(count)
            return replacements[min(k, len(replacements) - 1)]

        text = re.sub(rf"(?<![\w@.]){re.escape(span)}(?![\w@])", one, text)
        stats["edits applied"] += len(replacements)
    return text


class LLMRewriter:
    """Ask a language model to rewrite only the protected signals; validate; retry; fall back to rules.

    The harness picks the target (the new name and pronouns), never the model. Every answer is
    validated with :func:`validate`; a rejected answer is asked again (``retries`` times, with
    another seed), then replaced by the rule-based :class:`Rewriter`'s twin. ``stats`` counts what
    happened (accepted, retried, fallen back, and the rejection reasons; in edit mode the edits
    proposed, applied and refused, and each span outside the lexicon as ``"unlisted signal: SPAN"``).
    Answers are cached on disk under ``cache_dir``, keyed by the input text, the target, the backend
    and model, the prompt and the seed, so a run that has the cache replays exactly and needs no model.

    Parameters
    ----------
    backend : LanguageModel
        For example :class:`fairprobe.llm.OpenAIChat`.
    mode : {"whole", "sentence", "edit"}
        Rewrite the profile at once, sentence by sentence (each validated and falling back alone), or
        ask for a JSON list of edits applied by the harness (qualifications untouched by construction).
    prefill : bool
        In edit mode, start the model's answer with ``[{"span": "`` (a last assistant message that the
        local transformers backend continues; not every server accepts one), which holds a small model
        to the format.
    """

    name = "llm"

    def __init__(self, backend: Any, *, mode: str = "whole", retries: int = 1, cache_dir: str | None = None,
                 seed: int = 0, max_tokens: int = 512, fallback: Rewriter | None = None, prefill: bool = False) -> None:
        if mode not in MODES:
            from fairprobe.errors import unknown_choice

            raise unknown_choice("mode", mode, list(MODES))
        self.backend, self.mode, self.retries, self.seed = backend, mode, retries, seed
        self.cache_dir, self.max_tokens = cache_dir, max_tokens
        self.fallback = fallback or Rewriter()
        self.prefill = prefill and mode == "edit"
        self.stats: Counter = Counter()

    def describe(self) -> dict:
        unlisted = {k.split(": ", 1)[1]: v for k, v in self.stats.items() if k.startswith("unlisted signal: ")}
        return {"rewriter": "llm", "mode": self.mode, "retries": self.retries, "seed": self.seed, "prefill": self.prefill,
                "backend": self.backend.describe(), "unlisted_signals": dict(Counter(unlisted).most_common(20)),
                "prompts": {"system": PROMPTS["system"], "user": PROMPTS[self.mode], "age_hint": AGE_HINT}}

    def rewrite(self, text: str, old: Person, new: Person) -> str:
        return self.rewrite_many([(text, old, new)])[0]

    def rewrite_many(self, items: Sequence[tuple[str, Person, Person]]) -> list[str]:
        """Rewrite many profiles, asking the model for all pending pieces at once (the backend batches
        or runs them concurrently), validating each piece, asking again, then falling back."""
        units: list[tuple[int, str, Person, Person]] = []  # (profile index, piece, old, new)
        for i, (text, old, new) in enumerate(items):
            pieces = re.split(r"(?<=[.!?])\s+", text) if self.mode == "sentence" else [text]
            units.extend((i, piece, old, new) for piece in pieces)
        ratio = (0.8, 1.25) if self.mode == "sentence" else (0.9, 1.1)
        results: list[str | None] = [None] * len(units)
        pending = list(range(len(units)))
        for attempt in range(self.retries + 1):
            answers = self._ask_many([units[u][1:] for u in pending], attempt)
            still = []
            for u, answer in zip(pending, answers):
                _, piece, old, new = units[u]
                if self.mode == "edit":
                    edits = parse_edits(answer)
                    if edits is None:
                        self.stats["rejected: no JSON list of edits"] += 1
                        self.stats["retried"] += int(attempt < self.retries)
                        still.append(u)
                        continue
                    answer = apply_edits(piece, edits, old, new, self.stats)
                problems = validate(piece, answer, old, new, length_ratio=ratio)
                if not problems:
                    self.stats["accepted"] += 1
                    self.stats["accepted after retry"] += int(attempt > 0)
                    results[u] = answer
                    continue
                for problem in problems:
                    self.stats[f"rejected: {problem.reason.value}"] += 1
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
            parts[i].append(result or "")
        return [" ".join(p) for p in parts]

    def _ask_many(self, units: list[tuple[str, Person, Person]], attempt: int) -> list[str]:
        conversations = []
        for text, old, new in units:
            user = PROMPTS[self.mode].format(
                new_name=f"{new.first} {new.last}".strip() or "the person", pronouns=PRONOUN_HINT.get(new.sex, ""),
                old_name=f"{old.first} {old.last}".strip() or "the person", text=text, age_hint=_age_hint(old, new),
                old_desc=_describe(old, new), new_desc=_describe(new, old))
            conversation = [{"role": "system", "content": PROMPTS["system"]}, {"role": "user", "content": user}]
            if self.prefill:
                conversation.append({"role": "assistant", "content": PREFILL})
            conversations.append(conversation)
        answers = ask_cached(self.backend, conversations, seed=self.seed + attempt, max_tokens=self.max_tokens,
                             cache_dir=self.cache_dir, stats=self.stats)
        return [PREFILL + a for a in answers] if self.prefill else answers


def ask_cached(backend: Any, conversations: list, *, seed: int, max_tokens: int, cache_dir: str | None,
               stats: Counter) -> list[str]:
    """The backend's greedy answers, replayed from ``cache_dir`` where a run already asked the same thing.

    The key is the conversation (prompt template filled with the input and target), the backend's
    description (kind, model), the seed and the token limit; entries are written atomically.
    """
    import hashlib
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
    return [a or "" for a in answers]


__all__ = ["AGE_HINT", "LLMRewriter", "MODES", "PROMPTS", "PRONOUN_HINT", "apply_edits", "ask_cached", "parse_edits"]
