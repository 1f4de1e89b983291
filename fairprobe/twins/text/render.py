"""From tables to text: a table (and its tabular twins, flip or CVAE) written as text profiles, by a jinja2
template (:class:`TemplateRenderer`) or a language model (:class:`LLMRenderer`)."""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.errors import given, InvalidSpec
from fairprobe.twins import lexicons
from fairprobe.twins.base import TwinSet
from fairprobe.twins.text.llm_rewrite import PRONOUN_HINT, PROMPTS, ask_cached
from fairprobe.twins.text.rewrite import pick_name
from fairprobe.twins.text.signals import FEMALE, GROUP_ALIASES, MALE, Person, lexicon_group
from fairprobe.twins.text.validate import Reason, Rejection, validate

PRONOUN_FORMS = {FEMALE: {"he": "she", "him": "her", "his": "her", "hers": "hers", "himself": "herself"},
                 MALE: {"he": "he", "him": "him", "his": "his", "hers": "his", "himself": "himself"}}

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
    return lexicon_group(value, kind, dict(groups) if groups else None)


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
        raise InvalidSpec(f"render_table needs a DataFrame; got {given(data)}")
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
                  held: Sequence[str], required: Sequence[str] = ()) -> list[Rejection]:
    """Held values stated differently in the two texts (each value counted as a whole word), and
    ``required`` values missing from either."""
    reasons = []
    for column in held:
        if before[column] != after[column] and not (pd.isna(before[column]) and pd.isna(after[column])):
            reasons.append(Rejection(Reason.HELD_CHANGED, f"{column} {before[column]!r} -> {after[column]!r}"))
            continue
        value = before[column]
        if isinstance(value, (bool, np.bool_)) or value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        word = f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
        pattern = re.compile(rf"(?<![\w.]){re.escape(word)}(?![\w]|\.\d)", re.IGNORECASE)
        counts = len(pattern.findall(original)), len(pattern.findall(twin))
        if counts[0] != counts[1]:
            reasons.append(Rejection(Reason.HELD_DIFFERS, f"{column}={word!r}"))
        elif column in required and not counts[0]:
            reasons.append(Rejection(Reason.HELD_MISSING, f"{column}={word!r}"))
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
        valid, reasons = base.valid.copy(), Counter[str]()
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
            problems += full if free_same and self.strict_diff else [p for p in full if p.reason in (
                Reason.OLD_NAME, Reason.NEW_NAME, Reason.PRONOUNS)]
            for problem in problems:
                reasons[problem.reason.value] += 1
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


__all__ = ["GROUP_ALIASES", "LLMRenderer", "RenderedTwinGenerator", "TemplateRenderer", "render_table"]
