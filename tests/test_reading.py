"""What a reader sees must say what it means (issue #15, smaller items): band labels that say which edge they hold,
the README's band edges working on Adult, and compare rows in the summary table that read apart."""

import re
from pathlib import Path

import pandas as pd
import pytest

import fairprobe as fp
from fairprobe.session import markdown_summary, short, summary_lines
from fairprobe.twins.bands import Bands

README = Path(__file__).resolve().parents[1] / "README.md"


def test_band_labels_say_which_edge_each_band_holds():
    bands = Bands.build("age", [18, 40, 65, 100])
    assert bands.names == ["[18, 40)", "[40, 65)", "[65, 100]"]  # was "18-40", "40-65", "65-100"
    # 40 is in the second band, 100 in the last: as the labels say.
    assert bands.label(pd.Series([18, 39.9, 40, 64, 65, 100])).tolist() == \
        ["[18, 40)", "[18, 40)", "[40, 65)", "[40, 65)", "[65, 100]", "[65, 100]"]
    assert Bands.build("x", [0, 0.5, 1]).names == ["[0, 0.5)", "[0.5, 1]"]


def _readme_bands() -> list[float]:
    found = re.search(r'`bands=\{"age": \[([0-9., ]+)\]\}`', README.read_text(encoding="utf-8"))
    assert found, "README no longer shows a bands= example for age"
    return [float(v) for v in found.group(1).split(",")]


@pytest.mark.parametrize("table", ["adult_train.csv", "german_credit.csv", "compas_two_years.csv"])
def test_the_readme_band_edges_work_on_the_public_tables(datasets, table):
    edges = _readme_bands()
    data = pd.read_csv(datasets / table, usecols=["age", "sex"])
    probe = fp.Probe(data=data, model=lambda df: (df["age"] < 40).to_numpy(), protected=["age"],
                     bands={"age": edges}, features=["age", "sex"], max_records=2000, seed=0)
    result = probe.invariance("age", max_flip_rate=0.05)
    # A model that reads the raw age against the band edge 40 flips for every record moved across it.
    assert str(result.verdict) == "fail" and result.warnings == []
    assert {g["group"] for g in result.groups} <= {"[0, 40)", "[40, 65)", "[65, 120]"}


def test_the_old_readme_edges_do_not_hold_adults_ages(datasets):
    data = pd.read_csv(datasets / "adult_train.csv", usecols=["age", "sex"])
    with pytest.raises(fp.InvalidSpec, match=r"rows have 'age' outside the bands \[18, 100\] \(for example 17\)"):
        fp.Probe(data=data, model=lambda df: (df["age"] < 40).to_numpy(), protected=["age"],
                 bands={"age": [18, 40, 65, 100]}, features=["age", "sex"])


def _compare(test: str, compared: str, statistic: float) -> dict:
    return {"test": test, "check": "no_worse_than", "attributes": ["sex"], "statistic": statistic,
            "interval": [statistic - 0.01, statistic + 0.01], "bound": 0.01, "comparison": "<", "verdict": "pass",
            "details": {"compared": compared}, "warnings": []}


def test_compare_rows_in_the_summary_tables_read_apart():
    test = "tests/probes/test_release.py::test_candidate_is_no_worse_than_the_production_model"
    records = [_compare(f"{test}[{what}]", what, 0.0) for what in ("invariance", "equalized_odds")] + \
        [_compare(f"{test}_on_every_group", what, 0.0) for what in ("invariance", "demographic_parity")]
    rows = [line for line, _ in summary_lines(records, "detect", 0.05)[1:5]]
    assert len(set(rows)) == 4
    assert rows[0].startswith("test_release.py::test_candida…e_production_model[invariance]  no_worse_than[invariance]")
    assert "no_worse_than[demographic_parity]" in rows[3]
    table = markdown_summary(records, "detect", 0.05).splitlines()
    assert len({line for line in table if line.startswith("| test_release")}) == 4
    # Ids longer than the width are cut in the middle; two that would still read alike are kept whole.
    assert short(f"{test}[invariance]") != short(f"{test}[equalized_odds]")
    twins = [f"a/test_x.py::test_{'y' * 40}_{i}_{'z' * 40}" for i in (1, 2)]
    assert short(twins[0]) == short(twins[1])
    first, second = (line for line, _ in summary_lines([_compare(t, "invariance", 0.0) for t in twins],
                                                       "detect", 0.05)[1:3])
    assert first.split()[0] == twins[0].split("/")[-1] and second.split()[0] == twins[1].split("/")[-1]
