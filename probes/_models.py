"""Candidate models for the example probes, trained on the embedded hiring world.

Each model receives the applicant record as a serving payload would (``receives``) and uses only
some of its columns (``columns``): a screener that drops sex and race can then be tested with flip
twins, since the columns the twins change reach it (twins of columns a model never receives are a
vacuous test, and fairprobe says so).
"""

from __future__ import annotations

import fairprobe as fp
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HELD = ["years_experience", "degree", "skills_score", "certifications"]
PROXIES = ["neighbourhood", "career_gap", "hobby"]
NUMERIC = ["years_experience", "skills_score", "certifications"]
PAYLOAD = ["sex", "race", *PROXIES, *HELD]


def train(columns: list[str], *, receives: list[str] | None = None, direct_bias: float = 0.0,
          proxy_bias: float = 0.0, seed: int = 1):
    """A logistic-regression screener that uses ``columns`` of the ``receives`` payload (default: the
    columns it uses), fitted on a 6,000-applicant hiring world."""
    world = fp.worlds.hiring(n=6000, seed=seed, direct_bias=direct_bias, proxy_bias=proxy_bias)
    categorical = [c for c in columns if c not in NUMERIC]
    numeric = [c for c in columns if c in NUMERIC]
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric),
                                remainder="drop"),
        LogisticRegression(max_iter=1000),
    )
    return model.fit(world.data[receives or columns], world.data["hired"])


def audit_data(n: int = 6000, *, seed: int = 2, **bias: float):
    """Fresh applicants from the same world, never seen in training."""
    return fp.worlds.hiring(n=n, seed=seed, **bias).data


def fair_screener():
    """The fair screener of test_fair_screener.py, for the declarative probe probe_fair_screener.yaml."""
    return train(HELD, receives=["sex", "race", *HELD])


FAIR_SCREENER = fair_screener()
