"""A screener that receives sex and race with the qualifications but uses only the qualifications:
every check should pass, and the invariance checks are not vacuous since the twins' change reaches it."""

import fairprobe as fp

from _models import HELD, audit_data, train

model = train(HELD, receives=["sex", "race", *HELD])
probe = fp.Probe(
    data=audit_data(),
    model=model,
    protected=["sex", "race"],
    label="hired",
    held=HELD,
    twins="flip",
    name="fair screener",
)


def test_sex_invariance():
    probe.assert_invariant("sex", max_flip_rate=0.01)


def test_race_invariance_and_scores():
    probe.assert_invariant("race", max_flip_rate=0.01, max_score_change=0.01)


def test_intersectional_invariance():
    probe.assert_invariant(["sex", "race"], max_flip_rate=0.01)


def test_sex_equalized_odds():
    probe.assert_equalized_odds("sex", max_gap=0.1)


def test_race_equalized_odds():
    probe.assert_equalized_odds("race", max_gap=0.1)


def test_selection_rates():
    probe.assert_demographic_parity("sex", min_ratio=0.8)
    probe.assert_demographic_parity("race", min_ratio=0.8)
