"""A labelled set of resumes in the formats people write, for tests and benchmarks of text twins.

Every profile is built from parts, so the truth is known exactly: where each mention of the person's
name is (and of what kind), which qualification tokens it states (employer, school, degree, skills,
numbers), and which signals of the person's sex or race it carries (words of the swap lexicon, and
residual signals such as a women's college). Formats: a resume with a header and a contact block
(the name in title case or capitals, or "Surname, First"), a third-person bio, a first-person cover
letter with an addressee and a signature, and a resume with references (other people's names).
Names are drawn from the lexicon and from common census first names; a few surnames are also
employers ("Walsh Construction") or other people's ("Dr. Maria Garcia"), so precision is tested too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fairprobe.twins import lexicons

COMMON_FIRST = {"female": "Jennifer Jessica Sarah Rebecca Laura Michelle Nicole Stephanie Rachel Hannah Olivia "
                          "Katherine Margaret Elizabeth Samantha Amanda Megan Danielle Christina".split(),
                "male": "Michael Christopher Matthew Joshua Daniel David Andrew James Justin Ryan Brandon Jonathan "
                        "Nathan Kevin Thomas Benjamin Patrick Timothy Gregory Samuel".split()}
NICKNAMES = {"Jennifer": "Jen", "Stephanie": "Steph", "Samantha": "Sam", "Katherine": "Kat", "Emily": "Em",
             "Matthew": "Matt", "Christopher": "Chris", "Jonathan": "Jon", "Benjamin": "Ben", "Daniel": "Dan",
             "Timothy": "Tim", "Gregory": "Greg", "Samuel": "Sam", "Patrick": "Pat", "Nathan": "Nate"}
EXTRA_SURNAMES = {"white": ["O'Connor", "McAllister", "Smith-Larson"]}
ROLES = ["software engineer", "data analyst", "registered nurse", "project manager", "accountant", "teacher",
         "mechanical engineer", "product designer"]
EMPLOYERS = ["Acme Corp", "Baker Hughes", "Morgan Stanley", "Wells Fargo", "Johnson & Johnson", "Walsh Construction",
             "Initech", "Globex", "Umbrella Health", "Stark Industries", "Garcia Logistics", "Hooli"]
SCHOOLS = ["Ohio State University", "Rutgers University", "Purdue University", "Arizona State University",
           "University of Michigan", "Georgia Tech"]
SKILLS = ["Python", "SQL", "Excel", "Kubernetes", "Tableau", "Java", "AutoCAD", "Salesforce", "Figma", "Spanish"]
DEGREES = ["BSc in Computer Science", "BA in Economics", "MBA", "BSN in Nursing", "MSc in Statistics",
           "BEng in Mechanical Engineering"]
# (signal sentence for a woman, for a man); {P} is the person's subject pronoun, {p} its possessive.
SEX_SIGNALS = [
    ("Captained the women's chess team.", "Captained the men's chess team."),
    ("Member of the Kappa Delta sorority.", "Member of the Sigma Chi fraternity."),
    ("Returned after maternity leave in 2019.", "Returned after paternity leave in 2019."),
    ("A proud mother of two.", "A proud father of two."),
    ("Worked as a hostess while studying.", "Worked as a waiter while studying."),
    ("Member of the Society of Women Engineers.", "Eagle Scout."),
    ("Mentor, IEEE Women in Engineering.", "Coach of the boys' robotics club."),
    ("Stay-at-home mom, 2015 to 2017.", "Stay-at-home dad, 2015 to 2017."),
]
RACE_SIGNALS = {"black": "Member of the National Society of Black Engineers.",
                "hispanic": "Member of the Society of Hispanic Professional Engineers.",
                "asian": "Member of the National Association of Asian American Professionals."}
WOMENS_SCHOOLS = {"black": "Spelman College", "white": "Wellesley College", "hispanic": "Barnard College",
                  "asian": "Smith College"}
HBCU = {"female": "Howard University", "male": "Morehouse College"}
FORMATS = ("resume", "bio", "cover", "references")


class _Doc:
    """Text built from parts, recording the spans of name mentions."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.mentions: list[tuple[int, int, str]] = []

    def add(self, text: str, kind: str | None = None) -> _Doc:
        if kind:
            self.mentions.append((self.length, self.length + len(text), kind))
        self.parts.append(text)
        self.length += len(text)
        return self

    def text(self) -> str:
        return "".join(self.parts)


def _email(first: str, last: str, style: int) -> str:
    f, s = first.lower(), last.lower().replace("'", "").replace(" ", "")
    local = [f"{f}.{s}", f"{f[0]}{s}", f"{f}_{s}", f"{f}{s}", f"{f}.{s[0]}"][style % 5]
    return f"{local}@{['gmail.com', 'outlook.com', 'mail.org'][style % 3]}"


def labelled_resumes(n: int = 320, *, seed: int = 0, signal_rate: float = 0.5) -> pd.DataFrame:
    """``n`` labelled profiles: profile, sex, race, first_name, last_name, format, mentions, qualifications,
    signals and a qualification-only score.

    Examples
    --------
    >>> table = labelled_resumes(8, seed=1)
    >>> sorted(table["format"].unique())
    ['bio', 'cover', 'references', 'resume']
    >>> start, end, kind = table["mentions"][0][0]
    >>> table["profile"][0][start:end] == table["first_name"][0] + " " + table["last_name"][0] or kind != "full"
    True
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        sex = ["female", "male"][int(rng.integers(2))]
        race = ["white", "black", "hispanic", "asian"][int(rng.integers(4))]
        pool = list(lexicons.first_names(sex, race)) + (COMMON_FIRST[sex] if race in ("white", "black") else [])
        first = str(pool[int(rng.integers(len(pool)))])
        lasts = list(lexicons.surnames(race)) + EXTRA_SURNAMES.get(race, [])
        last = str(lasts[int(rng.integers(len(lasts)))])
        fmt = FORMATS[i % len(FORMATS)]
        role, employer = ROLES[int(rng.integers(len(ROLES)))], EMPLOYERS[int(rng.integers(len(EMPLOYERS)))]
        school, degree = SCHOOLS[int(rng.integers(len(SCHOOLS)))], DEGREES[int(rng.integers(len(DEGREES)))]
        skills = [str(s) for s in rng.choice(SKILLS, size=3, replace=False)]
        years, gpa = int(rng.integers(1, 25)), f"{rng.uniform(2.8, 4.0):.2f}"
        signals: list[str] = []
        extra: list[str] = []
        if rng.random() < signal_rate:
            k = int(rng.integers(len(SEX_SIGNALS)))
            extra.append(SEX_SIGNALS[k][0 if sex == "female" else 1])
        if rng.random() < signal_rate / 3 and race in RACE_SIGNALS:
            extra.append(RACE_SIGNALS[race])
        if sex == "female" and rng.random() < signal_rate / 4:
            school = WOMENS_SCHOOLS[race]
        elif race == "black" and rng.random() < signal_rate / 3:
            school = HBCU[sex]
        signals += extra
        she = "She" if sex == "female" else "He"
        obj = "her" if sex == "female" else "him"
        caps = rng.random() < 0.3
        middle = f" {chr(65 + int(rng.integers(26)))}." if rng.random() < 0.2 else ""
        full = f"{first}{middle} {last}"
        email = _email(first, last, i)
        handle = f"{first.lower()}{last.lower().replace(chr(39), '').replace(' ', '')}"
        doc = _Doc()
        if fmt in ("resume", "references"):
            if rng.random() < 0.15:
                doc.add(f"{last}, {first}", "reversed")
            else:
                doc.add(full.upper() if caps else full, "full")
            doc.add(f"\n{role.title()}\n")
            doc.add(email, "email").add(" | (555) 010-" + f"{1000 + i}"[-4:] + " | ")
            doc.add(f"linkedin.com/in/{handle}", "url").add("\n\nSUMMARY\n")
            doc.add(first, "first").add(f" is a {role} with {years} years of experience in {', '.join(skills)}.\n")
            doc.add("\nEXPERIENCE\n").add(f"{employer}, {role.title()} (2016 to 2024)\n")
            doc.add(f"- Led a team of {int(rng.integers(2, 12))} and cut costs by {int(rng.integers(5, 40))}%.\n")
            doc.add("\nEDUCATION\n").add(f"{degree}, {school}, GPA {gpa}\n")
            if extra:
                doc.add("\nACTIVITIES\n" + "\n".join(f"- {e}" for e in extra) + "\n")
            if fmt == "references":
                refs = [r for r in ("Dr. Maria Garcia", "Mr. Greg Walsh", "Ms. Anne Nguyen")
                        if not {first, last} & set(r.split()[1:])][:2]
                doc.add("\nREFERENCES\n" + ", Hooli. ".join(refs) + ", Initech.\n")
        elif fmt == "bio":
            doc.add(full, "full").add(f" is a {role} at {employer} with {years} years of experience. ")
            doc.add(f"{she} holds a {degree} from {school} (GPA {gpa}) and works in {', '.join(skills)}. ")
            title = "Ms." if sex == "female" else "Mr."
            doc.add(f"{title} {last}", "titled").add(f"'s manager calls {obj} dependable. ")
            doc.add(f"We found {obj} reliable and promoted {obj} quickly. ")
            doc.add(" ".join(e.replace("A proud", f"{she} is a proud").replace("Worked as", f"{she} worked as")
                             for e in extra) + (" " if extra else ""))
            doc.add("Reach ").add(first, "first").add(" at ").add(email, "email").add(" or ")
            doc.add(f"@{handle}", "handle").add(".")
        else:
            other = "Garcia" if last != "Garcia" else "Nguyen"
            doc.add(f"Dear Ms. {other},\n\n" if rng.random() < 0.5 else "Dear Hiring Manager,\n\n")
            doc.add("My name is ").add(full, "full").add(f" and I am applying for the {role} position at {employer}. ")
            doc.add(f"I have {years} years of experience with {', '.join(skills)} and a {degree} from {school}. ")
            doc.add(" ".join(f"I {e[0].lower()}{e[1:]}" if e.startswith(("Captained", "Returned", "Worked"))
                             else e for e in extra) + (" " if extra else ""))
            doc.add("\n\nSincerely,\n")
            nick = NICKNAMES.get(first)
            if nick and rng.random() < 0.5:
                doc.add(f"{nick} {last}", "nickname")
            else:
                doc.add(full, "full")
            doc.add("\n").add(email, "email")
        text = doc.text()
        quals = [employer, school, degree, *skills, str(years), gpa]
        score = 0.4 + 0.02 * min(years, 15) + 0.1 * (float(gpa) - 3.0)
        rows.append({"profile": text, "sex": sex, "race": race, "first_name": first, "last_name": last,
                     "format": fmt, "mentions": doc.mentions, "qualifications": quals, "signals": signals,
                     "score": round(score, 4), "hired": bool(score > 0.6)})
    return pd.DataFrame(rows)


# Written by hand in formats labelled_resumes does not produce: (text, the person's name mentions in order).
HANDWRITTEN = [
    ("Maria-Elena Rodriguez, MBA\nmaria.e.rodriguez@mail.com\nMaria-Elena led pricing at Initech.", ["Maria-Elena Rodriguez", "maria.e.rodriguez@mail.com", "Maria-Elena"]),
    ("Resume of Tyrone Jackson\n\nTyrone Jackson has fixed HVAC systems since 2009. Jackson holds an EPA 608 card.", ["Tyrone Jackson", "Tyrone Jackson", "Jackson"]),
    ("KATHERINE O'BRIEN | kobrien@work.org | github.com/katobrien\nO'Brien's team shipped 14 releases.", ["KATHERINE O'BRIEN", "kobrien@work.org", "github.com/katobrien", "O'Brien"]),
    ("About me: I'm Priya Patel, a data engineer. Priya enjoys SQL. Email priya.patel@gmail.com.", ["Priya Patel", "Priya", "priya.patel@gmail.com"]),
    ("To whom it may concern,\nPlease consider my application.\nRegards,\nDarnell Washington\n(555) 010-2222", ["Darnell Washington"]),
    ("Name: Emily Walsh\nPhone: 555-0101\nEmily Walsh worked at Walsh Construction for 6 years.", ["Emily Walsh", "Emily Walsh"]),
    ("Jose Garcia - Welder\nJose has 12 years of experience. Contact Mr. Garcia at jgarcia@mail.org. Reference: Ana Lopez.", ["Jose Garcia", "Jose", "Mr. Garcia", "jgarcia@mail.org"]),
    ("LinkedIn: linkedin.com/in/meichen88 | Mei Chen\nMei Chen is a UX designer. Ms. Chen speaks Mandarin.", ["linkedin.com/in/meichen88", "Mei Chen", "Mei Chen", "Ms. Chen"]),
    ("Greg Baker\nBaker Hughes, Field Engineer (2015-2020)\nGreg managed 3 rigs.", ["Greg Baker", "Greg"]),
    ("Dear Mr. Nguyen,\nMy name is Allison Schmidt. I have taught chemistry for 9 years.\nBest,\nAllison", ["Allison Schmidt", "Allison"]),
    ("SARAH J. MILLER\n@sarahjmiller on X\nSarah is a nurse.", ["SARAH J. MILLER", "@sarahjmiller", "Sarah"]),
    ("Profile\nBrendan Sullivan is a carpenter. Sullivan's work was featured twice. Brendan lives in Ohio.", ["Brendan Sullivan", "Sullivan", "Brendan"]),
    ("Curriculum Vitae\nDr. Anjali Shah\nanjali.shah@uni.edu\nShah's lab studies proteins.", ["Anjali Shah", "anjali.shah@uni.edu", "Shah"]),
    ("Keisha Alston\n555-0199 · keisha_alston@outlook.com · twitter.com/keishaalston\nKeisha manages payroll for 400 staff.", ["Keisha Alston", "keisha_alston@outlook.com", "twitter.com/keishaalston", "Keisha"]),
    ("Hi, I am Hung Tran and I code in Go. Hung Tran, 2024.", ["Hung Tran", "Hung Tran"]),
    ("Matthew Larson\nmatt.larson@mail.com\nMatt Larson coached the boys' soccer team. Matthew was promoted in 2021.", ["Matthew Larson", "matt.larson@mail.com", "Matt Larson", "Matthew"]),
]


def handwritten_resumes() -> list[tuple[str, list[tuple[int, int]]]]:
    """16 short profiles written by hand (hyphenated and apostrophe names, "Resume of", "Name:", links before the
    name, a sign-off without "Sincerely", an employer that shares the surname) with each name mention's span.

    Examples
    --------
    >>> text, spans = handwritten_resumes()[0]
    >>> [text[a:b] for a, b in spans]
    ['Maria-Elena Rodriguez', 'maria.e.rodriguez@mail.com', 'Maria-Elena']
    """
    out = []
    for text, mentions in HANDWRITTEN:
        spans, position = [], 0
        for mention in mentions:
            start = text.index(mention, position)
            spans.append((start, start + len(mention)))
            position = start + len(mention)
        out.append((text, spans))
    return out


__all__ = ["handwritten_resumes", "labelled_resumes"]
