"""Standard exports beside the evidence: CycloneDX ML-BOM, in-toto statement, LL144 impact-ratio table."""

import csv
import hashlib
import io
import json
import sys

import pytest

import fairprobe as fp
from fairprobe.evidence import exports

TEST = "tests/x.py::test_y"


@pytest.fixture(scope="module")
def results():
    world = fp.worlds.hiring(n=1000, seed=6)
    data = world.data.copy()
    data.loc[data.index[:12], "race"] = "pacific islander"  # 1.2 % of the records: excluded from impact ratios
    biased = fp.Probe(data=data, model=lambda df: ((df["skills_score"] > 55) | (df["sex"] == "male")).to_numpy(),
                      protected=["sex", "race"], label="hired", held=["skills_score"], name="biased screener")
    fair = fp.Probe(data=data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected=["sex", "race"],
                    label="hired", held=["skills_score"], features=["sex", "race", "skills_score"],
                    name="fair screener")
    return [biased.invariance("sex", max_flip_rate=0.01), biased.demographic_parity(["sex", "race"], min_ratio=0.8),
            fair.invariance("sex", max_flip_rate=0.01), fair.equalized_odds("sex", max_gap=0.2)]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, results):
    evidence = fp.Evidence(seed=0)
    for r in results:
        evidence.add(r, test=TEST)
    return evidence.write(tmp_path_factory.mktemp("reports"))


def test_cyclonedx_bom_is_a_valid_1_6_ml_bom_holding_every_check(bundle, results):
    pytest.importorskip("cyclonedx")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = (bundle / "bom.cdx.json").read_text()
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    assert validator.validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6" and bom["bomFormat"] == "CycloneDX"
    models = [c for c in bom["components"] if c["type"] == "machine-learning-model"]
    assert len(models) == 2  # two models, each with its own card
    cards = [m["modelCard"] for m in models]
    metrics = [m for card in cards for m in card["quantitativeAnalysis"]["performanceMetrics"]]
    assessments = [a for card in cards for a in card["considerations"]["fairnessAssessments"]]
    assert len(metrics) == len(assessments) == len(results)
    flip = next(m for m in metrics if m["type"] == "flip rate" and m["slice"].startswith("invariance")
                and m["value"] != "0")
    assert float(flip["confidenceInterval"]["lowerBound"]) <= float(flip["value"]) <= \
        float(flip["confidenceInterval"]["upperBound"])
    assert any(a["harms"].startswith("FAIL: flip rate") and "bound <= 0.01" in a["harms"] for a in assessments)
    shas = {r.context["model"]["sha256"] for r in results}
    assert {m["hashes"][0]["content"] for m in models} == shas
    # The validator is live: a card field outside the schema is refused.
    broken = json.loads(text)
    broken["components"][0]["modelCard"]["considerations"]["fairnessAssessments"][0]["verdict"] = "FAIL"
    assert validator.validate_str(json.dumps(broken)) is not None


def test_without_cyclonedx_the_bundle_has_no_bom_and_says_why(tmp_path, results, monkeypatch):
    for name in [m for m in sys.modules if m == "cyclonedx" or m.startswith("cyclonedx.")] + ["cyclonedx"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    evidence = fp.Evidence()
    evidence.add(results[0])
    written = evidence.write(tmp_path)
    assert not (written / "bom.cdx.json").exists() and fp.verify(written) == []
    document = json.loads((written / "evidence.json").read_text())
    assert "bom.cdx.json" not in document["files"]
    assert "pip install 'fairprobe[exports]'" in document["exports"]["cyclonedx_note"]


def test_in_toto_statement_covers_every_other_file_with_its_digest(bundle, results):
    statement = json.loads((bundle / "attestation.intoto.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    others = {p.name for p in bundle.iterdir()} - {"attestation.intoto.json", "MANIFEST.sha256"}
    assert set(subjects) == others
    assert all(hashlib.sha256((bundle / n).read_bytes()).hexdigest() == d for n, d in subjects.items())
    predicate = statement["predicate"]
    verdicts = [r.verdict for r in results]
    assert len(predicate["passedTests"]) == verdicts.count("pass")
    assert len(predicate["failedTests"]) == verdicts.count("fail")
    assert len(predicate["warnedTests"]) == verdicts.count("inconclusive")
    assert predicate["result"] == "fail" and predicate["configuration"][0]["name"] == "fairprobe settings"
    assert any(t.startswith(f"{TEST} :: invariance of the decision to sex") for t in predicate["failedTests"])


def test_in_toto_result_passes_only_when_every_check_passed():
    document = {"checks": [{"verdict": "pass", "check": "invariance", "test": "t"}], "settings": {"mode": "detect"},
                "schema_version": "2.0", "incomplete": False}
    assert json.loads(exports.in_toto_statement(document, {}))["predicate"]["result"] == "pass"
    document["incomplete"] = True
    assert json.loads(exports.in_toto_statement(document, {}))["predicate"]["result"] == "fail"


def test_impact_ratio_table_in_the_ll144_layout(bundle, results):
    every = list(csv.DictReader(io.StringIO((bundle / "impact_ratios.csv").read_text())))
    rows = [r for r in every if r["probe"] == "biased screener"]
    dimensions = [r["dimension"] for r in rows]
    assert dimensions[0] == "Sex" and "Race/Ethnicity" in dimensions
    assert dimensions[-1] == "Intersectional (Sex x Race/Ethnicity)"  # each attribute alone first, as audits list them
    groups = {g["group"]: g for g in results[1].groups}
    for row in rows:
        if row["dimension"].startswith("Intersectional"):
            g = groups[row["category"]]
            assert int(row["applicants"]) == g["n"]
            assert float(row["selection_rate"]) == pytest.approx(g["selection_rate"])
    included = [r for r in rows if r["dimension"] == "Sex"]
    top = max(float(r["selection_rate"]) for r in included)
    assert all(float(r["impact_ratio"]) == pytest.approx(float(r["selection_rate"]) / top, abs=1e-6) for r in included)
    pacific = next(r for r in rows if r["dimension"] == "Race/Ethnicity" and r["category"] == "pacific islander")
    assert pacific["applicants"] == "12" and pacific["impact_ratio"] == ""
    assert pacific["status"] == "excluded: under 2% of the data"
    race = [r for r in rows if r["dimension"] == "Race/Ethnicity" and r["status"] == "included"]
    assert max(float(r["impact_ratio"]) for r in race) == 1.0
    # The fair screener ran no demographic-parity check: the table says so rather than leaving it out (issue #15).
    fair = [(r["dimension"], r["category"], r["applicants"], r["status"]) for r in every if r["probe"] == "fair screener"]
    assert fair == [(d, "(not computed)", "", f"not computed: no demographic-parity check of {a} ran on this probe")
                    for d, a in (("Sex", "sex"), ("Race/Ethnicity", "race"),
                                 ("Intersectional (Sex x Race/Ethnicity)", "sex x race"))]


def test_impact_ratios_say_which_dimensions_no_check_computed_and_why():
    def parity(attributes, groups, **extra):
        return {"check": "demographic_parity", "attributes": attributes, "test": "t", "title": "parity",
                "context": {"probe": "p", "protected": ["sex", "race", "age"], "model": {"sha256": "m"}},
                "groups": [{"group": g, "n": 100, "selected": s} for g, s in groups], **extra}

    sex = parity(["sex"], [("female", 40), ("male", 50)])
    rows = exports.impact_ratio_rows([sex, parity(["age"], [], verdict="error",
                                                  error={"type": "KeyError", "message": "'age'"})])
    missing = {r["attributes"]: r["status"] for r in rows if r["category"] == "(not computed)"}
    assert missing == {"race": "not computed: no demographic-parity check of race ran on this probe",
                       "age": "not computed: the demographic-parity check of age raised KeyError: 'age'",
                       "sex x race": "not computed: no demographic-parity check of sex x race ran on this probe"}
    # An intersectional check computes the marginals too: nothing is missing then but age.
    both = parity(["race", "sex"], [("white|female", 30), ("white|male", 40), ("black|female", 20),
                                    ("black|male", 25)])
    rows = exports.impact_ratio_rows([both])
    assert [r["attributes"] for r in rows if r["category"] == "(not computed)"] == ["age"]
    # The same probe under xdist is one object per worker: what one worker computed is not missing in another's.
    other_worker = {**sex, "context": {**sex["context"], "probe_id": "worker-2"}}
    rows = exports.impact_ratio_rows([other_worker, parity(["race"], [("white", 30), ("black", 20)]),
                                      parity(["sex", "race"], [("female|white", 30), ("male|black", 20)])])
    assert "age" in {r["attributes"] for r in rows if r["category"] == "(not computed)"}
    assert {r["attributes"] for r in rows if r["category"] == "(not computed)"} == {"age"}


def test_impact_ratio_cells_are_escaped():
    check = {"check": "demographic_parity", "attributes": ["sex"], "context": {"probe": "=probe"},
             "groups": [{"group": "=evil", "n": 50, "selected": 10}, {"group": "b", "n": 50, "selected": 20}]}
    text = exports.impact_ratio_csv([check])
    assert "'=evil" in text and "'=probe" in text and "\n=" not in text and ",=" not in text
