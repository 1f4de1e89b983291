"""Embedded synthetic worlds with known ground truth: the default demo and the yardstick for twins.

``hiring`` is a structural causal model. Every row has exogenous noise; the protected attributes
(sex, race) come from noise alone; the qualifications (held columns) come from noise alone too,
so they are identical in a record and its true counterfactual; the proxies (first and last name,
neighbourhood, career gap, hobby) are caused by the protected attributes. Each proxy equation is
monotone in its noise: one uniform draw, read against cut points that depend on the group, so a
record keeps its rank within its group and its counterfactual is identifiable from data.
The recorded label ``hired`` is a past decision: merit, plus the knobs

- ``direct_bias``: the decision favoured men and white applicants by this many logits;
- ``proxy_bias``: the decision penalised a career gap and some neighbourhoods by this many logits;
- ``label_bias``: this share of qualified women and non-white applicants were recorded as not hired.

A model trained on such labels learns the bias: through the protected columns if it reads them,
through the proxies if it does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.twins import lexicons
from fairprobe.errors import InvalidSpec, closest
from fairprobe.validation import check_seed, checked_arguments

SEXES = ("female", "male")
SEX_P = (0.5, 0.5)
RACES = ("white", "black", "hispanic", "asian")
RACE_P = (0.6, 0.15, 0.15, 0.10)
DEGREES = ("none", "bachelor", "master", "phd")
NEIGHBOURHOODS = ("northside", "riverside", "hillcrest", "eastgate")
NEIGHBOURHOOD_P = {
    "white": (0.45, 0.30, 0.17, 0.08),
    "black": (0.08, 0.17, 0.30, 0.45),
    "hispanic": (0.12, 0.23, 0.35, 0.30),
    "asian": (0.30, 0.30, 0.25, 0.15),
}
NEIGHBOURHOOD_EFFECT = {"northside": 0.5, "riverside": 0.25, "hillcrest": -0.25, "eastgate": -0.5}
CAREER_GAP_P = {"female": 0.35, "male": 0.08}
HOBBIES = ("football", "cycling", "chess", "yoga", "knitting")
HOBBY_P = {"male": (0.35, 0.25, 0.20, 0.13, 0.07), "female": (0.08, 0.20, 0.17, 0.33, 0.22)}
# Names from fairprobe.twins.lexicons: each one's sex and race signal checked against census and
# mortgage-application data. A record's name keeps its rank in its group's list.
NAMES_PER_GROUP = 8
FIRST_NAMES = {(s, r): lexicons.first_names(s, r)[:NAMES_PER_GROUP] for s in SEXES for r in RACES}
LAST_NAMES = {r: lexicons.surnames(r)[:NAMES_PER_GROUP] for r in RACES}
NOISE = ("u_sex", "u_race", "u_experience", "u_degree", "u_skills", "u_certifications",
         "u_first_name", "u_last_name", "u_neighbourhood", "u_career_gap", "u_hobby", "u_hire", "u_label")


def _cut(u: np.ndarray, probabilities: tuple[float, ...]) -> np.ndarray:
    """Index of the category whose cumulative interval holds u: monotone in u."""
    edges = np.cumsum(probabilities)[:-1]
    return np.searchsorted(edges, u, side="right")


def _pick(u: np.ndarray, keys: np.ndarray, table: Mapping[Any, tuple[str, ...]]) -> np.ndarray:
    """Per row, the value at rank u in its own group's list: the same rank in every group."""
    out = np.empty(len(u), dtype=object)
    for key, values in table.items():
        rows = keys == ("|".join(key) if isinstance(key, tuple) else key)
        out[rows] = np.asarray(values, dtype=object)[np.minimum((u[rows] * len(values)).astype(int), len(values) - 1)]
    return out


@dataclass(frozen=True)
class World:
    """A sample from a structural causal model, with its noise, so counterfactuals can be computed.

    Attributes
    ----------
    data : DataFrame
        The observed table.
    noise : DataFrame
        The exogenous noise of every row (same index as ``data``).
    params : dict
        The knobs the world was made with.
    protected, held, proxies : tuple of str
        Column roles.
    label : str
        The recorded outcome column.
    """

    data: pd.DataFrame
    noise: pd.DataFrame
    params: dict[str, float]
    protected: tuple[str, ...] = ("sex", "race")
    held: tuple[str, ...] = ("years_experience", "degree", "skills_score", "certifications")
    proxies: tuple[str, ...] = ("first_name", "last_name", "neighbourhood", "career_gap", "hobby")
    label: str = "hired"
    qualified: np.ndarray | None = field(default=None, repr=False)

    def profiles(self, frame: pd.DataFrame | None = None) -> pd.Series:
        """Text profiles rendered from the rows (of ``frame``, default the world's data).

        Examples
        --------
        >>> hiring(n=1, seed=0).profiles().iloc[0].split(".")[0]
        'Todd Schmidt is a software developer with 0 years of experience'
        """
        frame = self.data if frame is None else frame
        return pd.Series([render_profile(row) for row in frame.to_dict(orient="records")],  # type: ignore[arg-type]
                         index=frame.index,
                         name="profile")

    def counterfactual(self, rows: Any = None, **values: Any) -> pd.DataFrame:
        """The true counterfactual of ``rows`` (index labels; all by default) with protected values set.

        The same noise, the protected attribute(s) set (``sex="male"``), the held columns kept, the
        proxies and the label recomputed through the structural equations.

        Examples
        --------
        >>> w = hiring(n=5, seed=0)
        >>> cf = w.counterfactual(sex="male")
        >>> (cf["sex"] == "male").all(), cf["years_experience"].equals(w.data["years_experience"])
        (np.True_, True)
        """
        for key, value in values.items():
            allowed = {"sex": SEXES, "race": RACES}.get(key)
            if allowed is None:
                hint = closest(key, self.protected)
                raise InvalidSpec(f"counterfactual: {key!r} is not a protected attribute of this world"
                                  + (f"; did you mean {hint!r}?" if hint else "")
                                  + f" (use one of: {', '.join(self.protected)}, e.g. sex='male')")
            if value not in allowed:
                raise InvalidSpec(f"counterfactual: {key}={value!r} is not a value of {key} "
                                  f"(use one of: {', '.join(allowed)})")
        labels = [] if rows is None or isinstance(rows, slice) else \
            list(rows) if isinstance(rows, (list, tuple, pd.Index, np.ndarray, pd.Series)) else [rows]
        if labels and np.asarray(labels).dtype != bool:  # labels, not a mask
            missing = [r for r in labels if r not in self.noise.index]
            if missing:
                raise InvalidSpec(f"counterfactual: rows {missing[:5]!r} are not index labels of this world's data "
                                  f"(pass labels from world.data.index, 0 to {len(self.noise) - 1}, or none for all)")
        noise = self.noise if rows is None else self.noise.loc[rows]
        sex = np.full(len(noise), values["sex"], dtype=object) if "sex" in values else \
            self.data.loc[noise.index, "sex"].to_numpy(dtype=object)
        race = np.full(len(noise), values["race"], dtype=object) if "race" in values else \
            self.data.loc[noise.index, "race"].to_numpy(dtype=object)
        frame, _ = _equations(noise, sex, race, self.params)
        return frame


DEGREE_PHRASES = {"none": "no university degree", "bachelor": "a bachelor's degree",
                  "master": "a master's degree", "phd": "a doctorate"}


def render_profile(row: Mapping[str, Any]) -> str:
    """A short resume-style profile of one applicant: the same facts as the row, in prose."""
    she, her = ("She", "her") if row["sex"] == "female" else ("He", "his")
    certifications = int(row["certifications"])
    certs = "no professional certifications" if certifications == 0 else \
        f"{certifications} professional certification{'s' if certifications > 1 else ''}"
    parts = [
        f"{row['first_name']} {row['last_name']} is a software developer with {int(row['years_experience'])} "
        f"years of experience.",
        f"{she} holds {DEGREE_PHRASES[row['degree']]} and scored {row['skills_score']:g} on the technical assessment.",
        f"{she} has {certs}.",
    ]
    if row["career_gap"]:
        parts.append(f"{she} took a two-year career break.")
    parts.append(f"{she} lives in {str(row['neighbourhood']).title()} and enjoys {row['hobby']} in {her} spare time.")
    return " ".join(parts)


@checked_arguments("hiring()")
def hiring(
    n: int = 2000,
    *,
    seed: int = 0,
    direct_bias: float = 0.0,
    proxy_bias: float = 0.0,
    label_bias: float = 0.0,
) -> World:
    """A hiring world: applicants, their qualifications and proxies, and a recorded hiring decision.

    Parameters
    ----------
    n : int
        Number of applicants.
    seed : int
        Seed of the world's own random generator.
    direct_bias : float
        Logits by which past decisions favoured men and white applicants (0: none).
    proxy_bias : float
        Logits by which past decisions penalised a career gap and some neighbourhoods (0: none).
    label_bias : float
        Share of qualified women and non-white applicants recorded as not hired, in [0, 1].

    Returns
    -------
    World
        ``world.data`` is the table; ``world.counterfactual(sex="male")`` the true counterfactual.

    Examples
    --------
    >>> w = hiring(n=1000, seed=0)
    >>> sorted(w.data["sex"].unique())
    ['female', 'male']
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidSpec(f"hiring(): n must be a positive whole number of applicants, e.g. n=1000; got {n!r}")
    seed = check_seed(seed, name="hiring(): seed")
    for name, value in (("direct_bias", direct_bias), ("proxy_bias", proxy_bias)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not np.isfinite(value):
            raise InvalidSpec(f"hiring(): {name} must be a finite number of logits, e.g. {name}=1.0 (0: none); "
                              f"got {value!r}")
    if isinstance(label_bias, bool) or not isinstance(label_bias, (int, float, np.integer, np.floating)) \
            or not 0 <= label_bias <= 1:
        raise InvalidSpec(f"hiring(): label_bias must be a share in [0, 1], e.g. label_bias=0.2 (0: none); "
                          f"got {label_bias!r}")
    rng = np.random.default_rng(seed)
    noise = pd.DataFrame(rng.random((n, len(NOISE))), columns=NOISE)
    sex = np.asarray(SEXES, dtype=object)[_cut(noise["u_sex"].to_numpy(), SEX_P)]
    race = np.asarray(RACES, dtype=object)[_cut(noise["u_race"].to_numpy(), RACE_P)]
    params = {"direct_bias": float(direct_bias), "proxy_bias": float(proxy_bias),
              "label_bias": float(label_bias), "seed": seed}
    data, qualified = _equations(noise, sex, race, params)
    return World(data=data, noise=noise, params=params, qualified=qualified)


def _equations(noise: pd.DataFrame, sex: np.ndarray, race: np.ndarray, params: Mapping[str, float]):
    from scipy.special import logit, ndtri

    u = {k: noise[k].to_numpy() for k in NOISE}
    # Qualifications: noise only, so a counterfactual keeps them exactly.
    experience = np.clip(np.round(ndtri(u["u_experience"]) * 5 + 8), 0, 40).astype(int)
    degree_level = _cut(u["u_degree"], (0.25, 0.45, 0.22, 0.08))
    skills = np.round(np.clip(ndtri(u["u_skills"]) * 15 + 50, 0, 100), 1)
    certifications = _cut(u["u_certifications"], (0.45, 0.30, 0.15, 0.07, 0.03))
    # Proxies: monotone in their own noise, cut points shifted by the group.
    group = np.char.add(np.char.add(sex.astype(str), "|"), race.astype(str))
    first_name = _pick(u["u_first_name"], group, FIRST_NAMES)
    last_name = _pick(u["u_last_name"], race.astype(str), LAST_NAMES)
    neighbourhood = np.empty(len(u["u_sex"]), dtype=object)
    for r, probabilities in NEIGHBOURHOOD_P.items():
        rows = race == r
        neighbourhood[rows] = np.asarray(NEIGHBOURHOODS, dtype=object)[_cut(u["u_neighbourhood"][rows], probabilities)]
    gap_p = np.where(sex == "female", CAREER_GAP_P["female"], CAREER_GAP_P["male"])
    career_gap = u["u_career_gap"] < gap_p
    hobby = np.empty(len(u["u_sex"]), dtype=object)
    for s, hobby_p in HOBBY_P.items():
        rows = sex == s
        hobby[rows] = np.asarray(HOBBIES, dtype=object)[_cut(u["u_hobby"][rows], hobby_p)]
    # Merit, and the recorded decision that mixes it with the biases.
    merit = 0.12 * (experience - 8) + 0.6 * (degree_level - 1) + 0.04 * (skills - 50) + 0.25 * certifications
    noise_logit = logit(np.clip(u["u_hire"], 1e-9, 1 - 1e-9))
    qualified = merit + noise_logit > 0.5
    advantaged = (sex == "male").astype(float) + (race == "white").astype(float)
    proxy_penalty = -career_gap.astype(float) + np.vectorize(NEIGHBOURHOOD_EFFECT.get)(neighbourhood)
    score = merit + noise_logit + params["direct_bias"] * (advantaged - 1) + params["proxy_bias"] * proxy_penalty
    hired = score > 0.5
    disadvantaged = (sex == "female") | (race != "white")
    hired &= ~(disadvantaged & (u["u_label"] < params["label_bias"]))
    frame = pd.DataFrame({
        "sex": sex.astype(str), "race": race.astype(str),
        "first_name": first_name.astype(str), "last_name": last_name.astype(str),
        "neighbourhood": neighbourhood.astype(str), "career_gap": career_gap, "hobby": hobby.astype(str),
        "years_experience": experience, "degree": np.asarray(DEGREES)[degree_level],
        "skills_score": skills, "certifications": certifications, "hired": hired.astype(int),
    }, index=noise.index)
    return frame, qualified


__all__ = ["World", "hiring"]
