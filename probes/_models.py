"""Candidate models for the example probes, trained on the embedded hiring world."""

from __future__ import annotations

import fairprobe as fp
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HELD = ["years_experience", "degree", "skills_score", "certifications"]
NUMERIC = ["years_experience", "skills_score", "certifications"]


def train(columns: list[str], *, direct_bias: float = 0.0, proxy_bias: float = 0.0, seed: int = 1):
    """A logistic-regression screener fitted on ``columns`` of a 6,000-applicant hiring world."""
    world = fp.worlds.hiring(n=6000, seed=seed, direct_bias=direct_bias, proxy_bias=proxy_bias)
    categorical = [c for c in columns if c not in NUMERIC]
    numeric = [c for c in columns if c in NUMERIC]
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric)),
        LogisticRegression(max_iter=1000),
    )
    return model.fit(world.data[columns], world.data["hired"])


def audit_data(n: int = 6000, *, seed: int = 2, **bias: float):
    """Fresh applicants from the same world, never seen in training."""
    return fp.worlds.hiring(n=n, seed=seed, **bias).data
