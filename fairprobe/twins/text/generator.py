"""``TextTwinGenerator``: twins of a table with a text column, rewritten, validated and checked for residual signals."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairprobe.errors import InvalidSpec
from fairprobe.twins import lexicons
from fairprobe.twins.base import TwinSet
from fairprobe.twins.flip import target_combinations
from fairprobe.twins.text.names import find_person
from fairprobe.twins.text.residual import residual_signals
from fairprobe.twins.text.rewrite import Rewriter, pick_name
from fairprobe.twins.text.signals import FEMALE, MALE, Person, age_cues, lexicon_group, unknown_groups
from fairprobe.twins.text.spans import lowered
from fairprobe.twins.text.validate import Reason, Rejection, validate


def _infer_sex(text: str, first: str) -> str:
    """The subject's sex from the pronouns in ``text``, else from a first name the census gives one sex at 90 %
    or more; "" when neither tells (an unknown name is unknown, never read as male)."""
    she = len(re.findall(r"\b(?:she|her|hers|herself)\b", text, re.IGNORECASE))
    he = len(re.findall(r"\b(?:he|him|his|himself)\b", text, re.IGNORECASE))
    if she != he and max(she, he) >= 2 * min(she, he):
        return FEMALE if she > he else MALE
    return (lexicons.sex_of_first_name(first) or "") if first else ""


def _fresh_name(old: Person, sex: str, race: str | None, seed: int, text: str) -> Person:
    """:func:`pick_name`'s choice, or the next one when it names someone else in the text ("Dear Ms. Garcia")."""
    low = lowered(text)  # cached: the rewrite and the validator lower this text too
    for shift in range(12):
        new = pick_name(old, sex, race, seed=seed, shift=shift)
        clash = [p for p, o in ((new.first, old.first), (new.last, old.last)) if p != o and _names_a_word(text, low, p)]
        if not clash:
            return new
    return new


def _letter(ch: str) -> bool:
    """What ``[^\\W\\d_]`` matches: a word character that is no digit and no underscore."""
    return ch.isalnum() and not ch.isdecimal()


def _names_a_word(text: str, low: str | None, name: str) -> bool:
    """``re.search(rf"(?<![^\\W\\d_]){re.escape(name)}(?![^\\W\\d_])", text, re.IGNORECASE)``, by string search
    where lower-casing is what the pattern compares (no pattern compiled for each name)."""
    needle = lowered(name)
    if low is None or needle is None or not name:
        return re.search(rf"(?<![^\W\d_]){re.escape(name)}(?![^\W\d_])", text, re.IGNORECASE) is not None
    position, n = low.find(needle), len(needle)
    while position >= 0:
        if not (position and _letter(text[position - 1])) and not (position + n < len(text) and _letter(text[position + n])):
            return True
        position = low.find(needle, position + 1)
    return False


def group_report(groups: list[str], outcome: list[str], olds: list[Person], sources: list[int], *,
                 limit: float = 0.5, least: int = 5) -> tuple[dict[str, dict], list[str]]:
    """Per group of the originals: records, the share whose candidate's name was found, twins accepted,
    rejected and unchanged; and a warning for each group whose twins are mostly rejected or unchanged.

    Examples
    --------
    >>> people = [Person("Emily", "Walsh", "female", "")] * 2 + [Person("", "", "male", "")] * 6
    >>> report, warnings = group_report(["F"] * 2 + ["M"] * 6, ["accepted"] * 2 + ["rejected"] * 6, people,
    ...                                 [0, 1, 2, 3, 4, 5, 6, 7])
    >>> report["M"]["name_found"], report["M"]["accepted_share"]
    (0.0, 0.0)
    >>> print(warnings[0])
    text twins of group 'M': 6 of 6 twins (100%) rejected or unchanged (names found in 0% of its records, 25% overall); a flip rate over the accepted twins says little about this group
    """
    table: dict[str, dict] = {}
    seen: dict[str, set[int]] = {}
    for group, result, old, source in zip(groups, outcome, olds, sources):
        row = table.setdefault(group, {"records": 0, "name_found": 0, "twins": 0, "accepted": 0, "rejected": 0,
                                       "unchanged": 0})
        if source not in seen.setdefault(group, set()):
            seen[group].add(source)
            row["records"] += 1
            row["name_found"] += bool(old.first)
        row["twins"] += 1
        row[result] += 1
    records = sum(r["records"] for r in table.values())
    found_all = sum(r["name_found"] for r in table.values()) / max(records, 1)
    warnings = []
    for group, row in sorted(table.items()):
        row["name_found"] = row["name_found"] / max(row["records"], 1)
        row["accepted_share"] = row["accepted"] / max(row["twins"], 1)
        lost = row["rejected"] + row["unchanged"]
        if row["twins"] >= least and lost / row["twins"] > limit:
            warnings.append(f"text twins of group {group!r}: {lost} of {row['twins']} twins ({lost / row['twins']:.0%}) "
                            f"rejected or unchanged (names found in {row['name_found']:.0%} of its records, "
                            f"{found_all:.0%} overall); a flip rate over the accepted twins says little about "
                            "this group")
    return table, warnings


class TextTwinGenerator:
    """Twins of a table with a text column: protected and name columns changed, text rewritten, validated.

    Parameters
    ----------
    text : str
        The column holding the profiles.
    first_name, last_name : str
        Columns holding each profile's name; when the data lacks them, the name is found in the text
        (header line, "My name is", a signature, an email address): see :func:`find_person`.
    sex, race : str or None
        The protected columns the names and words signal. None (or a column the data lacks) for an
        audit of the other attribute alone: a sex twin then keeps the surname (its race signal).
    groups : dict, optional
        The lexicon's group for each table value the aliases do not cover, e.g. ``{"W": "white"}``
        ("F", "M", "Female", "Asian-Pac-Islander", "African-American" are understood).
    residual : {"flag", "reject"}
        What to do with a twin that keeps a signal of the original group no swap can remove (a
        women's college, an HBCU, the Society of Women Engineers): count it and name the signals in
        ``info["residual"]`` ("flag"), or also reject the twin ("reject").
    audit : bool
        Also fit the list-free residual audit (:class:`ResidualAudit`) and report it in ``info["residual"]``.

    Examples
    --------
    >>> table = pd.DataFrame({"profile": ["EMILY WALSH\\nemily.walsh@mail.com\\nShe captained the women's "
    ...                                   "chess team at Wellesley College."], "sex": ["F"]})
    >>> twins = TextTwinGenerator("profile", race=None).generate(table, ["sex"], targets=pd.DataFrame({"sex": ["M"]}))
    >>> print(twins.twins["profile"][0])
    GREG WALSH
    greg.walsh@mail.com
    He captained the men's chess team at Wellesley College.
    >>> twins.info["residual"]["signals"]
    {'Wellesley College': 1}
    """

    def __init__(self, text: str, *, first_name: str = "first_name", last_name: str = "last_name",
                 sex: str | None = "sex", race: str | None = "race", rewriter: Any = None,
                 age: str | None = None, ages: Mapping[Any, int] | None = None, age_years: str | None = None,
                 similarity: Any = None, groups: Mapping[Any, str] | None = None,
                 residual: Literal["flag", "reject"] = "flag", audit: bool = False) -> None:
        self.text, self.first_name, self.last_name, self.sex, self.race = text, first_name, last_name, sex, race
        self.similarity, self.groups, self.audit = similarity, dict(groups) if groups else None, audit
        self.rewriter = rewriter or Rewriter()
        self.name = self.rewriter.name
        if residual not in ("flag", "reject"):
            from fairprobe.errors import unknown_choice

            raise unknown_choice("residual", residual, ["flag", "reject"])
        self.residual = residual
        if (age is None) != (ages is None):
            raise InvalidSpec("age twins need both age= (the protected age-group column) and ages= (the age in "
                              f"years a twin of each group states, e.g. {{'under 40': 32, '40 and over': 58}}); "
                              f"got age={age!r}, ages={ages!r}")
        if ages is not None and not all(isinstance(v, (int, np.integer)) and 0 < v < 120 for v in ages.values()):
            raise InvalidSpec(f"ages= maps each age group to a whole number of years in 1..119; got {dict(ages)!r}")
        self.age, self.ages, self.age_years = age, dict(ages) if ages is not None else None, age_years

    def _columns(self, data: pd.DataFrame, attributes: list[str]) -> tuple[str | None, str | None, bool]:
        sex = self.sex if self.sex is not None and self.sex in data.columns else None
        race = self.race if self.race is not None and self.race in data.columns else None
        needed = [self.text, *([self.age] if self.age else []), *([self.age_years] if self.age_years else [])]
        needed += [c for c in attributes if c in (self.sex, self.race)]
        missing = [c for c in needed if c not in data.columns]
        if missing:
            raise InvalidSpec(f"text twins need the columns {needed}; missing: {missing} "
                              f"(columns: {', '.join(map(str, data.columns))})")
        signalled = [c for c in (sex, race, self.age) if c]
        unsupported = [a for a in attributes if a not in signalled]
        if unsupported:
            hint = "" if self.age else "; for age twins pass age= and ages= to TextTwinGenerator"
            raise InvalidSpec(f"text twins change names, pronouns, gendered words and explicit age cues, which signal "
                              f"{', '.join(map(repr, signalled))}; they cannot change {unsupported}{hint}")
        for column, kind in ((sex, "sex"), (race, "race")):
            if column:
                unknown = unknown_groups(data[column], kind, self.groups)
                if unknown:
                    known = sorted(lexicons.sexes() if kind == "sex" else lexicons.races())
                    example = ", ".join(f"{v!r}: {known[0]!r}" for v in unknown[:2])
                    raise InvalidSpec(f"text twins: {kind} value(s) {unknown} of column {column!r} name no group of "
                                      f"the name lexicon ({known}); map them with groups={{{example}, ...}}, or leave "
                                      f"such rows out")
        names = self.first_name in data.columns and self.last_name in data.columns
        return sex, race, names

    def _person(self, record: Mapping[Any, Any], sex_col: str | None, race_col: str | None, names: bool) -> Person:
        text = str(record[self.text])
        found = Person(str(record[self.first_name]), str(record[self.last_name]), "", "") if names else \
            (find_person(text) or Person("", "", "", ""))
        sex = lexicon_group(record[sex_col], "sex", self.groups) if sex_col else _infer_sex(text, found.first)
        race = lexicon_group(record[race_col], "race", self.groups) if race_col else ""
        age = None
        if self.age is not None:
            if self.age_years is not None:
                age = int(record[self.age_years])
            else:
                cues = [v for _, _, kind, v in age_cues(text) if kind == "age"]
                age = cues[0] if cues else self.ages.get(record[self.age]) if self.ages else None
        return Person(found.first, found.last, sex, race, age, found.middle)

    def generate(self, data: pd.DataFrame, attributes: Sequence[str], *, held: Sequence[str] = (), seed: int = 0,
                 targets: pd.DataFrame | None = None) -> TwinSet:
        attributes = list(attributes)
        sex_col, race_col, names = self._columns(data, attributes)
        original = data.reset_index(drop=True)
        combos = target_combinations(original if targets is None else targets, attributes).to_dict(orient="records")
        if self.age in attributes:
            unknown = sorted({str(c[self.age]) for c in combos} - {str(k) for k in (self.ages or {})})
            if unknown:
                raise InvalidSpec(f"ages= gives no age in years for the group(s) {unknown} of {self.age!r}; "
                                  f"it covers {sorted(map(str, self.ages or {}))}")
        rows, sources, jobs, unnamed, refused, groups = [], [], [], 0, [], []
        for i, record in enumerate(original.to_dict(orient="records")):
            old = self._person(record, sex_col, race_col, names)
            unnamed += not old.first
            group = "/".join(str(record[c]) for c in (sex_col, race_col) if c) or "all"
            for target in combos:
                if all(record[a] == target[a] for a in attributes):
                    continue
                sex = lexicon_group(target[sex_col], "sex", self.groups) if sex_col in attributes else old.sex
                race = lexicon_group(target[race_col], "race", self.groups) if race_col in attributes else (
                    old.race or None)
                refusal = None
                if not old.first and race_col in attributes:
                    refusal = Rejection(Reason.NO_NAME, "no candidate's name found in the header, a Name: label, "
                                                        "an introduction, a signature or a bio's opening")
                elif old.first and sex not in (FEMALE, MALE):
                    refusal = Rejection(Reason.SEX_UNKNOWN, f"{old.first!r} is on no list and no pronoun tells the "
                                                            "profile's sex; add a sex column to make race twins")
                if refusal is not None or not old.first:
                    new = Person("", "", sex, race or "") if refusal is None else old
                else:
                    new = _fresh_name(old, sex, race, seed, str(record[self.text]))
                if self.age in attributes and target[self.age] != record[self.age]:
                    new = replace(new, age=int(self.ages[target[self.age]]))  # type: ignore[index]
                jobs.append((str(record[self.text]), old, new))
                refused.append(refusal)
                groups.append(group)
                twin = dict(record)
                if names:
                    twin.update({self.first_name: new.first, self.last_name: new.last})
                if self.age_years is not None and new.age is not None:
                    twin[self.age_years] = new.age
                for a in attributes:
                    twin[a] = target[a]
                rows.append(twin)
                sources.append(i)
        live = [j for j, r in enumerate(refused) if r is None]
        texts = [job[0] for job in jobs]
        if live:
            done = self.rewriter.rewrite_many([jobs[j] for j in live]) if hasattr(self.rewriter, "rewrite_many") \
                else [self.rewriter.rewrite(*jobs[j]) for j in live]
            for j, text in zip(live, done):
                texts[j] = text
        valid: list[bool] = []
        flagged: list[bool] = []
        reasons: Counter[str] = Counter()
        signal_counts: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        outcome: list[str] = []
        for twin, text, (source_text, old, new), refusal in zip(rows, texts, jobs, refused):
            twin[self.text] = text
            problems: list[Rejection] = [refusal] if refusal is not None else validate(source_text, text, old, new)
            found = residual_signals(text, old, new, original=source_text) if refusal is None else []
            flagged.append(bool(found))
            for phrase, row in found:
                signal_counts[phrase] += 1
                kinds[row["kind"]] += 1
            if found and self.residual == "reject":
                problems.append(Rejection(Reason.RESIDUAL, ", ".join(p for p, _ in found)))
            for problem in problems:
                reasons[problem.reason.value] += 1
            valid.append(not problems)
            # a refused twin keeps its original's text, and is rejected, not vacuous
            outcome.append("rejected" if problems else "unchanged" if text == source_text else "accepted")
        twins = pd.DataFrame(rows, columns=original.columns)
        for column in original.columns:
            try:
                twins[column] = twins[column].astype(original[column].dtype)
            except (TypeError, ValueError):
                pass
        valid_arr, flagged_arr = np.asarray(valid, dtype=bool), np.asarray(flagged, dtype=bool)
        source_arr = np.asarray(sources, dtype=int)
        info: dict[str, Any] = {
            "accepted": int(valid_arr.sum()), "rejected": int((~valid_arr).sum()), "rejection_reasons": dict(reasons),
            "text_column": self.text,
            "names": {"lexicon_sha256": lexicons.provenance()["names_csv_sha256"],
                      "thresholds": lexicons.provenance()["thresholds"],
                      "source": "columns" if names else "found in the text", "records_without_a_name": unnamed},
            "lexicon": {"sha256": lexicons.text_provenance()["shipped_sha256"],
                        "sources": sorted(lexicons.text_provenance()["sources"])},
            "residual": {"mode": self.residual, "share": float(flagged_arr.mean()) if len(flagged_arr) else 0.0,
                         "twins": int(flagged_arr.sum()), "records": len(np.unique(source_arr[flagged_arr])),
                         "records_share": float(len(np.unique(source_arr[flagged_arr])) / max(len(original), 1)),
                         "signals": dict(signal_counts.most_common()), "kinds": dict(kinds.most_common()),
                         "rejected": int(flagged_arr.sum()) if self.residual == "reject" else 0},
        }
        info["groups"], info["warnings"] = group_report(groups, outcome, [jobs[j][1] for j in range(len(jobs))],
                                                        sources)
        if self.ages is not None:
            info["ages"] = {str(k): v for k, v in self.ages.items()}
        if self.audit:
            from fairprobe.twins.text.residual import ResidualAudit

            info["residual"]["audit"] = ResidualAudit(seed=seed).run(
                [j[0] for j in jobs], texts, [j[1] for j in jobs], [j[2] for j in jobs], attributes=[
                    a for a in attributes if a in (sex_col, race_col)], sex_col=sex_col)
        if self.similarity is not None:
            sims = self.similarity([j[0] for j in jobs], texts, [(j[1], j[2]) for j in jobs])
            info["masked_similarity"] = self.similarity.summary(sims)
        if hasattr(self.rewriter, "describe"):
            info["rewriter"] = {**self.rewriter.describe(), "stats": dict(getattr(self.rewriter, "stats", {}))}
        return TwinSet(original=original, twins=twins, source=source_arr, attributes=tuple(attributes),
                       valid=valid_arr, generator=self.name, info=info)
