"""A screener trained on biased past decisions that reads sex and race directly.

Its checks are expected to fail: they are marked ``xfail(strict=True)``, so this suite exits 0
while showing the caught violations, and would fail if a check stopped catching them.
"""

import pytest

import fairprobe as fp

from _models import HELD, audit_data, train

model = train(["sex", "race", *HELD], direct_bias=1.5)
probe = fp.Probe(
    data=audit_data(direct_bias=1.5),
    model=model,
    protected=["sex", "race"],
    label="hired",
    held=HELD,
    name="biased screener",
)
caught = pytest.mark.xfail(raises=fp.FairnessViolation, strict=True, reason="the model reads sex and race")


@caught
def test_sex_invariance():
    probe.assert_invariant("sex", max_flip_rate=0.01)


@caught
def test_race_invariance():
    probe.assert_invariant("race", max_flip_rate=0.01)


@caught
def test_sex_equalized_odds():
    probe.assert_equalized_odds("sex", max_gap=0.1)


@caught
def test_selection_rates():
    probe.assert_demographic_parity(["sex", "race"], min_ratio=0.8)
